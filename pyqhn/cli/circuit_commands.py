"""``pyqhn energy`` and ``pyqhn train``: circuits on a given cost table."""

from __future__ import annotations

from typing import Any

import click

from ..engines import ENGINES
from ..optimizers import OPTIMIZERS, OptimizerOptions
from .command import Command
from .options import (
    FiniteFloat,
    check_blocks,
    cluster_options,
    load_cost_option,
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


@click.command(cls=Command)
@click.option("--cost", "cost_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Cost table: .npz (key 'cost') or text, one value per line.")
@click.option("--blocks", type=int, multiple=True, callback=check_blocks,
              help="Brickwork blocks B (N_layer = B/2); repeat for several circuits.")
@click.option("--product", is_flag=True, help="Also (or only) train the product-state ansatz.")
@click.option("--runs", type=click.IntRange(min=1), default=10, show_default=True,
              help="Random initialisations per circuit.")
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
              type=click.Choice(OPTIMIZERS.names(lacking="fidelity")),
              default="lbfgs", show_default=True,
              help=OPTIMIZERS.help(OPTIMIZERS.names(lacking="fidelity")) + ".")
@cluster_options
def train(cost_file: str, blocks: tuple[int, ...], product: bool, runs: int, out_dir: str,
          seed: int, max_iter: int | None, gtol: float, line_search: str, memory: int,
          objective: str, n_train: int | None, batch_size: int | None, no_progress: bool,
          engine_name: str, optimizer_name: str, cluster: Any = None) -> None:
    """Multi-start training (L-BFGS by default); one row per run in OUT/runs.csv."""
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
