"""Optional engine: the original PastaQ.jl simulation, reached through ``juliacall``.

Needs ``pip install juliacall`` and a Julia (≥ 1.9) with PastaQ and ITensors installed in
the environment of ``julia/Project.toml``. :func:`julia_unavailable_reason` says why it
cannot run here; nothing else in the package depends on it.
"""

from __future__ import annotations

import functools
import importlib.util
import os
import shutil
from pathlib import Path

import numpy as np

from ..circuits import Circuit

__all__ = ["julia_unavailable_reason", "energy"]

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


def energy(circuit: Circuit, theta: np.ndarray, cost: np.ndarray) -> np.ndarray:
    """Energies ``(R,)`` of parameter sets ``(R, n_params)`` computed by PastaQ."""
    theta = np.atleast_2d(np.asarray(theta, dtype=np.float64))
    mod = _module()
    out = mod.energies(np.asarray(cost, dtype=np.float64), theta.T.copy(), circuit.n_qubits,
                       circuit.blocks, entangling=circuit.entangling)
    return np.asarray(out, dtype=np.float64)
