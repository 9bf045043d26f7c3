"""The what-if commands from the command line: JSON on stdout that parses, files written, exit codes."""

import json

import pytest
from bruteforce import best
from conftest import INSTANCES
from test_cli import run

import outopt

SMALL = INSTANCES / "small_business.yaml"
SCENARIOS = INSTANCES / "scenarios" / "small_business.scenarios.yaml"


def test_compare_table_and_json(tmp_path):
    out = tmp_path / "compare.json"
    r = run("compare", SMALL, "--scenarios", SCENARIOS, "--json", out)
    assert r.returncode == 0, r.stderr
    assert "max_2_vendors" in r.stdout and "-8,667" in r.stdout
    data = json.loads(out.read_text())
    rows = {s["name"]: s for s in data["scenarios"]}
    assert rows["base"]["objective"] == pytest.approx(339_500)
    assert rows["max_2_vendors"]["changed"] == ["invoicing", "collections", "payroll"]
    assert rows["numera_exits"]["status"] == "infeasible"
    assert all({"name", "status", "objective", "changed"} <= set(s) for s in data["scenarios"])


def test_compare_bad_scenario_exits_2(tmp_path):
    bad = tmp_path / "s.yaml"
    bad.write_text("scenarios:\n  x:\n    vendors.nope.retainer: 1\n")
    r = run("compare", SMALL, "--scenarios", bad)
    assert r.returncode == 2
    assert f"{bad}: scenarios.x.vendors.nope.retainer: vendor 'nope' is not in vendors" in r.stderr
    assert "Traceback" not in r.stderr and r.stdout == ""


def test_frontier_table_json_plot_csv(tmp_path):
    png, csv, out = tmp_path / "f.png", tmp_path / "f.csv", tmp_path / "f.json"
    r = run("frontier", SMALL, "--param", "budget.transition", "--from", "0", "--to", "60000", "--steps", "5",
            "--plot", png, "--csv", csv, "--json", out)
    assert r.returncode == 0, r.stderr
    assert "45,000" in r.stdout and "invoicing: numera -> ledgerly" in r.stdout
    data = json.loads(out.read_text())
    assert data["param"] == "budget.transition"
    assert all(set(b) >= {"at", "objective_below", "objective_above"} for b in data["breakpoints"])
    assert len(data["breakpoints"]) >= 2
    # the optimum at each breakpoint and just below it, by enumeration
    inst = outopt.load(SMALL)
    for b in data["breakpoints"]:
        assert best(outopt.apply_overrides(inst, {"budget.transition": b["at"]}))[0] == pytest.approx(b["objective_above"])
        below = best(outopt.apply_overrides(inst, {"budget.transition": b["at"] - data["tolerance"]}))[0]
        assert below == (None if b["objective_below"] is None else pytest.approx(b["objective_below"]))
    assert png.read_bytes()[:4] == b"\x89PNG"
    assert csv.read_text().startswith("value,objective,status,requirement\n")


def test_frontier_errors():
    r = run("frontier", SMALL, "--param", "budget.total", "--from", "0", "--to", "1")
    assert r.returncode == 2 and "--param: 'budget.total' is not a limit" in r.stderr
    r = run("frontier", SMALL, "--param", "budget.operating", "--from", "0", "--to", "900000", "--json", "-")
    assert r.returncode == 3
    assert all(p["status"] == "infeasible" for p in json.loads(r.stdout)["points"])


def test_frontier_and_pareto_time_limit_with_no_plan_exit_4():
    r = run("frontier", SMALL, "--param", "budget.transition", "--from", "0", "--to", "60000", "--time-limit", "0.001",
            "--json", "-")
    assert r.returncode == 4 and "no plan within the time limit" in r.stderr
    data = json.loads(r.stdout)
    assert data["exact"] is False and data["complete"] is False and data["breakpoints"] == []
    r = run("pareto", SMALL, "--time-limit", "0.001", "--json", "-")
    assert r.returncode == 4 and "no plan within the time limit" in r.stderr
    assert json.loads(r.stdout)["plans"] == []


def test_pareto_json(tmp_path):
    from outopt.analysis.scenarios import apply_overrides

    inst = apply_overrides(outopt.load(SMALL), {"vendors.techdesk.risk": 0.5, "vendors.numera.risk": 0.2})
    path = tmp_path / "risky.yaml"
    outopt.save(inst, path)
    svg = tmp_path / "p.svg"
    r = run("pareto", path, "--points", "4", "--plot", svg, "--json", "-")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    risks = [p["risk"] for p in data["plans"]]
    assert risks == sorted(risks) and len(risks) >= 2
    for p in data["plans"]:
        check = outopt.verify(inst, p["assignments"])
        assert check.feasible and check.risk == pytest.approx(p["risk"]) and check.objective == pytest.approx(p["objective"])
    assert b"<svg" in svg.read_bytes()[:500]


def test_solve_alternatives(tmp_path):
    out = tmp_path / "alts.json"
    r = run("solve", SMALL, "--alternatives", "3", "--within", "3%", "--json", out)
    assert r.returncode == 0, r.stderr
    assert "3 best plans within 3.00% of the optimum" in r.stdout and "differs from the best" in r.stdout
    data = json.loads(out.read_text())
    assert data["status"] == "optimal" and data["objective"] == pytest.approx(339_500)
    assert [p["objective"] for p in data["plans"]] == pytest.approx([339_500, 330_833.3333, 330_833.3333])
    inst = outopt.load(SMALL)
    assert all(outopt.verify(inst, p["assignments"]).feasible for p in data["plans"])
    r = run("solve", SMALL, "--alternatives", "2", "--within", "lots")
    assert r.returncode == 2 and "--within: 'lots' is not a distance" in r.stderr
    r = run("solve", INSTANCES / "infeasible.yaml", "--alternatives", "2", "--json", "-")
    assert r.returncode == 3 and json.loads(r.stdout)["plans"] == []
