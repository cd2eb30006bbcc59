"""Probabilistic-descent direct search."""

from __future__ import annotations

import numpy as np
import pytest

from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.engines.density import noisy_energy
from pyqhn.engines.reference import reference_energy
from pyqhn.noise import NoiseModel
from pyqhn.optimizers import minimize
from pyqhn.optimizers.direct_search import (
    direct_search_optimizer,
    probabilistic_descent,
    probabilistic_descent_batch,
    wrap_angles,
)


class Recorder:
    """Objective wrapper that records every point it is asked for."""

    def __init__(self, fun):
        self.fun, self.points = fun, []

    def __call__(self, x):
        self.points.append(np.array(x))
        return self.fun(x)


def periodic_bowl(target):
    return lambda x: float(np.sum(1.0 - np.cos(x - target)))


def test_finds_minimum_of_smooth_function():
    target = np.array([0.4, -1.2, 2.5, -3.0, 0.0, 1.1])
    res = probabilistic_descent(periodic_bowl(target), np.zeros(6), max_steps=1500, seed=1)
    assert res.fun < 1e-10
    np.testing.assert_allclose(res.x, target, atol=1e-4)


def test_quadratic_with_sufficient_decrease():
    res = probabilistic_descent(
        lambda x: float(np.sum((x - 0.3) ** 2)), np.zeros(4), max_steps=800,
        forcing_constant=1e-3, seed=2,
    )
    assert res.fun < 1e-10


def test_finds_minimum_of_small_cost_table():
    circuit = product_circuit(3)
    cost = np.random.default_rng(3).permutation(np.arange(8.0)) / 7.0
    res = probabilistic_descent(
        lambda th: reference_energy(circuit, th, cost),
        wrap_angles(random_params(circuit, seed=3)), max_steps=1500, seed=3,
    )
    assert res.fun == pytest.approx(cost.min(), abs=1e-6)


def test_bookkeeping_counts_and_bounds():
    rec = Recorder(periodic_bowl(np.full(5, 3.0)))
    res = probabilistic_descent(rec, np.full(5, 2.0), max_steps=300, seed=4)
    assert res.n_steps == 300 and res.history.shape == (300,)
    assert res.n_evals == len(rec.points)
    assert 300 + 1 <= res.n_evals <= 2 * 300 + 1  # start + one or two polls per step
    assert np.all(np.diff(res.history) <= 0)
    assert res.history[-1] == res.fun == min(rec.fun(p) for p in rec.points)
    pts = np.array(rec.points)
    assert pts.min() >= -np.pi and pts.max() <= np.pi  # the target 3.0 sits near the bound


def test_first_step_polls_at_initial_step_size():
    rec = Recorder(lambda x: float(np.sum(x**2)))
    probabilistic_descent(rec, np.zeros(3), max_steps=1, lower=-10.0, upper=10.0, seed=5)
    # x0 = 0 is the minimum: both mirrored polls fail, each at distance α0 = 0.5 × 20.
    assert len(rec.points) == 3
    np.testing.assert_allclose(np.linalg.norm(rec.points[1]), 10.0)
    np.testing.assert_allclose(rec.points[1], -rec.points[2])


def test_step_expands_on_success_and_contracts_on_failure():
    steps = []

    def spy(step, x, fx):
        steps.append(fx)

    res = probabilistic_descent(lambda x: float(np.sum(x**2)), np.zeros(2), max_steps=3,
                                seed=6, callback=spy)
    assert res.step_size == pytest.approx(np.pi * 0.5**3)  # three failures from the minimum
    res = probabilistic_descent(lambda x: -float(x[0]), np.array([-3.0]), max_steps=1,
                                lower=-100.0, upper=100.0, seed=6)
    assert res.step_size == pytest.approx(2 * 100.0)  # one success, γ = 2


def test_restart_after_convergence():
    res = probabilistic_descent(lambda x: float(np.sum(x**2)), np.zeros(2), max_steps=40,
                                step_tol=1e-2, seed=7)
    assert res.n_restarts >= 1
    assert res.fun == 0.0  # the best point (the start) is kept across restarts


def test_seeded_and_batch_equals_single_runs():
    f = periodic_bowl(np.array([1.0, -2.0, 0.5]))
    x0 = wrap_angles(np.random.default_rng(8).uniform(0, 2 * np.pi, size=(3, 3)))
    batch = probabilistic_descent_batch(
        lambda xs: np.array([f(x) for x in xs]), x0, max_steps=200, seeds=[10, 11, 12]
    )
    for r, seed in enumerate([10, 11, 12]):
        single = probabilistic_descent(f, x0[r], max_steps=200, seed=seed)
        assert single.fun == batch.fun[r] and single.n_evals == batch.n_evals[r]
        np.testing.assert_array_equal(single.x, batch.x[r])
        np.testing.assert_array_equal(single.history, batch.history[r])
    other = probabilistic_descent(f, x0[0], max_steps=200, seed=99)
    assert other.n_evals != batch.n_evals[0] or not np.array_equal(other.x, batch.x[0])


def test_angle_mapping_keeps_energy():
    circuit = brickwork_circuit(3, 2)
    theta = random_params(circuit, seed=9)  # on [0, 2π)
    wrapped = wrap_angles(theta)
    assert wrapped.min() >= -np.pi and wrapped.max() < np.pi
    cost = np.random.default_rng(9).normal(size=8)
    assert reference_energy(circuit, wrapped, cost) == pytest.approx(
        reference_energy(circuit, theta, cost), abs=1e-12
    )
    with pytest.raises(ValueError, match="wrap=True"):
        probabilistic_descent(lambda x: 0.0, theta, wrap=False)


def test_with_noisy_engine():
    circuit = brickwork_circuit(3, 2)
    noise = NoiseModel.from_strength(2.0)
    cost = np.random.default_rng(10).permutation(np.arange(8.0))

    def energy(th):
        return noisy_energy(circuit, th, cost, noise, backend="numpy")

    x0 = wrap_angles(random_params(circuit, seed=10))
    res = probabilistic_descent(energy, x0, max_steps=150, seed=10)
    assert res.fun < energy(x0)
    assert res.fun == pytest.approx(energy(res.x), abs=1e-13)
    assert res.fun > cost.min()  # noise keeps the energy above the noiseless minimum


def test_bad_arguments():
    f = periodic_bowl(np.zeros(2))
    with pytest.raises(ValueError, match="even"):
        probabilistic_descent(f, np.zeros(2), n_directions=3)
    with pytest.raises(ValueError, match="lower < upper"):
        probabilistic_descent(f, np.zeros(2), lower=1.0, upper=0.0)
    with pytest.raises(ValueError, match="n_params"):
        probabilistic_descent(f)
    with pytest.raises(ValueError, match="probabilistic_descent_batch"):
        probabilistic_descent(f, np.zeros((2, 2)))
    with pytest.raises(ValueError, match="one seed per run"):
        probabilistic_descent_batch(lambda xs: xs.sum(1), np.zeros((2, 2)), seeds=[1])


def test_direct_search_minimize_early_stop_by_callback():
    def fun(x):
        return (1.0 - np.cos(x - 0.7)).sum(1)

    x0 = np.random.default_rng(0).uniform(-3, 3, (3, 4))
    opt = direct_search_optimizer(max_steps=2000)

    def stop_when_good(k, state):
        return state._replace(done=state.done | (state.f < 1e-3))

    state, history = minimize(opt, fun, x0, [5, 6, 7], callback=stop_when_good)
    assert state.done.all() and np.all(state.f < 1e-3)
    assert state.n_iter.max() < 2000 and history.shape == (3, state.n_iter.max() + 1)
    assert state.g is None and not state.converged.any()
    for r in range(3):  # a stopped run keeps its value in the history
        np.testing.assert_array_equal(history[r, state.n_iter[r]:], state.f[r])


def test_direct_search_frozen_runs_untouched():
    def fun(x):
        return (x**2).sum(1)

    x0 = np.random.default_rng(1).uniform(-3, 3, (3, 2))
    n_points = []

    def counting(x):
        n_points.append(len(x))
        return fun(x)

    opt = direct_search_optimizer(max_steps=50)
    frozen = {}

    def stop_run_1(k, state):
        if k == 10:
            frozen.update({name: np.copy(getattr(state, name)[1]) for name in
                           ("x", "f", "n_evals", "n_iter", "alpha", "x_current")})
            return state._replace(done=state.done | np.array([False, True, False]))
        return None

    state, _ = minimize(opt, counting, x0, [0, 1, 2], callback=stop_run_1)
    for name, value in frozen.items():
        np.testing.assert_array_equal(getattr(state, name)[1], value, err_msg=name)
    assert sum(n_points) == state.n_evals.sum()  # nothing evaluated for the frozen run
    full, _ = minimize(opt, fun, x0, [0, 1, 2])
    np.testing.assert_array_equal(state.x[[0, 2]], full.x[[0, 2]])
    np.testing.assert_array_equal(state.n_evals[[0, 2]], full.n_evals[[0, 2]])


def test_direct_search_max_evals_and_settings():
    opt = direct_search_optimizer(max_steps=1000, max_evals=30)
    state, _ = minimize(opt, lambda x: (x**2).sum(1), np.ones((2, 3)))
    assert np.all(state.n_evals >= 30) and np.all(state.n_evals <= 31)
    assert np.all(state.n_iter < 1000)
    with pytest.raises(ValueError, match="max_evals"):
        direct_search_optimizer(max_evals=0)
    with pytest.raises(ValueError, match="initial_step_factor"):
        direct_search_optimizer(initial_step_factor=0.0)
    with pytest.raises(ValueError, match="gamma"):
        direct_search_optimizer(gamma=np.nan)


def _reference_search(f, x0, seed, max_steps, lower, upper, step_tol):
    """The search of the module docstring written as a plain loop, one evaluation at a
    time (BlackBoxOptim's order of random draws): the step that merges restart points
    with the first polls into one call must give exactly this."""
    rng = np.random.default_rng(seed)
    alpha0 = 0.5 * (upper - lower)
    x, fx, alpha = x0.copy(), f(x0), alpha0
    best_x, best_f, n_evals, restarts = x.copy(), fx, 1, 0

    def seen(point, value):
        nonlocal best_x, best_f, n_evals
        n_evals += 1
        if value < best_f:
            best_x, best_f = point.copy(), value

    for _ in range(max_steps):
        if alpha < step_tol:
            x = rng.uniform(lower, upper, size=x.size)
            fx, alpha, restarts = f(x), alpha0, restarts + 1
            seen(x, fx)
        g = rng.standard_normal((1, x.size))
        g /= np.linalg.norm(g, axis=1, keepdims=True)
        dirs = np.concatenate([g, -g])[rng.permutation(2)]
        success = False
        for d in dirs:
            c = x + alpha * d
            for i in range(c.size):
                if c[i] < lower or c[i] > upper:
                    bound = lower if c[i] < lower else upper
                    c[i] = bound + rng.random() * (x[i] - bound)
            fc = f(c)
            seen(c, fc)
            if fc < fx:
                x, fx, success = c, fc, True
                break
        alpha = 2.0 * alpha if success else 0.5 * alpha
    return best_x, best_f, n_evals, restarts


def test_one_call_step_equals_sequential_reference():
    # a small box (bound handling) and a large step_tol (a restart every few steps)
    target = np.array([0.9, -0.8, 0.3, 0.95])
    f = periodic_bowl(target)
    x0 = np.random.default_rng(20).uniform(-1, 1, size=(5, 4))
    calls = []

    def batched(xs):
        calls.append(len(xs))
        return np.array([f(x) for x in xs])

    opt = direct_search_optimizer(lower=-1.0, upper=1.0, max_steps=120, step_tol=1e-2)
    state, _ = minimize(opt, batched, x0, [30, 31, 32, 33, 34])
    assert state.n_restarts.min() >= 2
    for r in range(5):
        bx, bf, n_evals, restarts = _reference_search(f, x0[r], 30 + r, 120, -1.0, 1.0, 1e-2)
        np.testing.assert_array_equal(state.x[r], bx)
        assert state.f[r] == bf and state.n_evals[r] == n_evals
        assert state.n_restarts[r] == restarts
    # every step is at most two calls (restarts ride with the first polls), plus init
    assert len(calls) <= 1 + 2 * 120
    assert sum(calls) == state.n_evals.sum()
