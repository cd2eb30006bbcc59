"""Where the optional Julia stack stands, and its installation the way juliacall expects.

The Julia engine (:mod:`pyqhn.engines.julia`) needs four things; :func:`julia_status`
checks them in this order without starting Julia, and its ``reason`` names the first
one missing and what to do:

1. the Julia sources ``julia/src/PyqhnEngine.jl`` (a source checkout of pyqhn);
2. the Python package ``juliacall`` (``pip install 'pyqhn[julia]'``);
3. a Julia 1.10 (``~1.10``; juliacall needs ≥ 1.10.3): the one juliapkg will choose
   (:func:`planned_julia`), on ``PATH``, through juliaup, or downloaded by juliapkg;
4. the Julia packages pyqhn declares in ``pyqhn/juliapkg.json`` (PastaQ, ITensors, Zygote,
   OptimKit, BlackBoxOptim), installed by juliapkg into juliacall's Julia project.

Nothing here sets juliacall's or juliapkg's environment variables: juliapkg finds
``pyqhn/juliapkg.json`` among the installed packages and installs what it lists the first
time juliacall is imported (:func:`install_julia_stack`, ``pyqhn doctor --install``), with
internet access. A user who manages Julia alone sets both ``PYTHON_JULIACALL_EXE`` and
``PYTHON_JULIACALL_PROJECT`` (juliacall ≥ 0.9.28 refuses one without the other); the
project must then hold the packages of ``julia/Project.toml``.

An install that fails (Julia exits with an error while adding the packages, a JuliaError
while loading the module, no Julia to be found or downloaded) raises
:class:`JuliaInstallFailed` with one sentence naming the cause and the log that holds the
full output.
"""

from __future__ import annotations

import contextlib
import functools
import importlib.metadata
import importlib.util
import io
import json
import os
import shutil
import subprocess
import sys
import tempfile
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "JULIAPKG_JSON",
    "JULIA_PROJECT",
    "JULIA_SOURCES",
    "JuliaInstallFailed",
    "JuliaStatus",
    "JuliaUnavailable",
    "PlannedJulia",
    "install_julia_stack",
    "install_log_path",
    "julia_module",
    "julia_packages",
    "julia_status",
    "julia_unavailable_reason",
    "planned_julia",
]

#: The Julia package: Project.toml, src/, test/ (the root Project.toml's environment
#: develops it: ``julia --project=.`` in a checkout, see docs/guide/julia.md).
JULIA_PROJECT = Path(__file__).resolve().parents[2] / "julia"
#: The module the Python engine ``include``s into juliacall's ``Main``.
JULIA_SOURCES = JULIA_PROJECT / "src" / "PyqhnEngine.jl"
#: pyqhn's Julia dependencies, as juliapkg reads them from installed packages.
JULIAPKG_JSON = Path(__file__).resolve().parents[1] / "juliapkg.json"

_INSTALL_HINT = ("run `pyqhn doctor --install` with internet access (juliacall downloads "
                 "what is missing; the first time takes several minutes)")


def julia_packages() -> dict[str, dict[str, str]]:
    """``{name: {"uuid": …, "version": compat}}`` of ``pyqhn/juliapkg.json``."""
    return json.loads(JULIAPKG_JSON.read_text())["packages"]


@dataclass(frozen=True)
class JuliaStatus:
    """What :func:`julia_status` found.

    Attributes:
        reason: ``None`` when the Julia engine can start; else the first thing missing and
            how to get it.
        installable: the missing piece is one that juliacall installs by itself on import
            (a Julia, the Julia packages): the engine then lets it, with internet access.
        juliacall: its version, ``None`` when not installed.
        julia: ``"<version> at <path>"`` of the Julia juliacall will use, if one was found.
        project: juliacall's Julia project (environment), if known.
        sources: the Julia module file, if present.
        notes: further facts for ``pyqhn doctor``.
    """

    reason: str | None
    installable: bool = False
    juliacall: str | None = None
    julia: str | None = None
    project: str | None = None
    sources: Path | None = None
    notes: tuple[str, ...] = field(default_factory=tuple)

    @property
    def ready(self) -> bool:
        """The Julia engine can start without installing anything."""
        return self.reason is None

    def lines(self) -> list[str]:
        """The report ``pyqhn doctor`` prints."""
        packages = ", ".join(f"{k} {v['version']}" for k, v in julia_packages().items())
        out = [
            f"Julia sources     {self.sources or 'missing (' + str(JULIA_SOURCES) + ')'}",
            f"juliacall         {self.juliacall or 'not installed'}",
            f"Julia             {self.julia or 'not found'}",
            f"Julia project     {self.project or 'unknown'}",
            f"Julia packages    {packages} (declared in {JULIAPKG_JSON})",
        ]
        out += [f"note: {n}" for n in self.notes]
        out.append("Julia engine      ready" if self.ready else
                   f"Julia engine      unavailable: {self.reason}")
        return out


def _version(dist: str) -> str | None:
    try:
        return importlib.metadata.version(dist)
    except importlib.metadata.PackageNotFoundError:
        return None


def _user_managed(exe: str, project: str, base: dict) -> JuliaStatus:
    """Both ``PYTHON_JULIACALL_EXE`` and ``PYTHON_JULIACALL_PROJECT`` set: juliapkg is
    bypassed, so check the executable and the project's manifest ourselves."""
    found = shutil.which(exe) or (exe if os.path.isfile(exe) else None)
    if found is None:
        return JuliaStatus(f"PYTHON_JULIACALL_EXE={exe} is not an executable; point it at "
                           "a Julia 1.10 (≥ 1.10.3; or unset both PYTHON_JULIACALL_EXE and "
                           "PYTHON_JULIACALL_PROJECT to let juliacall manage Julia)", **base)
    base = dict(base, julia=f"at {found} (PYTHON_JULIACALL_EXE)", project=project)
    manifests = [Path(project) / n for n in ("JuliaManifest.toml", "Manifest.toml")]
    manifests += sorted(Path(project).glob("Manifest-v*.toml"))
    text = "\n".join(m.read_text() for m in manifests if m.is_file())
    missing = [name for name in [*julia_packages(), "PythonCall"]
               if f"[[deps.{name}]]" not in text and f"[[{name}]]" not in text]
    if missing:
        names = ", ".join(f'"{m}"' for m in missing)
        return JuliaStatus(
            f"the Julia project PYTHON_JULIACALL_PROJECT={project} lacks "
            f"{', '.join(missing)}; add them there (julia --project={project} -e 'using "
            f"Pkg; Pkg.add([{names}])') or unset both PYTHON_JULIACALL_* variables to let "
            "juliacall install them", **base)
    return JuliaStatus(None, **base)


@dataclass(frozen=True)
class PlannedJulia:
    """The Julia juliapkg will use when it next resolves (see :func:`planned_julia`).

    Attributes:
        version: its version (``"1.10.10"``), or the compat bound when the exact release to
            download is not known without the network.
        executable: its path, ``None`` while it is still to be installed.
        source: where it comes from: ``"PYTHON_JULIAPKG_EXE"``, ``"juliapkg's install"``,
            ``"juliaup"``, ``"PATH"``, or ``"download into <folder>"``.
    """

    version: str
    executable: str | None
    source: str

    def describe(self) -> str:
        """``"<version> at <path> (<source>)"``, or how juliapkg will install it."""
        if self.executable is not None:
            return f"{self.version} at {self.executable} ({self.source})"
        how = "with `juliaup add`" if self.source == "juliaup" else f"by a {self.source}"
        return f"{self.version}, not installed yet (juliapkg installs it {how})"


def planned_julia(compat: Any) -> PlannedJulia:
    """The Julia that juliapkg's ``resolve`` will use, without installing anything.

    ``resolve`` calls ``find_julia(compat, prefix, install=True, upgrade=True)``, which
    differs from the ``install=False`` probe: it wants the newest release in ``compat``.
    This follows its steps in order (``find_julia.py``, the same in juliapkg 0.1.21-0.1.28):
    ``PYTHON_JULIAPKG_EXE``; juliapkg's own install, kept only when it is the newest
    compatible release (which takes the list of releases from the internet); with
    juliaup on ``PATH``, the newest compatible release juliaup knows (``juliaup list``),
    added when missing; a ``julia`` on ``PATH`` in ``compat``; else a download of the newest
    compatible release. Offline, juliapkg neither installs nor upgrades: the first
    compatible Julia found is used.

    Args:
        compat: juliapkg's merged Julia compat (a ``juliapkg.compat.Compat``).

    Raises:
        Exception: what juliapkg would raise (no Julia at ``PYTHON_JULIAPKG_EXE``, no
            compatible Julia offline, none known to juliaup).
    """
    from juliapkg import find_julia as fj
    from juliapkg.compat import Compat
    from juliapkg.state import STATE

    prefix = STATE["install"]
    if STATE["offline"]:
        exe, ver = fj.find_julia(compat=compat, prefix=prefix, install=False)
        return PlannedJulia(str(ver), exe, "offline: the first compatible Julia found")
    override = STATE["override_executable"]
    if override:
        ver = fj.julia_version(override)
        if ver is None:
            raise Exception(f"PYTHON_JULIAPKG_EXE={override} is not a Julia executable")
        return PlannedJulia(str(ver), override, "PYTHON_JULIAPKG_EXE")
    own = shutil.which(os.path.join(prefix, "bin", "julia"))
    own_ver = fj.julia_version(own) if own else None
    if own_ver is not None and own_ver in compat:
        try:
            from juliapkg.install_julia import best_julia_version

            newest = best_julia_version(compat)[0]
        except Exception:  # no network: juliapkg's resolve would stop here too
            newest = None
        if newest is None or newest == str(own_ver):
            return PlannedJulia(str(own_ver), own, "juliapkg's install")
    if shutil.which("juliaup"):
        newest = fj.ju_best_julia_version(compat)[0]
        found = fj.ju_find_julia_noinstall(Compat.parse("=" + newest))
        return PlannedJulia(newest, found[0] if found else None, "juliaup")
    on_path = shutil.which("julia")
    path_ver = fj.julia_version(on_path) if on_path else None
    if path_ver is not None and path_ver in compat:
        return PlannedJulia(str(path_ver), on_path, "PATH")
    return PlannedJulia(f"{compat} (its newest release)", None, f"download into {prefix}")


def _juliapkg_managed(base: dict) -> JuliaStatus:
    """The usual case: juliapkg chooses Julia and the project from ``juliapkg.json`` files."""
    from juliapkg import deps  # juliapkg: a dependency of juliacall
    from juliapkg.state import STATE

    base = dict(base, project=STATE["project"])
    with contextlib.redirect_stdout(io.StringIO()):  # juliapkg logs what it scans
        resolved = deps.can_skip_resolve()
    if resolved:
        return JuliaStatus(None, **dict(base, julia=f"{resolved['version']} at "
                                                    f"{resolved['executable']}"))
    offline = bool(STATE["offline"])
    blocked = (" PYTHON_JULIAPKG_OFFLINE is set, which stops juliacall from installing; "
               "unset it" if offline else "")
    with contextlib.redirect_stdout(io.StringIO()):
        compat, _ = deps.find_requirements()
        try:
            planned = planned_julia(compat)
        except Exception as err:  # juliapkg raises a bare Exception when none is found
            return JuliaStatus(
                f"no Julia {compat} can be used: {err}; install Julia 1.10 yourself (e.g. "
                f"`juliaup add 1.10`) or {_INSTALL_HINT}.{blocked}",
                installable=not offline, **base)
    if planned.executable is None:
        return JuliaStatus(
            f"Julia is not installed: juliapkg will use Julia {planned.describe()}; "
            f"{_INSTALL_HINT}, or install Julia {compat} yourself (e.g. with juliaup)."
            f"{blocked}", installable=not offline, **dict(base, julia=planned.describe()))
    return JuliaStatus(
        f"the Julia packages are not installed: Julia {planned.version} is at "
        f"{planned.executable}, but juliacall's project {STATE['project']} does not hold the "
        f"packages of {JULIAPKG_JSON} (or that file changed since they were installed); "
        f"{_INSTALL_HINT}.{blocked}",
        installable=not offline, **dict(base, julia=planned.describe()))


@functools.lru_cache(maxsize=1)
def julia_status() -> JuliaStatus:
    """Check, without starting Julia, whether the Julia engine can run (cached; an
    install clears the cache). See the module docstring for the order of the checks."""
    sources = JULIA_SOURCES if JULIA_SOURCES.is_file() else None
    if sources is None:
        return JuliaStatus(f"the Julia sources {JULIA_SOURCES} are not part of this "
                           "installation; install pyqhn from a source checkout "
                           "(pip install -e '.[julia]')")
    if importlib.util.find_spec("juliacall") is None:
        return JuliaStatus("juliacall is not installed (pip install 'pyqhn[julia]')",
                           sources=sources)
    base = dict(juliacall=_version("juliacall") or "installed", sources=sources)
    exe, project = (os.environ.get("PYTHON_JULIACALL_EXE"),
                    os.environ.get("PYTHON_JULIACALL_PROJECT"))
    if bool(exe) != bool(project):
        have, lack = (("PYTHON_JULIACALL_EXE", "PYTHON_JULIACALL_PROJECT") if exe else
                      ("PYTHON_JULIACALL_PROJECT", "PYTHON_JULIACALL_EXE"))
        return JuliaStatus(f"{have} is set without {lack}; juliacall (≥ 0.9.28) refuses to "
                           "start: set both (your Julia and a project holding the packages "
                           f"of {JULIA_PROJECT / 'Project.toml'}) or unset {have}", **base)
    if exe and project:
        return _user_managed(exe, project, base)
    try:
        return _juliapkg_managed(base)
    except Exception as err:  # juliapkg internals changed, unreadable files …
        return JuliaStatus(f"could not query juliapkg ({type(err).__name__}: {err}); "
                           f"{_INSTALL_HINT}", installable=True, **base)


def julia_unavailable_reason() -> str | None:
    """``None`` when the Julia engine can start now, else why not (see :func:`julia_status`)."""
    return julia_status().reason


class JuliaInstallFailed(RuntimeError):
    """An install was tried and failed; the message is one sentence with the cause and the
    log holding the full output."""


def install_log_path(status: JuliaStatus) -> Path:
    """Where :func:`install_julia_stack` writes the install's output: beside juliacall's
    Julia project when it is known, else in the temporary folder."""
    folder = Path(status.project) if status.project else Path(tempfile.gettempdir())
    return folder / "pyqhn-install.log"


@contextlib.contextmanager
def _output_to(log: Path) -> Iterator[None]:
    """Send Python's ``sys.stdout``/``sys.stderr`` and the file descriptors 1 and 2 (which
    juliapkg's Julia subprocess and Julia inside this process write to) to ``log``."""
    log.parent.mkdir(parents=True, exist_ok=True)
    with open(log, "w", encoding="utf-8", buffering=1) as fh:  # lines in order with fds
        for stream in (sys.stdout, sys.stderr, sys.__stdout__, sys.__stderr__):
            if stream is not None:
                stream.flush()
        saved = []
        try:
            for fd in (1, 2):
                saved.append((fd, os.dup(fd)))
                os.dup2(fh.fileno(), fd)
        except OSError:  # no such descriptor (embedded interpreters): Python streams only
            pass
        try:
            with contextlib.redirect_stdout(fh), contextlib.redirect_stderr(fh):
                yield
        finally:
            fh.flush()
            for fd, copy in saved:
                os.dup2(copy, fd)
                os.close(copy)


def _first_line(text: str) -> str:
    lines = [line.strip() for line in text.strip().splitlines() if line.strip()]
    return lines[0].rstrip(".") if lines else "no message"


def _cause(err: BaseException) -> str:
    """One clause naming what failed during an install."""
    if isinstance(err, subprocess.CalledProcessError):
        args = [err.cmd] if isinstance(err.cmd, str) else [str(a) for a in err.cmd]
        shown = [args[0], *(a for a in args[1:] if a.startswith("--project="))]
        return f"`{' '.join(shown)} …` exited with status {err.returncode}"
    try:
        message = _first_line(str(err))
    except Exception:  # a JuliaError's str() asks Julia, which may be unusable now
        message = repr(err.args[0]) if err.args else "no message"
    if type(err).__name__ == "JuliaError":  # juliacall.JuliaError: raised by Julia code
        return f"Julia raised {message}"
    return f"{type(err).__name__}: {message}"


def install_julia_stack(log: Path | None = None) -> JuliaStatus:
    """Let juliacall install what is missing (a Julia, the packages of ``juliapkg.json``;
    needs internet) and load the engine's module once, then report.

    Args:
        log: file receiving the install's output (default :func:`install_log_path`).

    Raises:
        RuntimeError: when the status says no install can help (no juliacall, no sources,
            a half-set ``PYTHON_JULIACALL_*`` pair).
        JuliaInstallFailed: the install failed: Julia exited with an error while juliapkg
            installed the packages (``subprocess.CalledProcessError``: juliapkg runs it with
            ``check=True``), loading the module raised a ``juliacall.JuliaError``, or
            juliapkg found no Julia to use or download; the message names the cause and
            ``log``.
    """
    status = julia_status()
    if not status.ready and not status.installable:
        raise RuntimeError(f"cannot install the Julia stack: {status.reason}")
    log = install_log_path(status) if log is None else log
    julia_status.cache_clear()
    try:
        with _output_to(log):
            try:
                julia_module()
            except subprocess.CalledProcessError as err:  # what it captured goes to the log
                for text in (err.stdout, err.stderr):
                    if text:
                        print(text.decode(errors="replace") if isinstance(text, bytes)
                              else text, file=sys.stderr)
                raise
    except Exception as err:  # whatever juliapkg, Julia or juliacall raise: one sentence
        raise JuliaInstallFailed(f"the Julia install failed: {_cause(err)} (the full output "
                                 f"is in {log})") from err
    finally:
        julia_status.cache_clear()
    return julia_status()


class JuliaUnavailable(RuntimeError):
    """The Julia stack cannot start here; the message says why and what to do."""


@functools.lru_cache(maxsize=1)
def julia_module() -> Any:
    """The Julia module ``PyqhnEngine``, loaded into juliacall's ``Main`` on first call.

    Importing juliacall resolves pyqhn's ``juliapkg.json`` (downloading Julia and the
    packages when missing, which needs internet); nothing here overrides juliacall's
    settings. Raises :class:`JuliaUnavailable` when no install can help.
    """
    status = julia_status()
    if not status.ready and not status.installable:
        raise JuliaUnavailable(f"the Julia engine is unavailable: {status.reason}")
    from juliacall import Main as jl  # noqa: N813

    jl.include(str(JULIA_SOURCES))
    return jl.PyqhnEngine
