"""Walsh–Fourier analysis of cost tables.

The cost operator ``Ĉ = Σ_k C[k] |k⟩⟨k|`` is diagonal, so it expands in Z-strings:
``Ĉ = Σ_s f(s) Z^s`` with ``Z^s`` = Z on every site j whose bit j−1 of ``s`` is set (site j
carries bit j−1 of an index, see :mod:`pyqhn.bits`), and

    f(s) = 2^−N Tr[Ĉ Z^s] = 2^−N Σ_k C[k] (−1)^popcount(k & s).

``W(S) = Σ_{|s| = S} f(s)²`` (the paper's Fig. 6) sums over Z-strings of weight ``S``;
Parseval gives ``Σ_S W(S) = mean(C²)``.
"""

from __future__ import annotations

from collections.abc import Iterable

import numpy as np

from .bits import bits_to_index, parameter_of_site
from .checks import check_cost, check_n_qubits, n_qubits_of_cost

__all__ = [
    "fwht",
    "walsh_coefficients",
    "cost_from_walsh",
    "z_string_index",
    "weight_spectrum",
]

def fwht(values: np.ndarray) -> np.ndarray:
    """Unnormalised fast Walsh–Hadamard transform of a (2**N,) vector, O(N·2**N).

    ``out[s] = Σ_k values[k] (−1)^popcount(k & s)``: N in-place butterfly passes over a
    copy of ``values`` with one preallocated half-size buffer (no other allocation).
    Returns a new float64 array.
    """
    x = np.array(values, dtype=np.float64)
    if x.ndim != 1 or x.size < 1 or x.size & (x.size - 1):
        raise ValueError(f"fwht needs a 1-D vector of length 2**N, got shape {x.shape}")
    n = x.size.bit_length() - 1
    if n == 0:
        return x
    buf = np.empty(x.size // 2)
    for i in range(n):  # pass i combines indices differing in bit i
        pairs = x.reshape(-1, 2, 2**i)
        a, b = pairs[:, 0], pairs[:, 1]
        tmp = buf.reshape(a.shape)
        np.subtract(a, b, out=tmp)
        a += b
        b[...] = tmp
    return x


def walsh_coefficients(cost: np.ndarray) -> np.ndarray:
    """``f(s) = 2^−N Tr[Ĉ Z^s]`` for every Z-string ``s``: (2**N,) float64, indexed like C."""
    c = check_cost(cost)
    return fwht(c) / c.size


def cost_from_walsh(coefficients: np.ndarray) -> np.ndarray:
    """Inverse of :func:`walsh_coefficients`: ``C[k] = Σ_s f(s) (−1)^popcount(k & s)``."""
    return fwht(coefficients)


def z_string_index(sites: Iterable[int], n: int) -> int:
    """Index ``s`` of the Z-string acting on the given 1-based ``sites`` of ``n`` qubits."""
    n = check_n_qubits(n)
    row = np.zeros(n, dtype=np.uint8)
    for j in sites:
        row[parameter_of_site(int(j), n)] = 1
    return int(bits_to_index(row))


def weight_spectrum(cost: np.ndarray) -> np.ndarray:
    """``W(S) = Σ_{|s|=S} f(s)²`` for S = 0..N: (N+1,) float64; sums to mean(C²)."""
    f = walsh_coefficients(cost)
    n = n_qubits_of_cost(cost)
    # |s| = popcount(s) = popcount(high half) + popcount(low half): two small one-hot
    # matrices instead of a popcount of every index
    lo_bits = n // 2
    pop_lo = _popcount_onehot(lo_bits)  # (2**lo, lo + 1)
    pop_hi = _popcount_onehot(n - lo_bits)  # (2**hi, hi + 1)
    by_pop = pop_hi.T @ ((f * f).reshape(2 ** (n - lo_bits), 2**lo_bits) @ pop_lo)
    w = np.zeros(n + 1)
    for a in range(by_pop.shape[0]):
        w[a : a + by_pop.shape[1]] += by_pop[a]
    return w


def _popcount_onehot(m: int) -> np.ndarray:
    """(2**m, m + 1) matrix: row s is the one-hot vector of popcount(s)."""
    pop = np.zeros(2**m, dtype=np.int64)
    for b in range(m):
        pop += (np.arange(2**m) >> b) & 1
    return np.eye(m + 1)[pop]
