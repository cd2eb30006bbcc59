"""Equal-budget benchmark of hypernetworks against classical search (issue 26).

:mod:`.counting` (the evaluation ledger every method goes through), :mod:`.instances`
(seeded instance families and references), :mod:`.made` (the classical autoregressive
counterpart), :mod:`.methods` (every method as a driver group), :mod:`.metrics` (success,
Wilson intervals, TTS99, growth fits), :mod:`.suite` (tuning, resumable runs, tables),
:mod:`.figures`. The command is ``pyqhn benchmark``; docs/benchmark.md has the results.
"""

from .counting import BudgetExceeded, EvaluationCounter
from .methods import METHODS
from .suite import SUITES, Suite, run_suite

__all__ = ["BudgetExceeded", "EvaluationCounter", "METHODS", "SUITES", "Suite", "run_suite"]
