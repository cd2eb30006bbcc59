"""Figs. 2–5 of the paper: multi-start training of circuits on an enumerated cost table.

One shared pipeline (:func:`run_landscape`) for the four problems:

1. build the dataset and the augmented BiNN model (:mod:`pyqhn.datasets`, :mod:`pyqhn.models`);
2. enumerate the cost of all ``2**N`` BiNNs, cached in ``DIR/cost.npz`` (reruns skip it);
3. train ``R`` random initialisations of every circuit with L-BFGS through the driver
   (:func:`pyqhn.driver.circuit_groups`; batched, resumable, written to the run log
   ``DIR`` as runs finish, see :mod:`pyqhn.runlog`);
4. write ``DIR/summary.json`` (``figure, c_star, epsilon, circuits[name, runs,
   success_probability, success_interval, mean_energy, …]``) and the figure
   ``DIR/<figure>.png|pdf``.

Paper settings (``../shared/CONVENTIONS.md``), built by default as the original code built them:
fig2 N=14 (Gaussians, activation choice), fig3 N=15 (+ hidden width), both on 10,000
training points in the notebooks' bit layout (W1, W2, b2, b1, [N_hid,] activation), ε = 0.03,
product state and N_layer = 1..4 (blocks 2, 4, 6, 8); fig4 N=17 (MNIST 0 vs 1, 4×4,
logistic regression, weights in {−3, 1}: the authors' table), ε = 5e-5; fig5 N=19 (+ the
encoding, digits 3 vs 7, encoding bits last), ε = 1e-4; product and N_layer = 1..3. 200
initialisations per circuit, L-BFGS with gradient tolerance 1e-6 and at most 500
iterations. The earlier settings stay reachable: ``layout="choices-first"``,
``n_samples=1000``, ``encoding=(0, 1)``, ``digits=(0, 1)``.
"""

from __future__ import annotations

import time
from dataclasses import asdict, dataclass, field, replace
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from ..analysis import summarize_groups
from ..checks import InputError, check_int
from ..datasets import GAUSSIAN_TRAIN_SIZE
from ..models import encoding_label
from ..pipeline import Problem
from ..runlog import RunLog
from .base import execute, spec_with

__all__ = ["LandscapeSpec", "LANDSCAPE", "spec_for", "build_problem", "run_landscape",
           "plot_landscape", "layout_text"]


@dataclass(frozen=True)
class LandscapeSpec:
    """Settings of one landscape figure.

    ``blocks``: circuits, ``0`` the product state, ``b`` the brickwork with ``b`` blocks
    (N_layer = b/2). ``n_samples``: Gaussian-mixture size (ignored for MNIST; the
    notebook's 10,000 by default). ``max_per_class``: MNIST images per digit (``None``: all
    shipped images). ``digits``: the MNIST pair (label 0, label 1); fig4 0 vs 1, fig5 3 vs 7
    as in the original notebooks. ``encoding``: weight values of Fig. 4's logistic
    regression (``None``: {−3, 1}, the authors' table; see
    :data:`pyqhn.models.MNIST_ENCODINGS`). ``layout``: the model's bit layout
    (:data:`pyqhn.models.LAYOUTS`, ``"original"`` by default). ``cost_file``: use this
    ``.npz`` cost table (key ``cost``, e.g. the original authors') instead of enumerating
    the model on the shipped data. ``baselines``:
    classical searches run beside the circuits (:mod:`pyqhn.baselines`), each with
    ``baseline_budget`` cost evaluations per run. ``line_search``: L-BFGS as the original
    (``"hager-zhang"``: OptimKit's defaults, memory 8) or pyqhn 0.1's (``"armijo"``:
    backtracking Armijo, memory 10) (:func:`lbfgs_for`).
    """

    figure: str
    title: str
    model: str
    data: str
    epsilon: float
    blocks: tuple[int, ...]
    runs: int = 200
    max_iter: int = 500
    n_samples: int = GAUSSIAN_TRAIN_SIZE
    max_per_class: int | None = None
    mnist_size: int = 4
    digits: tuple[int, int] = (0, 1)
    encoding: tuple[float, float] | None = None
    layout: str = "original"
    cost_file: str | None = None
    data_seed: int = 1234
    baselines: tuple[str, ...] = ()
    baseline_budget: int = 10000
    line_search: str = "hager-zhang"
    paper: dict = field(default_factory=dict)


def lbfgs_for(spec: LandscapeSpec) -> Any:
    """The figure's L-BFGS: OptimKit's (Hager–Zhang, memory 8, the original runs') or
    pyqhn 0.1's (backtracking Armijo, memory 10)."""
    from ..optimizers import lbfgs_optimizer

    memory = 8 if spec.line_search == "hager-zhang" else 10
    return lbfgs_optimizer(max_iter=spec.max_iter, line_search=spec.line_search,
                           memory_size=memory)


_GAUSS_BLOCKS = (0, 2, 4, 6, 8)
_MNIST_BLOCKS = (0, 2, 4, 6)

LANDSCAPE: dict[str, LandscapeSpec] = {
    "fig2": LandscapeSpec(
        "fig2", "Fig. 2: Gaussian mixture, BiNN 2-3-1 with activation choice (N=14)",
        "gaussian_activation_model", "gaussian", 0.03, _GAUSS_BLOCKS,
        paper={"c_star": 0.008, "activation": "ReLU"},
    ),
    "fig3": LandscapeSpec(
        "fig3", "Fig. 3: Gaussian mixture, activation and hidden-width choice (N=15)",
        "gaussian_width_model", "gaussian", 0.03, _GAUSS_BLOCKS,
    ),
    "fig4": LandscapeSpec(
        "fig4", "Fig. 4: MNIST 0 vs 1 (4x4), logistic regression (N=17)",
        "mnist_model", "mnist", 5e-5, _MNIST_BLOCKS,
        paper={"success_probability": {"product": 0.6, "blocks=4": 0.9, "blocks=6": 0.9}},
    ),
    "fig5": LandscapeSpec(
        "fig5", "Fig. 5: MNIST 3 vs 7 (4x4), logistic regression + encoding search (N=19)",
        "mnist_encoding_model", "mnist", 1e-4, _MNIST_BLOCKS, digits=(3, 7),
    ),
}

#: CI-sized overrides (same pipeline): few runs, short L-BFGS, two circuits, small data.
_QUICK = dict(runs=6, max_iter=100, blocks=(0, 2), n_samples=200, max_per_class=100,
              baseline_budget=300)


def spec_for(figure: str, *, quick: bool = False, runs: int | None = None,
             max_iter: int | None = None, blocks: tuple[int, ...] | None = None,
             encoding: tuple[float, float] | None = None,
             cost_file: str | Path | None = None,
             baselines: tuple[str, ...] | None = None,
             baseline_budget: int | None = None,
             layout: str | None = None,
             digits: tuple[int, int] | str | None = None,
             n_samples: int | None = None,
             line_search: str | None = None) -> LandscapeSpec:
    """The settings of ``figure`` (paper-sized, or CI-sized with ``quick``) with overrides
    (``None`` keeps the figure's own value)."""
    from ..baselines import METHODS
    from ..datasets import _parse_digits
    from ..models import check_layout

    spec = spec_with(LANDSCAPE, figure, quick=quick, quick_sizes=_QUICK, runs=runs,
                     max_iter=max_iter, blocks=blocks)
    if line_search is not None:
        from ..optimizers.lbfgs import LINE_SEARCHES

        if line_search not in LINE_SEARCHES:
            raise InputError(f"--line-search {line_search!r}: choose "
                             f"{' or '.join(LINE_SEARCHES)}")
        spec = replace(spec, line_search=line_search)
    if baselines is not None:
        bad = [m for m in baselines if m not in METHODS]
        if bad or len(set(baselines)) != len(baselines):
            raise InputError(f"baselines {list(baselines)}: give each of "
                             f"{', '.join(METHODS)} at most once")
        spec = replace(spec, baselines=tuple(baselines))
    if baseline_budget is not None:
        spec = replace(spec, baseline_budget=check_int(baseline_budget, "baseline_budget",
                                                       minimum=1))
    if "ste" in spec.baselines and (cost_file is not None or spec.cost_file is not None):
        raise InputError("the ste baseline trains the model on the shipped data, so it "
                         "cannot search a given cost table; use sa, random or exhaustive "
                         "with --cost")
    if encoding is not None:
        if spec.model != "mnist_model":
            raise InputError("--encoding applies to fig4 only (fig5 searches the encoding)")
        spec = replace(spec, encoding=(float(encoding[0]), float(encoding[1])))
    if layout is not None:
        if spec.model == "mnist_model" and layout != spec.layout:
            raise InputError("--layout does not apply to fig4: its logistic regression has "
                             "no choice bit, so both layouts are the same")
        spec = replace(spec, layout=check_layout(layout))
    if digits is not None:
        if spec.data != "mnist":
            raise InputError(f"--digits applies to the MNIST figures (fig4, fig5), not "
                             f"{figure}")
        pair = _parse_digits(digits)
        spec = replace(spec, digits=pair,
                       title=spec.title.replace(f"MNIST {spec.digits[0]} vs {spec.digits[1]}",
                                                f"MNIST {pair[0]} vs {pair[1]}"))
    if n_samples is not None:
        if spec.data != "gaussian":
            raise InputError(f"--n-samples applies to the Gaussian figures (fig2, fig3), "
                             f"not {figure}; MNIST uses every shipped image of the digits")
        spec = replace(spec, n_samples=check_int(n_samples, "n_samples", minimum=1))
    if cost_file is not None:
        spec = replace(spec, cost_file=str(Path(cost_file).resolve()))
    return spec


def build_problem(spec: LandscapeSpec, *, cache: str | Path | None = None) -> Problem:
    """The dataset and augmented model of ``spec`` as a :class:`pyqhn.pipeline.Problem`
    (built by :data:`pyqhn.problems.PROBLEMS`)."""
    from ..problems import PROBLEMS

    if spec.data == "gaussian":
        options: dict[str, Any] = dict(n_samples=spec.n_samples, seed=spec.data_seed)
    else:
        options = dict(size=spec.mnist_size, digits=spec.digits,
                       max_per_class=spec.max_per_class)
        if spec.model == "mnist_model":
            options["encoding"] = spec.encoding
    built = PROBLEMS.create(_PROBLEM_OF_MODEL[spec.model], layout=spec.layout, **options)
    cost = None
    if spec.cost_file is not None:
        from ..cost import load_cost

        cost, _ = load_cost(spec.cost_file)
    return Problem(built.model, built.dataset, cache=cache, cost=cost)


#: The :data:`pyqhn.problems.PROBLEMS` name of each figure's model.
_PROBLEM_OF_MODEL = {"gaussian_activation_model": "gaussian-activation",
                     "gaussian_width_model": "gaussian-width", "mnist_model": "mnist",
                     "mnist_encoding_model": "mnist-encoding"}


def layout_text(model: Any) -> str:
    """The bit layout of an augmented model: site → parameter, per hidden width if chosen.

    Site ``j`` (1-based qubit) carries model parameter ``N − j`` (``pyqhn.bits``). With a
    width choice, parameters of hidden units beyond the width are marked ``(unused)``.
    """
    names = model.parameter_names()
    n = len(names)
    widths = getattr(model, "widths", None) or [None]
    lines = []
    for w in widths:
        lines.append("bit layout" + (f", hidden width {w}:" if w is not None else ":"))
        row = []
        for i, name in enumerate(names):
            unused = w is not None and _unit_of(name) is not None and _unit_of(name) >= w
            row.append(f"q{n - i}:{name}" + ("(x)" if unused else ""))
        lines += ["  " + "  ".join(row[k:k + 3]) for k in range(0, len(row), 3)]
    if widths != [None]:
        lines.append("(x): ignored at this width")
    return "\n".join(lines)


def _unit_of(name: str) -> int | None:
    """Hidden unit of a parameter ``W1[i,o]``, ``b1[o]`` or ``W2[o,0]`` (else ``None``)."""
    if name.startswith("W1["):
        return int(name[3:-1].split(",")[1])
    if name.startswith("b1["):
        return int(name[3:-1])
    if name.startswith("W2["):
        return int(name[3:-1].split(",")[0])
    return None


def _layout_text(problem: Problem, bits: np.ndarray) -> str:
    """Text panel: the bit layout and the model's description of the optimal bits."""
    desc = problem.describe(bits)
    text = desc.get("text", str(desc)) if isinstance(desc, dict) else str(desc)
    return layout_text(problem.model) + "\n\noptimum " + _wrap(text)


def plot_landscape(energies: dict[str, np.ndarray], cost: np.ndarray, problem: Problem | None,
                   spec: LandscapeSpec, out: Path) -> list[Path]:
    """Draw and save the figure of ``spec``; returns the PNG and PDF paths.

    ``energies``: ``{circuit name: (R,) final energies}`` in display order.
    """
    from ..plotting import save_figure
    from ..plotting.paper import landscape_figure

    kwargs: dict[str, Any] = {}
    if problem is not None:
        bits = problem.optimum_bits()
        data = problem.dataset
        if data.n_features == 2:
            kwargs["boundary"] = (problem.classifier(bits).output, data.x, data.y)
        else:
            img = _weight_image(problem, bits)
            if img is not None:
                kwargs["image"] = img
        if spec.figure == "fig3" or "image" not in kwargs and "boundary" not in kwargs:
            kwargs["text"] = _layout_text(problem, bits)
        elif spec.data == "mnist":
            kwargs["image_title"] = "optimal weights (pixels)"
    fig = landscape_figure(energies=energies, cost=cost, c_star=float(np.min(cost)),
                           epsilon=spec.epsilon, title=spec.title, **kwargs)
    return save_figure(fig, out, spec.figure)


def _wrap(text: str, width: int = 48) -> str:
    import textwrap

    return "\n".join(textwrap.fill(line, width) for line in text.splitlines())


def _weight_image(problem: Problem, bits: np.ndarray) -> np.ndarray | None:
    """The first-layer (pixel) weights of an MNIST optimum as an ``L×L`` image."""
    w = np.asarray(problem.describe(bits)["weights"][0], dtype=np.float64).ravel()
    side = int(round(np.sqrt(w.size)))
    return w.reshape(side, side) if side * side == w.size else None


def landscape_settings(spec: LandscapeSpec, seed: int, problem: Problem) -> dict:
    """What must match to resume a landscape folder: the spec without what only extends
    the sweep (runs, circuits), the seed, the optimiser and the problem's fingerprint."""

    extends = ("runs", "blocks", "baselines", "paper", "title", "epsilon")  # not a run's
    cfg = {k: v for k, v in asdict(spec).items() if k not in extends}
    opt = lbfgs_for(spec)
    return dict(cfg, seed=seed, problem=problem.fingerprint(), optimizer=opt.name,
                **{f"optimizer.{k}": v for k, v in opt.settings.items()})


def run_landscape(
    figure: str,
    out: str | Path,
    *,
    quick: bool = False,
    runs: int | None = None,
    seed: int = 0,
    max_iter: int | None = None,
    blocks: tuple[int, ...] | None = None,
    encoding: tuple[float, float] | None = None,
    cost_file: str | Path | None = None,
    batch_size: int | None = None,
    progress: bool = True,
    time_limit: float | None = None,
    baselines: tuple[str, ...] | None = None,
    baseline_budget: int | None = None,
    layout: str | None = None,
    digits: tuple[int, int] | str | None = None,
    n_samples: int | None = None,
    line_search: str | None = None,
    client: Any = None,
) -> dict:
    """Run the whole pipeline of ``figure`` (fig2..fig5) into ``out``; returns the summary.

    ``baselines`` (names of :data:`pyqhn.baselines.METHODS`) adds classical searches of
    the same bits beside the circuits, in the same runs table, summary and figure;
    ``blocks=()`` runs the baselines alone (``pyqhn baseline``). ``layout``, ``digits``,
    ``n_samples`` and ``encoding`` override the figure's problem (:func:`spec_for`).

    Writes the run log (``runlog.json``, ``runs.csv``, ``history.jsonl``, ``angles.npz``),
    ``cost.npz`` (cached enumeration), ``summary.json`` and ``<figure>.png`` / ``.pdf``.
    Calling it again resumes: the cost table and finished runs are reused.
    """
    from ..cost import save_cost
    from ..driver import circuit_groups

    spec = spec_for(figure, quick=quick, runs=runs, max_iter=max_iter, blocks=blocks,
                    encoding=encoding, cost_file=cost_file, baselines=baselines,
                    baseline_budget=baseline_budget, layout=layout, digits=digits,
                    n_samples=n_samples, line_search=line_search)
    seed = check_int(seed, "seed", minimum=0)
    out = Path(out)
    problem = build_problem(spec, cache=out / "cost.npz")

    def build(out: Path):
        cost = problem.cost_table()
        if spec.cost_file is not None:  # keep a copy of the table the runs used
            save_cost(out / "cost.npz", cost, source=spec.cost_file)
        circuits = problem.circuits(list(spec.blocks))
        groups = circuit_groups(cost, circuits, spec.runs, seed=seed,
                                optimizer=lbfgs_for(spec),
                                batch_size=batch_size)
        if spec.baselines:
            from ..baselines import baseline_groups

            groups += baseline_groups(spec.baselines, cost=cost, model=problem.model,
                                      data=problem.dataset, runs=spec.runs, seed=seed,
                                      budget=spec.baseline_budget)
        return groups, cost

    def summarise(log: RunLog, cost: np.ndarray, out: Path) -> dict:
        from ..baselines import best_over_choices

        table = log.table()
        table = table[table["run"] < spec.runs]
        blocks_shown, methods_shown = _shown_groups(table, spec)
        names = ([f"blocks={b}" if b else "product" for b in blocks_shown]
                 + list(methods_shown))
        table = pd.concat([table, best_over_choices(table)], ignore_index=True)
        table = table[table["group"].isin(names)]
        # the exhaustive search is the C* line itself (one deterministic run): table only
        energies = {k: table.loc[table["group"] == k, "e_final"].to_numpy(float)
                    for k in names if k != "exhaustive"}
        best = table.loc[table["e_final"].idxmin()]
        opt_bits = problem.optimum_bits()
        t0 = time.perf_counter()
        files = [p.name for p in plot_landscape(energies, cost, problem, spec, out)]
        return dict(
            figure=spec.figure,
            title=spec.title,
            quick=quick,
            n_qubits=problem.n_bits,
            c_star=float(np.min(cost)),
            epsilon=spec.epsilon,
            circuits=summarize_groups(table, float(np.min(cost)), spec.epsilon, names),
            optimum_index=int(np.argmin(cost)),
            optimum=_jsonable(problem.describe(opt_bits)),
            best_run=dict(circuit=str(best["circuit"]), run=int(best["run"]),
                          e_final=float(best["e_final"]),
                          most_probable_cost=float(cost[int(best["best_index"])])),
            dataset=dict(name=problem.dataset.name, n_samples=problem.dataset.n_samples),
            model=dict(layout=problem.model.layout,
                       parameter_names=problem.model.parameter_names(),
                       encodings=[encoding_label(e, mnist=spec.model == "mnist_model")
                                  for e in problem.model.encodings]),
            cost_source=spec.cost_file or "enumerated on the dataset",
            settings=dict(runs=spec.runs, max_iter=spec.max_iter, gtol=1e-6, seed=seed,
                          blocks=list(blocks_shown), baselines=list(methods_shown),
                          baseline_budget=spec.baseline_budget),
            paper=spec.paper,
            wall_time=dict(figure=time.perf_counter() - t0),
            files=["cost.npz", *files],
        )

    return execute(out, kind=spec.figure, settings=landscape_settings(spec, seed, problem),
                   build=build, summarise=summarise, progress=progress,
                   time_limit=time_limit, client=client)


def _shown_groups(table: pd.DataFrame, spec: LandscapeSpec) -> tuple[list[int], list[str]]:
    """The circuits (blocks, 0 = product) and baselines a summary shows: those ``spec``
    asks for and those earlier calls left in the folder (``pyqhn baseline`` and
    ``pyqhn reproduce`` may add to one folder, with other methods each time), in display
    order: product, brickworks by depth, then the baselines in :data:`METHODS` order."""
    from ..baselines import METHODS

    groups = set(table["group"].astype(str))
    blocks = set(spec.blocks) | {0 for g in groups if g == "product"}
    blocks |= {int(g.split("=", 1)[1]) for g in groups
               if g.startswith("blocks=") and g.split("=", 1)[1].isdigit()}
    methods = set(spec.baselines) | (groups & set(METHODS))
    if "method" in table:
        methods |= set(table["method"].dropna().astype(str)) & set(METHODS)
    return sorted(blocks), [m for m in METHODS if m in methods]


def _jsonable(obj: Any) -> Any:
    """``obj`` with NumPy scalars and arrays turned into plain JSON values."""
    if isinstance(obj, dict):
        return {str(k): _jsonable(v) for k, v in obj.items()}
    if isinstance(obj, list | tuple):
        return [_jsonable(v) for v in obj]
    if isinstance(obj, np.ndarray):
        return obj.tolist()
    if isinstance(obj, np.generic):
        return obj.item()
    if isinstance(obj, str | int | float | bool) or obj is None:
        return obj
    return str(obj)
