"""The optional PastaQ engine agrees with the exact engine (skipped without Julia)."""

import numpy as np
import pytest

import pyqhn  # noqa: F401
from pyqhn.circuits import brickwork_circuit, random_params
from pyqhn.engines import exact
from pyqhn.engines import julia as julia_engine

reason = julia_engine.julia_unavailable_reason()


def test_reason_is_reported_when_unavailable():
    if reason is None:
        pytest.skip("Julia is available here")
    with pytest.raises(RuntimeError, match="unavailable"):
        julia_engine.energy(brickwork_circuit(3, 2), np.zeros(12), np.ones(8))


@pytest.mark.skipif(reason is not None, reason=f"Julia engine unavailable: {reason}")
def test_pastaq_matches_exact_engine():
    c = brickwork_circuit(6, 4)
    theta = random_params(c, 3, seed=2)
    cost = np.random.default_rng(0).random(2**6)
    np.testing.assert_allclose(julia_engine.energy(c, theta, cost),
                               np.asarray(exact.energy(c, theta, cost)), atol=1e-10)
