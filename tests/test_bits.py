"""Bit order round trips against CONVENTIONS.md."""

import itertools

import numpy as np
import pytest

from pyqhn.bits import (
    bits_to_index,
    index_to_bits,
    parameter_of_site,
    site_of_parameter,
)
from pyqhn.cost import cost_table
from pyqhn.datasets import Dataset
from pyqhn.models import AugmentedBiNN


@pytest.mark.parametrize("n", [1, 3, 6])
def test_round_trip_and_itertools_product_order(n):
    k = np.arange(2**n)
    bits = index_to_bits(k, n)
    assert np.array_equal(bits_to_index(bits), k)
    # parameter list enumerated with the FIRST parameter most significant
    assert np.array_equal(bits, np.array(list(itertools.product([0, 1], repeat=n))))


def test_site_one_is_least_significant_bit():
    n = 5
    for j in range(1, n + 1):
        k = 2 ** (j - 1)  # only site j set
        bits = index_to_bits(k, n)
        assert bits.sum() == 1
        assert bits[parameter_of_site(j, n)] == 1
        assert site_of_parameter(parameter_of_site(j, n), n) == j


def test_cost_table_uses_the_same_order():
    # C = (2·w + b)², identity output, input 2, label 0; parameter 0 is w (most significant
    # bit, site 2), parameter 1 is b (least significant bit, site 1)
    model = AugmentedBiNN((1, 1), encodings=((0.0, 1.0),), loss="mse",
                          output_activation="identity")
    data = Dataset(np.array([[2.0]]), np.array([0]))
    c = cost_table(model, data)
    assert model.parameter_names() == ["W1[0,0]", "b1[0]"]
    assert np.allclose(c, [0.0, 1.0, 4.0, 9.0])
    assert np.allclose(c, model.cost(index_to_bits(np.arange(4), 2), data))
