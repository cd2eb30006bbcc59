"""``pyqhn reproduce fig8 … fig13``: the appendix figures (gradient-free and noisy runs).

Attached to the ``reproduce`` group of :mod:`pyqhn.cli.reproduce`. Each command writes into
``--out``: ``runs.csv`` (one tidy row per run, written as runs finish; rerun to resume),
``samples.jsonl``, ``cost.npz``, the figure as PNG and PDF and ``summary.json``. Defaults
are paper-sized (hours); ``--quick`` runs the same pipeline CI-sized (3×3 MNIST, N = 10).
"""

from __future__ import annotations

import click

from .reproduce import _echo_summary, reproduce

_DOCS = {
    "fig8": "Fig. 8: gradient-free runs vs depth, final-energy KDE and success (ε=5e-4).",
    "fig9": "Fig. 9: gradient-free runs vs depth, sampled-energy histograms.",
    "fig10": "Fig. 10: noise sweep p=0.2..2.0 of noise-free optima at fixed depth.",
    "fig11": "Fig. 11: noise sweep p=0.2..2.0 of noisy gradient-free optimisation.",
    "fig12": "Fig. 12: noisy (p=1) gradient-free runs vs depth (ε=1.5e-2).",
    "fig13": "Fig. 13: noisy (p=1) gradient-free runs vs depth, sampled energies.",
}

_PAPER_RUNS = {"fig8": 300, "fig9": 300, "fig10": 100, "fig11": 10, "fig12": 300, "fig13": 300}


def _appendix_command(figure: str) -> click.Command:
    doc = _DOCS[figure]

    @click.command(figure, help=doc, short_help=doc.split(": ", 1)[1][:60])
    @click.option("--quick", is_flag=True, help="CI-sized run (under a minute on 2 cores).")
    @click.option("--runs", type=int, default=None,
                  help=f"Runs per circuit / noise level (paper {_PAPER_RUNS[figure]}).")
    @click.option("--seed", type=int, default=0, show_default=True,
                  help="Run r starts from seed + r.")
    @click.option("--max-steps", type=int, default=None,
                  help="Direct-search steps per run (paper 2000).")
    @click.option("--batch-size", type=int, default=None,
                  help="Runs optimised in lockstep (default: all on a GPU, 8 on a CPU).")
    @click.option("--out", required=True, type=click.Path(file_okay=False),
                  help="Output folder (created; rerun to resume).")
    @click.option("--no-progress", is_flag=True, help="Hide progress bars.")
    def cmd(quick: bool, runs: int | None, seed: int, max_steps: int | None,
            batch_size: int | None, out: str, no_progress: bool) -> None:
        from ..experiments.appendix import run_appendix

        try:
            summary = run_appendix(figure, out, quick=quick, runs=runs, seed=seed,
                                   max_steps=max_steps, batch_size=batch_size,
                                   progress=not no_progress)
        except ValueError as err:
            raise click.ClickException(str(err)) from err
        _echo_summary(summary, out)

    return cmd


for _fig in _DOCS:
    reproduce.add_command(_appendix_command(_fig))
