import numpy as np
import pytest

from pyqhn.bits import index_to_bits
from pyqhn.datasets import Dataset, gaussian_mixture
from pyqhn.models import (
    ENCODINGS,
    AugmentedBiNN,
    gaussian_activation_model,
    gaussian_width_model,
    mnist_encoding_model,
    mnist_model,
    paper_model,
)


def test_paper_problems_have_the_stated_sizes():
    assert gaussian_activation_model().n_qubits == 14
    assert gaussian_width_model().n_qubits == 15
    assert mnist_model().n_qubits == 17
    assert mnist_encoding_model().n_qubits == 19
    assert mnist_model(size=8).n_qubits == 65
    with pytest.raises(ValueError, match="unknown problem"):
        paper_model("cifar")


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


def test_hand_computed_tiny_network():
    # 1-2-1 network, activation choice sigmoid/relu (bit 0), weights σ → 2σ−1
    model = AugmentedBiNN((1, 2, 1), activations=("sigmoid", "relu"), loss="mse")
    names = model.parameter_names()
    assert names == ["activation[0]", "W1[0,0]", "W1[0,1]", "b1[0]", "b1[1]",
                     "W2[0,0]", "W2[1,0]", "b2[0]"]
    data = Dataset(np.array([[0.5], [-2.0]]), np.array([1, 0]))
    # relu; W1 = (1, -1), b1 = (-1, 1), W2 = (1, 1), b2 = -1
    bits = np.array([1, 1, 0, 0, 1, 1, 1, 0], dtype=np.uint8)
    out = []
    for x in (0.5, -2.0):
        h = np.maximum([x - 1, -x + 1], 0)
        out.append(_sigmoid(h[0] + h[1] - 1))
    expected = ((out[0] - 1) ** 2 + out[1] ** 2) / 2
    assert np.isclose(model.cost(bits[None], data)[0], expected, rtol=1e-12)
    # the same with sigmoid hidden units (flip the choice bit)
    bits[0] = 0
    out = [_sigmoid(_sigmoid(x - 1) + _sigmoid(-x + 1) - 1) for x in (0.5, -2.0)]
    assert np.isclose(model.cost(bits[None], data)[0], ((out[0] - 1) ** 2 + out[1] ** 2) / 2)


def test_cross_entropy_and_encodings_by_hand():
    model = mnist_encoding_model(size=1)  # 2 encoding bits, w, b
    data = Dataset(np.array([[0.3], [0.8]]), np.array([0, 1]))
    for e, (lo, hi) in enumerate(ENCODINGS):
        for w_bit in (0, 1):
            for b_bit in (0, 1):
                bits = np.array([e >> 1, e & 1, w_bit, b_bit], dtype=np.uint8)
                w, b = (hi if w_bit else lo), (hi if b_bit else lo)
                p = _sigmoid(np.array([0.3, 0.8]) * w + b)
                ce = -(np.log(1 - p[0]) + np.log(p[1])) / 2
                assert np.isclose(model.cost(bits[None], data)[0], ce, rtol=1e-12)


def test_width_choice_ignores_unused_unit():
    model = gaussian_width_model()
    data = gaussian_mixture(50, seed=0)
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, size=(20, 15)).astype(np.uint8)
    bits[:, 1] = 0  # width 2
    names = model.parameter_names()
    unit3 = [names.index(p) for p in ("W1[0,2]", "W1[1,2]", "b1[2]", "W2[2,0]")]
    flipped = bits.copy()
    flipped[:, unit3] ^= 1
    assert np.allclose(model.cost(bits, data), model.cost(flipped, data))
    bits[:, 1] = 1  # width 3: the third unit matters again
    flipped[:, 1] = 1
    assert not np.allclose(model.cost(bits, data), model.cost(flipped, data))


def test_unused_choice_codes_wrap():
    model = AugmentedBiNN((2, 2, 1), activations=("sigmoid", "relu", "tanh"))
    assert model.activation_bits == 2
    data = gaussian_mixture(20, seed=0)
    b = index_to_bits(np.arange(2**model.n_qubits)[:64], model.n_qubits)
    b3 = b.copy()
    b0 = b.copy()
    b3[:, :2] = 1  # code 3 → option 3 mod 3 = 0
    b0[:, :2] = 0
    assert np.allclose(model.cost(b3, data), model.cost(b0, data))


def test_describe_and_classifier():
    model = gaussian_width_model()
    data = gaussian_mixture(100, seed=0)
    bits = index_to_bits(25959, 15)
    d = model.describe(bits)
    assert d["activation"] in ("sigmoid", "relu") and d["width"] in (2, 3)
    assert "activation=" in d["text"] and "width=" in d["text"] and "encoding=" in d["text"]
    clf = model.classifier(bits)
    pred = clf.predict(data.x)
    assert pred.shape == (100,) and set(np.unique(pred)) <= {0, 1}
    assert clf.accuracy(data) == np.mean(pred == data.y)


def test_bad_input_gives_clear_errors():
    model = gaussian_activation_model()
    data = gaussian_mixture(10, seed=0)
    with pytest.raises(ValueError, match=r"shape \(M, 14\)"):
        model.cost(np.zeros((3, 13), dtype=np.uint8), data)
    with pytest.raises(ValueError, match="only 0 and 1"):
        model.cost(np.full((1, 14), 2), data)
    with pytest.raises(ValueError, match="inputs"):
        mnist_model().cost(np.zeros((1, 17)), data)
    with pytest.raises(ValueError, match="unknown activation"):
        AugmentedBiNN((2, 1), activations=("swish",))
