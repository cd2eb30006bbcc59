"""Dense NumPy reference simulators: gate by gate over all amplitudes.

Slow and simple on purpose: every fast engine is tested against these. The state is an
array of shape ``(2,)*n`` whose axis ``n - j`` is site ``j`` (C order, site ``n`` first), so
``state.reshape(-1)[k]`` is the amplitude of index ``k`` with site 1 the least significant
bit (``../shared/CONVENTIONS.md``). :class:`ReferenceEngine` puts them behind the common
:class:`pyqhn.engines.base.Engine` interface (a Python loop over the rows of a batch).
"""

from __future__ import annotations

import numpy as np

from ..circuits import Circuit, gate_list, ry_matrix, rz_matrix
from .base import Engine

__all__ = ["ReferenceEngine", "apply_1q", "apply_cx", "reference_state", "reference_energy"]


def _axis(n: int, site: int) -> int:
    return n - site


def apply_1q(state: np.ndarray, u: np.ndarray, site: int) -> np.ndarray:
    """Apply a 2×2 matrix ``u`` on 1-based ``site`` of a ``(2,)*n`` state."""
    n = state.ndim
    ax = _axis(n, site)
    return np.moveaxis(np.tensordot(u, state, axes=([1], [ax])), 0, ax)


def apply_cx(state: np.ndarray, control: int, target: int) -> np.ndarray:
    """CX with 1-based ``control`` and ``target`` sites."""
    n = state.ndim
    out = state.copy()
    idx = [slice(None)] * n
    idx[_axis(n, control)] = 1
    sub = out[tuple(idx)]
    t_ax = _axis(n, target) - (1 if _axis(n, target) > _axis(n, control) else 0)
    out[tuple(idx)] = np.flip(sub, axis=t_ax)
    return out


def reference_state(circuit: Circuit, theta: np.ndarray) -> np.ndarray:
    """Final state vector ``(2**n,)`` complex128 of one parameter set ``(n_params,)``."""
    n = circuit.n_qubits
    state = np.zeros((2,) * n, dtype=complex)
    state[(0,) * n] = 1.0
    for gate in gate_list(circuit, theta):
        name, sites = gate[0], gate[1]
        if name == "CX":
            state = apply_cx(state, *sites)
        elif name == "Ry":
            state = apply_1q(state, ry_matrix(gate[2]), sites[0])
        elif name == "Rz":
            state = apply_1q(state, rz_matrix(gate[2]), sites[0])
        else:  # pragma: no cover - gate_list only emits the three above
            raise AssertionError(f"unknown gate {name}")
    return state.reshape(-1)


def reference_energy(circuit: Circuit, theta: np.ndarray, cost: np.ndarray) -> float:
    """``E(θ) = Σ_k |ψ_θ(k)|² C[k]`` for one parameter set."""
    psi = reference_state(circuit, theta)
    return float(np.abs(psi) ** 2 @ np.asarray(cost))


class ReferenceEngine(Engine):
    """The dense reference behind the :class:`Engine` interface: probabilities ``|ψ|²`` and
    energies row by row from :func:`reference_state` (slow; for tests and cross-checks)."""

    name = "reference"
    differentiable = False

    def _probabilities(self, circuit: Circuit, theta: np.ndarray) -> np.ndarray:
        return np.stack([np.abs(reference_state(circuit, row)) ** 2 for row in theta])

    def _energy(self, circuit: Circuit, theta: np.ndarray, cost: np.ndarray) -> np.ndarray:
        return np.array([reference_energy(circuit, row, cost) for row in theta])
