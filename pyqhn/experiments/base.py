"""How every experiment runs: open the run log, build the groups, drive, analyse, plot.

An experiment module is a spec (data, model, circuits, settings) plus its analysis; it
hands :func:`execute` three things: the run-log ``settings`` (checked before any work), a
``build`` function returning the driver's groups and whatever the analysis needs, and a
``summarise`` function that reads the run log, draws the figure (:mod:`pyqhn.plotting`)
and returns the ``summary.json`` contents. The loop, the files and the resume logic are
the driver's and the run log's alone.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import replace
from pathlib import Path
from typing import Any

from ..checks import InputError, check_float, check_int
from ..driver import Group, run_groups
from ..runlog import RunLog, write_json

__all__ = ["execute", "spec_with"]


def _distinct(values: tuple, what: str) -> tuple:
    if len(set(values)) != len(values):
        raise InputError(f"{what} {list(values)} name the same one twice; give each once")
    return values


def spec_with(registry: Mapping[str, Any], figure: str, *, quick: bool,
              quick_sizes: Mapping[str, Any], runs: int | None = None,
              max_iter: int | None = None, max_steps: int | None = None,
              blocks: Sequence[int] | None = None,
              noise_levels: Sequence[float] | None = None) -> Any:
    """The spec of ``figure`` from ``registry`` (CI-sized with ``quick``), with the given
    overrides checked and applied (``None`` keeps the spec's value). Only fields the spec
    has may be given."""
    if figure not in registry:
        raise InputError(f"unknown figure {figure!r}; choose one of {sorted(registry)}")
    spec = registry[figure]
    if quick:
        spec = replace(spec, **quick_sizes)
    changes: dict[str, Any] = {}
    if runs is not None:
        changes["runs"] = check_int(runs, "runs", minimum=1)
    if max_iter is not None:
        changes["max_iter"] = check_int(max_iter, "max_iter", minimum=0)
    if max_steps is not None:
        changes["max_steps"] = check_int(max_steps, "max_steps", minimum=1)
    if blocks is not None:
        changes["blocks"] = _distinct(
            tuple(check_int(b, "blocks", minimum=0) for b in blocks), "blocks")
    if noise_levels is not None:
        changes["noise_levels"] = _distinct(
            tuple(check_float(p, "noise level", low=0.0, high=250.0) for p in noise_levels),
            "noise levels")
    return replace(spec, **changes)


def execute(
    out: str | Path,
    *,
    kind: str,
    settings: Mapping[str, Any],
    build: Callable[[Path], tuple[Sequence[Group], Any]],
    summarise: Callable[[RunLog, Any, Path], dict],
    progress: bool = True,
    time_limit: float | None = None,
    client: Any = None,
) -> dict:
    """Run one experiment into ``out`` and return its summary (also ``out/summary.json``).

    Args:
        out: the run folder (created; rerun to resume).
        kind: the experiment's name (``fig2`` …), recorded in the run log.
        settings: everything that must match to resume into ``out``.
        build: ``out -> (groups, context)``; may cache cost tables in ``out``.
        summarise: ``(log, context, out) -> summary`` with a ``files`` list.
        progress: progress bars.
        time_limit: seconds after which no new batch starts (finish a long figure in
            parts; ``summary["complete"]`` says whether every run is done).
        client: a ``dask.distributed.Client`` or :class:`pyqhn.cluster.ClusterSpec`
            to train on (:func:`pyqhn.driver.run_groups`); ``None``: this process.
    """
    out = Path(out)
    if isinstance(client, str):  # 'local:2' …: checked before the folder is made
        from ..cluster import parse_cluster

        client = parse_cluster(client)
    if (out / "summary.json").is_dir():  # refused before any work, not after it
        raise InputError(f"{out / 'summary.json'} is a folder where the summary goes; remove "
                         "it, or use another output folder")
    with RunLog(out, settings, kind=kind) as log:
        t0 = time.perf_counter()
        groups, context = build(out)
        t1 = time.perf_counter()
        table = run_groups(groups, log, progress=progress, time_limit=time_limit,
                           client=client)
        t2 = time.perf_counter()
        done = set(zip(table["group"].astype(str), table["run"].astype(int), strict=True))
        summary = summarise(log, context, out)
        summary["complete"] = all((g.name, r) in done for g in groups for r in range(g.runs))
        summary.setdefault("wall_time", {}).update(
            setup=t1 - t0, runs=t2 - t1, analysis=time.perf_counter() - t2)
        summary["files"] = ["runlog.json", *(["runs.csv", "history.jsonl", "angles.npz"]
                                             if groups else []), *summary.get("files", [])]
        write_json(out / "summary.json", summary)
    return summary
