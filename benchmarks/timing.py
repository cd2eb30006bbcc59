"""The benchmarks' one timer (imported by the scripts beside it)."""

from __future__ import annotations

import time
from collections.abc import Callable

import numpy as np


def first_and_best(fn: Callable[[], object], repeat: int = 5) -> tuple[float, float]:
    """``(first call seconds, best of `repeat` warm calls seconds)``."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return first, best
