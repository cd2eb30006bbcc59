"""Benchmark suites: tuning, runs, tables and figures in one resumable folder.

``DIR`` (made by :func:`run_suite`) holds

* ``instances/<instance>/cost.npz`` (enumerable instances: the whole table) or
  ``reference.json`` (the long-search reference of the others);
* ``tuning/`` — the run log (:mod:`pyqhn.runlog`) of the tuning runs, and ``tuning.csv``
  (every configuration's success on the tuning instances) and ``tuning.json`` (the chosen
  hyperparameters);
* ``runs/`` — the run log of the benchmark runs (one group per instance, method, budget);
* ``benchmark.csv`` (:data:`pyqhn.benchmark.metrics.BENCHMARK_COLUMNS`), ``tts.csv``,
  ``tts_summary.csv``, ``growth.csv`` and the figures ``success_vs_budget.png`` and
  ``tts_vs_n.png``.

Both run logs carry the suite's settings: a folder made by another suite (or other
ε, runs, seed) is refused; rerunning the same command resumes, and ``--method`` only
extends the sweep. Tuning: every method with hyperparameters evaluates each of its grid's
configurations (:data:`pyqhn.benchmark.methods.GRIDS`, three per method, so every method
gets the same tuning budget) with ``tuning_runs`` runs of ``tuning_budget`` evaluations on
each tuning instance (other seeds than the benchmark's); the configuration with the
highest success (criterion a), then the lowest mean gap, is kept.
"""

from __future__ import annotations

import json
from collections.abc import Sequence
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..checks import InputError
from ..driver import run_groups
from ..runlog import RunLog, write_json, write_table
from .instances import MAX_EXACT_QUBITS, Instance, InstanceSpec, build_instance
from .methods import METHODS, method_group, method_info
from .metrics import growth_fit, success_table, tts_summary, tts_table

__all__ = ["Suite", "SUITES", "run_suite", "analyse", "tables_only"]


@dataclass(frozen=True)
class Suite:
    """A benchmark: instances, budgets, runs, methods and tuning."""

    name: str
    instances: tuple[InstanceSpec, ...]
    tuning_instances: tuple[InstanceSpec, ...]
    budgets: tuple[int, ...]
    runs: int
    methods: tuple[str, ...]
    epsilon: float = 1e-4
    tuning_budget: int = 512
    tuning_runs: int = 3
    reference_budget: int = 50000
    reference_runs: int = 4
    seed: int = 0
    #: ``(method, budget)`` pairs: the largest budget that method runs at in this suite
    #: (a method whose wall time grows with its budget step by step, STE at one Python
    #: step per evaluation, would otherwise take most of the suite's time). TTS of a
    #: capped method is minimised over the budgets it ran; the tables say so.
    budget_caps: tuple[tuple[str, int], ...] = ()

    def settings(self) -> dict[str, Any]:
        """What makes two folders' runs incompatible (methods and budget caps only
        restrict or extend the sweep; they never change a finished run)."""
        s = asdict(self)
        s.pop("methods")
        s.pop("budget_caps")
        s["instances"] = [i.name for i in self.instances]
        s["tuning_instances"] = [i.name for i in self.tuning_instances]
        return s


def _specs(family: str, sizes: Sequence[int], seeds: Sequence[int],
           widths: Sequence[float] = (0.1,)) -> tuple[InstanceSpec, ...]:
    return tuple(InstanceSpec(family, s, seed, w) for s in sizes for seed in seeds
                 for w in (widths if family == "gauss" else (0.1,)))


_CLASSICAL = ("sa", "pt", "random", "local", "ste", "made")

SUITES: dict[str, Suite] = {
    "tiny": Suite(
        "tiny", _specs("mnist", [3], [1]), _specs("mnist", [3], [2]), (128, 512), 2,
        ("sa", "pt", "random", "local", "ste", "exhaustive", "made", "product-adam",
         "L1-spsa", "L1-qnspsa", "product-lbfgs-exact"),
        tuning_budget=128, tuning_runs=1),
    "quick": Suite(
        "quick",
        (InstanceSpec("gauss", 3, 0, 0.1), InstanceSpec("gauss", 3, 1, 0.3),
         InstanceSpec("mnist", 3, 1), InstanceSpec("pixels", 15, 0)),
        _specs("gauss", [3], [100]) + _specs("mnist", [3], [103]) + _specs("pixels", [15], [102]),
        (128, 512, 2048), 5,
        (*_CLASSICAL, "exhaustive", "product-adam", "L1-adam", "L1-spsa", "product-lbfgs-exact",
         "L1-lbfgs-exact"), tuning_runs=2),
    "paper": Suite(
        "paper",
        _specs("gauss", [3, 4, 5], [0, 1, 2], [0.1, 0.3]) + _specs("mnist", [3, 4], [1, 2, 3])
        + _specs("pixels", [11, 15, 19], [0, 1, 2]),
        _specs("gauss", [3, 4], [100]) + _specs("mnist", [3], [103])
        + _specs("pixels", [15], [102]),
        (256, 1024, 4096, 16384, 65536), 20, METHODS,
        tuning_budget=4096, tuning_runs=5),
    "scaling": Suite(
        "scaling",
        _specs("gauss", [3, 5, 8, 16, 32, 50], [0, 1])
        + _specs("pixels", [12, 20, 32, 64, 128, 199], [0, 1]),
        _specs("gauss", [4], [100]) + _specs("pixels", [16], [102]),
        (256, 1024, 4096, 16384), 4,
        ("sa", "product-adam", "made", "local", "pt", "L1-adam", "random", "ste"),
        tuning_budget=1024, tuning_runs=3, reference_budget=50000,
        budget_caps=(("ste", 4096),)),
}


def _budget_ok(method: str, budget: int, hp: dict[str, Any]) -> bool:
    """Whether ``method`` can run at ``budget`` (two steps at least)."""
    info = method_info(method)
    if info.kind != "sampler":
        return True
    per_step = hp["shots"] * (1 if info.optimizer in (None, "adam") else 2)
    return budget >= 2 * per_step


def _instances(specs: Sequence[InstanceSpec], folder: Path, suite: Suite) -> list[Instance]:
    return [build_instance(s, folder, reference_budget=suite.reference_budget,
                           reference_runs=suite.reference_runs) for s in specs]


def _applicable(method: str, inst: Instance) -> bool:
    info = method_info(method)
    if info.kind == "exact" or method == "exhaustive":
        return inst.table is not None
    return True


def tune(suite: Suite, methods: Sequence[str], out: Path, *, progress: bool,
         client: Any = None, time_limit: float | None = None) -> dict[str, dict[str, Any]]:
    """Tuned hyperparameters per method (module docstring); results in ``out/tuning*``."""
    tuning = _instances(suite.tuning_instances, out / "instances", suite)
    groups, index = [], []
    for method in methods:
        grid = method_info(method).grid
        if len(grid) == 1:
            continue
        for inst in tuning:
            if not _applicable(method, inst):
                continue
            for i, hp in enumerate(grid):
                if not _budget_ok(method, suite.tuning_budget, hp):
                    continue
                name = f"tune|{inst.name}|{method}|cfg{i}"
                groups.append(method_group(method, inst, suite.tuning_budget, hp,
                                           runs=suite.tuning_runs, seed=suite.seed + 50_000,
                                           name=name))
                index.append((name, method, inst, i))
    with RunLog(out / "tuning", suite.settings(), kind="benchmark-tuning") as log:
        table = run_groups(groups, log, progress=progress, client=client,
                           time_limit=time_limit) if groups else log.table()
    rows = []
    for name, method, inst, i in index:
        g = table[table["group"] == name] if not table.empty else table
        if g.empty:
            continue
        gap = g["best_cost"].to_numpy(float) - inst.reference
        rows.append(dict(method=method, instance=inst.name, config=i,
                         hyperparameters=json.dumps(method_info(method).grid[i]),
                         runs=len(g), success=float(np.mean(gap < suite.epsilon)),
                         mean_gap=float(gap.mean())))
    scores = pd.DataFrame(rows, columns=["method", "instance", "config", "hyperparameters",
                                         "runs", "success", "mean_gap"])
    earlier = _earlier_tuning(out, methods)  # methods tuned by earlier calls stay recorded
    write_table(out / "tuning.csv", pd.concat([earlier[0], scores], ignore_index=True)
                if not earlier[0].empty else scores)
    chosen: dict[str, dict[str, Any]] = {}
    for method in methods:
        grid = method_info(method).grid
        s = scores[scores["method"] == method]
        if len(grid) == 1 or s.empty:
            chosen[method] = dict(grid[min(1, len(grid) - 1)])
            continue
        agg = s.groupby("config").agg(success=("success", "mean"), gap=("mean_gap", "mean"))
        best = agg.sort_values(["success", "gap"], ascending=[False, True]).index[0]
        chosen[method] = dict(grid[int(best)])
    write_json(out / "tuning.json", dict(chosen={**earlier[1], **chosen}, grids={
        **earlier[2], **{m: list(method_info(m).grid) for m in methods}},
        budget=suite.tuning_budget, runs=suite.tuning_runs,
        instances=[i.name for i in suite.tuning_instances]))
    return chosen


def _earlier_tuning(out: Path, methods: Sequence[str]) -> tuple[pd.DataFrame, dict, dict]:
    """What ``tuning.csv``/``tuning.json`` in ``out`` record of methods other than
    ``methods`` (tuned by an earlier call with other ``--method``s): rows, chosen, grids."""
    rows = pd.DataFrame()
    if (out / "tuning.csv").exists():
        rows = pd.read_csv(out / "tuning.csv")
        rows = rows[~rows["method"].isin(methods)]
    chosen: dict = {}
    grids: dict = {}
    if (out / "tuning.json").exists():
        saved = json.loads((out / "tuning.json").read_text())
        chosen = {m: c for m, c in saved.get("chosen", {}).items() if m not in methods}
        grids = {m: g for m, g in saved.get("grids", {}).items() if m not in methods}
    return rows, chosen, grids


def run_suite(suite: Suite, out: str | Path, *, methods: Sequence[str] | None = None,
              progress: bool = True, client: Any = None,
              time_limit: float | None = None) -> pd.DataFrame:
    """Tune, run and analyse ``suite`` in ``out`` (resumable); returns ``benchmark.csv``."""
    out = Path(out)
    methods = tuple(methods or suite.methods)
    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise InputError(f"unknown method(s) {', '.join(bad)}; choose from {', '.join(METHODS)}")
    out.mkdir(parents=True, exist_ok=True)
    chosen = tune(suite, methods, out, progress=progress, client=client,
                  time_limit=time_limit)
    instances = _instances(suite.instances, out / "instances", suite)
    groups = []
    # method by method, each over every N: an interrupted sweep leaves whole TTS-vs-N
    # curves of the methods it finished (the suite lists the cheap methods first)
    for method in methods:
        for inst in sorted(instances, key=lambda i: i.n_qubits):
            if not _applicable(method, inst):
                continue
            info = method_info(method)
            if method == "exhaustive":
                budgets: tuple[int, ...] = (2**inst.n_qubits,)
            elif info.kind == "exact":
                budgets = (2**inst.n_qubits * 128,)
            else:
                cap = dict(suite.budget_caps).get(method)
                budgets = tuple(b for b in suite.budgets if _budget_ok(method, b, chosen[method])
                                and (cap is None or b <= cap))
            for b in budgets:
                runs = 1 if method == "exhaustive" else suite.runs
                groups.append(method_group(method, inst, b, chosen[method], runs=runs,
                                           seed=suite.seed, name=f"{inst.name}|{method}|b{b}"))
    with RunLog(out / "runs", suite.settings(), kind="benchmark") as log:
        table = run_groups(groups, log, progress=progress, client=client,
                           time_limit=time_limit)
    return analyse(suite, out, table, instances)


def tables_only(suite: Suite, out: str | Path,
                include: Sequence[str | Path] = ()) -> pd.DataFrame:
    """The tables and figures of ``out`` from the runs finished so far, running nothing
    (reads the run log without taking its lock: safe while the suite runs elsewhere).

    ``include``: other folders of the same suite and settings (e.g. methods run by another
    process or machine, each into its own folder); their finished runs join ``out``'s (a
    run present twice counts once) and the tables are written to ``out``."""
    from ..runlog import made_with, read_runs

    out = Path(out)
    folders = [out, *(Path(f) for f in include)]
    if include and not (out / "runs" / "runs.csv").exists():
        folders = folders[1:]  # OUT only receives the tables of the included folders
    tables = []
    for folder in folders:
        if not (folder / "runs" / "runs.csv").exists():
            raise InputError(f"{folder} holds no finished benchmark runs yet; run the suite "
                             "first")
        if not made_with(folder / "runs", suite.settings(), kind="benchmark"):
            raise InputError(f"{folder} was made by another suite or other settings than "
                             f"--suite {suite.name}; give folders of the same suite only")
        tables.append(read_runs(folder / "runs"))
    table = pd.concat(tables, ignore_index=True).drop_duplicates(["group", "run"])
    instances = []
    for s in suite.instances:  # only instances already built (nothing computed)
        for folder in folders:
            here = folder / "instances" / s.name
            if (here / "cost.npz").exists() or (here / "reference.json").exists():
                instances.append(_instances([s], folder / "instances", suite)[0])
                break
    out.mkdir(parents=True, exist_ok=True)
    return analyse(suite, out, table, instances)


def _complete(suite: Suite, table: pd.DataFrame) -> pd.DataFrame:
    """The runs of finished groups only (every run of the group), and of (instance,
    method) pairs with as many budgets finished as the method has on any instance: a
    sweep taken while it runs gives no half-measured cells."""
    runs = table.groupby("group")["run"].transform("size")
    want = np.where(table["method"] == "exhaustive", 1, suite.runs)
    table = table[runs.to_numpy() >= want]
    if table.empty:
        return table
    budgets = table.groupby(["instance", "method"])["budget"].transform("nunique")
    most = budgets.groupby(table["method"]).transform("max")
    return table[budgets.to_numpy() >= most.to_numpy()]


def analyse(suite: Suite, out: Path, table: pd.DataFrame,
            instances: Sequence[Instance]) -> pd.DataFrame:
    """``benchmark.csv``, TTS tables, growth fits and figures from the finished runs."""
    if table.empty:
        return pd.DataFrame()
    refs = {}
    for inst in instances:
        ref = inst.reference
        if not inst.reference_exact and "best_cost" in table:
            found = table.loc[table["instance"] == inst.name, "best_cost"].astype(float)
            if len(found) and found.min() < ref:
                ref = float(found.min())  # best known: a benchmark run beat the long runs
        refs[inst.name] = (ref, inst.reference_exact)
    table = _complete(suite, table[table["instance"].isin(refs)])
    bench = success_table(table, refs, suite.epsilon)
    write_table(out / "benchmark.csv", bench)
    tts = tts_table(bench)
    write_table(out / "tts.csv", tts)
    summaries = pd.concat([tts_summary(tts, c).assign(criterion=c) for c in ("a", "b", "c")])
    write_table(out / "tts_summary.csv", summaries)
    fits = pd.concat([growth_fit(tts, c).assign(criterion=c) for c in ("a", "b", "c")])
    write_table(out / "growth.csv", fits)
    spent = table.assign(distinct_fraction=table["n_distinct"] / table["n_charged"])
    wall = spent.groupby("method").agg(runs=("run", "size"), wall_time_s=("wall_time", "sum"),
                                       mean_evaluations=("n_charged", "mean"),
                                       distinct_fraction=("distinct_fraction", "mean"))
    write_table(out / "wall_time.csv", wall.reset_index())
    from .figures import plot_success, plot_tts

    plot_success(bench, out / "success_vs_budget.png")
    plot_tts(summaries, out / "tts_vs_n.png")
    return bench


def exact_limit() -> int:
    """Largest enumerable N of the benchmark (for the docs)."""
    return MAX_EXACT_QUBITS
