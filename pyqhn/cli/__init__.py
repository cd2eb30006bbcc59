"""The ``pyqhn`` command line: strings become objects here, and nothing else happens here.

Every command is a :class:`Command`: a :class:`pyqhn.checks.InputError` (a bad file, a
folder made with other settings, a folder another process is writing) becomes a usage
error with exit code 2; a fault (:class:`pyqhn.checks.Fault`: a missing extra, a lost
cluster; an ``OSError`` such as a full disk; the Julia stack unavailable) is one sentence
and exit code 1, never a traceback. The entry point (:mod:`pyqhn.__main__`) makes Ctrl-C a stop
request (:mod:`pyqhn.interrupt`): the running sweep stops at its next step, finished runs
are in the run log, the command exits with code 130 and the same command resumes. A
second Ctrl-C quits at once.
"""

from __future__ import annotations

import click

from .command import Command, CommandGroup

__all__ = ["main", "Command", "CommandGroup"]


@click.group(cls=CommandGroup, context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pyqhn")
def main() -> None:
    """Quantum hypernetworks: train circuits whose outcomes are binary neural networks."""


def _register() -> None:
    # One line per command module; each module defines click commands.
    from . import baseline_commands, circuit_commands, doctor_commands, problem_commands, reproduce

    main.add_command(circuit_commands.energy)
    main.add_command(circuit_commands.train)
    main.add_command(reproduce.reproduce)
    main.add_command(problem_commands.enumerate_cmd)
    main.add_command(problem_commands.fourier)
    main.add_command(baseline_commands.baseline)
    main.add_command(doctor_commands.doctor)

    from .benchmark_commands import benchmark

    main.add_command(benchmark)


_register()
