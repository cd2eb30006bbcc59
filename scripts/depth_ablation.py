"""The depth claim (issue 10, item 3): success probability against depth under the
original settings, today's (pyqhn 0.1's) settings, and one setting changed at a time.

Run: ``python scripts/depth_ablation.py --out runs/ablation [--runs 500] [--figures fig2,fig3]
[--settings original,today,...] [--hours H] [--quick]``

Every (figure, setting) pair is one resumable run folder ``OUT/<figure>-<setting>``
(:meth:`pyqhn.experiments.multistart.MultistartSpec.run`, circuits product and N_layer = 1..4,
i.e. 0, 2, 4, 6, 8 blocks); rerun the same command to continue after ``--hours``. The
table of success probabilities with 95 % Wilson intervals is written to
``OUT/depth_ablation.md`` and ``.csv`` from whatever is finished.

Settings (``original`` = today's defaults = the authors' notebooks; ``today`` = the
package's settings before issue 10; the others change ONE setting of ``original``):

* ``original``: notebook bit layout, 10,000 Gaussian points, MNIST {−3, 1}, Fig. 5 on 3 vs
  7, OptimKit's Hager–Zhang L-BFGS (memory 8);
* ``today``: choices-first layout, 1,000 Gaussian points, Fig. 4 with {0, 1}, Fig. 5 on
  0 vs 1, backtracking Armijo (memory 10);
* ``layout``: choices-first layout; ``line-search``: Armijo (memory 10); ``data``: 1,000
  Gaussian points (figs 2, 3), {0, 1} (fig 4), 0 vs 1 (fig 5);
* ``authors-table`` (fig4 only): the original authors' published 17-qubit cost table
  (``--reference DIR``, default ``../shared/reference``) instead of our enumeration.

ε is an analysis setting: the table also gives every figure's success at 10× and 0.1× ε.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np
import pandas as pd

from pyqhn.analysis import wilson_interval
from pyqhn.experiments import EXPERIMENTS, run
from pyqhn.experiments.multistart import MULTISTART

BLOCKS = (0, 2, 4, 6, 8)
TODAY_DATA = {"fig2": dict(n_samples=1000), "fig3": dict(n_samples=1000),
              "fig4": dict(encoding=(0.0, 1.0)), "fig5": dict(digits=(0, 1))}


AUTHORS_TABLE = "binncode_mnist4x4_blocks4.npz"


def options(figure: str, setting: str, reference: Path = Path("../shared/reference")) -> dict:
    """The spec changes (:meth:`~pyqhn.experiments.base.ExperimentSpec.replace`) of one
    setting."""
    if setting == "authors-table":
        if figure != "fig4":
            raise click.BadParameter(f"the authors' table is Fig. 4's, not {figure}'s",
                                     param_hint="--settings")
        table_file = reference / AUTHORS_TABLE
        if not table_file.is_file():
            raise click.BadParameter(f"{table_file} not found; pass --reference DIR",
                                     param_hint="--reference")
        return dict(cost_file=str(table_file))
    layout = {} if figure == "fig4" else dict(layout="choices-first")  # fig4 has no choice bit
    armijo = dict(line_search="armijo")
    return {"original": {},
            "today": {**layout, **armijo, **TODAY_DATA[figure]},
            "layout": layout,
            "line-search": armijo,
            "data": TODAY_DATA[figure]}[setting]


SETTINGS = ("original", "today", "layout", "line-search", "data", "authors-table")


def table(out: Path, figures: list[str], settings: list[str]) -> pd.DataFrame:
    rows = []
    for fig in figures:
        eps = MULTISTART[fig].epsilon
        for setting in settings:
            folder = out / f"{fig}-{setting}"
            if not (folder / "runs.csv").exists():
                continue
            runs = pd.read_csv(folder / "runs.csv")
            c_star = float(np.load(folder / "cost.npz")["cost"].min())
            for b in BLOCKS:
                name = f"blocks={b}" if b else "product"
                e = runs.loc[runs["group"] == name, "e_final"].to_numpy(float)
                row = dict(figure=fig, setting=setting, circuit=name, n_layer=b / 2,
                           runs=len(e), c_star=c_star, epsilon=eps)
                for scale, key in ((1.0, ""), (10.0, "_eps_x10"), (0.1, "_eps_x0.1")):
                    k = int(np.sum(e - c_star < scale * eps))
                    lo, hi = wilson_interval(k, len(e))
                    row[f"success{key}"] = k / len(e) if len(e) else np.nan
                    row[f"low{key}"], row[f"high{key}"] = lo, hi
                rows.append(row)
    return pd.DataFrame(rows)


def markdown(df: pd.DataFrame) -> str:
    lines = ["| figure | setting | runs per circuit | product | N_layer = 1 | 2 | 3 | 4 |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for (fig, setting), g in df.groupby(["figure", "setting"], sort=False):
        cells = [f"{r.success:.3f} [{r.low:.3f}, {r.high:.3f}]" for r in g.itertuples()]
        lines.append(f"| {fig} | {setting} | {int(g['runs'].min())}–{int(g['runs'].max())} | "
                     + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--runs", default=500, show_default=True, type=click.IntRange(min=1))
@click.option("--figures", default="fig2,fig3,fig4,fig5", show_default=True)
@click.option("--settings", "setting_names", default=",".join(SETTINGS), show_default=True)
@click.option("--hours", default=None, type=float, help="Stop starting batches after this.")
@click.option("--quick", is_flag=True, help="CI-sized data and L-BFGS (a smoke run).")
@click.option("--reference", default="../shared/reference", show_default=True,
              type=click.Path(file_okay=False), help="Folder of the authors' cost table.")
def main(out: str, runs: int, figures: str, setting_names: str, hours: float | None,
         quick: bool, reference: str) -> None:
    figs = [f.strip() for f in figures.split(",") if f.strip()]
    settings = [s.strip() for s in setting_names.split(",") if s.strip()]
    bad = [f for f in figs if f not in TODAY_DATA] + [s for s in settings if s not in SETTINGS]
    if bad:
        raise click.BadParameter(f"unknown {', '.join(bad)}; figures {sorted(TODAY_DATA)}, "
                                 f"settings {SETTINGS}")
    for fig in figs:  # bad combinations are usage errors before any work
        for setting in settings:
            if setting != "authors-table" or fig == "fig4":
                options(fig, setting, Path(reference))
    root = Path(out)
    deadline = None if hours is None else time.time() + 3600 * hours
    for fig in figs:
        for setting in settings:
            if setting == "authors-table" and fig != "fig4":
                continue
            left = None if deadline is None else deadline - time.time()
            if left is not None and left <= 0:
                break
            click.echo(f"== {fig} {setting}")
            spec = EXPERIMENTS.create(fig)
            spec = (spec.quick() if quick else spec).replace(
                runs=runs, blocks=BLOCKS, **options(fig, setting, Path(reference)))
            run(spec, root / f"{fig}-{setting}", progress=False, time_limit=left)
    df = table(root, list(TODAY_DATA), list(SETTINGS))  # every finished folder under OUT
    df.to_csv(root / "depth_ablation.csv", index=False)
    (root / "depth_ablation.md").write_text(markdown(df))
    click.echo(markdown(df))


if __name__ == "__main__":
    main()
