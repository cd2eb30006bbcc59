"""``pyqhn reproduce fig2 … fig13 | vi | mnist8x8 | all``: one command per experiment.

The commands are built from the experiments registry (:data:`pyqhn.experiments.EXPERIMENTS`):
each registered spec's settings that name an option (:func:`pyqhn.experiments.base.setting`)
become that command's options, so a command offers only the options its experiment has.
A name becomes a spec here, once; below, only the spec travels. Each command writes into
``--out`` its run log (``runs.csv`` …), the figure as PNG and PDF and ``summary.json``.
Defaults are paper-sized; ``--quick`` runs the same pipeline CI-sized. Rerunning into the
same folder resumes; a folder made with other settings is refused (exit 2). A command is
built when it is first asked for, so listing them imports no experiment.
"""

from __future__ import annotations

import dataclasses
import time
import typing
from collections.abc import Callable
from pathlib import Path
from typing import TYPE_CHECKING, Any

import click

from ..experiments import EXPERIMENTS, run
from ..registry import Entry
from .command import Command, CommandGroup
from .options import FiniteFloat, cluster_options, comma_list

if TYPE_CHECKING:
    from ..experiments.base import RunSummary

__all__ = ["reproduce", "echo_summary", "experiment_command"]


def echo_summary(summary: RunSummary, out: str | Path) -> None:
    """Print a :class:`pyqhn.experiments.base.RunSummary`: its report, whether runs are
    left (time limit) and the files written."""
    for line in summary.report:
        click.echo(line)
    if not summary.complete:
        click.echo("time limit reached: not every run is done; run the same command again "
                   "to continue")
    click.echo(f"wrote {', '.join(summary.files)} and summary.json to {out}")


def _minutes(value: float | None) -> float | None:
    return None if value is None else 60.0 * value


def _shown(value: Any) -> str:
    return ",".join(map(str, value)) if isinstance(value, tuple) else str(value)


def _element_type(hint: Any) -> Any:
    """The element type of a tuple field (``tuple[int, ...]`` → ``int``), else ``None``."""
    for h in (hint, *typing.get_args(hint)):
        if typing.get_origin(h) is tuple:
            return typing.get_args(h)[0]
    return None


def _option(f: dataclasses.Field, hint: Any, paper: Any, quick: Any) -> Callable:
    """The click option of spec field ``f``: its type from the field's type and rules, its
    help from the setting plus the registered (paper) and the ``--quick`` value."""
    from ..experiments.base import resolve_choices

    meta = f.metadata
    flag = meta["option"]
    shown = "" if paper is None or paper == () else (
        f" (default {_shown(paper)}" + ("" if quick == paper else f"; --quick {_shown(quick)}")
        + ")")
    help_text = meta["help"] + shown + "."
    choices = resolve_choices(meta.get("choices"))
    element = _element_type(hint)
    if meta.get("all_flag"):  # given: every choice (the callback turns True into them)
        return click.option(flag, f.name, is_flag=True, help=meta["help"] + ".")
    if meta.get("cost_table"):
        return click.option(flag, f.name, default=None,
                            type=click.Path(exists=True, dir_okay=False), help=help_text)
    if element is not None:
        return click.option(flag, f.name, default=None, callback=comma_list(element),
                            help=help_text)
    base = next((h for h in (hint, *typing.get_args(hint)) if h in (int, float, str)), str)
    if base is int:
        kind: Any = click.IntRange(min=meta.get("minimum"), max=meta.get("maximum"))
    elif base is float:
        kind = FiniteFloat(meta.get("minimum"), meta.get("maximum"))
    else:
        kind = click.Choice(list(choices)) if choices is not None else click.STRING
    return click.option(flag, f.name, type=kind, default=None, help=help_text)


def experiment_command(entry: Entry) -> click.Command:
    """The ``pyqhn reproduce NAME`` command of registry entry ``entry``: ``--quick``,
    ``--out``, one option per setting its spec exposes, ``--no-progress``, and
    ``--time-limit`` / ``--cluster`` where the entry trains that way."""
    paper = entry.create()
    quick_spec = paper.quick()
    hints = typing.get_type_hints(type(paper))
    fields = {f.name: f for f in dataclasses.fields(paper)}
    all_flags = [n for n in paper.options() if fields[n].metadata.get("all_flag")]
    tables = [n for n in paper.options() if fields[n].metadata.get("cost_table")]

    def callback(quick: bool, out: str, no_progress: bool, time_limit: float | None = None,
                 cluster: Any = None, **values: Any) -> None:
        from ..experiments.base import resolve_choices

        for name in all_flags:  # a flag that sets every choice (--baselines)
            values[name] = resolve_choices(fields[name].metadata["choices"]) if values[name] \
                else None
        spec = entry.create()
        spec = spec.quick() if quick else spec
        spec = spec.replace(**values)  # None: not given
        for name in tables:  # a bad cost table is a usage error before any work
            if values[name] is not None:
                from .options import load_cost_option

                load_cost_option(values[name], fields[name].metadata["option"])
        summary = run(spec, out, progress=not no_progress, time_limit=_minutes(time_limit),
                      client=cluster)
        echo_summary(summary, out)

    if "cluster" in entry.capabilities:
        callback = cluster_options(callback)
    options = [click.option("--quick", is_flag=True, help="CI-sized run (minutes on 2 cores)."),
               click.option("--out", required=True, type=click.Path(file_okay=False),
                            help="Output folder (created; rerun to resume).")]
    options += [_option(fields[n], hints[n], getattr(paper, n), getattr(quick_spec, n))
                for n in paper.options()]
    options.append(click.option("--no-progress", is_flag=True, help="Hide progress bars."))
    if "time-limit" in entry.capabilities:
        options.append(click.option(
            "--time-limit", type=click.FloatRange(min=0, min_open=True), default=None,
            metavar="MINUTES", help="Start no new batch of runs after this many minutes; "
                                    "rerun the same command to continue."))
    for option in reversed(options):
        callback = option(callback)
    return click.command(entry.name, cls=Command, help=entry.doc,
                         short_help=_short_doc(entry))(callback)


def _short_doc(entry: Entry) -> str:
    """The doc without its ``"Fig. 2: "`` prefix, for the command list."""
    return entry.doc.split(": ", 1)[-1]


class ExperimentGroup(CommandGroup):
    """``pyqhn reproduce``: one command per registered experiment (built on first use),
    plus ``all``."""

    def list_commands(self, ctx: click.Context) -> list[str]:
        return [*EXPERIMENTS, *(n for n in super().list_commands(ctx) if n not in EXPERIMENTS)]

    def format_commands(self, ctx: click.Context, formatter: click.HelpFormatter) -> None:
        """The command list from the registry's docs (building no command)."""
        names = self.list_commands(ctx)
        limit = formatter.width - 6 - max(len(n) for n in names)
        rows = []
        for n in names:
            text = (_short_doc(EXPERIMENTS.lookup(n)) if n in EXPERIMENTS
                    else self.commands[n].get_short_help_str(limit))
            rows.append((n, text if len(text) <= limit else text[:limit - 3].rstrip() + "..."))
        with formatter.section("Commands"):
            formatter.write_dl(rows)

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        if name in EXPERIMENTS and name not in self.commands:
            self.add_command(experiment_command(EXPERIMENTS.lookup(name)))
        return super().get_command(ctx, name)


@click.group(cls=ExperimentGroup)
def reproduce() -> None:
    """Reproduce the paper's figures (one command each; --quick for CI-sized runs)."""


@reproduce.command("all", cls=Command, short_help="Figs. 2-7 into OUT/fig2 … OUT/fig7.")
@click.option("--quick", is_flag=True, help="CI-sized run (minutes on 2 cores).")
@click.option("--seed", type=click.IntRange(min=0), default=0, show_default=True,
              help="Run r starts from seed + r.")
@click.option("--out", required=True, type=click.Path(file_okay=False),
              help="Parent folder; each figure goes to OUT/figN.")
@click.option("--no-progress", is_flag=True, help="Hide progress bars.")
@cluster_options
def all_figures(quick: bool, seed: int, out: str, no_progress: bool, cluster: Any) -> None:
    """Every experiment of `pyqhn reproduce all` (Figs. 2-7) one after the other into
    OUT/fig2 … OUT/fig7 (plus OUT/index.json)."""
    from ..runlog import write_json

    index = {}
    for name in EXPERIMENTS.names(having="all"):
        click.echo(f"== {name}")
        t0 = time.perf_counter()
        spec = EXPERIMENTS.create(name)
        spec = spec.quick() if quick else spec
        if "seed" in spec.options():
            spec = spec.replace(seed=seed)
        folder = Path(out) / name
        summary = run(spec, folder, progress=not no_progress,
                      client=cluster if "cluster" in EXPERIMENTS.lookup(name).capabilities
                      else None)
        echo_summary(summary, str(folder))
        index[name] = dict(folder=name, wall_time=time.perf_counter() - t0)
    write_json(Path(out) / "index.json", index)
