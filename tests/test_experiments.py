"""The experiments registry and the one experiment idiom: every registered experiment runs
end to end at a tiny size through the registry (spec → ``.quick()`` → ``.replace(...)`` →
``run``), writes the :class:`RunSummary` it returns, and ``replace`` refuses what it cannot
do with an :class:`InputError` naming it."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest
from click.testing import CliRunner

from pyqhn.checks import InputError
from pyqhn.experiments import EXPERIMENTS, run

#: Changes that make each quick spec tiny (an experiment not named here runs ``.quick()``).
TINY = {
    **{f: dict(runs=1, max_iter=3, blocks=(2,)) for f in ("fig2", "fig3", "fig4", "fig5")},
    "fig7": dict(draws=1, max_iter=3, sizes=(2, 8), n_val=50),
    **{f: dict(runs=1, max_steps=5) for f in ("fig8", "fig9", "fig12", "fig13")},
    "fig10": dict(runs=1, max_steps=5, noise_levels=(1.0,)),
    "fig11": dict(runs=1, max_steps=5, noise_levels=(1.0,)),
    "vi": dict(runs=1, iterations=2, datasets=("gaussian",), objectives=("mle",)),
    "mnist8x8": dict(runs=1, max_steps=2, blocks=(2,), shots=50, val_shots=50,
                     final_shots=50, search_restarts=2, mode_beam=4),
}


@pytest.mark.parametrize("name", list(EXPERIMENTS))
def test_every_registered_experiment_runs_end_to_end_at_a_tiny_size(name, tmp_path):
    spec = EXPERIMENTS.create(name).quick().replace(**TINY.get(name, {}))
    summary = run(spec, tmp_path, progress=False)
    assert summary.figure == name and summary.quick is True and summary.complete is True
    runs = TINY.get(name, {}).get("runs", TINY.get(name, {}).get("draws"))
    if runs is not None:  # every group has exactly the runs asked for
        assert summary.circuits and all(c["runs"] == runs for c in summary.circuits)
    on_disk = json.loads((tmp_path / "summary.json").read_text())
    assert on_disk == json.loads(json.dumps(summary.to_json()))  # the record, as written
    assert on_disk["quick"] is True and on_disk["complete"] is True
    assert summary.files and all((tmp_path / f).stat().st_size > 0 for f in summary.files)
    assert summary.report and all(isinstance(line, str) for line in summary.report)


def test_replace_refuses_an_unknown_field_and_a_bad_value():
    spec = EXPERIMENTS.create("fig2")
    with pytest.raises(InputError, match="no setting 'rnus'"):
        spec.replace(rnus=3)
    with pytest.raises(InputError, match=r"runs \(--runs\) must be at least 1, got 0"):
        spec.replace(runs=0)
    with pytest.raises(InputError, match=r"max_iter \(--max-iter\) must be an integer"):
        spec.replace(max_iter=2.5)
    with pytest.raises(InputError, match=r"blocks \[2, 2\] names the same value twice"):
        spec.replace(blocks=(2, 2))
    with pytest.raises(InputError, match="unknown value 'bfgs'; choose one of hager-zhang"):
        spec.replace(line_search="bfgs")
    with pytest.raises(InputError, match=r"digits \(--digits\) must be at most 9"):
        EXPERIMENTS.create("mnist8x8").replace(digits=(3, 10))
    with pytest.raises(InputError, match="choose one of mle, elbo"):
        EXPERIMENTS.create("vi").replace(objectives=("mle", "nope"))
    assert spec.replace(runs=None, seed=None) == spec  # None keeps a value
    assert spec.replace(runs=3).runs == 3 and spec.runs == 200  # a copy; frozen


def test_quick_is_the_registered_spec_with_the_ci_sizes():
    for name in EXPERIMENTS:
        spec = EXPERIMENTS.create(name)
        quick = spec.quick()
        assert spec.quick_run is False and quick.quick_run is True
        assert all(getattr(quick, k) == v for k, v in type(spec).QUICK.items())
        assert type(quick) is type(spec)


def test_each_command_offers_exactly_the_options_of_its_spec():
    from pyqhn.cli import main
    from pyqhn.cli.reproduce import experiment_command

    for entry in EXPERIMENTS.entries():
        spec = entry.create()
        cmd = experiment_command(entry)
        names = {p.name for p in cmd.params}
        assert set(spec.options()) <= names
        assert ("cluster_text" in names) == ("cluster" in entry.capabilities)
        assert ("time_limit" in names) == ("time-limit" in entry.capabilities)
        assert names - set(spec.options()) <= {"quick", "out", "no_progress", "time_limit",
                                               "cluster_text", "cluster_config"}
    listed = CliRunner().invoke(main, ["reproduce", "--help"]).output
    assert all(f"  {name} " in listed for name in [*EXPERIMENTS, "all"])


def test_listing_the_commands_imports_no_experiment():
    code = ("import sys, pyqhn.cli; from click.testing import CliRunner; "
            "CliRunner().invoke(pyqhn.cli.main, ['reproduce', '--help']); "
            "print(sorted(m for m in sys.modules if m.startswith('pyqhn.experiments.')))")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         check=True).stdout
    assert out.strip() == "[]"
