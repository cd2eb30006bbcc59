"""The benchmark's seeded instance families as problems (:mod:`pyqhn.benchmark.instances`).

Each factory returns a :class:`pyqhn.pipeline.Problem`: one augmented model (weights and
biases in {−1, 1}, no choice bits) on one seeded dataset.

``bench-gauss``
    the paper's 2-D Gaussian mixture (:func:`pyqhn.datasets.gaussian_mixture`,
    :data:`GAUSS_POINTS` points drawn from ``[seed, 26]``, component variance ``width``)
    and a ``2-hidden-1`` sigmoid network: ``N = 4·hidden + 1``.
``bench-mnist``
    an MNIST digit pair (``DIGIT_PAIRS[seed mod 8]``, the first
    :data:`IMAGES_PER_DIGIT` images of each digit) resized to ``size × size``, logistic
    regression: ``N = size² + 1``.
``bench-pixels``
    the same digit pairs at 28 × 28, ``pixels`` pixels drawn from ``[seed, 26]`` among
    those whose standard deviation over the images exceeds 0.2, logistic regression:
    ``N = pixels + 1``.
"""

from __future__ import annotations

import numpy as np

from ..checks import InputError
from ..datasets import Dataset, gaussian_mixture, mnist_pair
from ..models import AugmentedBiNN
from ..pipeline import Problem

__all__ = ["DIGIT_PAIRS", "GAUSS_POINTS", "IMAGES_PER_DIGIT", "gauss_instance",
           "mnist_instance", "pixels_instance"]

#: Digit pairs of the ``mnist`` and ``pixels`` families, picked by ``seed mod 8``.
DIGIT_PAIRS = ((0, 1), (3, 7), (4, 9), (2, 5), (1, 7), (3, 8), (5, 6), (0, 6))

#: Points of a Gaussian-mixture instance.
GAUSS_POINTS = 200

#: Images per digit of an MNIST instance.
IMAGES_PER_DIGIT = 100


def gauss_instance(*, hidden: int = 3, seed: int = 0, width: float = 0.1) -> Problem:
    """``bench-gauss``: a 2-``hidden``-1 network on the seeded Gaussian mixture."""
    data = gaussian_mixture(GAUSS_POINTS, seed=[seed, 26], variance=width)
    return Problem(AugmentedBiNN((2, hidden, 1), name=f"gauss-w{width:g}-h{hidden}-s{seed}"),
                   data)


def mnist_instance(*, size: int = 3, seed: int = 1) -> Problem:
    """``bench-mnist``: logistic regression on a digit pair resized to ``size × size``."""
    data = mnist_pair(DIGIT_PAIRS[seed % len(DIGIT_PAIRS)], size=size,
                      max_per_class=IMAGES_PER_DIGIT)
    return Problem(AugmentedBiNN((size**2, 1), name=f"mnist-{size}-s{seed}"), data)


def pixels_instance(*, pixels: int = 15, seed: int = 0) -> Problem:
    """``bench-pixels``: logistic regression on ``pixels`` seeded pixels of a digit pair."""
    full = mnist_pair(DIGIT_PAIRS[seed % len(DIGIT_PAIRS)], size=28,
                      max_per_class=IMAGES_PER_DIGIT)
    varying = np.flatnonzero(full.x.std(axis=0) > 0.2)
    if pixels > varying.size:
        raise InputError(f"pixels: at most {varying.size} varying pixels, asked {pixels}")
    pick = np.sort(np.random.default_rng([seed, 26]).choice(varying, pixels, replace=False))
    data = Dataset(full.x[:, pick], full.y, f"{full.name} pixels {pick.tolist()}")
    return Problem(AugmentedBiNN((pixels, 1), name=f"pixels-{pixels}-s{seed}"), data)
