"""The sampled-hypernetwork figure (``pyqhn reproduce mnist8x8``)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

import numpy as np

from . import pyplot

__all__ = ["sampled_training_figure"]


def sampled_training_figure(curves: Mapping[str, Mapping[str, Any]],
                            distributions: Mapping[str, np.ndarray],
                            search_accuracy: float, *, title: str = "") -> Any:
    """Training and validation ``Ê`` per iteration, and test accuracies of sampled BiNNs.

    Args:
        curves: ``{label: {"train": [(T+1,) per run], "val": [(T+1,) per run, NaN where not
            evaluated]}}``; training solid, validation markers.
        distributions: ``{label: (50,) counts}`` of sampled BiNNs per test-accuracy bin on
            [0.5, 1] (every shot counted).
        search_accuracy: test accuracy of the classical search (a vertical line).
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(11, 4))
    for i, (label, c) in enumerate(curves.items()):
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
    edges = np.linspace(0.5, 1.0, 51)
    centres = 0.5 * (edges[1:] + edges[:-1])
    for i, (label, counts) in enumerate(distributions.items()):
        counts = np.asarray(counts, dtype=float)
        axes[1].step(centres, counts / max(counts.sum(), 1), where="mid", color=f"C{i}",
                     label=label)
    axes[1].axvline(search_accuracy, color="k", ls=":", label="classical bit-flip search")
    axes[1].set_xlabel("test accuracy of sampled BiNN")
    axes[1].set_ylabel("fraction of shots")
    axes[1].grid(alpha=0.3)
    axes[1].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
