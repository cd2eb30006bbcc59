"""Figs. 8–13 of the paper (appendix): gradient-free and noisy optimisation on MNIST.

One shared pipeline (:meth:`GradientFreeSpec.run`) for the six figures. A figure is a list of
*groups*; a group is ``R`` runs of one circuit at one noise strength ``p``, either

* ``"optimise"``: probabilistic-descent direct search
  (:func:`pyqhn.optimizers.direct_search.probabilistic_descent_batch`, BlackBoxOptim's
  defaults, box ``(−π, π)``) on the exact energy ``Tr(ρ_θ Ĉ)`` at noise ``p`` (``p = 0``:
  the pure-state ``E(θ)``), starting from ``random_params(circuit, seed=seed + r)``; or
* ``"evaluate"``: the final angles of run ``r`` of another group, re-evaluated at noise
  ``p`` (Fig. 10: noise-free optima under noise).

Every finished run is then measured: its outcome distribution ``diag ρ_θ`` gives
``n_samples`` (paper: 1000) sampled bit strings, whose costs are the *sampled energies*.

Figures (paper settings; MNIST 0 vs 1 at 4×4, logistic regression, N = 17, weights in
{−3, 1} by default: the encoding of the original authors' published table,
:data:`pyqhn.models.MNIST_ENCODINGS`; ``encoding=(0, 1)`` is the paper's text):

* fig8 / fig9: noise-free direct search vs depth (product, blocks 2, 4, 6 = N_layer 1..3),
  300 runs each, ε = 5e-4. fig8 draws the final-energy KDE and the success probability,
  fig9 the sampled-energy histograms and mean / minimum sampled energy vs depth.
* fig10: noise sweep p = 0.2 … 2.0 on 100 noise-free optima at fixed depth (blocks = 4:
  Appendix B's "depth 2" is the authors' 4-block folder). As the original script, the
  optima are L-BFGS runs on the exact pure-state energy (the reference group ``p=0``,
  OptimKit's defaults, 500 iterations), re-evaluated under noise; the ε of its success
  panel is ours (the original has none).
* fig11: direct search under noise at p = 0.0 (as the original script) and every p of the
  sweep, 10 runs each, same depth.
* fig12 / fig13: as fig8 / fig9 with noisy optimisation at p = 1, ε = 1.5e-2.

The paper gives no ε for Figs. 10–11; we use the noisy threshold 1.5e-2 of Figs. 12–13.
The noise is :meth:`pyqhn.noise.NoiseModel.from_strength` (``(λ1, λ2) = p·(0.001,
0.00375)``, 2-qubit channel after each CX).

Engine: energies come from :class:`pyqhn.engines.density.DensityEngine` for every ``p``
(noiseless at ``p = 0``, exact to rounding and on a CPU several times faster than the state
vector for these shallow circuits). :data:`BATCH_RUNS` runs are searched together; each
step is two objective calls for all of them (restart and first poll points, then the
second polls of the runs whose first failed), and the engine evaluates exactly those rows
in chunks of one compiled shape (``benchmarks/appendix.py``: 1.2-1.6x faster than
batches of 8 with padded calls). fig9 / fig13 share fig8's / fig12's runs: pointed at the
same folder they only draw. Final states are measured with the same engine's
NumPy backend (no compilation).

Files in ``DIR``: the run log (``runlog.json``, ``runs.csv`` with one tidy row per run,
``history.jsonl`` with the best energy per step and the sampled outcome indices of each
run, ``angles.npz``), ``cost.npz`` (cached enumeration), ``summary.json`` and
``<figure>.png`` / ``.pdf``. Rerunning resumes.
"""

from __future__ import annotations

import dataclasses
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..analysis import summarize_groups
from ..circuits import Circuit, brickwork_circuit, product_circuit
from ..models import encoding_label
from ..noise import NoiseModel
from ..runlog import RunLog, read_angles
from .base import (
    ExperimentSpec,
    RunSummary,
    circuit_lines,
    encoding_setting,
    execute,
    headline,
    seed_setting,
    setting,
)

__all__ = [
    "GradientFreeSpec",
    "GroupSpec",
    "GRADIENT_FREE",
    "GRADIENT_FREE_FIGURES",
    "build_cost",
    "groups_for",
    "driver_groups",
    "load_samples",
    "NOISE_LEVELS",
]

#: Runs searched together by default: one objective call per poll round for all of them
#: (the density engine splits it into chunks of 8 rows), and a finished batch written
#: every few minutes at paper size (``benchmarks/appendix.py``).
BATCH_RUNS = 100

#: The paper's noise strengths p = 0.2, 0.4, …, 2.0.
NOISE_LEVELS: tuple[float, ...] = tuple(round(0.2 * k, 1) for k in range(1, 11))

@dataclass(frozen=True)
class GradientFreeSpec(ExperimentSpec):
    """Settings of one gradient-free figure (:meth:`run` runs it).

    ``kind``: ``"depth"`` (one group per circuit in ``blocks``, noise ``p``) or
    ``"sweep"`` (one group per ``noise_levels`` entry at ``sweep_blocks``). ``source``
    (sweeps): ``"noise-free optima"`` (fig10) or ``"noisy optimisation"`` (fig11).
    ``blocks``: ``0`` is the product state, ``b`` the brickwork with ``b`` blocks.
    ``plot``: ``"energies"`` (KDE + success) or ``"samples"`` (sampled energies).
    ``encoding``: the logistic regression's weight values (``None``: {−3, 1}, the authors'
    table; :func:`pyqhn.models.mnist_model`). ``reference_optimizer`` (fig10): how the
    noise-free optima are found, ``"lbfgs"`` (the original: L-BFGS on the exact pure-state
    energy, OptimKit's defaults, 500 iterations) or ``"direct-search"``. Run ``r`` starts
    from ``seed + r``; ``batch_size`` runs are searched together (``None``:
    :data:`BATCH_RUNS`, at most ``runs``).
    """

    figure: str = setting()
    title: str = setting()
    kind: str = setting(choices=("depth", "sweep"))
    epsilon: float = setting(minimum=0.0)
    plot: str = setting("energies", choices=("energies", "samples", "sweep"))
    p: float = setting(0.0, minimum=0.0, maximum=250.0)
    blocks: tuple[int, ...] = setting((0, 2, 4, 6), minimum=0, distinct=True)
    sweep_blocks: int = setting(4, minimum=0)
    noise_levels: tuple[float, ...] = setting(NOISE_LEVELS, minimum=0.0, maximum=250.0,
                                              distinct=True)
    source: str = setting("")
    runs: int = setting(300, option="--runs", help="Runs per circuit / noise level",
                        minimum=1)
    max_steps: int = setting(2000, option="--max-steps", help="Direct-search steps per run",
                             minimum=1)
    n_samples: int = setting(1000, minimum=1)
    mnist_size: int = setting(4, minimum=1)
    max_per_class: int | None = setting(None, minimum=1)
    encoding: tuple[float, float] | None = encoding_setting()
    reference_optimizer: str = setting("direct-search", choices=("direct-search", "lbfgs"))
    paper: dict = setting(default_factory=dict)
    seed: int = seed_setting()
    batch_size: int | None = setting(None, option="--batch-size", minimum=1,
                                     help="Runs searched together (default: 100, at most "
                                          "--runs)")
    quick_run: bool = setting(False)

    #: CI-sized values: 3×3 MNIST (N = 10), 3 runs, 300 steps, product + blocks=2, two
    #: noise levels, 200 samples per final state.
    QUICK: ClassVar[dict] = dict(runs=3, max_steps=300, blocks=(0, 2), sweep_blocks=2,
                                 noise_levels=(1.0, 2.0), n_samples=200, mnist_size=3,
                                 max_per_class=100)

    def run(self, out: str | Path, *, progress: bool = True, time_limit: float | None = None,
            client: Any = None) -> RunSummary:
        """Run the whole pipeline into ``out``; returns the summary.

        ``summary.json`` holds ``figure, c_star`` (min of the enumerated cost), ``epsilon``
        and ``circuits``: per group ``name, runs, success_probability`` (fraction with
        ``E − C* < ε``, ``E`` the objective at the group's noise) with its Wilson
        interval, ``mean_energy``, sampled energies and measured seconds per evaluation.
        Calling it again resumes.
        """
        return _run_gradient_free(self, Path(out), progress=progress, time_limit=time_limit,
                             client=client)


_DEPTH = (0, 2, 4, 6)

GRADIENT_FREE: dict[str, GradientFreeSpec] = {
    "fig8": GradientFreeSpec(
        "fig8", "Fig. 8: gradient-free (probabilistic descent) vs depth, MNIST (N=17)",
        "depth", 5e-4, "energies", 0.0, _DEPTH),
    "fig9": GradientFreeSpec(
        "fig9", "Fig. 9: sampled energies of the gradient-free optima vs depth (N=17)",
        "depth", 5e-4, "samples", 0.0, _DEPTH),
    "fig10": GradientFreeSpec(
        "fig10", "Fig. 10: noise-free optima under depolarizing noise p (N=17)",
        "sweep", 1.5e-2, "sweep", source="noise-free optima", runs=100,
        reference_optimizer="lbfgs"),
    "fig11": GradientFreeSpec(
        "fig11", "Fig. 11: gradient-free optimisation under noise p (N=17)",
        "sweep", 1.5e-2, "sweep", noise_levels=(0.0, *NOISE_LEVELS),
        source="noisy optimisation", runs=10),
    "fig12": GradientFreeSpec(
        "fig12", "Fig. 12: noisy (p=1) gradient-free optimisation vs depth (N=17)",
        "depth", 1.5e-2, "energies", 1.0, _DEPTH),
    "fig13": GradientFreeSpec(
        "fig13", "Fig. 13: sampled energies of the noisy (p=1) optima vs depth (N=17)",
        "depth", 1.5e-2, "samples", 1.0, _DEPTH),
}

GRADIENT_FREE_FIGURES = tuple(GRADIENT_FREE)

@dataclass(frozen=True)
class GroupSpec:
    """``runs`` runs of ``circuit`` at noise ``p``; ``mode`` ``"optimise"`` or ``"evaluate"``
    (then the angles of run ``r`` of group ``source`` are re-evaluated at ``p``)."""

    name: str
    circuit: Circuit
    p: float
    mode: str = "optimise"
    source: str | None = None
    optimizer: str = "direct-search"


def _circuit(n: int, blocks: int) -> Circuit:
    return product_circuit(n) if blocks == 0 else brickwork_circuit(n, blocks)


def groups_for(spec: GradientFreeSpec, n_qubits: int) -> list[GroupSpec]:
    """The groups of ``spec`` on ``n_qubits`` qubits, in display order."""
    if spec.kind == "depth":
        return [GroupSpec(_circuit(n_qubits, b).name, _circuit(n_qubits, b), spec.p)
                for b in spec.blocks]
    circ = _circuit(n_qubits, spec.sweep_blocks)
    if spec.source == "noise-free optima":
        ref = GroupSpec("p=0", circ, 0.0, optimizer=spec.reference_optimizer)
        return [ref] + [GroupSpec(f"p={p:g}", circ, p, "evaluate", ref.name)
                        for p in spec.noise_levels]
    return [GroupSpec(f"p={p:g}", circ, p) for p in spec.noise_levels]


def _problem(spec: GradientFreeSpec, cache: str | Path | None = None) -> Any:
    """MNIST 0 vs 1 logistic regression of ``spec`` as a :class:`pyqhn.pipeline.Problem`
    (the ``mnist`` problem of :data:`pyqhn.problems.PROBLEMS`)."""
    from ..pipeline import Problem
    from ..problems import PROBLEMS

    built = PROBLEMS.create("mnist", size=spec.mnist_size, digits=(0, 1),
                            encoding=spec.encoding, max_per_class=spec.max_per_class)
    return Problem(built.model, built.dataset, cache=cache)


def build_cost(spec: GradientFreeSpec, cache: str | Path | None = None) -> tuple[np.ndarray, Any]:
    """``(cost (2**N,), problem)``: MNIST 0 vs 1 logistic regression of ``spec``, enumerated
    (cached in ``cache``)."""
    problem = _problem(spec, cache)
    return problem.cost_table(), problem


# ----------------------------------------------------------------------------- runs


def _noise(p: float) -> NoiseModel:
    return NoiseModel.noiseless() if p == 0 else NoiseModel.from_strength(p)


def load_samples(out: str | Path) -> dict[tuple[str, int], np.ndarray]:
    """``{(group, run): (n_samples,) sampled outcome indices}`` from the run log."""
    from ..runlog import read_histories

    return {k: np.asarray(h["samples"], dtype=np.int64)
            for k, h in read_histories(out).items() if "samples" in h}


def driver_groups(spec: GradientFreeSpec, groups: list[GroupSpec], cost: np.ndarray, out: Path,
                  *, seed: int, batch_size: int | None = None) -> list:
    """The driver's groups of ``groups``: direct search (``optimise``) or re-evaluation of
    another group's final angles (``evaluate``) on ``Tr(ρ_θ Ĉ)`` at the group's noise.

    Each final state is measured: ``best_index``/``best_probability`` of ``diag ρ``,
    ``spec.n_samples`` sampled outcomes (seeded ``seed + r``; their mean and minimum cost
    are the columns ``sample_mean``, ``sample_min``) and the noise-free energy
    ``e_noiseless``.
    """
    from .. import driver
    from ..engines import get_engine
    from ..engines.density import DensityEngine
    from ..engines.exact import sample_from_probabilities
    from ..objectives import energy_objective
    from ..optimizers import direct_search_optimizer, evaluate_only, lbfgs_optimizer

    noiseless = DensityEngine(NoiseModel.noiseless(), backend="numpy")

    def measure_for(g: GroupSpec):
        def measure(x: np.ndarray, runs: np.ndarray, probs: np.ndarray) -> dict:
            probs = np.clip(probs, 0.0, None)
            probs /= probs.sum(axis=1, keepdims=True)
            idx = np.stack([sample_from_probabilities(q, spec.n_samples, seed=seed + int(r))
                            for q, r in zip(probs, runs, strict=True)])
            e0 = (probs @ cost if g.p == 0
                  else np.asarray(noiseless.energy(g.circuit, x, cost)))
            return dict(sample_mean=cost[idx].mean(axis=1), sample_min=cost[idx].min(axis=1),
                        e_noiseless=e0, samples=idx)
        return measure

    def start_from(source: str):
        def start(runs: np.ndarray) -> np.ndarray:
            return read_angles(out)[source][runs]
        return start

    search = direct_search_optimizer(max_steps=spec.max_steps)
    batch_size = batch_size or min(spec.runs, BATCH_RUNS)
    out_groups = []
    for g in groups:
        evaluate = g.mode == "evaluate"
        if g.optimizer == "lbfgs":  # the original's noise-free optima (Fig. 10)
            if g.p != 0:
                raise ValueError(f"group {g.name}: L-BFGS runs on the noise-free energy only")
            objective = energy_objective(get_engine("exact"), g.circuit, cost, gradient=True)
            optimizer = lbfgs_optimizer(max_iter=500, line_search="hager-zhang",
                                        memory_size=8)
        else:
            objective = energy_objective(DensityEngine(_noise(g.p)), g.circuit, cost,
                                         gradient=False)
            optimizer = evaluate_only() if evaluate else search
        out_groups.append(driver.Group(
            g.name, g.circuit, objective, optimizer, spec.runs, seed=seed,
            engine=DensityEngine(_noise(g.p), backend="numpy"),
            start=start_from(g.source) if evaluate else None,
            needs=(g.source,) if evaluate else (),
            columns=dict(p=g.p, mode=g.mode), measure=measure_for(g),
            batch_size=batch_size))
    return out_groups


# ----------------------------------------------------------------------------- summary


def gradient_free_settings(spec: GradientFreeSpec, problem: Any) -> dict:
    """What must match to resume: the spec without what only extends the sweep (runs,
    circuits, noise levels) or only changes the drawing (figure, plot), the seed and the
    problem's fingerprint. So fig9 draws fig8's runs and fig13 fig12's: ``pyqhn reproduce
    fig9 --out DIR`` on fig8's folder trains nothing new (the paper's Figs. 9 and 13 show
    the sampled energies of the optima of Figs. 8 and 12)."""
    from ..optimizers import direct_search_optimizer

    cfg = {k: v for k, v in asdict(spec).items()
           if k not in ("runs", "blocks", "noise_levels", "paper", "title", "epsilon",
                        "figure", "plot", "seed", "batch_size", "quick_run")}
    opt = direct_search_optimizer(max_steps=spec.max_steps)
    return dict(cfg, seed=spec.seed, problem=problem.fingerprint(), optimizer=opt.name,
                **{f"optimizer.{k}": v for k, v in opt.settings.items()})


def _group_stats(table: pd.DataFrame, groups: list[GroupSpec], c_star: float,
                 epsilon: float) -> list[dict]:
    """Per group: :func:`pyqhn.analysis.summarize_groups` plus noise, samples and cost per
    run."""
    stats = summarize_groups(table, c_star, epsilon, [g.name for g in groups])
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


def _run_gradient_free(spec: GradientFreeSpec, out: Path, *, progress: bool,
                  time_limit: float | None, client: Any) -> RunSummary:
    seed = spec.seed
    problem = _problem(spec, cache=out / "cost.npz")
    n = problem.n_bits
    groups = groups_for(spec, n)
    spec = dataclasses.replace(spec, title=spec.title.replace("(N=17)", f"(N={n})"))

    def build(out: Path):
        cost = problem.cost_table()
        return driver_groups(spec, groups, cost, out, seed=seed,
                             batch_size=spec.batch_size), cost

    def summarise(log: RunLog, cost: np.ndarray, out: Path) -> RunSummary:
        names = [g.name for g in groups]
        table = log.table()
        table = table[table["group"].isin(names) & (table["run"] < spec.runs)]
        table = table.reset_index(drop=True)
        c_star = float(np.min(cost))
        t0 = time.perf_counter()
        files = [p.name for p in plot_gradient_free(table, spec, groups, cost, out)]
        circuits = _group_stats(table, groups, c_star, spec.epsilon)
        return RunSummary(
            figure=spec.figure, quick=spec.quick_run, c_star=c_star, epsilon=spec.epsilon,
            circuits=circuits,
            details=dict(
                title=spec.title, n_qubits=n,
                optimum_index=int(np.argmin(cost)),
                optimum=problem.describe(problem.optimum_bits()).get("text"),
                dataset=dict(name=problem.dataset.name, n_samples=problem.dataset.n_samples),
                encoding=encoding_label(problem.model.encodings[0]),
                settings=dict(runs=spec.runs, max_steps=spec.max_steps,
                              n_samples=spec.n_samples, seed=seed, kind=spec.kind, p=spec.p,
                              blocks=list(spec.blocks), sweep_blocks=spec.sweep_blocks,
                              noise_levels=list(spec.noise_levels), source=spec.source,
                              optimiser="probabilistic descent (BlackBoxOptim defaults), box "
                              "(-pi, pi)", noise="(l1, l2) = p*(0.001, 0.00375), 2-qubit "
                              "channel after CX"),
                paper=spec.paper),
            report=[headline(spec.figure, c_star, spec.epsilon), *circuit_lines(circuits)],
            wall_time=dict(figure=time.perf_counter() - t0),
            files=["cost.npz", *files],
        )

    # kind "appendix": the run logs written before the rename keep resuming
    return execute(out, kind="appendix", settings=gradient_free_settings(spec, problem),
                   build=build, summarise=summarise, progress=progress,
                   time_limit=time_limit, client=client)


def plot_gradient_free(table: pd.DataFrame, spec: GradientFreeSpec, groups: list[GroupSpec],
                  cost: np.ndarray, out: Path) -> list[Path]:
    """Draw and save the figure of ``spec``; returns the PNG and PDF paths."""
    from ..plotting import save_figure
    from ..plotting.gradient_free import noise_sweep_figure, sampled_energy_figure
    from ..plotting.paper import landscape_figure

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
