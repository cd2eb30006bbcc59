"""The study's pipeline in a few lines, for notebooks: data → model → cost → circuits → runs.

One :class:`Problem` for both regimes: ``Problem(model, data).train(circuits, runs)``
enumerates the ``2**N`` cost table and trains on exact energies (L-BFGS) while the table
is small (``N ≤`` :data:`EXACT_MAX_QUBITS`, and ``shots=None``); otherwise, or whenever
``shots`` is an integer, it trains from ``shots`` samples per estimate of the MPS engine
(:mod:`pyqhn.sampled_objectives`; score-function gradient + Adam by default, ``"spsa"``,
``"qnspsa"`` or ``"parameter-shift"`` by name), the BiNN evaluated on the fly on the
sampled bit rows. Both go through the same driver (:mod:`pyqhn.driver`) and run log
(:mod:`pyqhn.runlog`); :class:`Results` holds the runs table, the angles
(:meth:`Results.theta`) and the decoded best networks.

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
from .checks import InputError, check_cost, check_int, n_qubits_of_cost
from .circuits import Circuit, brickwork_circuit, product_circuit
from .datasets import Dataset
from .optimizers import SAMPLED_OPTIMIZERS

__all__ = ["Problem", "Results", "make_circuits", "cached_cost_table", "default_epsilon",
           "EXACT_MAX_QUBITS", "DEFAULT_SHOTS", "DEFAULT_SAMPLED_STEPS", "SAMPLED_OPTIMIZERS",
           "DEFAULT_EPSILON_FRACTION"]

#: Largest model trained on its enumerated table when ``shots=None`` (a 2**20 table is
#: 8 MiB and enumerates in seconds; beyond, enumeration time grows as 2**N · samples and
#: the exact engine's state as 2**N, so sampling is the faster route).
EXACT_MAX_QUBITS = 20

#: Shots per estimate of a sampled run when ``shots`` is not given (the 8×8 MNIST study
#: used 1500; 1000 is enough for the score-function gradient of a linear model).
DEFAULT_SHOTS = 1000

#: Optimiser steps of a sampled run when ``max_iter`` is not given.
DEFAULT_SAMPLED_STEPS = 200

#: Default success threshold: ``ε = DEFAULT_EPSILON_FRACTION · |C*|``. The cost's units
#: depend on the loss and the data (a cross-entropy of 0.05 or 0.6 nats, an MSE of 0.008),
#: so no fixed ε means the same thing on two problems; relative to C* it asks that a run's
#: energy be within 1 % of the best classifier's training loss.
DEFAULT_EPSILON_FRACTION = 0.01


def default_epsilon(c_star: float) -> float:
    """The documented default success threshold :data:`DEFAULT_EPSILON_FRACTION` ``· |C*|``
    (at least 1e-12, so a zero optimum still has a threshold)."""
    return max(DEFAULT_EPSILON_FRACTION * abs(float(c_star)), 1e-12)

CircuitSpec = Circuit | str | int


def make_circuits(specs: Sequence[CircuitSpec], n_qubits: int) -> list[Circuit]:
    """Circuits from ``Circuit`` objects, names (``"product"``, ``"blocks=4"``, ``"N_layer=2"``;
    :meth:`Circuit.from_name`) or block counts.

    An integer ``b`` is ``blocks=b`` (the paper's N_layer = b/2); ``0`` is the product state.
    """
    out = []
    for s in specs:
        if isinstance(s, Circuit):
            c = s
        elif isinstance(s, str):
            c = Circuit.from_name(s, n_qubits)
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


def _enumerate_cost(model: Any, data: Dataset, chunk: int = 4096) -> np.ndarray:
    """All ``2**N`` costs of ``model`` on ``data``: :func:`pyqhn.cost.cost_table` for an
    :class:`~pyqhn.models.AugmentedBiNN`, else the model's cost of every bit row
    (``cost_function`` or ``cost``), ``chunk`` rows at a time."""
    from .cost import check_table_size, cost_table

    if hasattr(model, "layers"):
        return np.asarray(cost_table(model, data), dtype=np.float64)
    n = check_table_size(model.n_qubits)
    make = getattr(model, "cost_function", None)
    cost = make(data) if make is not None else (lambda b: model.cost(b, data))
    out = np.empty(2**n)
    for start in range(0, 2**n, chunk):
        index = np.arange(start, min(start + chunk, 2**n))
        out[index] = np.asarray(cost(index_to_bits(index, n)), dtype=np.float64)
    return out


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
            an ``(X, y)`` pair of arrays (``y`` labels 0 and 1, or ``0 … k−1`` for a model
            with ``k`` output units).
        cache: optional ``.npz`` path caching the cost table.
        cost: a ready ``(2**N,)`` cost table to use instead of enumerating (e.g. the
            original authors' table); it must have ``2**model.n_qubits`` entries.
        test: held-out data the cost never sees (a Dataset or ``(X, y)``), for test
            accuracies; ``None`` when there is none.
        validation: held-out data for model selection (same form), or ``None``.

    :meth:`from_cost` makes a problem of a bare cost table (no model, no data): it trains
    like any other, but has no classifier. :attr:`enumerable` says whether
    :meth:`train` with ``shots=None`` uses the table (else it samples).
    """

    def __init__(self, model: Any, dataset: Dataset | tuple[Any, Any] | None, *,
                 cache: str | Path | None = None, cost: np.ndarray | None = None,
                 test: Dataset | tuple[Any, Any] | None = None,
                 validation: Dataset | tuple[Any, Any] | None = None):
        from .datasets import as_dataset

        if model is None and cost is None:
            raise InputError("a Problem needs a model (and data), or a cost table: use "
                             "Problem(model, (X, y)) or Problem.from_cost(table)")
        if model is not None and dataset is None:
            raise InputError("a Problem with a model needs data: Problem(model, (X, y))")
        self.model = model
        self.dataset = None if dataset is None else as_dataset(dataset)
        self.test = None if test is None else as_dataset(test)
        self.validation = None if validation is None else as_dataset(validation)
        k = int(getattr(model, "n_classes", 2))
        for data in (self.dataset, self.test, self.validation):
            if data is not None and np.any(data.y >= k):
                raise InputError(
                    f"the model separates {k} classes but the labels are "
                    f"{np.unique(data.y)[:6]}: "
                    + ("binary labels 0 and 1 are needed (map your two classes to 0 and 1)"
                       if k == 2 else f"labels 0 … {k - 1} are needed"))
        self.cache = cache
        self._bit_cost: Any = None
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

    @property
    def enumerable(self) -> bool:
        """Whether :meth:`train` with ``shots=None`` trains on the enumerated table: a table
        was given, or ``N ≤`` :data:`EXACT_MAX_QUBITS`."""
        return self._cost is not None or self.n_bits <= EXACT_MAX_QUBITS

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

    def bit_cost(self, bits: np.ndarray) -> np.ndarray:
        """Training cost ``(M,)`` of bit rows ``(M, N)``, evaluated on the fly (no table)."""
        self._need_model("cost of bit rows")
        if self._bit_cost is None:
            make = getattr(self.model, "cost_function", None)
            self._bit_cost = (make(self.dataset) if make is not None
                              else lambda b: self.model.cost(b, self.dataset))
        return np.asarray(self._bit_cost(np.asarray(bits)), dtype=np.float64)

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
        shots: int | None = None,
        optimizer: str | Any = None,
        epsilon: float | None = None,
        out: str | Path | None = None,
        seed: int = 0,
        max_iter: int | None = None,
        gtol: float = 1e-6,
        learning_rate: float | None = None,
        batch_size: int | None = None,
        progress: bool = True,
        objective: str = "mle",
        client: Any = None,
        mode_beam: int = 64,
    ) -> Results:
        """Train ``runs`` random initialisations of every circuit, exactly or from samples.

        ``shots=None`` trains on the enumerated table when :attr:`enumerable` (L-BFGS on
        exact energies; ``max_iter`` default 500) and otherwise from
        :data:`DEFAULT_SHOTS` samples per estimate; an integer ``shots`` always samples
        (MPS engine, ``max_iter`` default :data:`DEFAULT_SAMPLED_STEPS` steps).
        ``optimizer``: exact: ``None``/``"lbfgs"`` or any
        :class:`pyqhn.optimizers.Optimizer`; sampled: a name of
        :data:`SAMPLED_OPTIMIZERS` (``None`` = score-function gradient + Adam with
        ``learning_rate`` 0.1; ``"spsa"``, ``"qnspsa"`` calibrate theirs when ``None``;
        ``"parameter-shift"``: shot parameter shift + Adam).
        ``epsilon``: success threshold of :meth:`Results.summary` (default
        :func:`default_epsilon`). ``out`` makes the sweep resumable (a run log,
        :mod:`pyqhn.runlog`). ``objective``: ``"mle"`` (E(θ), default), ``"elbo"`` or
        ``"selbo"`` (exact only; :mod:`pyqhn.objectives`; use a model with
        ``loss="cross_entropy"``). ``client``: a ``dask.distributed.Client`` (or
        :class:`pyqhn.cluster.ClusterSpec`); ``None`` trains in this process.
        ``mode_beam``: beam width of the most probable BiNN of a sampled run.
        """
        runs = check_int(runs, "runs", minimum=1)
        seed = check_int(seed, "seed", minimum=0)
        circs = self.circuits(circuits)
        if shots is None and self.enumerable:
            return self._train_exact(circs, runs, optimizer=optimizer, epsilon=epsilon,
                                     out=out, seed=seed, max_iter=max_iter, gtol=gtol,
                                     batch_size=batch_size, progress=progress,
                                     objective=objective, client=client)
        shots = DEFAULT_SHOTS if shots is None else check_int(shots, "shots", minimum=2)
        if objective != "mle":
            raise InputError(f"the {objective} objective needs the enumerated table; sampled "
                             "training minimises E(θ) (objective='mle')")
        self._need_model("sampled training (the BiNN is evaluated on the sampled bits)")
        return self._train_sampled(circs, runs, shots=shots, optimizer=optimizer,
                                   epsilon=epsilon, out=out, seed=seed, max_iter=max_iter,
                                   learning_rate=learning_rate, progress=progress,
                                   client=client, mode_beam=mode_beam)

    def _train_exact(self, circs, runs, *, optimizer, epsilon, out, seed, max_iter, gtol,
                     batch_size, progress, objective, client) -> Results:
        from .driver import circuit_groups, multistart_settings
        from .optimizers import Optimizer, lbfgs_optimizer

        if optimizer is None or optimizer == "lbfgs":
            optimizer = lbfgs_optimizer(gtol=gtol, max_iter=500 if max_iter is None
                                        else check_int(max_iter, "max_iter", minimum=0))
        elif not isinstance(optimizer, Optimizer):
            raise InputError(f"optimizer {optimizer!r}: exact training takes 'lbfgs' or a "
                             "pyqhn.optimizers.Optimizer; the sampled optimisers "
                             f"{', '.join(SAMPLED_OPTIMIZERS)} need shots=N")
        cost = self.cost_table()
        n_train = None if self.dataset is None else self.dataset.n_samples
        groups = circuit_groups(cost, circs, runs, seed=seed, optimizer=optimizer,
                                objective=objective, n_train=n_train, batch_size=batch_size)
        settings = multistart_settings(cost, seed=seed, optimizer=optimizer,
                                       objective=objective, n_train=n_train, engine="exact")
        table, angles = _run(groups, out, settings, progress, client)
        return Results(table=_requested(table, circs, runs), cost=cost,
                       epsilon=default_epsilon(cost.min()) if epsilon is None else epsilon,
                       problem=self, circuits=circs, angles=angles, regime="exact")

    def _train_sampled(self, circs, runs, *, shots, optimizer, epsilon, out, seed, max_iter,
                       learning_rate, progress, client, mode_beam) -> Results:
        from .driver import Group
        from .engines import get_engine
        from .sampled_objectives import ShotCounter

        name = "score-function" if optimizer is None else optimizer
        if name not in SAMPLED_OPTIMIZERS:
            raise InputError(f"optimizer {optimizer!r}: sampled training takes one of "
                             f"{', '.join(SAMPLED_OPTIMIZERS)}")
        steps = (DEFAULT_SAMPLED_STEPS if max_iter is None
                 else check_int(max_iter, "max_iter", minimum=0))
        mode_beam = check_int(mode_beam, "mode_beam", minimum=1)
        engine = get_engine("mps")
        groups = []
        for c in circs:
            counter = ShotCounter()
            objective, opt = _sampled_method(name, engine, c, self.bit_cost, shots=shots,
                                             seed=seed, counter=counter, steps=steps,
                                             learning_rate=learning_rate)
            measure = _final_measure(engine, c, self.bit_cost, shots=shots, seed=seed,
                                     counter=counter, beam=mode_beam)
            groups.append(Group(c.name, c, objective, opt, runs, seed=seed,
                                columns=dict(shots=shots, optimizer=name),
                                measure=measure, batch_size=1))
        settings = dict(kind="sampled", problem=self.fingerprint(), seed=seed, shots=shots,
                        optimizer=name, max_steps=steps, learning_rate=learning_rate,
                        engine="mps", mode_beam=mode_beam, n_qubits=self.n_bits,
                        **{f"optimizer.{k}": v for k, v in groups[0].optimizer.settings.items()
                           if isinstance(v, (int, float, str, bool, type(None)))})
        table, angles = _run(groups, out, settings, progress, client)
        table = _requested(table, circs, runs)
        best = float(table["best_cost"].min()) if len(table) else float("nan")
        return Results(table=table, cost=None,
                       epsilon=default_epsilon(best) if epsilon is None else epsilon,
                       problem=self, circuits=circs, angles=angles, regime="sampled")


def _run(groups, out, settings, progress, client) -> tuple[pd.DataFrame, dict]:
    """Train ``groups`` through the driver into a run log (``out``) or memory; the table
    and the angles ``{group: (R, P)}``."""
    from .driver import MemoryLog, run_groups
    from .runlog import RunLog

    if out is None:
        log = MemoryLog()
        table = run_groups(groups, log, progress=progress, client=client)
        return table, log.angles()
    with RunLog(out, settings, kind="train") as log:
        table = run_groups(groups, log, progress=progress, client=client)
        return table, log.angles()


def _requested(table: pd.DataFrame, circs: Sequence[Circuit], runs: int) -> pd.DataFrame:
    """The rows of the requested circuits and runs (a folder may hold more)."""
    keep = table["group"].isin([c.name for c in circs]) & (table["run"] < runs)
    return table[keep].reset_index(drop=True)


def _sampled_method(name: str, engine: Any, circuit: Circuit, cost: Any, *, shots: int,
                    seed: int, counter: Any, steps: int, learning_rate: float | None):
    """(objective, optimiser) of a sampled optimiser name (:data:`SAMPLED_OPTIMIZERS`)."""
    from .optimizers import adam_optimizer, qnspsa_optimizer, spsa_optimizer
    from .sampled_objectives import (
        fidelity_fn,
        sampled_energy_objective,
        score_function_objective,
        shot_parameter_shift_objective,
    )

    if name in ("score-function", "parameter-shift"):
        make = (score_function_objective if name == "score-function"
                else shot_parameter_shift_objective)
        return (make(engine, circuit, cost, shots=shots, seed=seed, counter=counter),
                adam_optimizer(learning_rate=learning_rate or 0.1, max_steps=steps))
    objective = sampled_energy_objective(engine, circuit, cost, shots=shots, seed=seed,
                                         counter=counter)
    if name == "spsa":
        return objective, spsa_optimizer(max_steps=steps, learning_rate=learning_rate)
    return objective, qnspsa_optimizer(fidelity_fn(engine, circuit), max_steps=steps,
                                       learning_rate=learning_rate)


#: ``best_source`` values of a sampled run (how its BiNN was read out).
BEST_SOURCES = ("mode-certified", "beam-search", "most-frequent-sample")


def _final_measure(engine: Any, circuit: Circuit, cost: Any, *, shots: int, seed: int,
                   counter: Any, beam: int):
    """The driver's ``measure`` of a sampled group: the best BiNN of every final state.

    ``shots`` final samples per run; the BiNN read out is the beam search's most probable
    bit row when certified exact (``best_source = "mode-certified"``), else the more
    probable of the beam's best string (``"beam-search"``) and the most frequent sample
    (``"most-frequent-sample"``). Columns: ``best_index`` (NaN beyond 62 bits),
    ``best_bitstring``, ``best_probability`` (exact), ``best_source``, ``best_cost``
    (its training cost), ``e_sampled_final`` (mean cost of the final samples),
    ``n_distinct``, plus ``n_circuits`` and ``n_shots`` of the whole run.
    """
    from .bits import bits_to_string
    from .sampled_objectives import shot_seed
    from .shot_estimators import cost_of_samples, unique_rows

    n = circuit.n_qubits

    def measure(x, runs, probs):
        cols: dict[str, list] = {k: [] for k in (
            "best_index", "best_bitstring", "best_probability", "best_source", "best_cost",
            "e_sampled_final", "n_distinct")}
        for i, r in enumerate(runs):
            bits = engine.sample_bits(circuit, x[i], shots, seed=shot_seed(seed + 2, r, 0))
            counter.add(int(r), 1, shots)
            uniq, inv = unique_rows(bits)
            counts = np.bincount(inv, minlength=len(uniq))
            values = cost_of_samples(cost, uniq)
            frequent = uniq[counts.argmax()]
            mode = engine.most_probable(circuit, x[i], width=beam)
            chosen, log_p, source = mode.bits, mode.log_prob, "mode-certified"
            if not mode.certified:
                lp = float(engine.log_prob(circuit, x[i], frequent[None])[0])
                chosen, log_p, source = ((frequent, lp, "most-frequent-sample") if lp >= log_p
                                         else (chosen, log_p, "beam-search"))
            cols["best_index"].append(int(bits_to_index(chosen)) if n <= 62 else np.nan)
            cols["best_bitstring"].append("0b" + bits_to_string(chosen))
            cols["best_probability"].append(float(np.exp(log_p)))
            cols["best_source"].append(source)
            cols["best_cost"].append(float(cost(chosen[None])[0]))
            cols["e_sampled_final"].append(float(values @ counts / counts.sum()))
            cols["n_distinct"].append(int(len(uniq)))
        out = {k: np.asarray(v) for k, v in cols.items()}
        out.update(counter.columns(runs))
        return out

    return measure


@dataclass
class Results:
    """Runs of a multi-start sweep, exact or sampled.

    Attributes:
        table: tidy runs table (one row per run; columns of :mod:`pyqhn.runlog`; sampled
            runs add ``best_source``, ``best_cost``, ``e_sampled_final``, ``n_shots`` …).
        cost: ``(2**N,)`` cost table (``None`` for sampled runs).
        epsilon: success threshold.
        problem: the problem, for classifiers (``None`` when built from a table only).
        circuits: the circuits, in display order.
        angles: ``{circuit name: (R, P)}`` final angles, row ``r`` = run ``r``.
        regime: ``"exact"`` (enumerated table) or ``"sampled"``.
    """

    table: pd.DataFrame
    cost: np.ndarray | None
    epsilon: float
    problem: Problem | None = None
    circuits: list[Circuit] = field(default_factory=list)
    angles: dict[str, np.ndarray] = field(default_factory=dict)
    regime: str = "exact"

    @property
    def c_star(self) -> float:
        """Exact optimum ``min C``; for sampled runs the lowest training cost of a BiNN
        read out of any run (the best found, not a proven optimum)."""
        if self.cost is None:
            return float(self.table["best_cost"].min())
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
        ``C*`` and ``ε`` are in ``.attrs``. Sampled runs: the energies are the training
        costs of the BiNNs read out (``best_cost``) and ``C*`` the lowest of them."""
        column = "best_cost" if self.regime == "sampled" else "e_final"
        rows = summarize_groups(self.table, self.c_star, self.epsilon, self.circuit_names,
                                column=column)
        for r in rows:
            r["success_low"], r["success_high"] = r.pop("success_interval")
            r.pop("success_error")
        frame = pd.DataFrame(rows).rename(columns={"name": "circuit"}).set_index("circuit")
        frame.attrs.update(c_star=self.c_star, epsilon=self.epsilon, regime=self.regime)
        return frame[["n_layer", "runs", "successes", "success_probability", "success_low",
                      "success_high", "mean_energy", "std_energy", "min_energy",
                      "median_energy"]]

    def energies(self) -> dict[str, np.ndarray]:
        """``{circuit name: (R,) final energies}`` in display order."""
        return {n: self.table.loc[self.table["circuit"] == n, "e_final"].to_numpy(float)
                for n in self.circuit_names}

    def _circuit_name(self, circuit: CircuitSpec) -> str:
        if isinstance(circuit, Circuit):
            return circuit.name
        n = self.circuits[0].n_qubits if self.circuits else 1
        return make_circuits([circuit], n)[0].name

    def theta(self, circuit: CircuitSpec, run: int) -> np.ndarray:
        """``(P,)`` final angles of run ``run`` of ``circuit`` (a Circuit or any name
        :meth:`Circuit.from_name` reads, e.g. ``"N_layer=1"``)."""
        name = self._circuit_name(circuit)
        if name not in self.angles:
            raise InputError(f"no angles for circuit {name}; these results hold "
                             f"{', '.join(self.angles) or 'none'}")
        a = self.angles[name]
        run = check_int(run, "run", minimum=0)
        if run >= a.shape[0] or np.isnan(a[run]).all():
            raise InputError(f"circuit {name} has no finished run {run}")
        return a[run].copy()

    def best_run(self) -> pd.Series:
        """The row of the best run: the lowest final energy (exact), or the lowest training
        cost of the BiNN read out (sampled)."""
        column = "best_cost" if self.regime == "sampled" else "e_final"
        return self.table.loc[self.table[column].idxmin()]

    def run_bits(self, circuit: CircuitSpec, run: int) -> np.ndarray:
        """``(N,)`` bits of the BiNN read out of one run (its ``best_bitstring``)."""
        name = self._circuit_name(circuit)
        row = self.table[(self.table["circuit"] == name) & (self.table["run"] == run)]
        if row.empty:
            raise InputError(f"circuit {name} has no finished run {run}")
        return _bits_of_literal(row.iloc[0]["best_bitstring"])

    def best_bits(self) -> np.ndarray:
        """``(N,)`` bits of the most probable outcome of the best run (sampled: the BiNN
        read out, labelled by ``best_source``)."""
        return _bits_of_literal(self.best_run()["best_bitstring"])

    def best_cost(self) -> float:
        """``C`` of :meth:`best_bits`."""
        if self.cost is None:
            return float(self.best_run()["best_cost"])
        return float(self.cost[int(bits_to_index(self.best_bits()))])

    def _problem(self) -> Problem:
        if self.problem is not None:
            self.problem._need_model("classifier")
        if self.problem is None:
            raise InputError("these results carry no problem (data and model), so there is no "
                             "classifier; build them with Problem(model, (X, y)).train(...)")
        return self.problem

    def best_classifier(self) -> Any:
        """The BiNN of :meth:`best_bits` as a classifier (needs the problem)."""
        return self._problem().classifier(self.best_bits())

    def best_network(self) -> dict[str, Any]:
        """The decoded BiNN of :meth:`best_bits` (:meth:`pyqhn.models.AugmentedBiNN.describe`:
        weights, biases, activation, width, encoding, a ``text`` line)."""
        return self._problem().describe(self.best_bits())

    def networks(self) -> pd.DataFrame:
        """The decoded BiNN of every run: one row per run (``circuit, run, e_final,
        best_cost`` where known, ``network`` = its ``text`` description)."""
        problem = self._problem()
        rows = []
        for _, r in self.table.iterrows():
            d = problem.describe(_bits_of_literal(r["best_bitstring"]))
            rows.append(dict(circuit=r["circuit"], run=int(r["run"]),
                             e_final=float(r["e_final"]),
                             best_cost=(float(r["best_cost"]) if "best_cost" in r
                                        else float(self.cost[int(r["best_index"])])),
                             network=d["text"]))
        return pd.DataFrame(rows)


def _bits_of_literal(text: Any) -> np.ndarray:
    """``"0b0110…"`` (parameter 0 first) → ``(N,)`` uint8 bits."""
    s = str(text)
    if not s.startswith("0b"):
        raise InputError(f"no bitstring recorded for this run ({s!r})")
    return np.frombuffer(s[2:].encode(), dtype=np.uint8) - ord("0")
