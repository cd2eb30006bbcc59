"""The documentation: the site builds with ``mkdocs build --strict`` from the executed
tutorial notebooks (``examples/*.ipynb``, executed once a session with
``tests/test_examples.py``; a broken link or cross-reference, an unknown docstring
parameter or a page missing from the navigation fails it), every public module is in the
API reference, and every public name has a docstring."""

from __future__ import annotations

import importlib
import inspect
import os
import pkgutil
import re
import subprocess
import sys
from pathlib import Path

import pyqhn

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = sorted((ROOT / "examples").glob("*.ipynb"))
API_PAGES = sorted((ROOT / "docs" / "api").glob("*.md"))
#: Modules that are not part of the Python API (the command line is documented in the guide).
NOT_API = ("pyqhn.__main__", "pyqhn.cli")


def public_modules() -> list[str]:
    """Every importable pyqhn module whose name has no leading underscore, less :data:`NOT_API`."""
    names = ["pyqhn"]
    for info in pkgutil.walk_packages(pyqhn.__path__, "pyqhn."):
        parts = info.name.split(".")
        if any(p.startswith("_") for p in parts) or info.name.startswith(NOT_API):
            continue
        names.append(info.name)
    return names


def test_docs_build_strict(executed_notebook, tmp_path):
    """``mkdocs build --strict`` from the executed notebooks (each runs once a session,
    shared with ``tests/test_examples.py``)."""
    for path in NOTEBOOKS:
        executed_notebook(path)
    site = tmp_path / "site"
    env = {**os.environ, "PYQHN_DOCS_NOTEBOOKS": str(executed_notebook.out_dir),
           "PYQHN_DOCS_EXECUTE": "false", "NO_MKDOCS_2_WARNING": "1",
           "PYTHONPATH": os.pathsep.join([str(ROOT), os.environ.get("PYTHONPATH", "")])}
    proc = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "-d", str(site)],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)
    problems = [line for line in proc.stderr.splitlines() if line.startswith(("WARNING",
                                                                               "ERROR"))]
    assert proc.returncode == 0, "\n".join(problems) or proc.stderr[-3000:]
    # the API reference is generated from the docstrings
    problems_page = (site / "api" / "problems" / "index.html").read_text()
    assert 'id="pyqhn.pipeline.Problem"' in problems_page
    # the tutorials are there with their outputs
    for path in NOTEBOOKS:
        page = site / "tutorials" / path.stem / "index.html"
        assert page.exists(), page
    fig2 = (site / "tutorials" / "fig2_pipeline" / "index.html").read_text()
    assert "C* = 0.0" in fig2 and "data:image/png;base64" in fig2


def test_every_public_module_is_in_the_api_reference():
    shown = {m for page in API_PAGES
             for m in re.findall(r"^::: *([\w.]+)", page.read_text(), re.M)}
    missing = sorted(set(public_modules()) - shown)
    assert not missing, f"add these modules to a page of docs/api/: {missing}"
    unknown = sorted(shown - set(public_modules()))
    assert not unknown, f"docs/api/ names modules that do not exist: {unknown}"


def _undocumented(module_name: str) -> list[str]:
    """Public functions, classes, methods and properties of a module without a docstring
    (inherited docstrings count, as ``inspect.getdoc`` reads them)."""
    module = importlib.import_module(module_name)
    missing = [] if inspect.getdoc(module) else [module_name]
    for name in getattr(module, "__all__", []):
        obj = getattr(module, name, None)
        if not (inspect.isclass(obj) or inspect.isfunction(obj)):
            continue
        if getattr(obj, "__module__", None) != module_name:
            continue  # re-exported: checked where it is defined
        if not inspect.getdoc(obj):
            missing.append(f"{module_name}.{name}")
        if inspect.isclass(obj):
            for attr, value in vars(obj).items():
                if attr.startswith("_"):
                    continue
                if isinstance(value, (property, staticmethod, classmethod)) or inspect.isfunction(
                        value):
                    if not inspect.getdoc(getattr(obj, attr, value)):
                        missing.append(f"{module_name}.{name}.{attr}")
    return missing


def test_every_public_name_has_a_docstring():
    missing = [name for module in public_modules() for name in _undocumented(module)]
    assert not missing, "no docstring: " + ", ".join(missing)


def test_the_docstring_check_can_fail(tmp_path, monkeypatch):
    (tmp_path / "undocumented_example.py").write_text(
        '"""A module."""\n__all__ = ["f", "K"]\ndef f(x):\n    return x\n'
        'class K:\n    """A class."""\n    def method(self):\n        return 1\n')
    monkeypatch.syspath_prepend(str(tmp_path))
    assert _undocumented("undocumented_example") == [
        "undocumented_example.f", "undocumented_example.K.method"]


def test_getting_started_shows_the_tested_quick_start():
    """The site's quick start is the README's, which tests/test_quickstart.py runs."""
    def quick_start(path: Path) -> str:
        section = path.read_text().split("## Quick start", 1)[1].split("\n## ", 1)[0]
        return re.search(r"```python\n(.*?)```", section, re.S).group(1)

    assert quick_start(ROOT / "docs" / "getting-started.md") == quick_start(ROOT / "README.md")
