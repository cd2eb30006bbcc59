"""The optimiser interface: ``init``/``step`` pairs with explicit state, and THE loop.

An :class:`Optimizer` advances ``R`` independent runs of ``P`` parameters in lockstep
(optax's ``(init, update)`` pairs, with the objective passed in)::

    state = opt.init(fun, x0, seeds)        # x0 (R, P), seeds (R,) int
    while not state.done.all():
        state = opt.step(fun, state)

:func:`minimize` is that loop, with a history of values and a callback; no other module
holds its own optimisation loop.

Every state is a ``NamedTuple`` with at least these fields, so a driver reads any
optimiser's runs without knowing which one it is:

=============  ===========  ==============================================================
``x``          ``(R, P)``   the point each run reports now (the iterate for L-BFGS and
                            Adam; the best point evaluated so far for direct search)
``f``          ``(R,)``     objective at ``x``
``g``          ``(R, P)``   gradient at ``x``, or ``None`` where the optimiser has none
``done``       ``(R,)``     bool: the run has stopped. ``step`` never moves a done run nor
                            counts an evaluation for it; a driver may stop runs itself
                            with ``state._replace(done=state.done | stop)``
``n_iter``     ``(R,)``     int: steps the run has taken
``n_evals``    ``(R,)``     int: objective (and gradient) evaluations the run has used
``converged``  ``(R,)``     bool: the run met its convergence criterion
=============  ===========  ==============================================================

Optimiser-specific fields follow these.

The objective comes in two forms (:attr:`Optimizer.uses_gradient` says which):
:data:`BatchedValueAndGrad` maps ``(M, P)`` points to values ``(M,)`` and gradients
``(M, P)``; :data:`BatchedValue` maps them to values ``(M,)``. Whether ``M`` is always ``R``
(all runs, done ones at their frozen point: one compiled shape) or the number of runs still
active is up to the optimiser and stated in its docstring.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from dataclasses import dataclass
from typing import Any, NamedTuple

import numpy as np

__all__ = [
    "BatchedValue",
    "BatchedValueAndGrad",
    "EvaluateState",
    "Optimizer",
    "REQUIRED_FIELDS",
    "evaluate_only",
    "minimize",
]

BatchedValueAndGrad = Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]
"""``(M, P)`` points → values ``(M,)`` and gradients ``(M, P)``."""

BatchedValue = Callable[[np.ndarray], np.ndarray]
"""``(M, P)`` points → values ``(M,)``."""

REQUIRED_FIELDS = ("x", "f", "g", "done", "n_iter", "n_evals", "converged")
"""Fields every optimiser state has (see the module docstring for their meaning)."""


@dataclass(frozen=True)
class Optimizer:
    """An optimiser of many runs in lockstep.

    ``state = init(fun, x0, seeds)``, then ``state = step(fun, state)`` until
    ``state.done.all()`` (:func:`minimize` does exactly that).

    Attributes:
        name: short name, as in :data:`pyqhn.optimizers.OPTIMIZERS`.
        uses_gradient: ``True``: ``fun`` is a :data:`BatchedValueAndGrad`; ``False``: a
            :data:`BatchedValue`.
        init: ``(fun, x0 (R, P) float, seeds (R,) int) -> state``.
        step: ``(fun, state) -> state``: one iteration of every run not done.
        settings: the hyper-parameters, JSON-able (a driver records them in its run log).
        evaluates_subsets: ``fun`` is called with the points of some runs only (``M ≤ R``
            rows whose runs ``fun`` is not told): a driver pads such calls to ``R`` rows
            for one compiled shape, and an objective with one cost table per run cannot
            be used (direct search, the Julia optimisers).
        one_point_per_call: ``fun`` is called with one point ``(1, P)`` at a time (the
            Julia optimisers): a batch of one run avoids padded copies.
    """

    name: str
    uses_gradient: bool
    init: Callable[[Callable, np.ndarray, np.ndarray], Any]
    step: Callable[[Callable, Any], Any]
    settings: Mapping[str, Any]
    evaluates_subsets: bool = False
    one_point_per_call: bool = False


def as_runs(x0: Any) -> np.ndarray:
    """Validate starting points: ``(R, P)`` (or ``(P,)``, one run), real and finite.

    Returns a fresh ``float64`` array of shape ``(R, P)``; raises ``ValueError`` otherwise.
    """
    arr = np.asarray(x0)
    if np.iscomplexobj(arr):
        raise ValueError(
            "x0 is complex; the parameters are real angles: pass x0.real (after checking "
            "that the imaginary part is zero)"
        )
    if arr.dtype.kind not in "biuf":
        raise ValueError(
            f"x0 must be a real numeric array, got dtype {arr.dtype}; convert it with "
            "np.asarray(x0, dtype=float)"
        )
    if arr.ndim == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim != 2:
        raise ValueError(
            f"x0 must have shape (R, P), one row of P parameters per run, or (P,) for one "
            f"run; got shape {np.shape(x0)}. Reshape it, e.g. x0.reshape(-1, P)"
        )
    if arr.shape[1] == 0:
        raise ValueError(f"x0 has no parameters (shape {arr.shape}); need P >= 1")
    arr = np.array(arr, dtype=np.float64)
    bad = ~np.isfinite(arr).all(axis=1)
    if bad.any():
        raise ValueError(
            f"x0 contains NaN or infinite values (runs {np.flatnonzero(bad).tolist()[:10]}); "
            "give every run a finite starting point"
        )
    return arr


def as_seeds(seeds: Any, n_runs: int) -> np.ndarray:
    """Validate seeds: one integer per run (``None``: ``0, 1, …, R-1``)."""
    if seeds is None:
        return np.arange(n_runs, dtype=np.int64)
    arr = np.asarray(seeds)
    if arr.ndim == 0:
        arr = arr.reshape(1)
    if arr.ndim != 1 or arr.size != n_runs:
        raise ValueError(
            f"need one seed per run: {n_runs} runs, seeds of shape {arr.shape}; pass a "
            "sequence of R integers (or None for 0..R-1)"
        )
    if arr.size and arr.dtype.kind not in "iu":
        raise ValueError(
            f"seeds must be integers, got dtype {arr.dtype}; pass e.g. np.arange(R) + offset"
        )
    return arr.astype(np.int64 if arr.dtype.kind == "i" else np.uint64)


def call_value(fun: BatchedValue, points: np.ndarray) -> np.ndarray:
    """``fun(points)`` as a ``float64`` array, checked to have shape ``(M,)``."""
    values = np.asarray(fun(points), dtype=np.float64)
    if values.shape != points.shape[:1]:
        raise ValueError(
            f"the objective must return values of shape ({points.shape[0]},) for points "
            f"{points.shape}, got {values.shape}"
        )
    return values


def call_value_and_grad(fun: BatchedValueAndGrad,
                        points: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """``fun(points)`` as ``float64`` values ``(M,)`` and gradients ``(M, P)``, checked."""
    f, g = fun(points)
    f, g = np.asarray(f, dtype=np.float64), np.asarray(g, dtype=np.float64)
    if f.shape != points.shape[:1] or g.shape != points.shape:
        raise ValueError(
            f"value_and_grad must return values ({points.shape[0]},) and gradients "
            f"{points.shape} for points {points.shape}; got {f.shape} and {g.shape}"
        )
    return f, g


def _check_state(state: Any, optimizer: Optimizer) -> None:
    missing = [name for name in REQUIRED_FIELDS if not hasattr(state, name)]
    if missing:
        raise TypeError(
            f"optimizer {optimizer.name!r}: its state lacks the fields {missing}; every "
            f"state must have {REQUIRED_FIELDS}"
        )


def minimize(
    optimizer: Optimizer,
    fun: Callable,
    x0: np.ndarray,
    seeds: np.ndarray | list[int] | None = None,
    *,
    callback: Callable[[int, Any], Any] | None = None,
) -> tuple[Any, np.ndarray]:
    """Run ``optimizer`` from every row of ``x0`` until every run is done.

    The loop is ``state = init(fun, x0, seeds)``, then ``state = step(fun, state)`` while
    some run is not done. ``callback(k, state)`` is called after ``init`` (``k = 0``) and
    after step ``k = 1, 2, …``, and may return a modified state (e.g.
    ``state._replace(done=state.done | stop)`` for early stopping) or ``None`` to keep it.

    Args:
        optimizer: an :class:`Optimizer`.
        fun: the objective in the form ``optimizer.uses_gradient`` asks for.
        x0: starting points ``(R, P)``, or ``(P,)`` for one run; real and finite.
        seeds: one integer per run for optimisers that draw random numbers
            (default ``0, 1, …, R-1``).
        callback: ``callback(step_index, state) -> state | None``.

    Returns:
        ``(state, history)``: the final state and ``history (R, n_steps + 1)``, the value
        ``state.f`` after ``init`` (column 0) and after every step; a done run keeps its
        value.

    Example:
        >>> from pyqhn.optimizers import lbfgs_optimizer
        >>> vg = lambda x: ((x**2).sum(1), 2 * x)
        >>> state, history = minimize(lbfgs_optimizer(), vg, np.ones((3, 2)))
        >>> bool(state.converged.all()), history.shape[0]
        (True, 3)
    """
    x = as_runs(x0)
    seeds = as_seeds(seeds, x.shape[0])
    state = optimizer.init(fun, x, seeds)
    _check_state(state, optimizer)
    if callback is not None:
        new = callback(0, state)
        if new is not None:
            _check_state(new, optimizer)
            state = new
    history = [np.array(state.f, dtype=np.float64)]
    k = 0
    while not np.all(state.done):
        active, n_iter = ~np.asarray(state.done, dtype=bool), np.array(state.n_iter)
        state = optimizer.step(fun, state)
        k += 1
        stuck = active & ~np.asarray(state.done, dtype=bool) & (state.n_iter == n_iter)
        if stuck.any():
            raise RuntimeError(
                f"optimizer {optimizer.name!r}: step {k} neither advanced nor stopped runs "
                f"{np.flatnonzero(stuck).tolist()[:10]}; a step must increase n_iter of "
                "every run it leaves not done"
            )
        if callback is not None:
            new = callback(k, state)
            if new is not None:
                _check_state(new, optimizer)
                state = new
        history.append(np.array(state.f, dtype=np.float64))
    return state, np.stack(history, axis=1)


class EvaluateState(NamedTuple):
    """State of :func:`evaluate_only`: the required fields only (``g`` is ``None``)."""

    x: np.ndarray
    f: np.ndarray
    g: None
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray


def evaluate_only() -> Optimizer:
    """The optimiser that does not optimise: ``f = fun(x0)``, every run done at once.

    ``fun`` is a :data:`BatchedValue` called once with all ``R`` rows. Used to re-evaluate
    stored angles under another objective through the same driver as training.

    Example:
        >>> state, history = minimize(evaluate_only(), lambda x: x.sum(1), np.ones((2, 3)))
        >>> state.f.tolist(), history.shape
        ([3.0, 3.0], (2, 1))
    """

    def init(fun: BatchedValue, x0: np.ndarray, seeds: np.ndarray) -> EvaluateState:
        x = np.array(x0, dtype=np.float64)
        r = x.shape[0]
        f = call_value(fun, x)
        return EvaluateState(
            x=x, f=f, g=None, done=np.ones(r, dtype=bool), n_iter=np.zeros(r, dtype=np.int64),
            n_evals=np.ones(r, dtype=np.int64), converged=np.zeros(r, dtype=bool),
        )

    def step(fun: BatchedValue, state: EvaluateState) -> EvaluateState:
        return state

    return Optimizer(name="evaluate", uses_gradient=False, init=init, step=step, settings={})
