"""Classical baselines over the same augmented model, run by the same driver.

The same bits (parameters, hyperparameters and architecture together), the same cost,
the same success criterion ``C − C* < ε`` and the same seeds protocol as the circuits
(run ``r`` seeded with ``seed + r``); each method is a driver group whose rows land in
the same runs table and ``summary.json``:

``sa``
    simulated annealing with single-bit flips (:func:`.search.annealing_optimizer`),
    ``budget`` cost evaluations per run;
``random``
    random search, the same budget (:func:`.search.random_search_optimizer`);
``ste``
    straight-through-estimator training of the binary weights with optax's Adam, one
    group ``ste[<choice bits>]`` per value of the discrete choices (the bits in the order
    they appear in the model's layout), ``budget`` evaluations
    split evenly among them; :func:`best_over_choices` keeps the best per run, as a
    practitioner would (:mod:`.ste`);
``exhaustive``
    every bitstring (one run, ``2**N`` evaluations): the exact optimum.

Cost evaluations are the currency: one evaluation is ``C(w)`` of one BiNN on the
training set (a table lookup here, a forward pass over the data in general); the
circuits' counterpart is one measured shot.
"""

from __future__ import annotations

from typing import Any

import numpy as np
import pandas as pd

from ..bits import bits_to_index, bitstring_literals
from ..checks import InputError, check_int
from .search import (
    annealing_optimizer,
    bit_cost_objective,
    exhaustive_optimizer,
    random_bits,
    random_search_optimizer,
)
from .ste import choice_rows, latent_start, ste_objective

__all__ = ["METHODS", "baseline_groups", "best_over_choices"]

#: The baseline methods, by their names on the command line.
METHODS = ("sa", "random", "ste", "exhaustive")


def _bit_columns(bits: np.ndarray) -> dict[str, np.ndarray]:
    index = bits_to_index(np.rint(bits).astype(np.int64))
    return dict(best_index=index,
                best_bitstring=bitstring_literals(index, bits.shape[1]),
                best_probability=np.ones(len(index)))


def baseline_groups(methods: tuple[str, ...], *, cost: np.ndarray, model: Any = None,
                    data: Any = None, runs: int, seed: int, budget: int,
                    batch_size: int | None = None) -> list:
    """Driver groups of the baseline ``methods`` on one problem.

    Args:
        methods: names from :data:`METHODS`.
        cost: the problem's ``(2**N,)`` cost table (``sa``, ``random``, ``exhaustive``).
        model: the augmented model (``ste`` only).
        data: its training data (``ste`` only).
        runs: runs per method (``exhaustive`` always runs once).
        seed: run ``r`` is seeded with ``seed + r``.
        budget: cost evaluations per run (``ste``: in total over the choice values).
        batch_size: runs advanced together (default: all of them; the searches are cheap).
    """
    from ..driver import Group

    bad = [m for m in methods if m not in METHODS]
    if bad:
        raise InputError(f"unknown baseline {bad}; choose from {', '.join(METHODS)}")
    runs = check_int(runs, "runs", minimum=1)
    budget = check_int(budget, "budget", minimum=1)
    table = np.asarray(cost, dtype=np.float64)
    n = table.size.bit_length() - 1
    size = batch_size or runs
    every = max(1, budget // 200)
    objective = bit_cost_objective(table)

    def start(runs_: np.ndarray) -> np.ndarray:
        return random_bits(n, seed, runs_)

    def measure(x: np.ndarray, runs_: np.ndarray, probs: Any) -> dict:
        return _bit_columns(x)

    groups = []
    for m in methods:
        common = dict(seed=seed, start=start, measure=measure, batch_size=size,
                      history_every=every)
        cols = dict(method=m, n_qubits=n)
        if m == "sa":
            groups.append(Group("sa", None, objective, annealing_optimizer(budget=budget),
                                runs, columns=cols, **common))
        elif m == "random":
            groups.append(Group("random", None, objective,
                                random_search_optimizer(budget=budget), runs, columns=cols,
                                **common))
        elif m == "exhaustive":
            groups.append(Group("exhaustive", None, objective, exhaustive_optimizer(n), 1,
                                columns=cols, **dict(common, batch_size=1,
                                                     history_every=2**30)))
        else:
            groups += _ste_groups(model, data, runs=runs, seed=seed, budget=budget,
                                  batch_size=size, n=n)
    return groups


def _ste_groups(model: Any, data: Any, *, runs: int, seed: int, budget: int,
                batch_size: int, n: int) -> list:
    from ..driver import Group
    from ..optimizers import adam_optimizer

    if model is None or data is None:
        raise InputError("the ste baseline trains the model on its data: it needs the "
                         "problem's model and dataset, not only a cost table")
    choices = choice_rows(model)
    steps = max(1, budget // len(choices) - 1)  # the start counts as one evaluation
    n_weights = model.n_qubits - model.n_choice_bits
    groups = []
    for choice in choices:
        label = "".join(str(int(b)) for b in choice)

        def measure(u, runs_, probs, choice=choice):
            bits = model.bits_from_parts(np.broadcast_to(choice, (len(u), choice.size)),
                                         (u > 0).astype(np.float64))
            return _bit_columns(bits)

        groups.append(Group(
            f"ste[{label}]" if label else "ste", None, ste_objective(model, data, choice),
            adam_optimizer(learning_rate=0.05, max_steps=steps), runs, seed=seed,
            start=lambda r: latent_start(n_weights, seed, r), measure=measure,
            columns=dict(method="ste", choice=label or "-", n_qubits=n),
            batch_size=batch_size, history_every=max(1, steps // 200)))
    return groups


def best_over_choices(table: pd.DataFrame) -> pd.DataFrame:
    """One ``ste`` row per run: the choice value with the lowest final cost, with the
    evaluations of every choice added up (all are trained before the best is known).
    Empty when the model has no choice bits (its one group is already ``ste``)."""
    if "method" not in table:
        return table.iloc[:0]
    # a model without choice bits trains one group, already called "ste"
    ste = table[(table["method"] == "ste") & (table["group"] != "ste")]
    if ste.empty:
        return ste
    best = ste.loc[ste.groupby("run")["e_final"].idxmin()].copy()
    best["n_evals"] = ste.groupby("run")["n_evals"].sum().loc[best["run"]].to_numpy()
    best["group"] = best["circuit"] = "ste"
    return best.reset_index(drop=True)
