"""Problems by name: the one place a task's model and data are built.

:data:`PROBLEMS` maps a name to a factory returning a :class:`pyqhn.pipeline.Problem`
(model + training data, with held-out ``test``/``validation`` data where the task has
them). Every experiment, baseline and CLI command builds its model and data through it;
the command line takes its ``--problem`` choices and help from it and looks a name up
once, at its edge.

Each factory takes explicit keyword options only (``layout``, ``digits``, ``n_samples``,
``seed`` …); an entry's ``capabilities`` are exactly those option names, so the command
line can tell which of its options apply to a problem without importing anything
(``tests/test_problems.py`` checks them against the factories' signatures). The factories
live in :mod:`pyqhn.problems.tasks` and are imported on first use: importing this package
loads neither JAX nor the models.

Adding a problem: a factory (in :mod:`.tasks`, or a module of its own) and one
``PROBLEMS.register`` line below.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from ..registry import Registry

if TYPE_CHECKING:
    from ..pipeline import Problem

__all__ = ["PROBLEMS", "problem_options"]

#: Problem name → factory of a :class:`pyqhn.pipeline.Problem`; capabilities: the
#: factory's keyword options.
PROBLEMS: Registry[Problem] = Registry("problem", "--problem")

_TWO_D = ("layout", "loss", "n_samples", "seed", "n_test", "test_seed")
_GAUSS = (*_TWO_D, "scale")
_MNIST = ("size", "digits", "layout", "max_per_class", "resize")

PROBLEMS.register(
    "gaussian-activation", "pyqhn.problems.tasks:gaussian_activation",
    "Fig. 2: Gaussian mixture, BiNN 2-3-1 with a sigmoid/ReLU choice (N = 14)",
    capabilities=_GAUSS)
PROBLEMS.register(
    "gaussian-width", "pyqhn.problems.tasks:gaussian_width",
    "Fig. 3: Gaussian mixture, BiNN 2-3-1 with activation and hidden-width choice (N = 15)",
    capabilities=_GAUSS)
PROBLEMS.register(
    "mnist", "pyqhn.problems.tasks:mnist",
    "Fig. 4 and Figs. 8-13: MNIST 0 vs 1 (4x4) logistic regression, weights in {-3, 1} "
    "(N = 17)",
    capabilities=(*_MNIST, "encoding"))
PROBLEMS.register(
    "mnist-encoding", "pyqhn.problems.tasks:mnist_encoding",
    "Fig. 5: MNIST 3 vs 7 (4x4) logistic regression + weight-encoding search (N = 19)",
    capabilities=_MNIST)
PROBLEMS.register(
    "moons-activation", "pyqhn.problems.tasks:moons_activation",
    "The vi task: two moons, the Fig. 2 BiNN with cross-entropy (N = 14)",
    capabilities=_TWO_D)
PROBLEMS.register(
    "ring-activation", "pyqhn.problems.tasks:ring_activation",
    "The vi task: a disc inside a ring, the Fig. 2 BiNN with cross-entropy (N = 14)",
    capabilities=_TWO_D)
PROBLEMS.register(
    "mnist8x8-logistic", "pyqhn.problems.tasks:mnist8x8_logistic",
    "mnist8x8: 8x8 MNIST 0 vs 1, ±1 logistic regression + link choice (N = 66; sampled)",
    capabilities=("size", "digits", "seed"))
PROBLEMS.register(
    "mnist8x8-hidden", "pyqhn.problems.tasks:mnist8x8_hidden",
    "mnist8x8: 8x8 MNIST 0 vs 1, ±1 BiNN 64-3-1 with activation choice (N = 200; sampled)",
    capabilities=("size", "hidden", "digits", "seed"))


PROBLEMS.register(
    "bench-gauss", "pyqhn.problems.benchmark_families:gauss_instance",
    "Benchmark family: seeded Gaussian mixture, 2-hidden-1 network (N = 4 hidden + 1)",
    capabilities=("hidden", "seed", "width"))
PROBLEMS.register(
    "bench-mnist", "pyqhn.problems.benchmark_families:mnist_instance",
    "Benchmark family: MNIST digit pair by seed at size x size, logistic (N = size^2 + 1)",
    capabilities=("size", "seed"))
PROBLEMS.register(
    "bench-pixels", "pyqhn.problems.benchmark_families:pixels_instance",
    "Benchmark family: seeded pixels of an MNIST digit pair, logistic (N = pixels + 1)",
    capabilities=("pixels", "seed"))


def problem_options(name: str, **given: Any) -> dict[str, Any]:
    """Every keyword option of problem ``name``'s factory: its defaults with ``given``
    applied (what a cost file or run folder records of the problem). Imports the factory.
    An option the factory does not take is an :class:`~pyqhn.checks.InputError`."""
    import inspect

    from ..checks import InputError

    entry = PROBLEMS.lookup(name)
    params = inspect.signature(entry.load()).parameters
    unknown = sorted(set(given) - set(params))
    if unknown:
        raise InputError(f"problem {name} takes no option {', '.join(unknown)}; it takes "
                         f"{', '.join(params)}")
    return {k: given.get(k, p.default) for k, p in params.items()}
