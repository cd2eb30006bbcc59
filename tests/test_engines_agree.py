"""Every engine against the dense reference, one parametrised test (quimb's habit)."""

import numpy as np
import pytest

import pyqhn  # noqa: F401
from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.engines import energy
from pyqhn.engines.julia import julia_unavailable_reason

CIRCUITS = [product_circuit(5), brickwork_circuit(5, 1), brickwork_circuit(6, 4),
            brickwork_circuit(7, 5)]
ENGINES = ["exact", "density",
           pytest.param("julia", marks=pytest.mark.skipif(
               julia_unavailable_reason() is not None,
               reason=f"Julia engine unavailable: {julia_unavailable_reason()}"))]


@pytest.mark.parametrize("engine", ENGINES)
@pytest.mark.parametrize("circuit", CIRCUITS, ids=lambda c: f"n{c.n_qubits}-{c.name}")
def test_engine_matches_reference(engine, circuit):
    theta = random_params(circuit, 3, seed=circuit.n_qubits)
    cost = np.random.default_rng(circuit.blocks).normal(size=2**circuit.n_qubits)
    ref = energy(circuit, theta, cost, engine="reference")
    np.testing.assert_allclose(energy(circuit, theta, cost, engine=engine), ref, atol=1e-11)


def test_unknown_engine_and_misplaced_noise():
    from pyqhn.noise import NoiseModel

    c = brickwork_circuit(3, 2)
    with pytest.raises(ValueError, match="unknown engine"):
        energy(c, np.zeros(12), np.ones(8), engine="qiskit")
    with pytest.raises(ValueError, match="density"):
        energy(c, np.zeros(12), np.ones(8), noise=NoiseModel.from_strength(1.0))
