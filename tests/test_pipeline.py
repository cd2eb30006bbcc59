"""The notebook API: problem → cost table → training → results → classifier."""

import numpy as np
import pytest

import pyqhn
from pyqhn import datasets, models
from pyqhn.pipeline import Problem


def test_pipeline_mle_and_elbo_on_a_tiny_model():
    model = models.AugmentedBiNN(layers=(2, 1), loss="cross_entropy")
    data = datasets.gaussian_mixture(60, seed=3)
    problem = Problem(model, data)
    cost = problem.cost_table()
    assert cost.shape == (2**model.n_qubits,)
    mle = problem.train(["product", "blocks=2"], runs=3, epsilon=1e-6, progress=False)
    summary = mle.summary()
    assert summary.attrs["c_star"] == float(cost.min())
    assert list(summary.index) == ["product", "blocks=2"]
    for name, row in summary.iterrows():
        e = mle.table.loc[mle.table["circuit"] == name, "e_final"].to_numpy()
        assert row["runs"] == e.size == 3
        assert row["success_probability"] == np.mean(e - cost.min() < 1e-6)
        assert row["success_low"] <= row["success_probability"] <= row["success_high"]
        assert row["success_high"] - row["success_low"] > 0.2  # 3 runs: a wide interval
        assert row["mean_energy"] == pytest.approx(e.mean())
    # a product state reaches any single bitstring: the best run finds the optimum
    assert mle.best_cost() == float(cost.min())
    clf = mle.best_classifier()
    assert 0.0 <= clf.accuracy(data) <= 1.0
    elbo = problem.train(["blocks=2"], runs=3, epsilon=1e-6, progress=False, objective="elbo")
    # ELBO adds KL(q‖uniform)/N_s ≥ 0 to E_q[C]: its optimum is no lower than min C
    assert np.all(elbo.table["e_final"] >= cost.min() - 1e-12)


def test_problem_takes_arrays_and_the_classifier_follows_scikit_learn():
    data = datasets.gaussian_mixture(80, seed=4)
    model = models.AugmentedBiNN(layers=(2, 2, 1), activations=("sigmoid", "relu"))
    from_arrays = Problem(model, (data.x, data.y))
    np.testing.assert_array_equal(from_arrays.cost_table(), Problem(model, data).cost_table())
    clf = from_arrays.classifier(from_arrays.optimum_bits())
    proba = clf.predict_proba(data.x)
    assert proba.shape == (80, 2) and np.allclose(proba.sum(axis=1), 1.0)
    np.testing.assert_array_equal(clf.predict(data.x), proba.argmax(axis=1))
    np.testing.assert_array_equal(clf.classes_, [0, 1])
    # the sigmoid output unit is P(y = 1)
    np.testing.assert_allclose(proba[:, 1], clf.output(data.x), rtol=1e-12)
    score = clf.score(data.x, data.y)
    assert score == clf.accuracy((data.x, data.y)) == clf.accuracy(data)
    assert score == np.mean(clf.predict(data.x) == data.y) and score > 0.8
    with pytest.raises(ValueError, match="X must have shape"):
        clf.predict(data.x[:, :1])
    with pytest.raises(ValueError, match="binary labels"):
        Problem(model, (data.x, data.y + 1))


def test_pyqhn_exports_the_main_names_lazily():
    import subprocess
    import sys

    assert pyqhn.Problem is Problem and callable(pyqhn.get_engine)
    assert pyqhn.models.AugmentedBiNN is models.AugmentedBiNN
    code = "import sys, pyqhn; print('jax' in sys.modules)"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True)
    assert out.stdout.strip() == "False"  # import pyqhn stays cheap


def test_a_bare_cost_table_trains_but_says_why_it_has_no_classifier():
    from pyqhn.checks import InputError

    cost = np.random.default_rng(2).random(2**5)
    res = Problem.from_cost(cost).train(["product"], runs=2, epsilon=1e-6, max_iter=50,
                                        progress=False)
    assert res.best_cost() == pytest.approx(cost.min())
    with pytest.raises(InputError, match="bare cost table"):
        res.best_classifier()


def test_cached_cost_table_never_mixes_layouts_encodings_or_data(tmp_path):
    from pyqhn.bits import bits_to_index, index_to_bits
    from pyqhn.cost import load_cost
    from pyqhn.pipeline import cached_cost_table

    path = tmp_path / "cost.npz"
    data = datasets.gaussian_mixture(30, seed=0)
    first = models.gaussian_activation_model("choices-first")
    orig = models.gaussian_activation_model()
    c_first = cached_cost_table(first, data, path)
    key_first = load_cost(path)[1]["key"]
    c_orig = cached_cost_table(orig, data, path)  # same file, other layout: recomputed
    assert load_cost(path)[1]["key"] != key_first
    assert not np.array_equal(c_first, c_orig)
    k = np.arange(2**14)
    perm = bits_to_index(orig.convert_bits(index_to_bits(k, 14), first))
    np.testing.assert_allclose(c_first[perm], c_orig, rtol=0, atol=1e-12)
    # other training points (size or seed), other encodings or digits: other keys
    keys = {Problem(m, d).fingerprint() for m, d in [
        (orig, data), (first, data), (orig, datasets.gaussian_mixture(31, seed=0)),
        (models.mnist_model(size=2), datasets.mnist_pair((0, 1), size=2, max_per_class=9)),
        (models.mnist_model(size=2, encoding=(0, 1)),
         datasets.mnist_pair((0, 1), size=2, max_per_class=9)),
        (models.mnist_model(size=2), datasets.mnist_pair((3, 7), size=2, max_per_class=9))]}
    assert len(keys) == 6
