"""Sweeps on a Dask cluster: same results as in process, nothing lost when a worker dies."""

from __future__ import annotations

import os
import signal
import socket
import threading
import time

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pyqhn  # noqa: F401
from pyqhn.callbacks import Callback
from pyqhn.checks import InputError
from pyqhn.circuits import brickwork_circuit, product_circuit
from pyqhn.cli import main
from pyqhn.cluster import open_client, parse_cluster
from pyqhn.driver import Group, circuit_groups, run_groups, train_multistart
from pyqhn.engines import get_engine
from pyqhn.interrupt import Interrupted, clear_stop, request_stop
from pyqhn.objectives import energy_objective
from pyqhn.optimizers import evaluate_only, lbfgs_optimizer
from pyqhn.runlog import FolderBusyError, MemoryLog, RunLog, read_angles, read_runs

KEY = ["group", "run"]


def _sorted(table: pd.DataFrame) -> pd.DataFrame:
    return table.sort_values(KEY).reset_index(drop=True)


@pytest.fixture(scope="module")
def client():
    with open_client(parse_cluster("local:2"), echo=lambda s: None) as c:
        yield c


def _problem(n: int = 6, seed: int = 3):
    cost = np.random.default_rng(seed).random(2**n)
    return cost, [product_circuit(n), brickwork_circuit(n, 2), brickwork_circuit(n, 4)]


# ----------------------------------------------------------------------------- specs


@pytest.mark.parametrize("text, words", [
    ("local", "worker count"),
    ("local:0", "at least 1"),
    ("local:two", "no number"),
    ("kubernetes", "no cluster"),
    ("tcp://host", "tcp://HOST:PORT"),
])
def test_bad_cluster_specs_name_the_option(text, words):
    with pytest.raises(InputError, match="--cluster") as err:
        parse_cluster(text)
    assert words in str(err.value)


def test_an_address_without_a_scheduler_is_refused_before_any_work():
    with socket.socket() as s:  # a free port nobody listens on
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    with pytest.raises(InputError, match="no scheduler answers"):
        parse_cluster(f"tcp://127.0.0.1:{port}")
    assert parse_cluster(f"tcp://127.0.0.1:{port}", check_reachable=False).kind == "address"


def test_jobqueue_settings_come_from_the_config_file(tmp_path, monkeypatch):
    monkeypatch.setenv("DASK_CONFIG", str(tmp_path / "empty"))  # no user jobqueue.yaml
    with pytest.raises(InputError, match="jobqueue.slurm.cores and memory"):
        parse_cluster("slurm")
    bad = tmp_path / "bad.yaml"
    bad.write_text("[1, 2")
    with pytest.raises(InputError, match=f"--cluster-config {bad} is not YAML"):
        parse_cluster("slurm", bad)
    with pytest.raises(InputError, match="configures slurm or pbs"):
        parse_cluster("local:2", bad)
    cfg = tmp_path / "jobqueue.yaml"
    cfg.write_text("jobqueue:\n  slurm:\n    cores: 8\n    processes: 4\n    memory: 32GB\n"
                   "    walltime: '04:00:00'\n    queue: short\n")
    spec = parse_cluster("slurm:3", cfg)
    assert (spec.kind, spec.workers) == ("slurm", 3)
    import dask

    from pyqhn.cluster import _jobqueue_cluster

    with dask.config.set(dict(spec.config)):
        cluster = _jobqueue_cluster(spec)
        try:
            script = cluster.job_script()
        finally:
            cluster.close()
    assert "#SBATCH --cpus-per-task=8" in script
    assert "#SBATCH -p short" in script and "#SBATCH -t 04:00:00" in script
    assert "--nworkers 4" in script
    assert "MALLOC_TRIM_THRESHOLD_=134217728" in script


def test_cli_refuses_a_bad_cluster_with_exit_2_before_training(tmp_path):
    cost = tmp_path / "c.npz"
    np.savez(cost, cost=np.random.default_rng(0).random(16))
    res = CliRunner().invoke(main, ["train", "--cost", str(cost), "--blocks", "2",
                                    "--out", str(tmp_path / "run"), "--cluster", "local:0"])
    assert res.exit_code == 2 and "--cluster" in res.output
    assert not (tmp_path / "run").exists()
    res = CliRunner().invoke(main, ["reproduce", "fig4", "--quick", "--out",
                                    str(tmp_path / "f4"), "--cluster-config", str(cost)])
    assert res.exit_code == 2 and "--cluster-config" in res.output


# ----------------------------------------------------------------------------- running


def test_workers_keep_glibcs_malloc_trimming(client):
    """Dask's default MALLOC_TRIM_THRESHOLD_=65536 makes the engines 1.6x slower."""
    envs = client.run(lambda: os.environ.get("MALLOC_TRIM_THRESHOLD_"))
    assert set(envs.values()) == {None}


def test_workers_are_pinned_to_disjoint_cores(client):
    cores = client.run(lambda: sorted(os.sched_getaffinity(0)))
    sets = [set(c) for c in cores.values()]
    assert len(sets) == 2
    if len(os.sched_getaffinity(0)) >= 2:
        assert not sets[0] & sets[1]
        assert sets[0] | sets[1] == set(os.sched_getaffinity(0))


def test_two_workers_give_the_in_process_table(client, tmp_path):
    cost, circuits = _problem()
    circuits = circuits[:2]
    opt = lbfgs_optimizer(max_iter=40)
    here = train_multistart(cost, circuits, 6, optimizer=opt, batch_size=2, progress=False,
                            out=tmp_path / "here")
    there = train_multistart(cost, circuits, 6, optimizer=opt, batch_size=2, progress=False,
                             out=tmp_path / "there", client=client)
    a, b = _sorted(here), _sorted(there)
    assert len(b) == 12 and not b.duplicated(KEY).any()
    assert np.abs(a["e_final"] - b["e_final"]).max() <= 1e-10
    assert (a["n_iter"] == b["n_iter"]).all() and (a["best_index"] == b["best_index"]).all()
    # the client is the one writer: the folder holds every run once, angles included
    disk = _sorted(read_runs(tmp_path / "there"))
    assert len(disk) == 12 and not disk.duplicated(KEY).any()
    ang_a, ang_b = read_angles(tmp_path / "here"), read_angles(tmp_path / "there")
    for g in ang_a:
        np.testing.assert_allclose(ang_a[g], ang_b[g], atol=1e-10)
    # resume on the cluster: more runs extend the folder, finished ones are not redone
    more = train_multistart(cost, circuits, 8, optimizer=opt, batch_size=2, progress=False,
                            out=tmp_path / "there", client=client)
    assert len(more) == 16 and not more.duplicated(KEY).any()
    old = _sorted(more[more["run"] < 6])
    np.testing.assert_array_equal(old["e_final"].to_numpy(), b["e_final"].to_numpy())


def test_a_group_that_needs_another_waits_for_it(client):
    """Re-evaluating another group's optima (Fig. 10's pattern) on the cluster: the
    second group's start reads the first group's results from the log, so it may only
    start once they are all written."""
    from pyqhn.driver import MemoryLog

    cost, circuits = _problem()
    c = circuits[2]
    eng = get_engine("exact")
    log = MemoryLog()
    first = circuit_groups(cost, [c], 6, optimizer=lbfgs_optimizer(max_iter=30),
                           batch_size=2)[0]
    second = Group("again", c, energy_objective(eng, c, cost, gradient=False), evaluate_only(),
                   6, start=lambda runs: log.angles()[c.name][runs], needs=(c.name,),
                   batch_size=2)
    table = _sorted(run_groups([first, second], log, progress=False, client=client))
    a = table[table["group"] == c.name]["e_final"].to_numpy()
    b = table[table["group"] == "again"]["e_final"].to_numpy()
    np.testing.assert_allclose(b, a, atol=1e-12)
    with pytest.raises(InputError, match="must come before it"):
        run_groups([second, first], MemoryLog(), progress=False, client=client)


def test_a_second_client_on_the_same_folder_is_refused(client, tmp_path):
    cost, circuits = _problem()
    with RunLog(tmp_path / "run", {"x": 1}, kind="train"):
        with pytest.raises(FolderBusyError, match="is being written by pid"):
            train_multistart(cost, circuits, 2, out=tmp_path / "run", progress=False,
                             client=client)


def test_a_worker_killed_mid_sweep_loses_and_duplicates_nothing(tmp_path):
    """SIGKILL a worker process while it trains a batch: Dask reschedules the batch, the
    sweep completes, every run is in the folder exactly once and equals the in-process
    result."""
    n = 8
    cost = np.random.default_rng(7).random(2**n)
    circuits = [brickwork_circuit(n, 4), brickwork_circuit(n, 6)]
    opt = lbfgs_optimizer(max_iter=150)
    runs = 8
    killed: list[int] = []

    with open_client(parse_cluster("local:2"), echo=lambda s: None) as c:
        def killer() -> None:
            deadline = time.time() + 60
            while time.time() < deadline and not killed:
                busy = {w: keys for w, keys in c.processing().items()
                        if any("run_batch" in str(k) for k in keys)}
                if busy and (tmp_path / "run" / "runs.csv").exists():
                    worker = next(iter(busy))
                    pid = c.run(os.getpid, workers=[worker])[worker]
                    os.kill(pid, signal.SIGKILL)
                    killed.append(pid)
                time.sleep(0.02)

        thread = threading.Thread(target=killer, daemon=True)
        thread.start()
        there = train_multistart(cost, circuits, runs, optimizer=opt, batch_size=1,
                                 progress=False, out=tmp_path / "run", client=c)
        thread.join()
    assert killed, "no worker was killed while it was training a batch"
    disk = _sorted(read_runs(tmp_path / "run"))
    assert len(disk) == 2 * runs and not disk.duplicated(KEY).any()
    here = _sorted(train_multistart(cost, circuits, runs, optimizer=opt, batch_size=1,
                                    progress=False))
    assert np.abs(here["e_final"].to_numpy() - _sorted(there)["e_final"].to_numpy()).max() \
        <= 1e-10


def test_train_on_a_local_cluster_from_the_command_line(tmp_path):
    cost = np.random.default_rng(5).random(2**5)
    np.savez(tmp_path / "c.npz", cost=cost)
    args = ["train", "--cost", str(tmp_path / "c.npz"), "--blocks", "2", "--product",
            "--runs", "3", "--max-iter", "30", "--no-progress"]
    res = CliRunner().invoke(main, [*args, "--out", str(tmp_path / "a"),
                                    "--cluster", "local:2"])
    assert res.exit_code == 0, res.output
    CliRunner().invoke(main, [*args, "--out", str(tmp_path / "b")])
    a, b = _sorted(read_runs(tmp_path / "a")), _sorted(read_runs(tmp_path / "b"))
    assert len(a) == 6 and np.abs(a["e_final"] - b["e_final"]).max() <= 1e-10


def test_time_limit_on_a_cluster_stops_submitting_and_resumes(client, tmp_path):
    cost, circuits = _problem()
    opt = lbfgs_optimizer(max_iter=20)
    kw = dict(optimizer=opt, batch_size=1, progress=False)
    groups = circuit_groups(cost, circuits[:1], 12, optimizer=opt, batch_size=1)
    with RunLog(tmp_path / "run", {"s": 1}, kind="train") as log:
        part = run_groups(groups, log, progress=False, client=client, time_limit=1e-9)
    # one round of at most two batches per worker was in flight when time ran out
    assert 1 <= len(part) <= 4
    with RunLog(tmp_path / "run", {"s": 1}, kind="train") as log:
        full = run_groups(groups, log, progress=False, client=client)
    assert len(full) == 12 and not full.duplicated(KEY).any()
    here = train_multistart(cost, circuits[:1], 12, **kw)
    np.testing.assert_allclose(_sorted(full)["e_final"], _sorted(here)["e_final"], atol=1e-10)


# --------------------------------------------- the local path's callbacks on a cluster


@pytest.fixture(scope="module")
def one_thread_client():
    """One in-process Dask worker with one thread: at most two batches in flight."""
    from distributed import Client, LocalCluster

    with LocalCluster(n_workers=1, threads_per_worker=1, processes=False,
                      dashboard_address=":0") as cluster, Client(cluster) as c:
        yield c


class _StopAfterOneBatch(Callback):
    """A caller's callback: no new batch once one is in the log."""

    def __init__(self):
        self.asked, self.finished = 0, 0

    def stop_before_batch(self, group: str) -> bool:
        self.asked += 1
        return self.finished > 0

    def on_batch_end(self, group: str, n_runs: int) -> None:
        self.finished += 1


def test_time_limit_callback_stops_new_batches_on_a_cluster(one_thread_client,
                                                            evaluate_only_groups):
    groups = evaluate_only_groups(6, 2)
    log = MemoryLog()
    part = run_groups(groups, log, progress=False, client=one_thread_client, time_limit=1e-9)
    # TimeLimit lets the first batch finish; the second was sent with it (two per worker)
    assert len(part) == 2 and sorted(part["run"]) == [0, 1]
    full = run_groups(groups, log, progress=False, client=one_thread_client)
    assert sorted(full["run"]) == list(range(6))


def test_a_callers_stop_before_batch_is_asked_on_a_cluster(one_thread_client, evaluate_only_groups):
    stop = _StopAfterOneBatch()
    part = run_groups(evaluate_only_groups(6, 2), None, progress=False, client=one_thread_client,
                      callbacks=[stop])
    assert stop.asked >= 3 and len(part) == 2  # two sent, then the callback said stop


def test_stop_request_callback_stops_a_cluster_sweep(one_thread_client, evaluate_only_groups):
    class RequestStop(Callback):
        def on_batch_end(self, group: str, n_runs: int) -> None:
            request_stop()  # as Ctrl-C would, once the first batch is in the log

    log = MemoryLog()
    try:
        with pytest.raises(Interrupted):
            run_groups(evaluate_only_groups(6, 2), log, progress=False, client=one_thread_client,
                       callbacks=[RequestStop()])
    finally:
        clear_stop()
    assert 1 <= len(log.finished()) <= 2
    full = run_groups(evaluate_only_groups(6, 2), log, progress=False, client=one_thread_client)
    assert sorted(full["run"]) == list(range(6))


def test_batches_sent_to_a_cluster_do_not_raise_on_a_stop_request(evaluate_only_groups):
    """A stop request is the client's to act on (between batches, cancelling those in
    flight): the batch it sends ignores the stop flag, which an in-process worker shares
    (an Interrupted raised inside its Dask task left the client waiting for ever), while
    a local batch still stops between steps."""
    from pyqhn.driver import run_batch

    (group,) = evaluate_only_groups(1, 2)
    request_stop()
    try:
        records = run_batch(group, [0], stop_on_request=False)
        with pytest.raises(Interrupted):
            run_batch(group, [0])
    finally:
        clear_stop()
    assert len(records) == 1
