"""``pyqhn reproduce``: every --quick figure runs end to end with consistent summaries.

Sizes are tiny (few runs, short L-BFGS, product + blocks=2 only) to keep the number of
distinct compiled circuits small; the numbers are checked against the written tables.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pyqhn.cli import main

TINY = ["--quick", "--runs", "3", "--max-iter", "25", "--no-progress"]


def _invoke(args: list[str]) -> str:
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def _check_landscape(out: Path, figure: str, runs: int) -> dict:
    summary = json.loads((out / "summary.json").read_text())
    assert summary["figure"] == figure
    for name in ("runs.csv", "cost.npz", f"{figure}.png", f"{figure}.pdf"):
        assert (out / name).stat().st_size > 0, name
    with np.load(out / "cost.npz") as f:
        cost = f["cost"]
    assert cost.shape == (2 ** summary["n_qubits"],)
    assert summary["c_star"] == pytest.approx(float(cost.min()), abs=0)
    table = pd.read_csv(out / "runs.csv")
    names = [c["name"] for c in summary["circuits"]]
    assert names == ["product", "blocks=2"]
    for c in summary["circuits"]:
        e = table.loc[table["circuit"] == c["name"], "e_final"].to_numpy()
        assert c["runs"] == runs == e.size
        assert 0.0 <= c["success_probability"] <= 1.0
        assert c["success_probability"] == pytest.approx(
            np.mean(e - summary["c_star"] < summary["epsilon"]))
        assert c["mean_energy"] == pytest.approx(e.mean())
        # the variational energy is an average of costs: never below the exact optimum
        assert c["min_energy"] >= summary["c_star"] - 1e-9
    return summary


def test_fig2_quick_end_to_end_and_resume(tmp_path):
    out = tmp_path / "fig2"
    _invoke(["reproduce", "fig2", *TINY, "--out", str(out)])
    summary = _check_landscape(out, "fig2", runs=3)
    assert summary["epsilon"] == 0.03 and summary["n_qubits"] == 14
    # the paper's optimum: C(w*) ≈ 0.008 with ReLU hidden units
    assert summary["c_star"] == pytest.approx(0.008, abs=0.002)
    assert summary["optimum"]["activation"] == "relu"

    # c_star is the minimum of an independent enumeration
    from pyqhn.experiments.landscape import build_problem, spec_for

    fresh = build_problem(spec_for("fig2", quick=True)).cost_table()
    assert summary["c_star"] == pytest.approx(float(fresh.min()), rel=1e-12)

    # resume: more runs reuse the cached cost table and keep the finished runs
    cost_mtime = (out / "cost.npz").stat().st_mtime_ns
    before = pd.read_csv(out / "runs.csv")
    _invoke(["reproduce", "fig2", *TINY[:1], "--runs", "4", "--max-iter", "25",
             "--no-progress", "--out", str(out)])
    after = pd.read_csv(out / "runs.csv")
    assert (out / "cost.npz").stat().st_mtime_ns == cost_mtime
    assert len(after) == 8
    pd.testing.assert_frame_equal(after.iloc[: len(before)], before)
    _check_landscape(out, "fig2", runs=4)


def test_resume_refuses_other_settings(tmp_path):
    out = tmp_path / "fig2"
    _invoke(["reproduce", "fig2", *TINY, "--out", str(out)])
    res = CliRunner().invoke(main, ["reproduce", "fig2", "--quick", "--runs", "3",
                                    "--max-iter", "30", "--out", str(out)])
    assert res.exit_code != 0
    assert "max_iter" in res.output


def test_pipeline_api_best_classifier():
    from pyqhn import datasets, models
    from pyqhn.pipeline import Problem

    data = datasets.gaussian_mixture(200, seed=3)
    problem = Problem(models.gaussian_activation_model(), data)
    res = problem.train(["product"], runs=3, epsilon=0.03, max_iter=25, progress=False)
    assert len(res.table) == 3
    s = res.summary()
    assert s["c_star"] == pytest.approx(float(problem.cost_table().min()))
    assert s["circuits"][0]["runs"] == 3
    clf = res.best_classifier()
    # the classifier is the most probable BiNN of the best run, with cost best_cost()
    bits = res.best_bits()
    assert res.best_cost() == pytest.approx(
        float(problem.model.cost(bits[None], data)[0]), rel=1e-9)
    assert 0.0 <= clf.accuracy(data) <= 1.0
    assert clf.predict(data.x).shape == (200,)
