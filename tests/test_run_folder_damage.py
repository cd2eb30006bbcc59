"""A damaged run folder: every file × every kind of damage × {resume, summary rebuild}.

Each case ends in a repair with a warning (and then the very table and summary of an
undamaged folder), or in a one-line refusal that names the file and says what to do.
Never another exception, never a silently wrong table, never a stray temporary file.

The folder is a real ``pyqhn baseline``-style figure folder (Fig. 2's quick problem with
the simulated-annealing baseline: a cost cache, a run log, a summary). Its figure is
not drawn here (1.5 s per case): the figure is not what is damaged or checked.
"""

from __future__ import annotations

import json
import shutil
import warnings

import numpy as np
import pytest

import pyqhn.experiments.multistart as multistart
from pyqhn.checks import InputError
from pyqhn.runlog import RunLogWarning, read_runs

FILES = ("runlog.json", "runs.csv", "history.jsonl", "angles.npz", "cost.npz", "summary.json")
DAMAGE = ("truncated", "emptied", "binary", "garbage_line", "wrong_shape", "deleted",
          "directory")
RUNS = 3
#: What the user is told to do in a refusal (one of these).
ADVICE = ("remove it", "restore it", "delete it", "move it away", "fresh output folder")


def _run(out, runs: int = RUNS) -> dict:
    spec = multistart.MULTISTART["fig2"].quick().replace(blocks=(), baselines=("sa",), runs=runs,
                                                       baseline_budget=20)
    return spec.run(out, progress=False).to_json()


@pytest.fixture(scope="module")
def folders(tmp_path_factory):
    """``{"rebuild": finished folder, "resume": 2 of 3 runs finished}`` and the finished
    folder's table and summary."""
    with pytest.MonkeyPatch.context() as mp:
        mp.setattr(multistart, "plot_landscape", lambda *a, **k: [])
        base = tmp_path_factory.mktemp("reference")
        _run(base / "resume", runs=2)
        summary = _run(base / "rebuild")
        table = _table(base / "rebuild")
    return {"rebuild": base / "rebuild", "resume": base / "resume"}, table, summary


def _table(folder):
    t = read_runs(folder)[["group", "run", "e_final", "n_evals", "best_index"]]
    return t.sort_values(["group", "run"]).reset_index(drop=True)


def _damage(path, how: str) -> None:
    data = path.read_bytes()
    if how == "truncated":
        path.write_bytes(data[: len(data) // 2])
    elif how == "emptied":
        path.write_bytes(b"")
    elif how == "binary":
        path.write_bytes(np.random.default_rng(7).bytes(400))
    elif how == "garbage_line":
        if path.suffix == ".npz":  # overwrite bytes inside the archive's first member
            mid = len(data) // 3
            path.write_bytes(data[:mid] + b"garbage \xff line\n" + data[mid + 16:])
        else:
            first = data.index(b"\n") + 1
            path.write_bytes(data[:first] + b"garbage,\xff{],line\n" + data[first:])
    elif how == "wrong_shape":
        if path.name in ("runlog.json", "summary.json"):
            path.write_text('["kind", "settings"]\n')
        elif path.name == "runs.csv":
            path.write_text("a,b\n1,2\n")
        elif path.name == "history.jsonl":
            path.write_text("[1, 2]\n" * data.count(b"\n"))
        elif path.name == "angles.npz":
            with np.load(path) as f:
                arrays = {k: f[k].ravel() for k in f.files}
            np.savez(path, **arrays)
        else:  # cost.npz: the right key and metadata, half the table
            with np.load(path) as f:
                arrays = {k: f[k] for k in f.files}
            arrays["cost"] = arrays["cost"][: arrays["cost"].size // 2]
            np.savez(path, **arrays)
    elif how == "deleted":
        path.unlink()
    elif how == "directory":
        path.unlink()
        path.mkdir()


@pytest.mark.parametrize("mode", ["resume", "rebuild"])
@pytest.mark.parametrize("how", DAMAGE)
@pytest.mark.parametrize("name", FILES)
def test_damaged_run_folder_is_repaired_or_refused(folders, tmp_path, monkeypatch, name, how,
                                                   mode):
    sources, table, summary = folders
    out = tmp_path / "out"
    shutil.copytree(sources[mode], out)
    if not (out / name).exists():  # the resume folder has no summary yet? it has one
        pytest.fail(f"{name} missing from the {mode} folder")
    _damage(out / name, how)
    monkeypatch.setattr(multistart, "plot_landscape", lambda *a, **k: [])
    with warnings.catch_warnings(record=True) as caught:
        warnings.simplefilter("always")
        try:
            got = _run(out)
        except InputError as err:
            message = str(err)
            assert "\n" not in message, message
            assert name in message, message
            assert any(a in message for a in ADVICE), message
            got = None
    assert not [p.name for p in out.iterdir() if ".tmp" in p.name]
    if got is None:
        return
    # a repair: exactly the undamaged results, on disk and returned
    assert _table(out).equals(table)
    assert got["circuits"] == summary["circuits"]
    assert json.loads((out / "summary.json").read_text())["circuits"] == summary["circuits"]
    derived = name == "summary.json" or (name == "cost.npz" and how == "deleted")
    if not derived:  # damage to the run log or the cost cache is never silent
        kinds = {type(w.message) for w in caught
                 if issubclass(w.category, (RunLogWarning, RuntimeWarning))}
        assert kinds, f"{name} {how}: repaired without a warning"
