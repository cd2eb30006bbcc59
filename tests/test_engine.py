"""The exact engine against the dense reference, the original artifacts and finite differences."""

import numpy as np
import pytest
from scipy import stats

import pyqhn  # noqa: F401  (enables float64)
from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.engines import exact, get_engine
from pyqhn.engines.reference import reference_energy, reference_state
from pyqhn.shot_estimators import parameter_shift_grad

CASES = [(1, 1), (2, 2), (3, 1), (4, 3), (5, 4), (6, 6), (7, 9)]


@pytest.mark.parametrize("method", ["mps", "statevector"])
@pytest.mark.parametrize("n,blocks", CASES)
def test_state_matches_dense_reference(n, blocks, method):
    c = brickwork_circuit(n, blocks)
    theta = random_params(c, 3, seed=n + 10 * blocks)
    psi = np.asarray(exact.state(c, theta, method=method))
    ref = np.stack([reference_state(c, t) for t in theta])
    np.testing.assert_allclose(psi, ref, atol=1e-12)


def test_product_ansatz_equals_one_block_brickwork():
    # block 1's CXs act on |0…0⟩, so one brickwork block is the product state
    n = 6
    theta = random_params(product_circuit(n), seed=3)
    a = np.asarray(exact.state(product_circuit(n), theta))
    b = np.asarray(exact.state(brickwork_circuit(n, 1), theta))
    np.testing.assert_allclose(a, b, atol=1e-14)
    np.testing.assert_allclose(a, reference_state(product_circuit(n), theta), atol=1e-12)


def test_reference_energies_of_original_runs(reference_mnist):
    c = brickwork_circuit(17, 4)
    theta, cost = reference_mnist["theta"], reference_mnist["cost"]
    e = np.asarray(exact.energy(c, theta, cost))
    np.testing.assert_allclose(e, reference_mnist["energy"], rtol=0, atol=1e-9)
    # the Engine interface and the optimisers' bound function give the same numbers
    engine = get_engine("exact")
    np.testing.assert_allclose(engine.energy(c, theta, cost), e, rtol=0, atol=1e-13)
    e_fn, g_fn = engine.energy_and_grad_fn(c, cost)(theta)
    np.testing.assert_allclose(e_fn, e, rtol=0, atol=1e-13)
    assert g_fn.shape == theta.shape


def test_swapped_bit_order_misses_reference(reference_mnist):
    # guards the convention: reversing the qubit order must change the energies a lot
    c = brickwork_circuit(17, 4)
    cost = reference_mnist["cost"].reshape((2,) * 17).transpose(range(16, -1, -1)).ravel()
    e = np.asarray(exact.energy(c, reference_mnist["theta"][:2], cost))
    assert np.all(np.abs(e - reference_mnist["energy"][:2]) > 0.1)


def test_probabilities_normalised_and_batched():
    c = brickwork_circuit(8, 5)
    theta = random_params(c, 6, seed=1).reshape(2, 3, -1)
    p = np.asarray(exact.probabilities(c, theta))
    assert p.shape == (2, 3, 2**8)
    assert np.all(p >= 0)
    np.testing.assert_allclose(p.sum(-1), 1.0, atol=1e-12)


def test_energy_batch_equals_loop():
    c = brickwork_circuit(6, 3)
    cost = np.random.default_rng(0).normal(size=2**6)
    theta = random_params(c, 5, seed=2)
    batch = np.asarray(exact.energy(c, theta, cost))
    loop = [reference_energy(c, t, cost) for t in theta]
    np.testing.assert_allclose(batch, loop, atol=1e-12)


@pytest.mark.parametrize("n,blocks", [(3, 2), (5, 4)])
def test_gradient_matches_finite_differences_and_parameter_shift(n, blocks):
    c = brickwork_circuit(n, blocks)
    cost = np.random.default_rng(n).normal(size=2**n)
    theta = random_params(c, seed=7)
    e, g = exact.energy_and_grad(c, theta, cost)
    h = 1e-5
    eye = np.eye(c.n_params)
    fd = (np.asarray(exact.energy(c, theta + h * eye, cost))
          - np.asarray(exact.energy(c, theta - h * eye, cost))) / (2 * h)
    np.testing.assert_allclose(np.asarray(g), fd, atol=1e-8)
    ps = parameter_shift_grad(lambda t: exact.energy(c, t, cost), theta)
    np.testing.assert_allclose(np.asarray(g), ps, atol=1e-12)
    assert float(e) == pytest.approx(reference_energy(c, theta, cost), abs=1e-12)


def test_sampled_frequencies_match_probabilities():
    c = brickwork_circuit(4, 3)
    theta = random_params(c, seed=11)
    p = np.asarray(exact.probabilities(c, theta))
    samples = exact.sample(c, theta, 20000, seed=5)
    counts = np.bincount(samples, minlength=16)
    keep = p * 20000 > 5
    f_exp = p[keep] * 20000
    f_obs = counts[keep]
    f_exp = f_exp * f_obs.sum() / f_exp.sum()
    assert stats.chisquare(f_obs, f_exp).pvalue > 1e-3
    assert np.array_equal(samples, exact.sample(c, theta, 20000, seed=5))


def test_bad_inputs_give_clear_errors():
    c = brickwork_circuit(4, 2)
    theta = random_params(c)
    with pytest.raises(ValueError, match="length 2\\*\\*4"):
        exact.energy(c, theta, np.ones(15))
    with pytest.raises(ValueError, match="non-finite"):
        exact.energy(c, theta, np.full(16, np.nan))
    with pytest.raises(ValueError, match="expected angles"):
        exact.energy(c, theta[:-1], np.ones(16))
    with pytest.raises(ValueError, match="NaN"):
        exact.energy(c, np.full_like(theta, np.nan), np.ones(16))


def test_too_many_qubits_names_the_memory(monkeypatch):
    monkeypatch.setattr(exact, "_available_memory", lambda: 2**30)
    with pytest.raises(MemoryError, match="GiB"):
        exact.energy(brickwork_circuit(24, 2), np.zeros(96), np.zeros(2**24))


def test_auto_method_picks_statevector_for_deep_circuits():
    assert exact.contraction_plan(brickwork_circuit(17, 4)).method == "mps"
    assert exact.contraction_plan(brickwork_circuit(10, 40)).method == "statevector"
