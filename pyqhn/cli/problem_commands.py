"""``pyqhn enumerate`` and ``pyqhn fourier``: the problem side (cost tables, W(S))."""

from __future__ import annotations

import json
import time

import click

from .command import Command
from .options import (
    check_output_file,
    load_cost_option,
    parse_pair,
    problem_choice,
    problem_help,
    problem_settings,
)

_LAYOUTS = ("original", "choices-first")  # pyqhn.models.LAYOUTS (not imported: fast --help)
_TABLE_SUFFIXES = ["npz", "txt", "dat", "csv"]


@click.command("enumerate", cls=Command)
@click.option("--problem", type=problem_choice(), default=None,
              help=problem_help("A registered problem (model + data; or your own data with "
                                "--data):"))
@click.option("--data", "data_file", default=None, metavar="FILE",
              help="Your data (.csv with a header row, .npz with X and y, or X.npy with "
                   "--target y.npy), as for `pyqhn train --data`.")
@click.option("--target", default=None, metavar="COLUMN",
              help="Label column of --data (default: the last column).")
@click.option("--model", "model_spec", default=None, metavar="SPEC",
              help="Model for --data, as for `pyqhn train` (default: the ±1 linear model).")
@click.option("--test-fraction", type=click.FloatRange(0.0, 1.0, min_open=True,
                                                       max_open=True), default=None,
              help="Hold out this fraction of --data; the optimum's test accuracy is "
                   "reported.")
@click.option("--no-standardize", is_flag=True,
              help="Use the --data features as they are (default: standardised).")
@click.option("--layout", type=click.Choice(_LAYOUTS), default=None,
              help="Bit layout: 'original' (default of the paper's problems) = the authors' "
                   "notebooks (weights, biases in reverse layer order, choice bits last); "
                   "'choices-first' = choice bits first, then W_l, b_l per layer.")
@click.option("--digits", default=None,
              help="MNIST digit pair 'a,b' (b → label 1). Default as in the original "
                   "notebooks: 0,1 for mnist, 3,7 for mnist-encoding.")
@click.option("--size", type=click.IntRange(min=1, max=28), default=None,
              help="MNIST images size×size (default 4; 8 for mnist8x8-*).")
@click.option("--resize", type=click.Choice(["bilinear", "area"]), default=None,
              help="MNIST resampling (default bilinear = TensorFlow default).")
@click.option("--encoding", default=None, callback=parse_pair,
              help="Weight values 'lo,hi' for --problem mnist: -3,1 (default: the authors' "
                   "published table), -1,1 (their notebook, 2σ−1), 0,1 (the paper's text).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Seed of the problem's data: the two-dimensional training points (test "
                   "points use seed + 1), the split of mnist8x8-*.")
@click.option("--n-samples", type=click.IntRange(min=1), default=None,
              help="Training points of the two-dimensional problems (default 10000, the "
                   "notebook's, for gaussian-*); as many test points.")
@click.option("--out", "out", required=True, type=click.Path(dir_okay=False),
              help="Cost table to write (.npz with key 'cost', or .txt one value per line).")
@click.option("--json", "as_json", is_flag=True,
              help="Print only one JSON object (n_qubits, min_cost, argmin, optimum, …).")
def enumerate_cmd(problem: str | None, data_file: str | None, target: str | None,
                  model_spec: str | None, test_fraction: float | None, no_standardize: bool,
                  layout: str | None, digits: str | None, size: int | None,
                  resize: str | None, encoding: tuple[float, float] | None, seed: int,
                  n_samples: int | None, out: str, as_json: bool) -> None:
    """Enumerate all 2**N networks of a problem and save the cost table.

    Defaults build the paper's problems as the original code did: the notebooks' bit
    layout, 10,000 Gaussian training points, MNIST weights in {-3, 1} (the authors' table),
    digits 3 vs 7 for the encoding search.

    With --json the output is one JSON object with n_qubits, min_cost, argmin (index into
    cost), optimum (readable description naming activation, width, encoding), optimum_detail,
    train_accuracy (and test_accuracy where the problem has test data), layout,
    parameter_names, seconds and out.
    """
    from .. import datasets, models
    from ..cost import optimum_report, save_cost
    from ..problems import PROBLEMS, problem_options

    check_output_file(out, "--out", _TABLE_SUFFIXES)
    if (problem is None) == (data_file is None):
        raise click.UsageError("give one of --problem (a problem) or --data (your data)")
    if data_file is not None:
        _enumerate_data(data_file, target, model_spec, test_fraction, no_standardize, seed,
                        out, as_json)
        return
    for given, option in ((target, "--target"), (model_spec, "--model"),
                          (test_fraction, "--test-fraction")):
        if given is not None:
            raise click.BadParameter("applies to --data only", param_hint=option)
    if digits is not None:
        try:
            digits = datasets._parse_digits(digits)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--digits") from err
    options = problem_settings(problem, {
        "--layout": ("layout", layout), "--digits": ("digits", digits),
        "--size": ("size", size), "--resize": ("resize", resize),
        "--encoding": ("encoding", encoding), "--n-samples": ("n_samples", n_samples)})
    takes = PROBLEMS.lookup(problem).capabilities
    if "seed" in takes:
        options["seed"] = seed
    if "n_test" in takes:  # as many test points, from seed + 1
        n = n_samples or problem_options(problem)["n_samples"]
        options.update(n_test=n, test_seed=seed + 1)
    try:
        built = PROBLEMS.create(problem, **options)
        model, data = built.model, built.dataset
        t0 = time.perf_counter()
        cost = built.cost_table()
        seconds = time.perf_counter() - t0
    except (ValueError, MemoryError) as err:
        raise click.UsageError(str(err)) from err
    settings = problem_options(problem, **options)
    encodings = [models.encoding_label(e, mnist=problem == "mnist")
                 for e in getattr(model, "encodings", ())]
    meta_data = {"dataset": data.name, **settings}
    meta_data.update(n_samples=data.n_samples, layout=getattr(model, "layout", None),
                     encodings=encodings)
    save_cost(out, cost, problem=problem, **meta_data,
              parameter_names=model.parameter_names(), model=repr(model))
    report = optimum_report(model, cost, data, built.test)
    detail = report.pop("optimum")
    report["optimum"] = detail["text"]
    report["optimum_detail"] = detail
    report.update(problem=problem, layout=meta_data["layout"],
                  parameter_names=model.parameter_names(), encodings=encodings,
                  seconds=seconds, out=out)
    if as_json:
        click.echo(json.dumps(report))
        return
    click.echo(f"{problem}: N = {model.n_qubits}, 2**N = {cost.size} networks in {seconds:.2f} s"
               f" ({data.n_samples} samples, {meta_data['layout']} layout, encoding "
               f"{' or '.join(encodings)})")
    _echo_optimum(report, out)


def _echo_optimum(report: dict, out: str) -> None:
    """The optimum lines of ``enumerate``'s report (cost, network, accuracies, file)."""
    click.echo(f"min cost {report['min_cost']:.10g} at index {report['argmin']}")
    click.echo(f"optimum {report['optimum']}")
    click.echo(f"train accuracy {report['train_accuracy']:.4f}"
               + (f", test accuracy {report['test_accuracy']:.4f}" if "test_accuracy" in report
                  else ""))
    click.echo(f"wrote {out}")


def _enumerate_data(data_file: str, target: str | None, model_spec: str | None,
                    test_fraction: float | None, no_standardize: bool, seed: int, out: str,
                    as_json: bool) -> None:
    """``enumerate --data``: the cost table of a model on your data (small N only)."""
    from ..cost import check_table_size, cost_table, optimum_report, save_cost
    from ..datasets import Dataset
    from ..pipeline import EXACT_MAX_QUBITS
    from .own_data import prepare_data

    model, x_train, y_train, x_test, y_test, classes, extra = prepare_data(
        data_file, target, model_spec, test_fraction, not no_standardize, seed)
    if model.n_qubits > EXACT_MAX_QUBITS:
        try:
            check_table_size(model.n_qubits)
        except MemoryError as err:
            raise click.UsageError(
                f"{err} The model has {model.n_qubits} bits: train it from samples instead "
                f"(pyqhn train --data {data_file} ...), or choose a smaller --model.") from None
    train = Dataset(x_train, y_train)
    test = Dataset(x_test, y_test) if len(y_test) else None
    t0 = time.perf_counter()
    cost = cost_table(model, train)
    seconds = time.perf_counter() - t0
    save_cost(out, cost, data=str(data_file), target=target, model=repr(model),
              parameter_names=model.parameter_names(),
              classes=[c.item() if hasattr(c, "item") else c for c in classes])
    report = optimum_report(model, cost, train, test)
    detail = report.pop("optimum")
    report.update(optimum=detail["text"], optimum_detail=detail, seconds=seconds, out=out,
                  parameter_names=model.parameter_names(), model_spec=extra["model_spec"])
    if as_json:
        click.echo(json.dumps(report, default=str))
        return
    click.echo(f"{data_file}: N = {model.n_qubits}, 2**N = {cost.size} networks in "
               f"{seconds:.2f} s ({train.n_samples} training samples)")
    _echo_optimum(report, out)


@click.command("fourier", cls=Command)
@click.argument("cost_file", type=click.Path(exists=True, dir_okay=False))
@click.option("--json", "as_json", is_flag=True,
              help="Print only one JSON object {'n_qubits', 'W': [...], 'mean_square', 'plot'}.")
@click.option("--plot", "plot", type=click.Path(dir_okay=False), default=None,
              help="Write a log-scale plot of W(S) to this file (.png, .pdf).")
def fourier(cost_file: str, as_json: bool, plot: str | None) -> None:
    """Walsh–Fourier weight spectrum W(S), S = 0..N, of a cost table (.npz or text)."""
    import numpy as np

    from ..fourier import weight_spectrum

    if plot:
        from ..plotting import supported_formats

        check_output_file(plot, "--plot", supported_formats())
    cost = load_cost_option(cost_file, "COST_FILE")
    w = weight_spectrum(cost)
    n = w.size - 1
    if plot:
        from ..plotting.basic import weight_spectrum_plot

        weight_spectrum_plot(w, path=plot, title=str(cost_file))
    if as_json:
        click.echo(json.dumps({"n_qubits": n, "W": [float(v) for v in w],
                               "mean_square": float(np.mean(cost**2)),
                               "plot": plot}))
        return
    click.echo(f"N = {n}; sum_S W(S) = {w.sum():.10g} (mean C^2 = {np.mean(cost**2):.10g})")
    for s, v in enumerate(w):
        click.echo(f"W({s}) = {v:.6e}")
    if plot:
        click.echo(f"wrote {plot}")
