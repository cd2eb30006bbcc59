"""OptimKit's Hager–Zhang line search and the L-BFGS that uses it (the original's default).

The reference implementation here is jaxopt's ``HagerZhangLineSearch`` (jaxopt 0.8), read
in ``jaxopt/_src/hager_zhang_linesearch.py``. It and OptimKit 0.3.1 share the initial step
``α₀ = 1``, the bracketing rules B1/B3 with expansion factor 5, the secant formula and the
Wolfe / approximate Wolfe tests with ``c₁ = 0.1``, ``c₂ = 0.9``. They differ in:

- the approximate-Wolfe threshold: jaxopt ``ϕ₀ + 10⁻⁶ |ϕ₀|``, OptimKit ``ϕ₀ + ϵ`` with
  an absolute ``ϵ = 10⁻⁶`` (we pass ``epsilon = 10⁻⁶ |ϕ₀|`` when comparing);
- when to stop: OptimKit accepts the FIRST trial point that meets either condition set;
  jaxopt's update steps never test the conditions, and after each secant² round it
  accepts the lower end of its bracket if that meets them — already after bracketing,
  so it may take a bracket end that OptimKit never tests;
- B2 and U3 (bisection): jaxopt's loop recomputes the midpoint from the old bracket and
  does not test the conditions; its bisection threshold is 0.66 where OptimKit's is 2/3;
- ``acceptfirst``: jaxopt has none;
- in its L-BFGS, jaxopt starts from ``d = -g`` (OptimKit ``-g/‖g‖``), keeps every pair
  (OptimKit: only when ``sᵀy/sᵀs > ‖g⁺‖/10⁴``) and ignores the initial step it is given.

So full iterate sequences differ (on a quadratic they agree at iteration 1 and part at
iteration 2, when jaxopt accepts a bracket end). What is comparable, and compared to
``10⁻¹²`` relative: the initial bracket ``[a, b]`` and the first secant step from it on
Rosenbrock and a smooth trigonometric function, for directions where B2 does not occur;
and the accepted step on quadratics where neither bracket end can pass jaxopt's test
(``α* < 1/2``), where both searches must return the exact line minimiser.
"""

from __future__ import annotations

import functools
import json

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pyqhn  # noqa: F401  (double precision for JAX)
from pyqhn.checks import InputError
from pyqhn.circuits import brickwork_circuit, random_params
from pyqhn.engines import get_engine
from pyqhn.optimizers import lbfgs, lbfgs_optimizer, minimize
from pyqhn.optimizers.linesearch import approx_wolfe, exact_wolfe, hager_zhang

jaxopt = pytest.importorskip("jaxopt")

C1, C2, EPS = 0.1, 0.9, 1e-6


def _rosenbrock(x):
    return (1 - x[0]) ** 2 + 100 * (x[1] - x[0] ** 2) ** 2


def _trig(x):
    return (jnp.sum(jnp.sin(x) ** 2) + 0.3 * jnp.sum(jnp.cos(x[:-1] - 2 * x[1:]))
            + 0.1 * jnp.sum(x**2))


class Recorder:
    """A batched value-and-grad of a JAX scalar function that records every call."""

    def __init__(self, f):
        self.f, self.calls = f, []
        self._vg = jax.jit(jax.vmap(jax.value_and_grad(f)))

    def __call__(self, x):
        self.calls.append(np.array(x))
        v, g = self._vg(jnp.asarray(x))
        return np.asarray(v), np.asarray(g)


@functools.cache
def _recorder(fun):
    return Recorder(fun)


@functools.cache
def _jaxopt(fun):
    """jaxopt's search for ``fun`` and its bracket and secant routines, compiled once."""
    ls = jaxopt.HagerZhangLineSearch(fun=fun)
    return ls, jax.jit(ls._bracket), jax.jit(ls._secant)


def _search(vg, x, d, **options):
    """One run's Hager–Zhang search from ``x`` (P,) along ``d`` (P,)."""
    f, g = vg(x[None])
    return hager_zhang(vg, x[None], f, g, d[None], np.array([g[0] @ d]), np.ones(1),
                       np.ones(1, bool), **options)


SCALES = [1e-3, 1e-2, 0.1, 1.0, 0.02, 0.3, 3.0, 10.0]
CASES = ([(_rosenbrock, 2, seed, scale) for seed, scale in enumerate(SCALES)]
         + [(_trig, 6, seed, scale) for seed, scale in enumerate(SCALES)])


def test_bracket_and_first_secant_step_match_jaxopt():
    """From the same x, d and α₀ = 1, OptimKit's bracket [a, b] (B1/B3) and its first
    secant step are jaxopt's, on Rosenbrock and a trigonometric function, d = -scale·g."""
    n_expanded = n_compared = 0
    for fun, p, seed, scale in CASES:
        x = np.random.default_rng(seed).normal(size=p)
        vg = _recorder(fun)
        f0, g0 = (a[0] for a in vg(x[None]))
        d = -scale * g0
        vg.calls.clear()
        _search(vg, x, d, accept_first=False, epsilon=EPS * abs(f0))
        trials = vg.calls[1:]  # after _search's evaluation at x
        alphas = [float((c[0] - x) @ d / (d @ d)) for c in trials]
        values = [vg(c) for c in trials]
        # OptimKit's bracket from its trial points: expand while ϕ' < 0 and ϕ ≤ ϕ₀ + ϵ
        a, k = 0.0, 0
        while values[k][1][0] @ d < 0 and values[k][0][0] <= f0 + EPS * abs(f0):
            a, k = alphas[k], k + 1
        if values[k][1][0] @ d < 0:  # B2 (bisection), where jaxopt differs: not compared
            continue
        b = alphas[k]
        n_expanded += k > 0
        n_compared += 1

        ls, bracket, secant = _jaxopt(fun)
        threshold = f0 + ls.approximate_wolfe_threshold * abs(f0)
        failed, low, high, _ = bracket(jnp.asarray(x), jnp.asarray(1.0), threshold,
                                       jnp.asarray(d))
        assert not failed
        np.testing.assert_allclose([a, b], [float(low), float(high)], rtol=1e-12, atol=0)
        ref = float(secant(jnp.asarray(x), low, high, jnp.asarray(d)))
        # as points: a step recovered from a point loses precision when it is tiny
        np.testing.assert_allclose(trials[k + 1][0], x + ref * d, rtol=1e-14, atol=1e-15)
    # both B1 at once ([0, α₀]) and B3 (expansion) occur
    assert n_compared >= 10 and 4 <= n_expanded <= n_compared - 2


def _quadratic(p, seed):
    rng = np.random.default_rng(seed)
    q, _ = np.linalg.qr(rng.normal(size=(p, p)))
    a = q @ np.diag(np.linspace(0.5, 20, p)) @ q.T
    b = rng.normal(size=p)
    return a, b


QA, QB = _quadratic(5, 7)


def _quad(x):
    return 0.5 * x @ jnp.asarray(QA) @ x - jnp.asarray(QB) @ x


def test_accepted_step_on_a_quadratic_matches_jaxopt():
    """On a quadratic with line minimiser α* < 1/2 neither bracket end [0, 1] meets the
    Wolfe tests, and both searches must return α* (secant steps are exact there)."""
    vg = _recorder(_quad)
    ls = _jaxopt(_quad)[0]
    run = jax.jit(lambda x, f, g, d: ls.run(1.0, x, value=f, grad=g, descent_direction=d))
    init_state = jax.jit(
        lambda x, f, g, d: ls.init_state(1.0, x, value=f, grad=g, descent_direction=d))
    for target in [1e-3, 0.05, 0.2, 0.45]:
        rng = np.random.default_rng(int(target * 1e3))
        x = rng.normal(size=5)
        f0, g0 = (v[0] for v in vg(x[None]))
        d = -(g0 + 0.3 * rng.normal(size=5))
        assert d @ g0 < 0
        d *= -(g0 @ d) / (d @ QA @ d) / target  # now α* = -gᵀd / dᵀAd = target
        alpha_star = -(g0 @ d) / (d @ QA @ d)

        mine = _search(vg, x, d, accept_first=False, epsilon=EPS * abs(f0))

        args = (jnp.asarray(x), jnp.asarray(f0), jnp.asarray(g0), jnp.asarray(d))
        init = init_state(*args)
        assert not bool(init.done)  # jaxopt does not stop at a bracket end
        ref = run(*args)
        assert not bool(ref.state.failed)
        ref_step = float((np.asarray(ref.state.params) - x) @ d / (d @ d))
        np.testing.assert_allclose(mine.step[0], alpha_star, rtol=1e-12)
        np.testing.assert_allclose(mine.step[0], ref_step, rtol=1e-12)
        np.testing.assert_allclose(mine.x[0], np.asarray(ref.state.params), rtol=0,
                                   atol=1e-12)
        assert mine.n_evals[0] == 2  # α₀ = 1, then the secant step


def test_accept_first_takes_a_wolfe_initial_step():
    """OptimKit's LBFGS accepts α₀ = 1 when it meets the approximate Wolfe conditions
    (here α* = 0.8: ϕ(1) < ϕ₀ and 0 ≤ ϕ'(1) ≤ 0.8|ϕ'₀|); without it, it finds α*."""
    a, b = _quadratic(4, 3)
    vg = lambda x: (0.5 * np.einsum("rp,pq,rq->r", x, a, x) - x @ b, x @ a - b)  # noqa: E731
    x = np.ones(4)
    g = x @ a - b
    d = -g * (g @ g) / (g @ a @ g) / 0.8
    first = _search(vg, x, d)
    np.testing.assert_array_equal(first.step, [1.0])
    assert first.n_evals.tolist() == [1]
    exact = _search(vg, x, d, accept_first=False)
    np.testing.assert_allclose(exact.step, [0.8], rtol=1e-12)


def test_searches_of_many_runs_are_independent_and_share_calls():
    """Eight runs at different phases of their searches: each equals its search alone,
    and the batch makes one call per round (as many as the longest search)."""
    rng = np.random.default_rng(5)
    x = rng.normal(size=(8, 6))
    vg = _recorder(_trig)
    vg.calls.clear()
    f, g = vg(x)
    d = -g * np.array([1e-3, 1e-2, 0.1, 1.0, 3.0, 0.02, 0.3, 30.0])[:, None]
    active = np.ones(8, bool)
    active[3] = False
    vg.calls.clear()
    res = hager_zhang(vg, x, f, g, d, np.einsum("rp,rp->r", d, g), np.ones(8), active)
    assert len(vg.calls) == res.n_evals.max() and len(set(res.n_evals.tolist())) > 2
    np.testing.assert_array_equal(vg.calls[-1][3], x[3])  # the inactive run sits at x
    assert res.n_evals[3] == 0 and res.step[3] == 0 and not res.failed[3]
    for r in np.flatnonzero(active):  # (XLA rounds a batch of 1 and of 8 differently)
        alone = _search(vg, x[r], d[r])
        assert alone.n_evals[0] == res.n_evals[r]
        np.testing.assert_allclose(alone.step[0], res.step[r], rtol=1e-12)
        np.testing.assert_allclose(alone.x[0], res.x[r], rtol=0, atol=1e-12)
    # every accepted step meets the Wolfe or the approximate Wolfe conditions
    dphi0 = np.einsum("rp,rp->r", d, g)
    dphi = np.einsum("rp,rp->r", d, res.g)
    ok = (exact_wolfe(res.f, dphi, res.step, f, dphi0)
          | approx_wolfe(res.f, dphi, f, dphi0))
    assert ok[active].all()


def test_a_search_that_finds_no_point_stops_at_its_cap():
    """Along a direction where f = +inf for every step > 0, OptimKit 0.3.1 would halve
    forever; here the run stops after max_evals, reports failure and does not move."""

    def vg(x):
        f = (x**2).sum(1) + np.where(x[:, 0] > 0, np.inf, 0.0)
        return f, np.full_like(x, -1.0)

    x = np.zeros((2, 3))
    x[1] = -1.0
    f, g = vg(x)
    d = -g
    res = hager_zhang(vg, x, f, g, d, np.einsum("rp,rp->r", d, g), np.ones(2),
                      np.ones(2, bool), max_evals=30)
    assert res.failed.tolist() == [True, False] and res.n_evals[0] == 30
    np.testing.assert_array_equal(res.x[0], x[0])
    assert 0 < res.step[1] <= 1 and np.isfinite(res.f[1])


# ---------------------------------------------------------------------------------------
# L-BFGS with Hager–Zhang on the circuit energy


def _circuit_problem(runs=4):
    circuit = brickwork_circuit(5, 2)
    cost = np.random.default_rng(0).normal(size=2**5)
    fn = get_engine("exact").energy_and_grad_fn(circuit, cost)
    return fn, random_params(circuit, runs, seed=3)


def test_lbfgs_on_a_circuit_converges_with_wolfe_steps():
    fn, x0 = _circuit_problem()
    calls = []

    def recorded(x):
        calls.append(np.array(x))
        return fn(x)

    states = []
    state, history = minimize(lbfgs_optimizer(), recorded, x0,
                              callback=lambda k, s: states.append(s))
    assert state.converged.all() and (state.grad_norm < 1e-6).all()
    assert not state.line_search_failed.any()
    n_steps = 0
    for old, new in zip(states[:-1], states[1:], strict=True):
        moved = new.n_iter > old.n_iter
        s = new.x - old.x
        # the conditions are homogeneous in the step: α ϕ'(0) = gᵀs, α ϕ'(α) = g⁺ᵀs
        slope0 = np.einsum("rp,rp->r", old.g, s)
        slope = np.einsum("rp,rp->r", new.g, s)
        wolfe = (new.f <= old.f + C1 * slope0) & (slope > C2 * slope0)
        approx = ((new.f <= old.f + EPS) & ((2 * C1 - 1) * slope0 >= slope)
                  & (slope >= C2 * slope0))
        assert (wolfe | approx)[moved].all()
        assert (slope0[moved] < 0).all()
        n_steps += moved.sum()
    assert n_steps == state.n_iter.sum() > 40
    # the first trial is a unit step along -g/|g| (OptimKit 0.3.1)
    g0 = states[0].g
    np.testing.assert_allclose(calls[1], x0 - g0 / np.linalg.norm(g0, axis=1)[:, None],
                               rtol=0, atol=1e-15)


def test_lbfgs_runs_together_equal_runs_alone():
    fn, x0 = _circuit_problem()
    together = lbfgs(fn, x0)
    for r in range(len(x0)):
        alone = lbfgs(fn, x0[r])
        np.testing.assert_allclose(alone.x[0], together.x[r], rtol=0, atol=1e-12)
        np.testing.assert_allclose(alone.history[0], together.history[r], rtol=0,
                                   atol=1e-12)
        assert alone.n_iter[0] == together.n_iter[r]
        assert alone.n_evals[0] == together.n_evals[r]


def test_optimkit_storage_rule_and_memory():
    """Memory 8 by default; with the tiny memory 2 the pairs roll over, and a run keeps
    only pairs with sᵀy / sᵀs > ‖g⁺‖ / 10⁴ (all on this circuit: its curvature is O(1))."""
    fn, x0 = _circuit_problem(2)
    opt = lbfgs_optimizer(memory_size=2, max_iter=6)
    state, _ = minimize(opt, fn, x0)
    assert state.s_hist.shape == (2, 2, x0.shape[1])
    assert (state.rho > 0).all()
    sy = np.einsum("rmp,rmp->rm", state.s_hist, state.y_hist)
    np.testing.assert_allclose(state.rho, 1 / sy, rtol=1e-12)
    assert lbfgs_optimizer().init(fn, x0, np.arange(2)).s_hist.shape[1] == 8


# ---------------------------------------------------------------------------------------
# settings


OPTIMKIT = {"gtol": 1e-6, "max_iter": 500, "memory_size": 8, "line_search": "hager-zhang",
            "hz_c1": 0.1, "hz_c2": 0.9, "hz_epsilon": 1e-6, "hz_theta": 0.5,
            "hz_gamma": 2 / 3, "hz_rho": 5.0, "accept_first": True, "first_step": 1.0,
            "ls_max_iter": None, "ls_max_evals": 100}


def test_default_settings_are_optimkits_and_armijo_keeps_the_old_record():
    settings = dict(lbfgs_optimizer().settings)
    assert settings == OPTIMKIT
    assert json.dumps(settings, allow_nan=False) == json.dumps(
        dict(lbfgs_optimizer().settings), allow_nan=False)
    # what pyqhn recorded before, so that old run folders still resume with these options
    assert dict(lbfgs_optimizer(line_search="armijo", memory_size=10).settings) == {
        "gtol": 1e-6, "max_iter": 500, "memory_size": 10,
        "line_search": "backtracking-armijo", "armijo": 1e-4, "max_backtracks": 40}


@pytest.mark.parametrize(
    "option, value",
    [("line_search", "wolfe"), ("line_search", None), ("hz_c1", 0.5), ("hz_c1", 0.0),
     ("hz_c2", 0.5), ("hz_c2", 1.0), ("hz_epsilon", -1e-9), ("hz_theta", 1.0),
     ("hz_gamma", 0.0), ("hz_rho", 1.0), ("accept_first", "yes"), ("first_step", 0.0),
     ("ls_max_iter", 0), ("ls_max_evals", 0), ("memory_size", 0)],
)
def test_bad_options_are_input_errors_naming_the_option(option, value):
    with pytest.raises(InputError, match=option):
        lbfgs_optimizer(**{option: value})
