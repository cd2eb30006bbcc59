"""L-BFGS on exact gradients, many starting points advanced in lockstep.

The original runs used OptimKit.jl's ``LBFGS(gradtol = 1e-6, maxiter = 500)`` (OptimKit
0.3.1, the release current when the study ran): memory ``m = 8``, its Hager–Zhang line
search with the first step accepted when it satisfies the (approximate) Wolfe conditions.
Those are the defaults here (``line_search="hager-zhang"``); pyqhn's earlier backtracking
Armijo search (memory 10) stays available as ``line_search="armijo"``.

Why not scipy or optax: SciPy's L-BFGS-B runs one start at a time, and optax's L-BFGS
inlines the objective several times into its line search, which made XLA compile the
circuit for ~25 s on 2 cores. Here the two-loop recursion (Nocedal & Wright, Algorithm 7.4)
and the line searches (:mod:`pyqhn.optimizers.linesearch`) run in NumPy on ``(R, P)``
arrays, and every trial point of every run is evaluated in ONE call of a batched
``value_and_grad`` — a single compiled kernel, on a GPU when JAX has one.

One iteration of run ``r`` with iterate ``x``, gradient ``g`` and stored pairs
``(s_i, y_i)`` (``H₀ = (sᵀy / yᵀy) I`` from the newest pair in both variants):

``line_search="hager-zhang"`` (OptimKit's ``src/lbfgs.jl``, 0.3.1)
    1. ``d = -H g`` by the two-loop recursion; with no stored pair ``d = -first_step ·
       g / ‖g‖`` (OptimKit 0.3.1: a unit step, ``first_step = 1``; 0.4+: 0.01).
    2. :func:`~pyqhn.optimizers.linesearch.hager_zhang` from ``α₀ = 1`` with
       ``accept_first``.
    3. Store ``s = x⁺ - x``, ``y = g⁺ - g`` when ``sᵀy / sᵀs > ‖g⁺‖ / 10⁴`` (OptimKit's
       cautious update; oldest pair dropped beyond ``memory_size``).

``line_search="armijo"`` (pyqhn before; give ``memory_size=10`` for its old numbers)
    1. ``d = -H g`` (``d = -g`` with no pairs).
    2. :func:`~pyqhn.optimizers.linesearch.backtracking_armijo` from ``t = 1``, or
       ``min(1, 1/‖g‖)`` with no stored pairs.
    3. Store the pair when ``sᵀy > 10⁻¹² ‖s‖ ‖y‖``.

In both, if ``dᵀg ≥ 0`` the pairs are dropped and the first-iteration direction is used
(OptimKit 0.3.1 raises an error there; with positive ``sᵀy`` it cannot happen but by
rounding). A run stops (its parameters freeze) when ``‖g‖₂ < gtol``, after ``max_iter``
iterations, when its line search finds no step (Armijo: no decrease; Hager–Zhang: a zero
step, which OptimKit would repeat until ``max_iter``), or when its value is not finite.
"""

from __future__ import annotations

import functools
import time
from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..checks import InputError, check_float, check_int
from .base import (
    BatchedValueAndGrad,
    Optimizer,
    call_value_and_grad,
    minimize,
)
from .linesearch import (
    HZ_DEFAULTS,
    LineSearch,
    LineSearchResult,
    backtracking_armijo,
    hager_zhang,
)

__all__ = [
    "LINE_SEARCHES",
    "LBFGSResult",
    "LBFGSState",
    "LineSearch",
    "LineSearchResult",
    "backtracking_armijo",
    "hager_zhang",
    "lbfgs",
    "lbfgs_optimizer",
]

#: Line searches of :func:`lbfgs_optimizer`; the first is the default (the original's).
LINE_SEARCHES = ("hager-zhang", "armijo")


class LBFGSResult(NamedTuple):
    """Outcome of :func:`lbfgs` for ``R`` runs with ``P`` parameters.

    Attributes:
        x: ``(R, P)`` final parameters.
        fun: ``(R,)`` final values.
        grad_norm: ``(R,)`` final gradient 2-norms.
        n_iter: ``(R,)`` iterations each run took.
        n_evals: ``(R,)`` objective-and-gradient evaluations each run used.
        converged: ``(R,)`` whether ``grad_norm < gtol``.
        history: ``(R, max_iter + 1)`` value per iteration (entry 0 the initial value),
            padded with the final value after a run stops.
        wall_time: seconds for the whole batch.
    """

    x: np.ndarray
    fun: np.ndarray
    grad_norm: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    history: np.ndarray
    wall_time: float


class LBFGSState(NamedTuple):
    """State of :func:`lbfgs_optimizer` for ``R`` runs, ``P`` parameters, memory ``m``.

    Attributes:
        x: ``(R, P)`` iterates.
        f: ``(R,)`` values at ``x``.
        g: ``(R, P)`` gradients at ``x``.
        done: ``(R,)`` run stopped (converged, out of iterations, line search failed,
            non-finite value, or stopped by the driver).
        n_iter: ``(R,)`` iterations taken (a failed line search is not one).
        n_evals: ``(R,)`` value-and-gradient evaluations used (initial point included).
        converged: ``(R,)`` ``grad_norm < gtol``.
        grad_norm: ``(R,)`` ``‖g‖₂``.
        s_hist, y_hist: ``(R, m, P)`` curvature pairs, oldest first (zeros where unused).
        rho: ``(R, m)`` ``1 / sᵢᵀyᵢ`` (zero where unused).
        line_search_failed: ``(R,)`` the run stopped because its line search found no
            step (Armijo: no sufficient decrease; Hager–Zhang: a zero step).
    """

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    grad_norm: np.ndarray
    s_hist: np.ndarray
    y_hist: np.ndarray
    rho: np.ndarray
    line_search_failed: np.ndarray


def _two_loop(g, s_hist, y_hist, rho):
    """``H·g`` by the L-BFGS two-loop recursion; histories ``(R, m, P)`` oldest first."""
    q = g.copy()
    m = s_hist.shape[1]
    alpha = np.zeros(rho.shape)
    for i in range(m - 1, -1, -1):
        alpha[:, i] = rho[:, i] * np.einsum("rp,rp->r", s_hist[:, i], q)
        q -= alpha[:, i, None] * y_hist[:, i]
    sy = np.einsum("rp,rp->r", s_hist[:, -1], y_hist[:, -1])
    yy = np.einsum("rp,rp->r", y_hist[:, -1], y_hist[:, -1])
    gamma = np.where(yy > 0, sy / np.where(yy > 0, yy, 1.0), 1.0)
    r = gamma[:, None] * q
    for i in range(m):
        beta = rho[:, i] * np.einsum("rp,rp->r", y_hist[:, i], r)
        r += s_hist[:, i] * (alpha[:, i] - beta)[:, None]
    return r


def _check_line_search(line_search: str) -> str:
    if not isinstance(line_search, str) or line_search not in LINE_SEARCHES:
        raise InputError(
            f"line_search must be one of {', '.join(LINE_SEARCHES)}, got {line_search!r}; "
            "'hager-zhang' is OptimKit's (the original's), 'armijo' pyqhn's earlier one"
        )
    return line_search


def lbfgs_optimizer(
    *,
    gtol: float = 1e-6,
    max_iter: int = 500,
    memory_size: int = 8,
    line_search: str = "hager-zhang",
    armijo: float = 1e-4,
    max_backtracks: int = 40,
    hz_c1: float = HZ_DEFAULTS["c1"],
    hz_c2: float = HZ_DEFAULTS["c2"],
    hz_epsilon: float = HZ_DEFAULTS["epsilon"],
    hz_theta: float = HZ_DEFAULTS["theta"],
    hz_gamma: float = HZ_DEFAULTS["gamma"],
    hz_rho: float = HZ_DEFAULTS["rho"],
    accept_first: bool = True,
    first_step: float = 1.0,
    ls_max_iter: int | None = None,
    ls_max_evals: int = 100,
) -> Optimizer:
    """L-BFGS with OptimKit's Hager–Zhang (default) or a backtracking Armijo line search,
    as an ``init``/``step`` pair.

    ``fun`` is a :data:`~pyqhn.optimizers.base.BatchedValueAndGrad` and is always called
    with all ``R`` rows (done runs at their frozen point, their results discarded and not
    counted), so a compiled objective sees one shape. One ``step`` is one iteration (see
    the module docstring); the state is an :class:`LBFGSState`. The defaults are the
    original's, OptimKit 0.3.1's ``LBFGS(gradtol = 1e-6, maxiter = 500)``.

    Args:
        gtol: stop a run when ``‖g‖₂ < gtol`` (finite, > 0; original: 1e-6).
        max_iter: iteration budget per run (>= 0; original: 500).
        memory_size: stored curvature pairs (>= 1; original: 8; pyqhn's Armijo runs: 10).
        line_search: ``"hager-zhang"`` (original) or ``"armijo"``.
        armijo: Armijo only: sufficient-decrease constant, in ``(0, 1)``.
        max_backtracks: Armijo only: step halvings before a run's search gives up (>= 1).
        hz_c1: Hager–Zhang only: Wolfe constant ``c₁``, ``0 < c₁ < 1/2`` (original: 0.1).
        hz_c2: Hager–Zhang only: Wolfe constant ``c₂``, ``1/2 < c₂ < 1`` (original: 0.9).
        hz_epsilon: Hager–Zhang only: absolute allowed increase ``ϵ ≥ 0`` of the
            approximate Wolfe conditions (original: 1e-6).
        hz_theta: Hager–Zhang only: bisection point, in ``(0, 1)`` (original: 1/2).
        hz_gamma: Hager–Zhang only: the bracket shrink below which a bisection follows,
            in ``(0, 1)`` (original: 2/3).
        hz_rho: bracket expansion factor, > 1 (original: 5).
        accept_first: accept the first trial step if it satisfies the (approximate)
            Wolfe conditions (original: true).
        first_step: length of the first step, along ``-g/‖g‖``, while no pair is stored
            (> 0; OptimKit 0.3.1: 1, 0.4+: 0.01).
        ls_max_iter: secant² iterations per search (``None``: no limit, as OptimKit
            0.3.1; 0.4+ has 10).
        ls_max_evals: evaluations per search before a run takes its current bracket's
            left end (>= 1; OptimKit 0.3.1 has no cap).

    Every option is checked (:class:`~pyqhn.checks.InputError` naming it); only the chosen
    line search's are recorded in ``settings`` (JSON-able; with ``line_search="armijo"``
    they are the settings pyqhn recorded before Hager–Zhang existed).

    Example:
        >>> from pyqhn.optimizers import minimize
        >>> vg = lambda x: ((x**2).sum(1), 2 * x)
        >>> state, history = minimize(lbfgs_optimizer(), vg, np.ones((3, 4)))
        >>> bool(state.f.max() < 1e-12), state.converged.tolist()
        (True, [True, True, True])
    """
    gtol = check_float(gtol, "gtol", low=0.0, low_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    memory_size = check_int(memory_size, "memory_size", minimum=1)
    line_search = _check_line_search(line_search)
    settings: dict = {"gtol": gtol, "max_iter": max_iter, "memory_size": memory_size}
    armijo = check_float(armijo, "armijo", low=0.0, high=1.0, low_inclusive=False,
                         high_inclusive=False)
    max_backtracks = check_int(max_backtracks, "max_backtracks", minimum=1)
    hz_c1 = check_float(hz_c1, "hz_c1", low=0.0, high=0.5, low_inclusive=False,
                        high_inclusive=False)
    hz_c2 = check_float(hz_c2, "hz_c2", low=0.5, high=1.0, low_inclusive=False,
                        high_inclusive=False)
    hz_epsilon = check_float(hz_epsilon, "hz_epsilon", low=0.0)
    hz_theta = check_float(hz_theta, "hz_theta", low=0.0, high=1.0, low_inclusive=False,
                           high_inclusive=False)
    hz_gamma = check_float(hz_gamma, "hz_gamma", low=0.0, high=1.0, low_inclusive=False,
                           high_inclusive=False)
    hz_rho = check_float(hz_rho, "hz_rho", low=1.0, low_inclusive=False)
    if not isinstance(accept_first, (bool, np.bool_)):
        raise InputError(f"accept_first must be True or False, got {accept_first!r}")
    accept_first = bool(accept_first)
    first_step = check_float(first_step, "first_step", low=0.0, low_inclusive=False)
    if ls_max_iter is not None:
        ls_max_iter = check_int(ls_max_iter, "ls_max_iter", minimum=1)
    ls_max_evals = check_int(ls_max_evals, "ls_max_evals", minimum=1)
    if line_search == "armijo":
        search: LineSearch = functools.partial(
            backtracking_armijo, armijo=armijo, max_backtracks=max_backtracks
        )
        settings.update(line_search="backtracking-armijo", armijo=armijo,
                        max_backtracks=max_backtracks)
    else:
        search = functools.partial(
            hager_zhang, c1=hz_c1, c2=hz_c2, epsilon=hz_epsilon, theta=hz_theta,
            gamma=hz_gamma, rho=hz_rho, accept_first=accept_first, max_iter=ls_max_iter,
            max_evals=ls_max_evals,
        )
        settings.update(line_search="hager-zhang", hz_c1=hz_c1, hz_c2=hz_c2,
                        hz_epsilon=hz_epsilon, hz_theta=hz_theta, hz_gamma=hz_gamma,
                        hz_rho=hz_rho, accept_first=accept_first, first_step=first_step,
                        ls_max_iter=ls_max_iter, ls_max_evals=ls_max_evals)
    optimkit = line_search == "hager-zhang"

    def init(fun: BatchedValueAndGrad, x0: np.ndarray, seeds: np.ndarray) -> LBFGSState:
        x = np.array(x0, dtype=np.float64)
        r, p = x.shape
        f, g = call_value_and_grad(fun, x)
        gnorm = np.linalg.norm(g, axis=1)
        n_iter = np.zeros(r, dtype=np.int64)
        return LBFGSState(
            x=x, f=f, g=g,
            done=~((gnorm >= gtol) & np.isfinite(f)) | (n_iter >= max_iter),
            n_iter=n_iter,
            n_evals=np.ones(r, dtype=np.int64),
            converged=gnorm < gtol,
            grad_norm=gnorm,
            s_hist=np.zeros((r, memory_size, p)),
            y_hist=np.zeros((r, memory_size, p)),
            rho=np.zeros((r, memory_size)),
            line_search_failed=np.zeros(r, dtype=bool),
        )

    def directions(g: np.ndarray, gnorm: np.ndarray, s_hist: np.ndarray,
                   y_hist: np.ndarray, rho: np.ndarray,
                   active: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
        """Search directions ``(R, P)``, slopes ``(R,)``, first steps ``(R,)``; resets the
        pairs (in place) of active runs without a descent direction."""
        d = -_two_loop(g, s_hist, y_hist, rho)
        if optimkit:  # no pairs: -first_step g/|g| (OptimKit), from α₀ = 1
            unit = -first_step * g / np.where(gnorm > 0, gnorm, 1.0)[:, None]
            empty = ~rho.any(axis=1)
            d[empty] = unit[empty]
        slope = np.einsum("rp,rp->r", d, g)
        bad = active & ~(slope < 0)  # not a descent direction: restart from steepest descent
        if bad.any():
            if optimkit:
                d[bad] = unit[bad]
                slope[bad] = np.einsum("rp,rp->r", d[bad], g[bad])
            else:
                d[bad] = -g[bad]
                slope[bad] = -gnorm[bad] ** 2
            rho[bad] = 0.0
            s_hist[bad] = 0.0
            y_hist[bad] = 0.0
        if optimkit:
            step0 = np.ones(len(g))
        else:
            first = ~rho.any(axis=1)
            step0 = np.where(first, np.minimum(1.0, 1.0 / np.maximum(gnorm, 1e-300)), 1.0)
        return d, slope, step0

    def step(fun: BatchedValueAndGrad, state: LBFGSState) -> LBFGSState:
        active = ~np.asarray(state.done, dtype=bool)
        if not active.any():
            return state
        x, f, g, gnorm = state.x, state.f, state.g, state.grad_norm
        s_hist, y_hist, rho = state.s_hist.copy(), state.y_hist.copy(), state.rho.copy()

        d, slope, step0 = directions(g, gnorm, s_hist, y_hist, rho, active)
        ls = search(fun, x, f, g, d, slope, step0, active)
        moved = active & ~ls.failed
        s = ls.x - x
        y = ls.g - g
        sy = np.einsum("rp,rp->r", s, y)
        gnorm = np.linalg.norm(ls.g, axis=1)
        if optimkit:  # OptimKit's cautious update: sᵀy / sᵀs > ‖g⁺‖ / 10⁴
            ss = np.einsum("rp,rp->r", s, s)
            with np.errstate(divide="ignore", invalid="ignore"):
                store = moved & (sy / ss > gnorm / 10000)
        else:
            store = moved & (sy > 1e-12 * np.linalg.norm(s, axis=1)
                             * np.linalg.norm(y, axis=1))
        if store.any():
            s_hist[store] = np.roll(s_hist[store], -1, axis=1)
            y_hist[store] = np.roll(y_hist[store], -1, axis=1)
            rho[store] = np.roll(rho[store], -1, axis=1)
            s_hist[store, -1] = s[store]
            y_hist[store, -1] = y[store]
            rho[store, -1] = 1.0 / sy[store]
        n_iter = state.n_iter + moved
        keep_going = moved & (gnorm >= gtol) & np.isfinite(ls.f) & (n_iter < max_iter)
        return LBFGSState(
            x=ls.x, f=ls.f, g=ls.g,
            done=state.done | ~keep_going,
            n_iter=n_iter,
            n_evals=state.n_evals + ls.n_evals,
            converged=gnorm < gtol,
            grad_norm=gnorm,
            s_hist=s_hist, y_hist=y_hist, rho=rho,
            line_search_failed=state.line_search_failed | (active & ls.failed),
        )

    return Optimizer(name="lbfgs", uses_gradient=True, init=init, step=step,
                     settings=settings)


def lbfgs(
    value_and_grad: BatchedValueAndGrad,
    x0: np.ndarray,
    *,
    gtol: float = 1e-6,
    max_iter: int = 500,
    memory_size: int = 8,
    line_search: str = "hager-zhang",
    armijo: float = 1e-4,
    max_backtracks: int = 40,
    accept_first: bool = True,
    first_step: float = 1.0,
    callback: Callable[[int, np.ndarray], None] | None = None,
) -> LBFGSResult:
    """Minimise from every row of ``x0`` with L-BFGS: :func:`lbfgs_optimizer` run by
    :func:`~pyqhn.optimizers.base.minimize`, its result in one record (the Hager–Zhang
    constants at OptimKit's defaults; use :func:`lbfgs_optimizer` to change them).

    Args:
        value_and_grad: maps ``(R, P)`` points to values ``(R,)`` and gradients ``(R, P)``
            (e.g. a batched engine's ``energy_and_grad`` with the circuit and cost bound).
        x0: starting points ``(R, P)``, or ``(P,)`` for one run.
        gtol: stop a run when the 2-norm of its gradient is below this (original: 1e-6).
        max_iter: iteration budget per run (original: 500).
        memory_size: stored curvature pairs (original: 8).
        line_search: ``"hager-zhang"`` (original) or ``"armijo"``.
        armijo: the Armijo search's sufficient-decrease constant.
        max_backtracks: the Armijo search's step halvings.
        accept_first: see :func:`lbfgs_optimizer` (Hager–Zhang only).
        first_step: see :func:`lbfgs_optimizer` (Hager–Zhang only).
        callback: called after every iteration with ``(iteration, values (R,))``.

    Returns:
        An :class:`LBFGSResult` (always with a leading run axis).

    Example:
        >>> f = lambda x: ((x**2).sum(1), 2 * x)
        >>> bool(lbfgs(f, np.ones((3, 4))).fun.max() < 1e-12)
        True
    """
    opt = lbfgs_optimizer(gtol=gtol, max_iter=max_iter, memory_size=memory_size,
                          line_search=line_search, armijo=armijo,
                          max_backtracks=max_backtracks, accept_first=accept_first,
                          first_step=first_step)

    def cb(k: int, state: LBFGSState) -> None:
        if callback is not None and k > 0:
            callback(k, state.f)

    t0 = time.perf_counter()
    state, history = minimize(opt, value_and_grad, x0, callback=cb)
    n_pad = opt.settings["max_iter"] + 1 - history.shape[1]
    if n_pad > 0:
        history = np.concatenate([history, np.repeat(history[:, -1:], n_pad, axis=1)], axis=1)
    return LBFGSResult(
        x=state.x,
        fun=state.f,
        grad_norm=state.grad_norm,
        n_iter=state.n_iter,
        n_evals=state.n_evals,
        converged=state.converged,
        history=history,
        wall_time=time.perf_counter() - t0,
    )
