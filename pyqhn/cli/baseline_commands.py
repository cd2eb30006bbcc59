"""``pyqhn baseline``: classical searches of a paper problem's bits, in the figure contract."""

from __future__ import annotations

from typing import Any

import click

from .command import Command
from .options import cluster_options, parse_pair

#: Problem names: the figures, and the names ``pyqhn enumerate`` uses for them.
PROBLEMS = {"fig2": "fig2", "fig3": "fig3", "fig4": "fig4", "fig5": "fig5",
            "gaussian-activation": "fig2", "gaussian-width": "fig3", "mnist": "fig4",
            "mnist-encoding": "fig5"}

#: The problem options each figure's problem accepts (as ``pyqhn reproduce FIG``).
PROBLEM_OPTIONS = {"fig2": ("--layout", "--n-samples"), "fig3": ("--layout", "--n-samples"),
                   "fig4": ("--encoding", "--digits"), "fig5": ("--layout", "--digits")}


@click.command("baseline", cls=Command)
@click.option("--problem", type=click.Choice(list(PROBLEMS)), required=True,
              help="A paper problem, with the data and model of its figure.")
@click.option("--method", "methods", type=click.Choice(["sa", "random", "ste", "exhaustive"]),
              multiple=True, required=True, help="Baseline; repeat for several.")
@click.option("--runs", type=click.IntRange(min=1), default=200, show_default=True,
              help="Runs per method (exhaustive runs once).")
@click.option("--budget", type=click.IntRange(min=1), default=10000, show_default=True,
              help="Cost evaluations per run (ste: in total over its choice values).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Run r is seeded with seed + r.")
@click.option("--quick", is_flag=True, help="The figure's CI-sized data.")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Run folder (created; rerun to resume; `pyqhn reproduce FIG --out` on "
                   "the same folder adds the circuits).")
@click.option("--cost", "cost_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Search this cost table (.npz key 'cost', e.g. the original authors') "
                   "instead of the problem's enumerated one (sa, random, exhaustive).")
@click.option("--layout", type=click.Choice(["original", "choices-first"]), default=None,
              help="Bit layout (fig2, fig3, fig5): 'original' (default; the authors' "
                   "notebooks) or 'choices-first'.")
@click.option("--n-samples", type=click.IntRange(min=1), default=None,
              help="Gaussian training points (fig2, fig3; original 10000).")
@click.option("--encoding", default=None, callback=parse_pair,
              help="Weight values 'lo,hi' (fig4): -3,1 (default), -1,1 or 0,1.")
@click.option("--digits", default=None,
              help="MNIST digit pair 'a,b' (fig4: default 0,1; fig5: default 3,7).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@cluster_options
def baseline(problem: str, methods: tuple[str, ...], runs: int, budget: int, seed: int,
             quick: bool, out: str, cost_file: str | None, layout: str | None,
             n_samples: int | None, encoding: tuple[float, float] | None,
             digits: str | None, no_progress: bool, cluster: Any = None) -> None:
    """Simulated annealing, random search, straight-through training or exhaustive search
    over the same bits as the circuits; runs table, summary.json and figure in OUT."""
    from ..experiments.landscape import run_landscape
    from .reproduce import _echo_summary

    dup = sorted({m for m in methods if methods.count(m) > 1})
    if dup:
        raise click.BadParameter(f"{', '.join(dup)} given twice", param_hint="--method")
    given = {"--layout": layout, "--n-samples": n_samples, "--encoding": encoding,
             "--digits": digits}
    figure = PROBLEMS[problem]
    for name, value in given.items():
        if value is not None and name not in PROBLEM_OPTIONS[figure]:
            raise click.BadParameter(
                f"{name} does not apply to --problem {problem}; it takes "
                f"{', '.join(PROBLEM_OPTIONS[figure])}", param_hint=name)
    if cost_file is not None:
        from .options import load_cost_option

        load_cost_option(cost_file)  # a bad table is a usage error before any work
    summary = run_landscape(figure, out, quick=quick, runs=runs, seed=seed,
                            blocks=(), baselines=methods, baseline_budget=budget,
                            cost_file=cost_file, layout=layout, n_samples=n_samples,
                            encoding=encoding, digits=digits, progress=not no_progress,
                            client=cluster)
    _echo_summary(summary, out)
