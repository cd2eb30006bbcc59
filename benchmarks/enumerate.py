"""Benchmark: full enumeration of the 19-qubit encoding search, and W(S) at N = 24.

Prints wall times and ratios against peers measured in the same run:

* enumeration: ``pyqhn.cost.cost_table`` (with and without the exact inert-input shortcut)
  against a naive per-bitstring numpy loop on a subset, extrapolated to 2**19;
* Fourier: ``pyqhn.fourier.weight_spectrum`` / ``fwht`` at N = 24 against a textbook
  numpy butterfly with a fresh copy per pass (N passes), checked equal.

The original Julia stack took about 3 minutes for its 19-qubit enumeration.

    python benchmarks/enumerate.py [--naive 300]
"""

from __future__ import annotations

import argparse
import time

import numpy as np

from pyqhn.bits import index_to_bits
from pyqhn.cost import cost_table
from pyqhn.datasets import mnist_pair
from pyqhn.fourier import fwht, weight_spectrum
from pyqhn.models import ENCODINGS, MNIST_DIGITS, mnist_encoding_model


def naive_cost(bits: np.ndarray, x: np.ndarray, y: np.ndarray) -> float:
    """One bitstring of the 19-qubit model (original layout: 16 pixel weights, the bias,
    then the two encoding bits), the obvious way."""
    lo, hi = ENCODINGS[2 * bits[-2] + bits[-1]]
    vals = lo + (hi - lo) * bits[:-2]
    z = x @ vals[:-1] + vals[-1]
    return float(np.mean(np.logaddexp(0.0, z) - y * z))


def butterfly(values: np.ndarray) -> np.ndarray:
    x = np.array(values, dtype=np.float64)
    n = x.size.bit_length() - 1
    for i in range(n):
        y = x.reshape(-1, 2, 2**i)
        a = y[:, 0].copy()
        y[:, 0] += y[:, 1]
        y[:, 1] *= -1
        y[:, 1] += a
    return x


def timed(f, *args, **kwargs):
    t = time.perf_counter()
    out = f(*args, **kwargs)
    return out, time.perf_counter() - t


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--naive", type=int, default=300, help="bitstrings for the naive loop")
    args = parser.parse_args()

    data = mnist_pair(MNIST_DIGITS["mnist-encoding"])  # 3 vs 7, as the original notebook
    model = mnist_encoding_model()
    n = model.n_qubits
    print(f"19-qubit encoding search: N = {n}, {data.n_samples} samples (all shipped 3s and 7s)")
    cost_table(mnist_encoding_model(size=2), mnist_pair((3, 7), size=2))  # warm-up imports

    c_fast, t_fast = timed(cost_table, model, data)
    c_full, t_full = timed(cost_table, model, data, skip_inert=False)
    assert np.allclose(c_fast, c_full, rtol=0, atol=1e-13)
    rng = np.random.default_rng(0)
    idx = rng.choice(2**n, size=args.naive, replace=False)
    bits = index_to_bits(idx, n)
    y = data.y.astype(np.float64)
    naive, t_naive = timed(lambda: np.array([naive_cost(b, data.x, y) for b in bits]))
    assert np.allclose(naive, c_full[idx], rtol=1e-12, atol=1e-13)
    t_naive_all = t_naive / args.naive * 2**n
    print(f"  cost_table (inert-input shortcut, default): {t_fast:8.2f} s  (incl. jit compile)")
    print(f"  cost_table (every bitstring evaluated):     {t_full:8.2f} s  (incl. jit compile)")
    print(f"  naive numpy loop, extrapolated from {args.naive}:  {t_naive_all:8.1f} s")
    print(f"  speed-up vs naive: {t_naive_all / t_fast:.0f}x (shortcut), "
          f"{t_naive_all / t_full:.0f}x (full); original Julia ~180 s: "
          f"{180 / t_fast:.0f}x / {180 / t_full:.0f}x")
    print(f"  min cost {c_fast.min():.10g} at index {int(np.argmin(c_fast))}")

    c24 = np.random.default_rng(1).normal(size=2**24)
    _, t_ws = timed(weight_spectrum, c24)
    f_ours, t_fwht = timed(fwht, c24)
    f_ref, t_bfly = timed(butterfly, c24)
    assert np.allclose(f_ours, f_ref, rtol=1e-10, atol=1e-8)
    print("Fourier, N = 24:")
    print(f"  weight_spectrum (fwht + W(S)): {t_ws:6.2f} s")
    print(f"  fwht (in-place butterflies):   {t_fwht:6.2f} s")
    print(f"  textbook numpy butterfly:      {t_bfly:6.2f} s  (ratio {t_bfly / t_fwht:.2f}x)")


if __name__ == "__main__":
    main()
