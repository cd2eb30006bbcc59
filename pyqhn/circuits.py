"""Circuits as plain data: the brickwork and product-state ansätze of the original study.

Conventions (PastaQ-compatible, see CONVENTIONS.md):

* ``n`` qubits, sites ``1..n``, initial state ``|0…0⟩``.
* Block ``d = 1..blocks`` applies CX(j, j+1) for ``j = 1 + (d mod 2), step 2, j ≤ n-1``,
  then ``Ry(θ_y[d][j])`` on every site, then ``Rz(θ_z[d][j])`` on every site.
* ``Ry(θ) = exp(-iθY/2)``, ``Rz(φ) = exp(-iφZ/2)``.
* Flat parameter layout (the original ``params.txt``): the Ry angles of blocks ``1..B``
  (``n`` each, site 1 first), then the Rz angles of blocks ``1..B``: length ``2·B·n``.
* The product-state ansatz is one block of Ry then Rz on every site, without CX.

A circuit carries no parameters; :func:`gate_list` pairs it with angles to give the
gate tuples ``(name, sites, angle)`` a simulator runs.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np

__all__ = [
    "Circuit",
    "brickwork_circuit",
    "product_circuit",
    "circuit_from_name",
    "cx_pairs",
    "split_params",
    "random_params",
    "gate_list",
    "ry_matrix",
    "rz_matrix",
    "load_theta",
]


@dataclass(frozen=True)
class Circuit:
    """A hardware-efficient ansatz: ``blocks`` blocks on ``n_qubits`` sites.

    ``entangling=False`` is the product-state ansatz (then ``blocks`` is 1).
    """

    n_qubits: int
    blocks: int
    entangling: bool = True

    def __post_init__(self) -> None:
        if int(self.n_qubits) != self.n_qubits or self.n_qubits < 1:
            raise ValueError(f"n_qubits must be a positive integer, got {self.n_qubits!r}")
        if int(self.blocks) != self.blocks or self.blocks < 1:
            raise ValueError(f"blocks must be a positive integer, got {self.blocks!r}")
        if not self.entangling and self.blocks != 1:
            raise ValueError("the product-state ansatz has exactly one block")

    @property
    def n_params(self) -> int:
        """Length of the flat parameter vector, ``2 · blocks · n_qubits``."""
        return 2 * self.blocks * self.n_qubits

    @property
    def name(self) -> str:
        """Short label: ``product`` or ``blocks=B``."""
        return "product" if not self.entangling else f"blocks={self.blocks}"

    @property
    def n_layer(self) -> float:
        """The paper's N_layer = blocks / 2 (0 for the product state)."""
        return 0.0 if not self.entangling else self.blocks / 2


def brickwork_circuit(n_qubits: int, blocks: int) -> Circuit:
    """The brickwork ansatz of the original study with ``blocks`` blocks (paper: 2·N_layer)."""
    return Circuit(n_qubits, blocks, True)


def product_circuit(n_qubits: int) -> Circuit:
    """The product-state ansatz: Ry then Rz on every site, no entangling gates."""
    return Circuit(n_qubits, 1, False)


def circuit_from_name(name: str, n_qubits: int) -> Circuit:
    """Parse ``product``, ``blocks=B`` / ``bB`` or ``layers=L`` / ``lL`` (blocks = 2L)."""
    s = name.strip().lower()
    if s in ("product", "prod", "p"):
        return product_circuit(n_qubits)
    for prefix, factor in (("blocks=", 1), ("b", 1), ("layers=", 2), ("l", 2)):
        if s.startswith(prefix) and s[len(prefix):].isdigit():
            return brickwork_circuit(n_qubits, factor * int(s[len(prefix):]))
    raise ValueError(
        f"unknown circuit {name!r}: use 'product', 'blocks=B' (or 'bB') or 'layers=L' (or 'lL')"
    )


def cx_pairs(circuit: Circuit, block: int) -> list[tuple[int, int]]:
    """The (control, target) site pairs (1-based) of block ``block`` (1-based)."""
    if not circuit.entangling:
        return []
    n = circuit.n_qubits
    return [(j, j + 1) for j in range(1 + block % 2, n, 2)]


def _check_theta(circuit: Circuit, theta):
    if theta.ndim == 0 or theta.shape[-1] != circuit.n_params:
        raise ValueError(
            f"expected {circuit.n_params} angles per parameter set for {circuit.name} on "
            f"{circuit.n_qubits} qubits (2·blocks·n), got an array of shape {theta.shape}"
        )
    return theta


def split_params(circuit: Circuit, theta):
    """Flat ``(..., 2·B·n)`` angles to ``(ry, rz)``, each ``(..., B, n)`` (block, site-1).

    Works on NumPy and JAX arrays alike.
    """
    _check_theta(circuit, theta)
    b, n = circuit.blocks, circuit.n_qubits
    lead = theta.shape[:-1]
    ry = theta[..., : b * n].reshape(*lead, b, n)
    rz = theta[..., b * n :].reshape(*lead, b, n)
    return ry, rz


def random_params(circuit: Circuit, n_runs: int | None = None, seed: int = 0) -> np.ndarray:
    """Angles i.i.d. uniform on [0, 2π) as the original runs: ``(n_params,)`` or
    ``(n_runs, n_params)``. Seeded with NumPy's ``default_rng(seed)``."""
    rng = np.random.default_rng(seed)
    shape = (circuit.n_params,) if n_runs is None else (n_runs, circuit.n_params)
    return rng.uniform(0.0, 2 * np.pi, size=shape)


def gate_list(circuit: Circuit, theta: np.ndarray) -> list[tuple]:
    """The circuit as PastaQ-style gate tuples, in application order.

    Returns a list of ``("CX", (control, target))``, ``("Ry", (site,), angle)`` and
    ``("Rz", (site,), angle)`` with 1-based sites.
    """
    theta = _check_theta(circuit, np.asarray(theta))
    if theta.ndim != 1:
        raise ValueError("gate_list takes one parameter set of shape (n_params,)")
    ry, rz = split_params(circuit, theta)
    gates: list[tuple] = []
    for d in range(1, circuit.blocks + 1):
        gates += [("CX", pair) for pair in cx_pairs(circuit, d)]
        gates += [("Ry", (j,), float(ry[d - 1, j - 1])) for j in range(1, circuit.n_qubits + 1)]
        gates += [("Rz", (j,), float(rz[d - 1, j - 1])) for j in range(1, circuit.n_qubits + 1)]
    return gates


def ry_matrix(theta: float) -> np.ndarray:
    """``Ry(θ) = [[cos θ/2, -sin θ/2], [sin θ/2, cos θ/2]]``."""
    c, s = np.cos(theta / 2), np.sin(theta / 2)
    return np.array([[c, -s], [s, c]], dtype=complex)


def rz_matrix(phi: float) -> np.ndarray:
    """``Rz(φ) = diag(e^{-iφ/2}, e^{+iφ/2})``."""
    return np.diag([np.exp(-0.5j * phi), np.exp(0.5j * phi)])


def load_theta(path: str, n_params: int) -> np.ndarray:
    """Read parameter sets ``(R, n_params)`` from a file.

    ``.npz``: key ``theta``. Text (the original ``params.txt``): one run per row,
    whitespace- or comma-separated, ``n_params`` angles optionally followed by one energy
    column, detected by the column count.
    """
    if str(path).endswith(".npz"):
        with np.load(path) as f:
            if "theta" not in f:
                raise ValueError(f"{path} has no key 'theta' (keys: {sorted(f.keys())})")
            theta = np.atleast_2d(np.asarray(f["theta"], dtype=np.float64))
    else:
        with open(path) as fh:
            text = fh.read().replace(",", " ")
        rows = [line.split() for line in text.splitlines() if line.strip()]
        if not rows:
            raise ValueError(f"{path} holds no parameter rows")
        widths = {len(r) for r in rows}
        if len(widths) != 1:
            raise ValueError(f"{path}: rows have different lengths {sorted(widths)}")
        theta = np.array(rows, dtype=np.float64)
    if theta.shape[1] == n_params + 1:
        theta = theta[:, :n_params]  # trailing energy column of the original files
    if theta.shape[1] != n_params:
        raise ValueError(
            f"{path}: rows have {theta.shape[1]} values but the circuit needs {n_params} "
            f"angles (2·blocks·n, optionally + 1 energy column); check --blocks / --product"
        )
    if not np.all(np.isfinite(theta)):
        raise ValueError(f"{path} contains NaN or infinite angles")
    return theta
