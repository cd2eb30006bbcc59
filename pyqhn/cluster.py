"""Sweeps on a Dask cluster: which cluster (:class:`ClusterSpec`), and a client to it.

The driver (:func:`pyqhn.driver.run_groups`) sends work units (a batch of runs of one
circuit, :func:`pyqhn.driver.run_batch`) to the workers of a ``dask.distributed`` client
and stays the one writer of the run log. This module only says where the workers come
from; the scheduling, retries after a lost worker and the dashboard are Dask's.

Cluster specs (the ``--cluster`` option):

* ``local:N`` — a :class:`distributed.LocalCluster` of ``N`` worker processes with one
  thread each, every process pinned to its own share of this machine's cores (so ``N``
  JAX runtimes do not oversubscribe them; see :class:`PinCores`);
* ``tcp://HOST:PORT`` — an existing scheduler (``dask scheduler`` plus ``dask worker``);
* ``slurm[:JOBS]`` / ``pbs[:JOBS]`` — ``dask_jobqueue.SLURMCluster`` / ``PBSCluster``
  with ``JOBS`` jobs (default 1), configured as dask-jobqueue always is: the
  ``jobqueue.slurm`` / ``jobqueue.pbs`` section of the dask config
  (``~/.config/dask/jobqueue.yaml``) or of a ``--cluster-config FILE`` in the same format.
  Each job's worker processes are pinned to their share of the job's cores.

Everything is checked when the spec is made (:func:`parse_cluster`), before any work.
"""

from __future__ import annotations

import logging
import os
import re
import socket
import sys
from collections.abc import Iterator, Mapping
from contextlib import contextmanager
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from .checks import InputError, need_module

try:  # an optional dependency: the `cluster` extra
    from distributed.diagnostics.plugin import WorkerPlugin as _WorkerPlugin
except ImportError:  # pragma: no cover - only without the extra
    _WorkerPlugin = object  # type: ignore[assignment,misc]

__all__ = [
    "CLUSTER_KINDS",
    "ClusterSpec",
    "PinCores",
    "open_client",
    "parse_cluster",
    "read_cluster_config",
]

CLUSTER_KINDS = ("local", "address", "slurm", "pbs")

#: Seconds a sweep waits for the first result before saying how many workers the
#: scheduler has (it keeps waiting; Ctrl-C stops it).
WORKER_WAIT_S = 10.0
_USAGE = ("use local:N (N worker processes here), tcp://HOST:PORT (a running scheduler), "
          "slurm[:JOBS] or pbs[:JOBS] (dask-jobqueue)")


@dataclass(frozen=True)
class ClusterSpec:
    """Where a sweep's workers come from.

    Attributes:
        kind: ``"local"``, ``"address"``, ``"slurm"`` or ``"pbs"``.
        workers: worker processes (``local``) or jobs (``slurm``/``pbs``); 0 for an address.
        address: the scheduler's ``tcp://HOST:PORT`` (``address`` only).
        config: dask config entries (dotted keys) applied while a jobqueue cluster is made.
    """

    kind: str
    workers: int = 0
    address: str | None = None
    config: Mapping[str, Any] = field(default_factory=dict)

    def __str__(self) -> str:
        if self.kind == "address":
            return str(self.address)
        return f"{self.kind}:{self.workers}"


def _flatten(tree: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out: dict[str, Any] = {}
    for key, value in tree.items():
        name = f"{prefix}{key}"
        # jobqueue.<kind>.<option> values may themselves be mappings (scheduler-options)
        keep = name.startswith("jobqueue.") and name.count(".") >= 2
        if isinstance(value, Mapping) and value and not keep:
            out.update(_flatten(value, name + "."))
        else:
            out[name] = value
    return out


def read_cluster_config(path: str | Path) -> dict[str, Any]:
    """A dask config file (YAML) as dotted keys (``jobqueue.slurm.cores`` …).

    Raises:
        InputError: the file is missing, not YAML or not a mapping.
    """
    import yaml

    p = Path(path)
    try:
        tree = yaml.safe_load(p.read_text())
    except OSError as err:
        raise InputError(f"--cluster-config {p}: cannot read it ({err.strerror})") from err
    except yaml.YAMLError as err:
        raise InputError(f"--cluster-config {p} is not YAML: {err}") from err
    if not isinstance(tree, Mapping):
        raise InputError(f"--cluster-config {p} must be a dask config mapping such as "
                         "'jobqueue: {slurm: {cores: 4, memory: 16GB}}'")
    return _flatten(tree)


def _check_address(text: str, reachable: bool) -> str:
    m = re.fullmatch(r"tcp://([^:/]+):(\d+)", text)
    if m is None:
        raise InputError(f"--cluster {text!r}: a scheduler address is tcp://HOST:PORT")
    if reachable:
        try:
            socket.create_connection((m.group(1), int(m.group(2))), timeout=5).close()
        except OSError as err:
            raise InputError(f"--cluster {text}: no scheduler answers there ({err}); start "
                             "one with `dask scheduler` and workers with `dask worker "
                             f"{text}`") from err
    return text


def parse_cluster(text: str, config_file: str | Path | None = None, *,
                  check_reachable: bool = True) -> ClusterSpec:
    """The :class:`ClusterSpec` of a ``--cluster`` string, checked before any work.

    Args:
        text: ``local:N``, ``tcp://HOST:PORT``, ``slurm[:JOBS]`` or ``pbs[:JOBS]``.
        config_file: a dask config file (YAML) for ``slurm``/``pbs``.
        check_reachable: for an address, check that a scheduler answers there.

    Raises:
        InputError: naming ``--cluster`` or ``--cluster-config`` and what to do.
    """
    text = str(text).strip()
    kind, _, count = text.partition(":")
    if kind in ("local", "tcp", "slurm", "pbs"):  # a known kind: needs dask, checked now
        need_module("distributed", "cluster", f"--cluster {text}")
    if config_file is not None and kind not in ("slurm", "pbs"):
        raise InputError(f"--cluster-config configures slurm or pbs clusters, not {text!r}")
    if kind == "tcp":
        return ClusterSpec("address", 0, address=_check_address(text, check_reachable))
    if kind not in ("local", "slurm", "pbs"):
        raise InputError(f"--cluster {text!r} is no cluster; {_USAGE}")
    if kind == "local" and not count:
        raise InputError("--cluster local needs a worker count, e.g. local:2")
    try:
        n = int(count) if count else 1
    except ValueError:
        raise InputError(f"--cluster {text!r}: {count!r} is no number; {_USAGE}") from None
    if n < 1:
        raise InputError(f"--cluster {text!r}: the count must be at least 1")
    if kind == "local":
        return ClusterSpec("local", n)
    dask = need_module("dask", "cluster", f"--cluster {kind}")
    need_module("dask_jobqueue", "cluster", f"--cluster {kind}")
    config = read_cluster_config(config_file) if config_file is not None else {}
    with dask.config.set(config):
        section = dict(dask.config.get(f"jobqueue.{kind}", default={}) or {})
    missing = [k for k in ("cores", "memory") if section.get(k) is None]
    if missing:
        where = f"--cluster-config {config_file}" if config_file else "~/.config/dask/jobqueue.yaml"
        raise InputError(f"--cluster {kind}: set jobqueue.{kind}.{' and '.join(missing)} in "
                         f"{where} (see docs/cluster.md for an example)")
    return ClusterSpec(kind, n, config=config)


def _host_share(index: int, n: int) -> list[int]:
    cpus = sorted(os.sched_getaffinity(0))
    share = cpus[index % n::n] if len(cpus) >= n else [cpus[index % len(cpus)]]
    return share


class PinCores(_WorkerPlugin):
    """A Dask worker plugin that pins worker process ``i`` of ``n`` on a host to every
    ``n``-th core available to it (``cores[i::n]``), so that ``n`` JAX runtimes share the
    cores without oversubscription. The index is the worker's name (``LocalCluster``:
    ``0..n−1``) or its trailing ``-i`` (dask-jobqueue's workers of one job).

    JAX's CPU backend is started BEFORE pinning: XLA sizes its thread pool by the cores a
    process may use and splits reductions by that size, so a worker started on one core
    would round differently from a process on all of them (measured: |ΔE| ≈ 1e-6 after
    500 L-BFGS iterations at N = 17). Started first, its pool matches an in-process run's
    and results are bit-identical; pinned after, the pool's threads share one core."""

    name = "pyqhn-pin-cores"

    def __init__(self, n_per_host: int):
        self.n_per_host = int(n_per_host)

    def setup(self, worker: Any) -> None:
        if self.n_per_host <= 1 or not hasattr(os, "sched_setaffinity"):
            return
        import jax

        import pyqhn  # noqa: F401  (float64 before JAX starts)

        jax.devices()  # start the backend with this host's full thread pool (see above)
        m = re.search(r"(\d+)$", str(worker.name))
        share = _host_share(int(m.group(1)) if m else 0, self.n_per_host)
        for tid in os.listdir("/proc/self/task"):  # every thread, present and future
            try:
                os.sched_setaffinity(int(tid), share)
            except OSError:
                pass
        for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
            os.environ[var] = str(len(share))


def _jobqueue_cluster(spec: ClusterSpec) -> Any:
    """The dask-jobqueue cluster of ``spec``, no jobs submitted yet; jobqueue reads its
    settings from the dask config when it writes a job, so ``spec.config`` must be set
    (``dask.config.set``) for as long as the cluster lives."""
    import dask
    import dask_jobqueue

    cls = dask_jobqueue.SLURMCluster if spec.kind == "slurm" else dask_jobqueue.PBSCluster
    prologue = list(dask.config.get(f"jobqueue.{spec.kind}.job-script-prologue",
                                    default=None) or [])
    # as for local workers (see open_client): no malloc trimming at every free
    prologue.append(f"export {_NO_TRIM}")
    return cls(job_script_prologue=prologue)


#: Environment that keeps a remote nanny from setting Dask's MALLOC_TRIM_THRESHOLD_=65536.
_NO_TRIM = "DASK_DISTRIBUTED__NANNY__PRE_SPAWN_ENVIRON__MALLOC_TRIM_THRESHOLD_=134217728"


@contextmanager
def open_client(spec: ClusterSpec, *, echo: Any = None) -> Iterator[Any]:
    """A ``distributed.Client`` to the cluster of ``spec`` (started here for ``local`` and
    jobqueue kinds, closed on exit); prints the dashboard address to ``echo`` (stderr).

    Raises:
        InputError: the scheduler cannot be reached.
    """
    dask = need_module("dask", "cluster", f"--cluster {spec}")
    need_module("distributed", "cluster", f"--cluster {spec}")

    # Dask's nannies set MALLOC_TRIM_THRESHOLD_=65536 in every worker; with the engines'
    # MB-sized temporaries glibc then trims on nearly every free (measured: L-BFGS at
    # N = 17 takes 1.6x as long). Workers started here keep glibc's default.
    environ = {k: v for k, v in dask.config.get("distributed.nanny.pre-spawn-environ",
                                                default={}).items()
               if k != "MALLOC_TRIM_THRESHOLD_"}
    config = {"distributed.nanny.pre-spawn-environ": environ, **dict(spec.config)}
    with dask.config.set(config):
        yield from _open_client(spec, echo)


def _open_client(spec: ClusterSpec, echo: Any) -> Iterator[Any]:
    from distributed import Client, LocalCluster

    def say(msg: str) -> None:
        (echo or (lambda s: print(s, file=sys.stderr)))(msg)

    cluster = None
    per_host = 1
    try:
        if spec.kind == "local":
            cluster = LocalCluster(n_workers=spec.workers, threads_per_worker=1,
                                   processes=True, dashboard_address=":0",
                                   silence_logs=logging.ERROR)
            per_host = spec.workers
        elif spec.kind in ("slurm", "pbs"):
            cluster = _jobqueue_cluster(spec)
            cluster.scale(jobs=spec.workers)
            import dask

            per_host = int(dask.config.get(f"jobqueue.{spec.kind}.processes", None) or 1)
        try:
            client = Client(cluster if cluster is not None else spec.address, timeout="20s")
        except OSError as err:
            raise InputError(f"--cluster {spec}: cannot connect ({err})") from err
        try:
            client.register_plugin(PinCores(per_host), name=PinCores.name)
            say(f"dask cluster {spec}: dashboard {client.dashboard_link}")
            yield client
        finally:
            client.close()
    finally:
        if cluster is not None:
            cluster.close()
