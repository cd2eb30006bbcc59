"""Straight-through-estimator (STE) training of the binary weights, per discrete choice.

What a practitioner would do without a quantum hypernetwork: keep real latent weights
``u``, use their signs in the forward pass (bit ``1`` where ``u > 0``, mapped to the model's
weight values by its encoding), and back-propagate as if the sign were the identity on
``|u| ≤ 1`` (Courbariaux et al. 2016, "BinaryConnect"). Forward:
``b = s + stop_gradient(1[u > 0] − s)`` with ``s = clip((u + 1) / 2, 0, 1)``, so the loss
is exactly the BiNN's training loss ``C`` at the hard bits and ``∂b/∂u = ½·1[|u| ≤ 1]``.

A discrete choice (activation, hidden width, weight encoding) has no gradient: every
value of the choice bits is trained as its own group and the best is kept per run
(:func:`pyqhn.baselines.best_over_choices`). One optimiser step is one evaluation of the
loss (and its gradient) on the training data: one cost evaluation.
"""

from __future__ import annotations

from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from ..checks import InputError
from ..datasets import Dataset
from ..models import AugmentedBiNN, class_counts
from ..objectives import Objective

__all__ = ["choice_rows", "ste_bits", "ste_objective", "latent_start"]


def choice_rows(model: AugmentedBiNN) -> np.ndarray:
    """Every value of the model's choice bits: ``(2**n_choice_bits, n_choice_bits)``, the
    columns in the order of :meth:`~pyqhn.models.AugmentedBiNN.choice_params` (the order
    they appear in a bitstring of the model's layout); one empty row when the model has
    no choice."""
    k = model.n_choice_bits
    return ((np.arange(2**k)[:, None] >> np.arange(k - 1, -1, -1)) & 1).astype(np.float64)


def ste_bits(latent: Any) -> Any:
    """Hard bits ``1[u > 0]`` in the forward pass, ``½·1[|u| ≤ 1]`` as their gradient."""
    soft = jnp.clip((latent + 1.0) / 2.0, 0.0, 1.0)
    return soft + jax.lax.stop_gradient((latent > 0).astype(latent.dtype) - soft)


def ste_objective(model: AugmentedBiNN, data: Dataset, choice: np.ndarray) -> Objective:
    """The training loss of ``model`` on ``data`` as a function of the latent weights
    ``u (B, N − n_choice)`` (in the order of
    :meth:`~pyqhn.models.AugmentedBiNN.weight_params`) with the choice bits fixed to
    ``choice`` (a row of :func:`choice_rows`); value and STE gradient, batched."""
    choice = np.asarray(choice, dtype=np.float64)
    if choice.shape != (model.n_choice_bits,):
        raise InputError(f"choice must hold the model's {model.n_choice_bits} choice bits, "
                         f"got shape {choice.shape}")
    xu, counts = class_counts(data, model)
    fixed = jnp.asarray(choice)

    def loss(u):
        bits = model.bits_from_parts(fixed, ste_bits(u), jnp)[None, :]
        return model._counts_loss(bits, xu, counts)[0]

    batched = jax.jit(jax.vmap(jax.value_and_grad(loss)))

    def fn(u: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        v, g = batched(jnp.asarray(u, dtype=jnp.float64))
        return np.asarray(v), np.asarray(g)

    return Objective("ste", True, lambda runs: fn)


def latent_start(n_weights: int, seed: int, runs: np.ndarray, scale: float = 0.1) -> np.ndarray:
    """Latent starts ``(B, n_weights)``: run ``r`` draws ``uniform(−scale, scale)`` from
    ``default_rng([seed + r, 2])``."""
    return np.stack([np.random.default_rng([seed + int(r), 2]).uniform(-scale, scale,
                                                                        n_weights)
                     for r in runs])
