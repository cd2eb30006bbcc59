"""One run log per output folder: settings guard, one writer, atomic rows, resume.

Every command that writes results (``pyqhn train``, every ``pyqhn reproduce`` figure,
:meth:`pyqhn.pipeline.Problem.train`) writes them through a :class:`RunLog`. A folder
``DIR`` holds:

``runlog.json``
    What made the runs: ``{"format", "kind", "settings", "pyqhn"}``. ``settings`` holds
    every setting that would make old and new runs incompatible (cost-table fingerprint,
    seed, optimiser settings, …), never what only extends a sweep (more runs, more
    circuits). Opening the folder with other settings raises :class:`SettingsMismatchError`
    naming each difference.
``runs.csv``
    One tidy row per finished run, readable by plain ``pandas.read_csv``: ``group,
    circuit, n_qubits, blocks, run, seed, e_init, e_final, n_iter, n_evals, grad_norm,
    converged, wall_time, best_index, best_bitstring, best_probability`` and the columns
    an experiment adds. Bitstrings are written as Python binary literals (``0b0011``,
    parameter 0 first, so ``int(s, 0) == best_index``;
    :func:`pyqhn.bits.bitstring_literals`): ``read_csv`` keeps them as strings with their
    leading zeros. A row in ``runs.csv`` is what marks a run as finished.
``history.jsonl``
    One JSON object per finished run: ``{"group", "run", "f": [objective per step],
    …named series}``.
``angles.npz``
    Final angles: key ``<group>`` is a ``(R, P)`` float64 array whose row ``r`` holds run
    ``r`` (NaN for runs not finished): ``np.load("DIR/angles.npz")["blocks=4"]``.
``.lock``
    Held (``fcntl.flock``) by the one process writing the folder; it holds that process's
    pid. A second writer is refused at once (:class:`FolderBusyError`); the operating
    system releases the lock when the holder exits, however it exits.

Commit order per batch: angles (written to a temporary file, then renamed), history
lines, then runs.csv rows, each flushed and fsynced. A crash can only cut the last line
of a file: opening the folder detects a partial last line, drops it with a
:class:`RunLogWarning`, and the runs it belonged to are run again. Nothing finished is
ever lost.

Where the driver hands its records: the :class:`Log` protocol, kept by :class:`RunLog`
(a folder) and :class:`MemoryLog` (in memory, for ``out=None``).
"""

from __future__ import annotations

import csv
import hashlib
import io
import json
import os
import socket
import time
import warnings
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from .checks import InputError

__all__ = [
    "FORMAT",
    "CORE_COLUMNS",
    "RunRecord",
    "RunLog",
    "RunLogWarning",
    "SettingsMismatchError",
    "FolderBusyError",
    "fingerprint",
    "read_runs",
    "read_angles",
    "read_histories",
    "write_json",
    "write_table",
    "write_arrays",
    "Log",
    "MemoryLog",
]

#: Version of the folder format written into ``runlog.json``.
FORMAT = 1

#: Columns every runs table starts with, in this order.
CORE_COLUMNS = (
    "group", "circuit", "n_qubits", "blocks", "run", "seed", "e_init", "e_final", "n_iter",
    "n_evals", "grad_norm", "converged", "wall_time", "best_index", "best_bitstring",
    "best_probability",
)

_RUNS, _HISTORY, _ANGLES, _META, _LOCK = (
    "runs.csv", "history.jsonl", "angles.npz", "runlog.json", ".lock")


class RunLogWarning(UserWarning):
    """Something in a run folder was repaired (a partial line dropped, a duplicate ignored)."""


class SettingsMismatchError(InputError):
    """The folder holds runs made with other settings; the message names each difference."""


class FolderBusyError(InputError):
    """Another process is writing to the folder."""


@dataclass(frozen=True)
class RunRecord:
    """One finished run, as the driver hands it to the run log.

    Attributes:
        group: the group (circuit, noise level, dataset/objective …) the run belongs to.
        run: run index within the group (run ``r`` is seeded with ``seed + r``).
        x: ``(P,)`` final angles.
        row: the ``runs.csv`` columns of this run (``group`` and ``run`` included).
        series: ``history.jsonl`` fields: ``f`` (objective per step) and named series.
    """

    group: str
    run: int
    x: np.ndarray
    row: Mapping[str, Any]
    series: Mapping[str, Any] = field(default_factory=dict)


def fingerprint(*arrays: Any) -> str:
    """``sha256:<hex>`` of the bytes (and shapes, dtypes) of arrays: a cost table, data."""
    h = hashlib.sha256()
    for a in arrays:
        a = np.ascontiguousarray(np.asarray(a))
        h.update(f"{a.dtype.str}{a.shape}".encode())
        h.update(a.tobytes())
    return "sha256:" + h.hexdigest()[:32]


def _jsonable(obj: Any) -> Any:
    """JSON-normal form of settings (tuples → lists, NumPy scalars → Python)."""
    return json.loads(json.dumps(obj, default=lambda o: o.tolist() if hasattr(o, "tolist")
                                 else str(o)))


def _short(value: Any) -> str:
    text = json.dumps(value)
    return text if len(text) <= 60 else text[:57] + "..."


def _fsync_append(path: Path, text: str) -> None:
    with open(path, "a", encoding="utf-8", newline="") as fh:
        fh.write(text)
        fh.flush()
        os.fsync(fh.fileno())


def _atomic_write_bytes(path: Path, data: bytes) -> None:
    tmp = path.with_name(path.name + ".tmp")
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)


def _drop_partial_last_line(path: Path) -> int:
    """Truncate ``path`` after its last newline; returns the bytes dropped."""
    if not path.exists():
        return 0
    size = path.stat().st_size
    if size == 0:
        return 0
    with open(path, "rb+") as fh:
        fh.seek(size - 1)
        if fh.read(1) == b"\n":
            return 0
        fh.seek(0)
        data = fh.read()
        keep = data.rfind(b"\n") + 1
        fh.truncate(keep)
        fh.flush()
        os.fsync(fh.fileno())
    return size - keep


def _csv_text(rows: Sequence[Mapping[str, Any]], columns: Sequence[str], header: bool) -> str:
    buf = io.StringIO()
    frame = pd.DataFrame([{c: r.get(c) for c in columns} for r in rows], columns=list(columns))
    frame.to_csv(buf, index=False, header=header, quoting=csv.QUOTE_NONNUMERIC,
                 lineterminator="\n")
    return buf.getvalue()


def read_runs(folder: str | Path) -> pd.DataFrame:
    """The runs table of ``folder`` (plain ``pandas.read_csv``; duplicates dropped)."""
    path = Path(folder) / _RUNS
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=list(CORE_COLUMNS))
    table = pd.read_csv(path)
    return table.drop_duplicates(["group", "run"], keep="first").reset_index(drop=True)


def read_angles(folder: str | Path) -> dict[str, np.ndarray]:
    """``{group: (R, P) final angles}``; row ``r`` is run ``r`` (NaN if not finished)."""
    path = Path(folder) / _ANGLES
    if not path.exists():
        return {}
    try:
        with np.load(path, allow_pickle=False) as f:
            return {k: np.asarray(f[k], dtype=np.float64) for k in f.files}
    except (OSError, ValueError) as err:
        raise InputError(f"{path} cannot be read ({err}); the folder's angles are lost: "
                         "use a fresh output folder") from err


def read_histories(folder: str | Path) -> dict[tuple[str, int], dict[str, Any]]:
    """``{(group, run): {"f": array, …series}}`` of the finished runs of ``folder``.

    Lines of runs that have no row in ``runs.csv`` (a batch cut by a crash) are ignored;
    of repeated lines the last one counts.
    """
    path = Path(folder) / _HISTORY
    finished = set(_keys(read_runs(folder)))
    out: dict[tuple[str, int], dict[str, Any]] = {}
    if not path.exists():
        return out
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if not line.endswith("\n"):
                break  # a partial last line: not a finished run
            try:
                rec = json.loads(line)
            except json.JSONDecodeError:
                continue
            key = (str(rec.pop("group")), int(rec.pop("run")))
            if key in finished:
                out[key] = {k: np.asarray(v) if isinstance(v, list) else v
                            for k, v in rec.items()}
    return out


def _keys(table: pd.DataFrame) -> Iterable[tuple[str, int]]:
    return zip(table["group"].astype(str), table["run"].astype(int), strict=True)


class RunLog:
    """The run folder of one sweep, opened for writing by one process.

    Use as a context manager (or call :meth:`close`)::

        with RunLog(out, settings, kind="train") as log:
            done = log.finished()
            log.append(records)
            table = log.table()

    Args:
        folder: the output folder (created).
        settings: JSON-able settings that must match to resume (see module docstring).
        kind: what wrote the folder (``"train"``, ``"fig2"`` …); part of the settings.

    Raises:
        InputError: the folder cannot be written (names it).
        FolderBusyError: another process holds the folder.
        SettingsMismatchError: the folder holds runs made with other settings.
    """

    def __init__(self, folder: str | Path, settings: Mapping[str, Any], *, kind: str):
        self.folder = Path(folder)
        self.kind = kind
        self.settings = _jsonable(dict(settings))
        self._lock_fd: int | None = None
        self._open()

    # ------------------------------------------------------------------ opening
    def _open(self) -> None:
        if self.folder.exists() and not self.folder.is_dir():
            raise InputError(f"{self.folder} exists and is not a folder; choose another "
                             "output folder")
        try:
            self.folder.mkdir(parents=True, exist_ok=True)
            fd = os.open(self.folder / _LOCK, os.O_RDWR | os.O_CREAT, 0o644)
        except OSError as err:
            raise InputError(f"cannot write to {self.folder} ({err.strerror}); choose a "
                             "writable output folder") from err
        self._acquire(fd)
        try:
            self._check_settings()
            self._repair()
        except BaseException:
            self.close()
            raise

    def _acquire(self, fd: int) -> None:
        import fcntl

        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except OSError as err:
            holder = os.read(fd, 200).decode(errors="replace").strip() or "another process"
            os.close(fd)
            raise FolderBusyError(
                f"{self.folder} is being written by {holder}; wait for it to finish, or "
                "use another output folder (two writers would duplicate runs)") from err
        os.ftruncate(fd, 0)
        os.write(fd, f"pid {os.getpid()} on {socket.gethostname()} since "
                     f"{time.strftime('%Y-%m-%d %H:%M:%S')}\n".encode())
        self._lock_fd = fd

    def _check_settings(self) -> None:
        meta_path = self.folder / _META
        mine = {"kind": self.kind, **self.settings}
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_text())
                theirs = {"kind": meta["kind"], **meta["settings"]}
            except (json.JSONDecodeError, KeyError, TypeError) as err:
                raise InputError(f"{meta_path} is not a pyqhn run log ({err}); use a fresh "
                                 "output folder") from err
            diff = [k for k in dict.fromkeys([*theirs, *mine]) if theirs.get(k) != mine.get(k)]
            if diff:
                detail = ", ".join(f"{k} ({_short(theirs.get(k))} there, "
                                   f"{_short(mine.get(k))} here)" for k in diff)
                raise SettingsMismatchError(
                    f"{self.folder} holds runs made with other settings: {detail}. Use a "
                    "fresh output folder, or the same settings to resume.")
            return
        if (self.folder / _RUNS).exists() or (self.folder / "config.json").exists():
            raise SettingsMismatchError(
                f"{self.folder} holds results without a runlog.json (written by an older "
                "pyqhn or by hand); they cannot be checked against these settings. Use a "
                "fresh output folder.")
        meta = {"format": FORMAT, "kind": self.kind, "settings": self.settings,
                "pyqhn": _version()}
        _atomic_write_bytes(meta_path, (json.dumps(meta, indent=2) + "\n").encode())

    def _repair(self) -> None:
        for name in (_RUNS, _HISTORY):
            dropped = _drop_partial_last_line(self.folder / name)
            if dropped:
                warnings.warn(f"{self.folder / name} ended in a partial line ({dropped} "
                              "bytes, a write cut by a crash); dropped it: the runs it "
                              "belonged to will be run again", RunLogWarning, stacklevel=3)
        self._angles = read_angles(self.folder)
        table = read_runs(self.folder)
        missing = [k for k in _keys(table) if not self._has_angles(*k)]
        if missing:  # rows without angles cannot be used: run them again
            warnings.warn(f"{len(missing)} rows of {self.folder / _RUNS} have no angles in "
                          f"{_ANGLES}; they will be run again", RunLogWarning, stacklevel=3)
            lost = set(missing)
            keep = [k not in lost for k in _keys(table)]
            self._rewrite_runs(table[keep].to_dict(orient="records"), list(table.columns))

    def _has_angles(self, group: str, run: int) -> bool:
        a = self._angles.get(group)
        return a is not None and run < a.shape[0] and bool(np.all(np.isfinite(a[run])))

    # ------------------------------------------------------------------ reading
    def finished(self) -> set[tuple[str, int]]:
        """``{(group, run)}`` of every finished run in the folder."""
        return set(_keys(read_runs(self.folder)))

    def table(self) -> pd.DataFrame:
        """The runs table (one row per finished run)."""
        return read_runs(self.folder)

    def angles(self) -> dict[str, np.ndarray]:
        """``{group: (R, P)}`` final angles (row ``r`` = run ``r``, NaN if unfinished)."""
        return {k: v.copy() for k, v in self._angles.items()}

    def histories(self) -> dict[tuple[str, int], dict[str, Any]]:
        """See :func:`read_histories`."""
        return read_histories(self.folder)

    # ------------------------------------------------------------------ writing
    def _header(self) -> list[str] | None:
        path = self.folder / _RUNS
        if not path.exists() or path.stat().st_size == 0:
            return None
        with open(path, encoding="utf-8") as fh:
            return next(csv.reader([fh.readline()]))

    def _rewrite_runs(self, rows: Sequence[Mapping[str, Any]], columns: Sequence[str]) -> None:
        text = _csv_text(rows, columns, header=True) if rows else ""
        _atomic_write_bytes(self.folder / _RUNS, text.encode())

    def append(self, records: Sequence[RunRecord]) -> None:
        """Commit finished runs: angles, history lines, then runs.csv rows (see module)."""
        if not records:
            return
        for rec in records:
            x = np.asarray(rec.x, dtype=np.float64)
            old = self._angles.get(rec.group)
            rows = max(rec.run + 1, 0 if old is None else old.shape[0])
            if old is None or old.shape != (rows, x.size):
                grown = np.full((rows, x.size), np.nan)
                if old is not None:
                    if old.shape[1] != x.size:
                        raise ValueError(f"group {rec.group!r} has runs with {old.shape[1]} "
                                         f"and {x.size} angles")
                    grown[: old.shape[0]] = old
                self._angles[rec.group] = old = grown
            old[rec.run] = x
        buf = io.BytesIO()
        np.savez(buf, **self._angles)
        _atomic_write_bytes(self.folder / _ANGLES, buf.getvalue())
        _fsync_append(self.folder / _HISTORY, "".join(
            json.dumps({"group": r.group, "run": int(r.run), **_jsonable(dict(r.series))})
            + "\n" for r in records))
        rows = [dict(r.row, group=r.group, run=int(r.run)) for r in records]
        header = self._header()
        new_cols = list(dict.fromkeys(
            [*CORE_COLUMNS, *(header or []), *(k for row in rows for k in row)]))
        if header is None:
            _fsync_append(self.folder / _RUNS, _csv_text(rows, new_cols, header=True))
        elif set(new_cols) <= set(header):
            _fsync_append(self.folder / _RUNS, _csv_text(rows, header, header=False))
        else:  # a new column: rewrite the table with the union of columns
            old = read_runs(self.folder).to_dict(orient="records")
            self._rewrite_runs(old + rows, new_cols)

    # ------------------------------------------------------------------ closing
    def close(self) -> None:
        """Release the folder (the lock is also released if the process dies)."""
        if self._lock_fd is not None:
            os.close(self._lock_fd)
            self._lock_fd = None

    def __enter__(self) -> RunLog:
        return self

    def __exit__(self, *exc: Any) -> None:
        self.close()


def write_json(path: str | Path, obj: Any) -> Path:
    """Write ``obj`` as indented JSON atomically (a reader never sees half a file);
    NumPy values become plain JSON."""
    path = Path(path)
    _atomic_write_bytes(path, (json.dumps(_jsonable(obj), indent=2) + "\n").encode())
    return path


def write_table(path: str | Path, table: pd.DataFrame) -> Path:
    """Write a derived table (``curves.csv``, ``vi_table.csv`` …) as CSV atomically."""
    path = Path(path)
    _atomic_write_bytes(path, table.to_csv(index=False, lineterminator="\n").encode())
    return path


def write_arrays(path: str | Path, arrays: Mapping[str, np.ndarray]) -> Path:
    """Write named arrays as a compressed ``.npz`` atomically."""
    path = Path(path)
    buf = io.BytesIO()
    np.savez_compressed(buf, **arrays)
    _atomic_write_bytes(path, buf.getvalue())
    return path


def _version() -> str:
    from . import __version__

    return __version__


@runtime_checkable
class Log(Protocol):
    """Where the driver (:func:`pyqhn.driver.run_groups`) puts finished runs and reads
    them back: :class:`RunLog` (a folder) and :class:`MemoryLog` (memory)."""

    def finished(self) -> set[tuple[str, int]]:
        """``{(group, run)}`` of every finished run."""
        ...

    def append(self, records: Sequence[RunRecord]) -> None:
        """Add the records of one finished batch."""
        ...

    def table(self) -> pd.DataFrame:
        """The runs table (:data:`CORE_COLUMNS` first), one row per finished run."""
        ...

    def angles(self) -> dict[str, np.ndarray]:
        """``{group: (R, P)}`` final angles, NaN rows for runs not finished."""
        ...

    def histories(self) -> dict[tuple[str, int], dict[str, Any]]:
        """``{(group, run): {series name: values}}`` (``"f"``: objective per step)."""
        ...


class MemoryLog:
    """A run log kept in memory (``out=None``): the same reading methods as :class:`RunLog`."""

    def __init__(self) -> None:
        self._rows: list[dict] = []
        self._angles: dict[str, dict[int, np.ndarray]] = {}
        self._series: dict[tuple[str, int], dict[str, Any]] = {}

    def finished(self) -> set[tuple[str, int]]:
        return {(r["group"], int(r["run"])) for r in self._rows}

    def append(self, records: Sequence[RunRecord]) -> None:
        for rec in records:
            self._rows.append(dict(rec.row, group=rec.group, run=rec.run))
            self._angles.setdefault(rec.group, {})[rec.run] = np.asarray(rec.x)
            self._series[(rec.group, rec.run)] = {k: np.asarray(v) if isinstance(v, list)
                                                  else v for k, v in rec.series.items()}

    def table(self) -> pd.DataFrame:
        cols = list(dict.fromkeys([*CORE_COLUMNS, *(k for r in self._rows for k in r)]))
        return pd.DataFrame(self._rows, columns=cols)

    def angles(self) -> dict[str, np.ndarray]:
        out = {}
        for g, runs in self._angles.items():
            a = np.full((max(runs) + 1, next(iter(runs.values())).size), np.nan)
            for r, x in runs.items():
                a[r] = x
            out[g] = a
        return out

    def histories(self) -> dict[tuple[str, int], dict[str, Any]]:
        return dict(self._series)
