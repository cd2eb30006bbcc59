"""The figures name circuits as the paper does (N_layer) and label the C* and C*+ε lines."""

import numpy as np

from pyqhn.plotting import circuit_label
from pyqhn.plotting.paper import landscape_figure


def test_circuit_label_is_n_layer():
    assert circuit_label("blocks=2") == r"$N_{\rm layer} = 1$"
    assert circuit_label("blocks=8") == r"$N_{\rm layer} = 4$"
    assert circuit_label("product") == "product"
    assert circuit_label("blocks=3") == "blocks=3"  # odd blocks have no N_layer
    assert circuit_label("sa") == "sa"


def test_landscape_figure_axes_use_n_layer_and_legend_c_star_lines():
    rng = np.random.default_rng(0)
    cost = rng.random(256)
    c_star = float(cost.min())
    energies = {k: c_star + rng.random(20) * 0.1 for k in ("product", "blocks=2", "blocks=4")}
    fig = landscape_figure(energies=energies, cost=cost, c_star=c_star, epsilon=0.03)
    texts = [t.get_text() for ax in fig.axes for t in ax.get_xticklabels()]
    ylabels = [ax.get_ylabel() for ax in fig.axes]
    assert r"$N_{\rm layer} = 2$" in texts and r"$N_{\rm layer} = 1$" in ylabels
    assert not any("blocks=" in t for t in texts + ylabels)
    legends = [t.get_text() for ax in fig.axes if ax.get_legend()
               for t in ax.get_legend().get_texts()]
    assert "$C^*$" in legends
    assert any(t.startswith(r"$C^* + \epsilon$") and "0.03" in t for t in legends)


def test_weight_spectrum_leaves_out_values_below_round_off():
    from pyqhn.plotting import roundoff_floor
    from pyqhn.plotting.paper import weight_spectrum_figure

    n = 10
    # W(S) of a cost with weight only at S <= 2, plus round-off-sized values at S = 3, 4
    w = np.zeros(n + 1)
    w[:3] = [1.0, 0.25, 0.0625]
    w[3], w[4] = 1e-33, 3e-31
    floor = roundoff_floor(w)
    assert 3e-31 < floor < 1e-28  # 10 N eps^2 sum(W)
    fig = weight_spectrum_figure({"task": w})
    (line,) = fig.axes[0].get_lines()
    np.testing.assert_array_equal(line.get_xdata(), [1, 2])
    assert np.all(line.get_ydata() > floor)


def test_sampled_energy_histograms_count_every_sample_on_a_log_axis():
    """Figs. 9/13: a rare high-cost tail stays visible (log counts) and no sample is lost."""
    from pyqhn.plotting.gradient_free import sampled_energy_figure

    rng = np.random.default_rng(1)
    c_star = 0.3
    sampled = {"product": np.r_[np.full(990, c_star), 0.3 + 2.0 * rng.random(10)],
               "blocks=2": np.r_[np.full(900, c_star + 0.01), 0.3 + 1.5 * rng.random(100)]}
    fig = sampled_energy_figure(sampled, c_star=c_star, x_values={"product": 0, "blocks=2": 1})
    hist_axes = [ax for ax in fig.axes if ax.patches]
    assert len(hist_axes) == 2
    for ax, e in zip(hist_axes, sampled.values(), strict=True):
        assert ax.get_yscale() == "log"
        assert sum(p.get_height() for p in ax.patches) == e.size
    mean_line = next(ln for ax in fig.axes for ln in ax.get_lines()
                     if ln.get_label() == "mean sampled energy")
    np.testing.assert_allclose(mean_line.get_ydata(), [np.mean(e) for e in sampled.values()])
