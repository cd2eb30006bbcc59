"""Reproductions of the paper's figures (``pyqhn reproduce …``): specs plus their analysis.

:data:`EXPERIMENTS` names every experiment: ``EXPERIMENTS.create("fig2")`` is its
paper-sized spec (a frozen dataclass, :class:`.base.ExperimentSpec`); ``.quick()`` gives the
CI-sized copy, ``.replace(runs=3, seed=1)`` the one checked way to change it, and
:func:`run` (or ``spec.run``) runs it into a folder and returns a
:class:`.base.RunSummary`::

    from pyqhn.experiments import EXPERIMENTS, run
    summary = run(EXPERIMENTS.create("fig2").quick().replace(runs=2), "out/fig2")

* :mod:`.base` — the spec base class and its checks, how every experiment runs (run log,
  groups, driver) and the run summary.
* :mod:`.multistart` — Figs. 2–5: enumerate the cost, multi-start L-BFGS per circuit,
  success probabilities, decision boundary / optimal weights, energy densities.
* :mod:`.fourier_spectrum` — Fig. 6: Walsh–Fourier weight spectrum W(S) of the three tasks.
* :mod:`.overfitting` — Fig. 7: train vs validation energy for small training sets.
* :mod:`.gradient_free` — Figs. 8–13: gradient-free and noisy optimisation on MNIST.
* :mod:`.vi` — variational-inference objectives (MLE vs ELBO vs SELBO).
* :mod:`.mnist8x8` — a sampled hypernetwork beyond enumeration (66 qubits).

No module here holds a training loop, a file format or a command: the loop is
:mod:`pyqhn.driver`'s, the files :mod:`pyqhn.runlog`'s, the figures :mod:`pyqhn.plotting`'s
and the commands :mod:`pyqhn.cli`'s. Submodules are imported on use (the registry below
imports none), so ``import pyqhn.cli`` stays fast.

Capabilities of an entry: ``"all"`` (part of ``pyqhn reproduce all``: Figs. 2–7),
``"time-limit"`` (trains in batches: ``--time-limit`` applies), ``"cluster"`` (its groups
run on a Dask cluster: ``--cluster`` applies).
"""

from __future__ import annotations

import functools
import importlib
from pathlib import Path
from typing import TYPE_CHECKING, Any

from ..registry import Registry

if TYPE_CHECKING:
    from .base import ExperimentSpec, RunSummary

__all__ = ["EXPERIMENTS", "run"]

#: Experiment name → its paper-sized spec (``EXPERIMENTS.create(name)``).
EXPERIMENTS: Registry[ExperimentSpec] = Registry("experiment", "pyqhn reproduce EXPERIMENT")


def _from_table(module: str, table: str, name: str) -> ExperimentSpec:
    """Entry ``name`` of the spec table ``module:table`` (imported on first use)."""
    return getattr(importlib.import_module(f"{__name__}.{module}"), table)[name]


_TRAINS = ("time-limit", "cluster")
_MULTISTART_DOCS = {
    "fig2": "Fig. 2: Gaussian mixture, 2-3-1 BiNN with activation choice (N=14), ε=0.03.",
    "fig3": "Fig. 3: Fig. 2 plus hidden-width choice 2 or 3 (N=15), ε=0.03.",
    "fig4": "Fig. 4: MNIST 0 vs 1 at 4x4, logistic regression (N=17), ε=5e-5.",
    "fig5": "Fig. 5: MNIST 3 vs 7, logistic regression + weight-encoding search (N=19), "
            "ε=1e-4.",
}
for _name, _doc in _MULTISTART_DOCS.items():
    EXPERIMENTS.register(_name, functools.partial(_from_table, "multistart", "MULTISTART",
                                                  _name), _doc, capabilities=("all", *_TRAINS))
EXPERIMENTS.register("fig6", f"{__name__}.fourier_spectrum:SpectrumSpec",
                     "Fig. 6: Walsh-Fourier weight spectrum W(S) of the three tasks.",
                     capabilities=("all",))
EXPERIMENTS.register("fig7", f"{__name__}.overfitting:OverfittingSpec",
                     "Fig. 7: train vs validation E(θ) for N_s = 2, 4, 6, 8, 1000 (Gaussians "
                     "closer).", capabilities=("all", *_TRAINS))
_GRADIENT_FREE_DOCS = {
    "fig8": "Fig. 8: gradient-free runs vs depth, final-energy KDE and success (ε=5e-4).",
    "fig9": "Fig. 9: gradient-free runs vs depth, sampled-energy histograms.",
    "fig10": "Fig. 10: noise sweep p=0.2..2.0 of noise-free optima at fixed depth.",
    "fig11": "Fig. 11: noise sweep p=0.2..2.0 of noisy gradient-free optimisation.",
    "fig12": "Fig. 12: noisy (p=1) gradient-free runs vs depth (ε=1.5e-2).",
    "fig13": "Fig. 13: noisy (p=1) gradient-free runs vs depth, sampled energies.",
}
for _name, _doc in _GRADIENT_FREE_DOCS.items():
    EXPERIMENTS.register(_name, functools.partial(_from_table, "gradient_free", "GRADIENT_FREE",
                                                  _name), _doc, capabilities=_TRAINS)
EXPERIMENTS.register("vi", f"{__name__}.vi:VISpec",
                     "VI: MLE vs ELBO vs SELBO on 2-D Gaussian, two moons and ring "
                     "(N_layer = 1).", capabilities=("cluster",))
EXPERIMENTS.register("mnist8x8", f"{__name__}.mnist8x8:Mnist8x8Spec",
                     "mnist8x8: sampled 66-qubit hypernetwork, 8x8 MNIST 0 vs 1 (MPS "
                     "sampling), 1500 shots per estimate; 2 and 4 blocks.",
                     capabilities=("time-limit",))


def run(spec: ExperimentSpec, out: str | Path, *, progress: bool = True,
        time_limit: float | None = None, client: Any = None) -> RunSummary:
    """Run ``spec`` into the folder ``out`` (created; rerun to resume) and return its
    :class:`~.base.RunSummary` (also ``out/summary.json``).

    Args:
        spec: an experiment's spec (``EXPERIMENTS.create(name)``, ``.quick()``,
            ``.replace(...)``).
        out: the run folder.
        progress: progress bars.
        time_limit: seconds after which no new batch starts (rerun to continue; the
            summary's ``complete`` says whether every run is done).
        client: a ``dask.distributed.Client``, :class:`pyqhn.cluster.ClusterSpec` or its
            text (``"local:2"``) to train on; ``None``: this process.
    """
    return spec.run(out, progress=progress, time_limit=time_limit, client=client)
