"""Your own data on the command line: ``pyqhn train --data`` / ``--problem``,
``pyqhn enumerate --data``; bad input refused before any work, naming the option."""

from __future__ import annotations

import json

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pyqhn.cli import main
from pyqhn.cli.own_data import parse_model_spec


def _csv(path, n=120, seed=0):
    """Four features on unlike scales, string labels of a ±1 rule (column 'kind')."""
    rng = np.random.default_rng(seed)
    z = rng.normal(size=(n, 4))
    label = np.where(z @ np.array([1.0, -1.0, 1.0, 1.0]) + 1 > 0, "spam", "ham")
    frame = pd.DataFrame(z * [1.0, 50.0, 0.01, 3.0] + [0, 1000, 0, 5],
                         columns=["a", "b", "c", "d"])
    frame.insert(2, "kind", label)
    frame.to_csv(path, index=False)
    return path


def test_train_on_a_csv_prints_test_accuracy_and_writes_summary_and_network(tmp_path):
    data = _csv(tmp_path / "mail.csv")
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["train", "--data", str(data), "--target", "kind",
                                    "--test-fraction", "0.25", "--circuit", "N_layer=1",
                                    "--out", str(out), "--no-progress"])
    assert res.exit_code == 0, res.output
    assert "test accuracy" in res.output
    summary = json.loads((out / "summary.json").read_text())
    assert summary["n_qubits"] == 5 and summary["regime"] == "exact"
    assert summary["classes"] == ["ham", "spam"] and summary["n_test"] == 30
    assert summary["test_accuracy"] > 0.85 and summary["train_accuracy"] > 0.85
    network = json.loads((out / "network.json").read_text())
    assert network["features"] == ["a", "b", "c", "d"] and len(network["weights"][0]) == 4
    assert set(np.ravel(network["weights"][0])) <= {-1.0, 1.0}
    runs = pd.read_csv(out / "runs.csv")
    assert set(runs["circuit"]) == {"blocks=2"} and len(runs) == 8  # 8 exact runs
    # rerunning resumes: nothing new is trained, the same answer comes back
    again = CliRunner().invoke(main, ["train", "--data", str(data), "--target", "kind",
                                      "--test-fraction", "0.25", "--circuit", "blocks=2",
                                      "--out", str(out), "--no-progress"])
    assert again.exit_code == 0, again.output
    assert json.loads((out / "summary.json").read_text())["test_accuracy"] == \
        summary["test_accuracy"]


@pytest.mark.parametrize("args,option", [
    (["--target", "nope"], "--target"),
    (["--target", "a", "--model", "hidden=0"], "--model"),
    (["--target", "kind", "--model", "depth=3"], "--model"),
    (["--target", "kind", "--circuit", "N_layer=x"], "--circuit"),
    (["--target", "kind", "--cost", "nothing.npz"], "--cost"),
    (["--target", "kind", "--engine", "julia"], "--engine"),
])
def test_bad_own_data_input_is_a_usage_error_naming_the_option(tmp_path, args, option):
    data = _csv(tmp_path / "mail.csv", n=20)
    out = tmp_path / "run"
    res = CliRunner().invoke(main, ["train", "--data", str(data), *args, "--out", str(out)])
    assert res.exit_code == 2, res.output
    assert option in res.output
    assert not out.exists()  # refused before any work


def test_a_text_feature_column_and_a_missing_file_are_named(tmp_path):
    data = _csv(tmp_path / "mail.csv", n=20)
    res = CliRunner().invoke(main, ["train", "--data", str(data), "--target", "a",
                                    "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "kind" in res.output and "not numeric" in res.output
    res = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "no.csv"),
                                    "--out", str(tmp_path / "r")])
    assert res.exit_code == 2 and "--data" in res.output and "no such file" in res.output


def test_model_specs_from_a_string_and_from_toml(tmp_path):
    spec = parse_model_spec("hidden=3;activations=sigmoid,relu;encodings=-1:1,0:1")
    assert spec == {"hidden_layers": (3,), "activations": ("sigmoid", "relu"),
                    "encodings": ((-1.0, 1.0), (0.0, 1.0))}
    toml = tmp_path / "m.toml"
    toml.write_text('hidden = [3]\nactivations = ["sigmoid", "relu"]\n'
                    'encodings = [[-1, 1], [0, 1]]\n')
    assert parse_model_spec(str(toml)) == spec
    assert parse_model_spec(None) == parse_model_spec("linear") == {}


def test_npz_data_and_a_problem_factory(tmp_path, monkeypatch):
    rng = np.random.default_rng(1)
    x = rng.normal(size=(90, 3))
    y = (x @ np.array([1.0, 1.0, -1.0]) + 1 > 0).astype(int)
    np.savez(tmp_path / "d.npz", X=x, y=y)
    res = CliRunner().invoke(main, ["train", "--data", str(tmp_path / "d.npz"), "--circuit",
                                    "product", "--runs", "2", "--out", str(tmp_path / "a"),
                                    "--no-progress"])
    assert res.exit_code == 0, res.output
    assert json.loads((tmp_path / "a" / "summary.json").read_text())["n_qubits"] == 4
    npz = str(tmp_path / "d.npz")
    (tmp_path / "myproblem.py").write_text(
        "import numpy as np\nfrom pyqhn.models import AugmentedBiNN\n"
        "def make():\n"
        f"    d = np.load({npz!r})\n"
        "    return AugmentedBiNN((3, 1), loss='cross_entropy'), (d['X'], d['y'])\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    res = CliRunner().invoke(main, ["train", "--problem", "myproblem:make", "--circuit",
                                    "product", "--runs", "2", "--test-fraction", "0.2",
                                    "--out", str(tmp_path / "b"), "--no-progress"])
    assert res.exit_code == 0, res.output
    summary = json.loads((tmp_path / "b" / "summary.json").read_text())
    assert summary["problem"] == "myproblem:make" and summary["test_accuracy"] > 0.8


def test_enumerate_own_data_and_refuse_a_table_too_large(tmp_path):
    data = _csv(tmp_path / "mail.csv", n=60)
    res = CliRunner().invoke(main, ["enumerate", "--data", str(data), "--target", "kind",
                                    "--out", str(tmp_path / "c.npz"), "--json"])
    assert res.exit_code == 0, res.output
    report = json.loads(res.output)
    assert report["n_qubits"] == 5 and report["train_accuracy"] > 0.85
    wide = pd.DataFrame(np.random.default_rng(0).normal(size=(10, 40)))
    wide["y"] = np.arange(10) % 2
    wide.to_csv(tmp_path / "wide.csv", index=False)
    res = CliRunner().invoke(main, ["enumerate", "--data", str(tmp_path / "wide.csv"),
                                    "--out", str(tmp_path / "w.npz")])
    assert res.exit_code == 2 and "train it from samples" in res.output


def test_reproduce_mnist8x8_takes_digits(tmp_path):
    from pyqhn import datasets
    from pyqhn.experiments.mnist8x8 import Mnist8x8Spec, _problem

    model, split = _problem(Mnist8x8Spec(digits=(3, 8)))
    n = sum(s.n_samples for s in (split.train, split.val, split.test))
    assert n == datasets.mnist_pair((3, 8), size=8).n_samples and model.n_qubits == 66
    res = CliRunner().invoke(main, ["reproduce", "mnist8x8", "--digits", "3,3", "--out",
                                    str(tmp_path / "m")])
    assert res.exit_code == 2 and "--digits" in res.output


def test_baseline_on_a_csv_searches_the_model_bits_within_the_budget(tmp_path):
    data = _csv(tmp_path / "mail.csv")
    out = tmp_path / "searches"
    args = ["baseline", "--data", str(data), "--target", "kind", "--test-fraction", "0.25",
            "--runs", "6", "--budget", "40", "--out", str(out), "--no-progress"]
    res = CliRunner().invoke(main, [*args, "--method", "random", "--method", "exhaustive"])
    assert res.exit_code == 0, res.output
    # a second call with another method adds it; the earlier methods stay in the summary
    res = CliRunner().invoke(main, [*args, "--method", "sa"])
    assert res.exit_code == 0, res.output
    summary = json.loads((out / "summary.json").read_text())
    methods = {m["method"]: m for m in summary["methods"]}
    assert set(methods) == {"random", "exhaustive", "sa"} and summary["n_qubits"] == 5
    # exhaustive search evaluates all 2**5 networks once and finds C*
    assert methods["exhaustive"]["runs"] == 1 and methods["exhaustive"]["successes"] == 1
    assert methods["exhaustive"]["mean_evaluations"] == 32
    assert methods["exhaustive"]["best_cost"] == pytest.approx(summary["c_star"], abs=1e-12)
    for name in ("random", "sa"):
        assert methods[name]["runs"] == 6 and methods[name]["mean_evaluations"] <= 40
        assert methods[name]["best_cost"] >= summary["c_star"] - 1e-12
    assert summary["classes"] == ["ham", "spam"] and summary["test_accuracy"] > 0.85
    network = json.loads((out / "network.json").read_text())
    assert network["classes"] == ["ham", "spam"] and network["text"] == summary["network"]


@pytest.mark.parametrize("extra, option", [
    (["--quick"], "--quick"), (["--digits", "3,7"], "--digits"),
    (["--problem", "fig4"], "--problem"), (["--model", "nope"], "--model")])
def test_baseline_on_data_refuses_paper_options_and_bad_models(tmp_path, extra, option):
    data = _csv(tmp_path / "mail.csv")
    res = CliRunner().invoke(main, ["baseline", "--data", str(data), "--target", "kind",
                                    "--method", "sa", "--out", str(tmp_path / "o"), *extra])
    assert res.exit_code == 2, res.output
    assert option in res.output and not (tmp_path / "o").exists()


def test_baseline_refuses_a_model_beyond_enumeration_before_any_work(tmp_path):
    rng = np.random.default_rng(0)
    x = rng.normal(size=(40, 24))
    np.savez(tmp_path / "wide.npz", X=x, y=(x[:, 0] > 0).astype(int))
    res = CliRunner().invoke(main, ["baseline", "--data", str(tmp_path / "wide.npz"),
                                    "--method", "sa", "--out", str(tmp_path / "o")])
    assert res.exit_code == 2, res.output
    assert "25 bits" in res.output and "pyqhn train --data" in res.output
