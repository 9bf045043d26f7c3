"""The time limit bounds the whole call: it returns within the limit plus 10 % (or 2 s), with the
best verified plan found so far, even when the work inside cannot be interrupted."""

import json
import subprocess
import sys
import time

import pytest
from conftest import INSTANCES
from hard import perfect_packing

import outopt
import outopt.solver.direct
import outopt.solver.pipeline
from outopt.instance.generate import generate


def within(elapsed: float, limit: float) -> bool:
    return elapsed <= max(limit * 1.1, limit + 2.0)


def test_no_plan_in_time_is_a_timeout_on_time():
    inst = perfect_packing()
    t0 = time.perf_counter()
    sol = outopt.solve(inst, time_limit=2)
    assert within(time.perf_counter() - t0, 2)
    assert sol.status == outopt.Status.TIMEOUT and sol.plan is None


def test_hard_instance_returns_a_verified_plan_on_time():
    inst = generate(300, 12, "hard", seed=0)
    t0 = time.perf_counter()
    sol = outopt.solve(inst, time_limit=3, threads=1)
    assert within(time.perf_counter() - t0, 3)
    assert sol.status in (outopt.Status.FEASIBLE, outopt.Status.OPTIMAL)  # not proven within 3 s when written
    assert outopt.verify(inst, sol.plan).feasible
    assert sol.objective == pytest.approx(outopt.verify(inst, sol.plan).objective)


def test_a_build_that_overruns_is_abandoned_with_the_best_plan_so_far(monkeypatch, small):
    """Fault injection: the model build takes 4 s; the 1 s call still returns on time with the
    heuristic's verified plan (the best known), the worker abandoned."""
    real = outopt.solver.direct.build_matrix

    def slow_build(data, **kw):
        time.sleep(4)
        return real(data, **kw)

    monkeypatch.setattr(outopt.solver.direct, "build_matrix", slow_build)
    t0 = time.perf_counter()
    sol = outopt.solve(small, options=outopt.SolveOptions(time_limit=1))
    assert within(time.perf_counter() - t0, 1)
    assert sol.status == outopt.Status.FEASIBLE
    assert "time limit reached while building the model" in sol.message
    assert outopt.verify(small, sol.plan).feasible
    assert sol.objective == pytest.approx(outopt.verify(small, sol.plan).objective)
    # without a starting plan nothing is known by then: a timeout, on time too
    t0 = time.perf_counter()
    sol = outopt.solve(small, options=outopt.SolveOptions(time_limit=1, heuristic=0))
    assert within(time.perf_counter() - t0, 1)
    assert sol.status == outopt.Status.TIMEOUT and "while building the model" in sol.message


def test_cli_time_limit_counts_reading_and_exits_on_time(tmp_path):
    path = tmp_path / "packing.json"
    outopt.save(perfect_packing(), path)
    t0 = time.perf_counter()
    r = subprocess.run([sys.executable, "-m", "outopt", "solve", str(path), "--time-limit", "3", "--json", "-"],
                       capture_output=True, text=True, timeout=60)
    elapsed = time.perf_counter() - t0
    assert r.returncode == 4, r.stderr
    data = json.loads(r.stdout)
    assert data["status"] == "timeout" and data["total_time"] <= 3.3
    assert "unhandled" not in r.stderr  # outopt's own interrupt is no warning for the user
    assert elapsed <= 3 + 2 + 15  # plus starting Python and importing Pyomo on a busy machine: no hang


def test_hard_instance_with_a_concentration_cap_returns_on_time():
    """hard 1,200 x 50 at 8 s (1 thread). With one row T = sum of every offer (total spend, for the
    40 % cap), HiGHS's randomized rounding at the root propagated that row after each fixing, with
    no time or callback check: 16 s in the call. Per-vendor spend variables (8.4 s when written),
    and HiGHS's run in a child process killed at the deadline, keep it on time."""
    inst = generate(1200, 50, "hard", seed=0)
    t0 = time.perf_counter()
    sol = outopt.solve(inst, time_limit=8, threads=1)
    assert within(time.perf_counter() - t0, 8)
    assert sol.status == outopt.Status.FEASIBLE  # 1.2 % gap at 8 s when written
    check = outopt.verify(inst, sol.plan)
    assert check.feasible and sol.objective == pytest.approx(check.objective)
    assert sol.bound is None or sol.bound >= sol.objective  # None: only the starting plan in time


def _hard_in_child(monkeypatch):
    """A generated hard instance whose HiGHS run goes to the child process (as a large model's does)."""
    monkeypatch.setattr(outopt.solver.pipeline, "CHILD_MIN_COLUMNS", 0)
    return generate(300, 12, "hard", seed=0)


def test_a_highs_step_without_callbacks_is_abandoned_with_its_best_plan(monkeypatch):
    """Fault injection: HiGHS (in its child process) finds plans, then sits in a step that calls
    back nothing (a sleep after the run). The 4 s call kills it on time and returns the best plan
    HiGHS reported, verified here, with HiGHS's bound at that moment."""
    inst = _hard_in_child(monkeypatch)
    real = outopt.solver.direct.DirectModel.solve

    def hangs_after_run(self, *args, **kw):
        sol = real(self, *args, **kw)
        time.sleep(60)
        return sol

    monkeypatch.setattr(outopt.solver.direct.DirectModel, "solve", hangs_after_run)
    t0 = time.perf_counter()
    sol = outopt.solve(inst, time_limit=4, threads=1)
    assert within(time.perf_counter() - t0, 4)
    assert sol.status == outopt.Status.FEASIBLE
    assert sol.message == "time limit reached; HiGHS abandoned, returned its best verified plan so far"
    check = outopt.verify(inst, sol.plan)
    assert check.feasible and sol.objective == pytest.approx(check.objective)
    assert sol.bound >= sol.objective


def test_a_highs_run_abandoned_before_any_plan_keeps_the_start_or_times_out(monkeypatch):
    """Fault injection: the child hangs before HiGHS reports anything. The call returns on time
    with the heuristic's verified plan; without a heuristic (and an infeasible status quo), timeout."""
    inst = _hard_in_child(monkeypatch)
    monkeypatch.setattr(outopt.solver.pipeline, "SMALL_MAX_OFFERS", 0)  # one HiGHS run, no search after it
    monkeypatch.setattr(outopt.solver.direct.DirectModel, "solve", lambda self, *a, **kw: time.sleep(60))
    t0 = time.perf_counter()
    sol = outopt.solve(inst, time_limit=3, threads=1)
    assert within(time.perf_counter() - t0, 3)
    assert sol.status == outopt.Status.FEASIBLE
    assert sol.message == "time limit reached before any plan was found; starting plan kept"
    assert outopt.verify(inst, sol.plan).feasible
    t0 = time.perf_counter()
    sol = outopt.solve(inst, options=outopt.SolveOptions(time_limit=3, threads=1, heuristic=0))
    assert within(time.perf_counter() - t0, 3)
    assert sol.status == outopt.Status.TIMEOUT and sol.plan is None


def test_a_hung_highs_run_around_the_search_still_returns_on_time(monkeypatch):
    """A small model with engagements runs HiGHS, the search, HiGHS again: both HiGHS runs hang in their
    child; the call still returns on time with the search's verified plan."""
    inst = _hard_in_child(monkeypatch)
    monkeypatch.setattr(outopt.solver.direct.DirectModel, "solve", lambda self, *a, **kw: time.sleep(60))
    t0 = time.perf_counter()
    sol = outopt.solve(inst, time_limit=3, threads=1)
    assert within(time.perf_counter() - t0, 3)
    assert sol.status == outopt.Status.FEASIBLE and sol.message.startswith("time limit reached")
    check = outopt.verify(inst, sol.plan)
    assert check.feasible and sol.objective == pytest.approx(check.objective)
