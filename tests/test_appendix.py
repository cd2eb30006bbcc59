"""``pyqhn reproduce fig8 … fig13``: every --quick figure end to end, consistent summaries,
resume after interruption.

Sizes are tiny (3×3 MNIST, N = 10; 2 runs of 60 direct-search steps; product + blocks=2;
noise p = 1, 2) so that only a handful of (circuit, noise) shapes compile.
"""

from __future__ import annotations

import json
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

from pyqhn.cli import main
from pyqhn.experiments import EXPERIMENTS
from pyqhn.experiments.gradient_free import build_cost, load_samples

TINY = ["--quick", "--runs", "2", "--max-steps", "60", "--no-progress"]

EXPECTED = {
    "fig8": (["product", "blocks=2"], 5e-4),
    "fig9": (["product", "blocks=2"], 5e-4),
    "fig10": (["p=0", "p=1", "p=2"], 1.5e-2),
    "fig11": (["p=1", "p=2"], 1.5e-2),
    "fig12": (["product", "blocks=2"], 1.5e-2),
    "fig13": (["product", "blocks=2"], 1.5e-2),
}


@pytest.fixture(scope="module")
def quick_cost() -> np.ndarray:
    """The quick MNIST table, enumerated independently of the commands (no cache)."""
    cost, _ = build_cost(EXPERIMENTS.create("fig8").quick())
    return cost


def _invoke(args: list[str]) -> str:
    res = CliRunner().invoke(main, args, catch_exceptions=False)
    assert res.exit_code == 0, res.output
    return res.output


def _check(out: Path, figure: str, runs: int, cost: np.ndarray) -> tuple[dict, pd.DataFrame]:
    summary = json.loads((out / "summary.json").read_text())
    names, eps = EXPECTED[figure]
    assert summary["figure"] == figure
    assert summary["epsilon"] == eps
    assert summary["n_qubits"] == 10
    assert summary["c_star"] == float(cost.min())
    for name in ("runs.csv", "history.jsonl", "angles.npz", "cost.npz", f"{figure}.png",
                 f"{figure}.pdf"):
        assert (out / name).stat().st_size > 0, name
    table = pd.read_csv(out / "runs.csv")
    assert [c["name"] for c in summary["circuits"]] == names
    samples = load_samples(out)
    n_samples = summary["settings"]["n_samples"]
    for c in summary["circuits"]:
        rows = table[table["group"] == c["name"]]
        e = rows["e_final"].to_numpy(float)
        assert c["runs"] == runs == e.size
        assert sorted(rows["run"]) == list(range(runs))
        assert 0.0 <= c["success_probability"] <= 1.0
        assert c["success_probability"] == pytest.approx(np.mean(e - cost.min() < eps))
        assert c["mean_energy"] == pytest.approx(e.mean())
        # an energy is an average of costs (noisy or not): never below the exact optimum
        assert e.min() >= cost.min() - 1e-9
        assert rows["e_noiseless"].min() >= cost.min() - 1e-9
        for r, m, lo in zip(rows["run"], rows["sample_mean"], rows["sample_min"], strict=True):
            idx = samples[(c["name"], int(r))]
            assert idx.shape == (n_samples,)
            assert cost[idx].mean() == pytest.approx(m)
            assert cost[idx].min() == pytest.approx(lo) and lo >= cost.min()
    return summary, table


@pytest.mark.parametrize("figure", list(EXPECTED))
def test_quick_end_to_end(tmp_path, figure, quick_cost):
    out = tmp_path / figure
    text = _invoke(["reproduce", figure, *TINY, "--out", str(out)])
    assert f"{figure}: C* =" in text
    summary, table = _check(out, figure, 2, quick_cost)
    opt = table[table["mode"] == "optimise"]
    if figure == "fig10":  # the noise-free optima come from L-BFGS, as the original
        assert (opt["group"] == "p=0").all()
        assert ((opt["n_iter"] <= 500) & (opt["e_final"] <= opt["e_init"] + 1e-12)).all()
        assert (opt["converged"] | (opt["n_iter"] == 500)).all()
        return
    # direct search spends its budget: at least one evaluation per step, at most two
    assert (opt["n_iter"] == 60).all()
    assert ((opt["n_evals"] >= 61) & (opt["n_evals"] <= 2 * 60 + 1 + 2 * opt["n_restarts"])).all()
    # a run never ends above its starting energy
    assert (opt["e_final"] <= opt["e_init"] + 1e-12).all()


def test_energies_match_the_exact_engine(tmp_path, quick_cost):
    """Noise-free energies of the direct-search optima equal the state-vector engine's."""
    from pyqhn.circuits import circuit_from_name
    from pyqhn.engines import exact
    from pyqhn.engines.density import noisy_energy
    from pyqhn.noise import NoiseModel

    out = tmp_path / "fig10"
    _invoke(["reproduce", "fig10", *TINY, "--out", str(out)])
    from pyqhn.runlog import read_angles

    table = pd.read_csv(out / "runs.csv")
    circ = circuit_from_name("blocks=2", 10)
    angles = read_angles(out)
    theta = {g: angles[g][table.loc[table["group"] == g, "run"].to_numpy()]
             for g in ("p=0", "p=2")}
    e0 = table.loc[table["group"] == "p=0", "e_final"].to_numpy()
    np.testing.assert_allclose(np.asarray(exact.energy(circ, theta["p=0"], quick_cost)), e0,
                               atol=1e-10)
    # the sweep re-evaluates the same angles under noise p = 2
    np.testing.assert_array_equal(theta["p=2"], theta["p=0"])
    e2 = table.loc[table["group"] == "p=2", "e_final"].to_numpy()
    np.testing.assert_allclose(
        noisy_energy(circ, theta["p=0"], quick_cost, NoiseModel.from_strength(2.0)), e2,
        atol=1e-10)
    assert np.all(np.abs(e2 - e0) > 1e-6)  # the noise does change the energy


def test_resume_skips_finished_runs(tmp_path, quick_cost):
    out = tmp_path / "fig12"
    _invoke(["reproduce", "fig12", *TINY, "--out", str(out)])
    first = pd.read_csv(out / "runs.csv")
    # simulate a crash while the last row was written: a partial last line
    text = (out / "runs.csv").read_text()
    (out / "runs.csv").write_text(text[: text.rstrip("\n").rfind("\n") + 12])
    _invoke(["reproduce", "fig12", "--quick", "--runs", "3", "--max-steps", "60",
             "--no-progress", "--out", str(out)])
    after = pd.read_csv(out / "runs.csv")
    assert len(after) == 6  # 3 runs x 2 circuits, the 3 earlier ones kept untouched
    pd.testing.assert_frame_equal(after.iloc[:3], first.iloc[:3])
    # the lost run is recomputed identically (seeded), ignoring its timing
    lost = first.iloc[-1]
    redo = after[(after["group"] == lost["group"]) & (after["run"] == lost["run"])]
    cols = ["e_init", "e_final", "n_evals", "sample_mean", "best_index"]
    assert redo[cols].iloc[0].tolist() == lost[cols].tolist()
    _check(out, "fig12", 3, quick_cost)
    # a third call has nothing left to do
    _invoke(["reproduce", "fig12", "--quick", "--runs", "3", "--max-steps", "60",
             "--no-progress", "--out", str(out)])
    pd.testing.assert_frame_equal(pd.read_csv(out / "runs.csv"), after)


def test_resume_refuses_other_settings(tmp_path):
    out = tmp_path / "fig8"
    _invoke(["reproduce", "fig8", *TINY, "--runs", "1", "--out", str(out)])
    res = CliRunner().invoke(main, ["reproduce", "fig8", "--quick", "--runs", "1",
                                    "--max-steps", "70", "--out", str(out)])
    assert res.exit_code == 2
    assert "max_steps" in res.output
    # a folder made with the default {-3, 1} weights refuses the paper text's {0, 1}
    res = CliRunner().invoke(main, ["reproduce", "fig8", *TINY, "--runs", "1",
                                    "--encoding", "0,1", "--out", str(out)])
    assert res.exit_code == 2
    assert "encoding" in res.output


def test_paper_settings():
    s = {f: EXPERIMENTS.create(f) for f in EXPECTED}
    assert [s[f].runs for f in EXPECTED] == [300, 300, 100, 10, 300, 300]
    assert all(x.max_steps == 2000 and x.n_samples == 1000 and x.mnist_size == 4
               for x in s.values())
    assert s["fig12"].p == 1.0 and s["fig8"].p == 0.0
    assert s["fig10"].noise_levels == pytest.approx(np.arange(1, 11) * 0.2)
    # MNIST weights in {-3, 1} (the authors' table) unless told otherwise
    from pyqhn.experiments.gradient_free import _problem

    assert _problem(s["fig8"]).model.encodings == ((-3.0, 1.0),)
    paper_text = s["fig8"].replace(encoding=(0, 1))
    assert _problem(paper_text).model.encodings == ((0.0, 1.0),)


def test_fig11_sweep_starts_at_p_zero_as_the_original_script():
    from pyqhn.experiments.gradient_free import NOISE_LEVELS, groups_for

    spec = EXPERIMENTS.create("fig11")
    groups = groups_for(spec, 17)
    assert [g.p for g in groups] == [0.0, *NOISE_LEVELS]
    assert groups[0].name == "p=0" and groups[0].mode == "optimise"
    assert all(g.mode == "optimise" for g in groups)


def test_fig9_draws_fig8_runs_without_training(tmp_path):
    import pandas as pd

    out = tmp_path / "fig8"
    _invoke(["reproduce", "fig8", *TINY, "--out", str(out)])
    rows = pd.read_csv(out / "runs.csv")
    _invoke(["reproduce", "fig9", *TINY, "--out", str(out)])
    again = pd.read_csv(out / "runs.csv")
    pd.testing.assert_frame_equal(rows, again)  # nothing trained again
    assert (out / "fig9.png").is_file() and (out / "fig8.png").is_file()
    summary = json.loads((out / "summary.json").read_text())
    assert summary["figure"] == "fig9" and summary["complete"]
    # a noisy figure is other settings: refused on that folder with exit code 2
    res = CliRunner().invoke(main, ["reproduce", "fig12", *TINY, "--out", str(out)])
    assert res.exit_code == 2, res.output
