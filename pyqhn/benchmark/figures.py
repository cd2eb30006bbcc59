"""Figures of a benchmark folder: success against budget, TTS99 against N."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pandas as pd

__all__ = ["plot_success", "plot_tts"]


def _styles(methods: list[str]) -> dict[str, dict]:
    """One look per method, distinct for up to 60 methods: 20 colours (tab20) times
    three line styles."""
    import matplotlib

    colours = matplotlib.colormaps["tab20"].colors
    return {m: dict(color=colours[i % 20], ls=("-", "--", ":")[i // 20 % 3])
            for i, m in enumerate(sorted(methods))}


def plot_success(bench: pd.DataFrame, path: str | Path) -> Path:
    """Mean success (criterion a) over the instances of each N against budget, one panel
    per N, one line per method."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    a = bench[bench["criterion"] == "a"]
    styles = _styles(list(a["method"].unique()))
    ns = sorted(a["n_qubits"].unique())
    fig, axes = plt.subplots(1, max(1, len(ns)), figsize=(3.2 * max(1, len(ns)), 3.2),
                             squeeze=False, sharey=True)
    for ax, n in zip(axes[0], ns, strict=False):
        sub = a[a["n_qubits"] == n]
        for method, g in sub.groupby("method"):
            m = g.groupby("budget")["success"].mean()
            ax.plot(m.index, m.to_numpy(), marker="o", ms=3, label=method, **styles[method])
        ax.set_xscale("log", base=2)
        ax.set_title(f"N = {n}")
        ax.set_xlabel("budget (BiNN evaluations)")
    axes[0, 0].set_ylabel("success (best BiNN within ε)")
    handles, labels = axes[0, 0].get_legend_handles_labels()
    for ax in axes[0, 1:]:  # methods seen only at some N
        for h, lab in zip(*ax.get_legend_handles_labels(), strict=True):
            if lab not in labels:
                handles.append(h)
                labels.append(lab)
    fig.tight_layout()
    fig.legend(handles, labels, fontsize=6, loc="center left", bbox_to_anchor=(1.0, 0.5),
               ncol=1 + len(labels) // 16)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return Path(path)


def plot_tts(summary: pd.DataFrame, path: str | Path) -> Path:
    """Median TTS99 (criterion a) against N per method (both axes logarithmic), quartiles
    as error bars; a median that is infinite (most instances unsolved) breaks the line and
    is drawn as an open triangle on the top edge, in the method's colour."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    s = summary[summary["criterion"] == "a"]
    styles = _styles(list(s["method"].unique()))
    fig, ax = plt.subplots(figsize=(6.4, 4.4))
    unsolved = []
    for method, g in s.groupby("method"):
        g = g.sort_values("n_qubits")
        med = g["tts_median"].to_numpy(float)
        n = g["n_qubits"].to_numpy(float)
        finite = np.isfinite(med)
        med = np.where(finite, med, np.nan)
        lo = np.nan_to_num(med - g["tts_q1"].to_numpy(float))
        q3 = g["tts_q3"].to_numpy(float)
        hi = np.nan_to_num(np.where(np.isfinite(q3), q3 - med, 0.0))
        line = ax.errorbar(n, med, yerr=[lo, hi], marker="o", ms=3, capsize=2,
                           label=method, **styles[method])
        unsolved.append((n[~finite], line.lines[0].get_color()))
    ax.set_xscale("log")
    ax.set_yscale("log")
    ticks: list[float] = []
    for n in sorted(s["n_qubits"].unique()):  # one label where two N nearly coincide
        if not ticks or n > 1.05 * ticks[-1]:
            ticks.append(float(n))
    ax.set_xticks(ticks, [f"{t:g}" for t in ticks])
    ax.minorticks_off()
    top = ax.get_ylim()[1]
    for n, colour in unsolved:
        ax.plot(n, np.full(len(n), top), marker="^", ls="none", mfc="none", color=colour,
                clip_on=False)
    ax.set_ylim(top=top)
    ax.set_xlabel("N (qubits = bits of the BiNN)")
    ax.set_ylabel("median TTS99 (BiNN evaluations)")
    ax.set_title("open triangles: median instance unsolved", fontsize=8)
    fig.tight_layout()
    ax.legend(fontsize=6, loc="center left", bbox_to_anchor=(1.02, 0.5),
              ncol=1 + len(styles) // 16)
    fig.savefig(path, dpi=120, bbox_inches="tight")
    plt.close(fig)
    return Path(path)
