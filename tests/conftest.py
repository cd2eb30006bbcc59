"""Shared fixtures: the original authors' reference artifacts, skipped when absent."""

from __future__ import annotations

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
