"""The notebooks in examples/ (the site's tutorials) run from top to bottom (nbclient, a
fresh kernel) and print what they are about."""

from __future__ import annotations

from pathlib import Path

import pytest

EXAMPLES = Path(__file__).resolve().parents[1] / "examples"
#: What each notebook must print (a notebook not listed only has to run without error).
PRINTS = {
    "own_data.ipynb": ["65 qubits (sampled", "6 qubits (exact)"],
    "fig2_pipeline.ipynb": ["C* = 0.0", "training accuracy of the optimal BiNN"],
    "qiskit_sampling.ipynb": ["max |difference| =", "most frequent BiNN"],
}


def test_the_tutorials_are_there():
    assert set(PRINTS) <= {p.name for p in EXAMPLES.glob("*.ipynb")}


@pytest.mark.parametrize("name", sorted(p.name for p in EXAMPLES.glob("*.ipynb")))
def test_example_notebook_runs(name, executed_notebook):
    nbformat = pytest.importorskip("nbformat")
    pytest.importorskip("nbclient")
    nb = nbformat.read(executed_notebook(EXAMPLES / name), as_version=4)
    code = [c for c in nb.cells if c.cell_type == "code"]
    assert code and all(c.get("execution_count") for c in code)  # every cell ran
    outputs = [o for c in code for o in c.get("outputs", [])]
    assert not [o for o in outputs if o.get("output_type") == "error"]
    text = "".join(o.get("text", "") for o in outputs)
    for expected in PRINTS.get(name, []):
        assert expected in text, f"{name} does not print {expected!r}"
