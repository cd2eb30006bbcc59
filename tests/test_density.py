"""The matrix-product density-matrix engine against the dense ρ reference."""

from __future__ import annotations

from pathlib import Path

import numpy as np
import pytest

import pyqhn  # noqa: F401  (enables float64 in JAX)
from pyqhn.checks import InputError
from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.engines.density import (
    DensityEngine,
    bond_dimensions,
    cx_ptm,
    noisy_energy,
    noisy_probabilities,
    noisy_sample,
)
from pyqhn.engines.density_reference import reference_density_matrix, reference_noisy_energy
from pyqhn.engines.reference import reference_energy
from pyqhn.noise import NoiseModel

REFERENCE = Path(__file__).resolve().parents[2] / "shared" / "reference"

NOISES = {
    "two-qubit": NoiseModel(0.03, 0.08),
    "one-qubit": NoiseModel(0.03, 0.08, cx_channel="one-qubit"),
    "paper-p2": NoiseModel.from_strength(2.0),
    "none": NoiseModel.noiseless(),
}
CIRCUITS = [
    product_circuit(3),
    brickwork_circuit(1, 2),
    brickwork_circuit(2, 3),
    brickwork_circuit(4, 1),
    brickwork_circuit(5, 4),
    brickwork_circuit(6, 5),
]


def _random_noise(rng: np.random.Generator, cx_channel: str) -> NoiseModel:
    return NoiseModel(rng.uniform(0, 0.2), rng.uniform(0, 0.3), cx_channel)


@pytest.mark.parametrize("noise_name", list(NOISES))
@pytest.mark.parametrize("circuit", CIRCUITS, ids=lambda c: f"n{c.n_qubits}-{c.name}")
def test_matches_dense_reference(circuit, noise_name):
    _check_against_reference(circuit, NOISES[noise_name], "numpy")


def test_jax_backend_matches_dense_reference():
    rng = np.random.default_rng(55)
    for cx_channel in ("one-qubit", "two-qubit"):
        _check_against_reference(brickwork_circuit(5, 4), _random_noise(rng, cx_channel), "jax")


def _check_against_reference(circuit, noise, backend):
    rng = np.random.default_rng(circuit.n_qubits * 10 + circuit.blocks)
    thetas = random_params(circuit, 2, seed=circuit.n_qubits)
    cost = rng.normal(size=2**circuit.n_qubits)
    probs = noisy_probabilities(circuit, thetas, noise, backend=backend)
    energies = noisy_energy(circuit, thetas, cost, noise, backend=backend)
    assert probs.shape == (2, 2**circuit.n_qubits) and energies.shape == (2,)
    for theta, p, e in zip(thetas, probs, energies, strict=True):
        rho = reference_density_matrix(circuit, theta, noise)
        np.testing.assert_allclose(p, np.real(np.diag(rho)), atol=1e-13)
        assert e == pytest.approx(reference_noisy_energy(circuit, theta, cost, noise), abs=1e-12)


def test_random_noise_eight_qubits():
    rng = np.random.default_rng(8)
    circuit = brickwork_circuit(8, 2)
    noise = _random_noise(rng, "two-qubit")
    theta = random_params(circuit, seed=3)
    cost = rng.normal(size=2**8)
    rho = reference_density_matrix(circuit, theta, noise)
    assert noisy_energy(circuit, theta, cost, noise, backend="numpy") == pytest.approx(
        float(np.real(np.diag(rho)) @ cost), abs=1e-12
    )


def test_channel_forms_differ_and_only_at_cx():
    circuit = brickwork_circuit(4, 3)
    theta = random_params(circuit, seed=1)
    two, one = NOISES["two-qubit"], NOISES["one-qubit"]
    p2 = noisy_probabilities(circuit, theta, two, backend="numpy")
    p1 = noisy_probabilities(circuit, theta, one, backend="numpy")
    assert np.abs(p2 - p1).max() > 1e-4
    # Without CX gates the two forms coincide.
    prod = product_circuit(4)
    theta = random_params(prod, seed=1)
    np.testing.assert_allclose(
        noisy_probabilities(prod, theta, two, backend="numpy"),
        noisy_probabilities(prod, theta, one, backend="numpy"),
        atol=1e-15,
    )


def test_trace_one_and_nonnegative():
    circuit = brickwork_circuit(9, 4)
    thetas = random_params(circuit, 5, seed=2)
    for noise in (NOISES["two-qubit"], NoiseModel(0.7, 0.9)):
        probs = noisy_probabilities(circuit, thetas, noise, backend="numpy")
        assert probs.shape == (5, 2**9)
        np.testing.assert_allclose(probs.sum(axis=1), 1.0, atol=1e-12)
        assert probs.min() > -1e-14


def test_noiseless_equals_state_vector():
    circuit = brickwork_circuit(7, 4)
    thetas = random_params(circuit, 3, seed=4)
    cost = np.random.default_rng(4).normal(size=2**7)
    energies = noisy_energy(circuit, thetas, cost, NoiseModel.noiseless(), backend="numpy")
    expected = [reference_energy(circuit, t, cost) for t in thetas]
    np.testing.assert_allclose(energies, expected, atol=1e-12)


def test_full_depolarizing_gives_uniform_distribution():
    circuit = brickwork_circuit(5, 2)
    cost = np.random.default_rng(5).normal(size=2**5)
    noise = NoiseModel(0.75, 0.0)  # 1-qubit channel with λ = 3/4 replaces ρ by I/2
    theta = random_params(circuit, seed=5)
    e = noisy_energy(circuit, theta, cost, noise, backend="numpy")
    assert e == pytest.approx(cost.mean(), abs=1e-13)


def test_batched_equals_single():
    circuit = brickwork_circuit(6, 3)
    thetas = random_params(circuit, 5, seed=6)  # 5 is padded to a batch of 8 internally
    cost = np.random.default_rng(6).normal(size=2**6)
    noise = NOISES["paper-p2"]
    batch = noisy_energy(circuit, thetas, cost, noise)
    assert batch.shape == (5,)
    single = [noisy_energy(circuit, t, cost, noise) for t in thetas]
    np.testing.assert_allclose(batch, single, atol=1e-14)
    assert isinstance(single[0], np.ndarray) and single[0].shape == ()
    eager = noisy_energy(circuit, thetas, cost, noise, backend="numpy")
    np.testing.assert_allclose(batch, eager, atol=1e-13)


def test_sampled_mean_agrees_with_exact_energy():
    circuit = brickwork_circuit(6, 3)
    theta = random_params(circuit, seed=7)
    cost = np.random.default_rng(7).normal(size=2**6)
    noise = NOISES["two-qubit"]
    samples = noisy_sample(circuit, theta, noise, 20000, seed=11, backend="numpy")
    assert samples.dtype == np.int64 and samples.shape == (20000,)
    assert samples.min() >= 0 and samples.max() < 2**6
    values = cost[samples]
    stderr = values.std(ddof=1) / np.sqrt(len(values))
    exact = noisy_energy(circuit, theta, cost, noise, backend="numpy")
    assert abs(values.mean() - exact) < 4 * stderr
    # Histogram against the exact probabilities (χ² at a fixed seed).
    probs = noisy_probabilities(circuit, theta, noise, backend="numpy")
    counts = np.bincount(samples, minlength=2**6)
    expected = probs * len(samples)
    chi2 = np.sum((counts - expected) ** 2 / expected)
    assert chi2 < 2**6 + 6 * np.sqrt(2 * 2**6)
    # Seeded: same seed, same samples; another seed, other samples.
    again = noisy_sample(circuit, theta, noise, 20000, seed=11, backend="numpy")
    other = noisy_sample(circuit, theta, noise, 20000, seed=12, backend="numpy")
    np.testing.assert_array_equal(samples, again)
    assert not np.array_equal(samples, other)


def test_cx_ptm_is_trace_preserving_and_unital():
    for noise in NOISES.values():
        g = cx_ptm(noise)
        assert g[0, 0] == pytest.approx(1.0)
        assert np.allclose(g[0, 1:], 0) and np.allclose(g[1:, 0], 0)


def test_bond_dimensions_are_bounded():
    chis = bond_dimensions(brickwork_circuit(17, 4), NoiseModel.from_strength(1.0))
    assert len(chis) == 16
    assert max(chis) <= 25  # two CX crossings per cut, exact rank 5 each
    for j, chi in enumerate(chis, start=1):
        assert chi <= 4 ** min(j, 17 - j)


def test_noise_model_scale_and_validation():
    noise = NoiseModel.from_strength(0.4)
    assert noise.lambda1 == pytest.approx(0.4e-3) and noise.lambda2 == pytest.approx(1.5e-3)
    assert noise.cx_channel == "two-qubit"
    with pytest.raises(ValueError, match="cx_channel"):
        NoiseModel(0.0, 0.0, cx_channel="three-qubit")
    with pytest.raises(ValueError, match="lambda1"):
        NoiseModel(-0.1, 0.0)
    with pytest.raises(ValueError, match="noise strength"):
        NoiseModel.from_strength(-1.0)


def test_bad_input_messages():
    circuit = brickwork_circuit(3, 2)
    noise = NOISES["two-qubit"]
    with pytest.raises(InputError, match=r"expected angles of shape \(\.\.\., 12\)"):
        noisy_energy(circuit, np.zeros(5), np.zeros(8), noise)
    with pytest.raises(InputError, match="cost must be a vector of length 2\\*\\*3 = 8"):
        noisy_energy(circuit, np.zeros(circuit.n_params), np.zeros(7), noise)
    with pytest.raises(TypeError, match="NoiseModel"):
        noisy_energy(circuit, np.zeros(circuit.n_params), np.zeros(8), 0.1)
    with pytest.raises(InputError, match="n_samples must be at least 0"):
        noisy_sample(circuit, np.zeros(circuit.n_params), noise, -1)
    with pytest.raises(InputError, match="backend"):
        noisy_energy(circuit, np.zeros(circuit.n_params), np.zeros(8), noise, backend="torch")


def test_batched_samples_equal_row_by_row_draws():
    # every row of a batch is sampled from its own diag ρ, rows drawn in order from one stream
    circuit = brickwork_circuit(4, 2)
    thetas = random_params(circuit, 3, seed=8)
    engine = DensityEngine(NOISES["two-qubit"], backend="numpy")
    batch = engine.sample(circuit, thetas.reshape(3, 1, -1), 500, seed=4)
    assert batch.shape == (3, 1, 500) and batch.dtype == np.int64
    rng = np.random.default_rng(4)
    for r, theta in enumerate(thetas):
        one = noisy_sample(circuit, theta, NOISES["two-qubit"], 500, seed=rng, backend="numpy")
        np.testing.assert_array_equal(batch[r, 0], one)


@pytest.mark.skipif(not (REFERENCE / "binncode_mnist4x4_blocks4.npz").exists(),
                    reason="shared/reference (original authors' data) is not available")
def test_original_mnist_energies_noiseless():
    data = np.load(REFERENCE / "binncode_mnist4x4_blocks4.npz")
    circuit = brickwork_circuit(17, 4)
    energies = noisy_energy(circuit, data["theta"][:4], data["cost"], NoiseModel.noiseless())
    np.testing.assert_allclose(energies, data["energy"][:4], atol=1e-9)


def test_jitted_energy_does_not_recompile():
    from pyqhn.engines.density import _compiled

    circuit = brickwork_circuit(4, 2)
    noise = NOISES["two-qubit"]
    cost = np.arange(16.0)
    fn = _compiled(circuit, noise, "energy", "jax")
    noisy_energy(circuit, random_params(circuit, 3, seed=1), cost, noise)
    size = fn._cache_size()
    noisy_energy(circuit, random_params(circuit, 3, seed=2), cost + 1.0, noise)
    noisy_energy(circuit, random_params(circuit, 4, seed=3), cost, noise)  # same padded size
    assert fn._cache_size() == size


def test_any_batch_size_reuses_one_compiled_shape_on_cpu():
    import jax

    from pyqhn.engines.density import CPU_CHUNK, DensityEngine, _compiled

    if jax.default_backend() != "cpu":
        pytest.skip("the one-shape chunking is the CPU path; this run has a GPU")
    circuit = brickwork_circuit(5, 2)
    noise = NOISES["two-qubit"]
    cost = np.random.default_rng(7).normal(size=2**5)
    engine = DensityEngine(noise)
    assert engine.any_batch_size
    fn = _compiled(circuit, noise, "energy", "jax")
    thetas = random_params(circuit, 3 * CPU_CHUNK + 3, seed=7)
    engine.energy(circuit, thetas[:1], cost)
    size = fn._cache_size()
    eager = noisy_energy(circuit, thetas, cost, noise, backend="numpy")
    for rows in (1, CPU_CHUNK - 1, CPU_CHUNK, CPU_CHUNK + 1, 3 * CPU_CHUNK + 3):
        got = engine.energy(circuit, thetas[:rows], cost)
        assert got.shape == (rows,)
        np.testing.assert_allclose(got, eager[:rows], atol=1e-13)
    assert fn._cache_size() == size  # every row count ran on the one compiled shape
