"""Every engine, through ``get_engine(name)``, against the dense reference: one parametrised
test per method (quimb's habit), with identical shapes for every engine."""

import numpy as np
import pytest

import pyqhn  # noqa: F401
from pyqhn.checks import InputError
from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.engines import ENGINES, Engine, energy, get_engine
from pyqhn.engines.julia import julia_unavailable_reason
from pyqhn.engines.reference import reference_energy, reference_state
from pyqhn.shot_estimators import parameter_shift_grad

CIRCUITS = [product_circuit(5), brickwork_circuit(5, 1), brickwork_circuit(6, 4),
            brickwork_circuit(7, 5)]
_JULIA = julia_unavailable_reason()
NAMES = ["exact", "density", "reference", "mps",
         pytest.param("julia", marks=pytest.mark.skipif(
             _JULIA is not None, reason=f"Julia engine unavailable: {_JULIA}"))]
CIRCUIT_IDS = {"ids": lambda c: f"n{c.n_qubits}-{c.name}"}


def _problem(circuit, runs=3):
    theta = random_params(circuit, runs, seed=circuit.n_qubits)
    cost = np.random.default_rng(circuit.blocks).normal(size=2**circuit.n_qubits)
    return theta, cost


def test_every_engine_is_listed():
    assert {p if isinstance(p, str) else p.values[0] for p in NAMES} == set(ENGINES)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("circuit", CIRCUITS, **CIRCUIT_IDS)
def test_energy_matches_reference(name, circuit):
    theta, cost = _problem(circuit)
    ref = [reference_energy(circuit, t, cost) for t in theta]
    np.testing.assert_allclose(energy(circuit, theta, cost, engine=name), ref, atol=1e-11)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("circuit", CIRCUITS[:3], **CIRCUIT_IDS)
def test_probabilities_match_reference(name, circuit):
    theta, _ = _problem(circuit)
    ref = np.stack([np.abs(reference_state(circuit, t)) ** 2 for t in theta])
    p = get_engine(name).probabilities(circuit, theta)
    assert p.dtype == np.float64
    np.testing.assert_allclose(p, ref, atol=1e-12)


@pytest.mark.parametrize("name", NAMES)
def test_energy_and_grad_match_reference_or_are_refused(name):
    circuit = brickwork_circuit(5, 4)
    theta, cost = _problem(circuit, runs=2)
    engine = get_engine(name)
    if not engine.differentiable:
        with pytest.raises(InputError, match=f"the '{name}' engine gives no gradients.*exact"):
            engine.energy_and_grad(circuit, theta, cost)
        with pytest.raises(InputError, match="gradient-free"):
            engine.energy_and_grad_fn(circuit, cost)
        with pytest.raises(InputError, match="no gradients"):
            engine.jax_probabilities(circuit)
        return
    e, g = engine.energy_and_grad(circuit, theta, cost)
    ref = get_engine("reference")
    # parameter shift is exact for these gates: a gradient from reference energies alone
    g_ref = parameter_shift_grad(lambda t: ref.energy(circuit, t, cost), theta)
    np.testing.assert_allclose(e, [reference_energy(circuit, t, cost) for t in theta],
                               atol=1e-11)
    np.testing.assert_allclose(g, g_ref, atol=1e-11)


@pytest.mark.parametrize("name", NAMES)
@pytest.mark.parametrize("circuit", [brickwork_circuit(4, 3), product_circuit(3),
                                     brickwork_circuit(6, 2)], **CIRCUIT_IDS)
def test_samples_follow_reference_probabilities(name, circuit):
    theta = random_params(circuit, 2, seed=11)
    shots = 20000
    engine = get_engine(name)
    samples = engine.sample(circuit, theta, shots, seed=5)
    assert samples.shape == (2, shots) and samples.dtype == np.int64
    for t, s in zip(theta, samples, strict=True):
        p = np.abs(reference_state(circuit, t)) ** 2
        counts = np.bincount(s, minlength=p.size)
        assert counts[p < 1e-15].sum() == 0  # nothing drawn where the reference says 0
        keep = p * shots > 5  # χ² on cells with enough expected counts, rest pooled
        observed = np.append(counts[keep], counts[~keep].sum())
        expected = np.append(p[keep], p[~keep].sum()) * shots
        nonzero = expected > 0
        chi2 = np.sum((observed[nonzero] - expected[nonzero]) ** 2 / expected[nonzero])
        dof = nonzero.sum() - 1
        assert chi2 < dof + 6 * np.sqrt(2 * dof), (chi2, dof)
    np.testing.assert_array_equal(samples, engine.sample(circuit, theta, shots, seed=5))
    assert not np.array_equal(samples, engine.sample(circuit, theta, shots, seed=6))


@pytest.mark.parametrize("name", NAMES)
def test_shapes_are_identical_for_every_engine(name):
    circuit = brickwork_circuit(4, 2)
    theta, cost = _problem(circuit, runs=6)
    engine = get_engine(name)
    assert isinstance(engine, Engine) and engine.name == name
    n_p, dim = circuit.n_params, 2**circuit.n_qubits
    for batch in [(), (6,), (2, 3), (0,)]:
        t = theta[: int(np.prod(batch, dtype=int))].reshape(batch + (n_p,))
        e = engine.energy(circuit, t, cost)
        assert isinstance(e, np.ndarray) and e.shape == batch and e.dtype == np.float64
        assert engine.probabilities(circuit, t).shape == batch + (dim,)
        assert engine.sample(circuit, t, 5, seed=0).shape == batch + (5,)
        if engine.differentiable:
            e2, g = engine.energy_and_grad(circuit, t, cost)
            assert e2.shape == batch and g.shape == batch + (n_p,)
    # a batch gives the same numbers as its rows one by one
    rows = np.stack([engine.energy(circuit, t, cost) for t in theta])
    np.testing.assert_allclose(engine.energy(circuit, theta.reshape(2, 3, -1), cost).ravel(),
                               rows, atol=1e-13)


@pytest.mark.parametrize("name", NAMES)
def test_bound_functions_equal_the_methods(name):
    circuit = brickwork_circuit(5, 3)
    theta, cost = _problem(circuit, runs=4)
    engine = get_engine(name)
    fn = engine.energy_fn(circuit, cost)
    out = fn(theta)
    assert isinstance(out, np.ndarray) and out.shape == (4,)
    np.testing.assert_allclose(out, engine.energy(circuit, theta, cost), atol=1e-13)
    if engine.differentiable:
        e, g = engine.energy_and_grad_fn(circuit, cost)(theta)
        e_ref, g_ref = engine.energy_and_grad(circuit, theta, cost)
        assert isinstance(e, np.ndarray) and isinstance(g, np.ndarray)
        np.testing.assert_allclose(e, e_ref, atol=1e-13)
        np.testing.assert_allclose(g, g_ref, atol=1e-13)


def test_jax_probabilities_is_differentiable():
    import jax

    circuit = brickwork_circuit(4, 3)
    theta, cost = _problem(circuit, runs=1)
    engine = get_engine("exact")
    f = engine.jax_probabilities(circuit)
    np.testing.assert_allclose(f(theta[0]), engine.probabilities(circuit, theta[0]), atol=1e-14)
    g = jax.grad(lambda t: f(t) @ cost)(theta[0])
    np.testing.assert_allclose(g, engine.energy_and_grad(circuit, theta[0], cost)[1], atol=1e-12)


def test_unknown_engine_and_misplaced_options():
    from pyqhn.noise import NoiseModel

    c = brickwork_circuit(3, 2)
    with pytest.raises(InputError, match="unknown engine 'qiskit'.*exact, density"):
        energy(c, np.zeros(12), np.ones(8), engine="qiskit")
    with pytest.raises(InputError, match="noise-free; use engine='density'"):
        energy(c, np.zeros(12), np.ones(8), noise=NoiseModel.from_strength(1.0))
    with pytest.raises(InputError, match="takes no method"):
        get_engine("density", method="mps")
    with pytest.raises(InputError, match="method must be one of"):
        get_engine("exact", method="tensor")
    # noise=None means noiseless for the density engine
    assert get_engine("density").noise == NoiseModel.noiseless()
