"""Figs. 8–13 of the paper (appendix): gradient-free and noisy optimisation on MNIST.

One shared pipeline (:func:`run_appendix`) for the six figures. A figure is a list of
*groups*; a group is ``R`` runs of one circuit at one noise strength ``p``, either

* ``"optimise"``: probabilistic-descent direct search
  (:func:`pyqhn.optimizers.direct_search.probabilistic_descent_batch`, BlackBoxOptim's
  defaults, box ``(−π, π)``) on the exact energy ``Tr(ρ_θ Ĉ)`` at noise ``p`` (``p = 0``:
  the pure-state ``E(θ)``), starting from ``random_params(circuit, seed=seed + r)``; or
* ``"evaluate"``: the final angles of run ``r`` of another group, re-evaluated at noise
  ``p`` (Fig. 10: noise-free optima under noise).

Every finished run is then measured: its outcome distribution ``diag ρ_θ`` gives
``n_samples`` (paper: 1000) sampled bit strings, whose costs are the *sampled energies*.

Figures (paper settings; MNIST 0 vs 1 at 4×4, logistic regression, N = 17):

* fig8 / fig9: noise-free direct search vs depth (product, blocks 2, 4, 6 = N_layer 1..3),
  300 runs each, ε = 5e-4. fig8 draws the final-energy KDE and the success probability,
  fig9 the sampled-energy histograms and mean / minimum sampled energy vs depth.
* fig10: noise sweep p = 0.2 … 2.0 on 100 noise-free optima at fixed depth (blocks = 4,
  our assumption; the reference group ``p=0`` is the noise-free optimisation itself).
* fig11: direct search under noise at every p of the sweep, 10 runs each, same depth.
* fig12 / fig13: as fig8 / fig9 with noisy optimisation at p = 1, ε = 1.5e-2.

The paper gives no ε for Figs. 10–11; we use the noisy threshold 1.5e-2 of Figs. 12–13.
The noise is :meth:`pyqhn.noise.NoiseModel.from_strength` (``(λ1, λ2) = p·(0.001,
0.00375)``, 2-qubit channel after each CX).

Engine: energies come from :mod:`pyqhn.engines.density` for every ``p`` (with
``NoiseModel.noiseless()`` at ``p = 0``, exact to rounding and on a CPU several times faster
than :func:`pyqhn.engines.exact.energy` for these shallow circuits). Each objective call is
padded to the batch size, so every (circuit, p) compiles once.

Files in ``DIR``: ``cost.npz`` (cached enumeration), ``config.json``, ``runs.csv`` (one
tidy row per run, appended as each batch finishes; rerunning skips finished runs),
``samples.jsonl`` (sampled outcome indices per run), ``summary.json`` and
``<figure>.png`` / ``.pdf``.
"""

from __future__ import annotations

import json
import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..circuits import Circuit, brickwork_circuit, product_circuit, random_params
from ..engines.density import noisy_energy, noisy_probabilities
from ..engines.exact import sample_from_probabilities
from ..noise import NoiseModel
from ..optimizers.direct_search import probabilistic_descent_batch
from ..runner import check_resume_settings

__all__ = [
    "AppendixSpec",
    "Group",
    "APPENDIX",
    "APPENDIX_FIGURES",
    "RUN_COLUMNS",
    "spec_for",
    "build_cost",
    "groups_for",
    "run_groups",
    "run_appendix",
    "load_samples",
    "NOISE_LEVELS",
]

#: The paper's noise strengths p = 0.2, 0.4, …, 2.0.
NOISE_LEVELS: tuple[float, ...] = tuple(round(0.2 * k, 1) for k in range(1, 11))

RUN_COLUMNS = [
    "group", "circuit", "n_qubits", "blocks", "p", "mode", "run", "seed", "e_init", "e_final",
    "e_noiseless", "n_evals", "n_steps", "n_restarts", "wall_time", "sample_mean",
    "sample_min", "best_index", "best_probability", "theta",
]


@dataclass(frozen=True)
class AppendixSpec:
    """Settings of one appendix figure.

    ``kind``: ``"depth"`` (one group per circuit in ``blocks``, noise ``p``) or
    ``"sweep"`` (one group per ``noise_levels`` entry at ``sweep_blocks``). ``source``
    (sweeps): ``"noise-free optima"`` (fig10) or ``"noisy optimisation"`` (fig11).
    ``blocks``: ``0`` is the product state, ``b`` the brickwork with ``b`` blocks.
    ``plot``: ``"energies"`` (KDE + success) or ``"samples"`` (sampled energies).
    """

    figure: str
    title: str
    kind: str
    epsilon: float
    plot: str = "energies"
    p: float = 0.0
    blocks: tuple[int, ...] = (0, 2, 4, 6)
    sweep_blocks: int = 4
    noise_levels: tuple[float, ...] = NOISE_LEVELS
    source: str = ""
    runs: int = 300
    max_steps: int = 2000
    n_samples: int = 1000
    mnist_size: int = 4
    max_per_class: int | None = None
    encoding: tuple[float, float] | None = None
    paper: dict = field(default_factory=dict)


_DEPTH = (0, 2, 4, 6)

APPENDIX: dict[str, AppendixSpec] = {
    "fig8": AppendixSpec(
        "fig8", "Fig. 8: gradient-free (probabilistic descent) vs depth, MNIST (N=17)",
        "depth", 5e-4, "energies", 0.0, _DEPTH),
    "fig9": AppendixSpec(
        "fig9", "Fig. 9: sampled energies of the gradient-free optima vs depth (N=17)",
        "depth", 5e-4, "samples", 0.0, _DEPTH),
    "fig10": AppendixSpec(
        "fig10", "Fig. 10: noise-free optima under depolarizing noise p (N=17)",
        "sweep", 1.5e-2, "sweep", source="noise-free optima", runs=100),
    "fig11": AppendixSpec(
        "fig11", "Fig. 11: gradient-free optimisation under noise p (N=17)",
        "sweep", 1.5e-2, "sweep", source="noisy optimisation", runs=10),
    "fig12": AppendixSpec(
        "fig12", "Fig. 12: noisy (p=1) gradient-free optimisation vs depth (N=17)",
        "depth", 1.5e-2, "energies", 1.0, _DEPTH),
    "fig13": AppendixSpec(
        "fig13", "Fig. 13: sampled energies of the noisy (p=1) optima vs depth (N=17)",
        "depth", 1.5e-2, "samples", 1.0, _DEPTH),
}

APPENDIX_FIGURES = tuple(APPENDIX)

#: CI-sized overrides: 3×3 MNIST (N = 10), 3 runs, 300 steps, product + blocks=2,
#: two noise levels, 200 samples per final state.
_QUICK = dict(runs=3, max_steps=300, blocks=(0, 2), sweep_blocks=2, noise_levels=(1.0, 2.0),
              n_samples=200, mnist_size=3, max_per_class=100)


def spec_for(figure: str, *, quick: bool = False, runs: int | None = None,
             max_steps: int | None = None, blocks: tuple[int, ...] | None = None,
             noise_levels: tuple[float, ...] | None = None) -> AppendixSpec:
    """The settings of ``figure`` (paper-sized, or CI-sized with ``quick``) with overrides."""
    if figure not in APPENDIX:
        raise ValueError(f"unknown figure {figure!r}; choose one of {sorted(APPENDIX)}")
    spec = APPENDIX[figure]
    if quick:
        spec = replace(spec, **_QUICK)
    if runs is not None:
        if runs < 1:
            raise ValueError(f"runs must be at least 1, got {runs}")
        spec = replace(spec, runs=int(runs))
    if max_steps is not None:
        if max_steps < 1:
            raise ValueError(f"max_steps must be at least 1, got {max_steps}")
        spec = replace(spec, max_steps=int(max_steps))
    if blocks is not None:
        spec = replace(spec, blocks=tuple(int(b) for b in blocks))
    if noise_levels is not None:
        spec = replace(spec, noise_levels=tuple(float(p) for p in noise_levels))
    return spec


@dataclass(frozen=True)
class Group:
    """``runs`` runs of ``circuit`` at noise ``p``; ``mode`` ``"optimise"`` or ``"evaluate"``
    (then the angles of run ``r`` of group ``source`` are re-evaluated at ``p``)."""

    name: str
    circuit: Circuit
    p: float
    mode: str = "optimise"
    source: str | None = None


def _circuit(n: int, blocks: int) -> Circuit:
    return product_circuit(n) if blocks == 0 else brickwork_circuit(n, blocks)


def groups_for(spec: AppendixSpec, n_qubits: int) -> list[Group]:
    """The groups of ``spec`` on ``n_qubits`` qubits, in display order."""
    if spec.kind == "depth":
        return [Group(_circuit(n_qubits, b).name, _circuit(n_qubits, b), spec.p)
                for b in spec.blocks]
    circ = _circuit(n_qubits, spec.sweep_blocks)
    if spec.source == "noise-free optima":
        ref = Group("p=0", circ, 0.0)
        return [ref] + [Group(f"p={p:g}", circ, p, "evaluate", ref.name)
                        for p in spec.noise_levels]
    return [Group(f"p={p:g}", circ, p) for p in spec.noise_levels]


def build_cost(spec: AppendixSpec, cache: str | Path | None = None) -> tuple[np.ndarray, Any]:
    """``(cost (2**N,), problem)``: MNIST 0 vs 1 logistic regression of ``spec``, enumerated
    (cached in ``cache``). Uses :class:`pyqhn.pipeline.Problem` like Figs. 2–5."""
    from .. import datasets, models
    from ..pipeline import Problem

    data = datasets.mnist_pair((0, 1), size=spec.mnist_size, max_per_class=spec.max_per_class)
    kw = {"encoding": spec.encoding} if spec.encoding is not None else {}
    problem = Problem(models.mnist_model(spec.mnist_size, **kw), data, cache=cache)
    return problem.cost_table(), problem


# ----------------------------------------------------------------------------- io


def _load_runs(out: Path) -> pd.DataFrame:
    path = out / "runs.csv"
    if not path.exists():
        return pd.DataFrame(columns=RUN_COLUMNS)
    return pd.read_csv(path)


def load_samples(out: str | Path) -> dict[tuple[str, int], np.ndarray]:
    """``{(group, run): (n_samples,) sampled outcome indices}`` from ``out/samples.jsonl``."""
    path = Path(out) / "samples.jsonl"
    res: dict[tuple[str, int], np.ndarray] = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                res[(rec["group"], int(rec["run"]))] = np.asarray(rec["index"], dtype=np.int64)
    return res


def _append(out: Path, rows: list[dict], samples: list[dict]) -> None:
    """Samples first, then the table rows: a row in ``runs.csv`` marks a finished run."""
    with open(out / "samples.jsonl", "a") as fh:
        for s in samples:
            fh.write(json.dumps(s) + "\n")
    path = out / "runs.csv"
    pd.DataFrame(rows, columns=RUN_COLUMNS).to_csv(path, mode="a", header=not path.exists(),
                                                   index=False)


def _theta_of(table: pd.DataFrame, group: str, run: int) -> np.ndarray:
    row = table.loc[(table["group"] == group) & (table["run"] == run), "theta"]
    return np.array(str(row.iloc[-1]).split(), dtype=np.float64)


# ----------------------------------------------------------------------------- runs


def _noise(p: float) -> NoiseModel:
    return NoiseModel.noiseless() if p == 0 else NoiseModel.from_strength(p)


def _padded_objective(circuit: Circuit, cost: np.ndarray, p: float, size: int):
    """``(M, P) → (M,)`` energies at noise ``p``, every call padded to ``size`` rows (one
    compiled shape); counts calls in ``.calls``."""
    noise = _noise(p)

    def fun(theta: np.ndarray) -> np.ndarray:
        m = theta.shape[0]
        padded = theta if m >= size else np.concatenate([theta, np.repeat(theta[-1:], size - m,
                                                                          axis=0)])
        fun.calls += 1
        return np.asarray(noisy_energy(circuit, padded, cost, noise))[:m]

    fun.calls = 0
    return fun


def _measure(circuit: Circuit, theta: np.ndarray, cost: np.ndarray, p: float,
             n_samples: int, seed: int) -> tuple[float, np.ndarray, np.ndarray]:
    """Energy, outcome distribution ``(2**n,)`` and ``n_samples`` sampled indices of one
    final state at noise ``p`` (NumPy backend of the density engine: no compilation)."""
    probs = np.asarray(noisy_probabilities(circuit, theta, _noise(p), backend="numpy"))
    probs = np.clip(probs, 0.0, None)
    probs /= probs.sum()
    idx = sample_from_probabilities(probs, n_samples, seed=seed)
    return float(probs @ cost), probs, idx


def run_groups(
    cost: np.ndarray,
    groups: list[Group],
    runs: int,
    out: str | Path,
    *,
    seed: int = 0,
    max_steps: int = 2000,
    n_samples: int = 1000,
    batch_size: int | None = None,
    progress: bool = True,
) -> pd.DataFrame:
    """Run every group (see module docstring) into ``out``; skip runs already written.

    Run ``r`` starts from ``random_params(circuit, seed=seed + r)``, its direct search uses
    ``numpy.random.default_rng(seed + r)`` and its samples ``seed + r``. A batch of
    ``batch_size`` runs (default: all on a GPU, 8 on a CPU) is optimised in lockstep and
    written when it finishes. Returns the full runs table.
    """
    from tqdm.auto import tqdm

    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cost = np.asarray(cost, dtype=np.float64)
    n = int(round(np.log2(cost.size)))
    if batch_size is None:
        import jax

        batch_size = runs if jax.default_backend() != "cpu" else 8
    batch_size = max(1, min(int(batch_size), runs))
    table = _load_runs(out)
    done = set(zip(table["group"].astype(str), table["run"].astype(int), strict=True))
    todo = [(g, r) for g in groups for r in range(runs) if (g.name, r) not in done]
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress)
    for g in groups:
        pending = [r for gg, r in todo if gg is g]
        for start in range(0, len(pending), batch_size):
            chunk = pending[start:start + batch_size]
            t0 = time.perf_counter()
            if g.mode == "optimise":
                fun = _padded_objective(g.circuit, cost, g.p, batch_size)
                x0 = np.stack([random_params(g.circuit, seed=seed + r) for r in chunk])
                e_init = fun(x0)
                res = probabilistic_descent_batch(fun, x0, max_steps=max_steps,
                                                  seeds=[seed + r for r in chunk])
                thetas, e_final = res.x, np.asarray(res.fun, dtype=float)
                evals, restarts = np.asarray(res.n_evals), np.asarray(res.n_restarts)
                steps = res.n_steps
            else:
                table = _load_runs(out)
                thetas = np.stack([_theta_of(table, g.source, r) for r in chunk])
                e_init = e_final = np.full(len(chunk), np.nan)
                evals, restarts, steps = np.zeros(len(chunk), int), np.zeros(len(chunk), int), 0
            wall = (time.perf_counter() - t0) / len(chunk)
            rows, samples = [], []
            for i, r in enumerate(chunk):
                e, probs, idx = _measure(g.circuit, thetas[i], cost, g.p, n_samples, seed + r)
                if g.mode == "evaluate":
                    e_init[i] = e_final[i] = e
                e0 = e if g.p == 0 else _measure(g.circuit, thetas[i], cost, 0.0, 0, 0)[0]
                best = int(np.argmax(probs))
                rows.append(dict(
                    group=g.name, circuit=g.circuit.name, n_qubits=n, blocks=g.circuit.blocks
                    if g.circuit.entangling else 0, p=g.p, mode=g.mode, run=r, seed=seed + r,
                    e_init=float(e_init[i]), e_final=float(e_final[i]), e_noiseless=e0,
                    n_evals=int(evals[i]), n_steps=int(steps), n_restarts=int(restarts[i]),
                    wall_time=wall, sample_mean=float(cost[idx].mean()) if idx.size else np.nan,
                    sample_min=float(cost[idx].min()) if idx.size else np.nan,
                    best_index=best, best_probability=float(probs[best]),
                    theta=" ".join(repr(float(v)) for v in thetas[i]),
                ))
                samples.append(dict(group=g.name, run=r, index=idx.tolist()))
            _append(out, rows, samples)
            bar.update(len(chunk))
            bar.set_postfix(group=g.name)
    bar.close()
    return _load_runs(out)


# ----------------------------------------------------------------------------- summary


def _check_config(out: Path, spec: AppendixSpec, seed: int) -> None:
    """Refuse to resume into ``out`` with settings that would mix incompatible runs."""
    cfg = dict(asdict(spec), seed=seed)
    for key in ("runs", "blocks", "noise_levels"):  # more runs / groups extend a sweep
        cfg.pop(key)
    check_resume_settings(out, cfg)


def _group_stats(table: pd.DataFrame, groups: list[Group], c_star: float,
                 epsilon: float) -> list[dict]:
    """Per group: :func:`pyqhn.pipeline.summarize` plus noise, samples and cost per run."""
    from ..pipeline import summarize

    stats = summarize(table.rename(columns={"circuit": "_c", "group": "circuit"}), c_star,
                      epsilon, [g.name for g in groups])
    for s, g in zip(stats, groups, strict=True):
        rows = table[table["group"] == g.name]
        evals = rows["n_evals"].to_numpy(float)
        wall = rows["wall_time"].to_numpy(float)
        s.update(
            circuit=g.circuit.name, blocks=g.circuit.blocks if g.circuit.entangling else 0,
            n_layer=g.circuit.n_layer, p=g.p, mode=g.mode,
            sample_mean_energy=float(rows["sample_mean"].mean()) if len(rows) else np.nan,
            sample_min_energy=float(rows["sample_min"].min()) if len(rows) else np.nan,
            mean_noiseless_energy=float(rows["e_noiseless"].mean()) if len(rows) else np.nan,
            mean_evals=float(evals.mean()) if len(rows) else np.nan,
            seconds_per_run=float(wall.mean()) if len(rows) else np.nan,
            seconds_per_evaluation=(float(wall.sum() / evals.sum()) if evals.sum() > 0
                                    else None),
        )
    return stats


def run_appendix(
    figure: str,
    out: str | Path,
    *,
    quick: bool = False,
    runs: int | None = None,
    seed: int = 0,
    max_steps: int | None = None,
    batch_size: int | None = None,
    progress: bool = True,
) -> dict:
    """Run the whole pipeline of ``figure`` (fig8..fig13) into ``out``; returns the summary.

    ``summary.json`` holds ``figure, c_star`` (min of the enumerated cost), ``epsilon`` and
    ``circuits``: per group ``name, runs, success_probability`` (fraction with
    ``E − C* < ε``, ``E`` the objective at the group's noise), ``mean_energy``, sampled
    energies and measured seconds per evaluation. Calling it again resumes.
    """
    spec = spec_for(figure, quick=quick, runs=runs, max_steps=max_steps)
    out = Path(out)
    _check_config(out, spec, seed)
    t0 = time.perf_counter()
    cost, problem = build_cost(spec, cache=out / "cost.npz")
    t_cost = time.perf_counter() - t0
    n = int(round(np.log2(cost.size)))
    groups = groups_for(spec, n)
    spec = replace(spec, title=spec.title.replace("(N=17)", f"(N={n})"))
    t1 = time.perf_counter()
    table = run_groups(cost, groups, spec.runs, out, seed=seed, max_steps=spec.max_steps,
                       n_samples=spec.n_samples, batch_size=batch_size, progress=progress)
    t_runs = time.perf_counter() - t1
    names = [g.name for g in groups]
    table = table[table["group"].isin(names) & (table["run"] < spec.runs)]
    table = table.reset_index(drop=True)
    c_star = float(np.min(cost))
    stats = _group_stats(table, groups, c_star, spec.epsilon)
    summary = dict(
        figure=spec.figure, title=spec.title, quick=quick, n_qubits=n, c_star=c_star,
        epsilon=spec.epsilon, circuits=stats, optimum_index=int(np.argmin(cost)),
        optimum=problem.describe(problem.optimum_bits()).get("text"),
        dataset=dict(name=problem.dataset.name, n_samples=problem.dataset.n_samples),
        settings=dict(runs=spec.runs, max_steps=spec.max_steps, n_samples=spec.n_samples,
                      seed=seed, kind=spec.kind, p=spec.p, blocks=list(spec.blocks),
                      sweep_blocks=spec.sweep_blocks, noise_levels=list(spec.noise_levels),
                      source=spec.source, optimiser="probabilistic descent (BlackBoxOptim "
                      "defaults), box (-pi, pi)", noise="(l1, l2) = p*(0.001, 0.00375), "
                      "2-qubit channel after CX"),
        paper=spec.paper,
        wall_time=dict(cost_table=t_cost, runs=t_runs),
    )
    t2 = time.perf_counter()
    files = [p.name for p in plot_appendix(table, spec, groups, cost, out)]
    summary["wall_time"]["figure"] = time.perf_counter() - t2
    summary["files"] = ["runs.csv", "samples.jsonl", "cost.npz", "config.json", *files]
    (out / "summary.json").write_text(json.dumps(summary, indent=2, default=_json_default))
    return summary


def _json_default(obj: Any) -> Any:
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    return str(obj)


def plot_appendix(table: pd.DataFrame, spec: AppendixSpec, groups: list[Group],
                  cost: np.ndarray, out: Path) -> list[Path]:
    """Draw and save the figure of ``spec``; returns the PNG and PDF paths."""
    from ..plotting_appendix import noise_sweep_figure, sampled_energy_figure
    from ..plotting_paper import landscape_figure, save_figure

    names = [g.name for g in groups]
    c_star = float(np.min(cost))
    energies = {k: table.loc[table["group"] == k, "e_final"].to_numpy(float) for k in names}
    if spec.plot == "energies":
        fig = landscape_figure(energies=energies, cost=cost, c_star=c_star,
                               epsilon=spec.epsilon, title=spec.title)
    else:
        samples = load_samples(out)
        sampled = {k: np.concatenate(
            [cost[samples[(k, int(r))]] for r in table.loc[table["group"] == k, "run"]]
            or [np.zeros(0)]) for k in names}
        if spec.plot == "samples":
            fig = sampled_energy_figure(sampled, c_star=c_star, title=spec.title,
                                        x_values={g.name: g.circuit.n_layer for g in groups},
                                        x_label=r"$N_{\mathrm{layer}}$")
        else:
            fig = noise_sweep_figure(energies, sampled, p={g.name: g.p for g in groups},
                                     c_star=c_star, epsilon=spec.epsilon, title=spec.title)
    return save_figure(fig, out, spec.figure)
