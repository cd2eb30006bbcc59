"""Simulation engines behind one interface, :class:`Engine` (:mod:`.base`).

Every engine answers ``probabilities``, ``energy``, ``sample`` (and, where differentiable,
``energy_and_grad`` and ``jax_probabilities``) for the circuits of :mod:`pyqhn.circuits`,
with the same shapes (``(P,)`` → 0-d, ``(R, P)`` → ``(R,)``, ``(A, B, P)`` → ``(A, B)``),
the same checks (:mod:`pyqhn.checks`), NumPy results and site 1 the least significant
bit of the cost index; all are tested against the dense reference.

The registry :data:`ENGINES` (below, one :meth:`~pyqhn.registry.Registry.register` line
per engine) names them; each module is imported on first use, so ``import pyqhn.engines``
loads neither JAX nor Julia:

========== ============================================================ ==============
name       what                                                         module
========== ============================================================ ==============
exact      noise-free, JAX, autodiff gradients, CPU or GPU (default)    :mod:`.exact`
density    depolarizing noise, exact Pauli-basis MPS of ρ               :mod:`.density`
reference  dense NumPy state vector, gate by gate (tests)               :mod:`.reference`
julia      PastaQ.jl via juliacall: noise, Zygote gradients (optional)  :mod:`.julia`
mps        exact MPS: bit-row sampling, log-probabilities at any size   :mod:`.mps`
========== ============================================================ ==============

Capabilities of an entry: ``"noise"`` (takes a :class:`pyqhn.noise.NoiseModel`),
``"gradient"`` (noise-free gradients), ``"method"`` (takes a contraction method),
``"bit-rows"`` (a :class:`BitSampler`), ``"julia"`` (needs the Julia stack). Shared JAX
kernels live in :mod:`.kernels`.

:func:`get_engine` picks one by name, so code that compares engines needs no branches:

    >>> engine = get_engine("density", noise=NoiseModel.from_strength(1.0))
    >>> e = engine.energy(circuit, theta, cost)          # (...) for theta (..., P)
"""

from __future__ import annotations

from typing import TYPE_CHECKING

import numpy as np

from ..checks import InputError
from ..registry import Registry
from .base import BitSampler, Engine, sample_from_probabilities

if TYPE_CHECKING:  # pragma: no cover
    from ..circuits import Circuit
    from ..noise import NoiseModel

__all__ = ["ENGINES", "BitSampler", "Engine", "get_engine", "energy",
           "sample_from_probabilities"]

#: The engines by name. A factory (the engine class, imported on first use) takes
#: ``noise=`` if the entry has the ``"noise"`` capability and ``method=`` if it has
#: ``"method"``, nothing else (:func:`get_engine` passes only those).
ENGINES: Registry[Engine] = Registry("engine", "--engine")
ENGINES.register("exact", "pyqhn.engines.exact:ExactEngine",
                 "noise-free state vector or exact MPS in JAX, autodiff gradients",
                 capabilities=("gradient", "method"))
ENGINES.register("density", "pyqhn.engines.density:DensityEngine",
                 "depolarizing noise (Tr(ρC), exact Pauli-basis MPS of ρ), no gradients",
                 capabilities=("noise",))
ENGINES.register("reference", "pyqhn.engines.reference:ReferenceEngine",
                 "dense NumPy state vector, gate by gate (tests)")
ENGINES.register("julia", "pyqhn.engines.julia:JuliaEngine",
                 "PastaQ.jl through juliacall: noise, or Zygote gradients (`pyqhn doctor`)",
                 capabilities=("noise", "gradient", "julia"),
                 requires="pyqhn.engines.julia_setup:julia_unavailable_reason")
ENGINES.register("mps", "pyqhn.engines.mps:MpsEngine",
                 "exact MPS: bit-row sampling and log-probabilities at any number of qubits",
                 capabilities=("gradient", "bit-rows"))


def get_engine(name: str, *, noise: NoiseModel | None = None, method: str = "auto") -> Engine:
    """The engine called ``name`` (one of :data:`ENGINES`).

    Args:
        name: ``"exact"`` (JAX, differentiable), ``"density"`` (depolarizing noise),
            ``"reference"`` (dense NumPy), ``"julia"`` (optional PastaQ: noise-free with
            Zygote gradients, or noisy) or ``"mps"`` (exact MPS sampling at any size).
        noise: a :class:`pyqhn.noise.NoiseModel`, only for engines with the ``"noise"``
            capability (``None`` means noiseless).
        method: the exact engine's contraction (``"auto"``, ``"mps"``, ``"statevector"``);
            the other engines take only ``"auto"``.
    """
    entry = ENGINES.lookup(name)
    if noise is not None and "noise" not in entry.capabilities:
        first, *more = ENGINES.names(having="noise")
        also = "".join(f" (or {m!r})" for m in more)
        raise InputError(f"the {name!r} engine is noise-free; use engine={first!r}{also} for "
                         "noise")
    if method != "auto" and "method" not in entry.capabilities:
        raise InputError(
            f"method={method!r} selects the exact engine's contraction; the {name!r} engine "
            "takes no method (leave it 'auto')"
        )
    options = {"noise": noise, "method": method}
    return entry.create(**{k: v for k, v in options.items() if k in entry.capabilities})


def energy(
    circuit: Circuit, theta, cost, *, engine: str = "exact", noise: NoiseModel | None = None
) -> np.ndarray:
    """``E(θ)`` ``(...)`` for angles ``(..., P)`` from the named engine:
    ``get_engine(engine, noise=noise).energy(circuit, theta, cost)``. ``noise`` only for
    ``density`` and ``julia`` (``None`` means noiseless)."""
    return get_engine(engine, noise=noise).energy(circuit, theta, cost)
