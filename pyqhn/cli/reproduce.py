"""``pyqhn reproduce fig2 … fig7 | all | vi``: one command per figure of the paper.

Each command writes into ``--out``: the tidy results table, the figure as PNG and PDF and
``summary.json``. Defaults are paper-sized; ``--quick`` runs the same pipeline CI-sized.
Rerunning into the same folder resumes (cached cost tables, finished runs kept).
"""

from __future__ import annotations

import json
import time
from pathlib import Path

import click

LANDSCAPE_FIGURES = ("fig2", "fig3", "fig4", "fig5")
ALL_FIGURES = (*LANDSCAPE_FIGURES, "fig6", "fig7")


class _ReproduceGroup(click.Group):
    """Adds ``vi`` (from :mod:`pyqhn.experiments.vi`) on first use, so ``--help`` stays fast."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*super().list_commands(ctx), "vi"]

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name == "vi" and name not in self.commands:
            try:
                from ..experiments.vi import _click_command
            except ImportError:  # pragma: no cover - optional experiment
                return None
            self.add_command(_click_command(), "vi")
        return super().get_command(ctx, name)


@click.group(cls=_ReproduceGroup)
def reproduce() -> None:
    """Reproduce the paper's figures (one command each; --quick for CI-sized runs)."""


def _echo_summary(summary: dict, out: str) -> None:
    eps = summary.get("epsilon")
    c_star = summary.get("c_star")
    if isinstance(c_star, float):
        click.echo(f"{summary['figure']}: C* = {c_star:.6g}, ε = {eps:g}")
    for c in summary.get("circuits", []):
        err = f" ± {c['success_error']:.3f}" if "success_error" in c else ""
        val = f", validation E = {c['mean_val_energy']:.6g}" if "mean_val_energy" in c else ""
        click.echo(f"  {c['name']:>10}: success {c['success_probability']:.3f}{err} over "
                   f"{c['runs']} runs, mean E = {c['mean_energy']:.6g}{val}")
    for t in summary.get("tasks", []):
        click.echo(f"  {t['name']}: C* = {t['c_star']:.6g}, W(S) peaks at S = {t['peak_S']}")
    click.echo(f"wrote {', '.join(summary.get('files', []))} and summary.json to {out}")


def run_figure(figure: str, out: str | Path, *, quick: bool = False, runs: int | None = None,
               seed: int = 0, max_iter: int | None = None, progress: bool = True,
               encoding: tuple[float, float] | None = None,
               cost_file: str | None = None) -> dict:
    """Run one figure (``fig2`` … ``fig7``) into ``out``; returns its summary dict.

    ``encoding`` (fig4) and ``cost_file`` (figs 2–5) are passed to
    :func:`pyqhn.experiments.landscape.run_landscape`.
    """
    if figure in LANDSCAPE_FIGURES:
        from ..experiments.landscape import run_landscape

        return run_landscape(figure, out, quick=quick, runs=runs, seed=seed,
                             max_iter=max_iter, progress=progress, encoding=encoding,
                             cost_file=cost_file)
    if encoding is not None or cost_file is not None:
        raise ValueError(f"--encoding and --cost apply to {', '.join(LANDSCAPE_FIGURES)} only")
    if figure == "fig6":
        from ..experiments.fourier_fig import run_fig6

        return run_fig6(out, quick=quick, progress=progress)
    if figure == "fig7":
        from ..experiments.overfitting import run_fig7

        return run_fig7(out, quick=quick, draws=runs, seed=seed, max_iter=max_iter,
                        progress=progress)
    raise click.BadParameter(f"unknown figure {figure!r}; choose from {', '.join(ALL_FIGURES)}")


def _figure_command(figure: str, doc: str) -> click.Command:
    runs_help = ("Dataset draws per training-set size (paper 100)." if figure == "fig7"
                 else "Initialisations per circuit (paper 200).")

    @click.command(figure, help=doc, short_help=doc.split(": ", 1)[1][:60])
    @click.option("--quick", is_flag=True, help="CI-sized run (minutes on 2 cores).")
    @click.option("--runs", type=int, default=None, help=runs_help)
    @click.option("--seed", type=int, default=0, show_default=True,
                  help="Run r starts from seed + r.")
    @click.option("--max-iter", type=int, default=None,
                  help="L-BFGS iteration budget (paper 500; fig7: 50).")
    @click.option("--out", required=True, type=click.Path(file_okay=False),
                  help="Output folder (created; rerun to resume).")
    @click.option("--no-progress", is_flag=True, help="Hide progress bars.")
    @click.option("--encoding", default=None,
                  help="fig4 only: weight values 'lo,hi' (paper '0,1'; e.g. '-1,1').")
    @click.option("--cost", "cost_file", default=None,
                  type=click.Path(exists=True, dir_okay=False),
                  help="figs 2-5: train on this cost table (.npz key 'cost', e.g. the original "
                       "authors') instead of enumerating the model on the shipped data.")
    def cmd(quick: bool, runs: int | None, seed: int, max_iter: int | None, out: str,
            no_progress: bool, encoding: str | None, cost_file: str | None) -> None:
        if figure == "fig6" and (runs is not None or max_iter is not None):
            raise click.UsageError("fig6 trains nothing; --runs and --max-iter do not apply")
        enc = None
        if encoding is not None:
            try:
                lo, hi = (float(v) for v in encoding.split(","))
            except ValueError as err:
                raise click.BadParameter("give two numbers 'lo,hi' such as '-1,1'",
                                         param_hint="--encoding") from err
            enc = (lo, hi)
        try:
            summary = run_figure(figure, out, quick=quick, runs=runs, seed=seed,
                                 max_iter=max_iter, progress=not no_progress, encoding=enc,
                                 cost_file=cost_file)
        except ValueError as err:
            raise click.ClickException(str(err)) from err
        _echo_summary(summary, out)

    return cmd


_DOCS = {
    "fig2": "Fig. 2: Gaussian mixture, 2-3-1 BiNN with activation choice (N=14), ε=0.03.",
    "fig3": "Fig. 3: Fig. 2 plus hidden-width choice 2 or 3 (N=15), ε=0.03.",
    "fig4": "Fig. 4: MNIST 0 vs 1 at 4x4, logistic regression (N=17), ε=5e-5.",
    "fig5": "Fig. 5: Fig. 4 plus weight-encoding search (N=19), ε=1e-4.",
    "fig6": "Fig. 6: Walsh-Fourier weight spectrum W(S) of the three tasks.",
    "fig7": "Fig. 7: train vs validation E(θ) for N_s = 2, 4, 6, 8, 1000 (Gaussians closer).",
}

for _fig in ALL_FIGURES:
    reproduce.add_command(_figure_command(_fig, _DOCS[_fig]))


@reproduce.command("all", short_help="Figs. 2-7 into OUT/fig2 … OUT/fig7.")
@click.option("--quick", is_flag=True, help="CI-sized runs.")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Parent folder; each figure goes to OUT/figN.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
def all_figures(quick: bool, seed: int, out: str, no_progress: bool) -> None:
    """Figs. 2-7 one after the other into OUT/fig2 … OUT/fig7 (plus OUT/index.json)."""
    index = {}
    for fig in ALL_FIGURES:
        click.echo(f"== {fig}")
        t0 = time.perf_counter()
        try:
            summary = run_figure(fig, Path(out) / fig, quick=quick, seed=seed,
                                 progress=not no_progress)
        except ValueError as err:
            raise click.ClickException(f"{fig}: {err}") from err
        _echo_summary(summary, str(Path(out) / fig))
        index[fig] = dict(folder=fig, wall_time=time.perf_counter() - t0)
    Path(out, "index.json").write_text(json.dumps(index, indent=2))

