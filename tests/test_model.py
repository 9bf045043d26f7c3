"""Each constraint family on a tiny instance: the solver's optimum equals brute-force enumeration
and the value worked out by hand (shown in the comment of each case)."""

import copy

import pytest
from bruteforce import best
from conftest import make

import outopt
from outopt import INHOUSE


def base() -> dict:
    # Benefits with no limits: a->v1 40, a->v2 30; b->v1 30, b->v2 35; c->v2 10. Optimum 85.
    return dict(
        functions=[
            {"id": "a", "inhouse": {"cost": 100}},
            {"id": "b", "inhouse": {"cost": 80}},
            {"id": "c", "inhouse": {"cost": 50}},
        ],
        vendors=[{"id": "v1"}, {"id": "v2"}],
        offers=[
            {"function": "a", "vendor": "v1", "cost": 60, "load": 2},
            {"function": "a", "vendor": "v2", "cost": 70, "load": 1},
            {"function": "b", "vendor": "v1", "cost": 50, "load": 1},
            {"function": "b", "vendor": "v2", "cost": 45, "load": 2},
            {"function": "c", "vendor": "v2", "cost": 40, "load": 1},
        ],
    )


def with_(change) -> dict:
    data = copy.deepcopy(base())
    change(data)
    return data


def _set(path, value):
    def change(d):
        node = d
        for key in path[:-1]:
            node = node.setdefault(key, {}) if isinstance(key, str) else node[key]
        node[path[-1]] = value
    return change


def _all(*changes):
    def change(d):
        for c in changes:
            c(d)
    return change


CASES = {
    # name: (change, hand-computed optimum, optimal plan)
    "no limits": (lambda d: None, 85, {"a": "v1", "b": "v2", "c": "v2"}),
    # a has no in-house option (so no in-house cost to save): forced out, cheapest is a->v1 at -60.
    "one_provider: no in-house option": (
        lambda d: d["functions"][0].pop("inhouse"), -60 + 35 + 10, {"a": "v1", "b": "v2", "c": "v2"}),
    # core a stays in-house: 35 + 10.
    "core": (_set(["functions", 0, "core"], True), 45, {"a": INHOUSE, "b": "v2", "c": "v2"}),
    # retainer 25 on v1: a->v1 nets 15 < a->v2 30, so all to v2: 30 + 35 + 10.
    "engage_link: retainer": (_set(["vendors", 0, "retainer"], 25), 75, {"a": "v2", "b": "v2", "c": "v2"}),
    # onboarding 15 over 3 years = 5 a year: a->v1 still best, 40 + 35 + 10 - 5.
    "engage: onboarding / horizon": (_all(_set(["vendors", 0, "onboarding"], 15), _set(["horizon"], 3)), 80,
                                     {"a": "v1", "b": "v2", "c": "v2"}),
    # recurring cost <= 145: the free optimum costs 60 + 45 + 40 = 145 and fits.
    "operating_budget: loose": (_set(["budget"], {"operating": 145}), 85, {"a": "v1", "b": "v2", "c": "v2"}),
    # at 144: the cheapest plan (each function at its cheapest: 60 + 45 + 40) costs 145: infeasible.
    "operating_budget: infeasible": (_set(["budget"], {"operating": 144}), None, None),
    # one-off cost <= 10: transitions a->v1 8, a->v2 3, b->v1 4, b->v2 9, c->v2 2.
    # Transitions also count in the objective (horizon 1). Best: a->v2 (3) + b->v1 (4) + c->v2 (2) = 9
    # -> (30 - 3) + (30 - 4) + (10 - 2) = 61; a->v1 (8) + c->v2 (2) only reaches 40.
    "transition_budget": (
        _all(
            _set(["budget"], {"transition": 10}),
            lambda d: [o.update(transition=t) for o, t in zip(d["offers"], [8, 3, 4, 9, 2])],
        ),
        61, {"a": "v2", "b": "v1", "c": "v2"}),
    # staff: a uses 2, b 1, c 1, capacity 1: two of a, b, c must go -- free optimum already frees all.
    # With c offers removed c must stay (uses 1) so a, b out: 40 + 35 = 75.
    "resource_capacity": (
        _all(
            _set(["resources"], [{"id": "staff", "capacity": 1}]),
            lambda d: [f["inhouse"].update(uses={"staff": u}) for f, u in zip(d["functions"], [2, 1, 1])],
            lambda d: d["offers"].pop(),
        ),
        75, {"a": "v1", "b": "v2", "c": INHOUSE}),
    # redeploy value 7 per unit freed: a frees 2 (+14), b 1 (+7), c 1 (+7): 85 + 28.
    "redeploy value": (
        _all(
            _set(["resources"], [{"id": "staff", "capacity": 10, "redeploy_value": 7}]),
            lambda d: [f["inhouse"].update(uses={"staff": u}) for f, u in zip(d["functions"], [2, 1, 1])],
        ),
        113, {"a": "v1", "b": "v2", "c": "v2"}),
    # capacity of v2 is 2: b (load 2) and c (load 1) cannot both go; b->v1 30 + c->v2 10 + a->v1 40 = 80.
    "vendor_capacity": (_set(["vendors", 1, "capacity"], 2), 80, {"a": "v1", "b": "v1", "c": "v2"}),
    # v2 at most half of outsourced spend: free optimum spends v1 60, v2 85 (58.6%). Best: a->v1 60, b->v2 45,
    # c in-house -> v2 45/105 = 43%: 75; or a->v1, b->v1, c->v2: v2 40/150: 80. -> 80.
    "max_share": (_set(["vendors", 1, "max_share"], 0.5), 80, {"a": "v1", "b": "v1", "c": "v2"}),
    # one vendor only: all to v2 = 30 + 35 + 10 = 75.
    "max_vendors": (_set(["rules"], {"max_vendors": 1}), 75, {"a": "v2", "b": "v2", "c": "v2"}),
    # zero vendors: everything in-house, 0.
    "max_vendors: zero": (_set(["rules"], {"max_vendors": 0}), 0, {"a": INHOUSE, "b": INHOUSE, "c": INHOUSE}),
    # b and c never with the same vendor: a->v1 40 + b->v2 35 + c in-house = 75, or a->v2? b->v1 30 + c->v2 10 + a->v1 40 = 80.
    "separate": (_set(["rules"], {"separate": [["b", "c"]]}), 80, {"a": "v1", "b": "v1", "c": "v2"}),
    # a and c same provider: c only has v2 -> both v2 (30 + 10) + b->v2 35 = 75, vs both in-house 0 + 35.
    "together": (_set(["rules"], {"together": [["a", "c"]]}), 75, {"a": "v2", "b": "v2", "c": "v2"}),
    # commission 10% of revenue 200 on b->v2 adds 20: b->v1 30 beats b->v2 15: 40 + 30 + 10 = 80.
    "commission": (
        _all(_set(["functions", 1, "revenue"], 200), lambda d: d["offers"][3].update(commission=0.1)),
        80, {"a": "v1", "b": "v1", "c": "v2"}),
    # a currently with v2 (transition waived) and v2 onboarding 90 waived; v1 onboarding 90/yr, transition 0:
    # a->v1 would cost 90 of onboarding: all on v2 = 30 + 35 + 10 = 75.
    "status quo: no onboarding or transition for incumbents": (
        _all(
            _set(["functions", 0, "current"], "v2"),
            _set(["vendors", 0, "onboarding"], 90),
            _set(["vendors", 1, "onboarding"], 90),
            lambda d: d["offers"][1].update(transition=500),
        ),
        75, {"a": "v2", "b": "v2", "c": "v2"}),
    # offer value 20 on c->v2 (c nets 30) and in-house value 50 on a, given up when outsourced
    # (a->v1 nets 40 - 50 < 0, so a stays): 0 + 35 + 30.
    "values": (
        _all(lambda d: d["offers"][4].update(value=20), lambda d: d["functions"][0]["inhouse"].update(value=50)),
        65, {"a": INHOUSE, "b": "v2", "c": "v2"}),
}


@pytest.mark.parametrize("name", list(CASES))
def test_family_optimum(name):
    change, expected, plan = CASES[name]
    inst = make(**with_(change))
    brute, plans = best(inst)
    sol = outopt.solve(inst)
    if expected is None:
        assert brute is None
        assert sol.status == outopt.Status.INFEASIBLE
        return
    assert brute == pytest.approx(expected)
    assert sol.status == outopt.Status.OPTIMAL
    assert sol.objective == pytest.approx(expected)
    assert sol.plan in plans
    assert plan in plans
    assert outopt.verify(inst, sol.plan).feasible


def test_without_reductions_same_optimum():
    """Leaving out never-binding limits (reduce=True) does not change any optimum."""
    for name, (change, expected, _) in CASES.items():
        inst = make(**with_(change))
        a = outopt.build(inst, reduce=True).solve()
        b = outopt.build(inst, reduce=False).solve()
        assert a.status == b.status, name
        if expected is not None:
            assert a.objective == pytest.approx(b.objective), name


def test_resolve_after_changing_a_limit_reuses_the_model():
    inst = make(**with_(_set(["budget"], {"operating": 200})))
    model = outopt.build(inst)
    first = model.solve()
    assert first.objective == pytest.approx(85)
    model.pyomo.operating_budget_limit = 144
    assert model.solve().status == outopt.Status.INFEASIBLE
    model.pyomo.operating_budget_limit = 145
    assert model.solve().objective == pytest.approx(85)
