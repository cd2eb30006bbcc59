"""Tests of the MLE / ELBO / SELBO objectives (pyqhn.objectives)."""

from __future__ import annotations

import itertools

import jax
import jax.numpy as jnp
import numpy as np
import pytest

import pyqhn  # noqa: F401  (enables x64)
from pyqhn import objectives as ob
from pyqhn.bits import index_to_bits
from pyqhn.circuits import brickwork_circuit, random_params
from pyqhn.engines.reference import reference_state


def _logistic_ce_table(n_weights: int, n_points: int, seed: int) -> tuple[np.ndarray, int]:
    """Mean cross-entropy table of a binary logistic regression (weights in {-1, 1} and a
    bias) on random 2-class data, in index order: ``(2**(n_weights+1),)``."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n_points, n_weights))
    y = (x @ rng.normal(size=n_weights) + 0.3 * rng.normal(size=n_points) > 0).astype(float)
    n = n_weights + 1
    bits = index_to_bits(np.arange(2**n), n).astype(float)
    w = 2 * bits - 1  # (2**n, n): model parameters, last one is the bias
    logits = w[:, :-1] @ x.T + w[:, -1:]
    ce = np.logaddexp(0, logits) - y * logits  # -[y log σ + (1-y) log(1-σ)]
    return ce.mean(axis=1), n_points


def _random_q(rng: np.random.Generator, size: int, batch: tuple = ()) -> np.ndarray:
    q = rng.random(batch + (size,)) ** 3
    return q / q.sum(axis=-1, keepdims=True)


def _ref_probabilities(circuit):
    def probs(theta):
        theta = np.asarray(theta)
        flat = theta.reshape(-1, theta.shape[-1])
        q = np.stack([np.abs(reference_state(circuit, t)) ** 2 for t in flat])
        return q.reshape(theta.shape[:-1] + (q.shape[-1],))

    return probs


# --------------------------------------------------------------------------- priors, KL


def test_bernoulli_prior_follows_bit_order():
    probs = np.array([0.9, 0.2, 0.6])
    p = np.asarray(ob.bernoulli_prior(probs))
    assert p.sum() == pytest.approx(1.0)
    for k in range(8):
        b = index_to_bits(k, 3)
        assert p[k] == pytest.approx(np.prod(np.where(b == 1, probs, 1 - probs)))
    # model parameter 0 is the most significant bit
    delta = np.asarray(ob.bernoulli_prior([1.0, 0.0, 0.0]))
    assert delta[4] == 1.0 and delta.sum() == 1.0
    np.testing.assert_allclose(ob.bernoulli_prior([0.5] * 4), ob.uniform_prior(4))


def test_kl_nonnegative_zero_on_equal_and_finite_gradient_with_zeros():
    rng = np.random.default_rng(0)
    p = _random_q(rng, 16)
    q = _random_q(rng, 16, (5,))
    kl = np.asarray(ob.kl_divergence(q, p))
    assert kl.shape == (5,) and np.all(kl > 0)
    assert float(ob.kl_divergence(p, p)) == pytest.approx(0.0, abs=1e-14)
    q0 = np.zeros(16)
    q0[[1, 5]] = [0.25, 0.75]
    expected = 0.25 * np.log(0.25 / p[1]) + 0.75 * np.log(0.75 / p[5])
    assert float(ob.kl_divergence(q0, p)) == pytest.approx(expected)
    g = jax.grad(lambda v: ob.kl_divergence(v, p))(jnp.asarray(q0))
    assert np.all(np.isfinite(g))


# --------------------------------------------------------------------------- ELBO


@pytest.mark.parametrize("prior_kind", ["uniform", "bernoulli"])
def test_elbo_bounded_by_log_evidence_with_equality_at_posterior(prior_kind):
    ce, n_s = _logistic_ce_table(n_weights=4, n_points=12, seed=1)
    n = 5
    ll = ob.log_likelihood_from_cost(ce, n_s)
    prior = None if prior_kind == "uniform" else ob.bernoulli_prior([0.3, 0.7, 0.5, 0.2, 0.6])
    p = ob.uniform_prior(n) if prior is None else prior
    # log evidence by explicit enumeration, independent of the function under test
    log_z = np.log(np.sum(np.asarray(p) * np.exp(np.asarray(ll))))
    assert float(ob.log_evidence(ll, prior)) == pytest.approx(log_z, rel=1e-12)

    rng = np.random.default_rng(2)
    q = _random_q(rng, 2**n, (50,))
    e = np.asarray(ob.elbo(q, ll, prior))
    assert e.shape == (50,)
    assert np.all(e < log_z)
    # ELBO = log p(D) - KL(q || posterior)
    post = np.asarray(ob.posterior(ll, prior))
    assert post.sum() == pytest.approx(1.0)
    np.testing.assert_allclose(e, log_z - np.asarray(ob.kl_divergence(q, post)), rtol=1e-10)
    assert float(ob.elbo(post, ll, prior)) == pytest.approx(log_z, abs=1e-10)
    assert float(ob.negative_elbo(post, ll, prior)) == pytest.approx(-log_z, abs=1e-10)
    # the posterior maximises the ELBO: any perturbation lowers it
    for _ in range(5):
        pert = np.abs(post + 1e-3 * rng.normal(size=post.shape))
        assert float(ob.elbo(pert / pert.sum(), ll, prior)) < log_z


def test_objective_loss_selects_normalised_losses():
    ce, n_s = _logistic_ce_table(n_weights=3, n_points=8, seed=15)
    rng = np.random.default_rng(16)
    q = _random_q(rng, 16, (2,))
    ll = ob.log_likelihood_from_cost(ce, n_s)
    prior = ob.bernoulli_prior([0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(ob.objective_loss("mle", ce, n_s)(q), q @ ce)
    np.testing.assert_allclose(
        ob.objective_loss("elbo", ce, n_s, prior=prior, beta=2.0)(q),
        -np.asarray(ob.elbo(q, ll, prior, 2.0)) / n_s,
    )
    np.testing.assert_allclose(
        ob.objective_loss("selbo", ce, n_s, lam=3.0, bandwidth=0.5)(q),
        q @ ce + 3.0 * np.asarray(ob.mmd2_exact(q, ob.uniform_prior(4), 4, 0.5)) / n_s,
    )
    for bad in ("selbo-sampled", "kl"):
        with pytest.raises(ValueError):
            ob.objective_loss(bad, ce, n_s)


def test_mle_and_beta_zero_elbo_agree():
    ce, n_s = _logistic_ce_table(n_weights=3, n_points=8, seed=3)
    rng = np.random.default_rng(4)
    q = _random_q(rng, 16, (3,))
    ll = ob.log_likelihood_from_cost(ce, n_s)
    np.testing.assert_allclose(ob.mle_objective(q, ce), q @ ce)
    np.testing.assert_allclose(ob.elbo(q, ll, beta=0.0), -n_s * (q @ ce))


# --------------------------------------------------------------------------- MMD


def _gram(n: int, bandwidth: float) -> np.ndarray:
    bits = index_to_bits(np.arange(2**n), n)
    d = (bits[:, None, :] != bits[None, :, :]).sum(-1)
    return np.exp(-d / bandwidth)


@pytest.mark.parametrize("bandwidth", [0.5, 2.0])
def test_mmd2_exact_matches_gram_matrix_and_is_nonnegative(bandwidth):
    n = 5
    rng = np.random.default_rng(5)
    p = _random_q(rng, 2**n)
    q = _random_q(rng, 2**n, (4, 3))
    m = np.asarray(ob.mmd2_exact(q, p, n, bandwidth))
    d = q - p
    brute = np.einsum("...i,ij,...j->...", d, _gram(n, bandwidth), d)
    np.testing.assert_allclose(m, brute, rtol=1e-10, atol=1e-15)
    assert m.shape == (4, 3) and np.all(m > 0)
    assert float(ob.mmd2_exact(p, p, n, bandwidth)) == pytest.approx(0.0, abs=1e-15)
    v = rng.normal(size=(2, 2**n))
    np.testing.assert_allclose(ob.kernel_matvec(v, n, bandwidth), v @ _gram(n, bandwidth))


def test_mmd2_unbiased_accepts_indices_and_bits_and_is_zero_mean_when_q_equals_p():
    n = 3
    rng = np.random.default_rng(6)
    x = rng.integers(0, 8, 10)
    y = rng.integers(0, 8, 7)
    a = float(ob.mmd2_unbiased(x, y, 1.5, n_qubits=n))
    b = float(ob.mmd2_unbiased(index_to_bits(x, n), index_to_bits(y, n), 1.5))
    assert a == pytest.approx(b)
    # brute force U-statistic
    k = _gram(n, 1.5)
    kxx = (k[np.ix_(x, x)].sum() - np.trace(k[np.ix_(x, x)])) / (10 * 9)
    kyy = (k[np.ix_(y, y)].sum() - np.trace(k[np.ix_(y, y)])) / (7 * 6)
    assert a == pytest.approx(kxx + kyy - 2 * k[np.ix_(x, y)].mean())


@pytest.mark.parametrize("same", [False, True])
def test_mmd2_u_statistic_mean_converges_to_exact(same):
    n, bandwidth, m, seeds = 4, 1.0, 20, 600
    rng = np.random.default_rng(7)
    p = _random_q(rng, 2**n)
    q = p if same else _random_q(rng, 2**n)
    exact = float(ob.mmd2_exact(q, p, n, bandwidth))
    gram = _gram(n, bandwidth)
    est, vstat = [], []
    for s in range(seeds):
        x = ob.sample_from_probabilities(q, m, seed=np.random.default_rng(2 * s))
        y = ob.sample_from_probabilities(p, m, seed=np.random.default_rng(2 * s + 1))
        est.append(float(ob.mmd2_unbiased(x, y, bandwidth, n_qubits=n)))
        hx, hy = np.bincount(x, minlength=2**n) / m, np.bincount(y, minlength=2**n) / m
        vstat.append((hx - hy) @ gram @ (hx - hy))  # plug-in estimate, biased by O(1/m)
    est, vstat = np.array(est), np.array(vstat)
    se = est.std(ddof=1) / np.sqrt(seeds)
    assert abs(est.mean() - exact) < 4 * se
    # the test has the power to see a bias of the plug-in estimator's size
    assert vstat.mean() - exact > 8 * se
    if same:
        assert exact == 0.0


def test_sampler_histogram_matches_probabilities():
    rng = np.random.default_rng(8)
    q = _random_q(rng, 8, (2,))
    s = ob.sample_from_probabilities(q, 20000, seed=np.random.default_rng(9))
    assert s.shape == (2, 20000) and s.dtype == np.int64
    for row in range(2):
        counts = np.bincount(s[row], minlength=8)
        expected = 20000 * q[row]
        chi2 = np.sum((counts - expected) ** 2 / expected)
        assert chi2 < 30.0  # 7 degrees of freedom: p-value ~1e-4


# --------------------------------------------------------------------------- gradients


def test_parameter_shift_jacobian_matches_finite_differences():
    circuit = brickwork_circuit(3, 2)
    theta = random_params(circuit, seed=10)
    probs = _ref_probabilities(circuit)
    jac = ob.parameter_shift_jacobian(probs, theta)
    eps = 1e-6
    fd = np.stack([
        (probs(theta + eps * e) - probs(theta - eps * e)) / (2 * eps)
        for e in np.eye(theta.size)
    ])
    np.testing.assert_allclose(jac, fd, atol=1e-8)


def test_sampled_selbo_and_its_parameter_shift_gradient_are_unbiased():
    circuit = brickwork_circuit(3, 2)
    theta = random_params(circuit, seed=11)
    probs = _ref_probabilities(circuit)
    ce, n_s = _logistic_ce_table(n_weights=2, n_points=5, seed=12)
    ll = np.asarray(ob.log_likelihood_from_cost(ce, n_s))
    prior = np.asarray(ob.bernoulli_prior([0.3, 0.6, 0.8]))
    lam, bandwidth = 5.0, 1.0

    # exact gradient: exact parameter-shift Jacobian (checked above) chained with ∇_q SELBO
    q = probs(theta)
    dq = ob.parameter_shift_jacobian(probs, theta)
    grad_q = jax.grad(lambda v: ob.selbo_exact(v, ll, prior, lam, bandwidth))(jnp.asarray(q))
    exact_grad = dq @ np.asarray(grad_q)
    exact_value = float(ob.selbo_exact(q, ll, prior, lam, bandwidth))
    assert np.linalg.norm(exact_grad) > 0.1

    # 200 independent repetitions as one batch of identical circuits (batched API); the
    # sampler evaluates the 2P + 1 distinct circuits once and draws fresh shots per row
    reps = 200
    eye = np.eye(theta.size) * np.pi / 2
    points_expected = theta[None] + np.concatenate([np.zeros((1, theta.size)), eye, -eye])
    cached = probs(points_expected)

    def sampler(points, n_samples, seed):
        np.testing.assert_allclose(points, np.broadcast_to(points_expected, points.shape))
        q = np.broadcast_to(cached, points.shape[:-1] + cached.shape[-1:])
        return ob.sample_from_probabilities(q, n_samples, seed=np.random.default_rng(seed))

    prior_samples = ob.sample_from_probabilities(
        np.broadcast_to(prior, (reps, prior.size)), 50, seed=np.random.default_rng(99)
    )
    values, grads = ob.selbo_parameter_shift_grad(
        sampler, np.tile(theta, (reps, 1)), ll, prior_samples, n_samples=50, lam=lam,
        bandwidth=bandwidth, seed=5,
    )
    grads = np.array(grads)
    mean, se = grads.mean(0), grads.std(0, ddof=1) / np.sqrt(len(grads))
    assert grads.shape == (reps, circuit.n_params)
    z = (mean - exact_grad) / se
    assert np.all(np.abs(z) < 4.5), z
    # and the estimate is informative: it points along the exact gradient
    assert mean @ exact_grad > 0.9 * np.linalg.norm(mean) * np.linalg.norm(exact_grad)
    values = np.array(values)
    assert abs(values.mean() - exact_value) < 4.5 * values.std(ddof=1) / np.sqrt(len(values))


def test_parameter_shift_grad_batched_equals_per_circuit():
    n, p_dim, m = 4, 3, 6
    rng = np.random.default_rng(17)
    shots = rng.integers(0, 2**n, (2, 1 + 2 * p_dim, m))
    prior_samples = rng.integers(0, 2**n, (2, 5))
    ll = -rng.random(2**n)
    theta = rng.uniform(0, 6, (2, p_dim))

    def stub(lookup, expected_theta):
        def sampler(points, n_samples, seed):
            assert points.shape[-2:] == (1 + 2 * p_dim, p_dim) and n_samples == m
            # the first point is unshifted, then +π/2 and -π/2 on one angle each
            np.testing.assert_allclose(points[..., 0, :].reshape(-1, p_dim),
                                       np.reshape(expected_theta, (-1, p_dim)))
            np.testing.assert_allclose(points[..., 1, 0] - points[..., 0, 0], np.pi / 2)
            np.testing.assert_allclose(points[..., 1 + p_dim, 0] - points[..., 0, 0], -np.pi / 2)
            return lookup

        return sampler

    vb, gb = ob.selbo_parameter_shift_grad(
        stub(shots, theta), theta, ll, prior_samples, m, 2.0, 0.8
    )
    assert vb.shape == (2,) and gb.shape == (2, p_dim)
    for r in range(2):
        v, g = ob.selbo_parameter_shift_grad(
            stub(shots[r], theta[r]), theta[r], ll, prior_samples[r], m, 2.0, 0.8
        )
        assert v == pytest.approx(vb[r]) and g == pytest.approx(gb[r])
        expected_v = ll[shots[r, 0]].mean() - 2.0 * float(
            ob.mmd2_unbiased(shots[r, 0], prior_samples[r], 0.8, n_qubits=n)
        )
        assert v == pytest.approx(expected_v)


def test_exact_objectives_differentiate_through_autodiff_engine():
    exact = pytest.importorskip("pyqhn.engines.exact", reason="exact engine not available yet")
    if not hasattr(exact, "probabilities"):
        pytest.skip("pyqhn.engines.exact has no probabilities() yet")
    circuit = brickwork_circuit(3, 2)
    theta = random_params(circuit, seed=13)
    ce, n_s = _logistic_ce_table(n_weights=2, n_points=5, seed=14)
    ll = ob.log_likelihood_from_cost(ce, n_s)
    probs = _ref_probabilities(circuit)

    def losses(q):
        return jnp.stack([
            ob.negative_elbo(q, ll),
            ob.negative_selbo_exact(q, ll, lam=3.0, bandwidth=0.7),
            ob.mle_objective(q, ce),
        ])

    jac = jax.jit(jax.jacrev(lambda t: losses(exact.probabilities(circuit, t))))(jnp.asarray(theta))
    jac_q = jax.jit(jax.jacrev(losses))(jnp.asarray(probs(theta)))
    expected = np.asarray(jac_q) @ ob.parameter_shift_jacobian(probs, theta).T
    np.testing.assert_allclose(jac, expected, atol=1e-9)


def test_product_kernel_is_positive_definite():
    for n, h in itertools.product([2, 3], [0.3, 1.0, 4.0]):
        assert np.linalg.eigvalsh(_gram(n, h)).min() > 0
