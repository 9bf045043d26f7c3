"""Every contract term together, on seeded random tiny instances: the solver's optimum equals
brute-force enumeration judged by the independent verifier (interactions between terms included:
discounts inside shares and budgets, bundles inside discounts, soft rules with priorities)."""

import random

import pytest
from bruteforce import best
from conftest import make

import outopt
from outopt import INHOUSE


def soft(rng):
    return rng.choice([None, None, {"penalty": rng.choice([5, 20, 60])}, {"priority": rng.choice([1, 2])},
                       {"penalty": 10, "priority": 1}])


def random_instance(seed: int) -> dict:
    rng = random.Random(seed)
    fids, vids = ["a", "b", "c", "d"], ["v1", "v2", "v3"]
    functions = [{"id": f, "inhouse": {"cost": rng.randint(40, 120), "value": rng.choice([0, 5])}} for f in fids]
    offers = []
    for f in functions:
        for v in rng.sample(vids, rng.randint(1, 3)):
            offers.append({"function": f["id"], "vendor": v, "cost": rng.randint(25, 110),
                           "transition": rng.choice([0, 10, 30])})
    offered = {(o["function"], o["vendor"]) for o in offers}
    if rng.random() < 0.5:  # an incumbent with an exit fee and a stay discount
        o = rng.choice(offers)
        f = next(x for x in functions if x["id"] == o["function"])
        f.update(current=o["vendor"], exit_fee=rng.choice([0, 20, 50]))
        o["stay_discount"] = rng.choice([0, 10])
    vendors = []
    for v in vids:
        vend = {"id": v, "retainer": rng.choice([0, 0, 10]), "onboarding": rng.choice([0, 15])}
        mine = [f for f, w in offered if w == v]
        if rng.random() < 0.5:
            vend["discount_kind"] = rng.choice(["all_units", "incremental"])
            vend["discounts"] = [{"threshold": 60, "percent": 10}, {"threshold": 150, "percent": 25}][: rng.randint(1, 2)]
        if len(mine) >= 2 and rng.random() < 0.5:
            vend["bundles"] = [{"functions": rng.sample(mine, 2), "price": rng.randint(50, 150)}]
        if rng.random() < 0.3:
            vend["min_spend"] = rng.choice([60, 120])
        if len(mine) >= 2 and rng.random() < 0.2:
            vend["min_functions"] = 2
        if rng.random() < 0.3:
            vend["max_share"] = rng.choice([0.5, 0.7])
            if (s := soft(rng)) is not None:
                vend["soft"] = {"max_share": s}
        vendors.append(vend)
    rules = {}
    if rng.random() < 0.4:
        f = rng.choice(fids)
        choices = [INHOUSE] + [v for (g, v) in offered if g == f]
        rules["locks"] = [{"function": f, "provider": rng.choice(choices), "reason": "r", "soft": soft(rng)}]
    if rng.random() < 0.4:
        rules["forbid"] = [{"functions": rng.sample(fids, 2), "vendors": rng.sample(vids + [INHOUSE], 2), "soft": soft(rng)}]
    if rng.random() < 0.4:
        a, b = rng.sample(fids, 2)
        rules["requires"] = [{"function": a, "requires": b, "soft": soft(rng)}]
    if rng.random() < 0.4:
        rules["exclusive"] = [{"functions": rng.sample(fids, 3), "soft": soft(rng)}]
    if rng.random() < 0.4:
        rules["max_changes"] = rng.randint(1, 3)
        if (s := soft(rng)) is not None:
            rules["soft"] = {"max_changes": s}
    data = {"functions": functions, "vendors": vendors, "offers": offers, "rules": rules, "horizon": rng.choice([1, 2])}
    if rng.random() < 0.4:
        group = {"id": "g", "vendors": rng.sample(vids, 2), "soft": soft(rng)}
        group[rng.choice(["min_share", "max_share"])] = rng.choice([0.3, 0.6])
        group[rng.choice(["min_count", "max_count"])] = rng.choice([1, 2])
        data["vendor_groups"] = [group]
    if rng.random() < 0.4:
        data["budget"] = {"operating": rng.randint(200, 350), "transition": rng.randint(20, 60)}
        if rng.random() < 0.5:
            data["budget"]["soft"] = {"operating": soft(rng) or {"penalty": 1}}
    return data


def _drop_none(node):
    if isinstance(node, dict):
        return {k: _drop_none(v) for k, v in node.items() if v is not None}
    if isinstance(node, list):
        return [_drop_none(v) for v in node]
    return node


# seeds past 40 once caught real bugs: a bundle declined to meet a minimum spend (136, 221, 284),
# a priority level fixed too loosely (616), an in-house ban on a function with no offer left (712)
@pytest.mark.parametrize("seed", [*range(40), 136, 221, 284, 616, 712])
def test_random_terms_match_enumeration(seed):
    data = _drop_none(random_instance(seed))
    try:
        inst = make(**data)
    except outopt.InputError:
        pytest.skip("the random draw is not a valid instance")
    optimum, plans = best(inst)
    sol = outopt.solve(inst)
    if optimum is None:
        assert sol.status.value == "infeasible"
        return
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(optimum, abs=1e-6)
    assert sol.plan in plans
