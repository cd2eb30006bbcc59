"""Time per exact noisy energy Tr(ρĈ) for the 17-qubit 4-block and 19-qubit 6-block circuits.

Engines, all measured in the same run (ratios are against the plain NumPy peer):

* ``peer``: a plain NumPy MPS of the vectorised density matrix in the computational basis
  (complex, physical dimension 4), two-site gates split by SVD with a relative cutoff,
  as a straightforward implementation would do; it reports its bonds and discarded weight.
* ``pyqhn numpy``: :mod:`pyqhn.engines.density` op by op (``backend="numpy"``).
* ``pyqhn jax``: the same, jitted; single evaluations and batches of ``R`` parameter sets.

Usage: ``python benchmarks/noisy_engine.py [--reps 5] [--batch 64] [--cases 17x4,19x6]
[--single-thread]``. The noise is the paper's p = 1 with the 2-qubit CX channel; the cost
table is random. ``--single-thread`` runs XLA and BLAS on one thread each (set before JAX
starts): on a shared 2-core machine XLA's thread pool can be 10-30× slower when the cores
are oversubscribed.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

if "--single-thread" in sys.argv:  # must happen before NumPy/JAX start their thread pools
    os.environ["XLA_FLAGS"] = (
        os.environ.get("XLA_FLAGS", "")
        + " --xla_cpu_multi_thread_eigen=false intra_op_parallelism_threads=1"
    )
    for var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
        os.environ[var] = "1"

import numpy as np

import pyqhn  # noqa: F401  (float64 in JAX)
from pyqhn.circuits import (
    Circuit,
    brickwork_circuit,
    cx_pairs,
    random_params,
    ry_matrix,
    rz_matrix,
    split_params,
)
from pyqhn.engines.density import bond_dimensions, noisy_energy
from pyqhn.noise import NoiseModel

_P = [np.eye(2), np.array([[0, 1], [1, 0]]), np.array([[0, -1j], [1j, 0]]), np.diag([1.0, -1])]


def _superop_1q(u: np.ndarray, lam: float) -> np.ndarray:
    """``vec(ρ)[(i, j)] → channel(UρU†)`` as a 4×4 matrix, index ``2i + j``."""
    dep = (1 - lam) * np.eye(4) + lam / 3 * sum(np.kron(p, p.conj()) for p in _P[1:])
    return dep @ np.kron(u, u.conj())


def _superop_cx(lam2: float) -> np.ndarray:
    """CX + 2-qubit depolarizing on two sites, index ``[(a a'), (b b'), (c c'), (d d')]``."""
    cx = np.eye(4)[[0, 1, 3, 2]].reshape(2, 2, 2, 2)
    s = np.einsum("abcd,ABCD->aAbBcCdD", cx, cx).reshape(16, 16)
    pairs = [np.kron(p, q).reshape(2, 2, 2, 2) for p in _P for q in _P][1:]
    dep = (1 - lam2) * np.eye(16)
    for pq in pairs:
        dep = dep + lam2 / 15 * np.einsum("abcd,ABCD->aAbBcCdD", pq, pq.conj()).reshape(16, 16)
    return dep @ s


def peer_energy(circuit: Circuit, theta, cost, noise: NoiseModel, cutoff: float = 1e-18):
    """Plain NumPy vectorised-ρ MPS (TEBD with SVD). Returns (E, max bond, discarded)."""
    n = circuit.n_qubits
    ry, rz = split_params(circuit, theta)
    mps = [np.array([1.0, 0, 0, 0], dtype=complex).reshape(1, 4, 1) for _ in range(n)]
    g = _superop_cx(noise.lambda2)
    discarded = 0.0
    for d in range(1, circuit.blocks + 1):
        for c, _t in cx_pairs(circuit, d):
            a, b = mps[c - 1], mps[c]
            th = np.einsum("lpm,mqr->lpqr", a, b)
            th = np.einsum("PQpq,lpqr->lPQr", g.reshape(4, 4, 4, 4), th)
            cl, cr = a.shape[0], b.shape[2]
            u, s, vh = np.linalg.svd(th.reshape(4 * cl, 4 * cr), full_matrices=False)
            w = s**2 / np.sum(s**2)
            keep = max(1, int(np.sum(w > cutoff)))
            discarded += float(np.sum(w[keep:]))
            mps[c - 1] = u[:, :keep].reshape(cl, 4, keep)
            mps[c] = (s[:keep, None] * vh[:keep]).reshape(keep, 4, cr)
        for j in range(n):
            m = _superop_1q(rz_matrix(rz[d - 1, j]), noise.lambda1) @ _superop_1q(
                ry_matrix(ry[d - 1, j]), noise.lambda1
            )
            mps[j] = np.einsum("pq,lqr->lpr", m, mps[j])
    diag = [a[:, [0, 3], :] for a in mps]  # ρ[i, i] ↔ vec index 2i + i (complex MPS)
    s_cut = n // 2
    left = diag[0][0]
    for a in diag[1:s_cut]:
        left = np.einsum("kl,lbr->bkr", left, a).reshape(-1, a.shape[2])
    right = np.ones((1, 1), dtype=complex)
    for a in diag[s_cut:][::-1]:
        right = np.einsum("lbr,rk->lkb", a, right).reshape(a.shape[0], -1)
    e = float(np.real(np.sum((right @ cost.reshape(2 ** (n - s_cut), 2**s_cut)) * left.T)))
    return e, max(a.shape[2] for a in mps), discarded


def _time(fn, reps: int) -> float:
    times = []
    for _ in range(reps):
        t0 = time.perf_counter()
        fn()
        times.append(time.perf_counter() - t0)
    return float(np.median(times))


def run_case(n: int, blocks: int, reps: int, batch: int) -> None:
    circuit = brickwork_circuit(n, blocks)
    noise = NoiseModel.from_strength(1.0)
    cost = np.random.default_rng(0).random(2**n)
    thetas = random_params(circuit, batch, seed=1)
    theta = thetas[0]
    chis = bond_dimensions(circuit, noise)
    print(f"\n== N={n}, blocks={blocks}, p=1 (λ1={noise.lambda1}, λ2={noise.lambda2}) ==")
    print(f"pyqhn bonds (exact, no truncation): max {max(chis)}  {chis}")

    e_peer, chi_peer, disc = peer_energy(circuit, theta, cost, noise)
    t_peer = _time(lambda: peer_energy(circuit, theta, cost, noise), max(1, reps // 2))
    print(f"peer numpy TEBD (cutoff 1e-18): {t_peer * 1e3:8.2f} ms/eval  max bond {chi_peer}  "
          f"discarded weight {disc:.2e}")

    e_np = noisy_energy(circuit, theta, cost, noise, backend="numpy")
    t_np = _time(lambda: noisy_energy(circuit, theta, cost, noise, backend="numpy"), reps)
    print(f"pyqhn numpy backend:           {t_np * 1e3:8.2f} ms/eval  x{t_peer / t_np:.1f} vs peer")

    t0 = time.perf_counter()
    e_jax = noisy_energy(circuit, theta, cost, noise)
    t_compile = time.perf_counter() - t0
    t_jax = _time(lambda: noisy_energy(circuit, theta, cost, noise), reps)
    print(f"pyqhn jax single:              {t_jax * 1e3:8.2f} ms/eval  "
          f"x{t_peer / t_jax:.1f} vs peer"
          f"  (first call incl. compile {t_compile:.1f} s)")

    t0 = time.perf_counter()
    e_batch = noisy_energy(circuit, thetas, cost, noise)
    t_compile = time.perf_counter() - t0
    t_b = _time(lambda: noisy_energy(circuit, thetas, cost, noise), max(1, reps // 2)) / batch
    print(f"pyqhn jax batch of {batch:<4d}:       {t_b * 1e3:8.2f} ms/eval  "
          f"x{t_peer / t_b:.1f} vs peer"
          f"  (first call incl. compile {t_compile:.1f} s)")
    print(f"|E_jax - E_peer| = {abs(e_jax - e_peer):.1e}   |E_jax - E_numpy| = "
          f"{abs(e_jax - e_np):.1e}   |batch[0] - single| = {abs(e_batch[0] - e_jax):.1e}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--reps", type=int, default=5)
    parser.add_argument("--batch", type=int, default=64)
    parser.add_argument("--cases", default="17x4,19x6", help="comma-separated NxBLOCKS")
    parser.add_argument("--single-thread", action="store_true",
                        help="one thread for XLA and BLAS (read before JAX starts)")
    args = parser.parse_args()
    print(f"threads: {'single' if args.single_thread else 'library defaults'}; "
          f"{os.cpu_count()} cores; load average {os.getloadavg()[0]:.1f}")
    for case in args.cases.split(","):
        n, b = (int(v) for v in case.split("x"))
        run_case(n, b, args.reps, args.batch)


if __name__ == "__main__":
    main()
