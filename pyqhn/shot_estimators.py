"""Hardware-style estimates: parameter-shift gradients and shot-based energies.

With ``Ry(θ) = exp(-iθY/2)`` and ``Rz(φ) = exp(-iφZ/2)`` every angle enters through a
generator with eigenvalues ±½, so ``∂E/∂θ_i = ½ [E(θ + π/2·e_i) − E(θ − π/2·e_i)]`` exactly.
On a device each shifted energy is estimated from ``N_qc`` measurement shots; these
functions reproduce that from any *shot source*:

``sample(theta (..., P), n_shots, seed) -> int64 (..., n_shots)``

outcome indices in pyqhn's order (:mod:`pyqhn.bits`). :func:`engine_sampler` makes one
from any engine (exact, density …); :func:`pyqhn.interop.qiskit_sampler` from a Qiskit
``SamplerV2`` primitive (Aer locally, a device in principle).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .checks import InputError

#: A shot source: ``(theta (..., P), n_shots, seed) -> int64 outcome indices (..., n_shots)``.
Sampler = Callable[[np.ndarray, int, int], np.ndarray]

__all__ = [
    "Sampler",
    "engine_sampler",
    "shifted_params",
    "parameter_shift_grad",
    "sampled_energy",
    "shot_energy",
    "shot_parameter_shift_grad",
]


def shifted_params(theta: np.ndarray, shift: float = np.pi / 2) -> np.ndarray:
    """``(..., P)`` angles to ``(..., 2, P, P)``.

    ``[..., 0, i, :] = θ + s·e_i`` and ``[..., 1, i, :] = θ − s·e_i``.
    """
    theta = np.asarray(theta, dtype=np.float64)
    eye = np.eye(theta.shape[-1]) * shift
    return np.stack([theta[..., None, :] + eye, theta[..., None, :] - eye], axis=-3)


def parameter_shift_grad(
    energy_fn: Callable[[np.ndarray], np.ndarray], theta: np.ndarray
) -> np.ndarray:
    """Exact parameter-shift gradient ``(..., P)``.

    Args:
        energy_fn: batched energies, ``(..., P)`` angles to ``(...)`` values.
        theta: angles ``(..., P)``.
    """
    e = np.asarray(energy_fn(shifted_params(theta)))
    return 0.5 * (e[..., 0, :] - e[..., 1, :])


def sampled_energy(samples: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean cost of measured indices and its standard error.

    Args:
        samples: int indices ``(..., n_shots)``.
        cost: ``(2**n,)`` cost vector.

    Returns:
        ``(mean, standard error)``, each of shape ``(...)``.
    """
    values = np.asarray(cost)[np.asarray(samples)]
    n = values.shape[-1]
    if n < 1:
        raise InputError("need at least one shot per estimate; pass n_shots ≥ 1")
    sem = values.std(axis=-1, ddof=1) / np.sqrt(n) if n > 1 else np.full(values.shape[:-1], np.inf)
    return values.mean(axis=-1), sem


def engine_sampler(engine, circuit) -> Sampler:
    """The shot source of a simulation engine: ``engine.sample(circuit, theta, n, seed=)``."""

    def sample(theta: np.ndarray, n_shots: int, seed: int = 0) -> np.ndarray:
        return np.asarray(engine.sample(circuit, theta, n_shots, seed=seed))

    return sample


def shot_energy(
    sampler: Sampler,
    theta: np.ndarray,
    cost: np.ndarray,
    n_shots: int,
    *,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Estimate ``E(θ)`` from ``n_shots`` shots: ``(mean, standard error)``, each ``(...)``.

    ``sampler`` is a shot source (module docstring), e.g. ``engine_sampler(engine,
    circuit)`` or ``pyqhn.interop.qiskit_sampler(circuit)``.
    """
    return sampled_energy(sampler(np.asarray(theta), n_shots, seed), cost)


def shot_parameter_shift_grad(
    sampler: Sampler,
    theta: np.ndarray,
    cost: np.ndarray,
    n_shots: int,
    *,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Parameter-shift gradient with every shifted energy estimated from ``n_shots`` shots
    of the shot source ``sampler``.

    Returns ``(gradient, standard error)``, each ``(..., P)``; the estimate is unbiased.
    """
    mean, sem = shot_energy(sampler, shifted_params(theta), cost, n_shots, seed=seed)
    return 0.5 * (mean[..., 0, :] - mean[..., 1, :]), 0.5 * np.hypot(sem[..., 0, :], sem[..., 1, :])
