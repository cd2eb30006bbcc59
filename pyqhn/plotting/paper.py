"""Figures of the paper (Figs. 2–7) from the tidy results the experiments write.

matplotlib is imported lazily with the Agg backend, so importing this module costs nothing
and works without a display. Every function returns the ``Figure``; :func:`save_figure`
writes it as PNG and PDF.

Panels of the landscape figures (Figs. 2–5, :func:`landscape_figure`):

* left: decision boundary of the optimal BiNN over the data (2-D problems) or the optimal
  weights as an image (MNIST), and optionally a text panel (bit layout, Fig. 3);
* middle: one kernel-density row of the final energies ``E(θ)`` per circuit (``y``: the
  probability density of a run ending at ``E``, in 1/units of ``E``, one scale for all
  rows), above a
  density-of-states row (``y``: how many of the ``n_dos`` lowest cost values ``C(w)`` of
  all ``2**N`` BiNNs fall in each bin), a shared ``x`` axis, the exact optimum ``C*`` and
  ``C* + ε`` marked;
* right: success probability per circuit with 95 % Wilson intervals.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

import numpy as np

from . import circuit_label, pyplot, roundoff_floor, success_errorbars

__all__ = [
    "landscape_figure",
    "weight_spectrum_figure",
    "overfitting_figure",
]



def _kde(values: np.ndarray, grid: np.ndarray, width: float) -> np.ndarray:
    """Gaussian kernel density of ``values`` on ``grid`` with bandwidth ``width``."""
    values = np.asarray(values, dtype=np.float64)
    if values.size == 0:
        return np.zeros_like(grid)
    z = (grid[:, None] - values[None, :]) / width
    return np.exp(-0.5 * z**2).sum(axis=1) / (values.size * width * np.sqrt(2 * np.pi))


def _fit_text(fig: Any, ax: Any, text: str, fontsize: float = 7.0,
              min_fontsize: float = 4.5, centre: bool = False) -> Any:
    """Monospace ``text`` at the top left of ``ax`` (left, vertically centred if ``centre``),
    wrapped to the axes' width and shrunk (down to ``min_fontsize``) until it fits the
    axes' height; returns the Text artist."""
    import textwrap

    box = ax.get_position()
    width_pt = box.width * fig.get_figwidth() * 72.0
    height_pt = box.height * fig.get_figheight() * 72.0
    size = fontsize
    while True:
        chars = max(int(width_pt / (0.63 * size)), 10)  # DejaVu Sans Mono: 0.6 em a char
        lines = [piece for line in text.splitlines()
                 for piece in (textwrap.wrap(line, chars, subsequent_indent="  ",
                                             break_on_hyphens=False) or [""])]
        if len(lines) * 1.25 * size <= height_pt or size <= min_fontsize:
            break
        size = max(size - 0.5, min_fontsize)
    return ax.text(0.0, 0.5 if centre else 1.0, "\n".join(lines), family="monospace",
                   fontsize=size, va="center" if centre else "top", ha="left",
                   transform=ax.transAxes)


def _draw_boundary(ax: Any, classifier: Callable[[np.ndarray], np.ndarray], x: np.ndarray,
                   y: np.ndarray, resolution: int = 200) -> None:
    """Filled decision regions of ``classifier`` (``(n, 2)`` → scores) with the data on top."""
    pad = 0.5
    lo, hi = x.min(axis=0) - pad, x.max(axis=0) + pad
    gx, gy = np.meshgrid(np.linspace(lo[0], hi[0], resolution),
                         np.linspace(lo[1], hi[1], resolution))
    grid = np.stack([gx.ravel(), gy.ravel()], axis=1)
    score = np.asarray(classifier(grid), dtype=np.float64).reshape(gx.shape)
    level = 0.5 if score.min() >= 0 and score.max() <= 1 else 0.0
    ax.contourf(gx, gy, (score > level).astype(float), levels=[-0.5, 0.5, 1.5],
                colors=["#9ecae1", "#fdae6b"], alpha=0.6)
    ax.scatter(x[y == 0, 0], x[y == 0, 1], s=4, c="#08519c", label="class 0")
    ax.scatter(x[y == 1, 0], x[y == 1, 1], s=4, c="#a63603", label="class 1")
    ax.set_xlabel("$x_1$")
    ax.set_ylabel("$x_2$")
    ax.legend(loc="best", fontsize=7, markerscale=2)


def landscape_figure(
    *,
    energies: Mapping[str, np.ndarray],
    cost: np.ndarray,
    c_star: float,
    epsilon: float,
    title: str = "",
    boundary: tuple[Callable[[np.ndarray], np.ndarray], np.ndarray, np.ndarray] | None = None,
    image: np.ndarray | None = None,
    image_title: str = "optimal weights",
    text: str | None = None,
    n_dos: int = 200,
) -> Any:
    """The figure of Figs. 2–5.

    Args:
        energies: ``{circuit name: (R,) final energies}``, in display order.
        cost: ``(2**N,)`` cost table (for the density of states and ``C*``).
        c_star: exact optimum ``min C``.
        epsilon: success threshold (success means ``E − C* < ε``).
        title: figure title.
        boundary: ``(classifier, x (n, 2), y (n,))`` for a decision-boundary panel.
        image: a 2-D array (e.g. optimal logistic-regression weights) for an image panel.
        image_title: title of the image panel.
        text: monospace text for an extra panel (e.g. the bit layout of Fig. 3).
        n_dos: how many of the lowest cost values enter the density-of-states row.
    """
    plt = pyplot()
    from matplotlib.gridspec import GridSpec
    from matplotlib.ticker import MaxNLocator

    names = list(energies)
    n_rows = len(names) + 1
    has_left = boundary is not None or image is not None or text is not None
    tall = boundary is not None and text is not None
    fig = plt.figure(figsize=(13 if has_left else 9,
                              max(7.0 if tall else 4.0, 0.9 * n_rows + 1.0)))
    cols = [1.1, 1.4, 0.9] if has_left else [1.4, 0.9]
    gs = GridSpec(n_rows, len(cols), figure=fig, width_ratios=cols, hspace=0.15, wspace=0.55)
    c0 = 1 if has_left else 0

    if has_left:
        has_plot = boundary is not None or image is not None
        if has_plot and text is not None:
            left = gs[:, 0].subgridspec(2, 1, height_ratios=[1.0, 1.1], hspace=0.45)
            plot_spec, text_spec = left[0], left[1]
        else:
            plot_spec = text_spec = gs[:, 0]
        if boundary is not None:
            ax = fig.add_subplot(plot_spec)
            _draw_boundary(ax, *boundary)
            ax.set_title("optimal BiNN", fontsize=9)
        elif image is not None:
            ax = fig.add_subplot(plot_spec)
            im = ax.imshow(image, cmap="coolwarm")
            fig.colorbar(im, ax=ax, fraction=0.046)
            ax.set_xticks([])
            ax.set_yticks([])
            ax.set_title(image_title, fontsize=9)
        if text is not None:
            ax = fig.add_subplot(text_spec)
            ax.axis("off")
            _fit_text(fig, ax, text, centre=not has_plot)

    cost = np.asarray(cost, dtype=np.float64)
    n_bits = int(round(np.log2(max(cost.size, 1))))
    lowest = np.sort(cost)[: min(n_dos, cost.size)]
    all_e = np.concatenate([np.asarray(energies[k], dtype=np.float64) for k in names] or
                           [np.array([c_star])])
    x_hi = max(float(np.max(all_e)), float(lowest[-1]), c_star + 2 * epsilon)
    x_lo = c_star - 0.05 * (x_hi - c_star) - 1e-12
    grid = np.linspace(x_lo, x_hi, 400)
    width = max((x_hi - x_lo) / 60, 1e-12)
    axes = []
    top = 0.0
    for i, name in enumerate(names):
        ax = fig.add_subplot(gs[i, c0], sharex=axes[0] if axes else None,
                             sharey=axes[0] if axes else None)  # comparable heights
        dens = _kde(np.asarray(energies[name]), grid, width)
        ax.fill_between(grid, dens, color=f"C{i}", alpha=0.5)
        ax.plot(grid, dens, color=f"C{i}", lw=1)
        ax.axvline(c_star, color="k", lw=0.8, label="$C^*$" if i == 0 else None)
        ax.axvline(c_star + epsilon, color="k", lw=0.8, ls=":",
                   label=rf"$C^* + \epsilon$ ($\epsilon$ = {epsilon:g})" if i == 0 else None)
        if i == 0:
            ax.legend(fontsize=7, loc="upper right")
            ax.set_title(r"kernel density of the final $E(\theta)$ of each circuit's runs",
                         fontsize=8)
        ax.yaxis.set_major_locator(MaxNLocator(2))
        ax.tick_params(axis="y", labelsize=6)
        ax.set_ylabel(circuit_label(name), rotation=0, ha="right", va="center", fontsize=8)
        ax.tick_params(labelbottom=False)
        axes.append(ax)
        top = max(top, float(dens.max()))
    if axes:
        axes[0].set_ylim(0, 1.08 * top if top > 0 else 1.0)  # shared by every row
    ax = fig.add_subplot(gs[n_rows - 1, c0], sharex=axes[0] if axes else None)
    ax.hist(lowest, bins=40, range=(x_lo, x_hi), color="0.4",
            label=f"the {lowest.size} lowest $C(w)$ of all $2^{{{n_bits}}}$ BiNNs")
    ax.axvline(c_star, color="k", lw=0.8)
    ax.legend(fontsize=7, loc="upper left")
    ax.yaxis.set_major_locator(MaxNLocator(2, integer=True))
    ax.tick_params(axis="y", labelsize=6)
    ax.set_ylabel("density of\nstates\n(count)", rotation=0, ha="right", va="center",
                  fontsize=8)
    ax.set_xlabel(r"$E(\theta)$  /  $C(w)$")
    ax.set_xlim(x_lo, x_hi)
    ax.xaxis.set_major_locator(MaxNLocator(4))  # narrow column: few, readable ticks

    ax = fig.add_subplot(gs[:, c0 + 1])
    p, yerr = success_errorbars([energies[k] for k in names], c_star, epsilon)
    ax.errorbar(np.arange(len(names)), p, yerr=yerr, fmt="o", capsize=4,
                label="95 % Wilson interval")
    ax.set_xlim(-0.5, len(names) - 0.5)
    ax.set_xticks(np.arange(len(names)))
    ax.set_xticklabels([circuit_label(k) for k in names], rotation=45, ha="right", fontsize=8)
    ax.set_ylim(-0.05, 1.05)
    ax.set_ylabel(rf"success probability ($E - C^* < {epsilon:g}$)")
    ax.grid(alpha=0.3)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig


def weight_spectrum_figure(spectra: Mapping[str, np.ndarray], *, title: str = "") -> Any:
    """Fig. 6: ``W(S)`` against the Pauli-string size ``S`` for every task, log ``y`` axis.

    Args:
        spectra: ``{task label: (N + 1,) W(S) for S = 0..N}``. ``S = 0`` (the mean squared)
            is left out of the plot, and so is every value at or below float64
            round-off (:func:`pyqhn.plotting.roundoff_floor`).
    """
    plt = pyplot()
    fig, ax = plt.subplots(figsize=(5.5, 4))
    for i, (label, w) in enumerate(spectra.items()):
        w = np.asarray(w, dtype=np.float64)
        s = np.arange(1, w.size)
        keep = w[1:] > roundoff_floor(w)
        ax.semilogy(s[keep], w[1:][keep], "o-", ms=4, color=f"C{i}", label=label)
    ax.set_xlabel("Pauli string size $S$ (values below float64 round-off omitted)")
    ax.set_ylabel("$W(S)$")
    ax.grid(alpha=0.3, which="both")
    ax.legend(fontsize=8)
    if title:
        ax.set_title(title, fontsize=10)
    return fig


def overfitting_figure(
    curves: Mapping[str, Mapping[str, np.ndarray]], *, title: str = ""
) -> Any:
    """Fig. 7: train and validation ``E(θ)`` against iteration, one colour per ``N_s``.

    Args:
        curves: ``{label (e.g. "N_s=2"): {"train": (T+1,), "val": (T+1,), "train_err",
            "val_err": (T+1,) standard errors}}``; train solid, validation dashed.
    """
    plt = pyplot()
    fig, axes = plt.subplots(1, 2, figsize=(10, 4), sharey=True)
    for i, (label, c) in enumerate(curves.items()):
        for ax, key in zip(axes, ("train", "val"), strict=True):
            y = np.asarray(c[key])
            it = np.arange(y.size)
            ax.plot(it, y, color=f"C{i}", label=label)
            err = c.get(f"{key}_err")
            if err is not None:
                ax.fill_between(it, y - err, y + err, color=f"C{i}", alpha=0.2)
    axes[0].set_title("training set", fontsize=10)
    axes[1].set_title("validation set", fontsize=10)
    for ax in axes:
        ax.set_xlabel("L-BFGS iteration")
        ax.grid(alpha=0.3)
    axes[0].set_ylabel(r"$E(\theta)$ (mean over dataset draws)")
    axes[1].legend(fontsize=8)
    if title:
        fig.suptitle(title, fontsize=11)
    return fig
