"""Where the optional Julia stack stands, and its installation the way juliacall expects.

The Julia engine (:mod:`pyqhn.engines.julia`) needs four things; :func:`julia_status`
checks them in this order without starting Julia, and its ``reason`` names the first
one missing and what to do:

1. the Julia sources ``julia/src/PyqhnEngine.jl`` (a source checkout of pyqhn);
2. the Python package ``juliacall`` (``pip install 'pyqhn[julia]'``);
3. a Julia (≥ 1.10): on ``PATH``, through juliaup, or downloaded by juliacall itself;
4. the Julia packages pyqhn declares in ``pyqhn/juliapkg.json`` (PastaQ, ITensors, Zygote,
   OptimKit, BlackBoxOptim), installed by juliapkg into juliacall's Julia project.

Nothing here sets juliacall's or juliapkg's environment variables: juliapkg finds
``pyqhn/juliapkg.json`` among the installed packages and installs what it lists the first
time juliacall is imported (:func:`install_julia_stack`, ``pyqhn doctor --install``), with
internet access. A user who manages Julia alone sets both ``PYTHON_JULIACALL_EXE`` and
``PYTHON_JULIACALL_PROJECT`` (juliacall ≥ 0.9.28 refuses one without the other); the
project must then hold the packages of ``julia/Project.toml``.
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
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

__all__ = [
    "JULIAPKG_JSON",
    "JULIA_PROJECT",
    "JULIA_SOURCES",
    "JuliaStatus",
    "JuliaUnavailable",
    "install_julia_stack",
    "julia_module",
    "julia_packages",
    "julia_status",
    "julia_unavailable_reason",
]

#: The Julia package (``] dev`` it from the REPL): Project.toml, src/, test/.
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
                           "a Julia ≥ 1.10 (or unset both PYTHON_JULIACALL_EXE and "
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
    from juliapkg.find_julia import find_julia

    offline = bool(STATE["offline"])
    with contextlib.redirect_stdout(io.StringIO()):
        compat, _ = deps.find_requirements()
        try:
            exe, ver = find_julia(compat=compat, prefix=STATE["install"], install=False)
        except Exception:  # juliapkg raises a bare Exception when none is found
            exe = ver = None
    blocked = (" PYTHON_JULIAPKG_OFFLINE is set, which stops juliacall from installing; "
               "unset it" if offline else "")
    if exe is None:
        return JuliaStatus(
            f"Julia is not installed (no Julia {compat} on PATH, through juliaup or in "
            f"juliapkg's {STATE['install']}); {_INSTALL_HINT}, or install Julia ≥ 1.10 "
            f"yourself (e.g. with juliaup).{blocked}", installable=not offline, **base)
    return JuliaStatus(
        f"the Julia packages are not installed: Julia {ver} is at {exe}, but juliacall's "
        f"project {STATE['project']} does not hold the packages of {JULIAPKG_JSON} (or that "
        f"file changed since they were installed); {_INSTALL_HINT}.{blocked}",
        installable=not offline, **dict(base, julia=f"{ver} at {exe}"))


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


def install_julia_stack() -> JuliaStatus:
    """Let juliacall install what is missing (a Julia, the packages of ``juliapkg.json``;
    needs internet) and load the engine's module once, then report.

    Raises:
        RuntimeError: when the status says no install can help (no juliacall, no sources,
            a half-set ``PYTHON_JULIACALL_*`` pair).
    """
    status = julia_status()
    if not status.ready and not status.installable:
        raise RuntimeError(f"cannot install the Julia stack: {status.reason}")
    julia_status.cache_clear()
    julia_module()
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
