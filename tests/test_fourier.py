import numpy as np
import pytest
import scipy.linalg

from pyqhn.bits import index_to_bits
from pyqhn.fourier import (
    cost_from_walsh,
    fwht,
    walsh_coefficients,
    weight_spectrum,
    z_string_index,
)


@pytest.mark.parametrize("n", [1, 4, 9])
def test_fwht_equals_dense_hadamard(n):
    v = np.random.default_rng(n).normal(size=2**n)
    assert np.allclose(fwht(v), scipy.linalg.hadamard(2**n) @ v)


def test_parseval():
    c = np.random.default_rng(0).uniform(size=2**10)
    w = weight_spectrum(c)
    assert w.shape == (11,)
    assert np.isclose(w.sum(), np.mean(c**2))
    assert np.isclose(w[0], c.mean() ** 2)


def test_known_ising_terms_come_back_exactly():
    n = 6
    terms = {(): 0.7, (1,): -0.4, (3, 5): 1.3, (2, 4, 6): 0.25}
    z = 1.0 - 2.0 * index_to_bits(np.arange(2**n), n)  # z[:, i] = ±1 of parameter i
    cost = np.zeros(2**n)
    for sites, h in terms.items():
        term = np.full(2**n, h)
        for j in sites:  # site j is parameter n - j
            term = term * z[:, n - j]
        cost += term
    f = walsh_coefficients(cost)
    expected = np.zeros(2**n)
    for sites, h in terms.items():
        expected[z_string_index(sites, n)] = h
    assert np.allclose(f, expected, atol=1e-14)
    assert z_string_index([1], n) == 1 and z_string_index([n], n) == 2 ** (n - 1)
    w = weight_spectrum(cost)
    assert np.allclose(w, [0.49, 0.16, 1.69, 0.0625, 0, 0, 0])
    assert np.allclose(cost_from_walsh(f), cost)


def test_bad_length_is_rejected():
    with pytest.raises(ValueError, match="2\\*\\*N"):
        weight_spectrum(np.zeros(6))


def test_weight_spectrum_does_not_depend_on_the_bit_layout():
    # a layout relabels qubits (and the original Gaussian layout flips the activation
    # bit's meaning): W(S) sums f(P)^2 over strings of one size, so it cannot change
    from pyqhn.cost import cost_table
    from pyqhn.datasets import gaussian_mixture
    from pyqhn.models import gaussian_width_model

    data = gaussian_mixture(40, seed=0)
    orig = cost_table(gaussian_width_model(), data)
    first = cost_table(gaussian_width_model("choices-first"), data)
    assert not np.allclose(orig, first)
    np.testing.assert_allclose(weight_spectrum(orig), weight_spectrum(first), rtol=1e-10,
                               atol=1e-18)
