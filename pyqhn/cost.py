"""Full enumeration of cost tables, their files, and what can be read off them.

A cost table ``C`` is a ``float64`` vector of length ``2**N``; ``C[k]`` is the training loss
of the network whose bit row is ``bits.index_to_bits(k, N)`` (model parameter 0 is the most
significant bit; site j carries bit j−1, see :mod:`pyqhn.bits`).

* :func:`cost_table` enumerates all ``2**N`` networks in chunks with bounded memory
  (JAX, jitted). First-layer weights of input features that are zero in every sample
  cannot change the loss; by default they are enumerated once and broadcast (exact).
* :func:`save_cost` / :func:`load_cost`: ``.npz`` (key ``cost`` plus metadata) or the
  original text format (one value per line, ``.txt`` / ``.dat`` / ``.csv``). Tables are
  validated by :func:`pyqhn.checks.check_cost` (real, finite, length ``2**N``).
  :func:`read_npz_array` reads one array of a user's ``.npz`` file (a cost table, or the
  angles of :func:`pyqhn.circuits.load_theta`) with an :class:`~pyqhn.checks.InputError`
  naming the file.
* :func:`optimum`, :func:`lowest` (density of states),
  :func:`optimum_report` (train / test accuracy of the optimum).
"""

from __future__ import annotations

import json
from functools import partial
from pathlib import Path
from typing import Any

import jax
import jax.numpy as jnp
import numpy as np

from .bits import index_to_bits
from .checks import MAX_QUBITS, InputError, check_cost, check_int
from .datasets import Dataset
from .models import AugmentedBiNN, class_counts

__all__ = [
    "BIT_ORDER",
    "DEFAULT_MAX_TABLE_BYTES",
    "table_bytes",
    "check_table_size",
    "inert_parameters",
    "cost_table",
    "save_cost",
    "load_cost",
    "read_npz_array",
    "optimum",
    "lowest",
    "optimum_report",
]

#: Bit-order statement written into every saved table's metadata.
BIT_ORDER = "site j (1-based) = bit j-1 of index k (site 1 least significant); model parameter 0 = most significant bit"  # noqa: E501

#: Largest cost table :func:`cost_table` builds unless told otherwise (2 GiB = 2**28 values).
DEFAULT_MAX_TABLE_BYTES = 2 * 2**30

#: Budget for the intermediate arrays of one chunk.
_CHUNK_BYTES = 128 * 2**20

_TEXT_SUFFIXES = (".txt", ".dat", ".csv")


def table_bytes(n_qubits: int) -> int:
    """Bytes of a float64 cost table over ``n_qubits`` bits: ``8 · 2**n``."""
    return 8 * 2 ** int(n_qubits)


def _gib(b: float) -> str:
    for unit, power in (("EiB", 60), ("PiB", 50), ("GiB", 30)):
        if b >= 2**power:
            return f"{b / 2**power:.4g} {unit}"
    return f"{b / 2**20:.4g} MiB"


def check_table_size(n_qubits: int, max_bytes: int = DEFAULT_MAX_TABLE_BYTES) -> int:
    """Raise ``MemoryError`` with the memory needed if a 2**N table exceeds ``max_bytes``."""
    n = check_int(n_qubits, "the number of qubits", minimum=1)
    need = table_bytes(n)
    if n > MAX_QUBITS or need > max_bytes:
        limit = (f"the package's maximum of {MAX_QUBITS} qubits" if n > MAX_QUBITS else
                 f"the limit of {_gib(max_bytes)}")
        raise MemoryError(
            f"enumerating all 2**{n} networks of N = {n} qubits needs a cost table of "
            f"{_gib(need)} (plus working memory), over {limit}: train from samples instead "
            "(shots=…, the MPS engine, which needs no table; see `pyqhn reproduce "
            "mnist8x8`), or use a model with fewer bits"
            + ("" if n > MAX_QUBITS else
               " (or, calling cost_table directly, a larger max_bytes if the machine has it)")
        )
    return n


def inert_parameters(model: AugmentedBiNN, data: Dataset) -> list[int]:
    """Parameters that cannot change the loss on ``data``: first-layer weights leaving an
    input feature that is exactly zero in every sample (their product with it is 0)."""
    zero = np.flatnonzero(np.all(data.x == 0.0, axis=0))
    return sorted(p for f in zero for p in model.first_layer_weight_params(int(f)))


@partial(jax.jit, static_argnums=(0, 2, 5))
def _loss_of_range(model, start, count, xu, counts, relevant):
    """Loss of the ``count`` consecutive sub-table indices from ``start``.

    The sub-table enumerates the ``relevant`` parameters (first = most significant); every
    other parameter is 0.
    """
    n_total = model.n_qubits
    k = start + jnp.arange(count, dtype=jnp.int64)
    nr = len(relevant)
    shifts = jnp.arange(nr - 1, -1, -1, dtype=jnp.int64)
    rel_bits = ((k[:, None] >> shifts) & 1).astype(jnp.float64)
    if nr == n_total:
        bits = rel_bits
    else:
        bits = jnp.zeros((count, n_total)).at[:, jnp.asarray(relevant)].set(rel_bits)
    return model._counts_loss(bits, xu, counts)


def cost_table(
    model: AugmentedBiNN,
    data: Dataset,
    *,
    chunk_size: int | None = None,
    skip_inert: bool = True,
    max_bytes: int = DEFAULT_MAX_TABLE_BYTES,
) -> np.ndarray:
    """The loss of every network of ``model`` on ``data``: (2**N,) float64.

    Args:
        model: the augmented model (N = ``model.n_qubits``).
        data: training data; samples are grouped by distinct feature rows first.
        chunk_size: networks per jitted call (default: fits ~128 MiB of intermediates).
        skip_inert: enumerate the :func:`inert_parameters` once and broadcast (exact).
        max_bytes: refuse (``MemoryError`` stating the need) tables larger than this.

    Example:
        >>> C = cost_table(mnist_encoding_model(), mnist_pair((3, 7)))   # (2**19,), Fig. 5
    """
    n = check_table_size(model.n_qubits, max_bytes)
    xu, counts = class_counts(data, model)
    inert = set(inert_parameters(model, data)) if skip_inert else set()
    relevant = tuple(i for i in range(n) if i not in inert)
    total = 2 ** len(relevant)
    if chunk_size is None:
        per_network = 8 * xu.shape[0] * max(model.layers[1:]) * (4 + len(model.activations))
        per_network *= model.n_classes // 2
        chunk_size = max(1, _CHUNK_BYTES // per_network)
        chunk_size = 2 ** int(np.floor(np.log2(chunk_size)))
    chunk = min(check_int(chunk_size, "chunk_size", minimum=1), total)
    sub = np.empty(total)
    for start in range(0, total, chunk):
        s = min(start, total - chunk)  # last chunk overlaps: no recompilation
        sub[s : s + chunk] = np.asarray(
            _loss_of_range(model, s, chunk, xu, counts, relevant)
        )
    if not inert:
        return sub
    rel_shape = [2 if i not in inert else 1 for i in range(n)]
    full = np.broadcast_to(sub.reshape(rel_shape), [2] * n)  # axis i = parameter i
    return np.ascontiguousarray(full).reshape(-1)


# --------------------------------------------------------------------------- files


def save_cost(path: str | Path, cost: np.ndarray, **metadata: Any) -> Path:
    """Write a cost table: ``.npz`` (key ``cost``, metadata as JSON under ``metadata``,
    plus ``bit_order``) or text (``.txt``/``.dat``/``.csv``, one value per line, ``%.17g``;
    metadata is dropped). The file is written under a temporary name and renamed, so a
    reader never sees half a table."""
    path = Path(path)
    c = check_cost(cost)
    if path.suffix not in (*_TEXT_SUFFIXES, ".npz"):
        raise InputError(
            f"unknown cost-table format {path.suffix!r} for {path}; use .npz or .txt "
            "(also .dat / .csv: one value per line)"
        )
    if path.is_dir():
        raise InputError(f"{path} is a folder where the cost table goes; remove it, or "
                         "choose another file name")
    tmp = path.with_name(f".{path.name}.tmp{path.suffix}")
    try:
        if path.suffix in _TEXT_SUFFIXES:
            np.savetxt(tmp, c, fmt="%.17g")
        else:
            meta = {"n_qubits": c.size.bit_length() - 1, "bit_order": BIT_ORDER, **metadata}
            np.savez_compressed(tmp, cost=c, metadata=np.array(json.dumps(meta, default=str)))
        tmp.replace(path)
    except BaseException:
        tmp.unlink(missing_ok=True)  # no stray temporary file after a full disk
        raise
    return path


def read_npz_array(path: Any, key: str, how_to_save: str) -> tuple[np.ndarray, list[str]]:
    """Array ``key`` of the ``.npz`` file ``path`` and the file's keys; a missing key or a
    file that is no ``.npz`` is an :class:`InputError` naming the file and ``how_to_save``."""
    import zipfile

    try:
        if Path(path).is_dir():
            raise ValueError("it is a folder, not a file")
        if not zipfile.is_zipfile(path):  # np.load would try to unpickle it
            raise ValueError("it is no .npz archive (damaged, or another format)")
        with np.load(path, allow_pickle=False) as f:
            if key not in f.files:
                raise InputError(f"{path} has no {key!r} array (keys: {sorted(f.files)}); "
                                 f"save it with {how_to_save}")
            return np.asarray(f[key]), list(f.files)
    except (OSError, ValueError, EOFError, zipfile.BadZipFile) as err:
        raise InputError(f"{path} cannot be read as .npz ({err}); save it with "
                         f"{how_to_save}") from err


def load_cost(path: str | Path) -> tuple[np.ndarray, dict[str, Any]]:
    """Read a cost table written by :func:`save_cost`, or any ``.npz`` with key ``cost``, or
    a text file with one value per line. Returns ``(cost (2**N,), metadata dict)``."""
    path = Path(path)
    if not path.exists():
        raise FileNotFoundError(f"no cost table at {path}")
    if path.suffix == ".npz":
        how = "pyqhn.cost.save_cost or numpy.savez(path, cost=table)"
        cost, keys = read_npz_array(path, "cost", how)
        meta = (json.loads(str(read_npz_array(path, "metadata", how)[0]))
                if "metadata" in keys else {})
    else:
        try:
            cost = np.loadtxt(path, dtype=np.float64, ndmin=1)
        except ValueError as err:
            raise InputError(
                f"{path} is not a cost table: {str(err).rstrip('.')}. A text table holds one "
                "number per line"
            ) from err
        meta = {}
    try:
        cost = check_cost(cost)
    except InputError as err:
        raise InputError(f"{path}: {err}") from err
    meta.setdefault("n_qubits", cost.size.bit_length() - 1)
    return cost, meta


# --------------------------------------------------------------------------- analysis


def optimum(cost: np.ndarray) -> tuple[int, float]:
    """``(argmin index, min cost)`` of a ``(2**N,)`` table; the first index among ties."""
    c = check_cost(cost)
    k = int(np.argmin(c))
    return k, float(c[k])


def lowest(cost: np.ndarray, k: int) -> tuple[np.ndarray, np.ndarray]:
    """The ``k`` lowest configurations: indices (k,) int64 and costs (k,), ascending
    (ties by index)."""
    c = check_cost(cost)
    k = min(check_int(k, "k", minimum=1), c.size)
    part = np.argpartition(c, k - 1)[:k] if k < c.size else np.arange(c.size)
    order = np.lexsort((part, c[part]))
    idx = part[order].astype(np.int64)
    return idx, c[idx]


def optimum_report(
    model: AugmentedBiNN,
    cost: np.ndarray,
    train: Dataset,
    test: Dataset | None = None,
) -> dict[str, Any]:
    """Optimum of a table with its description and train (and test) accuracy (JSON-ready)."""
    c = check_cost(cost)
    if c.size != 2**model.n_qubits:
        raise InputError(
            f"the table has N = {c.size.bit_length() - 1} bits but the model {model.n_qubits}; "
            "use the table enumerated for this model"
        )
    k, v = optimum(c)
    bits = index_to_bits(k, model.n_qubits)
    clf = model.classifier(bits)
    report = {
        "n_qubits": model.n_qubits,
        "min_cost": v,
        "argmin": k,
        "optimum": clf.describe(),
        "train_accuracy": clf.accuracy(train),
    }
    if test is not None and test.n_samples:
        report["test_accuracy"] = clf.accuracy(test)
    return report
