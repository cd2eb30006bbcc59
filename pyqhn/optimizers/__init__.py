"""Optimisers as ``init``/``step`` pairs with explicit state, run by :func:`minimize`.

An :class:`Optimizer` advances ``R`` runs in lockstep; every state exposes ``x``, ``f``,
``g``, ``done``, ``n_iter``, ``n_evals`` and ``converged`` (see :mod:`pyqhn.optimizers.base`).

- :func:`lbfgs_optimizer`: L-BFGS on exact gradients (the original gradient-based runs),
  with OptimKit's Hager–Zhang line search by default or backtracking Armijo
  (:mod:`pyqhn.optimizers.linesearch`).
- :func:`direct_search_optimizer`: probabilistic-descent direct search (the original
  gradient-free runs).
- :func:`adam_optimizer`: optax's Adam.
- :func:`spsa_optimizer`, :func:`qnspsa_optimizer`: SPSA and quantum-natural SPSA on
  sampled objectives (two evaluations per step).
- :func:`evaluate_only`: evaluate the starting points, no optimisation.
- :func:`optimkit_lbfgs_optimizer`, :func:`bbo_probabilistic_descent_optimizer`: the
  original runs' Julia optimisers (OptimKit, BlackBoxOptim), optional (:mod:`.julia`).

:func:`lbfgs`, :func:`probabilistic_descent` and :func:`probabilistic_descent_batch` are
the same algorithms behind one call each, returning a result record.
"""

from .adam import adam_optimizer
from .base import Optimizer, evaluate_only, minimize
from .direct_search import (
    direct_search_optimizer,
    probabilistic_descent,
    probabilistic_descent_batch,
)
from .julia import (
    JULIA_OPTIMIZERS,
    bbo_probabilistic_descent_optimizer,
    optimkit_lbfgs_optimizer,
)
from .lbfgs import lbfgs, lbfgs_optimizer
from .spsa import qnspsa_optimizer, spsa_optimizer

__all__ = [
    "JULIA_OPTIMIZERS",
    "OPTIMIZERS",
    "Optimizer",
    "adam_optimizer",
    "bbo_probabilistic_descent_optimizer",
    "direct_search_optimizer",
    "evaluate_only",
    "lbfgs",
    "lbfgs_optimizer",
    "minimize",
    "optimkit_lbfgs_optimizer",
    "probabilistic_descent",
    "probabilistic_descent_batch",
    "qnspsa_optimizer",
    "spsa_optimizer",
]

OPTIMIZERS = ("lbfgs", "direct-search", "adam", "evaluate", "spsa", "qnspsa",
              *JULIA_OPTIMIZERS)
"""Names of the optimisers (:attr:`Optimizer.name`)."""
