"""The roadmap at the edges: the example and the plan the manual prints (docs/guide/roadmap.md), the explanation and the frontier
against enumeration, the reports, the workbook and CSV formats, validation messages, refused commands."""

import json
import re

import openpyxl
import pytest
from bruteforce import breakpoints
from conftest import INSTANCES, ROOT, make, run_cli
from roadmap_oracle import all_roadmaps, best_roadmap
from test_roadmap import base, instance_with

import outopt
from outopt.analysis.roadmap import RoadmapLimit, explain_roadmap, roadmap_frontier
from outopt.verifier.roadmap import verify_roadmap

BORDERS = str.maketrans("", "", "┏┳┓┃┡╇┩│└┴┘━─┗┛┻╋┣┫")


def _lines(text: str) -> list[str]:
    return [" ".join(line.translate(BORDERS).split()) for line in text.splitlines() if line.translate(BORDERS).strip()]


def test_example_prints_the_plan_shown_in_the_readme():
    block = re.search(r"```text\n\$ outopt solve instances/roadmap.yaml\n(.*?)```", (ROOT / "docs" / "guide" / "roadmap.md").read_text(),
                      flags=re.S).group(1)
    run = run_cli("solve", INSTANCES / "roadmap.yaml")
    assert run.returncode == 0, run.stderr
    printed = _lines(run.stdout)
    shown = _lines(block)
    status = [line for line in shown if line.startswith("status:")]
    assert status and printed[-1].startswith(status[0].split(" time ")[0])
    missing = [line for line in shown if not line.startswith("status:") and line != "..." and line not in printed]
    assert not missing, missing
    assert len(shown) > 40


def test_explanation_shown_in_the_readme():
    from rich.console import Console

    from outopt.report.roadmap import print_roadmap_explanation

    block = re.search(r"```text\n(Meridian Health Services: net present value.*?)```", (ROOT / "docs" / "guide" / "roadmap.md").read_text(),
                      flags=re.S).group(1)
    console = Console(width=120, highlight=False, soft_wrap=True, record=True)
    print_roadmap_explanation(explain_roadmap(outopt.load(INSTANCES / "roadmap.yaml"), functions=["it_support"]),
                              console)
    printed = _lines(console.export_text())
    assert _lines(block) == printed[:-1] and printed[-1].startswith("3 solves in")


def test_example_uses_every_roadmap_term():
    inst = outopt.load(INSTANCES / "roadmap.yaml")
    assert len(inst.functions) == 30 and inst.roadmap.years == 4 and inst.roadmap.max_changes_per_year == 3
    assert sorted({f.contract_end for f in inst.functions if f.contract_end}) == [1, 2, 3, 4]
    assert [v.id for v in inst.vendors if v.available_from == 2] == ["cloudnine"]
    assert any(o.parallel_run for o in inst.offers) and any(v.escalation for v in inst.vendors)
    assert any(f.earliest_change for f in inst.functions)


# --- explanation ---------------------------------------------------------------------------------


def test_explanation_against_enumeration():
    """With a team of one change a year, b and c cannot both move in year 1: each change's regret of moving
    earlier or later is the best NPV of the roadmaps that move it so, found by enumeration."""
    inst = instance_with("max_changes_per_year")
    ex = explain_roadmap(inst)
    best, _ = best_roadmap(inst)
    assert ex.solution.objective == pytest.approx(best)
    feasible = [(p, c.objective) for p in all_roadmaps(inst) if (c := verify_roadmap(inst, p)).feasible]
    assert ex.changes
    for change in ex.changes:
        f, t = change["function"], change["year"]
        for key, year in (("earlier", t - 1), ("later", t + 1)):
            shift = change[key]
            if shift.year is None:
                continue
            path = list(ex.solution.plan[f])
            path[min(t, year) - 1:max(t, year) - 1] = [path[t - 1] if key == "earlier" else
                                                      (path[t - 2] if t > 1 else inst.function(f).current or "inhouse")]
            moved = [obj for p, obj in feasible if p[f] == path]
            assert (shift.regret is None) == (not moved), (f, key)
            if moved:
                assert shift.regret == pytest.approx(best - max(moved), abs=1e-6), (f, key)
            assert shift.reasons, (f, key)
    # a move a year earlier than the team allows names the team's capacity
    earlier = [c["earlier"] for c in ex.changes if c["earlier"].year == 1]
    assert any("roadmap.max_changes_per_year: 2 functions change provider, at most 1" in r
               for s in earlier for r in s.reasons)


def test_explanation_names_the_exit_fee_before_the_contract_end():
    ex = explain_roadmap(instance_with("contract_end"))
    (b,) = [c for c in ex.changes if c["function"] == "b"]
    assert b["year"] == 2 and b["earlier"].year == 1
    assert "exit fee +40 USD" in b["earlier"].reasons
    assert b["earlier"].regret == pytest.approx(40 - 20)  # pays the fee, gains a year at v2 (20 cheaper)


def test_explain_cli_json(tmp_path):
    path = tmp_path / "tiny.yaml"
    outopt.save(instance_with("contract_end"), path)
    run = run_cli("explain", path, "--json", "-")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    (b,) = [c for c in doc["changes"] if c["function"] == "b"]
    assert (b["year"], b["from"], b["to"], b["earlier"]["year"]) == (2, "v1", "v2", 1)
    assert b["earlier"]["regret"] == pytest.approx(20)


# --- frontier ----------------------------------------------------------------------------------


@pytest.mark.parametrize("param, lower, upper", [("roadmap.budget.transition.1", 0, 120),
                                                 ("budget.operating", 150, 260),
                                                 ("roadmap.max_changes_per_year", 0, 3)])
def test_frontier_against_enumeration(param, lower, upper):
    inst = instance_with(None)
    front = roadmap_frontier(inst, param, lower, upper, steps=3)
    limit = front_limit(inst, param)
    top = limit.instance_at(inst, upper)
    steps = sorted(((limit.requirement(c), c.objective, p) for p in all_roadmaps(top)
                    if (c := verify_roadmap(top, p)).feasible), key=lambda s: s[0])
    expected = breakpoints(steps, lower, upper)
    assert front.exact
    got = [(b.at, b.objective_below, b.objective_above) for b in front.breakpoints]
    assert len(got) == len(expected)
    for (a, below, above), (a2, below2, above2) in zip(got, expected):
        assert a == pytest.approx(a2, abs=front.tolerance) and above == pytest.approx(above2)
        assert (below is None) == (below2 is None) and (below is None or below == pytest.approx(below2))


def front_limit(inst, param) -> RoadmapLimit:
    from outopt.analysis.roadmap import parse_roadmap_limit

    return parse_roadmap_limit(inst, param)


def test_frontier_cli_names_functions_and_years(tmp_path):
    path = tmp_path / "tiny.yaml"
    outopt.save(instance_with(None), path)
    run = run_cli("frontier", path, "--param", "roadmap.budget.transition.1", "--from", "0", "--to", "120",
                  "--steps", "3", "--json", "-")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    changes = [c for b in doc["breakpoints"] for c in b["changes"]]
    assert changes and all(re.fullmatch(r"[abc] in year [123]", c["function"]) for c in changes)
    with pytest.raises(outopt.InputError) as info:
        roadmap_frontier(instance_with(None), "roadmap.budget.transition.9", 0, 1)
    assert [str(p) for p in info.value.problems] == ["--param: '9' is not a plan year of this roadmap (1 to 3)"]


# --- reports -------------------------------------------------------------------------------------


def test_reports(tmp_path):
    sol = outopt.solve(instance_with("contract_end"))
    outopt.write_results(sol, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "<script" not in page and "<svg" in page and "id='gantt'" in page
    assert "<h2 id='roadmap'>Roadmap</h2>" in page and "<h2 id='changes'>Changes</h2>" in page
    outopt.write_results(sol, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb.sheetnames == ["roadmap", "changes", "years", "totals"]
    assert [c.value for c in wb["roadmap"][1]] == ["function", "name", "year 1", "year 2", "year 3"]
    assert [c.value for c in wb["roadmap"][3]] == ["b", "b", "v1", "v2", "v2"]
    assert [c.value for c in wb["changes"][1]][:5] == ["function", "year", "from", "to", "one_off"]
    outopt.write_results(sol, tmp_path / "r.csv")
    assert (tmp_path / "r.csv").read_text().splitlines()[:2] == ["function,year,provider", "a,1,v1"]
    outopt.write_results(sol, tmp_path / "r.json")
    assert json.loads((tmp_path / "r.json").read_text())["roadmap"] == sol.roadmap_rows()
    ax = sol.plot()
    assert len(ax.patches) == 4  # one bar per run of a provider: a at v1; b at v1, then v2; c at v2
    assert {t.get_text() for t in ax.get_legend().get_texts()} == {"v1", "v2", "in-house"}
    assert "<table>" in sol._repr_html_()


# --- formats and validation ----------------------------------------------------------------------


def test_convert_round_trip_and_template(tmp_path):
    inst = outopt.load(INSTANCES / "roadmap.yaml")
    outopt.save(inst, tmp_path / "r.xlsx")
    outopt.save(outopt.load(tmp_path / "r.xlsx"), tmp_path / "r")
    outopt.save(outopt.load(tmp_path / "r"), tmp_path / "r.yaml")
    assert outopt.load(tmp_path / "r.yaml") == inst
    settings = {r[0].value: r[1].value for r in openpyxl.load_workbook(tmp_path / "r.xlsx")["settings"].iter_rows()}
    assert settings["roadmap.years"] == 4 and settings["roadmap.max_changes_per_year"] == 3
    run = run_cli("template", tmp_path / "t.xlsx")
    assert run.returncode == 0, run.stderr
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    fields = [r[0].value for r in wb["settings"].iter_rows(min_row=2)]
    assert {"roadmap.years", "roadmap.discount_rate", "roadmap.tail_years", "roadmap.max_changes_per_year",
            "roadmap.budget.operating", "roadmap.budget.transition"} <= set(fields)
    header = {name: [c.value for c in wb[name][1]] for name in ("functions", "vendors", "offers")}
    assert {"contract_end", "earliest_change"} <= set(header["functions"])
    assert {"available_from", "escalation"} <= set(header["vendors"])
    assert "parallel_run" in header["offers"]


def test_workbook_budget_list_typed_with_commas_and_its_problems(tmp_path):
    inst = instance_with(None)
    outopt.save(inst, tmp_path / "r.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    ws = wb["settings"]
    ws.append(["roadmap.budget.transition", "60000, 40000, 20000"])
    wb.save(tmp_path / "r.xlsx")
    assert outopt.load(tmp_path / "r.xlsx").roadmap.budget.transition == [60000, 40000, 20000]
    ws.cell(ws.max_row, 2).value = "60000, 40000"
    wb.save(tmp_path / "r.xlsx")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "r.xlsx")
    assert [str(p) for p in info.value.problems] == [
        f"settings!B{ws.max_row}: 2 amounts for 3 years; give one per plan year"]


@pytest.mark.parametrize("change, message", [
    (lambda d: d["roadmap"].update(budget={"operating": [1, 2]}),
     "roadmap.budget.operating: 2 amounts for 3 years; give one per plan year"),
    (lambda d: d["functions"][0].update(contract_end=2),
     "functions[0].contract_end: 'a' has a contract end but no current vendor; set `current` to the vendor whose "
     "contract ends"),
    (lambda d: d.update(rules={"locks": [{"function": "a", "provider": "v1", "soft": {"priority": 1}}]}),
     "rules.locks[0].soft.priority: soft rules with a `priority` are not supported in a roadmap (levels cannot be "
     "ranked across years); give a `penalty` instead"),
    (lambda d: (d.pop("roadmap"), d["vendors"][1].update(escalation=3)),
     "vendors[1].escalation: only a roadmap uses it; add a `roadmap` section or remove the field"),
    (lambda d: d["roadmap"].update(years=0),
     "roadmap.years: Input should be greater than or equal to 1 (got 0)"),
    (lambda d: d["offers"][0].update(parallel_run=2),
     "offers[0].parallel_run: Input should be less than or equal to 1 (got 2)"),
])
def test_validation_messages(change, message):
    d = base()
    change(d)
    with pytest.raises(outopt.InputError) as info:
        make(**d)
    assert [str(p) for p in info.value.problems] == [message]


@pytest.mark.parametrize("args, command", [(["diagnose"], "diagnose"),
                                           (["solve", "--alternatives", "2"], "solve --alternatives")])
def test_commands_that_answer_for_one_year_refuse_a_roadmap(tmp_path, args, command):
    path = tmp_path / "tiny.yaml"
    outopt.save(instance_with(None), path)
    run = run_cli(args[0], path, *args[1:])
    assert run.returncode == 2 and run.stdout == ""
    assert f"`outopt {command}` does not plan roadmaps" in " ".join(run.stderr.split())


def test_infeasible_roadmap_exit_code(tmp_path):
    d = base()
    d["roadmap"]["budget"] = {"operating": [100, 100, 100]}
    path = tmp_path / "tight.yaml"
    outopt.save(make(**d), path)
    run = run_cli("solve", path, "--json", "-")
    assert run.returncode == 3
    assert json.loads(run.stdout)["status"] == "infeasible" and json.loads(run.stdout)["roadmap"] == []


def test_a_company_division_cannot_have_a_roadmap():
    from outopt.instance.company import company_from_data

    division = instance_with(None).model_dump(mode="json", exclude_none=True)
    with pytest.raises(outopt.InputError) as info:
        company_from_data({"name": "Group", "divisions": [{"id": "tiny", "instance": division}]})
    assert [str(p) for p in info.value.problems] == [
        "divisions[0].roadmap: a division cannot have a `roadmap` (the company model plans one steady state); "
        "solve the division's roadmap alone with `outopt solve`"]
