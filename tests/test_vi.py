"""Tests of the VI experiment's model tables and training loop (pyqhn.experiments.vi)."""

from __future__ import annotations

import json

import numpy as np
import pytest

import pyqhn  # noqa: F401
from pyqhn.bits import bits_to_index
from pyqhn.experiments import vi


def _forward(bits: np.ndarray, x: np.ndarray) -> np.ndarray:
    """Direct, unvectorised forward pass of one Fig. 2 style BiNN (models.py layout)."""
    w = 2.0 * bits[1:] - 1.0
    w1, b1, w2, b2 = w[:6].reshape(2, 3), w[6:9], w[9:12], w[12]
    out = []
    for p in x:
        pre = p @ w1 + b1
        h = np.maximum(pre, 0) if bits[0] == 1 else 1 / (1 + np.exp(-pre))
        out.append(h @ w2 + b2)
    return np.array(out)


@pytest.mark.parametrize("name", vi.DATASETS)
def test_binn_tables_match_direct_forward_pass(name):
    rng = np.random.default_rng(0)
    x, y = vi.make_dataset(name, 30, rng)
    assert x.shape == (30, 2) and set(np.unique(y)) == {0.0, 1.0}
    tables = vi.binn_tables(x, y)
    for _ in range(5):
        bits = rng.integers(0, 2, 14)
        k = int(bits_to_index(bits))
        logit = _forward(bits, x)
        p = 1 / (1 + np.exp(-logit))
        ce = -np.mean(y * np.log(p) + (1 - y) * np.log(1 - p))
        assert tables["ce"][k] == pytest.approx(ce, rel=1e-9)
        assert tables["acc"][k] == pytest.approx(np.mean((logit > 0) == (y == 1)))


def test_binn_tables_agree_with_project_cost_table():
    from pyqhn.cost import cost_table
    from pyqhn.datasets import Dataset
    from pyqhn.models import AugmentedBiNN

    x, y = vi.make_dataset("moons", 25, np.random.default_rng(1))
    model = AugmentedBiNN((2, 3, 1), activations=("sigmoid", "relu"), loss="cross_entropy",
                          layout="choices-first")  # the VI study's layout
    expected = cost_table(model, Dataset(x, y.astype(np.int64), "moons"))
    np.testing.assert_allclose(vi.binn_tables(x, y)["ce"], expected, rtol=1e-9, atol=1e-12)


def test_train_vi_elbo_increases_elbo_and_evaluation_selects_by_train_cost():
    cfg = vi.VISpec().quick().replace(runs=2, iterations=4, n_train=20, n_test=20)
    problem = vi.make_problem("gaussian", cfg, seed=1)
    theta0 = np.random.default_rng(2).uniform(0, 2 * np.pi, (2, 2 * cfg.blocks * 14))
    h = vi.train_vi(problem, "elbo", cfg, theta0)
    assert h["elbo"].shape == (5, 2) and h["grad_norm"].shape == (5, 2)
    assert np.all(h["elbo"][-1] > h["elbo"][0])
    assert np.all(np.isfinite(h["selbo"])) and np.all(h["kl"] >= 0)
    q = np.zeros((2, 2**14))
    q[0, [3, 7]] = 0.5
    q[1, 11] = 1.0
    ev = vi.evaluate_samples(problem, q, shots=10, seed=0)
    best0 = 3 if problem.ce_train[3] <= problem.ce_train[7] else 7
    assert ev["best_test_acc"][0] == problem.acc_test[best0]
    assert ev["mean_test_acc"][1] == pytest.approx(problem.acc_test[11])
    with pytest.raises(ValueError, match="unknown objective"):
        vi.train_vi(problem, "nope", cfg, theta0)


def test_run_vi_summary_contract_and_resume(tmp_path, monkeypatch):
    cfg = vi.VISpec().quick().replace(runs=2, iterations=3, n_train=20, n_test=20, shots=5,
                                      datasets=("gaussian",), objectives=("mle", "elbo"))
    summary = cfg.run(tmp_path, progress=False)
    assert summary.figure == "vi" and summary.epsilon is None and summary.quick
    assert [c["name"] for c in summary.circuits] == ["gaussian/mle", "gaussian/elbo"]
    assert all(c["runs"] == 2 for c in summary.circuits)
    problem = vi.make_problem("gaussian", cfg, seed=cfg.seed + 1000)
    assert summary.c_star["gaussian"] == float(problem.ce_train.min())
    assert all(c["mean_energy"] >= summary.c_star["gaussian"] for c in summary.circuits)
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk["circuits"] == summary.circuits and on_disk["complete"] is True

    def boom(*args, **kwargs):
        raise AssertionError("a finished (dataset, objective) was trained again")

    from pyqhn import driver

    monkeypatch.setattr(driver, "run_batch", boom)
    again = cfg.run(tmp_path, progress=False)
    assert again.circuits == summary.circuits
    # a subset of the objectives reads the finished runs; other sizes are refused
    more = cfg.replace(objectives=("mle",)).run(tmp_path, progress=False)
    assert more.circuits == summary.circuits[:1]
    with pytest.raises(ValueError, match="other settings"):
        vi.VISpec().quick().replace(runs=3).run(tmp_path, progress=False)


def test_vi_command_shows_progress_unless_told_not_to(tmp_path):
    from click.testing import CliRunner

    from pyqhn.cli import main

    args = ["reproduce", "vi", "--quick", "--runs", "2", "--iterations", "2", "--datasets",
            "gaussian", "--objectives", "mle"]
    shown = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a")])
    assert shown.exit_code == 0, shown.output
    assert "runs: 100%" in shown.stderr
    hidden = CliRunner().invoke(main, [*args, "--no-progress", "--out", str(tmp_path / "b")])
    assert hidden.exit_code == 0 and "runs:" not in hidden.stderr
