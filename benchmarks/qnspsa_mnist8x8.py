"""Why QN-SPSA is slow on the 66-qubit mnist8x8 problem: variants side by side.

Run: ``python benchmarks/qnspsa_mnist8x8.py [--steps 100] [--blocks 2] [--variants a,b]
[--out qnspsa.json]``

Every variant starts from the same ``random_params(circuit, seed=0)`` on the training
cost of :mod:`pyqhn.experiments.mnist8x8` (1500 shots per estimate, seed 0) and reports
the objective every 10 steps (the optimiser's own ``state.f``), a final ``Ê`` from 10,000
fresh shots, the learning rate ``a``, rejected steps (blocking) and seconds. The
score-function gradient with Adam (the experiment's default) is the reference.
"""

from __future__ import annotations

import dataclasses
import json
import time

import click
import numpy as np

import pyqhn  # noqa: F401  (float64)


def variants(fid):
    from pyqhn.optimizers import adam_optimizer, qnspsa_optimizer, spsa_optimizer

    return {
        # the project's defaults (calibrated on the preconditioned step, beta 0.1, eps 0.01)
        "qnspsa": lambda n: qnspsa_optimizer(fid, max_steps=n),
        "qnspsa-noblock": lambda n: qnspsa_optimizer(fid, max_steps=n, blocking=False),
        # Qiskit's documented usage: QNSPSA(fidelity, maxiter, learning_rate=0.01,
        # perturbation=0.01), regularization 0.01, eps = perturbation
        "qnspsa-qiskit-doc": lambda n: qnspsa_optimizer(
            fid, max_steps=n, learning_rate=0.01, perturbation=0.01, metric_perturbation=0.01,
            regularization=0.01),
        "qnspsa-beta1": lambda n: qnspsa_optimizer(fid, max_steps=n, regularization=1.0),
        "qnspsa-lr5": lambda n: qnspsa_optimizer(fid, max_steps=n, learning_rate=5.0),
        "qnspsa-x3": lambda n: qnspsa_optimizer(fid, max_steps=n),  # calibrated a × 3
        "spsa": lambda n: spsa_optimizer(max_steps=n),
        "spsa-x3": lambda n: spsa_optimizer(max_steps=n),  # calibrated a × 3
        "score-function-adam": lambda n: adam_optimizer(learning_rate=0.1, max_steps=n),
    }


@click.command()
@click.option("--steps", default=100, show_default=True)
@click.option("--blocks", default=2, show_default=True)
@click.option("--variants", "names", default=None, help="Comma list (default all).")
@click.option("--out", default=None)
def main(steps, blocks, names, out):
    from pyqhn.circuits import brickwork_circuit, random_params
    from pyqhn.engines import get_engine
    from pyqhn.experiments.mnist8x8 import Mnist8x8Spec, _problem
    from pyqhn.optimizers import minimize
    from pyqhn.sampled_objectives import (
        fidelity_fn,
        sampled_energy_objective,
        score_function_objective,
    )
    from pyqhn.shot_estimators import cost_of_samples

    model, split = _problem(Mnist8x8Spec())
    circuit = brickwork_circuit(model.n_qubits, blocks)
    eng = get_engine("mps")
    cost = lambda b: model.cost(b, split.train)  # noqa: E731
    table = variants(fidelity_fn(eng, circuit))
    x0 = random_params(circuit, 1, seed=0)
    rows = []
    for name in (names.split(",") if names else table):
        opt = table[name](steps)
        make = score_function_objective if opt.uses_gradient else sampled_energy_objective
        fun = make(eng, circuit, cost, shots=1500, seed=0).bind(np.arange(1))
        scale = 3.0 if name.endswith("-x3") else 1.0
        init = opt.init

        def scaled_init(f, x, s, init=init, scale=scale):
            st = init(f, x, s)
            return st._replace(a=st.a * scale) if hasattr(st, "a") else st

        opt = dataclasses.replace(opt, init=scaled_init)
        t = time.perf_counter()
        state, hist = minimize(opt, fun, x0)
        dt = time.perf_counter() - t
        bits = eng.sample_bits(circuit, state.x[0], 10_000, seed=12345)
        row = dict(variant=name, blocks=blocks, steps=steps,
                   f_every_10=[round(float(v), 4) for v in hist[0, ::10]],
                   e_final_10k=float(cost_of_samples(cost, bits).mean()),
                   a=float(getattr(state, "a", [np.nan])[0]),
                   n_rejected=int(getattr(state, "n_rejected", [0])[0]),
                   n_evals=int(state.n_evals[0]), seconds=dt)
        rows.append(row)
        click.echo(json.dumps(row))
    if out:
        with open(out, "w") as fh:
            json.dump(rows, fh, indent=2)


if __name__ == "__main__":
    main()
