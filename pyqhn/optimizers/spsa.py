"""SPSA and QN-SPSA, many runs in lockstep, as ``init``/``step`` pairs.

SPSA (Spall, IEEE TAC 37, 332 (1992)): with a Rademacher direction ``Δ_k`` (entries ±1),
gains ``a_k = a / (k + 1 + A)^α`` and ``c_k = c / (k + 1)^γ`` (``α = 0.602``, ``γ = 0.101``),

    ĝ_k = [f(x_k + c_k Δ_k) − f(x_k − c_k Δ_k)] / (2 c_k) · Δ_k,     x_{k+1} = x_k − a_k ĝ_k.

Two objective evaluations per step whatever the number of parameters ``P``, unbiased to
``O(c²)`` for noisy ``f`` (shots). ``learning_rate=None`` calibrates ``a`` per run as Qiskit's
``SPSA.calibrate``: ``a = target · (A + 1)^α / mean |f(x + cΔ) − f(x − cΔ)| / (2c)`` over
``calibration_steps`` random directions at ``x_0`` (target step 2π/10), counted in ``n_evals``.

QN-SPSA (Gacon, Zoufal, Carleo, Woerner, Quantum 5, 567 (2021)): the same gradient,
preconditioned by a stochastic estimate of the Fubini–Study metric from four fidelities
``F(x, y) = |⟨ψ_x|ψ_y⟩|²`` with a second direction ``Δ'``:

    δF = F(x, x + ε(Δ + Δ')) − F(x, x + εΔ) − F(x, x − εΔ + εΔ') + F(x, x − εΔ),
    Ĝ_k = −½ δF / (2ε²) · (ΔΔ'ᵀ + Δ'Δᵀ) / 2,
    G_k = k/(k+1) · G_{k−1} + 1/(k+1) · Ĝ_k,
    x_{k+1} = x_k − a_k (|G_k| + β I)^{−1} ĝ_k,        |G| = √(G²),

as Qiskit's ``QNSPSA``. Four differences, stated in :attr:`Optimizer.settings`:

* ``learning_rate=None`` calibrates on the *preconditioned* step (``calibration_steps``
  pairs of gradient and metric samples at ``x_0``, whose metric average also starts
  ``G``; ``a = (2π/10) / mean ‖(|G| + βI)^{−1} ĝ‖_∞``): the sampled metric's eigenvalues
  scale like ``P`` early on, so SPSA's calibration gives steps far too short;
  (on the 66-qubit mnist8x8 problem this ``a`` seems too large for later steps,
  where the newest metric sample's weight ``1/(k+1)`` no longer damps the step along
  ``Δ_k``: without blocking the runs diverge, docs/mnist8x8.md);
* the default regularisation is ``β = 0.1`` (Qiskit 0.01, which with that calibration
  reached ``C*`` less often on our small problems);
* the metric perturbation ``ε`` (``metric_perturbation``) is set apart from the
  gradient's ``c`` (fidelities here are exact, so ``ε`` can be small while ``c`` stays
  large against shot noise);
* ``blocking`` (Qiskit's default for QN-SPSA) evaluates ``f`` at the proposed point
  and rejects the step if it exceeds the last accepted value by more than
  ``allowed_increase`` (default: twice the standard deviation of repeated evaluations
  at ``x_0``, Qiskit's ``2·estimate_stddev``): three evaluations per step, and
  ``state.f`` is then a fresh estimate at ``x``;
* ``G_k`` is kept in low-rank form ``V Λ Vᵀ`` of rank at most ``max_rank`` (every ``Ĝ``
  has rank 2): identical to the dense average while ``2k ≤ max_rank`` or
  ``P ≤ max_rank``, otherwise its ``max_rank`` largest ``|λ|``. A step then
  costs ``O(P · max_rank²)`` instead of ``O(P³)`` — 8,000 parameters at 1,000 qubits.

Both optimisers call ``fun`` (a :data:`~pyqhn.optimizers.base.BatchedValue`) once per step
with ``2R`` rows, ``[x + cΔ; x − cΔ]`` (row ``i`` belongs to run ``i mod R``), done runs at
their frozen point (results discarded, not counted). ``state.f`` is the mean of the two
evaluations, an estimate of ``f(x)``. Directions are drawn from
``numpy.random.default_rng([seed_r, k])``, so a run does not depend on its batch.
"""

from __future__ import annotations

from collections.abc import Callable
from typing import NamedTuple

import numpy as np

from ..checks import InputError, check_float, check_int
from .base import BatchedValue, Optimizer, call_value

__all__ = ["SpsaState", "QnSpsaState", "spsa_optimizer", "qnspsa_optimizer"]

#: ``(x (M, P), y (M, P)) -> (M,)`` fidelities ``|⟨ψ_x|ψ_y⟩|²``.
Fidelity = Callable[[np.ndarray, np.ndarray], np.ndarray]

_ALPHA, _GAMMA, _TARGET = 0.602, 0.101, 2 * np.pi / 10


class SpsaState(NamedTuple):
    """State of :func:`spsa_optimizer` for ``R`` runs of ``P`` parameters.

    Attributes:
        x: ``(R, P)`` iterates.
        f: ``(R,)`` mean of ``f(x ± cΔ)`` at the last step (``f(x_0)`` estimate after init).
        g: ``(R, P)`` last SPSA gradient estimate.
        done, n_iter, n_evals, converged: as every state (``converged`` is never set).
        a: ``(R,)`` learning rate (calibrated or given).
        seeds: ``(R,)`` run seeds (directions of step ``k`` from ``[seed, k]``).
    """

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    a: np.ndarray
    seeds: np.ndarray


class QnSpsaState(NamedTuple):
    """State of :func:`qnspsa_optimizer`: the :class:`SpsaState` fields, then

    Attributes:
        n_fidelity: ``(R,)`` fidelity evaluations (4 per step and calibration sample).
        n_metric: ``(R,)`` metric samples averaged into ``G`` (calibration included).
        n_rejected: ``(R,)`` steps rejected by blocking.
        allowed: ``(R,)`` allowed increase of ``f`` per step (blocking).
        basis: ``(R, P, m)`` orthonormal ``V`` of ``G = V diag(eig) Vᵀ`` (``m ≤ max_rank``).
        eig: ``(R, m)`` its eigenvalues.
    """

    x: np.ndarray
    f: np.ndarray
    g: np.ndarray
    done: np.ndarray
    n_iter: np.ndarray
    n_evals: np.ndarray
    converged: np.ndarray
    a: np.ndarray
    seeds: np.ndarray
    n_fidelity: np.ndarray
    n_metric: np.ndarray
    n_rejected: np.ndarray
    allowed: np.ndarray
    basis: np.ndarray
    eig: np.ndarray


def _directions(seeds: np.ndarray, k: int, p: int, tag: int = 0) -> np.ndarray:
    """Rademacher directions ``(R, P)``, run ``r`` from ``default_rng([seed_r, k, tag])``
    (tag 0: gradient, 1: metric, 2: calibration)."""
    return np.stack([np.random.default_rng([int(s), int(k), tag]).integers(0, 2, p) * 2.0 - 1
                     for s in seeds])


def _two_point(fun: BatchedValue, x: np.ndarray, c: float, delta: np.ndarray):
    both = call_value(fun, np.concatenate([x + c * delta, x - c * delta]))
    r = x.shape[0]
    return both[:r], both[r:]


def _calibrate(fun: BatchedValue, x: np.ndarray, seeds: np.ndarray, c: float, steps: int,
               stability: float) -> np.ndarray:
    """Qiskit's ``SPSA.calibrate``: ``a`` per run so the first step has size 2π/10."""
    mag = np.zeros(x.shape[0])
    for i in range(steps):
        delta = _directions(seeds, i, x.shape[1], tag=2)
        fp, fm = _two_point(fun, x, c, delta)
        mag += np.abs(fp - fm) / (2 * c) / steps
    mag = np.where(mag > 0, mag, 1.0)
    return _TARGET * (stability + 1) ** _ALPHA / mag


def _common_settings(learning_rate, perturbation, max_steps, stability, calibration_steps):
    lr = None if learning_rate is None else check_float(
        learning_rate, "learning_rate", low=0.0, low_inclusive=False)
    c = check_float(perturbation, "perturbation", low=0.0, low_inclusive=False)
    return (lr, c, check_int(max_steps, "max_steps", minimum=0),
            check_float(stability, "stability", low=0.0),
            check_int(calibration_steps, "calibration_steps", minimum=1))


def spsa_optimizer(*, max_steps: int, learning_rate: float | None = None,
                   perturbation: float = 0.2, stability: float = 0.0,
                   calibration_steps: int = 10) -> Optimizer:
    """SPSA as an ``init``/``step`` pair (module docstring for the maths).

    Args:
        max_steps: steps per run.
        learning_rate: ``a``; ``None`` calibrates it per run (``2·calibration_steps``
            evaluations at ``x_0``).
        perturbation: ``c`` (Qiskit's default 0.2).
        stability: ``A`` in ``a_k = a / (k + 1 + A)^α``.
        calibration_steps: directions averaged by the calibration.

    Example:
        >>> from pyqhn.optimizers import minimize
        >>> f = lambda x: (x**2).sum(1)
        >>> state, _ = minimize(spsa_optimizer(max_steps=300, learning_rate=0.1), f,
        ...                     np.ones((2, 3)))
        >>> bool(np.abs(state.x).max() < 0.1)
        True
    """
    lr, c, max_steps, stability, cal = _common_settings(
        learning_rate, perturbation, max_steps, stability, calibration_steps)

    def init(fun: BatchedValue, x0: np.ndarray, seeds: np.ndarray) -> SpsaState:
        x = np.array(x0, dtype=np.float64)
        r = x.shape[0]
        a = (np.full(r, lr) if lr is not None else _calibrate(fun, x, seeds, c, cal, stability))
        n_evals = np.full(r, 0 if lr is not None else 2 * cal, dtype=np.int64)
        fp, fm = _two_point(fun, x, c, _directions(seeds, 0, x.shape[1]))
        n_iter = np.zeros(r, dtype=np.int64)
        return SpsaState(x=x, f=0.5 * (fp + fm), g=np.zeros_like(x), done=n_iter >= max_steps,
                         n_iter=n_iter, n_evals=n_evals + 2, converged=np.zeros(r, bool),
                         a=a, seeds=np.asarray(seeds))

    def step(fun: BatchedValue, state: SpsaState) -> SpsaState:
        active = ~np.asarray(state.done, dtype=bool)
        if not active.any():
            return state
        k = state.n_iter
        ck = c / (k + 1.0) ** _GAMMA
        ak = state.a / (k + 1.0 + stability) ** _ALPHA
        delta = np.stack([_directions(state.seeds[i:i + 1], k[i] + 1, state.x.shape[1])[0]
                          for i in range(len(k))])
        fp, fm = _two_point(fun, state.x, ck[:, None], delta)
        g = ((fp - fm) / (2 * ck))[:, None] * delta
        x = np.where(active[:, None], state.x - ak[:, None] * g, state.x)
        f = np.where(active, 0.5 * (fp + fm), state.f)
        n_iter = state.n_iter + active
        return state._replace(x=x, f=f, g=np.where(active[:, None], g, state.g),
                              done=state.done | (n_iter >= max_steps) | ~np.isfinite(f),
                              n_iter=n_iter, n_evals=state.n_evals + 2 * active)

    settings = dict(max_steps=max_steps, learning_rate=lr, perturbation=c, alpha=_ALPHA,
                    gamma=_GAMMA, stability=stability, calibration_steps=cal)
    return Optimizer(name="spsa", uses_gradient=False, init=init, step=step,
                     settings=settings)


def _update_metric(basis: np.ndarray, eig: np.ndarray, k: int, d1: np.ndarray,
                   d2: np.ndarray, scale: float, max_rank: int) -> tuple[np.ndarray, np.ndarray]:
    """``G ← k/(k+1) G + 1/(k+1) · scale · sym(d1 d2ᵀ)`` in low-rank form, one run."""
    v = np.concatenate([basis, d1[:, None], d2[:, None]], axis=1)  # (P, m + 2)
    m = basis.shape[1]
    mid = np.zeros((m + 2, m + 2))
    mid[:m, :m] = np.diag(eig) * (k / (k + 1.0))
    mid[m, m + 1] = mid[m + 1, m] = 0.5 * scale / (k + 1.0)
    q, r = np.linalg.qr(v)
    lam, w = np.linalg.eigh(r @ mid @ r.T)
    order = np.argsort(-np.abs(lam))[:max_rank]
    return q @ w[:, order], lam[order]


def _precondition(basis: np.ndarray, eig: np.ndarray, g: np.ndarray, beta: float) -> np.ndarray:
    """``(|G| + βI)^{-1} g`` for ``G = V diag(eig) Vᵀ`` (``V`` orthonormal), one run."""
    coef = basis.T @ g
    return g / beta + basis @ ((1.0 / (np.abs(eig) + beta) - 1.0 / beta) * coef)


def qnspsa_optimizer(fidelity: Fidelity, *, max_steps: int, learning_rate: float | None = None,
                     perturbation: float = 0.2, metric_perturbation: float = 0.01,
                     regularization: float = 0.1, stability: float = 0.0,
                     calibration_steps: int = 10, max_rank: int = 100, blocking: bool = True,
                     allowed_increase: float | None = None,
                     noise_samples: int = 25) -> Optimizer:
    """QN-SPSA as an ``init``/``step`` pair (module docstring for the maths).

    Args:
        fidelity: ``(x (M, P), y (M, P)) -> (M,)`` fidelities ``|⟨ψ_x|ψ_y⟩|²``, e.g.
            :func:`pyqhn.sampled_objectives.fidelity_fn` of the MPS engine; called once per
            step with ``4R`` pairs (counted in ``n_fidelity``).
        max_steps: as :func:`spsa_optimizer`.
        learning_rate: as :func:`spsa_optimizer`, except that ``None`` calibrates on the
            preconditioned step (module docstring).
        perturbation: as :func:`spsa_optimizer`.
        stability: as :func:`spsa_optimizer`.
        calibration_steps: as :func:`spsa_optimizer`.
        metric_perturbation: ``ε`` of the fidelity differences.
        regularization: ``β``.
        max_rank: rank kept of the averaged metric (module docstring).
        blocking: reject steps that raise ``f`` by more than ``allowed_increase`` (one
            more evaluation per step).
        allowed_increase: ``None``: twice the standard deviation of ``noise_samples``
            repeated evaluations at ``x_0`` (Qiskit's ``2·estimate_stddev``: the shot noise
            of ``f``, not its variation between perturbed points).
        noise_samples: evaluations at ``x_0`` for that estimate (Qiskit: 25); their mean
            is also the reference ``f(x_0)`` of the first blocking test.
    """
    if not callable(fidelity):
        raise InputError("qnspsa_optimizer needs fidelity=(x, y) -> |<psi_x|psi_y>|^2, e.g. "
                         "pyqhn.sampled_objectives.fidelity_fn(engine, circuit)")
    lr, c, max_steps, stability, cal = _common_settings(
        learning_rate, perturbation, max_steps, stability, calibration_steps)
    eps = check_float(metric_perturbation, "metric_perturbation", low=0.0, low_inclusive=False)
    beta = check_float(regularization, "regularization", low=0.0, low_inclusive=False)
    max_rank = check_int(max_rank, "max_rank", minimum=2)
    noise_samples = check_int(noise_samples, "noise_samples", minimum=2)
    spsa = spsa_optimizer(max_steps=max_steps, learning_rate=learning_rate,
                          perturbation=perturbation, stability=stability,
                          calibration_steps=calibration_steps)  # for its settings

    def metric_sample(x, d1, d2):
        shifted = np.concatenate([x + eps * (d1 + d2), x + eps * d1, x - eps * d1 + eps * d2,
                                  x - eps * d1])
        fid = np.asarray(fidelity(np.tile(x, (4, 1)), shifted), dtype=np.float64)
        fid = fid.reshape(4, x.shape[0])
        return -0.5 * (fid[0] - fid[1] - fid[2] + fid[3]) / (2 * eps**2)

    def init(fun: BatchedValue, x0: np.ndarray, seeds: np.ndarray) -> QnSpsaState:
        fixed = spsa_optimizer(max_steps=max_steps, learning_rate=1.0, perturbation=c,
                               stability=stability, calibration_steps=cal)
        s = fixed.init(fun, x0, seeds)
        r, p = s.x.shape
        basis, eig = np.zeros((r, p, 0)), np.zeros((r, 0))
        n_fid, n_metric, n_evals = (np.zeros(r, dtype=np.int64) for _ in range(3))
        zeros = np.zeros(r, dtype=np.int64)
        allowed = np.full(r, np.nan if allowed_increase is None else allowed_increase)
        if blocking and allowed_increase is None:
            # Qiskit's estimate_stddev: repeated evaluations at x0 (separate calls, so
            # fresh shots even under common random numbers); they also give f(x0)
            reps = np.stack([call_value(fun, s.x) for _ in range(noise_samples)])
            allowed = 2 * reps.std(axis=0, ddof=1)
            s = s._replace(f=reps.mean(axis=0), n_evals=s.n_evals + noise_samples)
        if lr is not None:
            return QnSpsaState(*s._replace(a=np.full(r, lr)), n_fidelity=n_fid,
                               n_metric=n_metric, n_rejected=zeros, allowed=allowed,
                               basis=basis, eig=eig)
        grads, mets = [], []
        for i in range(cal):  # gradient and metric samples at x0
            d1 = _directions(seeds, i, p, tag=2)
            d2 = _directions(seeds, i, p, tag=3)
            fp, fm = _two_point(fun, s.x, c, d1)
            grads.append(((fp - fm) / (2 * c))[:, None] * d1)
            mets.append((d1, d2, metric_sample(s.x, d1, d2)))
        width = min(max_rank, p, 2 * cal)
        basis, eig = np.zeros((r, p, width)), np.zeros((r, width))
        a = np.empty(r)
        for j in range(r):
            b, e = np.zeros((p, 0)), np.zeros(0)
            for i, (d1, d2, sc) in enumerate(mets):
                b, e = _update_metric(b, e, i, d1[j], d2[j], float(sc[j]), max_rank)
            basis[j, :, : b.shape[1]], eig[j, : e.size] = b, e
            mag = np.mean([np.abs(_precondition(b, e, g[j], beta)).max() for g in grads])
            a[j] = _TARGET * (stability + 1) ** _ALPHA / (mag if mag > 0 else 1.0)
        return QnSpsaState(*s._replace(a=a, n_evals=s.n_evals + 2 * cal),
                           n_fidelity=n_fid + 4 * cal, n_metric=n_metric + cal,
                           n_rejected=zeros, allowed=allowed, basis=basis, eig=eig)

    def step(fun: BatchedValue, state: QnSpsaState) -> QnSpsaState:
        active = ~np.asarray(state.done, dtype=bool)
        if not active.any():
            return state
        x, k = state.x, state.n_iter
        r, p = x.shape
        ck = c / (k + 1.0) ** _GAMMA
        ak = state.a / (k + 1.0 + stability) ** _ALPHA
        d1 = np.stack([_directions(state.seeds[i:i + 1], k[i] + 1, p)[0] for i in range(r)])
        d2 = np.stack([_directions(state.seeds[i:i + 1], k[i] + 1, p, tag=1)[0]
                       for i in range(r)])
        fp, fm = _two_point(fun, x, ck[:, None], d1)
        g = ((fp - fm) / (2 * ck))[:, None] * d1
        scale = metric_sample(x, d1, d2)
        width = min(max_rank, p, state.basis.shape[2] + 2)
        basis = np.zeros((r, p, width))
        eig = np.zeros((r, width))
        x_new = x.copy()
        for i in range(r):
            if not active[i]:
                basis[i, :, : state.basis.shape[2]] = state.basis[i, :, :width]
                eig[i, : state.eig.shape[1]] = state.eig[i, :width]
                continue
            b, e = _update_metric(state.basis[i], state.eig[i], int(state.n_metric[i]), d1[i],
                                  d2[i], float(scale[i]), max_rank)
            basis[i, :, : b.shape[1]], eig[i, : e.size] = b, e
            x_new[i] = x[i] - ak[i] * _precondition(b, e, g[i], beta)
        f = np.where(active, 0.5 * (fp + fm), state.f)
        n_rejected, n_evals = state.n_rejected, state.n_evals + 2 * active
        if blocking:
            f_new = call_value(fun, x_new)
            reject = active & ~(f_new <= state.f + state.allowed)
            x_new = np.where(reject[:, None], x, x_new)
            f = np.where(active & ~reject, f_new, state.f)
            n_rejected, n_evals = n_rejected + reject, n_evals + active
        n_iter = state.n_iter + active
        return state._replace(
            x=x_new, f=f, g=np.where(active[:, None], g, state.g),
            done=state.done | (n_iter >= max_steps) | ~np.isfinite(f), n_iter=n_iter,
            n_evals=n_evals, n_fidelity=state.n_fidelity + 4 * active,
            n_metric=state.n_metric + active, n_rejected=n_rejected, basis=basis, eig=eig)

    settings = dict(spsa.settings, metric_perturbation=eps, regularization=beta,
                    max_rank=max_rank, blocking=bool(blocking),
                    allowed_increase=allowed_increase, noise_samples=noise_samples)
    return Optimizer(name="qnspsa", uses_gradient=False, init=init, step=step,
                     settings=settings)
