"""Bad input is a usage error (exit 2) naming the file or option, before any work; no run
folder ever mixes results of other settings."""

from __future__ import annotations

import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pyqhn  # noqa: F401
from pyqhn.cli import main


def _invoke(args: list[str]):
    return CliRunner().invoke(main, [str(a) for a in args])


@pytest.fixture()
def tables(tmp_path: Path) -> dict[str, Path]:
    rng = np.random.default_rng(0)
    paths = {}
    for name, n in (("a", 4), ("b", 4), ("c", 5)):
        paths[name] = tmp_path / f"{name}.npz"
        np.savez(paths[name], cost=rng.random(2**n))
    return paths


TRAIN = ["train", "--blocks", "2", "--runs", "2", "--max-iter", "20", "--no-progress"]


SETTINGS = {"--cost": "a", "--seed": "0", "--max-iter": "20", "--gtol": "1e-6",
            "--objective": "mle"}


def _train_args(tables, out, settings, extra=()):
    flat = [v for k, x in settings.items() for v in (k, tables.get(x, x))]
    return ["train", "--blocks", "2", "--runs", "2", "--no-progress", "--out", out, *flat,
            *extra]


@pytest.mark.parametrize("option,value,extra,name", [
    ("--cost", "b", (), "cost"),
    ("--cost", "c", (), "cost"),  # another qubit count
    ("--seed", "3", (), "seed"),
    ("--max-iter", "21", (), "optimizer.max_iter"),
    ("--gtol", "1e-5", (), "optimizer.gtol"),
    ("--line-search", "armijo", (), "optimizer.line_search"),
    ("--memory", "10", (), "optimizer.memory_size"),
    ("--objective", "elbo", ("--n-train", "10"), "objective"),
])
def test_train_refuses_to_resume_with_other_settings(tmp_path, tables, option, value, extra,
                                                     name):
    out = tmp_path / "runs"
    first = _invoke(_train_args(tables, out, SETTINGS))
    assert first.exit_code == 0, first.output
    before = (out / "runs.csv").read_bytes()
    res = _invoke(_train_args(tables, out, dict(SETTINGS, **{option: value}), extra))
    assert res.exit_code == 2, res.output
    assert "other settings" in res.output and name in res.output
    assert (out / "runs.csv").read_bytes() == before  # nothing written, nothing lost
    again = _invoke(_train_args(tables, out, dict(SETTINGS), ("--runs", "3")))
    assert again.exit_code == 0, again.output  # the same settings extend the sweep
    assert len(pd.read_csv(out / "runs.csv")) == 3


def test_problem_train_refuses_another_problem(tmp_path):
    from pyqhn import datasets, models
    from pyqhn.pipeline import Problem
    from pyqhn.runlog import SettingsMismatchError

    model = models.AugmentedBiNN(layers=(2, 1))
    Problem(model, datasets.gaussian_mixture(50, seed=1)).train(
        ["product"], 2, epsilon=0.1, out=tmp_path, max_iter=5, progress=False)
    with pytest.raises(SettingsMismatchError, match="cost"):
        Problem(model, datasets.gaussian_mixture(50, seed=2)).train(
            ["product"], 2, epsilon=0.1, out=tmp_path, max_iter=5, progress=False)


def test_cut_runs_file_is_repaired_and_the_run_redone(tmp_path, tables):
    out = tmp_path / "runs"
    args = [*TRAIN, "--cost", tables["a"], "--out", out]
    assert _invoke(args).exit_code == 0
    full = pd.read_csv(out / "runs.csv")
    text = (out / "runs.csv").read_text()
    (out / "runs.csv").write_text(text[:-30])  # a crash cut the last row
    res = _invoke(args)
    assert res.exit_code == 0, res.output
    again = pd.read_csv(out / "runs.csv")
    assert len(again) == len(full) and not again.duplicated(["group", "run"]).any()
    np.testing.assert_allclose(again["e_final"], full["e_final"], atol=1e-12)


@pytest.mark.parametrize("args,option", [
    (["train", "--blocks", "0", "--runs", "1"], "--product"),
    (["train", "--blocks", "2", "--blocks", "2"], "given twice"),
    (["train", "--blocks", "2", "--gtol", "nan"], "--gtol"),
    (["train", "--blocks", "2", "--gtol", "0"], "--gtol"),
    (["train", "--blocks", "2", "--runs", "0"], "--runs"),
    (["train", "--blocks", "2", "--batch-size", "-1"], "--batch-size"),
    (["train", "--blocks", "2", "--objective", "elbo"], "--n-train"),
])
def test_train_option_errors(tmp_path, tables, args, option):
    res = _invoke([*args, "--cost", tables["a"], "--out", tmp_path / "o"])
    assert res.exit_code == 2, res.output
    assert option in res.output
    assert not (tmp_path / "o").exists()  # refused before any work


def test_unwritable_out_is_refused_before_training(tmp_path, tables):
    blocker = tmp_path / "file"
    blocker.write_text("not a folder")
    res = _invoke([*TRAIN, "--cost", tables["a"], "--out", blocker / "runs"])
    assert res.exit_code == 2, res.output
    assert "output folder" in res.output


@pytest.mark.parametrize("noise", ["-1", "1000", "nan"])
def test_energy_noise_out_of_range(tmp_path, tables, noise):
    np.savetxt(tmp_path / "t.txt", np.zeros((1, 16)))
    res = _invoke(["energy", "--cost", tables["a"], "--theta", tmp_path / "t.txt",
                   "--blocks", "2", "--noise", noise])
    assert res.exit_code == 2, res.output
    assert "--noise" in res.output


def test_energy_bad_theta_file_names_the_option(tmp_path, tables):
    (tmp_path / "t.txt").write_text("1 2 x\n")
    res = _invoke(["energy", "--cost", tables["a"], "--theta", tmp_path / "t.txt"])
    assert res.exit_code == 2 and "--theta" in res.output


def test_corrupt_cost_file_names_the_option(tmp_path):
    (tmp_path / "bad.npz").write_bytes(b"PK\x03\x04 not a zip")
    res = _invoke([*TRAIN, "--cost", tmp_path / "bad.npz", "--out", tmp_path / "o"])
    assert res.exit_code == 2 and "--cost" in res.output


def test_enumerate_unknown_suffix_fails_before_enumerating(tmp_path):
    t0 = time.perf_counter()
    res = _invoke(["enumerate", "--problem", "mnist-encoding", "--out", tmp_path / "x.foo"])
    assert res.exit_code == 2, res.output
    assert "--out" in res.output and ".npz" in res.output
    assert time.perf_counter() - t0 < 5  # no 2**19 enumeration happened


def test_fourier_unknown_plot_format_fails_before_the_transform(tmp_path, tables):
    res = _invoke(["fourier", tables["a"], "--plot", tmp_path / "w.unknownext"])
    assert res.exit_code == 2, res.output
    assert "--plot" in res.output and ".png" in res.output


def test_reproduce_options_are_validated(tmp_path):
    res = _invoke(["reproduce", "fig2", "--quick", "--runs", "0", "--out", tmp_path / "f"])
    assert res.exit_code == 2 and "--runs" in res.output
    res = _invoke(["reproduce", "fig6", "--quick", "--runs", "3", "--out", tmp_path / "f"])
    assert res.exit_code == 2 and "--runs" in res.output  # fig6 trains nothing
    res = _invoke(["reproduce", "fig2", "--quick", "--encoding", "0,1", "--out", tmp_path])
    assert res.exit_code == 2 and "--encoding" in res.output  # fig4 only
    res = _invoke(["reproduce", "fig4", "--quick", "--encoding", "1,1", "--out", tmp_path])
    assert res.exit_code == 2 and "--encoding" in res.output


def test_corrupt_cached_cost_table_is_enumerated_again(tmp_path):
    out = tmp_path / "fig8"
    args = ["reproduce", "fig8", "--quick", "--runs", "1", "--max-steps", "5",
            "--no-progress", "--out", out]
    assert _invoke(args).exit_code == 0
    summary = (out / "summary.json").read_text()
    (out / "cost.npz").write_bytes(b"garbage")
    with pytest.warns(RuntimeWarning, match="cannot be read"):
        res = _invoke(args)
    assert res.exit_code == 0, res.output
    with np.load(out / "cost.npz") as f:
        assert f["cost"].size == 2**10
    assert '"c_star"' in summary and summary.split('"c_star"')[1][:30] == (
        (out / "summary.json").read_text().split('"c_star"')[1][:30])


def test_second_writer_is_refused_at_once(tmp_path, tables):
    """Two processes on one --out: the second exits 2 while the first writes; the first
    stops cleanly on Ctrl-C and the table has no duplicate."""
    import signal

    out = tmp_path / "runs"
    cmd = [sys.executable, "-m", "pyqhn", "train", "--blocks", "4", "--runs", "400",
           "--max-iter", "500", "--batch-size", "1", "--no-progress", "--cost",
           str(tables["c"]), "--out", str(out)]
    first = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        deadline = time.time() + 120
        while not (out / "runs.csv").exists():  # the first is mid-sweep
            assert time.time() < deadline and first.poll() is None
            time.sleep(0.05)
        second = subprocess.run(cmd, capture_output=True, text=True, timeout=120)
        assert first.poll() is None  # the first still held the folder
        assert second.returncode == 2, second.stderr
        assert "being written by pid" in second.stderr and str(first.pid) in second.stderr
    finally:
        first.send_signal(signal.SIGINT)
        out_text, _ = first.communicate(timeout=120)
    assert first.returncode == 130, out_text
    table = pd.read_csv(out / "runs.csv")
    assert 0 < len(table) < 400 and not table.duplicated(["group", "run"]).any()
