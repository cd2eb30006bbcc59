"""Shots per second of the MPS engine against Qiskit Aer's and quimb's MPS simulators, and
the time of one QN-SPSA iteration with 1500 shots including the BiNN evaluation.

Run: ``python benchmarks/sampling.py [--sizes 66x2,66x4,1000x4] [--shots 1500,10000]
[--quimb-shots 100] [--out bench.json]``

Peers, measured in this same run on the same circuit and angles:

* ``pyqhn-mps``: :meth:`pyqhn.engines.mps.MpsEngine.sample_bits` (exact MPS, bond
  ``2**⌊B/2⌋``, sequential conditional sampling under ``jit``), warm (compiled) calls;
* ``aer-mps``: Qiskit Aer ``AerSimulator(method="matrix_product_state")`` on
  :func:`pyqhn.interop.to_qiskit` with measurements, ``shots=S`` (its default threads),
  second call timed (no transpilation: cx, ry, rz are Aer's own gates);
* ``quimb-mps``: quimb ``CircuitMPS`` with the same gates (exact, no cutoff), then
  ``circ.sample(S)``; fewer shots (``--quimb-shots``) because it draws them one by one.

Shots/s include everything after the angles are given (circuit build for the peers, MPS
build for pyqhn). QN-SPSA: :func:`pyqhn.optimizers.qnspsa_optimizer` on
:func:`pyqhn.sampled_objectives.sampled_energy_objective` (2 × 1500 shots, BiNN on the distinct
samples) with exact MPS fidelities (4 per step): at 66 qubits on the 8×8 MNIST problem, at
1,000 qubits on a synthetic logistic regression with 998 inputs (400 points).
"""

from __future__ import annotations

import json
import os
import platform
import time

import click
import numpy as np
from timing import first_and_best

import pyqhn  # noqa: F401  (float64)
from pyqhn.circuits import brickwork_circuit, cx_pairs, random_params, split_params


def bench_pyqhn(circuit, theta, shots: int) -> tuple[float, float]:
    from pyqhn.engines import get_engine

    eng = get_engine("mps")
    return first_and_best(lambda: eng.sample_bits(circuit, theta, shots, seed=1), repeat=3)


def bench_aer(circuit, theta, shots: int) -> tuple[float, float]:
    from qiskit_aer import AerSimulator

    from pyqhn.interop import to_qiskit

    sim = AerSimulator(method="matrix_product_state")

    def run():
        qc = to_qiskit(circuit, theta, measure=True)  # cx, ry, rz: native to Aer
        return sim.run(qc, shots=shots, seed_simulator=1).result().get_counts()

    return first_and_best(run, repeat=1)


def bench_quimb(circuit, theta, shots: int) -> tuple[float, float]:
    import quimb.tensor as qtn

    ry, rz = split_params(circuit, np.asarray(theta))
    n = circuit.n_qubits

    def run():
        circ = qtn.CircuitMPS(n, cutoff=0.0)
        for d in range(1, circuit.blocks + 1):
            for c, t in cx_pairs(circuit, d):
                circ.apply_gate("CX", c - 1, t - 1)
            for j in range(n):
                circ.apply_gate("RY", float(ry[d - 1, j]), j)
            for j in range(n):
                circ.apply_gate("RZ", float(rz[d - 1, j]), j)
        return list(circ.sample(shots, seed=1))

    return first_and_best(run, repeat=1)


def qnspsa_iteration(n_qubits: int, blocks: int, shots: int, steps: int) -> dict:
    """Seconds per QN-SPSA step (mean over ``steps`` after init) on the BiNN problem."""
    from pyqhn import datasets
    from pyqhn.engines import get_engine
    from pyqhn.large_models import LinkChoiceLogistic
    from pyqhn.optimizers import qnspsa_optimizer
    from pyqhn.sampled_objectives import fidelity_fn, sampled_energy_objective

    if n_qubits == 66:
        data = datasets.train_val_test_split(datasets.mnist_pair(size=8), val=0.2, test=0.2,
                                             seed=0).train
    else:
        rng = np.random.default_rng(0)
        x = rng.random((400, n_qubits - 2))
        teacher = rng.choice([-1.0, 1.0], n_qubits - 2)
        data = datasets.Dataset(x, (x @ teacher > 0).astype(np.int64))
    model = LinkChoiceLogistic(n_qubits - 2)
    circuit = brickwork_circuit(n_qubits, blocks)
    eng = get_engine("mps")
    obj = sampled_energy_objective(eng, circuit, lambda b: model.cost(b, data), shots=shots)
    fun = obj.bind(np.arange(1))
    opt = qnspsa_optimizer(fidelity_fn(eng, circuit), max_steps=steps + 1, learning_rate=0.01)
    state = opt.init(fun, random_params(circuit, 1, seed=0), np.arange(1))
    state = opt.step(fun, state)  # compile everything
    t = time.perf_counter()
    for _ in range(steps):
        state = opt.step(fun, state)
    dt = (time.perf_counter() - t) / steps
    return dict(n_qubits=n_qubits, blocks=blocks, shots=shots, params=circuit.n_params,
                seconds_per_iteration=dt, n_train=data.n_samples)


@click.command()
@click.option("--sizes", default="66x2,66x4,1000x4", help="NxB list for sampling.")
@click.option("--shots", "shot_list", default="1500,10000", help="Shot counts.")
@click.option("--quimb-shots", default=100, show_default=True)
@click.option("--aer-max-qubits", default=1000, show_default=True)
@click.option("--qnspsa", "qn_sizes", default="66x2,66x4,1000x4", help="NxB for QN-SPSA.")
@click.option("--qnspsa-steps", default=5, show_default=True)
@click.option("--out", default=None, help="Write the results as JSON here.")
def main(sizes, shot_list, quimb_shots, aer_max_qubits, qn_sizes, qnspsa_steps, out):
    import jax

    results: dict = dict(machine=dict(platform=platform.platform(), cpus=os.cpu_count(),
                                      jax_backend=jax.default_backend()),
                         sampling=[], qnspsa=[])
    for size in sizes.split(","):
        n, b = (int(v) for v in size.split("x"))
        circuit = brickwork_circuit(n, b)
        theta = random_params(circuit, seed=0)
        for shots in (int(s) for s in shot_list.split(",")):
            row = dict(n_qubits=n, blocks=b, shots=shots)
            first, best = bench_pyqhn(circuit, theta, shots)
            row["pyqhn_shots_per_s"], row["pyqhn_first_s"] = shots / best, first
            if n <= aer_max_qubits:
                _, best = bench_aer(circuit, theta, shots)
                row["aer_shots_per_s"] = shots / best
                row["speedup_vs_aer"] = row["pyqhn_shots_per_s"] / row["aer_shots_per_s"]
            results["sampling"].append(row)
            click.echo(json.dumps(row))
        _, best = bench_quimb(circuit, theta, quimb_shots)
        row = dict(n_qubits=n, blocks=b, shots=quimb_shots, quimb_shots_per_s=quimb_shots / best)
        results["sampling"].append(row)
        click.echo(json.dumps(row))
    for size in qn_sizes.split(","):
        n, b = (int(v) for v in size.split("x"))
        row = qnspsa_iteration(n, b, 1500, qnspsa_steps)
        results["qnspsa"].append(row)
        click.echo(json.dumps(row))
    if out:
        with open(out, "w") as fh:
            json.dump(results, fh, indent=2)


if __name__ == "__main__":
    main()
