import os
import pty
import select
import subprocess
import sys
import time
from pathlib import Path

import pytest

import outopt

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
GAP_DIR = Path(os.environ.get("OUTOPT_GAP_DIR", ROOT.parent / "shared" / "gap"))


def run_cli(*args, timeout=120) -> subprocess.CompletedProcess:
    """Run the outopt command in a real subprocess (so stdout, stderr and exit codes are the real ones).

    Its environment is this process's, passed whole: a pytest run's children otherwise see a ``COLUMNS=80``
    that is not in ``os.environ`` (tables written to a pipe take their width from ``COLUMNS``, 120 without)."""
    return subprocess.run([sys.executable, "-m", "outopt", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env=dict(os.environ))


def on_terminal(*args, timeout: float = 120, react=None, env=None) -> tuple[int, str]:
    """Run ``outopt ARGS`` with stdout and stderr on a pseudo-terminal, as a planner would: the exit code
    and everything shown. ``react(shown, proc)`` is called after each read (to press Ctrl-C, say)."""
    master, slave = pty.openpty()
    proc = subprocess.Popen([sys.executable, "-m", "outopt", *map(str, args)], stdin=subprocess.DEVNULL,
                            stdout=slave, stderr=slave, env={**os.environ, **(env or {})})
    os.close(slave)
    shown = b""
    deadline = time.monotonic() + timeout
    try:
        while time.monotonic() < deadline:
            ready, _, _ = select.select([master], [], [], 0.2)
            if ready:
                try:
                    chunk = os.read(master, 65536)
                except OSError:  # the child closed the terminal
                    break
                if not chunk:
                    break
                shown += chunk
            if react is not None:
                react(shown, proc)
        return proc.wait(timeout=30), shown.decode(errors="replace")
    finally:
        if proc.poll() is None:
            proc.kill()
            proc.wait()
        os.close(master)


def make(**kw) -> outopt.Instance:
    """A validated instance from keyword data (lists of dicts), as an analyst would write it."""
    from outopt.instance.validation import instance_from_data

    kw.setdefault("name", "test")
    return instance_from_data(kw)


@pytest.fixture
def small():
    return outopt.load(INSTANCES / "small_business.yaml")


@pytest.fixture(scope="session")
def gap_dir():
    if not (GAP_DIR / "values.csv").exists():
        pytest.skip(f"OR-Library GAP files not found at {GAP_DIR}")
    return GAP_DIR
