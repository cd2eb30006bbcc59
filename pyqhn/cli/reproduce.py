"""``pyqhn reproduce fig2 … fig13 | vi | all``: one command per figure of the paper.

Each command writes into ``--out`` its run log (``runs.csv`` …), the figure as PNG and PDF
and ``summary.json``. Defaults are paper-sized; ``--quick`` runs the same pipeline
CI-sized. Rerunning into the same folder resumes; a folder made with other settings is
refused (exit 2). Each command offers only the options its experiment has.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

from ..plotting import circuit_label
from .command import Command, CommandGroup
from .options import cluster_options, parse_pair

LANDSCAPE_FIGURES = ("fig2", "fig3", "fig4", "fig5")
APPENDIX_FIGURES = ("fig8", "fig9", "fig10", "fig11", "fig12", "fig13")
ALL_FIGURES = (*LANDSCAPE_FIGURES, "fig6", "fig7")

_DOCS = {
    "fig2": "Fig. 2: Gaussian mixture, 2-3-1 BiNN with activation choice (N=14), ε=0.03.",
    "fig3": "Fig. 3: Fig. 2 plus hidden-width choice 2 or 3 (N=15), ε=0.03.",
    "fig4": "Fig. 4: MNIST 0 vs 1 at 4x4, logistic regression (N=17), ε=5e-5.",
    "fig5": "Fig. 5: MNIST 3 vs 7, logistic regression + weight-encoding search (N=19), "
            "ε=1e-4.",
    "fig6": "Fig. 6: Walsh-Fourier weight spectrum W(S) of the three tasks.",
    "fig7": "Fig. 7: train vs validation E(θ) for N_s = 2, 4, 6, 8, 1000 (Gaussians closer).",
    "fig8": "Fig. 8: gradient-free runs vs depth, final-energy KDE and success (ε=5e-4).",
    "fig9": "Fig. 9: gradient-free runs vs depth, sampled-energy histograms.",
    "fig10": "Fig. 10: noise sweep p=0.2..2.0 of noise-free optima at fixed depth.",
    "fig11": "Fig. 11: noise sweep p=0.2..2.0 of noisy gradient-free optimisation.",
    "fig12": "Fig. 12: noisy (p=1) gradient-free runs vs depth (ε=1.5e-2).",
    "fig13": "Fig. 13: noisy (p=1) gradient-free runs vs depth, sampled energies.",
}
_PAPER_RUNS = {**dict.fromkeys(LANDSCAPE_FIGURES, 200), "fig7": 100, "fig8": 300, "fig9": 300,
               "fig10": 100, "fig11": 10, "fig12": 300, "fig13": 300}


@click.group(cls=CommandGroup)
def reproduce() -> None:
    """Reproduce the paper's figures (one command each; --quick for CI-sized runs)."""


def _echo_summary(summary: dict, out: str) -> None:
    eps = summary.get("epsilon")
    c_star = summary.get("c_star")
    if isinstance(c_star, float):
        click.echo(f"{summary['figure']}: C* = {c_star:.6g}, ε = {eps:g}")
    for c in summary.get("circuits", []):
        ci = c.get("success_interval")
        err = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
        val = f", validation E = {c['mean_val_energy']:.6g}" if "mean_val_energy" in c else ""
        name = circuit_label(c["name"], mathtext=False)
        if "success_probability" in c:
            click.echo(f"  {name:>10}: success {c['success_probability']:.3f}{err} over "
                       f"{c['runs']} runs, mean E = {c['mean_energy']:.6g}{val}")
        else:
            click.echo(f"  {name:>10}: {c['runs']} runs, mean E = {c['mean_energy']:.6g}")
    for t in summary.get("tasks", []):
        click.echo(f"  {t['name']}: C* = {t['c_star']:.6g}, W(S) peaks at S = {t['peak_S']}")
    if summary.get("complete") is False:
        click.echo("time limit reached: not every run is done; run the same command again "
                   "to continue")
    click.echo(f"wrote {', '.join(summary.get('files', []))} and summary.json to {out}")


def run_figure(figure: str, out: str | Path, *, quick: bool = False, seed: int = 0,
               progress: bool = True, client: Any = None) -> dict:
    """Run one of Figs. 2–7 with its defaults into ``out``; returns its summary.
    ``client``: a Dask client or cluster spec for the training figures (Fig. 6 enumerates
    and trains nothing)."""
    if figure in LANDSCAPE_FIGURES:
        from ..experiments.landscape import run_landscape

        return run_landscape(figure, out, quick=quick, seed=seed, progress=progress,
                             client=client)
    if figure == "fig6":
        from ..experiments.fourier_fig import run_fig6

        return run_fig6(out, quick=quick, progress=progress)
    from ..experiments.overfitting import run_fig7

    return run_fig7(out, quick=quick, seed=seed, progress=progress, client=client)


# ------------------------------------------------------------------------- options


def _opt_quick(f: Callable) -> Callable:
    return click.option("--quick", is_flag=True, help="CI-sized run (minutes on 2 cores).")(f)


def _opt_out(f: Callable) -> Callable:
    return click.option("--out", required=True, type=click.Path(file_okay=False),
                        help="Output folder (created; rerun to resume).")(f)


def _opt_seed(f: Callable) -> Callable:
    return click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
                        help="Run r starts from seed + r.")(f)


def _opt_progress(f: Callable) -> Callable:
    return click.option("--no-progress", is_flag=True, help="Hide progress bars.")(f)


def _opt_time_limit(f: Callable) -> Callable:
    return click.option("--time-limit", type=click.FloatRange(min=0, min_open=True),
                        default=None, metavar="MINUTES",
                        help="Start no new batch of runs after this many minutes; rerun "
                             "the same command to continue.")(f)


def _opt_batch(f: Callable) -> Callable:
    return click.option("--batch-size", type=click.IntRange(min=1), default=None,
                        help="Runs optimised together (default: all on a GPU, 8 on a CPU).")(f)


def _opt_encoding(f: Callable) -> Callable:
    return click.option("--encoding", default=None, callback=parse_pair,
                        help="Weight values 'lo,hi': -3,1 (default: the authors' published "
                             "table), -1,1 (their notebook, 2σ−1), 0,1 (the paper's "
                             "text).")(f)


def _opt_layout(f: Callable) -> Callable:
    return click.option("--layout", type=click.Choice(["original", "choices-first"]),
                        default=None,
                        help="Bit layout: 'original' (default; the authors' notebooks: "
                             "weights, biases in reverse layer order, choice bits last) "
                             "or 'choices-first'.")(f)


def _opt_runs(figure: str, what: str) -> Callable:
    return click.option("--runs", type=click.IntRange(min=1), default=None,
                        help=f"{what} (paper {_PAPER_RUNS[figure]}).")


def _training_options(figure: str, runs_help: str) -> Callable:
    """The options every training figure has: --quick, --runs, --seed, --out,
    --no-progress, --time-limit."""

    def decorate(f: Callable) -> Callable:
        for option in (cluster_options, _opt_time_limit, _opt_progress, _opt_out, _opt_seed,
                       _opt_runs(figure, runs_help), _opt_quick):
            f = option(f)
        return f

    return decorate


def _all_baselines() -> tuple[str, ...]:
    from ..baselines import METHODS

    return METHODS


def _minutes(value: float | None) -> float | None:
    return None if value is None else 60.0 * value


# ------------------------------------------------------------------------- commands


def _landscape_command(figure: str) -> click.Command:
    @click.command(figure, cls=Command, help=_DOCS[figure],
                   short_help=_DOCS[figure].split(": ", 1)[1][:60])
    @_training_options(figure, "Initialisations per circuit")
    @click.option("--max-iter", type=click.IntRange(min=0), default=None,
                  help="L-BFGS iteration budget (paper 500).")
    @_opt_batch
    @click.option("--cost", "cost_file", default=None,
                  type=click.Path(exists=True, dir_okay=False),
                  help="Train on this cost table (.npz key 'cost', e.g. the original "
                       "authors') instead of enumerating the model on the shipped data.")
    @click.option("--baselines", "with_baselines", is_flag=True,
                  help="Also run the classical baselines (sa, random, ste, exhaustive) on "
                       "the same bits; their rows join the table and the success panel.")
    @click.option("--line-search", type=click.Choice(["hager-zhang", "armijo"]),
                  default=None,
                  help="L-BFGS line search: hager-zhang (the original's OptimKit defaults, "
                       "memory 8; default) or armijo (pyqhn 0.1's backtracking, memory 10).")
    def cmd(quick, runs, seed, max_iter, out, no_progress, batch_size, time_limit, cost_file,
            with_baselines, line_search, cluster, encoding=None, layout=None, digits=None,
            n_samples=None):
        from ..experiments.landscape import run_landscape

        if cost_file is not None:
            from .options import load_cost_option

            load_cost_option(cost_file)  # a bad table is a usage error before any work
        summary = run_landscape(figure, out, quick=quick, runs=runs, seed=seed,
                                max_iter=max_iter, progress=not no_progress,
                                encoding=encoding, cost_file=cost_file,
                                batch_size=batch_size, time_limit=_minutes(time_limit),
                                baselines=_all_baselines() if with_baselines else None,
                                layout=layout, digits=digits, n_samples=n_samples,
                                line_search=line_search, client=cluster)
        _echo_summary(summary, out)

    if figure == "fig4":
        cmd = _opt_encoding(cmd)
    if figure in ("fig4", "fig5"):
        cmd = click.option("--digits", default=None,
                           help="MNIST digit pair 'a,b', b → label 1 (original: "
                                + ("0,1" if figure == "fig4" else "3,7") + ").")(cmd)
    if figure in ("fig2", "fig3", "fig5"):
        cmd = _opt_layout(cmd)
    if figure in ("fig2", "fig3"):
        cmd = click.option("--n-samples", type=click.IntRange(min=1), default=None,
                           help="Gaussian training points (original 10000).")(cmd)
    return cmd



def _fig6_command() -> click.Command:
    @click.command("fig6", cls=Command, help=_DOCS["fig6"],
                   short_help=_DOCS["fig6"].split(": ", 1)[1][:60])
    @_opt_quick
    @_opt_out
    @_opt_progress
    def cmd(quick, out, no_progress):
        from ..experiments.fourier_fig import run_fig6

        _echo_summary(run_fig6(out, quick=quick, progress=not no_progress), out)

    return cmd


def _fig7_command() -> click.Command:
    @click.command("fig7", cls=Command, help=_DOCS["fig7"],
                   short_help=_DOCS["fig7"].split(": ", 1)[1][:60])
    @_training_options("fig7", "Dataset draws per training-set size")
    @click.option("--max-iter", type=click.IntRange(min=0), default=None,
                  help="L-BFGS iterations (paper 50).")
    @_opt_layout
    def cmd(quick, runs, seed, max_iter, out, no_progress, time_limit, cluster, layout):
        from ..experiments.overfitting import run_fig7

        summary = run_fig7(out, quick=quick, draws=runs, seed=seed, max_iter=max_iter,
                           progress=not no_progress, time_limit=_minutes(time_limit),
                           layout=layout, client=cluster)
        _echo_summary(summary, out)

    return cmd


def _appendix_command(figure: str) -> click.Command:
    @click.command(figure, cls=Command, help=_DOCS[figure],
                   short_help=_DOCS[figure].split(": ", 1)[1][:60])
    @_training_options(figure, "Runs per circuit / noise level")
    @click.option("--max-steps", type=click.IntRange(min=1), default=None,
                  help="Direct-search steps per run (paper 2000).")
    @_opt_batch
    @_opt_encoding
    def cmd(quick, runs, seed, max_steps, batch_size, out, no_progress, time_limit, cluster,
            encoding):
        from ..experiments.appendix import run_appendix

        summary = run_appendix(figure, out, quick=quick, runs=runs, seed=seed,
                               max_steps=max_steps, batch_size=batch_size,
                               progress=not no_progress, time_limit=_minutes(time_limit),
                               encoding=encoding, client=cluster)
        _echo_summary(summary, out)

    return cmd


def _vi_command() -> click.Command:
    def _names(ctx, param, value):
        return None if value is None else tuple(s.strip() for s in value.split(",") if s.strip())

    @click.command("vi", cls=Command)
    @_opt_quick
    @_opt_out
    @click.option("--runs", type=click.IntRange(min=1), default=None,
                  help="Initialisations (paper 100).")
    @click.option("--iterations", type=click.IntRange(min=0), default=None,
                  help="Adam steps per run.")
    @_opt_seed
    @click.option("--objectives", default=None, callback=_names,
                  help="Comma list of mle,elbo,selbo,selbo-sampled "
                       "(default mle,elbo,selbo-sampled).")
    @click.option("--datasets", default=None, callback=_names,
                  help="Comma list of gaussian,moons,ring.")
    @_opt_progress
    @cluster_options
    def cmd(quick, out, runs, iterations, seed, objectives, datasets, no_progress, cluster):
        """MLE vs ELBO vs SELBO on 2-D Gaussian, two moons and ring (N_layer = 1)."""
        from dataclasses import replace

        from ..experiments.vi import VIConfig, run_vi

        cfg = VIConfig.quick(seed=seed) if quick else VIConfig(seed=seed)
        changes = dict(runs=runs, iterations=iterations, objectives=objectives,
                       datasets=datasets)
        cfg = replace(cfg, **{k: v for k, v in changes.items() if v is not None})
        summary = run_vi(out, config=cfg, progress=not no_progress, client=cluster)
        _echo_summary(summary, out)

    return cmd


for _fig in LANDSCAPE_FIGURES:
    reproduce.add_command(_landscape_command(_fig))
reproduce.add_command(_fig6_command())
reproduce.add_command(_fig7_command())
for _fig in APPENDIX_FIGURES:
    reproduce.add_command(_appendix_command(_fig))
reproduce.add_command(_vi_command())


@reproduce.command("mnist8x8", cls=Command,
                   short_help="Sampled 66-qubit hypernetwork, 8x8 MNIST (MPS sampling).")
@_opt_quick
@_opt_out
@click.option("--runs", type=click.IntRange(min=1), default=None, help="Runs per depth.")
@click.option("--max-steps", type=click.IntRange(min=1), default=None,
              help="Optimiser steps (default 200; quick 80).")
@click.option("--blocks", default=None, help="Comma list of brickwork depths (default 2,4).")
@click.option("--optimizer", type=click.Choice(["score-function", "qnspsa", "spsa"]),
              default=None, help="Default score-function (Adam); the talk used qnspsa.")
@click.option("--problem", type=click.Choice(["logistic", "hidden"]), default=None,
              help="logistic: 66 qubits (default); hidden: 64-3-1 network, 200 qubits.")
@click.option("--digits", default=None,
              help="MNIST digit pair 'a,b' (b → label 1); default 0,1 as the talk.")
@_opt_seed
@_opt_progress
@_opt_time_limit
def mnist8x8_command(quick, out, runs, max_steps, blocks, optimizer, problem, digits, seed,
                     no_progress, time_limit):
    """Beyond enumeration: logistic regression on 8x8 MNIST 0 vs 1 with ±1 weights and an
    activation qubit (66 qubits), trained from 1500 MPS shots per estimate; 2 and 4 blocks."""
    from ..checks import InputError
    from ..experiments.mnist8x8 import Mnist8x8Config, run_mnist8x8, with_overrides

    cfg = Mnist8x8Config.quick(seed=seed) if quick else Mnist8x8Config(seed=seed)
    try:
        depths = None if blocks is None else tuple(int(b) for b in blocks.split(","))
    except ValueError:
        raise InputError(f"--blocks must be a comma list of integers, got {blocks!r}") from None
    pair = None
    if digits is not None:
        from ..datasets import _parse_digits

        try:
            pair = _parse_digits(digits)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--digits") from err
    cfg = with_overrides(cfg, runs=runs, max_steps=max_steps, blocks=depths,
                         optimizer=optimizer, problem=problem, digits=pair)
    summary = run_mnist8x8(out, quick=quick, config=cfg, progress=not no_progress,
                           time_limit=_minutes(time_limit))
    s = summary["classical_search"]
    click.echo(f"mnist8x8: digits {summary['digits'][0]} vs {summary['digits'][1]}, "
               f"{summary['n_qubits']} qubits, {summary['shots']} shots; classical "
               f"search test accuracy {s['test_accuracy']:.4f}")
    for c in summary["circuits"]:
        click.echo(f"  {c['name']:>9}: most probable {c['test_accuracy_most_probable']:.4f} "
                   f"(exact mode in {c['most_probable_certified']}/{c['runs']} runs), "
                   f"best sampled {c['test_accuracy_best_sampled']:.4f}, final Ê "
                   f"{c['mean_energy']:.4f} (val {c['mean_val_energy']:.4f}), "
                   f"{c['n_shots']} shots/run, {c['wall_time_per_run']:.0f} s/run")
    _echo_summary({k: v for k, v in summary.items() if k != "circuits"}, out)


@reproduce.command("all", cls=Command, short_help="Figs. 2-7 into OUT/fig2 … OUT/fig7.")
@_opt_quick
@_opt_seed
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Parent folder; each figure goes to OUT/figN.")
@_opt_progress
@cluster_options
def all_figures(quick: bool, seed: int, out: str, no_progress: bool, cluster: Any) -> None:
    """Figs. 2-7 one after the other into OUT/fig2 … OUT/fig7 (plus OUT/index.json)."""
    from ..runlog import write_json

    index = {}
    for fig in ALL_FIGURES:
        click.echo(f"== {fig}")
        t0 = time.perf_counter()
        summary = run_figure(fig, Path(out) / fig, quick=quick, seed=seed,
                             progress=not no_progress, client=cluster)
        _echo_summary(summary, str(Path(out) / fig))
        index[fig] = dict(folder=fig, wall_time=time.perf_counter() - t0)
    write_json(Path(out) / "index.json", index)
