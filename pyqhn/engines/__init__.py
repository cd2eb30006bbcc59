"""Simulation engines behind one signature.

Every engine answers ``energy(circuit, theta (..., P) or (R, P), cost (2**n,)) -> (...)``
for the circuits of :mod:`pyqhn.circuits`, with site 1 the least significant bit of the
cost index, and is tested against the dense reference (:mod:`.reference`):

========== ============================================================ ==============
name       what                                                         module
========== ============================================================ ==============
exact      noise-free, JAX, autodiff gradients, CPU or GPU (default)    :mod:`.exact`
density    depolarizing noise, exact Pauli-basis MPS of ρ               :mod:`.density`
reference  dense NumPy state vector, gate by gate (tests)               :mod:`.reference`
julia      the original PastaQ.jl simulation via juliacall (optional)   :mod:`.julia`
========== ============================================================ ==============

:func:`energy` dispatches by name, so code that compares engines needs no branches.
"""

from __future__ import annotations

import numpy as np

ENGINES = ("exact", "density", "reference", "julia")

__all__ = ["ENGINES", "energy"]


def energy(circuit, theta, cost, *, engine: str = "exact", noise=None) -> np.ndarray:
    """``E(θ)`` from the named engine; ``noise`` (a :class:`pyqhn.noise.NoiseModel`) only
    for ``density`` (``None`` there means noiseless)."""
    if engine not in ENGINES:
        raise ValueError(f"unknown engine {engine!r}; choose one of {ENGINES}")
    if noise is not None and engine != "density":
        raise ValueError(f"the {engine!r} engine is noise-free; use engine='density' for noise")
    if engine == "exact":
        from . import exact

        return np.asarray(exact.energy(circuit, theta, cost))
    if engine == "density":
        from ..noise import NoiseModel
        from .density import noisy_energy

        return np.asarray(noisy_energy(circuit, theta, cost, noise or NoiseModel.noiseless()))
    if engine == "reference":
        from .reference import reference_energy

        t = np.asarray(theta)
        flat = t.reshape(-1, t.shape[-1])
        return np.array([reference_energy(circuit, row, cost) for row in flat]).reshape(
            t.shape[:-1]
        )
    from .julia import energy as julia_energy

    return julia_energy(circuit, theta, cost)
