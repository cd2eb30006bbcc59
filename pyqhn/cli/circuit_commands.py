"""``pyqhn energy`` and ``pyqhn train``: circuits on a given cost table."""

from __future__ import annotations

from typing import Any

import click

from ..engines import ENGINES
from ..optimizers import OPTIMIZERS, SAMPLED_OPTIMIZERS, OptimizerOptions
from .command import Command
from .options import (
    FiniteFloat,
    check_blocks,
    cluster_options,
    load_cost_option,
    problem_help,
    require_julia,
)

#: Largest noise strength p: λ2 = p·0.00375 must stay a probability (≤ 15/16).
MAX_NOISE = 250.0


@click.command(cls=Command)
@click.option("--cost", "cost_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Cost table: .npz (key 'cost') or text, one value per line.")
@click.option("--theta", "theta_file", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Parameters: .npz (key 'theta') or text, one run per row "
                   "(2·B·N angles, optionally + an energy column).")
@click.option("--blocks", type=click.IntRange(min=1), default=1, show_default=True,
              help="Brickwork blocks B (the paper's N_layer = B/2).")
@click.option("--product", is_flag=True, help="Product-state ansatz instead of brickwork.")
@click.option("--noise", type=FiniteFloat(0.0, MAX_NOISE, hint=" (λ2 = p·0.00375 ≤ 15/16)"),
              default=None,
              help="Depolarizing strength p: (λ1, λ2) = p × (0.001, 0.00375); exact Tr(ρC).")
@click.option("--theta-layout", type=click.Choice(["flat", "site-major"]), default="flat",
              show_default=True,
              help="Angle order in --theta: flat (Ry of all blocks, then Rz) or site-major "
                   "(site by site, as some of the original noisy scripts' params.txt).")
@click.option("--engine", "engine_name", type=click.Choice(["python", *ENGINES]),
              default="python", show_default=True,
              help="python: the exact engine, or density with --noise. "
                   + ENGINES.help() + ".")
def energy(cost_file: str, theta_file: str, blocks: int, product: bool,
           noise: float | None, theta_layout: str, engine_name: str) -> None:
    """Print E(θ) for every parameter row, one per line, full precision."""
    from ..checks import n_qubits_of_cost
    from ..circuits import brickwork_circuit, load_theta, product_circuit
    from ..engines import get_engine
    from ..noise import NoiseModel

    if engine_name in ENGINES.names(having="julia"):
        require_julia(f"--engine {engine_name}")
    cost = load_cost_option(cost_file)
    n = n_qubits_of_cost(cost)
    circuit = product_circuit(n) if product else brickwork_circuit(n, blocks)
    try:
        theta = load_theta(theta_file, circuit.n_params, layout=theta_layout, n_qubits=n)
    except ValueError as err:
        raise click.BadParameter(str(err), param_hint="--theta") from err
    noise_model = NoiseModel.from_strength(noise) if noise else None
    if engine_name == "python":
        engine_name = "exact" if noise_model is None else "density"
    engine = get_engine(engine_name, noise=noise_model)
    for v in engine.energy(circuit, theta, cost):
        click.echo(repr(float(v)))


#: Optimisers of ``train`` on a cost table (the registry's), and the names only sampled
#: training on data takes (:data:`pyqhn.optimizers.SAMPLED_OPTIMIZERS`).
_TABLE_OPTIMIZERS = list(OPTIMIZERS.names(lacking="fidelity"))
_SAMPLED_ONLY = [n for n in SAMPLED_OPTIMIZERS if n not in _TABLE_OPTIMIZERS]


@click.command(cls=Command)
@click.option("--cost", "cost_file", default=None, type=click.Path(exists=True, dir_okay=False),
              help="Cost table: .npz (key 'cost') or text, one value per line. Or train on "
                   "your own data with --data (or --problem).")
@click.option("--data", "data_file", default=None, metavar="FILE",
              help="Your data: .csv with a header row (label column: --target, default the "
                   "last), .npz with arrays X and y, or X.npy with --target y.npy.")
@click.option("--target", default=None, metavar="COLUMN",
              help="Label column of a .csv (or array of a .npz, or labels .npy file).")
@click.option("--model", "model_spec", default=None, metavar="SPEC",
              help="Model for --data: 'linear' (default: weights and biases ±1, one output "
                   "for two classes, one per class beyond), 'key=value;…' with keys hidden, "
                   "activations, widths, encodings (lo:hi,…), loss, logit_scale, layout, "
                   "or a .toml file with those keys.")
@click.option("--problem", "problem_factory", default=None, metavar="NAME|MODULE:FUNCTION",
              help=problem_help("A registered problem (its model, training data and test "
                                "data), or a Python function MODULE:FUNCTION returning (model, "
                                "data) to train on. Registered:"))
@click.option("--test-fraction", type=FiniteFloat(0.0, 1.0, low_open=True), default=None,
              help="Hold out this fraction of --data (stratified, seeded) and print the "
                   "test accuracy.")
@click.option("--no-standardize", is_flag=True,
              help="Use the --data features as they are (default: standardised to mean 0, "
                   "variance 1 on the training part, as ±1 weights need).")
@click.option("--circuit", "circuit_names", multiple=True, metavar="NAME",
              help="Circuit by name: product, N_layer=L (2L blocks), blocks=B; repeat for "
                   "several. With --data default: product and N_layer=1.")
@click.option("--shots", type=click.IntRange(min=2), default=None,
              help="Train from this many samples per estimate (MPS engine). Default: exact "
                   "when the 2**N table is small (N <= 20), else 1000 shots.")
@click.option("--epsilon", type=FiniteFloat(0.0, low_open=True), default=None,
              help="Success threshold E - C* < epsilon (default 1% of C*).")
@click.option("--learning-rate", type=FiniteFloat(0.0, low_open=True), default=None,
              help="Sampled training: Adam's learning rate (default 0.1) or SPSA's.")
@click.option("--blocks", type=int, multiple=True, callback=check_blocks,
              help="Brickwork blocks B (N_layer = B/2); repeat for several circuits.")
@click.option("--product", is_flag=True, help="Also (or only) train the product-state ansatz.")
@click.option("--runs", type=click.IntRange(min=1), default=None,
              help="Random initialisations per circuit (default 10 on --cost; with --data 8 "
                   "when exact, 1 when sampled).")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Run folder (created; rerun the same command to resume).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Run r starts from seed + r.")
@click.option("--max-iter", type=click.IntRange(min=0), default=None,
              help="Iteration budget per run: 500 L-BFGS iterations, 2000 steps of "
                   "bbo-probabilistic-descent when not given.")
@click.option("--gtol", type=FiniteFloat(0.0, low_open=True), default=1e-6, show_default=True,
              help="Stop a run when the 2-norm of its gradient is below this.")
@click.option("--line-search", type=click.Choice(["hager-zhang", "armijo"]),
              default="hager-zhang", show_default=True,
              help="L-BFGS line search: hager-zhang (OptimKit's, the original's) or armijo "
                   "(backtracking; pyqhn's earlier default, with --memory 10).")
@click.option("--memory", type=click.IntRange(min=1), default=8, show_default=True,
              help="L-BFGS stored curvature pairs (the original: 8).")
@click.option("--objective", type=click.Choice(["mle", "elbo", "selbo"]), default="mle",
              show_default=True,
              help="mle: E(θ) = Σ q C. elbo/selbo: variational objectives; the cost must "
                   "then be the mean cross-entropy over --n-train points.")
@click.option("--n-train", type=click.IntRange(min=1), default=None,
              help="Training points behind the cost table (needed by elbo/selbo).")
@click.option("--batch-size", type=click.IntRange(min=1), default=None,
              help="Runs optimised together (default: all on a GPU, 8 on a CPU).")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@click.option("--engine", "engine_name", type=click.Choice(list(ENGINES)), default="exact",
              show_default=True, help=ENGINES.help() + ".")
@click.option("--optimizer", "optimizer_name",
              type=click.Choice(_TABLE_OPTIMIZERS + _SAMPLED_ONLY),
              default=None,
              help="On --cost (default lbfgs): " + OPTIMIZERS.help(tuple(_TABLE_OPTIMIZERS))
                   + ". Sampled training on --data/--problem: score-function (default; "
                   "Adam), spsa, qnspsa, parameter-shift.")
@cluster_options
def train(cost_file: str | None, data_file: str | None, target: str | None,
          model_spec: str | None, problem_factory: str | None, test_fraction: float | None,
          no_standardize: bool, circuit_names: tuple[str, ...], shots: int | None,
          epsilon: float | None, learning_rate: float | None,
          blocks: tuple[int, ...], product: bool, runs: int | None, out_dir: str,
          seed: int, max_iter: int | None, gtol: float, line_search: str, memory: int,
          objective: str, n_train: int | None, batch_size: int | None, no_progress: bool,
          engine_name: str, optimizer_name: str | None, cluster: Any = None) -> None:
    """Multi-start training (L-BFGS by default); one row per run in OUT/runs.csv.

    On a cost table (--cost), or on a model and data (--data FILE, or --problem NAME or
    MODULE:FUNCTION): then the model's cost is enumerated when small and sampled otherwise,
    the best network is written to OUT/network.json and the accuracies to
    OUT/summary.json."""
    sources = [o for o, v in (("--cost", cost_file), ("--data", data_file),
                              ("--problem", problem_factory)) if v is not None]
    if len(sources) != 1:
        raise click.UsageError("give exactly one of --cost (a cost table), --data (your "
                               "data file) or --problem (module:function)"
                               + (f"; got {' and '.join(sources)}" if sources else ""))
    if cost_file is None:
        for given, option in ((engine_name != "exact", "--engine"),
                              (line_search != "hager-zhang", "--line-search"),
                              (memory != 8, "--memory"), (n_train is not None, "--n-train")):
            if given:
                raise click.BadParameter("applies to --cost only (training on data uses the "
                                         "exact engine's L-BFGS or the MPS sampler)",
                                         param_hint=option)
        _train_on_data(data_file, target, model_spec, problem_factory, test_fraction,
                       no_standardize, circuit_names, blocks, product, shots, epsilon,
                       learning_rate, runs, out_dir, seed, max_iter, optimizer_name,
                       objective, no_progress, cluster, gtol, batch_size)
        return
    for given, option in ((circuit_names, "--circuit"), (shots, "--shots"),
                          (epsilon, "--epsilon"), (learning_rate, "--learning-rate"),
                          (target, "--target"), (model_spec, "--model"),
                          (test_fraction, "--test-fraction"), (no_standardize or None,
                                                                "--no-standardize")):
        if given:
            raise click.BadParameter("applies to --data or --problem, not to --cost",
                                     param_hint=option)
    if optimizer_name in _SAMPLED_ONLY:
        raise click.BadParameter(f"{optimizer_name} trains from samples; on a cost table use "
                                 f"{', '.join(_TABLE_OPTIMIZERS)}", param_hint="--optimizer")
    optimizer_name = optimizer_name or "lbfgs"
    runs = 10 if runs is None else runs
    from ..checks import n_qubits_of_cost
    from ..circuits import brickwork_circuit, product_circuit
    from ..driver import train_multistart
    from ..engines import get_engine

    if not blocks and not product:
        raise click.UsageError("name at least one circuit: --blocks B and/or --product")
    if objective != "mle" and n_train is None:
        raise click.BadParameter(f"the {objective} objective needs the number of training "
                                 "points behind the cost table", param_hint="--n-train")
    if engine_name in ENGINES.names(having="julia"):
        require_julia(f"--engine {engine_name}")
    if optimizer_name in OPTIMIZERS.names(having="julia"):
        require_julia(f"--optimizer {optimizer_name}")
    cost = load_cost_option(cost_file)
    n = n_qubits_of_cost(cost)
    circuits = ([product_circuit(n)] if product else []) + [
        brickwork_circuit(n, b) for b in blocks]
    # the one lookup of each name; below this only objects travel
    optimizer = OPTIMIZERS.create(optimizer_name, OptimizerOptions(
        max_iter=max_iter, gtol=gtol, memory=memory, line_search=line_search))
    engine = get_engine(engine_name)
    if optimizer.one_point_per_call and batch_size is None:
        batch_size = 1  # one point at a time (the Julia optimisers): no padded copies
    table = train_multistart(cost, circuits, runs, out=out_dir, seed=seed,
                             optimizer=optimizer, objective=objective, n_train=n_train,
                             engine=engine, batch_size=batch_size,
                             progress=not no_progress, client=cluster)
    best = table.groupby("circuit", sort=False)["e_final"].agg(["count", "min", "mean"])
    click.echo(best.to_string())
    click.echo(f"min C = {float(cost.min())!r}; runs in {out_dir}/runs.csv")


def _train_on_data(data_file, target, model_spec, problem_factory, test_fraction,
                   no_standardize, circuit_names, blocks, product, shots, epsilon,
                   learning_rate, runs, out_dir, seed, max_iter, optimizer_name, objective,
                   no_progress, cluster, gtol, batch_size) -> None:
    """``train --data`` / ``--problem``: every option checked, then one Problem trained."""
    import numpy as np

    from ..circuits import Circuit
    from ..datasets import as_dataset
    from .own_data import load_factory, prepare_data, split_data, train_on_data

    if objective != "mle":
        raise click.BadParameter("training on data minimises E(θ); use mle (elbo/selbo: "
                                 "enumerate the table and use --cost)", param_hint="--objective")
    if optimizer_name in ("optimkit-lbfgs", "bbo-probabilistic-descent"):
        raise click.BadParameter("the Julia optimisers train on --cost tables only",
                                 param_hint="--optimizer")
    names = list(circuit_names) + (["product"] if product else []) + [
        f"blocks={b}" for b in blocks] or ["product", "N_layer=1"]
    for name in names:
        try:
            Circuit.from_name(name, 1)
        except ValueError as err:
            raise click.BadParameter(str(err), param_hint="--circuit") from err
    if problem_factory is not None:
        for given, option in ((target, "--target"), (model_spec, "--model")):
            if given is not None:
                raise click.BadParameter("--problem gives the model and the data itself",
                                         param_hint=option)
        test = None
        if ":" in problem_factory:
            model, data = load_factory(problem_factory)
        else:  # the one lookup of a registered name
            built = _registered_problem(problem_factory)
            model, data, test = built.model, built.dataset, built.test
        data = as_dataset(data)
        classes, y = np.unique(data.y, return_inverse=True)
        if test is not None and test_fraction is None:  # the problem's own test data
            x_train, y_train = data.x, y.reshape(-1)
            x_test, y_test = test.x, np.searchsorted(classes, test.y)
        else:
            x_train, y_train, x_test, y_test = split_data(data.x, y.reshape(-1),
                                                          test_fraction, seed)
        extra: dict[str, Any] = {"problem": problem_factory}
    else:
        model, x_train, y_train, x_test, y_test, classes, extra = prepare_data(
            data_file, target, model_spec, test_fraction, not no_standardize, seed)
    summary = train_on_data(model, x_train, y_train, x_test, y_test, classes=classes,
                            circuits=names, runs=runs, shots=shots, optimizer=optimizer_name,
                            epsilon=epsilon, out=out_dir, seed=seed, max_iter=max_iter,
                            learning_rate=learning_rate, progress=not no_progress,
                            client=cluster, extra=extra, gtol=gtol, batch_size=batch_size)
    click.echo(f"{summary['n_qubits']} qubits ({summary['regime']}), best {summary['best_circuit']}"
               f" run {summary['best_run']}: training cost {summary['train_cost']:.6g}")
    click.echo(f"network: {summary['network']}")
    click.echo(f"train accuracy {summary['train_accuracy']:.4f}"
               + (f", test accuracy {summary['test_accuracy']:.4f}"
                  if summary["test_accuracy"] is not None else ""))
    click.echo(f"wrote {out_dir}/summary.json, {out_dir}/network.json, {out_dir}/runs.csv "
               f"({summary['wall_time']:.0f} s)")


def _registered_problem(name: str) -> Any:
    """The :class:`pyqhn.pipeline.Problem` registered as ``name`` (default options)."""
    from ..problems import PROBLEMS

    if name not in PROBLEMS:
        raise click.BadParameter(f"unknown problem {name!r}; choose one of "
                                 f"{', '.join(PROBLEMS)}, or give MODULE:FUNCTION",
                                 param_hint="--problem")
    return PROBLEMS.create(name)
