"""Fig. 4 against the authors' own runs (issue 27, item 3): L-BFGS variants at 4 blocks.

The authors' ``histogram_entangled_4layers.txt`` (key ``noise_free_final_energy`` of
``../shared/reference/binncode_mnist4x4_outputs.npz``) holds the final energies of their 300
OptimKit L-BFGS runs of the 4-block (N_layer = 2) circuit on their table ``Cop_4x4.txt``
(key ``cost`` of ``binncode_mnist4x4_blocks4.npz``). This script trains the same circuit on
the same table with pyqhn's L-BFGS, changing ONE setting of the optimiser at a time, and
tabulates success at ε = 5e-5 (95 % Wilson intervals), the two-proportion z test against
the authors' 300 runs, the mean excess E − C*, the iteration counts and how many runs met
the gradient tolerance.

Run: ``python scripts/fig4_optimizer_variants.py --out runs/fig4_variants
[--variants pyqhn,uncapped,...] [--runs 300] [--reference DIR] [--authors-repo DIR]``

Every variant is one resumable run folder ``OUT/<variant>`` (:func:`pyqhn.driver.
train_multistart`, runs written as they finish; rerun the command to continue). The table
is written to ``OUT/fig4_variants.md`` and ``.csv`` from every finished folder, with the
authors' 300 runs as the first row.

Also written: ``OUT/fig4_iterations.md``, the success of every variant after 50 … 500
iterations (from the run logs' value histories); and with ``--authors-repo DIR`` (a
checkout of github.com/carrasqu/binncode) ``OUT/fig4_optima.md``: the authors' 300 stored
optima (``MNIST/resilience_to_noise_optimal_parameters/4Layer/{1..30}/params.txt``, the
runs of ``histogram_entangled_4layers.txt``) beside ours: the gradient norm at the final
angles (exact engine), the share of runs that met ‖g‖ ≤ 1e-6 (OptimKit stops only there
or at ``maxiter``), how far the angles left [0, 2π), and the initial energies (their
``out.txt``) against ours (two-sample Kolmogorov–Smirnov test).

Variants (the settings of :func:`pyqhn.optimizers.lbfgs_optimizer`):

* ``pyqhn``: the defaults: OptimKit 0.3.1's LBFGS(gradtol = 1e-6, maxiter = 500), the first
  step of length 1 along −g/‖g‖, its Hager–Zhang search, with pyqhn's cap of 100
  evaluations per line search;
* ``uncapped``: no cap on line-search evaluations (OptimKit 0.3.1 has none);
* ``first-step-0.01``: the first step 0.01/‖g‖ · (−g) (OptimKit 0.4+);
* ``optimkit-0.4``: 0.4's first step and its line-search limits (10 secant² iterations,
  20 evaluations);
* ``max-iter-2000``: 2,000 iterations instead of 500;
* ``seed-1000``: the defaults from other starting points (seeds 1000 …): the spread
  between two samples of the same method.
"""

from __future__ import annotations

from pathlib import Path

import click
import numpy as np
import pandas as pd

from pyqhn.analysis import two_proportion_p, wilson_interval

EPSILON = 5e-5
BLOCKS = 4
AUTHORS_TABLE = "binncode_mnist4x4_blocks4.npz"
AUTHORS_OUTPUTS = "binncode_mnist4x4_outputs.npz"

#: variant -> (lbfgs_optimizer keyword arguments, first seed)
VARIANTS: dict[str, tuple[dict, int]] = {
    "pyqhn": ({}, 0),
    "uncapped": (dict(ls_max_evals=10**9), 0),
    "first-step-0.01": (dict(first_step=0.01), 0),
    "optimkit-0.4": (dict(first_step=0.01, ls_max_iter=10, ls_max_evals=20), 0),
    "max-iter-2000": (dict(max_iter=2000), 0),
    "seed-1000": ({}, 1000),
}


def summary_row(name: str, excess: np.ndarray, authors: np.ndarray | None,
                n_iter: np.ndarray | None = None, grad_norm: np.ndarray | None = None,
                n_evals: np.ndarray | None = None, gtol: float = 1e-6) -> dict:
    """Success at ε, its Wilson interval, the test against the authors' excesses
    ``authors`` (two proportions; and the Kolmogorov–Smirnov test of the successes' E − C*,
    i.e. how far the runs in the optimum's basin still are from it), mean excess."""
    from scipy import stats

    n = len(excess)
    k = int(np.sum(excess < EPSILON))
    lo, hi = wilson_interval(k, n)
    theirs = None if authors is None else (int(np.sum(authors < EPSILON)), len(authors))
    row = dict(variant=name, runs=n, successes=k, success=k / n, low=lo, high=hi,
               p_vs_authors=np.nan if theirs is None else two_proportion_p(k, n, *theirs),
               ks_successes_vs_authors=np.nan if authors is None else float(stats.ks_2samp(
                   excess[excess < EPSILON], authors[authors < EPSILON]).pvalue),
               mean_excess=float(np.mean(excess)), median_excess=float(np.median(excess)),
               mean_excess_of_successes=float(np.mean(excess[excess < EPSILON])))
    if n_iter is not None:
        row.update(median_iter=float(np.median(n_iter)), share_500_or_more=float(
            np.mean(n_iter >= 500)))
    if n_evals is not None:  # above max_iter + 99 no single search can have hit a cap of 100
        row.update(max_evals=int(np.max(n_evals)))
    if grad_norm is not None:
        row.update(median_grad_norm=float(np.median(grad_norm)),
                   share_grad_below_gtol=float(np.mean(grad_norm < gtol)))
    return row


def authors_excess(reference: Path) -> np.ndarray:
    """E − C* of the authors' 300 stored 4-block runs on their own table."""
    with np.load(reference / AUTHORS_TABLE) as f:
        c_star = float(f["cost"].min())
    with np.load(reference / AUTHORS_OUTPUTS) as f:
        return np.asarray(f["noise_free_final_energy"], dtype=float) - c_star


def table(out: Path, reference: Path) -> pd.DataFrame:
    theirs = authors_excess(reference)
    rows = [summary_row("authors (OptimKit 0.3.1)", theirs, None)]
    with np.load(reference / AUTHORS_TABLE) as f:
        c_star = float(f["cost"].min())
    for name in VARIANTS:
        csv = out / name / "runs.csv"
        if not csv.exists():
            continue
        runs = pd.read_csv(csv)
        rows.append(summary_row(name, runs["e_final"].to_numpy(float) - c_star, theirs,
                                runs["n_iter"].to_numpy(), runs["grad_norm"].to_numpy(),
                                runs["n_evals"].to_numpy()))
    pooled = pooled_row(out, c_star, theirs)
    if pooled is not None:
        rows.append(pooled)
    df = pd.DataFrame(rows)
    base = df[df["variant"] == "pyqhn"]
    df["p_vs_pyqhn"] = np.nan
    if len(base):  # the variants against the defaults (pooled z test)
        kb, nb = int(base["successes"].iloc[0]), int(base["runs"].iloc[0])
        for i in df.index[(df["variant"] != "pyqhn") & ~df["variant"].str.startswith(
                ("authors", "pyqhn defaults"))]:
            df.loc[i, "p_vs_pyqhn"] = two_proportion_p(int(df.loc[i, "successes"]),
                                                       int(df.loc[i, "runs"]), kb, nb)
    return df


#: folders with the default settings (different seeds), pooled with docs/depth's 500 runs
POOLED = ("pyqhn", "seed-1000")
ABLATION = Path(__file__).resolve().parents[1] / "docs" / "depth" / "depth_ablation.csv"


def pooled_row(out: Path, c_star: float, authors: np.ndarray) -> dict | None:
    """Success of every default-settings run at 4 blocks on the authors' table: the
    ``POOLED`` folders and the ``authors-table`` N_layer = 2 row of docs/depth (500 runs),
    against the authors' 300 (``None`` if none is finished)."""
    k, n = 0, 0
    for name in POOLED:
        csv = out / name / "runs.csv"
        if csv.exists():
            e = pd.read_csv(csv)["e_final"].to_numpy(float)
            k, n = k + int(np.sum(e - c_star < EPSILON)), n + len(e)
    if ABLATION.exists():
        a = pd.read_csv(ABLATION)
        row = a[(a["figure"] == "fig4") & (a["setting"] == "authors-table")
                & (a["n_layer"] == BLOCKS / 2)]
        if len(row):
            k += round(float(row["success"].iloc[0]) * int(row["runs"].iloc[0]))
            n += int(row["runs"].iloc[0])
    if n == 0:
        return None
    lo, hi = wilson_interval(k, n)
    kt = int(np.sum(authors < EPSILON))
    return dict(variant="pyqhn defaults, pooled (" + " + ".join(POOLED) + " + docs/depth)",
                runs=n, successes=k, success=k / n, low=lo, high=hi,
                p_vs_authors=two_proportion_p(k, n, kt, len(authors)),
                ks_successes_vs_authors=np.nan, mean_excess=np.nan, median_excess=np.nan,
                mean_excess_of_successes=np.nan)


def markdown(df: pd.DataFrame) -> str:
    lines = ["| variant | runs | success at ε = 5e-5 | p vs authors | p vs pyqhn | mean E − C* | "
             "median E − C* | successes' mean E − C* | KS p of successes' E − C* | "
             "median iterations | share at 500+ | share ‖g‖ < 1e-6 | "
             "most evaluations in a run |",
             "| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |"]

    def f(v, fmt):
        return "" if pd.isna(v) else format(v, fmt)

    for r in df.itertuples():
        lines.append(
            f"| {r.variant} | {r.runs} | {r.success:.3f} [{r.low:.3f}, {r.high:.3f}] | "
            f"{f(r.p_vs_authors, '.2g')} | {f(r.p_vs_pyqhn, '.2g')} | {f(r.mean_excess, '.2e')} | "
            f"{f(r.median_excess, '.2e')} | {f(r.mean_excess_of_successes, '.2e')} | "
            f"{f(r.ks_successes_vs_authors, '.2g')} | "
            f"{f(getattr(r, 'median_iter', np.nan), '.0f')} | "
            f"{f(getattr(r, 'share_500_or_more', np.nan), '.2f')} | "
            f"{f(getattr(r, 'share_grad_below_gtol', np.nan), '.2f')} | "
            f"{f(getattr(r, 'max_evals', np.nan), '.0f')} |")
    return "\n".join(lines) + "\n"


CHECKPOINTS = (50, 100, 200, 300, 400, 500)


def success_by_iteration(folder: Path, c_star: float,
                         checkpoints: tuple[int, ...] = CHECKPOINTS) -> dict[int, float]:
    """Share of runs within ε after ``k`` iterations, from ``history.jsonl`` (a run that
    stopped earlier keeps its final value)."""
    import json

    values = []
    with open(folder / "history.jsonl") as f:
        for line in f:
            h = np.asarray(json.loads(line)["f"], dtype=float)
            values.append([h[min(k, len(h) - 1)] for k in checkpoints])
    v = np.asarray(values)
    return {k: float(np.mean(v[:, i] - c_star < EPSILON)) for i, k in enumerate(checkpoints)}


def iterations_markdown(out: Path, reference: Path) -> str:
    with np.load(reference / AUTHORS_TABLE) as f:
        c_star = float(f["cost"].min())
    lines = ["| variant | " + " | ".join(f"{k} it." for k in CHECKPOINTS) + " |",
             "| --- |" + " --- |" * len(CHECKPOINTS)]
    for name in VARIANTS:
        if (out / name / "history.jsonl").exists():
            s = success_by_iteration(out / name, c_star)
            lines.append(f"| {name} | " + " | ".join(f"{s[k]:.3f}" for k in CHECKPOINTS) + " |")
    return "\n".join(lines) + "\n"


AUTHORS_RUNS = Path("MNIST/resilience_to_noise_optimal_parameters/4Layer")


def optima_stats(theta: np.ndarray, cost: np.ndarray) -> dict:
    """Gradient norms at the final angles ``(R, P)`` of the 4-block circuit, and how far
    the angles left [0, 2π)."""
    from pyqhn.circuits import brickwork_circuit
    from pyqhn.engines import get_engine

    _, g = get_engine("exact").energy_and_grad_fn(brickwork_circuit(17, BLOCKS), cost)(theta)
    gn = np.linalg.norm(np.asarray(g), axis=1)
    return dict(runs=len(theta), grad_q10=float(np.quantile(gn, 0.1)),
                grad_median=float(np.median(gn)), grad_q90=float(np.quantile(gn, 0.9)),
                share_grad_at_gtol=float(np.mean(gn <= 1e-6)),
                share_angles_outside=float(np.mean((theta < 0) | (theta >= 2 * np.pi))),
                angle_min=float(theta.min()), angle_max=float(theta.max()))


def optima_markdown(out: Path, reference: Path, authors_repo: Path) -> str:
    """The authors' 300 stored optima beside each finished variant's (see the module
    docstring)."""
    from scipy import stats

    with np.load(reference / AUTHORS_TABLE) as f:
        cost = np.asarray(f["cost"], dtype=float)
    folders = [authors_repo / AUTHORS_RUNS / str(i) for i in range(1, 31)]
    params = np.concatenate([np.loadtxt(d / "params.txt", ndmin=2) for d in folders])
    inits = np.array([float(line.split("=")[1]) for d in folders
                      for line in (d / "out.txt").read_text().splitlines() if "=" in line])
    rows = [("authors (OptimKit 0.3.1)", optima_stats(params[:, :-1], cost), inits)]
    for name in VARIANTS:
        if (out / name / "angles.npz").exists():
            with np.load(out / name / "angles.npz") as f:
                theta = np.asarray(f[f"blocks={BLOCKS}"], dtype=float)
            runs = pd.read_csv(out / name / "runs.csv")
            rows.append((name, optima_stats(theta, cost), runs["e_init"].to_numpy(float)))
    lines = ["| runs of | runs | ‖g‖ at the end: 10 % / median / 90 % | share ‖g‖ ≤ 1e-6 | "
             "angles outside [0, 2π) | angle range | initial E: mean ± sd | KS p vs authors |",
             "| --- | --- | --- | --- | --- | --- | --- | --- |"]
    for name, st, e0 in rows:
        ks = "" if name.startswith("authors") else f"{stats.ks_2samp(inits, e0).pvalue:.2f}"
        lines.append(
            f"| {name} | {st['runs']} | {st['grad_q10']:.1e} / {st['grad_median']:.1e} / "
            f"{st['grad_q90']:.1e} | {st['share_grad_at_gtol']:.2f} | "
            f"{st['share_angles_outside']:.3f} | {st['angle_min']:.1f} … {st['angle_max']:.1f} "
            f"| {e0.mean():.3f} ± {e0.std():.3f} | {ks} |")
    return "\n".join(lines) + "\n"


@click.command()
@click.option("--out", required=True, type=click.Path(file_okay=False))
@click.option("--variants", "names", default="pyqhn", show_default=True,
              help=f"Comma-separated, from {', '.join(VARIANTS)}.")
@click.option("--runs", default=300, show_default=True, type=click.IntRange(min=1))
@click.option("--reference", default="../shared/reference", show_default=True,
              type=click.Path(file_okay=False), help="Folder of the authors' artifacts.")
@click.option("--authors-repo", default=None, type=click.Path(file_okay=False, exists=True),
              help="A checkout of github.com/carrasqu/binncode: compare the stored optima.")
@click.option("--table-only", is_flag=True, help="Only tabulate finished folders.")
def main(out: str, names: str, runs: int, reference: str, authors_repo: str | None,
         table_only: bool) -> None:
    variants = [v.strip() for v in names.split(",") if v.strip()]
    bad = [v for v in variants if v not in VARIANTS]
    if bad:
        raise click.BadParameter(f"unknown {', '.join(bad)}; choose from {', '.join(VARIANTS)}",
                                 param_hint="--variants")
    ref = Path(reference)
    for name in (AUTHORS_TABLE, AUTHORS_OUTPUTS):
        if not (ref / name).is_file():
            raise click.BadParameter(f"{ref / name} not found; pass --reference DIR",
                                     param_hint="--reference")
    root = Path(out)
    if not table_only:
        from pyqhn.circuits import brickwork_circuit
        from pyqhn.driver import train_multistart
        from pyqhn.optimizers import lbfgs_optimizer

        with np.load(ref / AUTHORS_TABLE) as f:
            cost = np.asarray(f["cost"], dtype=float)
        circuit = brickwork_circuit(17, BLOCKS)
        for name in variants:
            kwargs, seed = VARIANTS[name]
            click.echo(f"== {name}")
            train_multistart(cost, [circuit], runs, out=root / name, seed=seed,
                             optimizer=lbfgs_optimizer(**kwargs), progress=False)
    df = table(root, ref)
    root.mkdir(parents=True, exist_ok=True)
    df.to_csv(root / "fig4_variants.csv", index=False)
    (root / "fig4_variants.md").write_text(markdown(df))
    click.echo(markdown(df))
    (root / "fig4_iterations.md").write_text(iterations_markdown(root, ref))
    click.echo(iterations_markdown(root, ref))
    if authors_repo is not None:
        text = optima_markdown(root, ref, Path(authors_repo))
        (root / "fig4_optima.md").write_text(text)
        click.echo(text)


if __name__ == "__main__":
    main()
