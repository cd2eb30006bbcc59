"""The `pyqhn energy` / `pyqhn train` contract."""

import numpy as np
import pandas as pd
from click.testing import CliRunner

import pyqhn  # noqa: F401
from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.cli import main
from pyqhn.engines import exact


def _files(tmp_path, n=5, blocks=3, rows=3, product=False):
    c = product_circuit(n) if product else brickwork_circuit(n, blocks)
    cost = np.random.default_rng(0).random(2**n)
    theta = random_params(c, rows, seed=4)
    np.savetxt(tmp_path / "cost.txt", cost, fmt="%.17g")
    e = np.asarray(exact.energy(c, theta, cost))
    # the original params.txt layout: angles then an energy column
    np.savetxt(tmp_path / "params.txt", np.column_stack([theta, e]), fmt="%.17g")
    np.savez(tmp_path / "p.npz", theta=theta)
    np.savez(tmp_path / "c.npz", cost=cost)
    return c, cost, theta, e


def _energies(out: str) -> np.ndarray:
    return np.array([float(v) for v in out.strip().splitlines()])


def test_energy_text_and_npz_formats(tmp_path):
    c, cost, theta, e = _files(tmp_path)
    r = CliRunner().invoke(main, ["energy", "--cost", str(tmp_path / "cost.txt"), "--theta",
                                  str(tmp_path / "params.txt"), "--blocks", "3"])
    assert r.exit_code == 0, r.output
    np.testing.assert_allclose(_energies(r.output), e, rtol=0, atol=1e-13)
    r = CliRunner().invoke(main, ["energy", "--cost", str(tmp_path / "c.npz"), "--theta",
                                  str(tmp_path / "p.npz"), "--blocks", "3"])
    np.testing.assert_allclose(_energies(r.output), e, rtol=0, atol=1e-13)


def test_energy_product_and_noise(tmp_path):
    c, cost, theta, e = _files(tmp_path, product=True)
    args = ["energy", "--cost", str(tmp_path / "c.npz"), "--theta", str(tmp_path / "p.npz"),
            "--product"]
    clean = _energies(CliRunner().invoke(main, args).output)
    np.testing.assert_allclose(clean, e, atol=1e-13)
    zero = _energies(CliRunner().invoke(main, args + ["--noise", "0"]).output)
    np.testing.assert_allclose(zero, e, atol=1e-13)
    noisy = _energies(CliRunner().invoke(main, args + ["--noise", "1"]).output)
    assert np.all(np.abs(noisy - e) > 1e-6)  # noise moves the energy
    assert np.all(np.abs(noisy - e) < 0.1)


def test_energy_wrong_column_count_is_a_clear_error(tmp_path):
    _files(tmp_path)
    r = CliRunner().invoke(main, ["energy", "--cost", str(tmp_path / "cost.txt"), "--theta",
                                  str(tmp_path / "params.txt"), "--blocks", "2"])
    assert r.exit_code == 2
    assert "--blocks" in r.output


def test_energy_cost_not_power_of_two(tmp_path):
    np.savetxt(tmp_path / "bad.txt", np.ones(12))
    np.savetxt(tmp_path / "t.txt", np.zeros((1, 8)))
    r = CliRunner().invoke(main, ["energy", "--cost", str(tmp_path / "bad.txt"), "--theta",
                                  str(tmp_path / "t.txt")])
    assert r.exit_code == 2 and "--cost" in r.output
    assert "2**" in r.output or "power of two" in r.output


def test_train_writes_runs_and_resumes(tmp_path):
    _files(tmp_path, n=4)
    args = ["train", "--cost", str(tmp_path / "cost.txt"), "--blocks", "2", "--product",
            "--max-iter", "30", "--no-progress", "--out", str(tmp_path / "runs")]
    r = CliRunner().invoke(main, args + ["--runs", "2"])
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "runs" / "runs.csv")
    assert sorted(table["circuit"].unique()) == ["blocks=2", "product"]
    assert len(table) == 4
    r = CliRunner().invoke(main, args + ["--runs", "3"])  # resume: only run 2 is new
    assert r.exit_code == 0, r.output
    table = pd.read_csv(tmp_path / "runs" / "runs.csv")
    assert len(table) == 6 and not table.duplicated(["circuit", "run"]).any()


def test_train_line_search_and_memory_options(tmp_path):
    """--line-search armijo --memory 10 reproduces pyqhn's earlier settings record; the
    default (OptimKit's Hager–Zhang, memory 8) cannot resume such a folder."""
    import json

    _files(tmp_path, n=4)
    args = ["train", "--cost", str(tmp_path / "cost.txt"), "--blocks", "2", "--runs", "2",
            "--max-iter", "20", "--no-progress", "--out", str(tmp_path / "runs")]
    r = CliRunner().invoke(main, args + ["--line-search", "armijo", "--memory", "10"])
    assert r.exit_code == 0, r.output
    settings = json.loads((tmp_path / "runs" / "runlog.json").read_text())["settings"]
    assert settings["optimizer.line_search"] == "backtracking-armijo"
    assert settings["optimizer.memory_size"] == 10
    r = CliRunner().invoke(main, args)
    assert r.exit_code == 2 and "line_search" in r.output
    r = CliRunner().invoke(main, args + ["--line-search", "wolfe"])
    assert r.exit_code == 2 and "--line-search" in r.output
