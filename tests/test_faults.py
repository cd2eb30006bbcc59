"""Fault and bad-input probes (issue 28): nothing silently wrong, nothing that hangs, no
tracebacks. One test (or more) per numbered item; the damaged run folders are in
``test_run_folder_damage.py``, the command line as a whole in ``test_cli_no_traceback.py``.
"""

from __future__ import annotations

import errno
import json
import os
import signal
import threading
import time
import warnings

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pyqhn  # noqa: F401
from pyqhn.checks import Fault, InputError, MissingExtra
from pyqhn.circuits import brickwork_circuit, gate_list, product_circuit
from pyqhn.cli import main
from pyqhn.driver import Interrupted, MemoryLog, run_groups, train_multistart
from pyqhn.runlog import RunLog, RunLogWarning, RunRecord, read_histories, read_runs


def _one_sentence(output: str) -> str:
    """The error line of a failed command: the last line, ``Error: …``, no traceback."""
    assert "Traceback" not in output, output
    line = output.strip().splitlines()[-1]
    assert line.startswith("Error: "), output
    return line


@pytest.fixture
def cost_file(tmp_path):
    path = tmp_path / "c.npz"
    np.savez(path, cost=np.random.default_rng(0).random(8))
    return path


# ------------------------------------------------------------------- 1. wide samples


def _basis_state(circuit, sites) -> np.ndarray:
    """Angles preparing |1⟩ on ``sites`` and |0⟩ elsewhere (Ry(π) there)."""
    theta = np.zeros(circuit.n_params)
    for gate in gate_list(circuit, np.arange(circuit.n_params, dtype=np.float64)):
        if gate[0] == "Ry" and gate[1][0] in sites:
            theta[int(gate[2])] = np.pi
    return theta


def test_qiskit_sampler_above_63_qubits_returns_bit_rows():
    pytest.importorskip("qiskit_aer", reason="the [qiskit] extra is part of [test]")
    from pyqhn.interop import qiskit_sampler

    n = 70
    circuit = product_circuit(n)
    sites = {1, 2, 64, n}  # bit 63 and beyond: wrapped around an int64 before
    shots = qiskit_sampler(circuit)(_basis_state(circuit, sites), 3, 1)
    assert shots.shape == (3, n) and shots.dtype == np.uint8
    for row in shots:  # parameter i is site n - i (pyqhn.bits)
        assert set(np.flatnonzero(row)) == {n - j for j in sites}
    small = product_circuit(5)
    idx = qiskit_sampler(small)(_basis_state(small, {1, 2, 5}), 2, 1)
    assert idx.dtype == np.int64 and idx.tolist() == [0b10011] * 2
    with pytest.raises(InputError, match="output='bits'"):
        qiskit_sampler(circuit, output="index")


def test_qiskit_sampler_default_uses_mps_beyond_a_state_vector():
    pytest.importorskip("qiskit_aer", reason="the [qiskit] extra is part of [test]")
    from pyqhn.circuits import random_params
    from pyqhn.interop import qiskit_sampler

    circuit = brickwork_circuit(66, 1)  # entangled; Aer's state vector needs 2**66 amplitudes
    bits = qiskit_sampler(circuit)(random_params(circuit, seed=1), 4, 2)
    assert bits.shape == (4, 66) and set(np.unique(bits)) <= {0, 1}


# ------------------------------------------------------------- 2. mnist8x8 --quick


def test_reproduce_mnist8x8_quick_reaches_the_experiment(monkeypatch, tmp_path):
    import pyqhn.experiments.mnist8x8 as m8

    seen = {}

    def spy(spec, out, **kwargs):
        seen.update(kwargs, spec=spec)
        raise InputError("stop here: only the call is checked")

    monkeypatch.setattr(m8, "_run_mnist8x8", spy)
    res = CliRunner().invoke(main, ["reproduce", "mnist8x8", "--quick", "--runs", "1",
                                    "--out", str(tmp_path / "m")])
    assert res.exit_code == 2 and "stop here" in res.output
    spec = seen["spec"]  # summary.json's "quick"; the quick sizes, then --runs
    assert spec.quick_run is True and spec.runs == 1 and spec.max_steps == 80


# ------------------------------------------------ 3. baselines added to one folder


def test_baseline_rerun_with_other_methods_keeps_the_earlier_ones(tmp_path, monkeypatch):
    import pyqhn.experiments.multistart as multistart

    drawn = []
    monkeypatch.setattr(multistart, "plot_landscape",
                        lambda energies, *a, **k: drawn.append(list(energies)) or [])
    for method in ("sa", "random"):
        spec = multistart.MULTISTART["fig2"].quick().replace(
            blocks=(), baselines=(method,), runs=2, baseline_budget=20)
        summary = spec.run(tmp_path, progress=False)
    assert [c["name"] for c in summary.circuits] == ["sa", "random"]
    assert drawn[-1] == ["sa", "random"]  # the figure shows both too
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert [c["name"] for c in on_disk["circuits"]] == ["sa", "random"]
    assert set(read_runs(tmp_path)["group"]) == {"sa", "random"}


# ------------------------------------------------------ 4. angles of another shape


def _record(group: str, run: int, p: int) -> RunRecord:
    return RunRecord(group, run, np.full(p, 0.5), dict(circuit=group, e_final=1.0),
                     {"f": [1.0]})


def _run_files(folder) -> dict[str, bytes]:
    """The run folder's files and their bytes (not the lock, which names its holder)."""
    return {p.name: p.read_bytes() for p in folder.iterdir() if p.is_file() and p.name != ".lock"}


def test_angles_of_another_width_are_refused_before_anything_is_written(tmp_path):
    with RunLog(tmp_path, {}, kind="t") as log:
        log.append([_record("g", 0, 3)])
    before = _run_files(tmp_path)
    with RunLog(tmp_path, {}, kind="t") as log:
        with pytest.raises(InputError, match="angles.npz holds 3 angles per run") as err:
            log.append([_record("g", 1, 5)])
    assert "\n" not in str(err.value) and "delete it" in str(err.value)
    assert _run_files(tmp_path) == before
    np.savez(tmp_path / "angles.npz", g=np.zeros(3))  # 1-D: no (runs, angles) table
    with pytest.raises(InputError, match=r"shape \(3,\) for group 'g'"):
        RunLog(tmp_path, {}, kind="t")


# ------------------------------------------------------ 5, 9. schedulers


@pytest.fixture
def scheduler_only():
    """A Dask scheduler on 127.0.0.1 with no worker."""
    from distributed import LocalCluster

    cluster = LocalCluster(n_workers=0, processes=False, protocol="tcp://",
                           host="127.0.0.1", dashboard_address=":0")
    yield cluster
    cluster.close()


def test_scheduler_without_workers_says_so_and_stops_on_the_first_ctrl_c(
        scheduler_only, monkeypatch, capfd, evaluate_only_groups):
    import pyqhn.cluster as cluster
    from pyqhn.cluster import parse_cluster
    from pyqhn.interrupt import _on_sigint, clear_stop

    monkeypatch.setattr(cluster, "WORKER_WAIT_S", 0.3)
    spec = parse_cluster(scheduler_only.scheduler_address)
    old = signal.signal(signal.SIGINT, _on_sigint)  # what `pyqhn` installs
    timer = threading.Timer(2.0, os.kill, (os.getpid(), signal.SIGINT))  # one Ctrl-C
    timer.start()
    t0 = time.perf_counter()
    try:
        with pytest.raises(Interrupted):
            run_groups(evaluate_only_groups(3, 1), None, progress=False, client=spec)
    finally:
        timer.cancel()
        signal.signal(signal.SIGINT, old)
        clear_stop()
    assert time.perf_counter() - t0 < 15
    assert "0 workers" in capfd.readouterr().err


def test_losing_the_scheduler_mid_sweep_is_one_sentence(tmp_path, evaluate_only_groups):
    from distributed import Client, LocalCluster

    cluster = LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                           protocol="tcp://", host="127.0.0.1", dashboard_address=":0")
    client = Client(cluster.scheduler_address, timeout="5s")

    class Log(MemoryLog):
        def append(self, records):
            super().append(records)
            if cluster.status.name != "closed":
                cluster.close()  # the scheduler goes away after the first batch
                time.sleep(0.5)

    log = Log()
    try:
        with pytest.raises(Fault) as err:
            run_groups(evaluate_only_groups(4, 1), log, progress=False, client=client)
    finally:
        client.close()
    msg = str(err.value)
    assert "lost the dask scheduler" in msg and "\n" not in msg
    assert f"{len(log.finished())} finished runs are saved" in msg and log.finished()


# ------------------------------------------------------ 6, 7, 11. missing extras


def test_cluster_without_the_extra_names_it_before_any_work(tmp_path, cost_file, monkeypatch,
                                                         hide_modules):
    hide_modules("dask", "distributed", "dask_jobqueue")
    res = CliRunner().invoke(main, ["train", "--cost", str(cost_file), "--blocks", "1",
                                    "--out", str(tmp_path / "run"), "--cluster", "local:2"])
    assert res.exit_code == 1
    assert 'pip install "pyqhn[cluster]"' in _one_sentence(res.output)
    assert not (tmp_path / "run").exists()
    with pytest.raises(MissingExtra, match="cluster extra"):  # the API, a string spec
        train_multistart(np.arange(8.0), [brickwork_circuit(3, 1)], 2,
                         out=tmp_path / "api", client="local:2", progress=False)
    assert not (tmp_path / "api").exists()


@pytest.mark.parametrize("args", [["train", "--engine", "julia"],
                                  ["train", "--optimizer", "optimkit-lbfgs"],
                                  ["train", "--optimizer", "bbo-probabilistic-descent"],
                                  ["energy", "--engine", "julia"]])
def test_julia_options_without_juliacall_name_the_extra(tmp_path, cost_file, monkeypatch,
                                                        args, hide_modules):
    hide_modules("juliacall")
    extra = (["--blocks", "1", "--out", str(tmp_path / "run")] if args[0] == "train" else
             ["--theta", str(cost_file)])
    res = CliRunner().invoke(main, [args[0], "--cost", str(cost_file), *extra, *args[1:]])
    assert res.exit_code == 1
    line = _one_sentence(res.output)
    assert 'pip install "pyqhn[julia]"' in line and args[-1] in line
    assert not (tmp_path / "run").exists()


def test_qiskit_sampler_without_qiskit_names_the_extra(monkeypatch, hide_modules):
    from pyqhn.interop import qiskit_sampler, to_qiskit

    hide_modules("qiskit", "qiskit_aer")
    for call in (lambda: qiskit_sampler(brickwork_circuit(3, 1)),
                 lambda: to_qiskit(brickwork_circuit(3, 1))):
        with pytest.raises(MissingExtra, match=r'pip install "pyqhn\[qiskit\]"') as err:
            call()
        assert isinstance(err.value, ImportError)


# ------------------------------------------------------------------ 8. full disk


def test_a_full_disk_says_what_is_saved_and_leaves_no_temporary_file(tmp_path, cost_file,
                                                                     monkeypatch):
    import pyqhn.runlog as runlog

    calls = {"n": 0}
    real_fsync = os.fsync

    def fsync(fd):  # the disk fills up while batch 2's angles are written
        if os.readlink(f"/proc/self/fd/{fd}").endswith("angles.npz.tmp"):
            calls["n"] += 1
            if calls["n"] == 2:
                raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC))
        real_fsync(fd)

    monkeypatch.setattr(runlog.os, "fsync", fsync)
    args = ["train", "--cost", str(cost_file), "--blocks", "1", "--runs", "3",
            "--batch-size", "1", "--max-iter", "3", "--no-progress",
            "--out", str(tmp_path / "run")]
    res = CliRunner().invoke(main, args)
    assert res.exit_code == 1
    line = _one_sentence(res.output)
    assert "No space left on device" in line and "1 finished runs are saved" in line
    assert "free space" in line
    assert not [p.name for p in (tmp_path / "run").iterdir() if ".tmp" in p.name]
    monkeypatch.setattr(runlog.os, "fsync", real_fsync)
    assert CliRunner().invoke(main, args).exit_code == 0  # resumes
    assert sorted(read_runs(tmp_path / "run")["run"]) == [0, 1, 2]


# ------------------------------------------------------- 10. damaged files, read directly


def test_damaged_lines_are_dropped_and_their_runs_run_again(tmp_path):
    with RunLog(tmp_path, {}, kind="t") as log:
        log.append([_record("g", r, 2) for r in range(3)])
    runs, hist = tmp_path / "runs.csv", tmp_path / "history.jsonl"
    lines = runs.read_text().splitlines(keepends=True)
    runs.write_text(lines[0] + "garbage\n" + "".join(lines[1:]))  # pandas: IntCastingNaN
    hlines = hist.read_bytes().splitlines(keepends=True)
    hist.write_bytes(hlines[0] + b"\xff\xfe binary\n" + b"[1, 2]\n" + hlines[1])  # run 2 lost
    with pytest.raises(InputError, match="runs.csv is damaged"):
        read_runs(tmp_path)  # a reader that repairs nothing refuses in one sentence
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        log = RunLog(tmp_path, {}, kind="t")
    text = " | ".join(str(w.message) for w in caught if w.category is RunLogWarning)
    assert "dropped 1 damaged lines" in text and "dropped 2 damaged lines" in text
    assert "1 rows of" in text and "no record in history.jsonl" in text
    assert log.finished() == {("g", 0), ("g", 1)}  # run 2 is run again
    assert set(read_histories(tmp_path)) == {("g", 0), ("g", 1)}
    log.close()


# ------------------------------------------------------------- 12. string labels


def test_string_labels_are_refused_in_one_sentence():
    from pyqhn.datasets import Dataset
    from pyqhn.models import gaussian_activation_model
    from pyqhn.pipeline import Problem

    x = np.zeros((4, 2))
    for y in (np.array(["cat", "dog", "cat", "dog"]), np.array([None, 1, 0, 1], dtype=object)):
        with pytest.raises(InputError, match="labels 0 and 1") as err:
            Dataset(x, y, name="pets.csv")
        assert "pets.csv" in str(err.value) and "\n" not in str(err.value)
    with pytest.raises(InputError, match="labels 0 and 1"):
        Problem(gaussian_activation_model(), (x, ["a", "b", "a", "b"]))
    # three classes are a data set (multi-class models, QHNClassifier), but not for a model
    # with one output unit
    assert Dataset(x, np.array([0, 1, 2, 1])).y.max() == 2
    with pytest.raises(InputError, match="0 and 1"):
        Problem(gaussian_activation_model(), (x, np.array([0, 1, 2, 1])))


# -------------------------------------------------------- 13. beyond enumeration


def test_too_many_qubits_names_the_size_and_points_to_sampling(tmp_path):
    from pyqhn.cost import check_table_size

    with pytest.raises(MemoryError) as err:
        check_table_size(66)
    msg = str(err.value)
    assert "N = 66" in msg and "EiB" in msg and "shots=" in msg and "MPS" in msg
    assert "max_bytes" not in msg  # would not help beyond 30 qubits
    res = CliRunner().invoke(main, ["enumerate", "--problem", "mnist", "--size", "8",
                                    "--out", str(tmp_path / "c.npz")])
    assert res.exit_code == 2 and "N = 65" in res.output and "shots=" in res.output
    assert "Traceback" not in res.output


# ---------------------------------------------------------- 14. the path once


@pytest.mark.parametrize("content", ["1\n2\n3\n", "abc\n"])
def test_cost_file_errors_name_the_path_once(tmp_path, content):
    path = tmp_path / "c3.txt"
    path.write_text(content)
    res = CliRunner().invoke(main, ["fourier", str(path)])
    assert res.exit_code == 2
    assert res.output.count("c3.txt") == 1 and ".." not in res.output


def test_pandas_still_reads_a_repaired_table(tmp_path):
    """The repairs keep the table plain CSV (one row per run, no helper needed)."""
    with RunLog(tmp_path, {}, kind="t") as log:
        log.append([_record("g", r, 2) for r in range(2)])
    table = pd.read_csv(tmp_path / "runs.csv")
    assert table["run"].tolist() == [0, 1]
