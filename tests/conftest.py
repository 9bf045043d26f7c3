import os
import subprocess
import sys
from pathlib import Path

import pytest

import outopt

ROOT = Path(__file__).resolve().parents[1]
INSTANCES = ROOT / "instances"
GAP_DIR = Path(os.environ.get("OUTOPT_GAP_DIR", ROOT.parent / "shared" / "gap"))


def run_cli(*args, timeout=120) -> subprocess.CompletedProcess:
    """Run the outopt command in a real subprocess (so stdout, stderr and exit codes are the real ones)."""
    return subprocess.run([sys.executable, "-m", "outopt", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout)


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
