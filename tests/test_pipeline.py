"""The notebook API: problem → cost table → training → results → classifier."""

import numpy as np

import pyqhn  # noqa: F401
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
    assert summary["c_star"] == float(cost.min())
    assert {c["name"] for c in summary["circuits"]} == {"product", "blocks=2"}
    # a product state reaches any single bitstring: the best run finds the optimum
    assert mle.best_cost() == float(cost.min())
    clf = mle.best_classifier()
    assert 0.0 <= clf.accuracy(data) <= 1.0
    elbo = problem.train(["blocks=2"], runs=3, epsilon=1e-6, progress=False, objective="elbo")
    # ELBO adds KL(q‖uniform)/N_s ≥ 0 to E_q[C]: its optimum is no lower than min C
    assert np.all(elbo.table["e_final"] >= cost.min() - 1e-12)
