"""``pyqhn energy`` and ``pyqhn train``: circuits on a given cost table."""

from __future__ import annotations

import click


def _circuit(n: int, blocks: int, product: bool):
    from ..circuits import brickwork_circuit, product_circuit

    return product_circuit(n) if product else brickwork_circuit(n, blocks)


def _load_cost(path: str):
    from ..cost import load_cost

    try:
        cost, _ = load_cost(path)
    except (OSError, ValueError, KeyError) as err:
        raise click.BadParameter(str(err), param_hint="--cost") from err
    return cost


@click.command()
@click.option("--cost", "cost_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Cost table: .npz (key 'cost') or text, one value per line.")
@click.option("--theta", "theta_file", required=True,
              type=click.Path(exists=True, dir_okay=False),
              help="Parameters: .npz (key 'theta') or text, one run per row "
                   "(2·B·N angles, optionally + an energy column).")
@click.option("--blocks", type=int, default=1, show_default=True, help="Brickwork blocks B.")
@click.option("--product", is_flag=True, help="Product-state ansatz instead of brickwork.")
@click.option("--noise", type=float, default=None,
              help="Depolarizing strength p: (λ1, λ2) = p × (0.001, 0.00375); exact Tr(ρC).")
def energy(cost_file: str, theta_file: str, blocks: int, product: bool,
           noise: float | None) -> None:
    """Print E(θ) for every parameter row, one per line, full precision."""
    import numpy as np

    from ..circuits import load_theta
    from ..engines import exact

    cost = _load_cost(cost_file)
    n = exact.n_qubits_for_cost(cost)
    try:
        circuit = _circuit(n, blocks, product)
        theta = load_theta(theta_file, circuit.n_params)
    except ValueError as err:
        raise click.UsageError(str(err)) from err
    if noise is None or noise == 0:
        values = np.asarray(exact.energy(circuit, theta, cost))
    else:
        from ..engines.density import noisy_energy
        from ..noise import NoiseModel

        values = np.atleast_1d(noisy_energy(circuit, theta, cost, NoiseModel.from_strength(noise)))
    for v in values:
        click.echo(repr(float(v)))


@click.command()
@click.option("--cost", "cost_file", required=True, type=click.Path(exists=True, dir_okay=False),
              help="Cost table: .npz (key 'cost') or text, one value per line.")
@click.option("--blocks", type=int, multiple=True,
              help="Brickwork blocks B; repeat for several circuits.")
@click.option("--product", is_flag=True, help="Also (or only) train the product-state ansatz.")
@click.option("--runs", type=int, default=10, show_default=True,
              help="Random initialisations per circuit.")
@click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
              help="Folder for runs.csv and history.jsonl (resumes if present).")
@click.option("--seed", type=int, default=0, show_default=True)
@click.option("--max-iter", type=int, default=500, show_default=True)
@click.option("--gtol", type=float, default=1e-6, show_default=True)
@click.option("--objective", type=click.Choice(["mle", "elbo", "selbo"]), default="mle",
              show_default=True,
              help="mle: E(θ) = Σ q C. elbo/selbo: variational objectives; the cost must "
                   "then be the mean cross-entropy over --n-train points.")
@click.option("--n-train", type=int, default=None,
              help="Training points behind the cost table (needed by elbo/selbo).")
def train(cost_file: str, blocks: tuple[int, ...], product: bool, runs: int, out_dir: str,
          seed: int, max_iter: int, gtol: float, objective: str, n_train: int | None) -> None:
    """Multi-start L-BFGS training; one row per run in OUT/runs.csv."""
    from ..engines import exact
    from ..runner import train_multistart

    cost = _load_cost(cost_file)
    n = exact.n_qubits_for_cost(cost)
    if not blocks and not product:
        raise click.UsageError("name at least one circuit: --blocks B and/or --product")
    circuits = ([_circuit(n, 1, True)] if product else []) + [
        _circuit(n, b, False) for b in blocks
    ]
    try:
        table = train_multistart(cost, circuits, runs, out=out_dir, seed=seed,
                                 max_iter=max_iter, gtol=gtol, objective=objective,
                                 n_train=n_train)
    except ValueError as err:
        raise click.UsageError(str(err)) from err
    best = table.groupby("circuit")["e_final"].agg(["count", "min", "mean"])
    click.echo(best.to_string())
    click.echo(f"min C = {float(cost.min())!r}; runs in {out_dir}/runs.csv")
