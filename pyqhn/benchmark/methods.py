"""The benchmark's methods, each a driver :class:`~pyqhn.driver.Group` on one instance at
one budget, every cost evaluation counted (:mod:`.counting`).

Names (:data:`METHODS`):

* classical searches (one evaluation per bit row): ``sa`` (simulated annealing),
  ``pt`` (parallel tempering), ``random``, ``local`` (single-bit-flip local search with
  restarts), ``ste`` (straight-through-estimator training of the binary weights, one
  evaluation per loss-and-gradient step), ``exhaustive`` (``2**N`` evaluations, once);
* ``made``: a classical autoregressive model (:mod:`.made`), trained exactly as the
  circuits: shots, score-function gradient, Adam;
* circuits ``<circuit>-<optimiser>``: ``product`` or ``L1``…``L4`` (N_layer = blocks / 2,
  the brickwork ansatz with 2·N_layer blocks) trained from shots by ``adam``
  (score-function gradient, :func:`pyqhn.sampled_objectives.score_function_objective`), ``spsa`` or
  ``qnspsa`` (:func:`pyqhn.sampled_objectives.sampled_energy_objective`; QN-SPSA's fidelities come
  from the simulator's exact overlaps and are not BiNN evaluations, its blocking is off);
  one shot = one evaluation;
* ``<circuit>-lbfgs-exact``: L-BFGS on the exact energy, each energy charged ``2**N``
  evaluations (its own column: the enumerated table is what it costs).

Success criteria (columns of every run): (a) ``best_cost`` — the best BiNN the run
evaluated — within ε of the reference; for circuits also (b) ``energy`` — ``E(θ)`` of the
final angles, exact when the instance is enumerable, else from 4096 fresh shots — and (c)
``mode_cost`` — the cost of the most probable BiNN (MPS beam search of width 16). Work done
only to measure (b) and (c) is not charged.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np

from ..baselines.local import local_search_optimizer, parallel_tempering_optimizer
from ..baselines.search import (
    annealing_optimizer,
    exhaustive_optimizer,
    random_bits,
    random_search_optimizer,
)
from ..baselines.ste import latent_start, ste_objective
from ..checks import InputError
from ..circuits import Circuit, brickwork_circuit, product_circuit
from ..driver import Group
from ..engines.mps import MpsEngine
from ..objectives import Objective, energy_objective
from ..optimizers import adam_optimizer, lbfgs_optimizer, qnspsa_optimizer, spsa_optimizer
from ..sampled_objectives import (
    fidelity_fn,
    sampled_energy_objective,
    score_function_objective,
)
from ..shot_estimators import bit_row_shot_energy
from .counting import CountingSampler, CountingSlot, budgeted, counting_bit_cost
from .instances import Instance
from .made import MadeSampler, MadeSpec, made_start

__all__ = ["METHODS", "CIRCUITS", "GRIDS", "MethodInfo", "method_info", "method_group"]

CIRCUITS = ("product", "L1", "L2", "L3", "L4")
_SEARCHES = ("sa", "pt", "random", "local", "ste", "exhaustive")
METHODS = (*_SEARCHES, "made",
           *(f"{c}-{o}" for c in CIRCUITS for o in ("adam", "spsa", "qnspsa")),
           *(f"{c}-lbfgs-exact" for c in CIRCUITS))

#: Hyperparameter grids searched by tuning (same size for every tuned method, so the
#: same tuning budget); methods absent here have nothing to tune.
GRIDS: dict[str, tuple[dict[str, Any], ...]] = {
    "sa": ({"cooling_ratio": 1e-2}, {"cooling_ratio": 1e-3}, {"cooling_ratio": 1e-4}),
    "pt": ({"replicas": 4, "t_min": 0.01}, {"replicas": 8, "t_min": 0.01},
           {"replicas": 8, "t_min": 0.1}),
    "ste": ({"learning_rate": 0.01}, {"learning_rate": 0.05}, {"learning_rate": 0.2}),
    "made": ({"learning_rate": 0.01, "shots": 32}, {"learning_rate": 0.05, "shots": 32},
             {"learning_rate": 0.05, "shots": 128}),
    "adam": ({"learning_rate": 0.02, "shots": 32}, {"learning_rate": 0.1, "shots": 32},
             {"learning_rate": 0.1, "shots": 128}),
    "spsa": ({"learning_rate": 0.1, "shots": 32}, {"learning_rate": 0.5, "shots": 32},
             {"learning_rate": 0.5, "shots": 128}),
    "qnspsa": ({"learning_rate": 0.1, "shots": 32}, {"learning_rate": 0.5, "shots": 32},
               {"learning_rate": 0.5, "shots": 128}),
}

_MEASURE_SHOTS = 4096
_BEAM = 16


@dataclass(frozen=True)
class MethodInfo:
    """What a method name means: ``kind`` (``search``, ``sampler``, ``exact``), its
    circuit name and optimiser (circuits), its tuning grid key."""

    name: str
    kind: str
    circuit: str | None = None
    optimizer: str | None = None

    @property
    def grid(self) -> tuple[dict[str, Any], ...]:
        """The settings tried when the method is tuned (``({},)``: nothing to tune)."""
        key = self.optimizer if self.circuit is not None else self.name
        return GRIDS.get(key or "", ({},))

    @property
    def is_circuit(self) -> bool:
        """Whether the method trains a circuit."""
        return self.circuit is not None


def method_info(name: str) -> MethodInfo:
    """The :class:`MethodInfo` of a name of :data:`METHODS` (else InputError)."""
    if name not in METHODS:
        raise InputError(f"unknown method {name!r}; choose from {', '.join(METHODS)}")
    if name in _SEARCHES:
        return MethodInfo(name, "search")
    if name == "made":
        return MethodInfo(name, "sampler")
    circuit, _, opt = name.partition("-")
    if opt == "lbfgs-exact":
        return MethodInfo(name, "exact", circuit, opt)
    return MethodInfo(name, "sampler", circuit, opt)


def make_circuit(name: str, n_qubits: int) -> Circuit:
    """``product`` or ``L<k>`` (brickwork with ``2k`` blocks)."""
    if name == "product":
        return product_circuit(n_qubits)
    return brickwork_circuit(n_qubits, 2 * int(name[1:]))


def _counted(slot: CountingSlot, inner: Objective) -> Objective:
    """``inner`` whose ``bind`` opens a fresh counter (one run per batch)."""

    def bind(runs: np.ndarray):
        if len(runs) != 1:
            raise InputError("benchmark groups train one run per batch")
        slot.open()
        return inner.bind(runs)

    return Objective(inner.name, inner.uses_gradient, bind)


def _search_measure(slot: CountingSlot):
    def measure(x, runs, probs) -> dict[str, np.ndarray]:
        c = slot.counter
        return dict(best_cost=np.array([c.best_cost]), n_charged=np.array([c.n_evals]),
                    n_distinct=np.array([c.n_distinct]))
    return measure


def method_group(method: str, instance: Instance, budget: int, hp: Mapping[str, Any], *,
                 runs: int, seed: int, name: str) -> Group:
    """The driver group of ``runs`` runs of ``method`` with hyperparameters ``hp`` on
    ``instance``, ``budget`` evaluations each (run ``r`` seeded with ``seed + r``)."""
    info = method_info(method)
    n = instance.n_qubits
    slot = CountingSlot(budget if info.kind != "exact" else 2**62)
    cols = dict(method=method, instance=instance.name, budget=int(budget), n_qubits=n,
                hyperparameters=str(dict(hp)))
    if info.kind == "search":
        return _search_group(info.name, instance, budget, hp, slot, runs, seed, name, cols)
    if info.kind == "exact":
        return _exact_group(info, instance, budget, runs, seed, name, cols)
    return _sampler_group(info, instance, budget, hp, slot, runs, seed, name, cols)


def _search_group(method, instance, budget, hp, slot, runs, seed, name, cols) -> Group:
    n = instance.n_qubits
    measure = _search_measure(slot)
    if method == "ste":
        if instance.model.n_choice_bits:
            raise InputError("the benchmark's ste needs a model without choice bits")
        inner = ste_objective(instance.model, instance.data, np.zeros(0))
        model = instance.model

        def bind(runs_):
            fn = inner.bind(runs_)

            def counted(u):
                slot.counter.charge(u.shape[0])
                v, g = fn(u)
                bits = model.bits_from_parts(np.zeros((u.shape[0], 0)), (u > 0).astype(float))
                slot.counter.observe(np.rint(bits).astype(np.uint8), v)
                return v, g
            return counted

        opt = budgeted(adam_optimizer(learning_rate=hp["learning_rate"],
                                      max_steps=budget - 1), slot, 1)
        return Group(name, None, _counted(slot, Objective("ste", True, bind)), opt, runs,
                     seed=seed, start=lambda r: latent_start(n, seed, r), measure=measure,
                     columns=cols, batch_size=1, history_every=max(1, budget // 64))
    fun = counting_bit_cost(instance.cost, slot, charge=True)
    objective = _counted(slot, Objective("cost", False, lambda runs_: fun))
    if method == "sa":
        opt = annealing_optimizer(budget=budget, cooling_ratio=hp["cooling_ratio"])
    elif method == "pt":
        opt = parallel_tempering_optimizer(budget=budget, replicas=hp["replicas"],
                                           t_min=hp["t_min"])
    elif method == "random":
        opt = random_search_optimizer(budget=budget)
    elif method == "local":
        opt = local_search_optimizer(budget=budget)
    else:  # exhaustive
        if budget != 2**n:
            raise InputError(f"exhaustive search takes exactly 2**{n} evaluations")
        opt = exhaustive_optimizer(n, chunk=2**14)
    return Group(name, None, objective, opt, runs, seed=seed,
                 start=lambda r: random_bits(n, seed, r), measure=measure, columns=cols,
                 batch_size=1, history_every=max(1, budget // 64))


def _circuit_measure(instance: Instance, circuit, engine: MpsEngine, slot: CountingSlot,
                     seed: int):
    search = _search_measure(slot)

    def measure(x, runs, probs) -> dict[str, np.ndarray]:
        out = search(x, runs, probs)
        theta = x[0]
        if instance.table is not None:
            energy = float(engine.energy(circuit, theta, instance.table))
        else:
            energy, _ = bit_row_shot_energy(engine, circuit, theta, instance.cost,
                                            _MEASURE_SHOTS, seed=seed + 7919 + int(runs[0]))
        mode = engine.most_probable(circuit, theta, width=_BEAM)
        out.update(energy=np.array([energy]),
                   mode_cost=np.array([float(instance.cost(mode.bits[None])[0])]),
                   mode_certified=np.array([mode.certified]))
        return out

    return measure


def _sampler_group(info, instance, budget, hp, slot, runs, seed, name, cols) -> Group:
    n = instance.n_qubits
    shots = int(hp["shots"])
    cost = counting_bit_cost(instance.cost, slot, charge=False)
    per_step = shots if info.optimizer in (None, "adam") else 2 * shots
    if budget < 2 * per_step:
        raise InputError(f"{info.name}: a budget of {budget} evaluations is below two steps "
                         f"of {per_step}; lower the shots or raise the budget")
    if info.name == "made":
        spec = MadeSpec(n, hidden=min(32, 2 * n))
        sampler = CountingSampler(MadeSampler(), slot)
        objective = score_function_objective(sampler, spec, cost, shots=shots, seed=seed)
        opt = budgeted(adam_optimizer(learning_rate=hp["learning_rate"],
                                      max_steps=budget // shots), slot, shots)
        return Group(name, None, _counted(slot, objective), opt, runs, seed=seed,
                     start=lambda r: made_start(spec, seed, r), measure=_search_measure(slot),
                     columns=cols, batch_size=1, history_every=max(1, budget // shots // 64))
    circuit = make_circuit(info.circuit, n)
    engine = MpsEngine()
    sampler = CountingSampler(engine, slot)
    if info.optimizer == "adam":
        objective = score_function_objective(sampler, circuit, cost, shots=shots, seed=seed)
        opt = adam_optimizer(learning_rate=hp["learning_rate"], max_steps=budget // shots)
    else:
        objective = sampled_energy_objective(sampler, circuit, cost, shots=shots, seed=seed)
        steps = budget // per_step
        if info.optimizer == "spsa":
            opt = spsa_optimizer(max_steps=steps, learning_rate=hp["learning_rate"])
        else:
            opt = qnspsa_optimizer(fidelity_fn(engine, circuit), max_steps=steps,
                                   learning_rate=hp["learning_rate"], blocking=False)
    return Group(name, circuit, _counted(slot, objective), budgeted(opt, slot, per_step), runs,
                 seed=seed, measure=_circuit_measure(instance, circuit, engine, slot, seed),
                 columns=cols, batch_size=1, history_every=max(1, budget // per_step // 64))


def _exact_group(info, instance, budget, runs, seed, name, cols) -> Group:
    if instance.table is None:
        raise InputError(f"{info.name} needs an enumerable instance (N <= 21)")
    circuit = make_circuit(info.circuit, instance.n_qubits)
    engine = MpsEngine()
    size = 2**instance.n_qubits
    max_iter = max(1, budget // size)

    def measure(x, runs_, probs) -> dict[str, np.ndarray]:
        theta = x[0]
        energy = float(engine.energy(circuit, theta, instance.table))
        mode = engine.most_probable(circuit, theta, width=_BEAM)
        mode_cost = float(instance.cost(mode.bits[None])[0])
        return dict(best_cost=np.array([instance.reference]), energy=np.array([energy]),
                    mode_cost=np.array([mode_cost]), mode_certified=np.array([mode.certified]))

    return Group(name, circuit, energy_objective(engine, circuit, instance.table),
                 lbfgs_optimizer(max_iter=max_iter), runs, seed=seed, measure=measure,
                 columns=dict(cols, evals_per_energy=size), batch_size=1)
