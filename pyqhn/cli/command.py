"""The command classes every ``pyqhn`` command uses (here, not in ``cli/__init__``, so that
the command modules import them without importing the package that registers them).
``CommandGroup``, not ``Group``: the one ``Group`` of the package is the driver's."""

from __future__ import annotations

import click

from ..checks import Fault, InputError

__all__ = ["Command", "CommandGroup"]


class Command(click.Command):
    """A click command whose input errors are usage errors (exit 2), whose faults are one
    sentence (exit 1) and whose interrupts end cleanly (exit 130)."""

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
        except Fault as err:
            _fail(str(err))
        except OSError as err:  # a full disk, a vanished folder: what and where
            where = f"{err.filename}: " if err.filename else ""
            _fail(f"{where}{err.strerror or err}; nothing finished is lost: fix this and run "
                  "the same command again to resume")
        except RuntimeError as err:
            from ..engines.julia_setup import JuliaUnavailable

            if not isinstance(err, JuliaUnavailable):
                raise
            _fail(f"{err}")
        finally:
            clear_stop()


def _fail(message: str) -> None:
    """Print ``Error: message`` on one line and exit with code 1 (a fault, not a usage
    error)."""
    click.echo("Error: " + " ".join(message.split()), err=True)
    raise SystemExit(1)


class CommandGroup(click.Group):
    """A click group whose commands are :class:`Command`."""

    command_class = Command
