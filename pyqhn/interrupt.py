"""Cooperative stop requests: Ctrl-C stops a sweep between optimiser steps, never inside a
compiled call (a ``KeyboardInterrupt`` raised inside JAX/XLA left the interpreter to crash
at exit).

The driver (:mod:`pyqhn.driver`) checks :func:`stop_requested` after every optimiser step
and between batches; finished runs are already in the run log. The command line installs
:func:`install_sigint_handler` first thing, so the first Ctrl-C asks for a stop and a
second one quits at once. This module imports nothing heavy, so that the handler is in
place within milliseconds of the start.
"""

from __future__ import annotations

import os
import signal
import sys
import threading

__all__ = ["Interrupted", "request_stop", "stop_requested", "clear_stop", "install_sigint_handler"]

_STOP = threading.Event()


class Interrupted(KeyboardInterrupt):
    """A sweep stopped on request; every finished run is in its run log."""


def request_stop() -> None:
    """Ask a running sweep to stop at its next step (safe from a signal handler)."""
    _STOP.set()


def stop_requested() -> bool:
    """Whether :func:`request_stop` was called since the last :func:`clear_stop`."""
    return _STOP.is_set()


def clear_stop() -> None:
    """Forget an earlier :func:`request_stop`."""
    _STOP.clear()


def _on_sigint(signum, frame) -> None:
    if stop_requested():
        sys.stderr.write("\nsecond interrupt: quitting now\n")
        sys.stderr.flush()
        os._exit(130)
    request_stop()
    sys.stderr.write("\ninterrupt: stopping at the next step; finished runs are kept "
                     "(Ctrl-C again to quit at once)\n")
    sys.stderr.flush()


def install_sigint_handler() -> None:
    """Make SIGINT (Ctrl-C) a stop request (main thread only; a no-op elsewhere)."""
    if threading.current_thread() is threading.main_thread():
        signal.signal(signal.SIGINT, _on_sigint)
