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

The registry :data:`OPTIMIZERS` names them for the command line (``--optimizer``): each
entry builds its optimiser from one :class:`OptimizerOptions` (the options a command
gives every optimiser; each entry reads those its description names). Capabilities:
``"gradient"`` (needs an objective with gradients), ``"julia"`` (needs the Julia stack),
``"fidelity"`` (needs ``OptimizerOptions.fidelity``, the overlaps of one circuit's states).
Adding an optimiser is its module plus one ``OPTIMIZERS.register`` line below.

:data:`SAMPLED_OPTIMIZERS` names what sampled training (from shots) takes.
"""

from collections.abc import Callable
from dataclasses import dataclass

from ..checks import InputError
from ..registry import Registry
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
    "SAMPLED_OPTIMIZERS",
    "Optimizer",
    "OptimizerOptions",
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



@dataclass(frozen=True)
class OptimizerOptions:
    """What a command gives any registered optimiser (:data:`OPTIMIZERS`); an entry reads
    the fields its description names and ignores the others.

    Attributes:
        max_iter: iterations (L-BFGS) or steps (the others) per run; ``None``: the
            optimiser's own default (500 L-BFGS iterations, 2000 direct-search steps,
            100 Adam/SPSA steps).
        gtol: stop a run when ``‖∇f‖₂`` is below this (gradient optimisers).
        memory: L-BFGS stored curvature pairs.
        line_search: ``"hager-zhang"`` or ``"armijo"`` (pyqhn's L-BFGS).
        learning_rate: Adam's step (default 0.05); SPSA's ``a`` (``None`` calibrates).
        fidelity: ``(x (M, P), y (M, P)) -> (M,)`` state fidelities of one circuit
            (QN-SPSA's metric, :func:`pyqhn.sampled_objectives.fidelity_fn`).
    """

    max_iter: int | None = None
    gtol: float = 1e-6
    memory: int = 8
    line_search: str = "hager-zhang"
    learning_rate: float | None = None
    fidelity: Callable[[object, object], object] | None = None

    def steps(self, default: int) -> int:
        """``max_iter``, or ``default`` when it is ``None``."""
        return default if self.max_iter is None else self.max_iter


def _qnspsa(o: OptimizerOptions) -> Optimizer:
    if o.fidelity is None:
        raise InputError("the qnspsa optimiser needs the fidelities of one circuit's states "
                         "(OptimizerOptions.fidelity, e.g. "
                         "pyqhn.sampled_objectives.fidelity_fn(engine, circuit)); use spsa "
                         "where no circuit is fixed")
    return qnspsa_optimizer(o.fidelity, max_steps=o.steps(100), learning_rate=o.learning_rate)


#: The optimiser names of sampled training (:meth:`pyqhn.pipeline.Problem.train` with
#: ``shots``; ``pyqhn train --data … --shots``), the first the default: ``score-function``
#: and ``parameter-shift`` are Adam on that gradient estimator, ``spsa`` and ``qnspsa`` the
#: registered optimisers on sampled energies (:mod:`pyqhn.sampled_objectives`). Kept here,
#: beside the registry, so that the command line reads them without importing the heavy
#: training modules.
SAMPLED_OPTIMIZERS = ("score-function", "spsa", "qnspsa", "parameter-shift")


#: The optimisers by name: ``OPTIMIZERS.create(name, OptimizerOptions(...))``. Iterating
#: gives the names (the order of :attr:`Optimizer.name` values).
OPTIMIZERS: Registry[Optimizer] = Registry("optimizer", "--optimizer")
OPTIMIZERS.register(
    "lbfgs", lambda o: lbfgs_optimizer(gtol=o.gtol, max_iter=o.steps(500),
                                       line_search=o.line_search, memory_size=o.memory),
    "pyqhn's batched L-BFGS (max_iter, gtol, memory, line_search)", capabilities=("gradient",))
OPTIMIZERS.register(
    "direct-search", lambda o: direct_search_optimizer(max_steps=o.steps(2000)),
    "probabilistic-descent direct search, gradient-free (max_iter steps)")
OPTIMIZERS.register(
    "adam", lambda o: adam_optimizer(learning_rate=o.learning_rate or 0.05,
                                     max_steps=o.steps(100), gtol=0.0),
    "optax's Adam (max_iter steps, learning_rate)", capabilities=("gradient",))
OPTIMIZERS.register("evaluate", lambda o: evaluate_only(),
                    "evaluate the starting points, no optimisation")
OPTIMIZERS.register(
    "spsa", lambda o: spsa_optimizer(max_steps=o.steps(100), learning_rate=o.learning_rate),
    "SPSA, two evaluations per step (max_iter steps, learning_rate)")
OPTIMIZERS.register("qnspsa", _qnspsa,
                    "quantum-natural SPSA (max_iter steps, learning_rate, fidelity)",
                    capabilities=("fidelity",))
OPTIMIZERS.register(
    "optimkit-lbfgs", lambda o: optimkit_lbfgs_optimizer(gtol=o.gtol, max_iter=o.steps(500),
                                                         memory=o.memory),
    "the original runs' OptimKit L-BFGS in Julia, one run at a time (max_iter, gtol, memory)",
    capabilities=("gradient", "julia"),
    requires="pyqhn.engines.julia_setup:julia_unavailable_reason")
OPTIMIZERS.register(
    "bbo-probabilistic-descent",
    lambda o: bbo_probabilistic_descent_optimizer(max_steps=max(o.steps(2000), 1)),
    "the original runs' BlackBoxOptim direct search in Julia, one run at a time (max_iter)",
    capabilities=("julia",), requires="pyqhn.engines.julia_setup:julia_unavailable_reason")
