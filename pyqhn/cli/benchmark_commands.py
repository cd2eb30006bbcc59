"""``pyqhn benchmark``: the equal-budget benchmark of hypernetworks against classical
search (:mod:`pyqhn.benchmark`)."""

from __future__ import annotations

from typing import Any

import click

from .command import Command
from .options import cluster_options


@click.command("benchmark", cls=Command)
@click.option("--suite", type=click.Choice(["tiny", "quick", "paper", "scaling"]),
              required=True, help="tiny (CI, about a minute), quick (N 10-16, minutes), "
                                  "paper (N 10-21, all methods), scaling (N 13 to 201).")
@click.option("--method", "methods", multiple=True, default=(), metavar="M",
              help="Run only these methods (repeat); default: the suite's. Adding methods "
                   "to a folder extends it.")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Benchmark folder (created; rerun the same command to resume).")
@click.option("--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
              metavar="MINUTES",
              help="Start no new batch of runs after this many minutes (as every other "
                   "command; the tables are written from the finished runs; rerun to go on).")
@click.option("--tables-only", is_flag=True,
              help="Only write the tables and figures from the runs finished so far (safe "
                   "while another process runs the suite in OUT).")
@click.option("--include", "include", multiple=True, metavar="DIR",
              type=click.Path(exists=True, file_okay=False),
              help="With --tables-only: also read the finished runs of this folder of the "
                   "same suite (repeat; e.g. methods run by another process into their own "
                   "folder). The tables go to OUT.")
@click.option("--no-progress", is_flag=True, help="Hide the progress bar.")
@cluster_options
def benchmark(suite: str, methods: tuple[str, ...], out: str, time_limit: float | None,
              tables_only: bool, include: tuple[str, ...], no_progress: bool,
              cluster: Any = None) -> None:
    """Tune every method on separate instances, run every method at every budget (BiNN
    cost evaluations) on every instance, and write OUT/benchmark.csv, TTS tables, growth
    fits and figures."""
    from ..benchmark import suite as suites
    from ..benchmark.methods import METHODS
    from ..checks import InputError

    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise InputError(f"--method {', '.join(bad)}: unknown; choose from {', '.join(METHODS)}")
    if include and not tables_only:
        raise InputError("--include reads other folders' runs for the tables: use it with "
                         "--tables-only")
    if tables_only:
        bench = suites.tables_only(suites.SUITES[suite], out, include)
    else:
        bench = suites.run_suite(suites.SUITES[suite], out, methods=methods or None,
                                 progress=not no_progress, client=cluster,
                                 time_limit=None if time_limit is None else 60.0 * time_limit)
    click.echo(f"{len(bench)} rows in {out}/benchmark.csv")
