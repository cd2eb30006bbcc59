"""Variational-inference objectives against maximum likelihood (``pyqhn reproduce vi``).

Reads the hypernetwork distribution ``q_θ(w) = |ψ_θ(w)|²`` as a variational posterior over
the binary weights of the Fig. 2 style BiNN (2–3–1, hidden activation chosen by one qubit,
N = 14) and trains the brickwork circuit with N_layer = 1 (``blocks = 2``) by Adam on one of

* ``mle``:   ``E_q[C_CE(w)]`` (the original study's objective, with the cross-entropy);
* ``elbo``:  ``-ELBO / N_s = E_q[C_CE] + β·KL(q ‖ p) / N_s`` (exact, from the full ``q``);
* ``selbo``: ``-SELBO / N_s = E_q[C_CE] + λ·MMD²(q, p) / N_s`` (exact, from the full ``q``);
* ``selbo-sampled``: the same SELBO, its value and gradient estimated from ``N_qc`` shots
  per circuit by the U-statistic and the parameter-shift rule (device-style).

Losses are divided by the training-set size ``N_s`` so every objective has the scale of a
mean cross-entropy (Adam is nearly scale-free anyway). See ``docs/vi.md`` for the maths.

Data from :mod:`pyqhn.datasets`; the BiNN is :func:`pyqhn.models.gaussian_activation_model`
with the cross-entropy loss, tabulated (cross-entropy and accuracy) by :func:`binn_tables`.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, replace
from pathlib import Path
from typing import Any, ClassVar

import jax
import jax.numpy as jnp
import numpy as np
import pandas as pd

from .. import objectives as ob
from ..bits import index_to_bits
from ..checks import InputError
from ..circuits import brickwork_circuit, random_params
from ..runlog import RunLog, write_arrays, write_table
from .base import ExperimentSpec, RunSummary, circuit_lines, execute, seed_setting, setting

__all__ = [
    "DATASETS",
    "VISpec",
    "make_dataset",
    "binn_tables",
    "VIProblem",
    "make_problem",
    "vi_group",
    "train_vi",
    "evaluate_samples",
    "paired_vs_mle",
]

DATASETS = ("gaussian", "moons", "ring")
N_BITS = 14


@dataclass(frozen=True)
class VISpec(ExperimentSpec):
    """Settings of the ``vi`` experiment (paper-sized defaults;
    :meth:`~pyqhn.experiments.base.ExperimentSpec.quick` for a smoke
    run; :meth:`run` runs it).

    ``lam=None`` uses ``λ = N·ln 2`` (the largest KL to the uniform prior), which puts the
    MMD penalty on the KL's scale; ``prior_probs=None`` is the uniform prior.
    """

    datasets: tuple[str, ...] = setting(DATASETS, option="--datasets", choices=DATASETS,
                                        distinct=True, min_len=1,
                                        help="Comma list of gaussian,moons,ring")
    objectives: tuple[str, ...] = setting(
        ("mle", "elbo", "selbo-sampled"), option="--objectives",
        choices="pyqhn.objectives:OBJECTIVES", distinct=True, min_len=1,
        help="Comma list of mle,elbo,selbo,selbo-sampled")
    runs: int = setting(100, option="--runs", help="Initialisations", minimum=1)
    iterations: int = setting(200, option="--iterations", help="Adam steps per run",
                              minimum=0)
    n_train: int = setting(100, minimum=1)
    n_test: int = setting(1000, minimum=1)
    blocks: int = setting(2, minimum=1)
    shots: int = setting(100, minimum=1)
    learning_rate: float = setting(0.05, minimum=0.0)
    beta: float = setting(1.0, minimum=0.0)
    lam: float | None = setting(None, minimum=0.0)
    bandwidth: float = setting(1.0, minimum=0.0)
    prior_probs: tuple[float, ...] | None = setting(None, minimum=0.0, maximum=1.0)
    seed: int = seed_setting()
    quick_run: bool = setting(False)

    #: Tiny sizes for tests and smoke runs.
    QUICK: ClassVar[dict] = dict(runs=4, iterations=10, n_train=40, n_test=200, shots=20)

    def run(self, out: str | Path, *, progress: bool = True, time_limit: float | None = None,
            client: Any = None) -> RunSummary:
        """Run MLE vs ELBO vs SELBO on every dataset, write tables, plots and
        ``summary.json``.

        Writes into ``out`` the run log (``runs.csv``: one row per dataset, objective and
        run with its final metrics and sampled-BiNN accuracies; ``history.jsonl``: every
        metric per iteration), ``vi_table.csv`` (mean ± std over runs), ``vi_vs_mle.csv``,
        ``vi_history.npz`` (per-iteration histories, ``{dataset}/{objective}/{metric}`` of
        shape ``(iterations + 1, runs)``), ``vi.png``/``vi.pdf`` and ``summary.json``
        (``figure``, ``c_star`` per dataset, ``epsilon`` = None and ``circuits``: one entry
        per dataset/objective). Each finished (dataset, objective) is in the run log at
        once; calling again with the same settings resumes past them. Returns the summary.
        """
        return _run_vi(self, Path(out), progress=progress, time_limit=time_limit,
                       client=client)


# --------------------------------------------------------------------------- data, model


#: The :data:`pyqhn.problems.PROBLEMS` name of each dataset's task.
PROBLEM_OF_DATASET = {"gaussian": "gaussian-activation", "moons": "moons-activation",
                      "ring": "ring-activation"}


def make_dataset(
    name: str, n_points: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(n_points, 2)`` and labels ``(n_points,)`` in {0, 1} of the task
    :data:`PROBLEM_OF_DATASET` names (:data:`pyqhn.problems.PROBLEMS`), drawn from ``rng``:
    ``gaussian`` (:func:`~pyqhn.datasets.gaussian_mixture`, the paper's mixture), ``moons``
    (:func:`~pyqhn.datasets.two_moons`, noise 0.1), ``ring`` (:func:`~pyqhn.datasets.ring`:
    class 1 in the disc r ≤ 0.5, class 0 on the circle r = 1.5 with noise 0.1), all with
    their default parameters."""
    d = _vi_problem(name, n_points, 0, rng).dataset
    return np.asarray(d.x, dtype=float), np.asarray(d.y, dtype=float)


def _vi_problem(name: str, n_train: int, n_test: int, seed: int | np.random.Generator):
    """The task of dataset ``name`` (:data:`PROBLEM_OF_DATASET`) with the vi experiment's
    BiNN (choices-first layout, cross-entropy): ``n_train`` training and then ``n_test``
    test points from one generator seeded ``seed``."""
    from ..problems import PROBLEMS

    if name not in PROBLEM_OF_DATASET:
        raise InputError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    return PROBLEMS.create(PROBLEM_OF_DATASET[name], layout="choices-first",
                           loss="cross_entropy", n_samples=n_train, seed=seed, n_test=n_test)


def binn_tables(x: np.ndarray, y: np.ndarray, chunk: int = 2048, *,
                model: Any = None) -> dict[str, np.ndarray]:
    """Mean cross-entropy and accuracy of all ``2**14`` Fig. 2 style BiNNs on ``(x, y)``.

    The model is :func:`pyqhn.models.gaussian_activation_model` in the
    ``"choices-first"`` layout (activation bit first, 0 sigmoid; the layout docs/vi.md's
    results were computed in; index order of :mod:`pyqhn.bits`) with
    ``loss="cross_entropy"``: ``ce`` is
    :func:`pyqhn.cost.cost_table` of it; ``acc`` is the accuracy of the prediction
    ``σ(logit) > ½`` from :meth:`~pyqhn.models.AugmentedBiNN.output`.

    ``model``: the vi task's model when ``None`` (that of :func:`make_problem`'s problems).

    Returns ``{"ce": (2**14,), "acc": (2**14,)}`` (natural-log cross-entropy).
    """
    from ..cost import cost_table
    from ..datasets import Dataset
    from ..models import gaussian_activation_model

    if model is None:
        model = gaussian_activation_model("choices-first", loss="cross_entropy")
    ce = cost_table(model, Dataset(np.asarray(x, dtype=float), np.asarray(y).astype(np.int64)))
    acc = np.empty(2**N_BITS)
    for s in range(0, 2**N_BITS, chunk):
        bits = index_to_bits(np.arange(s, min(s + chunk, 2**N_BITS)), N_BITS)
        p = np.asarray(model.output(bits, x))
        acc[s : s + chunk] = np.mean((p > 0.5) == (np.asarray(y) > 0.5), axis=1)
    return {"ce": np.asarray(ce), "acc": acc}


@dataclass(frozen=True)
class VIProblem:
    """One dataset's tables over all bitstrings, index order of :mod:`pyqhn.bits`."""

    name: str
    n_train: int
    ce_train: np.ndarray
    ce_test: np.ndarray
    acc_train: np.ndarray
    acc_test: np.ndarray
    prior: np.ndarray

    @property
    def log_likelihood(self) -> np.ndarray:
        """``log p(D|w) = -N_s · C_CE(w)``."""
        return -float(self.n_train) * self.ce_train  # ob.log_likelihood_from_cost in NumPy


def make_problem(name: str, config: VISpec, seed: int) -> VIProblem:
    """Draw train and test sets of ``name`` and tabulate the BiNN on them."""
    problem = _vi_problem(name, config.n_train, config.n_test, seed)
    tr = binn_tables(problem.dataset.x, problem.dataset.y, model=problem.model)
    te = binn_tables(problem.test.x, problem.test.y, model=problem.model)
    prior = (ob.uniform_prior(N_BITS) if config.prior_probs is None
             else ob.bernoulli_prior(config.prior_probs))
    return VIProblem(name, config.n_train, tr["ce"], te["ce"], tr["acc"], te["acc"],
                     np.asarray(prior))


# --------------------------------------------------------------------------- training


def _lam(config: VISpec) -> float:
    return float(N_BITS * np.log(2.0)) if config.lam is None else float(config.lam)


def _metrics(q, problem: VIProblem, config: VISpec) -> dict[str, jax.Array]:
    """Per-run quantities of the full distributions ``q`` ``(runs, 2**14)``."""
    ll = jnp.asarray(problem.log_likelihood)
    prior = jnp.asarray(problem.prior)
    return {
        "ce_train": q @ jnp.asarray(problem.ce_train),
        "ce_test": q @ jnp.asarray(problem.ce_test),
        "acc_train": q @ jnp.asarray(problem.acc_train),
        "acc_test": q @ jnp.asarray(problem.acc_test),
        "elbo": ob.elbo(q, ll, prior, config.beta),
        "selbo": ob.selbo_exact(q, ll, prior, _lam(config), config.bandwidth),
        "kl": ob.kl_divergence(q, prior),
        "mmd2": ob.mmd2_exact(q, prior, N_BITS, config.bandwidth),
    }


def _objective(problem: VIProblem, objective: str, config: VISpec, circuit) -> ob.Objective:
    from ..engines import get_engine

    engine = get_engine("exact")
    if objective == "selbo-sampled":
        return ob.sampled_selbo_objective(
            engine, circuit, problem.log_likelihood, problem.prior, shots=config.shots,
            lam=_lam(config), bandwidth=config.bandwidth, n_train=problem.n_train,
            seed=config.seed + 7919)
    return ob.distribution_objective(objective, engine, circuit, problem.ce_train,
                                     problem.n_train, prior=problem.prior, beta=config.beta,
                                     lam=_lam(config), bandwidth=config.bandwidth)


def vi_group(problem: VIProblem, objective: str, config: VISpec, theta0: np.ndarray):
    """The driver group of one dataset and objective: ``runs`` circuits from ``theta0``
    ``(runs, P)`` trained by Adam together (one batch, so the sampled SELBO's shot stream
    is that of one generator seeded ``seed + 7919``), with every :func:`_metrics` entry and
    the gradient norm traced per iteration and the sampled-BiNN accuracies
    (:func:`evaluate_samples`) measured at the end."""
    from ..driver import Group
    from ..engines import get_engine
    from ..optimizers import adam_optimizer

    if objective not in ob.OBJECTIVES:
        raise InputError(f"unknown objective {objective!r}; choose one of {ob.OBJECTIVES}")
    circuit = brickwork_circuit(N_BITS, config.blocks)
    engine = get_engine("exact")
    probs = jax.vmap(engine.jax_probabilities(circuit))
    metrics = jax.jit(lambda th: _metrics(probs(th), problem, config))

    def trace(state, runs: np.ndarray) -> dict[str, np.ndarray]:
        m = {k: np.asarray(v) for k, v in metrics(jnp.asarray(state.x)).items()}
        m["grad_norm"] = np.linalg.norm(np.asarray(state.g), axis=-1)
        return m

    def measure(x: np.ndarray, runs: np.ndarray, probs: np.ndarray) -> dict:
        final = {k: np.asarray(v) for k, v in metrics(jnp.asarray(x)).items()}
        return dict(final, **evaluate_samples(problem, probs, config.shots,
                                              seed=config.seed + 17))

    return Group(f"{problem.name}/{objective}", circuit,
                 _objective(problem, objective, config, circuit),
                 adam_optimizer(learning_rate=config.learning_rate,
                                max_steps=config.iterations),
                 config.runs, seed=config.seed, engine=engine,
                 start=lambda runs: np.asarray(theta0)[runs],
                 columns=dict(dataset=problem.name, objective=objective), trace=trace,
                 measure=measure, batch_size=config.runs)


def _histories(hist: dict, group: str, runs: int) -> dict[str, np.ndarray]:
    """``{series: (iterations + 1, runs)}`` of one group from run-log histories."""
    per_run = [hist[(group, r)] for r in range(runs)]
    keys = [k for k, v in per_run[0].items() if k != "f" and np.ndim(v) == 1]
    return {k: np.stack([np.asarray(h[k], dtype=np.float64) for h in per_run], axis=1)
            for k in keys}


def train_vi(
    problem: VIProblem, objective: str, config: VISpec, theta0: np.ndarray
) -> dict[str, np.ndarray]:
    """Train ``runs`` circuits from ``theta0`` ``(runs, P)`` by Adam on ``objective``
    (in memory, through the driver).

    Returns histories ``(iterations + 1, runs)`` of every :func:`_metrics` entry, of the
    gradient norm ``‖∇_θ loss‖₂`` (``grad_norm``; at the last entry the final gradient),
    and the final angles ``theta`` ``(runs, P)``.
    """
    from ..driver import MemoryLog, run_groups

    group = vi_group(problem, objective, replace(config, runs=len(theta0)), theta0)
    log = MemoryLog()
    run_groups([group], log, progress=False)
    out = _histories(log.histories(), group.name, group.runs)
    out["theta"] = log.angles()[group.name]
    return out


def evaluate_samples(
    problem: VIProblem, q: np.ndarray, shots: int, seed: int
) -> dict[str, np.ndarray]:
    """Accuracies of ``shots`` BiNNs sampled from each final ``q`` ``(runs, 2**14)``.

    ``mean_*``: mean accuracy over the samples; ``best_*``: accuracy of the sampled BiNN
    with the lowest TRAINING cross-entropy (selection never looks at the test set).
    """
    w = ob.sample_from_probabilities(q, shots, seed=np.random.default_rng(seed))  # (runs, shots)
    best = w[np.arange(w.shape[0]), np.argmin(problem.ce_train[w], axis=1)]
    return {
        "mean_train_acc": problem.acc_train[w].mean(axis=1),
        "mean_test_acc": problem.acc_test[w].mean(axis=1),
        "best_train_acc": problem.acc_train[best],
        "best_test_acc": problem.acc_test[best],
        "best_train_ce": problem.ce_train[best],
    }


# --------------------------------------------------------------------------- runner


def _run_vi(cfg: VISpec, out: Path, *, progress: bool, time_limit: float | None,
            client: Any) -> RunSummary:
    from ..plotting.vi import plot_vi

    # runs stay in the settings: a group's runs share one shot stream (selbo-sampled)
    settings = {k: v for k, v in asdict(cfg).items()
                if k not in ("datasets", "objectives", "quick_run")}
    circuit = brickwork_circuit(N_BITS, cfg.blocks)
    theta0 = random_params(circuit, cfg.runs, seed=cfg.seed)  # same inits for all objectives
    problems = {}

    def build(out: Path):
        groups = []
        for name in cfg.datasets:
            problems[name] = make_problem(name, cfg, seed=cfg.seed
                                          + 1000 * (DATASETS.index(name) + 1))
            groups += [vi_group(problems[name], o, cfg, theta0) for o in cfg.objectives]
        return groups, None

    def summarise(log: RunLog, _: None, out: Path) -> RunSummary:
        table = log.table()
        names = [f"{d}/{o}" for d in cfg.datasets for o in cfg.objectives]
        df = table[table["group"].isin(names) & (table["run"] < cfg.runs)]
        df = df.set_index("group").loc[names].reset_index()  # display order
        hist = log.histories()
        histories = {f"{g}/{k}": v for g in names
                     for k, v in _histories(hist, g, cfg.runs).items()}
        summary_table = _summary_table(df)
        write_table(out / "vi_table.csv", summary_table)
        paired = paired_vs_mle(df)
        write_table(out / "vi_vs_mle.csv", paired)
        write_arrays(out / "vi_history.npz", histories)
        plot_vi(histories, summary_table, cfg, out)
        c_star = {d: float(np.min(problems[d].ce_train)) for d in cfg.datasets}
        circuits = [
            {
                "name": f"{r['dataset']}/{r['objective']}",
                "runs": int(((df["dataset"] == r["dataset"])
                             & (df["objective"] == r["objective"])).sum()),
                "mean_energy": r["ce_train_mean"],
                "mean_test_accuracy": r["mean_test_acc_mean"],
                "best_test_accuracy": r["best_test_acc_mean"],
            }
            for r in summary_table.to_dict(orient="records")
        ]
        return RunSummary(
            figure="vi", quick=cfg.quick_run,
            c_star=c_star,  # per dataset: minimum training cross-entropy over all BiNNs
            epsilon=None, circuits=circuits,
            details={
                "experiment": "vi",
                "config": {k: v for k, v in asdict(cfg).items() if k != "quick_run"},
                "lambda": _lam(cfg),
                "n_qubits": N_BITS,
                "table": summary_table.to_dict(orient="records"),
                "vs_mle": paired.to_dict(orient="records"),
            },
            report=circuit_lines(circuits, success=False),
            files=["vi_table.csv", "vi_vs_mle.csv", "vi_history.npz", "vi.png", "vi.pdf"])

    return execute(out, kind="vi", settings=settings, build=build, summarise=summarise,
                   progress=progress, time_limit=time_limit, client=client)


_TABLE_COLS = ("mean_train_acc", "mean_test_acc", "best_train_acc", "best_test_acc",
               "acc_test", "ce_train", "elbo", "selbo")


def _summary_table(df: pd.DataFrame) -> pd.DataFrame:
    g = df.groupby(["dataset", "objective"], sort=False)
    parts = []
    for col in _TABLE_COLS:
        s = g[col].agg(["mean", "std"])
        s.columns = [f"{col}_mean", f"{col}_std"]
        parts.append(s)
    return pd.concat(parts, axis=1).reset_index()


def paired_vs_mle(df: pd.DataFrame) -> pd.DataFrame:
    """Paired differences (objective − MLE, same initialisation) of the final accuracies:
    mean and standard error over runs, per dataset and objective."""
    rows = []
    for name in df.dataset.unique():
        d = df[df.dataset == name]
        base = d[d.objective == "mle"].sort_values("run")
        if base.empty:
            continue
        for obj in d.objective.unique():
            if obj == "mle":
                continue
            o = d[d.objective == obj].sort_values("run")
            row = {"dataset": name, "objective": obj, "runs": len(o)}
            for col in ("mean_train_acc", "mean_test_acc", "best_train_acc", "best_test_acc"):
                diff = o[col].to_numpy() - base[col].to_numpy()
                row[f"d_{col}"] = float(diff.mean())
                row[f"d_{col}_se"] = float(diff.std(ddof=1) / np.sqrt(len(diff)))
            rows.append(row)
    return pd.DataFrame(rows)
