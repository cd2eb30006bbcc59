"""Sweeps on a local Dask cluster against the same sweep in process, in the same run.

Run: ``python benchmarks/cluster.py [--runs 200] [--workers 2] [--units 200]
[--skip-sweep] [--skip-overhead] [--skip-per-run]``

1. **Fig. 4 sweep** (paper-sized with the default ``--runs 200``): product and
   N_layer = 1..3 (2, 4, 6 blocks) on the original authors' 17-qubit table (a random
   table of that size if ``../shared/reference`` is absent), L-BFGS as the paper (gtol
   1e-6, 500 iterations), batches of 8. Timed in process and on ``local:WORKERS``
   and on ``local:1`` (cluster start-up included); prints the parallel efficiency
   ``T(local:1) / (WORKERS · T(local:WORKERS))``, the speed-up over in process (which may
   already use every core through XLA's thread pool) and checks that the tables agree.
2. **Overhead per work unit**: ``--units`` batches of one run that do almost nothing (a
   4-qubit, 1-block circuit, energy evaluated once), in process and on ``local:1``:
   ``(T_cluster − T_in_process) / units`` is what a work unit costs the scheduler (submit,
   ship, return, write to the run log). Also on ``local:WORKERS``.
3. **Per-run cost of the original's largest runs**: a 19-qubit, 6-block circuit, exactly
   500 L-BFGS iterations (gtol 1e-300), 8 runs batched, in process. The original took
   ≈3.5 h per such run on an Apple M2 (CONVENTIONS.md); the ratio of core time (this
   process's wall time × the cores it may use, an upper bound) rescales its 3.44 CPU
   core-years.
"""

from __future__ import annotations

import os
import time
from pathlib import Path

import click
import numpy as np

import pyqhn  # noqa: F401  (float64)
from pyqhn.circuits import brickwork_circuit, product_circuit
from pyqhn.cluster import open_client, parse_cluster
from pyqhn.driver import Group, run_groups, train_multistart
from pyqhn.engines import get_engine
from pyqhn.objectives import energy_objective
from pyqhn.optimizers import evaluate_only, lbfgs_optimizer

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"
ORIGINAL_RUN_HOURS = 3.5  # 19 qubits, 6 blocks, 500 L-BFGS iterations, Apple M2
ORIGINAL_CORE_YEARS = 3.44


def _fig4_cost() -> tuple[np.ndarray, str]:
    path = REFERENCE / "binncode_mnist4x4_blocks4.npz"
    if path.exists():
        return np.load(path)["cost"].astype(np.float64), "authors' table"
    return np.random.default_rng(0).random(2**17), "random table (no ../shared)"


def _timed(fun):
    t0 = time.perf_counter()
    out = fun()
    return out, time.perf_counter() - t0


def sweep(runs: int, workers: int) -> None:
    cost, what = _fig4_cost()
    n = 17
    circuits = [product_circuit(n)] + [brickwork_circuit(n, b) for b in (2, 4, 6)]
    opt = lbfgs_optimizer()
    click.echo(f"== Fig. 4 sweep: {len(circuits)} circuits x {runs} runs on the {what}")
    here, t_here = _timed(lambda: train_multistart(cost, circuits, runs, optimizer=opt,
                                                   batch_size=8, progress=False))
    click.echo(f"in process           : {t_here:8.1f} s  ({t_here / len(here):.2f} s per run)")

    def on_cluster(w: int):
        with open_client(parse_cluster(f"local:{w}"), echo=click.echo) as client:
            return train_multistart(cost, circuits, runs, optimizer=opt, batch_size=8,
                                    progress=False, client=client)

    one, t_one = _timed(lambda: on_cluster(1))
    there, t_there = _timed(lambda: on_cluster(workers))
    key = ["group", "run"]
    a = here.sort_values(key).reset_index(drop=True)
    b = there.sort_values(key).reset_index(drop=True)
    c = one.sort_values(key).reset_index(drop=True)
    click.echo(f"local:1 (with start-up): {t_one:8.1f} s")
    click.echo(f"local:{workers} (with start-up): {t_there:8.1f} s")
    click.echo(f"efficiency of {workers} workers, T(local:1) / ({workers} T(local:{workers})): "
               f"{t_one / (workers * t_there):.0%}")
    click.echo(f"speed-up over in process (which may use every core through XLA's threads): "
               f"{t_here / t_there:.2f}")
    diff = max(np.abs(a["e_final"] - b["e_final"]).max(),
               np.abs(a["e_final"] - c["e_final"]).max())
    click.echo(f"tables agree: {len(a)} = {len(b)} = {len(c)} runs, max |dE| = "
               f"{float(diff):.1e}, duplicates {int(b.duplicated(key).sum())}")


def overhead(units: int, workers: int) -> None:
    n = 4
    c = brickwork_circuit(n, 1)
    cost = np.random.default_rng(0).random(2**n)
    eng = get_engine("exact")

    def groups():
        return [Group("tiny", c, energy_objective(eng, c, cost, gradient=False),
                      evaluate_only(), units, batch_size=1)]

    click.echo(f"== overhead: {units} work units of one 4-qubit energy evaluation each")
    run_groups(groups(), progress=False)  # compile once in this process
    _, t_here = _timed(lambda: run_groups(groups(), progress=False))
    click.echo(f"in process : {1e3 * t_here / units:7.2f} ms per unit")
    for w in sorted({1, workers}):
        with open_client(parse_cluster(f"local:{w}"), echo=lambda s: None) as client:
            run_groups(groups(), progress=False, client=client)  # warm the workers
            _, t = _timed(lambda client=client: run_groups(groups(), progress=False,
                                                           client=client))
        click.echo(f"local:{w}    : {1e3 * t / units:7.2f} ms per unit, overhead "
                   f"{1e3 * (t - t_here) / units:6.2f} ms per unit")


def per_run() -> None:
    n, blocks, runs = 19, 6, 8
    c = brickwork_circuit(n, blocks)
    cost = np.random.default_rng(0).random(2**n)
    opt = lbfgs_optimizer(gtol=1e-300, max_iter=500)
    click.echo(f"== per run: N = {n}, {blocks} blocks, 500 L-BFGS iterations, {runs} runs "
               "batched, in process")
    table, t = _timed(lambda: train_multistart(cost, [c], runs, optimizer=opt, batch_size=runs,
                                               progress=False))
    sec = t / runs
    cores = len(os.sched_getaffinity(0))  # XLA may use them all: count core-seconds
    ratio = ORIGINAL_RUN_HOURS * 3600 / (sec * cores)
    core_years = ORIGINAL_CORE_YEARS / ratio
    click.echo(f"{sec:.1f} s per run on {cores} cores = {sec * cores:.1f} core-seconds "
               f"({int(table['n_iter'].min())}...{int(table['n_iter'].max())} iterations); "
               f"the original: {ORIGINAL_RUN_HOURS} h per run, {ratio:.0f}x more core time")
    hours = core_years * 365.25 * 24
    click.echo(f"its {ORIGINAL_CORE_YEARS} core-years of circuit optimisation at this speed: "
               f"{hours:.0f} core-hours = {hours / 2:.0f} h on 2 cores, "
               f"{hours / 100:.1f} h on 100 one-core workers")


@click.command()
@click.option("--runs", default=200, show_default=True, help="runs per circuit (paper 200)")
@click.option("--workers", default=2, show_default=True, help="local cluster workers")
@click.option("--units", default=200, show_default=True, help="work units for the overhead")
@click.option("--skip-sweep", is_flag=True)
@click.option("--skip-overhead", is_flag=True)
@click.option("--skip-per-run", is_flag=True)
def main(runs: int, workers: int, units: int, skip_sweep: bool, skip_overhead: bool,
         skip_per_run: bool) -> None:
    if not skip_overhead:
        overhead(units, workers)
    if not skip_per_run:
        per_run()
    if not skip_sweep:
        sweep(runs, workers)


if __name__ == "__main__":
    main()
