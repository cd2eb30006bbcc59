"""The optional PastaQ engine agrees with the exact engine (skipped without Julia)."""

import numpy as np
import pytest

import pyqhn  # noqa: F401
from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.engines import exact, get_engine
from pyqhn.engines.julia import JuliaEngine, julia_unavailable_reason

reason = julia_unavailable_reason()
needs_julia = pytest.mark.skipif(reason is not None, reason=f"Julia engine unavailable: {reason}")


def test_reason_is_reported_when_unavailable():
    if reason is None:
        pytest.skip("Julia is available here")
    engine = get_engine("julia")  # constructing needs no Julia; evaluating does
    assert isinstance(engine, JuliaEngine)
    with pytest.raises(RuntimeError, match="unavailable"):
        engine.energy(brickwork_circuit(3, 2), np.zeros(12), np.ones(8))


@needs_julia
def test_pastaq_matches_exact_engine():
    c = brickwork_circuit(6, 4)
    theta = random_params(c, 3, seed=2)
    cost = np.random.default_rng(0).random(2**6)
    np.testing.assert_allclose(JuliaEngine().energy(c, theta, cost),
                               np.asarray(exact.energy(c, theta, cost)), atol=1e-10)


@needs_julia
@pytest.mark.parametrize("circuit", [product_circuit(4), brickwork_circuit(5, 3)],
                         ids=lambda c: f"n{c.n_qubits}-{c.name}")
def test_pastaq_probabilities_and_batch_shapes(circuit):
    # (A, B, P) batches: column order of the Julia matrices must map back row by row
    theta = random_params(circuit, 6, seed=3).reshape(2, 3, -1)
    p = JuliaEngine().probabilities(circuit, theta)
    assert p.shape == (2, 3, 2**circuit.n_qubits)
    np.testing.assert_allclose(p, np.asarray(exact.probabilities(circuit, theta)), atol=1e-10)
    cost = np.random.default_rng(1).random(2**circuit.n_qubits)
    assert JuliaEngine().energy(circuit, theta[0, 0], cost).shape == ()


class _FakePyqhnEngine:
    """Stands in for the Julia module: same argument and result layouts (angles P × R,
    probabilities 2^N × R column-major), computed by the dense reference."""

    @staticmethod
    def probabilities(thetas, n, blocks, *, entangling):
        from pyqhn.circuits import Circuit
        from pyqhn.engines.reference import reference_state

        c = Circuit(n, blocks, entangling)
        cols = [np.abs(reference_state(c, thetas[:, r])) ** 2 for r in range(thetas.shape[1])]
        return np.asfortranarray(np.stack(cols, axis=1))

    @classmethod
    def energies(cls, cost, thetas, n, blocks, *, entangling):
        return list(cost @ cls.probabilities(thetas, n, blocks, entangling=entangling))


def test_python_side_maps_julia_columns_back_to_batch_shapes(monkeypatch):
    # runs without Julia: the (P, R) / (2^N, R) column convention must give (A, B, ...)
    from pyqhn.engines import julia as julia_module

    monkeypatch.setattr(julia_module, "_module", lambda: _FakePyqhnEngine)
    c = brickwork_circuit(4, 3)
    theta = random_params(c, 6, seed=4).reshape(2, 3, -1)
    cost = np.random.default_rng(2).random(16)
    engine = JuliaEngine()
    np.testing.assert_allclose(engine.probabilities(c, theta),
                               np.asarray(exact.probabilities(c, theta)), atol=1e-12)
    np.testing.assert_allclose(engine.energy(c, theta, cost),
                               np.asarray(exact.energy(c, theta, cost)), atol=1e-12)
    assert engine.energy(c, theta[1, 2], cost).shape == ()
    assert engine.sample(c, theta, 9, seed=1).shape == (2, 3, 9)
