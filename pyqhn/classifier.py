"""``QHNClassifier``: a quantum hypernetwork as a scikit-learn classifier, any size.

``QHNClassifier().fit(X, y)`` builds an augmented BiNN for the data (by default a linear
model with weights and biases in {−1, +1}: one output unit for two classes, ``k`` output
units with a softmax for ``k ≥ 3``; cross-entropy loss), trains circuits whose outcomes
are its networks (:class:`pyqhn.pipeline.Problem`: exact energies on the enumerated
``2**N`` table while ``N ≤`` :data:`pyqhn.pipeline.EXACT_MAX_QUBITS` and ``shots=None``,
otherwise from MPS samples) and predicts with the best network read out of the best run.
Labels of any type are mapped to ``0 … k−1`` through ``classes_``.

It follows scikit-learn's estimator contract (``get_params``/``set_params``, ``clone``,
``Pipeline``, ``cross_val_score``, ``GridSearchCV``, ``OneVsRestClassifier``).
Features should be standardised (``StandardScaler``): ±1 weights weigh every feature
alike, so a feature on a scale of thousands drowns the others; ``fit`` warns when the
features are far from unit scale, and when the trained network predicts one class only.

Example:
    >>> from sklearn.pipeline import make_pipeline
    >>> from sklearn.preprocessing import StandardScaler
    >>> clf = make_pipeline(StandardScaler(), QHNClassifier()).fit(X, y)  # doctest: +SKIP
    >>> clf.score(X_test, y_test)                                           # doctest: +SKIP
"""

from __future__ import annotations

import warnings
from collections.abc import Sequence
from typing import Any

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin
from sklearn.utils.multiclass import check_classification_targets
from sklearn.utils.validation import check_is_fitted, validate_data

__all__ = ["QHNClassifier", "FeatureScaleWarning", "ConstantPredictionWarning",
           "feature_scale_problem", "default_model"]


class FeatureScaleWarning(UserWarning):
    """Features far from unit scale: standardise them (``StandardScaler``)."""


class ConstantPredictionWarning(UserWarning):
    """The trained network predicts one class for every training sample."""


#: Runs per circuit when ``runs=None``: exact, and sampled.
EXACT_RUNS = 8
SAMPLED_RUNS = 1

#: A feature set is "far from unit scale" when the median root-mean-square value of its
#: features lies outside this range, or one feature's exceeds the upper bound ten times.
UNIT_SCALE_RANGE = (0.1, 10.0)


def feature_scale_problem(x: np.ndarray) -> str | None:
    """A sentence saying how the features ``x (n, d)`` are far from unit scale, or ``None``
    (see :data:`UNIT_SCALE_RANGE`)."""
    rms = np.sqrt(np.mean(np.asarray(x, dtype=np.float64) ** 2, axis=0))
    lo, hi = UNIT_SCALE_RANGE
    median, worst = float(np.median(rms)), int(np.argmax(rms))
    if median > hi or median < lo:
        return (f"the features' typical root-mean-square value is {median:.3g}, far from 1; "
                "±1 weights need features on a common unit scale: standardise them "
                "(sklearn.preprocessing.StandardScaler, e.g. in a Pipeline)")
    if rms[worst] > 10 * hi:
        return (f"feature {worst} has root-mean-square value {rms[worst]:.3g} and drowns the "
                "others under ±1 weights: standardise the features "
                "(sklearn.preprocessing.StandardScaler, e.g. in a Pipeline)")
    return None


def default_model(n_features: int, n_classes: int, *, hidden_layers: Sequence[int] = (),
                  activations: Sequence[str] = ("sigmoid",),
                  widths: Sequence[int] | None = None,
                  encodings: Sequence[tuple[float, float]] = ((-1.0, 1.0),),
                  loss: str = "cross_entropy", logit_scale: str = "none",
                  layout: str = "original"):
    """The augmented model :class:`QHNClassifier` fits: ``n_features → hidden_layers →``
    one output unit (two classes) or ``n_classes`` (softmax). With the defaults a ±1 linear
    model: ``N = n_features + 1`` bits for two classes, ``k · (n_features + 1)`` for
    ``k ≥ 3``."""
    from .models import AugmentedBiNN

    out = 1 if n_classes == 2 else int(n_classes)
    return AugmentedBiNN((int(n_features), *(int(h) for h in hidden_layers), out),
                         activations=tuple(activations),
                         widths=None if widths is None else tuple(widths),
                         encodings=tuple(tuple(e) for e in encodings), loss=loss,
                         logit_scale=logit_scale, layout=layout, name="qhn-classifier")


class QHNClassifier(ClassifierMixin, BaseEstimator):
    """A quantum hypernetwork trained on ``(X, y)``; predicts with its best BiNN.

    Parameters (the augmented model, :class:`pyqhn.models.AugmentedBiNN`):
        hidden_layers: hidden layer sizes (maximal widths); ``()`` is a linear model.
        activations: hidden activations chosen from (one name: no choice bit).
        widths: hidden widths chosen from (``None``: no width choice).
        encodings: ``(lo, hi)`` weight values chosen from (default ±1, no choice bit).
        loss: ``"cross_entropy"`` (default; softmax for ≥ 3 classes) or ``"mse"`` (2 only).
        logit_scale: ``"none"`` or ``"fan-in"`` (output logits / √fan-in).
        layout: bit layout, ``"original"`` or ``"choices-first"``.

    Parameters (training, :meth:`pyqhn.pipeline.Problem.train`):
        circuits: circuit names (``"product"``, ``"N_layer=1"``, ``"blocks=2"`` …).
        runs: random initialisations per circuit; ``None``: :data:`EXACT_RUNS` when exact
            (batched, cheap; the ±1 landscapes are rugged), :data:`SAMPLED_RUNS` when
            sampled (a run is tens of seconds at 65 qubits).
        optimizer: ``None`` (L-BFGS exact, score-function + Adam sampled) or a name.
        shots: ``None``: exact when the table is enumerable, else sampled with
            :data:`pyqhn.pipeline.DEFAULT_SHOTS`; an integer forces sampling.
        max_iter: optimiser iterations (default 500 exact, 200 sampled).
        learning_rate: Adam's (default 0.1) or SPSA's (calibrated when ``None``).
        epsilon: success threshold of the summary (default 1 % of C*).
        seed: run ``r`` starts from ``seed + r``.
        out: run folder (resumable); ``None`` keeps the runs in memory.
        client: a Dask client (or :class:`pyqhn.cluster.ClusterSpec`) to train on.
        progress: show a progress bar.

    Fitted attributes: ``classes_``, ``n_features_in_``, ``n_qubits_``, ``model_`` (the
    augmented model), ``regime_`` (``"exact"`` or ``"sampled"``), ``theta_`` (angles of the
    best run), ``best_circuit_``, ``best_run_``, ``best_bits_`` (``(N,)`` bits of the
    network), ``best_source_`` (how it was read out), ``network_`` (the decoded BiNN:
    weights, biases, activation, width, encoding, ``text``), ``results_`` (the runs table),
    ``train_cost_`` (its training loss), ``n_iter_`` (optimiser steps of the best run).
    """

    def __init__(self, hidden_layers: tuple[int, ...] = (),
                 activations: tuple[str, ...] = ("sigmoid",),
                 widths: tuple[int, ...] | None = None,
                 encodings: tuple[tuple[float, float], ...] = ((-1.0, 1.0),),
                 loss: str = "cross_entropy", logit_scale: str = "none",
                 layout: str = "original", circuits: tuple[str, ...] = ("product", "N_layer=1"),
                 runs: int | None = None, optimizer: str | None = None, shots: int | None = None,
                 max_iter: int | None = None, learning_rate: float | None = None,
                 epsilon: float | None = None, seed: int = 0, out: str | None = None,
                 client: Any = None, progress: bool = False):
        self.hidden_layers = hidden_layers
        self.activations = activations
        self.widths = widths
        self.encodings = encodings
        self.loss = loss
        self.logit_scale = logit_scale
        self.layout = layout
        self.circuits = circuits
        self.runs = runs
        self.optimizer = optimizer
        self.shots = shots
        self.max_iter = max_iter
        self.learning_rate = learning_rate
        self.epsilon = epsilon
        self.seed = seed
        self.out = out
        self.client = client
        self.progress = progress

    def _problem(self, x: np.ndarray, y_index: np.ndarray):
        from .pipeline import Problem

        model = default_model(x.shape[1], len(self.classes_), hidden_layers=self.hidden_layers,
                              activations=self.activations, widths=self.widths,
                              encodings=self.encodings, loss=self.loss,
                              logit_scale=self.logit_scale, layout=self.layout)
        return Problem(model, (x, y_index))

    def fit(self, X: Any, y: Any) -> QHNClassifier:
        """Train on ``X (n, d)`` and labels ``y (n,)`` of any type (≥ 2 classes)."""
        x, y = validate_data(self, X, y)
        check_classification_targets(y)
        self.classes_, y_index = np.unique(y, return_inverse=True)
        if len(self.classes_) < 2:
            raise ValueError(f"QHNClassifier needs samples of at least 2 classes; y has 1 "
                             f"class ({self.classes_[0]!r})")
        problem = self._problem(x, y_index.reshape(-1))
        scale = feature_scale_problem(x)
        if scale is not None:
            warnings.warn(scale, FeatureScaleWarning, stacklevel=2)
        circuits = [self.circuits] if isinstance(self.circuits, str) else list(self.circuits)
        runs = self.runs
        if runs is None:
            runs = EXACT_RUNS if self.shots is None and problem.enumerable else SAMPLED_RUNS
        results = problem.train(circuits, runs, shots=self.shots,
                                optimizer=self.optimizer, epsilon=self.epsilon, out=self.out,
                                seed=self.seed, max_iter=self.max_iter,
                                learning_rate=self.learning_rate, progress=self.progress,
                                client=self.client)
        best = results.best_run()
        self.model_ = problem.model
        self.n_qubits_ = int(problem.n_bits)
        self.regime_ = results.regime
        self.results_ = results.table
        self.best_circuit_ = str(best["circuit"])
        self.best_run_ = int(best["run"])
        self.n_iter_ = int(best["n_iter"])
        self.theta_ = results.theta(self.best_circuit_, self.best_run_)
        self.best_bits_ = results.best_bits()
        self.best_source_ = (str(best["best_source"]) if "best_source" in best.index
                             else "most-probable-exact")
        self.train_cost_ = results.best_cost()
        self.network_ = problem.describe(self.best_bits_)
        self.classifier_ = problem.classifier(self.best_bits_)
        if len(np.unique(self.classifier_.predict(x))) == 1:
            warnings.warn(
                "the trained network predicts one class for every training sample; if the "
                "features are not standardised, standardise them (StandardScaler), else try "
                "more runs or circuits", ConstantPredictionWarning, stacklevel=2)
        return self

    def _x(self, X: Any) -> np.ndarray:
        check_is_fitted(self)
        return validate_data(self, X, reset=False)

    def decision_function(self, X: Any) -> np.ndarray:
        """Output logits: ``(n,)`` for two classes (positive → ``classes_[1]``), else
        ``(n, k)``."""
        x = self._x(X)
        return self.classifier_.decision_function(x)

    def predict_proba(self, X: Any) -> np.ndarray:
        """Class probabilities ``(n, k)`` in the order of ``classes_`` (sigmoid or
        softmax of the logits)."""
        x = self._x(X)
        return self.classifier_.predict_proba(x)

    def predict(self, X: Any) -> np.ndarray:
        """Predicted labels ``(n,)`` (values of ``classes_``)."""
        x = self._x(X)
        return self.classes_[self.classifier_.predict(x)]

    def __sklearn_tags__(self):
        tags = super().__sklearn_tags__()
        tags.non_deterministic = False
        return tags
