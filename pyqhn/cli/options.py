"""Option types shared by the commands: every value is checked before any work starts."""

from __future__ import annotations

import functools
import math
import os
from collections.abc import Callable
from pathlib import Path
from typing import Any

import click

__all__ = ["FiniteFloat", "check_blocks", "cluster_options", "comma_list", "parse_pair",
           "check_output_file", "load_cost_option", "require_julia", "problem_choice",
           "problem_help", "problem_settings"]


class FiniteFloat(click.ParamType):
    """A finite float (no NaN, no infinity) in ``[low, high]`` (``low_open``: ``> low``)."""

    name = "number"

    def __init__(self, low: float | None = None, high: float | None = None, *,
                 low_open: bool = False, hint: str = ""):
        self.low, self.high, self.low_open, self.hint = low, high, low_open, hint

    def convert(self, value: Any, param: click.Parameter | None, ctx: click.Context | None):
        try:
            x = float(value)
        except (TypeError, ValueError):
            self.fail(f"{value!r} is not a number", param, ctx)
        bad = not math.isfinite(x)
        bad |= self.low is not None and (x <= self.low if self.low_open else x < self.low)
        bad |= self.high is not None and x > self.high
        if bad:
            lo = "" if self.low is None else f"{'>' if self.low_open else '>='} {self.low:g}"
            hi = "" if self.high is None else f"<= {self.high:g}"
            rng = " and ".join(p for p in (lo, hi) if p) or "finite"
            self.fail(f"{value} is not a finite number {rng}{self.hint}", param, ctx)
        return x


def check_blocks(ctx: click.Context, param: click.Parameter, value: tuple[int, ...]):
    """``--blocks``: positive and each given once (0 blocks is ``--product``)."""
    for b in value:
        if b < 1:
            raise click.BadParameter(f"{b} blocks is no brickwork circuit; use --product for "
                                     "the product state and B >= 1 otherwise", ctx, param)
    dup = sorted({b for b in value if value.count(b) > 1})
    if dup:
        raise click.BadParameter(f"{', '.join(map(str, dup))} given twice; name each circuit "
                                 "once", ctx, param)
    return value


def parse_pair(ctx: click.Context, param: click.Parameter, value: str | None):
    """``'lo,hi'`` → two distinct finite floats (``None`` stays ``None``)."""
    if value is None:
        return None
    try:
        lo, hi = (float(v) for v in value.split(","))
    except ValueError:
        raise click.BadParameter(f"give two numbers 'lo,hi' such as '-1,1', got {value!r}",
                                 ctx, param) from None
    if not (math.isfinite(lo) and math.isfinite(hi)) or lo == hi:
        raise click.BadParameter(f"need two different finite numbers, got {value!r}", ctx,
                                 param)
    return lo, hi


def comma_list(kind: type) -> Callable:
    """A click callback: ``'a,b'`` → a tuple of ``kind`` values (``None`` stays ``None``);
    what the values must be is the spec's to check."""

    def parse(ctx: click.Context, param: click.Parameter, value: str | None):
        if value is None:
            return None
        try:
            return tuple(kind(v) for v in value.replace(" ", "").split(",") if v)
        except ValueError:
            raise click.BadParameter(f"give a comma list of {kind.__name__} values such as "
                                     f"{'2,4' if kind is int else '-1,1'}, got {value!r}",
                                     ctx, param) from None

    return parse


def check_output_file(path: str, option: str, suffixes: list[str]) -> Path:
    """Refuse, before any work, an output file with an unknown suffix or in a folder that
    cannot be written."""
    p = Path(path)
    if p.suffix.lstrip(".").lower() not in suffixes:
        raise click.BadParameter(
            f"{path}: unknown file type {p.suffix or '(none)'!r}; use one of "
            f"{', '.join('.' + s for s in suffixes)}", param_hint=option)
    folder = p.parent if str(p.parent) else Path(".")
    if p.is_dir():
        raise click.BadParameter(f"{path} is a folder; give a file name", param_hint=option)
    try:
        folder.mkdir(parents=True, exist_ok=True)
    except OSError as err:
        raise click.BadParameter(f"cannot create the folder {folder} ({err.strerror})",
                                 param_hint=option) from err
    if not os.access(folder, os.W_OK) or (p.exists() and not os.access(p, os.W_OK)):
        raise click.BadParameter(f"cannot write {path}; choose a writable location",
                                 param_hint=option)
    return p


def load_cost_option(path: str, option: str = "--cost"):
    """A cost table from a file, any problem with it a usage error naming the option."""
    import zipfile

    from ..cost import load_cost

    try:
        cost, _ = load_cost(path)
    except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
        text = str(err)  # the cost module's messages name the file already
        raise click.BadParameter(text if str(path) in text else f"{path}: {text}",
                                 param_hint=option) from err
    return cost


def require_julia(what: str) -> None:
    """Refuse, before any work, an option that needs the Julia stack when it cannot start
    here (:func:`pyqhn.engines.julia_setup.julia_status`); a stack that juliacall can
    install on first use passes."""
    import importlib.util

    from ..checks import Fault, MissingExtra
    from ..engines.julia_setup import julia_status

    status = julia_status()
    if status.ready or status.installable:
        return
    if importlib.util.find_spec("juliacall") is None:
        raise MissingExtra(f'{what} needs the julia extra (juliacall is not installed): pip '
                           'install "pyqhn[julia]", then run `pyqhn doctor --install`')
    raise Fault(f"{what}: the Julia engine is unavailable: {status.reason}")


def cluster_options(f: Callable) -> Callable:
    """``--cluster`` and ``--cluster-config``: the command receives ``cluster``, a
    :class:`pyqhn.cluster.ClusterSpec` (checked here, before any work) or ``None``."""

    @functools.wraps(f)
    def wrapper(*args: Any, cluster_text: str | None = None,
                cluster_config: str | None = None, **kwargs: Any) -> Any:
        from ..checks import InputError

        spec = None
        if cluster_text is not None:
            from ..cluster import parse_cluster

            spec = parse_cluster(cluster_text, cluster_config)
        elif cluster_config is not None:
            raise InputError("--cluster-config configures --cluster slurm or pbs; give one")
        return f(*args, cluster=spec, **kwargs)

    wrapper = click.option(
        "--cluster-config", "cluster_config", default=None, metavar="FILE",
        type=click.Path(exists=True, dir_okay=False),
        help="Dask config (YAML) for --cluster slurm/pbs, e.g. 'jobqueue: {slurm: "
             "{cores: 8, memory: 32GB, walltime: \"04:00:00\"}}' (default: "
             "~/.config/dask/jobqueue.yaml).")(wrapper)
    return click.option(
        "--cluster", "cluster_text", default=None, metavar="SPEC",
        help="Train on a Dask cluster: local:N (N worker processes here), tcp://HOST:PORT "
             "(a running scheduler), slurm[:JOBS] or pbs[:JOBS] (dask-jobqueue). "
             "Default: in this process.")(wrapper)


def problem_choice(names: tuple[str, ...] | None = None,
                   aliases: dict[str, str] | None = None) -> click.Choice:
    """``--problem`` choices: the names of :data:`pyqhn.problems.PROBLEMS` (or the
    registered ``names`` given), then ``aliases`` (other spellings of registered names)."""
    from ..problems import PROBLEMS

    names = tuple(PROBLEMS) if names is None else names
    for name in (*names, *(aliases or {}).values()):
        PROBLEMS.lookup(name)  # a programming error if not registered
    return click.Choice([*names, *(aliases or {})])


def problem_help(lead: str, names: tuple[str, ...] | None = None) -> str:
    """``--problem`` help: ``lead``, then each problem's one line from the registry."""
    from ..problems import PROBLEMS

    return f"{lead} {PROBLEMS.help(names)}."


def problem_settings(problem: str, given: dict[str, tuple[str, Any]]) -> dict[str, Any]:
    """The factory options of registered ``problem`` from command-line options, given as
    ``{"--digits": ("digits", value)}`` (``None``: not given). A given option the problem's
    factory does not take is a usage error naming the options it takes."""
    from ..problems import PROBLEMS

    takes = PROBLEMS.lookup(problem).capabilities
    for option, (param, value) in given.items():
        if value is not None and param not in takes:
            usable = [o for o, (p, _) in given.items() if p in takes]
            raise click.BadParameter(
                f"{option} does not apply to --problem {problem}; it takes "
                f"{', '.join(usable) or 'none of these options'}", param_hint=option)
    return {param: value for param, value in given.values() if value is not None}
