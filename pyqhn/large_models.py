"""BiNNs too large to enumerate, evaluated on the fly on sampled bit rows.

:class:`LinkChoiceLogistic` is the 66-qubit problem of the study's June 2023 talk
("BiNNs applied to reduced MNIST (8×8 pixels)"): logistic regression on 8×8 MNIST zeros
vs ones with weights and bias in {−1, +1} plus one qubit choosing the activation function.
The talk does not name the two activations. Ours, on the output unit (the only unit a
logistic regression has), with cross-entropy loss:

* bit 0 → ``sigmoid``: ``p = σ(z)``;
* bit 1 → ``scaled-sigmoid``: ``p = σ(z / √d)`` with ``d`` the number of inputs (8 for 8×8).

Why: with ±1 weights on 64 pixels in [0, 1] the logit ``z`` is O(10), so ``σ(z)``
saturates and a misclassified image costs O(10) in cross-entropy; the fan-in-normalised
sigmoid (the ``1/√fan-in`` scaling used for binary networks) keeps the link O(1). Both
map to (0, 1), so the cross-entropy stays finite, and the choice is the one degree of
freedom an output activation can add here: a temperature of the link. (ReLU or sign, the
other activations of :mod:`pyqhn.models`, cannot feed a cross-entropy.) Accuracy does not
depend on the choice (``p > ½ ⇔ z > 0``); the training cost does.

Layout (:mod:`pyqhn.models`' convention: choice bits first, then weights, then bias):
parameter 0 the activation, parameters ``1..d`` the weights of pixel ``0..d−1`` (row-major),
parameter ``d + 1`` the bias; value ``2σ − 1``. ``N = d + 2`` (66 for 8×8).

The ≥ 200-qubit problem is an :class:`pyqhn.models.AugmentedBiNN` (8×8 → 3 hidden units
with a sigmoid/ReLU choice → 1, weights ±1: N = 1 + 192 + 3 + 3 + 1 = 200), see
:func:`hidden_layer_model`. Both share :class:`pyqhn.models.AugmentedBiNN`'s interface
(``n_qubits``, ``n_inputs``, ``n_classes``, ``cost(bits, data)``, ``cost_function``,
``parameter_names``, ``decode``, ``describe``, ``classifier``), so either is an ordinary
model of :class:`pyqhn.pipeline.Problem` (sampled beyond enumeration), and
:func:`predictions`.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import partial

import jax
import jax.numpy as jnp
import numpy as np

from .checks import InputError
from .datasets import Dataset
from .models import AugmentedBiNN

__all__ = ["LinkChoiceLogistic", "hidden_layer_model", "predictions", "accuracies"]

ACTIVATION_NAMES = ("sigmoid", "scaled-sigmoid")


@dataclass(frozen=True)
class LinkChoiceLogistic:
    """Logistic regression with ±1 weights and bias and a choice of output link (module
    docstring); ``n_inputs`` features."""

    n_inputs: int = 64

    @property
    def n_qubits(self) -> int:
        """``N = n_inputs + 2``: one bit per weight, the bias, and the link choice."""
        return self.n_inputs + 2

    @property
    def activations(self) -> tuple[str, str]:
        """Names of the two output links, indexed by the choice bit's value."""
        return ACTIVATION_NAMES

    def _check(self, bits) -> np.ndarray:
        b = np.asarray(bits)
        if b.ndim != 2 or b.shape[1] != self.n_qubits:
            raise InputError(f"bits must have shape (M, {self.n_qubits}), got {b.shape}")
        return b

    def logits(self, bits, x) -> jax.Array:
        """``z`` ``(M, S)`` for bit rows ``(M, N)`` and inputs ``x (S, d)`` (before the link)."""
        b = jnp.asarray(self._check(bits), dtype=jnp.float64)
        return _logits(b, jnp.asarray(x))

    def cost(self, bits, data: Dataset) -> np.ndarray:
        """Mean binary cross-entropy ``(M,)`` of every bit row on ``data``."""
        b = jnp.asarray(self._check(bits), dtype=jnp.float64)
        return np.asarray(_cost(b, jnp.asarray(data.x), jnp.asarray(data.y, jnp.float64),
                                float(np.sqrt(self.n_inputs))))

    def output(self, bits, x) -> jax.Array:
        """``p(y = 1)`` ``(M, S)``."""
        b = jnp.asarray(self._check(bits), dtype=jnp.float64)
        return jax.nn.sigmoid(self._logits_or_output(b, jnp.asarray(x)))

    # --- the interface of pyqhn.models.AugmentedBiNN (Problem, QHNClassifier, decoding)

    @property
    def n_outputs(self) -> int:
        """Output units: 1 (one logit for two classes)."""
        return 1

    @property
    def n_classes(self) -> int:
        """Classes: 2 (labels 0 and 1)."""
        return 2

    def parameter_names(self) -> list[str]:
        """``activation[0]``, ``W1[i,0]`` for every input, ``b1[0]`` (parameter 0 first)."""
        return (["activation[0]"] + [f"W1[{i},0]" for i in range(self.n_inputs)]
                + ["b1[0]"])

    def _logits_or_output(self, bits, x) -> jax.Array:
        """The link's argument ``z·s`` ``(M, S)`` (``s = 1/√d`` for the scaled sigmoid)."""
        b = jnp.asarray(bits, dtype=jnp.float64)
        scale = jnp.where(b[:, :1] > 0, 1.0 / np.sqrt(self.n_inputs), 1.0)
        return _logits(b, jnp.asarray(x)) * scale

    def cost_function(self, data: Dataset):
        """``bits (M, N) -> (M,)`` mean cross-entropy on ``data`` (a bit cost)."""
        return lambda bits: self.cost(bits, data)

    def decode(self, bits) -> list[dict]:
        """Readable networks of bit rows ``(M, N)`` (keys as
        :meth:`pyqhn.models.AugmentedBiNN.decode`; ``activation`` names the link)."""
        from .bits import bits_to_string

        b = self._check(np.asarray(bits).reshape(-1, self.n_qubits))
        out = []
        for row in b:
            values = 2.0 * row.astype(np.float64) - 1.0
            out.append(dict(bits=bits_to_string(row), index=None,
                            activation=ACTIVATION_NAMES[int(row[0])], width=None,
                            encoding=[-1.0, 1.0], weights=[values[1:-1, None].tolist()],
                            biases=[[float(values[-1])]]))
        return out

    def describe(self, bits) -> dict:
        """One bit row ``(N,)`` decoded, plus a ``text`` line."""
        d = self.decode(np.asarray(bits)[None])[0]
        w = " ".join(f"{v[0]:g}" for v in d["weights"][0])
        d["text"] = (f"{d['bits']}: activation={d['activation']}, encoding={{-1,1}}, "
                     f"W1=[{w}] b1=[{d['biases'][0][0]:g}]")
        return d

    def classifier(self, bits):
        """The network of one bit row as a classifier (:class:`pyqhn.models.BiNNClassifier`)."""
        from .models import BiNNClassifier

        b = self._check(np.asarray(bits).reshape(1, -1))
        return BiNNClassifier(self, b[0])


@jax.jit
def _logits(b, x):
    w = 2.0 * b[:, 1:-1] - 1.0
    bias = 2.0 * b[:, -1:] - 1.0
    return w @ x.T + bias


@partial(jax.jit, static_argnums=3)
def _cost(b, x, y, root_d):
    z = _logits(b, x) * jnp.where(b[:, :1] > 0, 1.0 / root_d, 1.0)
    per = jnp.maximum(z, 0.0) + jnp.log1p(jnp.exp(-jnp.abs(z))) - y[None, :] * z
    return per.mean(axis=1)


def hidden_layer_model(n_inputs: int = 64, hidden: int = 3) -> AugmentedBiNN:
    """``n_inputs → hidden → 1`` with a sigmoid/ReLU hidden activation bit, weights ±1,
    cross-entropy: ``N = 1 + n_inputs·hidden + 2·hidden + 1`` (200 for 64 → 3)."""
    return AugmentedBiNN((n_inputs, hidden, 1), activations=("sigmoid", "relu"),
                         encodings=((-1.0, 1.0),), loss="cross_entropy",
                         name=f"mnist8x8-hidden{hidden}")


def predictions(model, bits, x) -> np.ndarray:
    """Predicted labels ``(M, S)`` bool (``p > ½``) of bit rows ``(M, N)`` on ``x (S, d)``."""
    return np.asarray(model.output(np.asarray(bits), np.asarray(x))) > 0.5


def accuracies(model, bits, data: Dataset, *, batch: int = 1024) -> np.ndarray:
    """Accuracy ``(M,)`` of every bit row on ``data``, in batches of ``batch`` rows."""
    bits = np.asarray(bits)
    out = np.empty(bits.shape[0])
    for s in range(0, bits.shape[0], batch):
        pred = predictions(model, bits[s:s + batch], data.x)
        out[s:s + batch] = (pred == data.y[None, :].astype(bool)).mean(axis=1)
    return out
