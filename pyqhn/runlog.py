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

Damage from outside (a disk error, a hand edit) is repaired where it can be, with a
:class:`RunLogWarning`, and refused otherwise with one sentence naming the file and what
to do (:class:`pyqhn.checks.InputError`), never read as results: a line of ``runs.csv``
or ``history.jsonl`` that is not a row or a record is dropped and its run is run again,
as is a run with no angles or no history; a ``runlog.json``, ``angles.npz`` or runs
header that cannot be read, or a folder where one of these files belongs, is refused. A
write that fails (a full disk) raises :class:`pyqhn.checks.Fault` saying how many runs
are saved, and leaves no temporary file.

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
import zipfile
import zlib
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Protocol, runtime_checkable

import numpy as np
import pandas as pd

from .checks import Fault, InputError

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
    "made_with",
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
    if path.is_dir():
        raise InputError(f"{path} is a folder where pyqhn writes a file; remove it, or use "
                         "another output folder")
    tmp = path.with_name(path.name + ".tmp")
    try:
        with open(tmp, "wb") as fh:
            fh.write(data)
            fh.flush()
            os.fsync(fh.fileno())
        os.replace(tmp, path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # no stray .tmp after a full disk or an interrupt
        raise


def _refuse_folder(path: Path) -> None:
    """A folder where a file of the run log belongs is refused (one sentence)."""
    if path.is_dir():
        raise InputError(f"{path} is a folder where the run log keeps a file; remove it "
                         "(its runs will be run again), or use a fresh output folder")


def _why(err: BaseException) -> str:
    """An exception as a short clause for a one-line message."""
    text = " ".join(str(err).split()) or type(err).__name__
    return text if len(text) <= 80 else text[:77] + "..."


def _lines(path: Path) -> list[bytes]:
    """The newline-terminated lines of ``path`` (a partial last line was dropped already)."""
    data = path.read_bytes() if path.is_file() else b""
    return [line + b"\n" for line in data.split(b"\n")[:-1]]


def _history_key(line: bytes) -> tuple[str, int] | None:
    """``(group, run)`` of a ``history.jsonl`` line, ``None`` if it is no run record."""
    try:
        rec = json.loads(line.decode("utf-8"))
    except (UnicodeDecodeError, json.JSONDecodeError):
        return None
    if not isinstance(rec, dict) or not isinstance(rec.get("group"), str):
        return None
    run = rec.get("run")
    if not isinstance(run, int) or isinstance(run, bool) or run < 0:
        return None
    return rec["group"], run


def _row_ok(fields: list[str], header: list[str]) -> bool:
    """Whether a ``runs.csv`` row has the header's width, a group, a run index ≥ 0 and a
    number as final energy."""
    if len(fields) != len(header):
        return False
    row = dict(zip(header, fields, strict=True))
    try:
        run = float(row["run"])
        if row["e_final"]:  # empty: a run whose energy was NaN
            float(row["e_final"])
    except ValueError:
        return False
    return bool(row["group"]) and np.isfinite(run) and run >= 0 and run == int(run)


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
    """The runs table of ``folder`` (plain ``pandas.read_csv``; duplicates dropped).

    Raises:
        InputError: the file is damaged (opening the folder with :class:`RunLog`, i.e.
            rerunning the command, repairs what it can).
    """
    path = Path(folder) / _RUNS
    _refuse_folder(path)
    if not path.exists() or path.stat().st_size == 0:
        return pd.DataFrame(columns=list(CORE_COLUMNS))
    try:
        table = pd.read_csv(path)
        runs = table["run"].astype(np.int64)
        table["group"].astype(str)
    except (ValueError, KeyError, TypeError, UnicodeDecodeError, pd.errors.ParserError) as err:
        raise InputError(f"{path} is damaged ({_why(err)}); run the same command again to "
                         "repair it, or use a fresh output folder") from err
    table["run"] = runs
    return table.drop_duplicates(["group", "run"], keep="first").reset_index(drop=True)


def read_angles(folder: str | Path) -> dict[str, np.ndarray]:
    """``{group: (R, P) final angles}``; row ``r`` is run ``r`` (NaN if not finished)."""
    path = Path(folder) / _ANGLES
    _refuse_folder(path)
    if not path.exists():
        return {}
    what = ("it holds the final angles of the finished runs: delete it to run them again, "
            "or use a fresh output folder")
    try:
        if not zipfile.is_zipfile(path):
            raise ValueError("not an .npz archive")
        with np.load(path, allow_pickle=False) as f:
            angles = {k: np.asarray(f[k]) for k in f.files}
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        raise InputError(f"{path} cannot be read ({_why(err)}); {what}") from err
    for k, a in angles.items():
        if a.ndim != 2 or a.dtype.kind not in "fiu":
            raise InputError(f"{path} holds a {a.dtype} array of shape {a.shape} for group "
                             f"{k!r}, not (runs, angles) numbers; {what}")
    return {k: a.astype(np.float64) for k, a in angles.items()}


def read_histories(folder: str | Path) -> dict[tuple[str, int], dict[str, Any]]:
    """``{(group, run): {"f": array, …series}}`` of the finished runs of ``folder``.

    Lines of runs that have no row in ``runs.csv`` (a batch cut by a crash) are ignored;
    of repeated lines the last one counts.
    """
    path = Path(folder) / _HISTORY
    _refuse_folder(path)
    finished = set(_keys(read_runs(folder)))
    out: dict[tuple[str, int], dict[str, Any]] = {}
    for line in _lines(path):  # a partial last line is no finished run
        key = _history_key(line)
        if key is None:
            continue  # a damaged line (RunLog drops it with a warning)
        rec = json.loads(line)
        del rec["group"], rec["run"]
        if key in finished:
            out[key] = {k: np.asarray(v) if isinstance(v, list) else v
                        for k, v in rec.items()}
    return out


def made_with(folder: str | Path, settings: Mapping[str, Any], *, kind: str) -> bool:
    """Whether the run folder ``folder`` records these ``settings`` and ``kind`` (the check
    :class:`RunLog` makes on opening, without opening it: safe while another process
    writes it); ``False`` when its ``runlog.json`` is missing or unreadable."""
    try:
        meta = json.loads((Path(folder) / _META).read_bytes().decode("utf-8"))
        return meta["kind"] == kind and meta["settings"] == _jsonable(dict(settings))
    except (OSError, UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError):
        return False


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
        results = [n for n in (_RUNS, _HISTORY, _ANGLES, "config.json")
                   if (self.folder / n).exists()]
        if meta_path.is_dir():
            raise InputError(f"{meta_path} is a folder where the run log keeps its settings; "
                             "remove it, or use a fresh output folder")
        if meta_path.exists():
            try:
                meta = json.loads(meta_path.read_bytes().decode("utf-8"))
                theirs = {"kind": meta["kind"], **meta["settings"]}
            except (UnicodeDecodeError, json.JSONDecodeError, KeyError, TypeError) as err:
                if results:
                    raise InputError(
                        f"{meta_path} is damaged ({_why(err)}); it records the settings the "
                        f"runs in {self.folder} were made with: restore it, or use a fresh "
                        "output folder") from err
                warnings.warn(f"{meta_path} was damaged ({_why(err)}) and the folder holds "
                              "no runs; wrote it again", RunLogWarning, stacklevel=4)
                meta_path.unlink()
                return self._check_settings()
            diff = [k for k in dict.fromkeys([*theirs, *mine]) if theirs.get(k) != mine.get(k)]
            if diff:
                detail = ", ".join(f"{k} ({_short(theirs.get(k))} there, "
                                   f"{_short(mine.get(k))} here)" for k in diff)
                raise SettingsMismatchError(
                    f"{self.folder} holds runs made with other settings: {detail}. Use a "
                    "fresh output folder, or the same settings to resume.")
            return
        if results:
            raise SettingsMismatchError(
                f"{self.folder} holds results ({', '.join(results)}) without a runlog.json "
                "(deleted, or written by an older pyqhn or by hand); they cannot be checked "
                "against these settings: restore runlog.json, or use a fresh output folder.")
        meta = {"format": FORMAT, "kind": self.kind, "settings": self.settings,
                "pyqhn": _version()}
        _atomic_write_bytes(meta_path, (json.dumps(meta, indent=2) + "\n").encode())

    def _warn(self, message: str) -> None:
        warnings.warn(message, RunLogWarning, stacklevel=4)

    def _repair(self) -> None:
        for name in (_RUNS, _HISTORY, _ANGLES):
            _refuse_folder(self.folder / name)
        for name in (_RUNS, _HISTORY):
            dropped = _drop_partial_last_line(self.folder / name)
            if dropped:
                self._warn(f"{self.folder / name} ended in a partial line ({dropped} bytes, "
                           "a write cut by a crash); dropped it: the runs it belonged to "
                           "will be run again")
        self._angles = read_angles(self.folder)
        self._clean_runs()
        history = self._clean_history()
        table = read_runs(self.folder)
        rows = set(_keys(table))
        orphans = history - rows
        if orphans:  # committed up to history.jsonl only: a cut batch, or rows lost
            self._warn(f"{len(orphans)} runs in {self.folder / _HISTORY} have no row in "
                       f"{_RUNS} (a batch cut by a crash, or rows lost); they will be run "
                       "again")
        no_angles = [k for k in _keys(table) if not self._has_angles(*k)]
        no_history = [k for k in _keys(table) if k not in history and self._has_angles(*k)]
        for lost, what in ((no_angles, f"no angles in {_ANGLES}"),
                           (no_history, f"no record in {_HISTORY}")):
            if lost:
                self._warn(f"{len(lost)} rows of {self.folder / _RUNS} have {what}; they "
                           "will be run again")
        if no_angles or no_history:  # rows that cannot be used: run them again
            lost = set(no_angles) | set(no_history)
            keep = [k not in lost for k in _keys(table)]
            self._rewrite_runs(table[keep].to_dict(orient="records"), list(table.columns))

    def _clean_runs(self) -> None:
        """Refuse a runs table without its header; drop (with a warning) lines that are no
        row of it."""
        path = self.folder / _RUNS
        lines = _lines(path)
        if not lines:
            return
        try:
            header = next(csv.reader([lines[0].decode("utf-8")]))
        except (UnicodeDecodeError, csv.Error):
            header = []
        missing = [c for c in ("group", "run", "e_final") if c not in header]
        if missing or len(set(header)) != len(header):
            raise InputError(f"{path} does not start with the runs table's header (group, "
                             "circuit, …, run, …): it is damaged; move it away to run its "
                             "runs again, or use a fresh output folder")
        good, bad = [lines[0]], 0
        for line in lines[1:]:
            try:
                fields = next(csv.reader([line.decode("utf-8")]))
            except (UnicodeDecodeError, csv.Error, StopIteration):
                fields = []
            if _row_ok(fields, header):
                good.append(line)
            else:
                bad += 1
        if bad:
            self._warn(f"{path}: dropped {bad} damaged lines that are no rows of the table; "
                       "their runs will be run again")
            _atomic_write_bytes(path, b"".join(good))

    def _clean_history(self) -> set[tuple[str, int]]:
        """Drop (with a warning) lines of ``history.jsonl`` that are no run records; returns
        the ``(group, run)`` of the records kept."""
        path = self.folder / _HISTORY
        lines = _lines(path)
        keys = [_history_key(line) for line in lines]
        bad = sum(k is None for k in keys)
        if bad:
            self._warn(f"{path}: dropped {bad} damaged lines that are no run records; their "
                       "runs will be run again")
            _atomic_write_bytes(path, b"".join(
                line for line, k in zip(lines, keys, strict=True) if k is not None))
        return {k for k in keys if k is not None}

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
        angles = dict(self._angles)  # committed to self._angles once written
        for rec in records:
            x = np.asarray(rec.x, dtype=np.float64)
            old = angles.get(rec.group)
            if old is not None and old.shape[1] != x.size:
                raise InputError(
                    f"{self.folder / _ANGLES} holds {old.shape[1]} angles per run for group "
                    f"{rec.group!r}, but its runs have {x.size}: the file belongs to other "
                    "runs; delete it to run them again, or use a fresh output folder")
            rows = max(rec.run + 1, 0 if old is None else old.shape[0])
            grown = np.full((rows, x.size), np.nan)
            if old is not None:
                grown[: old.shape[0]] = old
            grown[rec.run] = x
            angles[rec.group] = grown
        try:
            self._write(records, angles)
        except OSError as err:
            saved = max(0, len(_lines(self.folder / _RUNS)) - 1)
            raise Fault(f"cannot write {err.filename or self.folder} ({err.strerror or err}): "
                        f"{saved} finished runs are saved in {self.folder}; free space (or "
                        "fix the folder) and run the same command again to resume") from err

    def _write(self, records: Sequence[RunRecord], angles: dict[str, np.ndarray]) -> None:
        buf = io.BytesIO()
        np.savez(buf, **angles)
        _atomic_write_bytes(self.folder / _ANGLES, buf.getvalue())
        self._angles = angles
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
        """``{(group, run)}`` of every run recorded."""
        return {(r["group"], int(r["run"])) for r in self._rows}

    def append(self, records: Sequence[RunRecord]) -> None:
        """Record finished runs: their row, final angles and traced series."""
        for rec in records:
            self._rows.append(dict(rec.row, group=rec.group, run=rec.run))
            self._angles.setdefault(rec.group, {})[rec.run] = np.asarray(rec.x)
            self._series[(rec.group, rec.run)] = {k: np.asarray(v) if isinstance(v, list)
                                                  else v for k, v in rec.series.items()}

    def table(self) -> pd.DataFrame:
        """The runs table: one row per run, the core columns of :mod:`pyqhn.runlog` first."""
        cols = list(dict.fromkeys([*CORE_COLUMNS, *(k for r in self._rows for k in r)]))
        return pd.DataFrame(self._rows, columns=cols)

    def angles(self) -> dict[str, np.ndarray]:
        """``{group: (R, P)}`` final angles, row ``r`` = run ``r`` (NaN for a missing run)."""
        out = {}
        for g, runs in self._angles.items():
            a = np.full((max(runs) + 1, next(iter(runs.values())).size), np.nan)
            for r, x in runs.items():
                a[r] = x
            out[g] = a
        return out

    def histories(self) -> dict[tuple[str, int], dict[str, Any]]:
        """``{(group, run): {series: values}}``: the objective per step (``f``) and any
        traced series."""
        return dict(self._series)
