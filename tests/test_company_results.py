"""Results files of a company: the workbook (corporate tables, then the divisions' with a division column),
the decisions CSV, the JSON and the report, every figure the company verifier's."""

import csv
import json

import openpyxl
import pytest
from conftest import INSTANCES

import outopt
from outopt.analysis.explain import explain
from outopt.report.files import write_results
from outopt.verifier.company import verify_company


@pytest.fixture(scope="module")
def group():
    company = outopt.load_company(INSTANCES / "company" / "group.yaml")
    return company, outopt.solve_company(company)


def rows(path, sheet):
    ws = openpyxl.load_workbook(path)[sheet]
    values = [[c.value for c in r] for r in ws.iter_rows()]
    return [dict(zip(values[0], r)) for r in values[1:]]


def test_company_workbook(tmp_path, group):
    company, sol = group
    write_results(sol, tmp_path / "r.xlsx")
    assert openpyxl.load_workbook(tmp_path / "r.xlsx").sheetnames == [
        "divisions", "totals", "corporate_limits", "vendors", "coordination", "decisions", "resources", "limits"]
    check = verify_company(company, sol.plans)
    divisions = rows(tmp_path / "r.xlsx", "divisions")
    assert [(d["division"], d["net_benefit"]) for d in divisions] == [
        (d, check.divisions[d].objective) for d in ("retail", "wholesale")]
    totals = {r["metric"]: r["value"] for r in rows(tmp_path / "r.xlsx", "totals")}
    assert totals["net_benefit"] == 49_000 and totals["retainers"] == 35_000
    assert totals["value_of_coordination"] == pytest.approx(sol.value_of_coordination["value"])
    limits = {r["limit"]: r for r in rows(tmp_path / "r.xlsx", "corporate_limits")}
    assert list(limits) == ["budget.operating", "budget.transition", "vendors.ledgerly.capacity",
                            "vendors.ledgerly.max_share", "max_vendors"]
    assert limits["budget.operating"]["used"] == check.operating_cost == 387_000
    assert limits["vendors.ledgerly.capacity"]["used"] == check.vendor_load["ledgerly"] == 4
    assert limits["max_vendors"]["binding"] is True
    decisions = rows(tmp_path / "r.xlsx", "decisions")
    assert [(r["division"], r["function"], r["provider"]) for r in decisions] == [
        (d, f, p) for d, plan in sol.plans.items() for f, p in plan.items()]
    division_limits = rows(tmp_path / "r.xlsx", "limits")
    assert [(r["division"], r["limit"], r["used"]) for r in division_limits] == [
        ("wholesale", "budget.operating", check.divisions["wholesale"].operating_cost)]
    spend = {r["vendor"]: r for r in rows(tmp_path / "r.xlsx", "vendors")}
    assert spend["ledgerly"]["spend"] == check.spend["ledgerly"] and spend["ledgerly"]["divisions"] == "retail, wholesale"


def test_company_csv_json_and_explanation_sheet(tmp_path, group):
    company, sol = group
    write_results(sol, tmp_path / "r.csv")
    with open(tmp_path / "r.csv", newline="") as f:
        table = list(csv.DictReader(f))
    assert [(r["division"], r["function"], r["provider"]) for r in table] == [
        (d, f, p) for d, plan in sol.plans.items() for f, p in plan.items()]
    write_results(sol, tmp_path / "r.json")
    data = json.loads((tmp_path / "r.json").read_text())
    assert data["objective"] == 49_000 and [d["division"] for d in data["divisions"]] == ["retail", "wholesale"]
    ex = explain(company, solution=sol)
    write_results(ex.solution, tmp_path / "why.xlsx", explanation=ex)
    why = rows(tmp_path / "why.xlsx", "explanation")
    assert [(r["division"], r["function"]) for r in why] == [(d, f) for d, plan in sol.plans.items() for f in plan]
    html = tmp_path / "why.html"
    write_results(ex.solution, html, explanation=ex)
    assert "id='explanation'" in html.read_text() and "Division: Harbor Retail (retail)" in html.read_text()
