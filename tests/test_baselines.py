"""Classical baselines: they search the same bits, reach C* when the budget allows, and
resume like the circuits' runs."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner
from scipy.optimize import minimize as scipy_minimize

import pyqhn  # noqa: F401
from pyqhn import datasets, models
from pyqhn.baselines import baseline_groups, best_over_choices
from pyqhn.bits import bits_to_index
from pyqhn.cost import cost_table
from pyqhn.driver import run_groups


@pytest.fixture(scope="module")
def small_problem():
    model = models.AugmentedBiNN((2, 2, 1), activations=("sigmoid", "relu"))
    data = datasets.gaussian_mixture(120, seed=5)
    return model, data, cost_table(model, data)


@pytest.mark.parametrize("method", ["sa", "random"])
def test_searches_reach_the_optimum_with_a_generous_budget_only(small_problem, method):
    model, data, cost = small_problem  # N = 11: 2048 bitstrings
    big = run_groups(baseline_groups((method,), cost=cost, runs=6, seed=0, budget=6000),
                     progress=False)
    assert np.all(big["e_final"] == cost.min()) and np.all(big["n_evals"] == 6000)
    assert np.all(big["best_index"] == np.argmin(cost))
    assert np.all(big["n_evals_at_best"] <= 6000)
    one = run_groups(baseline_groups((method,), cost=cost, runs=6, seed=0, budget=1),
                     progress=False)
    assert np.all(one["n_evals"] == 1) and np.all(one["e_final"] > cost.min())
    # the final cost is the table's value at the reported bitstring
    np.testing.assert_array_equal(cost[big["best_index"]], big["e_final"])


def test_annealing_beats_random_search_on_a_smooth_landscape():
    n = 16  # C = Hamming distance to a target, plus noise: flips lead downhill
    target = np.random.default_rng(1).integers(0, 2, n)
    idx = np.arange(2**n)
    bits = (idx[:, None] >> np.arange(n - 1, -1, -1)) & 1
    cost = np.abs(bits - target).sum(1) + 0.01 * np.random.default_rng(2).random(2**n)
    res = {m: run_groups(baseline_groups((m,), cost=cost, runs=8, seed=3, budget=800),
                         progress=False) for m in ("sa", "random")}
    assert (res["sa"]["e_final"] < 1).mean() > 0.7
    assert (res["random"]["e_final"] < 1).mean() < 0.2


def test_exhaustive_finds_the_first_optimum_in_all_evaluations(small_problem):
    _, _, cost = small_problem
    table = run_groups(baseline_groups(("exhaustive",), cost=cost, runs=5, seed=0,
                                       budget=1), progress=False)
    assert len(table) == 1
    row = table.iloc[0]
    assert row["n_evals"] == cost.size and row["best_index"] == int(np.argmin(cost))
    assert row["e_final"] == cost.min() and row["n_evals_at_best"] == np.argmin(cost) + 1


def test_ste_finds_the_sign_pattern_of_the_real_weight_optimum():
    # a logistic-regression toy whose weights are ±1, so the sign pattern is a BiNN
    rng = np.random.default_rng(0)
    w_true, b_true = np.array([1.0, -1.0, 1.0, -1.0]), 1.0
    x = rng.normal(size=(400, 4))
    y = (x @ w_true + b_true + 0.3 * rng.normal(size=400) > 0).astype(int)
    data = datasets.Dataset(x, y)
    model = models.AugmentedBiNN((4, 1), loss="cross_entropy")  # weights, bias in {−1, 1}

    def logistic(wb):
        z = x @ wb[:4] + wb[4]
        return np.mean(np.logaddexp(0.0, z) - y * z) + 1e-4 * wb @ wb

    real = scipy_minimize(logistic, np.zeros(5), method="BFGS").x
    signs = (real > 0).astype(int)
    assert list(signs) == [1, 0, 1, 0, 1]  # the real-weight optimum's sign pattern
    cost = cost_table(model, data)
    table = run_groups(baseline_groups(("ste",), cost=cost, model=model, data=data, runs=4,
                                       seed=1, budget=300), progress=False)
    for index in table["best_index"]:
        np.testing.assert_array_equal(pyqhn.bits.index_to_bits(index, 5), signs)
    assert int(bits_to_index(signs)) == int(np.argmin(cost))
    np.testing.assert_allclose(table["e_final"], cost.min(), rtol=1e-12)
    assert set(table["group"]) == {"ste"} and best_over_choices(table).empty  # no choice


def test_ste_trains_every_choice_and_keeps_the_best(small_problem):
    model, data, cost = small_problem
    table = run_groups(baseline_groups(("ste",), cost=cost, model=model, data=data, runs=3,
                                       seed=0, budget=200), progress=False)
    assert sorted(table["group"].unique()) == ["ste[0]", "ste[1]"]  # sigmoid, ReLU
    best = best_over_choices(table)
    assert len(best) == 3 and set(best["group"]) == {"ste"}
    for _, row in best.iterrows():
        per_run = table[table["run"] == row["run"]]
        assert row["e_final"] == per_run["e_final"].min()
        assert row["n_evals"] == per_run["n_evals"].sum() == 200
        assert cost[row["best_index"]] == pytest.approx(row["e_final"], rel=1e-12)
    # the choice bit sits where the model's layout puts it (last in the original layout)
    assert model.choice_params() == [model.n_qubits - 1]
    for _, row in table.iterrows():
        bits = pyqhn.bits.index_to_bits(int(row["best_index"]), model.n_qubits)
        assert "".join(str(b) for b in bits[model.choice_params()]) == row["choice"]
        assert cost[row["best_index"]] == pytest.approx(row["e_final"], rel=1e-12)


def test_baseline_command_writes_the_figure_contract_and_resumes(tmp_path):
    from pyqhn.cli import main

    out = tmp_path / "sa"
    args = ["baseline", "--problem", "fig2", "--quick", "--method", "sa", "--method",
            "random", "--budget", "200", "--no-progress", "--out", str(out)]
    first = CliRunner().invoke(main, [*args, "--runs", "3"])
    assert first.exit_code == 0, first.output
    before = pd.read_csv(out / "runs.csv")
    again = CliRunner().invoke(main, [*args, "--runs", "5"])
    assert again.exit_code == 0, again.output
    after = pd.read_csv(out / "runs.csv")
    assert len(after) == 10 and not after.duplicated(["group", "run"]).any()
    pd.testing.assert_frame_equal(after.iloc[:6].drop(columns="wall_time"),
                                  before.drop(columns="wall_time"))
    import json

    summary = json.loads((out / "summary.json").read_text())
    assert [c["name"] for c in summary["circuits"]] == ["sa", "random"]
    for c in summary["circuits"]:
        e = after.loc[after["group"] == c["name"], "e_final"].to_numpy()
        assert c["runs"] == 5 and c["mean_evals"] == 200
        assert c["success_probability"] == np.mean(e - summary["c_star"] < 0.03)
    other = CliRunner().invoke(main, [*args, "--runs", "5", "--budget", "300"])
    assert other.exit_code == 2 and "baseline_budget" in other.output


def test_baselines_search_a_given_cost_table_but_ste_is_refused(tmp_path):
    from pyqhn.cli import main

    cost = np.random.default_rng(3).random(2**17)
    np.savez(tmp_path / "table.npz", cost=cost)
    args = ["baseline", "--problem", "fig4", "--runs", "2", "--budget", "50",
            "--no-progress", "--cost", str(tmp_path / "table.npz")]
    res = CliRunner().invoke(main, [*args, "--method", "exhaustive", "--out",
                                    str(tmp_path / "a")])
    assert res.exit_code == 0, res.output
    table = pd.read_csv(tmp_path / "a" / "runs.csv")
    assert table.loc[0, "e_final"] == cost.min()  # the given table, not the shipped data's
    res = CliRunner().invoke(main, [*args, "--method", "ste", "--out", str(tmp_path / "b")])
    assert res.exit_code == 2 and "ste" in res.output and "--cost" in res.output


def test_baseline_takes_the_problem_options_of_its_figure(tmp_path):
    from pyqhn.cli import main

    base = ["baseline", "--quick", "--method", "exhaustive", "--runs", "1", "--no-progress"]
    res = CliRunner().invoke(main, [*base, "--problem", "fig4", "--encoding", "0,1",
                                    "--out", str(tmp_path / "enc01")])
    assert res.exit_code == 0, res.output
    res = CliRunner().invoke(main, [*base, "--problem", "fig4", "--out",
                                    str(tmp_path / "default")])
    assert res.exit_code == 0, res.output
    c01 = np.load(tmp_path / "enc01" / "cost.npz")["cost"]
    c31 = np.load(tmp_path / "default" / "cost.npz")["cost"]
    # the exhaustive baseline finds each table's own optimum; {0,1} is the nearly
    # trivial landscape (every logit >= 0), {-3,1} the authors' encoding
    for folder, cost in (("enc01", c01), ("default", c31)):
        table = pd.read_csv(tmp_path / folder / "runs.csv")
        assert table.loc[0, "e_final"] == cost.min()
    assert c01.min() > c31.min() + 0.1
    res = CliRunner().invoke(main, [*base, "--problem", "fig2", "--encoding", "0,1",
                                    "--out", str(tmp_path / "bad")])
    assert res.exit_code == 2 and "--encoding" in res.output and "--layout" in res.output
    assert not (tmp_path / "bad").exists()
