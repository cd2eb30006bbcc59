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

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np

__all__ = [
    "DirectSearchResult",
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


def wrap_angles(x: np.ndarray, lower: float = -np.pi, upper: float = np.pi) -> np.ndarray:
    """Map periodic angles into ``[lower, upper)`` of period ``upper - lower``."""
    width = upper - lower
    return (np.asarray(x, dtype=float) - lower) % width + lower


def _check(lower: float, upper: float, max_steps: int, n_directions: int, gamma: float,
           contraction: float, forcing_constant: float) -> None:
    if not upper > lower:
        raise ValueError(f"need lower < upper, got lower={lower}, upper={upper}")
    if int(max_steps) != max_steps or max_steps < 0:
        raise ValueError(f"max_steps must be a non-negative integer, got {max_steps!r}")
    if n_directions < 2 or n_directions % 2:
        raise ValueError(
            f"n_directions must be even and >= 2 (random directions and their negatives), "
            f"got {n_directions}"
        )
    if gamma < 1.0:
        raise ValueError(f"the expansion factor gamma must be >= 1, got {gamma}")
    if not 0.0 < contraction < 1.0:
        raise ValueError(f"the contraction factor must lie in (0, 1), got {contraction}")
    if forcing_constant < 0.0:
        raise ValueError(f"forcing_constant must be >= 0, got {forcing_constant}")


def _start(x0, lower: float, upper: float, wrap: bool, shape_msg: str) -> np.ndarray:
    x0 = np.asarray(x0, dtype=float)
    if not np.all(np.isfinite(x0)):
        raise ValueError("x0 contains NaN or infinite values")
    if wrap:
        return wrap_angles(x0, lower, upper)
    if np.any(x0 < lower) or np.any(x0 > upper):
        raise ValueError(
            f"x0 lies outside [{lower}, {upper}]; pass wrap=True to map periodic angles "
            f"into the box{shape_msg}"
        )
    return x0


class _Run:
    """State of one run; shared by the single and the batched drivers."""

    def __init__(self, x, fx, rng, alpha0, lower, upper):
        self.x, self.fx, self.rng = x, fx, rng
        self.alpha, self.alpha0 = alpha0, alpha0
        self.lower, self.upper = lower, upper
        self.best_x, self.best_f = x.copy(), fx
        self.n_evals, self.n_restarts = 1, 0
        self.polls: list[np.ndarray] = []

    def note(self, x, fx) -> None:
        self.n_evals += 1
        if fx < self.best_f:
            self.best_x, self.best_f = x.copy(), fx

    def begin_step(self, step_tol: float) -> np.ndarray | None:
        """A restart point (to be evaluated) if ``α`` fell below ``step_tol``, else None."""
        restart = None
        if self.alpha < step_tol:
            restart = self.rng.uniform(self.lower, self.upper, size=self.x.shape)
            self.alpha = self.alpha0
            self.n_restarts += 1
        return restart

    def draw(self, n_directions: int) -> None:
        g = self.rng.standard_normal((n_directions // 2, self.x.size))
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        dirs = np.concatenate([g, -g])
        self.polls = list(dirs[self.rng.permutation(n_directions)])

    def candidate(self, d: np.ndarray) -> np.ndarray:
        c = self.x + self.alpha * d
        lo, hi = c < self.lower, c > self.upper
        for i in np.flatnonzero(lo | hi):  # RandomBound: in coordinate order, as the original
            bound = self.lower if lo[i] else self.upper
            c[i] = bound + self.rng.random() * (self.x[i] - bound)
        return c


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

    Args:
        fun: objective, ``(P,)`` float array → float.
        x0: start ``(P,)``; ``None`` draws it uniformly in the box (then give ``n_params``).
            Mapped into the box by :func:`wrap_angles` unless ``wrap=False``.
        lower, upper: box bounds, the same for every coordinate (default ``(-π, π)``).
        max_steps: step budget (the study used 2000).
        max_evals: optional budget of objective evaluations (stops after the step that
            reaches it).
        seed: seed or ``numpy.random.Generator`` for directions, poll order, bound
            handling and restarts.
        n_directions: polling directions per step, even (random ``d`` and ``-d`` pairs).
        gamma, contraction: step-size expansion on success, contraction on failure.
        initial_step_factor: initial ``α`` = factor × ``(upper - lower)``.
        step_tol: restart from a random point when ``α`` falls below it.
        max_step: cap on ``α``.
        forcing_constant: ``c`` of the sufficient decrease ``f(x+αd) < f(x) - c α²``.
        wrap: map ``x0`` into the box (periodic angles) rather than reject it.
        callback: ``callback(step, x, fx)`` after every step; return ``True`` to stop.

    Returns:
        :class:`DirectSearchResult` with the best point evaluated.

    Example:
        >>> res = probabilistic_descent(lambda x: float(np.sum(x**2)), np.ones(3))
        >>> bool(res.fun < 1e-8)
        True
    """
    _check(lower, upper, max_steps, n_directions, gamma, contraction, forcing_constant)
    rng = seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)
    if x0 is None:
        if n_params is None or n_params < 1:
            raise ValueError("give x0, or n_params to draw a random start in the box")
        x0 = rng.uniform(lower, upper, size=n_params)
    x0 = _start(x0, lower, upper, wrap, "")
    if x0.ndim != 1:
        raise ValueError(
            f"x0 must have shape (P,), got {x0.shape}; use probabilistic_descent_batch "
            "for several runs"
        )
    run = _Run(x0.copy(), float(fun(x0)), rng, initial_step_factor * (upper - lower),
               lower, upper)
    history = []
    for step in range(int(max_steps)):
        restart = run.begin_step(step_tol)
        if restart is not None:
            run.x, run.fx = restart, float(fun(restart))
            run.note(run.x, run.fx)
        run.draw(n_directions)
        success = False
        for d in run.polls:
            c = run.candidate(d)
            fc = float(fun(c))
            run.note(c, fc)
            if fc < run.fx - forcing_constant * run.alpha**2:
                run.x, run.fx, success = c, fc, True
                break
        run.alpha = min(run.alpha * gamma, max_step) if success else run.alpha * contraction
        history.append(run.best_f)
        if callback is not None and callback(step, run.x, run.fx):
            break
        if max_evals is not None and run.n_evals >= max_evals:
            break
    return DirectSearchResult(
        x=run.best_x, fun=run.best_f, n_evals=run.n_evals, n_steps=len(history),
        history=np.asarray(history), step_size=run.alpha, n_restarts=run.n_restarts,
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

    ``fun_batch`` maps ``(M, P)`` points to ``(M,)`` values (e.g. a batched
    :func:`pyqhn.engines.density.noisy_energy`), so each poll round is one batched call.
    Run ``r`` uses ``numpy.random.default_rng(seeds[r])`` (default ``seeds = range(R)``) and
    gives exactly the result of ``probabilistic_descent(..., seed=seeds[r])``; a run's
    second poll point is evaluated (and counted) only if its first one failed.

    Args:
        x0: starts ``(R, P)``.
        other arguments: as :func:`probabilistic_descent`.

    Returns:
        :class:`DirectSearchResult` with ``x (R, P)``, ``fun``, ``n_evals``,
        ``step_size``, ``n_restarts`` of shape ``(R,)`` and ``history (R, n_steps)``.
    """
    _check(lower, upper, max_steps, n_directions, gamma, contraction, forcing_constant)
    x0 = _start(x0, lower, upper, wrap, " (shape (R, P))")
    if x0.ndim != 2:
        raise ValueError(f"x0 must have shape (R, P), got {x0.shape}")
    n_runs = x0.shape[0]
    seeds = list(range(n_runs)) if seeds is None else list(seeds)
    if len(seeds) != n_runs:
        raise ValueError(f"need one seed per run: {n_runs} runs, {len(seeds)} seeds")

    def evaluate(points: list[np.ndarray]) -> np.ndarray:
        values = np.asarray(fun_batch(np.stack(points)), dtype=float)
        if values.shape != (len(points),):
            raise ValueError(
                f"fun_batch must return shape ({len(points)},) for {len(points)} points, "
                f"got {values.shape}"
            )
        return values

    f0 = evaluate(list(x0))
    alpha0 = initial_step_factor * (upper - lower)
    runs = [
        _Run(x0[r].copy(), float(f0[r]), np.random.default_rng(seeds[r]), alpha0, lower, upper)
        for r in range(n_runs)
    ]
    history = np.empty((n_runs, int(max_steps)))
    for step in range(int(max_steps)):
        restarts = {r: p for r, run in enumerate(runs)
                    if (p := run.begin_step(step_tol)) is not None}
        if restarts:
            values = evaluate(list(restarts.values()))
            for (r, p), v in zip(restarts.items(), values, strict=True):
                runs[r].x, runs[r].fx = p, float(v)
                runs[r].note(p, float(v))
        for run in runs:
            run.draw(n_directions)
        active = list(range(n_runs))
        success = np.zeros(n_runs, dtype=bool)
        for k in range(n_directions):
            if not active:
                break
            cands = [runs[r].candidate(runs[r].polls[k]) for r in active]
            values = evaluate(cands)
            still = []
            for r, c, v in zip(active, cands, values, strict=True):
                run = runs[r]
                run.note(c, float(v))
                if v < run.fx - forcing_constant * run.alpha**2:
                    run.x, run.fx, success[r] = c, float(v), True
                else:
                    still.append(r)
            active = still
        for r, run in enumerate(runs):
            run.alpha = (min(run.alpha * gamma, max_step) if success[r]
                         else run.alpha * contraction)
            history[r, step] = run.best_f
    return DirectSearchResult(
        x=np.stack([run.best_x for run in runs]),
        fun=np.array([run.best_f for run in runs]),
        n_evals=np.array([run.n_evals for run in runs]),
        n_steps=int(max_steps),
        history=history,
        step_size=np.array([run.alpha for run in runs]),
        n_restarts=np.array([run.n_restarts for run in runs]),
    )
