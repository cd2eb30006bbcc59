"""Markdown tables of a ``pyqhn benchmark`` folder, for docs/benchmark.md.

Usage: ``python scripts/benchmark_report.py DIR [--criterion a]``. Prints: TTS99 per
method and N (median [quartiles] over instances, ``solved/instances``), the growth fits,
pooled success per method, N and budget with Wilson intervals, the tuned hyperparameters
and the time spent per method.
"""

from __future__ import annotations

import argparse
import json
import math
from pathlib import Path

import pandas as pd

from pyqhn.analysis import wilson_interval


def _fmt(v: float) -> str:
    if math.isnan(v):
        return "—"
    if not math.isfinite(v):
        return "∞"
    return f"{v:.3g}" if v < 1e5 else f"{v:.2e}"


def tts_markdown(folder: Path, criterion: str) -> str:
    s = pd.read_csv(folder / "tts_summary.csv")
    s = s[s["criterion"] == criterion]
    if s.empty:
        return "(no rows)\n"
    ns = sorted(s["n_qubits"].unique())
    lines = ["| method | " + " | ".join(f"N = {n}" for n in ns) + " |",
             "| --- |" + " --- |" * len(ns)]
    for method, g in s.groupby("method"):
        cells = []
        for n in ns:
            r = g[g["n_qubits"] == n]
            if r.empty:
                cells.append("")
                continue
            r = r.iloc[0]
            cells.append(f"{_fmt(r.tts_median)} [{_fmt(r.tts_q1)}, {_fmt(r.tts_q3)}] "
                         f"({r.solved}/{r.instances})")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def growth_markdown(folder: Path, criterion: str) -> str:
    g = pd.read_csv(folder / "growth.csv")
    g = g[g["criterion"] == criterion]
    lines = ["| method | N range | instances fitted / all | slope of log10 TTS99 per qubit "
             "[95 % CI] | factor per qubit |", "| --- | --- | --- | --- | --- |"]
    for r in g.itertuples():
        slope = ("—" if not math.isfinite(r.slope) else
                 f"{r.slope:.4f} [{r.slope_low:.4f}, {r.slope_high:.4f}]")
        factor = "—" if not math.isfinite(r.factor_per_qubit) else f"{r.factor_per_qubit:.4f}"
        lines.append(f"| {r.method} | {r.n_min}–{r.n_max} | {r.fitted}/{r.instances} | "
                     f"{slope} | {factor} |")
    return "\n".join(lines) + "\n"


def success_markdown(folder: Path, criterion: str) -> str:
    b = pd.read_csv(folder / "benchmark.csv")
    b = b[b["criterion"] == criterion]
    lines = ["| method | N | budget | successes / runs | success [95 % Wilson] |",
             "| --- | --- | --- | --- | --- |"]
    for (method, n, budget), g in b.groupby(["method", "n_qubits", "budget"]):
        k, m = int(g["successes"].sum()), int(g["runs"].sum())
        lo, hi = wilson_interval(k, m)
        lines.append(f"| {method} | {n} | {budget} | {k}/{m} | {k / m:.2f} [{lo:.2f}, {hi:.2f}] |")
    return "\n".join(lines) + "\n"


def pooled_markdown(folder: Path, criterion: str) -> str:
    """Successes pooled over every instance, per method and budget (one cell per budget)."""
    b = pd.read_csv(folder / "benchmark.csv")
    b = b[b["criterion"] == criterion]
    budgets = sorted(b["budget"].unique())
    lines = ["| method | " + " | ".join(str(x) for x in budgets) + " |",
             "| --- |" + " --- |" * len(budgets)]
    for method, g in b.groupby("method"):
        cells = []
        for x in budgets:
            r = g[g["budget"] == x]
            if r.empty:
                cells.append("")
                continue
            k, m = int(r["successes"].sum()), int(r["runs"].sum())
            lo, hi = wilson_interval(k, m)
            cells.append(f"{k}/{m} [{lo:.2f}, {hi:.2f}]")
        lines.append(f"| {method} | " + " | ".join(cells) + " |")
    return "\n".join(lines) + "\n"


def reference_markdown(folder: Path) -> str:
    """Per instance: N, the reference used and, above enumeration, the long runs' best."""
    b = pd.read_csv(folder / "benchmark.csv").drop_duplicates("instance")
    lines = ["| instance | N | reference used | exact | best of the long SA/PT runs |",
             "| --- | --- | --- | --- | --- |"]
    for r in b.sort_values(["n_qubits", "instance"]).itertuples():
        path = folder / "instances" / r.instance / "reference.json"
        long = json.loads(path.read_text())["reference"] if path.exists() else float("nan")
        lines.append(f"| {r.instance} | {r.n_qubits} | {r.reference:.6g} | "
                     f"{bool(r.reference_exact)} | {f'{long:.6g}' if long == long else '—'} |")
    return "\n".join(lines) + "\n"


def tuning_markdown(folder: Path) -> str:
    t = json.loads((folder / "tuning.json").read_text())
    lines = [f"Tuning: {t['runs']} runs of {t['budget']} evaluations per configuration on "
             f"{', '.join(t['instances'])}.", "", "| method | grid | chosen |",
             "| --- | --- | --- |"]
    for m, grid in t["grids"].items():
        lines.append(f"| {m} | {'; '.join(json.dumps(c) for c in grid)} | "
                     f"{json.dumps(t['chosen'][m])} |")
    return "\n".join(lines) + "\n"


def time_markdown(folder: Path) -> str:
    w = pd.read_csv(folder / "wall_time.csv")
    lines = ["| method | runs | run time, s (sum over runs) | mean evaluations charged | "
             "distinct BiNNs / evaluations |", "| --- | --- | --- | --- | --- |"]
    lines += [f"| {r.method} | {r.runs} | {r.wall_time_s:.0f} | {_fmt(r.mean_evaluations)} | "
              f"{_fmt(r.distinct_fraction)} |" for r in w.itertuples()]
    return "\n".join(lines) + "\n"


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("folder", type=Path)
    parser.add_argument("--criterion", default="a", choices=["a", "b", "c"])
    args = parser.parse_args()
    f = args.folder
    print(f"### TTS99 (criterion {args.criterion}), median [quartiles] (solved/instances)\n")
    print(tts_markdown(f, args.criterion))
    print("### Growth with N\n")
    print(growth_markdown(f, args.criterion))
    print("### Successes / runs [95 % Wilson] per budget, all instances pooled\n")
    print(pooled_markdown(f, args.criterion))
    print("### Success against budget (pooled over the instances of each N)\n")
    print(success_markdown(f, args.criterion))
    print("### References\n")
    print(reference_markdown(f))
    print("### Tuning\n")
    print(tuning_markdown(f))
    print("### Time\n")
    print(time_markdown(f))


if __name__ == "__main__":
    main()
