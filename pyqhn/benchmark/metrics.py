"""Success against budget, time to solution and its growth with N.

* :func:`success_table`: one tidy row per (instance, method, budget, criterion) from the
  runs table — ``runs, successes, success`` and its Wilson interval
  (:func:`pyqhn.analysis.wilson_interval`), ``tts99`` at that budget.
* :func:`tts99`: ``TTS99(b) = b · ln(0.01) / ln(1 − p(b))`` (Rønnow et al., Science 2014):
  the evaluations needed to find a solution with 99 % probability by repeating runs of
  budget ``b``; ``b`` when ``p ≥ 0.99``, infinite when ``p = 0``.
* :func:`tts_table`: per (instance, method, criterion) the minimum over the budgets tried.
* :func:`tts_summary`: median and quartiles over the instances of each N.
* :func:`growth_fit`: least squares of ``log10 TTS`` on ``N`` over every instance with a
  finite TTS, slope with its 95 % t-interval (:func:`scipy.stats.linregress`); instances
  never solved are counted, not fitted (they would only make the growth steeper).

Criteria: ``a`` best BiNN evaluated, ``b`` E(θ), ``c`` most probable BiNN (circuits and
exact-energy L-BFGS); success is ``value − reference < ε``.
"""

from __future__ import annotations

import math

import numpy as np
import pandas as pd

from ..analysis import wilson_interval

__all__ = ["CRITERIA", "tts99", "success_table", "tts_table", "tts_summary", "growth_fit",
           "BENCHMARK_COLUMNS"]

#: Criterion → the runs-table column it reads.
CRITERIA = {"a": "best_cost", "b": "energy", "c": "mode_cost"}

BENCHMARK_COLUMNS = ("instance", "n_qubits", "method", "budget", "runs", "successes",
                     "success", "success_low", "success_high", "epsilon", "reference",
                     "reference_exact", "tts99", "criterion")

#: Budgets of exact-energy methods, in units of 2**N (one energy = 2**N evaluations).
EXACT_ENERGIES = (8, 32, 128)


def tts99(budget: float, p: float) -> float:
    """Evaluations to reach 99 % success by repeating runs of ``budget`` evaluations."""
    if p >= 0.99:
        return float(budget)
    if p <= 0:
        return math.inf
    return float(budget * math.log(0.01) / math.log(1.0 - p))


def success_table(runs: pd.DataFrame, references: dict[str, tuple[float, bool]],
                  epsilon: float) -> pd.DataFrame:
    """Tidy success rows (:data:`BENCHMARK_COLUMNS`) of the runs table ``runs`` (columns
    ``instance, method, budget, n_qubits, best_cost`` and, for circuits, ``energy,
    mode_cost``; exact-energy methods also ``n_evals, evals_per_energy``).
    ``references``: instance → ``(reference, exact)``."""
    rows = []
    for (inst, method, budget), g in runs.groupby(["instance", "method", "budget"], sort=True):
        ref, exact = references[inst]
        n = int(g["n_qubits"].iloc[0])
        exact_method = method.endswith("-lbfgs-exact")
        for crit, col in CRITERIA.items():
            if col not in g or g[col].isna().all():
                continue
            if exact_method and crit == "a":
                continue  # every energy evaluates all 2**N BiNNs: (a) is trivially met
            ok = (g[col].to_numpy(float) - ref) < epsilon
            if exact_method:
                charged = g["n_evals"].to_numpy(float) * 2.0**n
                points = [(2**n * k, ok & (charged <= 2**n * k)) for k in EXACT_ENERGIES]
            else:
                points = [(int(budget), ok)]
            for b, hit in points:
                k, m = int(hit.sum()), len(hit)
                lo, hi = wilson_interval(k, m)
                rows.append(dict(instance=inst, n_qubits=n, method=method, budget=int(b),
                                 runs=m, successes=k, success=k / m, success_low=lo,
                                 success_high=hi, epsilon=epsilon, reference=ref,
                                 reference_exact=bool(exact), tts99=tts99(b, k / m),
                                 criterion=crit))
    return pd.DataFrame(rows, columns=list(BENCHMARK_COLUMNS))


def tts_table(success: pd.DataFrame) -> pd.DataFrame:
    """Per (instance, n_qubits, method, criterion): ``tts99`` minimised over budgets and
    the budget that minimises it."""
    if success.empty:
        return pd.DataFrame(columns=["instance", "n_qubits", "method", "criterion", "tts99",
                                     "best_budget"])
    idx = success.groupby(["instance", "method", "criterion"])["tts99"].idxmin()
    best = success.loc[idx, ["instance", "n_qubits", "method", "criterion", "tts99", "budget"]]
    return best.rename(columns={"budget": "best_budget"}).reset_index(drop=True)


def tts_summary(tts: pd.DataFrame, criterion: str = "a") -> pd.DataFrame:
    """Median and quartiles of TTS99 over the instances of each (method, N); ``solved``
    counts instances with a finite TTS (an unsolved instance counts as infinite)."""
    t = tts[tts["criterion"] == criterion]
    rows = []
    for (method, n), g in t.groupby(["method", "n_qubits"]):
        v = g["tts99"].to_numpy(float)
        q1, med, q3 = np.quantile(v, [0.25, 0.5, 0.75], method="inverted_cdf")
        rows.append(dict(method=method, n_qubits=int(n), instances=len(v),
                         solved=int(np.isfinite(v).sum()), tts_q1=q1, tts_median=med,
                         tts_q3=q3))
    return pd.DataFrame(rows)


def growth_fit(tts: pd.DataFrame, criterion: str = "a",
               confidence: float = 0.95) -> pd.DataFrame:
    """Per method: slope ``β`` of ``log10 TTS99 = α + β N`` with its interval, fitted on
    the instances with a finite TTS (at least 3 instances at 2 distinct N)."""
    from scipy import stats

    t = tts[(tts["criterion"] == criterion)]
    rows = []
    for method, g in t.groupby("method"):
        fin = g[np.isfinite(g["tts99"].to_numpy(float))]
        row = dict(method=method, instances=len(g), fitted=len(fin),
                   n_min=int(g["n_qubits"].min()), n_max=int(g["n_qubits"].max()),
                   slope=np.nan, slope_low=np.nan, slope_high=np.nan, factor_per_qubit=np.nan)
        if len(fin) >= 3 and fin["n_qubits"].nunique() >= 2:
            fit = stats.linregress(fin["n_qubits"].to_numpy(float),
                                   np.log10(fin["tts99"].to_numpy(float)))
            half = stats.t.ppf(0.5 + confidence / 2, len(fin) - 2) * fit.stderr
            row.update(slope=fit.slope, slope_low=fit.slope - half,
                       slope_high=fit.slope + half, factor_per_qubit=10**fit.slope)
        rows.append(row)
    return pd.DataFrame(rows)
