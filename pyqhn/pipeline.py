"""The study's pipeline in a few lines, for notebooks: data → model → cost → circuits → runs.

Example:
    >>> from pyqhn import datasets, models
    >>> from pyqhn.pipeline import Problem
    >>> problem = Problem(models.gaussian_activation_model(), datasets.gaussian_mixture(500))
    >>> res = problem.train(["product", "blocks=2"], runs=8, max_iter=100, epsilon=0.03)
    >>> res.table            # one row per run (pyqhn.runlog columns)   # doctest: +SKIP
    >>> res.summary()        # success probability, mean energy per circuit  # doctest: +SKIP
    >>> clf = res.best_classifier()   # the most probable BiNN of the best run
    >>> clf(datasets.gaussian_mixture(10).x)                            # doctest: +SKIP

Conventions: the cost table has length ``2**N`` with site 1 the least significant bit of the
index (``pyqhn.bits``); a *success* is a run with ``E(θ) − C* < ε`` where ``C* = min C`` is the
exact optimum from enumeration.
"""

from __future__ import annotations

import hashlib
import warnings
import zipfile
from collections.abc import Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from .analysis import summarize_groups
from .bits import bits_to_index, index_to_bits
from .checks import InputError, check_cost, n_qubits_of_cost
from .circuits import Circuit, brickwork_circuit, circuit_from_name, product_circuit
from .datasets import Dataset
from .driver import train_multistart

__all__ = ["Problem", "Results", "make_circuits", "cached_cost_table"]

CircuitSpec = Circuit | str | int


def make_circuits(specs: Sequence[CircuitSpec], n_qubits: int) -> list[Circuit]:
    """Circuits from ``Circuit`` objects, names (``"product"``, ``"blocks=4"``) or block counts.

    An integer ``b`` is ``blocks=b`` (the paper's N_layer = b/2); ``0`` is the product state.
    """
    out = []
    for s in specs:
        if isinstance(s, Circuit):
            c = s
        elif isinstance(s, str):
            c = circuit_from_name(s, n_qubits)
        elif int(s) == 0:
            c = product_circuit(n_qubits)
        else:
            c = brickwork_circuit(n_qubits, int(s))
        if c.n_qubits != n_qubits:
            raise InputError(f"circuit {c.name} has {c.n_qubits} qubits; the problem has "
                             f"{n_qubits} bits")
        if c in out:
            raise InputError(f"circuit {c.name} is given twice; give each circuit once")
        out.append(c)
    return out


def _dataset_key(model: Any, data: Dataset) -> str:
    h = hashlib.sha256()
    h.update(repr(model).encode())
    h.update(np.ascontiguousarray(data.x).tobytes())
    h.update(np.ascontiguousarray(data.y).tobytes())
    return h.hexdigest()[:16]


def _enumerate_cost(model: Any, data: Dataset) -> np.ndarray:
    """All ``2**N`` costs of ``model`` on ``data`` (:func:`pyqhn.cost.cost_table`)."""
    from .cost import cost_table

    return np.asarray(cost_table(model, data), dtype=np.float64)


def cached_cost_table(model: Any, data: Dataset, path: str | Path | None) -> np.ndarray:
    """``(2**N,)`` cost table of ``model`` on ``data``, cached in the ``.npz`` file ``path``.

    The cache stores a key of the model and the data; a file with another key is recomputed
    (so changing the dataset size or seed never reuses a stale table).
    """
    from .cost import load_cost, save_cost

    key = _dataset_key(model, data)
    if path is not None:
        path = Path(path)
        if path.exists():
            try:
                cost, meta = load_cost(path)
                if meta.get("key") == key and cost.size == 2 ** model.n_qubits:
                    return cost
                if meta.get("key") == key:
                    warnings.warn(f"the cached cost table {path} has {cost.size} entries, not "
                                  f"2**{model.n_qubits}; enumerating it again", RuntimeWarning,
                                  stacklevel=2)
            except (OSError, ValueError, KeyError, EOFError, zipfile.BadZipFile) as err:
                warnings.warn(f"the cached cost table {path} cannot be read ({err}); "
                              "enumerating it again", RuntimeWarning, stacklevel=2)
    cost = _enumerate_cost(model, data)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        save_cost(path, cost, key=key)
    return cost


class Problem:
    """A dataset with an augmented BiNN model: the cost ``C(w)`` over all ``2**N`` BiNNs.

    Args:
        model: a model of :mod:`pyqhn.models` (``cost``, ``describe``, ``classifier``).
        dataset: the data the cost is averaged over: a :class:`~pyqhn.datasets.Dataset` or
            an ``(X, y)`` pair of arrays (``y`` labels 0 and 1).
        cache: optional ``.npz`` path caching the cost table.
        cost: a ready ``(2**N,)`` cost table to use instead of enumerating (e.g. the
            original authors' table); it must have ``2**model.n_qubits`` entries.

    :meth:`from_cost` makes a problem of a bare cost table (no model, no data): it trains
    like any other, but has no classifier.
    """

    def __init__(self, model: Any, dataset: Dataset | tuple[Any, Any] | None, *,
                 cache: str | Path | None = None, cost: np.ndarray | None = None):
        from .datasets import as_dataset

        if model is None and cost is None:
            raise InputError("a Problem needs a model (and data), or a cost table: use "
                             "Problem(model, (X, y)) or Problem.from_cost(table)")
        if model is not None and dataset is None:
            raise InputError("a Problem with a model needs data: Problem(model, (X, y))")
        self.model = model
        self.dataset = None if dataset is None else as_dataset(dataset)
        self.cache = cache
        self._cost: np.ndarray | None = None
        self._given_cost = cost is not None
        if cost is not None:
            self._cost = check_cost(cost, getattr(model, "n_qubits", None))

    @classmethod
    def from_cost(cls, cost: np.ndarray) -> Problem:
        """A problem of a bare ``(2**N,)`` cost table (e.g. a file of the original
        authors'): circuits train on it, but no classifier can be built."""
        return cls(None, None, cost=cost)

    def _need_model(self, what: str) -> None:
        if self.model is None:
            raise InputError(f"this problem is a bare cost table, so it has no {what}: "
                             "build it as Problem(model, (X, y)) to get BiNNs back")

    def cost_table(self) -> np.ndarray:
        """``(2**N,)`` float64 costs by exhaustive enumeration (cached after the first call)."""
        if self._cost is None:
            self._cost = cached_cost_table(self.model, self.dataset, self.cache)
        return self._cost

    def fingerprint(self) -> str:
        """What identifies the cost: the given table's bytes, else the model and the data
        (known before enumerating; the run log records it)."""
        from .runlog import fingerprint

        if self._given_cost:
            return fingerprint(self._cost)
        return "model+data:" + _dataset_key(self.model, self.dataset)

    def circuits(self, specs: Sequence[CircuitSpec]) -> list[Circuit]:
        """Circuits on this problem's bits (:func:`make_circuits`)."""
        return make_circuits(specs, self.n_bits)

    @property
    def n_bits(self) -> int:
        """``N``, the number of model bits (qubits)."""
        n = getattr(self.model, "n_qubits", None)
        return int(n) if n is not None else n_qubits_of_cost(self.cost_table())

    @property
    def c_star(self) -> float:
        """The exact optimum ``C* = min_w C(w)``."""
        return float(self.cost_table().min())

    def optimum_bits(self) -> np.ndarray:
        """``(N,)`` bits of the optimal BiNN (parameter 0 first, ``pyqhn.bits`` order)."""
        return index_to_bits(int(np.argmin(self.cost_table())), self.n_bits)

    def classifier(self, bits: np.ndarray) -> Any:
        """The BiNN of ``bits`` as a scikit-learn style classifier (``predict``,
        ``predict_proba``, ``score``; :class:`pyqhn.models.BiNNClassifier`)."""
        self._need_model("classifier")
        return self.model.classifier(np.asarray(bits))

    def describe(self, bits: np.ndarray) -> Any:
        """The model's human-readable description of ``bits``."""
        self._need_model("description of bitstrings")
        return self.model.describe(np.asarray(bits))

    def train(
        self,
        circuits: Sequence[CircuitSpec],
        runs: int,
        *,
        epsilon: float,
        out: str | Path | None = None,
        seed: int = 0,
        max_iter: int = 500,
        gtol: float = 1e-6,
        batch_size: int | None = None,
        progress: bool = True,
        objective: str = "mle",
        client: Any = None,
    ) -> Results:
        """Train ``runs`` random initialisations of every circuit on the cost (L-BFGS).

        ``out`` makes the sweep resumable (a run log, :mod:`pyqhn.runlog`).
        ``objective``: ``"mle"`` (E(θ), default), ``"elbo"`` or ``"selbo"``
        (:mod:`pyqhn.objectives`; use a model with ``loss="cross_entropy"`` so the cost is
        the mean cross-entropy over the dataset's ``n_samples`` points).
        ``client``: a ``dask.distributed.Client`` (or :class:`pyqhn.cluster.ClusterSpec`)
        to train on; ``None`` trains in this process.
        """
        from .optimizers import lbfgs_optimizer

        cost = self.cost_table()
        circs = self.circuits(circuits)
        table = train_multistart(cost, circs, runs, out=out, seed=seed,
                                 optimizer=lbfgs_optimizer(gtol=gtol, max_iter=max_iter),
                                 batch_size=batch_size, progress=progress,
                                 objective=objective, client=client,
                                 n_train=None if self.dataset is None else self.dataset.n_samples)
        return Results(table=table, cost=cost, epsilon=epsilon, problem=self,
                       circuits=circs)


@dataclass
class Results:
    """Runs of a multi-start sweep on one cost table.

    Attributes:
        table: tidy runs table (one row per run; columns of :mod:`pyqhn.runlog`).
        cost: ``(2**N,)`` cost table.
        epsilon: success threshold.
        problem: the problem, for classifiers (``None`` when built from a table only).
        circuits: the circuits, in display order.
    """

    table: pd.DataFrame
    cost: np.ndarray
    epsilon: float
    problem: Problem | None = None
    circuits: list[Circuit] = field(default_factory=list)

    @property
    def c_star(self) -> float:
        """Exact optimum ``min C``."""
        return float(np.min(self.cost))

    @property
    def circuit_names(self) -> list[str]:
        """Circuit names in display order."""
        if self.circuits:
            return [c.name for c in self.circuits]
        return list(dict.fromkeys(self.table["circuit"]))

    def summary(self) -> pd.DataFrame:
        """One row per circuit (index ``circuit``): ``n_layer, runs, successes,
        success_probability`` (``E − C* < ε``), ``success_low``, ``success_high`` (95 %
        Wilson interval), ``mean_energy, std_energy, min_energy, median_energy``.
        ``C*`` and ``ε`` are in ``.attrs``."""
        rows = summarize_groups(self.table, self.c_star, self.epsilon, self.circuit_names)
        for r in rows:
            r["success_low"], r["success_high"] = r.pop("success_interval")
            r.pop("success_error")
        frame = pd.DataFrame(rows).rename(columns={"name": "circuit"}).set_index("circuit")
        frame.attrs.update(c_star=self.c_star, epsilon=self.epsilon)
        return frame[["n_layer", "runs", "successes", "success_probability", "success_low",
                      "success_high", "mean_energy", "std_energy", "min_energy",
                      "median_energy"]]

    def energies(self) -> dict[str, np.ndarray]:
        """``{circuit name: (R,) final energies}`` in display order."""
        return {n: self.table.loc[self.table["circuit"] == n, "e_final"].to_numpy(float)
                for n in self.circuit_names}

    def best_run(self) -> pd.Series:
        """The row of the run with the lowest final energy."""
        return self.table.loc[self.table["e_final"].idxmin()]

    def best_bits(self) -> np.ndarray:
        """``(N,)`` bits of the most probable outcome of the best run."""
        return index_to_bits(int(self.best_run()["best_index"]), n_qubits_of_cost(self.cost))

    def best_cost(self) -> float:
        """``C`` of :meth:`best_bits`."""
        return float(self.cost[int(bits_to_index(self.best_bits()))])

    def best_classifier(self) -> Any:
        """The BiNN of :meth:`best_bits` as a classifier (needs the problem)."""
        if self.problem is None:
            raise InputError("these results carry no problem (data and model), so there is no "
                             "classifier; build them with Problem(model, (X, y)).train(...)")
        return self.problem.classifier(self.best_bits())
