"""Time multi-start L-BFGS training of the reference problem (N=17, 4 blocks).

Run: ``python benchmarks/train_batch.py [--runs 200] [--peer-runs 4]``

pyqhn trains all ``--runs`` initialisations together (one batched (E, ∇E) call per line
search trial: a compiled loop on a CPU, one ``vmap`` on a GPU). The peer, measured in the
same run, is SciPy's L-BFGS-B (``gtol`` on the projected gradient) run one start at a
time on the same compiled (E, ∇E); its time per run is extrapolated to ``--runs``.
Issue target on a lent GPU: 200 initialisations in under 2 minutes.

The cost is the original authors' table (``../shared/reference``) when present, else a
random table of the same size.
"""

from __future__ import annotations

import time
from pathlib import Path

import click
import numpy as np
from scipy.optimize import minimize

import pyqhn  # noqa: F401  (float64)
from pyqhn.circuits import brickwork_circuit, random_params
from pyqhn.engines import exact
from pyqhn.optimizers.lbfgs import lbfgs

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"


@click.command()
@click.option("--runs", default=200, show_default=True, help="initialisations trained together")
@click.option("--peer-runs", default=4, show_default=True, help="SciPy runs to time")
@click.option("--max-iter", default=500, show_default=True)
def main(runs: int, peer_runs: int, max_iter: int) -> None:
    import jax

    path = REFERENCE / "binncode_mnist4x4_blocks4.npz"
    if path.exists():
        cost, c_star_source = np.load(path)["cost"], "authors' table"
    else:
        cost, c_star_source = np.random.default_rng(0).random(2**17), "random table"
    circuit = brickwork_circuit(17, 4)
    vg = exact.energy_and_grad_fn(circuit, cost)
    x0 = random_params(circuit, runs, seed=0)
    print(f"JAX backend {jax.default_backend()}; cost: {c_star_source}; {runs} runs")

    vg(x0[:1])  # compile outside the timings (single-run shape)
    vg(x0)  # and the batched shape
    t = time.perf_counter()
    res = lbfgs(vg, x0, max_iter=max_iter)
    ours = time.perf_counter() - t
    success = np.mean(res.fun - cost.min() < 5e-5)
    print(f"pyqhn batched L-BFGS: {ours:.1f} s for {runs} runs ({ours / runs:.2f} s/run), "
          f"{res.n_iter.mean():.0f} iterations on average, success (ε=5e-5) {success:.2f}")

    def fun(x):
        e, g = vg(x[None])
        return float(e[0]), g[0]

    t = time.perf_counter()
    iters = []
    for x in x0[:peer_runs]:
        r = minimize(fun, x, jac=True, method="L-BFGS-B",
                     options={"maxiter": max_iter, "gtol": 1e-6})
        iters.append(r.nit)
    peer = (time.perf_counter() - t) / peer_runs
    print(f"scipy L-BFGS-B one at a time: {peer:.2f} s/run ({np.mean(iters):.0f} iterations), "
          f"extrapolated {peer * runs:.1f} s for {runs} runs: ratio peer/pyqhn = "
          f"{peer * runs / ours:.2f}")


if __name__ == "__main__":
    main()
