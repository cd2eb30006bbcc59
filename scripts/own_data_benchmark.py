"""QHNClassifier() with its defaults against scikit-learn's LogisticRegression on public data.

Each dataset: a stratified 75/25 split (seed 0), StandardScaler fitted on the training part,
then ``pyqhn.QHNClassifier()`` (no arguments) and ``LogisticRegression(max_iter=5000)`` on
the same features. Writes one row per dataset (qubits, regime, accuracies, wall time) to
``--out`` (CSV) as each finishes; rows already there are kept (resumable).

    python scripts/own_data_benchmark.py --out docs/own_data/benchmark.csv
"""

from __future__ import annotations

import argparse
import time
from pathlib import Path

import numpy as np
import pandas as pd
from sklearn.datasets import load_breast_cancer, load_digits, load_iris, load_wine
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import train_test_split
from sklearn.pipeline import make_pipeline
from sklearn.preprocessing import StandardScaler

import pyqhn


def _digits(classes):
    x, y = load_digits(return_X_y=True)
    keep = np.isin(y, classes)
    return x[keep], y[keep]


DATASETS = {
    "iris (3 classes)": lambda: load_iris(return_X_y=True),
    "breast_cancer": lambda: load_breast_cancer(return_X_y=True),
    "wine (3 classes)": lambda: load_wine(return_X_y=True),
    "digits 3 vs 8 (8x8)": lambda: _digits((3, 8)),
    "digits 0/1/2 (8x8)": lambda: _digits((0, 1, 2)),
}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", required=True)
    parser.add_argument("--only", nargs="*", default=None, help="dataset names to run")
    args = parser.parse_args()
    out = Path(args.out)
    out.parent.mkdir(parents=True, exist_ok=True)
    done = set(pd.read_csv(out)["dataset"]) if out.exists() else set()
    for name, load in DATASETS.items():
        if name in done or (args.only and name not in args.only):
            continue
        x, y = load()
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=0.25, random_state=0,
                                                  stratify=y)
        lr = make_pipeline(StandardScaler(), LogisticRegression(max_iter=5000))
        lr_acc = lr.fit(x_tr, y_tr).score(x_te, y_te)
        t0 = time.perf_counter()
        clf = make_pipeline(StandardScaler(), pyqhn.QHNClassifier()).fit(x_tr, y_tr)
        wall = time.perf_counter() - t0
        q = clf[-1]
        row = dict(dataset=name, n_features=x.shape[1], n_classes=len(q.classes_),
                   n_qubits=q.n_qubits_, regime=q.regime_,
                   qhn_test_accuracy=round(clf.score(x_te, y_te), 4),
                   qhn_train_accuracy=round(clf.score(x_tr, y_tr), 4),
                   logistic_regression_test_accuracy=round(lr_acc, 4),
                   best_circuit=q.best_circuit_, best_source=q.best_source_,
                   wall_time_s=round(wall, 1))
        print(row, flush=True)
        pd.DataFrame([row]).to_csv(out, mode="a", header=not out.exists(), index=False)


if __name__ == "__main__":
    main()
