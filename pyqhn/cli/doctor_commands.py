"""``pyqhn doctor``: what the optional Julia stack has and lacks, and its installation."""

from __future__ import annotations

import click

from .command import Command


@click.command(cls=Command)
@click.option("--install", is_flag=True,
              help="Let juliacall install what is missing (a Julia, the packages of "
                   "pyqhn/juliapkg.json); needs internet, several minutes the first time.")
@click.option("--check", is_flag=True,
              help="Start Julia and compare its energies with the exact engine on a small "
                   "circuit (noise-free and noisy).")
def doctor(install: bool, check: bool) -> None:
    """Report the Julia engine's set-up; exit code 1 while it is unavailable or an install
    fails (one sentence with the cause and the install log)."""
    from ..engines.julia_setup import (
        JuliaInstallFailed,
        install_julia_stack,
        install_log_path,
        julia_status,
    )

    status = julia_status()
    if install:
        log = install_log_path(status)
        if status.installable:
            click.echo(f"install: juliacall installs what is missing (several minutes the "
                       f"first time); its output goes to {log}", err=True)
        try:
            status = install_julia_stack(log)
        except JuliaInstallFailed as err:
            click.echo(f"install: {err}.", err=True)
            raise SystemExit(1) from None
        except RuntimeError as err:
            click.echo(f"install: {err}", err=True)
    for line in status.lines():
        click.echo(line)
    if not status.ready:
        raise SystemExit(1)
    if check:
        worst = _cross_check()
        click.echo(f"check             largest |E_julia - E_python| = {worst:.2e} "
                   f"({'ok' if worst < 1e-8 else 'MISMATCH'})")
        if worst >= 1e-8:
            raise SystemExit(1)


def _cross_check() -> float:
    """Largest energy difference, Julia vs Python, on a 5-qubit 3-block circuit."""
    import numpy as np

    from ..circuits import brickwork_circuit, random_params
    from ..engines import get_engine
    from ..noise import NoiseModel

    circuit = brickwork_circuit(5, 3)
    theta = random_params(circuit, 3, seed=1)
    cost = np.random.default_rng(2).random(2**circuit.n_qubits)
    noise = NoiseModel.from_strength(10.0)
    pairs = [(get_engine("julia"), get_engine("exact")),
             (get_engine("julia", noise=noise), get_engine("density", noise=noise))]
    return max(float(np.abs(j.energy(circuit, theta, cost) - p.energy(circuit, theta, cost))
                     .max()) for j, p in pairs)
