"""Two more classical searches over bit rows, as ``init``/``step`` optimisers of the driver.

Same conventions as :mod:`pyqhn.baselines.search`: run ``r``'s point is a bit row
``x (N,)`` in {0, 1}; ``x``/``f`` are the BEST row and cost found so far; ``n_evals``
counts cost evaluations and a run is done before it would pass ``budget``.

* :func:`local_search_optimizer` — first-improvement single-bit-flip descent with random
  restarts: the flips of the current row are tried in a random order, the first one that
  lowers the cost is taken (and a new order drawn); a row none of whose ``N`` flips
  improves is a local minimum, and the run restarts from a uniformly random row. One
  evaluation per step.
* :func:`parallel_tempering_optimizer` — ``replicas`` Metropolis chains of single-bit
  flips at temperatures ``T_k = s · t_max (t_min / t_max)^(k / (K − 1))`` (``s``: the
  standard deviation of the replicas' random starting costs, so the ladder is in the
  problem's own units), one flip proposal per replica per step, then swaps of neighbouring
  temperatures (even pairs on even steps, odd pairs on odd steps) accepted with
  probability ``min(1, exp((1/T_i − 1/T_j)(C_i − C_j)))`` (Swendsen & Wang 1986; Earl &
  Deem 2005). ``replicas`` evaluations per step.
"""

from __future__ import annotations

from typing import NamedTuple

import numpy as np

from ..checks import InputError, check_float, check_int
from ..optimizers.base import Optimizer, call_value

__all__ = ["local_search_optimizer", "parallel_tempering_optimizer"]


def _check_bits(x0: np.ndarray) -> np.ndarray:
    x0 = np.rint(np.asarray(x0, dtype=np.float64))
    if np.any((x0 != 0) & (x0 != 1)):
        raise InputError("bitstring searches start from rows of 0 and 1")
    return x0


class LocalSearchState(NamedTuple):
    """State of :func:`local_search_optimizer` (``g`` is ``None``)."""

    x: np.ndarray
    f: np.ndarray
    g: None
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    x_current: np.ndarray
    f_current: np.ndarray
    order: np.ndarray
    position: np.ndarray
    n_restarts: np.ndarray
    n_evals_at_best: np.ndarray
    rngs: tuple


def local_search_optimizer(*, budget: int) -> Optimizer:
    """Single-bit-flip first-improvement descent with random restarts; ``budget``
    evaluations per run (the start counts as one)."""
    budget = check_int(budget, "budget", minimum=1)

    def init(fun, x0, seeds):
        x0 = _check_bits(x0)
        f0 = call_value(fun, x0)
        r, n = x0.shape
        rngs = tuple(np.random.default_rng(int(s)) for s in seeds)
        return LocalSearchState(
            x=x0.copy(), f=f0.copy(), g=None, done=np.full(r, budget <= 1),
            n_iter=np.zeros(r, np.int64), n_evals=np.ones(r, np.int64),
            converged=np.zeros(r, bool), x_current=x0.copy(), f_current=f0.copy(),
            order=np.stack([g.permutation(n) for g in rngs]), position=np.zeros(r, np.int64),
            n_restarts=np.zeros(r, np.int64), n_evals_at_best=np.ones(r, np.int64),
            rngs=rngs)

    def step(fun, s: LocalSearchState) -> LocalSearchState:
        act = np.flatnonzero(~s.done)
        n = s.x.shape[1]
        restart = s.position[act] >= n
        y = s.x_current[act].copy()
        for k, i in enumerate(act):
            if restart[k]:
                y[k] = s.rngs[i].integers(0, 2, n)
            else:
                j = s.order[i, s.position[i]]
                y[k, j] = 1.0 - y[k, j]
        fy = call_value(fun, y)
        xc, fc = s.x_current.copy(), s.f_current.copy()
        order, position = s.order.copy(), s.position.copy()
        restarts = s.n_restarts.copy()
        take = restart | (fy < s.f_current[act])
        for k, i in enumerate(act):
            if take[k]:
                xc[i], fc[i] = y[k], fy[k]
                order[i], position[i] = s.rngs[i].permutation(n), 0
            else:
                position[i] += 1
        restarts[act[restart]] += 1
        x, f, at = s.x.copy(), s.f.copy(), s.n_evals_at_best.copy()
        better = fy < f[act]
        x[act[better]], f[act[better]] = y[better], fy[better]
        at[act[better]] = s.n_evals[act[better]] + 1
        n_evals, n_iter = s.n_evals.copy(), s.n_iter.copy()
        n_evals[act] += 1
        n_iter[act] += 1
        return s._replace(x=x, f=f, n_evals_at_best=at, x_current=xc, f_current=fc,
                          order=order, position=position, n_restarts=restarts,
                          n_evals=n_evals, n_iter=n_iter, done=s.done | (n_evals >= budget))

    return Optimizer("local-search", False, init, step, dict(budget=budget))


class TemperingState(NamedTuple):
    """State of :func:`parallel_tempering_optimizer`: replicas ``(R, K, N)``, their costs
    ``(R, K)`` and temperatures ``(R, K)`` (``g`` is ``None``)."""

    x: np.ndarray
    f: np.ndarray
    g: None
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    replicas: np.ndarray
    replica_costs: np.ndarray
    temperatures: np.ndarray
    n_swaps: np.ndarray
    n_evals_at_best: np.ndarray
    rngs: tuple


def parallel_tempering_optimizer(*, budget: int, replicas: int = 8, t_min: float = 0.01,
                                 t_max: float = 1.0) -> Optimizer:
    """Parallel tempering with single-bit flips (module docstring).

    Args:
        budget: cost evaluations per run; ``replicas`` at the start (the given start row
            is replica 0, the others uniformly random), ``replicas`` per step.
        replicas: ``K ≥ 2`` chains.
        t_min: coldest temperature, in units of the starting costs' standard deviation.
        t_max: hottest temperature, in the same units.
    """
    budget = check_int(budget, "budget", minimum=1)
    k = check_int(replicas, "replicas", minimum=2)
    if budget < k:
        raise InputError(f"parallel tempering needs a budget of at least replicas={k}")
    lo = check_float(t_min, "t_min", low=0.0, low_inclusive=False)
    hi = check_float(t_max, "t_max", low=lo)
    ladder = hi * (lo / hi) ** (np.arange(k) / (k - 1))  # hottest first

    def init(fun, x0, seeds):
        x0 = _check_bits(x0)
        r, n = x0.shape
        rngs = tuple(np.random.default_rng(int(s)) for s in seeds)
        reps = np.stack([np.concatenate([x0[i:i + 1], g.integers(0, 2, (k - 1, n))])
                         for i, g in enumerate(rngs)]).astype(np.float64)
        costs = call_value(fun, reps.reshape(r * k, n)).reshape(r, k)
        scale = costs.std(axis=1)
        scale = np.where(scale > 0, scale, 1e-3)
        best = np.argmin(costs, axis=1)
        return TemperingState(
            x=reps[np.arange(r), best].copy(), f=costs[np.arange(r), best].copy(), g=None,
            done=np.full(r, budget < 2 * k), n_iter=np.zeros(r, np.int64),
            n_evals=np.full(r, k, np.int64), converged=np.zeros(r, bool), replicas=reps,
            replica_costs=costs, temperatures=scale[:, None] * ladder[None, :],
            n_swaps=np.zeros(r, np.int64), n_evals_at_best=best + 1, rngs=rngs)

    def step(fun, s: TemperingState) -> TemperingState:
        act = np.flatnonzero(~s.done)
        n = s.x.shape[1]
        reps, costs = s.replicas.copy(), s.replica_costs.copy()
        y = reps[act].copy()
        flips = np.stack([s.rngs[i].integers(n, size=k) for i in act])
        a_idx, k_idx = np.meshgrid(np.arange(act.size), np.arange(k), indexing="ij")
        y[a_idx, k_idx, flips] = 1.0 - y[a_idx, k_idx, flips]
        fy = call_value(fun, y.reshape(act.size * k, n)).reshape(act.size, k)
        delta = fy - costs[act]
        u = np.stack([s.rngs[i].random(k) for i in act])
        with np.errstate(over="ignore"):
            take = (delta <= 0) | (u < np.exp(-delta / s.temperatures[act]))
        reps[act] = np.where(take[..., None], y, reps[act])
        costs[act] = np.where(take, fy, costs[act])
        swaps = s.n_swaps.copy()
        for i in act:  # neighbour swaps, even/odd pairs alternately
            t = s.temperatures[i]
            for j in range(int(s.n_iter[i]) % 2, k - 1, 2):
                arg = (1 / t[j] - 1 / t[j + 1]) * (costs[i, j] - costs[i, j + 1])
                if arg >= 0 or s.rngs[i].random() < np.exp(arg):
                    reps[i, [j, j + 1]] = reps[i, [j + 1, j]]
                    costs[i, [j, j + 1]] = costs[i, [j + 1, j]]
                    swaps[i] += 1
        x, f, at = s.x.copy(), s.f.copy(), s.n_evals_at_best.copy()
        jbest = np.argmin(fy, axis=1)
        fbest = fy[np.arange(act.size), jbest]
        better = fbest < f[act]
        x[act[better]] = y[np.flatnonzero(better), jbest[better]]
        f[act[better]] = fbest[better]
        at[act[better]] = s.n_evals[act[better]] + jbest[better] + 1
        n_evals, n_iter = s.n_evals.copy(), s.n_iter.copy()
        n_evals[act] += k
        n_iter[act] += 1
        return s._replace(x=x, f=f, n_evals_at_best=at, replicas=reps, replica_costs=costs,
                          n_swaps=swaps, n_evals=n_evals, n_iter=n_iter,
                          done=s.done | (n_evals + k > budget))

    return Optimizer("parallel-tempering", False, init, step,
                     dict(budget=budget, replicas=k, t_min=lo, t_max=hi))
