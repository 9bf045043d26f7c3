"""The analyses on a company, against brute-force enumeration of every company plan judged by the
independent company verifier: the explanation's regrets and break-even costs, the diagnosis of a corporate
budget with its exact repair, the frontier of a corporate limit, scenarios and the risk frontier."""

import itertools

import pytest
from bruteforce import options as provider_options

from outopt.analysis.diagnose import diagnose
from outopt.analysis.explain import explain
from outopt.analysis.frontier import frontier
from outopt.analysis.limits import set_place
from outopt.analysis.pareto import pareto
from outopt.analysis.scenarios import apply_overrides, compare
from outopt.instance.company import company_from_data
from outopt.verifier.company import verify_company


def tiny(**corporate):
    """Two divisions sharing vendors x (retainer 30, onboarding 10, cheaper offers) and y (retainer 5);
    horizon 2, so a one-off counts half per year."""
    vendors = [{"id": "x", "retainer": 30, "onboarding": 10, "risk": 0.6}, {"id": "y", "retainer": 5, "risk": 0.2}]
    a = {"name": "A", "horizon": 2, "functions": [{"id": "a1", "inhouse": {"cost": 100}},
                                                   {"id": "a2", "inhouse": {"cost": 80}}],
         "vendors": vendors,
         "offers": [{"function": "a1", "vendor": "x", "cost": 55, "transition": 4},
                    {"function": "a1", "vendor": "y", "cost": 72.5},
                    {"function": "a2", "vendor": "x", "cost": 50, "transition": 6},
                    {"function": "a2", "vendor": "y", "cost": 62, "transition": 2}]}
    b = {"name": "B", "horizon": 2, "functions": [{"id": "b1", "inhouse": {"cost": 90}},
                                                   {"id": "b2", "inhouse": {"cost": 70}}],
         "vendors": vendors,
         "offers": [{"function": "b1", "vendor": "x", "cost": 60},
                    {"function": "b1", "vendor": "y", "cost": 66, "transition": 8},
                    {"function": "b2", "vendor": "y", "cost": 51, "transition": 6},
                    {"function": "b2", "vendor": "x", "cost": 48, "transition": 10}]}
    return company_from_data({"name": "Tiny Group", **corporate,
                              "divisions": [{"id": "a", "instance": a}, {"id": "b", "instance": b}]})


def plans(company):
    """Every company plan (division -> function -> provider)."""
    per = []
    for d in company.divisions:
        opts = provider_options(d.instance)
        per.append([dict(zip(opts, combo)) for combo in itertools.product(*opts.values())])
    for combo in itertools.product(*per):
        yield {d.id: p for d, p in zip(company.divisions, combo)}


def feasible(company):
    """(objective, operating cost, plan) of every feasible plan."""
    out = []
    for plan in plans(company):
        check = verify_company(company, plan)
        if check.feasible:
            out.append((check.objective, check.operating_cost, plan))
    return out


def optimum(company, fits=lambda plan: True):
    found = [(obj, plan) for obj, _, plan in feasible(company) if fits(plan)]
    return max(found, key=lambda t: t[0]) if found else (None, None)


def with_cost(company, division, function, vendor, cost):
    i = [d.id for d in company.divisions].index(division)
    k = next(k for k, o in enumerate(company.divisions[i].instance.offers) if (o.function, o.vendor) == (function, vendor))
    return set_place(company, {f"divisions[{i}].offers[{k}].cost": cost})


def enters(company, division, function, vendor, cost) -> bool:
    """At this yearly cost of the offer, some optimal plan gives the function to the vendor (by enumeration)."""
    changed = with_cost(company, division, function, vendor, cost)
    best, _ = optimum(changed)
    mine, _ = optimum(changed, lambda plan: plan[division][function] == vendor)
    return mine is not None and mine >= best - 1e-7


BUDGET = {"budget": {"operating": 300, "transition": 22}}
# the transition budget and the vendor count bind (x's retainer shared by both divisions); the operating budget binds
CASES = {"one-off": {"budget": {"operating": 262, "transition": 26}, "max_vendors": 2},
         "recurring": {"budget": {"operating": 258, "transition": 24}, "max_vendors": 2}}


@pytest.fixture(scope="module", params=list(CASES))
def explained(request):
    company = tiny(**CASES[request.param])
    return company, explain(company)


def test_explanation_regrets_match_enumeration(explained):
    company, ex = explained
    opt, best = optimum(company)
    assert ex.solution.objective == pytest.approx(opt)
    assert len(ex.functions) == 4
    for row in ex.functions:
        d, f = row["division"], row["function"]
        assert row["provider"] == ex.solution.plans[d][f]
        other, plan = optimum(company, lambda plan: plan[d][f] != row["provider"])
        if other is None:
            assert row["regret"] is None and row["runner_up"] is None
        else:
            assert row["regret"] == pytest.approx(opt - other, abs=1e-6), (d, f)
            runner_up = row["runner_up"]  # the plan the explanation found is one of the best such plans
            best_with = optimum(company, lambda p: p[d][f] == runner_up)[0]
            assert best_with == pytest.approx(other, abs=1e-6)
            changed = {(c["division"], c["function"]) for c in row["changes"]}
            assert all(c["from"] == ex.solution.plans[c["division"]][c["function"]] for c in row["changes"])
            assert (d, f) not in changed


def test_explanation_break_even_costs_match_enumeration(explained):
    company, ex = explained
    assert ex.offers, "some offers are not chosen"
    for row in ex.offers:  # the offer enters at the break-even cost and not above it (1e-4 either side)
        offer, be = (row["division"], row["function"], row["vendor"]), row["break_even_cost"]
        if be is None:
            assert not enters(company, *offer, 0.0), row
            continue
        assert 0 <= be <= row["cost"] and enters(company, *offer, max(0.0, be - 1e-4)), row
        assert be == row["cost"] or not enters(company, *offer, be + 1e-4), row


def test_explanation_names_corporate_and_division_limits(explained):
    company, ex = explained
    limits = {r["limit"]: r for r in ex.limits}
    assert list(limits) == ["budget.operating", "budget.transition", "max_vendors"]
    assert any(r["binding"] for r in ex.limits)
    check = verify_company(company, ex.solution.plans)
    assert limits["budget.operating"]["used"] == pytest.approx(check.operating_cost)
    assert limits["max_vendors"]["used"] == len(check.engaged)
    for r in ex.limits:  # the value of one more unit: the optimum with the limit relaxed by the step
        if r["binding"]:
            place = r["limit"]
            relaxed = set_place(company, {place: r["current"] + r["step"]})
            assert r["gain"] == pytest.approx(optimum(relaxed)[0] - ex.solution.objective, abs=1e-6), place


def test_diagnosis_of_a_corporate_budget_gives_the_exact_repair():
    loose = tiny()
    need = min(cost for _, cost, _ in feasible(tiny(budget={"transition": 30})))  # least corporate recurring cost
    short = tiny(budget={"operating": need - 15, "transition": 30})
    assert not feasible(short)
    d = diagnose(short)
    assert d.feasible is False
    assert [r.to_dict() for r in d.repairs] == [{"limit": "budget.operating", "label": "corporate operating budget",
                                                 "current": need - 15, "needed": need, "short_by": 15.0}]
    assert d.conflict == ["budget.operating"]
    assert "budget.operating: corporate recurring cost at most" in str(d)
    assert diagnose(loose).feasible is True


def test_diagnosis_names_a_division_limit():
    company = tiny(budget={"operating": 1000})
    broken = set_place(company, {"divisions[1].budget.operating": 100})  # B's all in-house is 160
    d = diagnose(broken)
    least_b = min(verify_company(broken, p).divisions["b"].operating_cost for p in plans(broken))
    assert [(r.limit, r.needed) for r in d.repairs] == [("divisions[1].budget.operating", least_b)]
    assert d.conflict == ["divisions[1].budget.operating"]
    assert "b: recurring cost at most 100" in str(d)


def test_frontier_of_the_corporate_one_off_budget_matches_enumeration():
    company = tiny(max_vendors=2)
    points = []
    for plan in plans(company):
        check = verify_company(company, plan)
        if check.feasible:
            points.append((check.transition_cost, check.objective))
    lo, hi = 0.0, 40.0

    def z(t):
        return max((obj for cost, obj in points if cost <= t + 1e-9), default=None)

    # breakpoints: the plans' one-off costs where the best net benefit rises
    costs = sorted({c for c, _ in points if lo < c <= hi})
    expected = [(c, z(c - 1e-6), z(c)) for c in costs if z(c - 1e-6) != z(c)]
    result = frontier(company, "budget.transition", lo, hi, steps=3)
    assert result.exact and len(expected) == 6
    got = [(b.at, b.objective_below, b.objective_above) for b in result.breakpoints]
    assert len(got) == len(expected)
    for (at, below, above), (c, zb, za) in zip(got, expected):
        assert at == pytest.approx(c, abs=result.tolerance)
        assert above == pytest.approx(za) and (below is None) == (zb is None)
        if zb is not None:
            assert below == pytest.approx(zb)
    assert all("division" in change for b in result.breakpoints for change in b.changes)
    assert result.breakpoints[-1].changes  # the one-off budget that lets x serve both divisions


def test_frontier_of_a_shared_vendor_capacity_and_the_company_vendor_count():
    company = tiny(**BUDGET)
    result = frontier(company, "max_vendors", 0, 2)
    for k in (0, 1, 2):
        capped = set_place(company, {"max_vendors": k})
        assert result.objective_at(k) == pytest.approx(optimum(capped)[0])


def test_company_scenarios_and_overrides():
    company = tiny(**BUDGET)
    table = compare(company, {"y_leaves": {"remove": ["vendors.y"]},
                              "tight": {"budget.operating": "-40"},
                              "b_core": {"divisions.b.functions.b1.core": True}})
    rows = {r["scenario"]: r for r in table.to_dict("records")}
    for name, overrides in (("y_leaves", {"remove": ["vendors.y"]}), ("tight", {"budget.operating": "-40"}),
                            ("b_core", {"divisions.b.functions.b1.core": True})):
        changed = apply_overrides(company, overrides)
        opt, _ = optimum(changed)
        assert rows[name]["objective"] == pytest.approx(opt) if opt is not None else rows[name]["status"] == "infeasible"
    assert all("." in c for c in rows["y_leaves"]["changed"])  # division.function
    from outopt.errors import InputError

    with pytest.raises(InputError) as info:
        apply_overrides(company, {"divisions.c.budget.operating": 1, "vendors.x.colour": 2}, where="scenarios.s")
    assert [str(p) for p in info.value.problems] == [
        "scenarios.s.divisions.c.budget.operating: division 'c' is not in divisions",
        "scenarios.s.vendors.x.colour: unknown key 'vendors.x.colour'; a company's are budget.operating, "
        "budget.transition, max_vendors, vendors.<id>.capacity, vendors.<id>.max_share and divisions.<id>.<key>"]


def test_risk_frontier_of_a_company_is_the_efficient_set_of_enumeration():
    company = tiny(budget={"transition": 30})
    found = []
    for plan in plans(company):
        check = verify_company(company, plan)
        if check.feasible:
            found.append((check.objective, check.risk))
    efficient = sorted({(round(r, 9), round(o, 6)) for o, r in found
                        if not any(o2 >= o - 1e-9 and r2 <= r + 1e-9 and (o2 > o + 1e-9 or r2 < r - 1e-9)
                                   for o2, r2 in found)})
    result = pareto(company, tol=1e-6)
    assert len(efficient) == 4  # all in-house, y everywhere, a mix, x everywhere
    assert [(round(p.risk, 9), round(p.objective, 6)) for p in result.plans] == efficient


def test_alternative_company_plans_are_the_best_by_enumeration():
    from outopt.analysis.alternatives import alternatives

    company = tiny(budget={"transition": 30})
    alts = alternatives(company, 5)
    best = sorted((obj for obj, _, _ in feasible(company)), reverse=True)[:5]
    assert [s.objective for s in alts.plans] == pytest.approx(best)
    assert len({str(s.plans) for s in alts.plans}) == 5
    assert all(verify_company(company, s.plans).feasible for s in alts.plans)
    assert all("division" in d for i in range(1, 5) for d in alts.differences(i))
