"""Estimates of energies and gradients from measurement shots: every estimator in one place.

With ``Ry(θ) = exp(-iθY/2)`` and ``Rz(φ) = exp(-iφZ/2)`` every angle enters through a
generator with eigenvalues ±½, so ``∂E/∂θ_i = ½ [E(θ + π/2·e_i) − E(θ − π/2·e_i)]`` exactly
(:func:`shifted_params`, :func:`parameter_shift_grad`: the one shift rule of the package).
On a device each energy is estimated from ``N_qc`` measurement shots. Two kinds of shots:

**Outcome indices and a cost table** (what a device returns, up to ~24 qubits). A *shot
source* is ``sample(theta (..., P), n_shots, seed) -> int64 (..., n_shots)``, outcome
indices in pyqhn's order (:mod:`pyqhn.bits`): :func:`engine_sampler` makes one from any
engine (exact, density …), :func:`pyqhn.interop.qiskit_sampler` from a Qiskit
``SamplerV2`` primitive. Costs come from a ``(2**n,)`` table.

* :func:`energy_from_indices`: mean cost and standard error of given indices;
* :func:`shot_energy`: ``Ê(θ)`` from ``n_shots`` fresh shots;
* :func:`shot_parameter_shift_grad`: the parameter-shift gradient, every shifted energy
  from shots.

**Bit rows and a bit cost** (beyond enumeration, the MPS engine's
``engine.sample_bits(circuit, theta, shots, seed=) -> uint8 (shots, N)``). A *bit cost*
is any callable ``bits (M, N) uint8 -> (M,) float64`` (bit rows in :mod:`pyqhn.bits`
order, parameter 0 first), e.g. ``lambda b: model.cost(b, train)``.

* :func:`cost_of_samples`: ``C(w_s)`` of bit rows, each distinct row evaluated once, in
  chunks of at most ``batch`` rows (memory bounded; chunk shapes padded to powers of two so
  a jitted model compiles a few times only);
* :func:`bit_row_shot_energy`: ``Ê(θ) = (1/S) Σ_s C(w_s)`` and its standard error, an
  unbiased estimate of ``E(θ) = Σ_w p_θ(w) C(w)``;
* :func:`score_function_energy_and_grad`: ``Ê`` and the score-function (REINFORCE)
  gradient ``∇E = E_w[(C(w) − b) ∇ log p_θ(w)]`` through the engine's exact
  log-probability gradients (a simulator only);
* :func:`bit_row_parameter_shift_energy_and_grad`: ``Ê`` and the parameter-shift
  gradient, each of the ``2P`` shifted circuits estimated from shots (what hardware can do).

The objectives the optimisers minimise are built from these in
:mod:`pyqhn.sampled_objectives` (and :func:`pyqhn.objectives.sampled_selbo_objective`).
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np

from .checks import InputError, check_int

#: A shot source: ``(theta (..., P), n_shots, seed) -> int64 outcome indices (..., n_shots)``.
Sampler = Callable[[np.ndarray, int, int], np.ndarray]

#: ``bits (M, N) uint8 -> (M,) float64`` cost of bit rows.
BitCost = Callable[[np.ndarray], np.ndarray]

#: Baselines of :func:`score_function_energy_and_grad`.
SCORE_BASELINES = ("leave-one-out", "mean", "none")

__all__ = [
    "BitCost",
    "SCORE_BASELINES",
    "Sampler",
    "bit_row_parameter_shift_energy_and_grad",
    "bit_row_shot_energy",
    "check_score_baseline",
    "cost_of_samples",
    "energy_from_indices",
    "engine_sampler",
    "parameter_shift_grad",
    "score_function_energy_and_grad",
    "shifted_params",
    "shot_energy",
    "shot_parameter_shift_grad",
    "unique_rows",
]

#: Distinct rows of a score-function batch are padded to at least this many (one compiled
#: log-probability gradient per power of two from here on).
_MIN_ROWS = 64


# --------------------------------------------------------------------------- the shift rule


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
    """Exact parameter-shift gradient ``(..., P)`` (no shots: exact shifted energies).

    Args:
        energy_fn: batched energies, ``(..., P)`` angles to ``(...)`` values.
        theta: angles ``(..., P)``.
    """
    e = np.asarray(energy_fn(shifted_params(theta)))
    return 0.5 * (e[..., 0, :] - e[..., 1, :])


# --------------------------------------------------------------------------- outcome indices


def energy_from_indices(indices: np.ndarray, cost: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Mean cost of measured outcome indices and its standard error.

    Args:
        indices: int outcome indices ``(..., n_shots)``.
        cost: ``(2**n,)`` cost table.

    Returns:
        ``(mean, standard error)``, each of shape ``(...)`` (the error is ``inf`` for one
        shot).
    """
    values = np.asarray(cost)[np.asarray(indices)]
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
    circuit)`` or ``pyqhn.interop.qiskit_sampler(circuit)``; ``cost`` a ``(2**n,)`` table.
    """
    return energy_from_indices(sampler(np.asarray(theta), n_shots, seed), cost)


def shot_parameter_shift_grad(
    sampler: Sampler,
    theta: np.ndarray,
    cost: np.ndarray,
    n_shots: int,
    *,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Parameter-shift gradient with every shifted energy estimated from ``n_shots`` shots
    of the shot source ``sampler`` (``cost`` a ``(2**n,)`` table).

    Returns ``(gradient, standard error)``, each ``(..., P)``; the estimate is unbiased.
    """
    mean, sem = shot_energy(sampler, shifted_params(theta), cost, n_shots, seed=seed)
    return 0.5 * (mean[..., 0, :] - mean[..., 1, :]), 0.5 * np.hypot(sem[..., 0, :], sem[..., 1, :])


# --------------------------------------------------------------------------- bit rows


def unique_rows(bits: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Distinct rows of ``bits (S, N)`` and the inverse: ``(U, N)``, ``(S,)`` with
    ``unique[inverse] == bits``."""
    b = np.ascontiguousarray(np.asarray(bits, dtype=np.uint8))
    packed = np.packbits(b, axis=1)
    view = packed.view(np.dtype((np.void, packed.shape[1])))[:, 0]
    _, first, inverse = np.unique(view, return_index=True, return_inverse=True)
    return b[first], inverse.reshape(-1)


def cost_of_samples(cost: BitCost, bits: np.ndarray, *, batch: int = 2048) -> np.ndarray:
    """``C(w_s)`` ``(S,)`` for bit rows ``(S, N)``: each distinct row evaluated once, in
    chunks of at most ``batch`` rows (the last padded to a power of two)."""
    batch = check_int(batch, "batch", minimum=1)
    uniq, inverse = unique_rows(bits)
    values = np.empty(uniq.shape[0])
    for start in range(0, uniq.shape[0], batch):
        chunk = uniq[start:start + batch]
        m = chunk.shape[0]
        size = min(batch, 1 << max(m - 1, 0).bit_length())
        if size > m:
            chunk = np.concatenate([chunk, np.repeat(chunk[-1:], size - m, axis=0)])
        out = np.asarray(cost(chunk), dtype=np.float64).reshape(-1)
        if out.shape != (size,):
            raise InputError(f"the bit cost must return ({size},) values for bits "
                             f"{chunk.shape}, got {out.shape}")
        values[start:start + m] = out[:m]
    return values[inverse]


def bit_row_shot_energy(engine, circuit, theta, cost: BitCost, shots: int, *, seed: int = 0,
                        batch: int = 2048) -> tuple[float, float]:
    """``(Ê, standard error)`` of one parameter set ``theta (P,)`` from ``shots`` bit rows
    of ``engine.sample_bits`` (the MPS engine) and the bit cost ``cost`` (the error is
    ``inf`` for one shot)."""
    shots = check_int(shots, "shots", minimum=1)
    bits = engine.sample_bits(circuit, theta, shots, seed=seed)
    c = cost_of_samples(cost, bits, batch=batch)
    sem = float(c.std(ddof=1) / np.sqrt(shots)) if shots > 1 else float("inf")
    return float(c.mean()), sem


def check_score_baseline(baseline: str) -> str:
    """``baseline`` if it is one of :data:`SCORE_BASELINES`, else an :class:`InputError`."""
    if baseline not in SCORE_BASELINES:
        raise InputError(f"baseline must be 'leave-one-out', 'mean' or 'none', got {baseline!r}")
    return baseline


def score_function_energy_and_grad(engine, circuit, theta: np.ndarray, cost: BitCost,
                                   shots: int, *, seed: int = 0, batch: int = 2048,
                                   baseline: str = "leave-one-out") -> tuple[float, np.ndarray]:
    """``(Ê, ∇̂E (P,))`` of one parameter set ``theta (P,)`` from ``shots`` bit rows.

    ``∇̂E = (1/S) Σ_s (C(w_s) − b_s) ∇ log p_θ(w_s)``; ``baseline``: ``"leave-one-out"``
    (``b_s`` the mean of the other ``S − 1`` costs: unbiased, low variance), ``"mean"`` (all
    ``S``, biased by ``O(1/S)``) or ``"none"``. Log-probability gradients of the distinct
    rows only (weights summed), by autodiff through the exact MPS
    (:meth:`pyqhn.engines.mps.MpsEngine.weighted_log_prob_grad`).
    """
    shots = check_int(shots, "shots", minimum=2)
    check_score_baseline(baseline)
    bits = engine.sample_bits(circuit, theta, shots, seed=seed)
    uniq, inverse = unique_rows(bits)
    c = cost_of_samples(cost, uniq, batch=batch)[inverse]
    total = c.sum()
    b = {"leave-one-out": (total - c) / (shots - 1), "mean": np.full(shots, c.mean()),
         "none": np.zeros(shots)}[baseline]
    w = np.bincount(inverse, weights=(c - b) / shots, minlength=uniq.shape[0])
    # pad the distinct rows to a power of two, at least _MIN_ROWS: few
    # compiled shapes (each costs a compilation; padding rows cost little)
    u = uniq.shape[0]
    size = max(_MIN_ROWS, 1 << max(u - 1, 0).bit_length())
    rows = np.concatenate([uniq, np.repeat(uniq[:1], size - u, axis=0)])
    w = np.concatenate([w, np.zeros(size - u)])
    _, g = engine.weighted_log_prob_grad(circuit, theta, rows, w)
    return c.mean(), g


def bit_row_parameter_shift_energy_and_grad(
        engine, circuit, theta: np.ndarray, cost: BitCost, shots: int, *, seed: int = 0,
        batch: int = 2048) -> tuple[float, np.ndarray]:
    """``(Ê, ∂̂E (P,))`` of one parameter set ``theta (P,)``: ``∂_i E ≈ ½ [Ê(θ + π/2 e_i) −
    Ê(θ − π/2 e_i)]``, every energy from ``shots`` bit rows, ``1 + 2P`` circuits in one
    ``sample_bits`` call (hardware-style; unbiased)."""
    shots = check_int(shots, "shots", minimum=1)
    theta = np.asarray(theta, dtype=np.float64)
    p = circuit.n_params
    # rows: θ, then θ + π/2·e_i (i = 1..P), then θ − π/2·e_i (the one shift rule)
    rows = np.concatenate([theta[None], shifted_params(theta).reshape(2 * p, p)])
    bits = engine.sample_bits(circuit, rows, shots, seed=seed)
    e = cost_of_samples(cost, bits.reshape(-1, bits.shape[-1]),
                        batch=batch).reshape(1 + 2 * p, shots).mean(axis=1)
    return e[0], 0.5 * (e[1:1 + p] - e[1 + p:])
