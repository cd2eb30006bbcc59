"""The ``pyqhn`` command line. Each command lives in its own module of this package."""

from __future__ import annotations

import click


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(package_name="pyqhn")
def main() -> None:
    """Quantum hypernetworks: train circuits whose outcomes are binary neural networks."""


def _register() -> None:
    # One line per command module; each module defines a click command or group.
    from . import circuit_commands, problem_commands, reproduce, reproduce_appendix

    del reproduce_appendix  # imported for its side effect: fig8-fig13 join `reproduce`

    main.add_command(circuit_commands.energy)
    main.add_command(circuit_commands.train)
    main.add_command(reproduce.reproduce)
    main.add_command(problem_commands.enumerate_cmd)
    main.add_command(problem_commands.fourier)


_register()
