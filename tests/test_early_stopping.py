"""Fig. 7's early-stopping analysis on synthetic validation curves."""

import numpy as np
import pytest

from pyqhn.analysis import early_stopping


def test_interior_minimum_is_found_with_its_depth():
    rng = np.random.default_rng(0)
    t = np.arange(50)
    curve = 0.3 + 0.002 * (t - 20) ** 2 / 20  # minimum at iteration 20, 0.9 lower at the end
    val = curve + 0.01 * rng.standard_normal((100, 50))
    res = early_stopping(val)
    assert res["interior"] and res["significant"]
    assert abs(res["iteration"] - 20) <= 2
    assert res["depth"] == pytest.approx(curve[-1] - curve[20], abs=0.01)
    assert res["fraction_of_draws"] > 0.9


def test_monotone_curves_have_no_early_stopping_point():
    rng = np.random.default_rng(1)
    curve = 0.1 + np.exp(-np.arange(50) / 10)
    val = curve + 1e-3 * rng.standard_normal((100, 50))
    res = early_stopping(val)
    assert not res["significant"]
    assert res["iteration"] >= 45 and abs(res["depth"]) < 1e-3


def test_bad_shape_is_refused():
    with pytest.raises(ValueError, match="draws, iterations"):
        early_stopping(np.zeros(5))
