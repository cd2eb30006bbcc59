"""The one place that fixes the order of bits, indices, model parameters and qubits.

Conventions (identical to the original PastaQ stack, see ``../shared/CONVENTIONS.md``):

* A cost vector ``C`` has length ``2**n`` and is indexed by ``k = 0 .. 2**n - 1``.
* Qubit (site) ``j`` (1-based) carries bit ``j - 1`` of ``k``: site 1 is the LEAST
  significant bit.
* A model's parameter list is enumerated with the FIRST parameter as the MOST significant
  bit (``itertools.product`` order), so model parameter ``i`` (0-based) sits on site
  ``n - i``.

A *bit row* is the array ``bits[..., i]`` = value of model parameter ``i`` in {0, 1}.
Qubit counts are validated by :func:`pyqhn.checks.check_n_qubits`.
"""

from __future__ import annotations

import numpy as np

from .checks import InputError

__all__ = [
    "index_to_bits",
    "bits_to_index",
    "site_of_parameter",
    "parameter_of_site",
    "bits_to_string",
    "bitstring_literals",
]


def index_to_bits(index: np.ndarray | int, n: int) -> np.ndarray:
    """Bit rows of indices.

    Args:
        index: integer array of any shape ``S`` with values in ``[0, 2**n)``.
        n: number of bits.

    Returns:
        ``uint8`` array of shape ``S + (n,)``; entry ``[..., i]`` is model parameter ``i``,
        i.e. bit ``n - 1 - i`` of the index (parameter 0 is the most significant bit).
    """
    index = np.asarray(index, dtype=np.int64)
    shifts = np.arange(n - 1, -1, -1, dtype=np.int64)
    return ((index[..., None] >> shifts) & 1).astype(np.uint8)


def bits_to_index(bits: np.ndarray) -> np.ndarray:
    """Inverse of :func:`index_to_bits`: ``(..., n)`` bit rows to ``(...)`` int64 indices."""
    bits = np.asarray(bits)
    if bits.ndim == 0:
        raise InputError("bits must have a trailing axis of length n")
    if np.any((bits != 0) & (bits != 1)):
        raise InputError("bits must contain only 0 and 1")
    n = bits.shape[-1]
    weights = np.left_shift(np.int64(1), np.arange(n - 1, -1, -1, dtype=np.int64))
    return bits.astype(np.int64) @ weights


def site_of_parameter(i: int, n: int) -> int:
    """1-based qubit site carrying model parameter ``i`` (0-based): ``n - i``."""
    if not 0 <= i < n:
        raise InputError(f"parameter index {i} out of range for {n} bits")
    return n - i


def parameter_of_site(j: int, n: int) -> int:
    """0-based model parameter carried by 1-based site ``j``: ``n - j``."""
    if not 1 <= j <= n:
        raise InputError(f"site {j} out of range 1..{n}")
    return n - j


def bits_to_string(bits: np.ndarray) -> str:
    """A bit row ``(n,)`` as a string of ``n`` characters, parameter 0 first (the binary
    numeral of the index)."""
    return "".join(str(int(b)) for b in np.asarray(bits).ravel())


def bitstring_literals(index: np.ndarray, n: int) -> np.ndarray:
    """Indices ``(M,)`` as ``0b…`` strings, parameter 0 first (``int(s, 0) == index``): the
    run log's ``best_bitstring`` column, which ``pandas.read_csv`` keeps as text."""
    return np.array(["0b" + bits_to_string(b) for b in index_to_bits(index, n)])
