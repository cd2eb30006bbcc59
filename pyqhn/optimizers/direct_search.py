"""Direct search based on probabilistic descent (Gratton, Royer, Vicente, Zhang, SIAM J.
Optim. 25, 1515–1541, 2015), as BlackBoxOptim.jl's ``:probabilistic_descent``.

One step ``k`` with iterate ``x``, value ``f(x)`` and step size ``α``:

1. If ``α < step_tol`` (converged), restart from a uniform random point of the box with
   the initial step size (BlackBoxOptim's ``GeneratingSetSearcher`` does this).
2. Draw ``n_directions / 2`` directions uniformly on the unit sphere (normalised Gaussian
   vectors) and add their negatives; poll them in random order.
3. A poll point is ``x + α d``; a coordinate that leaves ``[lower, upper]`` is replaced by a
   uniform point between the bound and the current coordinate (BlackBoxOptim's
   ``RandomBound`` embedding). The first poll point with
   ``f(x + α d) < f(x) - c α²`` is accepted (``c = forcing_constant``; BlackBoxOptim and
   the original runs use simple decrease, ``c = 0``; the paper's analysis takes ``c > 0``).
4. Success: ``α ← min(γ α, α_max)``; failure: ``α ← θ α``.

Defaults are BlackBoxOptim's: 2 directions (one random pair ``±d``), ``γ = 2``, ``θ = 0.5``,
initial ``α = 0.5 ×`` the smallest box width (``π`` for the box ``(-π, π)``),
``step_tol = 1e-10``, random poll order; and the study's 2000 steps. Every step costs one
or two objective evaluations; :attr:`DirectSearchResult.n_evals` counts them (including
the evaluation of the starting point and of restart points).

Angles: the original searched every angle in ``(-π, π)``. The circuit energy is
``2π``-periodic in every angle (``Ry(θ + 2π) = -Ry(θ)``, a global sign), so a starting
point drawn on ``[0, 2π)`` (:func:`pyqhn.circuits.random_params`) is mapped into the box
by :func:`wrap_angles` (``θ → (θ + π) mod 2π − π``) without changing its energy; pass
``wrap=False`` to reject points outside the box instead.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

import numpy as np

from ..checks import check_float, check_int
from .base import (
    BatchedValue,
    Optimizer,
    call_value,
    minimize,
)

__all__ = [
    "DirectSearchResult",
    "DirectSearchState",
    "direct_search_optimizer",
    "probabilistic_descent",
    "probabilistic_descent_batch",
    "wrap_angles",
]


@dataclass(frozen=True)
class DirectSearchResult:
    """Outcome of a probabilistic-descent run.

    Attributes:
        x: best point evaluated, ``(P,)`` (``(R, P)`` for a batch of runs).
        fun: its objective value (``(R,)`` for a batch).
        n_evals: number of objective evaluations (``(R,)`` for a batch).
        n_steps: number of steps taken.
        history: best value found after each step, ``(n_steps,)`` (``(R, n_steps)``).
        step_size: final step size ``α`` (``(R,)`` for a batch).
        n_restarts: restarts after ``α < step_tol`` (``(R,)`` for a batch).
    """

    x: np.ndarray
    fun: float | np.ndarray
    n_evals: int | np.ndarray
    n_steps: int
    history: np.ndarray
    step_size: float | np.ndarray
    n_restarts: int | np.ndarray


class DirectSearchState(NamedTuple):
    """State of :func:`direct_search_optimizer` for ``R`` runs of ``P`` parameters.

    Attributes:
        x: ``(R, P)`` best point evaluated so far (what a run reports).
        f: ``(R,)`` its value.
        g: always ``None`` (no gradient).
        done: ``(R,)`` ``n_iter >= max_steps``, or ``n_evals >= max_evals`` after a step, or
            stopped by the driver.
        n_iter: ``(R,)`` steps taken.
        n_evals: ``(R,)`` objective evaluations (start, restart and poll points).
        converged: ``(R,)`` always ``False`` (a run restarts instead of converging).
        x_current: ``(R, P)`` the iterate the search polls around.
        f_current: ``(R,)`` its value.
        alpha: ``(R,)`` step sizes ``α``.
        n_restarts: ``(R,)`` restarts after ``α < step_tol``.
        rngs: one ``numpy.random.Generator`` per run (run ``r`` seeded with ``seeds[r]``).
            ``step`` ADVANCES these generators in place, so a state must not be stepped
            twice (stepping an old state again does not repeat the same step).
    """

    x: np.ndarray
    f: np.ndarray
    g: None
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    x_current: np.ndarray
    f_current: np.ndarray
    alpha: np.ndarray
    n_restarts: np.ndarray
    rngs: tuple[np.random.Generator, ...]


def wrap_angles(x: np.ndarray, lower: float = -np.pi, upper: float = np.pi) -> np.ndarray:
    """Map periodic angles into ``[lower, upper)`` of period ``upper - lower``."""
    width = upper - lower
    return (np.asarray(x, dtype=float) - lower) % width + lower


def _into_box(x0: np.ndarray, lower: float, upper: float, wrap: bool) -> np.ndarray:
    x0 = np.asarray(x0, dtype=float)
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 contains NaN or infinite values")
    if wrap:
        return wrap_angles(x0, lower, upper)
    if np.any(x0 < lower) or np.any(x0 > upper):
        raise ValueError(
            f"x0 lies outside [{lower}, {upper}]; pass wrap=True to map periodic angles "
            "into the box"
        )
    return np.array(x0)


def _directions(rng: np.random.Generator, n_directions: int, n_params: int) -> np.ndarray:
    """``n_directions / 2`` unit Gaussian directions and their negatives, shuffled."""
    g = rng.standard_normal((n_directions // 2, n_params))
    g /= np.linalg.norm(g, axis=1, keepdims=True)
    dirs = np.concatenate([g, -g])
    return dirs[rng.permutation(n_directions)]


def _candidate(x: np.ndarray, alpha: float, d: np.ndarray, rng: np.random.Generator,
               lower: float, upper: float) -> np.ndarray:
    """``x + α d`` with BlackBoxOptim's ``RandomBound`` for coordinates off the box."""
    c = x + alpha * d
    lo, hi = c < lower, c > upper
    for i in np.flatnonzero(lo | hi):  # in coordinate order, as the original
        bound = lower if lo[i] else upper
        c[i] = bound + rng.random() * (x[i] - bound)
    return c


def direct_search_optimizer(
    *,
    lower: float = -np.pi,
    upper: float = np.pi,
    max_steps: int = 2000,
    max_evals: int | None = None,
    n_directions: int = 2,
    gamma: float = 2.0,
    contraction: float = 0.5,
    initial_step_factor: float = 0.5,
    step_tol: float = 1e-10,
    max_step: float = np.inf,
    forcing_constant: float = 0.0,
    wrap: bool = True,
) -> Optimizer:
    """Probabilistic-descent direct search (module docstring) as an ``init``/``step`` pair.

    ``fun`` is a :data:`~pyqhn.optimizers.base.BatchedValue` called with the points of the
    runs that need one (``(M, P)``, ``M <= 2R``): ``init`` evaluates all starts in one
    call; a step evaluates the restart points (if any) together with the first poll point
    of every active run in one call, then the second poll point of the runs whose first
    failed, … (no point is evaluated that the sequential search would not evaluate, so a
    step of ``R`` runs costs about ``1.75 R`` evaluations in two calls). Run ``r``
    draws its random numbers from ``numpy.random.default_rng(seeds[r])``, so its result
    does not depend on the other runs. The state is a :class:`DirectSearchState`.

    Args:
        lower: lower box bound, the same for every coordinate (default ``-π``).
        upper: upper box bound, the same for every coordinate (default ``π``).
        max_steps: step budget (the study used 2000).
        max_evals: optional budget of objective evaluations per run, checked after each
            step (a run stops after the step that reaches it).
        n_directions: polling directions per step, even (random ``d`` and ``-d`` pairs).
        gamma: step-size expansion ``γ >= 1`` on success.
        contraction: step-size contraction ``θ ∈ (0, 1)`` on failure.
        initial_step_factor: initial ``α`` = factor × ``(upper - lower)``.
        step_tol: restart from a random point when ``α`` falls below it.
        max_step: cap on ``α`` (recorded as ``None`` in :attr:`Optimizer.settings` when
            infinite).
        forcing_constant: ``c`` of the sufficient decrease ``f(x+αd) < f(x) - c α²``.
        wrap: map starting points into the box (periodic angles) rather than reject them.

    Example:
        >>> from pyqhn.optimizers import minimize
        >>> opt = direct_search_optimizer(max_steps=500)
        >>> state, history = minimize(opt, lambda x: (x**2).sum(1), np.ones((2, 3)), [0, 1])
        >>> bool(state.f.max() < 1e-8), history.shape
        (True, (2, 501))
    """
    lower = check_float(lower, "lower")
    upper = check_float(upper, "upper")
    if not upper > lower:
        raise ValueError(f"need lower < upper, got lower={lower}, upper={upper}")
    max_steps = check_int(max_steps, "max_steps", minimum=0)
    max_evals = (None if max_evals is None
                 else check_int(max_evals, "max_evals", minimum=1))
    n_directions = check_int(n_directions, "n_directions", minimum=0)
    if n_directions < 2 or n_directions % 2:
        raise ValueError(
            f"n_directions must be even and >= 2 (random directions and their negatives), "
            f"got {n_directions}"
        )
    gamma = check_float(gamma, "the expansion factor gamma", low=1.0)
    contraction = check_float(contraction, "the contraction factor", low=0.0, high=1.0,
                              low_inclusive=False, high_inclusive=False)
    forcing_constant = check_float(forcing_constant, "forcing_constant", low=0.0)
    initial_step_factor = check_float(initial_step_factor, "initial_step_factor", low=0.0,
                                      low_inclusive=False)
    step_tol = check_float(step_tol, "step_tol", low=0.0)
    if not max_step > 0.0:
        raise ValueError(f"max_step must be > 0 (np.inf: no cap), got {max_step}")
    max_step = float(max_step)
    wrap = bool(wrap)
    alpha0 = initial_step_factor * (upper - lower)

    def init(fun: BatchedValue, x0: np.ndarray, seeds: Sequence[int]) -> DirectSearchState:
        x = _into_box(x0, lower, upper, wrap)
        r = x.shape[0]
        if len(seeds) != r:
            raise ValueError(f"need one seed per run: {r} runs, {len(seeds)} seeds")
        f = call_value(fun, x)
        n_iter = np.zeros(r, dtype=np.int64)
        return DirectSearchState(
            x=x.copy(), f=f.copy(), g=None,
            done=n_iter >= max_steps,
            n_iter=n_iter,
            n_evals=np.ones(r, dtype=np.int64),
            converged=np.zeros(r, dtype=bool),
            x_current=x, f_current=f,
            alpha=np.full(r, alpha0),
            n_restarts=np.zeros(r, dtype=np.int64),
            rngs=tuple(np.random.default_rng(int(s)) for s in seeds),
        )

    def step(fun: BatchedValue, state: DirectSearchState) -> DirectSearchState:
        active = np.flatnonzero(~np.asarray(state.done, dtype=bool))
        if active.size == 0:
            return state
        rngs = state.rngs
        p = state.x.shape[1]
        best_x, best_f = state.x.copy(), state.f.copy()
        x_cur, f_cur = state.x_current.copy(), state.f_current.copy()
        alpha, n_evals = state.alpha.copy(), state.n_evals.copy()
        n_restarts = state.n_restarts.copy()

        def record(rows: np.ndarray, points: np.ndarray, values: np.ndarray) -> None:
            n_evals[rows] += 1
            better = values < best_f[rows]
            best_x[rows[better]] = points[better]
            best_f[rows[better]] = values[better]

        # 1. restart the runs whose step size fell below step_tol; their new points are
        # evaluated in the same objective call as the first poll points (step 3)
        restart = active[alpha[active] < step_tol]
        if restart.size:
            x_cur[restart] = np.stack([rngs[r].uniform(lower, upper, size=p)
                                       for r in restart])
            alpha[restart] = alpha0
            n_restarts[restart] += 1

        # 2. directions, 3. polls in order: a run's next poll only if its last one failed
        polls = {r: _directions(rngs[r], n_directions, p) for r in active}
        success = np.zeros(len(alpha), dtype=bool)
        rows = active
        for k in range(n_directions):
            if rows.size == 0:
                break
            points = np.stack([
                _candidate(x_cur[r], alpha[r], polls[r][k], rngs[r], lower, upper)
                for r in rows
            ])
            if k == 0 and restart.size:  # one call: restart points, then first polls
                values = call_value(fun, np.concatenate([x_cur[restart], points]))
                f_cur[restart] = values[:restart.size]
                record(restart, x_cur[restart], f_cur[restart])
                values = values[restart.size:]
            else:
                values = call_value(fun, points)
            record(rows, points, values)
            ok = values < f_cur[rows] - forcing_constant * alpha[rows] ** 2
            x_cur[rows[ok]], f_cur[rows[ok]] = points[ok], values[ok]
            success[rows[ok]] = True
            rows = rows[~ok]

        # 4. step size
        alpha[active] = np.where(success[active], np.minimum(alpha[active] * gamma, max_step),
                                 alpha[active] * contraction)
        n_iter = state.n_iter.copy()
        n_iter[active] += 1
        done = state.done | (n_iter >= max_steps)
        if max_evals is not None:
            done = done | (n_evals >= max_evals)
        return DirectSearchState(
            x=best_x, f=best_f, g=None, done=done, n_iter=n_iter, n_evals=n_evals,
            converged=state.converged, x_current=x_cur, f_current=f_cur, alpha=alpha,
            n_restarts=n_restarts, rngs=rngs,
        )

    settings = {
        "lower": lower, "upper": upper, "max_steps": max_steps, "max_evals": max_evals,
        "n_directions": n_directions, "gamma": gamma, "contraction": contraction,
        "initial_step_factor": initial_step_factor, "step_tol": step_tol,
        "max_step": None if np.isinf(max_step) else max_step,
        "forcing_constant": forcing_constant, "wrap": wrap,
    }
    return Optimizer(name="direct-search", uses_gradient=False, init=init, step=step,
                     settings=settings, evaluates_subsets=True)


def _seeded_with(optimizer: Optimizer, rngs: tuple[np.random.Generator, ...]) -> Optimizer:
    """``optimizer`` whose ``init`` uses the given generators instead of seeding new ones."""

    def init(fun: BatchedValue, x0: np.ndarray, seeds: Sequence[int]) -> DirectSearchState:
        return optimizer.init(fun, x0, seeds)._replace(rngs=rngs)

    return dataclasses.replace(optimizer, init=init)


def probabilistic_descent(
    fun: Callable[[np.ndarray], float],
    x0: np.ndarray | None = None,
    *,
    n_params: int | None = None,
    lower: float = -np.pi,
    upper: float = np.pi,
    max_steps: int = 2000,
    max_evals: int | None = None,
    seed: int | np.random.Generator = 0,
    n_directions: int = 2,
    gamma: float = 2.0,
    contraction: float = 0.5,
    initial_step_factor: float = 0.5,
    step_tol: float = 1e-10,
    max_step: float = np.inf,
    forcing_constant: float = 0.0,
    wrap: bool = True,
    callback: Callable[[int, np.ndarray, float], bool | None] | None = None,
) -> DirectSearchResult:
    """Minimise ``fun`` over the box ``[lower, upper]^P`` by probabilistic descent.

    One run of :func:`direct_search_optimizer` through
    :func:`~pyqhn.optimizers.base.minimize`, with a scalar objective.

    Args:
        fun: objective, ``(P,)`` float array → float.
        x0: start ``(P,)``; ``None`` draws it uniformly in the box (then give ``n_params``).
            Mapped into the box by :func:`wrap_angles` unless ``wrap=False``.
        lower: lower box bound, the same for every coordinate (default ``-π``).
        upper: upper box bound, the same for every coordinate (default ``π``).
        max_steps: step budget (the study used 2000).
        max_evals: optional budget of objective evaluations (stops after the step that
            reaches it).
        seed: seed or ``numpy.random.Generator`` for directions, poll order, bound
            handling and restarts.
        n_directions: polling directions per step, even (random ``d`` and ``-d`` pairs).
        gamma: step-size expansion on success.
        contraction: step-size contraction on failure.
        initial_step_factor: initial ``α`` = factor × ``(upper - lower)``.
        step_tol: restart from a random point when ``α`` falls below it.
        max_step: cap on ``α``.
        forcing_constant: ``c`` of the sufficient decrease ``f(x+αd) < f(x) - c α²``.
        wrap: map ``x0`` into the box (periodic angles) rather than reject it.
        callback: ``callback(step, x, fx)`` after every step (``step`` from 0, ``x`` the
            current iterate ``(P,)``, ``fx`` its value); return ``True`` to stop.

    Returns:
        :class:`DirectSearchResult` with the best point evaluated.

    Example:
        >>> res = probabilistic_descent(lambda x: float(np.sum(x**2)), np.ones(3))
        >>> bool(res.fun < 1e-8)
        True
    """
    opt = direct_search_optimizer(
        lower=lower, upper=upper, max_steps=max_steps, max_evals=max_evals,
        n_directions=n_directions, gamma=gamma, contraction=contraction,
        initial_step_factor=initial_step_factor, step_tol=step_tol, max_step=max_step,
        forcing_constant=forcing_constant, wrap=wrap,
    )
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if x0 is None:
        if n_params is None or n_params < 1:
            raise ValueError("give x0, or n_params to draw a random start in the box")
        x0 = rng.uniform(lower, upper, size=n_params)
    x0 = np.asarray(x0, dtype=float)
    if x0.ndim != 1:
        raise ValueError(
            f"x0 must have shape (P,), got {x0.shape}; use probabilistic_descent_batch "
            "for several runs"
        )

    def fun_batch(points: np.ndarray) -> np.ndarray:
        return np.array([float(fun(point)) for point in points])

    def stop(k: int, state: DirectSearchState) -> DirectSearchState | None:
        if k > 0 and callback is not None and callback(k - 1, state.x_current[0].copy(),
                                             float(state.f_current[0])):
            return state._replace(done=np.ones(1, dtype=bool))
        return None

    state, history = minimize(_seeded_with(opt, (rng,)), fun_batch, x0[None], [0],
                              callback=stop)
    return DirectSearchResult(
        x=state.x[0], fun=float(state.f[0]), n_evals=int(state.n_evals[0]),
        n_steps=int(state.n_iter[0]), history=history[0, 1:],
        step_size=float(state.alpha[0]), n_restarts=int(state.n_restarts[0]),
    )


def probabilistic_descent_batch(
    fun_batch: Callable[[np.ndarray], np.ndarray],
    x0: np.ndarray,
    *,
    lower: float = -np.pi,
    upper: float = np.pi,
    max_steps: int = 2000,
    seeds: np.ndarray | list[int] | None = None,
    n_directions: int = 2,
    gamma: float = 2.0,
    contraction: float = 0.5,
    initial_step_factor: float = 0.5,
    step_tol: float = 1e-10,
    max_step: float = np.inf,
    forcing_constant: float = 0.0,
    wrap: bool = True,
) -> DirectSearchResult:
    """``R`` independent runs of :func:`probabilistic_descent` in lockstep.

    :func:`direct_search_optimizer` through :func:`~pyqhn.optimizers.base.minimize`.
    ``fun_batch`` maps ``(M, P)`` points to ``(M,)`` values (e.g. a batched
    :func:`pyqhn.engines.density.noisy_energy`), so each poll round is one batched call.
    Run ``r`` uses ``numpy.random.default_rng(seeds[r])`` (default ``seeds = range(R)``) and
    gives exactly the result of ``probabilistic_descent(..., seed=seeds[r])``; a run's
    second poll point is evaluated (and counted) only if its first one failed.

    Args:
        x0: starts ``(R, P)``.

    The other arguments are those of :func:`probabilistic_descent`.

    Returns:
        :class:`DirectSearchResult` with ``x (R, P)``, ``fun``, ``n_evals``,
        ``step_size``, ``n_restarts`` of shape ``(R,)`` and ``history (R, n_steps)``.
    """
    opt = direct_search_optimizer(
        lower=lower, upper=upper, max_steps=max_steps, n_directions=n_directions,
        gamma=gamma, contraction=contraction, initial_step_factor=initial_step_factor,
        step_tol=step_tol, max_step=max_step, forcing_constant=forcing_constant, wrap=wrap,
    )
    if np.ndim(x0) != 2:
        raise ValueError(f"x0 must have shape (R, P), got {np.shape(x0)}")
    state, history = minimize(opt, fun_batch, x0, seeds)
    return DirectSearchResult(
        x=state.x, fun=state.f, n_evals=state.n_evals, n_steps=opt.settings["max_steps"],
        history=history[:, 1:], step_size=state.alpha, n_restarts=state.n_restarts,
    )
