"""Augmented binary neural networks (BiNNs), described declaratively.

An :class:`AugmentedBiNN` maps a bit row (one value per qubit, see :mod:`pyqhn.bits`) to a
feed-forward network and its training loss. Its ``n_qubits`` model parameters are laid out
as follows (parameter 0 is the MOST significant bit of the cost-table index, site N):

1. **choice bits first**, each choice as a binary code, most significant bit first:
   the hidden activation (``ceil(log2 len(activations))`` bits), then the hidden width
   (``ceil(log2 len(widths))`` bits), then the weight encoding
   (``ceil(log2 len(encodings))`` bits). A choice with one option takes no bits. A code
   ``c >= k`` (unused codes when ``k`` is not a power of two) selects option ``c mod k``.
2. **then the weights and biases, layer by layer**: for layer ``l`` (inputs ``a``, outputs
   ``b``) the ``a·b`` weights ``W_l[i, o]`` row-major (input ``i`` major), then the ``b``
   biases ``b_l[o]``.

Because choices come first, the cost table restricted to one choice value is a contiguous
block: e.g. block ``e`` of :func:`mnist_encoding_model`'s table (length ``2**17``) is the
table of the 17-qubit model with encoding ``e``.

A weight bit ``σ`` becomes ``lo + (hi − lo)·σ`` for the chosen encoding ``(lo, hi)``
(``(−1, 1)`` is the paper's σ → 2σ−1). Hidden layers use the chosen activation; a hidden
width ``w`` keeps the first ``w`` units of every hidden layer (the others output 0, their
weights are ignored). The output layer has one unit with ``output_activation`` (sigmoid);
the loss is the mean over samples of ``(p − y)²`` (``"mse"``) or binary cross-entropy of
the logit (``"cross_entropy"``).

The four problems of the paper (bit layouts in each factory's docstring):
:func:`gaussian_activation_model` (N=14), :func:`gaussian_width_model` (N=15),
:func:`mnist_model` (N=17), :func:`mnist_encoding_model` (N=19).
"""

from __future__ import annotations

import math
from dataclasses import dataclass, field
from functools import partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .bits import bits_to_index, bits_to_string, index_to_bits
from .checks import InputError
from .datasets import Dataset, as_dataset

__all__ = [
    "ACTIVATIONS",
    "ENCODINGS",
    "AugmentedBiNN",
    "BiNNClassifier",
    "gaussian_activation_model",
    "gaussian_width_model",
    "mnist_model",
    "mnist_encoding_model",
    "paper_model",
    "PAPER_PROBLEMS",
    "group_samples",
    "index_description",
]


def _sigmoid(z: jax.Array) -> jax.Array:
    return jax.nn.sigmoid(z)


def _softplus(z: jax.Array) -> jax.Array:
    # log(1 + e^z), stable and much faster on CPU than jnp.logaddexp
    return jnp.maximum(z, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(z)))


#: Activation functions by name.
ACTIVATIONS = {
    "sigmoid": _sigmoid,
    "relu": lambda z: jnp.maximum(z, 0.0),
    "tanh": jnp.tanh,
    "identity": lambda z: z,
    "sign": lambda z: jnp.where(z >= 0, 1.0, -1.0),
}

#: The weight encodings of the paper's Fig. 5, as (value of bit 0, value of bit 1).
ENCODINGS: tuple[tuple[float, float], ...] = ((0.0, 1.0), (-1.0, 1.0), (-2.0, 1.0), (-3.0, 1.0))

_LOSSES = ("mse", "cross_entropy")


def _n_code_bits(k: int) -> int:
    return math.ceil(math.log2(k)) if k > 1 else 0


def _fmt(v: float) -> str:
    return f"{v:g}"


@dataclass(frozen=True)
class AugmentedBiNN:
    """A feed-forward BiNN with optional activation, width and encoding choices.

    Args:
        layers: sizes ``(n_inputs, hidden_1, …, 1)``; hidden sizes are the maximal widths.
        activations: names (keys of :data:`ACTIVATIONS`) the hidden activation is chosen from.
        widths: hidden widths chosen from (``None``: the full width, no choice bits).
        encodings: ``(lo, hi)`` value pairs the weight encoding is chosen from.
        loss: ``"mse"`` or ``"cross_entropy"`` (the latter needs a sigmoid output).
        output_activation: the output unit's activation.
        name: a label used in metadata.
    """

    layers: tuple[int, ...]
    activations: tuple[str, ...] = ("sigmoid",)
    widths: tuple[int, ...] | None = None
    encodings: tuple[tuple[float, float], ...] = ((-1.0, 1.0),)
    loss: str = "mse"
    output_activation: str = "sigmoid"
    name: str = ""

    def __post_init__(self) -> None:
        layers = tuple(int(v) for v in self.layers)
        if len(layers) < 2 or any(v < 1 for v in layers):
            raise InputError(f"layers must be at least (n_inputs, 1) with positive sizes: {layers}")
        if layers[-1] != 1:
            raise InputError(f"the output layer must have one unit (binary labels), got {layers}")
        acts = tuple(self.activations)
        for a in (*acts, self.output_activation):
            if a not in ACTIVATIONS:
                raise InputError(f"unknown activation {a!r}; choose from {sorted(ACTIVATIONS)}")
        if not acts:
            raise InputError("activations needs at least one name")
        widths = None if self.widths is None else tuple(int(w) for w in self.widths)
        if widths is not None:
            if len(layers) < 3:
                raise InputError("a width choice needs at least one hidden layer")
            if not widths or any(not 1 <= w <= min(layers[1:-1]) for w in widths):
                raise InputError(
                    f"widths {widths} must lie in 1..{min(layers[1:-1])} (the hidden sizes)"
                )
        encs = tuple((float(lo), float(hi)) for lo, hi in self.encodings)
        if not encs:
            raise InputError("encodings needs at least one (lo, hi) pair")
        if self.loss not in _LOSSES:
            raise InputError(f"unknown loss {self.loss!r}; choose from {_LOSSES}")
        if self.loss == "cross_entropy" and self.output_activation != "sigmoid":
            raise InputError("cross_entropy needs output_activation='sigmoid'")
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "activations", acts)
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "encodings", encs)

    # ----------------------------------------------------------------- layout

    @property
    def activation_bits(self) -> int:
        return _n_code_bits(len(self.activations))

    @property
    def width_bits(self) -> int:
        return 0 if self.widths is None else _n_code_bits(len(self.widths))

    @property
    def encoding_bits(self) -> int:
        return _n_code_bits(len(self.encodings))

    @property
    def n_choice_bits(self) -> int:
        return self.activation_bits + self.width_bits + self.encoding_bits

    @property
    def n_weights(self) -> int:
        """Number of weight and bias bits."""
        return sum(a * b + b for a, b in self._layer_pairs())

    @property
    def n_qubits(self) -> int:
        """N: choice bits plus weight and bias bits."""
        return self.n_choice_bits + self.n_weights

    @property
    def n_inputs(self) -> int:
        return self.layers[0]

    def _layer_pairs(self) -> list[tuple[int, int]]:
        """(inputs, outputs) of every layer."""
        return list(zip(self.layers[:-1], self.layers[1:], strict=True))

    def parameter_names(self) -> list[str]:
        """Name of every model parameter, parameter 0 (most significant bit) first."""
        names = [f"activation[{i}]" for i in range(self.activation_bits)]
        names += [f"width[{i}]" for i in range(self.width_bits)]
        names += [f"encoding[{i}]" for i in range(self.encoding_bits)]
        for lay, (a, b) in enumerate(self._layer_pairs(), start=1):
            names += [f"W{lay}[{i},{o}]" for i in range(a) for o in range(b)]
            names += [f"b{lay}[{o}]" for o in range(b)]
        return names

    def first_layer_weight_params(self, feature: int) -> list[int]:
        """Parameter indices of the first-layer weights leaving input ``feature``."""
        h = self.layers[1]
        start = self.n_choice_bits + feature * h
        return list(range(start, start + h))

    # ----------------------------------------------------------------- decoding

    def _check_bits(self, bits: np.ndarray) -> np.ndarray:
        bits = np.asarray(bits)
        if bits.ndim == 1:
            bits = bits[None, :]
        if bits.ndim != 2 or bits.shape[1] != self.n_qubits:
            raise InputError(
                f"bits must have shape (M, {self.n_qubits}) for this model, got {bits.shape}"
            )
        if np.any((bits != 0) & (bits != 1)):
            raise InputError("bits must contain only 0 and 1")
        return bits.astype(np.uint8)

    def _codes(self, bits: Any, xp: Any = np) -> tuple[Any, Any, Any]:
        """Activation, width and encoding choice indices, each (M,) int."""
        out, pos = [], 0
        for nb, k in (
            (self.activation_bits, len(self.activations)),
            (self.width_bits, 1 if self.widths is None else len(self.widths)),
            (self.encoding_bits, len(self.encodings)),
        ):
            code = xp.zeros(bits.shape[0], dtype=xp.int64)
            for i in range(nb):
                code = code * 2 + bits[:, pos + i].astype(xp.int64)
            pos += nb
            out.append(code % k)
        return out[0], out[1], out[2]

    def decode(self, bits: np.ndarray) -> list[dict[str, Any]]:
        """Readable description of every bit row: (M, N) bits → list of M dicts.

        Each dict has ``bits`` (string, parameter 0 first), ``index`` (cost-table index),
        ``activation``, ``width`` (or ``None``), ``encoding`` (lo, hi), and ``weights`` /
        ``biases`` (lists of per-layer nested lists of values).
        """
        bits = self._check_bits(bits)
        act, wid, enc = self._codes(bits)
        out = []
        for m in range(bits.shape[0]):
            lo, hi = self.encodings[enc[m]]
            vals = lo + (hi - lo) * bits[m, self.n_choice_bits :].astype(np.float64)
            weights, biases, pos = [], [], 0
            for a, b in self._layer_pairs():
                weights.append(vals[pos : pos + a * b].reshape(a, b).tolist())
                pos += a * b
                biases.append(vals[pos : pos + b].tolist())
                pos += b
            out.append(
                {
                    "bits": bits_to_string(bits[m]),
                    "index": int(bits_to_index(bits[m])),
                    "activation": self.activations[act[m]] if len(self.layers) > 2 else None,
                    "width": None if self.widths is None else self.widths[wid[m]],
                    "encoding": [lo, hi],
                    "weights": weights,
                    "biases": biases,
                }
            )
        return out

    def describe(self, bits: np.ndarray) -> dict[str, Any]:
        """Readable description of one bit row (N,) (see :meth:`decode`) plus a ``text`` line."""
        bits = np.asarray(bits)
        if bits.ndim != 1:
            raise InputError(f"describe takes one bit row of shape ({self.n_qubits},)")
        d = self.decode(bits)[0]
        parts = []
        if d["activation"] is not None:
            parts.append(f"activation={d['activation']}")
        if d["width"] is not None:
            parts.append(f"width={d['width']}")
        parts.append(f"encoding={{{_fmt(d['encoding'][0])},{_fmt(d['encoding'][1])}}}")
        for lay, (w, b) in enumerate(zip(d["weights"], d["biases"], strict=True), start=1):
            wflat = " ".join(_fmt(v) for row in w for v in row)
            parts.append(f"W{lay}=[{wflat}] b{lay}=[{' '.join(_fmt(v) for v in b)}]")
        d["text"] = f"{d['bits']}: " + ", ".join(parts)
        return d

    # ----------------------------------------------------------------- forward

    def _logits_or_output(self, bits: jax.Array, x: jax.Array) -> jax.Array:
        """Pre-activation of the output unit, (M, S), for float bits (M, N) and x (S, d)."""
        act, wid, enc = self._codes(bits, jnp)
        lo = jnp.asarray([e[0] for e in self.encodings])[enc][:, None]
        hi = jnp.asarray([e[1] for e in self.encodings])[enc][:, None]
        vals = lo + (hi - lo) * bits[:, self.n_choice_bits :]
        m = bits.shape[0]
        h = None  # (M, units, S)
        pos = 0
        n_layers = len(self.layers) - 1
        for lay, (a, b) in enumerate(self._layer_pairs()):
            w = vals[:, pos : pos + a * b].reshape(m, a, b)
            pos += a * b
            bias = vals[:, pos : pos + b]
            pos += b
            if h is None:  # one plain matrix product for the whole chunk
                z = (jnp.swapaxes(w, 1, 2).reshape(m * b, a) @ x.T).reshape(m, b, -1)
            else:
                z = jnp.einsum("mdo,mds->mos", w, h)
            z = z + bias[:, :, None]
            if lay == n_layers - 1:
                return z[:, 0, :]
            if len(self.activations) == 1:
                h = ACTIVATIONS[self.activations[0]](z)
            else:
                h = sum(
                    jnp.where((act == c)[:, None, None], ACTIVATIONS[name](z), 0.0)
                    for c, name in enumerate(self.activations)
                )
            if self.widths is not None:
                width = jnp.asarray(self.widths)[wid]
                h = h * (jnp.arange(b)[None, :] < width[:, None])[:, :, None]
        raise AssertionError("unreachable")

    def output(self, bits: Any, x: Any) -> jax.Array:
        """Network output (M, S) (after the output activation) for bits (M, N), x (S, d)."""
        z = self._logits_or_output(jnp.asarray(bits, dtype=jnp.float64), jnp.asarray(x))
        return ACTIVATIONS[self.output_activation](z)

    def _grouped_loss(self, bits: jax.Array, xu: jax.Array, n0: jax.Array, n1: jax.Array):
        """Mean loss (M,) over samples grouped as unique rows xu with class counts n0, n1."""
        z = self._logits_or_output(bits, xu)
        total = jnp.sum(n0) + jnp.sum(n1)
        if self.loss == "cross_entropy":
            per = (n0 + n1) * _softplus(z) - n1 * z
        else:
            p = ACTIVATIONS[self.output_activation](z)
            per = n0 * p**2 + n1 * (1.0 - p) ** 2
        return jnp.sum(per, axis=1) / total

    def cost(self, bits: np.ndarray, data: Dataset) -> np.ndarray:
        """Training loss of each bit row: bits (M, N) in {0, 1} → (M,) float64."""
        bits = self._check_bits(bits)
        xu, n0, n1 = group_samples(data, self.n_inputs)
        return np.asarray(_loss_jit(self, jnp.asarray(bits, jnp.float64), xu, n0, n1))

    def classifier(self, bits: np.ndarray) -> BiNNClassifier:
        """The network of one bit row (N,) as a classifier with ``predict`` / ``accuracy``."""
        bits = self._check_bits(bits)
        if bits.shape[0] != 1:
            raise InputError("classifier takes one bit row")
        return BiNNClassifier(self, bits[0])


def group_samples(data: Dataset, n_inputs: int | None = None) -> tuple[jax.Array, ...]:
    """Unique feature rows (U, d) with counts of labels 0 and 1 (U,) each.

    The loss of a binary classifier depends on the data only through these, and MNIST's
    4×4 images repeat (2128 zeros and ones have 1478 distinct images), so grouping saves work.
    """
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a pyqhn.datasets.Dataset, got {type(data).__name__}")
    if n_inputs is not None and data.n_features != n_inputs:
        raise InputError(
            f"the model takes {n_inputs} inputs but the data have {data.n_features} features"
        )
    if data.n_samples == 0:
        raise InputError("the dataset is empty; the loss needs at least one sample")
    if np.any((data.y != 0) & (data.y != 1)):
        raise InputError("labels must be 0 or 1 for a BiNN with one output unit")
    xu, inv = np.unique(data.x, axis=0, return_inverse=True)
    inv = inv.reshape(-1)
    n1 = np.bincount(inv, weights=data.y, minlength=len(xu))
    n0 = np.bincount(inv, minlength=len(xu)) - n1
    return jnp.asarray(xu), jnp.asarray(n0, jnp.float64), jnp.asarray(n1, jnp.float64)


@partial(jax.jit, static_argnums=0)
def _loss_jit(model: AugmentedBiNN, bits, xu, n0, n1):
    return model._grouped_loss(bits, xu, n0, n1)


@dataclass(frozen=True)
class BiNNClassifier:
    """One network of an augmented model, with scikit-learn's classifier conventions.

    ``predict(X)`` → labels ``(n,)``; ``predict_proba(X)`` → ``(n, 2)`` with columns
    ``P(y=0), P(y=1)`` where ``P(y=1) = σ(z)``, ``z`` the output unit's pre-activation (for
    the paper's sigmoid output this is the network's output); ``score(X, y)`` → accuracy;
    ``classes_ = [0, 1]``. ``output(X)`` is the network's output unit after its activation.
    """

    model: AugmentedBiNN
    bits: np.ndarray
    classes_: np.ndarray = field(default_factory=lambda: np.array([0, 1]), init=False)

    def _x(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.model.n_inputs:
            raise InputError(f"X must have shape (n_samples, {self.model.n_inputs}), got "
                             f"{x.shape}")
        return x

    def decision_function(self, x: Any) -> np.ndarray:
        """Pre-activation ``z`` of the output unit, ``(n,)``; the label is ``z > 0``."""
        bits = jnp.asarray(self.bits[None, :], dtype=jnp.float64)
        return np.asarray(self.model._logits_or_output(bits, jnp.asarray(self._x(x))))[0]

    def output(self, x: Any) -> np.ndarray:
        """The network's output ``(n,)`` (after the output activation)."""
        return np.asarray(self.model.output(self.bits[None, :], self._x(x)))[0]

    def predict_proba(self, x: Any) -> np.ndarray:
        """Class probabilities ``(n, 2)``: ``[1 − σ(z), σ(z)]``."""
        p1 = 1.0 / (1.0 + np.exp(-self.decision_function(x)))
        return np.stack([1.0 - p1, p1], axis=1)

    def predict(self, x: Any) -> np.ndarray:
        """Class labels ``(n,)`` int64: 1 where ``z > 0`` (output above ½ for a sigmoid)."""
        return (self.decision_function(x) > 0).astype(np.int64)

    def score(self, x: Any, y: Any) -> float:
        """Accuracy on ``(X, y)``: the fraction of samples classified correctly."""
        y = np.asarray(y)
        x = self._x(x)
        if y.shape != (x.shape[0],):
            raise InputError(f"y must have shape ({x.shape[0]},) to match X, got {y.shape}")
        return float(np.mean(self.predict(x) == y))

    def accuracy(self, data: Dataset | tuple[Any, Any]) -> float:
        """Accuracy on a :class:`~pyqhn.datasets.Dataset` or an ``(X, y)`` pair."""
        data = as_dataset(data)
        return self.score(data.x, data.y)

    def describe(self) -> dict[str, Any]:
        return self.model.describe(self.bits)


# --------------------------------------------------------------------------- the paper


def gaussian_activation_model() -> AugmentedBiNN:
    """Fig. 2: BiNN 2–3–1 on the Gaussian mixture, hidden activation sigmoid or ReLU. N = 14.

    Layout (parameter index: meaning): 0: activation (0 sigmoid, 1 ReLU); 1–6: W1[i, o]
    (i = input 0..1, o = hidden 0..2, row-major); 7–9: b1; 10–12: W2[o, 0]; 13: b2.
    Weights and biases σ → 2σ−1 ∈ {−1, 1}; output sigmoid; MSE loss.
    """
    return AugmentedBiNN(
        (2, 3, 1), activations=("sigmoid", "relu"), loss="mse", name="gaussian-activation"
    )


def gaussian_width_model() -> AugmentedBiNN:
    """Fig. 3: as :func:`gaussian_activation_model` plus a hidden-width choice 2 or 3. N = 15.

    Layout: 0: activation (0 sigmoid, 1 ReLU); 1: width (0 → 2, 1 → 3); 2–7: W1;
    8–10: b1; 11–13: W2; 14: b2. With width 2 the third hidden unit's bits are ignored.
    """
    return AugmentedBiNN(
        (2, 3, 1), activations=("sigmoid", "relu"), widths=(2, 3), loss="mse",
        name="gaussian-width",
    )


def mnist_model(size: int = 4, encoding: tuple[float, float] = (0.0, 1.0)) -> AugmentedBiNN:
    """Fig. 4: logistic regression on size×size MNIST, cross-entropy. N = size² + 1 (17).

    Layout: 0..size²−1: weight of pixel (r, c) at index r·size + c (row-major); last: bias.
    Default encoding {0, 1} as in the paper. On non-negative pixels every logit is then
    ≥ 0, so C* stays near ln 2 (see CONVENTIONS.md); pass ``encoding=(-1, 1)`` for weights
    in {−1, 1}.

    Reproducing the original 17-qubit table (shared/reference, C* ≈ 0.3269): NOT achieved.
    On the shipped 0/1 digits (bilinear 4×4) {0, 1} gives C* = 0.6835 and {−1, 1} gives
    C* = 0.4630 (correlation 0.49 with the reference table). Single-bit flips confirm this
    layout (row-major pixels, bias last: the same pixels matter, the always-zero pixels
    0, 3, 4, 12 are inert or nearly so in the reference). Area resampling, column-major
    order, flipped labels, encodings {1,0}, {1,−1}, standardised or centred pixels do not
    match either; the closest (correlation 0.98, C* = 0.525) is weights {−1, 0}. A fit
    z = a·Σσᵢxᵢ + b·σ_b + c + d·Σxᵢ matches the reference to 0.05 (a ≈ 3.5, b ≈ 3.9,
    c ≈ −3.1, d ≈ −2.5), so the original seems to use rescaled features and/or another
    encoding and sample set that we could not pin down.
    """
    return AugmentedBiNN(
        (size * size, 1), encodings=(tuple(encoding),), loss="cross_entropy", name="mnist"
    )


def mnist_encoding_model(size: int = 4) -> AugmentedBiNN:
    """Fig. 5: :func:`mnist_model` plus two bits choosing the encoding. N = size² + 3 (19).

    Layout: 0–1: encoding code (MSB first): 0 {0,1}, 1 {−1,1}, 2 {−2,1}, 3 {−3,1};
    2..size²+1: pixel weights row-major; last: bias. Block e (length 2**(N−2)) of the cost
    table is the table of ``mnist_model(size, ENCODINGS[e])``.
    """
    return AugmentedBiNN(
        (size * size, 1), encodings=ENCODINGS, loss="cross_entropy", name="mnist-encoding"
    )


#: CLI problem names.
PAPER_PROBLEMS = ("gaussian-activation", "gaussian-width", "mnist", "mnist-encoding")


def paper_model(problem: str, size: int = 4) -> AugmentedBiNN:
    """The model of a paper problem by its CLI name (see :data:`PAPER_PROBLEMS`)."""
    if problem == "gaussian-activation":
        return gaussian_activation_model()
    if problem == "gaussian-width":
        return gaussian_width_model()
    if problem == "mnist":
        return mnist_model(size)
    if problem == "mnist-encoding":
        return mnist_encoding_model(size)
    raise InputError(f"unknown problem {problem!r}; choose from {', '.join(PAPER_PROBLEMS)}")


def index_description(model: AugmentedBiNN, index: int) -> dict[str, Any]:
    """:meth:`AugmentedBiNN.describe` of cost-table index ``index``."""
    return model.describe(index_to_bits(int(index), model.n_qubits))

