"""The audit's numbers (issue 27) come from scripts/audit_tables.py and
scripts/fig4_optimizer_variants.py: the committed tables are what the code computes, and the
authors' outputs read as their files say."""

from __future__ import annotations

import importlib.util
from pathlib import Path

import numpy as np
import pandas as pd
import pytest
from conftest import REFERENCE

from pyqhn.analysis import runs_to_separate, two_proportion_p

ROOT = Path(__file__).resolve().parents[1]
AUDIT = ROOT / "docs" / "audit"
HAS_REFERENCE = ((REFERENCE / "binncode_mnist4x4_blocks4.npz").is_file()
                 and (REFERENCE / "binncode_mnist4x4_outputs.npz").is_file())
needs_reference = pytest.mark.skipif(
    not HAS_REFERENCE, reason=f"the authors' artifacts are not in {REFERENCE}")


def _script(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name}.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    return module


@pytest.fixture(scope="module")
def audit():
    return _script("audit_tables")


def test_two_proportion_test_and_sample_size():
    # symmetric, 1 for equal proportions, small for far-apart ones
    assert two_proportion_p(430, 500, 272, 300) == pytest.approx(
        two_proportion_p(272, 300, 430, 500))
    assert two_proportion_p(50, 100, 50, 100) == pytest.approx(1.0)
    assert two_proportion_p(90, 100, 10, 100) < 1e-20
    assert np.isnan(two_proportion_p(0, 10, 0, 10))
    # the textbook case: 0.5 vs 0.6 at 5 % and 80 % power needs 388 per group
    assert runs_to_separate(0.5, 0.6) == 388
    assert runs_to_separate(0.6, 0.5) == 388
    assert runs_to_separate(0.5, 0.5) == np.inf
    # a simulated check of the power: at that size the test rejects in about 80 % of draws
    rng = np.random.default_rng(0)
    n = int(runs_to_separate(0.3, 0.45))
    k1, k2 = rng.binomial(n, 0.3, 2000), rng.binomial(n, 0.45, 2000)
    power = np.mean([two_proportion_p(a, n, b, n) < 0.05 for a, b in zip(k1, k2, strict=True)])
    assert 0.76 < power < 0.84


def test_depth_comparisons_table_is_what_the_code_computes(audit):
    text = audit.build(REFERENCE)["depth_comparisons.md"]
    assert text == (AUDIT / "depth_comparisons.md").read_text()
    df = audit.depth_comparisons(pd.read_csv(audit.ABLATION))
    fig3 = df[(df.figure == "fig3") & (df.earlier == 0) & (df.later == 3)].iloc[0]
    assert fig3["diff"] == pytest.approx(0.474 - 0.392)
    assert fig3["p"] < 0.01  # the significant product → N_layer 3 gain of Fig. 3
    fig2 = df[(df.figure == "fig2") & (df.earlier == 0) & (df.later >= 3)]
    assert (fig2["p"] > 0.05).all()  # neither product → 3 nor → 4 is significant


@needs_reference
def test_authors_tables_are_what_the_code_computes(audit):
    files = audit.build(REFERENCE)
    for name in ("fig4_authors.md", "fig10_authors.md", "product_noise.md"):
        assert files[name] == (AUDIT / name).read_text(), name
    # docs/results.md shows the Fig. 10 table as the script writes it
    table = files["fig10_authors.md"].split("\n\n", 1)[1]
    assert table in (ROOT / "docs" / "results.md").read_text()


@needs_reference
def test_authors_outputs_read_as_described():
    with np.load(REFERENCE / "binncode_mnist4x4_blocks4.npz") as f:
        c_star = float(f["cost"].min())
    with np.load(REFERENCE / "binncode_mnist4x4_outputs.npz") as f:
        final, ps, noisy = f["noise_free_final_energy"], f["p"], f["noisy_energy"]
        sampled = f["noisy_sampled_cost"]
    assert final.shape == (300,) and noisy.shape == (10, 100) and sampled.shape == (10, 100_000)
    assert int(np.sum(final - c_star < 5e-5)) == 272
    # every failure sits one level up (the next-best bitstring), none in between
    excess = final - c_star
    assert np.all((excess < 5e-5) | ((excess > 3e-4) & (excess < 3.3e-4)))
    within = [np.mean(noisy[i] - c_star < 0.015) for i in range(4)]
    np.testing.assert_allclose(ps[:4], [0.2, 0.4, 0.6, 0.8])
    np.testing.assert_allclose(within, [1.0, 0.96, 0.17, 0.0])
    # the lowest of the samples is the optimum at every noise strength
    np.testing.assert_allclose(sampled.min(axis=1), c_star, rtol=0, atol=1e-12)


@needs_reference
def test_fig4_variant_table_rows(tmp_path):
    variants = _script("fig4_optimizer_variants")
    df = variants.table(tmp_path, REFERENCE)  # no run folder: the authors and docs/depth
    assert len(df) == 2
    row = df.iloc[0]
    assert (row["successes"], row["runs"]) == (272, 300)
    assert row["mean_excess"] == pytest.approx(3.3e-5, abs=0.05e-5)
    pooled = df.iloc[1]  # docs/depth's 500 runs at N_layer = 2 on the authors' table
    assert (pooled["successes"], pooled["runs"]) == (430, 500)
    assert pooled["p_vs_authors"] == pytest.approx(two_proportion_p(430, 500, 272, 300))


def test_success_by_iteration_reads_histories(tmp_path):
    import json

    variants = _script("fig4_optimizer_variants")
    c_star = 1.0
    with open(tmp_path / "history.jsonl", "w") as f:
        # run 0 reaches C* at iteration 150; run 1 stops early (3 values) above C*;
        # run 2 never gets within ε
        f.write(json.dumps({"f": [2.0] * 150 + [1.0] * 351}) + "\n")
        f.write(json.dumps({"f": [3.0, 2.0, 1.0 + 1e-3]}) + "\n")
        f.write(json.dumps({"f": [1.0 + 1e-4] * 501}) + "\n")
    s = variants.success_by_iteration(tmp_path, c_star, checkpoints=(100, 150, 500))
    assert s == {100: 0.0, 150: pytest.approx(1 / 3), 500: pytest.approx(1 / 3)}
