"""The transition roadmap (issue 16): each link between years on a tiny instance whose optimal roadmap is
found by enumerating every provider path, with and without the term; random tiny roadmaps against
enumeration; a one-year roadmap against today's single-year solve; the verifier catching a roadmap that
breaks each link; the JSON contract."""

import json
import random
from collections import Counter

import pytest
from conftest import make
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from roadmap_oracle import best_roadmap
from strategies import examples, instances

import outopt
from outopt.instance.schema import INHOUSE
from outopt.verifier.roadmap import verify_roadmap


def base() -> dict:
    """3 functions, 2 vendors, 3 years: a (in-house) may go to v1; b runs at v1 today and may move to v2;
    c (in-house) may go to v2. 8 x 27 x 8 = 1,728 roadmaps."""
    return dict(
        name="tiny", roadmap={"years": 3},
        functions=[
            {"id": "a", "inhouse": {"cost": 100}},
            {"id": "b", "current": "v1", "inhouse": {"cost": 80}},
            {"id": "c", "inhouse": {"cost": 60}},
        ],
        vendors=[{"id": "v1", "retainer": 5}, {"id": "v2"}],
        offers=[
            {"function": "a", "vendor": "v1", "cost": 70, "transition": 40},
            {"function": "b", "vendor": "v1", "cost": 70},
            {"function": "b", "vendor": "v2", "cost": 50, "transition": 30},
            {"function": "c", "vendor": "v2", "cost": 65, "value": 30, "transition": 20},
        ])


def _fn(d, i):
    return d["functions"][i]


def _offer(d, f, v):
    return next(o for o in d["offers"] if o["function"] == f and o["vendor"] == v)


def _staff(d):
    d["resources"] = [{"id": "s", "capacity": 5, "redeploy_value": 30}]
    _fn(d, 0)["inhouse"]["uses"] = {"s": 1}


def _soft_transition(d):
    d["roadmap"]["budget"] = {"transition": [20, 20, 20]}
    d["budget"] = {"transition": 20, "soft": {"transition": {"penalty": 0.5}}}


TERMS = {  # each new term of the roadmap, as a change to the base instance
    "transition": lambda d: [o.update(transition=o.get("transition", 0) * 2) for o in d["offers"]],
    "onboarding": lambda d: d["vendors"][1].update(onboarding=50),
    "exit_fee": lambda d: _fn(d, 1).update(exit_fee=40),
    "contract_end": lambda d: _fn(d, 1).update(exit_fee=40, contract_end=1),
    "parallel_run": lambda d: _offer(d, "b", "v2").update(parallel_run=0.5),
    "redeploy": _staff,
    "max_changes_per_year": lambda d: d["roadmap"].update(max_changes_per_year=1),
    "operating_budget_per_year": lambda d: d["roadmap"].update(budget={"operating": [240, 240, 185]}),
    "transition_budget_per_year": lambda d: d["roadmap"].update(budget={"transition": [20, 60, 0]}),
    "soft_transition_budget": _soft_transition,
    "earliest_change": lambda d: _fn(d, 2).update(earliest_change=3),
    "available_from": lambda d: d["vendors"][1].update(available_from=2),
    "available_from_current": lambda d: d["vendors"][0].update(available_from=2),
    "escalation": lambda d: d["vendors"][1].update(escalation=20),
    "discount_rate": lambda d: d["roadmap"].update(discount_rate=0.1),
    "tail_years": lambda d: d["roadmap"].update(tail_years=2),
}


def instance_with(term: str | None) -> outopt.Instance:
    d = base()
    if term is not None:
        TERMS[term](d)
    return make(**d)


def check_against_enumeration(inst: outopt.Instance):
    best, plans = best_roadmap(inst)
    sol = outopt.solve(inst)
    if best is None:
        assert sol.status == outopt.Status.INFEASIBLE
        return sol, best, plans
    assert sol.status == outopt.Status.OPTIMAL, sol.message
    assert sol.objective == pytest.approx(best, abs=1e-6)
    assert sol.plan in plans
    return sol, best, plans


@pytest.fixture(scope="module")
def without():
    return best_roadmap(instance_with(None))


def test_base_roadmap_by_hand(without):
    """Against all in-house, undiscounted: a to v1 in year 1: 3 x 30 - 40 = 50, less v1's retainer 15; b to
    v2 in year 1: 3 x 30 - 30 = 60; c to v2 in year 1: 3 x (60 - 65 + 30) - 20 = 55. NPV 150."""
    sol, best, _ = check_against_enumeration(instance_with(None))
    assert best == pytest.approx(150)
    assert sol.plan == {"a": ["v1"] * 3, "b": ["v2"] * 3, "c": ["v2"] * 3}


@pytest.mark.parametrize("term", list(TERMS))
def test_each_term_against_enumeration(term, without):
    """The roadmap model finds the enumerated optimum with the term, and the term changes the optimum or
    the optimal roadmaps (so the test would notice a model that ignores it)."""
    sol, best, plans = check_against_enumeration(instance_with(term))
    assert best is not None
    assert abs(best - without[0]) > 1e-6 or plans != without[1], f"{term} changes nothing"


def test_exit_fee_is_free_after_the_contract_end():
    """b leaves v1 in year 2, the first year after its contract (exit fee 40): 2 x 20 - 30 = 10 gained."""
    sol = outopt.solve(instance_with("contract_end"))
    assert sol.plan["b"] == ["v1", "v2", "v2"]
    assert sol.change_rows()[1:] == [] or all(c["function"] != "b" or c["year"] == 2 for c in sol.change_rows())
    (move,) = [c for c in sol.verification.changes if c["function"] == "b"]
    assert (move["year"], move["exit_fee"], move["transition"], move["one_off"]) == (2, 0.0, 30.0, 30.0)


def test_parallel_run_pays_a_share_of_the_old_providers_cost():
    """Half a year of v1's 70 when b moves to v2 makes the move lose 5: b stays."""
    inst = instance_with("parallel_run")
    sol = outopt.solve(inst)
    assert sol.plan["b"] == ["v1"] * 3
    forced = {**sol.plan, "b": ["v2"] * 3}
    (move,) = [c for c in verify_roadmap(inst, forced).changes if c["function"] == "b"]
    assert move["parallel_run"] == pytest.approx(35) and move["one_off"] == pytest.approx(65)


def test_redeploy_counts_from_the_year_after_the_change():
    """a's staff (30 a year) are freed from year 2 when a moves in year 1: 2 x 30 more than without staff."""
    inst = instance_with("redeploy")
    sol = outopt.solve(inst)
    assert sol.plan["a"] == ["v1"] * 3
    assert [y.redeploy for y in sol.verification.years] == [0, 30, 30]
    assert sol.objective == pytest.approx(150 + 60)


def test_onboarding_is_paid_again_when_a_vendor_is_engaged_again():
    inst = instance_with("onboarding")
    plan = {"a": ["v1"] * 3, "b": ["v1"] * 3, "c": ["v2", "inhouse", "v2"]}
    check = verify_roadmap(inst, plan)
    assert [y.onboarding for y in check.years] == [{"v2": 50}, {}, {"v2": 50}]


def test_tail_repeats_the_last_year_with_all_staff_freed():
    d = base()
    _staff(d)
    d["roadmap"].update(discount_rate=0.1, tail_years=2)
    inst = make(**d)
    plan = {"a": ["inhouse", "v1", "v1"], "b": ["v1"] * 3, "c": ["inhouse"] * 3}
    check = verify_roadmap(inst, plan)
    last = check.years[-1]
    # year 3: a at v1 saves 30, b at v1 10, v1's retainer 5, a's staff freed 30 (outsourced in years 2 and 3)
    assert last.check.objective == pytest.approx(35) and last.redeploy == pytest.approx(30)
    assert check.tail == pytest.approx((35 + 30) * (1 / 1.1 ** 3 + 1 / 1.1 ** 4))
    years = [10 - 5, 10 + 30 - 5 - 40, 35 + 30]  # year 2: a moves to v1 (transition 40)
    assert check.objective == pytest.approx(sum(y / 1.1 ** t for t, y in enumerate(years)) + check.tail)
    check_against_enumeration(inst)


# --- random tiny roadmaps against enumeration ------------------------------------------------


def random_roadmap(seed: int) -> outopt.Instance:
    """A tiny roadmap instance using every roadmap term (at most a few thousand roadmaps). Its budgets and
    team capacity are set at or a little above what one random roadmap needs, so most draws have a plan."""
    rng = random.Random(seed)
    T = rng.choice([1, 2, 3, 3])
    nf = rng.randint(1, 3 if T < 3 else 2)
    vendors = [{"id": f"v{j}", "retainer": rng.choice([0, 0, 5]), "onboarding": rng.choice([0, 10, 25]),
                "escalation": rng.choice([0, 0, 10])} for j in range(rng.randint(1, 2))]
    for v in vendors:
        if rng.random() < 0.4:
            v["available_from"] = rng.randint(1, T + 1)
    resources = [{"id": "s", "capacity": rng.choice([1, 9]), "redeploy_value": rng.choice([0, 20])}]
    functions, offers = [], []
    for i in range(nf):
        f = {"id": f"f{i}", "inhouse": {"cost": rng.randint(40, 100), "uses": {"s": rng.choice([0, 1])}}}
        offered = [v["id"] for v in vendors if rng.random() < 0.7]
        for v in offered:
            offers.append({"function": f["id"], "vendor": v, "cost": rng.randint(10, 60),
                           "transition": rng.choice([0, 10, 30]), "parallel_run": rng.choice([0, 0, 0.5])})
        f["current"] = rng.choice([INHOUSE, *offered])
        if f["current"] != INHOUSE:
            f["exit_fee"] = rng.choice([0, 30])
            if rng.random() < 0.5:
                f["contract_end"] = rng.randint(1, T)
        if rng.random() < 0.3:
            f["earliest_change"] = rng.randint(1, T)
        functions.append(f)
    roadmap = {"years": T, "discount_rate": rng.choice([0, 0.1]), "tail_years": rng.choice([0, 1])}
    data = dict(name=f"random {seed}", roadmap=roadmap, resources=resources, functions=functions, vendors=vendors,
                offers=offers)
    plan = {f["id"]: [rng.choice([INHOUSE] + [o["vendor"] for o in offers if o["function"] == f["id"]])
                      for _ in range(T)] for f in functions}
    planted = verify_roadmap(make(**data), plan)
    if rng.random() < 0.5:
        roadmap["max_changes_per_year"] = max(Counter(c["year"] for c in planted.changes).values(), default=0)
    room = rng.choice([1.0, 1.0, 1.2])
    if rng.random() < 0.5:
        roadmap["budget"] = {"operating": [round(y.operating_cost * room, 2) for y in planted.years]}
    if rng.random() < 0.5:
        roadmap.setdefault("budget", {})["transition"] = [round(y.transition_cost * room, 2) for y in planted.years]
    return make(**data)


@settings(max_examples=examples(40), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(st.integers(0, 2**32 - 1))
def test_random_roadmaps_against_enumeration(seed):
    check_against_enumeration(random_roadmap(seed))


# --- one year: today's single-year solve, one-offs at full value -------------------------------


def _one_year(inst: outopt.Instance) -> tuple[outopt.Instance, outopt.Instance]:
    """The instance with horizon 1 and no redeploy value (redeploy counts the year after a change), and its
    one-year roadmap."""
    data = inst.model_dump(mode="json")
    data["horizon"] = 1
    for r in data["resources"]:
        r["redeploy_value"] = 0
    single = make(**data)
    return single, make(**{**data, "roadmap": {"years": 1}})


@settings(max_examples=examples(25), deadline=None, derandomize=True,
          suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large])
@given(instances(functions=(1, 4), vendors=(1, 3)))
def test_one_year_roadmap_equals_the_single_year_solve(drawn):
    single, one_year = _one_year(drawn[0])
    a, b = outopt.solve(single), outopt.solve(one_year)
    assert a.status == b.status, (a.message, b.message)
    if a.status.has_plan:
        assert b.objective == pytest.approx(a.objective, abs=1e-6)
        assert b.years.net_benefit.iloc[0] == pytest.approx(a.objective, abs=1e-6)


def test_one_year_roadmap_of_the_small_business_example(small):
    single, one_year = _one_year(small)
    a, b = outopt.solve(single), outopt.solve(one_year)
    assert b.objective == pytest.approx(a.objective) and a.objective > 0


# --- the verifier catches a roadmap that breaks each link ---------------------------------------


def _broken(term: str, plan: dict) -> list[str]:
    return verify_roadmap(instance_with(term), plan).violations


GOOD = {"a": ["v1"] * 3, "b": ["v2"] * 3, "c": ["v2"] * 3}


def test_verifier_catches_each_broken_link():
    assert verify_roadmap(instance_with(None), GOOD).feasible
    assert _broken("max_changes_per_year", GOOD) == [
        "year 1: roadmap.max_changes_per_year: 3 functions change provider, at most 1"]
    assert _broken("transition_budget_per_year", GOOD) == [
        "year 1: roadmap.budget.transition[0]: one-off cost 90.00 exceeds 20.00"]
    assert _broken("operating_budget_per_year", GOOD) == [
        "year 3: roadmap.budget.operating[2]: recurring cost 190.00 exceeds 185.00"]
    assert _broken("earliest_change", GOOD) == [
        "year 1: functions[2].earliest_change: 'c' changes provider in year 1, not allowed before year 3"]
    assert _broken("available_from", GOOD) == [
        "year 1: vendors[1].available_from: 'b' goes to 'v2', available from year 2",
        "year 1: vendors[1].available_from: 'c' goes to 'v2', available from year 2"]
    assert _broken("available_from_current", {**GOOD, "b": ["v1", "v2", "v2"]}) == [
        "year 1: vendors[0].available_from: 'a' goes to 'v1', available from year 2",
        "year 1: vendors[0].available_from: 'b' goes to 'v1', available from year 2"]
    assert _broken(None, {**GOOD, "b": ["v2", "v2"]}) == ["function 'b' has 2 years in the plan, not 3",
                                                          "year 3: function 'b' has no provider in the plan"]
    assert _broken(None, {**GOOD, "a": ["v1", "v2", "v1"]}) == [
        "year 2: function 'a' goes to 'v2', which has no offer for it"]


def test_verifier_prices_each_link():
    """The one-offs of a change: transition, exit fee up to the contract end, parallel run, onboarding."""
    d = base()
    _fn(d, 1).update(exit_fee=40, contract_end=2)
    _offer(d, "b", "v2").update(parallel_run=0.5)
    d["vendors"][1].update(onboarding=7, escalation=10)
    inst = make(**d)
    plan = {"a": ["inhouse"] * 3, "b": ["v1", "v2", "v2"], "c": ["inhouse"] * 3}
    check = verify_roadmap(inst, plan)
    (move,) = check.changes
    assert move == {"function": "b", "year": 2, "from": "v1", "to": "v2", "one_off": 30 + 40 + 35,
                    "transition": 30, "exit_fee": 40, "parallel_run": 35}
    assert [y.transition_cost for y in check.years] == [0, 30 + 40 + 35 + 7, 0]
    # year 3 at v2 escalated twice: 50 x 1.1^2 = 60.5; year 2: 55
    assert [y.operating_cost for y in check.years] == pytest.approx([75 + 100 + 60, 55 + 100 + 60, 60.5 + 160])
    assert [y.net_benefit for y in check.years] == pytest.approx([5, 25 - 112, 19.5])


# --- the JSON contract ------------------------------------------------------------------------


def test_json_contract(tmp_path):
    from conftest import run_cli

    inst = instance_with("contract_end")
    path = tmp_path / "tiny.yaml"
    outopt.save(inst, path)
    run = run_cli("solve", path, "--json", "-")
    assert run.returncode == 0, run.stderr
    doc = json.loads(run.stdout)
    assert doc["status"] == "optimal"
    assert doc["roadmap"][:3] == [{"function": "a", "year": 1, "provider": "v1"},
                                  {"function": "a", "year": 2, "provider": "v1"},
                                  {"function": "a", "year": 3, "provider": "v1"}]
    assert len(doc["roadmap"]) == 9
    assert {"function": "b", "year": 2, "from": "v1", "to": "v2", "one_off": 30.0} in doc["changes"]
    assert [set(y) for y in doc["years"]] == [{"year", "net_benefit", "operating_cost", "transition_cost"}] * 3
    assert doc["objective"] == pytest.approx(verify_roadmap(inst, outopt.solve(inst).plan).objective)
    assert doc["objective"] == pytest.approx(sum(y["net_benefit"] for y in doc["years"]))
