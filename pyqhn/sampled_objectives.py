"""Objectives estimated from shots: hypernetworks beyond enumeration.

Beyond about 24 qubits no cost table fits; the objective is estimated from shots instead:
``w_s ~ |ψ_θ(w)|²`` (the MPS engine, :mod:`pyqhn.engines.mps`), each ``w_s`` evaluated by
the BiNN on the data (a *bit cost*, :data:`pyqhn.shot_estimators.BitCost`). Each objective
here wraps one estimator of :mod:`pyqhn.shot_estimators` for the driver
(:class:`pyqhn.objectives.Objective`): which rows belong to which run, their shot seeds,
and the count of circuits and shots.

* :func:`sampled_energy_objective`: ``Ê(θ)`` per point
  (:func:`~pyqhn.shot_estimators.bit_row_shot_energy`'s mean), for SPSA / QN-SPSA (what a
  device can do).
* :func:`score_function_objective`: ``Ê`` and the score-function gradient with a
  leave-one-out baseline (:func:`~pyqhn.shot_estimators.score_function_energy_and_grad`,
  simulator only), for Adam.
* :func:`shot_parameter_shift_objective`: ``Ê`` and the parameter-shift gradient with every
  one of the ``2P`` shifted circuits estimated from shots
  (:func:`~pyqhn.shot_estimators.bit_row_parameter_shift_energy_and_grad`; what hardware
  can do).
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
from .objectives import Objective
from .shot_estimators import (
    BitCost,
    bit_row_parameter_shift_energy_and_grad,
    bit_row_shot_energy,
    check_score_baseline,
    score_function_energy_and_grad,
)

__all__ = [
    "ShotCounter",
    "sampled_energy_objective",
    "score_function_objective",
    "shot_parameter_shift_objective",
    "fidelity_fn",
    "shot_seed",
]


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
        value, _ = bit_row_shot_energy(engine, circuit, row, cost, shots, seed=point_seed,
                                       batch=batch)
        return value, None, 1, shots

    return Objective("sampled", False, _per_point(
        point, seed=seed, gradient=False, counter=counter,
        common_random_numbers=common_random_numbers))


def score_function_objective(engine, circuit, cost: BitCost, *, shots: int, seed: int = 0,
                             counter: ShotCounter | None = None, batch: int = 2048,
                             baseline: str = "leave-one-out") -> Objective:
    """``Ê(θ)`` and the score-function gradient from ``shots`` shots per point (Adam):
    :func:`pyqhn.shot_estimators.score_function_energy_and_grad` (``baseline`` there)."""
    _check_sampler(engine)
    shots = check_int(shots, "shots", minimum=2)
    check_score_baseline(baseline)

    def point(row: np.ndarray, point_seed: int):
        value, g = score_function_energy_and_grad(engine, circuit, row, cost, shots,
                                                  seed=point_seed, batch=batch,
                                                  baseline=baseline)
        return value, g, 1, shots

    return Objective("score-function", True, _per_point(point, seed=seed, gradient=True,
                                                        counter=counter))


def shot_parameter_shift_objective(engine, circuit, cost: BitCost, *, shots: int,
                                   seed: int = 0, counter: ShotCounter | None = None,
                                   batch: int = 2048) -> Objective:
    """``Ê(θ)`` and the parameter-shift gradient, every energy from ``shots`` shots:
    :func:`pyqhn.shot_estimators.bit_row_parameter_shift_energy_and_grad`, ``1 + 2P``
    circuits per point (hardware-style; unbiased)."""
    _check_sampler(engine)
    shots = check_int(shots, "shots", minimum=1)
    circuits = 1 + 2 * circuit.n_params

    def point(row: np.ndarray, point_seed: int):
        value, g = bit_row_parameter_shift_energy_and_grad(engine, circuit, row, cost, shots,
                                                           seed=point_seed, batch=batch)
        return value, g, circuits, circuits * shots

    return Objective("shot-parameter-shift", True, _per_point(point, seed=seed, gradient=True,
                                                              counter=counter))


def fidelity_fn(engine, circuit) -> Callable[[np.ndarray, np.ndarray], np.ndarray]:
    """``(x (M, P), y (M, P)) -> (M,)`` fidelities ``|⟨ψ_x|ψ_y⟩|²`` from the engine's exact
    overlaps (QN-SPSA's metric; on a device these would be estimated from shots)."""
    if not hasattr(engine, "fidelity"):
        raise InputError(f"the {getattr(engine, 'name', engine)!r} engine has no overlaps; "
                         "use get_engine('mps')")
    return lambda x, y: engine.fidelity(circuit, np.asarray(x), np.asarray(y))
