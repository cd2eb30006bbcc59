"""Classical searches over bitstrings as ``init``/``step`` optimisers of the driver.

The searched point of run ``r`` is a bit row ``x (N,)`` in {0, 1} (model parameter 0 first,
:mod:`pyqhn.bits`), the objective ``C(x)`` one cost evaluation per bit row
(:func:`bit_cost_objective`). Every state has the driver's fields: ``x``/``f`` are the BEST
bit row and cost found so far (as for direct search), ``n_evals`` counts cost evaluations
(the budget), ``n_evals_at_best`` the evaluation that found the best row (a column of
the runs table), ``n_iter`` steps.

* :func:`annealing_optimizer` — simulated annealing with single-bit flips (Kirkpatrick et
  al. 1983): a random walk for the first ``warmup`` steps measures the typical cost change
  of a flip, ``|ΔC|``; the temperature then starts where an uphill flip of that size is
  accepted with probability ``accept_start`` and falls geometrically by
  ``cooling_ratio`` over the rest of the budget (Metropolis acceptance).
* :func:`random_search_optimizer` — independent uniform bit rows, keep the best.
* :func:`exhaustive_optimizer` — every one of the ``2**N`` bit rows, in chunks: the exact
  optimum, at ``2**N`` evaluations.

These are a few lines each and defined by the comparison (same bits, same cost, same
budget as the circuits), so they are written here rather than taken from a library.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..bits import bits_to_index, index_to_bits
from ..checks import InputError, check_cost, check_float, check_int
from ..objectives import Objective
from ..optimizers.base import Optimizer, call_value

__all__ = [
    "bit_cost_objective",
    "random_bits",
    "annealing_optimizer",
    "random_search_optimizer",
    "exhaustive_optimizer",
]


def bit_cost_objective(cost: np.ndarray) -> Objective:
    """``C(x)``: bit rows ``(B, N)`` (floats 0.0/1.0) to costs ``(B,)`` by table lookup."""
    table = check_cost(cost)

    def fun(x: np.ndarray) -> np.ndarray:
        return table[bits_to_index(np.rint(np.asarray(x)).astype(np.int64))]

    return Objective("cost", False, lambda runs: fun)


def random_bits(n_bits: int, seed: int, runs: np.ndarray) -> np.ndarray:
    """Start rows ``(B, N)``: run ``r`` draws from ``default_rng([seed + r, 1])`` (a stream
    apart from the optimiser's own ``default_rng(seed + r)``)."""
    return np.stack([np.random.default_rng([seed + int(r), 1]).integers(0, 2, n_bits)
                     for r in runs]).astype(np.float64)


class BitSearchState(NamedTuple):
    """State of the bitstring searches (``g`` is ``None``; ``converged`` is False)."""

    x: np.ndarray
    f: np.ndarray
    g: None
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    x_current: np.ndarray
    f_current: np.ndarray
    temperature: np.ndarray
    flip_scale: np.ndarray
    n_evals_at_best: np.ndarray
    rngs: tuple


def _init(fun: Any, x0: np.ndarray, seeds: np.ndarray, budget: int) -> BitSearchState:
    x0 = np.rint(x0)
    if np.any((x0 != 0) & (x0 != 1)):
        raise InputError("bitstring searches start from rows of 0 and 1")
    f0 = call_value(fun, x0)
    r = x0.shape[0]
    return BitSearchState(
        x=x0.copy(), f=f0.copy(), g=None, done=np.full(r, budget <= 1),
        n_iter=np.zeros(r, np.int64), n_evals=np.ones(r, np.int64),
        converged=np.zeros(r, bool), x_current=x0.copy(), f_current=f0.copy(),
        temperature=np.full(r, np.inf), flip_scale=np.zeros(r),
        n_evals_at_best=np.ones(r, np.int64),
        rngs=tuple(np.random.default_rng(int(s)) for s in seeds))


def _keep_best(state: BitSearchState, act: np.ndarray, y: np.ndarray,
               fy: np.ndarray) -> dict[str, np.ndarray]:
    """The best-so-far fields after evaluating ``y`` for the runs ``act``."""
    x, f, at = state.x.copy(), state.f.copy(), state.n_evals_at_best.copy()
    better = fy < f[act]
    x[act[better]], f[act[better]] = y[better], fy[better]
    at[act[better]] = state.n_evals[act[better]] + 1
    return dict(x=x, f=f, n_evals_at_best=at)


def annealing_optimizer(*, budget: int, warmup: int | None = None,
                        accept_start: float = 0.8, cooling_ratio: float = 1e-3) -> Optimizer:
    """Simulated annealing with single-bit flips and a geometric schedule.

    Args:
        budget: cost evaluations per run (the start counts as one).
        warmup: random-walk steps that measure ``|ΔC|`` of a flip (default
            ``min(100, budget // 10)``), counted in the budget.
        accept_start: acceptance probability of an average uphill flip at the first
            annealing step: ``T_0 = mean|ΔC| / ln(1 / accept_start)``.
        cooling_ratio: ``T_end / T_0``; ``T_k = T_0 · cooling_ratio^(k / K)``.
    """
    budget = check_int(budget, "budget", minimum=1)
    warm = min(100, budget // 10) if warmup is None else check_int(warmup, "warmup", minimum=0)
    accept = check_float(accept_start, "accept_start", low=0.0, high=1.0,
                         low_inclusive=False, high_inclusive=False)
    ratio = check_float(cooling_ratio, "cooling_ratio", low=0.0, high=1.0, low_inclusive=False)
    steps = budget - 1

    def init(fun, x0, seeds):
        return _init(fun, x0, seeds, budget)

    def step(fun, s: BitSearchState) -> BitSearchState:
        act = np.flatnonzero(~s.done)
        n = s.x.shape[1]
        flips = np.array([s.rngs[i].integers(n) for i in act])
        u = np.array([s.rngs[i].random() for i in act])
        y = s.x_current[act].copy()
        y[np.arange(act.size), flips] = 1.0 - y[np.arange(act.size), flips]
        fy = call_value(fun, y)
        delta = fy - s.f_current[act]
        k = s.n_iter[act]  # steps taken before this one
        scale = s.flip_scale.copy()
        temperature = s.temperature.copy()
        walking = k < warm
        scale[act[walking]] += np.abs(delta[walking]) / max(warm, 1)
        start_t = np.maximum(scale[act], 1e-300) / np.log(1.0 / accept)
        frac = np.clip((k - warm) / max(steps - warm, 1), 0.0, 1.0)
        temperature[act] = np.where(walking, np.inf, start_t * ratio**frac)
        with np.errstate(over="ignore", divide="ignore", invalid="ignore"):
            take = walking | (delta <= 0) | (u < np.exp(-delta / temperature[act]))
        xc, fc = s.x_current.copy(), s.f_current.copy()
        xc[act[take]], fc[act[take]] = y[take], fy[take]
        best = _keep_best(s, act, y, fy)
        n_evals = s.n_evals.copy()
        n_evals[act] += 1
        n_iter = s.n_iter.copy()
        n_iter[act] += 1
        return s._replace(**best, x_current=xc, f_current=fc, n_evals=n_evals,
                          n_iter=n_iter, done=s.done | (n_evals >= budget),
                          temperature=temperature, flip_scale=scale)

    return Optimizer("simulated-annealing", False, init, step,
                     dict(budget=budget, warmup=warm, accept_start=accept,
                          cooling_ratio=ratio))


def random_search_optimizer(*, budget: int) -> Optimizer:
    """Uniformly random bit rows, one per step, keeping the best; ``budget`` evaluations."""
    budget = check_int(budget, "budget", minimum=1)

    def init(fun, x0, seeds):
        return _init(fun, x0, seeds, budget)

    def step(fun, s: BitSearchState) -> BitSearchState:
        act = np.flatnonzero(~s.done)
        y = np.stack([s.rngs[i].integers(0, 2, s.x.shape[1]) for i in act]).astype(float)
        fy = call_value(fun, y)
        best = _keep_best(s, act, y, fy)
        n_evals = s.n_evals.copy()
        n_evals[act] += 1
        n_iter = s.n_iter.copy()
        n_iter[act] += 1
        return s._replace(**best, n_evals=n_evals, n_iter=n_iter,
                          done=s.done | (n_evals >= budget))

    return Optimizer("random-search", False, init, step, dict(budget=budget))


def exhaustive_optimizer(n_bits: int, *, chunk: int = 2**16) -> Optimizer:
    """Every bit row in index order (row 0 at ``init``, then ``chunk`` per step); finds the
    first optimum in index order after ``2**N`` evaluations. The start rows are ignored."""
    n_bits = check_int(n_bits, "n_bits", minimum=1)
    chunk = check_int(chunk, "chunk", minimum=1)
    total = 2**n_bits

    def init(fun, x0, seeds):
        r = x0.shape[0]
        first = np.zeros((r, n_bits))  # index 0 is the first row evaluated
        f0 = call_value(fun, first)
        return BitSearchState(
            x=first, f=f0, g=None, done=np.full(r, total == 1),
            n_iter=np.zeros(r, np.int64), n_evals=np.ones(r, np.int64),
            converged=np.zeros(r, bool), x_current=first.copy(), f_current=f0.copy(),
            temperature=np.zeros(r), flip_scale=np.zeros(r),
            n_evals_at_best=np.ones(r, np.int64), rngs=())

    def step(fun, s: BitSearchState) -> BitSearchState:
        x, f, n_evals = s.x.copy(), s.f.copy(), s.n_evals.copy()
        at = s.n_evals_at_best.copy()
        for i in np.flatnonzero(~s.done):
            start = int(n_evals[i])
            idx = np.arange(start, min(start + chunk, total))
            values = call_value(fun, index_to_bits(idx, n_bits).astype(np.float64))
            j = int(np.argmin(values))
            if values[j] < f[i]:
                f[i], x[i], at[i] = values[j], index_to_bits(idx[j], n_bits), idx[j] + 1
            n_evals[i] += idx.size
        n_iter = s.n_iter + ~s.done
        return s._replace(x=x, f=f, n_evals=n_evals, n_iter=n_iter, n_evals_at_best=at,
                          done=s.done | (n_evals >= total))

    return Optimizer("exhaustive", False, init, step, dict(n_bits=n_bits, chunk=chunk))
