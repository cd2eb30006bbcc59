"""Multi-start training: R initialisations × a list of circuits, written run by run.

Each finished batch of runs is appended to ``DIR/runs.csv`` (one tidy row per run) and
``DIR/history.jsonl`` (E per iteration) before the next batch starts, so an interrupted
sweep loses at most the batch in flight; calling :func:`train_multistart` again with the
same ``out`` skips every (circuit, run) already written. Run ``r`` of a circuit starts from
``random_params(circuit, seed=seed + r)``, so a resumed sweep is the sweep it would have
been.

Columns of ``runs.csv``: ``circuit, n_qubits, blocks, run, seed, e_init, e_final,
n_iter, n_evals, grad_norm, converged, wall_time, best_index, best_bitstring,
best_probability, theta`` (angles as space-separated ``repr`` floats).
"""

from __future__ import annotations

import json
import time
from collections.abc import Callable, Sequence
from pathlib import Path

import numpy as np
import pandas as pd

from .bits import bits_to_string, index_to_bits
from .circuits import Circuit, random_params
from .engines import exact
from .optimizers.lbfgs import lbfgs

__all__ = [
    "RUN_COLUMNS",
    "check_resume_settings",
    "objective_value_and_grad_fn",
    "train_multistart",
    "load_runs",
    "load_histories",
    "parse_theta",
]

RUN_COLUMNS = [
    "circuit", "n_qubits", "blocks", "run", "seed", "e_init", "e_final", "n_iter", "n_evals",
    "grad_norm", "converged", "wall_time", "best_index", "best_bitstring", "best_probability",
    "theta",
]


def check_resume_settings(out: str | Path, settings: dict, name: str = "config.json") -> None:
    """Refuse to resume into ``out`` when ``out/name`` holds other settings, else record them.

    ``settings`` is a JSON-able dict of everything that would make old and new runs
    incompatible (leave out what only extends a sweep, such as the number of runs).
    """
    out = Path(out)
    path = out / name
    if path.exists():
        old = json.loads(path.read_text())
        diff = sorted(k for k in settings if json.dumps(settings[k], default=str)
                      != json.dumps(old.get(k), default=str))
        if diff:
            raise ValueError(
                f"{out} holds runs made with other settings ({', '.join(diff)} differ); "
                "use a fresh --out folder or the same settings to resume"
            )
    out.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps(settings, indent=2, default=str))


def parse_theta(column: pd.Series) -> np.ndarray:
    """The ``theta`` column of a runs table as an ``(R, P)`` array."""
    return np.array([np.array(s.split(), dtype=np.float64) for s in column])


def load_runs(out: str | Path) -> pd.DataFrame:
    """The runs table written so far in ``out`` (empty with the right columns if none)."""
    path = Path(out) / "runs.csv"
    if not path.exists():
        return pd.DataFrame(columns=RUN_COLUMNS)
    return pd.read_csv(path, dtype={"best_bitstring": str})


def load_histories(out: str | Path) -> dict[tuple[str, int], np.ndarray]:
    """``{(circuit, run): E per iteration}`` from ``out/history.jsonl``."""
    path = Path(out) / "history.jsonl"
    hist = {}
    if path.exists():
        for line in path.read_text().splitlines():
            if line.strip():
                rec = json.loads(line)
                hist[(rec["circuit"], int(rec["run"]))] = np.asarray(rec["energy"])
    return hist


def _append(out: Path, rows: list[dict], histories: list[dict]) -> None:
    path = out / "runs.csv"
    pd.DataFrame(rows, columns=RUN_COLUMNS).to_csv(
        path, mode="a", header=not path.exists(), index=False
    )
    with open(out / "history.jsonl", "a") as fh:
        for h in histories:
            fh.write(json.dumps(h) + "\n")


def objective_value_and_grad_fn(
    circuit: Circuit,
    cost: np.ndarray,
    objective: str = "mle",
    *,
    n_train: int | None = None,
    method: str = "auto",
    **objective_options,
) -> Callable[[np.ndarray], tuple[np.ndarray, np.ndarray]]:
    """Batched ``(loss, ∇loss)`` of a named objective of ``q_θ = |ψ_θ|²``.

    ``"mle"`` is the energy ``E(θ) = Σ q_θ C`` (the exact engine's fast path); ``"elbo"``
    and ``"selbo"`` are :func:`pyqhn.objectives.objective_loss` (``cost`` is then the mean
    cross-entropy table on ``n_train`` points), differentiated through
    :func:`pyqhn.engines.exact.probabilities`. ``objective_options`` go to
    ``objective_loss`` (``prior``, ``beta``, ``lam``, ``bandwidth``).
    """
    if objective == "mle" and not objective_options:
        return exact.energy_and_grad_fn(circuit, cost, method=method)
    import jax
    import jax.numpy as jnp

    from .objectives import objective_loss

    if n_train is None or n_train < 1:
        raise ValueError(
            f"the {objective!r} objective needs n_train, the number of training points the "
            "cost table averages over (log p(D|w) = -n_train · C)"
        )
    loss = objective_loss(objective, exact.check_cost(cost, circuit.n_qubits), n_train,
                          **objective_options)
    single = jax.value_and_grad(lambda th: loss(exact.probabilities(circuit, th, method=method)))
    batched = jax.jit(jax.vmap(single))

    def value_and_grad(theta: np.ndarray):
        v, g = batched(jnp.asarray(theta, dtype=jnp.float64).reshape(-1, circuit.n_params))
        return np.asarray(v), np.asarray(g)

    return value_and_grad


def train_multistart(
    cost: np.ndarray,
    circuits: Sequence[Circuit],
    runs: int,
    *,
    out: str | Path | None = None,
    seed: int = 0,
    gtol: float = 1e-6,
    max_iter: int = 500,
    batch_size: int | None = None,
    method: str = "auto",
    progress: bool = True,
    objective: str = "mle",
    n_train: int | None = None,
    value_and_grad_factory: Callable[[Circuit], Callable] | None = None,
) -> pd.DataFrame:
    """Train ``runs`` random initialisations of every circuit with L-BFGS.

    Args:
        cost: ``(2**n,)`` cost table (site 1 = least significant bit).
        circuits: ansätze on ``n`` qubits.
        runs: initialisations per circuit.
        out: folder for ``runs.csv`` / ``history.jsonl``; finished runs found there are
            skipped (resume). ``None`` keeps everything in memory.
        seed: run ``r`` starts from ``random_params(circuit, seed=seed + r)``.
        gtol, max_iter: L-BFGS stopping rules (original: 1e-6, 500).
        batch_size: runs optimised together; default all on a GPU, 8 on a CPU.
        method: exact-engine contraction (``auto``, ``mps``, ``statevector``).
        progress: show a progress bar.
        objective: ``"mle"`` (the energy, default), ``"elbo"`` or ``"selbo"`` (see
            :func:`objective_value_and_grad_fn`; these need ``n_train``). ``e_init`` and
            ``e_final`` then hold that objective's loss.
        n_train: training points behind the cost table (ELBO/SELBO likelihood scale).
        value_and_grad_factory: optional ``circuit -> batched (loss, ∇loss)`` replacing
            the objective altogether.

    Returns:
        The full runs table (earlier and new runs), one row per run.
    """
    from tqdm.auto import tqdm

    cost = np.asarray(cost, dtype=np.float64)
    n = exact.n_qubits_for_cost(cost)
    for c in circuits:
        if c.n_qubits != n:
            raise ValueError(
                f"circuit {c.name} has {c.n_qubits} qubits but the cost table has 2**{n} "
                "entries; build the circuits for the cost's qubit count"
            )
    if runs < 1:
        raise ValueError("runs must be at least 1")
    if batch_size is None:
        import jax

        batch_size = runs if jax.default_backend() != "cpu" else 8
    out_path = Path(out) if out is not None else None
    done = set()
    if out_path is not None:
        out_path.mkdir(parents=True, exist_ok=True)
        prev = load_runs(out_path)
        done = set(zip(prev["circuit"].astype(str), prev["run"].astype(int), strict=True))
    mem_rows: list[dict] = []

    todo = [(c, r) for c in circuits for r in range(runs) if (c.name, r) not in done]
    bar = tqdm(total=len(todo), desc="runs", unit="run", disable=not progress)
    for circuit in circuits:
        pending = [r for c, r in todo if c == circuit]
        if value_and_grad_factory is not None:
            vg = value_and_grad_factory(circuit)
        else:
            vg = objective_value_and_grad_fn(circuit, cost, objective, n_train=n_train,
                                             method=method)
        for start in range(0, len(pending), batch_size):
            chunk = pending[start : start + batch_size]
            x0 = np.stack([random_params(circuit, seed=seed + r) for r in chunk])
            t0 = time.perf_counter()
            res = lbfgs(vg, x0, gtol=gtol, max_iter=max_iter)
            wall = (time.perf_counter() - t0) / len(chunk)
            probs = np.asarray(exact.probabilities(circuit, res.x, method=method))
            best = probs.argmax(axis=1)
            rows, hists = [], []
            for i, r in enumerate(chunk):
                rows.append(
                    dict(
                        circuit=circuit.name, n_qubits=n, blocks=circuit.blocks, run=r,
                        seed=seed + r, e_init=res.history[i, 0], e_final=res.fun[i],
                        n_iter=int(res.n_iter[i]), n_evals=int(res.n_evals[i]),
                        grad_norm=res.grad_norm[i], converged=bool(res.converged[i]),
                        wall_time=wall, best_index=int(best[i]),
                        best_bitstring=bits_to_string(index_to_bits(best[i], n)),
                        best_probability=float(probs[i, best[i]]),
                        theta=" ".join(repr(float(v)) for v in res.x[i]),
                    )
                )
                h = res.history[i, : int(res.n_iter[i]) + 1]
                hists.append(dict(circuit=circuit.name, run=r, energy=h.tolist()))
            if out_path is not None:
                _append(out_path, rows, hists)
            mem_rows += rows
            bar.update(len(chunk))
    bar.close()
    if out_path is not None:
        return load_runs(out_path)
    return pd.DataFrame(mem_rows, columns=RUN_COLUMNS)
