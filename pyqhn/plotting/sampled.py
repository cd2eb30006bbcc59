"""The sampled-hypernetwork figure (``pyqhn reproduce mnist8x8``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import circuit_label, pyplot

__all__ = ["accuracy_bins", "sampled_training_figure"]


def accuracy_bins(accuracies: np.ndarray, counts: np.ndarray, *,
                  max_bins: int = 40) -> np.ndarray:
    """Bin edges for a histogram of test accuracies: from just below the lowest accuracy
    that holds shots to 1, each bin a whole number of the accuracies' spacing (``1/n_test``
    for exact accuracies), at most ``max_bins`` bins.

    Args:
        accuracies: ``(m,)`` accuracies in [0, 1]; counts: ``(m,)`` shots at each.
    """
    acc = np.asarray(accuracies, dtype=np.float64)
    held = np.sort(np.unique(acc[np.asarray(counts) > 0]))
    if held.size == 0:
        return np.linspace(0.0, 1.0, max_bins + 1)
    gaps = np.diff(np.unique(acc))
    step = float(gaps[gaps > 1e-12].min()) if np.any(gaps > 1e-12) else 0.01
    lo, hi = float(held[0]), max(float(held[-1]), float(acc.max()))
    width = step * max(1, int(np.ceil((hi - lo + step) / step / max_bins)))
    n = max(1, int(np.ceil((hi - lo + step) / width)))
    return hi + step / 2 - width * np.arange(n, -1, -1)


def sampled_training_figure(curves: Mapping[str, Mapping[str, Any]],
                            distributions: Mapping[str, tuple[np.ndarray, np.ndarray]],
                            search_accuracy: float, *, title: str = "") -> Any:
    """Training and validation ``Ê`` per iteration, and test accuracies of sampled BiNNs.

    Circuits are named as the paper does (``blocks=2`` → ``N_layer = 1``,
    :func:`pyqhn.plotting.circuit_label`). The accuracy axis spans the accuracies that
    hold shots (and the classical search's), binned at the test set's resolution, with
    the fraction of shots on a log axis so that rare, worse BiNNs stay visible.

    Args:
        curves: ``{circuit: {"train": [(T+1,) per run], "val": [(T+1,) per run, NaN where
            not evaluated]}}``; training solid, validation markers.
        distributions: ``{circuit: (accuracies (m,), shots (m,))}``: how many sampled
            BiNNs (every shot counted) have each test accuracy.
        search_accuracy: test accuracy of the classical search (a vertical line).
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (name, c) in enumerate(curves.items()):
        label = circuit_label(name)
        for r, (tr, va) in enumerate(zip(c["train"], c["val"], strict=True)):
            it = np.arange(len(tr))
            axes[0].plot(it, tr, color=f"C{i}", alpha=0.8, lw=1,
                         label=f"{label} train" if r == 0 else None)
            va = np.asarray(va, dtype=float)
            ok = np.isfinite(va)
            axes[0].plot(np.arange(len(va))[ok], va[ok], "o--", color=f"C{i}", ms=4,
                         label=f"{label} validation" if r == 0 else None)
    axes[0].set_xlabel("iteration")
    axes[0].set_ylabel(r"$\hat E(\theta)$ (cross-entropy, sampled)")
    axes[0].grid(alpha=0.3)
    axes[0].legend(fontsize=8)
    pooled = [np.asarray(a, float) for a, _ in distributions.values()]
    shots = [np.asarray(n, float) for _, n in distributions.values()]
    if pooled:
        edges = accuracy_bins(np.concatenate(pooled + [np.array([search_accuracy])]),
                              np.concatenate(shots + [np.array([1.0])]))
        for i, (name, acc, n) in enumerate(zip(distributions, pooled, shots, strict=True)):
            counts, _ = np.histogram(acc, bins=edges, weights=n)
            axes[1].stairs(counts / max(counts.sum(), 1), edges, color=f"C{i}", lw=1.5,
                           label=circuit_label(name))
        axes[1].set_xlim(edges[0], edges[-1])
        axes[1].set_yscale("log")
    axes[1].axvline(search_accuracy, color="k", ls=":", label="classical bit-flip search")
    axes[1].set_xlabel("test accuracy of sampled BiNN")
    axes[1].set_ylabel("fraction of shots (log scale)")
    axes[1].grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
