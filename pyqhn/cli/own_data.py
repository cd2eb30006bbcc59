"""Your own data on the command line: ``--data``, ``--target``, ``--model``, ``--problem``.

Strings become objects here, every one checked before any work starts (a bad file, column,
model spec or factory is a usage error naming the option):

* :func:`load_data` reads ``.csv`` (a header row; ``--target`` names the label column,
  default the last; every other column is a numeric feature), ``.npz`` (arrays ``X`` and
  ``y``, or ``--target`` naming the label array) or ``.npy`` (the features; ``--target``
  is then the ``.npy`` file of the labels).
* :func:`parse_model_spec` reads a model spec: ``linear`` (the estimator's default ±1
  linear model) or ``key=value`` pairs separated by ``;`` —
  ``hidden=4,2`` (hidden layer sizes), ``activations=sigmoid,relu``, ``widths=2,4``,
  ``encodings=-1:1,0:1`` (weight values ``lo:hi``), ``loss=cross_entropy|mse``,
  ``logit_scale=none|fan-in``, ``layout=original|choices-first`` — or a ``.toml`` file with
  the same keys (``hidden = [4]``, ``encodings = [[-1, 1], [0, 1]]``).
* :func:`load_factory` imports ``module:function``; the function returns
  ``(model, data)``, data a :class:`pyqhn.datasets.Dataset` or an ``(X, y)`` pair.
"""

from __future__ import annotations

import importlib
import math
from pathlib import Path
from typing import Any

import click
import numpy as np

__all__ = ["load_data", "parse_model_spec", "load_factory", "MODEL_KEYS"]

#: Keys of a model spec and what they take.
MODEL_KEYS = {
    "hidden": "hidden layer sizes, e.g. hidden=4 or hidden=4,2",
    "activations": "hidden activations chosen from, e.g. activations=sigmoid,relu",
    "widths": "hidden widths chosen from, e.g. widths=2,4",
    "encodings": "weight values lo:hi chosen from, e.g. encodings=-1:1,0:1",
    "loss": "cross_entropy or mse",
    "logit_scale": "none or fan-in",
    "layout": "original or choices-first",
}


def _bad(option: str, message: str) -> click.BadParameter:
    return click.BadParameter(message, param_hint=option)


def load_data(path: str, target: str | None) -> tuple[np.ndarray, np.ndarray, list[str]]:
    """Features ``(n, d)`` float64, labels ``(n,)`` (any type) and feature names from
    ``--data`` (and ``--target``); any problem is a usage error naming the option."""
    p = Path(path)
    if not p.is_file():
        raise _bad("--data", f"{path}: no such file")
    suffix = p.suffix.lower()
    if suffix == ".csv":
        x, y, names = _from_csv(p, target)
    elif suffix == ".npz":
        x, y, names = _from_npz(p, target)
    elif suffix == ".npy":
        x, y, names = _from_npy(p, target)
    else:
        raise _bad("--data", f"{path}: unknown file type {p.suffix or '(none)'!r}; use .csv "
                   "(a header row), .npz (arrays X and y) or .npy (with --target LABELS.npy)")
    if x.ndim != 2 or x.shape[0] < 2 or x.shape[1] < 1:
        raise _bad("--data", f"{path}: need at least 2 samples and 1 feature, got features "
                   f"of shape {x.shape}")
    if y.shape != (x.shape[0],):
        raise _bad("--target", f"the labels have shape {y.shape} but the data {x.shape[0]} "
                   "samples; give one label per sample")
    if not np.all(np.isfinite(x)):
        bad = sorted({names[j] for j in np.argwhere(~np.isfinite(x))[:, 1]})
        raise _bad("--data", f"{path}: missing or infinite values in {', '.join(bad[:5])}; "
                   "clean or impute them first")
    if len(np.unique(y)) < 2:
        raise _bad("--target", f"the labels hold one class only ({y[0]!r}); a classifier "
                   "needs at least two")
    return x, y, names


def _from_csv(p: Path, target: str | None):
    import pandas as pd

    try:
        frame = pd.read_csv(p)
    except (OSError, ValueError, UnicodeDecodeError) as err:
        raise _bad("--data", f"{p}: cannot be read as CSV ({err})") from err
    if frame.shape[1] < 2:
        raise _bad("--data", f"{p}: needs a header row and at least two columns (features "
                   "and the label)")
    column = target if target is not None else frame.columns[-1]
    if column not in frame.columns:
        raise _bad("--target", f"{p} has no column {column!r}; its columns are "
                   f"{', '.join(map(str, frame.columns))}")
    y = frame[column].to_numpy()
    if frame[column].isna().any():
        raise _bad("--target", f"column {column!r} has missing labels; drop those rows")
    features = frame.drop(columns=[column])
    text = [c for c in features.columns if not pd.api.types.is_numeric_dtype(features[c])]
    if text:
        raise _bad("--data", f"{p}: column(s) {', '.join(map(str, text))} are not numeric; "
                   f"encode them as numbers or drop them (the label column is {column!r}; "
                   "choose another with --target)")
    return features.to_numpy(dtype=np.float64), y, [str(c) for c in features.columns]


def _from_npz(p: Path, target: str | None):
    try:
        with np.load(p, allow_pickle=False) as f:
            arrays = {k: f[k] for k in f.files}
    except (OSError, ValueError) as err:
        raise _bad("--data", f"{p}: cannot be read as .npz ({err})") from err
    xkey = next((k for k in ("X", "x") if k in arrays), None)
    ykey = target if target is not None else next((k for k in ("y", "Y") if k in arrays), None)
    if xkey is None or ykey is None or ykey not in arrays:
        raise _bad("--target" if target else "--data",
                   f"{p} holds {', '.join(arrays) or 'nothing'}; it needs the features as "
                   "'X' and the labels as 'y' (or name the label array with --target)")
    return _numeric(arrays[xkey], p), arrays[ykey].reshape(-1), _names(arrays[xkey])


def _from_npy(p: Path, target: str | None):
    if target is None or not target.lower().endswith(".npy"):
        raise _bad("--target", f"with --data {p.name} (features) give the labels as "
                   "--target LABELS.npy")
    if not Path(target).is_file():
        raise _bad("--target", f"{target}: no such file")
    try:
        x, y = np.load(p, allow_pickle=False), np.load(target, allow_pickle=False)
    except (OSError, ValueError) as err:
        raise _bad("--data", f"{p} or {target}: cannot be read as .npy ({err})") from err
    return _numeric(x, p), np.asarray(y).reshape(-1), _names(x)


def _numeric(x: np.ndarray, p: Path) -> np.ndarray:
    if x.dtype.kind not in "fiub":
        raise _bad("--data", f"{p}: the features must be numbers, got {x.dtype}")
    return np.asarray(x, dtype=np.float64)


def _names(x: np.ndarray) -> list[str]:
    return [f"x{j}" for j in range(x.shape[1] if x.ndim == 2 else 0)]


# --------------------------------------------------------------------------- model spec


def parse_model_spec(spec: str | None) -> dict[str, Any]:
    """Keyword arguments of :func:`pyqhn.classifier.default_model` from ``--model``."""
    if spec is None or spec.strip().lower() in ("", "linear", "default"):
        return {}
    if spec.lower().endswith(".toml"):
        try:
            import tomllib
        except ImportError:  # Python 3.10
            raise _bad("--model", "a TOML model spec needs Python 3.11 or later; give the "
                       "spec as a string ('hidden=3;activations=sigmoid,relu')") from None

        try:
            raw = tomllib.loads(Path(spec).read_text())
        except FileNotFoundError:
            raise _bad("--model", f"{spec}: no such file") from None
        except (OSError, tomllib.TOMLDecodeError) as err:
            raise _bad("--model", f"{spec}: not a TOML model spec ({err})") from err
        items = raw.get("model", raw)
    else:
        items = {}
        for part in spec.replace(" ", "").split(";"):
            if not part:
                continue
            key, sep, value = part.partition("=")
            if not sep:
                raise _bad("--model", f"{part!r} is not key=value; a spec is 'linear' or "
                           "pairs such as 'hidden=3;activations=sigmoid,relu'")
            items[key] = value
    unknown = sorted(set(items) - set(MODEL_KEYS))
    if unknown:
        keys = "; ".join(f"{k} ({v})" for k, v in MODEL_KEYS.items())
        raise _bad("--model", f"unknown key(s) {', '.join(unknown)}; the keys are: {keys}")
    out: dict[str, Any] = {}
    for key, value in items.items():
        try:
            out.update(_spec_value(key, value))
        except (TypeError, ValueError) as err:
            raise _bad("--model", f"{key}={value!r}: {MODEL_KEYS[key]} ({err})") from None
    return out


def _listed(value: Any) -> list:
    if isinstance(value, str):
        return [v for v in value.split(",") if v]
    return list(value) if isinstance(value, (list, tuple)) else [value]


def _spec_value(key: str, value: Any) -> dict[str, Any]:
    if key == "hidden":
        sizes = [int(v) for v in _listed(value)]
        if any(s < 1 for s in sizes):
            raise ValueError("sizes must be positive")
        return {"hidden_layers": tuple(sizes)}
    if key == "activations":
        return {"activations": tuple(str(v) for v in _listed(value))}
    if key == "widths":
        return {"widths": tuple(int(v) for v in _listed(value))}
    if key == "encodings":
        pairs = []
        for v in _listed(value):
            lo, hi = (float(t) for t in (v.split(":") if isinstance(v, str) else v))
            if lo == hi or not (math.isfinite(lo) and math.isfinite(hi)):
                raise ValueError("need two different finite values")
            pairs.append((lo, hi))
        return {"encodings": tuple(pairs)}
    return {key: str(value)}


def load_factory(text: str) -> tuple[Any, Any]:
    """``(model, data)`` from ``--problem module:function`` (the function called without
    arguments)."""
    module_name, sep, attr = text.partition(":")
    if not sep or not module_name or not attr:
        raise _bad("--problem", f"{text!r}: give module:function, e.g. myproblems:make")
    import sys

    if "" not in sys.path:
        sys.path.insert(0, "")  # a module beside the working folder
    try:
        module = importlib.import_module(module_name)
    except ImportError as err:
        raise _bad("--problem", f"cannot import {module_name!r} ({err}); put it on "
                   "PYTHONPATH or in the working folder") from err
    factory = getattr(module, attr, None)
    if not callable(factory):
        raise _bad("--problem", f"{module_name} has no function {attr!r}")
    made = factory()
    if not (isinstance(made, tuple) and len(made) == 2):
        raise _bad("--problem", f"{text} must return (model, data), got {type(made).__name__}")
    return made


# --------------------------------------------------------------------------- training


def split_data(x: np.ndarray, y: np.ndarray, test_fraction: float | None, seed: int):
    """``(x_train, y_train, x_test, y_test)``: a seeded stratified split (scikit-learn's
    ``train_test_split``), or everything for training when ``test_fraction`` is ``None``."""
    if test_fraction is None:
        return x, y, x[:0], y[:0]
    from sklearn.model_selection import train_test_split

    _, counts = np.unique(y, return_counts=True)
    stratify = y if counts.min() >= 2 else None
    try:
        x_tr, x_te, y_tr, y_te = train_test_split(x, y, test_size=test_fraction,
                                                  random_state=seed, stratify=stratify)
        return x_tr, y_tr, x_te, y_te
    except ValueError as err:
        raise _bad("--test-fraction", str(err)) from err


def train_on_data(model: Any, x_train: np.ndarray, y_train: np.ndarray, x_test: np.ndarray,
                  y_test: np.ndarray, *, classes: np.ndarray, circuits: list[str],
                  runs: int | None, shots: int | None, optimizer: str | None,
                  epsilon: float | None, out: str, seed: int, max_iter: int | None,
                  learning_rate: float | None, progress: bool, client: Any,
                  extra: dict[str, Any], gtol: float = 1e-6,
                  batch_size: int | None = None) -> dict[str, Any]:
    """Train ``model`` on the training part (labels ``0 … k−1``), write ``summary.json`` and
    ``network.json`` into ``out`` beside the run log; returns the summary."""
    import time

    from ..classifier import EXACT_RUNS, SAMPLED_RUNS, feature_scale_problem
    from ..pipeline import Problem
    from ..runlog import write_json

    problem = Problem(model, (x_train, y_train))
    if runs is None:
        runs = EXACT_RUNS if shots is None and problem.enumerable else SAMPLED_RUNS
    scale = feature_scale_problem(x_train)
    if scale is not None:
        click.echo(f"warning: {scale}", err=True)
    t0 = time.perf_counter()
    results = problem.train(circuits, runs, shots=shots, optimizer=optimizer, epsilon=epsilon,
                            out=out, seed=seed, max_iter=max_iter, gtol=gtol,
                            batch_size=batch_size, learning_rate=learning_rate,
                            progress=progress, client=client)
    wall = time.perf_counter() - t0
    best = results.best_run()
    clf = results.best_classifier()
    train_pred = clf.predict(x_train)
    if len(np.unique(train_pred)) == 1:
        click.echo("warning: the trained network predicts one class for every training "
                   "sample; standardise the features, or try more runs or circuits", err=True)
    network = results.best_network()
    summary = dict(
        n_qubits=problem.n_bits, regime=results.regime, n_train=int(len(y_train)),
        n_test=int(len(y_test)), classes=[_plain(c) for c in classes],
        train_accuracy=float(np.mean(train_pred == y_train)),
        test_accuracy=(float(clf.score(x_test, y_test)) if len(y_test) else None),
        train_cost=results.best_cost(), best_circuit=str(best["circuit"]),
        best_run=int(best["run"]),
        best_source=str(best.get("best_source", "most-probable-exact")),
        c_star=results.c_star, epsilon=results.epsilon, runs=int(runs),
        circuits=[c.label for c in results.circuits], shots=shots, seed=seed,
        wall_time=wall, network=network["text"], **extra)
    summary["success"] = results.summary()[["runs", "successes", "success_probability"]] \
        .reset_index().to_dict(orient="records")
    write_json(Path(out) / "summary.json", summary)
    write_json(Path(out) / "network.json", dict(network, classes=summary["classes"],
                                                parameter_names=model.parameter_names(),
                                                **{k: v for k, v in extra.items()
                                                   if k in ("features", "standardize")}))
    return summary


def _plain(value: Any) -> Any:
    return value.item() if hasattr(value, "item") else value


def prepare_data(data_file: str, target: str | None, model_spec: str | None,
                 test_fraction: float | None, standardize: bool, seed: int):
    """``--data``, ``--target``, ``--model``, ``--test-fraction`` as objects: ``(model,
    x_train, y_train, x_test, y_test, classes, extra)``, labels mapped to ``0 … k−1``
    (``classes[i]`` is label ``i``), features standardised on the training part unless
    ``standardize`` is false (``extra`` records the mean and scale, the file and the
    spec)."""
    from ..classifier import default_model

    spec = parse_model_spec(model_spec)
    x, y_raw, features = load_data(data_file, target)
    classes, y = np.unique(y_raw, return_inverse=True)
    x_train, y_train, x_test, y_test = split_data(x, y.reshape(-1), test_fraction, seed)
    try:
        model = default_model(x.shape[1], len(classes), **spec)
    except ValueError as err:
        raise _bad("--model", str(err)) from err
    extra: dict[str, Any] = dict(data=str(data_file), target=target, features=features,
                                 model_spec=model_spec or "linear")
    if standardize:
        mean, scale = x_train.mean(axis=0), x_train.std(axis=0)
        scale = np.where(scale > 0, scale, 1.0)
        x_train, x_test = (x_train - mean) / scale, (x_test - mean) / scale
        extra["standardize"] = dict(mean=mean.tolist(), scale=scale.tolist())
    return model, x_train, y_train, x_test, y_test, classes, extra


def baseline_on_data(model: Any, x_train: np.ndarray, y_train: np.ndarray,
                     x_test: np.ndarray, y_test: np.ndarray, *, classes: np.ndarray,
                     methods: tuple[str, ...], runs: int, budget: int, seed: int,
                     epsilon: float | None, out: str, progress: bool, client: Any,
                     extra: dict[str, Any]) -> dict[str, Any]:
    """``pyqhn baseline --data``: the classical searches (:mod:`pyqhn.baselines`) over the
    bits of ``model`` on the training part, into the run folder ``out``; ``summary.json``
    (per method: runs, successes ``C(best) − C* < ε``, the best cost, its test accuracy) and
    ``network.json`` (the best BiNN found) beside the run log. Enumerable models only: the
    searches and ``C*`` use the ``(2**N,)`` table."""
    import pandas as pd

    from ..baselines import baseline_groups, best_over_choices
    from ..bits import index_to_bits
    from ..checks import InputError
    from ..driver import run_groups
    from ..pipeline import EXACT_MAX_QUBITS, Problem, default_epsilon
    from ..runlog import RunLog, write_json

    problem = Problem(model, (x_train, y_train))
    if not problem.enumerable:
        raise InputError(f"--model: the model has {problem.n_bits} bits, and the baselines "
                         f"search its enumerated table (at most {EXACT_MAX_QUBITS} bits): "
                         "choose a smaller model, or train it from samples with `pyqhn train "
                         "--data`")
    cost = problem.cost_table()
    c_star = float(cost.min())
    eps = default_epsilon(c_star) if epsilon is None else float(epsilon)
    groups = baseline_groups(methods, cost=cost, model=model, data=problem.dataset, runs=runs,
                             seed=seed, budget=budget)
    settings = dict(kind="baseline-data", problem=problem.fingerprint(), seed=seed,
                    budget=budget)
    with RunLog(out, settings, kind="baseline") as log:
        table = run_groups(groups, log, progress=progress, client=client)
    ste = best_over_choices(table)
    table = pd.concat([table[table["method"] != "ste"], ste] if len(ste)
                      else [table], ignore_index=True)
    table["best_cost"] = cost[table["best_index"].astype(np.int64).to_numpy()]
    rows = []
    for method, t in table.groupby("method", sort=False):
        wins = int(np.sum(t["best_cost"] - c_star < eps))
        rows.append(dict(method=str(method), runs=len(t), successes=wins,
                         success_probability=wins / len(t),
                         best_cost=float(t["best_cost"].min()),
                         mean_evaluations=float(t["n_evals"].mean())))
    best = table.loc[table["best_cost"].idxmin()]
    bits = index_to_bits(int(best["best_index"]), problem.n_bits)
    clf = problem.classifier(bits)
    network = problem.describe(bits)
    summary = dict(
        n_qubits=problem.n_bits, n_train=int(len(y_train)), n_test=int(len(y_test)),
        classes=[_plain(c) for c in classes], c_star=c_star, epsilon=eps, budget=budget,
        seed=seed, methods=rows, best_method=str(best["method"]),
        best_cost=float(best["best_cost"]),
        train_accuracy=float(np.mean(clf.predict(x_train) == y_train)),
        test_accuracy=(float(clf.score(x_test, y_test)) if len(y_test) else None),
        network=network["text"], **extra)
    write_json(Path(out) / "summary.json", summary)
    write_json(Path(out) / "network.json", dict(network, classes=summary["classes"],
                                                parameter_names=model.parameter_names(),
                                                **{k: v for k, v in extra.items()
                                                   if k in ("features", "standardize")}))
    return summary
