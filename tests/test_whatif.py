"""What-if analyses against brute-force enumeration: frontier breakpoints, the benefit-risk frontier,
alternative plans and scenarios (tests/bruteforce.py judges every plan with the independent verifier)."""

import random
import time

import pytest
from bruteforce import best, breakpoints, feasible_plans, nondominated, optimum_at, step_function
from conftest import INSTANCES, make

import outopt
from outopt.analysis.alternatives import alternatives, parse_within
from outopt.analysis.frontier import frontier, parse_limit
from outopt.analysis.pareto import pareto
from outopt.analysis.scenarios import apply_overrides, compare, comparison_to_dict, load_scenarios

SCENARIOS = INSTANCES / "scenarios" / "small_business.scenarios.yaml"


def random_instance(seed: int, n_functions: int = 5) -> outopt.Instance:
    """A small instance with random terms: 3 options per function, budgets, a retainer, capacities."""
    rng = random.Random(seed)
    functions = [
        {"id": f"f{i}", "inhouse": {"cost": rng.randrange(50, 150) * 1000, "uses": {"staff": rng.choice([0.5, 1.0])}}}
        for i in range(n_functions)
    ]
    vendors = [
        {"id": "a", "retainer": 10_000, "onboarding": 6_000, "capacity": 5},
        {"id": "b", "retainer": 0, "onboarding": 12_000, "max_share": 0.8},
    ]
    offers = []
    for f in functions:
        for v in vendors:
            offers.append({"function": f["id"], "vendor": v["id"], "cost": f["inhouse"]["cost"] * rng.uniform(0.7, 1.4),
                           "transition": rng.randrange(1, 20) * 1000, "load": rng.randrange(1, 4),
                           "value": rng.randrange(0, 60) * 1000})
    return make(name=f"random {seed}", horizon=2, budget={"operating": 1e7, "transition": 1e6},
                resources=[{"id": "staff", "capacity": 10, "redeploy_value": 20_000}],
                functions=functions, vendors=vendors, offers=offers, rules={"max_vendors": 2})


REQUIREMENT = {
    "budget.operating": lambda c: c.operating_cost,
    "budget.transition": lambda c: c.transition_cost,
    "resources.finance_staff.capacity": lambda c: c.resource_use["finance_staff"],
    "resources.staff.capacity": lambda c: c.resource_use["staff"],
    "vendors.ledgerly.capacity": lambda c: c.vendor_load.get("ledgerly", 0.0),
    "vendors.a.capacity": lambda c: c.vendor_load.get("a", 0.0),
    "vendors.b.max_share": lambda c: c.spend.get("b", 0.0) / sum(c.spend.values()) if c.spend else 0.0,
    "vendors.ledgerly.max_share": lambda c: c.spend.get("ledgerly", 0.0) / sum(c.spend.values()) if c.spend else 0.0,
    "rules.max_vendors": lambda c: len(c.engaged),
}


def assert_frontier_matches_enumeration(inst, param, lower, upper, tol):
    limit = parse_limit(inst, param)
    steps = step_function(limit.instance_at(inst, upper), REQUIREMENT[param])
    expected = breakpoints(steps, lower, upper)
    result = frontier(inst, param, lower, upper, steps=7, tol=tol)
    assert result.exact
    got = [(b.at, b.objective_below, b.objective_above) for b in result.breakpoints]
    assert len(got) == len(expected), (got, expected)
    for (at, below, above), (e_at, e_below, e_above) in zip(got, expected):
        assert at == pytest.approx(e_at, abs=tol)
        assert above == pytest.approx(e_above)
        assert (below is None) == (e_below is None)
        if below is not None:
            assert below == pytest.approx(e_below)
    for p in result.points:  # every point solved is the optimum there, and its plan passes the verifier
        assert p.objective == pytest.approx(optimum_at(steps, p.value)) if p.objective is not None \
            else optimum_at(steps, p.value) is None
        if p.plan is not None:
            assert outopt.verify(limit.instance_at(inst, p.value), p.plan).feasible
        assert result.objective_at(p.value) == (None if p.objective is None else pytest.approx(p.objective))
    for b in result.breakpoints:  # what changes: the plans either side, as the verifier sees them
        if b.plan_below is not None:
            assert outopt.verify(limit.instance_at(inst, b.at - tol), b.plan_below).objective == pytest.approx(
                b.objective_below)
            assert {c["function"] for c in b.changes} == {f for f in b.plan_above if b.plan_above[f] != b.plan_below[f]}
    return result


@pytest.mark.parametrize("param, lower, upper", [
    ("budget.operating", 1_050_000, 1_300_000),
    ("budget.transition", 0, 60_000),
    ("resources.finance_staff.capacity", 0, 5),
    ("vendors.ledgerly.capacity", 0, 3_500),
    ("vendors.ledgerly.max_share", 0.05, 1),
    ("rules.max_vendors", 0, 4),
])
def test_frontier_of_small_business_matches_enumeration(small, param, lower, upper):
    tol = 1 if param == "rules.max_vendors" else 1e-6 * (upper - lower)
    assert_frontier_matches_enumeration(small, param, lower, upper, tol)


@pytest.mark.parametrize("seed", [1, 2, 3])
@pytest.mark.parametrize("param, lower, upper", [
    ("budget.operating", 300_000, 700_000),
    ("resources.staff.capacity", 0, 5),
    ("vendors.b.max_share", 0.1, 1.0),
])
def test_frontier_of_random_instances_matches_enumeration(seed, param, lower, upper):
    inst = random_instance(seed)
    assert_frontier_matches_enumeration(inst, param, lower, upper, 1e-6 * (upper - lower))


def test_frontier_of_random_operating_budget_has_many_breakpoints():
    result = assert_frontier_matches_enumeration(random_instance(7, 6), "budget.operating", 300_000, 900_000, 0.01)
    assert len(result.breakpoints) >= 5


def _stall_after(monkeypatch, solves: int, seconds: float) -> list:
    """Make the solve after the first ``solves`` of a sweep wait ``seconds`` first (the clock runs out)."""
    import outopt.solver

    count, real = [], outopt.solver.Model.solve

    def slow(self, *a, **k):
        count.append(1)
        if len(count) == solves + 1:
            time.sleep(seconds)
        return real(self, *a, **k)

    monkeypatch.setattr(outopt.solver.Model, "solve", slow)
    return count


def test_frontier_time_limit_keeps_the_breakpoints_found_above_the_stop(monkeypatch):
    inst, param, lower, upper, tol = random_instance(7, 6), "budget.operating", 300_000, 900_000, 0.01
    limit = parse_limit(inst, param)
    expected = breakpoints(step_function(limit.instance_at(inst, upper), REQUIREMENT[param]), lower, upper)
    count = _stall_after(monkeypatch, 7 + 4, 2.5)  # the grid (its top included), then 4 steps of the walk
    t = time.perf_counter()
    result = frontier(inst, param, lower, upper, steps=7, tol=tol, options=outopt.SolveOptions(time_limit=2.0))
    assert time.perf_counter() - t < 2.0 + 2.0
    assert not result.complete and not result.exact and result.to_dict()["complete"] is False
    assert len(count) == 7 + 4 + 1
    # the walk runs top down: what it found before the clock ran out is the top of the exact frontier
    got = [(b.at, b.objective_below, b.objective_above) for b in result.breakpoints]
    assert 0 < len(got) < len(expected)
    for (at, below, above), (e_at, e_below, e_above) in zip(got, expected[-len(got):]):
        assert at == pytest.approx(e_at, abs=tol) and above == pytest.approx(e_above) and below == pytest.approx(e_below)


def test_frontier_time_limit_too_short_for_any_solve(small):
    result = frontier(small, "budget.operating", 1_050_000, 1_300_000, options=outopt.SolveOptions(time_limit=0.001))
    assert not result.exact and not result.complete and result.breakpoints == []


def test_frontier_builds_once_and_reuses_the_model(small, monkeypatch):
    import outopt.analysis.frontier

    built = []
    real = outopt.analysis.frontier.build_any
    monkeypatch.setattr(outopt.analysis.frontier, "build_any", lambda *a, **k: built.append(1) or real(*a, **k))
    result = frontier(small, "budget.transition", 0, 60_000, steps=5)
    assert len(built) == 1 and len(result.points) > 5


def test_frontier_limit_absent_from_the_base_instance():
    # no operating budget at all in the base: the row is added for the sweep
    inst = random_instance(4)
    inst = inst.replace(budget=outopt.Budget(transition=1e6))
    assert_frontier_matches_enumeration(inst, "budget.operating", 300_000, 700_000, 0.5)


def test_frontier_json_csv_and_charts(small, tmp_path):
    result = frontier(small, "budget.operating", 1_000_000, 1_300_000, steps=4)
    data = result.to_dict()
    assert data["param"] == "budget.operating"
    assert [b["at"] for b in data["breakpoints"]] == [1_102_000, 1_103_000]
    assert data["breakpoints"][0]["objective_below"] is None
    assert data["breakpoints"][1] == {
        "at": 1_103_000, "objective_below": pytest.approx(330_833.3333), "objective_above": 339_500,
        "changes": [{"function": "invoicing", "below": "numera", "above": "ledgerly"},
                    {"function": "collections", "below": "inhouse", "above": "numera"},
                    {"function": "payroll", "below": "numera", "above": "inhouse"}]}
    assert {"value", "objective", "status"} <= set(data["points"][0])
    assert result.to_csv().splitlines()[0] == "value,objective,status,requirement"
    result.plot(tmp_path / "f.png")
    result.plot(tmp_path / "f.svg")
    assert (tmp_path / "f.png").read_bytes()[:8] == b"\x89PNG\r\n\x1a\n"
    assert b"<svg" in (tmp_path / "f.svg").read_bytes()[:500]
    with pytest.raises(outopt.InputError, match=r"--plot: unsupported chart type '\.gif'"):
        result.plot(tmp_path / "f.gif")


@pytest.mark.parametrize("param, message", [
    ("budget.total", "--param: 'budget.total' is not a limit; use one of budget.operating"),
    ("vendors.nope.capacity", "--param: vendor 'nope' is not in vendors"),
    ("resources.nope.capacity", "--param: resource 'nope' is not in resources"),
    ("vendors.ledgerly.retainer", "--param: 'vendors.ledgerly.retainer' is not a limit"),
])
def test_frontier_unknown_parameter(small, param, message):
    with pytest.raises(outopt.InputError) as err:
        frontier(small, param, 0, 1)
    assert str(err.value).startswith(message)


def test_frontier_bad_range(small):
    with pytest.raises(outopt.InputError, match=r"--from/--to: need finite --from <= --to, got 5 and 1"):
        frontier(small, "budget.operating", 5, 1)
    with pytest.raises(outopt.InputError, match=r"vendors.ledgerly.max_share must be in \(0, 1\]"):
        frontier(small, "vendors.ledgerly.max_share", 0, 1)


# --- risk -------------------------------------------------------------------------------


RISKY = {"vendors.ledgerly.risk": 0.3, "vendors.numera.risk": 0.1, "vendors.techdesk.risk": 0.5,
         "vendors.salesreach.risk": 0.6, "offers[invoicing,ledgerly].risk": 0.05,
         "offers[payroll,numera].risk": 0.4}


def test_plan_risk_is_spend_weighted(small):
    inst = apply_overrides(small, RISKY)
    plan = {f.id: "inhouse" for f in inst.functions} | {"invoicing": "ledgerly", "payroll": "numera",
                                                        "it_support": "techdesk"}
    check = outopt.verify(inst, plan)
    # spend: invoicing 48,000 at 0.05, ledgerly retainer 12,000 at 0.3, payroll 30,000 at 0.4 (offer's own),
    # numera retainer 6,000 at 0.1, IT 84,000 at 0.5
    expected = (48_000 * 0.05 + 12_000 * 0.3 + 30_000 * 0.4 + 6_000 * 0.1 + 84_000 * 0.5) / 180_000
    assert check.risk == pytest.approx(expected)
    assert outopt.verify(inst, {f.id: "inhouse" for f in inst.functions}).risk == 0


def test_risk_out_of_range_is_an_input_error(small):
    with pytest.raises(outopt.InputError, match=r"overrides: vendors\[0\]\.risk: Input should be less than or equal to 1"):
        apply_overrides(small, {"vendors.ledgerly.risk": 1.5})


@pytest.mark.parametrize("overrides", [
    RISKY,
    {**RISKY, "budget.operating": 1_300_000, "rules.max_vendors": 4},
    {**RISKY, "vendors.numera.discounts": [{"threshold": 100_000, "percent": 10}]},  # risk weighs list spend
])
def test_pareto_matches_enumeration(small, overrides):
    inst = apply_overrides(small, overrides)
    pts = [(check_obj, outopt.verify(inst, plan).risk) for check_obj, plan in feasible_plans(inst)]
    expected = nondominated(pts)
    result = pareto(inst, points=5, tol=1e-6)
    got = [(round(p.objective, 6), round(p.risk, 9)) for p in result.plans]
    assert got == [pytest.approx(e) for e in expected]
    for p in result.plans:
        assert outopt.verify(inst, p.plan).feasible
    assert len(expected) >= 2


def test_pareto_time_limit_too_short_for_any_solve(small):
    result = pareto(apply_overrides(small, RISKY), options=outopt.SolveOptions(time_limit=0.001))
    assert result.plans == [] and not result.sweep.exact and result.to_dict()["complete"] is False


def test_pareto_of_an_infeasible_instance():
    assert pareto(outopt.load(INSTANCES / "infeasible.yaml")).plans == []


def test_pareto_json(small):
    data = pareto(apply_overrides(small, RISKY), points=3).to_dict()
    risks = [p["risk"] for p in data["plans"]]
    objectives = [p["objective"] for p in data["plans"]]
    assert risks == sorted(risks) and objectives == sorted(objectives)
    assert all({"objective", "risk", "vendors", "assignments"} <= set(p) for p in data["plans"])


def test_risk_constraint_documented():
    from conftest import ROOT

    text = (ROOT / "models" / "portfolio.md").read_text()
    section = text.split("## Risk", 1)[1].split("\n## ", 1)[0]
    assert "| `max_risk` | `add_max_risk` |" in section


# --- alternatives -----------------------------------------------------------------------


def test_alternatives_are_the_k_best_plans(small):
    ranked = sorted((obj for obj, _ in feasible_plans(small)), reverse=True)
    result = alternatives(small, 6)
    assert [s.objective for s in result.plans] == pytest.approx(ranked[:6])
    plans = [tuple(sorted(s.plan.items())) for s in result.plans]
    assert len(set(plans)) == 6
    for s in result.plans:
        assert outopt.verify(small, s.plan).feasible
    assert result.differences(0) == []
    assert result.differences(1) == [{"function": f, "provider": p, "best": result.plans[0].plan[f]}
                                     for f, p in result.plans[1].plan.items() if result.plans[0].plan[f] != p]


@pytest.mark.parametrize("within", ["3%", 0.05, "0.1"])
def test_alternatives_within_distance(small, within):
    frac = parse_within(within)
    optimum, _ = best(small)
    floor = optimum - frac * optimum
    n_within = sum(1 for obj, _ in feasible_plans(small) if obj >= floor - 1e-6)
    result = alternatives(small, 50, within)
    assert len(result.plans) == min(50, n_within)
    assert all(s.objective >= floor - 1e-6 for s in result.plans)


def test_alternatives_of_an_infeasible_instance():
    result = alternatives(outopt.load(INSTANCES / "infeasible.yaml"), 3)
    assert result.plans == [] and result.best.status.value == "infeasible"


def test_parse_within():
    assert parse_within("2%") == pytest.approx(0.02)
    assert parse_within("0.02") == pytest.approx(0.02)
    with pytest.raises(outopt.InputError, match="--within: 'two' is not a distance"):
        parse_within("two")
    with pytest.raises(outopt.InputError, match="--within: 2 is not a fraction below 1"):
        parse_within("2")


# --- scenarios --------------------------------------------------------------------------


def test_overrides_set_scale_shift_remove_flip_add(small):
    inst = apply_overrides(small, {
        "budget.operating": 800_000,
        "vendors.ledgerly.retainer": "*1.1",
        "offers[invoicing,ledgerly].cost": "+5000",
        "offers[payroll,numera].cost": "-1000",
        "resources.finance_staff.capacity": "*0.5",
        "functions.payroll.core": True,
        "functions.sales.inhouse.cost": 300_000,
        "rules.max_vendors": 2,
        "remove": ["vendors.techdesk", "offers[bookkeeping,ledgerly]"],
        "add": {"rules.separate": [["payables", "payroll"]]},
    })
    assert inst.budget.operating == 800_000
    assert inst.vendor("ledgerly").retainer == pytest.approx(13_200)
    offers = {(o.function, o.vendor): o for o in inst.offers}
    assert offers["invoicing", "ledgerly"].cost == 53_000
    assert offers["payroll", "numera"].cost == 29_000
    assert inst.resources[0].capacity == 2.0
    assert inst.function("payroll").core and inst.function("sales").inhouse.cost == 300_000
    assert inst.rules.max_vendors == 2
    assert "techdesk" not in {v.id for v in inst.vendors}
    assert ("it_support", "techdesk") not in offers and ("bookkeeping", "ledgerly") not in offers
    assert inst.function("it_support").current is None  # its current vendor is gone
    assert inst.rules.separate == [["invoicing", "collections"], ["payables", "payroll"]]
    assert small.budget.operating == 1_150_000  # the base is unchanged


def test_overrides_naming_nothing_are_errors_with_their_location(small):
    scenarios = {"bad": {
        "vendors.nope.retainer": 1,
        "offers[invoicing,techdesk].cost": 1,
        "vendors.ledgerly.colour": "red",
        "budget.operatin": 1,
        "pricing.x": 1,
        "functions.invoicing.inhouse.costs": 1,
        "remove": ["vendors.ghost"],
    }, "also_bad": {"rules.max_vendors": "*x"}}
    with pytest.raises(outopt.InputError) as err:
        compare(small, scenarios)
    assert [str(p) for p in err.value.problems] == [
        "scenarios.bad.vendors.nope.retainer: vendor 'nope' is not in vendors",
        "scenarios.bad.offers[invoicing,techdesk].cost: there is no offer for function 'invoicing' from vendor 'techdesk'",
        "scenarios.bad.vendors.ledgerly.colour: vendors.ledgerly has no field 'colour'",
        "scenarios.bad.budget.operatin: budget has no field 'operatin'",
        "scenarios.bad.pricing.x: unknown key 'pricing'; use budget, rules, horizon, resources, functions, "
        "vendors or offers[f,v]",
        "scenarios.bad.functions.invoicing.inhouse.costs: functions.invoicing.inhouse has no field 'costs'",
        "scenarios.bad.remove: vendor 'ghost' is not in vendors",
        "scenarios.also_bad: rules.max_vendors: Input should be a valid integer, unable to parse string as an "
        "integer (got '*x')",
    ]


def test_scenario_results_are_revalidated(small):
    with pytest.raises(outopt.InputError) as err:
        apply_overrides(small, {"remove": ["offers[sales,salesreach]"], "functions.sales.inhouse": None,
                                "vendors.numera.max_share": 0}, where="scenarios.s")
    assert [str(p) for p in err.value.problems] == [  # every problem at once: the format's, then the references'
        "scenarios.s: vendors[1].max_share: Input should be greater than 0 (got 0)",
        "scenarios.s: functions[6].inhouse: function 'sales' has no in-house option and no offer; add one or the other",
    ]
    with pytest.raises(outopt.InputError) as err:
        apply_overrides(small, {"remove": ["offers[sales,salesreach]"], "functions.sales.inhouse": None},
                        where="scenarios.s")
    assert [str(p) for p in err.value.problems] == [
        "scenarios.s: functions[6].inhouse: function 'sales' has no in-house option and no offer; add one or the other",
    ]


def test_compare_matches_enumeration(small):
    table = compare(small, load_scenarios(SCENARIOS))
    assert list(table["scenario"]) == ["base", "budget_cut_5pct", "one_off_cut_20pct", "ledgerly_prices_up", "numera_exits",
                                       "payroll_core", "max_2_vendors", "segregate_payroll"]
    base_opt, base_plans = best(small)
    for sc, row in zip([None, *load_scenarios(SCENARIOS)], table.to_dict("records")):
        inst = small if sc is None else apply_overrides(small, sc.overrides)
        optimum, plans = best(inst)
        if optimum is None:
            assert row["status"] == "infeasible" and row["changed"] == []
            continue
        assert row["status"] == "optimal"
        assert row["objective"] == pytest.approx(optimum)
        assert row["delta"] == pytest.approx(optimum - base_opt)
        check = outopt.verify(inst, [p for p in plans if
                                     sorted(f for f in p if p[f] != base_plans[0].get(f)) == sorted(row["changed"])][0])
        assert row["total_cost"] == pytest.approx(check.operating_cost)
    data = comparison_to_dict(table)
    assert data["scenarios"][6]["name"] == "max_2_vendors"
    assert data["scenarios"][6]["changed"] == ["invoicing", "collections", "payroll"]
    assert data["scenarios"][4]["objective"] is None


def test_scenario_file_problems(tmp_path):
    path = tmp_path / "s.yaml"
    path.write_text("scenarios: [a, b]\n")
    with pytest.raises(outopt.InputError) as err:
        load_scenarios(path)
    assert str(err.value) == f"{path}: scenarios: expected a mapping of scenario names to overrides"
    path.write_text("scenarios:\n  ok: {horizon: 5}\n  broken: 3\n")
    with pytest.raises(outopt.InputError) as err:
        load_scenarios(path)
    assert str(err.value) == f"{path}: scenarios.broken: expected a mapping of keys to values"
    with pytest.raises(outopt.InputError, match="file not found"):
        load_scenarios(tmp_path / "none.yaml")
    with pytest.raises(outopt.InputError) as err:
        apply_overrides(outopt.load(INSTANCES / "small_business.yaml"),
                        {"remove": ["functions.sales"], "vendors.numera.onboarding": "*2", "budget": None})
    assert [str(p) for p in err.value.problems] == [
        "overrides.remove: remove takes vendors.<id> or offers[<function>,<vendor>]",
    ]


def _lexicographic_frontier(inst, param, lower, upper):
    """Oracle with soft rules ranked by priority: [(at, objective_below, objective_above)] by enumeration."""
    limit = parse_limit(inst, param)
    top = limit.instance_at(inst, upper)
    levels = sorted({lv for o, p in feasible_plans(top) for lv in outopt.verify(top, p).level_violation}, reverse=True)
    ranked = []
    for _, plan in feasible_plans(top):
        check = outopt.verify(top, plan)
        key = tuple(-round(check.level_violation.get(lv, 0.0), 6) for lv in levels) + (round(check.objective, 6),)
        ranked.append((REQUIREMENT[param](check), key, check.objective))

    def best_at(t):
        fits = [(k, o) for r, k, o in ranked if r <= t + 1e-9]
        return max(fits)[1] if fits else None

    out = []
    for r in sorted({r for r, _, _ in ranked}):
        if lower < r <= upper:
            below = max([(k, o) for q, k, o in ranked if q < r - 1e-9], default=(None, None))
            above = max((k, o) for q, k, o in ranked if q <= r + 1e-9)
            if below[0] != above[0]:
                out.append((r, below[1], above[1]))
    return out, best_at


def test_frontier_with_priority_soft_rules_matches_enumeration():
    # a soft one-off budget at priority 2 and a soft vendor count at priority 1 rank plans before net benefit
    inst = apply_overrides(random_instance(5, 4), {"budget.transition": 20_000, "rules.max_vendors": 1,
                                                   "budget.soft": {"transition": {"priority": 2}},
                                                   "rules.soft": {"max_vendors": {"priority": 1}}})
    expected, best_at = _lexicographic_frontier(inst, "budget.operating", 200_000, 600_000)
    result = frontier(inst, "budget.operating", 200_000, 600_000, steps=5, tol=0.01)
    assert result.prioritised and result.exact
    got = [(b.at, b.objective_below, b.objective_above) for b in result.breakpoints]
    assert len(got) == len(expected) >= 2, (got, expected)
    for (at, below, above), (e_at, e_below, e_above) in zip(got, expected):
        assert at == pytest.approx(e_at, abs=0.01) and above == pytest.approx(e_above)
        assert below == (None if e_below is None else pytest.approx(e_below))
    for p in result.points:
        assert p.objective == (None if best_at(p.value) is None else pytest.approx(best_at(p.value)))
