"""Driver callbacks, as NetKet's drivers take them: hooks at the start and end of a sweep
and after every optimiser step.

:func:`pyqhn.driver.run_groups` calls, for every callback in order:

=========================================== =============================================
hook                                        when
=========================================== =============================================
``on_run_start(n_runs)``                    once, before the first batch (runs still to do)
``stop_before_batch(group) -> bool``        before every batch; ``True`` ends the sweep
                                            cleanly (what is finished is in the log); on
                                            a cluster also polled while batches run, and
                                            the batches in flight finish
``on_step_end(step, state, group) -> state`` after the optimiser's ``init`` (step 0) and
                                            every step of a batch; may return a modified
                                            state (runs marked done) or ``None``
``on_batch_end(group, n_runs)``             after a batch is in the run log
``on_run_end()``                            once, however the sweep ends
=========================================== =============================================

``state`` is the optimiser's state (``x``, ``f``, ``g``, ``done`` … of every run of the
batch, :mod:`pyqhn.optimizers.base`); ``group`` a group's name. A callback raises
:class:`pyqhn.interrupt.Interrupted` to stop the sweep with an error (a stop request).
The driver's own behaviour is callbacks too: :class:`ProgressBar`, :class:`TimeLimit`,
:class:`StopOnRequest`; :class:`EarlyStopping` is one a caller adds. A plain function
``f(step, state) -> state | None`` is accepted where a callback is (:func:`as_callback`).

Step hooks run where the batch runs (on a Dask worker for a cluster, so they must pickle);
the sweep hooks run in the calling process, on the local path and on a cluster alike.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from typing import Any

import numpy as np

from .checks import check_int
from .interrupt import Interrupted, stop_requested

__all__ = [
    "Callback",
    "EarlyStopping",
    "ProgressBar",
    "StepFunction",
    "StopOnRequest",
    "TimeLimit",
    "as_callback",
]


class Callback:
    """Base class: every hook does nothing; override the ones you need."""

    def on_run_start(self, n_runs: int) -> None:
        """Before the first batch; ``n_runs`` runs are still to train."""

    def stop_before_batch(self, group: str) -> bool:
        """``True`` to end the sweep before the next batch (of ``group``)."""
        return False

    def on_step_end(self, step: int, state: Any, group: str) -> Any:
        """After step ``step`` (0: after ``init``); a new state or ``None``."""
        return None

    def on_batch_end(self, group: str, n_runs: int) -> None:
        """After a batch of ``n_runs`` runs of ``group`` is in the run log."""

    def on_run_end(self) -> None:
        """When the sweep ends (finished, stopped or failed)."""


class StepFunction(Callback):
    """A plain ``f(step, state) -> state | None`` as a callback (its ``on_step_end``)."""

    def __init__(self, fn: Callable[[int, Any], Any]):
        self.fn = fn

    def on_step_end(self, step: int, state: Any, group: str) -> Any:
        return self.fn(step, state)


def as_callback(cb: Callback | Callable[[int, Any], Any]) -> Callback:
    """``cb`` itself, or a plain step function wrapped in :class:`StepFunction`."""
    if isinstance(cb, Callback):
        return cb
    if not callable(cb):
        raise TypeError(f"a callback is a pyqhn.callbacks.Callback or a function "
                        f"(step, state) -> state | None, got {type(cb).__name__}")
    return StepFunction(cb)


class EarlyStopping(Callback):
    """Stop a run once its objective has not improved by ``min_delta`` for ``patience``
    steps (NetKet's ``EarlyStopping``, per run). The run is recorded as finished, not
    converged."""

    def __init__(self, patience: int, min_delta: float = 0.0):
        self.patience = check_int(patience, "patience", minimum=1)
        self.min_delta = float(min_delta)
        self._best: np.ndarray | None = None
        self._since: np.ndarray | None = None

    def __call__(self, step: int, state: Any) -> Any:
        f = np.asarray(state.f, dtype=np.float64)
        if self._best is None or self._best.shape != f.shape or step == 0:
            self._best, self._since = f.copy(), np.zeros(f.shape, dtype=np.int64)
            return None
        better = f < self._best - self.min_delta
        self._best = np.where(better, f, self._best)
        self._since = np.where(better, 0, self._since + 1)
        stop = (self._since >= self.patience) & ~state.done
        return state._replace(done=state.done | stop) if stop.any() else None

    def on_step_end(self, step: int, state: Any, group: str) -> Any:
        return self(step, state)


class StopOnRequest(Callback):
    """Raise :class:`~pyqhn.interrupt.Interrupted` after
    :func:`pyqhn.interrupt.request_stop` (Ctrl-C): between batches, and between steps of
    a batch (the batch in flight is dropped; a rerun trains it again)."""

    def stop_before_batch(self, group: str) -> bool:
        if stop_requested():
            raise Interrupted("stopped between batches")
        return False

    def on_step_end(self, step: int, state: Any, group: str) -> Any:
        if stop_requested():
            raise Interrupted(f"stopped during {group}")
        return None


class TimeLimit(Callback):
    """No new batch after ``seconds`` (from the sweep's start); one batch always runs, so
    every call makes progress, and a rerun resumes. On a cluster the batches sent with the
    first one (at most two per worker are in flight) finish too."""

    def __init__(self, seconds: float):
        self.seconds = float(seconds)
        self._start = time.perf_counter()
        self._ran = False

    def on_run_start(self, n_runs: int) -> None:
        self._start, self._ran = time.perf_counter(), False

    def stop_before_batch(self, group: str) -> bool:
        return self._ran and time.perf_counter() - self._start > self.seconds

    def on_batch_end(self, group: str, n_runs: int) -> None:
        self._ran = True


class ProgressBar(Callback):
    """A tqdm bar over runs (``enabled=False``: none), labelled with the last group."""

    def __init__(self, enabled: bool = True):
        self.enabled = enabled
        self._bar: Any = None

    def on_run_start(self, n_runs: int) -> None:
        from tqdm.auto import tqdm

        self._bar = tqdm(total=n_runs, desc="runs", unit="run", disable=not self.enabled)

    def on_batch_end(self, group: str, n_runs: int) -> None:
        self._bar.update(n_runs)
        self._bar.set_postfix(group=group)

    def on_run_end(self) -> None:
        if self._bar is not None:
            self._bar.close()


def step_hook(callbacks: Sequence[Callback], group: str) -> Callable[[int, Any], Any]:
    """The ``callback(step, state)`` of :func:`pyqhn.optimizers.minimize` that runs every
    callback's :meth:`~Callback.on_step_end` in order, each seeing the previous one's
    state."""

    def hook(step: int, state: Any) -> Any:
        for cb in callbacks:
            new = cb.on_step_end(step, state, group)
            state = new if new is not None else state
        return state

    return hook
