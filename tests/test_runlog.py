"""The run log: settings guard, one writer per folder, partial lines, plain-pandas tables."""

from __future__ import annotations

import os
import subprocess
import sys
import warnings

import numpy as np
import pandas as pd
import pytest

import pyqhn  # noqa: F401
from pyqhn.circuits import brickwork_circuit, product_circuit
from pyqhn.driver import train_multistart
from pyqhn.engines import exact
from pyqhn.runlog import (
    FolderBusyError,
    RunLog,
    RunLogWarning,
    RunRecord,
    SettingsMismatchError,
    read_angles,
    read_histories,
    read_runs,
)


def _record(group: str, run: int, p: int = 3, **row) -> RunRecord:
    x = np.full(p, run + 0.25)
    return RunRecord(group, run, x, dict(circuit=group, e_final=float(run), **row),
                     {"f": [1.0, float(run)]})


def test_settings_guard_names_every_difference(tmp_path):
    with RunLog(tmp_path, {"seed": 0, "max_iter": 50, "cost": "sha256:a"}, kind="train") as log:
        log.append([_record("product", 0)])
    with pytest.raises(SettingsMismatchError) as err:
        RunLog(tmp_path, {"seed": 1, "max_iter": 50, "cost": "sha256:b"}, kind="train")
    msg = str(err.value)
    assert "seed (0 there, 1 here)" in msg and "cost" in msg and "max_iter" not in msg
    with pytest.raises(SettingsMismatchError, match="kind"):
        RunLog(tmp_path, {"seed": 0, "max_iter": 50, "cost": "sha256:a"}, kind="fig2")
    # the same settings resume, and nothing was lost by the refusals
    with RunLog(tmp_path, {"seed": 0, "max_iter": 50, "cost": "sha256:a"}, kind="train") as log:
        assert log.finished() == {("product", 0)}


def test_folder_with_results_but_no_runlog_is_refused(tmp_path):
    (tmp_path / "runs.csv").write_text("circuit,run\nproduct,0\n")
    with pytest.raises(SettingsMismatchError, match="runlog.json"):
        RunLog(tmp_path, {}, kind="train")


def test_one_writer_per_folder(tmp_path):
    first = RunLog(tmp_path, {"a": 1}, kind="train")
    with pytest.raises(FolderBusyError, match=f"pid {os.getpid()}"):
        RunLog(tmp_path, {"a": 1}, kind="train")
    first.close()
    RunLog(tmp_path, {"a": 1}, kind="train").close()  # released


def test_lock_released_when_the_holder_is_killed(tmp_path):
    code = (f"import time; from pyqhn.runlog import RunLog; "
            f"log = RunLog({str(tmp_path)!r}, {{'a': 1}}, kind='train'); "
            f"print('locked', flush=True); time.sleep(60)")
    holder = subprocess.Popen([sys.executable, "-c", code], stdout=subprocess.PIPE, text=True)
    try:
        assert holder.stdout.readline().strip() == "locked"
        with pytest.raises(FolderBusyError, match=f"pid {holder.pid}"):
            RunLog(tmp_path, {"a": 1}, kind="train")
    finally:
        holder.kill()
        holder.wait()
    RunLog(tmp_path, {"a": 1}, kind="train").close()  # the OS released the lock


def test_partial_last_lines_are_dropped_never_taken_as_runs(tmp_path):
    with RunLog(tmp_path, {}, kind="t") as log:
        log.append([_record("g", 0), _record("g", 1)])
    runs, hist = tmp_path / "runs.csv", tmp_path / "history.jsonl"
    text = runs.read_text()
    runs.write_text(text[: len(text) - 7])  # cut inside run 1's row
    hist.write_text(hist.read_text()[:-5])  # cut inside run 1's history line
    with pytest.warns(RunLogWarning, match="partial line") as rec:
        log = RunLog(tmp_path, {}, kind="t")
    assert len(rec) == 2
    assert log.finished() == {("g", 0)}
    assert set(read_histories(tmp_path)) == {("g", 0)}
    log.append([_record("g", 1)])  # the lost run, done again, appends cleanly
    log.close()
    table = pd.read_csv(runs)
    assert table["run"].tolist() == [0, 1] and table["e_final"].tolist() == [0.0, 1.0]
    assert set(read_histories(tmp_path)) == {("g", 0), ("g", 1)}
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        RunLog(tmp_path, {}, kind="t").close()  # nothing left to repair


def test_rows_without_angles_are_run_again(tmp_path):
    with RunLog(tmp_path, {}, kind="t") as log:
        log.append([_record("g", 0), _record("g", 1)])
    (tmp_path / "angles.npz").unlink()
    with pytest.warns(RunLogWarning, match="no angles"):
        log = RunLog(tmp_path, {}, kind="t")
    assert log.finished() == set()
    log.close()


def test_new_columns_rewrite_the_table_keeping_old_rows(tmp_path):
    with RunLog(tmp_path, {}, kind="t") as log:
        log.append([_record("a", 0)])
        log.append([_record("b", 0, p=5, p_noise=0.5)])
    table = pd.read_csv(tmp_path / "runs.csv")
    assert list(table["group"]) == ["a", "b"]
    assert np.isnan(table.loc[0, "p_noise"]) and table.loc[1, "p_noise"] == 0.5
    angles = read_angles(tmp_path)
    assert angles["a"].shape == (1, 3) and angles["b"].shape == (1, 5)


def test_runs_table_is_tidy_for_plain_pandas(tmp_path):
    n = 6
    cost = np.random.default_rng(2).random(2**n)
    circuits = [product_circuit(n), brickwork_circuit(n, 2)]
    train_multistart(cost, circuits, 3, out=tmp_path, progress=False, seed=5)
    table = pd.read_csv(tmp_path / "runs.csv")  # no helper, no dtype hints
    for col in ("group", "circuit", "run", "seed", "e_init", "e_final", "n_iter", "n_evals",
                "grad_norm", "converged", "best_index", "best_bitstring", "best_probability"):
        assert col in table.columns, col
    assert table["seed"].tolist() == [5 + r for r in table["run"]]
    bits = table["best_bitstring"]
    assert all(isinstance(b, str) and len(b) == 2 + n for b in bits)
    assert [int(b, 0) for b in bits] == table["best_index"].tolist()
    theta = np.load(tmp_path / "angles.npz")  # numpy reads the angles directly
    for name, c in (("product", circuits[0]), ("blocks=2", circuits[1])):
        rows = table[table["group"] == name].sort_values("run")
        e = np.asarray(exact.energy(c, theta[name][rows["run"].to_numpy()], cost))
        np.testing.assert_allclose(e, rows["e_final"], atol=1e-12)
    hist = read_histories(tmp_path)
    for _, row in table.iterrows():
        f = hist[(row["group"], row["run"])]["f"]
        assert f[0] == row["e_init"] and f[-1] == row["e_final"] and len(f) == row["n_iter"] + 1
    assert len(read_runs(tmp_path)) == 6
