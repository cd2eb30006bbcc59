"""The command classes every ``pyqhn`` command uses (here, not in ``cli/__init__``, so that
the command modules import them without importing the package that registers them).
``CommandGroup``, not ``Group``: the one ``Group`` of the package is the driver's."""

from __future__ import annotations

import click

from ..checks import InputError

__all__ = ["Command", "CommandGroup"]


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


class CommandGroup(click.Group):
    """A click group whose commands are :class:`Command`."""

    command_class = Command
