"""Paper-sized reproductions (minutes to hours): run with ``pytest --paper``."""

import pytest

import pyqhn  # noqa: F401
from pyqhn.experiments import EXPERIMENTS


@pytest.mark.paper
def test_fig4_on_authors_table_matches_paper(tmp_path, reference_mnist):
    """200 initialisations on the authors' 17-qubit table: product ≈ 60 %, N_layer 2 ≈ 90 %."""
    import numpy as np

    cost_file = tmp_path / "authors.npz"
    np.savez(cost_file, cost=reference_mnist["cost"])
    spec = EXPERIMENTS.create("fig4").replace(runs=200, blocks=(0, 4), cost_file=str(cost_file))
    summary = spec.run(tmp_path / "fig4", progress=False).to_json()
    rates = {c["name"]: c["success_probability"] for c in summary["circuits"]}
    assert abs(rates["product"] - 0.6) < 0.1
    assert abs(rates["blocks=4"] - 0.9) < 0.07
    assert rates["blocks=4"] > rates["product"]


@pytest.mark.paper
def test_fig2_paper_sized_finds_relu_optimum(tmp_path):
    summary = EXPERIMENTS.create("fig2").run(tmp_path / "fig2", progress=False).to_json()
    assert summary["optimum"]["activation"] == "relu"
    assert abs(summary["c_star"] - 0.008) < 0.002
    assert all(c["runs"] == 200 for c in summary["circuits"])
    assert all(c["success_probability"] > 0.3 for c in summary["circuits"])
