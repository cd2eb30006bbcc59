"""Figs. 2–5 of the paper: multi-start training of circuits on an enumerated cost table.

One shared pipeline (:meth:`MultistartSpec.run`) for the four problems:

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

import re
import time
from dataclasses import asdict, dataclass
from pathlib import Path
from typing import Any, ClassVar

import numpy as np
import pandas as pd

from ..analysis import summarize_groups
from ..checks import InputError
from ..datasets import GAUSSIAN_TRAIN_SIZE
from ..models import encoding_label
from ..pipeline import Problem
from ..runlog import RunLog
from .base import (
    ExperimentSpec,
    RunSummary,
    circuit_lines,
    encoding_setting,
    execute,
    headline,
    layout_setting,
    seed_setting,
    setting,
)

__all__ = ["MultistartSpec", "MULTISTART", "build_problem", "plot_landscape", "layout_text"]


@dataclass(frozen=True)
class MultistartSpec(ExperimentSpec):
    """Settings of one multi-start figure (:meth:`run` runs it).

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
    ``baseline_budget`` cost evaluations per run; ``blocks=()`` runs the baselines alone
    (``pyqhn baseline``). ``line_search``: L-BFGS as the original
    (``"hager-zhang"``: OptimKit's defaults, memory 8) or pyqhn 0.1's (``"armijo"``:
    backtracking Armijo, memory 10) (:func:`lbfgs_for`). Run ``r`` starts from
    ``seed + r``; ``batch_size`` runs are optimised together (``None``: all on a GPU, 8 on
    a CPU).
    """

    figure: str = setting()
    title: str = setting()
    model: str = setting()
    data: str = setting(choices=("gaussian", "mnist"))
    epsilon: float = setting(minimum=0.0)
    blocks: tuple[int, ...] = setting(minimum=0, distinct=True)
    runs: int = setting(200, option="--runs", help="Initialisations per circuit", minimum=1)
    max_iter: int = setting(500, option="--max-iter", help="L-BFGS iteration budget",
                            minimum=0)
    n_samples: int = setting(GAUSSIAN_TRAIN_SIZE, option="--n-samples",
                             help="Gaussian training points", minimum=1)
    max_per_class: int | None = setting(None, minimum=1)
    mnist_size: int = setting(4, minimum=1)
    digits: tuple[int, int] = setting((0, 1), option="--digits",
                                      help="MNIST digit pair 'a,b', b → label 1",
                                      minimum=0, maximum=9, distinct=True)
    encoding: tuple[float, float] | None = encoding_setting()
    layout: str = layout_setting()
    cost_file: str | None = setting(None, option="--cost", cost_table=True,
                                    help="Train on this cost table (.npz key 'cost', e.g. "
                                         "the original authors') instead of enumerating "
                                         "the model on the shipped data")
    data_seed: int = setting(1234, minimum=0)
    baselines: tuple[str, ...] = setting(
        (), option="--baselines", all_flag=True, choices="pyqhn.baselines:METHODS",
        distinct=True, help="Also run the classical baselines (sa, random, ste, exhaustive) "
                            "on the same bits; their rows join the table and the success "
                            "panel")
    baseline_budget: int = setting(10000, minimum=1)
    line_search: str = setting("hager-zhang", option="--line-search",
                               choices="pyqhn.optimizers.lbfgs:LINE_SEARCHES",
                               help="L-BFGS line search: hager-zhang (the original's "
                                    "OptimKit defaults, memory 8) or armijo (pyqhn 0.1's "
                                    "backtracking, memory 10)")
    paper: dict = setting(default_factory=dict)
    seed: int = seed_setting()
    batch_size: int | None = setting(None, option="--batch-size", minimum=1,
                                     help="Runs optimised together (default: all on a GPU, "
                                          "8 on a CPU)")
    quick_run: bool = setting(False)

    #: CI-sized values (same pipeline): few runs, short L-BFGS, two circuits, small data.
    QUICK: ClassVar[dict] = dict(runs=6, max_iter=100, blocks=(0, 2), n_samples=200,
                                 max_per_class=100, baseline_budget=300)

    def inapplicable(self, name: str) -> str | None:
        if name == "encoding" and self.model != "mnist_model":
            return "applies to fig4 only (fig5 searches the encoding)"
        if name == "layout" and self.model == "mnist_model":
            return ("does not apply to fig4: its logistic regression has no choice bit, so "
                    "both layouts are the same")
        if name == "digits" and self.data != "mnist":
            return f"applies to the MNIST figures (fig4, fig5), not {self.figure}"
        if name == "n_samples" and self.data != "gaussian":
            return (f"applies to the Gaussian figures (fig2, fig3), not {self.figure}; MNIST "
                    "uses every shipped image of the digits")
        return None

    def _check(self) -> None:
        if "ste" in self.baselines and self.cost_file is not None:
            raise InputError("the ste baseline trains the model on the shipped data, so it "
                             "cannot search a given cost table; use sa, random or exhaustive "
                             "with --cost")
        if self.data == "mnist":  # the title names the digits
            object.__setattr__(self, "title", re.sub(
                r"MNIST \d+ vs \d+", f"MNIST {self.digits[0]} vs {self.digits[1]}",
                self.title))

    def run(self, out: str | Path, *, progress: bool = True, time_limit: float | None = None,
            client: Any = None) -> RunSummary:
        """Run the whole pipeline into ``out``; returns the summary.

        Writes the run log (``runlog.json``, ``runs.csv``, ``history.jsonl``,
        ``angles.npz``), ``cost.npz`` (cached enumeration), ``summary.json`` and
        ``<figure>.png`` / ``.pdf``. Calling it again resumes: the cost table and finished
        runs are reused.
        """
        return _run_multistart(self, Path(out), progress=progress, time_limit=time_limit,
                              client=client)


def lbfgs_for(spec: MultistartSpec) -> Any:
    """The figure's L-BFGS: OptimKit's (Hager–Zhang, memory 8, the original runs') or
    pyqhn 0.1's (backtracking Armijo, memory 10)."""
    from ..optimizers import lbfgs_optimizer

    memory = 8 if spec.line_search == "hager-zhang" else 10
    return lbfgs_optimizer(max_iter=spec.max_iter, line_search=spec.line_search,
                           memory_size=memory)


_GAUSS_BLOCKS = (0, 2, 4, 6, 8)
_MNIST_BLOCKS = (0, 2, 4, 6)

MULTISTART: dict[str, MultistartSpec] = {
    "fig2": MultistartSpec(
        "fig2", "Fig. 2: Gaussian mixture, BiNN 2-3-1 with activation choice (N=14)",
        "gaussian_activation_model", "gaussian", 0.03, _GAUSS_BLOCKS,
        paper={"c_star": 0.008, "activation": "ReLU"},
    ),
    "fig3": MultistartSpec(
        "fig3", "Fig. 3: Gaussian mixture, activation and hidden-width choice (N=15)",
        "gaussian_width_model", "gaussian", 0.03, _GAUSS_BLOCKS,
    ),
    "fig4": MultistartSpec(
        "fig4", "Fig. 4: MNIST 0 vs 1 (4x4), logistic regression (N=17)",
        "mnist_model", "mnist", 5e-5, _MNIST_BLOCKS,
        paper={"success_probability": {"product": 0.6, "blocks=4": 0.9, "blocks=6": 0.9}},
    ),
    "fig5": MultistartSpec(
        "fig5", "Fig. 5: MNIST 3 vs 7 (4x4), logistic regression + encoding search (N=19)",
        "mnist_encoding_model", "mnist", 1e-4, _MNIST_BLOCKS, digits=(3, 7),
    ),
}


def build_problem(spec: MultistartSpec, *, cache: str | Path | None = None) -> Problem:
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
                   spec: MultistartSpec, out: Path) -> list[Path]:
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


def multistart_settings(spec: MultistartSpec, problem: Problem) -> dict:
    """What must match to resume a multi-start folder: the spec without what only extends
    the sweep (runs, circuits) or does not change a run (batch size), the seed, the
    optimiser and the problem's fingerprint."""

    extends = ("runs", "blocks", "baselines", "paper", "title", "epsilon",  # not a run's
               "seed", "batch_size", "quick_run")
    cfg = {k: v for k, v in asdict(spec).items() if k not in extends}
    opt = lbfgs_for(spec)
    return dict(cfg, seed=spec.seed, problem=problem.fingerprint(), optimizer=opt.name,
                **{f"optimizer.{k}": v for k, v in opt.settings.items()})


def _run_multistart(spec: MultistartSpec, out: Path, *, progress: bool,
                   time_limit: float | None, client: Any) -> RunSummary:
    from ..cost import save_cost
    from ..driver import circuit_groups

    problem = build_problem(spec, cache=out / "cost.npz")
    seed = spec.seed

    def build(out: Path):
        cost = problem.cost_table()
        if spec.cost_file is not None:  # keep a copy of the table the runs used
            save_cost(out / "cost.npz", cost, source=spec.cost_file)
        circuits = problem.circuits(list(spec.blocks))
        groups = circuit_groups(cost, circuits, spec.runs, seed=seed,
                                optimizer=lbfgs_for(spec),
                                batch_size=spec.batch_size)
        if spec.baselines:
            from ..baselines import baseline_groups

            groups += baseline_groups(spec.baselines, cost=cost, model=problem.model,
                                      data=problem.dataset, runs=spec.runs, seed=seed,
                                      budget=spec.baseline_budget)
        return groups, cost

    def summarise(log: RunLog, cost: np.ndarray, out: Path) -> RunSummary:
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
        c_star = float(np.min(cost))
        circuits = summarize_groups(table, c_star, spec.epsilon, names)
        return RunSummary(
            figure=spec.figure, quick=spec.quick_run, c_star=c_star, epsilon=spec.epsilon,
            circuits=circuits,
            details=dict(
                title=spec.title,
                n_qubits=problem.n_bits,
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
                paper=spec.paper),
            report=[headline(spec.figure, c_star, spec.epsilon), *circuit_lines(circuits)],
            wall_time=dict(figure=time.perf_counter() - t0),
            files=["cost.npz", *files],
        )

    return execute(out, kind=spec.figure, settings=multistart_settings(spec, problem),
                   build=build, summarise=summarise, progress=progress,
                   time_limit=time_limit, client=client)


def _shown_groups(table: pd.DataFrame, spec: MultistartSpec) -> tuple[list[int], list[str]]:
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
