"""Circuits as plain data: the brickwork and product-state ansätze of the original study.

Conventions (PastaQ-compatible, see ``../shared/CONVENTIONS.md``):

* ``n`` qubits, sites ``1..n``, initial state ``|0…0⟩``.
* Block ``d = 1..blocks`` applies CX(j, j+1) for ``j = 1 + (d mod 2), step 2, j ≤ n-1``,
  then ``Ry(θ_y[d][j])`` on every site, then ``Rz(θ_z[d][j])`` on every site.
* ``Ry(θ) = exp(-iθY/2)``, ``Rz(φ) = exp(-iφZ/2)``.
* Flat parameter layout (the original ``params.txt``): the Ry angles of blocks ``1..B``
  (``n`` each, site 1 first), then the Rz angles of blocks ``1..B``: length ``2·B·n``.
* The product-state ansatz is one block of Ry then Rz on every site, without CX.
* Site-major layout (:func:`flat_from_site_major`): site 1's ``2·B`` angles (Ry of blocks
  ``1..B``, then Rz), then site 2's, …; ``load_theta(..., layout="site-major")`` reads it.

A circuit carries no parameters; :func:`gate_list` pairs it with angles to give the
gate tuples ``(name, sites, angle)`` a simulator runs.
"""

from __future__ import annotations

from dataclasses import dataclass
from pathlib import Path

import numpy as np

from .checks import (
    InputError,
    check_angle_shape,
    check_angles,
    check_finite,
    check_int,
)

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
    "THETA_LAYOUTS",
    "flat_from_site_major",
    "site_major_from_flat",
]

#: Angle orders :func:`load_theta` reads: ``flat`` (the module's layout) and ``site-major``.
THETA_LAYOUTS = ("flat", "site-major")


@dataclass(frozen=True)
class Circuit:
    """A hardware-efficient ansatz: ``blocks`` blocks on ``n_qubits`` sites.

    ``n_qubits`` and ``blocks`` must be integers (``int`` or NumPy integers, stored as
    ``int``; floats such as ``2.0`` and bools are rejected with
    :class:`pyqhn.checks.InputError`), ``entangling`` a bool; ``entangling=False`` is the
    product-state ansatz (then ``blocks`` is 1). Any ``n_qubits ≥ 1``: engines that
    enumerate ``2**n`` outcomes check their own limit (``MAX_QUBITS``); the MPS engine
    samples circuits of any size.
    """

    n_qubits: int
    blocks: int
    entangling: bool = True

    def __post_init__(self) -> None:
        n = check_int(self.n_qubits, "the number of qubits", minimum=1)
        blocks = check_int(self.blocks, "blocks", minimum=1)
        if not isinstance(self.entangling, (bool, np.bool_)):
            raise InputError(
                f"entangling must be True (brickwork) or False (product state), got "
                f"{self.entangling!r}"
            )
        if not self.entangling and blocks != 1:
            raise InputError(
                "the product-state ansatz (entangling=False) has exactly one block; use "
                "product_circuit(n_qubits)"
            )
        object.__setattr__(self, "n_qubits", n)
        object.__setattr__(self, "blocks", blocks)
        object.__setattr__(self, "entangling", bool(self.entangling))

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

    @property
    def label(self) -> str:
        """What the command line and the figures print: ``product``, ``N_layer=L`` (the
        paper's name, an even number of blocks ``2L``) or ``blocks=B`` (odd ``B``).
        :meth:`from_name` reads it back."""
        if not self.entangling:
            return "product"
        return f"N_layer={self.blocks // 2}" if self.blocks % 2 == 0 else self.name

    @classmethod
    def from_name(cls, name: str, n_qubits: int) -> Circuit:
        """The circuit a name describes (:func:`circuit_from_name`; every :attr:`name` and
        :attr:`label` round-trips)."""
        return circuit_from_name(name, n_qubits)


def brickwork_circuit(n_qubits: int, blocks: int) -> Circuit:
    """The brickwork ansatz of the original study with ``blocks`` blocks (paper: 2·N_layer)."""
    return Circuit(n_qubits, blocks, True)


def product_circuit(n_qubits: int) -> Circuit:
    """The product-state ansatz: Ry then Rz on every site, no entangling gates."""
    return Circuit(n_qubits, 1, False)


def circuit_from_name(name: str, n_qubits: int) -> Circuit:
    """The one parser of circuit names: ``product`` (``N_layer=0``), ``blocks=B`` / ``bB``,
    or the paper's ``N_layer=L`` (as printed by :attr:`Circuit.label` and the figures,
    also ``$N_{\\rm layer} = L$``), ``layers=L`` / ``lL`` (blocks = 2L). Spaces and case
    do not matter."""
    if not isinstance(name, str):
        raise InputError(f"a circuit name must be a string, got {name!r}")
    s = "".join(name.lower().split()).strip("$").replace("{\\rm", "").replace("}", "")
    s = s.replace("n_layer", "layers=").replace("==", "=")
    if s in ("product", "prod", "p", "layers=0"):
        return product_circuit(n_qubits)
    for prefix, factor in (("blocks=", 1), ("b", 1), ("layers=", 2), ("l", 2)):
        if s.startswith(prefix) and s[len(prefix):].isdigit():
            return brickwork_circuit(n_qubits, factor * int(s[len(prefix):]))
    raise InputError(
        f"unknown circuit {name!r}: use 'product', 'N_layer=L' (2L blocks, the paper's name), "
        "'blocks=B' (or 'bB') or 'layers=L' (or 'lL')"
    )


def cx_pairs(circuit: Circuit, block: int) -> list[tuple[int, int]]:
    """The (control, target) site pairs (1-based) of block ``block`` (1-based)."""
    if not circuit.entangling:
        return []
    n = circuit.n_qubits
    return [(j, j + 1) for j in range(1 + block % 2, n, 2)]


def split_params(circuit: Circuit, theta):
    """Flat ``(..., 2·B·n)`` angles to ``(ry, rz)``, each ``(..., B, n)`` (block, site-1).

    Works on NumPy and JAX arrays alike, JAX tracers inside ``jit`` included: only the
    shape is checked here (:func:`pyqhn.checks.check_angles` validates values).
    """
    check_angle_shape(circuit, theta.shape)
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
    flat, lead = check_angles(circuit, theta)
    if lead != ():
        raise InputError(
            f"gate_list takes one parameter set of shape ({circuit.n_params},), got "
            f"{lead + (circuit.n_params,)}; loop over the rows of a batch"
        )
    ry, rz = split_params(circuit, flat[0])
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


def _layout_shape(theta: np.ndarray, n_qubits: int, blocks: int) -> tuple[int, int]:
    n_qubits = check_int(n_qubits, "n_qubits", minimum=1)
    blocks = check_int(blocks, "blocks", minimum=1)
    if theta.ndim == 0 or theta.shape[-1] != 2 * blocks * n_qubits:
        raise InputError(
            f"expected angles of shape (..., {2 * blocks * n_qubits}) (2·blocks·n for "
            f"n = {n_qubits}, blocks = {blocks}), got shape {theta.shape}"
        )
    return n_qubits, blocks


def flat_from_site_major(theta, n_qubits: int, blocks: int) -> np.ndarray:
    """Angles ``(..., P)`` in site-major order to the flat layout of this module.

    Site-major: site 1's ``2·blocks`` angles (Ry of blocks ``1..B``, then Rz of blocks
    ``1..B``), then site 2's, …, i.e. index ``(j-1)·2B + l`` for site ``j`` and layer ``l``
    (0-based; the column-major ``vec`` of the ``2B × n`` layer-by-site matrix of the
    original scripts). The flat layout has index ``l·n + (j-1)``.
    """
    t = np.asarray(theta, dtype=np.float64)
    n, b = _layout_shape(t, n_qubits, blocks)
    lead = t.shape[:-1]
    return np.swapaxes(t.reshape(*lead, n, 2 * b), -1, -2).reshape(*lead, 2 * b * n)


def site_major_from_flat(theta, n_qubits: int, blocks: int) -> np.ndarray:
    """The inverse of :func:`flat_from_site_major`: ``(..., P)`` flat to site-major."""
    t = np.asarray(theta, dtype=np.float64)
    n, b = _layout_shape(t, n_qubits, blocks)
    lead = t.shape[:-1]
    return np.swapaxes(t.reshape(*lead, 2 * b, n), -1, -2).reshape(*lead, 2 * b * n)


def load_theta(path: str | Path, n_params: int, *, layout: str = "flat",
               n_qubits: int | None = None) -> np.ndarray:
    """Read parameter sets ``(R, n_params)`` float64 (flat layout) from a file.

    ``.npz``: key ``theta``, shape ``(n_params,)`` or ``(R, n_params)``. Text (the original
    ``params.txt``): one run per row, whitespace- or comma-separated, ``n_params`` angles
    optionally followed by one energy column, detected by the column count.

    ``layout="site-major"`` converts rows stored site by site (:func:`flat_from_site_major`)
    to the flat layout; it needs ``n_qubits`` (the blocks follow from ``n_params``).

    Raises:
        InputError: naming the file, for a missing key, ragged rows, a wrong width,
            non-numeric text, NaN / infinite angles or an unknown layout.
    """
    n_params = check_int(n_params, "n_params", minimum=1)
    if layout not in THETA_LAYOUTS:
        raise InputError(f"unknown angle layout {layout!r}; choose one of "
                         f"{', '.join(THETA_LAYOUTS)} (--theta-layout)")
    if layout == "site-major":
        if n_qubits is None or n_params % (2 * check_int(n_qubits, "n_qubits", minimum=1)):
            raise InputError(
                f"the site-major layout needs the qubit count n, with n_params = {n_params} "
                f"a multiple of 2·n (got n = {n_qubits})")
    if str(path).endswith(".npz"):
        theta = _theta_from_npz(path)
    else:
        theta = _theta_from_text(path)
    if theta.shape[1] == n_params + 1:
        theta = theta[:, :n_params]  # trailing energy column of the original files
    if theta.shape[1] != n_params:
        raise InputError(
            f"{path}: rows have {theta.shape[1]} values but the circuit needs {n_params} "
            f"angles (2·blocks·n, optionally + 1 energy column); check --blocks / --product"
        )
    check_finite(theta, f"{path}: the angles (indexed [row, column], 0-based)")
    if layout == "site-major":
        theta = flat_from_site_major(theta, n_qubits, n_params // (2 * n_qubits))
    return theta


def _theta_from_npz(path: str | Path) -> np.ndarray:
    from .cost import read_npz_array  # the reader of the user's .npz files (imports JAX)

    raw, _ = read_npz_array(path, "theta", "numpy.savez(path, theta=angles)")
    if raw.dtype.kind == "c":
        raise InputError(f"{path}: 'theta' holds complex values; angles must be real")
    if raw.dtype.kind not in "fiu":
        raise InputError(f"{path}: 'theta' must hold numbers, got dtype {raw.dtype}")
    if raw.ndim not in (1, 2):
        raise InputError(
            f"{path}: 'theta' must have shape (n_params,) or (runs, n_params), got {raw.shape}"
        )
    return np.atleast_2d(np.asarray(raw, dtype=np.float64))


def _theta_from_text(path: str | Path) -> np.ndarray:
    with open(path) as fh:
        lines = fh.read().replace(",", " ").splitlines()
    rows = [(i, line.split()) for i, line in enumerate(lines, start=1) if line.strip()]
    if not rows:
        raise InputError(f"{path} holds no parameter rows; write one run per line")
    widths = sorted({len(r) for _, r in rows})
    if len(widths) != 1:
        first = next(i for i, r in rows if len(r) != len(rows[0][1]))
        raise InputError(
            f"{path}: rows have different lengths {widths} (line {first} differs from "
            f"line {rows[0][0]}); every row must hold the same number of angles"
        )
    values = np.empty((len(rows), widths[0]))
    for r, (line_no, fields) in enumerate(rows):
        for c, field in enumerate(fields):
            try:
                values[r, c] = float(field)
            except ValueError:
                raise InputError(
                    f"{path}, line {line_no}: {field!r} is not a number; the file must hold "
                    "only angles (whitespace- or comma-separated)"
                ) from None
    return values
