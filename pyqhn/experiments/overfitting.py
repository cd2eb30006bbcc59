"""Fig. 7: overfitting with small training sets (train vs validation ``E(θ)`` per iteration).

Setting (paper, with our choices marked *ours*): the Gaussian mixture with the means moved
closer (``scale`` = 0.5 of the Fig. 2 means, *ours*: the paper gives no number); the Fig. 2
model (2–3–1 BiNN with activation choice, N = 14) and the N_layer = 1 circuit (``blocks=2``,
*ours*); training sets of ``N_s`` = 2, 4, 6, 8 and 1000 points; 50 L-BFGS iterations; a
validation set of 1000 points; averages over 100 dataset draws.

For draw ``d`` and size ``N_s`` the training cost table ``C_train`` is enumerated on the
``N_s`` points and the validation table ``C_val`` on 1000 fresh points (both seeded by ``d``);
the circuit starts from ``random_params(circuit, seed=seed + d)`` (the same start for every
``N_s``). All draws of one ``N_s`` are optimised together: row ``d`` of the L-BFGS batch has
its own cost table. The validation energy ``Σ_k p_θ(k) C_val[k]`` is evaluated at the
parameters L-BFGS accepts at every iteration (recovered exactly from the evaluated trial
points, so the trajectory is the uninterrupted 50-iteration L-BFGS one).

Writes ``curves.csv`` (``n_s, draw, iteration, e_train, e_val, c_star_train,
c_star_val``; appended per ``N_s``, finished sizes are skipped on a rerun), ``summary.json``
and ``fig7.png`` / ``.pdf``.
"""

from __future__ import annotations

import functools
import json
import time
from dataclasses import asdict, dataclass, replace
from pathlib import Path

import numpy as np

__all__ = ["OverfittingConfig", "run_fig7", "train_per_row_costs"]


@dataclass(frozen=True)
class OverfittingConfig:
    """Settings of Fig. 7 (paper-sized defaults; :meth:`quick` for CI)."""

    sizes: tuple[int, ...] = (2, 4, 6, 8, 1000)
    draws: int = 100
    max_iter: int = 50
    n_val: int = 1000
    scale: float = 0.5
    blocks: int = 2
    seed: int = 0

    @classmethod
    def quick(cls, seed: int = 0) -> OverfittingConfig:
        """A few draws, a shorter validation set, same sizes and iterations."""
        return cls(draws=4, n_val=300, seed=seed)


def train_per_row_costs(circuit, train_costs: np.ndarray, val_costs: np.ndarray,
                        x0: np.ndarray, *, max_iter: int, progress: bool = True
                        ) -> tuple[np.ndarray, np.ndarray]:
    """L-BFGS with a different cost table per run; validation energy at every iteration.

    Args:
        circuit: the ansatz on ``N`` qubits.
        train_costs, val_costs: ``(R, 2**N)`` cost tables per run.
        x0: ``(R, P)`` starting angles.
        max_iter: L-BFGS iterations.

    Returns:
        ``e_train, e_val``: ``(R, max_iter + 1)`` energies at the accepted point of every
        iteration (entry 0 the start; padded with the last value after a run stops).
    """
    import jax.numpy as jnp
    from tqdm.auto import tqdm

    from ..optimizers.lbfgs import lbfgs

    vg, ev = _per_row_functions(circuit)
    ct = jnp.asarray(train_costs, dtype=jnp.float64)
    cv = jnp.asarray(val_costs, dtype=jnp.float64)
    r = x0.shape[0]
    seen: list[dict[float, np.ndarray]] = [{} for _ in range(r)]

    def value_and_grad(x: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
        f, g = vg(jnp.asarray(x), ct)
        f = np.asarray(f)
        for i in range(r):
            seen[i][float(f[i])] = x[i].copy()
        return f, np.asarray(g)

    e_val = np.empty((r, max_iter + 1))
    e_val[:, 0] = np.asarray(ev(jnp.asarray(x0, dtype=jnp.float64), cv))
    bar = tqdm(total=max_iter, desc="iterations", unit="it", disable=not progress, leave=False)

    def callback(it: int, f: np.ndarray) -> None:
        acc = np.stack([seen[i][float(f[i])] for i in range(r)])
        e_val[:, it] = np.asarray(ev(jnp.asarray(acc), cv))
        for i in range(r):
            seen[i] = {float(f[i]): acc[i]}
        bar.update(1)

    res = lbfgs(value_and_grad, x0, max_iter=max_iter, callback=callback)
    bar.close()
    last = int(res.n_iter.max()) if r else 0
    e_val[:, last + 1:] = e_val[:, last: last + 1]
    return res.history, e_val


@functools.lru_cache(maxsize=8)
def _per_row_functions(circuit):
    """Jitted batched ``(E, ∇E)`` and ``E`` with one cost table per row (compiled once)."""
    import jax
    import jax.numpy as jnp

    from ..engines import exact

    def energy(th, c):
        return jnp.sum(exact.probabilities(circuit, th) * c)

    return jax.jit(jax.vmap(jax.value_and_grad(energy))), jax.jit(jax.vmap(energy))


def _curves_path(out: Path) -> Path:
    return out / "curves.csv"


def run_fig7(out: str | Path, *, quick: bool = False, draws: int | None = None,
             seed: int = 0, max_iter: int | None = None, progress: bool = True,
             config: OverfittingConfig | None = None) -> dict:
    """Run Fig. 7 into ``out`` (resumable per training-set size); returns the summary.

    Summary: ``figure``, ``c_star`` (``{"N_s=…": mean exact training optimum}``),
    ``epsilon`` (``None``), ``circuits`` (one entry per ``N_s``: ``name`` ``N_s=…``, ``runs``
    (draws), ``mean_energy`` / ``mean_val_energy`` (final, averaged over draws),
    ``success_probability`` (fraction of draws within 0.03 of the training optimum)),
    plus the settings.
    """
    import pandas as pd
    from tqdm.auto import tqdm

    from .. import datasets, models
    from ..circuits import brickwork_circuit, random_params
    from ..cost import cost_table
    from ..plotting_paper import overfitting_figure, save_figure

    cfg = config or (OverfittingConfig.quick(seed) if quick else OverfittingConfig(seed=seed))
    if draws is not None:
        cfg = replace(cfg, draws=int(draws))
    if max_iter is not None:
        cfg = replace(cfg, max_iter=int(max_iter))
    out = Path(out)
    out.mkdir(parents=True, exist_ok=True)
    cfg_path = out / "config.json"
    if cfg_path.exists() and json.loads(cfg_path.read_text()) != json.loads(
            json.dumps(asdict(cfg))):
        raise ValueError(f"{out} holds a Fig. 7 run with other settings; use a fresh --out "
                         "folder or the same settings to resume")
    cfg_path.write_text(json.dumps(asdict(cfg), indent=2))

    model = models.gaussian_activation_model()
    circuit = brickwork_circuit(model.n_qubits, cfg.blocks)
    x0 = np.stack([random_params(circuit, seed=cfg.seed + d) for d in range(cfg.draws)])
    done = set()
    if _curves_path(out).exists():
        done = set(pd.read_csv(_curves_path(out))["n_s"].unique().tolist())
    t0 = time.perf_counter()
    val_costs = None
    for n_s in tqdm(cfg.sizes, desc="training-set sizes", unit="size", disable=not progress):
        if n_s in done:
            continue
        if val_costs is None:
            val_costs = np.stack([
                cost_table(model, datasets.gaussian_mixture(
                    cfg.n_val, seed=[cfg.seed, d, 1], scale=cfg.scale))
                for d in tqdm(range(cfg.draws), desc="validation tables", leave=False,
                              disable=not progress)])
        train_costs = np.stack([
            cost_table(model, datasets.gaussian_mixture(
                n_s, seed=[cfg.seed, d, 0, n_s], scale=cfg.scale))
            for d in range(cfg.draws)])
        e_tr, e_va = train_per_row_costs(circuit, train_costs, val_costs, x0,
                                         max_iter=cfg.max_iter, progress=progress)
        it = np.arange(cfg.max_iter + 1)
        df = pd.DataFrame(dict(
            n_s=n_s, draw=np.repeat(np.arange(cfg.draws), it.size), iteration=np.tile(it,
                                                                                     cfg.draws),
            e_train=e_tr.ravel(), e_val=e_va.ravel(),
            c_star_train=np.repeat(train_costs.min(axis=1), it.size),
            c_star_val=np.repeat(val_costs.min(axis=1), it.size)))
        df.to_csv(_curves_path(out), mode="a", header=not _curves_path(out).exists(),
                  index=False)
    t_train = time.perf_counter() - t0

    curves_df = pd.read_csv(_curves_path(out))
    curves, entries, c_star = {}, [], {}
    for n_s in cfg.sizes:
        sub = curves_df[curves_df["n_s"] == n_s]
        g = sub.groupby("iteration")
        n = g.size().to_numpy()
        curves[f"N_s={n_s}"] = dict(
            train=g["e_train"].mean().to_numpy(), val=g["e_val"].mean().to_numpy(),
            train_err=g["e_train"].std(ddof=0).to_numpy() / np.sqrt(n),
            val_err=g["e_val"].std(ddof=0).to_numpy() / np.sqrt(n))
        final = sub[sub["iteration"] == sub["iteration"].max()]
        c_star[f"N_s={n_s}"] = float(final["c_star_train"].mean())
        entries.append(dict(
            name=f"N_s={n_s}", n_s=int(n_s), circuit=circuit.name, runs=int(len(final)),
            mean_energy=float(final["e_train"].mean()),
            mean_val_energy=float(final["e_val"].mean()),
            generalisation_gap=float((final["e_val"] - final["e_train"]).mean()),
            mean_c_star_val=float(final["c_star_val"].mean()),
            success_probability=float(np.mean(final["e_train"] - final["c_star_train"] < 0.03)),
        ))
    files = [p.name for p in save_figure(overfitting_figure(
        curves, title=f"Fig. 7: Gaussians closer (scale {cfg.scale:g}), {circuit.name}, "
                      f"{cfg.draws} draws"), out, "fig7")]
    summary = dict(figure="fig7", quick=quick, c_star=c_star, epsilon=None,
                   success_epsilon=0.03, circuits=entries, settings=asdict(cfg),
                   wall_time=dict(training=t_train), files=["curves.csv", *files])
    (out / "summary.json").write_text(json.dumps(summary, indent=2))
    return summary
