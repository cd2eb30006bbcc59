"""The one driver: multi-start runs of (engine, objective, optimiser) over groups of runs.

A :class:`Group` is ``runs`` starts of one circuit under one objective and one optimiser
(a circuit of Fig. 4, a noise level of Fig. 11, a training-set size of Fig. 7, a
dataset/objective pair of the VI study). :func:`run_groups` trains every group, a batch of
runs at a time, and hands each finished batch to the run log (:mod:`pyqhn.runlog`) before
starting the next, so an interrupted sweep loses at most the batch in flight and a rerun
resumes. Run ``r`` of a group starts from ``random_params(circuit, seed=seed + r)`` (or the
group's own ``start``) and its optimiser is seeded with ``seed + r``, so results do not
depend on batching or on resuming.

The driver owns the loop (NetKet's habit): optimisers are ``init``/``step`` pairs
(:mod:`pyqhn.optimizers`), whose state exposes ``x``, ``f``, ``g`` and ``done`` of every
run. Everything else is a callback (:mod:`pyqhn.callbacks`: ``on_run_start``,
``on_step_end``, ``on_run_end`` …): the progress bar, the time limit, the stop request
(:func:`pyqhn.interrupt.request_stop`, e.g. from Ctrl-C, which ends the sweep between
steps, never inside a compiled call) and early stopping. Finished batches go to a
:class:`pyqhn.runlog.Log`. What an optimiser allows (an objective with one cost table per
run) is read from its flags (:class:`pyqhn.optimizers.Optimizer`), never from its name.

:func:`train_multistart` is the common case: circuits on one cost table with L-BFGS.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .bits import bitstring_literals
from .callbacks import (
    Callback,
    EarlyStopping,
    ProgressBar,
    StopOnRequest,
    TimeLimit,
    as_callback,
    step_hook,
)
from .checks import InputError, check_int
from .circuits import Circuit, random_params
from .engines.base import Engine
from .interrupt import Interrupted
from .objectives import Objective
from .optimizers import Optimizer, minimize
from .runlog import Log, MemoryLog, RunLog, RunRecord

__all__ = [
    "Group",
    "Interrupted",
    "EarlyStopping",
    "MemoryLog",
    "run_groups",
    "run_batch",
    "train_multistart",
    "circuit_groups",
    "multistart_settings",
    "default_batch_size",
]

#: Trace function: ``(optimiser state, runs (B,)) -> {name: (B,) array}``.
RunFunction = Callable[[Any, np.ndarray], Mapping[str, np.ndarray]]

@dataclass(frozen=True)
class Group:
    """``runs`` starts of one circuit under one objective and optimiser.

    Attributes:
        name: key of the group in the run log (``blocks=4``, ``p=0.2``, ``N_s=2`` …).
        circuit: the ansatz; ``None`` for a classical search (:mod:`pyqhn.baselines`),
            which then gives ``start`` and its ``n_qubits`` in ``columns``.
        objective: what is minimised (:class:`pyqhn.objectives.Objective`).
        optimizer: how (:class:`pyqhn.optimizers.Optimizer`); its ``uses_gradient`` must
            match the objective's.
        runs: number of starts; run ``r`` is seeded with ``seed + r``.
        seed: base seed.
        engine: engine whose ``probabilities`` give the most probable outcome of every
            final state (``best_index``, ``best_bitstring``, ``best_probability``);
            ``None`` leaves those columns empty.
        start: ``runs (B,) -> x0 (B, P)``; default ``random_params(circuit, seed=seed+r)``.
        columns: constant columns of the group's rows (noise level, dataset …); they may
            set ``circuit``, ``n_qubits`` and ``blocks`` for a classical search.
        trace: ``(state, runs) -> {name: (B,)}``, evaluated after the optimiser's ``init``
            and after every step; its values become per-step series in ``history.jsonl``
            (validation energies, metrics, gradient norms).
        measure: ``(x, runs, probabilities) -> {name: array}`` at the end of a batch;
            ``(B,)`` arrays become columns, ``(B, k)`` arrays series (samples …).
            ``probabilities`` is ``(B, 2**n)`` from ``engine`` (``None`` without engine).
        batch_size: runs optimised together (default :func:`default_batch_size`).
        history_every: keep the objective (and traces) of every ``k``-th step in
            ``history.jsonl``, the last step always (long searches stay small).
        needs: names of groups whose finished runs ``start`` reads (Fig. 10 re-evaluates
            another group's optima); they must come earlier, and on a cluster this group
            starts only once they are finished.
    """

    name: str
    circuit: Circuit | None
    objective: Objective
    optimizer: Optimizer
    runs: int
    seed: int = 0
    engine: Any = None
    start: Callable[[np.ndarray], np.ndarray] | None = None
    columns: Mapping[str, Any] = field(default_factory=dict)
    trace: RunFunction | None = None
    measure: Callable[..., Mapping[str, np.ndarray]] | None = None
    batch_size: int | None = None
    history_every: int = 1
    needs: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        if self.circuit is None and (self.start is None or self.engine is not None):
            raise InputError(f"group {self.name}: a search without a circuit needs its own "
                             "start and no engine")
        check_int(self.runs, "runs", minimum=1)
        check_int(self.seed, "seed", minimum=0)
        if self.batch_size is not None:
            check_int(self.batch_size, "batch_size", minimum=1)
        check_int(self.history_every, "history_every", minimum=1)
        if self.objective.uses_gradient != self.optimizer.uses_gradient:
            need = "with" if self.optimizer.uses_gradient else "without"
            raise InputError(f"group {self.name}: the {self.optimizer.name} optimiser needs an "
                             f"objective {need} gradients")
        if self.objective.per_run and self.optimizer.evaluates_subsets:
            raise InputError(f"group {self.name}: the {self.optimizer.name} optimiser "
                             "evaluates subsets of runs and cannot use an objective with one "
                             "cost table per run")


def default_batch_size(runs: int, backend: str | None = None) -> int:
    """Runs optimised together: all of them on a GPU (one vectorised pass), 8 on a CPU
    (where a batch is a compiled loop and larger batches only delay the first results).
    ``backend``: JAX's backend name where the runs are trained (default: this process's)."""
    if backend is None:
        import jax

        backend = jax.default_backend()
    return max(1, runs if backend != "cpu" else min(8, runs))


def _jax_backend() -> str:
    import jax

    return jax.default_backend()


def _padded(fun: Callable, size: int) -> Callable:
    """``fun`` called with exactly ``size`` rows (copies of the last row appended), so that
    every call of a batch has one shape and compiles once."""

    def call(x: np.ndarray):
        m = x.shape[0]
        if m >= size:
            return fun(x)
        out = fun(np.concatenate([x, np.repeat(x[-1:], size - m, axis=0)]))
        return tuple(o[:m] for o in out) if isinstance(out, tuple) else out[:m]

    return call


def _most_probable(probs: np.ndarray, n: int) -> dict[str, np.ndarray]:
    best = probs.argmax(axis=1)
    return dict(best_index=best.astype(np.int64),
                best_bitstring=bitstring_literals(best, n),
                best_probability=probs[np.arange(len(best)), best])


def start_points(group: Group, runs: Sequence[int]) -> np.ndarray:
    """``(B, P)`` starting points of runs ``runs``: ``group.start`` or the seeded
    ``random_params(circuit, seed=seed + r)``."""
    runs_arr = np.asarray(list(runs), dtype=np.int64)
    if group.start is not None:
        return np.asarray(group.start(runs_arr), dtype=np.float64)
    return np.stack([random_params(group.circuit, seed=group.seed + int(r)) for r in runs_arr])


def run_batch(group: Group, runs: Sequence[int], *,
              callbacks: Sequence[Callback | Callable] = (),
              x0: np.ndarray | None = None,
              stop_on_request: bool = True) -> list[RunRecord]:
    """Train runs ``runs`` of ``group`` together and return their records (no I/O).

    This is the driver's unit of work (a pure function of its arguments, so it can run in
    another process, e.g. a Dask worker). ``callbacks``: their ``on_step_end`` after every
    step (:mod:`pyqhn.callbacks`; plain ``f(step, state)`` functions too). ``x0`` ``(B,
    P)``: the starting points when the caller computed them (:func:`start_points`; on a
    cluster the client does, since a group's ``start`` may read the run log); default
    :func:`start_points`. Raises :class:`Interrupted` between steps after
    :func:`pyqhn.interrupt.request_stop` (:class:`~pyqhn.callbacks.StopOnRequest`) when
    ``stop_on_request``; on a cluster the client asks for stops between batches and
    cancels the batches in flight instead (``False``): an ``Interrupted`` (a
    ``KeyboardInterrupt``) raised inside a Dask task of an in-process worker, which shares
    the client's stop flag, could leave the client waiting on its scheduler for ever.
    """
    runs_arr = np.asarray(list(runs), dtype=np.int64)
    c = group.circuit
    if x0 is None:
        x0 = start_points(group, runs_arr)
    x0 = np.asarray(x0, dtype=np.float64)
    seeds = group.seed + runs_arr
    fun = group.objective.bind(runs_arr)
    if not group.objective.any_batch_size:
        fun = _padded(fun, len(runs_arr))
    traces: list[Mapping[str, np.ndarray]] = []
    user = step_hook([as_callback(cb) for cb in callbacks], group.name)
    stop = step_hook([StopOnRequest()] if stop_on_request else [], group.name)

    def callback(step: int, state: Any) -> Any:
        state = user(step, state)
        if group.trace is not None:
            traces.append(group.trace(state, runs_arr))
        return stop(step, state)

    t0 = time.perf_counter()
    state, history = minimize(group.optimizer, fun, x0, seeds, callback=callback)
    wall = (time.perf_counter() - t0) / len(runs_arr)
    x = np.asarray(state.x, dtype=np.float64)
    probs = (np.asarray(group.engine.probabilities(c, x)) if group.engine is not None
             else None)
    extra: dict[str, np.ndarray] = (_most_probable(probs, c.n_qubits) if probs is not None
                                    else {})
    if group.measure is not None:
        extra.update(group.measure(x, runs_arr, probs))
    g = getattr(state, "g", None)
    grad_norm = (np.linalg.norm(np.asarray(g), axis=1) if g is not None
                 else np.full(len(runs_arr), np.nan))
    # every other n_* counter of the optimiser's state (n_restarts …) becomes a column
    counters = [f for f in state._fields if f.startswith("n_") and f not in ("n_iter", "n_evals")]
    records = []
    for i, r in enumerate(runs_arr):
        n_iter = int(state.n_iter[i])
        row = {
            "circuit": c.name if c is not None else group.name,
            "n_qubits": c.n_qubits if c is not None else None,
            "blocks": (c.blocks if c.entangling else 0) if c is not None else None,
            **group.columns,
        }
        row.update(
            seed=int(seeds[i]), e_init=float(history[i, 0]), e_final=float(state.f[i]),
            n_iter=n_iter, n_evals=int(state.n_evals[i]), grad_norm=float(grad_norm[i]),
            converged=bool(state.converged[i]), wall_time=wall)
        for name in counters:
            row[name] = int(getattr(state, name)[i])
        kept = np.unique(np.r_[np.arange(0, n_iter + 1, group.history_every), n_iter])
        series: dict[str, Any] = {"f": history[i, kept].tolist()}
        if group.history_every > 1:
            series["step"] = kept.tolist()
        for k, v in extra.items():
            v = np.asarray(v)
            if v.ndim == 1:
                row[k] = v[i].item()
            else:
                series[k] = v[i].tolist()
        for name in (traces[0] if traces else {}):
            series[name] = [float(traces[k][name][i]) for k in kept]
        records.append(RunRecord(group.name, int(r), x[i], row, series))
    return records


def _work_units(groups: Sequence[Group], todo: Mapping[str, list[int]],
                backend: str | None) -> list[tuple[Group, list[int]]]:
    """The batches still to train, group by group, in the groups' order."""
    units = []
    for g in groups:
        size = g.batch_size or default_batch_size(g.runs, backend)
        pending = todo[g.name]
        units += [(g, pending[i:i + size]) for i in range(0, len(pending), size)]
    return units


def run_groups(
    groups: Sequence[Group],
    log: Log | None = None,
    *,
    progress: bool = True,
    callbacks: Sequence[Callback | Callable] = (),
    time_limit: float | None = None,
    client: Any = None,
    retries: int = 2,
) -> pd.DataFrame:
    """Train every group, batch by batch, skipping runs the log already holds.

    Args:
        groups: the groups, trained in this order (a group whose ``start`` reads another
            group's results names it in ``needs`` and comes after it).
        log: where finished batches go (a :class:`pyqhn.runlog.Log`:
            :class:`~pyqhn.runlog.RunLog` for a folder); ``None`` keeps them in memory
            (:class:`~pyqhn.runlog.MemoryLog`).
        progress: show a progress bar over runs (:class:`~pyqhn.callbacks.ProgressBar`).
        callbacks: :class:`pyqhn.callbacks.Callback` objects (sweep hooks here, step hooks
            where each batch runs), or plain ``f(step, state) -> state | None`` step
            functions (e.g. :class:`~pyqhn.callbacks.EarlyStopping`).
        time_limit: seconds after which no new batch starts (the sweep stops cleanly and
            a rerun resumes; one batch always runs, so every call makes progress);
            ``None`` for no limit (:class:`~pyqhn.callbacks.TimeLimit`, here and on a
            cluster alike).
        client: a ``dask.distributed.Client``, or a :class:`pyqhn.cluster.ClusterSpec`
            (connected here, and only if runs remain). Each batch is a task on a worker;
            finished batches come back here, the log's one writer, as they finish. ``None``
            trains in this process. Results are the same either way (same batches, seeds).
        retries: times a failed batch is resubmitted on a cluster (a batch whose worker
            died is rescheduled by Dask on its own).

    Returns:
        The runs table of the log (every finished run, earlier ones included).

    Raises:
        Interrupted: after :func:`pyqhn.interrupt.request_stop`; finished batches are in the log.
    """
    names = [g.name for g in groups]
    if len(set(names)) != len(names):
        dup = sorted({n for n in names if names.count(n) > 1})
        raise InputError(f"the same group is given twice: {', '.join(dup)}")
    for i, g in enumerate(groups):
        late = [n for n in g.needs if n not in names[:i]]
        if late:
            raise InputError(f"group {g.name} needs {', '.join(late)}, which must come "
                             "before it in the groups")
    check_int(retries, "retries", minimum=0)
    log = MemoryLog() if log is None else log
    done = log.finished()
    todo = {g.name: [r for r in range(g.runs) if (g.name, r) not in done] for g in groups}
    n_todo = sum(map(len, todo.values()))
    user = [as_callback(cb) for cb in callbacks]
    sweep: list[Callback] = [StopOnRequest(), ProgressBar(progress), *user]
    if time_limit is not None:
        sweep.insert(1, TimeLimit(time_limit))

    def stop_before(g: Group) -> bool:
        return any(cb.stop_before_batch(g.name) for cb in sweep)

    def batch_end(g: Group, runs: Sequence[int]) -> None:
        for cb in sweep:
            cb.on_batch_end(g.name, len(runs))

    for cb in sweep:
        cb.on_run_start(n_todo)
    try:
        if client is not None and n_todo:
            from .cluster import ClusterSpec, open_client, parse_cluster

            if isinstance(client, str):  # 'local:2', 'tcp://HOST:PORT' … as on the CLI
                client = parse_cluster(client)
            if isinstance(client, ClusterSpec):
                with open_client(client) as connected:
                    _run_on_client(connected, groups, todo, log, stop_before, batch_end,
                                   user, retries)
            else:
                _run_on_client(client, groups, todo, log, stop_before, batch_end, user,
                               retries)
            return log.table()
        for g, runs in _work_units(groups, todo, None):
            if stop_before(g):
                break
            log.append(run_batch(g, runs, callbacks=user))
            batch_end(g, runs)
    finally:
        for cb in sweep:
            cb.on_run_end()
    return log.table()


def _identity(value: Any) -> Any:
    return value


def _run_on_client(client: Any, groups: Sequence[Group], todo: Mapping[str, list[int]],
                   log: Any, stop_before: Callable[[Group], bool],
                   batch_end: Callable[[Group, list[int]], None],
                   callbacks: Sequence[Callable], retries: int) -> None:
    """:func:`run_groups` on a Dask client: at most two batches per worker in flight (so
    a stop or a time limit takes effect soon), each group sent to the workers once (as a
    task, so a lost copy is recomputed), batches of a group that ``needs`` others held
    back until those are finished, every finished batch written here at once.

    ``stop_before(group)`` asks the sweep's callbacks, as on the local path
    (:meth:`pyqhn.callbacks.Callback.stop_before_batch`: :class:`~pyqhn.callbacks.TimeLimit`,
    :class:`~pyqhn.callbacks.StopOnRequest` and the caller's): before each batch is sent,
    and every half second while batches run and none can be sent. ``True`` sends no
    further batch (those in flight finish and are logged); a stop request raises there
    and cancels the batches in flight."""
    from collections import deque
    from concurrent.futures import CancelledError

    from distributed import wait

    from .checks import Fault

    def lost(err: BaseException | None) -> Fault:
        saved = len(log.finished())
        why = f" ({' '.join(str(err).split())[:80]})" if err is not None else ""
        return Fault(f"lost the dask scheduler{why}: {saved} finished runs are saved in the "
                     "run log; restart the scheduler and its workers, and run the same "
                     "command again to resume")

    try:
        first = next(g for g in groups if todo[g.name])
        backend = _first_result(client, client.submit(_jax_backend, pure=False),
                                lambda: stop_before(first))
        if backend is None:
            return  # a callback ended the sweep before the first batch
    except (CancelledError, OSError) as err:
        raise lost(err) from err
    units = deque(_work_units(groups, todo, backend))
    open_units = {g.name: 0 for g in groups}
    for g, _ in units:
        open_units[g.name] += 1
    shipped: dict[str, Any] = {}
    in_flight: dict[Any, tuple[Group, list[int]]] = {}
    try:
        while units or in_flight:
            if client.status != "running":
                raise lost(None)
            n_workers = max(1, len(client.nthreads()))
            asked = False
            while units and len(in_flight) < 2 * n_workers:
                g, runs = units[0]
                if any(open_units[n] for n in g.needs):
                    break  # its start reads runs still in flight
                asked = True
                if stop_before(g):
                    units.clear()  # no new batch; those in flight finish
                    break
                units.popleft()
                if g.name not in shipped:
                    shipped[g.name] = client.submit(_identity, g, pure=False,
                                                    key=f"pyqhn-group-{g.name}-{id(g)}")
                x0 = start_points(g, runs) if g.start is not None else None
                fut = client.submit(run_batch, shipped[g.name], runs, callbacks=callbacks,
                                    x0=x0, stop_on_request=False, pure=False,
                                    retries=retries)
                in_flight[fut] = (g, runs)
            if not asked and in_flight:  # nothing sent: ask while the batches run
                if stop_before(units[0][0] if units else next(iter(in_flight.values()))[0]):
                    units.clear()
            if not in_flight:
                break  # nothing left to send
            try:
                finished, _ = wait(list(in_flight), timeout=0.5, return_when="FIRST_COMPLETED")
            except TimeoutError:
                continue
            for fut in finished:
                g, runs = in_flight.pop(fut)
                log.append(fut.result())  # a batch that failed after its retries raises
                open_units[g.name] -= 1
                batch_end(g, runs)
    except (CancelledError, OSError) as err:  # the scheduler is gone: its futures with it
        if client.status == "running" and not isinstance(err, CancelledError):
            raise
        raise lost(err) from err
    except BaseException:
        if client.status == "running":
            client.cancel(list(in_flight))
        raise
    finally:
        if client.status == "running":
            client.cancel(list(shipped.values()))


def _first_result(client: Any, future: Any, stop: Callable[[], bool]) -> Any:
    """The result of the first task sent to ``client`` (``None`` if ``stop()`` says so
    first): waits (saying so once after :data:`pyqhn.cluster.WORKER_WAIT_S` seconds) while
    the scheduler has no worker, asking ``stop()`` (the sweep's callbacks, so a stop
    request or Ctrl-C raises) every quarter second instead of blocking."""
    import sys

    from distributed import TimeoutError as DaskTimeout

    from . import cluster

    t0, told = time.perf_counter(), False
    while True:
        try:
            if stop():
                future.cancel()
                return None
        except BaseException:
            future.cancel()
            raise
        try:
            return future.result(timeout=0.25)
        except (DaskTimeout, TimeoutError):
            pass
        if not told and time.perf_counter() - t0 > cluster.WORKER_WAIT_S:
            told = True
            n = len(client.nthreads())
            address = getattr(client.scheduler, "address", "the scheduler")
            print(f"dask scheduler {address}: {n} workers after "
                  f"{time.perf_counter() - t0:.0f} s; waiting for workers (start them with "
                  f"`dask worker {address}`); Ctrl-C stops", file=sys.stderr, flush=True)


def circuit_groups(
    cost: np.ndarray,
    circuits: Sequence[Circuit],
    runs: int,
    *,
    seed: int = 0,
    optimizer: Optimizer | None = None,
    objective: str = "mle",
    n_train: int | None = None,
    engine: str | Engine = "exact",
    batch_size: int | None = None,
) -> list[Group]:
    """One group per circuit, all on one cost table (arguments as :func:`train_multistart`)."""
    from .checks import check_cost
    from .engines import get_engine
    from .objectives import make_objective
    from .optimizers import lbfgs_optimizer

    cost = check_cost(cost)
    n = cost.size.bit_length() - 1
    names = [c.name for c in circuits]
    if len(set(names)) != len(names):
        raise InputError(f"circuits {names} name a circuit twice; give each circuit once")
    for c in circuits:
        if c.n_qubits != n:
            raise InputError(f"circuit {c.name} has {c.n_qubits} qubits but the cost table "
                             f"has 2**{n} entries; build the circuits for {n} qubits")
    optimizer = optimizer or lbfgs_optimizer()
    eng = get_engine(engine) if isinstance(engine, str) else engine
    return [Group(c.name, c, make_objective(objective, eng, c, cost, n_train=n_train,
                                            gradient=optimizer.uses_gradient),
                  optimizer, runs, seed=seed, engine=eng, batch_size=batch_size)
            for c in circuits]


def multistart_settings(cost: np.ndarray, *, seed: int, optimizer: Optimizer,
                        objective: str, n_train: int | None,
                        engine: str | Engine) -> dict[str, Any]:
    """The run-log settings of :func:`train_multistart` (the cost table by fingerprint;
    the engine by name)."""
    from .runlog import fingerprint

    return dict(cost=fingerprint(np.asarray(cost, dtype=np.float64)), seed=seed,
                engine=engine if isinstance(engine, str) else engine.name,
                objective=objective, n_train=n_train,
                optimizer=optimizer.name,
                **{f"optimizer.{k}": v for k, v in optimizer.settings.items()})


def train_multistart(
    cost: np.ndarray,
    circuits: Sequence[Circuit],
    runs: int,
    *,
    out: str | Path | None = None,
    seed: int = 0,
    optimizer: Optimizer | None = None,
    objective: str = "mle",
    n_train: int | None = None,
    engine: str | Engine = "exact",
    batch_size: int | None = None,
    progress: bool = True,
    client: Any = None,
) -> pd.DataFrame:
    """Train ``runs`` random starts of every circuit on one cost table.

    Args:
        cost: ``(2**n,)`` cost table (site 1 = least significant bit of the index).
        circuits: ansätze on ``n`` qubits (distinct).
        runs: starts per circuit.
        out: run folder (resumable; see :mod:`pyqhn.runlog`); ``None`` keeps runs in memory.
        seed: run ``r`` starts from ``random_params(circuit, seed=seed + r)``.
        optimizer: default L-BFGS as the original runs (gtol 1e-6, 500 iterations).
        objective: ``"mle"`` (the energy ``E(θ)``), ``"elbo"`` or ``"selbo"``
            (:mod:`pyqhn.objectives`; these need ``n_train``).
        n_train: training points behind the cost table (ELBO/SELBO likelihood scale).
        engine: an :class:`pyqhn.engines.Engine`, or its name
            (:func:`pyqhn.engines.get_engine`).
        batch_size: runs optimised together (default :func:`default_batch_size`).
        progress: show a progress bar.
        client: a ``dask.distributed.Client`` or :class:`pyqhn.cluster.ClusterSpec` to
            train on (:func:`run_groups`); ``None`` trains in this process.

    Returns:
        The runs table, one row per run: the requested circuits and runs (a folder may
        hold more, from earlier calls).
    """
    from .optimizers import lbfgs_optimizer

    if isinstance(client, str):  # checked before the folder is made
        from .cluster import parse_cluster

        client = parse_cluster(client)
    optimizer = optimizer or lbfgs_optimizer()
    seed = check_int(seed, "seed", minimum=0)
    groups = circuit_groups(cost, circuits, runs, seed=seed, optimizer=optimizer,
                            objective=objective, n_train=n_train, engine=engine,
                            batch_size=batch_size)
    if out is None:
        table = run_groups(groups, None, progress=progress, client=client)
    else:
        settings = multistart_settings(cost, seed=seed, optimizer=optimizer,
                                       objective=objective, n_train=n_train, engine=engine)
        with RunLog(out, settings, kind="train") as log:
            table = run_groups(groups, log, progress=progress, client=client)
    names = [g.name for g in groups]
    keep = table["group"].isin(names) & (table["run"] < runs)
    return table[keep].reset_index(drop=True)
