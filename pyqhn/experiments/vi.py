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

import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import jax
import jax.numpy as jnp
import numpy as np
import optax
import pandas as pd

from .. import objectives as ob
from ..bits import index_to_bits
from ..circuits import brickwork_circuit, random_params
from ..engines import exact
from ..runner import check_resume_settings

__all__ = [
    "DATASETS",
    "VIConfig",
    "make_dataset",
    "binn_tables",
    "VIProblem",
    "make_problem",
    "train_vi",
    "evaluate_samples",
    "run_vi",
    "paired_vs_mle",
    "plot_vi",
    "vi_command",
]

DATASETS = ("gaussian", "moons", "ring")
N_BITS = 14


@dataclass(frozen=True)
class VIConfig:
    """Settings of the ``vi`` experiment (paper-sized defaults; ``quick()`` for a smoke run).

    ``lam=None`` uses ``λ = N·ln 2`` (the largest KL to the uniform prior), which puts the
    MMD penalty on the KL's scale; ``prior_probs=None`` is the uniform prior.
    """

    datasets: tuple[str, ...] = DATASETS
    objectives: tuple[str, ...] = ("mle", "elbo", "selbo-sampled")
    runs: int = 100
    iterations: int = 200
    n_train: int = 100
    n_test: int = 1000
    blocks: int = 2
    shots: int = 100
    learning_rate: float = 0.05
    beta: float = 1.0
    lam: float | None = None
    bandwidth: float = 1.0
    prior_probs: tuple[float, ...] | None = None
    seed: int = 0

    @staticmethod
    def quick(**kw) -> VIConfig:
        """Tiny sizes for tests and smoke runs."""
        base = dict(runs=4, iterations=10, n_train=40, n_test=200, shots=20)
        base.update(kw)
        return VIConfig(**base)


# --------------------------------------------------------------------------- data, model


def make_dataset(
    name: str, n_points: int, rng: np.random.Generator
) -> tuple[np.ndarray, np.ndarray]:
    """Points ``(n_points, 2)`` and labels ``(n_points,)`` in {0, 1} from
    :mod:`pyqhn.datasets`: ``gaussian`` (:func:`~pyqhn.datasets.gaussian_mixture`, the
    paper's mixture), ``moons`` (:func:`~pyqhn.datasets.two_moons`, noise 0.1), ``ring``
    (:func:`~pyqhn.datasets.ring`: class 1 in the disc r ≤ 0.5, class 0 on the circle
    r = 1.5 with noise 0.1), all with their default parameters."""
    from .. import datasets

    makers = {"gaussian": datasets.gaussian_mixture, "moons": datasets.two_moons,
              "ring": datasets.ring}
    if name not in makers:
        raise ValueError(f"unknown dataset {name!r}; choose one of {DATASETS}")
    d = makers[name](n_points, seed=rng)
    return np.asarray(d.x, dtype=float), np.asarray(d.y, dtype=float)


def binn_tables(x: np.ndarray, y: np.ndarray, chunk: int = 2048) -> dict[str, np.ndarray]:
    """Mean cross-entropy and accuracy of all ``2**14`` Fig. 2 style BiNNs on ``(x, y)``.

    The model is :func:`pyqhn.models.gaussian_activation_model` (its bit layout, index
    order of :mod:`pyqhn.bits`) with ``loss="cross_entropy"``: ``ce`` is
    :func:`pyqhn.cost.cost_table` of it; ``acc`` is the accuracy of the prediction
    ``σ(logit) > ½`` from :meth:`~pyqhn.models.AugmentedBiNN.output`.

    Returns ``{"ce": (2**14,), "acc": (2**14,)}`` (natural-log cross-entropy).
    """
    from ..cost import cost_table
    from ..datasets import Dataset
    from ..models import gaussian_activation_model

    model = replace(gaussian_activation_model(), loss="cross_entropy")
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


def make_problem(name: str, config: VIConfig, seed: int) -> VIProblem:
    """Draw train and test sets of ``name`` and tabulate the BiNN on them."""
    rng = np.random.default_rng(seed)
    xtr, ytr = make_dataset(name, config.n_train, rng)
    xte, yte = make_dataset(name, config.n_test, rng)
    tr, te = binn_tables(xtr, ytr), binn_tables(xte, yte)
    prior = (ob.uniform_prior(N_BITS) if config.prior_probs is None
             else ob.bernoulli_prior(config.prior_probs))
    return VIProblem(name, config.n_train, tr["ce"], te["ce"], tr["acc"], te["acc"],
                     np.asarray(prior))


# --------------------------------------------------------------------------- training


def _lam(config: VIConfig) -> float:
    return float(N_BITS * np.log(2.0)) if config.lam is None else float(config.lam)


def _metrics(q, problem: VIProblem, config: VIConfig) -> dict[str, jax.Array]:
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


def train_vi(
    problem: VIProblem, objective: str, config: VIConfig, theta0: np.ndarray
) -> dict[str, np.ndarray]:
    """Train ``runs`` circuits from ``theta0`` ``(runs, P)`` by Adam on ``objective``.

    Returns histories ``(iterations + 1, runs)`` of every :func:`_metrics` entry, of the
    gradient norm ``‖∇_θ loss‖₂`` (``grad_norm``; at the last entry the final gradient),
    and the final angles ``theta`` ``(runs, P)``.
    """
    if objective not in ob.OBJECTIVES:
        raise ValueError(f"unknown objective {objective!r}; choose one of {ob.OBJECTIVES}")
    circuit = brickwork_circuit(N_BITS, config.blocks)
    opt = optax.adam(config.learning_rate)
    theta = jnp.asarray(theta0)
    state = opt.init(theta)

    def probs(th):
        return exact.probabilities(circuit, th)

    if objective != "selbo-sampled":
        loss = ob.objective_loss(
            objective, problem.ce_train, problem.n_train, prior=problem.prior,
            beta=config.beta, lam=_lam(config), bandwidth=config.bandwidth,
        )

    @jax.jit
    def exact_step(th, st):
        def total(t):
            q = probs(t)
            return jnp.sum(loss(q)), q

        (_, q), g = jax.value_and_grad(total, has_aux=True)(th)
        upd, st = opt.update(g, st, th)
        return optax.apply_updates(th, upd), st, g, _metrics(q, problem, config)

    metrics_fn = jax.jit(lambda th: _metrics(probs(th), problem, config))
    sampler = ob.probability_sampler(probs)
    rng = np.random.default_rng(config.seed + 7919)
    ll = problem.log_likelihood

    def sampled_grad(th):
        # device-style: N_qc shots of each circuit and its 2P shifts, fresh prior samples
        prior_samples = ob.sample_from_probabilities(
            np.broadcast_to(problem.prior, (th.shape[0], problem.prior.size)),
            config.shots,
            seed=rng,
        )
        _, g = ob.selbo_parameter_shift_grad(
            sampler, np.asarray(th), ll, prior_samples, n_samples=config.shots,
            lam=_lam(config), bandwidth=config.bandwidth, seed=int(rng.integers(2**62)),
        )
        return jnp.asarray(-g / problem.n_train)

    hist: dict[str, list] = {}
    for it in range(config.iterations + 1):
        if objective == "selbo-sampled":
            m = metrics_fn(theta)
            g = sampled_grad(theta)
            if it < config.iterations:
                upd, state = opt.update(g, state, theta)
                theta = optax.apply_updates(theta, upd)
        else:
            new_theta, new_state, g, m = exact_step(theta, state)
            if it < config.iterations:
                theta, state = new_theta, new_state
        m = {k: np.asarray(v) for k, v in m.items()}
        m["grad_norm"] = np.linalg.norm(np.asarray(g), axis=-1)
        for k, v in m.items():
            hist.setdefault(k, []).append(v)
    out = {k: np.stack(v) for k, v in hist.items()}
    out["theta"] = np.asarray(theta)
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


def run_vi(
    out_dir: str | Path,
    quick: bool = False,
    runs: int | None = None,
    seed: int = 0,
    config: VIConfig | None = None,
    progress: bool = True,
) -> dict:
    """Run MLE vs ELBO vs SELBO on every dataset, write tables, plots and ``summary.json``.

    Writes into ``out_dir``: ``vi_runs.csv`` (one row per dataset, objective and run:
    final metrics and sampled-BiNN accuracies), ``vi_table.csv`` (mean ± std over runs),
    ``vi_history.npz`` (per-iteration histories), ``vi.png``/``vi.pdf`` and
    ``summary.json`` (``figure``, ``c_star`` per dataset, ``epsilon`` = None and
    ``circuits``: one entry per dataset/objective). Each finished (dataset, objective) is
    appended to ``vi_runs.csv`` with its ``vi_history_<dataset>_<objective>.npz`` at once;
    calling again with the same settings resumes past them (``vi_config.json`` guards the
    settings). Returns the summary dictionary.
    """
    cfg = config or (VIConfig.quick() if quick else VIConfig())
    cfg = replace(cfg, seed=seed) if config is None else cfg
    if runs is not None:
        cfg = replace(cfg, runs=runs)
    bad = [o for o in cfg.objectives if o not in ob.OBJECTIVES]
    bad += [d for d in cfg.datasets if d not in DATASETS]
    if bad:
        raise ValueError(f"unknown objective or dataset {bad}; objectives: {ob.OBJECTIVES}, "
                         f"datasets: {DATASETS}")
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    check_resume_settings(out, asdict(cfg), name="vi_config.json")
    runs_path = out / "vi_runs.csv"
    done = pd.read_csv(runs_path) if runs_path.exists() else pd.DataFrame()
    circuit = brickwork_circuit(N_BITS, cfg.blocks)
    theta0 = random_params(circuit, cfg.runs, seed=cfg.seed)  # same inits for all objectives
    rows, histories, c_star = [], {}, {}
    t_start = time.time()
    for di, name in enumerate(cfg.datasets):
        problem = make_problem(name, cfg, seed=cfg.seed + 1000 * (di + 1))
        c_star[name] = float(np.min(problem.ce_train))
        for objective in cfg.objectives:
            hist_path = out / f"vi_history_{name}_{objective}.npz"
            if not done.empty and hist_path.exists():
                prev = done[(done["dataset"] == name) & (done["objective"] == objective)]
                if len(prev) == cfg.runs:  # finished in an earlier call: resume past it
                    rows += prev.to_dict(orient="records")
                    with np.load(hist_path) as f:
                        histories.update({f"{name}/{objective}/{k}": f[k] for k in f})
                    continue
            t0 = time.time()
            h = train_vi(problem, objective, cfg, theta0)
            q = np.asarray(exact.probabilities(circuit, h["theta"]))
            ev = evaluate_samples(problem, q, cfg.shots, seed=cfg.seed + 17)
            block_hist = {k: v for k, v in h.items() if k != "theta"}
            histories.update({f"{name}/{objective}/{k}": v for k, v in block_hist.items()})
            block = []
            for r in range(cfg.runs):
                row = {"dataset": name, "objective": objective, "run": r}
                row.update({k: float(v[-1, r]) for k, v in block_hist.items()})
                row.update({k: float(v[r]) for k, v in ev.items()})
                block.append(row)
            # written as each (dataset, objective) finishes, so an interrupted call resumes
            np.savez_compressed(hist_path, **block_hist)
            pd.DataFrame(block).to_csv(runs_path, mode="a", header=not runs_path.exists(),
                                       index=False)
            rows += block
            if progress:
                print(f"vi: {name:9s} {objective:14s} {time.time() - t0:7.1f} s  "
                      f"test acc (mean sample) {ev['mean_test_acc'].mean():.3f}", flush=True)
    df = pd.DataFrame(rows)
    table = _summary_table(df)
    table.to_csv(out / "vi_table.csv", index=False)
    paired = paired_vs_mle(df)
    paired.to_csv(out / "vi_vs_mle.csv", index=False)
    np.savez_compressed(out / "vi_history.npz", **histories)
    plot_vi(histories, table, cfg, out)
    summary = {
        "figure": "vi",
        "experiment": "vi",
        "c_star": c_star,  # per dataset: minimum training cross-entropy over all BiNNs
        "epsilon": None,
        "circuits": [
            {
                "name": f"{r['dataset']}/{r['objective']}",
                "runs": int(((df["dataset"] == r["dataset"])
                             & (df["objective"] == r["objective"])).sum()),
                "mean_energy": r["ce_train_mean"],
                "mean_test_accuracy": r["mean_test_acc_mean"],
                "best_test_accuracy": r["best_test_acc_mean"],
            }
            for r in table.to_dict(orient="records")
        ],
        "config": asdict(cfg),
        "lambda": _lam(cfg),
        "n_qubits": N_BITS,
        "seconds": time.time() - t_start,
        "table": table.to_dict(orient="records"),
        "vs_mle": paired.to_dict(orient="records"),
        "files": ["vi_runs.csv", "vi_table.csv", "vi_vs_mle.csv", "vi_history.npz", "vi.png",
                  "vi.pdf"],
    }
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary


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


# --------------------------------------------------------------------------- plots


def plot_vi(
    histories: dict, table: pd.DataFrame, config: VIConfig, out_dir: str | Path
) -> None:
    """Rows = datasets; columns: average ELBO, average SELBO, training curves (E_q C_CE,
    train solid, test dashed), average gradient norm, final sampled-BiNN accuracies."""
    import matplotlib

    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    ds, objs = config.datasets, config.objectives
    fig, axes = plt.subplots(len(ds), 5, figsize=(20, 3.4 * len(ds)), squeeze=False)
    colors = {o: f"C{i}" for i, o in enumerate(objs)}
    for i, name in enumerate(ds):
        ax = axes[i]
        for o in objs:
            key = f"{name}/{o}/"
            it = np.arange(histories[key + "elbo"].shape[0])
            ax[0].plot(it, histories[key + "elbo"].mean(1), color=colors[o], label=o)
            ax[1].plot(it, histories[key + "selbo"].mean(1), color=colors[o], label=o)
            ax[2].plot(it, histories[key + "ce_train"].mean(1), color=colors[o], label=o)
            ax[2].plot(it, histories[key + "ce_test"].mean(1), color=colors[o], ls="--")
            ax[3].semilogy(it, histories[key + "grad_norm"].mean(1), color=colors[o], label=o)
        sub = table[table.dataset == name]
        xs = np.arange(len(sub))
        for j, (col, lab) in enumerate((("mean_test_acc", "mean sample"),
                                        ("best_test_acc", "best (by train CE)"))):
            ax[4].bar(xs + 0.4 * j - 0.2, sub[f"{col}_mean"], width=0.4,
                      yerr=sub[f"{col}_std"], label=lab, capsize=3)
        ax[4].set_xticks(xs, sub.objective)
        ax[4].set_ylim(0, 1)
        titles = ("average ELBO", "average SELBO", "E_q C_CE (train —, test --)",
                  "average ‖∇θ loss‖", "test accuracy of sampled BiNNs")
        for a, t in zip(ax, titles, strict=True):
            a.set_title(f"{name}: {t}", fontsize=9)
        for a in ax[:4]:
            a.set_xlabel("iteration")
        ax[0].legend(fontsize=8)
        ax[4].legend(fontsize=8)
    fig.tight_layout()
    out = Path(out_dir)
    fig.savefig(out / "vi.png", dpi=120)
    fig.savefig(out / "vi.pdf")
    plt.close(fig)


# --------------------------------------------------------------------------- command line


def _click_command():
    import click

    @click.command("vi")
    @click.option("--quick", is_flag=True, help="Tiny sizes (smoke run).")
    @click.option("--out", "out_dir", required=True, type=click.Path(file_okay=False),
                  help="Output folder (created).")
    @click.option("--runs", type=int, default=None, help="Initialisations (default 100).")
    @click.option("--iterations", type=int, default=None, help="Adam steps per run.")
    @click.option("--seed", type=int, default=0, show_default=True)
    @click.option("--objectives", default=None,
                  help="Comma list of mle,elbo,selbo,selbo-sampled "
                       "(default mle,elbo,selbo-sampled).")
    @click.option("--datasets", default=None, help="Comma list of gaussian,moons,ring.")
    def vi(quick, out_dir, runs, iterations, seed, objectives, datasets):
        """MLE vs ELBO vs SELBO on 2-D Gaussian, two moons and ring (N_layer = 1)."""
        cfg = VIConfig.quick(seed=seed) if quick else VIConfig(seed=seed)
        if runs is not None:
            cfg = replace(cfg, runs=runs)
        if iterations is not None:
            cfg = replace(cfg, iterations=iterations)
        if objectives:
            cfg = replace(cfg, objectives=tuple(s.strip() for s in objectives.split(",")))
        if datasets:
            cfg = replace(cfg, datasets=tuple(s.strip() for s in datasets.split(",")))
        try:
            summary = run_vi(out_dir, config=cfg)
        except ValueError as err:
            raise click.ClickException(str(err)) from err
        click.echo(f"wrote {', '.join(summary['files'])} and summary.json to {out_dir}")

    return vi


#: ``pyqhn reproduce vi``: add with ``reproduce.add_command(vi.vi_command)``.
vi_command = _click_command()
