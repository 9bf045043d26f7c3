"""Company files: validation with places, the joint optimum against brute force over the company's
plans (judged by the independent company verifier), the value of coordination, the decomposition,
and `outopt solve` of a company file."""

import itertools
import json

import pytest
import yaml
from bruteforce import best
from bruteforce import options as provider_options
from conftest import INSTANCES, run_cli as run

import outopt
from outopt.instance.company import company_from_data, load_company
from outopt.verifier.company import verify_company
from outopt.solver.company import separate_solutions, solve_company

GROUP = INSTANCES / "company" / "group.yaml"


def brute_force_company(company):
    """(optimum, plans) over every company plan, judged by verify_company."""
    per_division = []
    for d in company.divisions:
        opts = provider_options(d.instance)
        ids = list(opts)
        per_division.append([dict(zip(ids, combo)) for combo in itertools.product(*(opts[f] for f in ids))])
    top, arg = None, None
    for combo in itertools.product(*per_division):
        plans = {d.id: p for d, p in zip(company.divisions, combo)}
        check = verify_company(company, plans)
        if check.feasible and (top is None or check.objective > top + 1e-7):
            top, arg = check.objective, plans
    return top, arg


@pytest.fixture(scope="module")
def group():
    return load_company(GROUP)


@pytest.fixture(scope="module")
def joint(group):
    return solve_company(group)


def test_joint_optimum_equals_brute_force(group, joint):
    top, _ = brute_force_company(group)
    assert joint.status == outopt.Status.OPTIMAL
    assert joint.objective == pytest.approx(top)
    assert joint.objective == pytest.approx(49_000)  # retail: invoicing->ledgerly, helpdesk->nimbus; wholesale: all out
    assert verify_company(group, joint.plans).feasible


def test_shared_retainer_is_paid_once(group, joint):
    check = verify_company(group, joint.plans)
    # both divisions use ledgerly and nimbus; the company pays 20,000 + 15,000 once, not per division
    assert set(check.engaged) == {"ledgerly", "nimbus"}
    assert joint.totals()["retainers"] == 35_000
    divisions = sum(c.objective for c in check.divisions.values())
    assert check.objective == pytest.approx(divisions - 35_000 - (8_000 + 6_000) / 2)


def test_value_of_coordination_against_divisions_alone(group, joint):
    voc = joint.value_of_coordination
    alone = separate_solutions(group)
    total = 0.0
    for a, d in zip(alone, group.divisions):
        # each division alone: its own retainers, corporate budgets split by in-house cost
        instance = d.instance.replace(budget=outopt.Budget(
            operating=a["budget_operating"], transition=a["budget_transition"]))
        opt, _ = best(instance)
        assert a["objective"] == pytest.approx(opt)
        total += opt
    assert voc["separate"] == pytest.approx(total)
    assert voc["value"] == pytest.approx(joint.objective - total)
    assert voc["value"] > 0
    shares = [a["share"] for a in voc["divisions"]]
    assert shares == pytest.approx([220_000 / 455_000, 235_000 / 455_000])


def test_decomposition_gives_verified_plan_and_valid_bound(group):
    top, _ = brute_force_company(group)
    sol = solve_company(group, method="decompose", coordination=False)
    assert sol.status.has_plan
    assert verify_company(group, sol.plans).feasible
    assert sol.objective <= top + 1e-6 <= sol.bound + 1e-6
    assert sol.gap == pytest.approx((sol.bound - sol.objective) / sol.objective)


def test_corporate_limits_bind_on_small_company():
    data = yaml.safe_load(GROUP.read_text())
    base = GROUP.parent
    # a company-wide cap of one vendor: brute force and joint model agree, the plan uses one vendor
    data["max_vendors"] = 1
    company = company_from_data(data, base=base)
    sol = solve_company(company, coordination=False)
    top, _ = brute_force_company(company)
    assert sol.objective == pytest.approx(top)
    assert len(sol.verification.engaged) == 1
    # shared capacity of ledgerly: 2 units only (one function of either division)
    data["max_vendors"] = None
    data["vendors"] = {"ledgerly": {"capacity": 2}}
    company = company_from_data(data, base=base)
    sol = solve_company(company, coordination=False)
    assert sol.objective == pytest.approx(brute_force_company(company)[0])
    assert sum(p == "ledgerly" for plan in sol.plans.values() for p in plan.values()) == 1


def test_missing_division_file_is_named_by_place(tmp_path):
    (tmp_path / "c.yaml").write_text("name: C\ndivisions:\n  - path: a.yaml\n  - path: nope.yaml\n")
    (tmp_path / "a.yaml").write_text((GROUP.parent / "retail.yaml").read_text())
    with pytest.raises(outopt.InputError) as err:
        load_company(tmp_path / "c.yaml")
    assert [str(p) for p in err.value.problems] == [f"divisions[1].path: file not found: {tmp_path / 'nope.yaml'}"]


def test_problem_inside_division_file_names_that_file(tmp_path):
    bad = (GROUP.parent / "retail.yaml").read_text().replace("vendor: nimbus", "vendor: nimbos")
    (tmp_path / "r.yaml").write_text(bad)
    (tmp_path / "c.yaml").write_text("name: C\ndivisions: [{path: r.yaml}]\n")
    with pytest.raises(outopt.InputError) as err:
        load_company(tmp_path / "c.yaml")
    lines = [str(p) for p in err.value.problems]
    assert lines[0] == f"{tmp_path / 'r.yaml'}: offers[3].vendor: vendor 'nimbos' is not in vendors; did you mean 'nimbus'?"
    assert lines[1].startswith("divisions[0].path: ")


def test_vendor_terms_must_agree_across_divisions(tmp_path):
    other = (GROUP.parent / "wholesale.yaml").read_text().replace("retainer: 20000", "retainer: 25000")
    (tmp_path / "w.yaml").write_text(other)
    (tmp_path / "r.yaml").write_text((GROUP.parent / "retail.yaml").read_text())
    (tmp_path / "c.yaml").write_text("name: C\nvendors: {ghost: {capacity: 1}}\n"
                                     "divisions: [{path: r.yaml}, {path: w.yaml, id: wholesale}]\n")
    with pytest.raises(outopt.InputError) as err:
        load_company(tmp_path / "c.yaml")
    assert [str(p) for p in err.value.problems] == [
        "divisions[1].vendors[0].retainer: vendor 'ledgerly' has retainer 25000 here but 20000 in division 'r'; "
        "a vendor's retainer and onboarding are paid once for the company, so make them equal",
        "vendors.ghost: vendor 'ghost' is in no division",
    ]


def test_inline_division_and_its_errors():
    inline = yaml.safe_load((GROUP.parent / "retail.yaml").read_text())
    company = company_from_data({"name": "C", "divisions": [{"id": "r", "instance": inline}]})
    assert company.divisions[0].id == "r"
    inline["offers"][0]["cost"] = -1
    with pytest.raises(outopt.InputError) as err:
        company_from_data({"name": "C", "divisions": [{"instance": inline}]})
    assert str(err.value.problems[0]).startswith("divisions[0].instance.offers[0].cost: ")




def test_cli_solves_company_file_with_json():
    r = run("solve", GROUP, "--json", "-")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert {"status", "objective", "bound", "gap", "assignments", "divisions", "value_of_coordination"} <= set(data)
    assert data["status"] == "optimal" and data["objective"] == pytest.approx(49_000)
    assert {a["division"] for a in data["assignments"]} == {"retail", "wholesale"}
    plans = {}
    for a in data["assignments"]:
        plans.setdefault(a["division"], {})[a["function"]] = a["provider"]
    assert verify_company(load_company(GROUP), plans).objective == pytest.approx(data["objective"])
    assert data["value_of_coordination"]["value"] == pytest.approx(49_000 - 37_500)


def test_cli_company_report_shows_value_of_coordination():
    r = run("solve", GROUP)
    assert r.returncode == 0, r.stderr
    assert "Harbor Retail (retail): plan" in r.stdout
    assert "value of coordination: 11,500 USD per year" in r.stdout


def test_unknown_method_is_a_usage_error():
    from typer.testing import CliRunner

    from outopt.cli import app

    r = CliRunner().invoke(app, ["solve", str(GROUP), "--method", "nope"])
    assert r.exit_code == 2 and "--method must be one of joint, decompose" in r.output
    ok = CliRunner().invoke(app, ["validate", str(GROUP)])
    assert ok.exit_code == 0 and "valid company (2 divisions, 6 functions)" in ok.output


def test_cli_validate_company_names_the_place(tmp_path):
    (tmp_path / "c.yaml").write_text("name: C\ndivisions:\n  - path: nope.yaml\n")
    r = run("validate", tmp_path / "c.yaml")
    assert r.returncode == 2
    assert f"{tmp_path / 'c.yaml'}: divisions[0].path: file not found: {tmp_path / 'nope.yaml'}" in r.stderr
    assert "Traceback" not in r.stderr


def test_company_json_has_the_keys_of_a_normal_solve(joint, small):
    normal = set(outopt.solve(small).to_dict())
    assert normal <= set(joint.to_dict())
    json.loads(joint.to_json())


def test_contract_terms_inside_divisions_count_in_the_corporate_limits():
    # a volume discount at ledgerly in wholesale (10% on all its spend from 100,000) and a tighter
    # corporate operating budget: the joint model reads the division's discounted cost, as the verifier does
    retail = yaml.safe_load((GROUP.parent / "retail.yaml").read_text())
    wholesale = yaml.safe_load((GROUP.parent / "wholesale.yaml").read_text())
    ledgerly = wholesale["vendors"][0]
    ledgerly.update(discount_kind="all_units", discounts=[{"threshold": 100000, "percent": 10}])
    company = company_from_data({
        "name": "Terms", "budget": {"operating": 400000, "transition": 40000}, "max_vendors": 2,
        "divisions": [{"id": "retail", "instance": retail}, {"id": "wholesale", "instance": wholesale}],
    })
    sol = solve_company(company, coordination=False)
    top, plans = brute_force_company(company)
    assert sol.objective == pytest.approx(top)
    check = verify_company(company, sol.plans)
    assert check.feasible and check.divisions["wholesale"].discounts  # the discount is in the optimum
