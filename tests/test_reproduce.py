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
    for name in ("runs.csv", "cost.npz", "runlog.json", "angles.npz", f"{figure}.png",
                 f"{figure}.pdf"):
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
        lo, hi = c["success_interval"]  # 95 % Wilson: never a point at 0 or 1
        assert 0.0 <= lo <= c["success_probability"] <= hi <= 1.0 and hi - lo > 0.1
        assert c["mean_energy"] == pytest.approx(e.mean())
        # the variational energy is an average of costs: never below the exact optimum
        assert c["min_energy"] >= summary["c_star"] - 1e-9
    return summary


def test_fig2_quick_end_to_end_and_resume(tmp_path):
    out = tmp_path / "fig2"
    printed = _invoke(["reproduce", "fig2", *TINY, "--out", str(out)])
    summary = _check_landscape(out, "fig2", runs=3)
    assert "N_layer=1: success" in printed and "blocks=" not in printed  # the paper's names
    assert summary["epsilon"] == 0.03 and summary["n_qubits"] == 14
    # the paper's optimum: C(w*) ≈ 0.008 with ReLU hidden units
    assert summary["c_star"] == pytest.approx(0.008, abs=0.002)
    assert summary["optimum"]["activation"] == "relu"

    # c_star is the minimum of an independent enumeration
    from pyqhn.experiments import EXPERIMENTS
    from pyqhn.experiments.multistart import build_problem

    fresh = build_problem(EXPERIMENTS.create("fig2").quick()).cost_table()
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
    _invoke(["reproduce", "fig2", "--quick", "--runs", "1", "--max-iter", "3", "--no-progress",
             "--out", str(out)])
    res = CliRunner().invoke(main, ["reproduce", "fig2", "--quick", "--runs", "1",
                                    "--max-iter", "4", "--out", str(out)])
    assert res.exit_code == 2
    assert "max_iter" in res.output


def test_pipeline_api_best_classifier():
    from pyqhn import datasets, models
    from pyqhn.pipeline import Problem

    data = datasets.gaussian_mixture(200, seed=3)
    problem = Problem(models.gaussian_activation_model(), data)
    res = problem.train(["product"], runs=3, epsilon=0.03, max_iter=25, progress=False)
    assert len(res.table) == 3
    s = res.summary()
    assert s.attrs["c_star"] == pytest.approx(float(problem.cost_table().min()))
    assert s.loc["product", "runs"] == 3
    clf = res.best_classifier()
    # the classifier is the most probable BiNN of the best run, with cost best_cost()
    bits = res.best_bits()
    assert res.best_cost() == pytest.approx(
        float(problem.model.cost(bits[None], data)[0]), rel=1e-9)
    assert 0.0 <= clf.accuracy(data) <= 1.0
    assert clf.predict(data.x).shape == (200,)


@pytest.mark.parametrize("figure,n_qubits,epsilon,runs,max_iter",
                         [("fig3", 15, 0.03, 3, 25), ("fig4", 17, 5e-5, 3, 25),
                          ("fig5", 19, 1e-4, 2, 10)])
def test_landscape_quick(tmp_path, figure, n_qubits, epsilon, runs, max_iter):
    out = tmp_path / figure
    _invoke(["reproduce", figure, "--quick", "--runs", str(runs), "--max-iter", str(max_iter),
             "--no-progress", "--out", str(out)])
    summary = _check_landscape(out, figure, runs=runs)
    assert summary["n_qubits"] == n_qubits and summary["epsilon"] == epsilon
    # the problems as the original code built them
    assert summary["model"]["layout"] == "original"
    names = summary["model"]["parameter_names"]
    if figure == "fig3":  # W1, W2, b2, b1, N_hid, activation
        assert names[6:] == ["W2[0,0]", "W2[1,0]", "W2[2,0]", "b2[0]", "b1[0]", "b1[1]",
                             "b1[2]", "width[0]", "activation[0]"]
    if figure == "fig4":  # the authors' table's {-3, 1}: C* far below the trivial ln 2
        assert summary["optimum"]["encoding"] == [-3.0, 1.0]
        assert summary["c_star"] < 0.4
    if figure == "fig5":  # 3 vs 7, the two encoding bits last
        assert summary["dataset"]["name"].startswith("mnist(3,7)")
        assert names[-2:] == ["encoding[0]", "encoding[1]"]


def test_landscape_options_reach_the_earlier_problems(tmp_path):
    out = tmp_path / "fig2"
    _invoke(["reproduce", "fig2", "--quick", "--runs", "1", "--max-iter", "2",
             "--no-progress", "--layout", "choices-first", "--n-samples", "50",
             "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["model"]["layout"] == "choices-first"
    assert summary["model"]["parameter_names"][0] == "activation[0]"
    assert summary["dataset"]["n_samples"] == 50
    res = CliRunner().invoke(main, ["reproduce", "fig4", "--quick", "--layout", "original",
                                    "--out", str(tmp_path / "x")])
    assert res.exit_code == 2 and "--layout" in res.output  # fig4 has no choice bit


def test_fig6_quick_weight_spectrum(tmp_path):
    from pyqhn.fourier import weight_spectrum

    out = tmp_path / "fig6"
    _invoke(["reproduce", "fig6", "--quick", "--no-progress", "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    assert summary["figure"] == "fig6" and summary["circuits"] == []
    assert (out / "fig6.png").stat().st_size > 0
    for task in summary["tasks"]:
        with np.load(out / f"cost_{task['figure']}.npz") as f:
            cost = f["cost"]
        w = np.array(task["W"])
        assert w.shape == (task["n_qubits"] + 1,) and np.all(w >= 0)
        # Parseval: Σ_S W(S) = mean(C²); and it is the spectrum of the cached table
        assert w.sum() == pytest.approx(np.mean(cost**2), rel=1e-10)
        np.testing.assert_allclose(w, weight_spectrum(cost), rtol=1e-8, atol=1e-15)
        assert summary["c_star"][task["name"]] == pytest.approx(float(cost.min()))
    # paper: MNIST weight concentrates on single-site strings (S = 1)
    assert summary["tasks"][2]["peak_S"] == 1


def test_walsh_spectrum_of_known_function():
    from pyqhn.fourier import weight_spectrum

    # C(k) = 1 + 2·z_1 + 0.5·z_1 z_3 with z_j = (−1)^{bit j−1}: W = [1, 4, 0.25, 0]
    k = np.arange(8)
    z = 1 - 2 * ((k[:, None] >> np.arange(3)) & 1)
    cost = 1 + 2 * z[:, 0] + 0.5 * z[:, 0] * z[:, 2]
    np.testing.assert_allclose(weight_spectrum(cost), [1, 4, 0.25, 0], atol=1e-12)


def test_fig7_quick_overfitting(tmp_path):
    out = tmp_path / "fig7"
    _invoke(["reproduce", "fig7", "--quick", "--runs", "2", "--max-iter", "8",
             "--no-progress", "--out", str(out)])
    summary = json.loads((out / "summary.json").read_text())
    curves = pd.read_csv(out / "curves.csv")
    assert [c["n_s"] for c in summary["circuits"]] == [2, 4, 6, 8, 1000]
    assert len(curves) == 5 * 2 * 9
    for c in summary["circuits"]:
        sub = curves[(curves["n_s"] == c["n_s"]) & (curves["iteration"] == 8)]
        assert c["runs"] == 2
        assert c["mean_energy"] == pytest.approx(sub["e_train"].mean())
        assert c["mean_val_energy"] == pytest.approx(sub["e_val"].mean())
        assert 0.0 <= c["success_probability"] <= 1.0
    # energies never go below the exact optimum of their own table; L-BFGS never goes up
    assert np.all(curves["e_train"] >= curves["c_star_train"] - 1e-9)
    assert np.all(curves["e_val"] >= curves["c_star_val"] - 1e-9)
    for _, g in curves.groupby(["n_s", "draw"]):
        assert np.all(np.diff(g.sort_values("iteration")["e_train"].to_numpy()) <= 1e-12)


def _per_row(circuit, ct, cv, x0, max_iter):
    """Fig. 7's training (one cost table per run, validation energy traced) on tiny tables."""
    from pyqhn.driver import Group, MemoryLog, run_groups
    from pyqhn.engines import get_engine
    from pyqhn.objectives import per_run_energy_objective
    from pyqhn.optimizers import lbfgs_optimizer

    eng = get_engine("exact")
    val = per_run_energy_objective(eng, circuit, cv, gradient=False)
    log = MemoryLog()
    run_groups([Group("g", circuit, per_run_energy_objective(eng, circuit, ct),
                      lbfgs_optimizer(max_iter=max_iter), len(x0),
                      start=lambda runs: x0[runs],
                      trace=lambda state, runs: {"e_val": val.bind(runs)(state.x)})],
               log, progress=False)
    h = log.histories()
    return (np.stack([h[("g", r)]["f"] for r in range(len(x0))]),
            np.stack([h[("g", r)]["e_val"] for r in range(len(x0))]))


def test_fig7_validation_energy_matches_engine():
    """The validation energy recorded per iteration is E_val at the accepted parameters."""
    from pyqhn.circuits import brickwork_circuit, random_params
    from pyqhn.engines import exact

    circuit = brickwork_circuit(4, 2)
    rng = np.random.default_rng(0)
    ct, cv = rng.random((2, 16)), rng.random((2, 16))
    x0 = random_params(circuit, 2, seed=1)
    e_tr, e_va = _per_row(circuit, ct, cv, x0, max_iter=0)
    np.testing.assert_allclose(e_va[:, 0], [exact.energy(circuit, x0[i], cv[i])
                                            for i in range(2)], rtol=1e-10)
    # with 3 iterations: the last recorded values equal the engine's at the final point
    from pyqhn.optimizers.lbfgs import lbfgs

    e_tr, e_va = _per_row(circuit, ct, cv, x0, max_iter=3)
    fn = [exact.energy_and_grad_fn(circuit, ct[i]) for i in range(2)]
    for i in range(2):
        res = lbfgs(fn[i], x0[i], max_iter=3)
        assert e_tr[i, -1] == pytest.approx(res.fun[0], rel=1e-9)
        assert e_va[i, -1] == pytest.approx(float(exact.energy(circuit, res.x[0], cv[i])),
                                            rel=1e-9)


def test_fig4_on_the_authors_cost_table(tmp_path):
    from conftest import REFERENCE

    ref = REFERENCE / "binncode_mnist4x4_blocks4.npz"
    if not ref.exists():
        pytest.skip(f"reference artifacts not found at {ref} (needs ../shared/reference)")
    out = tmp_path / "fig4ref"
    _invoke(["reproduce", "fig4", "--quick", "--runs", "2", "--max-iter", "10",
             "--no-progress", "--cost", str(ref), "--out", str(out)])
    summary = _check_landscape(out, "fig4", runs=2)
    with np.load(ref) as f:
        assert summary["c_star"] == float(f["cost"].min())
    assert summary["c_star"] == pytest.approx(0.3269, abs=1e-4)
    assert summary["cost_source"] == str(ref.resolve())


def test_spec_overrides_are_checked():
    from pyqhn.experiments import EXPERIMENTS

    fig2, fig4, fig5 = (EXPERIMENTS.create(f) for f in ("fig2", "fig4", "fig5"))
    assert fig4.replace(encoding=(-1, 1)).encoding == (-1.0, 1.0)
    assert fig2.quick().replace(runs=5).runs == 5 and fig2.quick().runs == 6
    assert fig2.runs == 200 and fig2.blocks == (0, 2, 4, 6, 8)
    assert fig2.replace(runs=None) == fig2  # None keeps the value
    with pytest.raises(ValueError, match="fig4 only"):
        fig5.replace(encoding=(-1, 1))
    with pytest.raises(ValueError, match="unknown experiment 'fig99'"):
        EXPERIMENTS.lookup("fig99")


def test_gaussian_figures_default_to_the_notebook_training_set():
    from pyqhn.experiments import EXPERIMENTS

    for fig in ("fig2", "fig3"):
        spec = EXPERIMENTS.create(fig)
        assert spec.n_samples == 10000 and spec.layout == "original"
        assert spec.replace(n_samples=1000, layout="choices-first").n_samples == 1000
    fig2, fig4, fig5 = (EXPERIMENTS.create(f) for f in ("fig2", "fig4", "fig5"))
    assert fig5.digits == (3, 7) and fig4.digits == (0, 1)
    assert "MNIST 0 vs 1" in fig5.replace(digits=(0, 1)).title
    with pytest.raises(ValueError, match=r"--n-samples\) applies to the Gaussian"):
        fig4.replace(n_samples=10)
    with pytest.raises(ValueError, match=r"--digits\) applies to the MNIST"):
        fig2.replace(digits=(0, 1))
    with pytest.raises(ValueError, match="unknown value 'notebook'; choose one of original"):
        fig2.replace(layout="notebook")


def test_line_search_choice_is_recorded_and_guards_the_folder(tmp_path):
    out = tmp_path / "f2"
    args = ["reproduce", "fig2", "--quick", "--runs", "1", "--max-iter", "5", "--no-progress",
            "--out", str(out)]
    res = CliRunner().invoke(main, [*args, "--line-search", "armijo"])
    assert res.exit_code == 0, res.output
    settings = json.loads((out / "runlog.json").read_text())["settings"]
    assert settings["optimizer.line_search"] == "backtracking-armijo"
    assert settings["optimizer.memory_size"] == 10
    res = CliRunner().invoke(main, args)  # the default is OptimKit's Hager-Zhang: refused
    assert res.exit_code == 2 and "line_search" in res.output


def test_mnist8x8_quick_end_to_end_and_resume(tmp_path):
    from pyqhn.experiments import EXPERIMENTS

    out = tmp_path / "mnist8x8"
    args = ["reproduce", "mnist8x8", "--quick", "--max-steps", "3", "--blocks", "2",
            "--no-progress", "--out", str(out)]
    _invoke([*args, "--runs", "1"])
    for name in ("runs.csv", "runlog.json", "summary.json", "mnist8x8.png"):
        assert (out / name).stat().st_size > 0, name
    before = pd.read_csv(out / "runs.csv")
    _invoke([*args, "--runs", "2"])  # resume: one more run, the first one kept
    table = pd.read_csv(out / "runs.csv")
    pd.testing.assert_frame_equal(table.iloc[:1], before)
    summary = json.loads((out / "summary.json").read_text())
    cfg = EXPERIMENTS.create("mnist8x8").quick()
    assert summary["n_qubits"] == 66 and summary["shots"] == cfg.shots == 1500
    assert "beam search" in summary["most_probable_method"]
    (c,) = summary["circuits"]
    assert c["runs"] == 2 and len(table) == 2
    assert c["test_accuracy_most_probable"] == pytest.approx(table["acc_mode"].mean())
    assert c["test_accuracy_best_sampled"] == pytest.approx(table["acc_best_sampled"].mean())
    assert 0 <= c["most_probable_certified"] <= 2
    # the mode's exact probability bounds the frequency of any sampled string from above
    # up to shot noise (10 standard errors)
    f, p = table["freq_most_frequent"], table["p_mode"]
    assert np.all(f <= p + 10 * np.sqrt(p / cfg.final_shots) + 1e-3)
    # shots per run: training (init + 3 steps), validation at steps 0 and 3, final sample
    shots = cfg.shots * 4 + cfg.val_shots * 2 + cfg.final_shots
    assert table["n_shots"].tolist() == [shots, shots]
    assert table["n_circuits"].tolist() == [4 + 2 + 1] * 2
    assert 0.5 <= summary["classical_search"]["test_accuracy"] <= 1.0
