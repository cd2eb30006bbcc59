"""Every figure of the package; matplotlib is imported lazily (Agg backend), in one place.

* :mod:`.basic` — decision boundary, W(S) of one table (``pyqhn fourier --plot``).
* :mod:`.paper` — Figs. 2–7 (landscape, weight spectrum, overfitting).
* :mod:`.gradient_free` — Figs. 8–13 (sampled energies, noise sweeps).
* :mod:`.vi` — the variational-inference comparison.

Importing this package costs nothing: :func:`pyplot` imports matplotlib on first use.
Success probabilities are drawn with 95 % Wilson intervals (:func:`success_errorbars`).
"""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path
from typing import Any

import numpy as np

__all__ = ["circuit_label", "pyplot", "roundoff_floor", "save_figure", "success_errorbars",
           "supported_formats"]


def circuit_label(name: str, mathtext: bool = True) -> str:
    """The paper's name of a circuit: ``"blocks=B"`` (B even) → ``"N_layer = B/2"`` (mathtext,
    or ``"N_layer=B/2"`` in plain text for a terminal), ``"product"`` and any other name
    unchanged."""
    from ..checks import InputError
    from ..circuits import circuit_from_name

    try:
        label = circuit_from_name(name, 1).label
    except InputError:
        return name  # not a circuit (a classical search's group name …)
    if mathtext and label.startswith("N_layer="):
        return rf"$N_{{\rm layer}} = {label.split('=', 1)[1]}$"
    return label


def roundoff_floor(w: np.ndarray) -> float:
    """Smallest ``W(S)`` above float64 round-off, for ``w`` = ``(N + 1,)`` W(S), S = 0..N.

    The Walsh–Hadamard transform of ``2**N`` costs has ``N`` butterfly stages, so each
    coefficient carries an error of about ``sqrt(N) · eps · rms(C) / 2**(N/2)``; summed over
    the (at most ``2**N``) coefficients of one ``S`` that is ``≤ N · eps² · Σ_S W(S)``
    (Parseval: ``Σ_S W(S) = mean(C²)``). The floor is 10× that bound.
    """
    w = np.asarray(w, dtype=np.float64)
    n = max(w.size - 1, 1)
    return float(10.0 * n * np.finfo(np.float64).eps ** 2 * np.sum(np.abs(w)))


def pyplot() -> Any:
    """``matplotlib.pyplot`` with the Agg backend (no display needed)."""
    import matplotlib

    matplotlib.use("Agg", force=False)
    import matplotlib.pyplot as plt

    return plt


def supported_formats() -> list[str]:
    """File suffixes (without dot) matplotlib can write: png, pdf, svg, …"""
    from matplotlib.backend_bases import FigureCanvasBase

    return sorted(FigureCanvasBase.get_supported_filetypes())


def save_figure(fig: Any, out: str | Path, stem: str, *, dpi: int = 120) -> list[Path]:
    """Write ``fig`` to ``out/stem.png`` and ``out/stem.pdf``; returns the two paths."""
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    paths = [out / f"{stem}.png", out / f"{stem}.pdf"]
    fig.savefig(paths[0], dpi=dpi, bbox_inches="tight")
    fig.savefig(paths[1], bbox_inches="tight")
    pyplot().close(fig)
    return paths


def success_errorbars(energies: Sequence[np.ndarray], c_star: float,
                      epsilon: float) -> tuple[np.ndarray, np.ndarray]:
    """Success fractions ``p`` (``E − C* < ε``) of each set of final energies and their
    95 % Wilson intervals as matplotlib ``yerr`` ``(2, n)`` (distances below and above)."""
    from ..analysis import wilson_interval

    p, err = [], []
    for e in energies:
        e = np.asarray(e, dtype=np.float64)
        k = int(np.sum(e - c_star < epsilon))
        lo, hi = wilson_interval(k, e.size)
        frac = k / e.size if e.size else np.nan
        p.append(frac)
        err.append((frac - lo, hi - frac))
    return np.asarray(p), np.asarray(err, dtype=np.float64).T.reshape(2, -1)
