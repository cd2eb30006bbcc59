import json

import numpy as np
import pytest
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


def test_enumerate_mnist_defaults_to_the_authors_encoding(tmp_path, reference_mnist):
    from pyqhn.cost import cost_table
    from pyqhn.datasets import mnist_pair
    from pyqhn.models import mnist_model

    out = tmp_path / "m.npz"
    res = CliRunner().invoke(main, ["enumerate", "--problem", "mnist", "--out", str(out),
                                    "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    cost, meta = load_cost(out)
    expected = cost_table(mnist_model(encoding=(-3, 1)), mnist_pair((0, 1)))
    np.testing.assert_array_equal(cost, expected)
    assert np.corrcoef(cost, reference_mnist["cost"])[0, 1] > 0.99
    assert rep["min_cost"] == pytest.approx(0.3152, abs=5e-4)
    assert meta["digits"] == [0, 1] and meta["encodings"][0].startswith("{-3,1} (authors'")
    assert "encoding={-3,1}" in rep["optimum"]
    # the paper text's {0, 1} is a named option: another table, optimum near ln 2
    res = CliRunner().invoke(main, ["enumerate", "--problem", "mnist", "--encoding", "0,1",
                                    "--out", str(tmp_path / "p.npz"), "--json"])
    assert res.exit_code == 0, res.output
    assert json.loads(res.stdout)["min_cost"] > 0.68


def test_enumerate_encoding_search_is_3_vs_7_with_encoding_bits_last(tmp_path):
    runner = CliRunner()
    res = runner.invoke(main, ["enumerate", "--problem", "mnist-encoding", "--size", "2",
                               "--out", str(tmp_path / "o.npz"), "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    original, meta = load_cost(tmp_path / "o.npz")
    assert meta["digits"] == [3, 7] and meta["layout"] == "original"
    assert rep["parameter_names"][-2:] == ["encoding[0]", "encoding[1]"]
    res = runner.invoke(main, ["enumerate", "--problem", "mnist-encoding", "--size", "2",
                               "--layout", "choices-first", "--digits", "3,7",
                               "--out", str(tmp_path / "c.npz")])
    assert res.exit_code == 0, res.output
    first, _ = load_cost(tmp_path / "c.npz")
    # the same networks: encoding bits moved from last to first
    np.testing.assert_allclose(original.reshape(-1, 4).T.ravel(), first, rtol=0, atol=1e-12)


def test_enumerate_gaussian_defaults_to_the_notebook(tmp_path):
    out = tmp_path / "g.npz"
    res = CliRunner().invoke(main, ["enumerate", "--problem", "gaussian-activation",
                                    "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    _, meta = load_cost(out)
    assert meta["n_samples"] == 10000 and meta["layout"] == "original"
    assert rep["parameter_names"][-1] == "activation[0]"
    assert rep["min_cost"] == pytest.approx(0.008, abs=0.001)  # the paper's C(w*) ≈ 0.008
    assert rep["optimum_detail"]["activation"] == "relu"


@pytest.mark.parametrize("args,option", [
    (["--problem", "gaussian-width", "--encoding", "0,1"], "--encoding"),
    (["--problem", "mnist-encoding", "--encoding", "0,1"], "--encoding"),
    (["--problem", "gaussian-width", "--digits", "0,1"], "--digits"),
    (["--problem", "mnist", "--n-samples", "100"], "--n-samples"),
    (["--problem", "mnist", "--layout", "weights-first"], "--layout"),
])
def test_enumerate_refuses_options_of_other_problems(tmp_path, args, option):
    res = CliRunner().invoke(main, ["enumerate", *args, "--out", str(tmp_path / "x.npz")])
    assert res.exit_code == 2 and option in res.output, res.output
    assert not (tmp_path / "x.npz").exists()


def test_cli_layout_names_are_the_models():
    from pyqhn.cli.problem_commands import _LAYOUTS
    from pyqhn.models import LAYOUTS

    assert _LAYOUTS == LAYOUTS
