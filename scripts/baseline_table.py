"""Print the circuits-vs-baselines table (Markdown) from run folders' summary.json files.

Usage: python scripts/baseline_table.py DIR [DIR ...]   (folders written by
``pyqhn baseline`` and/or ``pyqhn reproduce figN --baselines``)

Per group: success probability at the figure's ε with its 95 % Wilson interval, runs, mean
objective evaluations per run (circuits: energy-and-gradient evaluations of L-BFGS;
baselines: cost evaluations; exhaustive: 2**N) and the median evaluation at which a
successful baseline run found its best bitstring.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path

import numpy as np
import pandas as pd


def rows(folder: Path) -> list[str]:
    s = json.loads((folder / "summary.json").read_text())
    table = pd.read_csv(folder / "runs.csv")
    out = []
    for c in s["circuits"]:
        sub = table[table["group"] == c["name"]]
        ok = sub[sub["e_final"] - s["c_star"] < s["epsilon"]]
        at_best = (f"{int(np.median(ok['n_evals_at_best']))}"
                   if "n_evals_at_best" in ok and ok["n_evals_at_best"].notna().any() else "")
        lo, hi = c["success_interval"]
        rate = (f"{c['success_probability']:.3f} [{lo:.3f}, {hi:.3f}]"
                if c["name"] != "exhaustive" else "1 (deterministic)")
        budget = {"sa": s["settings"].get("baseline_budget"), "random": s["settings"].get(
            "baseline_budget"), "ste": s["settings"].get("baseline_budget"),
            "exhaustive": f"2^{s['n_qubits']}"}.get(c["name"], "L-BFGS ≤ 500 its")
        out.append(f"| {s['figure']} (N = {s['n_qubits']}, ε = {s['epsilon']:g}) | "
                   f"{c['name']} | {budget} | "
                   f"{rate} | {c['runs']} | "
                   f"{c.get('mean_evals', float('nan')):.0f} | {at_best} |")
    return out


def main(folders: list[str]) -> None:
    print("| problem | method | budget | success [95 % Wilson] | runs | mean evaluations "
          "| median evaluation of the best (successes) |")
    print("| --- | --- | --- | --- | --- | --- | --- |")
    for f in folders:
        print("\n".join(rows(Path(f))))


if __name__ == "__main__":
    main(sys.argv[1:])
