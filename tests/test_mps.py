"""The MPS engine against the exact engine; sampled objectives and SPSA / QN-SPSA /
score-function training on a small enumerable problem."""

from __future__ import annotations

import jax
import jax.numpy as jnp
import numpy as np
import pytest
from scipy import stats

from pyqhn import datasets, models
from pyqhn import sampled_objectives as so
from pyqhn import shot_estimators as se
from pyqhn.bits import bits_to_index, index_to_bits
from pyqhn.checks import InputError
from pyqhn.circuits import brickwork_circuit, product_circuit, random_params
from pyqhn.engines import exact, get_engine, mps
from pyqhn.optimizers import adam_optimizer, minimize, qnspsa_optimizer, spsa_optimizer

# build_mps under one jit: op-by-op dispatch of its block loop costs seconds per call
_build = jax.jit(mps.build_mps, static_argnums=0, static_argnames="max_bond")

CIRCUITS = [product_circuit(5), brickwork_circuit(5, 1), brickwork_circuit(6, 2),
            brickwork_circuit(7, 3), brickwork_circuit(6, 4), brickwork_circuit(5, 5)]


@pytest.mark.parametrize("circuit", CIRCUITS, ids=lambda c: f"{c.name}-n{c.n_qubits}")
def test_probabilities_log_probs_and_overlaps_match_exact(circuit):
    th = random_params(circuit, 2, seed=1)
    p = get_engine("exact").probabilities(circuit, th)
    np.testing.assert_allclose(get_engine("mps").probabilities(circuit, th), p, atol=1e-12)
    n = circuit.n_qubits
    lp = mps.log_prob(circuit, th[0], index_to_bits(np.arange(2**n), n))
    np.testing.assert_allclose(np.exp(lp), p[0], atol=1e-12)
    psi = np.asarray(exact.state(circuit, th))
    assert abs(mps.overlap(circuit, th[0], th[1]) - np.vdot(psi[0], psi[1])) < 1e-12


def test_bond_dimensions():
    assert [mps.exact_bond(c) for c in CIRCUITS] == [1, 1, 2, 2, 4, 4]
    c = brickwork_circuit(1000, 4)
    a = _build(c, random_params(c, seed=0))
    assert a.tensors.shape == (1000, 4, 2, 4) and float(a.truncation_error) == 0.0


def test_energy_and_log_prob_gradients_match_exact_n17_blocks4():
    c = brickwork_circuit(17, 4)
    th = random_params(c, seed=4)
    cost = np.random.default_rng(0).random(2**17)
    e1, g1 = get_engine("exact").energy_and_grad(c, th, cost)
    e2, g2 = get_engine("mps").energy_and_grad(c, th, cost)
    assert abs(e1 - e2) < 1e-10 and np.abs(g1 - g2).max() < 1e-10
    k = np.random.default_rng(1).integers(0, 2**17, 40)
    w = np.random.default_rng(2).normal(size=40)
    v, g = mps.weighted_log_prob_grad(c, th, index_to_bits(k, 17), w)
    probs = get_engine("exact").jax_probabilities(c)
    v_ex, g_ex = jax.jit(jax.value_and_grad(
        lambda t: jnp.sum(jnp.asarray(w) * jnp.log(probs(t)[jnp.asarray(k)]))))(jnp.asarray(th))
    assert abs(v - float(v_ex)) < 1e-10 and np.abs(g - np.asarray(g_ex)).max() < 1e-10


@pytest.mark.parametrize("circuit", [brickwork_circuit(8, 4), brickwork_circuit(12, 3),
                                     product_circuit(10)], ids=lambda c: c.name)
def test_sampler_chi2_against_exact_probabilities(circuit):
    th = random_params(circuit, seed=3)
    p = get_engine("exact").probabilities(circuit, th)
    shots = 100_000
    idx = get_engine("mps").sample(circuit, th, shots, seed=5)
    # pool outcomes into bins of expected count >= 5 (the rest into one bin)
    exp = p * shots
    big = exp >= 5
    obs = np.bincount(idx, minlength=p.size)
    o = np.r_[obs[big], obs[~big].sum()]
    e = np.r_[exp[big], exp[~big].sum()]
    keep = e > 0
    chi2 = float(((o[keep] - e[keep]) ** 2 / e[keep]).sum())
    pval = stats.chi2.sf(chi2, keep.sum() - 1)
    assert pval > 1e-3, (chi2, pval)


def test_samples_seeded_and_bit_order():
    c = brickwork_circuit(9, 2)
    th = random_params(c, seed=2)
    eng = get_engine("mps")
    a = eng.sample_bits(c, th, 50, seed=7)
    assert a.shape == (50, 9) and a.dtype == np.uint8
    np.testing.assert_array_equal(a, eng.sample_bits(c, th, 50, seed=7))
    assert not np.array_equal(a, eng.sample_bits(c, th, 50, seed=8))
    # site 1 carries the least significant bit: a state with only site 1 flipped
    pc = product_circuit(3)
    t = np.zeros(6)
    t[0] = np.pi  # Ry(π) on site 1
    assert eng.sample(pc, t, 4, seed=0).tolist() == [1, 1, 1, 1]
    assert eng.sample_bits(pc, t, 1, seed=0).tolist() == [[0, 0, 1]]  # parameter 2 = site 1


def test_truncation_error_reported():
    c = brickwork_circuit(6, 4)
    th = random_params(c, seed=0)
    full = _build(c, th)
    assert mps.exact_bond(c) == 4
    for bond in (2,):
        t = _build(c, th, max_bond=bond)
        la, _ = jax.jit(mps._log_overlap)(full.tensors, t.tensors)
        infidelity = 1 - float(np.exp(2 * la))
        err = float(t.truncation_error)
        assert 0 < infidelity <= 1.05 * err + 1e-12
    assert float(_build(c, th, max_bond=4).truncation_error) == 0.0
    with pytest.raises(InputError, match="exact MPS"):
        mps.MpsEngine(max_bond=2).weighted_log_prob_grad(c, th, np.zeros((1, 6)), [1.0])
    with pytest.raises(InputError, match="max_bond"):
        mps.MpsEngine(max_bond=0)


@pytest.mark.parametrize("circuit", [brickwork_circuit(10, 4), product_circuit(6)],
                         ids=lambda c: c.name)
def test_most_probable_beam_search(circuit):
    eng = get_engine("mps")
    th = 0.5 * random_params(circuit, 4, seed=6)
    p = get_engine("exact").probabilities(circuit, th)
    n, certified = circuit.n_qubits, 0
    for t, pt in zip(th, p, strict=True):
        mode = index_to_bits(np.array([pt.argmax()]), n)[0]
        m = eng.most_probable(circuit, t, width=16)
        assert abs(np.exp(m.log_prob) - pt[bits_to_index(m.bits[None])[0]]) < 1e-12
        if m.certified:  # a certificate is never wrong
            np.testing.assert_array_equal(m.bits, mode)
            certified += 1
        # a beam of 2**(n-1) keeps every prefix until the last site: exact
        full = eng.most_probable(circuit, t, width=2 ** (n - 1))
        assert full.certified and np.array_equal(full.bits, mode)
    assert certified >= 1  # the certificate is not vacuous at width 16


def test_thousand_qubits_bounded_memory():
    c = product_circuit(1000)
    th = random_params(c, seed=0)
    bits = get_engine("mps").sample_bits(c, th, 300, seed=1)
    p1 = np.sin(th[:1000] / 2) ** 2  # P(site j = 1); bit row column i is site N - i
    z = (bits.mean(0)[::-1] - p1) / np.sqrt(p1 * (1 - p1) / 300 + 1e-12)
    assert abs(z.mean()) * np.sqrt(1000) < 4
    c4 = brickwork_circuit(1000, 4)
    th4 = random_params(c4, seed=0)
    eng = mps.MpsEngine(shot_chunk=16)  # memory O(16 · N) per pass whatever the shots
    b4 = eng.sample_bits(c4, th4, 32, seed=1)  # two passes of one compiled shape
    assert b4.shape == (32, 1000)
    lp = eng.log_prob(c4, th4, b4[:4])
    assert np.all(np.isfinite(lp)) and np.all(lp < 0)


def test_bad_inputs():
    c = brickwork_circuit(4, 2)
    with pytest.raises(InputError, match="bit rows of shape"):
        mps.log_prob(c, random_params(c), np.zeros((3, 5)))
    with pytest.raises(InputError, match="int64 index"):
        get_engine("mps").sample(product_circuit(70), np.zeros(140), 2)
    with pytest.raises(InputError, match="enumeration is limited"):
        get_engine("mps").probabilities(product_circuit(40), np.zeros(80))


# --------------------------------------------------------------------------- sampled training


@pytest.fixture(scope="module")
def small_problem():
    """Logistic regression on 2×2 MNIST, weights ±1 (N = 5), with its full cost table."""
    data = datasets.mnist_pair(size=2)
    model = models.AugmentedBiNN((4, 1), encodings=((-1.0, 1.0),), loss="cross_entropy")
    n = model.n_qubits
    table = model.cost(index_to_bits(np.arange(2**n), n), data)
    return table, (lambda b: model.cost(b, data)), brickwork_circuit(n, 2)


def test_cost_of_samples_evaluates_distinct_rows_once():
    calls = []

    def cost(b):
        calls.append(b.shape[0])
        return b.sum(1).astype(float)

    bits = np.array([[0, 1, 1], [1, 1, 1], [0, 1, 1], [0, 0, 0], [1, 1, 1]], dtype=np.uint8)
    np.testing.assert_array_equal(se.cost_of_samples(cost, bits), [2, 3, 2, 0, 3])
    assert calls == [4]  # 3 distinct rows padded to 4


def test_bit_row_shot_energy_unbiased(small_problem):
    table, cost, c = small_problem
    th = random_params(c, seed=0)
    e = float(get_engine("exact").energy(c, th, table))
    est = [se.bit_row_shot_energy(get_engine("mps"), c, th, cost, 100, seed=s)[0]
           for s in range(200)]
    assert abs(np.mean(est) - e) < 4 * np.std(est, ddof=1) / np.sqrt(len(est))


def _reached(small_problem, optimizer, objective, runs=2):
    table, _, c = small_problem
    x0 = random_params(c, runs, seed=1)
    state, history = minimize(optimizer, objective.bind(np.arange(runs)), x0)
    e = get_engine("exact").energy(c, state.x, table)
    best = get_engine("exact").probabilities(c, state.x).argmax(1)
    return e - table.min(), best == table.argmin(), history


def test_spsa_reaches_optimum(small_problem):
    _, cost, c = small_problem
    obj = so.sampled_energy_objective(get_engine("mps"), c, cost, shots=200)
    gap, hit, history = _reached(small_problem, spsa_optimizer(max_steps=150), obj)
    assert hit.all() and gap.max() < 0.02 and history.shape == (2, 151)


def test_qnspsa_reaches_optimum(small_problem):
    _, cost, c = small_problem
    eng = get_engine("mps")
    counter = so.ShotCounter()
    obj = so.sampled_energy_objective(eng, c, cost, shots=200, counter=counter)
    # without blocking (with it, threshold 2 × the shot noise at x0, E - C* reaches
    # 0.05 / 0.08 in 150 steps and C* is the most probable outcome of one run of two)
    opt = qnspsa_optimizer(so.fidelity_fn(eng, c), max_steps=150, blocking=False)
    gap, hit, _ = _reached(small_problem, opt, obj)
    assert hit.all() and gap.max() < 0.08  # C* is the most probable; 3rd-best is +0.09
    cols = counter.columns(np.arange(2))
    assert cols["n_shots"].tolist() == [200 * 2 * (10 + 1 + 150)] * 2  # calibration, init, steps


def test_score_function_adam_reaches_optimum(small_problem):
    _, cost, c = small_problem
    obj = so.score_function_objective(get_engine("mps"), c, cost, shots=100)
    gap, hit, _ = _reached(small_problem, adam_optimizer(learning_rate=0.1, max_steps=100),
                           obj, runs=1)
    assert hit.all() and gap.max() < 0.05


def test_score_function_gradient_unbiased(small_problem):
    table, cost, c = small_problem
    th = random_params(c, seed=2)
    _, g = get_engine("exact").energy_and_grad(c, th, table)
    obj = so.score_function_objective(get_engine("mps"), c, cost, shots=400)
    fn = obj.bind(np.arange(1))
    est = np.stack([fn(th[None])[1][0] for _ in range(30)])
    se = est.std(0, ddof=1) / np.sqrt(len(est))
    assert np.all(np.abs(est.mean(0) - g) < 5 * se + 1e-9)


def test_bit_cost_from_table_matches_model(small_problem):
    table, cost, _ = small_problem
    bits = index_to_bits(np.arange(32), 5)
    np.testing.assert_allclose(cost(bits), table[bits_to_index(bits)], atol=1e-12)


def test_shot_parameter_shift_gradient_unbiased_and_counted(small_problem):
    table, cost, c = small_problem
    th = random_params(c, seed=2)
    e, g = get_engine("exact").energy_and_grad(c, th, table)
    counter = so.ShotCounter()
    obj = so.shot_parameter_shift_objective(get_engine("mps"), c, cost, shots=100,
                                                 counter=counter)
    assert obj.uses_gradient
    fn = obj.bind(np.array([3]))
    reps = 20
    out = [fn(th[None]) for _ in range(reps)]
    values = np.array([v[0] for v, _ in out])
    est = np.stack([gr[0] for _, gr in out])
    assert np.unique(values).size == reps  # fresh shots every call
    assert abs(values.mean() - e) < 4 * values.std(ddof=1) / np.sqrt(reps)
    se = est.std(0, ddof=1) / np.sqrt(reps)
    assert np.all(np.abs(est.mean(0) - g) < 4 * se + 1e-9)
    # the estimator is noisy but informative: the mean is far from zero along g
    assert est.mean(0) @ g > 0.5 * g @ g
    p = c.n_params
    cols = counter.columns(np.array([3]))
    assert cols["n_circuits"].tolist() == [reps * (1 + 2 * p)]
    assert cols["n_shots"].tolist() == [reps * (1 + 2 * p) * 100]


def test_shot_parameter_shift_adam_through_the_driver(small_problem):
    from pyqhn.driver import Group, MemoryLog, run_groups, start_points

    table, cost, c = small_problem
    counter = so.ShotCounter()
    obj = so.shot_parameter_shift_objective(get_engine("mps"), c, cost, shots=50,
                                                 counter=counter)
    steps = 15
    group = Group("ps", c, obj, adam_optimizer(learning_rate=0.1, max_steps=steps), runs=2,
                  seed=1, measure=lambda x, runs, probs: counter.columns(runs))
    log = MemoryLog()
    table_out = run_groups([group], log, progress=False)
    e0 = get_engine("exact").energy(c, start_points(group, [0, 1]), table)
    e_final = get_engine("exact").energy(c, log.angles()["ps"], table)
    assert np.all(e_final < e0 - 0.05), (e0, e_final)
    per_call = 1 + 2 * c.n_params
    assert table_out["n_circuits"].tolist() == [per_call * (steps + 1)] * 2
    assert table_out["n_shots"].tolist() == [per_call * (steps + 1) * 50] * 2
