"""Adam (Kingma & Ba, 2015) by optax, many runs in lockstep.

With gradient ``g_k`` at ``x_k``, ``optax.adam(η)`` (``β₁ = 0.9``, ``β₂ = 0.999``,
``ε = 10⁻⁸``) steps

    m_k = β₁ m_{k-1} + (1 - β₁) g_k,        v_k = β₂ v_{k-1} + (1 - β₂) g_k²,
    x_{k+1} = x_k - η m̂_k / (√v̂_k + ε),     m̂_k = m_k / (1 - β₁ᵏ),  v̂_k = v_k / (1 - β₂ᵏ),

elementwise. The whole ``(R, P)`` array is one optax parameter, so the runs are
independent: run ``r``'s trajectory is that of a plain optax loop started at ``x0[r]``.
"""

from __future__ import annotations

from typing import Any, NamedTuple

import numpy as np

from ..checks import check_float, check_int
from .base import (
    BatchedValueAndGrad,
    Optimizer,
    call_value_and_grad,
)

__all__ = ["AdamState", "adam_optimizer"]


class AdamState(NamedTuple):
    """State of :func:`adam_optimizer` for ``R`` runs of ``P`` parameters.

    Attributes:
        x: ``(R, P)`` iterates.
        f: ``(R,)`` values at ``x``.
        g: ``(R, P)`` gradients at ``x``.
        done: ``(R,)`` ``n_iter >= max_steps``, ``grad_norm < gtol``, a non-finite value or
            gradient, or stopped by the driver.
        n_iter: ``(R,)`` steps taken.
        n_evals: ``(R,)`` value-and-gradient evaluations (initial point included).
        converged: ``(R,)`` ``grad_norm < gtol`` (never with ``gtol = 0``).
        grad_norm: ``(R,)`` ``‖g‖₂``.
        opt_state: optax's Adam state for the whole ``(R, P)`` array (moments and step
            count; the moments of done runs are not meaningful).
    """

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    grad_norm: np.ndarray
    opt_state: Any


def adam_optimizer(*, learning_rate: float, max_steps: int, gtol: float = 0.0) -> Optimizer:
    """Adam with a fixed learning rate, as an ``init``/``step`` pair.

    ``fun`` is a :data:`~pyqhn.optimizers.base.BatchedValueAndGrad` called with all ``R``
    rows every step (done runs at their frozen point; their results are discarded and not
    counted), so a compiled objective sees one shape. ``init`` evaluates ``f, g`` at
    ``x0``; each step applies one Adam update to the runs not done and evaluates there.
    The state is an :class:`AdamState`.

    Args:
        learning_rate: ``η > 0``.
        max_steps: steps per run (>= 0).
        gtol: stop a run when ``‖g‖₂ < gtol``; ``0`` (default) never does.

    Example:
        >>> from pyqhn.optimizers import minimize
        >>> vg = lambda x: ((x**2).sum(1), 2 * x)
        >>> state, history = minimize(adam_optimizer(learning_rate=0.1, max_steps=200),
        ...                           vg, np.ones((2, 3)))
        >>> history.shape, bool(state.f.max() < 1e-2)
        ((2, 201), True)
    """
    learning_rate = check_float(learning_rate, "learning_rate", low=0.0, low_inclusive=False)
    max_steps = check_int(max_steps, "max_steps", minimum=0)
    gtol = check_float(gtol, "gtol", low=0.0)
    import jax.numpy as jnp  # here, not at import: `pyqhn --help` lists optimisers without JAX
    import optax

    tx = optax.adam(learning_rate)

    def stopped(f: np.ndarray, gnorm: np.ndarray, n_iter: np.ndarray) -> np.ndarray:
        return (n_iter >= max_steps) | (gnorm < gtol) | ~np.isfinite(f) | ~np.isfinite(gnorm)

    def init(fun: BatchedValueAndGrad, x0: np.ndarray, seeds: np.ndarray) -> AdamState:
        x = np.array(x0, dtype=np.float64)
        f, g = call_value_and_grad(fun, x)
        gnorm = np.linalg.norm(g, axis=1)
        n_iter = np.zeros(x.shape[0], dtype=np.int64)
        return AdamState(
            x=x, f=f, g=g, done=stopped(f, gnorm, n_iter), n_iter=n_iter,
            n_evals=np.ones(x.shape[0], dtype=np.int64), converged=gnorm < gtol,
            grad_norm=gnorm, opt_state=tx.init(jnp.asarray(x)),
        )

    def step(fun: BatchedValueAndGrad, state: AdamState) -> AdamState:
        active = ~np.asarray(state.done, dtype=bool)
        if not active.any():
            return state
        x_jax = jnp.asarray(state.x)
        updates, opt_state = tx.update(jnp.asarray(state.g), state.opt_state, x_jax)
        moved = np.asarray(optax.apply_updates(x_jax, updates), dtype=np.float64)
        x = np.where(active[:, None], moved, state.x)
        f_new, g_new = call_value_and_grad(fun, x)
        f = np.where(active, f_new, state.f)
        g = np.where(active[:, None], g_new, state.g)
        gnorm = np.linalg.norm(g, axis=1)
        n_iter = state.n_iter + active
        return AdamState(
            x=x, f=f, g=g, done=state.done | stopped(f, gnorm, n_iter), n_iter=n_iter,
            n_evals=state.n_evals + active, converged=gnorm < gtol, grad_norm=gnorm,
            opt_state=opt_state,
        )

    settings = {"learning_rate": learning_rate, "max_steps": max_steps, "gtol": gtol,
                "b1": 0.9, "b2": 0.999, "eps": 1e-8}
    return Optimizer(name="adam", uses_gradient=True, init=init, step=step,
                     settings=settings)
