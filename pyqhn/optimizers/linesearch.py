"""Line searches of many runs at once: OptimKit's Hager–Zhang and backtracking Armijo.

Both search along directions ``d`` ``(R, P)`` from points ``x`` ``(R, P)`` with values ``f``
``(R,)``, gradients ``g`` ``(R, P)`` and slopes ``dϕ₀ = dᵀg < 0`` ``(R,)``, and follow the
:data:`LineSearch` signature. Every round evaluates the trial points of ALL searching runs
in ONE call of the batched ``value_and_grad`` on all ``R`` rows (runs not searching sit at
their ``x``, their results discarded and not counted): one array shape, one compiled kernel.

:func:`hager_zhang` — the original's line search
    OptimKit.jl 0.3.1 ``HagerZhangLineSearch`` (``src/linesearches.jl``; Hager & Zhang,
    Algorithm 851 CG_DESCENT, ACM TOMS 32, 2006), which OptimKit's ``LBFGS`` uses, with
    its defaults ``c₁ = 0.1``, ``c₂ = 0.9``, ``ϵ = 10⁻⁶``, ``θ = 1/2``, ``γ = 2/3``,
    ``ρ = 5``. With ``ϕ(α) = f(x + α d)``, a step ``c`` is accepted when it satisfies the
    Wolfe conditions ``ϕ(c) ≤ ϕ(0) + c₁ c ϕ'(0)`` and ``ϕ'(c) > c₂ ϕ'(0)``, or the
    approximate Wolfe conditions ``ϕ(c) ≤ ϕ(0) + ϵ`` (an ABSOLUTE ``ϵ``; the paper scales it
    by ``|ϕ(0)|``) and ``(2c₁ - 1) ϕ'(0) ≥ ϕ'(c) ≥ c₂ ϕ'(0)``:

    - L0: evaluate the initial step ``α₀``; with ``accept_first`` (OptimKit's LBFGS sets
      ``acceptfirst = true``) accept it if it satisfies either condition set. Otherwise
      bracket: while ``ϕ'(c) < 0`` and ``ϕ(c) ≤ ϕ(0) + ϵ`` move ``a = c`` and expand
      ``c ← ρ c`` (B3); ``ϕ'(c) ≥ 0`` gives ``[a, c]`` (B1); ``ϕ(c) > ϕ(0) + ϵ`` bisects
      ``[0, c]`` (B2, the U3 steps below). Non-finite ``ϕ(c)`` or ``ϕ'(c)``: ``c ← (a + c)/2``.
    - L1 (secant²): ``c = (a ϕ'(b) - b ϕ'(a)) / (ϕ'(b) - ϕ'(a))``, update ``[a, b]`` with
      ``c`` (U0–U3); if ``c`` became an end, a second secant through the old and new end.
    - L2: if the bracket shrank by less than ``γ``, update with its midpoint.
    - update ``[a, b]`` with ``c``: skip unless ``a < c < b`` (U0); accept ``c`` if it
      satisfies either condition set; ``ϕ'(c) ≥ 0`` → ``[a, c]`` (U1); ``ϕ(c) ≤ ϕ(0) + ϵ``
      → ``[c, b]`` (U2); else (U3) evaluate ``d = (1-θ) a + θ c`` repeatedly, accepting ``d``,
      or returning ``[a, d]`` when ``ϕ'(d) ≥ 0``, or moving ``a = d`` when
      ``ϕ(d) ≤ ϕ(0) + ϵ``, else ``c = d``; stop when ``c - a < eps``.
    - the search returns the left end ``a`` when the bracket collapses (``a = b``: a step
      was accepted) or when ``b - a < eps = 2.2·10⁻¹⁶``.

    Each run's search is a generator (:class:`_HagerZhangRun`) mirroring OptimKit's
    functions one to one; all runs' pending trial steps — whatever phase each run is in —
    are evaluated together. Where it departs from OptimKit 0.3.1 (none of it changes a
    search that OptimKit completes): a run stops after ``max_evals`` evaluations (100;
    OptimKit 0.3.1 has no cap, 0.4+ has ``maxfg``) returning its current left end; a
    non-finite value inside an update is treated as "too high" (U3) where OptimKit fails an
    assertion; a search that ends at ``α = 0`` is reported as failed (OptimKit would
    repeat the same zero step until its iteration budget).

:func:`backtracking_armijo` — pyqhn's earlier line search, kept as an option
    Halve ``t`` from ``t₀`` until ``f(x + t d) ≤ f(x) + c₁ t dᵀg``.

Why hand-written: no maintained Python library offers a Hager–Zhang search batched over
independent runs with OptimKit's rules (jaxopt's differs, see tests/test_linesearch.py).
"""

from __future__ import annotations

from collections.abc import Callable, Generator
from typing import NamedTuple

import numpy as np

from .base import BatchedValueAndGrad, call_value_and_grad

__all__ = [
    "HZ_DEFAULTS",
    "LineSearch",
    "LineSearchResult",
    "approx_wolfe",
    "backtracking_armijo",
    "exact_wolfe",
    "hager_zhang",
]

#: OptimKit 0.3.1's ``HagerZhangLineSearch`` defaults (src/linesearches.jl, lines 243–246).
HZ_DEFAULTS = {"c1": 0.1, "c2": 0.9, "epsilon": 1e-6, "theta": 0.5, "gamma": 2 / 3,
               "rho": 5.0}

#: ``eps(Float64)``: the bracket width at which OptimKit stops bisecting.
_EPS = float(np.finfo(np.float64).eps)


class LineSearchResult(NamedTuple):
    """Outcome of a line search over ``R`` runs.

    Attributes:
        x, f, g: ``(R, P)``, ``(R,)``, ``(R, P)`` accepted points, or the old ones where
            the run was inactive or failed.
        n_evals: ``(R,)`` evaluations the search used per run.
        failed: ``(R,)`` active runs without an acceptable step.
        step: ``(R,)`` accepted step lengths ``α`` (``x_new = x + α d``; 0 where inactive
            or failed).
    """

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    n_evals: np.ndarray
    failed: np.ndarray
    step: np.ndarray | None = None


LineSearch = Callable[
    [BatchedValueAndGrad, np.ndarray, np.ndarray, np.ndarray, np.ndarray, np.ndarray,
     np.ndarray, np.ndarray],
    LineSearchResult,
]
"""``(fun, x, f, g, d, slope, step0, active) -> LineSearchResult``: search along ``d``
(``(R, P)``) with ``slope = dᵀg`` (``(R,)``, negative) from first trial steps ``step0``
(``(R,)``), moving only the ``active`` runs."""


def exact_wolfe(phi: np.ndarray, dphi: np.ndarray, alpha: np.ndarray, phi0: np.ndarray,
                dphi0: np.ndarray, c1: float = 0.1, c2: float = 0.9) -> np.ndarray:
    """OptimKit's ``checkexactwolfe``: ``ϕ ≤ ϕ₀ + c₁ α ϕ'₀`` and ``ϕ' > c₂ ϕ'₀`` (arrays
    broadcast; returns bool)."""
    return (phi <= phi0 + c1 * alpha * dphi0) & (dphi > c2 * dphi0)


def approx_wolfe(phi: np.ndarray, dphi: np.ndarray, phi0: np.ndarray, dphi0: np.ndarray,
                 c1: float = 0.1, c2: float = 0.9, epsilon: float = 1e-6) -> np.ndarray:
    """OptimKit's ``checkapproxwolfe``: ``ϕ ≤ ϕ₀ + ϵ`` and
    ``(2c₁ - 1) ϕ'₀ ≥ ϕ' ≥ c₂ ϕ'₀`` (arrays broadcast; returns bool)."""
    return (phi <= phi0 + epsilon) & ((2 * c1 - 1) * dphi0 >= dphi) & (dphi >= c2 * dphi0)


# --------------------------------------------------------------------------- Armijo


def backtracking_armijo(
    fun: BatchedValueAndGrad,
    x: np.ndarray,
    f: np.ndarray,
    g: np.ndarray,
    d: np.ndarray,
    slope: np.ndarray,
    step0: np.ndarray,
    active: np.ndarray,
    *,
    armijo: float = 1e-4,
    max_backtracks: int = 40,
) -> LineSearchResult:
    """Backtracking Armijo line search of many runs, every trial in ONE batched call.

    Run ``r`` accepts the first ``t ∈ {t₀, t₀/2, t₀/4, …}`` (at most ``max_backtracks``
    trials) with ``f(x + t d)`` finite and ``f(x + t d) ≤ f(x) + armijo · t · dᵀg``. Each
    trial calls ``fun`` on all ``R`` rows (runs not searching any more sit at ``x``: one
    array shape, one compiled kernel); only the searching runs' evaluations are counted.

    Args:
        fun: batched value and gradient, ``(R, P) -> ((R,), (R, P))``.
        x: ``(R, P)`` current points.
        f: ``(R,)`` their values.
        g: ``(R, P)`` their gradients.
        d: ``(R, P)`` search directions.
        slope: ``(R,)`` ``dᵀg``.
        step0: ``(R,)`` first trial steps.
        active: ``(R,)`` runs to search.
        armijo: sufficient-decrease constant ``c₁``.
        max_backtracks: trials per run.

    Returns:
        :class:`LineSearchResult`.

    Example:
        >>> vg = lambda x: ((x**2).sum(1), 2 * x)
        >>> x = np.ones((1, 2)); f, g = vg(x)
        >>> res = backtracking_armijo(vg, x, f, g, -g, -(g * g).sum(1), np.ones(1),
        ...                           np.ones(1, bool))
        >>> res.f.tolist(), res.n_evals.tolist()  # t = 1 overshoots to -1; t = 1/2 hits 0
        ([0.0], [2])
    """
    pending = active.copy()
    n_evals = np.zeros(x.shape[0], dtype=np.int64)
    step = step0
    accepted = np.zeros(x.shape[0])
    x_new, f_new, g_new = x.copy(), f.copy(), g.copy()
    for _ in range(max_backtracks):
        trial = np.where(pending[:, None], x + step[:, None] * d, x)
        ft, gt = call_value_and_grad(fun, trial)
        n_evals += pending
        ok = pending & np.isfinite(ft) & (ft <= f + armijo * step * slope)
        x_new[ok], f_new[ok], g_new[ok] = trial[ok], ft[ok], gt[ok]
        accepted[ok] = step[ok]
        pending &= ~ok
        if not pending.any():
            break
        step = np.where(pending, 0.5 * step, step)
    return LineSearchResult(x=x_new, f=f_new, g=g_new, n_evals=n_evals, failed=pending,
                            step=accepted)


# --------------------------------------------------------------------------- Hager–Zhang


class _Point(NamedTuple):
    """OptimKit's ``LineSearchPoint``: step ``alpha``, ``phi = f(x)``, ``dphi = gᵀd``, and
    the point's ``x`` ``(P,)`` and gradient ``g`` ``(P,)``."""

    alpha: float
    phi: float
    dphi: float
    x: np.ndarray
    g: np.ndarray


# A generator that yields trial steps α, is sent their evaluated _Point, returns a value.
_Search = Generator[float, _Point, "tuple[_Point, _Point]"]


class _HagerZhangRun:
    """One run's Hager–Zhang search: :meth:`search` is OptimKit 0.3.1's line search as a
    generator (``α = yield`` asks for ``ϕ(α)``, ``ϕ'(α)``), its sub-generators OptimKit's
    ``bracket``, ``update``, ``bisect`` and the secant² iteration of the same names.

    ``left`` is the latest left end of the bracket (a point with ``ϕ ≤ ϕ₀ + ϵ``, ``ϕ' < 0``,
    or ``p₀``), the answer when the driver stops the run at its evaluation cap.
    """

    def __init__(self, p0: _Point, alpha0: float, *, c1: float, c2: float, epsilon: float,
                 theta: float, gamma: float, rho: float, accept_first: bool,
                 max_iter: int | None) -> None:
        self.p0, self.alpha0 = p0, alpha0
        self.c1, self.c2, self.epsilon = c1, c2, epsilon
        self.theta, self.gamma, self.rho = theta, gamma, rho
        self.accept_first, self.max_iter = accept_first, max_iter
        self.fmax = p0.phi + epsilon
        self.left = p0

    def _acceptable(self, c: _Point) -> bool:
        p0 = self.p0
        ok = (exact_wolfe(c.phi, c.dphi, c.alpha, p0.phi, p0.dphi, self.c1, self.c2)
              or approx_wolfe(c.phi, c.dphi, p0.phi, p0.dphi, self.c1, self.c2, self.epsilon))
        return bool(ok)

    def _new_left(self, a: _Point) -> _Point:
        self.left = a
        return a

    def search(self) -> Generator[float, _Point, _Point]:
        """OptimKit's ``(ls::HagerZhangLineSearch)(...)`` and ``iterate``: returns the
        accepted point (the bracket's left end)."""
        c = yield self.alpha0  # L0: the initial step
        if self.accept_first and self._acceptable(c):
            return c
        a, b = yield from self._bracket(c)
        k = 1
        while True:
            if a.alpha == b.alpha or b.alpha - a.alpha < _EPS:  # done (or stuck: warned)
                return a
            if self.max_iter is not None and k >= self.max_iter:
                return a
            a, b = yield from self._iteration(a, b)
            k += 1

    def _iteration(self, a: _Point, b: _Point) -> _Search:
        """L1 (secant²) and L2 (bisection if the bracket shrank too little)."""
        d_alpha = b.alpha - a.alpha
        alpha_c = _secant(a.alpha, b.alpha, a.dphi, b.dphi)
        big_a, big_b = yield from self._update(a, b, alpha_c)
        if big_a.alpha == big_b.alpha:
            return big_a, big_b
        if alpha_c == big_b.alpha:
            alpha_c = _secant(b.alpha, big_b.alpha, b.dphi, big_b.dphi)
            a, b = yield from self._update(big_a, big_b, alpha_c)
        elif alpha_c == big_a.alpha:
            alpha_c = _secant(a.alpha, big_a.alpha, a.dphi, big_a.dphi)
            a, b = yield from self._update(big_a, big_b, alpha_c)
        else:
            a, b = big_a, big_b
        if a.alpha == b.alpha:
            return a, b
        if b.alpha - a.alpha > self.gamma * d_alpha:
            a, b = yield from self._update(a, b, (a.alpha + b.alpha) / 2)
        return a, b

    def _update(self, a: _Point, b: _Point, alpha_c: float) -> _Search:
        """U0–U3: shrink ``[a, b]`` (``ϕ'(a) < 0``, ``ϕ(a) ≤ ϕ₀ + ϵ``, ``ϕ'(b) ≥ 0``) with
        the trial step ``alpha_c``."""
        if not (a.alpha < alpha_c < b.alpha):  # U0 (also a NaN secant)
            return a, b
        c = yield alpha_c
        if self._acceptable(c):
            return c, c
        if c.dphi >= 0:  # U1
            return a, c
        if c.dphi < 0 and c.phi <= self.fmax:  # U2
            return self._new_left(c), b
        return (yield from self._bisect(a, c))  # U3 (and a NaN value or slope)

    def _bisect(self, a: _Point, b: _Point) -> _Search:
        """U3: ``ϕ'(a) < 0``, ``ϕ(a) ≤ ϕ₀ + ϵ``, ``ϕ'(b) < 0``, ``ϕ(b) > ϕ₀ + ϵ``."""
        while True:
            if b.alpha - a.alpha < _EPS:
                return a, b
            d = yield (1 - self.theta) * a.alpha + self.theta * b.alpha
            if self._acceptable(d):
                return d, d
            if d.dphi >= 0:  # U3.a
                return a, d
            if d.phi <= self.fmax:  # U3.b
                a = self._new_left(d)
            else:  # U3.c
                b = d

    def _bracket(self, c: _Point) -> _Search:
        """B1–B3 from the evaluated initial step ``c``."""
        a = self.p0
        alpha = c.alpha
        while True:
            while not (np.isfinite(c.phi) and np.isfinite(c.dphi)):
                alpha = (a.alpha + alpha) / 2
                c = yield alpha
            if c.dphi >= 0:  # B1
                return a, c
            if c.phi > self.fmax:  # B2
                return (yield from self._bisect(self.p0, c))
            a = self._new_left(c)  # B3
            alpha *= self.rho
            c = yield alpha


def _secant(a: float, b: float, fa: float, fb: float) -> float:
    """OptimKit's ``secant``: the zero of the line through ``(a, fa)`` and ``(b, fb)``."""
    with np.errstate(divide="ignore", invalid="ignore"):
        return float((np.float64(a) * fb - np.float64(b) * fa) / (np.float64(fb) - fa))


def hager_zhang(
    fun: BatchedValueAndGrad,
    x: np.ndarray,
    f: np.ndarray,
    g: np.ndarray,
    d: np.ndarray,
    slope: np.ndarray,
    step0: np.ndarray,
    active: np.ndarray,
    *,
    c1: float = 0.1,
    c2: float = 0.9,
    epsilon: float = 1e-6,
    theta: float = 0.5,
    gamma: float = 2 / 3,
    rho: float = 5.0,
    accept_first: bool = True,
    max_iter: int | None = None,
    max_evals: int = 100,
) -> LineSearchResult:
    """OptimKit 0.3.1's Hager–Zhang line search for many runs, each round ONE batched call.

    Every active run runs its own search (see the module docstring); each round collects
    the next trial step ``α_r`` of every run still searching and evaluates all points
    ``x_r + α_r d_r`` in one call of ``fun`` on all ``R`` rows (the others at ``x_r``, not
    counted). A run's trial points and result do not depend on the other runs.

    Args:
        fun: batched value and gradient, ``(R, P) -> ((R,), (R, P))``.
        x: ``(R, P)`` current points.
        f: ``(R,)`` their values.
        g: ``(R, P)`` their gradients.
        d: ``(R, P)`` search directions.
        slope: ``(R,)`` ``dᵀg`` (< 0 where active).
        step0: ``(R,)`` initial steps ``α₀`` (OptimKit's LBFGS: 1).
        active: ``(R,)`` runs to search.
        c1: OptimKit's ``c₁`` (sufficient decrease).
        c2: OptimKit's ``c₂`` (curvature).
        epsilon: OptimKit's ``ϵ`` (allowed increase of the approximate Wolfe conditions).
        theta: OptimKit's ``θ`` (bisection point).
        gamma: OptimKit's ``γ`` (bracket shrink that triggers a bisection).
        rho: OptimKit's ``ρ`` (bracket expansion).
        accept_first: accept ``α₀`` if it satisfies the (approximate) Wolfe conditions
            (OptimKit's LBFGS: ``acceptfirst = true``; the search alone: ``false``).
        max_iter: secant² iterations after bracketing (OptimKit 0.3.1: no limit, ``None``).
        max_evals: evaluations per run before it returns its current left end.

    Returns:
        :class:`LineSearchResult`; ``failed`` where the accepted step is 0.

    Example:
        >>> vg = lambda x: ((x**2).sum(1), 2 * x)
        >>> x = np.ones((1, 2)); f, g = vg(x)
        >>> res = hager_zhang(vg, x, f, g, -g, -(g * g).sum(1), np.ones(1), np.ones(1, bool),
        ...                   accept_first=False)
        >>> res.step.tolist(), res.n_evals.tolist()  # bracket [0, 1], secant hits 1/2
        ([0.5], [2])
    """
    r = x.shape[0]
    n_evals = np.zeros(r, dtype=np.int64)
    x_new, f_new, g_new = x.copy(), f.copy(), g.copy()
    step = np.zeros(r)
    failed = np.zeros(r, dtype=bool)
    runs: dict[int, tuple[_HagerZhangRun, Generator[float, _Point, _Point]]] = {}
    alpha: dict[int, float] = {}
    for i in np.flatnonzero(active):
        run = _HagerZhangRun(
            _Point(0.0, float(f[i]), float(slope[i]), x[i], g[i]), float(step0[i]),
            c1=c1, c2=c2, epsilon=epsilon, theta=theta, gamma=gamma, rho=rho,
            accept_first=accept_first, max_iter=max_iter)
        gen = run.search()
        runs[int(i)] = (run, gen)
        alpha[int(i)] = next(gen)

    def finish(i: int, point: _Point) -> None:
        if point.alpha > 0:
            x_new[i], f_new[i], g_new[i], step[i] = point.x, point.phi, point.g, point.alpha
        else:
            failed[i] = True

    while alpha:
        rows = np.fromiter(alpha, dtype=np.int64, count=len(alpha))
        steps = np.fromiter(alpha.values(), dtype=np.float64, count=len(alpha))
        trial = x.copy()
        trial[rows] = x[rows] + steps[:, None] * d[rows]
        ft, gt = call_value_and_grad(fun, trial)
        n_evals[rows] += 1
        for i, a in zip(rows.tolist(), steps.tolist(), strict=True):
            run, gen = runs[i]
            point = _Point(a, float(ft[i]), float(gt[i] @ d[i]), trial[i], gt[i])
            try:
                alpha[i] = gen.send(point)
            except StopIteration as stop:
                del alpha[i]
                finish(i, stop.value)
                continue
            if n_evals[i] >= max_evals:  # the cap OptimKit 0.3.1 lacks
                del alpha[i]
                gen.close()
                finish(i, run.left)
    return LineSearchResult(x=x_new, f=f_new, g=g_new, n_evals=n_evals, failed=failed,
                            step=step)
