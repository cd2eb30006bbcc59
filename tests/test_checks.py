"""The one place for input validation: every bad input raises InputError saying what is
wrong and how to fix it, through every engine alike."""

import ast
from pathlib import Path

import numpy as np
import pytest

import pyqhn  # noqa: F401
from pyqhn import checks
from pyqhn.checks import (
    InputError,
    check_angles,
    check_cost,
    check_float,
    check_int,
    check_n_qubits,
    n_qubits_of_cost,
)
from pyqhn.circuits import Circuit, brickwork_circuit, load_theta, random_params, split_params
from pyqhn.engines import get_engine
from pyqhn.engines.julia import julia_unavailable_reason
from pyqhn.noise import NoiseModel

_JULIA = julia_unavailable_reason()
NAMES = ["exact", "density", "reference",
         pytest.param("julia", marks=pytest.mark.skipif(
             _JULIA is not None, reason=f"Julia engine unavailable: {_JULIA}"))]
C = brickwork_circuit(3, 2)  # P = 12, cost length 8


def test_input_error_is_a_value_error():
    assert issubclass(InputError, ValueError)


def test_checks_imports_only_numpy():
    tree = ast.parse(Path(checks.__file__).read_text())
    modules = {a.name.split(".")[0] for n in ast.walk(tree) if isinstance(n, ast.Import)
               for a in n.names}
    modules |= {n.module.split(".")[0] for n in ast.walk(tree)
                if isinstance(n, ast.ImportFrom) and n.module}
    assert modules <= {"__future__", "importlib", "numbers", "pathlib", "typing", "zipfile",
                       "numpy"}, modules
    assert all(n.level == 0 for n in ast.walk(tree) if isinstance(n, ast.ImportFrom))


# --------------------------------------------------------------------------- scalars


def test_check_int():
    assert check_int(3, "runs") == 3 and type(check_int(np.int64(3), "runs")) is int
    with pytest.raises(InputError, match="runs must be an integer, got 2.0"):
        check_int(2.0, "runs")
    with pytest.raises(InputError, match="runs must be an integer, got True"):
        check_int(True, "runs")
    with pytest.raises(InputError, match="runs must be an integer"):
        check_int("3", "runs")
    with pytest.raises(InputError, match="runs must be at least 1, got 0"):
        check_int(0, "runs", minimum=1)
    with pytest.raises(InputError, match="runs must be at most 5, got 6"):
        check_int(6, "runs", maximum=5)


def test_check_float():
    assert check_float(1, "p") == 1.0 and check_float(np.float32(0.5), "p") == 0.5
    for bad, what in [(float("nan"), "finite"), (np.inf, "finite"), (1 + 2j, "complex"),
                      (True, "real number"), ("0.1", "real number")]:
        with pytest.raises(InputError, match=f"p must be a.*{what}"):
            check_float(bad, "p")
    assert check_float(0.0, "p", low=0.0) == 0.0
    with pytest.raises(InputError, match="p must be > 0"):
        check_float(0.0, "p", low=0.0, low_inclusive=False)
    with pytest.raises(InputError, match="p must be ≤ 1"):
        check_float(1.5, "p", high=1.0)
    with pytest.raises(InputError, match="p must be < 1"):
        check_float(1.0, "p", high=1.0, high_inclusive=False)


def test_check_n_qubits():
    assert check_n_qubits(np.int32(4)) == 4
    for bad, what in [(2.0, "must be an integer"), (True, "must be an integer"),
                      (0, "at least 1"), (31, "GiB.*limited to 30 qubits")]:
        with pytest.raises(InputError, match=what):
            check_n_qubits(bad)


# --------------------------------------------------------------------------- circuits


def test_circuit_requires_integer_types():
    with pytest.raises(InputError, match="blocks must be an integer, got 2.0"):
        Circuit(4, 2.0)
    with pytest.raises(InputError, match="number of qubits must be an integer, got True"):
        Circuit(True, 1)
    with pytest.raises(InputError, match="entangling must be True .* or False"):
        Circuit(4, 1, 1)
    with pytest.raises(InputError, match="blocks must be at least 1"):
        Circuit(4, 0)
    c = Circuit(np.int64(4), np.int32(2))
    assert type(c.n_qubits) is int and type(c.blocks) is int
    assert c == brickwork_circuit(4, 2) and hash(c) == hash(brickwork_circuit(4, 2))


def test_split_params_checks_only_the_shape_under_jit():
    import jax
    import jax.numpy as jnp

    ry, rz = jax.jit(lambda t: split_params(C, t))(jnp.arange(12.0))
    assert ry.shape == rz.shape == (2, 3) and float(rz[0, 0]) == 6.0
    with pytest.raises(InputError, match=r"expected angles of shape \(\.\.\., 12\)"):
        jax.jit(lambda t: split_params(C, t))(jnp.zeros(11))


# --------------------------------------------------------------------------- angles


def test_check_angles_returns_rows_and_batch_shape():
    theta = random_params(C, 6, seed=0).reshape(2, 3, 12)
    flat, lead = check_angles(C, theta)
    assert flat.shape == (6, 12) and flat.dtype == np.float64 and lead == (2, 3)
    flat, lead = check_angles(C, np.zeros(12, dtype=np.int64))
    assert flat.shape == (1, 12) and flat.dtype == np.float64 and lead == ()


@pytest.mark.parametrize("name", NAMES)
def test_bad_angles_are_input_errors_in_every_engine(name):
    engine = get_engine(name)
    cost = np.ones(8)
    theta = random_params(C, 2, seed=1)
    cases = [
        (theta + 1j, "angles must be real; got complex values — the imaginary part"),
        (np.where(np.arange(12) == 4, np.nan, theta), r"non-finite.*first at index \(0, 4\)"),
        (theta[:, :-1], r"expected angles of shape \(\.\.\., 12\) for blocks=2 on 3 qubits.*"
                        r"got shape \(2, 11\)"),
        (np.float64(0.3), r"expected angles of shape \(\.\.\., 12\).*got shape \(\)"),
        (theta > 1, "must be real numbers; got an array of dtype bool"),
        (np.array(["0.1"] * 12), "must be real numbers; got an array of dtype <U3"),
    ]
    for bad, message in cases:
        with pytest.raises(InputError, match=message):
            engine.energy(C, bad, cost)
        with pytest.raises(InputError, match=message):
            engine.probabilities(C, bad)


# --------------------------------------------------------------------------- costs


@pytest.mark.parametrize("name", NAMES)
def test_bad_costs_are_input_errors_in_every_engine(name):
    engine = get_engine(name)
    theta = random_params(C, seed=2)
    cases = [
        (np.ones(8) + 0j, "cost table must be real; got complex values"),
        (np.ones(16), r"length 2\*\*3 = 8 for a 3-qubit circuit.*got 16 values.*qubit count"),
        (np.ones((2, 4)), "1-D vector of length 2\\*\\*N"),
        (np.where(np.arange(8) == 5, np.nan, 1.0), "non-finite.*first at index 5: nan"),
        (np.array(["a"] * 8), "cost table must be real numbers; got an array of dtype <U1"),
    ]
    for bad, message in cases:
        with pytest.raises(InputError, match=message):
            engine.energy(C, theta, bad)
        with pytest.raises(InputError, match=message):
            engine.energy_fn(C, bad)


def test_cost_length_and_qubit_count():
    with pytest.raises(InputError, match="got 1 values; nearest powers of two are 1 and 2"):
        check_cost(np.ones(1))  # N ≥ 1
    with pytest.raises(InputError, match="nearest powers of two are 8 and 16.*one value per line"):
        n_qubits_of_cost(np.ones(10))
    assert n_qubits_of_cost(np.arange(32)) == 5
    c = np.arange(4.0)
    assert check_cost(c) is c  # float64 passes through without a copy
    assert check_cost([1, 2]).dtype == np.float64


# --------------------------------------------------------------------------- engines


def test_engine_choice_errors_name_the_fix():
    with pytest.raises(InputError, match="unknown engine 'qiskit'; choose one of exact, density"):
        get_engine("qiskit")
    with pytest.raises(InputError, match="'exact' engine is noise-free; use engine='density'"):
        get_engine("exact", noise=NoiseModel.from_strength(1.0))
    density = get_engine("density", noise=NoiseModel.from_strength(1.0))
    with pytest.raises(InputError, match="'density' engine gives no gradients; use engine='exact'"
                                         ".*gradient-free optimiser"):
        density.energy_and_grad(C, np.zeros(12), np.ones(8))
    with pytest.raises(TypeError, match="circuit must be a pyqhn.circuits.Circuit"):
        get_engine("exact").energy("blocks=2", np.zeros(12), np.ones(8))
    with pytest.raises(InputError, match="n_samples must be an integer"):
        get_engine("exact").sample(C, np.zeros(12), 10.0)


def test_noise_model_options():
    with pytest.raises(InputError, match="noise strength p must be ≥ 0, got -1"):
        NoiseModel.from_strength(-1.0)
    with pytest.raises(InputError, match="noise strength p must be a finite number"):
        NoiseModel.from_strength(float("nan"))
    with pytest.raises(InputError, match=r"lambda2 must be a probability in \[0, 0.9375\]"):
        NoiseModel(0.0, 0.95)


# --------------------------------------------------------------------------- files


def test_load_theta_names_the_file_and_the_fix(tmp_path):
    n_params = C.n_params
    good = random_params(C, 2, seed=3)
    np.savetxt(tmp_path / "ok.txt", np.column_stack([good, [0.1, 0.2]]))
    np.testing.assert_array_equal(load_theta(tmp_path / "ok.txt", n_params), good)
    np.savez(tmp_path / "ok.npz", theta=good[0])
    assert load_theta(tmp_path / "ok.npz", n_params).shape == (1, n_params)

    (tmp_path / "ragged.txt").write_text("1 2 3\n4 5\n")
    (tmp_path / "words.txt").write_text(" ".join(["0.1"] * 11 + ["abc"]) + "\n")
    (tmp_path / "nan.txt").write_text(" ".join(["0.1"] * 5 + ["nan"] + ["0.1"] * 6) + "\n")
    (tmp_path / "empty.txt").write_text("\n\n")
    np.savetxt(tmp_path / "wide.txt", np.zeros((2, 20)))
    np.savez(tmp_path / "nokey.npz", angles=good)
    np.savez(tmp_path / "complex.npz", theta=good + 1j)
    cases = [
        ("ragged.txt", "ragged.txt: rows have different lengths \\[2, 3\\] \\(line 2"),
        ("words.txt", "words.txt, line 1: 'abc' is not a number"),
        ("nan.txt", r"nan.txt: the angles .* non-finite .*index \(0, 5\)"),
        ("empty.txt", "empty.txt holds no parameter rows"),
        ("wide.txt", "wide.txt: rows have 20 values but the circuit needs 12.*--blocks"),
        ("nokey.npz", "nokey.npz has no 'theta' array \\(keys: \\['angles'\\]\\)"),
        ("complex.npz", "complex.npz: 'theta' holds complex values"),
    ]
    for name, message in cases:
        with pytest.raises(InputError, match=message):
            load_theta(tmp_path / name, n_params)
