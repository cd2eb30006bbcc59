"""Noisy engine: the density matrix as a matrix-product state in the Pauli basis.

Representation (exact, no truncation):

* ``ρ = 2**-n Σ_P r_P P`` over Pauli strings ``P``; ``r_P = Tr(P ρ)`` is real. The vector
  ``r`` is stored as an MPS with physical dimension 4 per site (Pauli order I, X, Y, Z),
  starting from the product ``|0⟩⟨0| ↔ r = (1, 0, 0, 1)`` on every site.
* Every gate and channel acts by its real Pauli-transfer matrix (PTM). On each site the
  block's ``Ry``, 1-qubit depolarizing, ``Rz``, 1-qubit depolarizing fuse into one 4×4
  matrix, which is folded into the small tensors of the next gate on that site (or into
  the final projection), so the large site tensors are touched once per CX. The CX
  followed by its channel is a 16×16 PTM, split once per noise model by an SVD into a
  two-site matrix-product operator of exact rank ``r`` (5 for the 2-qubit channel, 4 for
  the 1-qubit form or no noise). Applying it multiplies the bond at that cut by ``r``; the
  first block acts on ``|00⟩⟨00|`` and gives bond 2 (1 without noise); near the ends of
  the chain an exact gauge move caps a bond at ``4**min(j, n-j)``. Nothing is ever
  truncated, so the only error is floating-point rounding (checked against
  :mod:`pyqhn.engines.density_reference` to ~1e-14). Bond dimensions are static and
  reported by :func:`bond_dimensions`: at most 25 for 4 blocks, 125 for 6 blocks; the
  energy is contracted at a cut of bond 10 (4 blocks) or 50 (6 blocks).
* The diagonal ``ρ[k, k] = 2**-n Σ_{P ∈ {I,Z}^n} r_P ⟨k|P|k⟩`` is the MPS projected site by
  site with ``[[1, 0, 0, 1], [1, 0, 0, -1]] / 2``. It is contracted into the left and the
  right half of the register and ``Tr(ρ Ĉ) = Σ_k ρ[k, k] C[k]`` is one matrix product with
  the cost table, at the cut with the smallest bond near the middle.

Index convention: site ``j`` is bit ``j-1`` of ``k`` (site 1 least significant), as in
``../shared/CONVENTIONS.md`` and :mod:`pyqhn.bits`.

Backends: ``"jax"`` (default; float64, enabled by ``import pyqhn``) is jitted once per
``(circuit, noise)`` (a few seconds) and vmapped over parameter sets: pass ``theta`` of
shape ``(R, P)`` to evaluate ``R`` parameter sets in one call (on a CPU in chunks of
``CPU_CHUNK`` = 8 rows of one compiled shape, elsewhere chunks of ``MAX_BATCH`` padded to
powers of two, so that few shapes compile and any ``R`` costs no new compilation).
``"numpy"`` runs the same algorithm op by op with no compilation. Measured
(benchmarks/noisy_engine.py, 2 busy cores, XLA on one thread): N = 17, 4 blocks ≈ 2 ms
per evaluation, ≈ 0.35 ms batched; N = 19, 6 blocks ≈ 12 ms. On an oversubscribed machine set
``XLA_FLAGS="--xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"`` before
JAX starts: XLA's thread pool can be 10-30× slower there.

:class:`DensityEngine` is this engine behind the common :class:`pyqhn.engines.base.Engine`
interface (not differentiable; samples drawn from diag ρ); :func:`noisy_energy`,
:func:`noisy_probabilities` and :func:`noisy_sample` are one-line functional forms of it.

Example:
    >>> from pyqhn.circuits import brickwork_circuit, random_params
    >>> from pyqhn.noise import NoiseModel
    >>> circuit = brickwork_circuit(4, 2)
    >>> cost = np.arange(16.0)
    >>> engine = DensityEngine(NoiseModel.from_strength(1))
    >>> e = engine.energy(circuit, random_params(circuit), cost)   # 0-d array
"""

from __future__ import annotations

from functools import lru_cache

import jax
import jax.numpy as jnp
import numpy as np

from ..checks import InputError, angle_batch, check_cost
from ..circuits import Circuit, cx_pairs, split_params
from ..noise import NoiseModel
from .base import Engine, _check_circuit

__all__ = [
    "DensityEngine",
    "noisy_probabilities",
    "noisy_energy",
    "noisy_sample",
    "bond_dimensions",
    "cx_ptm",
    "MAX_BATCH",
    "CPU_CHUNK",
    "BACKENDS",
]

#: Parameter sets evaluated per jitted call; larger batches are split into chunks.
MAX_BATCH = 256

_PAULIS = (
    np.eye(2, dtype=complex),
    np.array([[0, 1], [1, 0]], dtype=complex),
    np.array([[0, -1j], [1j, 0]], dtype=complex),
    np.array([[1, 0], [0, -1]], dtype=complex),
)
# Diagonal of a single-site ρ from its Pauli coefficients: ρ[b, b] = (r_I ± r_Z) / 2.
_DIAG = np.array([[0.5, 0.0, 0.0, 0.5], [0.5, 0.0, 0.0, -0.5]])
_INITIAL = np.array([1.0, 0.0, 0.0, 1.0])  # |0⟩⟨0| = (I + Z) / 2


def cx_ptm(noise: NoiseModel) -> np.ndarray:
    """The 16×16 real PTM of CX(control, target) followed by the noise channel.

    Index ``[4·a_c' + a_t', 4·a_c + a_t]`` with Pauli labels ``a`` in order I, X, Y, Z,
    control first. Entry ``= Tr(P' E(P)) / 4``.
    """
    cx = np.array([[1, 0, 0, 0], [0, 1, 0, 0], [0, 0, 0, 1], [0, 0, 1, 0]], dtype=complex)
    strings = [np.kron(a, b) for a in _PAULIS for b in _PAULIS]  # control is the left factor
    ptm = np.array([[np.trace(p @ cx @ q @ cx).real / 4 for q in strings] for p in strings])
    _, f2 = noise.pauli_factors()
    if noise.cx_channel == "two-qubit":
        channel = np.full(16, f2)
        channel[0] = 1.0
    else:
        one = np.array([1.0, f2, f2, f2])
        channel = np.kron(one, one)
    return channel[:, None] * ptm


@lru_cache(maxsize=16)
def _cx_mpo(noise: NoiseModel) -> tuple[np.ndarray, np.ndarray]:
    """Split the CX PTM into ``g1[a_c', a_c, s]`` and ``g2[s, a_t', a_t]`` of exact rank."""
    g = cx_ptm(noise).reshape(4, 4, 4, 4).transpose(0, 2, 1, 3).reshape(16, 16)
    u, s, vh = np.linalg.svd(g)
    rank = int(np.sum(s > 1e-13 * s[0]))
    g1 = (u[:, :rank] * np.sqrt(s[:rank])).reshape(4, 4, rank)
    g2 = (np.sqrt(s[:rank])[:, None] * vh[:rank]).reshape(rank, 4, 4)
    return g1, g2


def _single_site_ptms(ry, rz, f1, xp):
    """Fused PTM ``D Rz D Ry`` per site: ``ry, rz`` of shape ``(n,)`` → ``(n, 4, 4)``."""
    cy, sy = xp.cos(ry), xp.sin(ry)
    cz, sz = xp.cos(rz), xp.sin(rz)
    one, zero = xp.ones_like(ry), xp.zeros_like(ry)
    # Ry: X → cX - sZ, Z → cZ + sX ; Rz: X → cX + sY, Y → cY - sX ; D: non-I × f1.
    m_ry = xp.stack(
        [
            xp.stack([one, zero, zero, zero], -1),
            xp.stack([zero, cy, zero, sy], -1),
            xp.stack([zero, zero, one, zero], -1),
            xp.stack([zero, -sy, zero, cy], -1),
        ],
        -2,
    )
    m_rz = xp.stack(
        [
            xp.stack([one, zero, zero, zero], -1),
            xp.stack([zero, cz, -sz, zero], -1),
            xp.stack([zero, sz, cz, zero], -1),
            xp.stack([zero, zero, zero, one], -1),
        ],
        -2,
    )
    d = xp.array([1.0, f1, f1, f1])
    return (d[:, None] * m_rz) @ (d[:, None] * m_ry)


def _apply_cx(tensors: list, pending: list, j: int, g1, g2, xp) -> None:
    """CX + channel on 0-based sites ``j, j+1`` of the MPS ``tensors`` (in place).

    ``pending[j]`` is a 4×4 single-site PTM not yet applied to ``tensors[j]`` (or None); it
    is folded into the small gate tensors, so the large site tensors are touched once.
    Applies the MPO (bond × rank); near the ends of the chain, where that exceeds
    ``4 χ_l`` (or ``4 χ_r``), the bond is cut back exactly by a gauge move (no
    decomposition: the site becomes the identity and its matrix moves to the neighbour).
    """
    a, b = tensors[j], tensors[j + 1]
    chi_l, chi, chi_r = a.shape[0], a.shape[2], b.shape[2]
    rank = g1.shape[2]
    if pending[j] is not None:
        g1 = xp.einsum("pqs,qt->pts", g1, pending[j])
    if pending[j + 1] is not None:
        g2 = xp.einsum("spq,qt->spt", g2, pending[j + 1])
    pending[j] = pending[j + 1] = None
    a = xp.einsum("pqs,lqr->lprs", g1, a).reshape(chi_l, 4, chi * rank)
    b = xp.einsum("spq,lqr->lspr", g2, b).reshape(chi * rank, 4, chi_r)
    chi = chi * rank
    if chi > 4 * chi_l:  # exact gauge move: bond capped at 4χ_l, site j becomes an isometry
        b = xp.einsum("km,mqr->kqr", a.reshape(4 * chi_l, chi), b)
        a = xp.asarray(np.eye(4 * chi_l).reshape(chi_l, 4, 4 * chi_l))
    elif chi > 4 * chi_r:  # same from the right
        a = xp.einsum("lqm,mk->lqk", a, b.reshape(chi, 4 * chi_r))
        b = xp.asarray(np.eye(4 * chi_r).reshape(4 * chi_r, 4, chi_r))
    tensors[j], tensors[j + 1] = a, b


@lru_cache(maxsize=16)
def _cx_on_initial(noise: NoiseModel) -> tuple[np.ndarray, np.ndarray]:
    """The noisy CX applied to ``|00⟩⟨00|`` (first block): two site tensors of exact rank
    (2 with noise, 1 without), independent of the angles."""
    v = cx_ptm(noise) @ np.kron(_INITIAL, _INITIAL)
    u, s, vh = np.linalg.svd(v.reshape(4, 4))
    rank = int(np.sum(s > 1e-13 * s[0]))
    a = (u[:, :rank] * np.sqrt(s[:rank])).reshape(1, 4, rank)
    b = (np.sqrt(s[:rank])[:, None] * vh[:rank]).reshape(rank, 4, 1)
    return a, b


def _final_mps(circuit: Circuit, noise: NoiseModel, theta, xp=jnp) -> tuple[list, list]:
    """MPS tensors ``(χ_l, 4, χ_r)`` of the final ``r`` for one parameter set ``(P,)``, and
    per site the 4×4 PTM still to apply to it (or None)."""
    n = circuit.n_qubits
    g1, g2 = _cx_mpo(noise)  # NumPy constants
    f1, _ = noise.pauli_factors()
    ry, rz = split_params(circuit, theta)
    init = xp.asarray(_INITIAL).reshape(1, 4, 1)
    tensors = [init for _ in range(n)]
    pending: list = [None] * n
    pristine = set(range(n))  # sites still in |0⟩⟨0|, unentangled
    for d in range(1, circuit.blocks + 1):
        for c, _t in cx_pairs(circuit, d):
            if {c - 1, c} <= pristine:
                tensors[c - 1], tensors[c] = (xp.asarray(x) for x in _cx_on_initial(noise))
            else:
                _apply_cx(tensors, pending, c - 1, g1, g2, xp)
        pristine = set()
        mats = _single_site_ptms(ry[d - 1], rz[d - 1], f1, xp)
        pending = [mats[j] if m is None else mats[j] @ m for j, m in enumerate(pending)]
    return tensors, pending


def _halves(circuit: Circuit, noise: NoiseModel, theta, xp=jnp):
    """Left ``(2**s, χ)`` and right ``(χ, 2**(n-s))`` halves of diag(ρ) at the chosen cut."""
    diag = xp.asarray(_DIAG)
    mps, pending = _final_mps(circuit, noise, theta, xp)
    tensors = [
        xp.einsum("bp,lpr->lbr", diag if m is None else diag @ m, a)
        for a, m in zip(mps, pending, strict=True)
    ]
    s = _cut(circuit, noise)
    left = tensors[0][0]  # (2, χ)
    for a in tensors[1:s]:
        left = xp.einsum("kl,lbr->bkr", left, a).reshape(-1, a.shape[2])
    right = xp.ones((1, 1))  # (χ, 2**(n-s)), built from site n down to s+1
    for a in tensors[s:][::-1]:
        right = xp.einsum("lbr,rk->lkb", a, right).reshape(a.shape[0], -1)
    return left, right


@lru_cache(maxsize=64)
def bond_dimensions(circuit: Circuit, noise: NoiseModel) -> tuple[int, ...]:
    """Bond dimensions ``(χ_1, …, χ_{n-1})`` of the final Pauli-basis MPS (static).

    ``χ_j`` is the bond between sites ``j`` and ``j+1``. No truncation is made: these are
    the dimensions of an exact representation.
    """
    shapes = jax.eval_shape(
        lambda th: _final_mps(circuit, noise, th)[0], jnp.zeros(circuit.n_params)
    )
    return tuple(int(a.shape[2]) for a in shapes[:-1])


@lru_cache(maxsize=64)
def _cut(circuit: Circuit, noise: NoiseModel) -> int:
    """Number of sites in the left half: the smallest bond within 2 sites of the middle."""
    n = circuit.n_qubits
    if n == 1:
        return 1  # everything in the left half
    chis = bond_dimensions(circuit, noise)
    candidates = [s for s in range(1, n) if abs(s - n / 2) <= 2]
    return min(candidates, key=lambda s: (chis[s - 1], abs(s - n / 2)))


BACKENDS = ("jax", "numpy")


@lru_cache(maxsize=16)
def _compiled(circuit: Circuit, noise: NoiseModel, what: str, backend: str):
    """``fn(theta (R, P)[, cost (2**n,)]) -> (R,) or (R, 2**n)`` for the backend."""
    s = _cut(circuit, noise)
    n = circuit.n_qubits
    xp = jnp if backend == "jax" else np

    def energy(theta, cost):
        left, right = _halves(circuit, noise, theta, xp)
        table = cost.reshape(2 ** (n - s), 2**s)
        return xp.sum((right @ table) * left.T)

    def probabilities(theta):
        left, right = _halves(circuit, noise, theta, xp)
        return (right.T @ left.T).reshape(-1)

    if backend == "jax":
        if what == "energy":
            return jax.jit(jax.vmap(energy, in_axes=(0, None)))
        return jax.jit(jax.vmap(probabilities))
    if what == "energy":
        return lambda thetas, cost: np.array([energy(t, cost) for t in thetas])
    return lambda thetas: np.stack([probabilities(t) for t in thetas])


#: Rows per compiled call on a CPU: one shape (the last chunk padded), a few rows so the
#: site tensors stay in cache (N = 17, 6 blocks, p = 1: 1.6 ms a row at 8, 3.4 at 256).
CPU_CHUNK = 8


def _chunked(fn, theta: np.ndarray, *args, backend: str = "jax") -> np.ndarray:
    """Apply the jitted ``fn`` to ``theta (R, P)`` in chunks, so that any ``R`` reuses a few
    compiled shapes: on a CPU chunks of :data:`CPU_CHUNK` rows (one shape, the last chunk
    padded; the calls are dispatched asynchronously, back to back), elsewhere chunks of at
    most :data:`MAX_BATCH` padded to a power of two (one vectorised pass each)."""
    if backend == "numpy":
        return np.asarray(fn(theta, *args))
    cpu = jax.default_backend() == "cpu"
    step = CPU_CHUNK if cpu else MAX_BATCH
    out = []
    for i in range(0, len(theta), step):
        chunk = theta[i : i + step]
        size = step if cpu else 1 << (len(chunk) - 1).bit_length()
        padded = np.concatenate([chunk, np.repeat(chunk[-1:], size - len(chunk), axis=0)])
        out.append(np.asarray(fn(padded, *args)))
    return np.concatenate([np.asarray(o) for o in out], axis=0)[: len(theta)]


class DensityEngine(Engine):
    """Exact ``Tr(ρ_θ Ĉ)`` and ``diag ρ_θ`` under depolarizing ``noise`` (not differentiable).

    Args:
        noise: the noise model (``NoiseModel.noiseless()``, the default, gives the
            pure-state numbers).
        backend: ``"jax"`` (default): jitted once per ``(circuit, noise)`` (seconds for a
            first call), vmapped over the batch in padded chunks of :data:`MAX_BATCH`;
            ``"numpy"``: the same algorithm op by op, no compilation, for one-off
            evaluations of small circuits.

    :meth:`~pyqhn.engines.base.Engine.sample` draws from ``diag ρ`` for every row of a
    batch; rounding noise below ``-1e-9`` is clipped to 0, anything more negative raises.
    """

    name = "density"
    differentiable = False
    any_batch_size = True  # any number of rows reuses the compiled chunk shapes

    def __init__(self, noise: NoiseModel | None = None, backend: str = "jax") -> None:
        noise = NoiseModel.noiseless() if noise is None else noise
        if not isinstance(noise, NoiseModel):
            raise TypeError(
                "noise must be a pyqhn.noise.NoiseModel, e.g. NoiseModel.from_strength(p); "
                f"got {type(noise).__name__}"
            )
        if backend not in BACKENDS:
            raise InputError(f"backend must be one of {BACKENDS}, got {backend!r}")
        self.noise = noise
        self.backend = backend

    def _table(self, cost: np.ndarray):
        return jnp.asarray(cost) if self.backend == "jax" else cost

    def _probabilities(self, circuit, theta):
        fn = _compiled(circuit, self.noise, "probabilities", self.backend)
        return _chunked(fn, theta, backend=self.backend)

    def _energy(self, circuit, theta, cost):
        fn = _compiled(circuit, self.noise, "energy", self.backend)
        return _chunked(fn, theta, self._table(cost), backend=self.backend)

    def energy_fn(self, circuit, cost):
        table = self._table(check_cost(cost, _check_circuit(circuit).n_qubits))
        fn = _compiled(circuit, self.noise, "energy", self.backend)

        def energies(theta: np.ndarray) -> np.ndarray:
            flat = angle_batch(circuit, theta)
            if flat.shape[0] == 0:
                return np.zeros(0)
            return _chunked(fn, flat, table, backend=self.backend)

        return energies

    def __repr__(self) -> str:
        return f"DensityEngine(noise={self.noise!r}, backend={self.backend!r})"


def noisy_probabilities(
    circuit: Circuit, theta, noise: NoiseModel, *, backend: str = "jax"
) -> np.ndarray:
    """Diagonal of the noisy ρ: ``(..., 2**n)`` for ``theta (..., P)``.

    Entry ``k`` is ``ρ[k, k]``, site 1 the least significant bit. Sums to 1 up to rounding;
    entries may be negative at the 1e-16 level. ``backend``: see :class:`DensityEngine`.
    """
    return DensityEngine(noise, backend).probabilities(circuit, theta)


def noisy_energy(
    circuit: Circuit, theta, cost, noise: NoiseModel, *, backend: str = "jax"
) -> np.ndarray:
    """Exact ``Tr(ρ_θ Ĉ) = Σ_k ρ_θ[k, k] C[k]`` under ``noise``.

    Args:
        circuit: the ansatz.
        theta: angles ``(..., P)`` in the flat layout (``(P,)`` one set, ``(R, P)`` a batch).
        cost: cost table ``(2**n,)``, site 1 the least significant bit of the index.
        noise: the noise model (``NoiseModel.noiseless()`` gives the pure-state energy).
        backend: see :class:`DensityEngine`.

    Returns:
        Energies ``(...)`` float64: a 0-d array for one parameter set.
    """
    return DensityEngine(noise, backend).energy(circuit, theta, cost)


def noisy_sample(
    circuit: Circuit,
    theta,
    noise: NoiseModel,
    n_samples: int,
    seed: int | np.random.Generator = 0,
    *,
    backend: str = "jax",
) -> np.ndarray:
    """Draw ``n_samples`` measurement outcomes of ρ_θ in the computational basis.

    Returns ``(..., n_samples)`` int64 indices ``k`` for ``theta (..., P)`` (site 1 the least
    significant bit; :func:`pyqhn.bits.index_to_bits` gives the bit rows), drawn with
    ``numpy.random.default_rng(seed)``.
    """
    return DensityEngine(noise, backend).sample(circuit, theta, n_samples, seed=seed)
