import json

import numpy as np
from click.testing import CliRunner

from pyqhn.cli import main
from pyqhn.cost import load_cost


def test_enumerate_gaussian_activation_json(tmp_path):
    out = tmp_path / "g.npz"
    res = CliRunner().invoke(main, ["enumerate", "--problem", "gaussian-activation",
                                    "--n-samples", "60", "--seed", "1", "--out", str(out),
                                    "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)  # --json: JSON only
    cost, meta = load_cost(out)
    assert rep["n_qubits"] == 14 and cost.size == 2**14
    assert rep["argmin"] == int(np.argmin(cost)) and rep["min_cost"] == cost.min()
    assert "activation=" in rep["optimum"] and "encoding=" in rep["optimum"]
    assert meta["problem"] == "gaussian-activation" and meta["seed"] == 1

    res = CliRunner().invoke(main, ["fourier", str(out), "--json",
                                    "--plot", str(tmp_path / "w.png")])
    assert res.exit_code == 0, res.output
    w = json.loads(res.stdout)["W"]
    assert len(w) == 15 and np.isclose(sum(w), np.mean(cost**2))
    assert (tmp_path / "w.png").stat().st_size > 0


def test_enumerate_mnist_small_size(tmp_path):
    out = tmp_path / "m.npz"
    res = CliRunner().invoke(main, ["enumerate", "--problem", "mnist-encoding", "--size", "2",
                                    "--digits", "3,7", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)  # --json: JSON only
    assert rep["n_qubits"] == 7 and "encoding={" in rep["optimum"]


def test_fourier_rejects_bad_table(tmp_path):
    bad = tmp_path / "bad.txt"
    bad.write_text("1\n2\n3\n")
    res = CliRunner().invoke(main, ["fourier", str(bad)])
    assert res.exit_code != 0 and "2**N" in res.output
