"""L-BFGS, the multi-start runner and its resume."""

import numpy as np
import pandas as pd
import pytest

import pyqhn  # noqa: F401
from pyqhn.circuits import brickwork_circuit, product_circuit
from pyqhn.engines import exact
from pyqhn.optimizers.lbfgs import lbfgs
from pyqhn.runner import load_histories, parse_theta, train_multistart


def test_lbfgs_rosenbrock_batch():
    def vg(x):
        a, b = x[:, 0], x[:, 1]
        f = (1 - a) ** 2 + 100 * (b - a**2) ** 2
        g = np.stack([-2 * (1 - a) - 400 * a * (b - a**2), 200 * (b - a**2)], axis=1)
        return f, g

    res = lbfgs(vg, np.array([[-1.2, 1.0], [0.5, -0.3], [2.0, 2.0]]), max_iter=500)
    np.testing.assert_allclose(res.x, 1.0, atol=1e-5)
    assert res.converged.all()
    assert np.all(np.diff(res.history, axis=1) <= 1e-15)  # monotone per run


def test_lbfgs_reaches_min_cost_of_small_problem():
    n = 6
    cost = np.random.default_rng(4).random(2**n)
    c = brickwork_circuit(n, 4)
    table = train_multistart(cost, [c, product_circuit(n)], runs=6, progress=False)
    # a product state can reach any basis state, so the best run must find min C
    assert table["e_final"].min() == pytest.approx(cost.min(), abs=1e-8)
    best = table.loc[table["e_final"].idxmin()]
    assert best["best_index"] == int(np.argmin(cost))
    assert best["best_probability"] > 0.999
    brick = table[table["circuit"] == c.name]
    e = np.asarray(exact.energy(c, parse_theta(brick["theta"]), cost))
    np.testing.assert_allclose(e, brick["e_final"], atol=1e-10)


def test_runner_resumes_without_redoing(tmp_path, monkeypatch):
    n = 5
    cost = np.random.default_rng(1).random(2**n)
    circuits = [brickwork_circuit(n, 2), brickwork_circuit(n, 3)]
    full = train_multistart(cost, circuits, 4, progress=False, batch_size=2, max_iter=50)

    # interrupt after the first batch of the second circuit
    import pyqhn.runner as runner

    real, calls = runner.lbfgs, {"n": 0}

    def flaky(*args, **kwargs):
        calls["n"] += 1
        if calls["n"] == 4:
            raise KeyboardInterrupt
        return real(*args, **kwargs)

    monkeypatch.setattr(runner, "lbfgs", flaky)
    with pytest.raises(KeyboardInterrupt):
        train_multistart(cost, circuits, 4, out=tmp_path, progress=False, batch_size=2,
                         max_iter=50)
    partial = pd.read_csv(tmp_path / "runs.csv")
    assert len(partial) == 6
    monkeypatch.setattr(runner, "lbfgs", real)
    calls["n"] = 0
    resumed = train_multistart(cost, circuits, 4, out=tmp_path, progress=False, batch_size=2,
                               max_iter=50)
    assert len(resumed) == 8
    assert not resumed.duplicated(["circuit", "run"]).any()
    merged = resumed.merge(full, on=["circuit", "run"], suffixes=("", "_full"))
    np.testing.assert_allclose(merged["e_final"], merged["e_final_full"], atol=1e-12)
    assert len(load_histories(tmp_path)) == 8


def test_runner_rejects_mismatched_circuit():
    with pytest.raises(ValueError, match="qubits"):
        train_multistart(np.ones(2**4), [brickwork_circuit(5, 2)], 1, progress=False)


def test_runner_trains_the_elbo_objective():
    from pyqhn import objectives

    n, n_train = 5, 20
    ce = np.random.default_rng(3).random(2**n)
    c = brickwork_circuit(n, 2)
    table = train_multistart(ce, [c], runs=3, objective="elbo", n_train=n_train,
                             progress=False, max_iter=200)
    theta = parse_theta(table["theta"])
    q = np.asarray(exact.probabilities(c, theta))
    loss = objectives.objective_loss("elbo", ce, n_train)
    np.testing.assert_allclose([float(loss(row)) for row in q], table["e_final"], atol=1e-10)
    assert np.all(table["e_final"] < table["e_init"])
    # the KL term keeps the ELBO optimum spread out, unlike the MLE optimum (a basis state)
    assert q.max() < 0.99
    with pytest.raises(ValueError, match="n_train"):
        train_multistart(ce, [c], runs=1, objective="elbo", progress=False)
