"""The factories of :data:`pyqhn.problems.PROBLEMS`: each task's model and data, once.

Every factory takes keyword options only and returns a :class:`pyqhn.pipeline.Problem`
whose ``dataset`` is the training data (the cost averages over it); ``test`` and
``validation`` hold the task's held-out data where it has them. Defaults build each task
as its figure does (:mod:`pyqhn.experiments`).
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from functools import partial

import numpy as np

from .. import datasets, models
from ..datasets import GAUSSIAN_TRAIN_SIZE, Dataset
from ..pipeline import Problem

__all__ = ["gaussian_activation", "gaussian_width", "moons_activation", "ring_activation",
           "mnist", "mnist_encoding", "mnist8x8_logistic", "mnist8x8_hidden"]

Seed = int | Sequence[int] | np.random.Generator

#: Data seed of the landscape figures' Gaussian mixture (Figs. 2, 3).
GAUSSIAN_SEED = 1234


def _two_d(make: Callable[..., Dataset], model: models.AugmentedBiNN, n_samples: int,
           seed: Seed, n_test: int, test_seed: int | None, scale: float | None = None) -> Problem:
    """``model`` on ``n_samples`` points of ``make``; ``n_test`` test points drawn from
    ``test_seed``, or (``None``) from the training data's generator after it; ``scale``
    (Gaussian mixtures only) is :func:`pyqhn.datasets.gaussian_mixture`'s."""
    rng = np.random.default_rng(seed)
    if scale is not None:
        make = partial(make, scale=scale)
    train = make(n_samples, seed=rng)
    test = None
    if n_test:
        test = make(n_test, seed=rng if test_seed is None else test_seed)
    return Problem(model, train, test=test)


def gaussian_activation(*, layout: str = "original", loss: str = "mse",
                        n_samples: int = GAUSSIAN_TRAIN_SIZE, seed: Seed = GAUSSIAN_SEED,
                        n_test: int = 0, test_seed: int | None = None,
                        scale: float = 1.0) -> Problem:
    """Fig. 2: :func:`pyqhn.models.gaussian_activation_model` on ``n_samples`` points of
    :func:`pyqhn.datasets.gaussian_mixture` drawn from ``seed`` (test points: see
    :func:`_two_d`)."""
    return _two_d(datasets.gaussian_mixture,
                  models.gaussian_activation_model(layout, loss=loss), n_samples, seed,
                  n_test, test_seed, scale)


def gaussian_width(*, layout: str = "original", loss: str = "mse",
                   n_samples: int = GAUSSIAN_TRAIN_SIZE, seed: Seed = GAUSSIAN_SEED,
                   n_test: int = 0, test_seed: int | None = None,
                   scale: float = 1.0) -> Problem:
    """Fig. 3: :func:`pyqhn.models.gaussian_width_model` on the Gaussian mixture (as
    :func:`gaussian_activation`)."""
    return _two_d(datasets.gaussian_mixture, models.gaussian_width_model(layout, loss=loss),
                  n_samples, seed, n_test, test_seed, scale)


def moons_activation(*, layout: str = "choices-first", loss: str = "cross_entropy",
                     n_samples: int = 100, seed: Seed = 0, n_test: int = 0,
                     test_seed: int | None = None) -> Problem:
    """The vi task on :func:`pyqhn.datasets.two_moons` (noise 0.1): the Fig. 2 BiNN
    (defaults: the vi experiment's layout and loss)."""
    return _two_d(datasets.two_moons, models.gaussian_activation_model(layout, loss=loss),
                  n_samples, seed, n_test, test_seed)


def ring_activation(*, layout: str = "choices-first", loss: str = "cross_entropy",
                    n_samples: int = 100, seed: Seed = 0, n_test: int = 0,
                    test_seed: int | None = None) -> Problem:
    """The vi task on :func:`pyqhn.datasets.ring` (class 1 in the disc r ≤ 0.5, class 0
    on the circle r = 1.5): the Fig. 2 BiNN (defaults as :func:`moons_activation`)."""
    return _two_d(datasets.ring, models.gaussian_activation_model(layout, loss=loss),
                  n_samples, seed, n_test, test_seed)


def mnist(*, size: int = 4, digits: tuple[int, int] | str = models.MNIST_DIGITS["mnist"],
          encoding: tuple[float, float] | None = None, layout: str = "original",
          max_per_class: int | None = None, resize: str = "bilinear") -> Problem:
    """Fig. 4 (and the appendix, Figs. 8-13): :func:`pyqhn.models.mnist_model`
    (``encoding`` ``None``: {−3, 1}, the authors' table) on the shipped MNIST ``digits``,
    ``size``×``size`` (:func:`pyqhn.datasets.mnist_pair`; ``max_per_class`` images per
    digit, ``None`` all)."""
    model = models.mnist_model(size, models.MNIST_ENCODING if encoding is None else encoding,
                               layout)
    return Problem(model, datasets.mnist_pair(digits, size=size, method=resize,
                                              max_per_class=max_per_class))


def mnist_encoding(*, size: int = 4,
                   digits: tuple[int, int] | str = models.MNIST_DIGITS["mnist-encoding"],
                   layout: str = "original", max_per_class: int | None = None,
                   resize: str = "bilinear") -> Problem:
    """Fig. 5: :func:`pyqhn.models.mnist_encoding_model` (two bits choose the weight
    encoding) on MNIST ``digits`` (3 vs 7), as :func:`mnist`."""
    return Problem(models.mnist_encoding_model(size, layout),
                   datasets.mnist_pair(digits, size=size, method=resize,
                                       max_per_class=max_per_class))


def _split_mnist(model, digits: tuple[int, int] | str, size: int, seed: int) -> Problem:
    """``model`` on MNIST ``digits`` at ``size``×``size``, split 60/20/20 (seeded):
    training data, ``validation`` and ``test``."""
    split = datasets.train_val_test_split(datasets.mnist_pair(digits, size=size),
                                          val=0.2, test=0.2, seed=seed)
    return Problem(model, split.train, validation=split.val, test=split.test)


def mnist8x8_logistic(*, size: int = 8, digits: tuple[int, int] | str = (0, 1),
                      seed: int = 0) -> Problem:
    """mnist8x8: :class:`pyqhn.large_models.LinkChoiceLogistic` (±1 weights and bias,
    link choice; N = size² + 2 = 66) on MNIST ``digits``, split 60/20/20 by ``seed``."""
    from ..large_models import LinkChoiceLogistic

    return _split_mnist(LinkChoiceLogistic(size * size), digits, size, seed)


def mnist8x8_hidden(*, size: int = 8, hidden: int = 3, digits: tuple[int, int] | str = (0, 1),
                    seed: int = 0) -> Problem:
    """mnist8x8 ``hidden``: :func:`pyqhn.large_models.hidden_layer_model` (size² →
    ``hidden`` → 1, ±1 weights, sigmoid/ReLU choice; N = 200 at 8×8, 3 units) on MNIST
    ``digits``, split as :func:`mnist8x8_logistic`."""
    from ..large_models import hidden_layer_model

    return _split_mnist(hidden_layer_model(size * size, hidden), digits, size, seed)
