"""``pyqhn baseline``: classical searches of a paper problem's bits, in the figure contract,
or of your own model's bits on your own data (``--data``)."""

from __future__ import annotations

from typing import Any

import click

from .command import Command
from .options import (
    FiniteFloat,
    cluster_options,
    comma_list,
    parse_pair,
    problem_choice,
    problem_help,
    problem_settings,
)

#: The figure whose problem each searchable problem of :data:`pyqhn.problems.PROBLEMS`
#: is (the baselines run in that figure's contract, ``pyqhn reproduce FIG``).
FIGURE_OF = {"gaussian-activation": "fig2", "gaussian-width": "fig3", "mnist": "fig4",
             "mnist-encoding": "fig5"}

#: The figure names accepted as ``--problem`` spellings of the same problems.
_ALIASES = {figure: name for name, figure in FIGURE_OF.items()}


@click.command("baseline", cls=Command)
@click.option("--problem", type=problem_choice(tuple(FIGURE_OF), _ALIASES), default=None,
              help=problem_help("A paper problem, with the data and model of its figure "
                                "(fig2 ... fig5 name the same; or --data):",
                                tuple(FIGURE_OF)))
@click.option("--data", "data_file", default=None, metavar="FILE",
              help="Your data instead of a paper problem: .csv with a header row, .npz with "
                   "arrays X and y, or X.npy with --target y.npy (as `pyqhn train --data`).")
@click.option("--target", default=None, metavar="COLUMN",
              help="With --data: the label column of a .csv (default the last), array of a "
                   ".npz, or labels .npy file.")
@click.option("--model", "model_spec", default=None, metavar="SPEC",
              help="With --data: the model, a short spec or a TOML file (as `pyqhn train "
                   "--model`; default 'linear', weights and biases ±1).")
@click.option("--test-fraction", type=click.FloatRange(0.0, 1.0, min_open=True, max_open=True),
              default=None, help="With --data: hold out this fraction for the test accuracy.")
@click.option("--no-standardize", is_flag=True,
              help="With --data: keep the features as they are (default: standardised).")
@click.option("--epsilon", type=FiniteFloat(0.0, low_open=True), default=None,
              help="With --data: success is C(best) − C* < epsilon (default 1% of C*).")
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
@click.option("--digits", default=None, callback=comma_list(int),
              help="MNIST digit pair 'a,b' (fig4: default 0,1; fig5: default 3,7).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@cluster_options
def baseline(problem: str | None, data_file: str | None, target: str | None,
             model_spec: str | None, test_fraction: float | None, no_standardize: bool,
             epsilon: float | None, methods: tuple[str, ...], runs: int, budget: int,
             seed: int, quick: bool, out: str, cost_file: str | None, layout: str | None,
             n_samples: int | None, encoding: tuple[float, float] | None,
             digits: tuple[int, ...] | None, no_progress: bool, cluster: Any = None) -> None:
    """Simulated annealing, random search, straight-through training or exhaustive search
    over the same bits as the circuits; runs table, summary.json and figure in OUT. With
    --data: over your model's bits on your data (summary.json with the success of each
    method and the test accuracy of the best network, network.json)."""
    from ..experiments import EXPERIMENTS, run
    from .reproduce import echo_summary

    dup = sorted({m for m in methods if methods.count(m) > 1})
    if dup:
        raise click.BadParameter(f"{', '.join(dup)} given twice", param_hint="--method")
    if (problem is None) == (data_file is None):
        raise click.UsageError("give exactly one of --problem (a paper problem) or --data "
                               "(your data file)")
    own = {"--target": target, "--model": model_spec, "--test-fraction": test_fraction,
           "--no-standardize": no_standardize or None, "--epsilon": epsilon}
    if data_file is not None:
        paper = {"--quick": quick or None, "--cost": cost_file, "--layout": layout,
                 "--n-samples": n_samples, "--encoding": encoding, "--digits": digits}
        for name, value in paper.items():
            if value is not None:
                raise click.BadParameter("applies to --problem, not to --data", param_hint=name)
        _baseline_on_data(data_file, target, model_spec, test_fraction, no_standardize,
                          epsilon, methods, runs, budget, seed, out, no_progress, cluster)
        return
    for name, value in own.items():
        if value is not None:
            raise click.BadParameter("applies to --data, not to --problem", param_hint=name)
    name = _ALIASES.get(problem, problem)
    problem_settings(name, {"--layout": ("layout", layout), "--n-samples": ("n_samples", n_samples),
                            "--encoding": ("encoding", encoding), "--digits": ("digits", digits)})
    figure = FIGURE_OF[name]
    if cost_file is not None:
        from .options import load_cost_option

        load_cost_option(cost_file)  # a bad table is a usage error before any work
    spec = EXPERIMENTS.create(figure)
    spec = (spec.quick() if quick else spec).replace(
        runs=runs, seed=seed, blocks=(), baselines=methods, baseline_budget=budget,
        cost_file=cost_file, layout=layout, n_samples=n_samples, encoding=encoding,
        digits=digits)
    echo_summary(run(spec, out, progress=not no_progress, client=cluster), out)


def _baseline_on_data(data_file, target, model_spec, test_fraction, no_standardize, epsilon,
                      methods, runs, budget, seed, out, no_progress, cluster) -> None:
    """``baseline --data``: the options as objects, then the searches (every check first)."""
    from .own_data import baseline_on_data, prepare_data

    model, x_tr, y_tr, x_te, y_te, classes, extra = prepare_data(
        data_file, target, model_spec, test_fraction, not no_standardize, seed)
    summary = baseline_on_data(model, x_tr, y_tr, x_te, y_te, classes=classes,
                               methods=methods, runs=runs, budget=budget, seed=seed,
                               epsilon=epsilon, out=out, progress=not no_progress,
                               client=cluster, extra=extra)
    click.echo(f"{summary['n_qubits']} qubits; C* = {summary['c_star']:.6g}, "
               f"epsilon = {summary['epsilon']:.3g}")
    for row in summary["methods"]:
        click.echo(f"  {row['method']:>10}: {row['successes']}/{row['runs']} within epsilon, "
                   f"best cost {row['best_cost']:.6g}, "
                   f"{row['mean_evaluations']:.0f} evaluations per run")
    accuracy = summary["test_accuracy"]
    click.echo(f"best network ({summary['best_method']}): train accuracy "
               f"{summary['train_accuracy']:.3f}"
               + (f", test accuracy {accuracy:.3f}" if accuracy is not None else "")
               + f"; {out}/summary.json, {out}/network.json")
