"""Optional engine: the original PastaQ.jl simulation, reached through ``juliacall``.

Needs ``pip install juliacall`` and a Julia (≥ 1.9) with PastaQ and ITensors installed in
the environment of ``julia/Project.toml``. :func:`julia_unavailable_reason` says why it
cannot run here; nothing else in the package depends on it. :class:`JuliaEngine` puts it
behind the common :class:`pyqhn.engines.base.Engine` interface: energies and probabilities
come from ``julia/pyqhn_engine.jl`` (one column per parameter set), samples from the
probabilities.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
from pathlib import Path

import numpy as np

from ..circuits import Circuit
from .base import Engine

__all__ = ["JuliaEngine", "julia_unavailable_reason"]

_JULIA_DIR = Path(__file__).resolve().parents[2] / "julia"


def julia_unavailable_reason() -> str | None:
    """``None`` when the Julia engine can run, else the reason it cannot."""
    if importlib.util.find_spec("juliacall") is None:
        return "the Python package juliacall is not installed (pip install -e '.[julia]')"
    if shutil.which("julia") is None and not os.environ.get("PYTHON_JULIACALL_EXE"):
        return "no julia executable on PATH (juliacall would try to download one)"
    if not (_JULIA_DIR / "pyqhn_engine.jl").exists():
        return f"julia sources not found at {_JULIA_DIR} (use a source checkout)"
    return None


@functools.lru_cache(maxsize=1)
def _module():
    reason = julia_unavailable_reason()
    if reason:
        raise RuntimeError(f"the Julia engine is unavailable: {reason}")
    os.environ.setdefault("PYTHON_JULIACALL_EXE", shutil.which("julia") or "")
    os.environ.setdefault("PYTHON_JULIAPKG_OFFLINE", "yes")
    from juliacall import Main as jl  # noqa: N813

    jl.seval(f'import Pkg; Pkg.activate("{_JULIA_DIR.as_posix()}")')
    jl.include(str(_JULIA_DIR / "pyqhn_engine.jl"))
    return jl.PyqhnEngine


class JuliaEngine(Engine):
    """The original PastaQ.jl simulation behind the :class:`Engine` interface (not
    differentiable from Python). Julia starts on the first evaluation; a ``RuntimeError``
    says why when it cannot (see :func:`julia_unavailable_reason`)."""

    name = "julia"
    differentiable = False

    @staticmethod
    def _columns(theta: np.ndarray) -> np.ndarray:
        """Validated ``(R, P)`` angles as the ``(P, R)`` matrix the Julia code takes."""
        return np.ascontiguousarray(theta.T)

    def _probabilities(self, circuit: Circuit, theta: np.ndarray) -> np.ndarray:
        out = _module().probabilities(self._columns(theta), circuit.n_qubits, circuit.blocks,
                                      entangling=circuit.entangling)
        return np.asarray(out, dtype=np.float64).reshape(2**circuit.n_qubits, -1, order="F").T

    def _energy(self, circuit: Circuit, theta: np.ndarray, cost: np.ndarray) -> np.ndarray:
        out = _module().energies(cost, self._columns(theta), circuit.n_qubits, circuit.blocks,
                                 entangling=circuit.entangling)
        return np.asarray(out, dtype=np.float64)
