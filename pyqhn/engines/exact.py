"""Exact noise-free engine in JAX: state, probabilities, energy, gradient and sampling.

Two contraction methods, chosen by a flop estimate (``method="auto"``):

``"mps"``
    The brickwork circuit written as an exact matrix-product state without truncation.
    The first block's CXs act on ``|0…0⟩`` and drop out; every later CX is split as
    ``|0⟩⟨0|⊗I + |1⟩⟨1|⊗X``, a bond of dimension 2 between its sites, so the bond across
    cut ``(j, j+1)`` is ``2**(number of CXs on that pair)``: 4 and 2 for 4 blocks, 8 and 4
    for 6. Each site tensor is a product of 2×2 gates; the two halves of the chain are
    contracted to ``(2**(n-m), χ)`` and ``(χ, 2**m)`` matrices and one matrix product gives
    all ``2**n`` amplitudes. Cost ``≈ 2**n · χ`` instead of ``2**n · n · blocks``.
``"statevector"``
    Gate by gate over all amplitudes, each block's single-qubit gates merged per site.
    Used when the bond dimension gets large (deep circuits).

All functions take a circuit (static) and angles ``theta`` of shape ``(..., n_params)`` in
the flat layout of :mod:`pyqhn.circuits`; leading axes are batch axes. Amplitude index
``k`` has site 1 as its least significant bit (:mod:`pyqhn.bits`). Everything runs in
float64/complex128 on whatever device JAX uses (CPU or GPU, unchanged).

The module functions (:func:`state`, :func:`probabilities`, :func:`energy`,
:func:`energy_and_grad`, :func:`energy_fn`, :func:`energy_and_grad_fn`, :func:`sample`) are
the pure core and return NumPy arrays, as every engine's methods do (only
:func:`probabilities` of a JAX tracer stays in JAX, for differentiation); inputs are
validated by :mod:`pyqhn.checks`. :class:`ExactEngine` is the same engine behind the common
:class:`pyqhn.engines.base.Engine` interface (NumPy in, NumPy out).
"""

from __future__ import annotations

import functools
import os
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..checks import InputError, angle_batch, check_angles, check_cost, check_n_qubits
from ..circuits import Circuit, cx_pairs, split_params
from .base import Engine, sample_from_probabilities
from .kernels import exact_site_groups, layer_unitaries, site_roles

__all__ = [
    "METHODS",
    "ExactEngine",
    "ContractionPlan",
    "contraction_plan",
    "memory_required",
    "state",
    "probabilities",
    "energy",
    "energy_and_grad",
    "energy_fn",
    "energy_and_grad_fn",
    "sample",
    "sample_from_probabilities",
]

#: Contraction methods: chosen by a flop estimate (auto), or forced.
METHODS = ("auto", "mps", "statevector")


def _check_method(method: str) -> str:
    if method not in METHODS:
        raise InputError(f"method must be one of {', '.join(METHODS)}, got {method!r}")
    return method


# Bytes of live arrays per amplitude in a value-and-gradient pass: ψ (complex128) and its
# cotangent, |ψ|² and the cost (float64), with JAX's temporaries: measured ~6 complex arrays.
_BYTES_PER_AMPLITUDE = 96


class ContractionPlan(NamedTuple):
    """How :mod:`exact` contracts one circuit.

    ``method`` is ``"mps"`` or ``"statevector"``; ``cut`` the number of low sites in the
    final matrix product (mps); ``bonds[j]`` the bond dimension between sites ``j+1`` and
    ``j+2`` (0-based list of the ``n-1`` cuts); ``flops`` the estimated complex
    multiply-adds of one amplitude evaluation for the chosen method.
    """

    method: str
    cut: int
    bonds: tuple[int, ...]
    flops: float


@functools.lru_cache(maxsize=256)
def contraction_plan(circuit: Circuit, method: str = "auto") -> ContractionPlan:
    """Choose the contraction for ``circuit`` (cached). ``method``: auto, mps, statevector."""
    _check_method(method)
    n = circuit.n_qubits
    events = site_roles(circuit)
    bonds = tuple(
        2 ** sum(1 for _, role in events[j] if role == "control") for j in range(n - 1)
    )
    chi = (1,) + bonds + (1,)  # chi[j] = bond left of site j+1 (0-based site j)
    best = None
    for m in range(1, n) if n > 1 else [1]:
        low = sum(2 ** (j + 1) * chi[j] * chi[j + 1] for j in range(1, m))
        high = sum(2 ** (n - j) * chi[j] * chi[j + 1] for j in range(m, n - 1))
        total = low + high + 2**n * chi[m]
        if best is None or total < best[1]:
            best = (m, total)
    m, mps_flops = best if n > 1 else (1, 2.0)
    sv_flops = 2.0**n * (2 * n * circuit.blocks + n)
    if method == "auto":
        method = "mps" if mps_flops <= sv_flops else "statevector"
    flops = mps_flops if method == "mps" else sv_flops
    return ContractionPlan(method, m, bonds, float(flops))


def _available_memory() -> int:
    """Bytes the engine may use: 60 % of device memory (GPU) or of physical memory."""
    dev = jax.devices()[0]
    if dev.platform != "cpu":
        stats = dev.memory_stats() or {}
        if "bytes_limit" in stats:
            return int(0.6 * stats["bytes_limit"])
    try:
        return int(0.6 * os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES"))
    except (ValueError, OSError, AttributeError):  # pragma: no cover - non-POSIX
        return 8 * 2**30


def memory_required(n_qubits: int, batch: int = 1) -> int:
    """Estimated peak bytes of one value-and-gradient evaluation of ``batch`` parameter sets."""
    return _BYTES_PER_AMPLITUDE * 2**n_qubits * batch


def _check_memory(n_qubits: int) -> int:
    """Largest batch that fits; raises with the memory needed if not even one does."""
    check_n_qubits(n_qubits)
    need = memory_required(n_qubits)
    have = _available_memory()
    if need > have:
        raise MemoryError(
            f"the exact engine needs about {need / 2**30:.1f} GiB for one {n_qubits}-qubit "
            f"evaluation but only {have / 2**30:.1f} GiB is available; use fewer qubits or an "
            "engine that does not hold all 2**n amplitudes (the MPS engine)"
        )
    return max(1, have // need)


def _chunk_size(max_chunk: int, batch: int) -> int:
    """Parameter sets evaluated together in one vectorised pass.

    On a GPU as many as memory allows (``max_chunk``, from :func:`_check_memory`), with
    ``vmap``. On a CPU one at a time inside one compiled loop (``lax.map``): XLA's batched
    small matrix products made a ``vmap`` of 8 about 3.5× slower per parameter set than a
    loop on 2 cores.
    """
    if jax.default_backend() == "cpu":
        return 1
    return int(min(max_chunk, max(1, batch)))


# ---------------------------------------------------------------------------------------
# Pure single-parameter-set kernels (theta: (n_params,) -> amplitudes (2**n,))
# ---------------------------------------------------------------------------------------


def _mps_site_tensors(circuit: Circuit, u: jnp.ndarray) -> list[jnp.ndarray]:
    """Exact site tensors ``(χ_left, 2, χ_right)`` of the final state, site 1 first
    (:func:`.kernels.exact_site_groups`)."""
    tensors: list[jnp.ndarray | None] = [None] * circuit.n_qubits
    for sites, v in exact_site_groups(circuit, u):
        for k, j in enumerate(sites):
            tensors[j] = v[k]
    return tensors


def _matmul(a: jnp.ndarray, b: jnp.ndarray) -> jnp.ndarray:
    """``a @ b``; an outer product when the contracted bond is 1 (XLA's K=1 dot is slow)."""
    return a * b if a.shape[1] == 1 else a @ b


def _mps_amplitudes(circuit: Circuit, plan: ContractionPlan, theta: jnp.ndarray) -> jnp.ndarray:
    """Amplitudes as a ``(2**(n-m), 2**m)`` matrix (row = high sites, column = low sites)."""
    ry, rz = split_params(circuit, theta)
    t = _mps_site_tensors(circuit, layer_unitaries(ry, rz))
    n, m = circuit.n_qubits, plan.cut
    if n == 1:
        return t[0].reshape(1, 2)
    # low sites 1..m: W[(a_j), (s_j … s_1)]
    w = jnp.transpose(t[0][0], (1, 0))  # (χ, 2)
    for j in range(1, m):
        cl, _, cr = t[j].shape
        w = _matmul(jnp.transpose(t[j], (2, 1, 0)).reshape(cr * 2, cl), w).reshape(cr, -1)
    # high sites n..m+1: V[(s_n … s_j), a]
    v = t[n - 1][:, :, 0].T  # (2, χ)
    for j in range(n - 2, m - 1, -1):
        cl, _, cr = t[j].shape
        v = _matmul(v, jnp.transpose(t[j], (2, 1, 0)).reshape(cr, 2 * cl)).reshape(-1, cl)
    return _matmul(v, w)


def _apply_1q(psi: jnp.ndarray, u: jnp.ndarray, site: int, n: int) -> jnp.ndarray:
    ax = n - site
    return jnp.moveaxis(jnp.tensordot(u, psi, axes=([1], [ax])), 0, ax)


def _apply_cx(psi: jnp.ndarray, control: int, target: int, n: int) -> jnp.ndarray:
    ac, at = n - control, n - target
    p0 = jnp.take(psi, 0, axis=ac)
    p1 = jnp.flip(jnp.take(psi, 1, axis=ac), axis=at - (1 if at > ac else 0))
    return jnp.stack([p0, p1], axis=ac)


def _statevector_amplitudes(circuit: Circuit, theta: jnp.ndarray) -> jnp.ndarray:
    n = circuit.n_qubits
    ry, rz = split_params(circuit, theta)
    u = layer_unitaries(ry, rz)
    psi = jnp.zeros((2,) * n, dtype=jnp.complex128).at[(0,) * n].set(1.0)
    for d in range(1, circuit.blocks + 1):
        for c, t in cx_pairs(circuit, d):
            psi = _apply_cx(psi, c, t, n)
        for j in range(1, n + 1):
            psi = _apply_1q(psi, u[d - 1, j - 1], j, n)
    return psi.reshape(2 ** (n - 1), 2) if n > 1 else psi.reshape(1, 2)


def _amplitude_matrix(circuit: Circuit, plan: ContractionPlan, theta: jnp.ndarray):
    if plan.method == "mps":
        return _mps_amplitudes(circuit, plan, theta)
    return _statevector_amplitudes(circuit, theta)


def _probability_matrix(circuit, plan, theta):
    a = _amplitude_matrix(circuit, plan, theta)
    return jnp.real(a) ** 2 + jnp.imag(a) ** 2


def _energy_single(circuit, plan, theta, cost):
    if plan.method == "mps" and max(plan.bonds, default=1) == 1:
        # product state: contract the cost with one site's probabilities at a time,
        # site 1 (least significant, last axis) first: ≈ 2·2**n real operations
        ry, rz = split_params(circuit, theta)
        site_p = _mps_site_tensors(circuit, layer_unitaries(ry, rz))
        e = cost
        for t in site_p:
            v = t.reshape(2)
            e = e.reshape(-1, 2) @ (jnp.real(v) ** 2 + jnp.imag(v) ** 2)
        return e.reshape(())
    p = _probability_matrix(circuit, plan, theta)
    return jnp.sum(p * cost.reshape(p.shape))


# ---------------------------------------------------------------------------------------
# Compiled, batched public functions
# ---------------------------------------------------------------------------------------


@functools.lru_cache(maxsize=256)
def _compiled(circuit: Circuit, method: str, what: str, chunk: int):
    plan = contraction_plan(circuit, method)
    n = circuit.n_qubits

    def mapped(f, xs):
        # vmap in chunks of `chunk` parameter sets (memory, CPU speed); chunk 1 is a loop
        if chunk == 1:
            return jax.lax.map(f, xs)
        return jax.lax.map(f, xs, batch_size=chunk) if xs.shape[0] > chunk else jax.vmap(f)(xs)

    if what == "state":
        fn = lambda th: _amplitude_matrix(circuit, plan, th).reshape(2**n)  # noqa: E731
        return jax.jit(lambda ths: mapped(fn, ths))
    if what == "probabilities":
        fn = lambda th: _probability_matrix(circuit, plan, th).reshape(2**n)  # noqa: E731
        return jax.jit(lambda ths: mapped(fn, ths))
    if what == "energy":
        return jax.jit(
            lambda ths, c: mapped(lambda th: _energy_single(circuit, plan, th, c), ths)
        )
    if what == "energy_and_grad":
        vg = jax.value_and_grad(lambda th, c: _energy_single(circuit, plan, th, c))
        return jax.jit(lambda ths, c: mapped(lambda th: vg(th, c), ths))
    raise ValueError(what)  # pragma: no cover


def _run(circuit: Circuit, flat, what: str, method: str, *args):
    """The compiled ``what`` on validated angles ``(R, P)``; JAX outputs with leading ``R``."""
    chunk = _chunk_size(_check_memory(circuit.n_qubits), flat.shape[0])
    return _compiled(circuit, method, what, chunk)(flat, *args)


def _batched(circuit: Circuit, theta, what: str, method: str, *args):
    """Validate ``theta (..., P)``, run ``what`` on ``(R, P)`` and restore the batch shape;
    NumPy outputs (the engines' one return type)."""
    flat, lead = check_angles(circuit, theta)
    out = _run(circuit, flat, what, method, *args)
    if isinstance(out, tuple):
        return tuple(np.asarray(o).reshape(lead + o.shape[1:]) for o in out)
    return np.asarray(out).reshape(lead + out.shape[1:])


def _cost(circuit: Circuit, cost) -> jnp.ndarray:
    return jnp.asarray(check_cost(cost, circuit.n_qubits))


def state(circuit: Circuit, theta, *, method: str = "auto") -> np.ndarray:
    """Final state ``ψ_θ``: ``(..., n_params)`` angles to ``(..., 2**n)`` complex128."""
    return _batched(circuit, theta, "state", method)


def probabilities(circuit: Circuit, theta, *, method: str = "auto") -> np.ndarray:
    """Outcome probabilities ``|ψ_θ(k)|²``: ``(..., n_params)`` to ``(..., 2**n)`` float64.

    Differentiable with JAX (compose it with any function of the distribution): on a JAX
    tracer only the shape is checked.
    """
    if isinstance(theta, jax.core.Tracer):
        f = _jax_probabilities(circuit, method)
        for _ in range(theta.ndim - 1):
            f = jax.vmap(f)
        return f(theta)
    return _batched(circuit, theta, "probabilities", method)


def _jax_probabilities(circuit: Circuit, method: str) -> Callable:
    plan = contraction_plan(circuit, method)
    return lambda th: _probability_matrix(circuit, plan, th).reshape(-1)


def energy(circuit: Circuit, theta, cost, *, method: str = "auto") -> np.ndarray:
    """``E(θ) = Σ_k |ψ_θ(k)|² C[k]``: ``(..., n_params)`` angles to ``(...)`` energies.

    Args:
        circuit: the ansatz.
        theta: angles in the flat layout, any leading batch shape.
        cost: ``(2**n,)`` cost vector, site 1 the least significant bit of the index.
    """
    return _batched(circuit, theta, "energy", method, _cost(circuit, cost))


def energy_and_grad(circuit: Circuit, theta, cost, *, method: str = "auto"):
    """``(E, ∇E)`` by reverse-mode automatic differentiation.

    Returns energies ``(...)`` and gradients ``(..., n_params)`` for angles ``(..., n_params)``.
    """
    return _batched(circuit, theta, "energy_and_grad", method, _cost(circuit, cost))


def _bound(circuit: Circuit, cost, what: str, method: str) -> Callable:
    """``theta (R, P) -> what`` with the cost validated and moved to the device once."""
    c = _cost(circuit, cost)
    contraction_plan(circuit, method)  # validates the method once
    max_chunk = _check_memory(circuit.n_qubits)  # once, not on every evaluation

    def fn(theta: np.ndarray):
        t = angle_batch(circuit, theta)
        return _compiled(circuit, method, what, _chunk_size(max_chunk, t.shape[0]))(t, c)

    return fn


def energy_fn(circuit: Circuit, cost, *, method: str = "auto") -> Callable:
    """Batched energies with the circuit and cost bound, validated once: NumPy angles
    ``(R, n_params)`` to NumPy energies ``(R,)`` (only dtype and shape checked per call)."""
    fn = _bound(circuit, cost, "energy", method)
    return lambda theta: np.asarray(fn(theta))


def energy_and_grad_fn(circuit: Circuit, cost, *, method: str = "auto") -> Callable:
    """A batched ``(E, ∇E)`` function with the circuit and cost bound, validated once.

    The returned callable maps NumPy angles ``(R, n_params)`` to NumPy energies ``(R,)`` and
    gradients ``(R, n_params)``: the form :func:`pyqhn.optimizers.lbfgs.lbfgs` takes. Per
    call only the dtype and shape of the angles are checked.
    """
    fn = _bound(circuit, cost, "energy_and_grad", method)

    def value_and_grad(theta: np.ndarray):
        e, g = fn(theta)
        return np.asarray(e), np.asarray(g)

    return value_and_grad


def sample(circuit: Circuit, theta, n_samples: int, *, seed: int | np.random.Generator = 0,
           method: str = "auto") -> np.ndarray:
    """Measure ``n_samples`` times in the computational basis.

    Returns int64 indices ``(..., n_samples)`` drawn from ``|ψ_θ|²`` with
    ``numpy.random.default_rng(seed)`` (bits by :func:`pyqhn.bits.index_to_bits`).
    """
    return ExactEngine(method).sample(circuit, theta, n_samples, seed=seed)


class ExactEngine(Engine):
    """The exact noise-free JAX engine behind the :class:`Engine` interface.

    ``method``: ``"auto"`` (flop estimate), ``"mps"`` or ``"statevector"``. Differentiable:
    :meth:`energy_and_grad` by reverse-mode autodiff, :meth:`jax_probabilities` for any loss
    of the distribution.
    """

    name = "exact"
    differentiable = True

    def __init__(self, method: str = "auto") -> None:
        self.method = _check_method(method)

    def _probabilities(self, circuit, theta):
        return np.asarray(_run(circuit, theta, "probabilities", self.method))

    def _energy(self, circuit, theta, cost):
        return np.asarray(_run(circuit, theta, "energy", self.method, jnp.asarray(cost)))

    def _energy_and_grad(self, circuit, theta, cost):
        e, g = _run(circuit, theta, "energy_and_grad", self.method, jnp.asarray(cost))
        return np.asarray(e), np.asarray(g)

    def energy_fn(self, circuit, cost):
        return energy_fn(circuit, cost, method=self.method)

    def energy_and_grad_fn(self, circuit, cost):
        return energy_and_grad_fn(circuit, cost, method=self.method)

    def jax_probabilities(self, circuit: Circuit) -> Callable:
        """``theta (P,) -> (2**n,)`` probabilities as a pure, differentiable JAX function."""
        if not isinstance(circuit, Circuit):
            raise TypeError(f"circuit must be a pyqhn.circuits.Circuit, got {type(circuit)}")
        return _jax_probabilities(circuit, self.method)

    def __repr__(self) -> str:
        return f"ExactEngine(method={self.method!r})"
