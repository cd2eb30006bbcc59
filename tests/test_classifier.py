"""``pyqhn.QHNClassifier``: scikit-learn's estimator contract, labels, multi-class,
guardrails, and one Problem for the exact and the sampled regime."""

from __future__ import annotations

import warnings

import numpy as np
import pytest
from sklearn.base import clone
from sklearn.datasets import make_blobs
from sklearn.model_selection import GridSearchCV, cross_val_score
from sklearn.multiclass import OneVsRestClassifier
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler
from sklearn.utils.estimator_checks import parametrize_with_checks

import pyqhn
from pyqhn.classifier import ConstantPredictionWarning, FeatureScaleWarning, QHNClassifier
from pyqhn.models import AugmentedBiNN


def _small() -> QHNClassifier:
    # product circuit, 10 optimiser steps: each check's fits take seconds (107 s in all)
    return QHNClassifier(circuits=("product",), max_iter=10)


# Skipped by scikit-learn itself, none by us: check_array_api_input (needs SCIPY_ARRAY_API)
# and the sample_weight checks (fit takes no sample_weight). No expected failures.
@parametrize_with_checks([_small()])
def test_scikit_learn_estimator_checks(estimator, check):
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", FeatureScaleWarning)
        warnings.simplefilter("ignore", ConstantPredictionWarning)
        check(estimator)


def _easy(n_features: int, n: int = 200, seed: int = 0):
    """Labels of a ±1 linear rule (weights and bias) on Gaussian features: the ±1 model
    can fit them exactly."""
    rng = np.random.default_rng(seed)
    x = rng.normal(size=(n, n_features))
    w = np.where(np.arange(n_features) % 2 == 0, 1.0, -1.0)
    return x, (x @ w + 1.0 > 0).astype(int)


def _blobs(n_classes: int, n: int = 150, seed: int = 0):
    x, y = make_blobs(n_samples=n, centers=n_classes, n_features=3, random_state=seed,
                      cluster_std=1.5)
    return StandardScaler().fit_transform(x), y


def test_default_is_a_pm1_linear_model_with_one_output_for_two_classes():
    x, y = _easy(3)
    clf = QHNClassifier().fit(x, np.where(y == 1, "yes", "no"))
    assert clf.n_qubits_ == 3 + 1 and clf.regime_ == "exact"
    assert clf.model_.n_outputs == 1 and clf.model_.encodings == ((-1.0, 1.0),)
    net = clf.network_
    values = np.concatenate([np.ravel(net["weights"][0]), net["biases"][0]])
    assert set(values) <= {-1.0, 1.0}
    assert list(clf.classes_) == ["no", "yes"]
    assert set(clf.predict(x)) <= {"no", "yes"}
    assert clf.score(x, np.where(y == 1, "yes", "no")) > 0.9
    proba = clf.predict_proba(x)
    np.testing.assert_allclose(proba.sum(1), 1.0)
    np.testing.assert_array_equal(clf.classes_[proba.argmax(1)], clf.predict(x))
    # the angles and the bits are those of the reported best run
    circuit = pyqhn.Circuit.from_name(clf.best_circuit_, clf.n_qubits_)
    assert clf.theta_.shape == (circuit.n_params,)
    assert clf.best_bits_.shape == (clf.n_qubits_,)
    problem = pyqhn.Problem(clf.model_, (x, y))
    assert clf.train_cost_ == pytest.approx(problem.c_star)  # the exact optimum is found
    np.testing.assert_array_equal(clf.best_bits_, problem.optimum_bits())


def test_three_classes_natively_beat_the_majority_class_widely():
    x, y = _blobs(3, n=240, seed=1)
    labels = np.array(["setosa", "versicolor", "virginica"])[y]
    train, test = slice(0, 160), slice(160, None)
    clf = QHNClassifier().fit(x[train], labels[train])
    assert clf.model_.n_outputs == 3 and clf.n_qubits_ == 3 * (3 + 1)
    majority = np.mean(labels[test] == max(set(labels[train]), key=list(labels[train]).count))
    accuracy = clf.score(x[test], labels[test])
    assert accuracy > majority + 0.4, (accuracy, majority)
    assert clf.predict_proba(x[test]).shape == (80, 3)
    assert clf.decision_function(x[test]).shape == (80, 3)


def test_pipeline_clone_cross_val_grid_search_and_one_vs_rest():
    x, y = _easy(3, n=120)
    pipe = make_pipeline(StandardScaler(), QHNClassifier(circuits="product", max_iter=40))
    scores = cross_val_score(pipe, x, y, cv=3)
    assert scores.shape == (3,) and scores.mean() > 0.85
    grid = GridSearchCV(QHNClassifier(max_iter=40),
                        {"circuits": [("product",), ("N_layer=1",)]}, cv=2).fit(x, y)
    assert grid.best_params_["circuits"] in [("product",), ("N_layer=1",)]
    assert clone(grid.best_estimator_).get_params()["circuits"] == grid.best_params_["circuits"]
    x3, y3 = _blobs(3, n=150, seed=2)
    ovr = OneVsRestClassifier(QHNClassifier(circuits="product", max_iter=40)).fit(x3, y3)
    assert len(ovr.estimators_) == 3 and ovr.score(x3, y3) > 0.8


def test_unscaled_features_and_a_constant_optimum_are_warned_about():
    x, y = _easy(2)
    with pytest.warns(FeatureScaleWarning, match="standardise"):
        QHNClassifier(circuits="product", max_iter=10).fit(x * 1000 + 5000, y)
    # a feature that carries no signal and labels 90 % one class: the ±1 optimum votes
    # for the majority class everywhere
    xc = np.zeros((200, 1))
    yc = (np.arange(200) % 10 == 0).astype(int)
    with pytest.warns(ConstantPredictionWarning, match="one class"):
        QHNClassifier(circuits="product").fit(xc, yc)


def test_a_single_class_is_refused_with_a_sentence():
    with pytest.raises(ValueError, match="at least 2 classes"):
        QHNClassifier().fit(np.zeros((5, 2)), np.ones(5))


# ------------------------------------------------------------- one Problem, two regimes


@pytest.mark.parametrize("n_features,shots", [(11, None), (65, 200)])
def test_one_code_path_exact_at_12_and_sampled_at_66_qubits(n_features, shots):
    x, y = _easy(n_features, n=300)
    clf = QHNClassifier(circuits=("product",), shots=shots, max_iter=60).fit(x[:200], y[:200])
    assert clf.n_qubits_ == n_features + 1
    assert clf.regime_ == ("exact" if shots is None else "sampled")
    print(clf.score(x[:200], y[:200]), clf.score(x[200:], y[200:]))
    assert clf.score(x[200:], y[200:]) > 0.8  # a random ±1 network: 0.5
    table = clf.results_
    assert table["best_bitstring"].str.startswith("0b").all()
    if shots is not None:  # sampled runs fill best_* and say how the BiNN was read out
        assert table["best_source"].isin(["mode-certified", "beam-search",
                                          "most-frequent-sample"]).all()
        assert (table["n_shots"] > 0).all() and np.isfinite(table["best_cost"]).all()


def test_exact_and_sampled_training_reach_the_same_optimum_at_12_qubits():
    x, y = _easy(11)
    model = AugmentedBiNN((11, 1), encodings=((-1.0, 1.0),), loss="cross_entropy")
    problem = pyqhn.Problem(model, (x, y))
    exact = problem.train(["product"], runs=4, progress=False)
    sampled = problem.train(["product"], runs=2, shots=200, max_iter=80, progress=False)
    assert exact.regime == "exact" and sampled.regime == "sampled"
    np.testing.assert_array_equal(exact.best_bits(), problem.optimum_bits())
    np.testing.assert_array_equal(sampled.best_bits(), problem.optimum_bits())
    assert sampled.best_cost() == pytest.approx(problem.c_star, rel=1e-12)
    # the angles are kept and reproduce the reported mode
    theta = sampled.theta("product", int(sampled.best_run()["run"]))
    mode = pyqhn.get_engine("mps").most_probable(sampled.circuits[0], theta)
    np.testing.assert_array_equal(mode.bits, sampled.best_bits())
    assert exact.summary().attrs["epsilon"] == pytest.approx(0.01 * problem.c_star)
    # every run's network, decoded; the sampled summary counts successes on them
    nets = sampled.networks()
    assert len(nets) == 2 and nets["best_cost"].min() == pytest.approx(problem.c_star)
    assert nets["network"].str.contains("W1=").all() and len(exact.networks()) == 4
    assert sampled.summary().loc["product", "successes"] >= 1


def test_sampled_optimisers_by_name_and_bad_names_refused():
    x, y = _easy(5, n=60)
    problem = pyqhn.Problem(AugmentedBiNN((5, 1), loss="cross_entropy"), (x, y))
    res = problem.train(["N_layer=1"], runs=1, shots=50, optimizer="spsa", max_iter=5,
                        progress=False)
    assert res.table["optimizer"].iloc[0] == "spsa" and res.theta("blocks=2", 0).shape == (24,)
    with pytest.raises(pyqhn.InputError, match="sampled training takes"):
        problem.train(["product"], runs=1, shots=50, optimizer="bfgs", progress=False)
    with pytest.raises(pyqhn.InputError, match="exact training takes"):
        problem.train(["product"], runs=1, optimizer="spsa", progress=False)


def test_a_sampled_run_folder_resumes_and_keeps_the_angles(tmp_path):
    x, y = _easy(5, n=60)
    problem = pyqhn.Problem(AugmentedBiNN((5, 1), loss="cross_entropy"), (x, y))
    first = problem.train(["product"], runs=1, shots=50, max_iter=5, out=tmp_path,
                          progress=False)
    again = problem.train(["product"], runs=2, shots=50, max_iter=5, out=tmp_path,
                          progress=False)
    assert len(again.table) == 2
    np.testing.assert_array_equal(first.theta("product", 0), again.theta("product", 0))
    assert (tmp_path / "angles.npz").exists()


@pytest.mark.parametrize("name", ["product", "blocks=4", "blocks=3", "N_layer=1",
                                  "N_layer = 2", r"$N_{\rm layer} = 3$"])
def test_circuit_names_round_trip_through_label(name):
    from pyqhn.circuits import Circuit
    from pyqhn.plotting import circuit_label

    c = Circuit.from_name(name, 6)
    assert Circuit.from_name(c.label, 6) == c == Circuit.from_name(c.name, 6)
    assert Circuit.from_name(circuit_label(c.name), 6) == c
    assert circuit_label(c.name, mathtext=False) == c.label
