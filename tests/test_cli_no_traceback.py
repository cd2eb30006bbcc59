"""Every command, with each bad option value and with each missing extra, exits 1 or 2
with one sentence (``Error: …``) before any work: never a traceback.

The options are found by walking the click commands, so a new option is probed without
a change here. Training and enumeration are replaced by a tripwire: a bad value that
gets as far as them was accepted, which fails the test (and keeps it fast).
"""

from __future__ import annotations

import click
import numpy as np
import pytest
from click.testing import CliRunner

from pyqhn.cli import main
from pyqhn.cli.options import FiniteFloat


class WorkStarted(Exception):
    """Raised by the tripwires: the command got past its checks."""


def _commands(cmd: click.Command = main, path: tuple[str, ...] = ()):
    if isinstance(cmd, click.Group):  # list_commands: `reproduce` builds its commands lazily
        ctx = click.Context(cmd)
        for name in sorted(cmd.list_commands(ctx)):
            yield from _commands(cmd.get_command(ctx, name), (*path, name))
    else:
        yield path, cmd


COMMANDS = dict(_commands())


def _bad_values(param: click.Parameter) -> list[str]:
    """Values of ``param`` that are wrong for its type or its meaning."""
    t, name = param.type, param.name
    if isinstance(t, click.Choice):
        return ["nope"]
    if isinstance(t, click.IntRange):
        out = ["x"]
        out += [str(t.min - 1)] if t.min is not None else []
        out += [str(t.max + 1)] if t.max is not None else []
        return out
    if isinstance(t, click.FloatRange):
        return ["x", str(t.min)] if t.min is not None else ["x"]
    if isinstance(t, FiniteFloat):
        return ["nan", "x"] + ([str(t.low - 1)] if t.low is not None else [])
    if t is click.INT:
        return ["x", "0"]  # train --blocks
    if isinstance(t, click.Path):
        if name in ("out", "out_dir"):
            return ["FILE"] if not t.file_okay else ["DIR"]
        if name == "plot":
            return ["plot.xyz"]
        return ["/nonexistent/x.npz"]
    bad = {"cluster_text": ["nope:3", "local:0", "tcp://nohost"],
           "digits": ["x,y", "3,3", "1,2,3"], "encoding": ["1", "a,b", "1,1"],
           "blocks": ["x", "0"], "objectives": ["nope"], "datasets": ["nope"],
           "data_file": ["/nonexistent/x.csv", "FILE"], "target": ["nope"],
           "model_spec": ["nope", "/nonexistent/model.toml"],
           "problem_factory": ["nope", "no_such_module:factory", "os:getcwd"],
           "circuit_names": ["nope", "N_layer=x"], "methods": ["nope"]}
    return bad[name]


@pytest.fixture
def files(tmp_path):
    cost = tmp_path / "cost.npz"
    np.savez(cost, cost=np.random.default_rng(0).random(8))
    theta = tmp_path / "theta.txt"
    np.savetxt(theta, np.zeros((1, 6)))
    (tmp_path / "FILE").write_text("a file\n")
    (tmp_path / "DIR").mkdir()
    rows = np.random.default_rng(1).normal(size=(20, 2))
    data = tmp_path / "data.csv"
    data.write_text("a,b,label\n" + "".join(f"{a},{b},{int(a > 0)}\n" for a, b in rows))
    return {"cost": str(cost), "theta": str(theta), "data": str(data), "tmp": tmp_path}


#: ``train`` options that apply to your own data: probed on a ``train --data`` invocation.
DATA_OPTIONS = ("--data", "--target", "--model", "--circuit", "--shots", "--epsilon",
                "--learning-rate", "--test-fraction")


def _base(path: tuple[str, ...], files, option: str | None = None) -> list[str]:
    """A valid invocation of the command (before the option under test)."""
    out = str(files["tmp"] / "out")
    if path == ("train",) and option in DATA_OPTIONS:
        return ["train", "--data", files["data"], "--out", out, "--no-progress"]
    if path == ("baseline",) and option in DATA_OPTIONS:
        return ["baseline", "--data", files["data"], "--method", "sa", "--runs", "2",
                "--out", out, "--no-progress"]
    if path == ("train",) and option == "--problem":
        return ["train", "--out", out, "--no-progress"]
    return {
        ("energy",): ["energy", "--cost", files["cost"], "--theta", files["theta"]],
        ("train",): ["train", "--cost", files["cost"], "--blocks", "1", "--out", out,
                     "--no-progress"],
        ("enumerate",): ["enumerate", "--problem", "mnist", "--out",
                         str(files["tmp"] / "t.npz")],
        ("fourier",): ["fourier", files["cost"]],
        ("baseline",): ["baseline", "--problem", "fig4", "--method", "sa", "--quick",
                        "--out", out, "--no-progress"],
        ("doctor",): ["doctor"],
        ("benchmark",): ["benchmark", "--suite", "tiny", "--out", out, "--no-progress"],
    }.get(path, [*path, "--out", out] + (["--quick"] if path[-1] != "all" else ["--quick"])
          + (["--no-progress"] if path[-1] != "mnist8x8" else []))


@pytest.fixture
def tripwires(monkeypatch):
    """Training and enumeration raise :class:`WorkStarted`."""
    import pyqhn.benchmark.suite
    import pyqhn.cost
    import pyqhn.driver
    import pyqhn.experiments.base
    import pyqhn.experiments.fourier_spectrum
    import pyqhn.pipeline

    def trip(*args, **kwargs):
        raise WorkStarted

    for module, attr in ((pyqhn.driver, "train_multistart"), (pyqhn.cost, "cost_table"),
                         (pyqhn.experiments.base, "run_groups"),
                         (pyqhn.pipeline, "_enumerate_cost"),
                         (pyqhn.experiments.fourier_spectrum, "_run_spectrum"),
                         (pyqhn.benchmark.suite, "run_suite"),
                         (pyqhn.benchmark.suite, "tables_only")):
        monkeypatch.setattr(module, attr, trip)


def _check(res, codes=(1, 2)) -> str:
    assert not isinstance(res.exception, WorkStarted), "a bad value was accepted"
    assert res.exit_code in codes, (res.exit_code, res.output, res.exception)
    assert "Traceback" not in res.output, res.output
    line = res.output.strip().splitlines()[-1]
    assert line.startswith("Error: "), res.output
    return line


CASES = [(path, param.opts[0] if isinstance(param, click.Option) else param.name, value)
         for path, cmd in COMMANDS.items() for param in cmd.params
         if not getattr(param, "is_flag", False) and param.name != "help"
         for value in _bad_values(param)]


@pytest.mark.parametrize("path, option, value", CASES,
                         ids=[f"{' '.join(p)} {o}={v}" for p, o, v in CASES])
def test_bad_option_value_is_one_sentence(files, tripwires, path, option, value):
    args = _base(path, files, option)
    if value in ("FILE", "DIR"):
        value = str(files["tmp"] / value)
    if value == "plot.xyz":
        value = str(files["tmp"] / value)
    if option.startswith("--"):
        if option in args:  # replace the base's valid value
            i = args.index(option)
            args = args[:i] + args[i + 2:]
        args = [*args, option, value]
    else:  # fourier's COST_FILE argument
        args = [path[0], value]
    res = CliRunner().invoke(main, args)
    _check(res)


CLUSTER_COMMANDS = [p for p, c in COMMANDS.items()
                    if any(getattr(x, "name", "") == "cluster_text" for x in c.params)]


@pytest.mark.parametrize("path", CLUSTER_COMMANDS, ids=[" ".join(p) for p in CLUSTER_COMMANDS])
def test_cluster_option_without_the_extra_is_one_sentence(files, tripwires, monkeypatch, path,
                                                           hide_modules):
    hide_modules("dask", "distributed", "dask_jobqueue")
    for spec in ("local:2", "slurm"):
        res = CliRunner().invoke(main, [*_base(path, files), "--cluster", spec])
        assert 'pip install "pyqhn[cluster]"' in _check(res, codes=(1,))
    assert not (files["tmp"] / "out").exists()


@pytest.mark.parametrize("args", [("energy", "--engine", "julia"),
                                  ("train", "--engine", "julia"),
                                  ("train", "--optimizer", "optimkit-lbfgs"),
                                  ("train", "--optimizer", "bbo-probabilistic-descent")])
def test_julia_options_without_juliacall_are_one_sentence(files, tripwires, monkeypatch,
                                                          args, hide_modules):
    hide_modules("juliacall")
    res = CliRunner().invoke(main, [*_base(args[:1], files), *args[1:]])
    assert 'pip install "pyqhn[julia]"' in _check(res, codes=(1,))


def test_doctor_without_juliacall_reports_and_exits_1(monkeypatch, hide_modules):
    hide_modules("juliacall")
    res = CliRunner().invoke(main, ["doctor"])
    assert res.exit_code == 1 and "Traceback" not in res.output
    assert "juliacall         not installed" in res.output
