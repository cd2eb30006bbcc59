"""Appendix direct search (Figs. 8/9 at p = 0, 12/13 at p = 1): wall time per run-step
with every run of a circuit in one batch (each step: restart and first poll points in one
call, the second polls of the runs that failed in another, no padded rows) against the
peer measured in the same run, pyqhn 0.1's driver: batches of 8 runs and every objective
call padded to 8 rows.

Run: ``python benchmarks/appendix.py [--p 1.0] [--runs 64] [--steps 100]``. Prints, per
circuit, seconds per run-step and evaluations per run-step of both, their ratio, and the
projected wall time of the paper-sized figure (300 runs × 2000 steps per circuit) from
the batched numbers.
"""

from __future__ import annotations

import time

import click

from pyqhn import driver
from pyqhn.experiments import EXPERIMENTS
from pyqhn.experiments.gradient_free import build_cost, driver_groups, groups_for


def _time(group, runs: int, batch: int, padded: bool) -> tuple[float, float]:
    """``(seconds, evaluations)`` per run-step for ``runs`` runs in batches of ``batch``."""
    import dataclasses

    objective = group.objective
    if padded:
        objective = dataclasses.replace(objective, any_batch_size=False)
    g = dataclasses.replace(group, objective=objective, runs=runs, batch_size=batch,
                            measure=None, engine=None)
    driver.run_batch(g, range(min(batch, 2)))  # compile the shapes
    t0 = time.perf_counter()
    evals = 0
    for i in range(0, runs, batch):
        records = driver.run_batch(g, range(i, min(runs, i + batch)))
        evals += sum(r.row["n_evals"] for r in records)
    steps = runs * records[0].row["n_iter"]
    return (time.perf_counter() - t0) / steps, evals / steps


@click.command()
@click.option("--p", "p", default=1.0, show_default=True, help="Noise strength (0: fig8).")
@click.option("--runs", default=64, show_default=True)
@click.option("--steps", default=100, show_default=True)
@click.option("--blocks", default="0,2,4,6", show_default=True)
def main(p: float, runs: int, steps: int, blocks: str) -> None:
    figure = "fig12" if p else "fig8"
    spec = EXPERIMENTS.create(figure).replace(
        max_steps=steps, blocks=tuple(int(b) for b in blocks.split(",")), p=p)
    cost, problem = build_cost(spec)
    groups = driver_groups(spec, groups_for(spec, problem.n_bits), cost, None, seed=0)
    total = 0.0
    print(f"N = {problem.n_bits}, p = {p}, {runs} runs x {steps} steps per circuit")
    print("| circuit | one batch, unpadded: s per run-step | evals | peer: batches of 8, "
          "padded | evals | speed-up | projected 300 x 2000 |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for g in groups:
        t_new, e_new = _time(g, runs, runs, padded=False)
        t_old, e_old = _time(g, runs, 8, padded=True)
        total += t_new * 300 * 2000
        print(f"| {g.name} | {t_new * 1e3:.3f} ms | {e_new:.2f} | {t_old * 1e3:.3f} ms | "
              f"{e_old:.2f} | {t_old / t_new:.2f}x | {t_new * 600e3 / 60:.1f} min |",
              flush=True)
    print(f"projected paper-sized figure (runs only): {total / 60:.1f} min")


if __name__ == "__main__":
    main()
