"""Reductions before the solve: the same optimum with and without each of them, by enumeration.

Random small instances mix loose and tight limits, free vendors and vendors with
retainers, share caps and rules, so that every reduction fires on some of them (the
counts are asserted) and is switched off where it would not be safe.
"""

import random

import pytest
from bruteforce import best
from conftest import make

import outopt
from outopt.model.data import compile_data
from outopt.model.reduce import reduce_instance, separable_plan, unknown_fields
from outopt.instance.schema import Offer, derived


def random_instance(rng: random.Random) -> outopt.Instance:
    nf, nv = rng.randint(2, 4), rng.randint(2, 3)
    functions = []
    for i in range(nf):
        f = {"id": f"f{i}"}
        if rng.random() < 0.85:
            f["inhouse"] = {"cost": rng.randint(20, 100), "value": rng.choice([0, 0, 5]),
                            "uses": {"staff": rng.randint(0, 3)}}
        functions.append(f)
    vendors = []
    for j in range(nv):
        v = {"id": f"v{j}"}
        if rng.random() < 0.35:
            v["retainer"] = rng.randint(1, 30)
        if rng.random() < 0.2:
            v["onboarding"] = rng.randint(1, 30)
        if rng.random() < 0.5:
            v["capacity"] = rng.choice([rng.randint(1, 5), 100])
        vendors.append(v)
    if rng.random() < 0.15:
        vendors[0]["max_share"] = rng.choice([0.5, 0.8])
    offers = []
    for i, f in enumerate(functions):
        chosen = rng.sample(range(nv), rng.randint(1 if "inhouse" in f else 1, nv))
        for j in chosen:
            offers.append({"function": f"f{i}", "vendor": f"v{j}", "cost": rng.randint(10, 110),
                           "value": rng.choice([0, 0, 10]), "transition": rng.choice([0, 0, 5, 20]),
                           "load": rng.randint(0, 4)})
    data = dict(functions=functions, vendors=vendors, offers=offers, horizon=rng.choice([1, 2]),
                resources=[{"id": "staff", "capacity": rng.choice([2, 4, 100]), "redeploy_value": rng.choice([0, 5])}])
    budget = {}
    if rng.random() < 0.5:
        budget["operating"] = rng.choice([150, 250, 100_000])
    if rng.random() < 0.4:
        budget["transition"] = rng.choice([10, 30, 100_000])
    if budget:
        data["budget"] = budget
    if rng.random() < 0.15:
        data["rules"] = {"separate": [["f0", "f1"]]}
    elif rng.random() < 0.1:
        data["rules"] = {"max_vendors": 1}
    return make(**data)


INSTANCES = [random_instance(random.Random(seed)) for seed in range(160)]


def test_reduced_instance_has_the_same_optimum():
    fired = {"offers": 0, "budgets": 0, "fixed": 0, "separable": 0}
    for inst in INSTANCES:
        red = reduce_instance(inst)
        assert red.applied
        top, plans = best(inst)
        red_top, red_plans = best(red.instance)
        if top is None:
            assert red_top is None, inst.name
            continue
        assert red_top == pytest.approx(top), inst
        # every plan of the reduced instance is a plan of the original with the same value
        for plan in red_plans:
            check = outopt.verify(inst, plan)
            assert check.feasible and check.objective == pytest.approx(top)
        # fixed decisions agree with some optimal plan
        if red.fixed:
            assert any(all(p[f] == v for f, v in red.fixed.items()) for p in plans), (inst, red.fixed)
            fired["fixed"] += 1
        fired["offers"] += red.removed_offers > 0
        fired["budgets"] += bool(red.dropped_budgets)
        plan = separable_plan(compile_data(red.instance))
        if plan is not None:
            assert outopt.verify(inst, plan).objective == pytest.approx(top)
            fired["separable"] += 1
    assert all(n >= 5 for n in fired.values()), fired  # every reduction was exercised


def test_solve_with_and_without_reductions_agree():
    for inst in INSTANCES[:30]:
        a = outopt.solve(inst)
        b = outopt.solve(inst, options=outopt.SolveOptions(reduce=False, heuristic=0))
        assert a.status == b.status
        if a.plan is not None:
            assert a.objective == pytest.approx(b.objective)
            assert outopt.verify(inst, a.plan).feasible


def test_dominated_offer_needs_a_free_vendor():
    # f0: v0 is better in every respect, but v0 has a retainer, so (f0, v1) must stay
    inst = make(
        functions=[{"id": "f0", "inhouse": {"cost": 100}}, {"id": "f1", "inhouse": {"cost": 100}}],
        vendors=[{"id": "v0", "retainer": 15}, {"id": "v1"}],
        offers=[{"function": "f0", "vendor": "v0", "cost": 50}, {"function": "f0", "vendor": "v1", "cost": 60},
                {"function": "f1", "vendor": "v1", "cost": 90}],
    )
    red = reduce_instance(inst)
    assert {(o.function, o.vendor) for o in red.instance.offers} == {("f0", "v0"), ("f0", "v1"), ("f1", "v1")}
    # without the retainer v0 is free and (f0, v1) is dominated
    free = inst.replace(vendors=[outopt.Vendor(id="v0"), outopt.Vendor(id="v1")])
    red = reduce_instance(free)
    assert {(o.function, o.vendor) for o in red.instance.offers} == {("f0", "v0"), ("f1", "v1")}
    assert red.fixed == {"f0": "v0", "f1": "v1"}


def test_redundant_budget_is_dropped_and_a_binding_one_kept():
    data = dict(functions=[{"id": "f0", "inhouse": {"cost": 100}}], vendors=[{"id": "v0"}],
                offers=[{"function": "f0", "vendor": "v0", "cost": 120, "transition": 10}])
    assert reduce_instance(make(**data, budget={"operating": 120, "transition": 10})).dropped_budgets == [
        "operating", "transition"]
    assert reduce_instance(make(**data, budget={"operating": 119.9, "transition": 9})).dropped_budgets == []


def test_unknown_fields_switch_the_reductions_off():
    """A field the reductions have not been proven safe for (a contract term added later) turns them off."""
    Extended = type("Offer", (Offer,), {"__annotations__": {"bundle_price": float}, "bundle_price": 0.0})
    base = INSTANCES[0]
    offers = [Extended(**o.model_dump()) for o in base.offers]
    assert unknown_fields(derived(base, offers=offers)) == []  # at its default: nothing to reason about
    offers[0] = Extended(**{**base.offers[0].model_dump(), "bundle_price": 5.0})
    inst = derived(base, offers=offers)
    assert unknown_fields(inst) == ["offers[0].bundle_price"]
    red = reduce_instance(inst)
    assert not red.applied and red.instance is inst and red.removed_offers == 0
    assert separable_plan(compile_data(inst)) is None


def test_unknown_fields_are_found_past_the_first_row_in_file_order():
    """The screen of long lists (a field at a time) finds a field set on any row, and reports places in
    the order of the file, at most `limit` of them."""
    from outopt.instance.generate import generate

    base = generate(30, 4, "easy", seed=1)
    offers = list(base.offers)
    offers[7] = offers[7].model_copy(update={"risk": 0.2})
    offers[2] = offers[2].model_copy(update={"stay_discount": 5.0})
    functions = list(base.functions)
    functions[4] = functions[4].model_copy(update={"exit_fee": 10.0})
    inst = derived(base, offers=offers, functions=functions)  # fields set, not a valid plan of terms
    assert unknown_fields(inst) == ["functions[4].exit_fee", "offers[2].stay_discount", "offers[7].risk"]
    assert unknown_fields(inst, limit=2) == ["functions[4].exit_fee", "offers[2].stay_discount"]
    assert unknown_fields(base) == []


def test_easy_instance_is_solved_without_a_mip():
    from outopt.instance.generate import generate

    inst = generate(300, 20, "easy", seed=3)
    red = reduce_instance(inst)
    assert red.dropped_budgets == ["operating", "transition"]
    assert len(red.instance.offers) == 300  # one best offer per function is left
    sol = outopt.solve(inst, time_limit=30)
    assert sol.status == outopt.Status.OPTIMAL and "separable" in sol.message
    ref = outopt.solve(inst, options=outopt.SolveOptions(reduce=False, heuristic=0))
    assert sol.objective == pytest.approx(ref.objective)
