"""``pyqhn reproduce`` interrupted at random moments (SIGINT, SIGKILL) resumes to the
summary of an uninterrupted run, and Ctrl-C never crashes the interpreter."""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from pathlib import Path

import numpy as np
import pytest

ARGS = ["reproduce", "fig2", "--quick", "--runs", "3", "--max-iter", "25", "--no-progress",
        "--batch-size", "2"]


def _run(out: Path, signum: int | None = None, delay: float = 0.0) -> tuple[int, str]:
    cmd = [sys.executable, "-m", "pyqhn", *ARGS, "--out", str(out)]
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    if signum is not None:
        time.sleep(delay)
        proc.send_signal(signum)
    out_text, _ = proc.communicate(timeout=300)
    return proc.returncode, out_text


def _summary(out: Path) -> dict:
    s = json.loads((out / "summary.json").read_text())
    s.pop("wall_time")
    for c in s["circuits"]:
        c.pop("seconds_per_run", None)
    return s


@pytest.fixture(scope="module")
def reference(tmp_path_factory) -> dict:
    out = tmp_path_factory.mktemp("reference")
    rc, text = _run(out)
    assert rc == 0, text
    return _summary(out)


@pytest.mark.parametrize("signum", [signal.SIGINT, signal.SIGKILL], ids=["SIGINT", "SIGKILL"])
def test_interrupted_reproduce_resumes_to_the_same_summary(tmp_path, reference, signum):
    # one moment in the first second (compilation, where Ctrl-C used to segfault) and one
    # drawn at random over the run
    delays = [0.6, float(np.random.default_rng(int(signum)).uniform(1.0, 7.0))]
    for i, delay in enumerate(delays):
        out = tmp_path / f"run{i}"
        rc, text = _run(out, signum, float(delay))
        if signum == signal.SIGINT:
            # a clean stop (130) or a run that had finished (0); never a crash (-11, 139)
            assert rc in (0, 130), f"rc {rc} after SIGINT at {delay:.2f} s:\n{text}"
            if rc == 130:
                assert "run the same command again" in text
        else:
            assert rc in (0, -signal.SIGKILL), text
        rc, text = _run(out)  # resume
        assert rc == 0, text
        assert _summary(out) == reference, f"after a signal at {delay:.2f} s"
