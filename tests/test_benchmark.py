"""The equal-budget benchmark: every method on a tiny enumerable instance, its budget
accounting, the metrics, and the ``pyqhn benchmark --suite tiny`` command."""

from __future__ import annotations

import math

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pyqhn.baselines.local import local_search_optimizer, parallel_tempering_optimizer
from pyqhn.baselines.search import annealing_optimizer, random_bits
from pyqhn.benchmark.counting import (
    BudgetExceeded,
    CountingSlot,
    EvaluationCounter,
    counting_bit_cost,
)
from pyqhn.benchmark.instances import InstanceSpec, build_instance
from pyqhn.benchmark.made import MadeSampler, MadeSpec, made_log_prob, made_start
from pyqhn.benchmark.methods import method_group
from pyqhn.benchmark.metrics import growth_fit, success_table, tts99
from pyqhn.bits import index_to_bits
from pyqhn.driver import MemoryLog, run_groups
from pyqhn.optimizers import minimize


@pytest.fixture(scope="module")
def tiny():
    """MNIST 0 vs 1 at 2x2 pixels, logistic regression: N = 5, table enumerated."""
    return build_instance(InstanceSpec("mnist", 2, 0))


BUDGET = 64
SAMPLER_HP = {"learning_rate": 0.1, "shots": 8}
CASES = [
    ("sa", {"cooling_ratio": 1e-3}), ("pt", {"replicas": 4, "t_min": 0.01}),
    ("random", {}), ("local", {}), ("ste", {"learning_rate": 0.05}), ("made", SAMPLER_HP),
    ("product-adam", SAMPLER_HP), ("L1-adam", SAMPLER_HP), ("L1-spsa", SAMPLER_HP),
    ("product-qnspsa", SAMPLER_HP),
]


@pytest.mark.parametrize("method,hp", CASES, ids=[c[0] for c in CASES])
def test_method_spends_at_most_its_budget(tiny, method, hp):
    group = method_group(method, tiny, BUDGET, hp, runs=2, seed=3, name=method)
    table = run_groups([group], MemoryLog(), progress=False)
    assert len(table) == 2
    charged = table["n_charged"].to_numpy()
    # never past the budget, and most of it used (a step costs at most 2 * 8 shots here)
    assert np.all(charged <= BUDGET)
    assert np.all(charged > BUDGET - 2 * SAMPLER_HP["shots"])
    best = table["best_cost"].to_numpy(float)
    assert np.all(best >= tiny.reference - 1e-12)
    assert np.all(table["n_distinct"] <= charged)
    assert np.all(table["n_distinct"] >= 1)
    if method in ("sa", "pt", "random", "local"):
        # the optimiser's own best and the ledger's agree
        np.testing.assert_allclose(table["e_final"].to_numpy(float), best)
    if "-" in method:  # circuits: E(θ) and the mode's cost are real costs of this table
        assert np.all(table["energy"] >= tiny.reference - 1e-12)
        assert np.all(table["energy"] <= tiny.table.max() + 1e-12)
        assert set(np.round(table["mode_cost"], 12)) <= set(np.round(tiny.table, 12))


def test_counter_refuses_an_overrunning_method(tiny):
    """A search configured past its budget is stopped by the ledger, not trusted."""
    slot = CountingSlot(10)
    fun = counting_bit_cost(tiny.cost, slot, charge=True)
    with pytest.raises(BudgetExceeded):
        minimize(annealing_optimizer(budget=11), fun, random_bits(5, 0, np.arange(1)), [0])
    assert slot.counter.n_evals == 10


def test_counter_ledger():
    c = EvaluationCounter(budget=4)
    c.charge(3)
    c.observe(np.array([[0, 1], [0, 1], [1, 1]]), np.array([0.5, 0.5, 0.2]))
    assert (c.n_evals, c.n_distinct, c.best_cost) == (3, 2, 0.2)
    np.testing.assert_array_equal(c.best_bits, [1, 1])
    with pytest.raises(BudgetExceeded):
        c.charge(2)


def test_exhaustive_and_exact_lbfgs(tiny):
    ex = method_group("exhaustive", tiny, 2**5, {}, runs=1, seed=0, name="ex")
    lb = method_group("product-lbfgs-exact", tiny, 2**5 * 128, {}, runs=2, seed=0, name="lb")
    table = run_groups([ex, lb], MemoryLog(), progress=False)
    row = table[table["group"] == "ex"].iloc[0]
    assert row["n_charged"] == 32 and row["best_cost"] == tiny.reference
    lbfgs = table[table["group"] == "lb"]
    assert np.all(lbfgs["energy"] >= tiny.reference - 1e-12)
    bench = success_table(table, {tiny.name: (tiny.reference, True)}, 1e-4)
    assert set(bench.loc[bench["method"] == "product-lbfgs-exact", "criterion"]) == {"b", "c"}
    assert bench.loc[bench["method"] == "exhaustive", "success"].item() == 1.0


def test_local_search_and_tempering_find_the_optimum():
    rng = np.random.default_rng(0)
    table = rng.random(2**8)
    fun = lambda x: table[(np.rint(x).astype(int) << np.arange(7, -1, -1)).sum(1)]  # noqa: E731
    x0 = random_bits(8, 0, np.arange(3))
    ls, _ = minimize(local_search_optimizer(budget=600), fun, x0, np.arange(3))
    assert np.all(ls.n_evals == 600) and np.all(ls.n_restarts >= 1)
    np.testing.assert_allclose(ls.f, table.min())
    pt, _ = minimize(parallel_tempering_optimizer(budget=2000, replicas=4), fun, x0,
                     np.arange(3))
    assert np.all(pt.n_evals <= 2000) and np.all(pt.n_swaps > 0)
    np.testing.assert_allclose(pt.f, table.min())


def test_made_is_normalised_and_samples_its_distribution():
    spec = MadeSpec(4, hidden=6)
    theta = made_start(spec, 0, np.arange(1), scale=1.0)[0]
    every = index_to_bits(np.arange(16), 4)
    p = np.exp(np.asarray(made_log_prob(spec, theta, every)))
    assert abs(p.sum() - 1) < 1e-12
    bits = MadeSampler().sample_bits(spec, theta, 4000, seed=1)
    freq = np.bincount((bits << np.arange(3, -1, -1)).sum(1), minlength=16) / 4000
    assert np.abs(freq - p).max() < 0.03


def test_tts99_and_growth_fit():
    assert tts99(100, 1.0) == 100 and math.isinf(tts99(100, 0.0))
    assert tts99(100, 0.5) == pytest.approx(100 * math.log(0.01) / math.log(0.5))
    n = np.array([10, 10, 20, 20, 30, 30])
    tts = pd.DataFrame(dict(method="m", criterion="a", n_qubits=n,
                            tts99=10 ** (1 + 0.1 * n) * np.array([1, 1.1, 1, 1.1, 1, 1.1])))
    fit = growth_fit(tts).iloc[0]
    assert fit["slope_low"] < 0.1 < fit["slope_high"]
    assert fit["slope"] == pytest.approx(0.1, abs=1e-9)


def test_benchmark_command_tiny_suite(tmp_path):
    from pyqhn.cli import main

    out = tmp_path / "b"
    runner = CliRunner()
    res = runner.invoke(main, ["benchmark", "--suite", "tiny", "--out", str(out),
                               "--no-progress", "--method", "sa", "--method", "exhaustive",
                               "--method", "product-adam"])
    assert res.exit_code == 0, res.output
    bench = pd.read_csv(out / "benchmark.csv")
    assert list(bench.columns[:13]) == [
        "instance", "n_qubits", "method", "budget", "runs", "successes", "success",
        "success_low", "success_high", "epsilon", "reference", "reference_exact", "tts99"]
    assert set(bench["method"]) == {"sa", "exhaustive", "product-adam"}
    assert (out / "instances" / "mnist-3-s1" / "cost.npz").exists()
    assert (out / "tts_vs_n.png").exists() and (out / "success_vs_budget.png").exists()
    ex = bench[bench["method"] == "exhaustive"].iloc[0]
    assert ex["budget"] == 2**10 and ex["success"] == 1.0
    n_runs = len(pd.read_csv(out / "runs" / "runs.csv"))
    res = runner.invoke(main, ["benchmark", "--suite", "tiny", "--out", str(out),
                               "--no-progress", "--method", "sa"])
    assert res.exit_code == 0 and len(pd.read_csv(out / "runs" / "runs.csv")) == n_runs
    before = (out / "benchmark.csv").read_text()
    (out / "benchmark.csv").unlink()
    res = runner.invoke(main, ["benchmark", "--suite", "tiny", "--out", str(out),
                               "--tables-only"])
    assert res.exit_code == 0 and (out / "benchmark.csv").read_text() == before
    res = runner.invoke(main, ["benchmark", "--suite", "quick", "--out", str(out),
                               "--no-progress", "--method", "sa"])
    assert res.exit_code == 2 and "settings" in res.output.lower()


def test_tables_leave_out_half_finished_cells():
    """A snapshot of a running suite keeps only groups with every run and (instance,
    method) pairs with every budget."""
    from pyqhn.benchmark.suite import SUITES, _complete

    suite = SUITES["tiny"]  # 2 runs per group
    rows = [dict(group=f"{i}|sa|b{b}", instance=i, method="sa", budget=b, run=r)
            for i in ("x", "y") for b in (128, 512) for r in range(2)]
    rows = [r for r in rows if not (r["instance"] == "y" and r["budget"] == 512)]
    rows += [dict(group="x|made|b128", instance="x", method="made", budget=128, run=0)]
    rows += [dict(group="x|exhaustive|b1024", instance="x", method="exhaustive",
                  budget=1024, run=0)]
    kept = _complete(suite, pd.DataFrame(rows))
    assert set(kept["group"]) == {"x|sa|b128", "x|sa|b512", "x|exhaustive|b1024"}


def test_instance_cost_on_the_fly_matches_its_table(tiny):
    """Above the enumerable size an instance evaluates the network on its data; that path
    must give the table's values (it is the only cost the scaling suite's N >= 33 see)."""
    from pyqhn.benchmark.instances import Instance

    on_the_fly = Instance(tiny.spec, tiny.problem, None, tiny.reference, False)
    bits = index_to_bits(np.arange(2**tiny.n_qubits), tiny.n_qubits)
    np.testing.assert_allclose(on_the_fly.cost(bits), tiny.table, rtol=1e-12, atol=1e-14)


def test_budget_cap_restricts_a_method_without_changing_the_settings(tmp_path):
    """A capped method runs only the budgets up to its cap, the others every budget, and
    the cap is not part of the folder's settings (adding one resumes a folder)."""
    from dataclasses import replace

    from pyqhn.benchmark.suite import SUITES, run_suite

    tiny_suite = SUITES["tiny"]
    capped = replace(tiny_suite, budget_caps=(("random", 128),))
    assert capped.settings() == tiny_suite.settings()
    bench = run_suite(capped, tmp_path / "b", methods=("random", "local"), progress=False)
    budgets = bench.groupby("method")["budget"].unique()
    assert sorted(budgets["random"]) == [128]
    assert sorted(budgets["local"]) == sorted(tiny_suite.budgets)


def test_tables_of_folders_run_apart(tmp_path):
    """Methods run into two folders (two processes) give one set of tables with
    ``--tables-only --include``; a folder of another suite is refused."""
    from pyqhn.benchmark.suite import SUITES, run_suite
    from pyqhn.cli import main

    one = run_suite(SUITES["tiny"], tmp_path / "a", methods=("random",), progress=False)
    two = run_suite(SUITES["tiny"], tmp_path / "b", methods=("local",), progress=False)
    runner = CliRunner()
    res = runner.invoke(main, ["benchmark", "--suite", "tiny", "--out", str(tmp_path / "ab"),
                               "--tables-only", "--include", str(tmp_path / "a"),
                               "--include", str(tmp_path / "b")])
    assert res.exit_code == 0, res.output
    both = pd.read_csv(tmp_path / "ab" / "benchmark.csv")
    assert len(both) == len(one) + len(two)
    assert set(both["method"]) == {"random", "local"}
    res = runner.invoke(main, ["benchmark", "--suite", "quick", "--out", str(tmp_path / "q"),
                               "--tables-only", "--include", str(tmp_path / "a")])
    assert res.exit_code == 2 and "another suite" in res.output
    res = runner.invoke(main, ["benchmark", "--suite", "tiny", "--out", str(tmp_path / "q"),
                               "--include", str(tmp_path / "a")])
    assert res.exit_code == 2 and "--tables-only" in res.output


def test_tuning_records_keep_the_methods_of_earlier_calls(tmp_path):
    """A second call with other --methods adds its tuning to tuning.json and tuning.csv
    instead of replacing the first call's."""
    import json

    from pyqhn.benchmark.suite import SUITES, run_suite

    run_suite(SUITES["tiny"], tmp_path, methods=("sa",), progress=False)
    run_suite(SUITES["tiny"], tmp_path, methods=("pt",), progress=False)
    saved = json.loads((tmp_path / "tuning.json").read_text())
    assert set(saved["chosen"]) == {"sa", "pt"} and set(saved["grids"]) == {"sa", "pt"}
    assert set(pd.read_csv(tmp_path / "tuning.csv")["method"]) == {"sa", "pt"}
