"""The original runs' optimisers, run in Julia: OptimKit L-BFGS and BlackBoxOptim's
probabilistic descent, as ``init``/``step`` pairs for :func:`pyqhn.optimizers.minimize`.

For users who want the original stack end to end (``pyqhn train --engine julia
--optimizer optimkit-lbfgs``): the objective the driver passes (PastaQ energies and
Zygote gradients with the Julia engine, or any other engine's) is handed to the Julia
optimiser, which runs each start to completion and returns its trajectory (iterates,
values, evaluation counts; gradients for L-BFGS) — the Julia functions ``lbfgs_trajectory``
and ``probabilistic_descent_trajectory`` of ``julia/src/PyqhnEngine.jl``.

``init`` runs every start; ``step`` then replays the recorded iterations one at a time, so
the state at step ``k`` is the optimiser's real state after its ``k``-th iteration (the
driver's histories, callbacks and early stopping see what OptimKit / BlackBoxOptim did;
stopping early keeps the iterate of that step). Runs are independent: run ``r`` is seeded
with ``seeds[r]`` (BlackBoxOptim's global RNG; OptimKit draws none).

The objective is called with one point at a time (``(1, P)``): train with
``batch_size=1`` (the CLI does), since the driver pads every call to the batch size.
"""

from __future__ import annotations

import functools
from collections.abc import Callable
from typing import Any, NamedTuple

import numpy as np

from ..checks import check_float, check_int
from .base import Optimizer, call_value, call_value_and_grad

__all__ = [
    "JULIA_OPTIMIZERS",
    "JuliaRunState",
    "Trajectory",
    "bbo_probabilistic_descent_optimizer",
    "optimkit_lbfgs_optimizer",
]

#: Names of the Julia-side optimisers (:attr:`Optimizer.name`).
JULIA_OPTIMIZERS = ("optimkit-lbfgs", "bbo-probabilistic-descent")


class Trajectory(NamedTuple):
    """One run of a Julia optimiser, ``K`` iterations.

    Attributes:
        xs: ``(K+1, P)`` iterates (row 0 the start as the optimiser saw it).
        fs: ``(K+1,)`` values.
        gs: ``(K+1, P)`` gradients, or ``None`` for a gradient-free optimiser.
        evals: ``(K+1,)`` cumulative objective evaluations.
        converged: the run met its convergence criterion at its last iterate.
    """

    xs: np.ndarray
    fs: np.ndarray
    gs: np.ndarray | None
    evals: np.ndarray
    converged: bool


#: ``(objective of one point (P,), x0 (P,), seed) -> Trajectory``: where a run happens.
Backend = Callable[[Callable[[np.ndarray], Any], np.ndarray, int], Trajectory]


class JuliaRunState(NamedTuple):
    """State of a Julia optimiser: the required fields, then the recorded trajectories
    and ``cursor`` ``(R,)``, the iteration each run shows now."""

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray | None
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    trajectories: tuple[Trajectory, ...]
    cursor: np.ndarray


def _trajectory(t: Any, gradient: bool) -> Trajectory:
    """A Julia named tuple ``(xs, gs, fs, evals, converged)`` (``P × (K+1)`` columns) as a
    :class:`Trajectory` (rows)."""
    xs = np.array(np.asarray(t.xs, dtype=np.float64).T)
    gs = np.array(np.asarray(t.gs, dtype=np.float64).T) if gradient else None
    return Trajectory(xs=xs, fs=np.asarray(t.fs, dtype=np.float64).copy(), gs=gs,
                      evals=np.asarray(t.evals, dtype=np.int64).copy(),
                      converged=bool(t.converged))


@functools.lru_cache(maxsize=1)
def _glue() -> tuple[Any, Any]:
    """Julia closures that call a Python objective and convert its result."""
    from ..engines.julia import julia_module

    julia_module()  # raises JuliaUnavailable with the reason, or starts Julia
    from juliacall import Main as jl  # noqa: N813

    jl.seval("import PythonCall")
    fg = jl.seval("pyfg -> (x -> (r = pyfg(x); (PythonCall.pyconvert(Float64, r[0]), "
                  "PythonCall.pyconvert(Vector{Float64}, r[1]))))")
    f = jl.seval("pyf -> (x -> PythonCall.pyconvert(Float64, pyf(x)))")
    return fg, f


def _optimkit_backend(gtol: float, max_iter: int, memory: int) -> Backend:
    def run(objective, x0: np.ndarray, seed: int) -> Trajectory:
        from ..engines.julia import julia_module

        fg_glue, _ = _glue()

        def py_fg(x):
            f, g = objective(np.array(x, dtype=np.float64))
            return float(f), np.asarray(g, dtype=np.float64).tolist()

        t = julia_module().lbfgs_trajectory(fg_glue(py_fg), x0, gradtol=gtol,
                                            maxiter=max_iter, m=memory)
        return _trajectory(t, gradient=True)

    return run


def _bbo_backend(max_steps: int, lower: float, upper: float) -> Backend:
    def run(objective, x0: np.ndarray, seed: int) -> Trajectory:
        from ..engines.julia import julia_module

        _, f_glue = _glue()

        def py_f(x):
            return float(objective(np.array(x, dtype=np.float64)))

        t = julia_module().probabilistic_descent_trajectory(
            f_glue(py_f), x0, max_steps=max_steps, search_range=(lower, upper), seed=seed)
        return _trajectory(t, gradient=False)

    return run


def _replay_optimizer(name: str, uses_gradient: bool, backend: Backend,
                      settings: dict[str, Any]) -> Optimizer:
    """An :class:`Optimizer` whose ``init`` runs ``backend`` for every start and whose
    ``step`` reveals the recorded iterations one by one."""

    def point_objective(fun: Callable) -> Callable[[np.ndarray], Any]:
        if uses_gradient:
            def vg(x: np.ndarray) -> tuple[float, np.ndarray]:
                f, g = call_value_and_grad(fun, x[None, :])
                return float(f[0]), g[0]
            return vg
        return lambda x: float(call_value(fun, x[None, :])[0])

    def show(trajs: tuple[Trajectory, ...], cursor: np.ndarray,
             done: np.ndarray) -> JuliaRunState:
        pairs = list(zip(trajs, cursor, strict=True))
        last = np.array([k == len(t.fs) - 1 for t, k in pairs])
        return JuliaRunState(
            x=np.stack([t.xs[k] for t, k in pairs]),
            f=np.array([t.fs[k] for t, k in pairs]),
            g=np.stack([t.gs[k] for t, k in pairs]) if uses_gradient else None,
            done=done | last, n_iter=cursor.copy(),
            n_evals=np.array([t.evals[k] for t, k in pairs], dtype=np.int64),
            converged=last & np.array([t.converged for t in trajs]),
            trajectories=trajs, cursor=cursor)

    def init(fun: Callable, x0: np.ndarray, seeds: np.ndarray) -> JuliaRunState:
        objective = point_objective(fun)
        trajs = tuple(backend(objective, np.array(x, dtype=np.float64), int(s))
                      for x, s in zip(x0, seeds, strict=True))
        r = len(trajs)
        return show(trajs, np.zeros(r, dtype=np.int64), np.zeros(r, dtype=bool))

    def step(fun: Callable, state: JuliaRunState) -> JuliaRunState:
        cursor = state.cursor + (~state.done).astype(np.int64)
        return show(state.trajectories, cursor, state.done)

    return Optimizer(name=name, uses_gradient=uses_gradient, init=init, step=step,
                     settings=settings, evaluates_subsets=True, one_point_per_call=True)


def optimkit_lbfgs_optimizer(*, gtol: float = 1e-6, max_iter: int = 500, memory: int = 8,
                             backend: Backend | None = None) -> Optimizer:
    """OptimKit's ``LBFGS(memory; gradtol=gtol, maxiter=max_iter)`` in Julia (Hager–Zhang
    line search, first step accepted; the original runs' settings are the defaults).
    OptimKit is bounded to 0.3 (``julia/Project.toml``), as the original ran it: first
    trial step ``-∇f/‖∇f‖``, line search not capped (0.4 and 0.5 start at a hundredth of
    that and stop the line search after 10 iterations or 20 evaluations).

    ``fun`` is a :data:`~pyqhn.optimizers.base.BatchedValueAndGrad`, called with one point
    ``(1, P)`` at a time. ``backend`` replaces the Julia call (tests); by default Julia
    starts on the first ``init`` (:class:`pyqhn.engines.julia.JuliaUnavailable` says why
    it cannot). A run is converged when ``‖∇f‖₂ ≤ gtol`` at its last iterate.
    """
    gtol = check_float(gtol, "gtol", low=0.0, low_inclusive=False)
    max_iter = check_int(max_iter, "max_iter", minimum=0)
    memory = check_int(memory, "memory", minimum=1)
    return _replay_optimizer(
        "optimkit-lbfgs", True, backend or _optimkit_backend(gtol, max_iter, memory),
        {"gtol": gtol, "max_iter": max_iter, "memory": memory})


def bbo_probabilistic_descent_optimizer(*, max_steps: int = 2000, lower: float = -np.pi,
                                        upper: float = np.pi,
                                        backend: Backend | None = None) -> Optimizer:
    """BlackBoxOptim's ``:probabilistic_descent`` in Julia: search range
    ``(lower, upper)`` per angle, ``MaxSteps = max_steps`` (the original runs: ``(-π, π)``,
    2000). Starts are wrapped by ``2π`` into the range (the energy is ``2π``-periodic).

    BlackBoxOptim (0.6.1–0.6.3) stops once its step count exceeds ``MaxSteps``, so a run
    takes ``max_steps + 1`` steps and its history ``max_steps + 2`` values (the start, then
    one per step). ``n_evals`` counts every objective call, four before step 1: pyqhn's
    call on the start, BlackBoxOptim's type check on a random point, the searcher's own
    random start (which can become the best point) and the start again. The original runs
    passed no start: they began at the searcher's uniform random point (two calls before
    step 1) and took 2001 steps.

    ``fun`` is a :data:`~pyqhn.optimizers.base.BatchedValue` called with one point
    ``(1, P)`` at a time; run ``r`` seeds Julia's RNG with ``seeds[r]``. ``converged`` is
    always ``False`` (the search stops on its budget); ``x`` is the best point scored so far.
    """
    max_steps = check_int(max_steps, "max_steps", minimum=1)
    lower = check_float(lower, "lower")
    upper = check_float(upper, "upper", low=lower, low_inclusive=False)
    return _replay_optimizer(
        "bbo-probabilistic-descent", False,
        backend or _bbo_backend(max_steps, lower, upper),
        {"max_steps": max_steps, "lower": lower, "upper": upper})
