"""The ``pyqhn`` command line: strings become objects here, and nothing else happens here.

Every command is a :class:`Command`: a :class:`pyqhn.checks.InputError` (a bad file, a
folder made with other settings, a folder another process is writing) becomes a usage
error with exit code 2. The entry point (:mod:`pyqhn.__main__`) makes Ctrl-C a stop
request (:mod:`pyqhn.interrupt`): the running sweep stops at its next step, finished runs
are in the run log, the command exits with code 130 and the same command resumes. A
second Ctrl-C quits at once.
"""

from __future__ import annotations

import click

from ..checks import InputError

__all__ = ["main", "Command"]


class Command(click.Command):
    """A click command whose input errors are usage errors (exit 2) and whose interrupts
    end cleanly (exit 130)."""

    def invoke(self, ctx: click.Context):
        from ..driver import Interrupted
        from ..interrupt import clear_stop, stop_requested

        try:
            if stop_requested():  # Ctrl-C while the command line was being read
                raise Interrupted("stopped before starting")
            return super().invoke(ctx)
        except Interrupted:
            click.echo("interrupted: the finished runs are saved; run the same command again "
                       "to resume", err=True)
            ctx.exit(130)
        except InputError as err:
            raise click.UsageError(str(err), ctx=ctx) from err
        finally:
            clear_stop()


class Group(click.Group):
    """A click group whose commands are :class:`Command`."""

    command_class = Command


@click.group(cls=Group, context_settings={"help_option_names": ["-h", "--help"]})
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
