"""Simulation engines behind one interface, :class:`Engine` (:mod:`.base`).

Every engine answers ``probabilities``, ``energy``, ``sample`` (and, where differentiable,
``energy_and_grad`` and ``jax_probabilities``) for the circuits of :mod:`pyqhn.circuits`,
with the same shapes (``(P,)`` → 0-d, ``(R, P)`` → ``(R,)``, ``(A, B, P)`` → ``(A, B)``),
the same checks (:mod:`pyqhn.checks`) and site 1 the least significant bit of the cost
index; all are tested against the dense reference:

========== ============================================================ ==============
name       what                                                         module
========== ============================================================ ==============
exact      noise-free, JAX, autodiff gradients, CPU or GPU (default)    :mod:`.exact`
density    depolarizing noise, exact Pauli-basis MPS of ρ               :mod:`.density`
reference  dense NumPy state vector, gate by gate (tests)               :mod:`.reference`
julia      PastaQ.jl via juliacall: noise, Zygote gradients (optional)  :mod:`.julia`
========== ============================================================ ==============

:func:`get_engine` picks one by name (the concrete modules are imported on first use), so
code that compares engines needs no branches:

    >>> engine = get_engine("density", noise=NoiseModel.from_strength(1.0))
    >>> e = engine.energy(circuit, theta, cost)          # (...) for theta (..., P)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from .base import ENGINES, Engine, get_engine

if TYPE_CHECKING:  # pragma: no cover
    from ..circuits import Circuit
    from ..noise import NoiseModel

__all__ = ["ENGINES", "Engine", "get_engine", "energy"]


def energy(
    circuit: Circuit, theta, cost, *, engine: str = "exact", noise: NoiseModel | None = None
) -> np.ndarray:
    """``E(θ)`` ``(...)`` for angles ``(..., P)`` from the named engine:
    ``get_engine(engine, noise=noise).energy(circuit, theta, cost)``. ``noise`` only for
    ``density`` and ``julia`` (``None`` means noiseless)."""
    return get_engine(engine, noise=noise).energy(circuit, theta, cost)
