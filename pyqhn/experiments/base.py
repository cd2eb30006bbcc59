"""How every experiment is specified, run and summarised.

* :class:`ExperimentSpec`: the base of every experiment's frozen spec dataclass. A spec is
  paper-sized as registered (:data:`pyqhn.experiments.EXPERIMENTS`); :meth:`~ExperimentSpec.quick`
  gives its CI-sized copy and :meth:`~ExperimentSpec.replace` the one checked way to change
  it. Every field is checked by :func:`check_field` (its type and the range
  :func:`setting` declares) whenever a spec is made; an unknown field is an
  :class:`~pyqhn.checks.InputError` naming it.
* :func:`execute`: how every experiment runs: open the run log, build the groups, drive,
  analyse, plot. A spec's ``run`` hands it the run-log ``settings`` (checked before any
  work), a ``build`` function returning the driver's groups and whatever the analysis
  needs, and a ``summarise`` function that reads the run log, draws the figure
  (:mod:`pyqhn.plotting`) and returns a :class:`RunSummary`.
* :class:`RunSummary`: the one record every experiment returns and writes to
  ``summary.json``; its ``report`` lines are what ``pyqhn reproduce`` prints.

The loop, the files and the resume logic are the driver's and the run log's alone.
"""

from __future__ import annotations

import abc
import dataclasses
import importlib
import os
import time
import types
import typing
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ClassVar, TypeVar

from ..checks import InputError, check_float, check_int
from ..driver import Group, run_groups
from ..runlog import RunLog, write_json

__all__ = ["ExperimentSpec", "RunSummary", "setting", "seed_setting", "layout_setting",
           "encoding_setting", "check_field", "execute", "circuit_lines", "headline"]

S = TypeVar("S", bound="ExperimentSpec")


def setting(default: Any = dataclasses.MISSING, *, option: str | None = None, help: str = "",
            minimum: float | None = None, maximum: float | None = None,
            choices: tuple | str | None = None, distinct: bool = False,
            min_len: int | None = None, all_flag: bool = False, cost_table: bool = False,
            default_factory: Any = dataclasses.MISSING) -> Any:
    """A spec field with its rules (read by :func:`check_field`) and, with ``option``, the
    command-line option that sets it (``pyqhn reproduce`` builds the option from it).

    Args:
        option: the option (``"--runs"``); ``None``: not on the command line.
        help: the option's help (the registered and the quick value are appended).
        minimum: lower bound of a number, or of each element of a tuple.
        maximum: upper bound, likewise.
        choices: allowed strings (of a ``str`` or of each element of a tuple), or
            ``"module:attribute"`` naming them (imported when checked).
        distinct: a tuple's elements must differ.
        min_len: a tuple's least length.
        all_flag: the option is a flag that sets every choice (``--baselines``).
        cost_table: a cost-table file (``.npz``, key ``cost``): made absolute; the command
            loads it before any work.
    """
    meta = dict(option=option, help=help, minimum=minimum, maximum=maximum, choices=choices,
                distinct=distinct, min_len=min_len, all_flag=all_flag, cost_table=cost_table)
    return field(default=default, default_factory=default_factory, metadata=meta)


def seed_setting() -> Any:
    """``seed``: run ``r`` starts from ``seed + r`` (``--seed``)."""
    return setting(0, option="--seed", help="Run r starts from seed + r", minimum=0)


def layout_setting() -> Any:
    """``layout``: the model's bit layout (:data:`pyqhn.models.LAYOUTS`; ``--layout``)."""
    return setting("original", option="--layout", choices="pyqhn.models:LAYOUTS",
                   help="Bit layout: 'original' (the authors' notebooks: weights, biases in "
                        "reverse layer order, choice bits last) or 'choices-first'")


def encoding_setting() -> Any:
    """``encoding``: the MNIST logistic regression's weight values (``None``: {−3, 1}, the
    authors' table; ``--encoding``)."""
    return setting(None, option="--encoding", distinct=True,
                   help="Weight values 'lo,hi': -3,1 (default: the authors' published "
                        "table), -1,1 (their notebook, 2σ−1), 0,1 (the paper's text)")


def resolve_choices(choices: tuple | str | None) -> tuple | None:
    """The allowed values of a :func:`setting` (importing ``"module:attribute"``)."""
    if isinstance(choices, str):
        module, _, attr = choices.partition(":")
        return tuple(getattr(importlib.import_module(module), attr))
    return choices


def _label(f: dataclasses.Field) -> str:
    option = f.metadata.get("option")
    return f"{f.name} ({option})" if option else f.name


def check_field(f: dataclasses.Field, hint: Any, value: Any) -> Any:
    """``value`` of spec field ``f`` (type ``hint``) checked against its type and
    :func:`setting` rules, normalised (tuples, floats, absolute paths); an
    :class:`~pyqhn.checks.InputError` naming the field and its option otherwise."""
    return _check(_label(f), hint, value, f.metadata)


def _check(label: str, hint: Any, value: Any, meta: Mapping[str, Any]) -> Any:
    origin, args = typing.get_origin(hint), typing.get_args(hint)
    if origin in (typing.Union, types.UnionType):
        if value is None and type(None) in args:
            return None
        (hint,) = [a for a in args if a is not type(None)]
        origin, args = typing.get_origin(hint), typing.get_args(hint)
    if hint is bool:
        if not isinstance(value, bool):
            raise InputError(f"{label} must be True or False, got {value!r}")
        return value
    if hint is int:
        return check_int(value, label, minimum=meta.get("minimum"), maximum=meta.get("maximum"))
    if hint is float:
        return check_float(value, label, low=meta.get("minimum"), high=meta.get("maximum"))
    if hint is str:
        if meta.get("cost_table") and isinstance(value, str | os.PathLike):
            return str(Path(value).resolve())
        if not isinstance(value, str):
            raise InputError(f"{label} must be a string, got {value!r}")
        choices = resolve_choices(meta.get("choices"))
        if choices is not None and value not in choices:
            raise InputError(f"{label}: unknown value {value!r}; choose one of "
                             f"{', '.join(map(str, choices))}")
        return value
    if origin is tuple:
        if isinstance(value, str | bytes) or not isinstance(value, Sequence):
            raise InputError(f"{label} must be a sequence such as (1, 2), got {value!r}")
        if len(args) == 2 and args[1] is Ellipsis:
            element_types = [args[0]] * len(value)
        elif len(value) != len(args):
            raise InputError(f"{label} needs {len(args)} values, got {len(value)}: "
                             f"{list(value)}")
        else:
            element_types = list(args)
        out = tuple(_check(label, t, v, meta) for t, v in zip(element_types, value, strict=True))
        if meta.get("distinct") and len(set(out)) != len(out):
            raise InputError(f"{label} {list(out)} names the same value twice; give each once")
        if meta.get("min_len") is not None and len(out) < meta["min_len"]:
            raise InputError(f"{label} needs at least {meta['min_len']} value(s), got none")
        return out
    return value  # dicts and other records (``paper``): no rule


class ExperimentSpec(abc.ABC):
    """Base of every experiment's frozen spec dataclass.

    A subclass is a ``@dataclass(frozen=True)`` whose fields are made with
    :func:`setting`; it sets :attr:`QUICK` (the CI-sized values) and implements
    ``run(out, *, progress, time_limit, client) -> RunSummary``. Its fields are checked
    by :func:`check_field` whenever one is made; :meth:`_check` adds the rules that
    relate fields, and :meth:`inapplicable` says which fields it ignores.
    """

    #: The values :meth:`quick` sets (besides ``quick=True``).
    QUICK: ClassVar[Mapping[str, Any]] = {}
    quick_run: bool  # every subclass has the field ``quick_run``

    def __post_init__(self) -> None:
        hints = _hints(type(self))
        for f in dataclasses.fields(self):  # type: ignore[arg-type]
            value = getattr(self, f.name)
            checked = check_field(f, hints[f.name], value)
            if checked is not value:
                object.__setattr__(self, f.name, checked)
        self._check()

    def _check(self) -> None:
        """Rules relating several fields (an :class:`InputError` when broken); none by
        default."""
        return None

    def inapplicable(self, name: str) -> str | None:
        """Why field ``name`` does not apply to this spec (``None``: it does)."""
        return None

    def quick(self: S) -> S:
        """The CI-sized copy (same pipeline; :attr:`QUICK` replaces the sizes)."""
        return dataclasses.replace(self, quick_run=True, **self.QUICK)  # type: ignore[type-var]

    def replace(self: S, **changes: Any) -> S:
        """A copy with ``changes`` (``None`` keeps a field's value), checked: an unknown
        field, one that does not apply (:meth:`inapplicable`) or a bad value is an
        :class:`~pyqhn.checks.InputError` naming it."""
        names = {f.name: f for f in dataclasses.fields(self)}  # type: ignore[arg-type]
        for name, value in changes.items():
            if name not in names:
                raise InputError(f"{type(self).__name__} has no setting {name!r}; it has "
                                 f"{', '.join(names)}")
            why = self.inapplicable(name) if value is not None else None
            if why is not None:
                raise InputError(f"{_label(names[name])} {why}")
        given = {k: v for k, v in changes.items() if v is not None}
        return dataclasses.replace(self, **given)  # type: ignore[type-var]

    def options(self) -> tuple[str, ...]:
        """The fields set from the command line (a :func:`setting` with an ``option``
        that applies to this spec), in field order."""
        return tuple(f.name for f in dataclasses.fields(self)  # type: ignore[arg-type]
                     if f.metadata.get("option") and self.inapplicable(f.name) is None)

    @abc.abstractmethod
    def run(self, out: str | Path, *, progress: bool = True, time_limit: float | None = None,
            client: Any = None) -> RunSummary:
        """Run the experiment into ``out`` (resumable); returns its summary."""


def _hints(cls: type) -> dict[str, Any]:
    return typing.get_type_hints(cls)


@dataclass
class RunSummary:
    """What an experiment found: returned by ``run`` and written to ``summary.json``
    (:meth:`to_json`, plus its files, completeness and wall times).

    Attributes:
        figure: the experiment's name (``fig2`` … ``mnist8x8``).
        quick: whether it ran CI-sized.
        c_star: the optimum cost (one number, or one per task / dataset / size; ``None``
            when there is none).
        epsilon: the success threshold ``E − C* < ε`` (``None`` when there is none).
        circuits: one entry per group of runs (``name``, ``runs``, ``mean_energy`` and the
            experiment's own statistics).
        details: everything else the experiment reports (written at the top level of
            ``summary.json``: ``title``, ``settings``, ``tasks`` …).
        report: the lines ``pyqhn reproduce`` prints (not written to the file).
        files: the files written into the run folder.
        complete: every run finished (``False`` after a time limit; rerun to continue).
        wall_time: seconds spent (``setup``, ``runs``, ``analysis``, …).
    """

    figure: str
    quick: bool
    c_star: float | dict[str, float] | None
    epsilon: float | None
    circuits: list[dict]
    details: dict[str, Any] = field(default_factory=dict)
    report: list[str] = field(default_factory=list)
    files: list[str] = field(default_factory=list)
    complete: bool = True
    wall_time: dict[str, float] = field(default_factory=dict)

    def to_json(self) -> dict[str, Any]:
        """The contents of ``summary.json``."""
        return dict(figure=self.figure, quick=self.quick, c_star=self.c_star,
                    epsilon=self.epsilon, circuits=self.circuits, **self.details,
                    complete=self.complete, wall_time=self.wall_time, files=self.files)


def headline(figure: str, c_star: float, epsilon: float) -> str:
    """``"fig2: C* = 0.0123, ε = 0.03"``."""
    return f"{figure}: C* = {c_star:.6g}, ε = {epsilon:g}"


def circuit_lines(circuits: Sequence[Mapping[str, Any]], *, success: bool = True,
                  validation: bool = False) -> list[str]:
    """One report line per group: its success probability (with its Wilson interval when
    there is one) over its runs and its mean energy (``success``), else its runs and mean
    energy; ``validation`` adds the mean validation energy."""
    from ..plotting import circuit_label

    lines = []
    for c in circuits:
        name = circuit_label(c["name"], mathtext=False)
        val = f", validation E = {c['mean_val_energy']:.6g}" if validation else ""
        if success:
            ci = c.get("success_interval")
            err = f" [{ci[0]:.3f}, {ci[1]:.3f}]" if ci else ""
            lines.append(f"  {name:>10}: success {c['success_probability']:.3f}{err} over "
                         f"{c['runs']} runs, mean E = {c['mean_energy']:.6g}{val}")
        else:
            lines.append(f"  {name:>10}: {c['runs']} runs, mean E = {c['mean_energy']:.6g}")
    return lines


def execute(
    out: str | Path,
    *,
    kind: str,
    settings: Mapping[str, Any],
    build: Callable[[Path], tuple[Sequence[Group], Any]],
    summarise: Callable[[RunLog, Any, Path], RunSummary],
    progress: bool = True,
    time_limit: float | None = None,
    client: Any = None,
) -> RunSummary:
    """Run one experiment into ``out`` and return its summary (also ``out/summary.json``).

    Args:
        out: the run folder (created; rerun to resume).
        kind: the experiment's name (``fig2`` …), recorded in the run log.
        settings: everything that must match to resume into ``out``.
        build: ``out -> (groups, context)``; may cache cost tables in ``out``.
        summarise: ``(log, context, out) -> RunSummary`` (its ``files``: those it wrote).
        progress: progress bars.
        time_limit: seconds after which no new batch starts (finish a long figure in
            parts; ``complete`` says whether every run is done).
        client: a ``dask.distributed.Client`` or :class:`pyqhn.cluster.ClusterSpec`
            to train on (:func:`pyqhn.driver.run_groups`); ``None``: this process.
    """
    out = Path(out)
    if isinstance(client, str):  # 'local:2' …: checked before the folder is made
        from ..cluster import parse_cluster

        client = parse_cluster(client)
    if (out / "summary.json").is_dir():  # refused before any work, not after it
        raise InputError(f"{out / 'summary.json'} is a folder where the summary goes; remove "
                         "it, or use another output folder")
    with RunLog(out, settings, kind=kind) as log:
        t0 = time.perf_counter()
        groups, context = build(out)
        t1 = time.perf_counter()
        table = run_groups(groups, log, progress=progress, time_limit=time_limit,
                           client=client)
        t2 = time.perf_counter()
        done = set(zip(table["group"].astype(str), table["run"].astype(int), strict=True))
        summary = summarise(log, context, out)
        summary.complete = all((g.name, r) in done for g in groups for r in range(g.runs))
        summary.wall_time.update(setup=t1 - t0, runs=t2 - t1, analysis=time.perf_counter() - t2)
        summary.files = ["runlog.json", *(["runs.csv", "history.jsonl", "angles.npz"]
                                          if groups else []), *summary.files]
        write_json(out / "summary.json", summary.to_json())
    return summary
