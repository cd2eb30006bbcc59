"""The BiNNs beyond enumeration (:mod:`pyqhn.large_models`) against direct NumPy
formulas, and the classical bit-flip search of ``mnist8x8``."""

from __future__ import annotations

import numpy as np
import pytest

from pyqhn import datasets
from pyqhn.experiments.mnist8x8 import local_search
from pyqhn.large_models import LinkChoiceLogistic, accuracies, hidden_layer_model


def _data(n=40, d=6, seed=0):
    rng = np.random.default_rng(seed)
    return datasets.Dataset(x=rng.random((n, d)), y=rng.integers(0, 2, n))


def test_link_choice_logistic_cost_and_accuracy_match_numpy():
    d = 6
    model = LinkChoiceLogistic(d)
    data = _data(d=d)
    bits = np.random.default_rng(1).integers(0, 2, (7, d + 2)).astype(np.uint8)
    w, bias = 2.0 * bits[:, 1:-1] - 1, 2.0 * bits[:, -1] - 1
    z = w @ data.x.T + bias[:, None]
    z = np.where(bits[:, :1] == 1, z / np.sqrt(d), z)  # bit 0 = 1: the scaled sigmoid
    p = 1 / (1 + np.exp(-z))
    ce = -(data.y * np.log(p) + (1 - data.y) * np.log(1 - p)).mean(1)
    np.testing.assert_allclose(model.cost(bits, data), ce, rtol=1e-10)
    np.testing.assert_allclose(accuracies(model, bits, data),
                               ((p > 0.5) == data.y.astype(bool)).mean(1))
    # the link changes the cost, never the predictions
    flipped = bits.copy()
    flipped[:, 0] ^= 1
    np.testing.assert_array_equal(accuracies(model, flipped, data),
                                  accuracies(model, bits, data))
    assert np.all(model.cost(flipped, data) != model.cost(bits, data))
    assert model.n_qubits == d + 2 and LinkChoiceLogistic().n_qubits == 66


def test_hidden_layer_model_has_200_qubits():
    model = hidden_layer_model(64, 3)
    assert model.n_qubits == 200
    data = _data(n=10, d=64)
    bits = np.random.default_rng(2).integers(0, 2, (3, 200)).astype(np.uint8)
    c = model.cost(bits, data)
    assert c.shape == (3,) and np.all(np.isfinite(c)) and np.all(c > 0)


def test_local_search_ends_in_single_flip_minima():
    model = LinkChoiceLogistic(6)
    data = _data()
    bits, cost = local_search(model, data, restarts=4, seed=0)
    np.testing.assert_allclose(model.cost(bits, data), cost)
    n = model.n_qubits
    for b, c in zip(bits, cost, strict=True):
        flips = b[None] ^ np.eye(n, dtype=np.uint8)
        assert model.cost(flips, data).min() >= c - 1e-12
    # 8 bits: the exhaustive optimum is among the minima of a few restarts here
    from pyqhn.bits import index_to_bits

    every = index_to_bits(np.arange(2**n), n)
    assert cost.min() <= model.cost(every, data).min() + 1e-12


def test_link_choice_logistic_is_an_ordinary_model_of_problem():
    """The 66-qubit model shares AugmentedBiNN's interface: Problem trains it from
    samples, and its best network decodes and classifies."""
    import pyqhn

    rng = np.random.default_rng(3)
    x = rng.random((80, 6))
    y = (x @ np.array([1, -1, 1, -1, 1, -1.0]) > 0).astype(int)
    model = LinkChoiceLogistic(6)
    res = pyqhn.Problem(model, (x, y)).train(["product"], runs=1, shots=100, max_iter=20,
                                             progress=False)
    assert res.regime == "sampled" and res.best_network()["activation"] in (
        "sigmoid", "scaled-sigmoid")
    bits = res.best_bits()
    clf = res.best_classifier()
    expected = (np.asarray(model.output(bits[None], x))[0] > 0.5).astype(int)
    np.testing.assert_array_equal(clf.predict(x), expected)
    assert res.best_cost() == pytest.approx(float(model.cost(bits[None], pyqhn.Dataset(x, y))[0]))
    assert len(model.parameter_names()) == model.n_qubits == 8
