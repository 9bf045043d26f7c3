"""Faults and interruption: time limits hold, Ctrl-C returns the best plan so far (verified) or
exit 4, outputs are written whole or not at all, and an unexpected error is one line and exit 1."""

import json
import os
import signal
import subprocess
import sys
import time

import pytest
from conftest import INSTANCES, on_terminal
from hard import packing_with_status_quo, perfect_packing
from typer.testing import CliRunner

import outopt
from outopt import cli
from outopt.instance.io.atomic import atomic_write_text
from outopt.solver import pipeline

PREVIOUS = '{"status": "optimal", "note": "a plan from an earlier run"}\n'


@pytest.fixture(scope="module")
def hard_files(tmp_path_factory):
    folder = tmp_path_factory.mktemp("hard")
    outopt.save(packing_with_status_quo(), folder / "with_start.json")
    outopt.save(perfect_packing(), folder / "no_start.json")
    return folder


def solve_and_interrupt(*args, timeout: float = 60) -> tuple[int, str]:
    """Run ``outopt solve ARGS --verbose`` on a pseudo-terminal, as a planner would; once HiGHS's
    branch-and-bound log appears, press Ctrl-C (SIGINT). Returns the exit code and what was shown.

    A terminal, not a pipe: HiGHS's log is line-buffered only on a terminal, and the log is how
    the test knows the solve (not the start-up) is under way.
    """
    sent = []

    def press_ctrl_c(shown: bytes, proc) -> None:
        if not sent and b"B&B Tree" in shown:
            time.sleep(0.5)
            proc.send_signal(signal.SIGINT)
            sent.append(True)

    code, shown = on_terminal("solve", *args, "--verbose", timeout=timeout, react=press_ctrl_c)
    assert sent, "the solver never started:\n" + shown
    return code, shown


def test_ctrl_c_returns_the_best_plan_so_far_marked_interrupted(hard_files, tmp_path):
    target = tmp_path / "plan.json"
    target.write_text(PREVIOUS)
    t0 = time.perf_counter()
    code, shown = solve_and_interrupt(hard_files / "with_start.json", "--json", target, "--time-limit", "300")
    assert time.perf_counter() - t0 < 60  # returned promptly, far from the 300 s limit
    assert code == 0, shown[-3000:]
    data = json.loads(target.read_text())
    assert data["interrupted"] is True
    assert data["status"] == "feasible" and data["message"] == "interrupted"
    inst = outopt.load(hard_files / "with_start.json")
    check = outopt.verify(inst, data["assignments"])
    assert check.feasible
    assert data["objective"] == pytest.approx(check.objective)
    assert data["bound"] >= data["objective"] - 1e-6 and data["gap"] is not None
    assert "Traceback" not in shown
    assert sorted(p.name for p in tmp_path.iterdir()) == ["plan.json"]  # no temporary file left
    assert "feasible" in shown and "interrupted" in shown


def test_ctrl_c_before_any_plan_exits_4(hard_files, tmp_path):
    target = tmp_path / "plan.json"
    code, shown = solve_and_interrupt(hard_files / "no_start.json", "--json", target)
    assert code == 4, shown[-3000:]
    data = json.loads(target.read_text())
    assert data["status"] == "timeout" and data["interrupted"] is True
    assert data["message"] == "interrupted before any plan was found"
    assert data["objective"] is None and data["assignments"] == []
    assert "Traceback" not in shown


def test_time_limit_holds_on_a_hard_instance(hard_files):
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "outopt", "solve", hard_files / "with_start.json", "--time-limit", "5",
                        "--json", "-"], capture_output=True, text=True, timeout=60)
    wall = time.perf_counter() - t0
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert data["status"] == "feasible" and data["interrupted"] is False
    assert data["message"] == "time limit reached"
    assert data["total_time"] <= 5.5  # the solve call, as the library measures it
    assert wall < 5 + 15  # plus starting Python, importing Pyomo and reading the file, on a busy machine
    assert data["bound"] > data["objective"] and data["gap"] == pytest.approx(
        (data["bound"] - data["objective"]) / abs(data["objective"]))
    check = outopt.verify(outopt.load(hard_files / "with_start.json"), data["assignments"])
    assert check.feasible and data["objective"] == pytest.approx(check.objective)


def test_library_time_limit_without_a_plan(hard_files):
    t0 = time.perf_counter()
    sol = outopt.solve(outopt.load(hard_files / "no_start.json"), time_limit=2)
    assert time.perf_counter() - t0 < 2 + 0.5
    assert sol.status == outopt.Status.TIMEOUT and sol.plan is None
    assert sol.message == "time limit reached before any plan was found"


# --- outputs: whole or untouched --------------------------------------------------------------


def invoke(*args):
    return CliRunner().invoke(cli.app, [str(a) for a in args])


def test_existing_output_survives_invalid_input(tmp_path):
    target = tmp_path / "plan.json"
    target.write_text(PREVIOUS)
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\nfunctions: [{id: a, inhouse: {cost: -1}}]\n")
    r = invoke("solve", bad, "--json", target)
    assert r.exit_code == 2
    assert target.read_text() == PREVIOUS
    assert sorted(p.name for p in tmp_path.iterdir()) == ["bad.yaml", "plan.json"]


def test_solver_exception_is_one_line_exit_1_and_output_survives(tmp_path, monkeypatch):
    target = tmp_path / "plan.json"
    target.write_text(PREVIOUS)

    def broken(*a, **k):
        raise RuntimeError("HiGHS lost [its] way\nsecond line")

    monkeypatch.setattr(pipeline, "solve", broken)  # the command imports it when it runs
    r = invoke("solve", INSTANCES / "small_business.yaml", "--json", target)
    assert r.exit_code == 1
    assert r.stderr == ("error: internal error (RuntimeError: HiGHS lost [its] way); "
                        "please report it with the input file\n")
    assert r.stdout == ""
    assert target.read_text() == PREVIOUS


def test_highs_failure_inside_the_driver_is_a_solver_error(tmp_path, monkeypatch):
    """Deeper down: the HiGHS call itself raises; the driver reports it as SolverError, the CLI exits 1."""
    import highspy

    def explode(self, *a, **k):
        raise MemoryError("out of memory in presolve")

    monkeypatch.setattr(highspy.Highs, "run", explode)
    with pytest.raises(outopt.SolverError, match="HiGHS failed: out of memory in presolve"):
        outopt.solve(outopt.load(INSTANCES / "small_business.yaml"))
    target = tmp_path / "plan.json"
    target.write_text(PREVIOUS)
    r = invoke("solve", INSTANCES / "small_business.yaml", "--json", target)
    assert r.exit_code == 1
    assert r.stderr == "error: HiGHS failed: out of memory in presolve\n"
    assert target.read_text() == PREVIOUS


def test_ctrl_c_outside_the_solver_exits_130_and_output_survives(tmp_path, monkeypatch):
    target = tmp_path / "plan.json"
    target.write_text(PREVIOUS)

    def interrupted(*a, **k):
        raise KeyboardInterrupt

    monkeypatch.setattr(pipeline, "solve", interrupted)
    r = invoke("solve", INSTANCES / "small_business.yaml", "--json", target)
    assert r.exit_code == 130
    assert r.stderr == "error: interrupted\n"
    assert target.read_text() == PREVIOUS


def test_unwritable_output_is_a_clear_error(tmp_path):
    folder = tmp_path / "plan.json"
    folder.mkdir()  # the target is a folder: the rename onto it fails
    r = invoke("solve", INSTANCES / "small_business.yaml", "--json", folder)
    assert r.exit_code == 2
    assert r.stderr.startswith(f"error: cannot write {folder}: ")
    assert list(folder.iterdir()) == [] and [p.name for p in tmp_path.iterdir()] == ["plan.json"]


def test_a_write_that_fails_midway_leaves_the_old_file_and_no_temporary(tmp_path, monkeypatch):
    target = tmp_path / "plan.json"
    target.write_text(PREVIOUS)

    def disk_full(fd):
        raise OSError(28, "No space left on device")

    monkeypatch.setattr(os, "fsync", disk_full)
    with pytest.raises(OSError, match="No space left"):
        atomic_write_text(target, "{" * 10_000)
    assert target.read_text() == PREVIOUS
    assert [p.name for p in tmp_path.iterdir()] == ["plan.json"]
