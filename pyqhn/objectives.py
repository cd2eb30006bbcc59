"""Training objectives on the hypernetwork distribution: MLE, ELBO and the MMD surrogate.

Everything here is a pure function of a probability vector ``q`` over bitstrings (shape
``(2**n,)`` or batched ``(..., 2**n)``, index order of :mod:`pyqhn.bits`) and of
per-bitstring tables (cost, log-likelihood, prior). Composing with any engine's
differentiable ``probabilities(circuit, theta)`` gives gradients in θ by JAX autodiff; the
sample-based SELBO has its own parameter-shift gradient (:func:`selbo_parameter_shift_grad`)
that needs only circuit samples, as on a device.

Variational-inference reading (Nepote et al., IJCNN 2025 workshop; built here from first
principles, see ``docs/vi.md``):

* likelihood: Bernoulli with the BiNN's sigmoid output, ``log p(D|w) = -N_s · C_CE(w)``
  (``C_CE`` the mean binary cross-entropy over the ``N_s`` training points);
* prior ``p(w)``: uniform over ``{0,1}^n`` by default, or factorised Bernoulli;
* ``MLE(θ)   = E_q[C(w)]`` (the original study's objective, minimised);
* ``ELBO(θ)  = E_q[log p(D|w)] - β · KL(q_θ ‖ p)  ≤ log p(D)`` (maximised);
* ``SELBO(θ) = E_q[log p(D|w)] - λ · MMD²_k(q_θ, p)`` (maximised), with the
  exponentiated-Hamming kernel ``k(x, y) = exp(-d_H(x, y) / h)``.

Sign convention: ``elbo``/``selbo_*`` return the quantity to MAXIMISE; the ``*_loss``
functions return what the optimisers MINIMISE (``negative_elbo``, ``negative_selbo_exact``).
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import jax
import jax.numpy as jnp
import numpy as np

from .bits import index_to_bits
from .checks import InputError, check_cost, check_n_qubits
from .engines.base import sample_from_probabilities
from .shot_estimators import shifted_params

__all__ = [
    "OBJECTIVES",
    "objective_loss",
    "uniform_prior",
    "bernoulli_prior",
    "log_likelihood_from_cost",
    "mle_objective",
    "kl_divergence",
    "elbo",
    "negative_elbo",
    "log_evidence",
    "posterior",
    "hamming_kernel_factor",
    "kernel_matvec",
    "hamming_kernel",
    "mmd2_exact",
    "mmd2_unbiased",
    "selbo_exact",
    "negative_selbo_exact",
    "selbo_sampled",
    "sample_from_probabilities",
    "shifted_params",
    "parameter_shift_jacobian",
    "selbo_parameter_shift_grad",
    "Objective",
    "energy_objective",
    "distribution_objective",
    "per_run_energy_objective",
    "sampled_selbo_objective",
    "make_objective",
]

#: Names accepted by the training runner and :func:`pyqhn.experiments.vi.train_vi`.
OBJECTIVES = ("mle", "elbo", "selbo", "selbo-sampled")


# --------------------------------------------------------------------------- priors


def uniform_prior(n: int) -> jax.Array:
    """Uniform prior ``p(w) = 2^{-n}`` over ``{0,1}^n``: shape ``(2**n,)``."""
    n = check_n_qubits(n)
    return jnp.full((2**n,), 2.0**-n)


def bernoulli_prior(probs) -> jax.Array:
    """Factorised Bernoulli prior ``p(w) = Π_i π_i^{w_i} (1 - π_i)^{1 - w_i}``.

    Args:
        probs: ``(n,)`` values ``π_i = P(w_i = 1)`` in ``[0, 1]``, indexed by MODEL
            parameter ``i`` (parameter 0 is the most significant bit, :mod:`pyqhn.bits`).

    Returns:
        ``(2**n,)`` probabilities in index order.
    """
    probs = np.asarray(probs, dtype=float)
    if probs.ndim != 1:
        raise ValueError(f"probs must be a 1-D array of per-parameter P(w_i=1), got {probs.shape}")
    if np.any((probs < 0) | (probs > 1)):
        raise ValueError("prior probabilities P(w_i=1) must lie in [0, 1]")
    n = check_n_qubits(probs.size)
    bits = index_to_bits(np.arange(2**n), n).astype(float)  # (2**n, n), column i = param i
    p = np.prod(np.where(bits == 1, probs, 1.0 - probs), axis=-1)
    return jnp.asarray(p)


def _prior_or_uniform(prior, size: int) -> jax.Array:
    if prior is None:
        n = int(round(np.log2(size)))
        if 2**n != size:
            raise ValueError(f"table length {size} is not a power of two")
        return uniform_prior(n)
    prior = jnp.asarray(prior)
    if prior.shape[-1] != size:
        raise ValueError(f"prior has {prior.shape[-1]} entries, expected {size} (= 2**n)")
    return prior


# --------------------------------------------------------------------------- likelihood, MLE


def log_likelihood_from_cost(cost_ce, n_samples: int) -> jax.Array:
    """Bernoulli log-likelihood table ``log p(D|w) = -N_s · C_CE(w)``.

    ``cost_ce`` is the ``(2**n,)`` table of MEAN binary cross-entropies (natural log) of the
    BiNN's sigmoid output over the ``N_s = n_samples`` training points.
    """
    if n_samples < 1:
        raise ValueError("n_samples (the training-set size N_s) must be >= 1")
    return -float(n_samples) * jnp.asarray(cost_ce)


def mle_objective(q, cost) -> jax.Array:
    """``E(θ) = Σ_w q(w) C(w)`` (minimised). ``q``: ``(..., 2**n)``; ``cost``: ``(2**n,)``."""
    return jnp.asarray(q) @ jnp.asarray(cost)


# --------------------------------------------------------------------------- KL, ELBO


def _xlogy_safe(x, y):
    """``x · log y`` with ``0 · log 0 = 0`` and finite gradients where ``x = 0``."""
    pos = x > 0
    return jnp.where(pos, x * jnp.log(jnp.where(pos, y, 1.0)), 0.0)


def kl_divergence(q, prior) -> jax.Array:
    """``KL(q ‖ p) = Σ_w q(w) log(q(w) / p(w))`` with ``0 log 0 = 0``.

    ``q``: ``(..., 2**n)``; ``prior``: ``(2**n,)``. Infinite when ``q > 0`` where ``p = 0``.
    The gradient is taken as 0 on entries with ``q(w) = 0`` (there ``∂q/∂θ = 0`` for
    ``q = |ψ|²``).
    """
    q = jnp.asarray(q)
    prior = jnp.asarray(prior)
    return jnp.sum(_xlogy_safe(q, q) - _xlogy_safe(q, prior), axis=-1)


def elbo(q, log_likelihood, prior=None, beta: float = 1.0) -> jax.Array:
    """``ELBO = Σ_w q(w) log p(D|w) - β · KL(q ‖ p)`` (maximised).

    For ``β = 1``: ``ELBO = log p(D) - KL(q ‖ p(·|D)) ≤ log p(D)``, with equality iff ``q`` is
    the posterior. ``q``: ``(..., 2**n)``; ``log_likelihood``, ``prior``: ``(2**n,)``;
    ``prior=None`` is uniform.
    """
    ll = jnp.asarray(log_likelihood)
    prior = _prior_or_uniform(prior, ll.shape[-1])
    return jnp.asarray(q) @ ll - beta * kl_divergence(q, prior)


def negative_elbo(q, log_likelihood, prior=None, beta: float = 1.0) -> jax.Array:
    """Loss ``-ELBO`` (minimised); arguments as :func:`elbo`."""
    return -elbo(q, log_likelihood, prior, beta)


def log_evidence(log_likelihood, prior=None) -> jax.Array:
    """``log p(D) = log Σ_w p(w) p(D|w)`` by enumeration (log-sum-exp)."""
    ll = jnp.asarray(log_likelihood)
    prior = _prior_or_uniform(prior, ll.shape[-1])
    return jax.scipy.special.logsumexp(ll, b=prior)


def posterior(log_likelihood, prior=None) -> jax.Array:
    """Exact posterior ``p(w|D) = p(w) p(D|w) / p(D)``: ``(2**n,)``."""
    ll = jnp.asarray(log_likelihood)
    prior = _prior_or_uniform(prior, ll.shape[-1])
    log_prior = jnp.where(prior > 0, jnp.log(jnp.where(prior > 0, prior, 1.0)), -jnp.inf)
    return jax.nn.softmax(ll + log_prior)


# --------------------------------------------------------------------------- kernel, MMD


def hamming_kernel_factor(bandwidth: float) -> jax.Array:
    """The 2×2 one-bit factor ``k_i(a, b) = exp(-[a ≠ b] / h)`` of the exponentiated-Hamming
    kernel ``k(x, y) = exp(-d_H(x, y) / h) = Π_i k_i(x_i, y_i)``."""
    if not bandwidth > 0:
        raise ValueError(f"the kernel bandwidth must be positive, got {bandwidth!r}")
    e = np.exp(-1.0 / bandwidth)
    return jnp.array([[1.0, e], [e, 1.0]])


def kernel_matvec(v, n_qubits: int, bandwidth: float) -> jax.Array:
    """``(K v)(x) = Σ_y k(x, y) v(y)`` for the exponentiated-Hamming kernel in ``O(n·2^n)``.

    Applies the 2×2 factor along each bit axis of ``v`` reshaped to ``(..., 2, ..., 2)``.
    ``v``: ``(..., 2**n)``; returns the same shape.
    """
    n = check_n_qubits(n_qubits)
    v = jnp.asarray(v)
    if v.shape[-1] != 2**n:
        raise ValueError(f"expected a last axis of length 2**{n} = {2**n}, got {v.shape}")
    lead = v.shape[:-1]
    k1 = hamming_kernel_factor(bandwidth)
    t = v.reshape(*lead, *(2,) * n)
    nl = len(lead)
    for a in range(n):
        # k1 is symmetric, so contracting either index is the same
        t = jnp.moveaxis(jnp.tensordot(t, k1, axes=([nl + a], [0])), -1, nl + a)
    return t.reshape(*lead, 2**n)


def hamming_kernel(x_bits, y_bits, bandwidth: float) -> jax.Array:
    """Gram matrix ``exp(-d_H(x_a, y_b) / h)`` of bit rows ``(A, n)`` and ``(B, n)``: ``(A, B)``."""
    x = jnp.asarray(x_bits)
    y = jnp.asarray(y_bits)
    d = jnp.sum(x[:, None, :] != y[None, :, :], axis=-1)
    return jnp.exp(-d / bandwidth)


def mmd2_exact(q, p, n_qubits: int, bandwidth: float = 1.0) -> jax.Array:
    """``MMD²_k(q, p) = (q - p)ᵀ K (q - p) ≥ 0`` exactly, in ``O(n·2^n)``.

    ``q``: ``(..., 2**n)``; ``p``: ``(2**n,)`` (or broadcastable). ``K`` is the
    exponentiated-Hamming kernel with bandwidth ``h``, which is positive definite (a
    tensor product of the positive definite 2×2 factors), so ``MMD² = 0`` iff ``q = p``.
    """
    d = jnp.asarray(q) - jnp.asarray(p)
    return jnp.sum(d * kernel_matvec(d, n_qubits, bandwidth), axis=-1)


def _as_bits(samples, n_qubits: int | None) -> np.ndarray:
    s = np.asarray(samples)
    if s.ndim == 1:
        if n_qubits is None:
            raise ValueError("integer index samples need n_qubits to be converted to bit rows")
        return index_to_bits(s, n_qubits)
    if s.ndim == 2:
        return s
    raise ValueError(f"samples must be (m,) int indices or (m, n) bit rows, got {s.shape}")


def _offdiag_mean(gram) -> jax.Array:
    m = gram.shape[0]
    return (jnp.sum(gram) - jnp.trace(gram)) / (m * (m - 1))


def mmd2_unbiased(
    samples_q, samples_p, bandwidth: float = 1.0, n_qubits: int | None = None
) -> jax.Array:
    """Unbiased U-statistic estimate of ``MMD²_k(q, p)`` from i.i.d. samples.

    ``MMD²_u = 1/(m(m-1)) Σ_{a≠b} k(x_a,x_b) + 1/(l(l-1)) Σ_{a≠b} k(y_a,y_b)
    - 2/(m l) Σ_{a,b} k(x_a,y_b)``, with ``x ~ q`` (``m`` samples) and ``y ~ p`` (``l``).
    Samples are ``(m,)`` int indices (then ``n_qubits`` is required) or ``(m, n)`` bit rows.
    Can be negative; its mean is the exact MMD² (Gretton et al., JMLR 2012, Lemma 6).
    """
    x = _as_bits(samples_q, n_qubits)
    y = _as_bits(samples_p, n_qubits)
    if x.shape[0] < 2 or y.shape[0] < 2:
        raise ValueError("the U-statistic needs at least 2 samples from each distribution")
    return _mmd2_u_bits(jnp.asarray(x), jnp.asarray(y), float(bandwidth))


@jax.jit
def _mmd2_u_bits(x, y, bandwidth):
    kxx = _offdiag_mean(hamming_kernel(x, x, bandwidth))
    kyy = _offdiag_mean(hamming_kernel(y, y, bandwidth))
    kxy = jnp.mean(hamming_kernel(x, y, bandwidth))
    return kxx + kyy - 2.0 * kxy


# --------------------------------------------------------------------------- SELBO


def selbo_exact(
    q, log_likelihood, prior=None, lam: float = 1.0, bandwidth: float = 1.0
) -> jax.Array:
    """``SELBO = Σ_w q(w) log p(D|w) - λ · MMD²_k(q, p)`` from the full ``q`` (maximised).

    ``q``: ``(..., 2**n)``; ``log_likelihood``, ``prior``: ``(2**n,)``; ``prior=None`` is
    uniform; ``bandwidth`` is the ``h`` of ``k(x, y) = exp(-d_H(x, y)/h)``.
    """
    ll = jnp.asarray(log_likelihood)
    n = int(round(np.log2(ll.shape[-1])))
    prior = _prior_or_uniform(prior, ll.shape[-1])
    return jnp.asarray(q) @ ll - lam * mmd2_exact(q, prior, n, bandwidth)


def negative_selbo_exact(
    q, log_likelihood, prior=None, lam: float = 1.0, bandwidth: float = 1.0
) -> jax.Array:
    """Loss ``-SELBO`` (minimised); arguments as :func:`selbo_exact`."""
    return -selbo_exact(q, log_likelihood, prior, lam, bandwidth)


def selbo_sampled(
    samples_q,
    samples_p,
    log_likelihood,
    lam: float = 1.0,
    bandwidth: float = 1.0,
) -> jax.Array:
    """Unbiased sample estimate of the SELBO (maximised).

    ``mean_a log p(D|x_a) - λ · MMD²_u`` with ``x_a ~ q_θ`` the ``(m,)`` int index samples
    of the circuit and ``y_b ~ p`` the ``(l,)`` prior samples. ``log_likelihood`` is the
    ``(2**n,)`` table (on a device, evaluate the BiNN at the sampled ``w`` instead).
    """
    ll = jnp.asarray(log_likelihood)
    n = int(round(np.log2(ll.shape[-1])))
    sq = np.asarray(samples_q)
    return jnp.mean(ll[sq]) - lam * mmd2_unbiased(sq, samples_p, bandwidth, n)


# --------------------------------------------------------------------------- sampling


def parameter_shift_jacobian(
    probabilities: Callable[[np.ndarray], np.ndarray], theta
) -> np.ndarray:
    """Exact ``∂q(w)/∂θ_i = ½ [q_{θ+π/2·e_i}(w) - q_{θ-π/2·e_i}(w)]``: ``(P, 2**n)``.

    Valid for circuits in which every angle enters one gate ``exp(-iθσ/2)`` with ``σ² = 1``
    (the Ry/Rz of :mod:`pyqhn.circuits`). ``probabilities`` maps ``(..., P)`` to
    ``(..., 2**n)``.
    """
    shifted = shifted_params(theta)
    q = np.asarray(probabilities(shifted))
    return 0.5 * (q[0] - q[1])


def _hamming_distance(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Broadcast Hamming distance of int64 indices: popcount of ``a XOR b``."""
    x = np.bitwise_xor(a, b)
    if hasattr(np, "bitwise_count"):
        return np.bitwise_count(x)
    x = x.astype(np.uint64)
    count = np.zeros(x.shape, dtype=np.int64)  # numpy < 2.0
    while np.any(x):
        count += (x & np.uint64(1)).astype(np.int64)
        x = x >> np.uint64(1)
    return count


def _mmd2_u_indices(x: np.ndarray, y: np.ndarray, kvals: np.ndarray) -> float:
    """NumPy U-statistic on ``(m,)`` and ``(l,)`` int indices; ``kvals[d] = k`` at distance d."""
    m, l_ = x.size, y.size
    kxx = (kvals[_hamming_distance(x[:, None], x[None, :])].sum() - m) / (m * (m - 1))
    kyy = (kvals[_hamming_distance(y[:, None], y[None, :])].sum() - l_) / (l_ * (l_ - 1))
    kxy = kvals[_hamming_distance(x[:, None], y[None, :])].mean()
    return float(kxx + kyy - 2.0 * kxy)


def selbo_parameter_shift_grad(
    sampler: Callable[[np.ndarray, int, int], np.ndarray],
    theta,
    log_likelihood,
    prior_samples,
    n_samples: int = 100,
    lam: float = 1.0,
    bandwidth: float = 1.0,
    seed: int = 0,
) -> tuple[np.ndarray, np.ndarray]:
    """Sample-only estimate of the SELBO and of its gradient ``∂SELBO/∂θ`` (maximised).

    With ``q_i^± = q_{θ ± π/2·e_i}`` and ``∂_i q = ½ (q_i^+ - q_i^-)`` (parameter shift),
    and ``∂_i E_{q⊗q} k = 2 E_{∂_i q ⊗ q} k`` (product rule),

    ``∂_i SELBO = ½ (E_{q_i^+} ll - E_{q_i^-} ll)
    - λ [E_{q_i^+ ⊗ q} k - E_{q_i^- ⊗ q} k - E_{q_i^+ ⊗ p} k + E_{q_i^- ⊗ p} k]``.

    Each expectation is a mean over independent sample sets (``n_samples`` shots of each
    shifted circuit, ``n_samples`` shots of the unshifted one, the given prior samples), so
    the gradient estimate is unbiased. The returned SELBO value is :func:`selbo_sampled` on
    the unshifted shots. One ``sampler`` call draws all ``R·(1 + 2P)·n_samples`` shots.

    Args:
        sampler: ``sampler(theta (..., P), n_samples, seed) -> int64 (..., n_samples)``, e.g.
            :func:`pyqhn.shot_estimators.engine_sampler` of an engine, or
            :func:`pyqhn.interop.qiskit_sampler` of a device.
        theta: ``(P,)`` angles, or ``(R, P)`` for ``R`` independent circuits.
        log_likelihood: ``(2**n,)`` table of ``log p(D|w)``.
        prior_samples: int indices drawn from the prior, ``(l,)`` (shared) or ``(R, l)``
            (one set per circuit); ``l ≥ 2``.

    Returns:
        ``(selbo_estimate, grad)``: shapes ``()`` and ``(P,)``, or ``(R,)`` and ``(R, P)``.
    """
    theta = np.asarray(theta, dtype=float)
    single = theta.ndim == 1
    theta = np.atleast_2d(theta)
    n_runs, p_dim = theta.shape
    ll = np.asarray(log_likelihood, dtype=float)
    n = int(round(np.log2(ll.size)))
    e = float(hamming_kernel_factor(bandwidth)[0, 1])  # validates the bandwidth
    kvals = e ** np.arange(n + 1)
    prior_idx = np.asarray(prior_samples, dtype=np.int64)
    if prior_idx.ndim == 1:
        prior_idx = np.broadcast_to(prior_idx, (n_runs, prior_idx.size))
    if prior_idx.ndim != 2 or prior_idx.shape[0] != n_runs:
        raise ValueError(
            f"prior_samples must be int indices (l,) or (R, l) with R = {n_runs}, "
            f"got shape {prior_idx.shape}"
        )
    if prior_idx.shape[-1] < 2 or n_samples < 2:
        raise ValueError("the U-statistic needs at least 2 shots and 2 prior samples")
    # θ, then θ + π/2·e_i, then θ − π/2·e_i (the one shift rule): (R, 1 + 2P, P)
    points = np.concatenate([theta[:, None, :],
                             shifted_params(theta).reshape(n_runs, 2 * p_dim, p_dim)], axis=1)
    shots = np.asarray(sampler(points, n_samples, seed)).reshape(n_runs, 1 + 2 * p_dim, -1)
    values = np.empty(n_runs)
    grads = np.empty((n_runs, p_dim))
    for r in range(n_runs):
        base, shifted, prior_r = shots[r, 0], shots[r, 1:], prior_idx[r]
        # E_{q_i^± ⊗ q} k and E_{q_i^± ⊗ p} k: (2P,)
        k_base = kvals[_hamming_distance(shifted[:, :, None], base[None, None, :])]
        k_prior = kvals[_hamming_distance(shifted[:, :, None], prior_r[None, None, :])]
        k_base, k_prior = k_base.mean(axis=(1, 2)), k_prior.mean(axis=(1, 2))
        e_ll = ll[shifted].mean(axis=-1)
        d_ll = 0.5 * (e_ll[:p_dim] - e_ll[p_dim:])
        d_mmd = (k_base[:p_dim] - k_base[p_dim:]) - (k_prior[:p_dim] - k_prior[p_dim:])
        grads[r] = d_ll - lam * d_mmd
        values[r] = ll[base].mean() - lam * _mmd2_u_indices(base, prior_r, kvals)
    if single:
        return values[0], grads[0]
    return values, grads


# --------------------------------------------------------------------------- selection


def objective_loss(
    name: str,
    cost,
    n_train: int,
    *,
    prior=None,
    beta: float = 1.0,
    lam: float = 1.0,
    bandwidth: float = 1.0,
) -> Callable[[jax.Array], jax.Array]:
    """The loss ``q (..., 2**n) -> (...)`` that a runner minimises, selected by name.

    ``cost`` is the ``(2**n,)`` mean cross-entropy table ``C_CE`` on ``n_train`` points, so
    ``log p(D|w) = -n_train · C_CE``. Losses are divided by ``n_train``:

    * ``"mle"``:   ``E_q[C_CE]``;
    * ``"elbo"``:  ``-ELBO / N_s = E_q[C_CE] + β·KL(q ‖ p) / N_s``;
    * ``"selbo"``: ``-SELBO / N_s = E_q[C_CE] + λ·MMD²(q, p) / N_s`` (exact).

    ``"selbo-sampled"`` has no loss of ``q``: use :func:`selbo_parameter_shift_grad`.
    Example: ``loss = objective_loss("elbo", ce, 100)``;
    ``jax.grad(lambda t: loss(exact.probabilities(circuit, t)))(theta)``.
    """
    cost = jnp.asarray(cost)
    ll = log_likelihood_from_cost(cost, n_train)
    prior = _prior_or_uniform(prior, cost.shape[-1])
    if name == "mle":
        return lambda q: mle_objective(q, cost)
    if name == "elbo":
        return lambda q: negative_elbo(q, ll, prior, beta) / n_train
    if name == "selbo":
        return lambda q: negative_selbo_exact(q, ll, prior, lam, bandwidth) / n_train
    if name == "selbo-sampled":
        raise ValueError(
            "'selbo-sampled' is estimated from circuit shots, not from q: use "
            "selbo_parameter_shift_grad(sampler, theta, ...) for its value and gradient"
        )
    raise ValueError(f"unknown objective {name!r}; choose one of {OBJECTIVES}")


# --------------------------------------------------------------------------- for the driver


@dataclass(frozen=True)
class Objective:
    """What the driver minimises for one circuit.

    ``bind(runs)`` returns the batched function the optimiser calls for the runs ``runs``
    ``(B,)``: ``x (B, P) -> (B,)`` values, or ``-> ((B,), (B, P))`` values and gradients
    when ``uses_gradient``. ``per_run``: row ``i`` uses data of run ``runs[i]`` (one cost
    table per run), so every call passes all ``B`` rows in order. ``any_batch_size``: the
    bound function takes any number of rows without compiling again (its engine's
    :attr:`~pyqhn.engines.base.Engine.any_batch_size`), so the driver passes exactly the
    rows asked for instead of padding every call to ``B``.
    """

    name: str
    uses_gradient: bool
    bind: Callable[[np.ndarray], Callable]
    per_run: bool = False
    any_batch_size: bool = False


def energy_objective(engine, circuit, cost, *, gradient: bool = True) -> Objective:
    """``E(θ) = Σ_k p_θ(k) C[k]`` from ``engine`` (noisy for a density engine with noise);
    the cost is validated once."""
    fn = (engine.energy_and_grad_fn(circuit, cost) if gradient
          else engine.energy_fn(circuit, cost))
    return Objective("mle", gradient, lambda runs: fn,
                     any_batch_size=bool(getattr(engine, "any_batch_size", False)))


def _jax_batched(single: Callable) -> Callable:
    batched = jax.jit(jax.vmap(single))

    def fn(x: np.ndarray, *args):
        out = batched(jnp.asarray(x, dtype=jnp.float64), *args)
        return tuple(np.asarray(o) for o in out) if isinstance(out, tuple) else np.asarray(out)

    return fn


def distribution_objective(name: str, engine, circuit, cost, n_train: int, *, prior=None,
                           beta: float = 1.0, lam: float = 1.0,
                           bandwidth: float = 1.0) -> Objective:
    """A loss of the whole distribution ``q_θ`` (:func:`objective_loss`: ``mle``, ``elbo``,
    ``selbo``), differentiated through the engine's JAX probabilities."""
    loss = objective_loss(name, check_cost(cost, circuit.n_qubits), n_train, prior=prior,
                          beta=beta, lam=lam, bandwidth=bandwidth)
    probs = engine.jax_probabilities(circuit)
    fn = _jax_batched(jax.value_and_grad(lambda th: loss(probs(th))))
    return Objective(name, True, lambda runs: fn)


def per_run_energy_objective(engine, circuit, costs, *, gradient: bool = True) -> Objective:
    """``E_r(θ) = Σ_k p_θ(k) C_r[k]`` with one cost table per run: ``costs (R, 2**n)``,
    row ``r`` for run ``r`` (Fig. 7: one training set per dataset draw)."""
    costs = np.asarray(costs, dtype=np.float64)
    for row in costs:
        check_cost(row, circuit.n_qubits)
    probs = engine.jax_probabilities(circuit)

    def energy(th, c):
        return jnp.sum(probs(th) * c)

    fn = _jax_batched(jax.value_and_grad(energy) if gradient else energy)
    table = jnp.asarray(costs)
    return Objective("mle", gradient, lambda runs: lambda x: fn(x, table[jnp.asarray(runs)]),
                     per_run=True)


def sampled_selbo_objective(engine, circuit, log_likelihood, prior, *, shots: int,
                            lam: float, bandwidth: float, n_train: int,
                            seed: int, sampler: Callable | None = None) -> Objective:
    """``-SELBO / n_train`` estimated from ``shots`` circuit shots per point (device-style):
    value by the U-statistic, gradient by the parameter-shift rule
    (:func:`selbo_parameter_shift_grad`), with fresh prior samples at every call. Each
    bound function draws from one generator seeded ``seed``. ``sampler``: the shot source
    (default the engine's; :func:`pyqhn.interop.qiskit_sampler` for Qiskit)."""
    from .shot_estimators import engine_sampler

    sampler = sampler or engine_sampler(engine, circuit)
    ll = np.asarray(log_likelihood, dtype=np.float64)
    prior = np.asarray(prior, dtype=np.float64)

    def bind(runs: np.ndarray) -> Callable:
        rng = np.random.default_rng(seed)

        def fn(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
            prior_samples = sample_from_probabilities(
                np.broadcast_to(prior, (x.shape[0], prior.size)), shots, seed=rng)
            value, grad = selbo_parameter_shift_grad(
                sampler, x, ll, prior_samples, n_samples=shots, lam=lam,
                bandwidth=bandwidth, seed=int(rng.integers(2**62)))
            return -np.asarray(value) / n_train, -np.asarray(grad) / n_train

        return fn

    return Objective("selbo-sampled", True, bind)


def make_objective(name: str, engine, circuit, cost, *, n_train: int | None = None,
                   gradient: bool = True) -> Objective:
    """The named objective on a cost table: ``"mle"`` (the energy, any engine) or
    ``"elbo"`` / ``"selbo"`` (differentiable engines; ``n_train`` training points)."""
    if name == "mle":
        return energy_objective(engine, circuit, cost, gradient=gradient)
    if name in ("elbo", "selbo"):
        if not gradient:
            raise InputError(f"the {name} objective is trained with gradients; use a "
                             "gradient-based optimiser (lbfgs, adam)")
        if n_train is None or int(n_train) < 1:
            raise InputError(
                f"the {name!r} objective needs n_train, the number of training points the "
                "cost table averages over (log p(D|w) = -n_train · C); pass --n-train")
        return distribution_objective(name, engine, circuit, cost, int(n_train))
    raise InputError(f"unknown objective {name!r}; choose one of mle, elbo, selbo")
