"""Shared fixtures: the original authors' reference artifacts, skipped when absent."""

from __future__ import annotations

import sys
from pathlib import Path

import numpy as np
import pytest

REFERENCE = Path(__file__).resolve().parents[1].parent / "shared" / "reference"


def pytest_addoption(parser):
    parser.addoption("--paper", action="store_true", help="run paper-sized tests")


def pytest_collection_modifyitems(config, items):
    if config.getoption("--paper"):
        return
    skip = pytest.mark.skip(reason="paper-sized run: enable with --paper")
    for item in items:
        if "paper" in item.keywords:
            item.add_marker(skip)


@pytest.fixture(scope="session")
def reference_mnist():
    """``cost`` (2**17,), ``theta`` (10, 136), ``energy`` (10,) of the original 4-block runs."""
    path = REFERENCE / "binncode_mnist4x4_blocks4.npz"
    if not path.exists():
        pytest.skip(f"reference artifacts not found at {path} (needs ../shared/reference)")
    with np.load(path) as f:
        return {k: f[k] for k in f}


@pytest.fixture(scope="session")
def executed_notebook(tmp_path_factory):
    """``run(path) -> executed copy``: a notebook of ``examples/`` executed top to bottom in
    a fresh kernel (nbclient), once a session, in a scratch folder, with this checkout
    first on ``PYTHONPATH``. ``run.out_dir`` holds the executed copies (the docs build
    renders them)."""
    import os

    out_dir = tmp_path_factory.mktemp("notebooks")
    done: dict[str, Path] = {}
    root = str(Path(__file__).resolve().parents[1])

    def run(path: Path) -> Path:
        if path.name in done:
            return done[path.name]
        import nbformat
        from nbclient import NotebookClient

        notebook = nbformat.read(path, as_version=4)
        work = out_dir / f"{path.stem}.work"
        work.mkdir(exist_ok=True)
        env_path = os.environ.get("PYTHONPATH", "")
        os.environ["PYTHONPATH"] = root + (os.pathsep + env_path if env_path else "")
        try:
            NotebookClient(notebook, timeout=600, kernel_name="python3",
                           resources={"metadata": {"path": str(work)}}).execute()
        finally:
            os.environ["PYTHONPATH"] = env_path
        done[path.name] = out_dir / path.name
        nbformat.write(notebook, done[path.name])
        return done[path.name]

    run.out_dir = out_dir
    return run


@pytest.fixture
def hide_modules(monkeypatch):
    """``hide_modules("dask", ...)``: make ``import dask`` (and its submodules) fail, as if
    the extra that brings it were not installed, for the rest of the test."""

    def hide(*modules: str) -> None:
        for name in list(sys.modules):
            if any(name == m or name.startswith(m + ".") for m in modules):
                monkeypatch.delitem(sys.modules, name)
        for m in modules:
            monkeypatch.setitem(sys.modules, m, None)

    return hide


@pytest.fixture
def evaluate_only_groups():
    """``make(runs, seed) -> [Group]``: one group ``"g"`` of ``runs`` evaluate-only runs
    (one batch each) of a 3-qubit, one-block brickwork circuit on a random cost table
    drawn from ``seed`` — the cheapest sweep for the driver and cluster tests."""
    from pyqhn.circuits import brickwork_circuit
    from pyqhn.driver import Group
    from pyqhn.engines import get_engine
    from pyqhn.objectives import energy_objective
    from pyqhn.optimizers import evaluate_only

    def make(runs: int, seed: int) -> list:
        n = 3
        cost = np.random.default_rng(seed).random(2**n)
        c = brickwork_circuit(n, 1)
        return [Group("g", c, energy_objective(get_engine("exact"), c, cost, gradient=False),
                      evaluate_only(), runs, batch_size=1)]

    return make
