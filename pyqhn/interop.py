"""Circuits to Qiskit, OpenQASM 3 and PennyLane, and Qiskit samplers as a shot source.

Qubit order, the one thing to get right (pyqhn's convention in :mod:`pyqhn.bits`: site
``j`` = 1..n carries bit ``j − 1`` of the outcome index ``k``, site 1 least significant):

* **Qiskit and OpenQASM 3**: site ``j`` is qubit ``j − 1``. Qiskit reads a measured
  bitstring as an integer with qubit ``q`` as bit ``q``, so Qiskit's outcome integers and
  ``Statevector.probabilities()`` are indexed exactly like pyqhn's.
* **PennyLane**: site ``j`` is wire ``n − j``. ``qml.probs()`` puts wire 0 first (most
  significant), so with this mapping its probability vector is pyqhn's too. (The obvious
  wire ``j − 1`` gives the bit-reversed vector.)

Gates are the same matrices everywhere: ``Ry(θ) = exp(−iθY/2)``, ``Rz(φ) = exp(−iφZ/2)``
(Qiskit's ``RYGate``/``RZGate``, PennyLane's ``RY``/``RZ``, OpenQASM's ``ry``/``rz``) and
``CX(control, target)``. Qiskit and PennyLane are optional (``pip install -e
".[qiskit]"``, ``".[pennylane]"``); :func:`to_qasm` needs neither.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import numpy as np

from .checks import MAX_QUBITS, InputError, check_angles, check_int, need_module
from .circuits import Circuit, gate_list

__all__ = [
    "qiskit_qubit",
    "pennylane_wire",
    "to_qiskit",
    "to_qasm",
    "to_pennylane",
    "qiskit_sampler",
]


def qiskit_qubit(site: int) -> int:
    """Qiskit (and OpenQASM) qubit of pyqhn site ``site`` (1-based): ``site − 1``."""
    return int(site) - 1


def pennylane_wire(site: int, n_qubits: int) -> int:
    """PennyLane wire of pyqhn site ``site`` on ``n_qubits`` qubits: ``n_qubits − site``."""
    return int(n_qubits) - int(site)


def _one_row(circuit: Circuit, theta: Any) -> np.ndarray:
    flat, lead = check_angles(circuit, theta)
    if lead != ():
        raise InputError(f"give one parameter set of shape ({circuit.n_params},), got "
                         f"{np.shape(theta)}; export each row separately")
    return flat[0]


def _need(module: str, extra: str) -> Any:
    """``module``, or :class:`pyqhn.checks.MissingExtra` naming the extra to install."""
    return need_module(module, extra, f"pyqhn.interop ({module.split('.')[0]})")


def _build_qiskit(circuit: Circuit, angles: Any, measure: bool) -> Any:
    qiskit = _need("qiskit", "qiskit")
    qc = qiskit.QuantumCircuit(circuit.n_qubits, name=circuit.name)
    for gate in gate_list(circuit, np.zeros(circuit.n_params)):
        name, sites = gate[0], gate[1]
        if name == "CX":
            qc.cx(qiskit_qubit(sites[0]), qiskit_qubit(sites[1]))
        else:
            angle = next(angles)
            (qc.ry if name == "Ry" else qc.rz)(angle, qiskit_qubit(sites[0]))
    if measure:
        qc.measure_all()
    return qc


def _gate_order(circuit: Circuit) -> np.ndarray:
    """Flat-parameter index of every rotation in :func:`pyqhn.circuits.gate_list` order."""
    marks = np.arange(circuit.n_params, dtype=np.float64)
    return np.array([int(g[2]) for g in gate_list(circuit, marks) if g[0] != "CX"])


def to_qiskit(circuit: Circuit, theta: Any | None = None, *, measure: bool = False) -> Any:
    """The circuit as a ``qiskit.QuantumCircuit``.

    Args:
        circuit: the ansatz.
        theta: one parameter set ``(P,)`` (flat layout of :mod:`pyqhn.circuits`); ``None``
            gives a parametrised circuit whose ``ParameterVector("θ", P)`` entry ``i`` is
            flat angle ``i`` (bind with ``qc.assign_parameters(theta)``).
        measure: append ``measure_all()`` (for samplers).

    Returns:
        A circuit on ``n`` qubits, site ``j`` on qubit ``j − 1``, so
        ``Statevector(qc).probabilities()[k]`` is pyqhn's ``p_θ(k)``.
    """
    if theta is None:
        params = _need("qiskit.circuit", "qiskit").ParameterVector("θ", circuit.n_params)
        angles = iter([params[i] for i in _gate_order(circuit)])
    else:
        row = _one_row(circuit, theta)
        angles = iter(float(row[i]) for i in _gate_order(circuit))
    return _build_qiskit(circuit, angles, measure)


def to_qasm(circuit: Circuit, theta: Any, *, measure: bool = True) -> str:
    """The circuit with angles ``theta (P,)`` as OpenQASM 3 text (``stdgates.inc`` gates).

    Site ``j`` is ``q[j − 1]``; with ``measure``, ``c[i] = measure q[i]``, so the integer of
    the classical register is pyqhn's outcome index. Angles are written with full
    precision (``repr``).
    """
    row = _one_row(circuit, theta)
    n = circuit.n_qubits
    lines = ["OPENQASM 3.0;", 'include "stdgates.inc";', f"// pyqhn {circuit.name}, "
             f"{n} qubits; site j is q[j-1] (site 1 = least significant bit)",
             f"qubit[{n}] q;"]
    if measure:
        lines.append(f"bit[{n}] c;")
    for gate in gate_list(circuit, row):
        name, sites = gate[0], gate[1]
        if name == "CX":
            lines.append(f"cx q[{qiskit_qubit(sites[0])}], q[{qiskit_qubit(sites[1])}];")
        else:
            lines.append(f"{name.lower()}({gate[2]!r}) q[{qiskit_qubit(sites[0])}];")
    if measure:
        lines.append("c = measure q;")
    return "\n".join(lines) + "\n"


def to_pennylane(circuit: Circuit) -> Callable[[Any], None]:
    """A quantum function ``ansatz(theta)`` that applies the circuit in a PennyLane QNode.

    ``theta`` is one parameter set ``(P,)`` (NumPy, autograd, JAX or Torch arrays all
    work: the angles are passed to ``qml.RY``/``qml.RZ`` untouched, so PennyLane can
    differentiate them). Site ``j`` is wire ``n − j``; with ``wires=range(n)`` a QNode
    returning ``qml.probs()`` gives pyqhn's probability vector.

    Example:
        >>> dev = qml.device("default.qubit", wires=circuit.n_qubits)
        >>> probs = qml.QNode(lambda t: (to_pennylane(circuit)(t), qml.probs())[1], dev)
    """
    qml = _need("pennylane", "pennylane")
    n = circuit.n_qubits
    gates = gate_list(circuit, np.arange(circuit.n_params, dtype=np.float64))

    def ansatz(theta: Any) -> None:
        if np.shape(theta) != (circuit.n_params,):
            raise InputError(f"expected {circuit.n_params} angles for {circuit.name} on {n} "
                             f"qubits, got shape {np.shape(theta)}")
        for gate in gates:
            name, sites = gate[0], gate[1]
            if name == "CX":
                qml.CNOT(wires=[pennylane_wire(sites[0], n), pennylane_wire(sites[1], n)])
            else:
                op = qml.RY if name == "Ry" else qml.RZ
                op(theta[int(gate[2])], wires=pennylane_wire(sites[0], n))

    return ansatz


#: Most qubits whose outcome index fits an int64 (bit 63 would be the sign bit).
MAX_INDEX_QUBITS = 63

SAMPLER_OUTPUTS = ("auto", "index", "bits")


def _bits_to_index(array: np.ndarray) -> np.ndarray:
    """Qiskit ``BitArray.array`` ``(..., shots, bytes)`` (big-endian bytes) to int64; only
    for at most :data:`MAX_INDEX_QUBITS` qubits."""
    weights = (256 ** np.arange(array.shape[-1] - 1, -1, -1)).astype(np.int64)
    return array.astype(np.int64) @ weights


def _bits_to_rows(array: np.ndarray, n: int) -> np.ndarray:
    """Qiskit ``BitArray.array`` ``(..., shots, bytes)`` to bit rows ``(..., shots, n)``
    uint8, parameter 0 (the most significant bit, site ``n``) first, as
    :func:`pyqhn.bits.index_to_bits` and the MPS engine's ``sample_bits``."""
    return np.unpackbits(np.asarray(array, dtype=np.uint8), axis=-1)[..., -n:]


def qiskit_sampler(circuit: Circuit, sampler: Any | None = None, *,
                   output: str = "auto") -> Callable[..., np.ndarray]:
    """A shot source from a Qiskit ``SamplerV2`` primitive.

    Returns ``sample(theta (..., P), n_shots, seed)``, the form every shot-based estimator
    and sampled objective of pyqhn takes (e.g. :func:`pyqhn.shot_estimators.shot_energy`):

    * ``output="index"``: int64 outcome indices ``(..., n_shots)`` in pyqhn's order (site 1
      the least significant bit); at most :data:`MAX_INDEX_QUBITS` = 63 qubits;
    * ``output="bits"``: bit rows ``(..., n_shots, n)`` uint8, parameter 0 first
      (:func:`pyqhn.bits.index_to_bits`; as ``MpsEngine.sample_bits``), any width;
    * ``output="auto"`` (default): indices up to 63 qubits, bit rows above.

    The circuit is built once with parameters and every parameter set is bound in one
    primitive call.

    Args:
        circuit: the ansatz.
        sampler: a ``SamplerV2`` (Aer's, an IBM backend's …). ``None``: a fresh
            ``qiskit_aer.primitives.SamplerV2(seed=seed)`` per call, so results are
            reproducible; its method is Aer's automatic choice up to
            :data:`pyqhn.checks.MAX_QUBITS` qubits and the matrix-product-state method
            above (a state vector no longer fits). A sampler you pass uses its own seeding.
        output: ``"auto"``, ``"index"`` or ``"bits"`` (above).
    """
    if output not in SAMPLER_OUTPUTS:
        raise InputError(f"output must be one of {SAMPLER_OUTPUTS}, got {output!r}")
    n = circuit.n_qubits
    as_bits = output == "bits" or (output == "auto" and n > MAX_INDEX_QUBITS)
    if not as_bits and n > MAX_INDEX_QUBITS:
        raise InputError(f"{n}-qubit outcomes do not fit an int64 index (at most "
                         f"{MAX_INDEX_QUBITS} qubits); use output='bits' for bit rows")
    qc = to_qiskit(circuit, None, measure=True)
    options = ({"backend_options": {"method": "matrix_product_state"}} if n > MAX_QUBITS
               else None)

    def sample(theta: Any, n_shots: int, seed: int | None = 0) -> np.ndarray:
        flat, lead = check_angles(circuit, theta)
        shots = check_int(n_shots, "n_shots", minimum=1)
        prim = sampler
        if prim is None:
            aer = _need("qiskit_aer.primitives", "qiskit")
            prim = aer.SamplerV2(seed=None if seed is None else int(seed), options=options)
        result = prim.run([(qc, flat)], shots=shots).result()[0]
        array = np.asarray(result.data.meas.array)
        if as_bits:
            return _bits_to_rows(array, n).reshape(*lead, shots, n)
        return _bits_to_index(array).reshape(*lead, shots)

    return sample
