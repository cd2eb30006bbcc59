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
from pathlib import Path
from typing import Any

from ..driver import Group, run_groups
from ..runlog import RunLog, write_json

__all__ = ["execute"]


def execute(
    out: str | Path,
    *,
    kind: str,
    settings: Mapping[str, Any],
    build: Callable[[Path], tuple[Sequence[Group], Any]],
    summarise: Callable[[RunLog, Any, Path], dict],
    progress: bool = True,
    time_limit: float | None = None,
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
    """
    out = Path(out)
    with RunLog(out, settings, kind=kind) as log:
        t0 = time.perf_counter()
        groups, context = build(out)
        t1 = time.perf_counter()
        table = run_groups(groups, log, progress=progress, time_limit=time_limit)
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
