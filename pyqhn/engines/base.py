"""The engine interface: one class, every engine, the same shapes and the same checks.

:class:`Engine` validates inputs once (template methods, through :mod:`pyqhn.checks`) and
hands its subclasses the kernels' only input form: angles ``(R, P)`` float64, finite, and
a validated ``float64`` cost table ``(2**n,)``. Shapes are identical for every engine:

=============================== ==================== ===========================
method                          ``theta (..., P)``   returns
=============================== ==================== ===========================
:meth:`Engine.probabilities`    ``(P,)``, ``(R, P)`` ``(..., 2**n)`` float64
:meth:`Engine.energy`           any batch shape      ``(...)`` (0-d for ``(P,)``)
:meth:`Engine.energy_and_grad`  any batch shape      ``(...)``, ``(..., P)``
:meth:`Engine.sample`           any batch shape      ``(..., n_samples)`` int64
=============================== ==================== ===========================

Index ``k`` of probabilities, costs and samples has site 1 as its least significant bit
(``../shared/CONVENTIONS.md``, :mod:`pyqhn.bits`). Every method returns NumPy arrays.
:class:`BitSampler` is the protocol of engines that draw bit rows at any number of qubits
(the MPS engine), without enumerating ``2**n`` probabilities.

This module is the interface only: it imports no engine and no JAX.
:func:`pyqhn.engines.get_engine` picks an engine by name from the registry
(:data:`pyqhn.engines.ENGINES`), importing its module on first use.
:func:`sample_from_probabilities`, the one sampler from probability vectors (the default
:meth:`Engine.sample`), is usable without JAX.
"""

from __future__ import annotations

import abc
from collections.abc import Callable
from typing import ClassVar, Protocol, runtime_checkable

import numpy as np

from ..checks import (
    InputError,
    angle_batch,
    check_angles,
    check_cost,
    check_int,
    check_n_qubits,
)
from ..circuits import Circuit

__all__ = ["BitSampler", "Engine", "sample_from_probabilities"]

#: Probabilities below this (rounding of a noisy ρ's diagonal) are clipped to 0 when
#: sampling; anything more negative is a numerical breakdown.
_NEGATIVE_TOLERANCE = 1e-9


def sample_from_probabilities(
    p, n_samples: int, *, seed: int | np.random.Generator = 0
) -> np.ndarray:
    """Indices ``(..., n_samples)`` (int64) drawn by inverse CDF from probability vectors
    ``(..., 2**n)``; ``seed`` is an int or a ``numpy.random.Generator``.

    Each row is normalised by its sum; rows are drawn in order from one
    ``numpy.random.default_rng(seed)`` stream (``n_samples`` uniforms per row).
    """
    n_samples = check_int(n_samples, "n_samples", minimum=0)
    rng = np.random.default_rng(seed)
    p = np.asarray(p, dtype=np.float64)
    flat = p.reshape(-1, p.shape[-1])
    cdf = np.cumsum(flat, axis=1)
    cdf /= cdf[:, -1:]
    u = rng.random((flat.shape[0], n_samples))
    if flat.shape[0] == 0:
        return np.zeros(p.shape[:-1] + (n_samples,), dtype=np.int64)
    idx = np.stack([np.searchsorted(c, v, side="right") for c, v in zip(cdf, u, strict=True)])
    return np.minimum(idx, p.shape[-1] - 1).astype(np.int64).reshape(p.shape[:-1] + (n_samples,))


def _check_circuit(circuit: Circuit) -> Circuit:
    if not isinstance(circuit, Circuit):
        raise TypeError(
            f"circuit must be a pyqhn.circuits.Circuit (e.g. brickwork_circuit(n, blocks)), "
            f"got {type(circuit).__name__}"
        )
    return circuit


class Engine(abc.ABC):
    """Base class: validation lives here (template methods); subclasses implement the
    underscored kernels on ``(R, P)`` float64 arrays.

    Subclasses set :attr:`name` and implement ``_probabilities(circuit, theta (R, P)) ->
    (R, 2**n)`` and ``_energy(circuit, theta (R, P), cost (2**n,)) -> (R,)``;
    differentiable ones set :attr:`differentiable` and implement ``_energy_and_grad(circuit,
    theta, cost) -> ((R,), (R, P))`` and :meth:`jax_probabilities`. Kernels never see an
    empty batch, non-finite angles or an unchecked cost. :attr:`any_batch_size`: any
    number of rows costs no new compilation (the engine pads into fixed chunks itself), so
    the driver need not pad calls to the batch size.
    """

    name: ClassVar[str]
    differentiable: ClassVar[bool] = False
    any_batch_size: ClassVar[bool] = False

    # ----------------------------------------------------------------- kernels

    @abc.abstractmethod
    def _probabilities(self, circuit: Circuit, theta: np.ndarray) -> np.ndarray:
        """``(R, 2**n)`` outcome probabilities of angles ``(R, P)``."""

    @abc.abstractmethod
    def _energy(self, circuit: Circuit, theta: np.ndarray, cost: np.ndarray) -> np.ndarray:
        """``(R,)`` energies of angles ``(R, P)`` on a checked cost ``(2**n,)``."""

    def _energy_and_grad(
        self, circuit: Circuit, theta: np.ndarray, cost: np.ndarray
    ) -> tuple[np.ndarray, np.ndarray]:
        """``((R,), (R, P))``; only differentiable engines override it."""
        self._require_gradients()
        raise TypeError(f"{type(self).__name__} is marked differentiable but has no "
                        "_energy_and_grad kernel")

    # ----------------------------------------------------------------- checks

    def _require_gradients(self) -> None:
        if not self.differentiable:
            raise InputError(
                f"the {self.name!r} engine gives no gradients; use engine='exact' for "
                "gradient-based training (L-BFGS), or a gradient-free optimiser (direct "
                f"search) with the {self.name!r} engine"
            )

    @staticmethod
    def _angles(circuit: Circuit, theta) -> tuple[np.ndarray, tuple[int, ...]]:
        return check_angles(_check_circuit(circuit), theta)

    # ----------------------------------------------------------------- public API

    def probabilities(self, circuit: Circuit, theta) -> np.ndarray:
        """Outcome probabilities: angles ``(..., P)`` to ``(..., 2**n)`` float64 (for a noisy
        engine the diagonal of ρ, entries may be negative at the 1e-16 level)."""
        flat, lead = self._angles(circuit, theta)
        dim = 2 ** check_n_qubits(circuit.n_qubits)  # enumeration: at most MAX_QUBITS
        if flat.shape[0] == 0:
            return np.zeros(lead + (dim,))
        p = np.asarray(self._probabilities(circuit, flat), dtype=np.float64)
        return p.reshape(lead + (dim,))

    def energy(self, circuit: Circuit, theta, cost) -> np.ndarray:
        """``E(θ) = Σ_k p_θ(k) C[k]``: angles ``(..., P)`` to energies ``(...)`` float64
        (a 0-d array for one parameter set ``(P,)``)."""
        c = check_cost(cost, _check_circuit(circuit).n_qubits)
        flat, lead = self._angles(circuit, theta)
        if flat.shape[0] == 0:
            return np.zeros(lead)
        return np.asarray(self._energy(circuit, flat, c), dtype=np.float64).reshape(lead)

    def energy_and_grad(self, circuit: Circuit, theta, cost) -> tuple[np.ndarray, np.ndarray]:
        """``(E, ∇E)``: energies ``(...)`` and gradients ``(..., P)`` for angles ``(..., P)``.

        Raises InputError for an engine without gradients (see :attr:`differentiable`).
        """
        self._require_gradients()
        c = check_cost(cost, _check_circuit(circuit).n_qubits)
        flat, lead = self._angles(circuit, theta)
        if flat.shape[0] == 0:
            return np.zeros(lead), np.zeros(lead + (circuit.n_params,))
        e, g = self._energy_and_grad(circuit, flat, c)
        e = np.asarray(e, dtype=np.float64).reshape(lead)
        return e, np.asarray(g, dtype=np.float64).reshape(lead + (circuit.n_params,))

    def sample(
        self,
        circuit: Circuit,
        theta,
        n_samples: int,
        *,
        seed: int | np.random.Generator = 0,
    ) -> np.ndarray:
        """Measure ``n_samples`` times in the computational basis, for every parameter set.

        Returns int64 indices ``(..., n_samples)`` for angles ``(..., P)`` (site 1 the least
        significant bit; :func:`pyqhn.bits.index_to_bits` gives the bit rows), drawn from
        :meth:`probabilities` by :func:`sample_from_probabilities` with
        ``numpy.random.default_rng(seed)``. Negative rounding noise (> -1e-9) is clipped.
        """
        n_samples = check_int(n_samples, "n_samples", minimum=0)
        p = self.probabilities(circuit, theta)
        if p.size and p.min() < -_NEGATIVE_TOLERANCE:
            raise RuntimeError(
                f"negative probability {p.min():.3g} from the {self.name!r} engine: "
                "numerical breakdown"
            )
        return sample_from_probabilities(np.clip(p, 0.0, None), n_samples, seed=seed)

    def energy_fn(self, circuit: Circuit, cost) -> Callable[[np.ndarray], np.ndarray]:
        """Batched energies with the circuit and cost bound, the cost validated once.

        The callable maps NumPy angles ``(R, P)`` (any leading shape is flattened to ``R``)
        to NumPy energies ``(R,)``: an optimiser's hot path. Per call only the dtype and
        shape are checked: non-finite angles are not rejected here (the exact and density
        kernels return non-finite energies for them, which a line search discards).
        """
        c = check_cost(cost, _check_circuit(circuit).n_qubits)

        def fn(theta: np.ndarray) -> np.ndarray:
            flat = angle_batch(circuit, theta)
            if flat.shape[0] == 0:
                return np.zeros(0)
            return np.asarray(self._energy(circuit, flat, c), dtype=np.float64).reshape(-1)

        return fn

    def energy_and_grad_fn(
        self, circuit: Circuit, cost
    ) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
        """As :meth:`energy_fn` for ``(E, ∇E)``: ``(R, P)`` to ``((R,), (R, P))`` NumPy.

        Raises InputError for an engine without gradients.
        """
        self._require_gradients()
        c = check_cost(cost, _check_circuit(circuit).n_qubits)

        def fn(theta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            flat = angle_batch(circuit, theta)
            if flat.shape[0] == 0:
                return np.zeros(0), np.zeros((0, circuit.n_params))
            e, g = self._energy_and_grad(circuit, flat, c)
            return np.asarray(e, dtype=np.float64).reshape(-1), np.asarray(g, dtype=np.float64)

        return fn

    def jax_probabilities(self, circuit: Circuit) -> Callable:
        """A pure JAX function ``theta (P,) -> (2**n,)`` probabilities, differentiable
        (compose it with any loss of the distribution under ``jax.grad`` / ``jit``).

        Only differentiable engines have one; the others raise InputError.
        """
        self._require_gradients()
        raise TypeError(f"{type(self).__name__} is marked differentiable but has no "
                        "jax_probabilities")

    def __repr__(self) -> str:
        return f"{type(self).__name__}()"


@runtime_checkable
class BitSampler(Protocol):
    """An engine that samples bit rows and scores them at any number of qubits (no
    ``2**n`` enumeration): what the sampled objectives (:mod:`pyqhn.sampled_objectives`) need.

    ``isinstance(engine, BitSampler)`` checks that the methods exist. Bit rows are
    ``(..., N)`` uint8 in :mod:`pyqhn.bits` order (column ``i`` = model parameter ``i`` =
    site ``N - i``); all returns are NumPy.
    """

    name: str

    def sample_bits(self, circuit: Circuit, theta, n_shots: int, *,
                    seed: int | np.random.Generator = 0) -> np.ndarray:
        """Bit rows ``(..., n_shots, N)`` uint8 for angles ``(..., P)``."""
        ...

    def log_prob(self, circuit: Circuit, theta, bits) -> np.ndarray:
        """``log p_θ`` ``(S,)`` of bit rows ``(S, N)`` for one parameter set ``(P,)``."""
        ...

    def fidelity(self, circuit: Circuit, theta1, theta2) -> np.ndarray:
        """``|⟨ψ_θ1|ψ_θ2⟩|²`` ``(...)`` for angles ``(..., P)`` each."""
        ...
