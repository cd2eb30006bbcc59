"""Objectives estimated from samples: hypernetworks beyond enumeration.

Beyond about 24 qubits no cost table fits; the objective is estimated from shots instead:
``w_s ~ |ψ_θ(w)|²`` (the MPS engine, :mod:`pyqhn.engines.mps`), each ``w_s`` evaluated by
the BiNN on the data, ``Ê(θ) = (1/S) Σ_s C(w_s)``, an unbiased estimate of
``E(θ) = Σ_w p_θ(w) C(w)``.

* A *bit cost* is any callable ``bits (M, N) uint8 -> (M,) float64`` (bit rows in
  :mod:`pyqhn.bits` order, parameter 0 first), e.g. ``lambda b: model.cost(b, train)``.
  :func:`cost_of_samples` evaluates it on the DISTINCT rows of a shot batch only, in
  chunks of at most ``batch`` rows (memory bounded; chunk shapes padded to powers of two so
  a jitted model compiles a few times only).
* :func:`sampled_energy_objective`: ``Ê(θ)`` per point, for SPSA / QN-SPSA (what a device
  can do).
* :func:`score_function_objective`: ``Ê`` and the score-function (REINFORCE) gradient
  ``∇E = E_w[(C(w) − b) ∇ log p_θ(w)]`` with a leave-one-out baseline (unbiased), through
  the MPS's exact log-probability gradients (simulator only), for Adam.
* :func:`shot_parameter_shift_objective`: ``Ê`` and the parameter-shift gradient with every
  one of the ``2P`` shifted circuits estimated from shots (what hardware can do).
* :class:`ShotCounter` counts circuits and shots per run; :func:`fidelity_fn` is
  QN-SPSA's metric source.

Rows of a call: row ``i`` of ``x (M, P)`` belongs to run ``runs[i mod B]`` (``B`` runs bound;
SPSA passes ``2B`` rows ``[x + cΔ; x − cΔ]``). Its shots use the seed
``SeedSequence([seed, run, call, i // B])`` — or ``[seed, run, call]`` with
``common_random_numbers=True``, which couples the points of one run in one call (the MPS
sampler inverts the same uniforms: a simulator-only variance reduction for SPSA
differences). A run's estimates therefore do not depend on its batch.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from .checks import InputError, check_int
from .estimators import shifted_params
from .objectives import Objective

__all__ = [
    "BitCost",
    "ShotCounter",
    "unique_rows",
    "cost_of_samples",
    "sampled_energy",
    "sampled_energy_objective",
    "score_function_objective",
    "shot_parameter_shift_objective",
    "fidelity_fn",
    "shot_seed",
]

#: Distinct rows of a score-function batch are padded to at least this many (one compiled
#: log-probability gradient per power of two from here on).
_MIN_ROWS = 64

#: ``bits (M, N) uint8 -> (M,) float64`` cost of bit rows.
BitCost = Callable[[np.ndarray], np.ndarray]


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


def sampled_energy(engine, circuit, theta, cost: BitCost, shots: int, *, seed: int = 0,
                   batch: int = 2048) -> tuple[float, float]:
    """``(Ê, standard error)`` of one parameter set ``theta (P,)`` from ``shots`` shots of
    ``engine.sample_bits`` (the MPS engine)."""
    shots = check_int(shots, "shots", minimum=2)
    bits = engine.sample_bits(circuit, theta, shots, seed=seed)
    c = cost_of_samples(cost, bits, batch=batch)
    return float(c.mean()), float(c.std(ddof=1) / np.sqrt(shots))


def shot_seed(seed: int, run: int, call: int, point: int | None = None) -> int:
    """The shot seed of one point: ``SeedSequence([seed, run, call(, point)])``."""
    entropy = [int(seed), int(run), int(call)] + ([] if point is None else [int(point)])
    return int(np.random.SeedSequence(entropy).generate_state(1, np.uint64)[0] >> 1)


@dataclass
class ShotCounter:
    """Circuits run and shots drawn per run (``runs`` are the driver's run indices).

    ``add(run, circuits, shots)`` accumulates; :meth:`columns` gives the run-log columns
    ``n_circuits`` and ``n_shots`` for a batch of runs (a group's ``measure``).
    """

    circuits: dict[int, int] = field(default_factory=dict)
    shots: dict[int, int] = field(default_factory=dict)

    def add(self, run: int, circuits: int, shots: int) -> None:
        """Count ``circuits`` more circuits and ``shots`` more shots for run ``run``."""
        self.circuits[run] = self.circuits.get(run, 0) + int(circuits)
        self.shots[run] = self.shots.get(run, 0) + int(shots)

    def columns(self, runs: np.ndarray) -> dict[str, np.ndarray]:
        """``{"n_circuits": (R,), "n_shots": (R,)}`` int counts of the runs ``runs`` (R,),
        0 for a run never counted."""
        return dict(n_circuits=np.array([self.circuits.get(int(r), 0) for r in runs]),
                    n_shots=np.array([self.shots.get(int(r), 0) for r in runs]))


def _check_sampler(engine) -> None:
    """The sampled objectives need ``sample_bits`` alone: every
    :class:`pyqhn.engines.base.BitSampler` has it, and so do classical samplers such as the
    benchmark's MADE; QN-SPSA's ``fidelity`` is needed only by :func:`fidelity_fn`."""
    if not callable(getattr(engine, "sample_bits", None)):
        raise InputError(f"the {getattr(engine, 'name', engine)!r} engine cannot sample bit "
                         "rows; use get_engine('mps')")


def _point_seeds(seed: int, runs: np.ndarray, call: int, m: int, crn: bool) -> list[int]:
    b = len(runs)
    return [shot_seed(seed, runs[i % b], call, None if crn else i // b) for i in range(m)]


#: ``point(row (P,), shot seed) -> (value, gradient (P,) or None, circuits, shots)``.
PointEstimate = Callable[[np.ndarray, int], tuple[float, Any, int, int]]


def _per_point(point: PointEstimate, *, seed: int, gradient: bool,
               counter: ShotCounter | None,
               common_random_numbers: bool = False) -> Callable[[np.ndarray], Callable]:
    """The ``bind`` of an objective estimated point by point: call ``k`` of runs ``runs``
    evaluates row ``i`` of ``x (M, P)`` with shot seed :func:`shot_seed` ``(seed, run, k,
    point)`` (the point index dropped with ``common_random_numbers``) and counts its
    circuits and shots for its run."""

    def bind(runs: np.ndarray) -> Callable:
        runs = np.asarray(runs)
        calls = [0]

        def fn(x: np.ndarray):
            x = np.asarray(x, dtype=np.float64)
            seeds = _point_seeds(seed, runs, calls[0], x.shape[0], common_random_numbers)
            calls[0] += 1
            values, grads = np.empty(x.shape[0]), np.empty_like(x)
            for i, row in enumerate(x):
                values[i], g, circuits, shots = point(row, seeds[i])
                if gradient:
                    grads[i] = g
                if counter is not None:
                    counter.add(runs[i % len(runs)], circuits, shots)
            return (values, grads) if gradient else values

        return fn

    return bind


def sampled_energy_objective(engine, circuit, cost: BitCost, *, shots: int, seed: int = 0,
                             counter: ShotCounter | None = None, batch: int = 2048,
                             common_random_numbers: bool = False) -> Objective:
    """``Ê(θ)`` from ``shots`` fresh shots per point, no gradient (SPSA, QN-SPSA).

    ``x (M, P) -> (M,)``; rows, seeds and counting as the module docstring says.
    """
    _check_sampler(engine)
    shots = check_int(shots, "shots", minimum=1)

    def point(row: np.ndarray, point_seed: int):
        bits = engine.sample_bits(circuit, row, shots, seed=point_seed)
        return cost_of_samples(cost, bits, batch=batch).mean(), None, 1, shots

    return Objective("sampled", False, _per_point(
        point, seed=seed, gradient=False, counter=counter,
        common_random_numbers=common_random_numbers))


def score_function_objective(engine, circuit, cost: BitCost, *, shots: int, seed: int = 0,
                             counter: ShotCounter | None = None, batch: int = 2048,
                             baseline: str = "leave-one-out") -> Objective:
    """``Ê(θ)`` and the score-function gradient from ``shots`` shots per point (Adam).

    ``∇̂E = (1/S) Σ_s (C(w_s) − b_s) ∇ log p_θ(w_s)``; ``baseline``: ``"leave-one-out"``
    (``b_s`` the mean of the other ``S − 1`` costs: unbiased, low variance), ``"mean"`` (all
    ``S``, biased by ``O(1/S)``) or ``"none"``. Log-probability gradients of the distinct
    rows only (weights summed), by autodiff through the exact MPS
    (:meth:`pyqhn.engines.mps.MpsEngine.weighted_log_prob_grad`).
    """
    _check_sampler(engine)
    shots = check_int(shots, "shots", minimum=2)
    if baseline not in ("leave-one-out", "mean", "none"):
        raise InputError(f"baseline must be 'leave-one-out', 'mean' or 'none', got {baseline!r}")

    def point(row: np.ndarray, point_seed: int):
        bits = engine.sample_bits(circuit, row, shots, seed=point_seed)
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
        _, g = engine.weighted_log_prob_grad(circuit, row, rows, w)
        return c.mean(), g, 1, shots

    return Objective("score-function", True, _per_point(point, seed=seed, gradient=True,
                                                        counter=counter))


def shot_parameter_shift_objective(engine, circuit, cost: BitCost, *, shots: int,
                                   seed: int = 0, counter: ShotCounter | None = None,
                                   batch: int = 2048) -> Objective:
    """``Ê(θ)`` and ``∂_i E ≈ ½ [Ê(θ + π/2 e_i) − Ê(θ − π/2 e_i)]``, every energy from
    ``shots`` shots: ``1 + 2P`` circuits per point (hardware-style; unbiased)."""
    _check_sampler(engine)
    shots = check_int(shots, "shots", minimum=1)
    p = circuit.n_params

    def point(row: np.ndarray, point_seed: int):
        # rows: θ, then θ + π/2·e_i (i = 1..P), then θ − π/2·e_i (the one shift rule)
        rows = np.concatenate([row[None], shifted_params(row).reshape(2 * p, p)])
        bits = engine.sample_bits(circuit, rows, shots, seed=point_seed)
        e = cost_of_samples(cost, bits.reshape(-1, bits.shape[-1]),
                            batch=batch).reshape(1 + 2 * p, shots).mean(axis=1)
        return e[0], 0.5 * (e[1:1 + p] - e[1 + p:]), 1 + 2 * p, (1 + 2 * p) * shots

    return Objective("shot-parameter-shift", True, _per_point(point, seed=seed, gradient=True,
                                                              counter=counter))


def fidelity_fn(engine, circuit) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``(x (M, P), y (M, P)) -> (M,)`` fidelities ``|⟨ψ_x|ψ_y⟩|²`` from the engine's exact
    overlaps (QN-SPSA's metric; on a device these would be estimated from shots)."""
    if not hasattr(engine, "fidelity"):
        raise InputError(f"the {getattr(engine, 'name', engine)!r} engine has no overlaps; "
                         "use get_engine('mps')")
    return lambda x, y: engine.fidelity(circuit, np.asarray(x), np.asarray(y))
