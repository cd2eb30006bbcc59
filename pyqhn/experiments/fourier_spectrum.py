"""Fig. 6: the Walsh–Fourier weight spectrum ``W(S)`` of the cost of three tasks.

``Ĉ = Σ_P f(P) P`` over Z-strings ``P``, ``f(P) = 2^−N Tr[Ĉ P]``; ``W(S) = Σ_{|P| = S} f(P)²``
(``|P|``: number of Z factors). Tasks: the Gaussian mixture with activation choice (Fig. 2,
N = 14), with activation and width choice (Fig. 3, N = 15), and MNIST 0 vs 1 logistic
regression (Fig. 4, N = 17), each as its figure's defaults build it (the original problems:
10,000 Gaussian points, weights in {−3, 1} for MNIST). W(S) does not depend on the bit
layout: a layout relabels the qubits, and W sums ``f(P)²`` over all strings of one size.
Paper: the Gaussian tasks peak at S = 2, 3, MNIST at S = 1,
and W decays exponentially in S.

Cost tables come from the same problems (and caches, ``DIR/cost_figK.npz``) as Figs. 2–4.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..fourier import weight_spectrum
from ..runlog import write_table
from .base import ExperimentSpec, RunSummary, execute, setting
from .multistart import MULTISTART, build_problem

__all__ = ["TASKS", "SpectrumSpec"]

#: (label, multi-start figure whose problem is used)
TASKS = (("Gaussian, activation (N=14)", "fig2"), ("Gaussian, width (N=15)", "fig3"),
         ("MNIST 0/1 (N=17)", "fig4"))


@dataclass(frozen=True)
class SpectrumSpec(ExperimentSpec):
    """Fig. 6 (:meth:`run`): the weight spectra of the :data:`TASKS`; ``quick_run`` uses
    the smaller datasets of the quick multi-start runs. Nothing is trained."""

    quick_run: bool = setting(False)

    def run(self, out: str | Path, *, progress: bool = True, time_limit: float | None = None,
            client: Any = None) -> RunSummary:
        """Cost tables (cached), ``W(S)`` per task, ``summary.json``, ``spectrum.csv`` and
        the figure (``time_limit`` and ``client`` do not apply: nothing is trained).

        Summary: ``figure``, ``c_star`` (``{task: min C}``), ``epsilon`` (``None``),
        ``circuits`` (``[]``), ``tasks`` (per task ``n_qubits, c_star, W, peak_S,
        decay_per_S``).
        """
        return _run_spectrum(self, Path(out), progress=progress)


def _run_spectrum(spec: SpectrumSpec, out: Path, *, progress: bool) -> RunSummary:
    import pandas as pd
    from tqdm.auto import tqdm

    from ..plotting import save_figure
    from ..plotting.paper import weight_spectrum_figure

    quick = spec.quick_run
    problems = {fig: build_problem(MULTISTART[fig].quick() if quick else MULTISTART[fig],
                                   cache=out / f"cost_{fig}.npz")
                for _, fig in TASKS}
    settings = dict(quick=quick, problems={f: p.fingerprint() for f, p in problems.items()})

    def summarise(log, _: None, out: Path) -> RunSummary:
        spectra, tasks, rows = {}, [], []
        for label, fig in tqdm(TASKS, desc="tasks", unit="task", disable=not progress):
            cost = problems[fig].cost_table()
            w = weight_spectrum(cost)
            spectra[label] = w
            s = np.arange(1, w.size)
            pos = w[1:] > 1e-15 * w[1:].max()  # ignore round-off below 1e-15 of the peak
            # exponential decay rate of W(S) beyond the peak: slope of ln W against S
            peak = int(s[np.argmax(w[1:])])
            tail = pos & (s >= peak)
            rate = (float(-np.polyfit(s[tail], np.log(w[1:][tail]), 1)[0]) if tail.sum() > 1
                    else None)
            tasks.append(dict(name=label, figure=fig, n_qubits=int(w.size - 1),
                              c_star=float(cost.min()), W=w.tolist(), peak_S=peak,
                              decay_per_S=rate,
                              parseval_error=float(abs(w.sum() - np.mean(cost**2)))))
            rows += [dict(task=label, S=int(k), W=float(v)) for k, v in enumerate(w)]
        write_table(out / "spectrum.csv", pd.DataFrame(rows))
        files = [p.name for p in save_figure(
            weight_spectrum_figure(spectra, title="Fig. 6: Walsh-Fourier weight spectrum"),
            out, "fig6")]
        return RunSummary(
            figure="fig6", quick=quick, c_star={t["name"]: t["c_star"] for t in tasks},
            epsilon=None, circuits=[],
            details=dict(tasks=tasks, paper={"peak_S": {"Gaussian": [2, 3], "MNIST": [1]}}),
            report=[f"  {t['name']}: C* = {t['c_star']:.6g}, W(S) peaks at S = {t['peak_S']}"
                    for t in tasks],
            files=["spectrum.csv", *files])

    return execute(out, kind="fig6", settings=settings, build=lambda out: ([], None),
                   summarise=summarise, progress=progress)
