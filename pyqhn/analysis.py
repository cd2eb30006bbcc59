"""What is read off a runs table: success rates with Wilson intervals, per-group summaries.

A *success* is a run whose final objective is within ``ε`` of the exact optimum:
``e_final − C* < ε`` (C* from enumeration). Success probabilities come with Wilson score
intervals (``scipy.stats.binomtest(...).proportion_ci(method="wilson")``), which stay
informative at 0 and 1 where the Wald interval ``p ± sqrt(p(1−p)/R)`` collapses to a point.
"""

from __future__ import annotations

from collections.abc import Sequence

import numpy as np
import pandas as pd

__all__ = ["CONFIDENCE", "wilson_interval", "two_proportion_p", "runs_to_separate",
           "summarize_groups", "n_layer_of", "early_stopping"]

#: Confidence level of every interval the package reports and plots.
CONFIDENCE = 0.95


def wilson_interval(successes: int, trials: int,
                    confidence: float = CONFIDENCE) -> tuple[float, float]:
    """Wilson score interval ``(low, high)`` of a success probability ``successes /
    trials`` at ``confidence`` (95 % by default, :data:`CONFIDENCE`); ``(nan, nan)`` for
    no trials."""
    if trials <= 0:
        return float("nan"), float("nan")
    from scipy.stats import binomtest

    ci = binomtest(int(successes), int(trials)).proportion_ci(confidence_level=confidence,
                                                              method="wilson")
    return float(ci.low), float(ci.high)


def two_proportion_p(k1: int, n1: int, k2: int, n2: int) -> float:
    """Two-sided p value of the pooled two-proportion z test of ``k1/n1`` against
    ``k2/n2`` (``nan`` where the pooled variance is 0, e.g. both 0 or both 1)."""
    from scipy.stats import norm

    pooled = (k1 + k2) / (n1 + n2)
    se = np.sqrt(pooled * (1 - pooled) * (1 / n1 + 1 / n2))
    if not se > 0:
        return float("nan")
    return float(2 * norm.sf(abs(k1 / n1 - k2 / n2) / se))


def runs_to_separate(p1: float, p2: float, *, alpha: float = 0.05,
                     power: float = 0.8) -> float:
    """Runs per circuit for the two-sided pooled z test at level ``alpha`` to detect
    ``p1 ≠ p2`` with probability ``power`` (normal approximation, equal group sizes:
    ``n = (z_{α/2} √(2 p̄ q̄) + z_β √(p1 q1 + p2 q2))² / (p1 − p2)²``); ``inf`` if equal."""
    from scipy.stats import norm

    if p1 == p2:
        return float("inf")
    pbar = (p1 + p2) / 2
    za, zb = norm.isf(alpha / 2), norm.isf(1 - power)
    n = (za * np.sqrt(2 * pbar * (1 - pbar))
         + zb * np.sqrt(p1 * (1 - p1) + p2 * (1 - p2))) ** 2 / (p1 - p2) ** 2
    return float(np.ceil(n))


def n_layer_of(circuit_name: str) -> float:
    """The paper's N_layer of a circuit name: ``blocks=B`` → B/2, ``product`` → 0."""
    return int(circuit_name.split("=")[1]) / 2 if circuit_name.startswith("blocks=") else 0.0


def summarize_groups(table: pd.DataFrame, c_star: float, epsilon: float,
                     groups: Sequence[str] | None = None, *,
                     column: str = "e_final") -> list[dict]:
    """Per-group statistics of a runs table.

    Args:
        table: runs table with columns ``group`` (or ``circuit``) and ``column``.
        c_star: exact optimum ``C*``.
        epsilon: success threshold ``ε``.
        groups: groups in display order (default: order of appearance).
        column: the final objective column.

    Returns:
        One dict per group: ``name, n_layer, runs, successes, success_probability``,
        ``success_interval`` (95 % Wilson ``[low, high]``), ``success_error`` (binomial
        standard error, kept for comparison with earlier results), ``mean_energy,
        std_energy, min_energy, median_energy`` and ``mean_evals`` (objective evaluations
        per run: circuit energies, or cost evaluations of a classical search).
    """
    key = "group" if "group" in table.columns else "circuit"
    names = list(groups) if groups is not None else list(dict.fromkeys(table[key]))
    rows = []
    for name in names:
        sub = table[table[key] == name]
        e = sub[column].to_numpy(dtype=np.float64)
        k = int(np.sum(e - c_star < epsilon))
        p = k / e.size if e.size else float("nan")
        circuit = str(sub["circuit"].iloc[0]) if "circuit" in sub and len(sub) else name
        rows.append(dict(
            name=name,
            n_layer=n_layer_of(circuit),
            runs=int(e.size),
            successes=k,
            success_probability=p,
            success_interval=list(wilson_interval(k, e.size)),
            success_error=float(np.sqrt(p * (1 - p) / e.size)) if e.size else float("nan"),
            mean_energy=float(e.mean()) if e.size else float("nan"),
            std_energy=float(e.std()) if e.size else float("nan"),
            min_energy=float(e.min()) if e.size else float("nan"),
            median_energy=float(np.median(e)) if e.size else float("nan"),
        ))
        if "n_evals" in sub:
            rows[-1]["mean_evals"] = float(sub["n_evals"].mean()) if len(sub) else float("nan")
    return rows


def early_stopping(val: np.ndarray, *, z: float = 1.96) -> dict:
    """The early-stopping point of validation curves (Fig. 7).

    Args:
        val: ``(D, T)`` validation energy of ``D`` independent draws at iterations
            ``0..T-1`` (one training run per draw).
        z: the normal quantile of the reported intervals (1.96: 95 %).

    Returns:
        ``iteration``: argmin of the mean curve; ``depth``: mean over draws of
        ``val[:, -1] - val[:, iteration]`` (how much lower the minimum is than the end),
        with its standard error ``depth_error`` and ``significant`` (``depth > z ·
        error``, with ``iteration < T-1``); ``interior``: whether the minimum is before
        the last iteration; ``fraction_of_draws``: fraction of draws whose own curve
        reaches, before its last iteration, a value lower than its final one by more than
        ``z`` standard errors of the depth (a per-draw minimum beyond the across-draw
        noise).
    """
    val = np.asarray(val, dtype=np.float64)
    if val.ndim != 2 or val.shape[1] < 2:
        raise ValueError(f"val must have shape (draws, iterations >= 2), got {val.shape}")
    d, t = val.shape
    mean = val.mean(axis=0)
    it = int(np.argmin(mean))
    gap = val[:, -1] - val[:, it]
    depth = float(gap.mean())
    err = float(gap.std(ddof=1) / np.sqrt(d)) if d > 1 else float("nan")
    own = val[:, -1] - val[:, :-1].min(axis=1)
    return dict(iteration=it, iterations=t, interior=it < t - 1,
                min_val_energy=float(mean[it]), final_val_energy=float(mean[-1]),
                depth=depth, depth_error=err,
                significant=bool(it < t - 1 and depth > z * err),
                fraction_of_draws=float(np.mean(own > z * err)) if d > 1 else float("nan"))
