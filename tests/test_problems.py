"""Every registered problem builds at a tiny size and trains end to end; the builders of
the experiments go through the registry and build what they built before; the command
line offers the registered names and refuses others with the choices."""

from __future__ import annotations

import inspect

import numpy as np
import pytest
from click.testing import CliRunner

from pyqhn.bits import bits_to_index
from pyqhn.cli import main
from pyqhn.pipeline import Problem
from pyqhn.problems import PROBLEMS, problem_options

#: Tiny options of every registered problem (a new problem adds its line here).
TINY = {
    "gaussian-activation": dict(n_samples=40, n_test=20),
    "gaussian-width": dict(n_samples=40),
    "mnist": dict(size=2, max_per_class=20),
    "mnist-encoding": dict(size=2, max_per_class=20),
    "moons-activation": dict(n_samples=30, n_test=10),
    "ring-activation": dict(n_samples=30, n_test=10),
    "mnist8x8-logistic": dict(size=2),
    "mnist8x8-hidden": dict(size=2, hidden=1),
    "bench-gauss": dict(hidden=1),
    "bench-mnist": dict(size=2),
    "bench-pixels": dict(pixels=4),
}


def test_every_problem_has_tiny_options():
    assert set(TINY) == set(PROBLEMS)


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_capabilities_are_the_factorys_keyword_options(name):
    entry = PROBLEMS.lookup(name)
    factory = entry.load()
    params = inspect.signature(factory).parameters
    assert set(entry.capabilities) == set(params)
    assert all(p.kind is inspect.Parameter.KEYWORD_ONLY for p in params.values())
    assert all(p.annotation is not inspect.Parameter.empty for p in params.values())
    assert factory.__doc__ and entry.doc and "\n" not in entry.doc


@pytest.mark.parametrize("name", list(PROBLEMS))
def test_every_problem_builds_tiny_and_trains_end_to_end(name):
    problem = PROBLEMS.create(name, **TINY[name])
    assert isinstance(problem, Problem) and problem.enumerable
    for held_out in (problem.test, problem.validation):
        if held_out is not None:
            assert held_out.n_features == problem.dataset.n_features
            assert set(np.unique(held_out.y)) <= {0, 1}
    cost = problem.cost_table()
    assert cost.shape == (2**problem.n_bits,) and np.all(np.isfinite(cost))
    res = problem.train(["product"], runs=2, max_iter=30, progress=False)
    assert res.regime == "exact" and len(res.table) == 2
    assert res.c_star == pytest.approx(cost.min())
    # training moves the energy below the average network's cost
    assert res.table["e_final"].max() < cost.mean()
    bits = res.best_bits()
    assert res.best_cost() == float(cost[bits_to_index(bits)])
    # the table and the cost of bit rows evaluated on the fly agree
    rows = np.stack([problem.optimum_bits(), bits])
    np.testing.assert_allclose(problem.bit_cost(rows), [cost.min(), res.best_cost()],
                               rtol=1e-9, atol=1e-12)
    predicted = problem.classifier(bits).predict(problem.dataset.x)
    assert predicted.shape == problem.dataset.y.shape


def test_problem_options_are_the_defaults_with_the_given_ones():
    opts = problem_options("mnist", size=3)
    assert opts["size"] == 3 and opts["digits"] == (0, 1) and opts["encoding"] is None
    assert problem_options("mnist-encoding")["digits"] == (3, 7)
    from pyqhn.checks import InputError

    with pytest.raises(InputError, match="n_samples"):
        problem_options("mnist", n_samples=3)


# ------------------------------------------------- the builders build what they built


def test_multistart_builds_the_figures_data_and_models():
    from pyqhn import datasets, models
    from pyqhn.experiments import EXPERIMENTS
    from pyqhn.experiments.multistart import build_problem

    def spec_for(name, quick=False, **changes):
        spec = EXPERIMENTS.create(name)
        return (spec.quick() if quick else spec).replace(**changes)

    fig3 = build_problem(spec_for("fig3", quick=True, layout="choices-first"))
    assert fig3.model == models.gaussian_width_model("choices-first")
    expected = datasets.gaussian_mixture(200, seed=1234)
    np.testing.assert_array_equal(fig3.dataset.x, expected.x)
    np.testing.assert_array_equal(fig3.dataset.y, expected.y)
    fig4 = build_problem(spec_for("fig4", quick=True, encoding=(0, 1), digits=(3, 8)))
    assert fig4.model == models.mnist_model(4, (0.0, 1.0))
    np.testing.assert_array_equal(fig4.dataset.x, datasets.mnist_pair(
        (3, 8), size=4, max_per_class=100).x)
    fig5 = build_problem(spec_for("fig5"))
    assert fig5.model == models.mnist_encoding_model(4)
    assert fig5.dataset.name == datasets.mnist_pair((3, 7)).name


def test_gradient_free_builds_mnist_0_vs_1():
    from pyqhn import datasets, models
    from pyqhn.experiments import EXPERIMENTS
    from pyqhn.experiments.gradient_free import _problem

    problem = _problem(EXPERIMENTS.create("fig8").quick().replace(encoding=(0, 1)))
    assert problem.model == models.mnist_model(3, (0.0, 1.0))
    np.testing.assert_array_equal(problem.dataset.x, datasets.mnist_pair(
        (0, 1), size=3, max_per_class=100).x)


@pytest.mark.parametrize("kind", ["logistic", "hidden"])
def test_mnist8x8_builds_the_split_it_built(kind):
    from pyqhn import datasets
    from pyqhn.experiments.mnist8x8 import Mnist8x8Spec, _problem
    from pyqhn.large_models import LinkChoiceLogistic, hidden_layer_model

    model, split = _problem(Mnist8x8Spec(problem=kind, digits=(3, 8), seed=5))
    assert model == (LinkChoiceLogistic(64) if kind == "logistic" else hidden_layer_model())
    expected = datasets.train_val_test_split(datasets.mnist_pair((3, 8), size=8), val=0.2,
                                             test=0.2, seed=5)
    for part in ("train", "val", "test"):
        np.testing.assert_array_equal(getattr(split, part).x, getattr(expected, part).x)
        np.testing.assert_array_equal(getattr(split, part).y, getattr(expected, part).y)


def test_vi_draws_train_then_test_from_one_generator():
    from pyqhn import datasets
    from pyqhn.experiments import vi

    for name, make in (("gaussian", datasets.gaussian_mixture), ("moons", datasets.two_moons),
                       ("ring", datasets.ring)):
        rng = np.random.default_rng(11)
        train, test = make(30, seed=rng), make(20, seed=rng)
        x, y = vi.make_dataset(name, 30, np.random.default_rng(11))
        np.testing.assert_array_equal(x, train.x)
        np.testing.assert_array_equal(y, train.y.astype(float))
    problem = vi.make_problem("ring", vi.VISpec(n_train=30, n_test=20), seed=11)
    np.testing.assert_array_equal(problem.ce_test, vi.binn_tables(test.x, test.y)["ce"])
    np.testing.assert_array_equal(problem.acc_train, vi.binn_tables(train.x, train.y)["acc"])


# ------------------------------------------------------------------- command line


def _choices(command: str) -> list[str]:
    cmd = main.commands[command]
    option = next(p for p in cmd.params if p.name == "problem")
    return list(option.type.choices)


def test_the_command_line_offers_the_registered_problems():
    assert _choices("enumerate") == list(PROBLEMS)
    baseline = _choices("baseline")
    assert set(baseline) <= set(PROBLEMS) | {"fig2", "fig3", "fig4", "fig5"}
    assert {"gaussian-activation", "gaussian-width", "mnist", "mnist-encoding", "fig2",
            "fig5"} <= set(baseline)


@pytest.mark.parametrize("command", [
    ["enumerate", "--out", "x.npz"],
    ["baseline", "--method", "sa", "--out", "x"],
    ["train", "--out", "x"],
])
def test_an_unknown_problem_is_a_usage_error_listing_the_choices(tmp_path, command):
    res = CliRunner().invoke(main, [*command[:1], "--problem", "cifar",
                                    *[str(tmp_path / c) if c.startswith("x") else c
                                      for c in command[1:]]])
    assert res.exit_code == 2, res.output
    assert "cifar" in res.output and "gaussian-activation" in res.output
    assert "mnist-encoding" in res.output
    assert not any(tmp_path.iterdir())


def test_enumerate_takes_any_registered_problem(tmp_path):
    import json

    out = tmp_path / "m.npz"
    res = CliRunner().invoke(main, ["enumerate", "--problem", "mnist8x8-logistic", "--size",
                                    "2", "--out", str(out), "--json"])
    assert res.exit_code == 0, res.output
    rep = json.loads(res.stdout)
    problem = PROBLEMS.create("mnist8x8-logistic", size=2, seed=0)
    assert rep["n_qubits"] == 6 and rep["min_cost"] == pytest.approx(problem.c_star)
    assert "test_accuracy" in rep  # the problem's own test split
    res = CliRunner().invoke(main, ["enumerate", "--problem", "mnist8x8-logistic",
                                    "--n-samples", "10", "--out", str(out)])
    assert res.exit_code == 2 and "--n-samples" in res.output and "--digits" in res.output


def test_overfitting_tables_are_the_fig2_problem_on_closer_gaussians():
    """Fig. 7 builds its per-draw tables through PROBLEMS; they are the Fig. 2 model's
    tables on the mixture drawn from the same seed list with the Gaussians moved closer."""
    from pyqhn import datasets, models
    from pyqhn.cost import cost_table
    from pyqhn.problems import PROBLEMS

    table = PROBLEMS.create("gaussian-activation", n_samples=6, seed=[0, 2, 0, 6],
                            scale=0.5).cost_table()
    expected = cost_table(models.gaussian_activation_model("original"),
                          datasets.gaussian_mixture(6, seed=[0, 2, 0, 6], scale=0.5))
    np.testing.assert_array_equal(table, expected)
