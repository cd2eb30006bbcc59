"""A classical autoregressive model over the bits, trained exactly as the circuits are.

The fair answer to "is the quantum part needed?" (variational neural annealing,
Hibat-Allah et al., Nat. Mach. Intell. 2021): a MADE (Germain et al., ICML 2015) with one
hidden layer of ``hidden`` ReLU units plus direct autoregressive connections,

``logit_d(x) = b2_d + Σ_k W2[d, k]·M2[d, k]·h_k + Σ_{d'<d} V[d, d'] x_{d'}``,
``h = relu((W1 ⊙ M1) x + b1)``, ``p(x) = Π_d σ(±logit_d(x))``,

with hidden degrees ``m_k = (k mod (N − 1)) + 1``, ``M1[k, d] = 1[m_k ≥ d + 1]``,
``M2[d, k] = 1[d + 1 > m_k]`` (bit ``d`` sees bits ``< d`` only). :class:`MadeSpec` plays
the circuit's part and :class:`MadeSampler` the engine's, with the two methods the
sampled objectives of :mod:`pyqhn.sampled_objectives` use (``sample_bits``,
``weighted_log_prob_grad``), so the MADE is trained by the very same
:func:`pyqhn.sampled_objectives.score_function_objective` and the same Adam as a circuit. The flat
parameter vector ``(P,)`` is ``W1 (H, N), b1 (H,), W2 (N, H), b2 (N,), V (N, N)``
concatenated row-major.
"""

from __future__ import annotations

import functools
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from ..checks import check_int

__all__ = ["MadeSpec", "MadeSampler", "made_start", "made_log_prob"]


@dataclass(frozen=True)
class MadeSpec:
    """Shape of a MADE over ``n_qubits`` bits with ``hidden`` hidden units."""

    n_qubits: int
    hidden: int = 32

    def __post_init__(self) -> None:
        check_int(self.n_qubits, "n_qubits", minimum=2)
        check_int(self.hidden, "hidden", minimum=1)

    @property
    def n_params(self) -> int:
        """Parameters: ``2·h·N + h + N + N²`` for ``N`` bits and ``h`` hidden units."""
        n, h = self.n_qubits, self.hidden
        return 2 * h * n + h + n + n * n

    @property
    def name(self) -> str:
        """``made(h=H)``."""
        return f"made(h={self.hidden})"


def _masks(spec: MadeSpec) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    n, h = spec.n_qubits, spec.hidden
    degree = np.arange(h) % (n - 1) + 1
    m1 = (degree[:, None] >= np.arange(1, n + 1)[None, :]).astype(np.float64)
    m2 = (np.arange(1, n + 1)[:, None] > degree[None, :]).astype(np.float64)
    return m1, m2, np.tril(np.ones((n, n)), k=-1)


def _unpack(spec: MadeSpec, theta: jax.Array):
    n, h = spec.n_qubits, spec.hidden
    sizes = [h * n, h, n * h, n, n * n]
    parts = jnp.split(theta, np.cumsum(sizes)[:-1])
    return (parts[0].reshape(h, n), parts[1], parts[2].reshape(n, h), parts[3],
            parts[4].reshape(n, n))


def _logits(spec: MadeSpec, theta: jax.Array, x: jax.Array) -> jax.Array:
    """Logits ``(S, N)`` of bits ``x (S, N)`` float."""
    m1, m2, mv = _masks(spec)
    w1, b1, w2, b2, v = _unpack(spec, theta)
    hid = jax.nn.relu(x @ (w1 * m1).T + b1)
    return hid @ (w2 * m2).T + b2 + x @ (v * mv).T


def made_log_prob(spec: MadeSpec, theta: jax.Array, bits: jax.Array) -> jax.Array:
    """``log p(x)`` ``(S,)`` of bit rows ``(S, N)``."""
    x = jnp.asarray(bits, dtype=jnp.float64)
    z = _logits(spec, theta, x)
    return jnp.sum(x * jax.nn.log_sigmoid(z) + (1 - x) * jax.nn.log_sigmoid(-z), axis=1)


@functools.lru_cache(maxsize=16)
def _compiled(spec: MadeSpec, what: str):
    if what == "sample":
        def sample(theta, u):
            def body(d, x):
                z = _logits(spec, theta, x)
                return x.at[:, d].set((u[:, d] < jax.nn.sigmoid(z[:, d])).astype(x.dtype))
            return jax.lax.fori_loop(0, spec.n_qubits, body, jnp.zeros_like(u))
        return jax.jit(sample)

    def weighted(theta, bits, w):
        return jnp.sum(w * made_log_prob(spec, theta, bits))
    return jax.jit(jax.value_and_grad(weighted))


class MadeSampler:
    """The MADE as the sampled objectives' engine: exact samples and score kernels."""

    name = "made"

    def sample_bits(self, spec: MadeSpec, theta, n_shots: int, *, seed: int = 0) -> np.ndarray:
        """Bit rows ``(..., n_shots, N)`` uint8 by ancestral sampling (uniforms from
        ``default_rng(seed)``, one stream per parameter set in order)."""
        theta = np.asarray(theta, dtype=np.float64)
        lead = theta.shape[:-1]
        flat = theta.reshape(-1, spec.n_params)
        rng = np.random.default_rng(int(seed))
        fn = _compiled(spec, "sample")
        out = np.stack([np.asarray(fn(jnp.asarray(t), jnp.asarray(
            rng.random((int(n_shots), spec.n_qubits))))) for t in flat])
        return out.astype(np.uint8).reshape(lead + (int(n_shots), spec.n_qubits))

    def weighted_log_prob_grad(self, spec: MadeSpec, theta, bits, weights
                               ) -> tuple[float, np.ndarray]:
        """``(Σ_s c_s log p(w_s), Σ_s c_s ∇ log p(w_s))`` for ``bits (S, N)``, ``c (S,)``."""
        v, g = _compiled(spec, "grad")(jnp.asarray(theta, dtype=jnp.float64),
                                       jnp.asarray(bits, dtype=jnp.float64),
                                       jnp.asarray(weights, dtype=jnp.float64))
        return float(v), np.asarray(g)

    def most_probable_greedy(self, spec: MadeSpec, theta) -> np.ndarray:
        """The bit row built by taking the likelier bit at every step ``(N,)`` uint8 (an
        approximation of the mode, as a beam of width 1)."""
        u = np.full((1, spec.n_qubits), 0.5)
        return self_sample(spec, theta, u)[0]


def self_sample(spec: MadeSpec, theta, u: np.ndarray) -> np.ndarray:
    """Ancestral sampling with given uniforms ``u (S, N)`` → bits ``(S, N)`` uint8."""
    fn = _compiled(spec, "sample")
    return np.asarray(fn(jnp.asarray(theta, dtype=jnp.float64), jnp.asarray(u))).astype(np.uint8)


def made_start(spec: MadeSpec, seed: int, runs: np.ndarray, scale: float = 0.01) -> np.ndarray:
    """Starting parameters ``(B, P)``: run ``r`` draws ``N(0, scale²)`` from
    ``default_rng([seed + r, 3])`` (nearly uniform distributions, as random circuits)."""
    return np.stack([np.random.default_rng([seed + int(r), 3]).normal(0.0, scale, spec.n_params)
                     for r in runs])
