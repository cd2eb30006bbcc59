"""Every registered engine and optimiser works end to end at a tiny size; the command line
offers exactly the registered names; a wrong name is told with the choices."""

from __future__ import annotations

import numpy as np
import pytest
from click.testing import CliRunner

from pyqhn.checks import InputError
from pyqhn.circuits import brickwork_circuit, random_params
from pyqhn.engines import ENGINES, BitSampler, get_engine
from pyqhn.optimizers import OPTIMIZERS, Optimizer, OptimizerOptions
from pyqhn.registry import Registry

N = 3
COST = np.random.default_rng(7).random(2**N)


def _skip_if_unavailable(entry) -> None:
    reason = entry.unavailable_reason()
    if reason is not None:
        pytest.skip(f"{entry.name}: {reason}")


@pytest.mark.parametrize("name", list(ENGINES))
def test_every_engine_gives_the_reference_energies(name):
    entry = ENGINES.lookup(name)
    _skip_if_unavailable(entry)
    circuit = brickwork_circuit(N, 2)
    theta = np.stack([random_params(circuit, seed=s) for s in range(2)])
    engine = get_engine(name)
    assert engine.name == name
    expected = get_engine("reference").energy(circuit, theta, COST)
    e = engine.energy(circuit, theta, COST)
    assert type(e) is np.ndarray and e.shape == (2,)  # NumPy at the interface
    np.testing.assert_allclose(e, expected, rtol=0, atol=1e-10)
    assert ("gradient" in entry.capabilities) == engine.differentiable
    assert ("bit-rows" in entry.capabilities) == isinstance(engine, BitSampler)
    if "noise" in entry.capabilities:
        from pyqhn.noise import NoiseModel

        noisy = get_engine(name, noise=NoiseModel.from_strength(1.0))
        assert float(noisy.energy(circuit, theta[0], COST)) != pytest.approx(expected[0],
                                                                             abs=1e-9)


@pytest.mark.parametrize("name", list(OPTIMIZERS))
def test_every_optimizer_trains_through_the_driver(name):
    from pyqhn.driver import train_multistart
    from pyqhn.sampled_objectives import fidelity_fn

    entry = OPTIMIZERS.lookup(name)
    _skip_if_unavailable(entry)
    circuit = brickwork_circuit(N, 2)
    fidelity = fidelity_fn(get_engine("mps"), circuit) if "fidelity" in entry.capabilities \
        else None
    optimizer = OPTIMIZERS.create(name, OptimizerOptions(max_iter=5, fidelity=fidelity))
    assert isinstance(optimizer, Optimizer) and optimizer.name == name
    assert optimizer.uses_gradient == ("gradient" in entry.capabilities)
    table = train_multistart(COST, [circuit], 2, optimizer=optimizer, progress=False,
                             batch_size=1 if optimizer.one_point_per_call else None)
    assert len(table) == 2 and (table["n_iter"] <= 5).all()
    if name == "evaluate":
        np.testing.assert_array_equal(table["e_final"], table["e_init"])
    else:  # every optimiser reports the best (or a descending) point: never worse
        assert (table["e_final"] <= table["e_init"] + 1e-12).all()
        assert (table["e_final"] < table["e_init"]).any()
    assert (table["e_final"] >= COST.min() - 1e-12).all()


def test_qnspsa_without_fidelity_is_a_usage_error():
    with pytest.raises(InputError, match="fidelities"):
        OPTIMIZERS.create("qnspsa", OptimizerOptions())


def test_unknown_names_list_the_choices():
    with pytest.raises(InputError,
                       match="unknown engine 'gpu'; choose one of exact, density.*--engine"):
        get_engine("gpu")
    with pytest.raises(InputError, match="unknown optimizer 'bfgs'.*lbfgs.*--optimizer"):
        OPTIMIZERS.lookup("bfgs")
    reg: Registry[int] = Registry("thing", "--thing")
    reg.register("one", "builtins:int", "the integer type")
    assert reg.create("one", "3") == 3 and list(reg) == ["one"] and "one" in reg
    with pytest.raises(ValueError, match="twice"):
        reg.register("one", int, "again")


def test_the_command_line_offers_the_registered_names():
    from pyqhn.cli import main

    runner = CliRunner()
    text = runner.invoke(main, ["train", "--help"], terminal_width=200).output
    for name in [*ENGINES, *OPTIMIZERS.names(lacking="fidelity")]:
        assert name in text
    for entry in ENGINES.entries():
        assert entry.doc.split(",")[0][:30] in " ".join(text.split())
    bad = runner.invoke(main, ["train", "--cost", __file__, "--blocks", "2", "--out", "x",
                               "--optimizer", "qnspsa"])
    assert bad.exit_code == 2 and "qnspsa" in bad.output


def test_the_exact_engines_module_functions_return_numpy():
    from pyqhn.engines import exact

    circuit = brickwork_circuit(N, 3)
    theta = random_params(circuit, seed=1)
    outs = [exact.state(circuit, theta), exact.probabilities(circuit, theta),
            exact.energy(circuit, theta, COST), *exact.energy_and_grad(circuit, theta, COST)]
    assert all(type(o) is np.ndarray for o in outs)
    np.testing.assert_allclose(outs[2], get_engine("reference").energy(circuit, theta, COST),
                               atol=1e-12)


def test_names_are_resolved_at_the_edge_and_capabilities_are_flags():
    """Below the CLI no code decides by an engine's or optimiser's name, and only the CLI
    looks up a name that is not a literal (besides the Python conveniences
    ``train_multistart(engine="exact")`` and ``pyqhn.engines.energy(..., engine=)``)."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "pyqhn"
    lookups, name_checks = [], []
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and getattr(node.func, "id", "") == "get_engine" \
                    and node.args and not isinstance(node.args[0], ast.Constant):
                lookups.append(rel)
            if isinstance(node, ast.Compare) and isinstance(node.left, ast.Attribute) \
                    and node.left.attr == "name" and isinstance(node.left.value, ast.Attribute) \
                    and node.left.value.attr in ("optimizer", "engine"):
                name_checks.append(rel)
    assert name_checks == []
    assert sorted(set(lookups)) == ["cli/circuit_commands.py", "driver.py",
                                    "engines/__init__.py"]


def test_registry_lookups_of_computed_names_happen_only_where_listed():
    """A name from the command line becomes an object at the CLI edge. Below it a registry
    is asked for a computed (non-literal) name only in the places listed here, each for a
    reason: ``get_engine``/``problem_options`` are the registries' own helpers, and an
    experiment's spec names its problem as plain data (checked against the registry when
    the spec is made, recorded in the run log) that its builder turns into the Problem."""
    import ast
    from pathlib import Path

    package = Path(__file__).resolve().parents[1] / "pyqhn"
    registries = {"ENGINES", "OPTIMIZERS", "PROBLEMS", "EXPERIMENTS"}
    found = set()
    for path in package.rglob("*.py"):
        rel = path.relative_to(package).as_posix()
        if rel.startswith("cli/"):
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if (isinstance(node, ast.Call) and isinstance(node.func, ast.Attribute)
                    and node.func.attr in ("lookup", "create")
                    and isinstance(node.func.value, ast.Name)
                    and node.func.value.id in registries
                    and node.args and not isinstance(node.args[0], ast.Constant)):
                found.add((rel, node.func.value.id))
    assert found == {
        ("engines/__init__.py", "ENGINES"),             # get_engine(name)
        ("problems/__init__.py", "PROBLEMS"),           # problem_options(name)
        ("experiments/multistart.py", "PROBLEMS"),      # spec.model -> its problem
        ("experiments/vi.py", "PROBLEMS"),              # spec.datasets -> their problems
        ("experiments/mnist8x8.py", "PROBLEMS"),        # spec.problem -> its problem
    }
