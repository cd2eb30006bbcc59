"""Kernels shared by the JAX engines: layer unitaries and the exact MPS site tensors.

The brickwork circuit of :mod:`pyqhn.circuits` is an exact matrix-product state without
truncation: the first block's CXs act on ``|0…0⟩`` and drop out, and every later CX is
split as ``|0⟩⟨0|⊗I + |1⟩⟨1|⊗X``, a bond of dimension 2 between its sites. A site that is
a CX control in ``c`` blocks and a target in ``t`` blocks has the tensor
``(2**t, 2, 2**c)`` (left bond, physical, right bond). :mod:`.exact` contracts these
tensors to all ``2**n`` amplitudes; :mod:`.mps` pads them to one bond and samples.

Pure functions of JAX arrays (traceable in θ); sites are 0-based here, blocks 1-based.
"""

from __future__ import annotations

import jax.numpy as jnp
import numpy as np

from ..circuits import Circuit, cx_pairs

__all__ = ["layer_unitaries", "site_roles", "exact_site_groups"]


def layer_unitaries(ry: jnp.ndarray, rz: jnp.ndarray) -> jnp.ndarray:
    """``Rz(φ)·Ry(θ)`` for every (block, site): ``(B, n, 2, 2)`` complex (PastaQ's gates)
    from ``ry, rz (B, n)`` (:func:`pyqhn.circuits.split_params`)."""
    c, s = jnp.cos(ry / 2), jnp.sin(ry / 2)
    ph = jnp.exp(-0.5j * rz)  # Rz = diag(ph, conj(ph))
    row0 = jnp.stack([ph * c, -ph * s], axis=-1)
    row1 = jnp.stack([jnp.conj(ph) * s, jnp.conj(ph) * c], axis=-1)
    return jnp.stack([row0, row1], axis=-2)


def site_roles(circuit: Circuit) -> list[tuple[tuple[int, str], ...]]:
    """Per site (0-based), the blocks ``d ≥ 2`` where it is a CX ``"control"`` or
    ``"target"``, in block order: ``[((d, role), …), …]`` of length ``n``."""
    roles: list[list[tuple[int, str]]] = [[] for _ in range(circuit.n_qubits)]
    for d in range(2, circuit.blocks + 1):
        for c, t in cx_pairs(circuit, d):
            roles[c - 1].append((d, "control"))
            roles[t - 1].append((d, "target"))
    return [tuple(r) for r in roles]


def exact_site_groups(circuit: Circuit, u: jnp.ndarray) -> list[tuple[np.ndarray, jnp.ndarray]]:
    """The exact site tensors of the final state, grouped by shape.

    Sites with the same sequence of CX roles share tensor shapes and are built together,
    with a leading site axis: a few operations per block whatever ``n``, which keeps XLA's
    compile time low.

    Args:
        circuit: the ansatz.
        u: ``(B, n, 2, 2)`` layer unitaries (:func:`layer_unitaries`).

    Returns:
        ``[(sites, tensors), …]``: 0-based site indices ``(g,)`` and their tensors
        ``(g, χ_left, 2, χ_right)``; every site appears in exactly one group.
    """
    groups: dict[tuple, list[int]] = {}
    for j, ev in enumerate(site_roles(circuit)):
        groups.setdefault(ev, []).append(j)
    out = []
    for ev, sites in groups.items():
        idx = np.asarray(sites)
        v = u[0, idx, :, 0]  # (g, 2): U_1 |0⟩; block 1's CXs act trivially on |0…0⟩
        roles = []
        by_block = dict(ev)
        for d in range(2, circuit.blocks + 1):
            role = by_block.get(d)
            if role == "control":  # v[g, ..., b, s] = δ(b, s) v[g, ..., s]
                v = v[..., None, :] * jnp.eye(2, dtype=v.dtype)
            elif role == "target":  # v[g, ..., a, s] = v[g, ..., s XOR a]
                v = jnp.stack([v, v[..., ::-1]], axis=-2)
            if role:
                roles.append(role)
            v = jnp.einsum("g...s,gts->g...t", v, u[d - 1, idx])
        left = [1 + i for i, r in enumerate(roles) if r == "target"]
        right = [1 + i for i, r in enumerate(roles) if r == "control"]
        v = jnp.transpose(v, [0, *left, len(roles) + 1, *right])
        out.append((idx, v.reshape(len(sites), 2 ** len(left), 2, 2 ** len(right))))
    return out
