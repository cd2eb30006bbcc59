"""MkDocs hooks: the tutorials are the notebooks of ``examples/``.

Every ``examples/*.ipynb`` becomes the page ``tutorials/<name>/`` and an entry of the
"Tutorials" section of the navigation (in :data:`ORDER`, then by name), titled by the
notebook's first heading. mkdocs-jupyter executes them while the site builds
(``PYQHN_DOCS_EXECUTE=false`` renders them as stored). ``PYQHN_DOCS_NOTEBOOKS=DIR`` takes
them from ``DIR`` instead: ``tests/test_docs.py`` executes each notebook once and builds
the site from the executed copies.
"""

from __future__ import annotations

import json
import os
from pathlib import Path

from mkdocs.plugins import CombinedEvent, event_priority
from mkdocs.structure.files import File, Files

ROOT = Path(__file__).resolve().parents[1]
#: Tutorials shown first, in this order; any other notebook follows by name.
ORDER = ("fig2_pipeline", "own_data", "qiskit_sampling")


def notebooks() -> list[Path]:
    """The notebooks that become tutorial pages, in navigation order."""
    folder = Path(os.environ.get("PYQHN_DOCS_NOTEBOOKS") or ROOT / "examples")
    found = folder.glob("*.ipynb")
    return sorted(found, key=lambda p: (ORDER.index(p.stem) if p.stem in ORDER else len(ORDER),
                                        p.stem))


def title(path: Path) -> str:
    """The first Markdown heading of a notebook (its file name if it has none)."""
    for cell in json.loads(path.read_text(encoding="utf-8"))["cells"]:
        if cell["cell_type"] == "markdown":
            for line in "".join(cell["source"]).splitlines():
                if line.startswith("#"):
                    return line.lstrip("#").strip()
    return path.stem


def on_config(config):
    for item in config["nav"]:
        if isinstance(item, dict) and "Tutorials" in item:
            item["Tutorials"] = [*item["Tutorials"],
                                 *({title(p): f"tutorials/{p.name}"} for p in notebooks())]
    return config


@event_priority(50)  # before mkdocs-jupyter turns .ipynb files into pages
def _add_notebooks(files: Files, config) -> Files:
    for path in notebooks():
        files.append(File.generated(config, f"tutorials/{path.name}", abs_src_path=str(path)))
    return files


@event_priority(-50)  # after mkdocs-jupyter: its page wrapper must read the notebook too
def _point_wrappers_at_notebooks(files: Files, config) -> Files:
    sources = {f"tutorials/{path.name}": str(path) for path in notebooks()}
    for file in files:
        if file.src_uri in sources:
            file.abs_src_path = sources[file.src_uri]
    return files


on_files = CombinedEvent(_add_notebooks, _point_wrappers_at_notebooks)
