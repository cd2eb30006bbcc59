"""Seeded instance families of the benchmark, their cost functions and references.

An :class:`Instance` is one augmented model on one dataset: a bit cost ``C`` (bit rows
``(M, N)`` uint8 → ``(M,)`` training losses) and the reference ``C_ref`` success is
measured against. Three families, each a function of ``(size, seed)``, built as problems
by :mod:`pyqhn.problems.benchmark_families` (registered as ``bench-gauss``,
``bench-mnist``, ``bench-pixels``): ``gauss`` (the 2-D Gaussian mixture with component
variance ``width``, a ``2-h-1`` network, ``N = 4h + 1``), ``mnist`` (a digit pair resized
to ``s × s``, logistic regression, ``N = s² + 1``) and ``pixels`` (``k`` seeded pixels of a
digit pair, logistic regression, ``N = k + 1``).

Up to :data:`MAX_EXACT_QUBITS` the whole cost table is enumerated
(:func:`pyqhn.cost.cost_table`) and ``C_ref = C*`` exactly; above, ``C_ref`` is the best
cost found by long simulated-annealing and parallel-tempering runs
(:func:`search_reference`), labelled ``reference_exact = False``.
"""

from __future__ import annotations

import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np

from ..bits import bits_to_index
from ..checks import InputError
from ..cost import load_cost, save_cost
from ..datasets import Dataset
from ..models import AugmentedBiNN
from ..pipeline import Problem
from ..problems.benchmark_families import (
    DIGIT_PAIRS,
    gauss_instance,
    mnist_instance,
    pixels_instance,
)

__all__ = ["FAMILIES", "DIGIT_PAIRS", "MAX_EXACT_QUBITS", "Instance", "InstanceSpec",
           "build_instance", "search_reference", "size_for"]

#: Families and how their size parameter sets N.
FAMILIES = ("gauss", "mnist", "pixels")

#: Largest N whose cost table is enumerated (2**21 float64: 16 MiB).
MAX_EXACT_QUBITS = 21



@dataclass(frozen=True)
class InstanceSpec:
    """What names an instance: family, size parameter (``h``, ``s`` or ``k``), seed and,
    for ``gauss``, the component variance ``width``."""

    family: str
    size: int
    seed: int
    width: float = 0.1

    @property
    def name(self) -> str:
        """The instance's name: family, size (and width) and seed."""
        if self.family == "gauss":
            return f"gauss-w{self.width:g}-h{self.size}-s{self.seed}"
        return f"{self.family}-{self.size}-s{self.seed}"

    @property
    def n_qubits(self) -> int:
        """``N``, the bits of the family's model at this size."""
        return {"gauss": 4 * self.size + 1, "mnist": self.size**2 + 1,
                "pixels": self.size + 1}[self.family]


def size_for(family: str, n_qubits: int) -> int:
    """The size parameter whose instance has ``n_qubits`` bits (exact), else InputError."""
    for size in range(1, 1000):
        if InstanceSpec(family, size, 0).n_qubits == n_qubits:
            return size
    raise InputError(f"no {family} instance has {n_qubits} bits")


@dataclass
class Instance:
    """One benchmark problem.

    Attributes:
        spec: its name and seeds.
        problem: its augmented model and training set (``model``, ``data``).
        table: the ``(2**N,)`` cost table, or ``None`` above :data:`MAX_EXACT_QUBITS`.
        reference: ``C*`` (exact) or the best cost long searches found.
        reference_exact: whether ``reference`` is the exact optimum.
    """

    spec: InstanceSpec
    problem: Problem
    table: np.ndarray | None
    reference: float
    reference_exact: bool

    @property
    def model(self) -> AugmentedBiNN:
        """The augmented model (its problem's)."""
        return self.problem.model

    @property
    def data(self) -> Dataset:
        """The training set (its problem's)."""
        return self.problem.dataset

    @property
    def name(self) -> str:
        """The name of its spec."""
        return self.spec.name

    @property
    def n_qubits(self) -> int:
        """``N``, the bits of its model."""
        return self.model.n_qubits

    def cost(self, bits: np.ndarray) -> np.ndarray:
        """Training losses ``(M,)`` of bit rows ``(M, N)`` (table lookup, or the network's
        loss on the data grouped once)."""
        bits = np.asarray(bits, dtype=np.uint8)
        if self.table is not None:
            return self.table[bits_to_index(bits.astype(np.int64))]
        return self.problem.bit_cost(bits)


def _problem(spec: InstanceSpec) -> Problem:
    """The family's problem (:mod:`pyqhn.problems.benchmark_families`) of ``spec``."""
    if spec.family == "gauss":
        return gauss_instance(hidden=spec.size, seed=spec.seed, width=spec.width)
    if spec.family == "mnist":
        return mnist_instance(size=spec.size, seed=spec.seed)
    if spec.family == "pixels":
        return pixels_instance(pixels=spec.size, seed=spec.seed)
    raise InputError(f"unknown instance family {spec.family!r}; use one of {FAMILIES}")


def build_instance(spec: InstanceSpec, folder: str | Path | None = None, *,
                   reference_budget: int = 20000, reference_runs: int = 4) -> Instance:
    """The instance of ``spec``; its table (``cost.npz``) or search reference
    (``reference.json``) cached in ``folder/<name>/`` when ``folder`` is given."""
    problem = _problem(spec)
    here = None if folder is None else Path(folder) / spec.name
    if here is not None:
        here.mkdir(parents=True, exist_ok=True)
    if problem.n_bits <= MAX_EXACT_QUBITS:
        path = None if here is None else here / "cost.npz"
        if path is not None and path.exists():
            table, _ = load_cost(path)
        else:
            table = problem.cost_table()
            if path is not None:
                save_cost(path, table, instance=spec.name, family=spec.family,
                          size=spec.size, seed=spec.seed, width=spec.width)
        return Instance(spec, problem, table, float(table.min()), True)
    path = None if here is None else here / "reference.json"
    key = dict(reference_budget=reference_budget, reference_runs=reference_runs)
    if path is not None and path.exists():
        saved = json.loads(path.read_text())
        if all(saved.get(k) == v for k, v in key.items()):
            return Instance(spec, problem, None, float(saved["reference"]), False)
    inst = Instance(spec, problem, None, float("nan"), False)
    found = search_reference(inst, budget=reference_budget, runs=reference_runs)
    inst.reference = found["reference"]
    if path is not None:
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps({**key, **found}, indent=1))
        tmp.replace(path)
    return inst


def search_reference(instance: Instance, *, budget: int, runs: int) -> dict[str, Any]:
    """Best cost of ``runs`` simulated-annealing and ``runs`` parallel-tempering runs of
    ``budget`` evaluations each (seeds 10**6 + r, apart from the benchmark's)."""
    from ..baselines.local import parallel_tempering_optimizer
    from ..baselines.search import annealing_optimizer, random_bits
    from ..optimizers.base import minimize

    def fun(x: np.ndarray) -> np.ndarray:
        return instance.cost(np.rint(x).astype(np.uint8))

    seeds = 10**6 + np.arange(runs)
    x0 = random_bits(instance.n_qubits, 10**6, np.arange(runs))
    sa, _ = minimize(annealing_optimizer(budget=budget, cooling_ratio=1e-3), fun, x0, seeds)
    pt, _ = minimize(parallel_tempering_optimizer(budget=budget, replicas=8), fun, x0, seeds)
    best = np.concatenate([sa.f, pt.f])
    return dict(reference=float(best.min()), sa_best=sa.f.tolist(), pt_best=pt.f.tolist(),
                how="best of long simulated annealing and parallel tempering runs")
