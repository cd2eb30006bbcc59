"""``mnist8x8``: a sampled quantum hypernetwork beyond enumeration (66 qubits, or 200).

The study's next step (June 2023 talk): logistic regression on 8×8 MNIST zeros vs ones,
weights and bias ±1, plus one activation qubit (:class:`pyqhn.large_models.
LinkChoiceLogistic`: N = 66), 1500 training shots, 10,000 validation shots, "circuit depth
2", an MPS simulator and QN-SPSA. Depth 2 is ambiguous (2 blocks, or N_layer = 2 = 4
blocks as in Appendix B's folder): both run, one driver group each.

Default optimiser: the score-function gradient with Adam (simulator only): on this problem
it brings ``Ê`` from 0.9 to about 0.06 in 100 steps, while with 1500 shots SPSA reaches
0.6 and QN-SPSA (the talk's choice, ``optimizer="qnspsa"``) stalls near 0.4 (docs/
mnist8x8.md: measured variants and why).

Per iteration the objective is ``Ê(θ) = (1/1500) Σ_s C_train(w_s)``, ``w_s ~ |ψ_θ|²`` from
the MPS engine and ``C_train`` the BiNN's cross-entropy on the training images, evaluated
on the fly (:func:`pyqhn.sampled_objectives.sampled_energy_objective`; no table). The validation
estimate uses its own ``val_shots`` shots on held-out images every ``val_every`` steps
(a driver trace). At the end ``final_shots`` bitstrings are drawn: their test accuracies
are the "accuracy distribution of sampled BiNNs"; the *most probable BiNN* comes from a
beam search over the MPS's exact sequential marginals (:func:`pyqhn.engines.mps.
most_probable`), certified exact or labelled approximate per run (``mode_certified``; the
most frequent sample is recorded too); the *best sampled BiNN* is the
distinct sample with the lowest validation cost (selected on validation, reported on
test). The classical reference is a steepest-descent bit-flip search with restarts over
the same ±1 weights (and activation bit) on the training cost.

Data: the shipped zeros and ones (1001 + 1127; ``digits`` picks another pair, the second
digit labelled 1), bilinear 8×8, split 60/20/20 (seeded).
Writes the run log, ``summary.json`` (``n_qubits``, shots, test accuracies, evaluation
counts), ``mnist8x8.png``/``.pdf``; rerunning resumes.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np

from ..runlog import RunLog
from .base import ExperimentSpec, RunSummary, execute, seed_setting, setting

__all__ = ["Mnist8x8Spec", "local_search", "OPTIMIZERS"]

OPTIMIZERS = ("score-function", "qnspsa", "spsa")
MODE_METHOD = (
    "most probable BiNN: beam search of width {width} over the MPS's exact sequential "
    "marginals (MpsEngine.most_probable), or the most frequent final sample if its exact "
    "probability is larger; most_probable_certified counts the runs where it is provably "
    "the exact mode (probability > 1/2, or at least the marginal of every discarded "
    "prefix); otherwise it is the best string found (approximate)")
PROBLEMS = ("logistic", "hidden")


@dataclass(frozen=True)
class Mnist8x8Spec(ExperimentSpec):
    """Settings (talk-sized defaults;
    :meth:`~pyqhn.experiments.base.ExperimentSpec.quick` for CI; :meth:`run` runs it)."""

    problem: str = setting("logistic", option="--problem", choices=PROBLEMS,
                           help="logistic: 66 qubits; hidden: 64-3-1 network, 200 qubits")
    blocks: tuple[int, ...] = setting((2, 4), option="--blocks", minimum=1, distinct=True,
                                      min_len=1, help="Comma list of brickwork depths")
    runs: int = setting(2, option="--runs", help="Runs per depth", minimum=1)
    max_steps: int = setting(200, option="--max-steps", help="Optimiser steps", minimum=1)
    shots: int = setting(1500, minimum=1)
    val_shots: int = setting(10_000, minimum=1)
    val_every: int = setting(10, minimum=1)
    final_shots: int = setting(10_000, minimum=1)
    optimizer: str = setting("score-function", option="--optimizer", choices=OPTIMIZERS,
                             help="score-function (Adam); the talk used qnspsa")
    learning_rate: float | None = setting(None, minimum=0.0)
    digits: tuple[int, int] = setting((0, 1), option="--digits", minimum=0, maximum=9,
                                      distinct=True,
                                      help="MNIST digit pair 'a,b' (b → label 1); the talk's "
                                           "0,1")
    search_restarts: int = setting(16, minimum=1)
    mode_beam: int = setting(64, minimum=1)
    seed: int = seed_setting()
    quick_run: bool = setting(False)

    #: One run per depth, 80 steps, validation every 20 steps (minutes on 2 cores).
    QUICK: ClassVar[dict] = dict(runs=1, max_steps=80, val_every=20, val_shots=4000,
                                 final_shots=4000, search_restarts=8)

    def run(self, out: str | Path, *, progress: bool = True, time_limit: float | None = None,
            client: Any = None) -> RunSummary:
        """Run the sampled 8×8 MNIST hypernetwork into ``out`` (resumable); returns the
        summary.

        Summary: ``n_qubits``, ``shots``, ``val_shots``, ``classical_search`` (training
        cost and test accuracy of the best local minimum), and per depth (``circuits``):
        mean test accuracy of the most probable and of the best sampled BiNN, final
        training and validation ``Ê``, circuits and shots per run, wall time per run.
        """
        return _run_mnist8x8(self, Path(out), progress=progress, time_limit=time_limit,
                             client=client)


def _problem(cfg: Mnist8x8Spec):
    """``(model, split)`` of ``cfg.problem``: the ``mnist8x8-logistic`` or
    ``mnist8x8-hidden`` problem of :data:`pyqhn.problems.PROBLEMS`, its data split
    60/20/20 (train, validation, test)."""
    from ..datasets import Split
    from ..problems import PROBLEMS

    problem = PROBLEMS.create(f"mnist8x8-{cfg.problem}", digits=cfg.digits, seed=cfg.seed)
    return problem.model, Split(problem.dataset, problem.validation, problem.test)


def local_search(model, data, *, restarts: int, seed: int,
                 max_sweeps: int = 200) -> tuple[np.ndarray, np.ndarray]:
    """Steepest-descent single-bit-flip search from ``restarts`` random bit rows on
    ``model.cost(·, data)``: every step evaluates all ``N`` flips of every restart and takes
    the best improving one. Returns the local minima ``(restarts, N)`` and their costs."""
    rng = np.random.default_rng([seed, 7])
    n = model.n_qubits
    bits = rng.integers(0, 2, (restarts, n)).astype(np.uint8)
    cost = np.array(model.cost(bits, data))
    eye = np.eye(n, dtype=np.uint8)
    active = np.ones(restarts, bool)
    for _ in range(max_sweeps * n):
        if not active.any():
            break
        idx = np.flatnonzero(active)
        flips = (bits[idx, None, :] ^ eye[None]).reshape(-1, n)
        c = np.asarray(model.cost(flips, data)).reshape(len(idx), n)
        j = c.argmin(1)
        best = c[np.arange(len(idx)), j]
        better = best < cost[idx] - 1e-12
        bits[idx[better]] ^= eye[j[better]]
        cost[idx[better]] = best[better]
        active[idx[~better]] = False
    return bits, cost


def _mode(engine, circuit, theta, frequent: np.ndarray, width: int):
    """The most probable BiNN of ``theta``: the MPS beam search's bit row
    (:meth:`pyqhn.engines.mps.MpsEngine.most_probable`), or the most frequent final sample
    if that one has the larger exact probability (possible only when the beam is not
    certified)."""
    mode = engine.most_probable(circuit, theta, width=width)
    lp = float(engine.log_prob(circuit, theta, frequent[None])[0])
    if lp > mode.log_prob:
        return mode._replace(bits=frequent, log_prob=lp)
    return mode


def _optimizer(cfg: Mnist8x8Spec, engine, circuit):
    from ..optimizers import adam_optimizer, qnspsa_optimizer, spsa_optimizer
    from ..sampled_objectives import fidelity_fn

    if cfg.optimizer == "qnspsa":
        return qnspsa_optimizer(fidelity_fn(engine, circuit), max_steps=cfg.max_steps,
                                learning_rate=cfg.learning_rate)
    if cfg.optimizer == "spsa":
        return spsa_optimizer(max_steps=cfg.max_steps, learning_rate=cfg.learning_rate)
    return adam_optimizer(learning_rate=cfg.learning_rate or 0.1, max_steps=cfg.max_steps)


def _groups(cfg: Mnist8x8Spec):
    from ..circuits import brickwork_circuit
    from ..driver import Group
    from ..engines import get_engine
    from ..large_models import accuracies
    from ..sampled_objectives import (
        ShotCounter,
        sampled_energy_objective,
        score_function_objective,
        shot_seed,
    )
    from ..shot_estimators import cost_of_samples, unique_rows

    model, split = _problem(cfg)
    engine = get_engine("mps")
    train_cost = lambda b: model.cost(b, split.train)  # noqa: E731
    val_cost = lambda b: model.cost(b, split.val)  # noqa: E731
    groups = []
    for blocks in cfg.blocks:
        circuit = brickwork_circuit(model.n_qubits, blocks)
        counter = ShotCounter()
        if cfg.optimizer == "score-function":
            objective = score_function_objective(engine, circuit, train_cost, shots=cfg.shots,
                                                 seed=cfg.seed, counter=counter)
        else:
            objective = sampled_energy_objective(engine, circuit, train_cost, shots=cfg.shots,
                                                 seed=cfg.seed, counter=counter)

        def trace(state, runs, circuit=circuit, counter=counter):
            out = np.full(len(runs), np.nan)
            for i, r in enumerate(runs):
                k = int(state.n_iter[i])
                if k % cfg.val_every == 0 or k == cfg.max_steps:
                    bits = engine.sample_bits(circuit, state.x[i], cfg.val_shots,
                                              seed=shot_seed(cfg.seed + 1, r, k))
                    out[i] = cost_of_samples(val_cost, bits).mean()
                    counter.add(int(r), 1, cfg.val_shots)
            return {"e_val": out}

        def measure(x, runs, probs, circuit=circuit, counter=counter):
            cols: dict[str, list] = {k: [] for k in (
                "e_train_final", "e_val_final", "acc_mode", "p_mode", "mode_certified",
                "mode_in_samples", "acc_most_frequent", "freq_most_frequent",
                "acc_best_sampled", "val_cost_best_sampled", "acc_best_train", "n_distinct",
                "mean_acc_sampled", "activation_mode")}
            hist = []
            for i, r in enumerate(runs):
                bits = engine.sample_bits(circuit, x[i], cfg.final_shots,
                                          seed=shot_seed(cfg.seed + 2, r, 0))
                counter.add(int(r), 1, cfg.final_shots)
                uniq, inv = unique_rows(bits)
                counts = np.bincount(inv, minlength=len(uniq))
                ctr = cost_of_samples(train_cost, uniq)
                cva = cost_of_samples(val_cost, uniq)
                acc = accuracies(model, uniq, split.test)
                frequent = counts.argmax()
                best = cva.argmin()
                mode = _mode(engine, circuit, x[i], uniq[frequent], cfg.mode_beam)
                cols["e_train_final"].append(float(ctr @ counts / counts.sum()))
                cols["e_val_final"].append(float(cva @ counts / counts.sum()))
                cols["acc_mode"].append(float(accuracies(model, mode.bits[None], split.test)[0]))
                cols["p_mode"].append(float(np.exp(mode.log_prob)))
                cols["mode_certified"].append(bool(mode.certified))
                cols["mode_in_samples"].append(bool((uniq == mode.bits).all(1).any()))
                cols["acc_most_frequent"].append(float(acc[frequent]))
                cols["freq_most_frequent"].append(float(counts[frequent] / counts.sum()))
                cols["acc_best_sampled"].append(float(acc[best]))
                cols["val_cost_best_sampled"].append(float(cva[best]))
                cols["acc_best_train"].append(float(acc[ctr.argmin()]))
                cols["n_distinct"].append(int(len(uniq)))
                cols["mean_acc_sampled"].append(float(acc @ counts / counts.sum()))
                cols["activation_mode"].append(int(mode.bits[0]))
                n_test = split.test.n_samples  # shots per exact accuracy k / n_test
                hist.append(np.bincount(np.rint(acc * n_test).astype(int), weights=counts,
                                        minlength=n_test + 1))
            out = {k: np.asarray(v) for k, v in cols.items()}
            out.update(counter.columns(runs))
            out["acc_shots"] = np.asarray(hist)
            return out

        groups.append(Group(f"blocks={blocks}", circuit, objective,
                            _optimizer(cfg, engine, circuit), cfg.runs, seed=cfg.seed,
                            columns=dict(problem=cfg.problem, optimizer=cfg.optimizer,
                                         shots=cfg.shots, val_shots=cfg.val_shots),
                            trace=trace, measure=measure, batch_size=1))
    return groups, (model, split)


def _run_mnist8x8(cfg: Mnist8x8Spec, out: Path, *, progress: bool,
                  time_limit: float | None, client: Any) -> RunSummary:
    quick = cfg.quick_run
    settings = {k: (list(v) if isinstance(v, tuple) else v) for k, v in asdict(cfg).items()
                if k not in ("runs", "quick_run")}
    if cfg.digits == (0, 1):  # folders made before --digits existed keep resuming
        settings.pop("digits")

    def build(out: Path):
        return _groups(cfg)

    def summarise(log: RunLog, context: Any, out: Path) -> RunSummary:
        from ..large_models import accuracies
        from ..plotting import save_figure
        from ..plotting.sampled import sampled_training_figure

        model, split = context
        t0 = time.perf_counter()
        bits, costs = local_search(model, split.train, restarts=cfg.search_restarts,
                                   seed=cfg.seed)
        best = costs.argmin()
        search = dict(train_cost=float(costs[best]),
                      test_accuracy=float(accuracies(model, bits[best:best + 1], split.test)[0]),
                      val_accuracy=float(accuracies(model, bits[best:best + 1], split.val)[0]),
                      restarts=cfg.search_restarts, wall_time=time.perf_counter() - t0)
        table, hist = log.table(), log.histories()
        entries, curves, dists = [], {}, {}
        for blocks in cfg.blocks:
            name = f"blocks={blocks}"
            rows = table[(table["group"] == name) & (table["run"] < cfg.runs)]
            if rows.empty:
                continue
            tr = [np.asarray(hist[(name, int(r))]["f"]) for r in rows["run"]]
            va = [np.asarray(hist[(name, int(r))]["e_val"], dtype=float) for r in rows["run"]]
            curves[name] = dict(train=tr, val=va, val_every=cfg.val_every)
            dists[name] = _accuracy_distribution([hist[(name, int(r))] for r in rows["run"]])
            entries.append(dict(
                name=name, blocks=blocks, runs=int(len(rows)),
                mean_energy=float(rows["e_train_final"].mean()),
                mean_val_energy=float(rows["e_val_final"].mean()),
                test_accuracy_most_probable=float(rows["acc_mode"].mean()),
                test_accuracy_best_sampled=float(rows["acc_best_sampled"].mean()),
                test_accuracy_best_sampled_max=float(rows["acc_best_sampled"].max()),
                mean_test_accuracy_sampled=float(rows["mean_acc_sampled"].mean()),
                p_most_probable=float(rows["p_mode"].mean()),
                most_probable_certified=int(rows["mode_certified"].astype(bool).sum()),
                most_probable_in_final_samples=int(rows["mode_in_samples"].astype(bool).sum()),
                test_accuracy_most_frequent=float(rows["acc_most_frequent"].mean()),
                frequency_most_frequent=float(rows["freq_most_frequent"].mean()),
                activation_most_probable=[model_activation(model, int(a))
                                          for a in rows["activation_mode"]],
                n_circuits=int(rows["n_circuits"].mean()), n_shots=int(rows["n_shots"].mean()),
                wall_time_per_run=float(rows["wall_time"].mean())))
        files = [p.name for p in save_figure(sampled_training_figure(
            curves, dists, search["test_accuracy"],
            title=f"mnist8x8 ({model.n_qubits} qubits, {cfg.optimizer}, {cfg.shots} shots)"),
            out, "mnist8x8")]
        report = [f"mnist8x8: digits {cfg.digits[0]} vs {cfg.digits[1]}, {model.n_qubits} "
                  f"qubits, {cfg.shots} shots; classical search test accuracy "
                  f"{search['test_accuracy']:.4f}"]
        report += [f"  {c['name']:>9}: most probable {c['test_accuracy_most_probable']:.4f} "
                   f"(exact mode in {c['most_probable_certified']}/{c['runs']} runs), "
                   f"best sampled {c['test_accuracy_best_sampled']:.4f}, final Ê "
                   f"{c['mean_energy']:.4f} (val {c['mean_val_energy']:.4f}), "
                   f"{c['n_shots']} shots/run, {c['wall_time_per_run']:.0f} s/run"
                   for c in entries]
        return RunSummary(
            figure="mnist8x8", quick=quick, c_star=None, epsilon=None, circuits=entries,
            details=dict(n_qubits=model.n_qubits, digits=list(cfg.digits),
                         problem=cfg.problem, shots=cfg.shots, val_shots=cfg.val_shots,
                         final_shots=cfg.final_shots, optimizer=cfg.optimizer,
                         n_train=split.train.n_samples, n_val=split.val.n_samples,
                         n_test=split.test.n_samples, classical_search=search,
                         most_probable_method=MODE_METHOD.format(width=cfg.mode_beam),
                         settings=settings),
            report=report, files=files)

    return execute(out, kind="mnist8x8", settings=settings, build=build, summarise=summarise,
                   progress=progress, time_limit=time_limit, client=client)


def _accuracy_distribution(histories: list[dict]) -> tuple[np.ndarray, np.ndarray]:
    """``(accuracies (m,), shots (m,))`` of the runs' final samples, run after run:
    ``acc_shots`` counts shots per exact test accuracy ``k / n_test``; runs written before
    it hold ``acc_hist``, 50 bins on [0.5, 1], read at the bins' centres."""
    centres = 0.5 + 0.01 * (np.arange(50) + 0.5)
    acc, shots = [], []
    for h in histories:
        if "acc_shots" in h:
            n = np.asarray(h["acc_shots"], float)
            acc.append(np.arange(n.size) / (n.size - 1))
        else:
            n = np.asarray(h["acc_hist"], float)
            acc.append(centres)
        shots.append(n)
    return np.concatenate(acc), np.concatenate(shots)


def model_activation(model, bit: int) -> str:
    """Name of the activation selected by activation bit ``bit``."""
    return model.activations[bit % len(model.activations)]
