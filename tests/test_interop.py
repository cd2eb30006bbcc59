"""Qiskit, OpenQASM 3 and PennyLane exports give pyqhn's probabilities; Qiskit's sampler is
a shot source like the engines'."""

from __future__ import annotations

import numpy as np
import pytest
from scipy import stats

import pyqhn  # noqa: F401
from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.engines import get_engine
from pyqhn.interop import qiskit_sampler, to_pennylane, to_qasm, to_qiskit
from pyqhn.shot_estimators import engine_sampler, shot_energy

qiskit = pytest.importorskip("qiskit", reason="the [qiskit] extra is part of [test]")
from qiskit.quantum_info import Statevector  # noqa: E402

CIRCUITS = [product_circuit(5), brickwork_circuit(3, 2), brickwork_circuit(6, 4),
            brickwork_circuit(7, 5), brickwork_circuit(10, 3)]
IDS = [f"n{c.n_qubits}-{c.name}" for c in CIRCUITS]


def _exact(circuit, theta):
    return get_engine("exact").probabilities(circuit, theta)


@pytest.mark.parametrize("circuit", CIRCUITS, ids=IDS)
def test_qiskit_statevector_equals_the_exact_engine(circuit):
    theta = random_params(circuit, seed=circuit.n_qubits)
    p = Statevector(to_qiskit(circuit, theta)).probabilities()
    np.testing.assert_allclose(p, _exact(circuit, theta), atol=1e-12)
    # the parametrised circuit, bound afterwards, is the same circuit
    bound = to_qiskit(circuit).assign_parameters(theta)
    np.testing.assert_allclose(Statevector(bound).probabilities(), p, atol=1e-12)


@pytest.mark.parametrize("circuit", CIRCUITS, ids=IDS)
def test_openqasm3_round_trip_equals_the_exact_engine(circuit):
    pytest.importorskip("qiskit_qasm3_import", reason="the [qiskit] extra is part of [test]")
    from qiskit import qasm3

    theta = random_params(circuit, seed=1 + circuit.n_qubits)
    text = to_qasm(circuit, theta, measure=False)
    assert text.startswith("OPENQASM 3.0;") and f"qubit[{circuit.n_qubits}] q;" in text
    assert text.count("cx ") == sum(g[0] == "CX" for g in pyqhn.circuits.gate_list(
        circuit, theta))
    p = Statevector(qasm3.loads(text)).probabilities()
    np.testing.assert_allclose(p, _exact(circuit, theta), atol=1e-12)
    assert "c = measure q;" in to_qasm(circuit, theta)


@pytest.mark.parametrize("circuit", CIRCUITS, ids=IDS)
def test_pennylane_default_qubit_equals_the_exact_engine(circuit):
    qml = pytest.importorskip("pennylane", reason="the [pennylane] extra is part of [test]")
    n = circuit.n_qubits
    theta = random_params(circuit, seed=2 + n)
    dev = qml.device("default.qubit", wires=n)
    ansatz = to_pennylane(circuit)

    @qml.qnode(dev)
    def probs(t):
        ansatz(t)
        return qml.probs(wires=range(n))

    np.testing.assert_allclose(probs(theta), _exact(circuit, theta), atol=1e-12)


def test_the_obvious_pennylane_wires_give_the_bit_reversed_vector():
    """Guards the documented mapping: wire = site − 1 is not pyqhn's order."""
    qml = pytest.importorskip("pennylane", reason="the [pennylane] extra is part of [test]")
    circuit = brickwork_circuit(4, 3)
    theta = random_params(circuit, seed=3)
    dev = qml.device("default.qubit", wires=4)

    @qml.qnode(dev)
    def naive(t):
        for g in pyqhn.circuits.gate_list(circuit, t):
            if g[0] == "CX":
                qml.CNOT(wires=[g[1][0] - 1, g[1][1] - 1])
            else:
                (qml.RY if g[0] == "Ry" else qml.RZ)(g[2], wires=g[1][0] - 1)
        return qml.probs(wires=range(4))

    exact = _exact(circuit, theta)
    assert np.abs(naive(theta) - exact).max() > 1e-3
    reversed_index = np.array([int(f"{k:04b}"[::-1], 2) for k in range(16)])
    np.testing.assert_allclose(naive(theta), exact[reversed_index], atol=1e-12)


def test_aer_sampler_is_a_shot_source_with_pyqhn_bit_order():
    pytest.importorskip("qiskit_aer", reason="the [qiskit] extra is part of [test]")
    circuit = brickwork_circuit(5, 4)
    theta = random_params(circuit, 2, seed=4)
    sample = qiskit_sampler(circuit)
    shots = 20000
    aer = sample(theta, shots, 11)
    assert aer.shape == (2, shots) and aer.dtype == np.int64
    np.testing.assert_array_equal(sample(theta, shots, 11), aer)  # seeded
    assert sample(theta[0], 7, 1).shape == (7,)
    own = engine_sampler(get_engine("exact"), circuit)(theta, shots, 11)
    p = _exact(circuit, theta)
    for r in range(2):
        counts = np.bincount(aer[r], minlength=32)
        keep = p[r] * shots > 5  # χ² needs populated cells
        expected = p[r][keep] * shots
        chi2 = stats.chisquare(counts[keep], expected * counts[keep].sum() / expected.sum())
        assert chi2.pvalue > 1e-3, f"Aer samples do not follow pyqhn's p (run {r})"
        table = np.stack([counts, np.bincount(own[r], minlength=32)])[:, keep]
        assert stats.chi2_contingency(table).pvalue > 1e-3  # same law as pyqhn's sampler
    # a swapped bit order would fail the goodness of fit
    swapped = np.array([int(f"{k:05b}"[::-1], 2) for k in range(32)])
    counts = np.bincount(swapped[aer[0]], minlength=32)
    keep = p[0] * shots > 5
    exp = p[0][keep] * shots
    assert stats.chisquare(counts[keep], exp * counts[keep].sum() / exp.sum()).pvalue < 1e-6


def test_shot_energy_from_the_aer_sampler_is_unbiased():
    pytest.importorskip("qiskit_aer", reason="the [qiskit] extra is part of [test]")
    circuit = brickwork_circuit(4, 2)
    cost = np.random.default_rng(0).normal(size=16)
    theta = random_params(circuit, 3, seed=5)
    mean, sem = shot_energy(qiskit_sampler(circuit), theta, cost, 4000, seed=3)
    exact = get_engine("exact").energy(circuit, theta, cost)
    assert np.all(np.abs(mean - exact) < 4.5 * sem)


def test_exports_check_their_angles():
    circuit = brickwork_circuit(3, 2)
    with pytest.raises(ValueError, match="one parameter set"):
        to_qasm(circuit, np.zeros((2, circuit.n_params)))
    with pytest.raises(ValueError, match="real"):
        to_qiskit(circuit, np.zeros(circuit.n_params, dtype=complex))
