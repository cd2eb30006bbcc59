"""``python -m pyqhn`` and the ``pyqhn`` command: Ctrl-C handling first, then the CLI."""

from __future__ import annotations


def run() -> None:
    """Entry point: install the Ctrl-C handler before anything slow is imported."""
    from .interrupt import install_sigint_handler

    install_sigint_handler()
    from .cli import main

    main()


if __name__ == "__main__":
    run()
