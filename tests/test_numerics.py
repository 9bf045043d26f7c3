"""Wrong verdicts from floating point and solver tolerances (issue 19, numerics), each reproduction as found,
and the class as a property: random instances with every limit set exactly at what one plan uses, with
two-decimal money or amounts from 1e-3 to 1e9, are never called infeasible.

The reproductions are in ``tests/numerics/`` (instances found by the property test or given in the issue);
each failed on the code before the numerical policy (models/portfolio.md, Numerical policy).
"""

import json

import pytest
from bruteforce import best
from conftest import ROOT, make, run_cli
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import FUZZ, examples, exact_limit_instances

import outopt
from outopt import Status, verify
from outopt.analysis.limits import set_place

CASES = ROOT / "tests" / "numerics"
COMMON = dict(deadline=None, derandomize=not FUZZ, suppress_health_check=[HealthCheck.too_slow], database=None)


def load(name: str) -> outopt.Instance:
    return outopt.load(CASES / name)


def solved(inst: outopt.Instance, **kw) -> outopt.Solution:
    """Solve; a reported plan passes the verifier and carries its objective."""
    sol = outopt.solve(inst, **kw)
    if sol.status.has_plan:
        check = verify(inst, sol.plan)
        assert check.feasible, check.violations
        assert sol.objective == pytest.approx(check.objective, rel=1e-9, abs=1e-9)
    return sol


# --- limits exactly at a plan's use are met -------------------------------------------------------------


@settings(max_examples=examples(150), **COMMON)
@given(case=exact_limit_instances())
def test_limits_exactly_at_a_plans_use_are_never_called_infeasible(case):
    inst, plan, scale = case
    planted = verify(inst, plan)
    assert planted.feasible, planted.violations  # the generator's promise: the plan meets every limit
    sol = solved(inst, time_limit=60)
    assert sol.status.has_plan, (scale, sol.status, sol.message)
    assert sol.objective >= planted.objective - 1e-9 * max(1.0, abs(planted.objective)) - 1e-9


@pytest.mark.parametrize("name", [
    "cents_at_limit.json",  # in cents: the transition budget and the staff capacity (1,000,000,475.01) at a
                            # plan's use were called infeasible
    "cancellation.json",  # operating budget 1.01 at a plan's use against in-house costs of 1e9: the model's
                          # row cancels 1e9 against 1e9, rounding 3e-8 beyond a slack of 1e-9 x the budget
    "thin_shares.json",  # two max_shares at a plan's shares (adding up to 1): HiGHS's presolve called the
                         # model with the tolerance's slack infeasible; the run without presolve finds the plan
])
def test_limits_at_a_plans_use_found_by_the_property_test(name):
    """Every limit set exactly at what one plan uses; enumeration finds the optimum, and so must the solver."""
    inst = load(name)
    top, _ = best(inst)
    assert top is not None
    sol = solved(inst)
    assert sol.status == Status.OPTIMAL and sol.objective == pytest.approx(top, rel=1e-9, abs=1e-9)


def test_a_highs_solve_error_with_a_verified_plan_known_is_no_exit_1():
    """HiGHS stopped with model status kSolveError on a badly scaled instance (amounts from 0.01 to 1e9)
    whose heuristic plan meets every limit: exit 1 ('HiGHS stopped with model status kSolveError'). Now
    the run without presolve solves it."""
    r = run_cli("solve", CASES / "solve_error.json", "--json", "-")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["status"] == "optimal" and out["message"] == "solved again (HiGHS stopped with model status kSolveError)"
    assert out["objective"] == pytest.approx(best(load("solve_error.json"))[0])


# --- the verifier's tolerance does not grow with the limit ----------------------------------------------


def test_999_over_a_budget_of_1e9_is_not_met_and_the_diagnosis_names_a_repair_of_4():
    """function a (in-house 2e9, one offer at 999,999,999) and function b (in-house 10, offers 5 and 1000),
    budget.operating 1e9: the cheapest plan costs 1,000,000,004; the diagnosis said 'none: no single limit
    can restore feasibility' because the verifier accepted 4 over (its tolerance was 1e-6 x 1e9 = 1,000)."""
    inst = make(budget={"operating": 1_000_000_000},
                functions=[{"id": "a", "inhouse": {"cost": 2e9}}, {"id": "b", "inhouse": {"cost": 10}}],
                vendors=[{"id": "v"}, {"id": "w"}],
                offers=[{"function": "a", "vendor": "v", "cost": 999_999_999},
                        {"function": "b", "vendor": "v", "cost": 5}, {"function": "b", "vendor": "w", "cost": 1000}])
    assert verify(inst, {"a": "v", "b": "v"}).violations == [
        "budget.operating: recurring cost 1,000,000,004.00 exceeds 1,000,000,000.00"]
    over = make(budget={"operating": 1e9}, functions=[{"id": "a"}], vendors=[{"id": "v"}],
                offers=[{"function": "a", "vendor": "v", "cost": 1e9 + 999}])
    assert not verify(over, {"a": "v"}).feasible
    assert outopt.solve(inst).status == Status.INFEASIBLE
    d = outopt.diagnose(inst)
    assert [(r.limit, r.needed) for r in d.repairs] == [("budget.operating", 1_000_000_004)]
    assert "  operating budget short by 4 USD: raise it to 1,000,000,004 (budget.operating)" in str(d)
    assert outopt.solve(set_place(inst, {"budget.operating": 1_000_000_004})).status == Status.OPTIMAL


# --- all-units discounts just below a threshold ----------------------------------------------------------


def test_a_spend_just_below_an_all_units_threshold_pays_list_price():
    """The tier below a threshold ended at threshold x (1 - 1e-6): a spend in between fitted no tier, and a
    worse plan was proven optimal (0 instead of 29,900; 725,000.95 instead of 1,000,001)."""
    cents = make(functions=[{"id": "a", "inhouse": {"cost": 100_000}}, {"id": "b", "inhouse": {"cost": 10_000}}],
                 vendors=[{"id": "v", "discounts": [{"threshold": 70100.04, "percent": 4}]}],
                 offers=[{"function": "a", "vendor": "v", "cost": 70_100}, {"function": "b", "vendor": "v", "cost": 50_000}])
    whole = make(functions=[{"id": "a", "inhouse": {"cost": 3_000_000}}, {"id": "b", "inhouse": {"cost": 100_000}}],
                 vendors=[{"id": "v", "discounts": [{"threshold": 2_000_000, "percent": 4}]}],
                 offers=[{"function": "a", "vendor": "v", "cost": 1_999_999},
                         {"function": "b", "vendor": "v", "cost": 500_000}])
    for inst, expected in [(cents, 29_900), (whole, 1_000_001)]:
        sol = solved(inst)
        assert sol.status == Status.OPTIMAL and sol.objective == pytest.approx(expected)
        assert sol.plan == {"a": "v", "b": "inhouse"} and sol.verification.discounts == {}
        assert best(inst)[0] == pytest.approx(expected)


def test_a_spend_a_hair_below_a_threshold_is_no_exit_1():
    """HiGHS's integrality tolerance put a spend just below a threshold in the discounted tier, and the
    solve stopped with 'model objective ... differs from the verifier's' (exit 1)."""
    inst = load("discount_mismatch.json")
    r = run_cli("solve", CASES / "discount_mismatch.json", "--json", "-")
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    plan = {a["function"]: a["provider"] for a in out["assignments"]}
    assert out["status"] == "optimal" and verify(inst, plan).feasible
    assert out["objective"] == pytest.approx(verify(inst, plan).objective) == pytest.approx(best(inst)[0])
    assert out["totals"]["volume_discounts"] == pytest.approx(0.5)  # 2.0 is within 1e-5 of the threshold 2.0000002


# --- magnitudes: overflow and tiny shares are refused with their place ------------------------------------


def test_amounts_that_overflow_are_refused_with_their_place_and_never_reach_the_json(tmp_path):
    """Two in-house costs of 1.0e308 gave 'optimal, net benefit inf' and a JSON holding Infinity."""
    f = tmp_path / "huge.yaml"
    f.write_text("name: huge\nfunctions:\n  - {id: a, inhouse: {cost: 1.0e308}}\n  - {id: b, inhouse: {cost: 1.0e308}}\n"
                 "vendors: [{id: v}]\noffers:\n  - {function: a, vendor: v, cost: 1}\n")
    r = run_cli("solve", f, "--json", "-")
    assert r.returncode == 2 and r.stdout == ""
    msg = "must be at most 1e+12 in absolute value, outopt's range of numbers (the manual, Numerical policy) (got 1e+308)"
    assert r.stderr.splitlines() == [f"error: {f}: 2 problems found", f"  {f}: functions[0].inhouse.cost: {msg}",
                                     f"  {f}: functions[1].inhouse.cost: {msg}"]
    g = tmp_path / "edge.yaml"  # at the edge of the range: solved, and every figure in the JSON is finite
    g.write_text(f.read_text().replace("1.0e308", "1.0e12"))
    r = run_cli("solve", g, "--json", "-")
    assert r.returncode == 0 and "Infinity" not in r.stdout and "NaN" not in r.stdout
    assert json.loads(r.stdout)["objective"] == 1e12 - 1


def test_a_tiny_share_that_crashed_highs_is_refused_with_its_place():
    """max_share 2.9e-9: HiGHS 1.16 crashed (segmentation fault) on the model with its starting plan."""
    r = run_cli("solve", CASES / "tiny_share.json")
    assert r.returncode == 2
    assert ("vendors[1].max_share: 2.87582e-09 is below 1e-06, the smallest share outopt accepts (shares are met "
            "within a billionth of total spend); set at least 1e-06") in r.stderr


def test_a_readme_budget_example_reads_as_the_policy_says():
    """README, Numerical policy: a budget of 1,000,000,000 is met up to 1,000,000,001 and 999 over is not;
    a budget of 100 up to 100.00001."""
    from outopt.instance.numerics import exceeds

    assert not exceeds(1_000_000_001, 1e9) and exceeds(1_000_000_002, 1e9) and exceeds(1_000_000_999, 1e9)
    assert not exceeds(100.00001, 100) and exceeds(100.00002, 100)


# --- the diagnosis agrees with itself and with the solver --------------------------------------------------


@st.composite
def short_instances(draw):
    """An exact-limit instance with one budget or capacity cut below the plan's use: often infeasible."""
    inst, plan, _ = draw(exact_limit_instances(functions=(2, 4), vendors=(1, 2)))
    place = draw(st.sampled_from(["budget.operating", "budget.transition", "resources[0].capacity"]))
    value = {"budget.operating": inst.budget.operating, "budget.transition": inst.budget.transition,
             "resources[0].capacity": inst.resources[0].capacity}[place]
    return set_place(inst, {place: value * draw(st.sampled_from([0.5, 0.999999, 0.9999999999]))})


@settings(max_examples=examples(8), **COMMON)
@given(inst=short_instances())
def test_each_repair_the_diagnosis_names_restores_feasibility(inst):
    d = outopt.diagnose(inst)
    if d.feasible:
        assert outopt.solve(inst).status.has_plan
        return
    assert outopt.solve(inst).status == Status.INFEASIBLE
    if d.repairs:  # a single repair is a joint relaxation too
        assert d.combined
    for r in d.repairs:
        fixed = set_place(inst, {r.limit: r.needed})
        assert solved(fixed).status.has_plan, (r.limit, r.needed)
    if d.combined:
        assert solved(set_place(inst, {r.limit: r.needed for r in d.combined})).status.has_plan

