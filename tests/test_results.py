"""Results: the workbook, the decisions CSV, JSON and the HTML report, from `solve --out` and the API."""

import json
import re

import openpyxl
import pytest
from conftest import INSTANCES
from typer.testing import CliRunner

import outopt
from outopt.report import tables
from outopt.cli import app
from outopt.report.html import render
from outopt.report.files import write_results

runner = CliRunner()


@pytest.fixture(scope="module")
def sol():
    return outopt.solve(outopt.load(INSTANCES / "small_business.yaml"))


def test_tables_agree_with_the_verifier(sol):
    check = outopt.verify(sol.instance, sol.plan)
    d = tables.decisions(sol)
    assert dict(zip(d["function"], d["provider"])) == sol.plan
    assert d["benefit"].sum() - sum(sol.instance.vendor(v).retainer + sol.instance.vendor(v).onboarding / 3
                                    for v in check.engaged) == pytest.approx(sol.objective)
    v = tables.vendor_spend(sol)
    assert dict(zip(v["vendor"], v["spend"])) == pytest.approx(check.spend)
    assert v["share"].sum() == pytest.approx(1.0)
    r = tables.resource_use(sol).set_index("resource")
    assert r["used"].to_dict() == pytest.approx(check.resource_use)
    # finance staff: all in-house uses 1.2+1.0+0.9+1.3+0.6 = 5.0; the plan keeps payroll only (0.6)
    assert r.loc["finance_staff", "all_inhouse"] == pytest.approx(5.0)
    assert r.loc["finance_staff", "freed"] == pytest.approx(4.4)
    lim = tables.limits(sol).set_index("limit")
    assert lim.loc["budget.transition", "used"] == pytest.approx(check.transition_cost)
    assert lim.loc["budget.operating", "slack"] == pytest.approx(1_150_000 - check.operating_cost)
    binding = set(lim.index[lim["binding"]])
    assert binding == {name for name, row in lim.iterrows() if abs(row["slack"]) < 1e-6}
    assert (lim["used"] <= lim["limit_value"] + 1e-6).all()


def test_waterfall_adds_up_from_all_inhouse_to_the_plan(sol):
    for top in (10, 2):
        w = tables.waterfall(sol, top=top)
        start, end = w.iloc[0], w.iloc[-1]
        assert (start["step"], end["step"]) == ("all in-house", "plan")
        assert start["amount"] == sum(f.inhouse.cost for f in sol.instance.functions if f.inhouse)
        assert start["amount"] + w[w["kind"] == "step"]["amount"].sum() == pytest.approx(end["amount"])
        assert end["amount"] == pytest.approx(sol.verification.operating_cost)
    assert tables.waterfall(sol, top=2)["step"].tolist() == [
        "all in-house", "invoicing -> ledgerly", "collections -> numera", "3 other functions", "vendor retainers", "plan"]


def test_results_workbook_and_csv(tmp_path, sol):
    write_results(sol, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["decisions", "totals", "vendors", "resources", "limits"]
    rows = list(wb["decisions"].iter_rows(values_only=True))
    assert rows[0] == ("function", "name", "provider", "provider_name", "yearly_cost", "one_off", "benefit",
                       "current", "changed", "why")
    assert {r[0]: r[2] for r in rows[1:]} == sol.plan
    totals = dict(wb["totals"].iter_rows(min_row=2, values_only=True))
    assert totals["status"] == "optimal" and totals["net_benefit"] == pytest.approx(sol.objective)
    write_results(sol, tmp_path / "r.csv")
    lines = (tmp_path / "r.csv").read_text().splitlines()
    assert len(lines) == 1 + len(sol.instance.functions)
    assert lines[1] == "invoicing,Customer invoicing,ledgerly,Ledgerly BPO,48000,8000,85333.33333333333,inhouse,True,"  # why: empty (a positive benefit)


def test_html_report_is_self_contained_and_escapes_text(sol):
    data = sol.instance.model_dump(mode="json")
    data["vendors"][0]["name"] = "<script>alert(1)</script>"
    odd = outopt.solve(outopt.Instance.model_validate(data))
    import matplotlib.pyplot as plt

    plt.close("all")
    page = render(odd)
    assert plt.get_fignums() == []  # the report's charts live outside pyplot
    assert "<script>" not in page and "&lt;script&gt;alert(1)&lt;/script&gt;" in page
    assert not re.search(r"""(src|href)\s*=\s*["']?(https?:|//)|@import|url\(\s*["']?https?:""", page)
    assert page.count("<svg") == 3  # spend, waterfall, resources
    assert "The plan outsources <b>5 of 8</b> functions to <b>3</b> vendors" in page
    assert "Limits reached: budget.transition, rules.max_vendors." in page


def test_html_report_hooks_for_explanation_and_frontier(sol):
    import pandas as pd

    frontier = pd.DataFrame({"operating_budget": [1.0e6, 1.1e6, 1.2e6], "net_benefit": [1.0e5, 3.0e5, 3.4e5]})
    explanation = pd.DataFrame({"function": ["invoicing"], "reason": ["saves 47,000 a year"]})
    explanation.attrs["limits"] = pd.DataFrame({"limit": ["budget.transition"], "binding": [True]})

    class Frontier:  # what the frontier analysis returns: a result with .table()
        def table(self):
            return frontier

    page = render(sol, explanation=explanation, frontier=Frontier(), sections={"Notes": pd.DataFrame({"a": [1]})})
    assert "<h3 id='explanation-limits'>Limits: used, binding, and what more of each is worth</h3>" in page
    assert "<h2 id='explanation'>Why this plan</h2>" in page and "saves 47,000 a year" in page
    assert "<h2 id='frontier'>Frontier</h2>" in page and page.count("<svg") == 4
    assert "<h2>Notes</h2>" in page


@pytest.mark.parametrize("ext", ["xlsx", "csv", "json", "html"])
def test_solve_out_by_extension(tmp_path, ext):
    target = tmp_path / f"results.{ext}"
    r = runner.invoke(app, ["solve", str(INSTANCES / "small_business.yaml"), "--out", str(target)])
    assert r.exit_code == 0, r.output
    assert target.stat().st_size > 0
    if ext == "json":
        assert json.loads(target.read_text())["objective"] == pytest.approx(339_500)


def test_solve_out_with_alternatives_writes_the_best_plan(tmp_path):
    r = runner.invoke(app, ["solve", str(INSTANCES / "small_business.yaml"), "--alternatives", "2",
                            "--out", str(tmp_path / "best.json")])
    assert r.exit_code == 0, r.output
    assert json.loads((tmp_path / "best.json").read_text())["objective"] == pytest.approx(339_500)


def test_solve_out_infeasible_and_bad_extension(tmp_path):
    r = runner.invoke(app, ["solve", str(INSTANCES / "infeasible.yaml"), "--out", str(tmp_path / "r.html")])
    assert r.exit_code == 3
    assert "<b class='status-bad' id='status'>infeasible</b>" in (tmp_path / "r.html").read_text()
    infeasible = outopt.solve(outopt.load(INSTANCES / "infeasible.yaml"))
    with pytest.raises(ValueError, match="no plan to plot: the solve ended infeasible"):
        infeasible.plot()
    r = runner.invoke(app, ["solve", str(INSTANCES / "small_business.yaml"), "--out", str(tmp_path / "r.pdf")])
    assert r.exit_code == 2 and "unsupported results type '.pdf'" in r.output


def test_solution_in_a_notebook(sol):
    page = sol._repr_html_()
    assert page.startswith("<p><b>BrightPath Ltd</b>: <b>optimal</b>, net benefit 339,500 USD per year</p><table>")
    assert page.count('<tr class="changed">') == 4
    fig = sol.plot()
    assert len(fig.axes) >= 3
    ax = sol.plot("spend")
    assert [t.get_text() for t in ax.get_yticklabels()] == ["Ledgerly BPO", "TechDesk Managed IT", "Numera Accounting"]
    with pytest.raises(ValueError, match="unknown chart 'pie'"):
        sol.plot("pie")
    import matplotlib.pyplot as plt

    plt.close("all")


def test_midsize_results_cover_contract_terms(tmp_path):
    """The mid-size example uses every contract term: the waterfall still adds up to the verified plan
    (discounts and bundles as one step), the change cap is a limit, broken soft rules get a sheet."""
    sol = outopt.solve(outopt.load(INSTANCES / "midsize.yaml"))
    w = tables.waterfall(sol)
    assert w.iloc[0]["amount"] + w[w["kind"] == "step"]["amount"].sum() == pytest.approx(w.iloc[-1]["amount"])
    assert w.iloc[-1]["amount"] == pytest.approx(sol.verification.operating_cost)
    lim = tables.limits(sol).set_index("limit")
    assert lim.loc["rules.max_changes", "used"] == sol.verification.changes
    write_results(sol, tmp_path / "m.xlsx")
    sheets = openpyxl.load_workbook(tmp_path / "m.xlsx").sheetnames
    assert ("soft_rules" in sheets) == (not sol.soft_violations.empty)


def test_explain_and_frontier_write_their_analysis_into_the_report(tmp_path):
    """`explain --out` and `frontier --out` put the real analyses into the report and workbook."""
    small = str(INSTANCES / "small_business.yaml")
    r = runner.invoke(app, ["explain", small, "--out", str(tmp_path / "ex.html")])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "ex.html").read_text()
    ex = outopt.explain(outopt.load(INSTANCES / "small_business.yaml"))
    assert "<h2 id='explanation'>Why this plan</h2>" in page
    for row in ex.frame().itertuples():
        assert f"<td>{row.function}</td><td>{row.provider}</td>" in page
    r = runner.invoke(app, ["explain", small, "--out", str(tmp_path / "ex.xlsx")])
    sheets = openpyxl.load_workbook(tmp_path / "ex.xlsx").sheetnames
    assert r.exit_code == 0 and sheets[-1] == "explanation"
    r = runner.invoke(app, ["frontier", small, "--param", "budget.transition", "--from", "20000", "--to", "60000",
                            "--out", str(tmp_path / "fr.html")])
    assert r.exit_code == 0, r.output
    page = (tmp_path / "fr.html").read_text()
    assert "<h2 id='frontier'>Frontier</h2>" in page and page.count("<svg") == 4
    assert "339,500" in page  # the plan at the instance's own limits sits on the frontier
