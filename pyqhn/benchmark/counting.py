"""The benchmark's one currency: BiNN cost evaluations, counted for every method.

One evaluation is ``C(w)`` of one BiNN ``w`` on the training data. A search pays one per
bit row it evaluates; a generative model (circuit or classical) pays one per shot it
draws, as a device would (the score-function objective costs each DISTINCT row once, but
every shot counts: a device measures, then evaluates, every shot). Exact-energy training
pays ``2**N`` per energy (counted by its method, not here).

:class:`EvaluationCounter` is the per-run ledger: ``charge(k)`` adds ``k`` evaluations and
raises :class:`BudgetExceeded` rather than let a run go past its budget; ``observe(bits,
values)`` keeps the best BiNN seen and the distinct rows seen. :class:`CountingSlot`
carries the counter of the run being trained (the benchmark trains one run per batch),
:func:`counting_bit_cost` and :class:`CountingSampler` charge it, and :func:`budgeted`
stops an ``init``/``step`` optimiser before a step that would overrun the budget.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ..checks import check_int
from ..optimizers.base import Optimizer

__all__ = ["BudgetExceeded", "EvaluationCounter", "CountingSlot", "counting_bit_cost",
           "CountingSampler", "budgeted"]


class BudgetExceeded(RuntimeError):
    """A method asked for more cost evaluations than its budget (a bug in that method's
    budget accounting; never a user error)."""


@dataclass
class EvaluationCounter:
    """Evaluations charged, distinct rows and the best BiNN seen by one run.

    Attributes:
        budget: the most evaluations the run may be charged.
        n_evals: evaluations charged so far.
        best_cost, best_bits: the lowest cost observed and its bit row ``(N,)`` uint8.
    """

    budget: int
    n_evals: int = 0
    best_cost: float = float("inf")
    best_bits: np.ndarray | None = None
    _distinct: set = field(default_factory=set)

    def charge(self, k: int) -> None:
        """Add ``k`` evaluations; :class:`BudgetExceeded` if that passes the budget."""
        if self.n_evals + int(k) > self.budget:
            raise BudgetExceeded(f"{self.n_evals} + {int(k)} evaluations exceed the budget "
                                 f"of {self.budget}")
        self.n_evals += int(k)

    def observe(self, bits: np.ndarray, values: np.ndarray) -> None:
        """Record evaluated bit rows ``(M, N)`` and their costs ``(M,)``."""
        bits = np.asarray(bits, dtype=np.uint8).reshape(len(values), -1)
        values = np.asarray(values, dtype=np.float64).reshape(-1)
        if values.size == 0:
            return
        j = int(np.argmin(values))
        if values[j] < self.best_cost:
            self.best_cost, self.best_bits = float(values[j]), bits[j].copy()
        self._distinct.update(r.tobytes() for r in np.packbits(bits, axis=1))

    @property
    def n_distinct(self) -> int:
        """Distinct bit rows evaluated."""
        return len(self._distinct)


class CountingSlot:
    """The counter of the run in flight: :meth:`open` starts a fresh one per run."""

    def __init__(self, budget: int):
        self.budget = check_int(budget, "budget", minimum=1)
        self.counter = EvaluationCounter(self.budget)

    def open(self) -> EvaluationCounter:
        """A fresh counter with this slot's budget (the slot keeps it as ``counter``)."""
        self.counter = EvaluationCounter(self.budget)
        return self.counter


def counting_bit_cost(cost: Callable[[np.ndarray], np.ndarray], slot: CountingSlot, *,
                      charge: bool) -> Callable[[np.ndarray], np.ndarray]:
    """``cost`` (bit rows ``(M, N)`` → ``(M,)``) that observes every row in ``slot``'s
    counter and, with ``charge``, charges one evaluation per row (a search; a sampler is
    charged per shot by :class:`CountingSampler` instead)."""

    def fn(bits: np.ndarray) -> np.ndarray:
        b = np.rint(np.asarray(bits)).astype(np.uint8)
        if charge:
            slot.counter.charge(b.shape[0])
        values = np.asarray(cost(b), dtype=np.float64)
        slot.counter.observe(b, values)
        return values

    return fn


class CountingSampler:
    """An engine (or any object with ``sample_bits``) whose shots are charged to ``slot``;
    every other attribute is the wrapped engine's."""

    def __init__(self, engine: Any, slot: CountingSlot):
        self._engine = engine
        self._slot = slot
        self.name = getattr(engine, "name", "sampler")

    def sample_bits(self, circuit: Any, theta: Any, n_shots: int, *, seed: Any = 0):
        """The engine's ``sample_bits``, charging one evaluation per shot of every
        parameter set (angles ``(..., P)`` → bits ``(..., n_shots, N)``)."""
        lead = np.asarray(theta).shape[:-1]
        self._slot.counter.charge(int(np.prod(lead, dtype=np.int64)) * int(n_shots))
        return self._engine.sample_bits(circuit, theta, n_shots, seed=seed)

    def __getattr__(self, name: str) -> Any:
        return getattr(self._engine, name)


def budgeted(optimizer: Optimizer, slot: CountingSlot, first_step: int) -> Optimizer:
    """``optimizer`` that stops every run before a step would pass ``slot``'s budget.

    The cost of a step is the most any earlier step cost (``first_step`` before the first
    one); the wrapped optimiser's own ``max_steps`` still applies.
    """
    widest = [int(first_step)]

    def init(fun, x0, seeds):
        widest[0] = int(first_step)
        state = optimizer.init(fun, x0, seeds)
        return _stop_if_spent(state, slot, widest[0])

    def step(fun, state):
        before = slot.counter.n_evals
        state = optimizer.step(fun, state)
        widest[0] = max(widest[0], slot.counter.n_evals - before)
        return _stop_if_spent(state, slot, widest[0])

    return Optimizer(optimizer.name, optimizer.uses_gradient, init, step,
                     dict(optimizer.settings))


def _stop_if_spent(state: Any, slot: CountingSlot, step_cost: int) -> Any:
    if slot.counter.n_evals + step_cost > slot.budget:
        return state._replace(done=np.ones_like(np.asarray(state.done), dtype=bool))
    return state
