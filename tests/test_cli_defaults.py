"""The command line around the commands (issue 15): ``--version``; ``--help`` without loading the heavy
libraries; a default time limit set once, in the environment or a user config file, which an explicit
``--time-limit`` overrides; tables written to a pipe as wide as ``COLUMNS`` says."""

import json
import os
import subprocess
import sys
import time
from importlib.metadata import version

import pytest
from conftest import INSTANCES, run_cli
from hard import packing_with_status_quo

import outopt
from outopt.solver.options import config_path, default_time_limit

SMALL = INSTANCES / "small_business.yaml"


def cli(*args, env=None, timeout=120):
    return subprocess.run([sys.executable, "-m", "outopt", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})})


def test_version():
    r = run_cli("--version")
    assert (r.returncode, r.stdout, r.stderr) == (0, f"outopt {version('outopt')}\n", "")
    assert outopt.__version__ == version("outopt")


def test_help_loads_none_of_the_heavy_libraries():
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-X", "importtime", "-m", "outopt", "--help"], capture_output=True,
                       text=True, timeout=60)
    seconds = time.perf_counter() - t0
    assert r.returncode == 0 and "solve" in r.stdout and "frontier" in r.stdout
    loaded = {line.split("|")[-1].strip().split(".")[0] for line in r.stderr.splitlines() if "|" in line}
    assert not loaded & {"pydantic", "pyomo", "pandas", "numpy", "matplotlib", "highspy", "openpyxl", "dask", "yaml"}
    assert seconds < 3, seconds  # 0.4 s on an idle 2-core machine (1.7 s when it loaded everything)


def test_default_time_limit_from_the_environment_or_the_config_file(tmp_path):
    config = tmp_path / "config.toml"
    assert default_time_limit({"OUTOPT_CONFIG": str(config)}) is None  # no file: no limit
    config.write_text("# outopt's defaults\ntime_limit = 45\n")
    assert default_time_limit({"OUTOPT_CONFIG": str(config)}) == 45
    assert default_time_limit({"OUTOPT_CONFIG": str(config), "OUTOPT_TIME_LIMIT": "30"}) == 30  # the variable wins
    assert config_path({"XDG_CONFIG_HOME": "/x"}) == __import__("pathlib").Path("/x/outopt/config.toml")
    with pytest.raises(outopt.InputError) as info:
        default_time_limit({"OUTOPT_TIME_LIMIT": "lots"})
    assert str(info.value) == "environment: OUTOPT_TIME_LIMIT: must be a number of seconds above 0, got 'lots'"
    for text, message in (("time_limit = -1", "time_limit: must be a number of seconds above 0, got -1"),
                          ("time_limit = ", "invalid TOML: Invalid value (at line 1, column 14)"),
                          ("time_limt = 5", "time_limt: unknown setting; the settings are: time_limit")):
        config.write_text(text + "\n")
        with pytest.raises(outopt.InputError) as info:
            default_time_limit({"OUTOPT_CONFIG": str(config)})
        assert str(info.value) == f"{config}: {message}"


def test_commands_take_the_default_and_an_explicit_time_limit_wins(tmp_path):
    hard = tmp_path / "hard.json"
    outopt.save(packing_with_status_quo(), hard)
    config = tmp_path / "config.toml"
    config.write_text("time_limit = 1.5\n")
    r = cli("solve", hard, "--json", "-", env={"OUTOPT_CONFIG": str(config)})
    result = json.loads(r.stdout)
    assert r.returncode == 0 and result["status"] == "feasible" and result["total_time"] < 1.5 + 1
    bad = cli("solve", SMALL, env={"OUTOPT_TIME_LIMIT": "lots"})
    assert bad.returncode == 2 and bad.stdout == ""
    assert bad.stderr.splitlines() == ["error: environment: 1 problem found",
                                       "  environment: OUTOPT_TIME_LIMIT: must be a number of seconds above 0, got 'lots'"]
    good = cli("solve", SMALL, "--time-limit", "30", env={"OUTOPT_TIME_LIMIT": "lots"})  # never read
    assert good.returncode == 0 and "339,500" in good.stdout


def test_tables_written_to_a_pipe_take_the_width_of_columns():
    wide = cli("explain", SMALL, env={"COLUMNS": "200"})
    narrow = cli("explain", SMALL, env={"COLUMNS": "100"})
    assert wide.returncode == narrow.returncode == 0
    assert max(map(len, wide.stdout.splitlines())) > 120 >= max(map(len, narrow.stdout.splitlines()))
    assert "resources[0].capacity" in wide.stdout  # a label whole, not 'resources[0].ca...'
