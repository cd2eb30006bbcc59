"""The optional Julia stack: its set-up checks, the Python wrapper's argument handling and
shapes, the Julia-side optimisers' driver integration and the fixture file the Julia
package's own tests read. Everything here runs without Julia (a stand-in module computes
with the Python engines); the tests marked ``needs_julia`` compare PastaQ itself and skip
with the precise reason from :func:`pyqhn.engines.julia_setup.julia_unavailable_reason`
when no install can help. Where ``pyqhn doctor`` calls the engine installable, they install
it first (internet, minutes) and xfail with the install's failure rather than skip."""

from __future__ import annotations

import functools
import importlib.util
import json
import os
import shutil
import subprocess
import sys
import types
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from click.testing import CliRunner

import pyqhn  # noqa: F401
from pyqhn.checks import InputError
from pyqhn.circuits import (
    Circuit,
    brickwork_circuit,
    flat_from_site_major,
    load_theta,
    product_circuit,
    random_params,
    site_major_from_flat,
)
from pyqhn.cli import main
from pyqhn.engines import exact, get_engine, julia_setup
from pyqhn.engines import julia as julia_engine
from pyqhn.engines.density import DensityEngine
from pyqhn.engines.julia import JuliaEngine, JuliaUnavailable
from pyqhn.engines.julia_setup import julia_status
from pyqhn.engines.reference import reference_state
from pyqhn.noise import NoiseModel
from pyqhn.optimizers import (
    bbo_probabilistic_descent_optimizer,
    minimize,
    optimkit_lbfgs_optimizer,
)
from pyqhn.optimizers.julia import Trajectory

try:
    import tomllib
except ModuleNotFoundError:  # Python 3.10
    tomllib = pytest.importorskip("tomli", reason="reading TOML on Python 3.10 needs tomli")

ROOT = Path(__file__).resolve().parents[1]
FIXTURE = ROOT / "julia" / "test" / "fixtures.toml"
STATUS = julia_status()
reason = STATUS.reason


def _install_or_xfail(status: julia_setup.JuliaStatus, install) -> None:
    """Nothing when the engine is ready; when it is installable, install it, and xfail with
    the reason when that fails (a failed install must not look like an absent Julia)."""
    if status.ready:
        return
    try:
        after = install()
    except julia_setup.JuliaInstallFailed as err:
        pytest.xfail(f"pyqhn doctor calls the Julia engine installable, but {err}")
    if not after.ready:
        pytest.fail(f"the Julia install ended, but the engine is unavailable: {after.reason}")


@pytest.fixture(scope="module")
def julia_installed():
    """Installs once per module; a failure is cached, so every Julia test xfails with it."""
    _install_or_xfail(STATUS, julia_setup.install_julia_stack)


def needs_julia(test):
    """Skip with the reason where no install can help; else run after :func:`julia_installed`."""
    skip = pytest.mark.skipif(not (STATUS.ready or STATUS.installable),
                              reason=f"Julia engine unavailable: {reason}")
    return skip(pytest.mark.usefixtures("julia_installed")(test))


@pytest.fixture
def fresh_status():
    """Clear the cached status around a test that changes what it sees."""
    julia_status.cache_clear()
    yield
    julia_status.cache_clear()


# --------------------------------------------------------------------------- stand-in Julia


class FakePyqhnEngine:
    """Stands in for the Julia module ``PyqhnEngine``: same signatures and layouts (angles
    ``P × R``, probabilities ``2^N × R``, gradients ``P × R``), computed by the reference,
    density and exact engines; it records what it was called with."""

    def __init__(self):
        self.calls: list[tuple] = []
        self.operators_built = 0

    def NoiseModel(self, l1, l2, channel):  # noqa: N802 (Julia's name)
        return NoiseModel(l1, l2, channel)

    def cost_operator(self, cost):
        self.operators_built += 1
        return np.array(cost, dtype=np.float64)

    def probabilities(self, thetas, n, blocks, *, entangling, noise=None):
        self.calls.append(("probabilities", thetas.shape, noise))
        c = Circuit(n, blocks, entangling)
        if noise is not None:
            return np.asfortranarray(DensityEngine(noise).probabilities(c, thetas.T).T)
        cols = [np.abs(reference_state(c, thetas[:, r])) ** 2 for r in range(thetas.shape[1])]
        return np.asfortranarray(np.stack(cols, axis=1))

    def energies(self, op, thetas, blocks, *, entangling, noise=None):
        n = op.size.bit_length() - 1
        p = self.probabilities(thetas, n, blocks, entangling=entangling, noise=noise)
        return list(op @ p)

    def energies_and_gradients(self, op, thetas, blocks, *, entangling):
        self.calls.append(("gradients", thetas.shape, None))
        c = Circuit(op.size.bit_length() - 1, blocks, entangling)
        e, g = get_engine("exact").energy_and_grad(c, thetas.T, op)
        return np.asarray(e), np.asfortranarray(np.asarray(g).T)


@pytest.fixture
def fake_julia(monkeypatch):
    """A stand-in for the Julia module, and a set-up check that calls the stack ready (so the
    command line's pre-check of ``--engine julia`` lets it through)."""
    fake = FakePyqhnEngine()
    monkeypatch.setattr(julia_engine, "julia_module", lambda: fake)
    monkeypatch.setattr(julia_setup, "julia_status",
                        lambda: julia_setup.JuliaStatus(reason=None, julia="fake"))
    return fake


# --------------------------------------------------------------------------- set-up checks


def test_this_machine_reports_a_reason_or_is_ready():
    # without juliacall the reason is exactly the one the issue asks tests to skip with
    if importlib.util.find_spec("juliacall") is None:
        assert reason == "juliacall is not installed (pip install 'pyqhn[julia]')"
        assert not STATUS.installable
    assert (reason is None) == STATUS.ready


@pytest.mark.skipif(STATUS.ready or STATUS.installable,
                    reason="Julia can start (or juliacall would install it) here")
def test_engine_raises_the_reason_instead_of_starting(monkeypatch):
    julia_engine.julia_module.cache_clear()
    engine = get_engine("julia")  # constructing needs no Julia; evaluating does
    with pytest.raises(JuliaUnavailable, match="unavailable: " + reason.split(" (")[0]):
        engine.energy(brickwork_circuit(3, 2), np.zeros(12), np.ones(8))
    with pytest.raises(JuliaUnavailable, match="unavailable"):
        minimize(optimkit_lbfgs_optimizer(), lambda x: (x.sum(1), x), np.zeros((1, 2)))


def test_missing_sources_and_missing_juliacall_are_told_apart(monkeypatch, fresh_status,
                                                              tmp_path):
    monkeypatch.setattr(julia_setup, "JULIA_SOURCES", tmp_path / "PyqhnEngine.jl")
    assert "source checkout (pip install -e '.[julia]')" in julia_status().reason
    julia_status.cache_clear()
    monkeypatch.setattr(julia_setup, "JULIA_SOURCES", ROOT / "julia/src/PyqhnEngine.jl")
    monkeypatch.setattr(importlib.util, "find_spec", lambda name, *a: None)
    assert julia_status().reason == "juliacall is not installed (pip install 'pyqhn[julia]')"


def _with_juliacall(monkeypatch):
    real = importlib.util.find_spec
    monkeypatch.setattr(importlib.util, "find_spec",
                        lambda name, *a: object() if name == "juliacall" else real(name, *a))
    monkeypatch.delenv("PYTHON_JULIACALL_EXE", raising=False)
    monkeypatch.delenv("PYTHON_JULIACALL_PROJECT", raising=False)


def test_half_set_juliacall_variables_are_refused(monkeypatch, fresh_status):
    _with_juliacall(monkeypatch)
    monkeypatch.setenv("PYTHON_JULIACALL_EXE", "/usr/bin/julia")
    status = julia_status()
    assert status.reason.startswith("PYTHON_JULIACALL_EXE is set without "
                                    "PYTHON_JULIACALL_PROJECT")
    assert not status.installable


def test_user_managed_julia_needs_the_packages_in_its_project(monkeypatch, fresh_status,
                                                              tmp_path):
    _with_juliacall(monkeypatch)
    exe = tmp_path / "julia"
    exe.write_text("#!/bin/sh\n")
    exe.chmod(0o755)
    project = tmp_path / "env"
    project.mkdir()
    (project / "Manifest.toml").write_text('[[deps.PastaQ]]\n[[deps.PythonCall]]\n')
    monkeypatch.setenv("PYTHON_JULIACALL_EXE", str(exe))
    monkeypatch.setenv("PYTHON_JULIACALL_PROJECT", str(project))
    status = julia_status()
    assert "lacks BlackBoxOptim, ITensors, OptimKit, Zygote" in status.reason
    assert "PastaQ," not in status.reason and status.project == str(project)
    names = [*julia_setup.julia_packages(), "PythonCall"]
    (project / "Manifest.toml").write_text("".join(f"[[deps.{n}]]\n" for n in names))
    julia_status.cache_clear()
    assert julia_status().ready


class _Tilde110:
    """juliapkg's merged compat of ``"~1.10"`` (ours) and ``"^1.10.3"`` (juliacall's)."""

    def __contains__(self, version) -> bool:
        major, minor, patch = map(int, str(version).split("."))
        return (major, minor) == (1, 10) and patch >= 3

    def __str__(self) -> str:
        return "~1.10.3"


def _fake_juliapkg(monkeypatch, *, resolved=False, juliaup=None, path=None, own=None,
                   newest="1.10.10", override=None, offline=False):
    """juliapkg's modules as the status check uses them (no Julia, no downloads).

    ``juliaup``: ``(installed versions, newest version juliaup lists)`` or ``None`` when
    juliaup is not on PATH; ``path``/``own``: the version of the ``julia`` on PATH / in
    juliapkg's install folder, or ``None``; ``newest``: the newest release in the compat
    (``None``: the list of releases cannot be fetched); ``override``: the version of the
    Julia at ``PYTHON_JULIAPKG_EXE`` (``/j/julia``), or ``None`` when it is unset."""
    exes = {"/usr/bin/julia": path, "/p/install/bin/julia": own, "/j/julia": override}
    exes.update({f"/ju/{v}/bin/julia": v for v in (juliaup or ((), None))[0]})
    deps = types.ModuleType("juliapkg.deps")
    deps.can_skip_resolve = lambda: resolved
    deps.find_requirements = lambda: (_Tilde110(), [])
    state = types.ModuleType("juliapkg.state")
    state.STATE = {"project": "/p/julia_env", "install": "/p/install", "offline": offline,
                   "override_executable": "/j/julia" if override else None}
    find = types.ModuleType("juliapkg.find_julia")
    find.julia_version = lambda exe: exes.get(exe)

    def find_julia(compat, prefix, install):  # the install=False probe
        assert not install
        for exe in (f"/ju/{v}/bin/julia" for v in (juliaup or ((), None))[0]):
            if exes[exe] in compat:
                return exe, exes[exe]
        if path in compat:
            return "/usr/bin/julia", path
        raise Exception("could not find Julia ~1.10.3")

    def ju_best_julia_version(compat):
        if juliaup[1] is None:
            raise Exception("no version of Julia is compatible with ~1.10.3 - perhaps you "
                            "need to update JuliaUp")
        return juliaup[1], ["1.10"]

    def ju_find_julia_noinstall(exact):
        exe = f"/ju/{exact[1:]}/bin/julia"
        return (exe, exes[exe]) if exe in exes else None

    find.find_julia = find_julia
    find.ju_best_julia_version = ju_best_julia_version
    find.ju_find_julia_noinstall = ju_find_julia_noinstall
    compat = types.ModuleType("juliapkg.compat")
    compat.Compat = types.SimpleNamespace(parse=lambda text: text)
    install = types.ModuleType("juliapkg.install_julia")

    def best_julia_version(compat):
        if newest is None:
            raise OSError("urlopen error: no network")
        return newest, {}

    install.best_julia_version = best_julia_version
    pkg = types.ModuleType("juliapkg")
    pkg.deps = deps
    for name, mod in [("juliapkg", pkg), ("juliapkg.deps", deps), ("juliapkg.state", state),
                      ("juliapkg.find_julia", find), ("juliapkg.compat", compat),
                      ("juliapkg.install_julia", install)]:
        monkeypatch.setitem(sys.modules, name, mod)
    on_path = {"juliaup": "/ju/bin/juliaup" if juliaup else None,
               "julia": "/usr/bin/julia" if path else None,
               "/p/install/bin/julia": "/p/install/bin/julia" if own else None}
    monkeypatch.setattr(shutil, "which", lambda name, *a, **k: on_path.get(name))


@pytest.mark.parametrize("case", ["resolved", "no-julia", "no-packages"])
def test_juliapkg_states_give_distinct_reasons(monkeypatch, fresh_status, case):
    _with_juliacall(monkeypatch)
    _fake_juliapkg(
        monkeypatch,
        resolved={"version": "1.10.4", "executable": "/j/bin/julia"} if case == "resolved"
        else False,
        path=None if case == "no-julia" else "1.10.4")
    before = dict(os.environ)
    status = julia_status()
    assert dict(os.environ) == before  # no juliacall/juliapkg overrides
    assert status.project == "/p/julia_env"
    if case == "resolved":
        assert status.ready and status.julia == "1.10.4 at /j/bin/julia"
    elif case == "no-julia":
        assert status.reason.startswith("Julia is not installed")
        assert "pyqhn doctor --install" in status.reason and status.installable
    else:
        assert status.reason.startswith("the Julia packages are not installed: Julia 1.10.4 "
                                        "is at /usr/bin/julia")
        assert status.installable


_WILL_USE = {
    # juliaup has 1.10.4 but lists 1.10.10: juliapkg's resolve adds and uses 1.10.10 (the
    # install=False probe reported 1.10.4); the 1.12 on PATH is outside ~1.10
    "juliaup-upgrades": (dict(juliaup=(["1.10.4"], "1.10.10"), path="1.12.1"),
                         "1.10.10, not installed yet (juliapkg installs it with `juliaup "
                         "add`)"),
    "juliaup-has-newest": (dict(juliaup=(["1.10.4", "1.10.10"], "1.10.10")),
                           "1.10.10 at /ju/1.10.10/bin/julia (juliaup)"),
    "path": (dict(path="1.10.5"), "1.10.5 at /usr/bin/julia (PATH)"),
    "path-outside-compat": (dict(path="1.11.2"), "~1.10.3 (its newest release), not "
                            "installed yet (juliapkg installs it by a download into "
                            "/p/install)"),
    # juliapkg keeps its own 1.10.4 only while it is the newest release (1.10.10 here)
    "own-install-outdated": (dict(own="1.10.4", path="1.10.5"),
                             "1.10.5 at /usr/bin/julia (PATH)"),
    "own-install-offline-list": (dict(own="1.10.4", newest=None),
                                 "1.10.4 at /p/install/bin/julia (juliapkg's install)"),
    "override": (dict(override="1.10.7", path="1.10.5"),
                 "1.10.7 at /j/julia (PYTHON_JULIAPKG_EXE)"),
}


@pytest.mark.parametrize("case", list(_WILL_USE))
def test_doctor_reports_the_julia_juliapkg_will_resolve(monkeypatch, fresh_status, case):
    setup, julia = _WILL_USE[case]
    _with_juliacall(monkeypatch)
    _fake_juliapkg(monkeypatch, **setup)
    status = julia_status()
    assert status.julia == julia and status.installable
    if "not installed yet" in julia:
        assert status.reason.startswith("Julia is not installed: juliapkg will use Julia " +
                                        julia)
    else:
        version, exe = julia.split(" (")[0].split(" at ")
        assert status.reason.startswith(f"the Julia packages are not installed: Julia "
                                        f"{version} is at {exe}")
    res = CliRunner().invoke(main, ["doctor"])
    assert res.exit_code == 1 and f"Julia             {julia}\n" in res.output


def test_juliapkg_failures_to_find_a_julia_are_reasons(monkeypatch, fresh_status):
    _with_juliacall(monkeypatch)
    _fake_juliapkg(monkeypatch, juliaup=([], None))
    status = julia_status()
    assert status.reason.startswith("no Julia ~1.10.3 can be used: no version of Julia is "
                                    "compatible with ~1.10.3 - perhaps you need to update "
                                    "JuliaUp; install Julia 1.10 yourself")
    julia_status.cache_clear()
    _fake_juliapkg(monkeypatch, path="1.11.2", offline=True)
    status = julia_status()
    assert "could not find Julia ~1.10.3" in status.reason and not status.installable
    assert "PYTHON_JULIAPKG_OFFLINE is set" in status.reason


# --------------------------------------------------------------------------- declarations


def test_juliapkg_json_matches_the_julia_package():
    declared = json.loads((ROOT / "pyqhn" / "juliapkg.json").read_text())
    project = tomllib.loads((ROOT / "julia" / "Project.toml").read_text())
    assert project["name"] == "PyqhnEngine"
    for name, spec in declared["packages"].items():
        assert project["deps"][name] == spec["uuid"], name
        assert project["compat"][name] == spec["version"], name
    # "1.10" would mean ^1.10 (the newest 1.x) to juliapkg; ~1.10 keeps Julia at 1.10.x
    assert declared["julia"] == project["compat"]["julia"] == "~1.10"
    assert set(project["deps"]) - set(declared["packages"]) <= {"LinearAlgebra", "Random"}
    # what the issues name: PastaQ 0.1 allowed, ITensors bounded, the original's OptimKit
    # (0.3: first step -g/|g|, line search not capped), Zygote 0.6 (PastaQ's tests pin 0.6.43)
    assert "0.1" in declared["packages"]["PastaQ"]["version"]
    assert declared["packages"]["ITensors"]["version"] == "0.3.20"
    assert declared["packages"]["OptimKit"]["version"] == "0.3"
    assert declared["packages"]["Zygote"]["version"] == "0.6.40 - 0.6"
    pyproject = tomllib.loads((ROOT / "pyproject.toml").read_text())
    assert "juliapkg.json" in pyproject["tool"]["setuptools"]["package-data"]["pyqhn"]
    assert pyproject["project"]["optional-dependencies"]["julia"] == ["juliacall>=0.9"]


def test_root_project_is_the_julia_package_environment():
    """``julia --project=.`` in a checkout: an environment (no package of its own) with
    julia/Project.toml's dependencies and bounds plus PyqhnEngine, developed from julia/."""
    root = tomllib.loads((ROOT / "Project.toml").read_text())
    package = tomllib.loads((ROOT / "julia" / "Project.toml").read_text())
    assert "name" not in root and "uuid" not in root
    assert root["deps"] == {**package["deps"], "PyqhnEngine": package["uuid"]}
    assert root["compat"] == package["compat"]
    # Julia 1.10 has no [sources]: Pkg.develop records the path in the manifest
    assert set(root) == {"deps", "compat"}
    develop = """julia --project=. -e 'using Pkg; Pkg.develop(path="julia")'"""
    assert develop in (ROOT / "Project.toml").read_text()
    assert develop in (ROOT / "docs" / "guide" / "julia.md").read_text()  # the README links it
    # the manifest develop writes is the user's, not the repository's
    assert "/Manifest*.toml" in (ROOT / ".gitignore").read_text().splitlines()


# --------------------------------------------------------------------------- the wrapper


def test_batch_shapes_map_julia_columns_back(fake_julia):
    c = brickwork_circuit(4, 3)
    theta = random_params(c, 6, seed=4).reshape(2, 3, -1)
    cost = np.random.default_rng(2).random(16)
    engine = JuliaEngine()
    np.testing.assert_allclose(engine.probabilities(c, theta),
                               np.asarray(exact.probabilities(c, theta)), atol=1e-12)
    e = engine.energy(c, theta, cost)
    assert e.shape == (2, 3)
    np.testing.assert_allclose(e, np.asarray(exact.energy(c, theta, cost)), atol=1e-12)
    one = engine.energy(c, theta[1, 2], cost)
    assert one.shape == () and float(one) == pytest.approx(float(e[1, 2]), abs=1e-12)
    assert engine.sample(c, theta, 9, seed=1).shape == (2, 3, 9)
    np.testing.assert_array_equal(engine.sample(c, theta, 50, seed=3),
                                  get_engine("exact").sample(c, theta, 50, seed=3))
    # three leading axes travel as one P × 6 matrix
    assert ("probabilities", (c.n_params, 6), None) in fake_julia.calls


def test_gradients_come_from_julia_with_batch_shapes(fake_julia):
    c = brickwork_circuit(4, 2)
    theta = random_params(c, 4, seed=5).reshape(2, 2, -1)
    cost = np.random.default_rng(3).random(16)
    e, g = JuliaEngine().energy_and_grad(c, theta, cost)
    ee, ge = get_engine("exact").energy_and_grad(c, theta, cost)
    assert e.shape == (2, 2) and g.shape == (2, 2, c.n_params)
    np.testing.assert_allclose(g, ge, atol=1e-12)
    np.testing.assert_allclose(e, ee, atol=1e-12)
    fn = JuliaEngine().energy_and_grad_fn(c, cost)
    e2, g2 = fn(theta.reshape(4, -1))
    np.testing.assert_allclose(g2, ge.reshape(4, -1), atol=1e-12)


def test_noise_reaches_julia_and_disables_gradients(fake_julia):
    c = brickwork_circuit(4, 2)
    theta = random_params(c, 3, seed=6)
    cost = np.random.default_rng(4).random(16)
    noise = NoiseModel.from_strength(20.0, "one-qubit")
    engine = get_engine("julia", noise=noise)
    assert isinstance(engine, JuliaEngine) and not engine.differentiable
    np.testing.assert_allclose(engine.energy(c, theta, cost),
                               DensityEngine(noise).energy(c, theta, cost), atol=1e-12)
    assert fake_julia.calls[-1][2] == noise
    with pytest.raises(InputError, match="'julia' engine gives no gradients"):
        engine.energy_and_grad(c, theta, cost)
    assert JuliaEngine().differentiable


def test_bad_input_is_rejected_before_julia(fake_julia):
    c = brickwork_circuit(3, 2)
    engine = JuliaEngine()
    with pytest.raises(InputError, match=r"shape \(\.\.\., 12\)"):
        engine.energy(c, np.zeros(11), np.ones(8))
    with pytest.raises(InputError, match="finite"):
        engine.energy(c, np.full(12, np.nan), np.ones(8))
    with pytest.raises(InputError, match="length 2\\*\\*3"):
        engine.energy(c, np.zeros(12), np.ones(7))
    with pytest.raises(InputError, match="NoiseModel"):
        JuliaEngine(noise=0.5)
    with pytest.raises(InputError, match="elbo/selbo"):
        engine.jax_probabilities(c)
    assert fake_julia.calls == [] and fake_julia.operators_built == 0


def test_cost_operator_is_built_once_per_table(fake_julia):
    c = brickwork_circuit(3, 1)
    engine = JuliaEngine()
    cost = np.arange(8.0)
    for _ in range(3):
        engine.energy(c, np.zeros(6), cost)
    assert fake_julia.operators_built == 1
    engine.energy(c, np.zeros(6), cost + 1)
    assert fake_julia.operators_built == 2


# --------------------------------------------------------------------------- layouts


def test_site_major_layout_round_trip_and_loader(tmp_path):
    n, blocks = 3, 2
    flat = np.arange(12.0)
    sm = site_major_from_flat(flat, n, blocks)
    # site 1's four angles (Ry b1, Ry b2, Rz b1, Rz b2) come first
    np.testing.assert_array_equal(sm[:4], [0.0, 3.0, 6.0, 9.0])
    np.testing.assert_array_equal(flat_from_site_major(sm, n, blocks), flat)
    rows = np.stack([sm, sm + 100])
    np.savetxt(tmp_path / "params.txt", rows)
    np.testing.assert_array_equal(load_theta(tmp_path / "params.txt", 12, layout="site-major",
                                             n_qubits=n), np.stack([flat, flat + 100]))
    with pytest.raises(InputError, match="needs the qubit count"):
        load_theta(tmp_path / "params.txt", 12, layout="site-major")
    with pytest.raises(InputError, match="unknown angle layout 'sites'"):
        load_theta(tmp_path / "params.txt", 12, layout="sites")


def test_energy_cli_reads_site_major_files_and_the_julia_engine(tmp_path, fake_julia):
    c = brickwork_circuit(4, 2)
    theta = random_params(c, 3, seed=7)
    cost = np.random.default_rng(5).random(16)
    np.savetxt(tmp_path / "cost.txt", cost, fmt="%.17g")
    np.savetxt(tmp_path / "sm.txt", site_major_from_flat(theta, 4, 2), fmt="%.17g")
    want = np.asarray(exact.energy(c, theta, cost))
    for extra in ([], ["--engine", "julia"]):
        res = CliRunner().invoke(main, ["energy", "--cost", str(tmp_path / "cost.txt"),
                                        "--theta", str(tmp_path / "sm.txt"), "--blocks", "2",
                                        "--theta-layout", "site-major", *extra])
        assert res.exit_code == 0, res.output
        np.testing.assert_allclose([float(v) for v in res.output.split()], want, atol=1e-12)
    assert fake_julia.calls  # the second run went through the Julia wrapper


# --------------------------------------------------------------------------- optimisers


def _descent_backend(steps=5, lr=0.1, seen=None):
    """A stand-in for OptimKit: ``steps`` of gradient descent, recorded as a trajectory."""

    def run(objective, x0, seed):
        if seen is not None:
            seen.append(seed)
        xs, fs, gs = [x0], [], []
        for k in range(steps + 1):
            f, g = objective(xs[-1])
            fs.append(f)
            gs.append(g)
            if k < steps:
                xs.append(xs[-1] - lr * g)
        return Trajectory(np.array(xs), np.array(fs), np.array(gs),
                          np.arange(1, steps + 2), converged=True)

    return run


def _quadratic(x):
    return (x**2).sum(1), 2 * x


def test_julia_optimizer_replays_its_iterations():
    opt = optimkit_lbfgs_optimizer(backend=_descent_backend())
    x0 = np.array([[1.0, -2.0], [0.5, 0.5]])
    state, history = minimize(opt, _quadratic, x0, seeds=[3, 4])
    assert history.shape == (2, 6)
    np.testing.assert_allclose(history[:, 0], (x0**2).sum(1))
    np.testing.assert_allclose(history[:, -1], (x0**2).sum(1) * 0.8**10)  # (1 - 2·0.1)^5 each
    np.testing.assert_allclose(state.x, x0 * 0.8**5)
    np.testing.assert_allclose(state.g, 2 * x0 * 0.8**5)
    assert state.n_iter.tolist() == [5, 5] and state.n_evals.tolist() == [6, 6]
    assert state.converged.all()


def test_early_stopping_keeps_the_iterate_of_that_step():
    opt = optimkit_lbfgs_optimizer(backend=_descent_backend())
    x0 = np.array([[1.0, 1.0], [2.0, 2.0]])

    def stop_run0_at_2(k, state):
        if k == 2:
            return state._replace(done=state.done | np.array([True, False]))
        return None

    state, history = minimize(opt, _quadratic, x0, callback=stop_run0_at_2)
    np.testing.assert_allclose(state.x[0], x0[0] * 0.8**2)
    assert state.f[0] == pytest.approx((x0[0] ** 2).sum() * 0.8**4)
    assert state.n_iter.tolist() == [2, 5]
    assert state.converged.tolist() == [False, True]
    assert history[0, -1] == history[0, 2]


def test_gradient_free_julia_optimizer_gets_values_and_seeds():
    seen: list[int] = []

    def backend(objective, x0, seed):
        seen.append(seed)
        f0 = objective(x0)
        assert isinstance(f0, float)
        return Trajectory(np.stack([x0, x0 / 2]), np.array([f0, f0 / 4]), None,
                          np.array([1, 3]), converged=False)

    opt = bbo_probabilistic_descent_optimizer(backend=backend)
    assert not opt.uses_gradient and opt.settings["max_steps"] == 2000
    state, history = minimize(opt, lambda x: (x**2).sum(1), np.ones((3, 2)), seeds=[7, 8, 9])
    assert seen == [7, 8, 9] and state.g is None
    np.testing.assert_allclose(state.f, 0.5)
    assert not state.converged.any() and state.n_evals.tolist() == [3, 3, 3]


def test_train_cli_with_julia_engine_and_optimkit(tmp_path, fake_julia, monkeypatch):
    import pyqhn.optimizers.julia as jopt

    seeds: list[int] = []
    monkeypatch.setattr(jopt, "_optimkit_backend",
                        lambda gtol, max_iter, memory: _descent_backend(3, 0.01, seeds))
    c = brickwork_circuit(4, 2)
    cost = np.random.default_rng(6).random(16)
    np.savetxt(tmp_path / "cost.txt", cost, fmt="%.17g")
    res = CliRunner().invoke(main, ["train", "--cost", str(tmp_path / "cost.txt"),
                                    "--blocks", "2", "--runs", "2", "--seed", "5",
                                    "--out", str(tmp_path / "out"), "--no-progress",
                                    "--engine", "julia", "--optimizer", "optimkit-lbfgs"])
    assert res.exit_code == 0, res.output
    runs = pd.read_csv(tmp_path / "out" / "runs.csv")
    assert runs["n_iter"].tolist() == [3, 3] and seeds == [5, 6]
    x0 = np.stack([random_params(c, seed=s) for s in (5, 6)])
    np.testing.assert_allclose(runs["e_init"], np.asarray(exact.energy(c, x0, cost)),
                               atol=1e-12)
    assert (runs["e_final"] < runs["e_init"]).all()
    # gradients came from the Julia engine, one point per call (batch size 1)
    assert {call[1] for call in fake_julia.calls if call[0] == "gradients"} == {(16, 1)}


# --------------------------------------------------------------------------- fixture file


def _fixture_cases():
    return tomllib.loads(FIXTURE.read_text())["case"]


def test_fixture_file_matches_the_python_engines():
    cases = _fixture_cases()
    for case in cases:
        circuit = Circuit(case["n"], case["blocks"], case["entangling"])
        theta, cost = np.array(case["theta"]), np.array(case["cost"])
        np.testing.assert_array_equal(theta, random_params(circuit, seed=case["seed"]))
        np.testing.assert_array_equal(
            cost, np.random.default_rng(case["cost_seed"]).random(2 ** case["n"]))
        np.testing.assert_array_equal(case["theta_site_major"],
                                      site_major_from_flat(theta, case["n"], case["blocks"]))
        noise = NoiseModel(case["lambda1"], case["lambda2"], case["cx_channel"])
        engine = get_engine("exact") if noise.is_noiseless else DensityEngine(noise)
        assert float(engine.energy(circuit, theta, cost)) == pytest.approx(case["energy"],
                                                                          abs=1e-12)
    # what the Julia tests need to cover: N = 1, a product state, both CX channels
    assert {c["n"] for c in cases} >= {1, 3, 4, 5}
    assert any(not c["entangling"] for c in cases)
    noisy = [c for c in cases if c["lambda1"] > 0]
    assert {c["cx_channel"] for c in noisy} == {"two-qubit", "one-qubit"}


def test_fixture_writer_reproduces_the_file():
    spec = importlib.util.spec_from_file_location("write_julia_fixtures",
                                                  ROOT / "scripts/write_julia_fixtures.py")
    writer = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(writer)
    regenerated = tomllib.loads(writer.render([writer.fixture_case(*c) for c in writer.CASES]))
    stored = _fixture_cases()
    assert len(regenerated["case"]) == len(stored)
    for new, old in zip(regenerated["case"], stored, strict=True):
        assert {k: v for k, v in new.items() if k != "energy"} == \
               {k: v for k, v in old.items() if k != "energy"}
        assert new["energy"] == pytest.approx(old["energy"], abs=1e-12)


# --------------------------------------------------------------------------- doctor


def test_doctor_reports_and_fails_while_unavailable(monkeypatch):
    fake = julia_setup.JuliaStatus("juliacall is not installed (pip install 'pyqhn[julia]')",
                                   sources=julia_setup.JULIA_SOURCES)
    monkeypatch.setattr(julia_setup, "julia_status", lambda: fake)
    res = CliRunner().invoke(main, ["doctor"])
    assert res.exit_code == 1
    assert "juliacall         not installed" in res.output
    assert "unavailable: juliacall is not installed (pip install 'pyqhn[julia]')" in res.output
    assert "PastaQ 0.0.24, 0.0.25, 0.1" in res.output
    ready = julia_setup.JuliaStatus(None, juliacall="0.9.37", julia="1.10.4 at /j",
                                    sources=julia_setup.JULIA_SOURCES)
    monkeypatch.setattr(julia_setup, "julia_status", lambda: ready)
    res = CliRunner().invoke(main, ["doctor"])
    assert res.exit_code == 0 and "Julia engine      ready" in res.output


def test_doctor_install_refuses_when_no_install_can_help(monkeypatch):
    fake = julia_setup.JuliaStatus("juliacall is not installed (pip install 'pyqhn[julia]')")
    monkeypatch.setattr(julia_setup, "julia_status", lambda: fake)
    res = CliRunner().invoke(main, ["doctor", "--install"])
    assert res.exit_code == 1
    assert "cannot install the Julia stack: juliacall is not installed" in res.output


class JuliaError(Exception):
    """Named as juliacall's (which needs Julia to import): an error raised by Julia code."""


def _failing_install(error: BaseException):
    """A stand-in for juliacall's first import: writes to both streams and the file
    descriptors as Julia and juliapkg do, then raises ``error``."""

    def julia_module():
        print("[juliapkg] Installing packages:")
        os.write(2, b"ERROR: Unsatisfiable requirements detected for package ITensors\n")
        raise error

    return julia_module


_INSTALL_FAILURES = {
    "called-process": (subprocess.CalledProcessError(
        1, ["/j/bin/julia", "--threads=2", "--project=/p/julia_env", "--startup-file=no", "-e",
            "..."]), "`/j/bin/julia --project=/p/julia_env …` exited with status 1"),
    "captured": (subprocess.CalledProcessError(1, ["/j/bin/julia", "--project=/p/julia_env"],
                                               stderr="ERROR: libjulia not found"),
                 "`/j/bin/julia --project=/p/julia_env …` exited with status 1"),
    "julia-error": (JuliaError("LoadError: UndefVarError: `ITensors` not defined\nStacktrace:"),
                    "Julia raised LoadError: UndefVarError: `ITensors` not defined"),
    "no-julia": (Exception("could not find Julia ~1.10.3"),
                 "Exception: could not find Julia ~1.10.3"),
}


@pytest.mark.parametrize("case", list(_INSTALL_FAILURES))
def test_doctor_install_failure_is_one_sentence_and_exit_1(monkeypatch, tmp_path, case):
    error, cause = _INSTALL_FAILURES[case]
    installable = julia_setup.JuliaStatus("Julia is not installed: …", installable=True,
                                          juliacall="0.9.34", project=str(tmp_path),
                                          sources=julia_setup.JULIA_SOURCES)
    monkeypatch.setattr(julia_setup, "julia_status",
                        functools.lru_cache(maxsize=1)(lambda: installable))
    monkeypatch.setattr(julia_setup, "julia_module", _failing_install(error))
    res = CliRunner().invoke(main, ["doctor", "--install"])
    log = tmp_path / "pyqhn-install.log"
    assert res.exit_code == 1 and isinstance(res.exception, SystemExit)  # no traceback
    assert res.output.splitlines() == [
        f"install: juliacall installs what is missing (several minutes the first time); "
        f"its output goes to {log}",
        f"install: the Julia install failed: {cause} (the full output is in {log}).",
    ]
    # what the install wrote, Python's streams and the file descriptors alike, is in the log
    # (and what a failed subprocess captured)
    assert log.read_text().splitlines() == [
        "[juliapkg] Installing packages:",
        "ERROR: Unsatisfiable requirements detected for package ITensors",
        *(["ERROR: libjulia not found"] if case == "captured" else [])]


def test_failed_install_xfails_the_julia_tests_instead_of_skipping():
    installable = julia_setup.JuliaStatus("Julia is not installed: …", installable=True)

    def failing():
        raise julia_setup.JuliaInstallFailed("the Julia install failed: Exception: could not "
                                             "find Julia ~1.10.3 (the full output is in /l)")

    with pytest.raises(pytest.xfail.Exception, match="pyqhn doctor calls the Julia engine "
                       "installable, but the Julia install failed: Exception: could not find"):
        _install_or_xfail(installable, failing)
    still = julia_setup.JuliaStatus("the Julia packages are not installed: …", installable=True)
    with pytest.raises(pytest.fail.Exception, match="the engine is unavailable: the Julia "
                       "packages are not installed"):
        _install_or_xfail(installable, lambda: still)
    ready = julia_setup.JuliaStatus(None)
    _install_or_xfail(ready, lambda: pytest.fail("a ready engine needs no install"))
    _install_or_xfail(installable, lambda: ready)  # installed: the Julia tests run


# --------------------------------------------------------------------------- real Julia


@needs_julia
def test_pastaq_matches_exact_engine_with_gradients():
    c = brickwork_circuit(6, 4)
    theta = random_params(c, 3, seed=2)
    cost = np.random.default_rng(0).random(2**6)
    e, g = JuliaEngine().energy_and_grad(c, theta, cost)
    ee, ge = get_engine("exact").energy_and_grad(c, theta, cost)
    np.testing.assert_allclose(e, ee, atol=1e-10)
    np.testing.assert_allclose(g, ge, atol=1e-8)


@needs_julia
@pytest.mark.parametrize("channel", ["two-qubit", "one-qubit"])
def test_pastaq_noise_matches_density_engine(channel):
    c = brickwork_circuit(5, 3)
    theta = random_params(c, 2, seed=3)
    cost = np.random.default_rng(1).random(2**5)
    noise = NoiseModel.from_strength(20.0, channel)
    np.testing.assert_allclose(JuliaEngine(noise).energy(c, theta, cost),
                               DensityEngine(noise).energy(c, theta, cost), atol=1e-9)
    np.testing.assert_allclose(JuliaEngine(noise).probabilities(c, theta),
                               DensityEngine(noise).probabilities(c, theta), atol=1e-9)


@needs_julia
@pytest.mark.parametrize("circuit", [product_circuit(4), brickwork_circuit(5, 3)],
                         ids=lambda c: f"n{c.n_qubits}-{c.name}")
def test_pastaq_probabilities_and_batch_shapes(circuit):
    theta = random_params(circuit, 6, seed=3).reshape(2, 3, -1)
    p = JuliaEngine().probabilities(circuit, theta)
    assert p.shape == (2, 3, 2**circuit.n_qubits)
    np.testing.assert_allclose(p, np.asarray(exact.probabilities(circuit, theta)), atol=1e-10)


@needs_julia
def test_optimkit_lbfgs_end_to_end():
    c = brickwork_circuit(4, 2)
    cost = np.random.default_rng(2).random(16)
    fn = JuliaEngine().energy_and_grad_fn(c, cost)
    state, history = minimize(optimkit_lbfgs_optimizer(max_iter=50), fn,
                              random_params(c, 2, seed=1))
    assert (history[:, -1] < history[:, 0]).all()
    np.testing.assert_allclose(state.f, np.asarray(exact.energy(c, state.x, cost)), atol=1e-10)
