"""The estimator quick start ("Your own data" in docs/guide/problems.md, where the README
links to) runs as written and prints what the page shows."""

from __future__ import annotations

import contextlib
import io
import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "docs" / "guide" / "problems.md"


def test_readme_estimator_quick_start_runs_and_matches_its_shown_output():
    section = README.read_text().split("## Your own data", 1)[1].split("\n## ", 1)[0]
    code = re.search(r"```python\n(.*?)```", section, re.S).group(1)
    shown = re.search(r"It prints.*?```\n(.*?)```", section, re.S).group(1)
    assert len(code.strip().splitlines()) <= 10
    out = io.StringIO()
    with contextlib.redirect_stdout(out):
        exec(compile(code, str(README), "exec"), {"__name__": "__quickstart__"})
    printed = out.getvalue()
    assert float(re.search(r"test accuracy ([0-9.]+)", printed).group(1)) > 0.9
    assert [line.split() for line in printed.strip().splitlines()] == [
        line.split() for line in shown.strip().splitlines()]
