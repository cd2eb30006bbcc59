"""Time (E, ∇E) of the exact engine against the libraries a user would otherwise pick.

Run: ``python benchmarks/engine.py [--sizes 17x4,19x6] [--lbfgs/--no-lbfgs]``

Peers, each measured in this same run on the same circuit, angles and cost table:

* ``numpy-sv``: a plain NumPy state vector, gate by gate, gradient by parameter shift
  would be hopeless, so it reports the forward energy only (noted in the table);
* ``quimb+cotengra+jax``: quimb's ``Circuit`` of the same gates, ``|ψ⟩`` contracted with a
  cotengra-optimised path under ``jax.value_and_grad``;
* ``lightning-adjoint`` / ``default.qubit+jax``: PennyLane, when installed
  (``pip install pennylane pennylane-lightning``), with a sparse diagonal observable.

Prints seconds per (E, ∇E) after warm-up, the first-call (compile) time, and the ratio
peer / pyqhn. Also times one full L-BFGS run (N=19, B=6, 500 iterations; the original
stack took ≈3.5 h on a laptop).
"""

from __future__ import annotations

import time

import click
import numpy as np

import pyqhn  # noqa: F401  (float64)
from pyqhn.circuits import brickwork_circuit, cx_pairs, random_params
from pyqhn.engines import exact
from pyqhn.engines.reference import reference_energy
from pyqhn.optimizers.lbfgs import lbfgs


def _timeit(fn, repeat: int = 5) -> tuple[float, float]:
    """(first call seconds, best warm seconds)."""
    t = time.perf_counter()
    fn()
    first = time.perf_counter() - t
    best = np.inf
    for _ in range(repeat):
        t = time.perf_counter()
        fn()
        best = min(best, time.perf_counter() - t)
    return first, best


def bench_pyqhn(circuit, theta, cost):
    import jax

    vg = exact.energy_and_grad_fn(circuit, cost)
    return _timeit(lambda: jax.block_until_ready(vg(theta[None])), repeat=20)


def bench_numpy(circuit, theta, cost):
    return _timeit(lambda: reference_energy(circuit, theta, cost), repeat=2)


def bench_quimb(circuit, theta, cost):
    import jax
    import jax.numpy as jnp
    import quimb.tensor as qtn

    n = circuit.n_qubits
    cost_t = jnp.asarray(cost.reshape((2,) * n))  # axis 0 = site n (most significant)

    def energy(th):
        circ = qtn.Circuit(n)
        ry = th[: circuit.n_params // 2].reshape(circuit.blocks, n)
        rz = th[circuit.n_params // 2 :].reshape(circuit.blocks, n)
        for d in range(circuit.blocks):
            for c, t in cx_pairs(circuit, d + 1):
                circ.apply_gate("CX", c - 1, t - 1)
            for j in range(n):
                circ.apply_gate("RY", ry[d, j], j, parametrize=False)
            for j in range(n):
                circ.apply_gate("RZ", rz[d, j], j, parametrize=False)
        psi = circ.psi
        psi.apply_to_arrays(jnp.asarray)  # one array backend for the whole network
        # quimb site j-1 is our site j; order outputs site n first
        inds = [f"k{j}" for j in range(n - 1, -1, -1)]
        amp = qtn.tensor_contract(
            *psi.tensors, output_inds=inds, optimize="auto-hq", backend="jax"
        ).data
        p = jnp.real(amp) ** 2 + jnp.imag(amp) ** 2
        return jnp.sum(p * cost_t)

    vg = jax.jit(jax.value_and_grad(energy))
    th = jnp.asarray(theta)
    return _timeit(lambda: jax.block_until_ready(vg(th)), repeat=5)


def bench_pennylane(circuit, theta, cost, device: str):
    import pennylane as qml
    from scipy import sparse

    n = circuit.n_qubits
    # PennyLane wire 0 is the most significant bit: wire i = our site n - i
    obs = qml.SparseHamiltonian(sparse.diags(cost).tocsr(), wires=range(n))
    if device == "lightning":
        dev = qml.device("lightning.qubit", wires=n)
        kw = dict(diff_method="adjoint")
        import pennylane.numpy as pnp

        th = pnp.array(theta, requires_grad=True)
    else:
        import jax
        import jax.numpy as jnp

        dev = qml.device("default.qubit", wires=n)
        kw = dict(interface="jax", diff_method="backprop")
        th = jnp.asarray(theta)

    @qml.qnode(dev, **kw)
    def energy(th):
        b = circuit.blocks
        ry, rz = th[: b * n].reshape(b, n), th[b * n :].reshape(b, n)
        for d in range(b):
            for c, t in cx_pairs(circuit, d + 1):
                qml.CNOT(wires=[n - c, n - t])
            for j in range(n):
                qml.RY(ry[d, j], wires=n - 1 - j)
            for j in range(n):
                qml.RZ(rz[d, j], wires=n - 1 - j)
        return qml.expval(obs)

    if device == "lightning":
        grad = qml.grad(energy)
        return _timeit(lambda: (energy(th), grad(th)), repeat=2)
    vg = jax.jit(jax.value_and_grad(energy))
    return _timeit(lambda: jax.block_until_ready(vg(th)), repeat=2)


@click.command()
@click.option("--sizes", default="17x4,19x6", show_default=True, help="N x blocks, comma list")
@click.option("--peers", default="numpy,quimb,lightning", show_default=True,
              help="comma list of numpy, quimb, lightning, default-qubit")
@click.option("--lbfgs/--no-lbfgs", "run_lbfgs", default=True, show_default=True)
def main(sizes: str, peers: str, run_lbfgs: bool) -> None:
    import jax

    print(f"JAX backend: {jax.default_backend()}, devices: {jax.devices()}")
    peer_fns = {
        "numpy": ("numpy-sv (E only)", bench_numpy),
        "quimb": ("quimb+cotengra+jax", bench_quimb),
        "lightning": ("lightning-adjoint", lambda c, t, x: bench_pennylane(c, t, x, "lightning")),
        "default-qubit": ("default.qubit+jax",
                          lambda c, t, x: bench_pennylane(c, t, x, "default")),
    }
    for size in sizes.split(","):
        n, b = (int(v) for v in size.lower().split("x"))
        circuit = brickwork_circuit(n, b)
        theta = random_params(circuit, seed=0)
        cost = np.random.default_rng(0).random(2**n)
        first, ours = bench_pyqhn(circuit, theta, cost)
        print(f"\nN={n}, blocks={b}: pyqhn (E, grad) {ours * 1e3:.2f} ms warm, "
              f"first call {first:.1f} s ({exact.contraction_plan(circuit).method})")
        for key in peers.split(","):
            label, fn = peer_fns[key]
            try:
                pf, pt = fn(circuit, theta, cost)
            except ImportError as err:
                print(f"  {label:24s} skipped: {err}")
                continue
            print(f"  {label:24s} {pt * 1e3:9.2f} ms warm, first {pf:6.1f} s, "
                  f"ratio peer/pyqhn = {pt / ours:8.1f}")
    if run_lbfgs:
        circuit = brickwork_circuit(19, 6)
        cost = np.random.default_rng(1).random(2**19)
        vg = exact.energy_and_grad_fn(circuit, cost)
        t = time.perf_counter()
        res = lbfgs(vg, random_params(circuit, 1, seed=3), max_iter=500)
        wall = time.perf_counter() - t
        print(f"\nL-BFGS N=19 blocks=6: {int(res.n_iter[0])} iterations, {int(res.n_evals[0])} "
              f"evaluations, {wall:.1f} s including compilation "
              f"(original stack ≈ 3.5 h = 12600 s: ratio {12600 / wall:.0f}x)")


if __name__ == "__main__":
    main()
