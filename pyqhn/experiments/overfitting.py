"""Fig. 7: overfitting with small training sets (train vs validation ``E(θ)`` per iteration).

Setting (paper, with our choices marked *ours*): the Gaussian mixture with the means moved
closer (``scale`` = 0.5 of the Fig. 2 means, *ours*: the paper gives no number); the Fig. 2
model (2–3–1 BiNN with activation choice, N = 14) and the N_layer = 1 circuit (``blocks=2``,
*ours*); training sets of ``N_s`` = 2, 4, 6, 8 and 1000 points; 50 L-BFGS iterations; a
validation set of 1000 points; averages over 100 dataset draws. The model's bits are in the
notebook's layout (W1, W2, b2, b1, activation) unless ``layout="choices-first"``.

For draw ``d`` and size ``N_s`` the training cost table ``C_train`` is enumerated on the
``N_s`` points and the validation table ``C_val`` on 1000 fresh points (both seeded by ``d``);
the circuit starts from ``random_params(circuit, seed=seed + d)`` (the same start for every
``N_s``). Each ``N_s`` is one group of the driver whose run ``d`` minimises its own table
(:func:`pyqhn.objectives.per_run_energy_objective`) with L-BFGS; the validation energy
``Σ_k p_θ(k) C_val[k]`` is a per-step trace of the accepted iterates.

Writes the run log (``runs.csv``: one row per draw and size with ``c_star_train``,
``c_star_val``; ``history.jsonl``: training and validation energy per iteration),
``curves.csv`` (``n_s, draw, iteration, e_train, e_val, c_star_train, c_star_val``, derived
from the run log), ``summary.json`` and ``fig7.png`` / ``.pdf``. Rerunning resumes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..analysis import early_stopping
from ..runlog import RunLog, write_table
from .base import (
    ExperimentSpec,
    RunSummary,
    circuit_lines,
    execute,
    layout_setting,
    seed_setting,
    setting,
)

__all__ = ["OverfittingSpec", "fig7_groups", "curves_table"]


@dataclass(frozen=True)
class OverfittingSpec(ExperimentSpec):
    """Settings of Fig. 7 (paper-sized defaults;
    :meth:`~pyqhn.experiments.base.ExperimentSpec.quick` for CI; :meth:`run` runs
    it). ``layout``: the Fig. 2 model's bit layout (:data:`pyqhn.models.LAYOUTS`; the
    notebook's by default)."""

    sizes: tuple[int, ...] = setting((2, 4, 6, 8, 1000), minimum=1, distinct=True)
    draws: int = setting(100, option="--runs", help="Dataset draws per training-set size",
                         minimum=1)
    max_iter: int = setting(50, option="--max-iter", help="L-BFGS iterations", minimum=0)
    n_val: int = setting(1000, minimum=1)
    scale: float = setting(0.5, minimum=0.0)
    blocks: int = setting(2, minimum=1)
    seed: int = seed_setting()
    layout: str = layout_setting()
    quick_run: bool = setting(False)

    #: A few draws, a shorter validation set, same sizes and iterations.
    QUICK: ClassVar[dict] = dict(draws=4, n_val=300)

    def run(self, out: str | Path, *, progress: bool = True, time_limit: float | None = None,
            client: Any = None) -> RunSummary:
        """Run Fig. 7 into ``out`` (resumable); returns the summary.

        Summary: ``figure``, ``c_star`` (``{"N_s=…": mean exact training optimum}``),
        ``epsilon`` (``None``), ``circuits`` (one entry per ``N_s``: ``name`` ``N_s=…``,
        ``runs`` (draws), ``mean_energy`` / ``mean_val_energy`` (final, averaged over
        draws), ``success_probability`` (fraction of draws within 0.03 of the training
        optimum)), plus the settings.
        """
        return _run_overfitting(self, Path(out), progress=progress, time_limit=time_limit,
                                client=client)


def fig7_groups(cfg: OverfittingSpec, *, progress: bool = False) -> list:
    """One driver group per training-set size: run ``d`` trains on draw ``d``'s table and
    traces the validation energy on draw ``d``'s validation table."""
    from tqdm.auto import tqdm

    from ..checks import n_qubits_of_cost
    from ..circuits import brickwork_circuit
    from ..driver import Group
    from ..engines import get_engine
    from ..objectives import per_run_energy_objective
    from ..optimizers import lbfgs_optimizer
    from ..problems import PROBLEMS

    def table(n: int, seed: list[int]) -> np.ndarray:
        """The cost table of the Fig. 2 problem on ``n`` points drawn from ``seed``."""
        return PROBLEMS.create("gaussian-activation", layout=cfg.layout, n_samples=n,
                               seed=seed, scale=cfg.scale).cost_table()

    val = np.stack([table(cfg.n_val, [cfg.seed, d, 1]) for d in
                    tqdm(range(cfg.draws), desc="validation tables", leave=False,
                         disable=not progress)])
    circuit = brickwork_circuit(n_qubits_of_cost(val[0]), cfg.blocks)
    engine = get_engine("exact")
    val_energy = per_run_energy_objective(engine, circuit, val, gradient=False)

    def trace(state, runs: np.ndarray) -> dict[str, np.ndarray]:
        return {"e_val": val_energy.bind(runs)(np.asarray(state.x))}

    groups = []
    for n_s in cfg.sizes:
        train = np.stack([table(n_s, [cfg.seed, d, 0, n_s]) for d in range(cfg.draws)])

        def measure(x, runs, probs, train=train):
            return dict(c_star_train=train[runs].min(axis=1), c_star_val=val[runs].min(axis=1))

        groups.append(Group(
            f"N_s={n_s}", circuit, per_run_energy_objective(engine, circuit, train),
            lbfgs_optimizer(max_iter=cfg.max_iter), cfg.draws, seed=cfg.seed,
            columns=dict(n_s=int(n_s)), trace=trace, measure=measure))
    return groups


def curves_table(log: RunLog, cfg: OverfittingSpec):
    """``curves.csv`` rows from the run log: every iteration ``0..max_iter`` of every draw
    and size (a run that stopped early keeps its last values)."""
    import pandas as pd

    hist = log.histories()
    runs = log.table()
    frames = []
    for _, row in runs.iterrows():
        if int(row["n_s"]) not in cfg.sizes or int(row["run"]) >= cfg.draws:
            continue
        h = hist[(row["group"], int(row["run"]))]
        pad = cfg.max_iter + 1
        e_tr = np.pad(h["f"], (0, pad - len(h["f"])), mode="edge")[:pad]
        e_va = np.pad(h["e_val"], (0, pad - len(h["e_val"])), mode="edge")[:pad]
        frames.append(pd.DataFrame(dict(
            n_s=int(row["n_s"]), draw=int(row["run"]), iteration=np.arange(pad),
            e_train=e_tr, e_val=e_va, c_star_train=row["c_star_train"],
            c_star_val=row["c_star_val"])))
    curves = pd.concat(frames, ignore_index=True)
    return curves.sort_values(["n_s", "draw", "iteration"]).reset_index(drop=True)


def settings_of(cfg: OverfittingSpec) -> dict:
    """The spec as ``summary.json`` records it (every field but ``quick_run``)."""
    return {k: v for k, v in asdict(cfg).items() if k != "quick_run"}


def n_layer_label(blocks: int) -> str:
    """``"N_layer = B/2"`` for an even number of blocks (the paper's name), else ``blocks=B``."""
    return f"N_layer = {blocks // 2}" if blocks % 2 == 0 and blocks else f"blocks={blocks}"


def _run_overfitting(cfg: OverfittingSpec, out: Path, *, progress: bool,
                     time_limit: float | None, client: Any) -> RunSummary:
    from ..plotting import save_figure
    from ..plotting.paper import overfitting_figure

    quick = cfg.quick_run
    settings = {k: v for k, v in asdict(cfg).items()
                if k not in ("draws", "sizes", "quick_run")}

    def build(out: Path):
        return fig7_groups(cfg, progress=progress), None

    def summarise(log: RunLog, _: None, out: Path) -> RunSummary:
        curves_df = curves_table(log, cfg)
        write_table(out / "curves.csv", curves_df)
        curves, entries, c_star = {}, [], {}
        for n_s in cfg.sizes:
            sub = curves_df[curves_df["n_s"] == n_s]
            g = sub.groupby("iteration")
            n = g.size().to_numpy()
            curves[f"N_s={n_s}"] = dict(
                train=g["e_train"].mean().to_numpy(), val=g["e_val"].mean().to_numpy(),
                train_err=g["e_train"].std(ddof=0).to_numpy() / np.sqrt(n),
                val_err=g["e_val"].std(ddof=0).to_numpy() / np.sqrt(n))
            final = sub[sub["iteration"] == sub["iteration"].max()]
            val = sub.pivot(index="draw", columns="iteration", values="e_val").to_numpy()
            c_star[f"N_s={n_s}"] = float(final["c_star_train"].mean())
            entries.append(dict(
                name=f"N_s={n_s}", n_s=int(n_s), circuit=f"blocks={cfg.blocks}",
                runs=int(len(final)), mean_energy=float(final["e_train"].mean()),
                mean_val_energy=float(final["e_val"].mean()),
                generalisation_gap=float((final["e_val"] - final["e_train"]).mean()),
                mean_c_star_val=float(final["c_star_val"].mean()),
                success_probability=float(np.mean(final["e_train"] - final["c_star_train"]
                                                  < 0.03)),
                early_stopping=early_stopping(val),
            ))
        t0 = time.perf_counter()
        files = [p.name for p in save_figure(overfitting_figure(
            curves, title=f"Fig. 7: Gaussians closer (scale {cfg.scale:g}), "
                          f"{n_layer_label(cfg.blocks)}, {cfg.draws} draws"), out, "fig7")]
        return RunSummary(
            figure="fig7", quick=quick, c_star=c_star, epsilon=None, circuits=entries,
            details=dict(success_epsilon=0.03, settings=settings_of(cfg)),
            report=circuit_lines(entries, validation=True),
            wall_time=dict(figure=time.perf_counter() - t0), files=["curves.csv", *files])

    return execute(out, kind="fig7", settings=settings, build=build, summarise=summarise,
                   progress=progress, time_limit=time_limit, client=client)
