import numpy as np
import pytest

from pyqhn.bits import bits_to_index, index_to_bits
from pyqhn.checks import InputError
from pyqhn.datasets import Dataset, gaussian_mixture
from pyqhn.models import (
    ENCODINGS,
    AugmentedBiNN,
    gaussian_activation_model,
    gaussian_width_model,
    mnist_encoding_model,
    mnist_model,
)


@pytest.mark.parametrize("layout", ["original", "choices-first"])
def test_paper_problems_have_the_stated_sizes(layout):
    assert gaussian_activation_model(layout).n_qubits == 14
    assert gaussian_width_model(layout).n_qubits == 15
    assert mnist_model(layout=layout).n_qubits == 17
    assert mnist_encoding_model(layout=layout).n_qubits == 19
    assert mnist_model(size=8).n_qubits == 65


def _sigmoid(z):
    return 1 / (1 + np.exp(-z))


TINY_NAMES = {
    "choices-first": ["activation[0]", "W1[0,0]", "W1[0,1]", "b1[0]", "b1[1]",
                      "W2[0,0]", "W2[1,0]", "b2[0]"],
    # the notebooks' order: weights layer by layer, biases in reverse, the choice last
    "original": ["W1[0,0]", "W1[0,1]", "W2[0,0]", "W2[1,0]", "b2[0]", "b1[0]", "b1[1]",
                 "activation[0]"],
}


@pytest.mark.parametrize("layout", ["original", "choices-first"])
def test_hand_computed_tiny_network(layout):
    # 1-2-1 network, activation choice sigmoid/relu (code 0 sigmoid), weights σ → 2σ−1
    model = AugmentedBiNN((1, 2, 1), activations=("sigmoid", "relu"), loss="mse",
                          layout=layout)
    names = model.parameter_names()
    assert names == TINY_NAMES[layout]
    data = Dataset(np.array([[0.5], [-2.0]]), np.array([1, 0]))
    # relu; W1 = (1, -1), b1 = (-1, 1), W2 = (1, 1), b2 = -1
    value = {"activation[0]": 1, "W1[0,0]": 1, "W1[0,1]": 0, "b1[0]": 0, "b1[1]": 1,
             "W2[0,0]": 1, "W2[1,0]": 1, "b2[0]": 0}
    bits = np.array([value[n] for n in names], dtype=np.uint8)
    out = []
    for x in (0.5, -2.0):
        h = np.maximum([x - 1, -x + 1], 0)
        out.append(_sigmoid(h[0] + h[1] - 1))
    expected = ((out[0] - 1) ** 2 + out[1] ** 2) / 2
    assert np.isclose(model.cost(bits[None], data)[0], expected, rtol=1e-12)
    # the same with sigmoid hidden units (flip the choice bit)
    bits[names.index("activation[0]")] = 0
    out = [_sigmoid(_sigmoid(x - 1) + _sigmoid(-x + 1) - 1) for x in (0.5, -2.0)]
    assert np.isclose(model.cost(bits[None], data)[0], ((out[0] - 1) ** 2 + out[1] ** 2) / 2)


@pytest.mark.parametrize("layout", ["original", "choices-first"])
def test_cross_entropy_and_encodings_by_hand(layout):
    model = mnist_encoding_model(size=1, layout=layout)  # w, b and 2 encoding bits
    data = Dataset(np.array([[0.3], [0.8]]), np.array([0, 1]))
    for e, (lo, hi) in enumerate(ENCODINGS):
        for w_bit in (0, 1):
            for b_bit in (0, 1):
                if layout == "original":  # Fig. 5 notebook: encoding bits last
                    bits = np.array([w_bit, b_bit, e >> 1, e & 1], dtype=np.uint8)
                else:
                    bits = np.array([e >> 1, e & 1, w_bit, b_bit], dtype=np.uint8)
                w, b = (hi if w_bit else lo), (hi if b_bit else lo)
                p = _sigmoid(np.array([0.3, 0.8]) * w + b)
                ce = -(np.log(1 - p[0]) + np.log(p[1])) / 2
                assert np.isclose(model.cost(bits[None], data)[0], ce, rtol=1e-12)


@pytest.mark.parametrize("layout", ["original", "choices-first"])
def test_width_choice_ignores_unused_unit(layout):
    model = gaussian_width_model(layout)
    data = gaussian_mixture(50, seed=0)
    rng = np.random.default_rng(1)
    bits = rng.integers(0, 2, size=(20, 15)).astype(np.uint8)
    width = model.parameter_index("width[0]")
    bits[:, width] = 0  # width 2
    names = model.parameter_names()
    unit3 = [names.index(p) for p in ("W1[0,2]", "W1[1,2]", "b1[2]", "W2[2,0]")]
    flipped = bits.copy()
    flipped[:, unit3] ^= 1
    assert np.allclose(model.cost(bits, data), model.cost(flipped, data))
    bits[:, width] = 1  # width 3: the third unit matters again
    flipped[:, width] = 1
    assert not np.allclose(model.cost(bits, data), model.cost(flipped, data))


@pytest.mark.parametrize("layout", ["original", "choices-first"])
def test_unused_choice_codes_wrap(layout):
    model = AugmentedBiNN((2, 2, 1), activations=("sigmoid", "relu", "tanh"), layout=layout)
    assert model.activation_bits == 2
    act = [model.parameter_index(f"activation[{k}]") for k in range(2)]
    data = gaussian_mixture(20, seed=0)
    b = index_to_bits(np.arange(2**model.n_qubits)[:64], model.n_qubits)
    b3 = b.copy()
    b0 = b.copy()
    b3[:, act] = 1  # code 3 → option 3 mod 3 = 0
    b0[:, act] = 0
    assert np.allclose(model.cost(b3, data), model.cost(b0, data))
    b1 = b.copy()
    b1[:, act] = (0, 1)  # code 1: relu, another network
    assert not np.allclose(model.cost(b1, data), model.cost(b0, data))


def test_original_layouts_of_the_paper_problems():
    # Fig. 2 notebook: W1 (input × hidden, row-major), W2, b2, b1, then the activation
    w1 = [f"W1[{i},{o}]" for i in range(2) for o in range(3)]
    w2 = [f"W2[{o},0]" for o in range(3)]
    b1 = [f"b1[{o}]" for o in range(3)]
    assert gaussian_activation_model().parameter_names() == (
        w1 + w2 + ["b2[0]"] + b1 + ["activation[0]"])
    # Fig. 3: W1, W2, b2, b1, N_hid, activation
    assert gaussian_width_model().parameter_names() == (
        w1 + w2 + ["b2[0]"] + b1 + ["width[0]", "activation[0]"])
    # Fig. 5: pixel weights, bias, then the two encoding bits (MSB first)
    assert mnist_encoding_model().parameter_names()[-3:] == ["b1[0]", "encoding[0]",
                                                             "encoding[1]"]
    # the notebook's activation qubit: 1 (value +1) is sigmoid, 0 (value −1) ReLU
    m = gaussian_activation_model()
    row = np.zeros(14, dtype=np.uint8)
    assert m.describe(row)["activation"] == "relu"
    row[13] = 1
    assert m.describe(row)["activation"] == "sigmoid"
    assert mnist_model().encodings == ((-3.0, 1.0),)
    assert mnist_model().parameter_names() == mnist_model(layout="choices-first").parameter_names()


def test_deeper_net_original_rule_weights_forward_biases_backward():
    model = AugmentedBiNN((1, 1, 1, 1), activations=("sigmoid", "relu"), widths=(1,))
    assert model.parameter_names() == ["W1[0,0]", "W2[0,0]", "W3[0,0]", "b3[0]", "b2[0]",
                                       "b1[0]", "activation[0]"]


@pytest.mark.parametrize("make", [gaussian_activation_model, gaussian_width_model])
def test_layouts_are_permutations_of_one_table(make):
    data = gaussian_mixture(40, seed=3)
    orig, first = make("original"), make("choices-first")
    n = orig.n_qubits
    k = np.arange(2**n)
    c_orig = orig.cost(index_to_bits(k, n), data)
    c_first = first.cost(index_to_bits(k, n), data)
    perm = bits_to_index(orig.convert_bits(index_to_bits(k, n), first))
    assert np.array_equal(np.sort(perm), k)  # a permutation of the indices
    np.testing.assert_allclose(c_first[perm], c_orig, rtol=0, atol=1e-12)
    assert not np.allclose(c_first, c_orig)  # the layouts do differ
    # one network built by names in both layouts: the same network, the same cost
    rng = np.random.default_rng(0)
    weights = {name: int(rng.integers(2)) for name in orig.parameter_names()
               if name[0] in "Wb"}
    choice = dict(activation="relu") | ({"width": 2} if orig.widths else {})
    a, b = orig.bits_for(weights=weights, **choice), first.bits_for(weights=weights, **choice)
    assert a.tolist() != b.tolist()
    da, db = orig.describe(a), first.describe(b)
    for key in ("activation", "width", "encoding", "weights", "biases"):
        assert da[key] == db[key]
    assert np.array_equal(orig.convert_bits(a, first)[0], b)
    assert orig.cost(a, data)[0] == first.cost(b, data)[0]


def test_parts_and_first_layer_positions_follow_the_layout():
    model = gaussian_width_model()  # original: choice bits at 13 (width), 14 (activation)
    assert model.choice_params() == [13, 14]
    assert model.weight_params() == list(range(13))
    assert model.first_layer_weight_params(1) == [3, 4, 5]
    first = gaussian_width_model("choices-first")
    assert first.choice_params() == [0, 1] and first.first_layer_weight_params(1) == [5, 6, 7]
    choice = np.array([[1, 0]])
    weights = np.arange(13)[None, :] % 2
    bits = model.bits_from_parts(choice, weights)
    assert bits[0, 13:].tolist() == [1, 0] and bits[0, :13].tolist() == weights[0].tolist()


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
    with pytest.raises(InputError, match="unknown layout 'weights-first'.*'original'"):
        AugmentedBiNN((2, 1), layout="weights-first")
    with pytest.raises(InputError, match="unknown layout"):
        gaussian_activation_model("notebook")
    with pytest.raises(InputError, match="activation='tanh'.*choose"):
        model.bits_for(weights={}, activation="tanh")
    with pytest.raises(InputError, match="missing"):
        model.bits_for(weights={"W1[0,0]": 1}, activation="relu")
    with pytest.raises(InputError, match="encoding needs two different"):
        mnist_model(encoding=(1, 1))
