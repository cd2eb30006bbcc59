"""Figures of the paper's appendix (Figs. 9–11, 13) from the tidy results of
:mod:`pyqhn.experiments.gradient_free`. Figs. 8 and 12 reuse
:func:`pyqhn.plotting.paper.landscape_figure`.

matplotlib is imported lazily with the Agg backend (as :mod:`pyqhn.plotting.paper`);
every function returns the ``Figure``; :func:`pyqhn.plotting.save_figure` writes it.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import circuit_label, pyplot, success_errorbars

__all__ = ["sampled_energy_figure", "noise_sweep_figure"]


def sampled_energy_figure(
    sampled: Mapping[str, np.ndarray],
    *,
    c_star: float,
    title: str = "",
    x_values: Mapping[str, float] | None = None,
    x_label: str = "circuit",
    bins: int = 40,
) -> Any:
    """Figs. 9 and 13: histograms of sampled energies and their mean / minimum per group.

    The counts are on a log axis: nearly all samples sit at the few lowest costs, and a
    linear axis would hide the tail of rare high-cost samples that sets the mean.

    Args:
        sampled: ``{group: (R·S,) costs C(w) of all samples of all final states}`` in
            display order.
        c_star: the absolute minimum ``min C`` (marked on every histogram).
        x_values: ``{group: x}`` for the right panel (e.g. N_layer); default 0, 1, 2, …
        x_label: label of that axis.
    """
    plt = pyplot()
    from matplotlib.gridspec import GridSpec

    names = list(sampled)
    fig = plt.figure(figsize=(10, max(4.0, 1.1 * len(names) + 1.0)))
    gs = GridSpec(len(names), 2, figure=fig, width_ratios=[1.4, 1.0], hspace=0.2, wspace=0.35)
    all_e = np.concatenate([np.asarray(sampled[k], float) for k in names] + [[c_star]])
    lo, hi = float(all_e.min()), float(all_e.max())
    hi = hi if hi > lo else lo + 1e-6
    axes: list[Any] = []
    for i, name in enumerate(names):
        ax = fig.add_subplot(gs[i, 0], sharex=axes[0] if axes else None)
        e = np.asarray(sampled[name], float)
        if e.size:
            ax.hist(e, bins=bins, range=(lo, hi), color=f"C{i}", alpha=0.7, log=True)
        ax.axvline(c_star, color="r", lw=1.0, label="absolute minimum" if i == 0 else None)
        ax.tick_params(axis="y", labelsize=7)
        ax.set_ylabel(circuit_label(name), rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelbottom=i == len(names) - 1)
        axes.append(ax)
    axes[0].legend(fontsize=7, loc="upper right")
    axes[-1].set_xlabel("sampled energy $C(w)$")
    axes[0].set_title("samples per bin (log scale)", fontsize=8, loc="left")

    ax = fig.add_subplot(gs[:, 1])
    xs = np.array([x_values[k] if x_values else i for i, k in enumerate(names)], float)
    mean = np.array([np.mean(sampled[k]) if len(sampled[k]) else np.nan for k in names])
    low = np.array([np.min(sampled[k]) if len(sampled[k]) else np.nan for k in names])
    ax.plot(xs, mean, "o-", label="mean sampled energy")
    ax.plot(xs, low, "s--", label="minimum sampled energy")
    ax.axhline(c_star, color="r", lw=0.8, label="$C^*$")
    ax.set_xticks(xs)
    if not x_values:
        ax.set_xticklabels([circuit_label(k) for k in names], rotation=45, ha="right", fontsize=8)
    ax.set_xlabel(x_label)
    ax.set_ylabel("energy")
    ax.grid(alpha=0.3)
    ax.legend(fontsize=7)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def noise_sweep_figure(
    energies: Mapping[str, np.ndarray],
    sampled: Mapping[str, np.ndarray],
    *,
    p: Mapping[str, float],
    c_star: float,
    epsilon: float,
    title: str = "",
) -> Any:
    """Figs. 10 and 11: histograms of the final energies per noise strength (the paper's
    panel), success probability at ``epsilon`` (our threshold, labelled so: the paper
    gives none) and the mean and minimum sampled energies vs noise.

    Args:
        energies: ``{group: (R,) final energies Tr(ρ Ĉ) at the group's noise}``.
        sampled: ``{group: (R·S,) costs of all samples}``.
        p: ``{group: noise strength}`` (the x axis).
        c_star: exact optimum; ``epsilon``: success threshold ``E − C* < ε``.
    """
    plt = pyplot()
    names = list(energies)
    xs = np.array([p[k] for k in names], float)
    fig, axes = plt.subplots(1, 3, figsize=(13, 4))
    ax = axes[0]  # the paper's panel: a histogram of the final energies per p
    colors = pyplot().cm.viridis(np.linspace(0, 0.9, max(len(names), 1)))
    finite = [np.asarray(energies[k], float) for k in names if len(energies[k])]
    lo = min((e.min() for e in finite), default=c_star)
    hi = max((e.max() for e in finite), default=c_star + epsilon)
    bins = np.linspace(min(lo, c_star), hi + 1e-12, 60)
    for x, k, color in zip(xs, names, colors, strict=True):
        e = np.asarray(energies[k], float)
        if e.size:
            ax.hist(e, bins=bins, histtype="stepfilled", alpha=0.45, color=color,
                    label=f"$p = {x:g}$ (mean {e.mean():.4f})")
    ax.axvline(c_star, color="r", lw=0.8, label="$C^*$")
    ax.set_xlabel(r"final $E(\theta) = \mathrm{Tr}(\rho_\theta \hat C)$")
    ax.set_ylabel("runs")
    ax.legend(fontsize=6, ncol=2)
    ax = axes[1]
    succ, yerr = success_errorbars([energies[k] for k in names], c_star, epsilon)
    ax.errorbar(xs, succ, yerr=yerr, fmt="o-", capsize=3)
    ax.set_ylim(-0.05, 1.05)
    ax.set_xlabel("noise strength $p$")
    ax.set_ylabel(rf"success probability ($E - C^* < {epsilon:g}$)")
    ax.set_title(rf"$\epsilon = {epsilon:g}$ is ours (the paper gives none)", fontsize=8)
    ax = axes[2]
    ax.plot(xs, [np.mean(sampled[k]) if len(sampled[k]) else np.nan for k in names], "o-",
            label="mean sampled energy")
    ax.plot(xs, [np.min(sampled[k]) if len(sampled[k]) else np.nan for k in names], "s--",
            label="minimum sampled energy")
    ax.axhline(c_star, color="r", lw=0.8, label="$C^*$")
    ax.set_xlabel("noise strength $p$")
    ax.set_ylabel("sampled energy")
    ax.legend(fontsize=7)
    for a in axes:
        a.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    fig.tight_layout()
    return fig
