"""The depolarizing noise model of the original study (``../shared/CONVENTIONS.md``, "Noise model").

* After every 1-qubit gate (Ry and Rz separately): the 1-qubit depolarizing channel
  ``ρ → (1-λ1) ρ + (λ1/3) (XρX + YρY + ZρZ)``.
* After every CX, by default (``cx_channel="two-qubit"``, the original stack): the
  2-qubit depolarizing channel on the pair, ``ρ → (1-λ2) ρ + (λ2/15) Σ_{P≠II} PρP``.
  With ``cx_channel="one-qubit"`` (the paper's text): the 1-qubit channel with
  probability λ2 on each qubit of the CX instead.
* Noise strength ``p`` gives ``(λ1, λ2) = p × (0.001, 0.00375)``.

In the Pauli-transfer (Pauli-basis) picture every non-identity Pauli string on the
qubits a channel touches is multiplied by ``1 - 4λ1/3`` (1-qubit channel) or
``1 - 16λ2/15`` (2-qubit channel); see :meth:`NoiseModel.pauli_factors`.
"""

from __future__ import annotations

from dataclasses import dataclass

from .checks import InputError, check_float

__all__ = ["NoiseModel", "LAMBDA1_PER_P", "LAMBDA2_PER_P", "CX_CHANNELS"]

#: λ1 per unit noise strength p.
LAMBDA1_PER_P = 0.001
#: λ2 per unit noise strength p.
LAMBDA2_PER_P = 0.00375
#: The two forms of the channel after a CX.
CX_CHANNELS = ("two-qubit", "one-qubit")


@dataclass(frozen=True)
class NoiseModel:
    """Depolarizing noise: ``lambda1`` after every Ry and Rz, ``lambda2`` after every CX.

    Args:
        lambda1: 1-qubit depolarizing probability, in [0, 3/4] (3/4 is fully depolarizing).
        lambda2: CX depolarizing probability; in [0, 15/16] for the 2-qubit form, [0, 3/4]
            for the 1-qubit form.
        cx_channel: ``"two-qubit"`` (default, the original stack) or ``"one-qubit"``.

    Example:
        >>> NoiseModel.from_strength(1.0)
        NoiseModel(lambda1=0.001, lambda2=0.00375, cx_channel='two-qubit')
    """

    lambda1: float
    lambda2: float
    cx_channel: str = "two-qubit"

    def __post_init__(self) -> None:
        if self.cx_channel not in CX_CHANNELS:
            raise InputError(
                f"cx_channel must be one of {CX_CHANNELS}, got {self.cx_channel!r}"
            )
        max2 = 15 / 16 if self.cx_channel == "two-qubit" else 3 / 4
        for name, value, top in (("lambda1", self.lambda1, 3 / 4), ("lambda2", self.lambda2, max2)):
            try:
                value = check_float(value, name, low=0.0, high=top)
            except InputError as err:
                raise InputError(
                    f"{name} must be a probability in [0, {top:g}] for this channel ({err}); "
                    "use NoiseModel.from_strength(p) for the paper's scale"
                ) from None
            object.__setattr__(self, name, value)

    @classmethod
    def from_strength(cls, p: float, cx_channel: str = "two-qubit") -> NoiseModel:
        """The paper's scale: ``(λ1, λ2) = p × (0.001, 0.00375)``, ``p ≥ 0``."""
        p = check_float(p, "noise strength p", low=0.0)
        return cls(p * LAMBDA1_PER_P, p * LAMBDA2_PER_P, cx_channel)

    @classmethod
    def noiseless(cls) -> NoiseModel:
        """λ1 = λ2 = 0."""
        return cls(0.0, 0.0)

    @property
    def is_noiseless(self) -> bool:
        """Whether both channels are the identity (``lambda1 == lambda2 == 0``)."""
        return self.lambda1 == 0.0 and self.lambda2 == 0.0

    def pauli_factors(self) -> tuple[float, float]:
        """``(f1, f2)``: the factor on non-identity Paulis of the channel after a 1-qubit
        gate (``1 - 4λ1/3``) and after a CX (``1 - 16λ2/15`` for the 2-qubit form, the
        per-qubit ``1 - 4λ2/3`` for the 1-qubit form)."""
        f1 = 1.0 - 4.0 * self.lambda1 / 3.0
        if self.cx_channel == "two-qubit":
            f2 = 1.0 - 16.0 * self.lambda2 / 15.0
        else:
            f2 = 1.0 - 4.0 * self.lambda2 / 3.0
        return f1, f2
