"""Write ``julia/test/fixtures.toml``: energies from pyqhn's Python engines that the Julia
package's tests (``julia/test/runtests.jl``) must reproduce.

Each case is a circuit (``n``, ``blocks``, ``entangling``), angles
``random_params(circuit, seed=seed)`` (flat layout), a cost table
``numpy.random.default_rng(cost_seed).random(2**n)`` and a noise model
(``lambda1``, ``lambda2``, ``cx_channel``; zeros for noise-free), with the energy of the
exact engine (noise-free) or the density engine (noisy). ``tests/test_julia_engine.py``
recomputes every case, so the file cannot go stale: rerun this script after a deliberate
change of conventions::

    PYTHONPATH=. python3 scripts/write_julia_fixtures.py
"""

from __future__ import annotations

from pathlib import Path

import numpy as np

from pyqhn.circuits import Circuit, random_params, site_major_from_flat
from pyqhn.engines import get_engine
from pyqhn.noise import NoiseModel

FIXTURE = Path(__file__).resolve().parents[1] / "julia" / "test" / "fixtures.toml"

#: (n, blocks, entangling, seed, cost_seed, noise strength p, cx_channel)
CASES = (
    (1, 1, True, 0, 10, 0.0, "two-qubit"),
    (3, 1, False, 1, 11, 0.0, "two-qubit"),
    (4, 2, True, 2, 12, 0.0, "two-qubit"),
    (5, 3, True, 3, 13, 0.0, "two-qubit"),
    (4, 2, True, 4, 14, 1.0, "two-qubit"),
    (4, 3, True, 5, 15, 40.0, "two-qubit"),
    (5, 2, True, 6, 16, 40.0, "one-qubit"),
)


def fixture_case(n: int, blocks: int, entangling: bool, seed: int, cost_seed: int,
                 p: float, cx_channel: str) -> dict:
    """One case: its inputs, the angles in both layouts, the cost and the energy."""
    circuit = Circuit(n, blocks, entangling)
    theta = random_params(circuit, seed=seed)
    cost = np.random.default_rng(cost_seed).random(2**n)
    noise = NoiseModel.from_strength(p, cx_channel)
    engine = (get_engine("exact") if noise.is_noiseless
              else get_engine("density", noise=noise))
    return dict(n=n, blocks=blocks, entangling=entangling, seed=seed, cost_seed=cost_seed,
                lambda1=noise.lambda1, lambda2=noise.lambda2, cx_channel=cx_channel,
                theta=theta.tolist(),
                theta_site_major=site_major_from_flat(theta, n, blocks).tolist(),
                cost=cost.tolist(), energy=float(engine.energy(circuit, theta, cost)))


def _toml_value(v) -> str:
    if isinstance(v, bool):
        return "true" if v else "false"
    if isinstance(v, (int, float)):
        return repr(v)
    if isinstance(v, str):
        return f'"{v}"'
    return "[" + ", ".join(_toml_value(x) for x in v) + "]"


def render(cases: list[dict]) -> str:
    """The fixture file's text: a header and one ``[[case]]`` table per case."""
    lines = ["# Written by scripts/write_julia_fixtures.py from pyqhn's exact (noise-free) and",
             "# density (noisy) engines; checked against them by tests/test_julia_engine.py.",
             "# theta: flat layout (Ry of blocks 1..B, then Rz); cost: index k, site 1 = bit 0.",
             "format = 1", ""]
    for case in cases:
        lines.append("[[case]]")
        lines += [f"{k} = {_toml_value(v)}" for k, v in case.items()]
        lines.append("")
    return "\n".join(lines)


def main() -> None:
    FIXTURE.write_text(render([fixture_case(*c) for c in CASES]))
    print(f"wrote {FIXTURE}")


if __name__ == "__main__":
    main()
