"""Small plots for interactive use: functions of arrays or pyqhn objects with an optional
``path`` (the figure is saved there and closed) and returns the matplotlib ``Figure``.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import pyplot, roundoff_floor

__all__ = ["decision_boundary", "weight_spectrum_plot"]


def _finish(fig: Any, path: str | Path | None) -> Any:
    if path is not None:
        fig.savefig(path, dpi=150, bbox_inches="tight")
        pyplot().close(fig)
    return fig


def decision_boundary(
    classifier: Any,
    data: Any,
    *,
    path: str | Path | None = None,
    resolution: int = 200,
    title: str | None = None,
) -> Any:
    """Decision regions of a 2-D classifier (scikit-learn's ``predict_proba``) with the data.

    ``classifier`` is e.g. ``model.classifier(bits)``; ``data`` a 2-feature Dataset.
    """
    if data.n_features != 2:
        raise ValueError(f"decision_boundary needs 2-D data, got {data.n_features} features")
    plt = pyplot()
    lo, hi = data.x.min(axis=0), data.x.max(axis=0)
    pad = 0.1 * (hi - lo) + 1e-9
    gx, gy = np.meshgrid(
        np.linspace(lo[0] - pad[0], hi[0] + pad[0], resolution),
        np.linspace(lo[1] - pad[1], hi[1] + pad[1], resolution),
    )
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    p = np.asarray(classifier.predict_proba(grid))[:, 1].reshape(gx.shape)
    fig, ax = plt.subplots(figsize=(4.5, 4))
    cs = ax.contourf(gx, gy, p, levels=20, cmap="RdBu_r", alpha=0.6)
    ax.contour(gx, gy, p, levels=[0.5], colors="k", linewidths=1)
    for label, marker in ((0, "o"), (1, "^")):
        sel = data.y == label
        ax.scatter(*data.x[sel].T, s=8, marker=marker, edgecolors="k", linewidths=0.2,
                   label=f"class {label}")
    fig.colorbar(cs, ax=ax, label="P(y = 1)")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return _finish(fig, path)


def weight_spectrum_plot(
    w: np.ndarray | dict[str, np.ndarray],
    *,
    path: str | Path | None = None,
    title: str | None = None,
) -> Any:
    """W(S) against S on a log scale (the paper's Fig. 6). ``w``: (N+1,) or {label: (N+1,)}.

    S = 0 (the mean's square) is drawn too; values at or below float64 round-off
    (:func:`pyqhn.plotting.roundoff_floor`) are left out of the log plot.
    """
    plt = pyplot()
    series = w if isinstance(w, dict) else {"": w}
    fig, ax = plt.subplots(figsize=(4.5, 3.2))
    for label, values in series.items():
        values = np.asarray(values, dtype=np.float64)
        if values.ndim != 1:
            raise ValueError(f"W must be a 1-D array of length N+1, got shape {values.shape}")
        s = np.arange(values.size)
        keep = values > roundoff_floor(values)
        ax.semilogy(s[keep], values[keep], "o-", ms=3, label=label or None)
    ax.set_xlabel("Pauli weight $S$")
    ax.set_ylabel("$W(S)$")
    if any(series):
        ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=9)
    return _finish(fig, path)
