"""Optional engine: the original PastaQ.jl simulation, reached through ``juliacall``.

:class:`JuliaEngine` puts the Julia package ``julia/`` (module ``PyqhnEngine``) behind the
common :class:`pyqhn.engines.base.Engine` interface, with the same shapes and checks as
every engine:

* noise-free: the MPS of PastaQ's ``runcircuit``; energies ``⟨ψ|Ĉ|ψ⟩`` with the cost as an
  exact MPO, gradients by Zygote through PastaQ and ITensors (as the original runs);
* noisy (``noise=NoiseModel(...)``): the MPO ``ρ`` of ``runcircuit(...; noise)`` with
  PastaQ's depolarizing channels (1-qubit after Ry and Rz, 2-qubit or 1-qubit after CX,
  see :mod:`pyqhn.noise`) and truncation cutoff 1e-18; energies ``Tr(ρ Ĉ)``, no gradients;
* probabilities: ``|ψ(k)|²`` or ``ρ[k, k]`` (site 1 the least significant bit of ``k``);
  samples are drawn from them by :meth:`Engine.sample`, seeded like every engine's.

Angles travel to Julia as a ``P × R`` matrix (one column per parameter set) and results
come back as ``(R,)`` energies, ``P × R`` gradients and ``2**n × R`` probabilities, which
are transposed here; the base class restores any batch shape (``(P,)`` → 0-d).

Julia starts on the first evaluation; :func:`julia_module` (defined beside the set-up
checks in :mod:`pyqhn.engines.julia_setup`, re-exported here) says why it cannot and
otherwise lets juliacall install what it lacks.
"""

from __future__ import annotations

import hashlib
from collections import OrderedDict
from typing import Any

import numpy as np

from ..checks import InputError
from ..circuits import Circuit
from ..noise import NoiseModel
from .base import Engine
from .julia_setup import JuliaUnavailable, julia_module, julia_unavailable_reason

__all__ = ["JuliaEngine", "JuliaUnavailable", "julia_module", "julia_unavailable_reason"]
# JuliaUnavailable, julia_module and julia_unavailable_reason are re-exported from
# julia_setup (one direction of import: julia -> julia_setup).

#: Cost operators (MPOs) kept per engine, keyed by the table's hash.
_COST_CACHE_SIZE = 4


def _columns(theta: np.ndarray) -> np.ndarray:
    """Validated ``(R, P)`` angles as the ``(P, R)`` matrix the Julia functions take."""
    return np.ascontiguousarray(theta.T)


class JuliaEngine(Engine):
    """The original PastaQ.jl simulation behind the :class:`Engine` interface.

    Args:
        noise: a :class:`pyqhn.noise.NoiseModel`; ``None`` (or a noiseless model) gives
            the differentiable noise-free engine.

    Example:
        >>> engine = JuliaEngine(NoiseModel.from_strength(1.0))     # needs Julia to evaluate
        >>> e = engine.energy(circuit, theta, cost)                  # (...) for (..., P)
    """

    name = "julia"

    def __init__(self, noise: NoiseModel | None = None) -> None:
        if noise is not None and not isinstance(noise, NoiseModel):
            raise InputError(f"noise must be a pyqhn.noise.NoiseModel (e.g. "
                             f"NoiseModel.from_strength(1.0)) or None, got {noise!r}")
        self.noise = NoiseModel.noiseless() if noise is None else noise
        self._operators: OrderedDict[tuple[int, str], Any] = OrderedDict()

    @property
    def differentiable(self) -> bool:  # type: ignore[override]
        """Zygote gradients exist for the noise-free simulation only."""
        return self.noise.is_noiseless

    def _noise_kwargs(self, module: Any) -> dict[str, Any]:
        if self.noise.is_noiseless:
            return {}
        n = self.noise
        return {"noise": module.NoiseModel(n.lambda1, n.lambda2, n.cx_channel)}

    def _operator(self, module: Any, cost: np.ndarray) -> Any:
        """The cost as a Julia ``CostOperator`` (an MPO), built once per table."""
        key = (cost.size, hashlib.sha1(cost.tobytes()).hexdigest())
        if key in self._operators:
            self._operators.move_to_end(key)
            return self._operators[key]
        op = module.cost_operator(cost)
        self._operators[key] = op
        while len(self._operators) > _COST_CACHE_SIZE:
            self._operators.popitem(last=False)
        return op

    def _probabilities(self, circuit: Circuit, theta: np.ndarray) -> np.ndarray:
        m = julia_module()
        out = m.probabilities(_columns(theta), circuit.n_qubits, circuit.blocks,
                              entangling=circuit.entangling, **self._noise_kwargs(m))
        return np.asarray(out, dtype=np.float64).reshape(2**circuit.n_qubits, -1).T

    def _energy(self, circuit: Circuit, theta: np.ndarray, cost: np.ndarray) -> np.ndarray:
        m = julia_module()
        out = m.energies(self._operator(m, cost), _columns(theta), circuit.blocks,
                         entangling=circuit.entangling, **self._noise_kwargs(m))
        return np.asarray(out, dtype=np.float64).reshape(-1)

    def _energy_and_grad(self, circuit: Circuit, theta: np.ndarray,
                         cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        m = julia_module()
        e, g = m.energies_and_gradients(self._operator(m, cost), _columns(theta),
                                        circuit.blocks, entangling=circuit.entangling)
        e = np.asarray(e, dtype=np.float64).reshape(-1)
        return e, np.asarray(g, dtype=np.float64).reshape(circuit.n_params, -1).T

    def jax_probabilities(self, circuit: Circuit):
        """Not available: Julia gives energies and Zygote gradients, not JAX functions."""
        raise InputError(
            "the 'julia' engine gives energies and their gradients (objective 'mle'), not a "
            "JAX probability function; use engine='exact' for the elbo/selbo objectives"
        )

    def __repr__(self) -> str:
        return f"JuliaEngine(noise={self.noise!r})"
