"""Matrix-product-state engine in JAX: exact sampling, log-probabilities and their
gradients, and overlaps for the brickwork and product ansätze at any number of qubits.

Hand-written: no library samples these circuits batched over shots, seeded and
differentiably in JAX (quimb's CircuitMPS is the peer in ``benchmarks/sampling.py``).

Representation. The state is ``A`` of shape ``(N, χ, 2, χ)`` complex128: site tensors
``A[j-1][a, s, b]`` for sites ``j = 1..N`` (site 1 first), every bond padded with zeros to
one dimension ``χ`` so that the site loop is one ``lax.scan``. The boundary bonds use
index 0 only: ``ψ(s_1 … s_N) = (A[0][:, s_1, :] ⋯ A[N-1][:, s_N, :])[0, 0]``.

Exact construction (default). As in :mod:`pyqhn.engines.exact` (both build the site
tensors with :func:`.kernels.exact_site_groups`), the first block's CXs act
on ``|0…0⟩`` and drop out, and every later CX ``(j, j+1)`` is split as
``|0⟩⟨0|⊗I + |1⟩⟨1|⊗X``: a bond of dimension 2 between its sites. The bond across a cut
is ``2**(number of CXs across it)``: ``χ = 1`` (product, 1 block), 2 (2 and 3 blocks), 4
(4 and 5 blocks), ``2**⌊blocks/2⌋`` in general. No SVD, no truncation, and the state is
an exact, differentiable function of θ.

Truncated construction (``max_bond`` below the exact ``χ``). The circuit is applied block
by block to an MPS of bond ``max_bond``: the CX layer as a bond-2 MPO, the single-qubit
gates, then a QR sweep (left-canonical) and an SVD sweep keeping ``max_bond`` Schmidt
values per cut. :attr:`MPS.truncation_error` is the sum over all cuts and blocks of the
discarded squared Schmidt values (relative to the norm): ``1 - |⟨ψ_exact|ψ⟩|² ≲`` that sum.
The state is renormalised. Values only: gradients need the exact construction.

Bits. Samples come out as *bit rows* ``(…, N)`` uint8 in :mod:`pyqhn.bits` order: entry
``i`` is model parameter ``i``, carried by site ``N - i`` (parameter 0 on site N is the most
significant bit of the cost index). For ``N ≤ 62`` :meth:`MpsEngine.sample` also returns
int64 indices (site 1 the least significant bit), as every engine.

Cost: sampling ``S`` shots is ``O(N·S·χ²)`` with memory ``O(S·χ + N·χ²)`` plus the
``(S, N)`` output; shots are drawn in chunks of at most ``shot_chunk`` so memory is bounded
for any ``S``. Runs on CPU or GPU unchanged (whatever JAX uses), in float64.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import NamedTuple

import jax
import jax.numpy as jnp
import numpy as np

from ..bits import bits_to_index
from ..checks import InputError, check_angles, check_int, check_n_qubits
from ..circuits import Circuit, cx_pairs, split_params
from .base import Engine, _check_circuit
from .kernels import exact_site_groups, layer_unitaries, site_roles

__all__ = [
    "MPS",
    "MpsEngine",
    "exact_bond",
    "build_mps",
    "sample_bits",
    "log_prob",
    "overlap",
    "amplitudes",
    "ModeEstimate",
    "most_probable",
]

#: Shots drawn together in one compiled sampling pass (bounds memory for any shot count).
DEFAULT_SHOT_CHUNK = 4096


class MPS(NamedTuple):
    """A padded matrix-product state.

    Attributes:
        tensors: ``(N, χ, 2, χ)`` complex128, site 1 first (see the module docstring).
        truncation_error: ``()`` float64, summed discarded weight (0 for the exact MPS).
    """

    tensors: jax.Array
    truncation_error: jax.Array


# ------------------------------------------------------------------------- structure


def exact_bond(circuit: Circuit) -> int:
    """The largest bond of the exact MPS: ``2**(most CXs across one cut, blocks ≥ 2)``."""
    _check_circuit(circuit)
    roles = site_roles(circuit)
    return max((2 ** sum(1 for _, r in ev if r == "control") for ev in roles), default=1)


def _exact_tensors(circuit: Circuit, theta: jax.Array) -> jax.Array:
    """Exact padded site tensors ``(N, χ, 2, χ)`` of ``theta (P,)`` (traceable in θ).

    Sites with the same sequence of CX roles are built together (a few operations per
    block whatever ``N``), padded and scattered into place.
    """
    ry, rz = split_params(circuit, theta)
    n, chi = circuit.n_qubits, exact_bond(circuit)
    out = jnp.zeros((n, chi, 2, chi), dtype=jnp.complex128)
    for idx, v in exact_site_groups(circuit, layer_unitaries(ry, rz)):
        out = out.at[idx, :v.shape[1], :, :v.shape[3]].set(v)
    return out


# ------------------------------------------------------------------------- truncation


def _compress(a: jax.Array, chi: int) -> tuple[jax.Array, jax.Array]:
    """``(N, D, 2, D)`` → ``(N, chi, 2, chi)`` by a left QR sweep and a right-to-left SVD
    sweep; returns the compressed, normalised tensors and the discarded weight."""
    n, d = a.shape[0], a.shape[1]
    if n == 1:
        t = a[:, :chi, :, :chi]
        return t / jnp.linalg.norm(t), jnp.zeros(())

    def left(r, t):
        m = jnp.einsum("ab,bsc->asc", r, t).reshape(2 * d, d)
        q, r_new = jnp.linalg.qr(m)
        return r_new, q.reshape(d, 2, d)

    r_last, qs = jax.lax.scan(left, jnp.eye(d, dtype=a.dtype), a[:-1])
    last = jnp.einsum("ab,bsc->asc", r_last, a[-1])
    a = jnp.concatenate([qs, last[None]])

    def right(c, t):
        m = jnp.einsum("asb,bc->asc", t, c).reshape(d, 2 * chi)
        u, s, vh = jnp.linalg.svd(m, full_matrices=False)
        k = s.shape[0]
        keep = min(chi, k)
        w = jnp.sum(s**2)
        lost = jnp.where(w > 0, jnp.sum(s[keep:] ** 2) / w, 0.0)
        vk = jnp.zeros((chi, 2 * chi), dtype=a.dtype).at[:keep].set(vh[:keep])
        ck = jnp.zeros((d, chi), dtype=a.dtype).at[:, :keep].set(u[:, :keep] * s[:keep])
        return ck, (vk.reshape(chi, 2, chi), lost)

    c0 = jnp.zeros((d, chi), dtype=a.dtype).at[0, 0].set(1.0)
    c_first, (vs, lost) = jax.lax.scan(right, c0, a[1:], reverse=True)
    first = jnp.einsum("asb,bc->asc", a[0], c_first)[:chi]
    first = first / jnp.linalg.norm(first)
    return jnp.concatenate([first[None], vs]), jnp.sum(lost)


def _truncated_tensors(circuit: Circuit, theta: jax.Array, chi: int):
    """Block-by-block application with compression to bond ``chi`` after every block."""
    ry, rz = split_params(circuit, theta)
    u = layer_unitaries(ry, rz)
    n = circuit.n_qubits
    a = jnp.zeros((n, chi, 2, chi), dtype=jnp.complex128).at[:, 0, 0, 0].set(1.0)
    err = jnp.zeros(())
    eye2 = jnp.eye(2, dtype=a.dtype)
    for d in range(1, circuit.blocks + 1):
        pairs = cx_pairs(circuit, d)
        if pairs:
            ctrl = np.zeros(n, bool)
            targ = np.zeros(n, bool)
            for c, t in pairs:
                ctrl[c - 1], targ[t - 1] = True, True
            # right bond (r, b): controls copy s into b, others keep b = 0
            e0 = jnp.array([1.0, 0.0], dtype=a.dtype)
            rc = jnp.einsum("lsr,sb->lsrb", a.reshape(-1, 2, chi), eye2).reshape(n, chi, 2, chi, 2)
            rp = jnp.einsum("nlsr,b->nlsrb", a, e0)
            a2 = jnp.where(jnp.asarray(ctrl)[:, None, None, None, None], rc, rp)
            a2 = a2.reshape(n, chi, 2, 2 * chi)
            # left bond (l, b): targets flip s by b, others keep b = 0
            lt = jnp.stack([a2, a2[:, :, ::-1, :]], axis=2)  # (n, l, b, s, r)
            lp = jnp.stack([a2, jnp.zeros_like(a2)], axis=2)
            a3 = jnp.where(jnp.asarray(targ)[:, None, None, None, None], lt, lp)
            a = a3.reshape(n, 2 * chi, 2, 2 * chi)
        a = jnp.einsum("nts,nlsr->nltr", u[d - 1], a)
        if a.shape[1] != chi:
            a, lost = _compress(a, chi)
            err = err + lost
    return a, err


def build_mps(circuit: Circuit, theta, *, max_bond: int | None = None) -> MPS:
    """The MPS of ``|ψ_θ⟩`` for one parameter set ``theta (P,)``.

    Exact (bond :func:`exact_bond`) unless ``max_bond`` is smaller than that; then the
    truncated construction (module docstring) with its truncation error. Traceable in θ
    (JAX) for the exact construction.
    """
    chi = exact_bond(circuit)
    if max_bond is None or max_bond >= chi:
        return MPS(_exact_tensors(circuit, jnp.asarray(theta)), jnp.zeros(()))
    return MPS(*_truncated_tensors(circuit, jnp.asarray(theta), int(max_bond)))


# ------------------------------------------------------------------------- contractions


def _right_canonical(a: jax.Array) -> jax.Array:
    """The same state with sites 2..N right-orthonormal (``Σ_s A[s] A[s]^† = I``) by an LQ
    sweep from the right; the norm ends up in site 1. Conditional probabilities of a
    prefix are then plain squared norms (no environments)."""
    chi = a.shape[1]
    if a.shape[0] == 1:
        return a

    def step(l_mat, t):
        m = jnp.einsum("asb,bc->asc", t, l_mat).reshape(chi, 2 * chi)
        q, r = jnp.linalg.qr(jnp.conj(m.T))  # m = r^† q^†
        return jnp.conj(r.T), jnp.conj(q.T).reshape(chi, 2, chi)

    l_first, qs = jax.lax.scan(step, jnp.eye(chi, dtype=a.dtype), a[1:], reverse=True)
    first = jnp.einsum("asb,bc->asc", a[0], l_first)
    return jnp.concatenate([first[None], qs])


def _sample_sites(a: jax.Array, u: jax.Array) -> jax.Array:
    """Sequential conditional sampling from a right-canonical MPS (:func:`_right_canonical`):
    uniforms ``u (N, S)`` → site bits ``(N, S)`` uint8.

    With ``v_x = L A_j[x]`` for the prefix vector ``L`` of a shot, ``p(x | prefix) ∝ ‖v_x‖²``;
    ``x = 1`` iff ``u·(p_0 + p_1) ≥ p_0``; ``L ← v_x / ‖v_x‖``.
    """
    chi, shots = a.shape[1], u.shape[1]
    left0 = jnp.zeros((shots, chi), dtype=a.dtype).at[:, 0].set(1.0)

    def step(left, xs):
        t, uj = xs
        v = (left @ t.reshape(chi, 2 * chi)).reshape(shots, 2, chi)
        p = jnp.sum(v.real**2 + v.imag**2, axis=2)  # (S, 2)
        x = uj * (p[:, 0] + p[:, 1]) >= p[:, 0]
        chosen = jnp.where(x[:, None], v[:, 1], v[:, 0])
        pk = jnp.where(x, p[:, 1], p[:, 0])
        return chosen * jax.lax.rsqrt(jnp.where(pk > 0, pk, 1.0))[:, None], x.astype(jnp.uint8)

    _, bits = jax.lax.scan(step, left0, (a, u))
    return bits


def _beam_sites(a: jax.Array, width: int) -> tuple[jax.Array, ...]:
    """Beam search for the most probable site string of a right-canonical MPS.

    Prefix marginals are exact (``P(s_1…s_j) ∝ ‖L A_1[s_1]⋯A_j[s_j]‖²``); every site the
    ``2·width`` extensions of the beam are ranked by marginal and the best ``width`` kept.
    Returns, per site, the kept log-marginals ``(N, width)`` (unnormalised), back-pointers
    and bits ``(N, width)``, and the largest log-marginal pruned at that site ``(N,)``.
    """
    chi = a.shape[1]
    left0 = jnp.zeros((width, chi), dtype=a.dtype).at[:, 0].set(1.0)
    logp0 = jnp.full(width, -jnp.inf).at[0].set(0.0)

    def step(carry, t):
        left, logp = carry
        v = (left @ t.reshape(chi, 2 * chi)).reshape(width, 2, chi)
        p = jnp.sum(v.real**2 + v.imag**2, axis=2)  # (K, 2)
        cand = (logp[:, None] + jnp.log(p)).reshape(-1)  # (2K,), -inf where p = 0
        order = jnp.argsort(-cand)
        keep, pruned = order[:width], order[width:]
        parent, bit = keep // 2, keep % 2
        chosen = v[parent, bit]  # (K, χ)
        pk = p[parent, bit]
        chosen = chosen * jax.lax.rsqrt(jnp.where(pk > 0, pk, 1.0))[:, None]
        worst = jnp.max(cand[pruned])
        return (chosen, cand[keep]), (cand[keep], parent, bit.astype(jnp.uint8), worst)

    _, out = jax.lax.scan(step, (left0, logp0), a)
    return out


class ModeEstimate(NamedTuple):
    """The most probable bit row found by :func:`most_probable`.

    Attributes:
        bits: ``(N,)`` uint8 bit row (:mod:`pyqhn.bits` order).
        log_prob: its exact ``log p_θ``.
        certified: ``True`` when it is provably the most probable bit row: the state is a
            product state (bond 1), or ``log_prob`` is at least the log-marginal of every
            prefix the beam discarded (no completion of those can be more probable), or
            ``p > ½``.
        pruned_bound: the largest log-marginal of a discarded prefix (``-inf`` if none).
        width: the beam width used.
    """

    bits: np.ndarray
    log_prob: float
    certified: bool
    pruned_bound: float
    width: int


def most_probable(circuit: Circuit, theta, *, width: int = 64,
                  max_bond: int | None = None) -> ModeEstimate:
    """The most probable bit row of ``|ψ_θ|²`` (``theta (P,)``) by beam search.

    Sequential over sites, as the sampler: the ``width`` prefixes of largest *exact*
    marginal probability are kept per site (``O(N · width · χ²)``). The result is the
    exact mode when :attr:`ModeEstimate.certified` is set (see there); otherwise it is the
    best string the beam found, a lower bound on the mode's probability (approximate).
    """
    flat, lead = check_angles(_check_circuit(circuit), theta)
    if lead != ():
        raise InputError(f"most_probable takes one parameter set ({circuit.n_params},), got "
                         f"{lead + (circuit.n_params,)}")
    width = check_int(width, "width", minimum=1)
    max_bond = _check_bond(max_bond)
    logp, parent, bit, worst, log_norm = _compiled_beam(circuit, max_bond, width)(
        jnp.asarray(flat[0]))
    logp, parent, bit = np.asarray(logp), np.asarray(parent), np.asarray(bit)
    n = circuit.n_qubits
    sites = np.empty(n, dtype=np.uint8)
    k = int(np.argmax(logp[-1]))
    best = float(logp[-1, k] - log_norm)
    for j in range(n - 1, -1, -1):
        sites[j] = bit[j, k]
        k = int(parent[j, k])
    bound = float(np.max(np.asarray(worst)) - log_norm)
    chi = exact_bond(circuit) if max_bond is None else min(max_bond, exact_bond(circuit))
    certified = bool(chi == 1 or best >= bound or best > np.log(0.5))
    return ModeEstimate(bits=sites[::-1].copy(), log_prob=best, certified=certified,
                        pruned_bound=bound, width=width)


@functools.lru_cache(maxsize=32)
def _compiled_beam(circuit: Circuit, max_bond: int | None, width: int) -> Callable:
    def fn(theta):
        a = build_mps(circuit, theta, max_bond=max_bond).tensors
        logp, parent, bit, worst = _beam_sites(_right_canonical(a), width)
        return logp, parent, bit, worst, _log_norm2(a)

    return jax.jit(fn)


def _log_norm2(a: jax.Array) -> jax.Array:
    """``log ⟨ψ|ψ⟩`` by a transfer scan with running rescaling."""
    return _log_overlap(a, a)[0]


def _log_overlap(a: jax.Array, b: jax.Array) -> tuple[jax.Array, jax.Array]:
    """``⟨A|B⟩`` as ``(log |·|, phase)`` by a transfer scan (left to right), rescaled per site."""
    chi_a, chi_b = a.shape[1], b.shape[1]
    t0 = jnp.zeros((chi_a, chi_b), dtype=a.dtype).at[0, 0].set(1.0)

    def step(carry, xs):
        t, logs = carry
        ta, tb = xs
        new = jnp.einsum("ac,asb,csd->bd", t, jnp.conj(ta), tb)
        scale = jnp.max(jnp.abs(new))
        scale = jnp.where(scale > 0, scale, 1.0)
        return (new / scale, logs + jnp.log(scale)), None

    (t, logs), _ = jax.lax.scan(step, (t0, jnp.zeros(())), (a, b))
    val = t[0, 0]
    return logs + jnp.log(jnp.abs(val)), jnp.angle(val)


def _log_amplitudes2(a: jax.Array, sites: jax.Array) -> jax.Array:
    """``log |ψ(s)|²`` (unnormalised) for site bits ``sites (S, N)``."""
    chi, shots = a.shape[1], sites.shape[0]
    left0 = jnp.zeros((shots, chi), dtype=a.dtype).at[:, 0].set(1.0)

    def step(carry, xs):
        left, logs = carry
        t, s = xs  # (χ, 2, χ), (S,)
        mats = jnp.take(jnp.transpose(t, (1, 0, 2)), s, axis=0)  # (S, χ, χ)
        new = jnp.einsum("ka,kab->kb", left, mats)
        nrm = jnp.linalg.norm(new, axis=1)
        safe = jnp.where(nrm > 0, nrm, 1.0)
        return (new / safe[:, None], logs + jnp.log(safe) + jnp.where(nrm > 0, 0.0, -jnp.inf)), None

    (left, logs), _ = jax.lax.scan(step, (left0, jnp.zeros(shots)), (a, sites.T.astype(jnp.int32)))
    return 2.0 * (logs + jnp.log(jnp.abs(left[:, 0])))


def _site_bits(bits: jax.Array) -> jax.Array:
    """Bit rows ``(S, N)`` (parameter 0 = site N first) ↔ site order ``(S, N)`` (site 1 first)."""
    return bits[:, ::-1]


# ------------------------------------------------------------------------- compiled kernels


@functools.lru_cache(maxsize=128)
def _compiled(circuit: Circuit, max_bond: int | None, what: str) -> Callable:
    def tensors(theta):
        return build_mps(circuit, theta, max_bond=max_bond)

    if what == "sample":
        def sample(theta, key, shots_shape):
            mps = tensors(theta)
            u = jax.random.uniform(key, (circuit.n_qubits, shots_shape.shape[0]),
                                   dtype=jnp.float64)
            bits = _sample_sites(_right_canonical(mps.tensors), u)
            return _site_bits(bits.T), mps.truncation_error

        return jax.jit(sample)
    if what == "sample_batch":
        one = _compiled(circuit, max_bond, "sample")

        def sample_batch(thetas, key, rows, chunk, shots_shape):
            def row(th, r):
                k = jax.random.fold_in(jax.random.fold_in(key, r), chunk)
                return one(th, k, shots_shape)[0]

            return jax.vmap(row)(thetas, rows)

        return jax.jit(sample_batch)
    if what == "log_prob":
        def lp(theta, sites):
            a = tensors(theta).tensors
            return _log_amplitudes2(a, sites) - _log_norm2(a)

        return jax.jit(lp)
    if what == "weighted_log_prob_grad":
        def wlp(theta, sites, weights):
            a = tensors(theta).tensors
            return jnp.sum(weights * (_log_amplitudes2(a, sites) - _log_norm2(a)))

        return jax.jit(jax.value_and_grad(wlp))
    if what == "overlap":
        def ov(theta1, theta2):
            log_abs, phase = _log_overlap(tensors(theta1).tensors, tensors(theta2).tensors)
            return jnp.exp(log_abs + 1j * phase)

        return jax.jit(jax.vmap(ov))
    if what == "truncation_error":
        return jax.jit(lambda th: tensors(th).truncation_error)
    raise ValueError(what)  # pragma: no cover


def _key(seed: int | np.random.Generator) -> jax.Array:
    if isinstance(seed, np.random.Generator):
        seed = int(seed.integers(2**62))
    seed = check_int(seed, "seed", minimum=0)
    return jax.random.PRNGKey(seed % (2**63))


def sample_bits(circuit: Circuit, theta, n_shots: int, *, seed: int | np.random.Generator = 0,
                max_bond: int | None = None, shot_chunk: int = DEFAULT_SHOT_CHUNK) -> np.ndarray:
    """Draw ``n_shots`` exact samples of ``|ψ_θ|²`` for every parameter set.

    Args:
        circuit: the ansatz, any number of qubits.
        theta: angles ``(..., P)``.
        n_shots: shots per parameter set.
        seed: int (or a NumPy generator, one int is drawn from it); parameter set ``r`` of
            the flattened batch and shot chunk ``c`` use ``fold_in(fold_in(key, r), c)``
            (parameter sets are drawn together, vectorised, as long as a pass holds at
            most ``shot_chunk`` shots in all; the streams do not depend on that).
        max_bond: truncate to this bond (module docstring); ``None`` exact.
        shot_chunk: shots drawn in one compiled pass (memory ``O(shot_chunk · N)``).

    Returns:
        Bit rows ``(..., n_shots, N)`` uint8 in :mod:`pyqhn.bits` order (column ``i`` =
        model parameter ``i`` = site ``N - i``).
    """
    flat, lead = check_angles(_check_circuit(circuit), theta)
    n_shots = check_int(n_shots, "n_shots", minimum=0)
    shot_chunk = check_int(shot_chunk, "shot_chunk", minimum=1)
    max_bond = _check_bond(max_bond)
    key = _key(seed)
    fn = _compiled(circuit, max_bond, "sample_batch")
    n, rows = circuit.n_qubits, flat.shape[0]
    out = np.empty((rows, n_shots, n), dtype=np.uint8)
    if rows == 0 or n_shots == 0:
        return out.reshape(lead + (n_shots, n))
    # parameter sets drawn together, at most shot_chunk shots per pass in all; the last
    # group is padded (repeats, discarded) so a call compiles one shape per chunk size
    group = min(rows, max(1, shot_chunk // min(shot_chunk, n_shots)))
    padded = -(-rows // group) * group
    thetas = jnp.asarray(np.concatenate([flat, np.repeat(flat[-1:], padded - rows, axis=0)]))
    index = jnp.arange(padded)
    for c, start in enumerate(range(0, n_shots, shot_chunk)):
        size = min(shot_chunk, n_shots - start)
        for g in range(0, rows, group):
            bits = fn(thetas[g:g + group], key, index[g:g + group], c, jnp.zeros((size, 0)))
            m = min(group, rows - g)
            out[g:g + m, start:start + size] = np.asarray(bits)[:m]
    return out.reshape(lead + (n_shots, n))


def _check_bond(max_bond: int | None) -> int | None:
    return None if max_bond is None else check_int(max_bond, "max_bond", minimum=1)


def _sites_of(circuit: Circuit, bits) -> jax.Array:
    b = np.asarray(bits)
    if b.ndim != 2 or b.shape[1] != circuit.n_qubits:
        raise InputError(f"bits must be bit rows of shape (S, {circuit.n_qubits}) (pyqhn.bits "
                         f"order, parameter 0 first), got {b.shape}")
    if np.any((b != 0) & (b != 1)):
        raise InputError("bits must contain only 0 and 1")
    return jnp.asarray(b[:, ::-1].astype(np.int32))


def log_prob(circuit: Circuit, theta, bits, *, max_bond: int | None = None) -> np.ndarray:
    """``log p_θ(w) = log |ψ_θ(w)|²`` of bit rows ``bits (S, N)`` (:mod:`pyqhn.bits` order) for
    one parameter set ``theta (P,)``: ``(S,)`` float64 (``-inf`` where ``p = 0``)."""
    flat, lead = check_angles(_check_circuit(circuit), theta)
    if lead != ():
        raise InputError(f"log_prob takes one parameter set ({circuit.n_params},), got "
                         f"{lead + (circuit.n_params,)}")
    fn = _compiled(circuit, _check_bond(max_bond), "log_prob")
    return np.asarray(fn(jnp.asarray(flat[0]), _sites_of(circuit, bits)))


def weighted_log_prob_grad(circuit: Circuit, theta, bits, weights) -> tuple[float, np.ndarray]:
    """``(Σ_s c_s log p_θ(w_s), Σ_s c_s ∇_θ log p_θ(w_s))`` for bit rows ``bits (S, N)`` and
    weights ``c (S,)``, by reverse-mode autodiff through the exact MPS: the score-function
    estimator's kernel. ``theta (P,)``; returns a float and ``(P,)``."""
    flat, lead = check_angles(_check_circuit(circuit), theta)
    if lead != ():
        raise InputError("weighted_log_prob_grad takes one parameter set")
    w = np.asarray(weights, dtype=np.float64)
    sites = _sites_of(circuit, bits)
    if w.shape != (sites.shape[0],):
        raise InputError(f"weights must have shape ({sites.shape[0]},), got {w.shape}")
    v, g = _compiled(circuit, None, "weighted_log_prob_grad")(jnp.asarray(flat[0]), sites,
                                                              jnp.asarray(w))
    return float(v), np.asarray(g)


def overlap(circuit: Circuit, theta1, theta2, *, max_bond: int | None = None) -> np.ndarray:
    """``⟨ψ_θ1|ψ_θ2⟩``: angles ``(..., P)`` each (same shape) → complex128 ``(...)``."""
    f1, lead1 = check_angles(_check_circuit(circuit), theta1)
    f2, lead2 = check_angles(circuit, theta2)
    if lead1 != lead2:
        raise InputError(f"theta1 and theta2 must have the same shape, got {lead1} and {lead2}")
    if f1.shape[0] == 0:
        return np.zeros(lead1, dtype=np.complex128)
    fn = _compiled(circuit, _check_bond(max_bond), "overlap")
    return np.asarray(fn(jnp.asarray(f1), jnp.asarray(f2))).reshape(lead1)


def amplitudes(circuit: Circuit, theta: jax.Array) -> jax.Array:
    """All ``2**N`` amplitudes of the exact MPS of ``theta (P,)`` (small ``N``; traceable):
    ``(2**N,)`` complex128, index ``k`` with site 1 the least significant bit."""
    a = _exact_tensors(circuit, theta)
    w = a[0][0]  # (2, χ): row = s_1
    for j in range(1, circuit.n_qubits):
        w = jnp.einsum("pb,bxc->xpc", w, a[j]).reshape(-1, a.shape[1])
    return w[:, 0]


# ------------------------------------------------------------------------- engine


class MpsEngine(Engine):
    """The MPS engine behind the :class:`Engine` interface, plus what needs no enumeration.

    Enumeration methods (``probabilities``, ``energy``, ``energy_and_grad``) contract the
    exact MPS to all ``2**N`` amplitudes (``N ≤ 30``): for checks against the exact engine.
    Beyond enumeration: :meth:`sample_bits`, :meth:`log_prob`,
    :meth:`weighted_log_prob_grad`, :meth:`overlap`, :meth:`fidelity`,
    :meth:`most_probable` at any ``N``.

    Args:
        max_bond: ``None`` (exact) or the bond to truncate to (values only, no gradients).
        shot_chunk: shots drawn per compiled pass (bounds memory).
    """

    name = "mps"
    differentiable = True

    def __init__(self, max_bond: int | None = None, shot_chunk: int = DEFAULT_SHOT_CHUNK):
        self.max_bond = _check_bond(max_bond)
        self.shot_chunk = check_int(shot_chunk, "shot_chunk", minimum=1)

    # --- enumeration (small N)
    def _probs_fn(self, circuit: Circuit) -> Callable:
        check_n_qubits(circuit.n_qubits)
        return _enumerated(circuit, "probabilities")

    def _probabilities(self, circuit, theta):
        return np.asarray(self._probs_fn(circuit)(jnp.asarray(theta)))

    def _energy(self, circuit, theta, cost):
        self._probs_fn(circuit)
        return np.asarray(_enumerated(circuit, "energy")(jnp.asarray(theta), jnp.asarray(cost)))

    def _energy_and_grad(self, circuit, theta, cost):
        self._probs_fn(circuit)
        e, g = _enumerated(circuit, "energy_and_grad")(jnp.asarray(theta), jnp.asarray(cost))
        return np.asarray(e), np.asarray(g)

    def jax_probabilities(self, circuit: Circuit) -> Callable:
        """``theta (P,) -> (2**N,)`` probabilities as a pure JAX function (small ``N``)."""
        _check_circuit(circuit)
        check_n_qubits(circuit.n_qubits)
        return lambda th: jnp.abs(amplitudes(circuit, th)) ** 2

    # --- beyond enumeration
    def sample_bits(self, circuit: Circuit, theta, n_shots: int, *,
                    seed: int | np.random.Generator = 0) -> np.ndarray:
        """Bit rows ``(..., n_shots, N)`` uint8 (:func:`sample_bits`)."""
        return sample_bits(circuit, theta, n_shots, seed=seed, max_bond=self.max_bond,
                           shot_chunk=self.shot_chunk)

    def sample(self, circuit: Circuit, theta, n_samples: int, *,
               seed: int | np.random.Generator = 0) -> np.ndarray:
        """Indices ``(..., n_samples)`` int64 from :meth:`sample_bits` (``N ≤ 62``); the
        MPS's own sampler, not the probability vector (other streams than other engines)."""
        if _check_circuit(circuit).n_qubits > 62:
            raise InputError(f"{circuit.n_qubits} qubits do not fit an int64 index; use "
                             "MpsEngine.sample_bits for bit rows")
        bits = self.sample_bits(circuit, theta, n_samples, seed=seed)
        return bits_to_index(bits)

    def log_prob(self, circuit: Circuit, theta, bits) -> np.ndarray:
        """``log p_θ`` ``(S,)`` of bit rows ``(S, N)`` (:func:`log_prob`)."""
        return log_prob(circuit, theta, bits, max_bond=self.max_bond)

    def weighted_log_prob_grad(self, circuit: Circuit, theta, bits, weights):
        """Score-function kernel (:func:`weighted_log_prob_grad`); exact MPS only."""
        if self.max_bond is not None and self.max_bond < exact_bond(circuit):
            raise InputError(f"log-probability gradients need the exact MPS (bond "
                             f"{exact_bond(circuit)}); max_bond={self.max_bond} truncates. Use "
                             "a gradient-free optimiser (spsa, qnspsa) or max_bond=None")
        return weighted_log_prob_grad(circuit, theta, bits, weights)

    def overlap(self, circuit: Circuit, theta1, theta2) -> np.ndarray:
        """``⟨ψ_θ1|ψ_θ2⟩`` complex ``(...)`` (:func:`overlap`)."""
        return overlap(circuit, theta1, theta2, max_bond=self.max_bond)

    def fidelity(self, circuit: Circuit, theta1, theta2) -> np.ndarray:
        """``|⟨ψ_θ1|ψ_θ2⟩|²`` ``(...)`` float64 (QN-SPSA's metric)."""
        return np.abs(self.overlap(circuit, theta1, theta2)) ** 2

    def most_probable(self, circuit: Circuit, theta, *, width: int = 64) -> ModeEstimate:
        """The most probable bit row by beam search, certified or not
        (:func:`most_probable`)."""
        return most_probable(circuit, theta, width=width, max_bond=self.max_bond)

    def truncation_error(self, circuit: Circuit, theta) -> float:
        """Discarded weight of the MPS of ``theta (P,)`` (0 for the exact construction)."""
        flat, _ = check_angles(_check_circuit(circuit), theta)
        return float(_compiled(circuit, self.max_bond, "truncation_error")(jnp.asarray(flat[0])))

    def __repr__(self) -> str:
        return f"MpsEngine(max_bond={self.max_bond!r})"


@functools.lru_cache(maxsize=64)
def _enumerated(circuit: Circuit, what: str) -> Callable:
    def probs(th):
        a = amplitudes(circuit, th)
        return a.real**2 + a.imag**2

    if what == "probabilities":
        return jax.jit(lambda ths: jax.lax.map(probs, ths))
    if what == "energy":
        return jax.jit(lambda ths, c: jax.lax.map(lambda th: probs(th) @ c, ths))
    vg = jax.value_and_grad(lambda th, c: probs(th) @ c)
    return jax.jit(lambda ths, c: jax.lax.map(lambda th: vg(th, c), ths))
