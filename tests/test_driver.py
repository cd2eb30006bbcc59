"""The one driver: multi-start training, resume, callbacks, stop requests."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pyqhn  # noqa: F401
from pyqhn import interrupt
from pyqhn.checks import InputError
from pyqhn.circuits import brickwork_circuit, product_circuit
from pyqhn.driver import (
    EarlyStopping,
    Group,
    Interrupted,
    MemoryLog,
    circuit_groups,
    run_groups,
    train_multistart,
)
from pyqhn.engines import exact, get_engine
from pyqhn.objectives import energy_objective, per_run_energy_objective
from pyqhn.optimizers import direct_search_optimizer, lbfgs_optimizer
from pyqhn.runlog import RunLog, read_angles

COLS = ["group", "run", "seed", "e_init", "e_final", "n_iter", "n_evals", "best_index"]


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(["group", "run"]).reset_index(drop=True)[COLS]


def test_best_run_finds_the_optimum_of_a_small_problem():
    n = 6
    cost = np.random.default_rng(4).random(2**n)
    table = train_multistart(cost, [brickwork_circuit(n, 4), product_circuit(n)], runs=6,
                             progress=False)
    # a product state can reach any basis state, so the best run must find min C
    assert table["e_final"].min() == pytest.approx(cost.min(), abs=1e-8)
    best = table.loc[table["e_final"].idxmin()]
    assert best["best_index"] == int(np.argmin(cost))
    assert best["best_probability"] > 0.999
    assert (table["e_final"] <= table["e_init"] + 1e-12).all()


def test_results_do_not_depend_on_batching():
    n = 5
    cost = np.random.default_rng(1).random(2**n)
    circuits = [brickwork_circuit(n, 2)]
    opt = lbfgs_optimizer(max_iter=40)
    one = train_multistart(cost, circuits, 5, optimizer=opt, batch_size=1, progress=False)
    three = train_multistart(cost, circuits, 5, optimizer=opt, batch_size=3, progress=False)
    pd.testing.assert_frame_equal(_sorted(one), _sorted(three), rtol=0, atol=1e-12)


def test_interrupted_sweep_resumes_to_the_uninterrupted_table(tmp_path):
    n = 5
    cost = np.random.default_rng(1).random(2**n)
    circuits = [brickwork_circuit(n, 2), brickwork_circuit(n, 3)]
    opt = lbfgs_optimizer(max_iter=50)
    full = train_multistart(cost, circuits, 4, optimizer=opt, batch_size=2, progress=False)

    steps = {"n": 0}

    def stop_in_third_batch(step, state):
        steps["n"] += step == 0
        if steps["n"] == 3 and step == 2:
            interrupt.request_stop()

    groups = circuit_groups(cost, circuits, 4, optimizer=opt, batch_size=2)
    settings = {"cost": "c", "max_iter": 50}
    with RunLog(tmp_path, settings, kind="train") as log, pytest.raises(Interrupted):
        run_groups(groups, log, progress=False, callbacks=[stop_in_third_batch])
    interrupt.clear_stop()
    assert len(pd.read_csv(tmp_path / "runs.csv")) == 4  # two finished batches
    with RunLog(tmp_path, settings, kind="train") as log:
        resumed = run_groups(groups, log, progress=False)
    assert len(resumed) == 8 and not resumed.duplicated(["group", "run"]).any()
    pd.testing.assert_frame_equal(_sorted(resumed), _sorted(full), rtol=0, atol=1e-12)


def test_time_limit_stops_between_batches_and_a_rerun_finishes(tmp_path):
    n = 4
    cost = np.random.default_rng(0).random(2**n)
    groups = circuit_groups(cost, [brickwork_circuit(n, 2)], 6, batch_size=2,
                            optimizer=lbfgs_optimizer(max_iter=10))
    with RunLog(tmp_path, {}, kind="t") as log:
        part = run_groups(groups, log, progress=False, time_limit=1e-9)
        assert len(part) == 2  # the first batch always runs
        full = run_groups(groups, log, progress=False)
    assert sorted(full["run"]) == list(range(6))


def test_early_stopping_marks_runs_done():
    n = 5
    cost = np.random.default_rng(3).random(2**n)
    groups = circuit_groups(cost, [brickwork_circuit(n, 2)], 3,
                            optimizer=lbfgs_optimizer(max_iter=200, gtol=1e-300))
    free = run_groups(groups, None, progress=False)
    stopped = run_groups(groups, None, progress=False,
                         callbacks=[EarlyStopping(patience=2, min_delta=1e-3)])
    assert (stopped["n_iter"] < free["n_iter"]).all()
    assert not stopped["converged"].any()


def test_trace_and_measure_reach_the_run_log():
    n = 4
    rng = np.random.default_rng(5)
    train, val = rng.random((3, 2**n)), rng.random((3, 2**n))
    eng = get_engine("exact")
    c = brickwork_circuit(n, 2)
    val_energy = per_run_energy_objective(eng, c, val, gradient=False)
    group = Group("g", c, per_run_energy_objective(eng, c, train),
                  lbfgs_optimizer(max_iter=5), 3, seed=2,
                  trace=lambda state, runs: {"e_val": val_energy.bind(runs)(state.x)},
                  measure=lambda x, runs, probs: {"run_id": runs * 10,
                                                  "samples": np.tile(runs[:, None], 4)})
    log = MemoryLog()
    table = run_groups([group], log, progress=False)
    theta = log.angles()["g"]
    hist = log.histories()
    for r in range(3):
        h = hist[("g", r)]
        assert len(h["e_val"]) == len(h["f"]) == table.loc[r, "n_iter"] + 1
        # the last traced value is the validation energy of the final angles
        assert h["e_val"][-1] == pytest.approx(float(exact.energy(c, theta[r], val[r])))
        assert h["f"][-1] == pytest.approx(float(exact.energy(c, theta[r], train[r])))
        assert list(h["samples"]) == [r] * 4
    assert table["run_id"].tolist() == [0, 10, 20]


def test_groups_are_checked_before_any_work():
    n = 3
    cost = np.ones(2**n)
    c = brickwork_circuit(n, 2)
    eng = get_engine("exact")
    with pytest.raises(InputError, match="twice"):
        circuit_groups(cost, [c, brickwork_circuit(n, 2)], 2)
    with pytest.raises(InputError, match="gradient"):
        Group("g", c, energy_objective(eng, c, cost, gradient=True),
              direct_search_optimizer(max_steps=3), 2)
    with pytest.raises(InputError, match="one cost table per run"):
        Group("g", c, per_run_energy_objective(eng, c, np.ones((2, 2**n)), gradient=False),
              direct_search_optimizer(max_steps=3), 2)
    with pytest.raises(InputError, match="batch_size"):
        Group("g", c, energy_objective(eng, c, cost), lbfgs_optimizer(), 2, batch_size=-1)
    with pytest.raises(InputError, match="batch_size"):
        train_multistart(cost, [c], 2, batch_size=-1, progress=False)
    with pytest.raises(InputError, match="runs"):
        train_multistart(cost, [c], 0, progress=False)
    with pytest.raises(InputError, match="qubits"):
        train_multistart(np.ones(2**4), [brickwork_circuit(5, 2)], 1, progress=False)


def test_direct_search_group_on_the_noisy_engine(tmp_path):
    from pyqhn.engines.density import DensityEngine
    from pyqhn.noise import NoiseModel

    n = 4
    cost = np.random.default_rng(6).random(2**n)
    c = brickwork_circuit(n, 2)
    eng = DensityEngine(NoiseModel.from_strength(1.0))
    group = Group("p=1", c, energy_objective(eng, c, cost, gradient=False),
                  direct_search_optimizer(max_steps=30), 3, seed=1, engine=eng)
    with RunLog(tmp_path, {}, kind="t") as log:
        table = run_groups([group], log, progress=False)
    theta = read_angles(tmp_path)["p=1"]
    np.testing.assert_allclose(eng.energy(c, theta, cost), table["e_final"], atol=1e-12)
    assert (table["n_iter"] == 30).all() and (table["e_final"] <= table["e_init"]).all()
    assert "n_restarts" in table.columns


def test_elbo_objective_through_the_driver():
    from pyqhn import objectives

    n, n_train = 5, 20
    ce = np.random.default_rng(3).random(2**n)
    c = brickwork_circuit(n, 2)
    log = MemoryLog()
    run_groups(circuit_groups(ce, [c], 3, objective="elbo", n_train=n_train,
                              optimizer=lbfgs_optimizer(max_iter=200)), log, progress=False)
    table = log.table()
    q = np.asarray(exact.probabilities(c, log.angles()[c.name]))
    loss = objectives.objective_loss("elbo", ce, n_train)
    np.testing.assert_allclose([float(loss(row)) for row in q], table["e_final"], atol=1e-10)
    assert np.all(table["e_final"] < table["e_init"])
    assert q.max() < 0.99  # the KL term keeps the ELBO optimum spread out
    with pytest.raises(InputError, match="n_train"):
        train_multistart(ce, [c], runs=1, objective="elbo", progress=False)


@pytest.mark.parametrize("any_batch_size", [True, False])
def test_direct_search_calls_padded_only_without_any_batch_size(any_batch_size):
    from pyqhn.driver import Group, run_batch
    from pyqhn.objectives import Objective

    circuit = product_circuit(3)
    cost = np.arange(8.0)
    energy = get_engine("exact").energy_fn(circuit, cost)
    rows: list[int] = []

    def bind(runs):
        def fn(x):
            rows.append(len(x))
            return energy(x)
        return fn

    objective = Objective("mle", False, bind, any_batch_size=any_batch_size)
    group = Group("product", circuit, objective, direct_search_optimizer(max_steps=30),
                  runs=5, batch_size=5)
    records = run_batch(group, range(5))
    evals = sum(r.row["n_evals"] for r in records)
    if any_batch_size:  # exactly the points the search asked for
        assert sum(rows) == evals and max(rows) <= 10
    else:  # every call padded up to the batch of 5
        assert min(rows) == 5 and sum(rows) > evals
