"""The command line: exit codes, JSON on stdout and nothing else, readable errors (real subprocesses)."""

import json

import pytest
from conftest import INSTANCES, run_cli as run
from hard import perfect_packing

import outopt




def test_solve_prints_plan_and_exits_0():
    r = run("solve", INSTANCES / "small_business.yaml")
    assert r.returncode == 0, r.stderr
    assert "status: optimal" in r.stdout
    assert "net benefit per year vs status quo" in r.stdout
    assert "Traceback" not in r.stderr


def test_json_to_stdout_is_only_json():
    r = run("solve", INSTANCES / "small_business.yaml", "--json", "-")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)  # the HiGHS banner must not be here
    assert data["status"] == "optimal"
    inst = outopt.load(INSTANCES / "small_business.yaml")
    check = outopt.verify(inst, data["assignments"])
    assert check.feasible
    assert data["objective"] == pytest.approx(check.objective)
    assert data["bound"] == pytest.approx(data["objective"])
    assert data["gap"] == pytest.approx(0, abs=1e-9)
    assert {a["function"] for a in data["assignments"]} == {f.id for f in inst.functions}
    assert all(set(a) >= {"function", "provider"} for a in data["assignments"])


def test_json_to_file(tmp_path):
    out = tmp_path / "plan.json"
    r = run("solve", INSTANCES / "midsize.yaml", "--json", out, "--gap", "0", "--threads", "1", "--seed", "3")
    assert r.returncode == 0, r.stderr
    assert json.loads(out.read_text())["status"] == "optimal"
    assert "status: optimal" in r.stdout


def test_infeasible_exits_3():
    r = run("solve", INSTANCES / "infeasible.yaml", "--json", "-")
    assert r.returncode == 3
    data = json.loads(r.stdout)
    assert data["status"] == "infeasible"
    assert data["objective"] is None and data["assignments"] == []
    assert "infeasible" in r.stderr


def test_invalid_input_exits_2(tmp_path):
    bad = tmp_path / "bad.yaml"
    bad.write_text("name: X\nfunctions:\n  - {id: a, inhouse: {cost: -1}}\n")
    for command in ("solve", "validate"):
        r = run(command, bad)
        assert r.returncode == 2
        assert f"{bad}: functions[0].inhouse.cost: Input should be greater than or equal to 0 (got -1)" in r.stderr
        assert "Traceback" not in r.stderr
        assert r.stdout == ""


def test_bad_usage_exits_2():
    assert run("solve").returncode == 2
    assert run("solve", INSTANCES / "small_business.yaml", "--gap", "-1").returncode == 2
    assert run("frobnicate").returncode == 2


def test_missing_file_exits_2(tmp_path):
    r = run("solve", tmp_path / "nope.yaml")
    assert r.returncode == 2
    assert "file not found" in r.stderr


def test_validate_ok():
    r = run("validate", INSTANCES / "midsize.yaml")
    assert r.returncode == 0
    assert "valid (40 functions, 12 vendors" in r.stdout


def test_no_plan_within_time_limit_exits_4(tmp_path):
    path = tmp_path / "packing.json"
    outopt.save(perfect_packing(), path)
    r = run("solve", path, "--time-limit", "1", "--json", "-")
    assert r.returncode == 4, r.stdout
    data = json.loads(r.stdout)
    assert data["status"] == "timeout"
    assert data["objective"] is None
