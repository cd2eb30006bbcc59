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
from timing import first_and_best

import pyqhn  # noqa: F401  (float64)
from pyqhn.circuits import brickwork_circuit, cx_pairs, random_params
from pyqhn.engines import exact
from pyqhn.engines.reference import reference_energy
from pyqhn.optimizers.lbfgs import lbfgs


def bench_pyqhn(circuit, theta, cost):
    import jax

    vg = exact.energy_and_grad_fn(circuit, cost)
    return first_and_best(lambda: jax.block_until_ready(vg(theta[None])), repeat=20)


def bench_numpy(circuit, theta, cost):
    return first_and_best(lambda: reference_energy(circuit, theta, cost), repeat=2)


def quimb_energy_fn(circuit, cost):
    """E(θ) through a quimb tensor network contracted along a cotengra path, under JAX.

    The network (every gate its own tensor) is built once; each call swaps in the rotation
    matrices of ``θ`` and contracts along the precomputed tree.
    """
    import jax.numpy as jnp
    import quimb.tensor as qtn

    n, b = circuit.n_qubits, circuit.blocks
    circ = qtn.Circuit(n, gate_opts={"contract": False})
    kinds = []
    for d in range(b):
        for c, t in cx_pairs(circuit, d + 1):
            circ.apply_gate("CX", c - 1, t - 1)
            kinds.append(None)
        for name, offset in (("RY", 0), ("RZ", b * n)):
            for j in range(n):
                circ.apply_gate(name, 0.0, j)
                kinds.append((name, offset + d * n + j))
    psi = circ.psi
    # quimb qubit j-1 is our site j; output axes site n first (index order of `cost`)
    tree = psi.contraction_tree(optimize="auto-hq",
                                output_inds=[f"k{j}" for j in range(n - 1, -1, -1)])
    slots = []
    for t in psi.tensors:
        g = [int(tag[5:]) for tag in t.tags if tag.startswith("GATE_")]
        slots.append(kinds[g[0]] if g else None)
    const = [jnp.asarray(t.data) for t in psi.tensors]
    cost_t = jnp.asarray(cost.reshape((2,) * n))

    def energy(th):
        arrays = []
        for slot, fixed in zip(slots, const, strict=True):
            if slot is None:
                arrays.append(fixed)
                continue
            a = th[slot[1]]
            if slot[0] == "RY":
                c, s = jnp.cos(a / 2), jnp.sin(a / 2)
                m = jnp.stack([jnp.stack([c, -s]), jnp.stack([s, c])]).astype(jnp.complex128)
            else:
                e = jnp.exp(-0.5j * a)
                m = jnp.stack([jnp.stack([e, 0 * e]), jnp.stack([0 * e, jnp.conj(e)])])
            arrays.append(m)
        amp = tree.contract(arrays, backend="jax")
        return jnp.sum((jnp.real(amp) ** 2 + jnp.imag(amp) ** 2) * cost_t)

    return energy


def bench_quimb(circuit, theta, cost):
    import jax
    import jax.numpy as jnp

    t = time.perf_counter()
    energy = quimb_energy_fn(circuit, cost)
    path_time = time.perf_counter() - t
    vg = jax.jit(jax.value_and_grad(energy))
    th = jnp.asarray(theta)
    first, warm = first_and_best(lambda: jax.block_until_ready(vg(th)), repeat=5)
    return first + path_time, warm


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
        if device == "lightning":
            return qml.expval(obs)
        return qml.probs(wires=range(n))  # backprop: the energy is taken outside

    if device == "lightning":
        grad = qml.grad(energy)
        return first_and_best(lambda: (energy(th), grad(th)), repeat=2)
    cost_j = jnp.asarray(cost)  # wire 0 = site n: probs index = our index k
    vg = jax.jit(jax.value_and_grad(lambda t: energy(t) @ cost_j))
    return first_and_best(lambda: jax.block_until_ready(vg(th)), repeat=2)


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
