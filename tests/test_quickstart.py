"""The README's quick start runs as written and prints what the README shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"


def _blocks() -> tuple[str, str]:
    text = README.read_text()
    section = text.split("## Quick start", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"It prints.*?```\n(.*?)```", section, re.S).group(1)
    return code, shown


def test_readme_quick_start_runs_and_matches_its_shown_output():
    code, shown = _blocks()
    assert len(code.strip().splitlines()) <= 10
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "__quickstart__"})
    printed = out.getvalue()
    accuracy = float(re.search(r"test accuracy ([0-9.]+)", printed).group(1))
    assert 0.5 < accuracy <= 1.0
    # seeded: the README shows the real output (compared line by line, spacing aside)
    assert [line.split() for line in printed.strip().splitlines()] == [
        line.split() for line in shown.strip().splitlines()]
