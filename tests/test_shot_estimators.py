"""Shot-based estimates agree with the exact engine within their standard errors."""

import numpy as np

import pyqhn  # noqa: F401
from pyqhn.circuits import brickwork_circuit, random_params
from pyqhn.engines import exact, get_engine
from pyqhn.shot_estimators import (
    energy_from_indices,
    engine_sampler,
    shot_energy,
    shot_parameter_shift_grad,
)


def _setup(n=4, blocks=3):
    c = brickwork_circuit(n, blocks)
    cost = np.random.default_rng(1).normal(size=2**n)
    return c, cost, engine_sampler(get_engine("exact"), c)


def test_shot_energy_within_standard_error():
    c, cost, probs = _setup()
    theta = random_params(c, 5, seed=3)
    mean, sem = shot_energy(probs, theta, cost, 4000, seed=0)
    exact_e = np.asarray(exact.energy(c, theta, cost))
    z = (mean - exact_e) / sem
    assert mean.shape == (5,) and np.all(sem > 0)
    assert np.all(np.abs(z) < 4.5)
    # a different seed gives a different estimate of the same energies
    other, _ = shot_energy(probs, theta, cost, 4000, seed=1)
    assert not np.allclose(other, mean)


def test_shot_parameter_shift_gradient_is_unbiased():
    c, cost, probs = _setup(n=3, blocks=2)
    theta = random_params(c, seed=5)
    _, g_exact = exact.energy_and_grad(c, theta, cost)
    grads = np.stack([shot_parameter_shift_grad(probs, theta, cost, 200, seed=s)[0]
                      for s in range(40)])
    z = (grads.mean(0) - np.asarray(g_exact)) / (grads.std(0, ddof=1) / np.sqrt(40))
    assert np.all(np.abs(z) < 4.5)


def test_energy_from_indices_of_fixed_samples():
    cost = np.array([0.0, 1.0, 2.0, 3.0])
    mean, sem = energy_from_indices(np.array([[0, 1, 2, 3], [3, 3, 3, 3]]), cost)
    np.testing.assert_allclose(mean, [1.5, 3.0])
    np.testing.assert_allclose(sem, [np.std([0, 1, 2, 3], ddof=1) / 2, 0.0])
