"""The variational-inference comparison (``pyqhn reproduce vi``)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import numpy as np

from . import pyplot

__all__ = ["plot_vi", "vi_figure"]


def plot_vi(
    histories: dict, table: Any, config: Any, out_dir: str | Path
) -> None:
    """Draw :func:`vi_figure` and write it to ``out_dir/vi.png`` and ``out_dir/vi.pdf``."""
    fig = vi_figure(histories, table, config)
    out = Path(out_dir)
    fig.savefig(out / "vi.png", dpi=120)
    fig.savefig(out / "vi.pdf")
    pyplot().close(fig)


def vi_figure(histories: dict, table: Any, config: Any) -> Any:
    """The figure of ``pyqhn reproduce vi``; returns the ``Figure``.

    Rows = datasets; columns: average ELBO, average SELBO, training curves (E_q C_CE,
    train solid, test dashed), average gradient norm, final sampled-BiNN accuracies.

    Args:
        histories: ``{"dataset/objective/series": (T+1, R) array}`` for the series
            ``elbo``, ``selbo``, ``ce_train``, ``ce_test``, ``grad_norm`` (iterations ×
            runs; the figure draws the mean over runs).
        table: a ``pandas.DataFrame`` with one row per (``dataset``, ``objective``) and
            the columns ``mean_test_acc_mean``, ``mean_test_acc_std``,
            ``best_test_acc_mean``, ``best_test_acc_std``.
        config: anything with ``datasets`` and ``objectives`` (the display order), e.g.
            :class:`pyqhn.experiments.vi.VISpec`.
    """
    plt = pyplot()

    ds, objs = config.datasets, config.objectives
    fig, axes = plt.subplots(len(ds), 5, figsize=(20, 3.4 * len(ds)), squeeze=False)
    colors = {o: f"C{i}" for i, o in enumerate(objs)}
    for i, name in enumerate(ds):
        ax = axes[i]
        for o in objs:
            key = f"{name}/{o}/"
            it = np.arange(histories[key + "elbo"].shape[0])
            ax[0].plot(it, histories[key + "elbo"].mean(1), color=colors[o], label=o)
            ax[1].plot(it, histories[key + "selbo"].mean(1), color=colors[o], label=o)
            ax[2].plot(it, histories[key + "ce_train"].mean(1), color=colors[o], label=o)
            ax[2].plot(it, histories[key + "ce_test"].mean(1), color=colors[o], ls="--")
            ax[3].semilogy(it, histories[key + "grad_norm"].mean(1), color=colors[o], label=o)
        sub = table[table.dataset == name]
        xs = np.arange(len(sub))
        for j, (col, lab) in enumerate((("mean_test_acc", "mean sample"),
                                        ("best_test_acc", "best (by train CE)"))):
            ax[4].bar(xs + 0.4 * j - 0.2, sub[f"{col}_mean"], width=0.4,
                      yerr=sub[f"{col}_std"], label=lab, capsize=3)
        ax[4].set_xticks(xs, sub.objective)
        ax[4].set_ylim(0, 1)
        titles = ("average ELBO", "average SELBO", "E_q C_CE (train —, test --)",
                  "average ‖∇θ loss‖", "test accuracy of sampled BiNNs")
        for a, t in zip(ax, titles, strict=True):
            a.set_title(f"{name}: {t}", fontsize=9)
        for a in ax[:4]:
            a.set_xlabel("iteration")
        ax[0].legend(fontsize=8)
        ax[4].legend(fontsize=8)
    fig.tight_layout()
    return fig
