"""Explanations against brute-force enumeration: regret and runner-up per function, break-even cost per offer
(the offer enters an optimal plan at that cost and not above it), the value of one more unit of a binding limit,
and the CLI."""

import json

import pytest
from bruteforce import best, feasible_plans
from conftest import INSTANCES, make, run_cli as run

import outopt
from outopt.analysis.explain import explain
from outopt.analysis.limits import set_place
from outopt.instance.schema import derived


@pytest.fixture(scope="module")
def small_explained():
    inst = outopt.load(INSTANCES / "small_business.yaml")
    return inst, explain(inst), list(feasible_plans(inst))


def test_regret_and_runner_up_equal_enumeration(small_explained):
    inst, ex, plans = small_explained
    top = max(obj for obj, _ in plans)
    assert ex.solution.objective == pytest.approx(top)
    for row in ex.functions:
        f, p = row["function"], row["provider"]
        others = [(obj, plan[f]) for obj, plan in plans if plan[f] != p]
        if not others:
            assert row["regret"] is None and row["runner_up"] is None, f
            continue
        second = max(obj for obj, _ in others)
        assert row["regret"] == pytest.approx(top - second, abs=1e-6), f
        assert row["runner_up"] in {q for obj, q in others if abs(obj - second) < 1e-6}, f
    # every function of the small instance: sales cannot leave (transition budget), product is core
    assert {r["function"] for r in ex.functions if r["regret"] is None} == {"sales", "product"}


def with_cost(inst, f, v, cost):
    # unchecked: the enumeration tries costs below 0 too
    return derived(inst, offers=[o.model_copy(update={"cost": cost}) if (o.function, o.vendor) == (f, v)
                                 else o for o in inst.offers])


def best_with(inst, f, v):
    values = [obj for obj, plan in feasible_plans(inst) if plan[f] == v]
    return max(values) if values else None


def test_break_even_equals_enumeration(small_explained):
    inst, ex, plans = small_explained
    top = ex.solution.objective
    chosen = ex.solution.plan
    assert {(o["function"], o["vendor"]) for o in ex.offers} == {
        (o.function, o.vendor) for o in inst.offers if chosen[o.function] != o.vendor}
    for row in ex.offers:
        f, v, c = row["function"], row["vendor"], row["break_even_cost"]
        if c is None:
            # never: no feasible plan gives f to v, whatever the cost
            for cost in (row["cost"], 0.0, -1e7):
                assert best_with(with_cost(inst, f, v, cost), f, v) is None, (f, v)
            continue
        assert c <= row["cost"] + 1e-9
        # at the break-even the offer is in an optimal plan; one cent above it is not
        at = best_with(with_cost(inst, f, v, c), f, v)
        above = best_with(with_cost(inst, f, v, c + 0.01), f, v)
        assert at == pytest.approx(top, abs=1e-5), (f, v)
        assert above < top - 1e-3, (f, v)
    assert sum(r["break_even_cost"] is None for r in ex.offers) == 1  # sales -> salesreach


def test_binding_limits_and_value_of_a_unit_on_small(small_explained):
    inst, ex, plans = small_explained
    top = ex.solution.objective
    check = outopt.verify(inst, ex.solution.plan)
    limits = {r["limit"]: r for r in ex.limits}
    assert limits["budget.transition"]["used"] == pytest.approx(check.transition_cost)
    assert {k for k, r in limits.items() if r["binding"]} == {"budget.transition", "rules.max_vendors"}
    for place, r in limits.items():
        if not r["binding"]:
            assert r["value_of_unit"] is None
            continue
        value = r["current"] + r["step"]
        relaxed = set_place(inst, {place: int(value) if place == "rules.max_vendors" else value})
        assert r["gain"] == pytest.approx(best(relaxed)[0] - top, abs=1e-6), place
        assert r["value_of_unit"] == pytest.approx(r["gain"] / r["step"])


def capacity_instance():
    # v1 carries 2 units: a (load 2, benefit 40) or b + c (load 1 each, benefits 30 + 25 = 55) -> 55.
    # One more unit of capacity: a + b (70) -> worth 15.
    return make(
        functions=[{"id": "a", "inhouse": {"cost": 100}}, {"id": "b", "inhouse": {"cost": 80}},
                   {"id": "c", "inhouse": {"cost": 50}}],
        vendors=[{"id": "v1", "capacity": 2}],
        offers=[{"function": "a", "vendor": "v1", "cost": 60, "load": 2},
                {"function": "b", "vendor": "v1", "cost": 50, "load": 1},
                {"function": "c", "vendor": "v1", "cost": 25, "load": 1}],
    )


def test_value_of_one_more_unit_of_vendor_capacity():
    inst = capacity_instance()
    ex = explain(inst)
    assert ex.solution.objective == pytest.approx(55)
    (cap,) = ex.limits
    assert cap["limit"] == "vendors[0].capacity" and cap["binding"] and cap["step"] == 1
    assert cap["gain"] == pytest.approx(15) and cap["value_of_unit"] == pytest.approx(15)
    assert cap["lp_dual"] is not None and cap["lp_dual"] >= 0
    # a: break-even where a alone (100 - cost) ties with b + c (55): cost 45
    (offer,) = ex.offers
    assert (offer["function"], offer["break_even_cost"]) == ("a", pytest.approx(45))
    # forcing b in-house: c alone (25) or a alone (40) -> a; regret 15, and a and c change with it
    row = next(r for r in ex.functions if r["function"] == "b")
    assert (row["runner_up"], row["regret"]) == ("inhouse", pytest.approx(15))
    assert row["changes"] == [{"function": "a", "from": "inhouse", "to": "v1"},
                              {"function": "c", "from": "v1", "to": "inhouse"}]


def test_core_offer_never_breaks_even():
    inst = make(functions=[{"id": "a", "core": True, "inhouse": {"cost": 100}}], vendors=[{"id": "v1"}],
                offers=[{"function": "a", "vendor": "v1", "cost": 1}])
    ex = explain(inst)
    assert ex.offers == [{"function": "a", "vendor": "v1", "cost": 1.0, "break_even_cost": None,
                          "reason": "core function: kept in-house"}]
    assert ex.functions[0]["regret"] is None


def test_locked_and_forbidden_offers_never_break_even():
    inst = capacity_instance().model_copy(deep=True)
    data = inst.model_dump()
    data["offers"].append({"function": "a", "vendor": "v2", "cost": 1})
    data["offers"].append({"function": "b", "vendor": "v2", "cost": 1})
    data["vendors"].append({"id": "v2"})
    data["rules"]["forbid"] = [{"functions": ["a"], "vendors": ["v2"], "reason": "data residency"}]
    data["rules"]["locks"] = [{"function": "b", "provider": "v1", "reason": "contract until 2027"}]
    ex = explain(outopt.Instance.model_validate(data))
    reasons = {(o["function"], o["vendor"]): (o["break_even_cost"], o["reason"]) for o in ex.offers}
    assert reasons[("a", "v2")] == (None, "rules.forbid[0]: data residency")
    assert reasons[("b", "v2")] == (None, "rules.locks[0]: locked to v1 (contract until 2027)")


def test_reuses_the_built_model(monkeypatch):
    import outopt.analysis.explain as module

    builds = []
    real = module.build_any
    monkeypatch.setattr(module, "build_any", lambda inst, **kw: builds.append(inst) or real(inst, **kw))
    ex = explain(outopt.load(INSTANCES / "small_business.yaml"))
    # one model for every re-solve, plus one build read for the cost coefficients of the break-even
    assert ex.solves > 10 and len(builds) == 2


def test_solution_explain_is_a_dataframe():
    sol = outopt.solve(capacity_instance())
    df = sol.explain()
    assert list(df.columns) == ["function", "provider", "runner_up", "regret", "also_changes"]
    assert list(df["function"]) == ["a", "b", "c"]
    assert df.set_index("function").loc["b", "regret"] == pytest.approx(15)
    assert list(df.attrs["offers"]["function"]) == ["a"]
    assert bool(df.attrs["limits"]["binding"].iloc[0])




def test_cli_explain(tmp_path):
    r = run("explain", INSTANCES / "small_business.yaml", "--json", "-")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    assert set(data) >= {"functions", "offers", "limits"}
    assert set(data["functions"][0]) >= {"function", "provider", "runner_up", "regret"}
    assert set(data["offers"][0]) >= {"function", "vendor", "break_even_cost"}
    assert set(data["limits"][0]) >= {"limit", "binding", "value_of_unit"}
    never = [o for o in data["offers"] if o["break_even_cost"] is None]
    assert [(o["function"], o["vendor"]) for o in never] == [("sales", "salesreach")]
    r = run("explain", INSTANCES / "small_business.yaml")
    assert r.returncode == 0
    assert "break-even" in r.stdout and "never" in r.stdout and "budget.transition" in r.stdout
    r = run("explain", INSTANCES / "infeasible.yaml", "--json", tmp_path / "x.json")
    assert r.returncode == 3
    assert "outopt diagnose" in r.stderr and not (tmp_path / "x.json").exists()


def in_house_instance():
    # three functions kept in-house (every offer costs more than it saves), two vendors with a retainer each
    # and an operating budget: break-even costs need one MIP each, and they settle every regret (each
    # function's alternatives are offers whose best plans the break-even search found exactly)
    return make(
        functions=[{"id": "a", "inhouse": {"cost": 100}}, {"id": "b", "inhouse": {"cost": 80}},
                   {"id": "c", "inhouse": {"cost": 60}}],
        vendors=[{"id": "v1", "retainer": 20}, {"id": "v2", "retainer": 5}],
        offers=[{"function": "a", "vendor": "v1", "cost": 95}, {"function": "b", "vendor": "v1", "cost": 70},
                {"function": "c", "vendor": "v1", "cost": 58}, {"function": "a", "vendor": "v2", "cost": 99},
                {"function": "b", "vendor": "v2", "cost": 79}, {"function": "c", "vendor": "v2", "cost": 61}],
        budget={"operating": 260},
    )


def test_break_evens_settle_regrets_with_fewer_solves_than_questions():
    inst = in_house_instance()
    ex = explain(inst)
    plans = list(feasible_plans(inst))
    top = max(obj for obj, _ in plans)
    assert ex.solution.objective == pytest.approx(top)
    assert all(p == "inhouse" for p in ex.solution.plan.values())
    for row in ex.functions:  # as enumeration says
        f = row["function"]
        second = max(obj for obj, plan in plans if plan[f] != "inhouse")
        assert row["regret"] == pytest.approx(top - second, abs=1e-6), f
        assert best_with(inst, f, row["runner_up"]) == pytest.approx(second, abs=1e-6), f
    # 3 regrets + 6 break-evens asked; the first solve and one MIP per break-even answer them all
    assert ex.questions == 9
    assert ex.solves == 1 + 6 < ex.questions


def test_time_limit_stops_the_explanation_and_keeps_only_exact_figures():
    """A time limit cut short of the full explanation: the call returns on time, the questions not
    answered say so, and every figure it does report equals the full explanation's."""
    import time

    inst = outopt.load(INSTANCES / "midsize.yaml")
    t = time.perf_counter()
    full = explain(inst)
    limit = 0.4 * (time.perf_counter() - t)  # relative to this machine's speed: some questions, not all
    t = time.perf_counter()
    part = explain(inst, time_limit=limit)
    assert time.perf_counter() - t < limit + 1.0
    assert part.solution.objective == pytest.approx(full.solution.objective)
    unanswered = [r for r in part.offers if r["reason"] == "time limit reached"] + \
                 [r for r in part.functions if r.get("note") == "time limit reached"]
    assert unanswered, "40 % of the full explanation's time should not be enough for all 106 questions"
    by_offer = {(r["function"], r["vendor"]): r for r in full.offers}
    answered = [r for r in part.offers if r["break_even_cost"] is not None]
    for r in answered:
        assert r["break_even_cost"] == pytest.approx(by_offer[r["function"], r["vendor"]]["break_even_cost"],
                                                     abs=1e-6 * abs(full.solution.objective))
    by_function = {r["function"]: r for r in full.functions}
    for r in part.functions:
        if r["regret"] is not None:
            assert r["regret"] == pytest.approx(by_function[r["function"]]["regret"], abs=1e-6)
    assert answered or any(r["regret"] is not None for r in part.functions)
