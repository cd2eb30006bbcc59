"""Augmented binary neural networks (BiNNs), described declaratively.

An :class:`AugmentedBiNN` maps a bit row (one value per qubit, see :mod:`pyqhn.bits`) to a
feed-forward network and its training loss. Its ``n_qubits`` model parameters are the
weight and bias bits of every layer plus the *choice bits* (hidden activation, hidden width,
weight encoding; each choice a binary code, most significant bit first, ``ceil(log2 k)``
bits for ``k`` options, none for one option; a code ``c >= k`` selects option ``c mod k``).
Parameter 0 is the MOST significant bit of the cost-table index (site N). Which parameter
sits where is the model's *layout* (:data:`LAYOUTS`), data rather than special cases:
:meth:`AugmentedBiNN.parameter_names` lists it, and decoding, the loss, the inert-input
shortcut of :mod:`pyqhn.cost` and the baselines all follow it.

``"original"`` (default: the original authors' notebooks, ``../shared/CONVENTIONS.md``)
    all weights layer by layer, ``W_1, …, W_L``, each ``W_l[i, o]`` row-major (inputs ×
    outputs, input ``i`` major); then the biases in REVERSE layer order ``b_L, …, b_1``;
    then the choice bits LAST: hidden width, hidden activation, weight encoding. For the
    paper's 2-layer nets this is the notebooks' ``W1, W2, b2, b1`` (+ ``N_hid``,
    activation for Fig. 3; + two encoding bits for Fig. 5). For ``L > 2`` layers we extend
    the rule literally (weights forward, biases backward); no original code has ``L > 2``.
``"choices-first"`` (this package's earlier layout)
    the choice bits FIRST (activation, width, encoding), then per layer ``W_l`` row-major
    then ``b_l``. The table restricted to one choice value is then a contiguous block.

Both layouts describe the same networks: the two tables are permutations of each other
(:meth:`AugmentedBiNN.convert_bits` maps one to the other).

A weight bit ``σ`` becomes ``lo + (hi − lo)·σ`` for the chosen encoding ``(lo, hi)``
(``(−1, 1)`` is the notebooks' σ → 2σ−1). Hidden layers use the chosen activation; a hidden
width ``w`` keeps the first ``w`` units of every hidden layer (the others output 0, their
weights are ignored). The output layer has one unit with ``output_activation`` (sigmoid)
for two classes; the loss is the mean over samples of ``(p − y)²`` (``"mse"``) or binary
cross-entropy of the logit (``"cross_entropy"``). With ``k > 1`` output units (``k``
classes, labels ``0 … k−1``) the loss is the softmax cross-entropy of the ``k`` logits
(``"cross_entropy"`` only). ``logit_scale="fan-in"`` divides the output logits by
``√fan-in`` (the output layer's inputs) before the link: with ±1 weights on ``d``
standardised features ``z`` is O(√d), a sigmoid or softmax saturates and one misclassified
sample costs O(√d); the scaled link keeps the loss O(1) (as
:class:`pyqhn.large_models.LinkChoiceLogistic`'s scaled sigmoid). Predictions
(``z > 0``, or the largest logit) do not depend on the scale; the cost does.

The four problems of the paper, built as the original code built them by default (bit
layouts in each factory's docstring): :func:`gaussian_activation_model` (N=14),
:func:`gaussian_width_model` (N=15), :func:`mnist_model` (N=17, weights in {−3, 1}, the
encoding of the authors' published table; :data:`MNIST_ENCODINGS` names the others),
:func:`mnist_encoding_model` (N=19, digits 3 vs 7 in the original, encoding bits last).
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import cached_property, partial
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .bits import bits_to_index, bits_to_string
from .checks import InputError
from .datasets import Dataset, as_dataset

__all__ = [
    "ACTIVATIONS",
    "ENCODINGS",
    "LAYOUTS",
    "MNIST_DIGITS",
    "MNIST_ENCODING",
    "MNIST_ENCODINGS",
    "encoding_label",
    "check_layout",
    "check_encoding",
    "AugmentedBiNN",
    "BiNNClassifier",
    "gaussian_activation_model",
    "gaussian_width_model",
    "mnist_model",
    "mnist_encoding_model",
    "class_counts",
    "LOGIT_SCALES",
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

#: The MNIST logistic-regression encodings with where each comes from (Fig. 4,
#: ``../shared/CONVENTIONS.md``):
#: {−3, 1} reproduces the original authors' published 17-qubit table (the default),
#: {−1, 1} is what the notebook in their repository writes, {0, 1} is the paper's text.
MNIST_ENCODINGS: dict[tuple[float, float], str] = {
    (-3.0, 1.0): "authors' table (w = 4σ − 3)",
    (-1.0, 1.0): "notebook (w = 2σ − 1)",
    (0.0, 1.0): "paper text (w = σ)",
}

#: Bit layouts of an augmented model (see the module docstring).
LAYOUTS = ("original", "choices-first")

_LOSSES = ("mse", "cross_entropy")

#: Output logit scales (:class:`AugmentedBiNN` ``logit_scale``).
LOGIT_SCALES = ("none", "fan-in")


def encoding_label(encoding: tuple[float, float], *, mnist: bool = True) -> str:
    """``"{lo,hi}"``, plus where it comes from when ``mnist`` and it is one of
    :data:`MNIST_ENCODINGS` (the origins are those of Fig. 4's logistic regression)."""
    lo, hi = (float(v) for v in encoding)
    name = f"{{{_fmt(lo)},{_fmt(hi)}}}"
    origin = MNIST_ENCODINGS.get((lo, hi)) if mnist else None
    return f"{name} ({origin})" if origin else name


def check_layout(layout: str) -> str:
    """``layout`` if it names a layout of :data:`LAYOUTS`, else an :class:`InputError`."""
    if layout not in LAYOUTS:
        raise InputError(
            f"unknown layout {layout!r}; use 'original' (the authors' notebooks: weights, "
            "biases in reverse layer order, choice bits last) or 'choices-first' (choice "
            "bits first, then W_l, b_l per layer)"
        )
    return layout


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
        loss: ``"mse"`` or ``"cross_entropy"`` (the latter needs a sigmoid output; with
            ``k > 1`` output units it is the softmax cross-entropy).
        output_activation: the output unit's activation (one output unit).
        logit_scale: ``"none"`` or ``"fan-in"`` (output logits divided by ``√fan-in``
            before the sigmoid or softmax; module docstring).
        name: a label used in metadata.
        layout: where each parameter sits, ``"original"`` (default) or ``"choices-first"``
            (:data:`LAYOUTS`, module docstring).
    """

    layers: tuple[int, ...]
    activations: tuple[str, ...] = ("sigmoid",)
    widths: tuple[int, ...] | None = None
    encodings: tuple[tuple[float, float], ...] = ((-1.0, 1.0),)
    loss: str = "mse"
    output_activation: str = "sigmoid"
    name: str = ""
    layout: str = "original"
    logit_scale: str = "none"

    def __post_init__(self) -> None:
        layers = tuple(int(v) for v in self.layers)
        if len(layers) < 2 or any(v < 1 for v in layers):
            raise InputError(f"layers must be at least (n_inputs, 1) with positive sizes: {layers}")
        if layers[-1] == 2:
            raise InputError(f"two classes need one output unit (its sigmoid is P(y=1)); use "
                             f"k >= 3 output units for k classes, got {layers}")
        if layers[-1] > 1 and self.loss != "cross_entropy":
            raise InputError(f"{layers[-1]} output units (classes) need "
                             "loss='cross_entropy' (softmax)")
        if self.logit_scale not in LOGIT_SCALES:
            raise InputError(f"unknown logit_scale {self.logit_scale!r}; choose from "
                             f"{LOGIT_SCALES}")
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
        check_layout(self.layout)
        object.__setattr__(self, "layers", layers)
        object.__setattr__(self, "activations", acts)
        object.__setattr__(self, "widths", widths)
        object.__setattr__(self, "encodings", encs)

    # ----------------------------------------------------------------- layout

    @property
    def activation_bits(self) -> int:
        """Bits choosing the activation: ``ceil(log2(len(activations)))`` (0 for one)."""
        return _n_code_bits(len(self.activations))

    @property
    def width_bits(self) -> int:
        """Bits choosing the hidden width (0 without a width choice)."""
        return 0 if self.widths is None else _n_code_bits(len(self.widths))

    @property
    def encoding_bits(self) -> int:
        """Bits choosing the weight encoding (0 for one encoding)."""
        return _n_code_bits(len(self.encodings))

    @property
    def n_choice_bits(self) -> int:
        """All choice bits: activation + width + encoding."""
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
        """``d``, the number of input features (``layers[0]``)."""
        return self.layers[0]

    @property
    def n_outputs(self) -> int:
        """Output units: 1 for two classes (sigmoid), ``k`` for ``k ≥ 3`` (softmax)."""
        return self.layers[-1]

    @property
    def n_classes(self) -> int:
        """Classes the model separates: 2 with one output unit, else ``n_outputs``."""
        return max(2, self.layers[-1])

    def _layer_pairs(self) -> list[tuple[int, int]]:
        """(inputs, outputs) of every layer."""
        return list(zip(self.layers[:-1], self.layers[1:], strict=True))

    def _choice_names(self) -> tuple[list[str], list[str], list[str]]:
        """Names of the activation, width and encoding bits (each code MSB first)."""
        return ([f"activation[{i}]" for i in range(self.activation_bits)],
                [f"width[{i}]" for i in range(self.width_bits)],
                [f"encoding[{i}]" for i in range(self.encoding_bits)])

    def _layer_names(self) -> list[tuple[list[str], list[str]]]:
        """``(weight names row-major, bias names)`` of every layer."""
        return [([f"W{lay}[{i},{o}]" for i in range(a) for o in range(b)],
                 [f"b{lay}[{o}]" for o in range(b)])
                for lay, (a, b) in enumerate(self._layer_pairs(), start=1)]

    def _canonical_names(self) -> list[str]:
        """The order the forward pass reads: choices (activation, width, encoding), then
        per layer ``W_l`` row-major and ``b_l`` (the ``"choices-first"`` layout)."""
        act, wid, enc = self._choice_names()
        names = act + wid + enc
        for w, b in self._layer_names():
            names += w + b
        return names

    def parameter_names(self) -> list[str]:
        """Name of every model parameter in this model's layout, parameter 0 (the most
        significant bit, site N) first: ``W{l}[i,o]``, ``b{l}[o]``, ``activation[k]``,
        ``width[k]``, ``encoding[k]`` (``k``: bit of the choice's code, MSB first)."""
        if self.layout == "choices-first":
            return self._canonical_names()
        act, wid, enc = self._choice_names()
        layers = self._layer_names()
        names = [n for w, _ in layers for n in w]
        names += [n for _, b in reversed(layers) for n in b]
        return names + wid + act + enc

    @cached_property
    def _positions(self) -> tuple[int, ...]:
        """``pos[j]``: layout index of canonical parameter ``j`` (:meth:`_canonical_names`)."""
        index = {name: i for i, name in enumerate(self.parameter_names())}
        return tuple(index[name] for name in self._canonical_names())

    def _to_canonical(self, bits: Any) -> Any:
        """Bits ``(M, N)`` in this layout → the forward pass's order (a column gather)."""
        pos = self._positions
        if pos == tuple(range(len(pos))):
            return bits
        return bits[:, np.asarray(pos)]

    def parameter_index(self, name: str) -> int:
        """Position (0 = most significant bit) of the parameter called ``name``."""
        names = self.parameter_names()
        if name not in names:
            raise InputError(f"this model has no parameter {name!r}; its parameters are "
                             f"{', '.join(names)}")
        return names.index(name)

    def choice_params(self) -> list[int]:
        """Positions of the choice bits (activation, width, encoding codes), ascending."""
        return sorted(self._positions[: self.n_choice_bits])

    def weight_params(self) -> list[int]:
        """Positions of the weight and bias bits, ascending."""
        return sorted(self._positions[self.n_choice_bits :])

    def first_layer_weight_params(self, feature: int) -> list[int]:
        """Positions of the first-layer weights leaving input ``feature`` (``W1[feature, o]``
        for every hidden unit ``o``)."""
        names = self.parameter_names()
        return [names.index(f"W1[{feature},{o}]") for o in range(self.layers[1])]

    def bits_from_parts(self, choice: Any, weights: Any, xp: Any = np) -> Any:
        """Bit rows ``(M, N)`` from choice bits ``(M, n_choice_bits)`` (in the order of
        :meth:`choice_params`) and weight bits ``(M, N − n_choice_bits)`` (in the order of
        :meth:`weight_params`); ``xp`` is ``numpy`` or ``jax.numpy``."""
        parts = xp.concatenate([choice, weights], axis=-1)
        where = np.asarray(self.choice_params() + self.weight_params())
        return parts[..., np.argsort(where)]

    def bits_for(self, *, weights: Mapping[str, int], activation: str | None = None,
                 width: int | None = None,
                 encoding: tuple[float, float] | None = None) -> np.ndarray:
        """The bit row ``(N,)`` uint8 of one network given by names, in this layout.

        ``weights`` maps every weight and bias name (``"W1[0,2]"``, ``"b2[0]"``, …, see
        :meth:`parameter_names`) to its bit; ``activation``, ``width`` and ``encoding`` pick
        options by value (needed when the model has that choice, ignored otherwise).
        """
        row = np.zeros(self.n_qubits, dtype=np.uint8)
        names = self.parameter_names()
        act, wid, enc = self._choice_names()
        for bit_names, options, value, what in (
            (act, self.activations, activation, "activation"),
            (wid, self.widths or (), width, "width"),
            (enc, self.encodings, None if encoding is None else tuple(map(float, encoding)),
             "encoding"),
        ):
            if not bit_names:
                continue
            if value not in options:
                raise InputError(f"{what}={value!r}: this model chooses the {what} from "
                                 f"{list(options)}; pass one of them")
            code = list(options).index(value)
            for k, name in enumerate(bit_names):
                row[names.index(name)] = (code >> (len(bit_names) - 1 - k)) & 1
        wanted = [n for w, b in self._layer_names() for n in w + b]
        missing = [n for n in wanted if n not in weights]
        extra = [n for n in weights if n not in wanted]
        if missing or extra:
            raise InputError(f"weights must give a bit for every weight and bias name; "
                             f"missing {missing}, unknown {extra}")
        for n in wanted:
            if weights[n] not in (0, 1):
                raise InputError(f"weights[{n!r}] must be 0 or 1, got {weights[n]!r}")
            row[names.index(n)] = weights[n]
        return row

    def convert_bits(self, bits: np.ndarray, to: AugmentedBiNN) -> np.ndarray:
        """The same networks as bit rows of model ``to``: ``(M, N)`` → ``(M, N)`` uint8.

        ``to`` must have the same layers and the same sets of options (in any order and
        layout): e.g. ``cost_to[bits_to_index(m.convert_bits(index_to_bits(k, N), to))]
        == cost_m[k]``. Choice codes that wrap (``c >= k``) map to the option they select.
        """
        bits = self._check_bits(bits)
        if to.layers != self.layers or to.n_qubits != self.n_qubits:
            raise InputError(f"convert_bits needs a model with the same layers; got "
                             f"{to.layers} (N = {to.n_qubits}) for {self.layers}")
        canon = self._to_canonical(bits)
        act, wid, enc = self._codes(canon)
        out_codes = []
        for mine, theirs, code, what in (
            (self.activations, to.activations, act, "activations"),
            (self.widths or (None,), to.widths or (None,), wid, "widths"),
            (self.encodings, to.encodings, enc, "encodings"),
        ):
            if set(mine) != set(theirs):
                raise InputError(f"convert_bits needs the same {what}: {mine} vs {theirs}")
            table = np.asarray([list(theirs).index(v) for v in mine])
            out_codes.append(table[code])
        choice = []
        for code, nb in zip(out_codes, (to.activation_bits, to.width_bits, to.encoding_bits),
                            strict=True):
            choice += [(code >> (nb - 1 - k)) & 1 for k in range(nb)]
        canon_to = np.concatenate(
            [np.stack(choice, axis=1) if choice else np.zeros((len(bits), 0), np.int64),
             canon[:, self.n_choice_bits :]], axis=1).astype(np.uint8)
        inverse = np.argsort(np.asarray(to._positions))  # layout position → canonical index
        return canon_to[:, inverse]

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
        """Activation, width and encoding option indices, each (M,) int, of bits (M, N) in
        the forward pass's order (:meth:`_to_canonical`)."""
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

        Each dict has ``bits`` (string, parameter 0 first, in this model's layout),
        ``index`` (cost-table index),
        ``activation``, ``width`` (or ``None``), ``encoding`` (lo, hi), and ``weights`` /
        ``biases`` (lists of per-layer nested lists of values).
        """
        bits = self._check_bits(bits)
        canon = self._to_canonical(bits)
        act, wid, enc = self._codes(canon)
        out = []
        for m in range(bits.shape[0]):
            lo, hi = self.encodings[enc[m]]
            vals = lo + (hi - lo) * canon[m, self.n_choice_bits :].astype(np.float64)
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
        """Pre-activation of the output unit, (M, S), for float bits (M, N) in this model's
        layout and x (S, d); ``(M, k, S)`` with ``k > 1`` output units. Includes the
        ``logit_scale``."""
        bits = self._to_canonical(bits)
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
                if self.logit_scale == "fan-in":
                    z = z / math.sqrt(a)
                return z[:, 0, :] if b == 1 else z
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
        """Network output (M, S) (after the output activation) for bits (M, N), x (S, d);
        with ``k > 1`` output units the softmax probabilities ``(M, k, S)``."""
        z = self._logits_or_output(jnp.asarray(bits, dtype=jnp.float64), jnp.asarray(x))
        if self.n_outputs > 1:
            return jax.nn.softmax(z, axis=1)
        return ACTIVATIONS[self.output_activation](z)

    def _counts_loss(self, bits: jax.Array, xu: jax.Array, counts: jax.Array) -> jax.Array:
        """Mean loss (M,) over samples grouped as unique rows ``xu (U, d)`` with class
        counts ``counts (U, n_classes)``."""
        z = self._logits_or_output(bits, xu)
        total = jnp.sum(counts)
        if self.n_outputs > 1:  # softmax cross-entropy: Σ_c n_c (logsumexp z − z_c)
            lse = jax.scipy.special.logsumexp(z, axis=1)  # (M, U)
            per = jnp.sum(counts, axis=1) * lse - jnp.einsum("mcu,uc->mu", z, counts)
            return jnp.sum(per, axis=1) / total
        n0, n1 = counts[:, 0], counts[:, 1]
        if self.loss == "cross_entropy":
            per = (n0 + n1) * _softplus(z) - n1 * z
        else:
            p = ACTIVATIONS[self.output_activation](z)
            per = n0 * p**2 + n1 * (1.0 - p) ** 2
        return jnp.sum(per, axis=1) / total

    def cost(self, bits: np.ndarray, data: Dataset) -> np.ndarray:
        """Training loss of each bit row: bits (M, N) in {0, 1} → (M,) float64."""
        bits = self._check_bits(bits)
        xu, counts = class_counts(data, self)
        return np.asarray(_loss_jit(self, jnp.asarray(bits, jnp.float64), xu, counts))

    def cost_function(self, data: Dataset) -> Any:
        """``bits (M, N) -> (M,)`` training losses on ``data``, its samples grouped once
        (a bit cost for :mod:`pyqhn.sampled_objectives`, evaluated many times on the same data)."""
        xu, counts = class_counts(data, self)

        def cost(bits: np.ndarray) -> np.ndarray:
            b = jnp.asarray(self._check_bits(bits), jnp.float64)
            return np.asarray(_loss_jit(self, b, xu, counts))

        return cost

    def classifier(self, bits: np.ndarray) -> BiNNClassifier:
        """The network of one bit row (N,) as a classifier with ``predict`` / ``accuracy``."""
        bits = self._check_bits(bits)
        if bits.shape[0] != 1:
            raise InputError("classifier takes one bit row")
        return BiNNClassifier(self, bits[0])


def class_counts(data: Dataset, model: AugmentedBiNN) -> tuple[jax.Array, jax.Array]:
    """Unique feature rows ``(U, d)`` and their class counts ``(U, model.n_classes)``: the
    loss depends on the data only through these (labels ``0 … n_classes − 1``)."""
    if not isinstance(data, Dataset):
        raise TypeError(f"data must be a pyqhn.datasets.Dataset, got {type(data).__name__}")
    if data.n_features != model.n_inputs:
        raise InputError(f"the model takes {model.n_inputs} inputs but the data have "
                         f"{data.n_features} features")
    if data.n_samples == 0:
        raise InputError("the dataset is empty; the loss needs at least one sample")
    k = model.n_classes
    if np.any((data.y < 0) | (data.y >= k)):
        raise InputError(f"labels must be 0 … {k - 1} for a model with {model.n_outputs} "
                         f"output unit(s) ({k} classes), got {np.unique(data.y)[:6]}")
    xu, inv = np.unique(data.x, axis=0, return_inverse=True)
    counts = np.zeros((len(xu), k))
    np.add.at(counts, (inv.reshape(-1), data.y), 1.0)
    return jnp.asarray(xu), jnp.asarray(counts)


@partial(jax.jit, static_argnums=0)
def _loss_jit(model: AugmentedBiNN, bits, xu, counts):
    return model._counts_loss(bits, xu, counts)


@dataclass(frozen=True)
class BiNNClassifier:
    """One network of an augmented model, with scikit-learn's classifier conventions.

    ``predict(X)`` → labels ``(n,)``; ``predict_proba(X)`` → ``(n, 2)`` with columns
    ``P(y=0), P(y=1)`` where ``P(y=1) = σ(z)``, ``z`` the output unit's pre-activation (for
    the paper's sigmoid output this is the network's output); ``score(X, y)`` → accuracy;
    ``classes_ = [0, 1]``. ``output(X)`` is the network's output unit after its activation.
    With ``k > 1`` output units: ``decision_function`` ``(n, k)`` logits, ``predict_proba``
    their softmax, ``predict`` the largest, ``classes_ = [0 … k−1]``.
    """

    model: AugmentedBiNN
    bits: np.ndarray
    classes_: np.ndarray = field(init=False)

    def __post_init__(self) -> None:
        object.__setattr__(self, "classes_", np.arange(self.model.n_classes))

    def _x(self, x: Any) -> np.ndarray:
        x = np.asarray(x, dtype=np.float64)
        if x.ndim != 2 or x.shape[1] != self.model.n_inputs:
            raise InputError(f"X must have shape (n_samples, {self.model.n_inputs}), got "
                             f"{x.shape}")
        return x

    def decision_function(self, x: Any) -> np.ndarray:
        """Pre-activation ``z`` of the output unit, ``(n,)``; the label is ``z > 0``.
        ``(n, k)`` logits with ``k > 1`` output units."""
        bits = jnp.asarray(self.bits[None, :], dtype=jnp.float64)
        z = np.asarray(self.model._logits_or_output(bits, jnp.asarray(self._x(x))))[0]
        return z.T if z.ndim == 2 else z

    def output(self, x: Any) -> np.ndarray:
        """The network's output ``(n,)`` (after the output activation); ``(n, k)`` softmax
        probabilities with ``k > 1`` output units."""
        out = np.asarray(self.model.output(self.bits[None, :], self._x(x)))[0]
        return out.T if out.ndim == 2 else out

    def predict_proba(self, x: Any) -> np.ndarray:
        """Class probabilities ``(n, 2)``: ``[1 − σ(z), σ(z)]``; ``(n, k)`` softmax."""
        z = self.decision_function(x)
        if z.ndim == 2:
            e = np.exp(z - z.max(axis=1, keepdims=True))
            return e / e.sum(axis=1, keepdims=True)
        p1 = 1.0 / (1.0 + np.exp(-z))
        return np.stack([1.0 - p1, p1], axis=1)

    def predict(self, x: Any) -> np.ndarray:
        """Class labels ``(n,)`` int64: 1 where ``z > 0`` (output above ½ for a sigmoid);
        the largest logit with ``k > 1`` output units."""
        z = self.decision_function(x)
        if z.ndim == 2:
            return z.argmax(axis=1).astype(np.int64)
        return (z > 0).astype(np.int64)

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
        """The model's description of this BiNN's bits (:meth:`AugmentedBiNN.describe`)."""
        return self.model.describe(self.bits)


# --------------------------------------------------------------------------- the paper


def _gaussian_activations(layout: str) -> tuple[str, str]:
    # the notebook's activation qubit: σ = 1 (value +1) sigmoid, σ = 0 (value −1) ReLU
    return ("relu", "sigmoid") if check_layout(layout) == "original" else ("sigmoid", "relu")


def gaussian_activation_model(layout: str = "original", *, loss: str = "mse") -> AugmentedBiNN:
    """Fig. 2: BiNN 2–3–1 on the Gaussian mixture, hidden activation sigmoid or ReLU. N = 14.

    Weights and biases σ → 2σ−1 ∈ {−1, 1}; output sigmoid; MSE loss (the notebook's
    training set: 10,000 points, :data:`pyqhn.datasets.GAUSSIAN_TRAIN_SIZE`;
    ``loss="cross_entropy"`` for the vi experiment). Layouts
    (parameter index: meaning; ``W1[i, o]`` row-major, input ``i`` = 0..1, hidden
    ``o`` = 0..2):

    * ``"original"`` (the authors' notebook): 0–5: W1; 6–8: W2[o, 0]; 9: b2; 10–12: b1;
      13: activation (1 sigmoid, 0 ReLU: the notebook's value +1 is sigmoid).
    * ``"choices-first"``: 0: activation (0 sigmoid, 1 ReLU); 1–6: W1; 7–9: b1;
      10–12: W2; 13: b2.
    """
    return AugmentedBiNN((2, 3, 1), activations=_gaussian_activations(layout), loss=loss,
                         name="gaussian-activation", layout=layout)


def gaussian_width_model(layout: str = "original", *, loss: str = "mse") -> AugmentedBiNN:
    """Fig. 3: :func:`gaussian_activation_model` plus a hidden-width choice 2 or 3. N = 15.

    * ``"original"`` (the authors' order, W1, W2, b2, b1, N_hid, activation): 0–5: W1;
      6–8: W2; 9: b2; 10–12: b1; 13: width (0 → 2, 1 → 3; this value mapping is ours, the
      original code of Fig. 3 is not public); 14: activation (1 sigmoid, 0 ReLU).
    * ``"choices-first"``: 0: activation (0 sigmoid, 1 ReLU); 1: width (0 → 2, 1 → 3);
      2–7: W1; 8–10: b1; 11–13: W2; 14: b2.

    With width 2 the third hidden unit's bits are ignored.
    """
    return AugmentedBiNN((2, 3, 1), activations=_gaussian_activations(layout), widths=(2, 3),
                         loss=loss, name="gaussian-width", layout=layout)


#: Default MNIST encoding: the one of the authors' published 17-qubit table.
MNIST_ENCODING: tuple[float, float] = (-3.0, 1.0)


def check_encoding(encoding: Any) -> tuple[float, float]:
    """``(lo, hi)`` as two different finite floats, else an :class:`InputError`."""
    try:
        lo, hi = (float(v) for v in encoding)
    except (TypeError, ValueError):
        raise InputError(f"encoding must be a pair (lo, hi) such as (-3, 1), got "
                         f"{encoding!r}") from None
    if lo == hi or not (math.isfinite(lo) and math.isfinite(hi)):
        raise InputError(f"encoding needs two different finite values, got {encoding!r}")
    return lo, hi


def mnist_model(size: int = 4, encoding: tuple[float, float] = MNIST_ENCODING,
                layout: str = "original") -> AugmentedBiNN:
    """Fig. 4: logistic regression on size×size MNIST, cross-entropy. N = size² + 1 (17).

    Layout: 0..size²−1: weight of pixel (r, c) at index r·size + c (row-major); last: bias
    (both layouts agree: there is no choice bit).

    ``encoding`` (:data:`MNIST_ENCODINGS`): {−3, 1} (default, w = 4σ − 3) is the encoding of
    the authors' published table: on the shipped zeros and ones (pixel-picking 4×4 resize)
    it gives a table correlating 0.9975 with theirs, C* 0.3152 vs their 0.3269, the same
    degenerate optimal set; the rest is their larger training set (12,665 Keras images).
    {−1, 1} is what their notebook writes (2σ − 1; correlation 0.49), {0, 1} the paper's
    text (correlation −0.36; with non-negative pixels every logit is ≥ 0 and C* ≈ ln 2).
    """
    return AugmentedBiNN((size * size, 1), encodings=(check_encoding(encoding),),
                         loss="cross_entropy", name="mnist", layout=layout)


#: Digits of each MNIST problem in the original code: (label 0, label 1).
MNIST_DIGITS: dict[str, tuple[int, int]] = {"mnist": (0, 1), "mnist-encoding": (3, 7)}


def mnist_encoding_model(size: int = 4, layout: str = "original") -> AugmentedBiNN:
    """Fig. 5: :func:`mnist_model` plus two bits choosing the encoding. N = size² + 3 (19).

    The original notebook classifies digits 3 vs 7 (label 1 = seven,
    :data:`MNIST_DIGITS`). Encoding code (two bits, MSB first): 0 {0,1}, 1 {−1,1},
    2 {−2,1}, 3 {−3,1} (w = σ, 2σ−1, 3σ−2, 4σ−3).

    * ``"original"``: 0..size²−1: pixel weights row-major; size²: bias; last two: the
      encoding code. The table reshaped ``(2**(N−2), 4)`` has column ``e`` = the table of
      ``mnist_model(size, ENCODINGS[e])``.
    * ``"choices-first"``: 0–1: the encoding code; then the pixel weights; last: bias.
      Block ``e`` (length ``2**(N−2)``) of the table is ``mnist_model(size, ENCODINGS[e])``'s.
    """
    return AugmentedBiNN((size * size, 1), encodings=ENCODINGS, loss="cross_entropy",
                         name="mnist-encoding", layout=layout)
