"""Every figure kind, drawn on a tiny run: no text runs into another axes or another panel's
text, the density panels have a y scale, and the sampled-accuracy histogram spans the data."""

from __future__ import annotations

import numpy as np
import pandas as pd
import pytest

import pyqhn
from pyqhn.plotting import pyplot


@pytest.fixture(scope="module")
def tiny():
    """A 10-bit problem on 3 features (no decision-boundary panel) trained for 4 runs."""
    rng = np.random.default_rng(0)
    x = rng.normal(size=(200, 3))
    y = (x[:, 0] ** 2 + x[:, 1] > 0.5).astype(int)
    model = pyqhn.models.AugmentedBiNN((3, 2, 1), activations=("sigmoid", "relu"))
    problem = pyqhn.Problem(model, (x, y))
    results = problem.train(["product", "blocks=2"], runs=4, epsilon=0.01, progress=False)
    return problem, results


def _drawn_texts(fig):
    """``(text, owner axes or None for figure text, window extent)`` of every drawn,
    non-empty text."""
    from matplotlib.text import Text

    fig.canvas.draw()
    renderer = fig.canvas.get_renderer()
    hidden_ticks = set()
    for ax in fig.axes:  # tick labels outside the view limits are not drawn
        for axis in (ax.xaxis, ax.yaxis):
            lo, hi = sorted(axis.get_view_interval())
            tol = 1e-9 * max(abs(lo), abs(hi), 1.0)
            for tick in axis.get_major_ticks() + axis.get_minor_ticks():
                if not lo - tol <= tick.get_loc() <= hi + tol:
                    hidden_ticks.update({id(tick.label1), id(tick.label2)})
    out = []
    owners = {}
    for ax in fig.axes:
        for t in ax.findobj(Text):
            owners.setdefault(id(t), ax)
    for t in fig.findobj(Text):
        if not (t.get_visible() and t.get_text().strip()) or id(t) in hidden_ticks:
            continue
        out.append((t, owners.get(id(t)), t.get_window_extent(renderer)))
    return out


def _overlaps(a, b, pad: float = 1.0) -> bool:
    """Whether two display boxes overlap by more than ``pad`` pixels each way."""
    return (min(a.x1, b.x1) - max(a.x0, b.x0) > pad) and (min(a.y1, b.y1) - max(a.y0, b.y0) > pad)


def assert_no_text_overlaps(fig) -> None:
    """No text overlaps an axes it does not belong to, nor a text of another axes."""
    texts = _drawn_texts(fig)
    frames = [ax for ax in fig.axes if ax.get_visible() and ax.axison]
    problems = []
    for t, owner, box in texts:
        for ax in frames:
            if ax is not owner and _overlaps(box, ax.bbox):
                problems.append(f"{t.get_text()[:40]!r} overlaps the axes {ax.get_label() or ax}")
    for i, (t, owner, box) in enumerate(texts):
        for u, other, other_box in texts[i + 1:]:
            if owner is not other and _overlaps(box, other_box):
                problems.append(f"{t.get_text()[:40]!r} overlaps {u.get_text()[:40]!r}")
    pyplot().close(fig)
    assert not problems, "\n".join(problems)


def _landscape(tiny, **left):
    from pyqhn.plotting.paper import landscape_figure

    problem, results = tiny
    return landscape_figure(energies=results.energies(), cost=problem.cost_table(),
                            c_star=problem.c_star, epsilon=0.01, title="tiny run", **left)


def _layout_text(problem) -> str:
    from pyqhn.experiments.multistart import layout_text

    return layout_text(problem.model) + "\n\noptimum " + problem.describe(
        problem.optimum_bits())["text"]


def _boundary(problem):
    """A 2-D decision-boundary panel: the optimum's classifier on its first two features."""
    clf = problem.classifier(problem.optimum_bits())
    x2 = problem.dataset.x[:, :2]
    return (lambda g: clf.output(np.c_[g, np.zeros(len(g))]), x2, problem.dataset.y)


FIGURES = ["landscape-plain", "landscape-text", "landscape-boundary",
           "landscape-boundary-text", "landscape-image", "weight-spectrum", "overfitting",
           "sampled-energy", "noise-sweep", "sampled-training", "vi", "decision-boundary",
           "weight-spectrum-plot"]


def draw(kind: str, tiny):
    problem, results = tiny
    rng = np.random.default_rng(1)
    energies = results.energies()
    if kind == "landscape-plain":
        return _landscape(tiny)
    if kind == "landscape-text":
        return _landscape(tiny, text=_layout_text(problem))
    if kind == "landscape-boundary":
        return _landscape(tiny, boundary=_boundary(problem))
    if kind == "landscape-boundary-text":
        return _landscape(tiny, boundary=_boundary(problem), text=_layout_text(problem))
    if kind == "landscape-image":
        return _landscape(tiny, image=rng.normal(size=(4, 4)), image_title="optimal weights")
    if kind == "weight-spectrum":
        from pyqhn.fourier import weight_spectrum
        from pyqhn.plotting.paper import weight_spectrum_figure

        return weight_spectrum_figure({"tiny": weight_spectrum(problem.cost_table())},
                                      title="tiny run")
    if kind == "overfitting":
        from pyqhn.plotting.paper import overfitting_figure

        curves = {f"N_s={n}": {"train": 0.5 - 0.01 * np.arange(11), "val": 0.6 - 0.005 *
                               np.arange(11), "train_err": np.full(11, 0.01),
                               "val_err": np.full(11, 0.02)} for n in (2, 10)}
        return overfitting_figure(curves, title="tiny run")
    if kind == "sampled-energy":
        from pyqhn.plotting.gradient_free import sampled_energy_figure

        sampled = {k: problem.c_star + rng.exponential(0.02, 100) for k in energies}
        return sampled_energy_figure(sampled, c_star=problem.c_star, title="tiny run")
    if kind == "noise-sweep":
        from pyqhn.plotting.gradient_free import noise_sweep_figure

        groups = {f"p={p}": problem.c_star + p * 0.01 + rng.exponential(0.01, 8)
                  for p in (0.0, 0.5, 1.0)}
        sampled = {k: v.repeat(10) for k, v in groups.items()}
        return noise_sweep_figure(groups, sampled, p={k: float(k[2:]) for k in groups},
                                  c_star=problem.c_star, epsilon=0.01, title="tiny run")
    if kind == "sampled-training":
        from pyqhn.plotting.sampled import sampled_training_figure

        curves = {k: {"train": [0.7 - 0.01 * np.arange(21)],
                      "val": [np.where(np.arange(21) % 5 == 0, 0.7 - 0.01 * np.arange(21),
                                       np.nan)]} for k in ("blocks=2", "blocks=4")}
        n_test = 100
        shots = {k: (np.arange(n_test + 1) / n_test,
                     np.bincount(rng.binomial(n_test, 0.95, 1000), minlength=n_test + 1))
                 for k in curves}
        return sampled_training_figure(curves, shots, 0.97, title="tiny run")
    if kind == "vi":
        from types import SimpleNamespace

        from pyqhn.plotting.vi import vi_figure

        config = SimpleNamespace(datasets=("moons",), objectives=("mle", "elbo"))
        histories = {f"moons/{o}/{s}": rng.random((6, 3)) + 0.1 for o in config.objectives
                     for s in ("elbo", "selbo", "ce_train", "ce_test", "grad_norm")}
        table = pd.DataFrame({"dataset": "moons", "objective": list(config.objectives),
                              "mean_test_acc_mean": [0.8, 0.7], "mean_test_acc_std": 0.05,
                              "best_test_acc_mean": [0.9, 0.8], "best_test_acc_std": 0.05})
        return vi_figure(histories, table, config)
    if kind == "decision-boundary":
        from pyqhn.datasets import Dataset
        from pyqhn.plotting.basic import decision_boundary

        data = Dataset(problem.dataset.x[:, :2], problem.dataset.y)

        class FirstTwo:
            def predict_proba(self, g):
                clf = problem.classifier(problem.optimum_bits())
                return clf.predict_proba(np.c_[g, np.zeros(len(g))])

        return decision_boundary(FirstTwo(), data, title="tiny run", resolution=40)
    if kind == "weight-spectrum-plot":
        from pyqhn.fourier import weight_spectrum
        from pyqhn.plotting.basic import weight_spectrum_plot

        return weight_spectrum_plot({"tiny": weight_spectrum(problem.cost_table())},
                                    title="tiny run")
    raise AssertionError(kind)


@pytest.mark.parametrize("kind", FIGURES)
def test_no_text_overlaps_an_axes(kind, tiny):
    assert_no_text_overlaps(draw(kind, tiny))


def test_the_overlap_check_can_fail():
    plt = pyplot()
    fig, (a, b) = plt.subplots(1, 2, figsize=(4, 2))
    a.text(0.5, 0.5, "a long line of text that runs across into the next panel",
           transform=a.transAxes)
    with pytest.raises(AssertionError, match="overlaps"):
        assert_no_text_overlaps(fig)


def test_density_panels_have_a_y_scale_and_say_what_the_dos_counts(tiny):
    fig = _landscape(tiny)
    fig.canvas.draw()
    dos_row = next(ax for ax in fig.axes if ax.get_xlabel().startswith(r"$E(\theta)$"))
    density_rows = [ax for ax in fig.axes if ax is not dos_row
                    and ax.get_shared_x_axes().joined(ax, dos_row)]
    assert len(density_rows) == len(tiny[1].energies())
    for ax in [*density_rows, dos_row]:
        labels = [t.get_text() for t in ax.get_yticklabels() if t.get_text()]
        assert len(labels) >= 2, ax.get_ylabel()
    # one y scale for every density row, and no curve cut off at the top
    assert len({ax.get_ylim() for ax in density_rows}) == 1
    top = density_rows[0].get_ylim()[1]
    assert all(line.get_ydata().max() <= top for ax in density_rows for line in ax.get_lines()
               if len(line.get_ydata()) > 2)
    legend = [t.get_text() for t in dos_row.get_legend().get_texts()]
    problem, _ = tiny
    assert legend == [f"the {min(200, 2 ** problem.n_bits)} lowest $C(w)$ of all "
                      f"$2^{{{problem.n_bits}}}$ BiNNs"]
    assert "states" in dos_row.get_ylabel() and "count" in dos_row.get_ylabel()
    pyplot().close(fig)


def test_text_panel_is_wrapped_to_its_column(tiny):
    problem, _ = tiny
    text = _layout_text(problem) + " " + "W1=[-1 1 1 1 1 -1] " * 8
    fig = _landscape(tiny, text=text)
    fig.canvas.draw()
    panel = next(ax for ax in fig.axes if not ax.axison)
    (shown,) = panel.texts
    box = shown.get_window_extent(fig.canvas.get_renderer())
    assert box.x1 <= panel.bbox.x1 + 1 and box.y0 >= panel.bbox.y0 - 1
    assert shown.get_text().replace("\n", "").replace(" ", "") == text.replace(
        "\n", "").replace(" ", "")  # wrapped, nothing dropped
    pyplot().close(fig)


def test_sampled_accuracy_histogram_zooms_to_the_data_and_names_n_layer():
    from pyqhn.plotting.sampled import sampled_training_figure

    n_test = 426
    acc = np.arange(n_test + 1) / n_test
    shots = np.zeros(n_test + 1)
    shots[[418, 420, 421, 422]] = [5, 40, 300, 5000]   # the mass near 0.99, as in mnist8x8
    curves = {"blocks=2": {"train": [np.linspace(1, 0.1, 5)], "val": [np.full(5, np.nan)]}}
    fig = sampled_training_figure(curves, {"blocks=2": (acc, shots)}, 422 / n_test)
    ax = fig.axes[1]
    lo, hi = ax.get_xlim()
    assert 0.97 < lo < 418 / n_test and 422 / n_test < hi <= 1.0 + 1 / n_test
    (stairs,) = [p for p in ax.patches]
    heights = stairs.get_data().values
    assert np.isclose(heights.sum(), 1.0) and np.count_nonzero(heights) >= 3
    labels = [t.get_text() for a in fig.axes if a.get_legend()
              for t in a.get_legend().get_texts()]
    assert r"$N_{\rm layer} = 1$" in labels and not any("blocks=" in t for t in labels)
    pyplot().close(fig)
