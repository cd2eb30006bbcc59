"""Dense density-matrix reference for the depolarizing noise model (small ``n`` only).

Slow and simple on purpose: the matrix-product engine in :mod:`pyqhn.engines.density` is
tested against it. ``ρ`` is kept as a ``(2,)*2n`` tensor; row index ``k`` and column index
``k'`` follow ``../shared/CONVENTIONS.md`` (site 1 the least significant bit), so
``rho.reshape(2**n, 2**n)`` is the usual matrix. Channels are applied literally as written
in ``../shared/CONVENTIONS.md`` (Kraus/Pauli sums), independently of the Pauli-transfer
matrices the fast engine uses.
"""

from __future__ import annotations

import itertools

import numpy as np

from ..checks import InputError
from ..circuits import Circuit, gate_list, ry_matrix, rz_matrix
from ..noise import NoiseModel
from .reference import apply_1q, apply_cx

__all__ = ["MAX_REFERENCE_QUBITS", "reference_density_matrix", "reference_noisy_energy"]

#: The dense ρ has 4**n entries: limited to 10 qubits (16 MiB).
MAX_REFERENCE_QUBITS = 10

_PAULIS = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)


def _conjugate(rho: np.ndarray, ops: dict[int, np.ndarray], n: int) -> np.ndarray:
    """``O ρ O†`` for ``O = ⊗_site ops[site]``: rows are sites ``n+1..2n``, columns ``1..n``."""
    for site, op in ops.items():
        rho = apply_1q(rho, op, n + site)
        rho = apply_1q(rho, op.conj(), site)
    return rho


def _depolarize(rho: np.ndarray, sites: tuple[int, ...], lam: float, n: int) -> np.ndarray:
    """Depolarizing channel with probability ``lam`` spread evenly over the
    ``4**len(sites) - 1`` non-identity Pauli strings on ``sites``."""
    if lam == 0.0:
        return rho
    n_strings = 4 ** len(sites) - 1
    out = (1.0 - lam) * rho
    for labels in itertools.product(range(4), repeat=len(sites)):
        if all(a == 0 for a in labels):
            continue
        ops = {s: _PAULIS[a] for s, a in zip(sites, labels, strict=True)}
        out = out + (lam / n_strings) * _conjugate(rho, ops, n)
    return out


def reference_density_matrix(
    circuit: Circuit, theta: np.ndarray, noise: NoiseModel
) -> np.ndarray:
    """The final density matrix ``(2**n, 2**n)`` complex128 of one parameter set.

    Gate by gate from ``|0…0⟩⟨0…0|``: ``ρ → UρU†`` then the channel of ``noise`` after every
    Ry, Rz and CX.
    """
    n = circuit.n_qubits
    if n > MAX_REFERENCE_QUBITS:
        raise InputError(
            f"the dense density-matrix reference holds 4**n entries; use n <= "
            f"{MAX_REFERENCE_QUBITS} (got n = {n}) or pyqhn.engines.density for larger n"
        )
    rho = np.zeros((2,) * (2 * n), dtype=complex)
    rho[(0,) * (2 * n)] = 1.0
    for gate in gate_list(circuit, theta):
        name, sites = gate[0], gate[1]
        if name == "CX":
            c, t = sites
            rho = apply_cx(apply_cx(rho, n + c, n + t), c, t)
            if noise.cx_channel == "two-qubit":
                rho = _depolarize(rho, (c, t), noise.lambda2, n)
            else:
                rho = _depolarize(rho, (c,), noise.lambda2, n)
                rho = _depolarize(rho, (t,), noise.lambda2, n)
        else:
            u = ry_matrix(gate[2]) if name == "Ry" else rz_matrix(gate[2])
            rho = _conjugate(rho, {sites[0]: u}, n)
            rho = _depolarize(rho, sites, noise.lambda1, n)
    return rho.reshape(2**n, 2**n)


def reference_noisy_energy(
    circuit: Circuit, theta: np.ndarray, cost: np.ndarray, noise: NoiseModel
) -> float:
    """``Tr(ρ Ĉ) = Σ_k ρ[k, k] C[k]`` for one parameter set."""
    rho = reference_density_matrix(circuit, theta, noise)
    return float(np.real(np.diag(rho)) @ np.asarray(cost, dtype=float))
