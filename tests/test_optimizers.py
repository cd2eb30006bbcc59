"""The init/step optimisers, the minimize loop, and the lbfgs wrapper."""

from __future__ import annotations

import json

import jax.numpy as jnp
import numpy as np
import optax
import pytest

import pyqhn  # noqa: F401  (double precision for JAX)
from pyqhn.optimizers import (
    OPTIMIZERS,
    Optimizer,
    adam_optimizer,
    direct_search_optimizer,
    evaluate_only,
    lbfgs,
    lbfgs_optimizer,
    minimize,
    qnspsa_optimizer,
    spsa_optimizer,
)
from pyqhn.optimizers.base import REQUIRED_FIELDS
from pyqhn.optimizers.lbfgs import backtracking_armijo

# ---------------------------------------------------------------------------------------
# A private copy of the L-BFGS loop before it became an init/step pair: the new one must
# give the same numbers.


def _old_two_loop(g, s_hist, y_hist, rho):
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


def _old_lbfgs(value_and_grad, x0, *, gtol=1e-6, max_iter=500, memory_size=10,
               armijo=1e-4, max_backtracks=40):
    x = np.atleast_2d(np.array(x0, dtype=np.float64))

    def evaluate(points):
        f, g = value_and_grad(points)
        return np.asarray(f, dtype=np.float64), np.asarray(g, dtype=np.float64)

    r, p = x.shape
    f, g = evaluate(x)
    n_evals = np.ones(r, dtype=np.int64)
    s_hist = np.zeros((r, memory_size, p))
    y_hist = np.zeros((r, memory_size, p))
    rho = np.zeros((r, memory_size))
    history = np.empty((r, max_iter + 1))
    history[:, 0] = f
    n_iter = np.zeros(r, dtype=np.int64)
    gnorm = np.linalg.norm(g, axis=1)
    active = (gnorm >= gtol) & np.isfinite(f)

    for it in range(1, max_iter + 1):
        if not active.any():
            history[:, it:] = history[:, it - 1 : it]
            break
        d = -_old_two_loop(g, s_hist, y_hist, rho)
        slope = np.einsum("rp,rp->r", d, g)
        bad = ~(slope < 0)
        if bad.any():
            d[bad] = -g[bad]
            slope[bad] = -gnorm[bad] ** 2
            rho[bad] = 0.0
            s_hist[bad] = 0.0
            y_hist[bad] = 0.0
        first = ~rho.any(axis=1)
        step = np.where(first, np.minimum(1.0, 1.0 / np.maximum(gnorm, 1e-300)), 1.0)

        pending = active.copy()
        x_new, f_new, g_new = x.copy(), f.copy(), g.copy()
        for _ in range(max_backtracks):
            trial = np.where(pending[:, None], x + step[:, None] * d, x)
            ft, gt = evaluate(trial)
            n_evals += pending
            ok = pending & np.isfinite(ft) & (ft <= f + armijo * step * slope)
            x_new[ok], f_new[ok], g_new[ok] = trial[ok], ft[ok], gt[ok]
            pending &= ~ok
            if not pending.any():
                break
            step = np.where(pending, 0.5 * step, step)
        failed = pending

        moved = active & ~failed
        s = x_new - x
        y = g_new - g
        sy = np.einsum("rp,rp->r", s, y)
        store = moved & (sy > 1e-12 * np.linalg.norm(s, axis=1) * np.linalg.norm(y, axis=1))
        if store.any():
            s_hist[store] = np.roll(s_hist[store], -1, axis=1)
            y_hist[store] = np.roll(y_hist[store], -1, axis=1)
            rho[store] = np.roll(rho[store], -1, axis=1)
            s_hist[store, -1] = s[store]
            y_hist[store, -1] = y[store]
            rho[store, -1] = 1.0 / sy[store]
        x, f, g = x_new, f_new, g_new
        n_iter += moved
        gnorm = np.linalg.norm(g, axis=1)
        history[:, it] = f
        active = moved & (gnorm >= gtol)

    return dict(x=x, fun=f, grad_norm=gnorm, n_iter=n_iter, n_evals=n_evals,
                converged=gnorm < gtol, history=history)


# ---------------------------------------------------------------------------------------
# Objectives


def rosenbrock(x):
    a, b = x[:, 0], x[:, 1]
    f = (1 - a) ** 2 + 100 * (b - a**2) ** 2
    g = np.stack([-2 * (1 - a) - 400 * a * (b - a**2), 200 * (b - a**2)], axis=1)
    return f, g


ROSENBROCK_STARTS = np.array([[-1.2, 1.0], [0.5, -0.3], [2.0, 2.0]])


def random_quadratic(p, seed):
    rng = np.random.default_rng(seed)
    m = rng.normal(size=(p, p))
    a = m @ m.T + 0.1 * np.eye(p)
    b = rng.normal(size=p)

    def vg(x):
        return 0.5 * np.einsum("rp,pq,rq->r", x, a, x) - x @ b, x @ a - b

    return vg, np.linalg.solve(a, b)


def wrong_gradient(x):
    """``Σx²`` (infinite for ``x₀ > 1.5``) with a biased gradient: line searches fail."""
    f = (x**2).sum(1) + np.where(x[:, 0] > 1.5, np.inf, 0.0)
    return f, 2 * x + 0.05


class RowRecorder:
    """Wraps a batched objective and records every array of points it is called with."""

    def __init__(self, fun):
        self.fun, self.calls = fun, []

    def __call__(self, x):
        self.calls.append(np.array(x))
        return self.fun(x)


def _assert_same_as_old(vg, x0, **settings):
    """The Armijo option with the old memory (10 unless given) gives the old numbers."""
    settings = {"memory_size": 10, **settings}
    old = _old_lbfgs(vg, x0, **settings)
    new = lbfgs(vg, x0, line_search="armijo", **settings)
    for name in ("x", "fun", "grad_norm", "history"):
        np.testing.assert_allclose(getattr(new, name), old[name], rtol=0, atol=1e-12,
                                   err_msg=name)
    for name in ("n_iter", "n_evals", "converged"):
        np.testing.assert_array_equal(getattr(new, name), old[name], err_msg=name)
    return new


# ---------------------------------------------------------------------------------------
# L-BFGS


def test_lbfgs_equals_old_implementation_on_rosenbrock():
    new = _assert_same_as_old(rosenbrock, ROSENBROCK_STARTS)
    assert new.history.shape == (3, 501)
    # with a small budget every run stops on max_iter; a tiny memory forces roll-overs
    new = _assert_same_as_old(rosenbrock, ROSENBROCK_STARTS, max_iter=7, memory_size=2)
    np.testing.assert_array_equal(new.n_iter, 7)


@pytest.mark.parametrize("seed", [0, 1])
def test_lbfgs_equals_old_implementation_on_quadratic(seed):
    vg, x_star = random_quadratic(8, seed)
    x0 = np.random.default_rng(seed + 10).normal(size=(5, 8))
    new = _assert_same_as_old(vg, x0, memory_size=4)
    assert new.converged.all()
    np.testing.assert_allclose(new.x, np.broadcast_to(x_star, new.x.shape), atol=1e-5)


def test_lbfgs_equals_old_implementation_with_failures_and_infinite_starts():
    x0 = np.random.default_rng(0).uniform(-1, 1.4, (6, 3))
    x0[2] = 0.0  # the claimed gradient 0.05 is no descent direction: line search fails
    x0[3, 0] = 1.6  # infinite value: done at once
    new = _assert_same_as_old(wrong_gradient, x0, max_iter=30, memory_size=3)
    assert new.n_evals[2] == 1 + 40 and new.n_iter[2] == 0 and not new.converged[2]
    assert new.n_evals[3] == 1 and new.n_iter[3] == 0
    _assert_same_as_old(wrong_gradient, x0[:1], max_iter=0)


def test_lbfgs_rosenbrock_batch():
    res = lbfgs(rosenbrock, ROSENBROCK_STARTS, max_iter=500)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-5)
    assert res.converged.all()
    assert np.all(np.diff(res.history, axis=1) <= 1e-15)  # monotone per run


def test_lbfgs_state_reports_failures_and_history_padding():
    x0 = np.zeros((2, 3))
    x0[1] = 0.3
    armijo = dict(line_search="armijo", memory_size=10)
    state, history = minimize(lbfgs_optimizer(max_iter=30, **armijo), wrong_gradient, x0)
    assert set(REQUIRED_FIELDS) <= set(state._fields)
    assert state.done.all()
    assert state.line_search_failed.tolist() == [True, False]
    assert state.converged.tolist() == [False, True]
    assert state.n_iter.tolist() == [0, 2] and history.shape == (2, 3)
    res = lbfgs(wrong_gradient, x0, max_iter=30, **armijo)
    assert res.history.shape == (2, 31)
    pad = res.history[:, history.shape[1]:]
    np.testing.assert_array_equal(pad, np.broadcast_to(res.fun[:, None], pad.shape))


def test_lbfgs_callback_gets_iteration_and_values():
    seen = []
    res = lbfgs(rosenbrock, ROSENBROCK_STARTS, max_iter=5,
                callback=lambda it, values: seen.append((it, values.copy())))
    assert [it for it, _ in seen] == [1, 2, 3, 4, 5]
    np.testing.assert_array_equal(np.stack([v for _, v in seen], 1), res.history[:, 1:])


@pytest.mark.parametrize(
    "setting, value",
    [("gtol", np.nan), ("gtol", 0.0), ("gtol", -1.0), ("gtol", np.inf), ("max_iter", -1),
     ("max_iter", 2.5), ("memory_size", 0), ("armijo", 0.0), ("armijo", 1.0),
     ("max_backtracks", 0)],
)
def test_lbfgs_rejects_bad_settings(setting, value):
    with pytest.raises(ValueError, match=setting):
        lbfgs_optimizer(**{setting: value})
    with pytest.raises(ValueError, match=setting):
        lbfgs(rosenbrock, ROSENBROCK_STARTS, **{setting: value})


def test_lbfgs_done_run_is_never_moved_or_counted_again():
    rec = RowRecorder(rosenbrock)
    stop_after = 3
    frozen = {}

    def stop_run_0(k, state):
        if k == stop_after:
            frozen.update(x=state.x[0].copy(), f=state.f[0], n_evals=state.n_evals[0],
                          n_iter=state.n_iter[0], n_calls=len(rec.calls))
            return state._replace(done=state.done | np.array([True, False, False]))
        return None

    state, history = minimize(lbfgs_optimizer(), rec, ROSENBROCK_STARTS, callback=stop_run_0)
    assert state.done.all() and history.shape[1] > stop_after + 2
    later = np.stack([c[0] for c in rec.calls[frozen["n_calls"]:]])
    assert len(later) > 0
    np.testing.assert_array_equal(later, np.broadcast_to(frozen["x"], later.shape))
    np.testing.assert_array_equal(state.x[0], frozen["x"])
    assert state.f[0] == frozen["f"] and state.n_evals[0] == frozen["n_evals"]
    assert state.n_iter[0] == frozen["n_iter"] == stop_after
    np.testing.assert_array_equal(history[0, stop_after:], frozen["f"])
    # the other runs are unaffected by the stop
    full = lbfgs(rosenbrock, ROSENBROCK_STARTS)
    np.testing.assert_array_equal(state.x[1:], full.x[1:])
    np.testing.assert_array_equal(state.n_evals[1:], full.n_evals[1:])


def test_backtracking_line_search_moves_only_active_runs():
    def vg(x):
        return (x**2).sum(1), 2 * x

    x = np.array([[1.0, 0.0], [2.0, 0.0]])
    f, g = vg(x)
    res = backtracking_armijo(vg, x, f, g, -g, -(g * g).sum(1), np.ones(2),
                              np.array([True, False]))
    np.testing.assert_array_equal(res.x, [[0.0, 0.0], [2.0, 0.0]])
    assert res.n_evals.tolist() == [2, 0] and not res.failed.any()


# ---------------------------------------------------------------------------------------
# Adam


def test_adam_equals_a_plain_optax_loop():
    vg, _ = random_quadratic(5, 3)
    x0 = np.random.default_rng(4).normal(size=(4, 5))
    lr, steps = 0.05, 60
    state, history = minimize(adam_optimizer(learning_rate=lr, max_steps=steps), vg, x0)

    tx = optax.adam(lr)
    x = jnp.asarray(x0)
    opt_state = tx.init(x)
    f, g = vg(np.asarray(x))
    values = [f]
    for _ in range(steps):
        updates, opt_state = tx.update(jnp.asarray(g), opt_state, x)
        x = optax.apply_updates(x, updates)
        f, g = vg(np.asarray(x))
        values.append(f)

    assert history.shape == (4, steps + 1)
    np.testing.assert_allclose(history, np.stack(values, 1), rtol=0, atol=1e-12)
    np.testing.assert_allclose(state.x, np.asarray(x), rtol=0, atol=1e-12)
    np.testing.assert_allclose(state.g, g, rtol=0, atol=1e-12)
    assert state.n_iter.tolist() == [steps] * 4 and state.n_evals.tolist() == [steps + 1] * 4
    assert not state.converged.any()


def test_adam_gtol_and_frozen_runs():
    def vg(x):
        return (x**2).sum(1), 2 * x

    x0 = np.array([[1.0, -1.0], [1e-9, 0.0], [0.5, 0.5]])
    rec = RowRecorder(vg)
    opt = adam_optimizer(learning_rate=0.1, max_steps=50, gtol=1e-6)
    state, history = minimize(opt, rec, x0)
    assert state.n_iter[1] == 0 and state.converged[1] and state.n_evals[1] == 1
    np.testing.assert_array_equal(state.x[1], x0[1])
    assert all(np.array_equal(c[1], x0[1]) for c in rec.calls)
    assert history.shape == (3, 51) and state.n_iter[0] == 50
    with pytest.raises(ValueError, match="learning_rate"):
        adam_optimizer(learning_rate=0.0, max_steps=5)
    with pytest.raises(ValueError, match="max_steps"):
        adam_optimizer(learning_rate=0.1, max_steps=-1)
    with pytest.raises(ValueError, match="gtol"):
        adam_optimizer(learning_rate=0.1, max_steps=5, gtol=np.nan)


# ---------------------------------------------------------------------------------------
# evaluate_only, minimize, registry


def test_evaluate_only():
    calls = []

    def fun(x):
        calls.append(np.array(x))
        return np.cos(x).sum(1)

    x0 = np.random.default_rng(2).normal(size=(4, 3))
    opt = evaluate_only()
    state, history = minimize(opt, fun, x0)
    np.testing.assert_array_equal(state.f, np.cos(x0).sum(1))
    assert len(calls) == 1 and history.shape == (4, 1)
    assert state.done.all() and state.n_evals.tolist() == [1] * 4
    assert state.n_iter.tolist() == [0] * 4 and state.g is None
    assert opt.step(fun, state) is state and len(calls) == 1


@pytest.mark.parametrize(
    "x0, match",
    [(np.array([[0.0, np.nan]]), "NaN"), (np.array([[np.inf, 0.0]]), "infinite"),
     (np.zeros((2, 2, 2)), r"shape \(R, P\)"), (np.zeros((2, 2), complex), "complex"),
     (np.array([["a", "b"]]), "numeric"), (np.zeros((2, 0)), "no parameters"),
     (np.float64(1.0), r"shape \(R, P\)")],
)
def test_minimize_validates_x0(x0, match):
    with pytest.raises(ValueError, match=match):
        minimize(evaluate_only(), lambda x: x.sum(1), x0)


def test_minimize_validates_seeds_and_accepts_one_run():
    with pytest.raises(ValueError, match="one seed per run"):
        minimize(evaluate_only(), lambda x: x.sum(1), np.zeros((3, 2)), [1, 2])
    with pytest.raises(ValueError, match="integers"):
        minimize(evaluate_only(), lambda x: x.sum(1), np.zeros((2, 2)), [1.5, 2.0])
    state, history = minimize(lbfgs_optimizer(), rosenbrock, [-1.2, 1.0])
    assert state.x.shape == (1, 2) and history.shape[0] == 1
    np.testing.assert_allclose(state.x, 1.0, atol=1e-5)


def test_objective_shape_is_checked():
    with pytest.raises(ValueError, match="shape"):
        minimize(evaluate_only(), lambda x: x.sum(), np.zeros((3, 2)))
    with pytest.raises(ValueError, match="gradients"):
        minimize(lbfgs_optimizer(), lambda x: (x.sum(1), x[:, :1]), np.zeros((3, 2)))


def test_registry_and_settings_are_json():
    from pyqhn.optimizers import bbo_probabilistic_descent_optimizer, optimkit_lbfgs_optimizer

    opts = [lbfgs_optimizer(), direct_search_optimizer(),
            adam_optimizer(learning_rate=0.01, max_steps=10), evaluate_only(),
            spsa_optimizer(max_steps=5), qnspsa_optimizer(lambda x, y: np.ones(len(x)),
                                                          max_steps=5),
            optimkit_lbfgs_optimizer(), bbo_probabilistic_descent_optimizer()]
    assert tuple(o.name for o in opts) == tuple(OPTIMIZERS)
    for opt in opts:
        assert isinstance(opt, Optimizer)
        json.dumps(dict(opt.settings), allow_nan=False)
    assert lbfgs_optimizer().settings["gtol"] == 1e-6
    assert lbfgs_optimizer().settings["max_iter"] == 500


def test_minimize_refuses_an_optimizer_that_makes_no_progress():
    base = evaluate_only()

    def init(fun, x0, seeds):
        return base.init(fun, x0, seeds)._replace(done=np.zeros(len(x0), dtype=bool))

    stuck = Optimizer(name="stuck", uses_gradient=False, init=init, step=base.step,
                      settings={})
    with pytest.raises(RuntimeError, match="neither advanced nor stopped"):
        minimize(stuck, lambda x: x.sum(1), np.zeros((2, 2)))


def test_qnspsa_blocking_threshold_is_the_shot_noise_at_x0():
    """Qiskit's allowed increase: 2 × the standard deviation of repeated evaluations at
    x0, whatever the landscape's variation between the perturbed points."""
    sigma = 0.01
    rng = np.random.default_rng(0)

    def fun(x):  # steep: f(x ± 0.2Δ) differ by O(10) between directions
        return 100 * (x**2).sum(1) + sigma * rng.normal(size=x.shape[0])

    fid = lambda x, y: np.exp(-((x - y) ** 2).sum(1))  # noqa: E731
    x0 = np.ones((2, 6))
    for lr in (None, 0.01):
        opt = qnspsa_optimizer(fid, max_steps=3, learning_rate=lr, noise_samples=40)
        state = opt.init(fun, x0, np.arange(2))
        assert np.all(np.abs(state.allowed - 2 * sigma) < 0.5 * 2 * sigma), state.allowed
        assert np.all(np.abs(state.f - 600) < 5 * sigma)  # f(x0) from the repeated evaluations
    opt = qnspsa_optimizer(fid, max_steps=3, allowed_increase=0.5)
    assert np.all(opt.init(fun, x0, np.arange(2)).allowed == 0.5)
