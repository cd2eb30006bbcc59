"""The one place that validates user inputs: qubit counts, cost tables, angles, options.

This is the lowest level of the package: it imports only NumPy (no JAX), and every other
module validates what a user hands it (a file, an option, an argument) through these
functions. They raise :class:`InputError`, whose message says what is wrong and how to fix
it; the command line turns it into a usage error (exit code 2).

Conventions checked here (``../shared/CONVENTIONS.md``):

* a cost table is a real, finite ``float64`` vector of length ``2**N`` (``N ≥ 1``), one
  value per bitstring, site 1 the least significant bit of the index;
* angles are real and finite, shape ``(..., P)`` with ``P = circuit.n_params = 2·blocks·n``
  in the flat layout of :mod:`pyqhn.circuits`; leading axes are batch axes.

Nothing here knows about :class:`pyqhn.circuits.Circuit` beyond the attributes
``n_params``, ``n_qubits`` and ``name``, so this module imports nothing of the package.
"""

from __future__ import annotations

import numbers
from typing import Any, Protocol

import numpy as np

__all__ = [
    "InputError",
    "Fault",
    "MissingExtra",
    "need_module",
    "MAX_QUBITS",
    "check_n_qubits",
    "check_int",
    "check_float",
    "check_finite",
    "check_cost",
    "n_qubits_of_cost",
    "check_angle_shape",
    "check_angles",
    "angle_batch",
]

#: Largest register the package enumerates: 2**30 float64 values are 8 GiB.
MAX_QUBITS = 30

# dtype kinds accepted as real numbers: float, signed and unsigned integers
_REAL_KINDS = "fiu"


class InputError(ValueError):
    """Bad input from a user (a file, an option, an argument); the CLI turns it into a usage
    error, exit code 2. The message says what is wrong and how to fix it."""


class Fault(RuntimeError):
    """A fault that is not the user's input (a full disk, a lost cluster, a missing optional
    package); the CLI prints its one-sentence message, which says what to do, and exits
    with code 1."""


class MissingExtra(Fault, ImportError):
    """An optional dependency (an extra of the package) is not installed; the message names
    the extra: ``pip install "pyqhn[EXTRA]"``. Also an ``ImportError``."""


def need_module(module: str, extra: str, what: str) -> Any:
    """``import module``, or :class:`MissingExtra` saying that ``what`` needs the ``extra``
    of pyqhn (``pip install "pyqhn[extra]"``)."""
    import importlib

    try:
        return importlib.import_module(module)
    except ImportError as err:
        raise MissingExtra(f"{what} needs the {extra} extra ({module} is not installed): "
                           f'pip install "pyqhn[{extra}]"') from err


class _CircuitLike(Protocol):
    n_qubits: int
    n_params: int
    name: str


# --------------------------------------------------------------------------- scalars


def _is_integer(value: Any) -> bool:
    """True for Python and NumPy integers, False for bools, floats (even 2.0) and the rest."""
    return isinstance(value, (numbers.Integral, np.integer)) and not isinstance(
        value, (bool, np.bool_)
    )


def check_int(
    value: Any, name: str, *, minimum: int | None = None, maximum: int | None = None
) -> int:
    """``value`` as ``int`` if it is an integer (``int`` or a NumPy integer) in
    ``[minimum, maximum]`` (either bound optional). Bools and floats such as ``2.0`` are
    rejected: pass ``int(x)`` explicitly if a float is meant as a count."""
    if not _is_integer(value):
        raise InputError(
            f"{name} must be an integer, got {value!r} ({type(value).__name__}); "
            f"pass a whole number such as {name}=2"
        )
    v = int(value)
    if minimum is not None and v < minimum:
        raise InputError(f"{name} must be at least {minimum}, got {v}")
    if maximum is not None and v > maximum:
        raise InputError(f"{name} must be at most {maximum}, got {v}")
    return v


def check_float(
    value: Any,
    name: str,
    *,
    low: float | None = None,
    high: float | None = None,
    low_inclusive: bool = True,
    high_inclusive: bool = True,
) -> float:
    """``value`` as a finite ``float`` within the optional bounds.

    Accepts Python and NumPy reals (integers included); rejects bools, complex numbers,
    strings, NaN and ±inf. ``low_inclusive`` / ``high_inclusive`` choose ``≤`` or ``<``.
    """
    if isinstance(value, (complex, np.complexfloating)):
        raise InputError(f"{name} must be a real number, got complex {value!r}")
    if isinstance(value, (bool, np.bool_)) or not isinstance(
        value, (numbers.Real, np.integer, np.floating)
    ):
        raise InputError(
            f"{name} must be a real number, got {value!r} ({type(value).__name__})"
        )
    v = float(value)
    if not np.isfinite(v):
        raise InputError(f"{name} must be a finite number, got {v!r}")
    if low is not None and (v < low or (v == low and not low_inclusive)):
        op = "≥" if low_inclusive else ">"
        raise InputError(f"{name} must be {op} {low:g}, got {v:g}")
    if high is not None and (v > high or (v == high and not high_inclusive)):
        op = "≤" if high_inclusive else "<"
        raise InputError(f"{name} must be {op} {high:g}, got {v:g}")
    return v


def check_n_qubits(n: Any) -> int:
    """A qubit count as ``int``: an integer type (not a bool, not ``2.0``), 1 ≤ n ≤
    :data:`MAX_QUBITS` (a 2**n float64 vector must fit in memory)."""
    n = check_int(n, "the number of qubits", minimum=1)
    if n > MAX_QUBITS:
        raise InputError(
            f"{n} qubits means 2**{n} configurations ({8 * 2**n / 2**30:.0f} GiB per float64 "
            f"vector); enumeration is limited to {MAX_QUBITS} qubits. Use fewer model bits."
        )
    return n


# --------------------------------------------------------------------------- arrays


def _real_array(values: Any, what: str) -> np.ndarray:
    """``values`` as a NumPy array of a real dtype (not yet converted), else InputError."""
    try:
        a = np.asarray(values)
    except ValueError as err:  # ragged nested lists
        raise InputError(f"{what} must be a rectangular array of numbers: {err}") from err
    if a.dtype.kind == "c":
        raise InputError(
            f"{what} must be real; got complex values — the imaginary part would be lost. "
            "Pass the real part explicitly (np.real) if that is what you mean."
        )
    if a.dtype.kind not in _REAL_KINDS:
        raise InputError(
            f"{what} must be real numbers; got an array of dtype {a.dtype} "
            "(bools, strings and objects are not accepted)"
        )
    return a


def check_finite(values: np.ndarray, what: str) -> np.ndarray:
    """Raise InputError naming the first NaN or infinite entry of ``values`` (its index in
    ``values.shape``); return ``values`` unchanged otherwise."""
    finite = np.isfinite(values)
    if not finite.all():
        flat = int(np.flatnonzero(~finite.reshape(-1))[0])
        where: int | tuple[int, ...] = flat
        if values.ndim > 1:
            where = tuple(int(i) for i in np.unravel_index(flat, values.shape))
        bad = values.reshape(-1)[flat]
        raise InputError(
            f"{what} must be finite but holds non-finite values (NaN or inf), the first at "
            f"index {where}: {bad}; fix or regenerate the values"
        )
    return values


def check_cost(cost: Any, n_qubits: int | None = None) -> np.ndarray:
    """The cost-table validator: real, 1-D, length ``2**N`` with ``N ≥ 1``, finite.

    Args:
        cost: the table, indexed by bitstring ``k`` (site 1 the least significant bit).
        n_qubits: if given, the length must be ``2**n_qubits`` (the circuit's register).

    Returns:
        The table as ``float64`` (a view when it already is one), shape ``(2**N,)``.
    """
    c = _real_array(cost, "the cost table")
    if c.ndim != 1:
        raise InputError(
            f"a cost table is a 1-D vector of length 2**N (one value per bitstring), got "
            f"shape {c.shape}; flatten it or check the file holds one value per line"
        )
    if n_qubits is not None and c.size != 2**n_qubits:
        raise InputError(
            f"the cost must be a vector of length 2**{n_qubits} = {2**n_qubits} for a "
            f"{n_qubits}-qubit circuit (one value per bitstring), got {c.size} values; check "
            "the circuit's qubit count: it must equal the table's N (on the command line, "
            "pass the --cost table made for this circuit; --blocks sets only its depth)"
        )
    n = c.size.bit_length() - 1
    if c.size < 2 or c.size != 2**n:
        lower = 2**n if c.size >= 1 else 0
        raise InputError(
            f"a cost table has length 2**N (one value per bitstring, N ≥ 1), got {c.size} "
            f"values; nearest powers of two are {lower} and {2 * max(lower, 1)}. "
            "Check the file holds the whole table, one value per line."
        )
    c = np.asarray(c, dtype=np.float64)
    return check_finite(c, "the cost table")


def n_qubits_of_cost(cost: Any) -> int:
    """``N`` of a valid cost table of length ``2**N`` (validated by :func:`check_cost`)."""
    return int(check_cost(cost).size.bit_length() - 1)


def _angle_shape_error(circuit: _CircuitLike, shape: tuple[int, ...]) -> InputError:
    p = circuit.n_params
    return InputError(
        f"expected angles of shape (..., {p}) for {circuit.name} on {circuit.n_qubits} "
        f"qubits (2·blocks·n = {p} per parameter set), got shape {tuple(shape)}; check the "
        "circuit (--blocks / --product) matches the angles"
    )


def check_angle_shape(circuit: _CircuitLike, shape: tuple[int, ...]) -> None:
    """Shape-only angle check ``(..., P)``: works on JAX tracers (static shapes) inside
    ``jit``, where values cannot be inspected."""
    if len(shape) == 0 or shape[-1] != circuit.n_params:
        raise _angle_shape_error(circuit, shape)


def check_angles(circuit: _CircuitLike, theta: Any) -> tuple[np.ndarray, tuple[int, ...]]:
    """The angle validator for concrete (non-traced) arrays.

    Args:
        circuit: the ansatz (``n_params``, ``n_qubits``, ``name`` are used).
        theta: real, finite angles of shape ``(..., P)``, ``P = circuit.n_params``.

    Returns:
        ``(angles (R, P) float64, leading shape theta.shape[:-1])`` with ``R`` the product
        of the leading shape (``R = 1`` for one parameter set ``(P,)``).
    """
    t = _real_array(theta, "angles")
    check_angle_shape(circuit, t.shape)
    t = check_finite(np.asarray(t, dtype=np.float64), "the angles")
    return t.reshape(-1, circuit.n_params), t.shape[:-1]


def angle_batch(circuit: _CircuitLike, theta: Any) -> np.ndarray:
    """Hot-path form of :func:`check_angles` for an optimiser's objective: dtype and shape
    only, no finiteness check (non-finite angles give non-finite energies, which a line
    search rejects). ``(..., P)`` → ``(R, P)`` float64."""
    t = np.asarray(theta)
    if t.dtype.kind not in _REAL_KINDS:
        _real_array(t, "angles")  # raises with the message for that dtype
    check_angle_shape(circuit, t.shape)
    return np.asarray(t, dtype=np.float64).reshape(-1, circuit.n_params)
