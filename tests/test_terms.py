"""Expressive contract terms and rules (issue 3), each on the tiny instance of test_model.py.

For each term: the solver's optimum equals brute-force enumeration (the verifier as oracle) and
the value worked out by hand, with and without the term; the verifier catches a plan that breaks
the term; bad inputs give exact messages.
"""

import copy
import json

import pytest
from bruteforce import best
from conftest import make
from test_model import base, with_

import outopt
from outopt import INHOUSE

FREE = (85, {"a": "v1", "b": "v2", "c": "v2"})  # the optimum without any term (see test_model.base)


def vendor(k, **kw):
    return lambda d: d["vendors"][k].update(**kw)


def function(k, **kw):
    return lambda d: d["functions"][k].update(**kw)


def offer(k, **kw):
    return lambda d: d["offers"][k].update(**kw)


def top(**kw):
    return lambda d: d.update(**kw)


def rules(**kw):
    return lambda d: d.setdefault("rules", {}).update(**kw)


def both(*changes):
    def change(d):
        for c in changes:
            c(d)
    return change


TERMS = {
    # name: (change, hand-computed optimum, optimal plan)
    # v1 20% off all its offer spend from 100: a, b -> v1 spend 110, discount 22: 40 + 30 + 22 + c->v2 10.
    "discount all_units": (vendor(0, discounts=[{"threshold": 100, "percent": 20}]), 102,
                           {"a": "v1", "b": "v1", "c": "v2"}),
    # v1 50% off only the spend above 50: a, b -> v1 spend 110 saves 30: 40 + 30 + 30 + 10;
    # a alone saves 5: 40 + 5 + 35 + 10 = 90.
    "discount incremental": (vendor(0, discount_kind="incremental", discounts=[{"threshold": 50, "percent": 50}]),
                             110, {"a": "v1", "b": "v1", "c": "v2"}),
    # two incremental tiers on v1: 10% above 50, 20% above 100; a, b -> v1 (110): 5 + 2 = 7 -> 40 + 30 + 7 + 10 = 87.
    "discount two tiers": (vendor(0, discount_kind="incremental",
                                  discounts=[{"threshold": 50, "percent": 10}, {"threshold": 100, "percent": 20}]),
                           87, {"a": "v1", "b": "v1", "c": "v2"}),
    # v2 prices a + b at 100 instead of 70 + 45: saving 15: 30 + 35 + 15 + 10.
    "bundle": (vendor(1, bundles=[{"functions": ["a", "b"], "price": 100}]), 90, {"a": "v2", "b": "v2", "c": "v2"}),
    # a bundle priced above its members' costs never applies: the free optimum.
    "bundle never cheaper": (vendor(1, bundles=[{"functions": ["a", "b"], "price": 130}]), *FREE),
    # the bundle price applies whenever b and c both go to v2, even when a minimum spend would rather
    # not: b, c -> v2 pay 70 < 80. a -> v2 at 100 brings nothing, so v2 is left out: a, b -> v1.
    "bundle with min_spend": (both(offer(1, cost=100), vendor(1, min_spend=80, bundles=[{"functions": ["b", "c"], "price": 70}])),
                              70, {"a": "v1", "b": "v1", "c": INHOUSE}),
    # a spend exactly on an all-units threshold gets the discount: a, b -> v1 pay 110 - 11 = 99, below
    # v1's minimum of 110, so v1 is out: all to v2.
    "discount at threshold with min_spend": (vendor(0, min_spend=110, discounts=[{"threshold": 110, "percent": 10}]),
                                             75, {"a": "v2", "b": "v2", "c": "v2"}),
    # a soft minimum counts the spend net of the bundle: b, c -> v2 pay 70, 10 short of 80 (penalty 10):
    # 40 + 35 + 10 + 15 - 10 = 90 (counted before the saving, 85, it would be 100).
    "soft min_spend net of a bundle": (both(offer(1, cost=100), vendor(1, min_spend=80, soft={"min_spend": {"penalty": 1}},
                                                                       bundles=[{"functions": ["b", "c"], "price": 70}])),
                                       90, {"a": "v1", "b": "v2", "c": "v2"}),
    # with no in-house option for a and b (benefits a->v1 -60, a->v2 -70, b->v1 -50, b->v2 -45): a bundle
    # of a, b at v2 dearer than its members (130 > 115) is never taken: -60 - 45 + 10.
    "bundle dearer, members outsourced": (both(function(0, inhouse=None), function(1, inhouse=None),
                                               vendor(1, bundles=[{"functions": ["a", "b"], "price": 130}])),
                                          -95, {"a": "v1", "b": "v2", "c": "v2"}),
    # the same bundle at 100 (< 115) is taken: -100 + 10.
    "bundle cheaper, members outsourced": (both(function(0, inhouse=None), function(1, inhouse=None),
                                                vendor(1, bundles=[{"functions": ["a", "b"], "price": 100}])),
                                           -90, {"a": "v2", "b": "v2", "c": "v2"}),
    # v2 engaged needs spend >= 100: b + c is only 85, so a also goes to v2: 30 + 35 + 10.
    "min_spend": (vendor(1, min_spend=100), 75, {"a": "v2", "b": "v2", "c": "v2"}),
    # v1 engaged needs 2 functions: a, b -> v1: 40 + 30 + 10 (dropping v1: 30 + 35 + 10 = 75).
    "min_functions": (vendor(0, min_functions=2), 80, {"a": "v1", "b": "v1", "c": "v2"}),
    # group {v1} >= 60% of spend: a, b -> v1 (110 of 150): 80.
    "group min_share": (top(vendor_groups=[{"id": "g", "vendors": ["v1"], "min_share": 0.6}]), 80,
                        {"a": "v1", "b": "v1", "c": "v2"}),
    # group {v2} <= 30% of spend: b -> v1, c -> v2 (40 of 150): 80.
    "group max_share": (top(vendor_groups=[{"id": "g", "vendors": ["v2"], "max_share": 0.3}]), 80,
                        {"a": "v1", "b": "v1", "c": "v2"}),
    # group {v1} >= 2 functions: a, b -> v1: 80.
    "group min_count": (top(vendor_groups=[{"id": "g", "vendors": ["v1"], "min_count": 2}]), 80,
                        {"a": "v1", "b": "v1", "c": "v2"}),
    # group {v2} <= 1 function: b -> v1: 80.
    "group max_count": (top(vendor_groups=[{"id": "g", "vendors": ["v2"], "max_count": 1}]), 80,
                        {"a": "v1", "b": "v1", "c": "v2"}),
    # a locked to v2: 30 + 35 + 10.
    "lock to a vendor": (rules(locks=[{"function": "a", "provider": "v2", "reason": "contract"}]), 75,
                         {"a": "v2", "b": "v2", "c": "v2"}),
    # c locked in-house: 40 + 35.
    "lock in-house": (rules(locks=[{"function": "c", "provider": INHOUSE}]), 75, {"a": "v1", "b": "v2", "c": INHOUSE}),
    # v2 banned for b and c: a -> v1, b -> v1: 40 + 30.
    "forbid": (rules(forbid=[{"functions": ["b", "c"], "vendors": ["v2"], "reason": "residency"}]), 70,
               {"a": "v1", "b": "v1", "c": INHOUSE}),
    # in-house banned for c when c's only offer is worse than in-house (cost 60 > 50): 40 + 35 - 10.
    "forbid in-house": (both(offer(4, cost=60), rules(forbid=[{"functions": ["c"], "vendors": [INHOUSE]}])), 65,
                        {"a": "v1", "b": "v2", "c": "v2"}),
    # c kept in-house and b requires c: b stays: a -> v1 only.
    "requires": (rules(locks=[{"function": "c", "provider": INHOUSE}], requires=[{"function": "b", "requires": "c"}]),
                 40, {"a": "v1", "b": INHOUSE, "c": INHOUSE}),
    # at most one of a, b outsourced: a -> v1 + c -> v2.
    "exclusive": (rules(exclusive=[{"functions": ["a", "b"]}]), 50, {"a": "v1", "b": INHOUSE, "c": "v2"}),
    # a is with v2 today and leaving costs 30 (horizon 1): a -> v1 nets 10 < a -> v2 30.
    "exit_fee": (function(0, current="v2", exit_fee=30), 75, {"a": "v2", "b": "v2", "c": "v2"}),
    # a is with v2, 50% off for staying: a -> v2 costs 35, benefit 65.
    "stay_discount": (both(function(0, current="v2"), offer(1, stay_discount=50)), 110,
                      {"a": "v2", "b": "v2", "c": "v2"}),
    # at most one function changes provider (all in-house today): a -> v1 alone.
    "max_changes": (rules(max_changes=1), 40, {"a": "v1", "b": INHOUSE, "c": INHOUSE}),
}


@pytest.mark.parametrize("name", list(TERMS))
def test_term_optimum_by_enumeration(name):
    change, optimum, plan = TERMS[name]
    data = copy.deepcopy(base())
    without = make(**data)
    assert best(without)[0] == pytest.approx(FREE[0])
    change(data)
    inst = make(**data)
    expected, plans = best(inst)
    assert expected == pytest.approx(optimum)
    assert plan in plans
    sol = outopt.solve(inst)
    assert sol.status.value == "optimal"
    assert sol.objective == pytest.approx(optimum)
    assert sol.plan in plans
    # the unreduced model agrees
    assert outopt.build(inst, reduce=False).solve().objective == pytest.approx(optimum)


BANS = {
    # c has no in-house option and its only offer (v2) is banned
    "only vendor banned": both(function(2, inhouse=None), rules(forbid=[{"functions": ["c"], "vendors": ["v2"]}])),
    # c's in-house option and its only offer banned by one rule
    "in-house and vendor in one ban": rules(forbid=[{"functions": ["c"], "vendors": ["inhouse", "v2"]}]),
    # ... and by two rules
    "in-house and vendor in two bans": rules(forbid=[{"functions": ["c"], "vendors": ["inhouse"]},
                                                     {"functions": ["c"], "vendors": ["v2"]}]),
    # a has two vendors and in-house, all banned
    "every option of a": rules(forbid=[{"functions": ["a"], "vendors": ["inhouse", "v1"]},
                                       {"functions": ["a"], "vendors": ["v2"]}]),
    # no in-house option, and both vendors banned
    "every vendor of b": both(function(1, inhouse=None), rules(forbid=[{"functions": ["b"], "vendors": ["v1", "v2"]}])),
}


@pytest.mark.parametrize("name", list(BANS))
def test_hard_ban_on_every_option_is_infeasible(name, caplog):
    """A hard ban that leaves a function no provider: 'infeasible' (no plan by enumeration), cleanly."""
    inst = make(**with_(BANS[name]))
    assert best(inst) == (None, [])
    with caplog.at_level("WARNING"):
        assert outopt.solve(inst).status.value == "infeasible"
        assert outopt.build(inst, reduce=False).solve().status.value == "infeasible"
        assert outopt.build(inst).solve().status.value == "infeasible"
    assert [r.getMessage() for r in caplog.records] == []


def test_diagnosis_names_the_ban_that_leaves_no_vendor():
    from outopt.analysis.diagnose import diagnose

    found = diagnose(make(**with_(BANS["only vendor banned"])))
    assert found.feasible is False
    assert found.conflict == ["functions[2].inhouse", "rules.forbid[0]"]


def test_soft_ban_on_every_option_is_paid_for():
    """The same ban made soft: the plan breaks it once, at its penalty (enumeration agrees)."""
    inst = make(**with_(rules(forbid=[{"functions": ["c"], "vendors": ["inhouse", "v2"], "soft": {"penalty": 4}}])))
    sol = outopt.solve(inst)
    assert best(inst)[0] == pytest.approx(81) and sol.objective == pytest.approx(81)  # 85 - 4
    assert outopt.build(inst, reduce=False).solve().objective == pytest.approx(81)


# --- soft rules ---------------------------------------------------------------------------

SOFT = {
    # recurring cost <= 140 with 2 per dollar over: the cheapest plan costs 145: 85 - 2 x 5.
    "budget.operating": (top(budget={"operating": 140, "soft": {"operating": {"penalty": 2}}}), 75, 5.0),
    # the lock costs 8 to break, but keeping it loses 10 (a -> v2 30 vs a -> v1 40): broken, 85 - 8.
    "rules.locks[0]": (rules(locks=[{"function": "a", "provider": "v2", "soft": {"penalty": 8}}]), 77, 1.0),
    # the ban on v2 for b, c costs 6 per assignment: b -> v1 (loses 5), c -> v2 (breaks once, 10 - 6):
    # 40 + 30 + 10 - 6 = 74, above breaking it twice (85 - 12) or keeping it (70).
    "rules.forbid[0]": (rules(forbid=[{"functions": ["b", "c"], "vendors": ["v2"], "soft": {"penalty": 6}}]), 74, 1.0),
    # a and b both out at 20 per extra member: 85 - 20 = 65 beats keeping the rule (50): broken once.
    "rules.exclusive[0]": (rules(exclusive=[{"functions": ["a", "b"], "soft": {"penalty": 20}}]), 65, 1.0),
    # v2's minimum of 100 missed by 15 at 1 per dollar: 85 - 15 = 70 < 75 (a -> v2): kept.
    "vendors[1].min_spend": (both(vendor(1, min_spend=100, soft={"min_spend": {"penalty": 1}})), 75, None),
    # max_changes 1 with 12 per extra change: two changes (a -> v1, b -> v2) 75 - 12 = 63 beats
    # three (85 - 24 = 61) and one (40).
    "rules.max_changes": (rules(max_changes=1, soft={"max_changes": {"penalty": 12}}), 63, 1.0),
    # group {v1} >= 2 functions, 3 per function short: 85 - 3 = 82 > 80.
    "vendor_groups[0].min_count": (top(vendor_groups=[{"id": "g", "vendors": ["v1"], "min_count": 2,
                                                       "soft": {"penalty": 3}}]), 82, 1.0),
    # b and c never with one vendor, 3 per member beyond one: b, c -> v2 breaks it once, 85 - 3 = 82
    # beats keeping it (b -> v1: 80).
    "rules.separate[0]": (rules(separate=[{"functions": ["b", "c"], "soft": {"penalty": 3}}]), 82, 1.0),
    # a and b share a provider, 3 per broken group: a -> v1, b -> v2 breaks it, 85 - 3 = 82 beats
    # keeping it (a, b -> v1: 80).
    "rules.together[0]": (rules(together=[{"functions": ["a", "b"], "soft": {"penalty": 3}}]), 82, 1.0),
}


# --- soft separate and together groups ----------------------------------------------------

NO_A_V1 = {"functions": ["a"], "vendors": ["v1"]}  # leaves v2 as a's only vendor

GROUPS = {
    # name: (rules, optimum by hand, soft violation (rule, amount) or None)
    # hard, as a plain list (the contract's form): b -> v1, c -> v2, a -> v1: 40 + 30 + 10.
    "separate hard list": (dict(separate=[["b", "c"]]), 80, None),
    # the same group as a mapping without `soft` stays hard.
    "separate hard mapping": (dict(separate=[{"functions": ["b", "c"], "reason": "duties"}]), 80, None),
    # soft, dearer to break (20) than to keep (5 lost): kept.
    "separate soft kept": (dict(separate=[{"functions": ["b", "c"], "soft": {"penalty": 20}}]), 80, None),
    # soft at 3: broken once (b, c -> v2): 85 - 3.
    "separate soft broken": (dict(separate=[{"functions": ["b", "c"], "soft": {"penalty": 3}}]), 82,
                             ("rules.separate[0]", 1.0)),
    # all three at v2 (a cannot go to v1): 30 + 35 + 10 = 75 with 2 members beyond one, at 1 each:
    # 73, above b -> v1 (30 + 30 + 10 - 1 = 69) or keeping the rule (a -> v2, b -> v1, c in-house: 60).
    "separate soft counts each extra member": (
        dict(forbid=[NO_A_V1], separate=[{"functions": ["a", "b", "c"], "soft": {"penalty": 1}}]), 73,
        ("rules.separate[0]", 2.0)),
    # a priority with no penalty: honoured before net benefit, so kept.
    "separate soft priority": (dict(separate=[{"functions": ["b", "c"], "soft": {"priority": 1}}]), 80, None),
    # hard: a, b -> v1 (70) + c -> v2 (10).
    "together hard list": (dict(together=[["a", "b"]]), 80, None),
    "together hard mapping": (dict(together=[{"functions": ["a", "b"]}]), 80, None),
    "together soft kept": (dict(together=[{"functions": ["a", "b"], "soft": {"penalty": 10}}]), 80, None),
    "together soft broken": (dict(together=[{"functions": ["a", "b"], "soft": {"penalty": 3}}]), 82,
                             ("rules.together[0]", 1.0)),
    # a, b, c together (hard: all to v2, 75); at 4 a broken group costs 4 however many members stray:
    # the free optimum 85 - 4 (1 per broken group, not per member).
    "together soft one per group": (dict(together=[{"functions": ["a", "b", "c"], "soft": {"penalty": 4}}]), 81,
                                    ("rules.together[0]", 1.0)),
    "together hard three": (dict(together=[["a", "b", "c"]]), 75, None),
    # a hard group and a soft one side by side keep their places: the free optimum already keeps a, b
    # apart and breaks b, c once: 85 - 3.
    "separate hard and soft": (dict(separate=[["a", "b"], {"functions": ["b", "c"], "soft": {"penalty": 3}}]), 82,
                               ("rules.separate[1]", 1.0)),
}


@pytest.mark.parametrize("name", list(GROUPS))
def test_soft_groups_by_enumeration(name):
    """Optimum with and without the soft marker: hand value = enumeration (verifier as oracle) = solver,
    with the model reduced or not; the verifier reports the violation with its cost."""
    rule_set, optimum, broken = GROUPS[name]
    inst = make(**with_(rules(**copy.deepcopy(rule_set))))
    expected, plans = best(inst)
    assert expected == pytest.approx(optimum)
    for sol in (outopt.solve(inst), outopt.build(inst, reduce=False).solve()):
        assert sol.objective == pytest.approx(optimum) and sol.plan in plans
        table = sol.soft_violations
        if broken is None:
            assert table.empty
        else:
            assert list(table["rule"]) == [broken[0]]
            row = table.iloc[0]
            assert row["amount"] == pytest.approx(broken[1])
            penalty = inst.model_dump()["rules"][broken[0].split(".")[1].split("[")[0]][
                int(broken[0].split("[")[1].rstrip("]"))]["soft"]["penalty"]
            assert row["cost"] == pytest.approx(penalty * broken[1])
            assert sol.verification.net_benefit - sol.objective == pytest.approx(row["cost"])


def test_verifier_measures_soft_groups():
    """The verifier's violation for a given plan: members beyond one per vendor, summed (separate);
    1 per broken group (together); hard groups are violations, not priced."""
    inst = make(**with_(rules(separate=[{"functions": ["a", "b", "c"], "soft": {"penalty": 5}, "reason": "duties"}],
                              together=[{"functions": ["a", "c"], "soft": {"penalty": 7}}])))
    check = outopt.verify(inst, {"a": "v2", "b": "v2", "c": "v2"})
    assert check.feasible
    by_rule = {r["rule"]: r for r in check.soft_violations}
    assert by_rule["rules.separate[0]"]["amount"] == 2 and by_rule["rules.separate[0]"]["cost"] == 10
    assert by_rule["rules.separate[0]"]["reason"] == "duties"
    assert "rules.together[0]" not in by_rule  # a and c share v2
    check = outopt.verify(inst, {"a": "v1", "b": "v2", "c": INHOUSE})
    assert [(r["rule"], r["amount"], r["cost"]) for r in check.soft_violations] == [("rules.together[0]", 1.0, 7.0)]
    hard = make(**with_(rules(separate=[["b", "c"]], together=[["a", "b"]])))
    check = outopt.verify(hard, {"a": "v1", "b": "v2", "c": "v2"})
    assert not check.feasible and not check.soft_violations
    assert check.violations == ["rules.separate[0]: b, c all go to 'v2'",
                                "rules.together[0]: providers differ (a->v1, b->v2)"]


@pytest.mark.parametrize("rule", list(SOFT))
def test_soft_rule_penalty_by_enumeration(rule):
    change, optimum, amount = SOFT[rule]
    data = copy.deepcopy(base())
    change(data)
    inst = make(**data)
    expected, plans = best(inst)
    assert expected == pytest.approx(optimum)
    sol = outopt.solve(inst)
    assert sol.objective == pytest.approx(optimum) and sol.plan in plans
    broken = sol.soft_violations
    if amount is None:
        assert broken.empty
    else:
        assert list(broken["rule"]) == [rule]
        assert broken["amount"].iloc[0] == pytest.approx(amount)
        assert sol.verification.net_benefit - sol.objective == pytest.approx(broken["cost"].iloc[0])


def test_priorities_are_lexicographic():
    # Level 2: keep c in-house (lock). Level 1: at most one of a, b. No penalties: the levels alone decide.
    data = copy.deepcopy(base())
    rules(locks=[{"function": "c", "provider": INHOUSE, "soft": {"priority": 2}}],
          exclusive=[{"functions": ["a", "b"], "soft": {"priority": 1}}])(data)
    inst = make(**data)
    expected, plans = best(inst)
    assert expected == 40 and plans == [{"a": "v1", "b": INHOUSE, "c": INHOUSE}]
    sol = outopt.solve(inst)
    assert sol.plan == plans[0] and sol.objective == pytest.approx(40)
    assert sol.soft_violations.empty


def test_higher_priority_wins_over_lower_and_penalty():
    # Level 2 wants a with v2; level 1 wants a in-house: level 2 is honoured, level 1 broken and
    # reported; its penalty (7) is charged: 30 + 35 + 10 - 7.
    data = copy.deepcopy(base())
    rules(locks=[{"function": "a", "provider": "v2", "soft": {"priority": 2}},
                 {"function": "a", "provider": INHOUSE, "soft": {"priority": 1, "penalty": 7}}])(data)
    inst = make(**data)
    expected, plans = best(inst)
    assert expected == pytest.approx(68)
    sol = outopt.solve(inst)
    assert sol.objective == pytest.approx(68) and sol.plan in plans
    row = sol.soft_violations.iloc[0]
    assert (row["rule"], row["amount"], row["cost"], row["priority"]) == ("rules.locks[1]", 1.0, 7.0, 1)
    out = json.loads(sol.to_json())
    assert out["soft_violations"][0]["rule"] == "rules.locks[1]"
    assert out["totals"]["soft_penalty"] == 7.0


def test_priority_level_infeasible_hard_rules_stay_infeasible():
    data = copy.deepcopy(base())
    rules(locks=[{"function": "a", "provider": "v2"}, {"function": "b", "provider": "v1", "soft": {"priority": 1}}],
          exclusive=[{"functions": ["a", "b", "c"]}])(data)
    data["functions"][1].pop("inhouse")  # b must be outsourced, and so must... a is locked out: two outsourced
    inst = make(**data)
    assert best(inst) == (None, [])
    assert outopt.solve(inst).status.value == "infeasible"


def test_resolve_with_priorities_after_changing_a_limit():
    data = copy.deepcopy(base())
    rules(max_changes=1, soft={"max_changes": {"priority": 1}})(data)
    model = outopt.build(make(**data))
    assert model.solve().objective == pytest.approx(40)
    model.pyomo.max_changes_limit = 2
    assert model.solve().objective == pytest.approx(75)  # a -> v1, b -> v2


# --- the verifier catches plans that break each term -----------------------------------------

BREAKS = {
    "min_spend": (vendor(1, min_spend=100), {"a": "v1", "b": "v2", "c": "v2"},
                  "vendors[1].min_spend: 'v2' is engaged with spend 85.00, below its minimum 100.00"),
    "min_functions": (vendor(0, min_functions=2), {"a": "v1", "b": "v2", "c": "v2"},
                      "vendors[0].min_functions: 'v1' is engaged with 1 function(s), below its minimum 2"),
    "group min_share": (top(vendor_groups=[{"id": "g", "vendors": ["v1"], "min_share": 0.6}]),
                        {"a": "v1", "b": "v2", "c": "v2"},
                        "vendor_groups[0].min_share: group 'g' has 41.38% of outsourced spend, below 60.00%"),
    "group max_share": (top(vendor_groups=[{"id": "g", "vendors": ["v2"], "max_share": 0.3}]),
                        {"a": "v1", "b": "v2", "c": "v2"},
                        "vendor_groups[0].max_share: group 'g' has 58.62% of outsourced spend, above 30.00%"),
    "group min_count": (top(vendor_groups=[{"id": "g", "vendors": ["v1"], "min_count": 2}]),
                        {"a": "v1", "b": "v2", "c": "v2"},
                        "vendor_groups[0].min_count: group 'g' has 1 function(s), fewer than 2"),
    "group max_count": (top(vendor_groups=[{"id": "g", "vendors": ["v2"], "max_count": 1}]),
                        {"a": "v1", "b": "v2", "c": "v2"},
                        "vendor_groups[0].max_count: group 'g' has 2 function(s), more than 1"),
    "lock": (rules(locks=[{"function": "a", "provider": "v2", "reason": "signed contract"}]),
             {"a": "v1", "b": "v2", "c": "v2"},
             "rules.locks[0]: 'a' goes to 'v1', locked to 'v2' (signed contract)"),
    "forbid": (rules(forbid=[{"functions": ["b", "c"], "vendors": ["v2"], "reason": "data residency"}]),
               {"a": "v1", "b": "v2", "c": "v2"},
               "rules.forbid[0]: 'b' goes to 'v2', 'c' goes to 'v2', which is forbidden (data residency)"),
    "requires": (rules(requires=[{"function": "b", "requires": "c"}]), {"a": "v1", "b": "v2", "c": INHOUSE},
                 "rules.requires[0]: 'b' is outsourced but 'c' is not"),
    "exclusive": (rules(exclusive=[{"functions": ["a", "b"]}]), {"a": "v1", "b": "v2", "c": "v2"},
                  "rules.exclusive[0]: a, b are all outsourced, at most one may be"),
    "max_changes": (rules(max_changes=1), {"a": "v1", "b": "v2", "c": INHOUSE},
                    "rules.max_changes: 2 functions change provider, at most 1"),
    "exit fee in the transition budget": (
        both(function(0, current="v2", exit_fee=30), top(budget={"transition": 20})), {"a": "v1", "b": "v2", "c": "v2"},
        "budget.transition: one-off cost 30.00 exceeds 20.00"),
    "discount in the operating budget": (
        both(vendor(0, discounts=[{"threshold": 100, "percent": 20}]), top(budget={"operating": 130})),
        {"a": "v1", "b": "v2", "c": "v2"}, "budget.operating: recurring cost 145.00 exceeds 130.00"),
}


@pytest.mark.parametrize("name", list(BREAKS))
def test_verifier_catches_a_plan_breaking(name):
    change, plan, message = BREAKS[name]
    data = copy.deepcopy(base())
    change(data)
    check = outopt.verify(make(**data), plan)
    assert message in check.violations


def test_verifier_recomputes_discounts_bundles_exit_fees_and_stay_discounts():
    data = copy.deepcopy(base())
    both(vendor(0, discount_kind="incremental", discounts=[{"threshold": 50, "percent": 10},
                                                            {"threshold": 100, "percent": 20}]),
         vendor(1, bundles=[{"id": "ab", "functions": ["a", "b"], "price": 100}]),
         function(2, current="v2", exit_fee=9), offer(4, stay_discount=25))(data)
    inst = make(**data)
    # a, b -> v1 (110): incremental 10% of 50 + 20% of 10 = 7; c leaves v2 for in-house: exit fee 9.
    check = outopt.verify(inst, {"a": "v1", "b": "v1", "c": INHOUSE})
    assert check.discounts == {"v1": pytest.approx(7)}
    assert check.transition_cost == 9 and check.objective == pytest.approx(40 + 30 + 7 - 9)
    # a, b -> v2 as a bundle (100 instead of 115), c stays with v2 at 25% off 40: spend 130.
    check = outopt.verify(inst, {"a": "v2", "b": "v2", "c": "v2"})
    assert check.bundle_savings == {"v2": 15}
    assert check.spend == {"v2": 130} and check.objective == pytest.approx(30 + 35 + 15 + 20)


def test_bundle_priced_above_its_members_never_applies():
    data = copy.deepcopy(base())
    vendor(1, bundles=[{"functions": ["b", "c"], "price": 130}])(data)
    check = outopt.verify(make(**data), {"a": "v1", "b": "v2", "c": "v2"})
    assert check.bundle_savings == {} and check.spend["v2"] == 85 and check.objective == 85


def test_all_units_discount_at_the_threshold_applies():
    data = copy.deepcopy(base())
    vendor(0, discounts=[{"threshold": 110, "percent": 10}])(data)
    inst = make(**data)
    assert outopt.verify(inst, {"a": "v1", "b": "v1", "c": INHOUSE}).discounts == {"v1": pytest.approx(11)}
    assert outopt.verify(inst, {"a": "v1", "b": INHOUSE, "c": INHOUSE}).discounts == {}


def test_soft_rules_are_reported_not_infeasible():
    data = copy.deepcopy(base())
    rules(locks=[{"function": "a", "provider": "v2", "reason": "board", "soft": {"penalty": 8}}])(data)
    check = outopt.verify(make(**data), {"a": "v1", "b": "v2", "c": "v2"})
    assert check.feasible and check.penalty == 8 and check.objective == 85 - 8
    assert check.soft_violations == [{
        "rule": "rules.locks[0]", "amount": 1.0, "unit": "locks", "penalty": 8.0, "cost": 8.0, "priority": None,
        "reason": "board", "detail": "rules.locks[0]: 'a' goes to 'v1', locked to 'v2' (board)"}]


# --- compactness ------------------------------------------------------------------------------


def test_no_terms_builds_the_core_model_only(small):
    core = {"F", "V", "A", "VE", "outsource", "engage", "one_provider", "engage_link", "engage_used",
            "operating_budget", "operating_budget_limit", "transition_budget", "transition_budget_limit",
            "R", "resource_capacity_limit", "resource_capacity", "VC", "vendor_capacity_limit", "vendor_capacity",
            "VS", "max_share_limit", "max_share", "max_vendors", "max_vendors_limit", "separate", "together",
            "net_benefit"}
    model = outopt.build(small).pyomo
    names = {c.local_name for c in model.component_objects(descend_into=True)}
    assert {n for n in names if not n.endswith(("_index", "_domain"))} <= core


def test_hard_bans_leave_no_variable():
    data = copy.deepcopy(base())
    rules(forbid=[{"functions": ["b", "c"], "vendors": ["v2"]}])(data)
    model = outopt.build(make(**data))
    assert ("b", "v2") not in model.data.pairs and not hasattr(model.pyomo, "forbid")


def test_rules_affecting_an_offer_carry_their_reasons():
    data = copy.deepcopy(base())
    rules(locks=[{"function": "a", "provider": "v2", "reason": "signed contract"}],
          forbid=[{"functions": ["a"], "vendors": ["v1"], "reason": "data residency"}])(data)
    inst = make(**data)
    found = inst.rules_affecting("a", "v1")
    assert [(r["rule"], r["reason"]) for r in found] == [("rules.locks[0]", "signed contract"),
                                                          ("rules.forbid[0]", "data residency")]
    assert [r["rule"] for r in inst.rules_affecting("a", "v2")] == ["rules.locks[0]"]  # forced by it
    assert inst.rules_affecting("b", "v2") == []


# --- validation of bad inputs ------------------------------------------------------------------

BAD = [
    (vendor(0, discounts=[{"threshold": 100, "percent": 5}, {"threshold": 50, "percent": 8}]),
     "vendors[0].discounts[1].threshold: thresholds must increase; 50 is not above 100"),
    (vendor(0, discounts=[{"threshold": 100, "percent": 5}, {"threshold": 150, "percent": 5}]),
     "vendors[0].discounts[1].percent: percents must increase with the threshold; 5 is not above 5"),
    (vendor(0, discounts=[{"threshold": 100, "percent": 120}]),
     "vendors[0].discounts[0].percent: Input should be less than or equal to 100 (got 120)"),
    (vendor(0, discounts=[{"threshold": -1, "percent": 5}]),
     "vendors[0].discounts[0].threshold: Input should be greater than or equal to 0 (got -1)"),
    (vendor(0, discount_kind="stepwise"),
     "vendors[0].discount_kind: Input should be 'all_units' or 'incremental' (got 'stepwise')"),
    (vendor(0, bundles=[{"functions": ["a", "c"], "price": 10}]),
     "vendors[0].bundles[0].functions[1]: vendor 'v1' has no offer for 'c'; add the offer or drop it from the bundle"),
    (vendor(0, bundles=[{"functions": ["a"], "price": 10}]), "vendors[0].bundles[0]: a group needs at least two functions"),
    (vendor(0, bundles=[{"functions": ["a", "zz"], "price": 10}]),
     "vendors[0].bundles[0].functions[1]: function 'zz' is not in functions"),
    (vendor(1, bundles=[{"functions": ["a", "b"], "price": 10}, {"functions": ["b", "c"], "price": 10}]),
     "vendors[1].bundles[1].functions[0]: 'b' is already in bundles[0] of 'v2'; a function is in one bundle per vendor"),
    (vendor(0, min_functions=3), "vendors[0].min_functions: vendor 'v1' has 2 offer(s), fewer than min_functions 3"),
    (vendor(0, min_spend=-5), "vendors[0].min_spend: Input should be greater than or equal to 0 (got -5)"),
    (top(vendor_groups=[{"id": "g", "vendors": ["v1", "v9"], "min_count": 1}]),
     "vendor_groups[0].vendors[1]: vendor 'v9' is not in vendors"),
    (top(vendor_groups=[{"id": "g", "vendors": ["v1"]}]),
     "vendor_groups[0]: give at least one of min_share, max_share, min_count, max_count"),
    (top(vendor_groups=[{"id": "g", "vendors": ["v1"], "min_share": 0.5, "max_share": 0.2}]),
     "vendor_groups[0].min_share: min_share 0.5 is above max_share 0.2"),
    (top(vendor_groups=[{"id": "g", "vendors": ["v1"], "min_count": 1}, {"id": "g", "vendors": ["v2"], "min_count": 1}]),
     "vendor_groups[1].id: duplicate id 'g'; ids must be unique"),
    (rules(locks=[{"function": "c", "provider": "v1"}]),
     "rules.locks[0].provider: vendor 'v1' has no offer for 'c'; add the offer"),
    (rules(locks=[{"function": "zz", "provider": "v1"}]), "rules.locks[0].function: function 'zz' is not in functions"),
    (rules(locks=[{"function": "a", "provider": "v1"}, {"function": "a", "provider": "v2"}]),
     "rules.locks[1]: 'a' is also locked to 'v1' by rules.locks[0]; keep one"),
    (rules(forbid=[{"functions": ["a"], "vendors": ["v7"]}]),
     "rules.forbid[0].vendors[0]: vendor 'v7' is not in vendors (use 'inhouse' or a vendor id)"),
    (rules(forbid=[{"functions": [], "vendors": ["v1"]}]),
     "rules.forbid[0].functions: List should have at least 1 item after validation, not 0"),
    (rules(requires=[{"function": "a", "requires": "a"}]), "rules.requires[0].requires: 'a' cannot require itself"),
    (rules(requires=[{"function": "a", "requires": "q"}]), "rules.requires[0].requires: function 'q' is not in functions"),
    (rules(exclusive=[{"functions": ["a", "a"]}]), "rules.exclusive[0]: function 'a' is listed 2 times"),
    (rules(exclusive=[{"functions": ["a", "q"]}]), "rules.exclusive[0].functions[1]: function 'q' is not in functions"),
    (rules(separate=[{"functions": ["a"], "soft": {"penalty": 1}}]), "rules.separate[0]: a group needs at least two functions"),
    (rules(together=[["a", "b"], {"functions": ["a", "q"], "soft": {"penalty": 1}}]),
     "rules.together[1].functions[1]: function 'q' is not in functions"),
    (rules(separate=[["a", "q"]]), "rules.separate[0][1]: function 'q' is not in functions"),
    (rules(together=[{"functions": ["b", "b"], "soft": {"priority": 1}}]), "rules.together[0]: function 'b' is listed 2 times"),
    (rules(separate=[{"functions": ["a", "b"], "soft": {}}]),
     "rules.separate[0].soft: Value error, give a `penalty` per unit of violation, a `priority` level, or both"),
    (rules(together=[{"functions": ["a", "b"], "soft": {"penalty": -2}}]),
     "rules.together[0].soft.penalty: Input should be greater than or equal to 0 (got -2)"),
    (rules(separate=[{"functions": ["a", "b"], "penalty": 5}]),
     "rules.separate[0].penalty: unknown field; check its spelling against the instance format in the manual"),
    (rules(together=[{"soft": {"penalty": 5}}]), "rules.together[0].functions: required field is missing"),
    (rules(separate=["a"]), "rules.separate[0]: Input should be a valid list (got 'a')"),
    (function(0, exit_fee=10), "functions[0].exit_fee: 'a' has an exit fee but no current vendor; set `current` to the vendor it leaves"),
    (offer(0, stay_discount=10),
     "offers[0].stay_discount: 'v1' is not the current provider of 'a'; a stay discount needs `current: v1`"),
    (rules(max_changes=-1), "rules.max_changes: Input should be greater than or equal to 0 (got -1)"),
    (rules(soft={"max_vendors": {"penalty": 5}}), "rules.soft.max_vendors: marks max_vendors soft, but max_vendors is not set"),
    (rules(locks=[{"function": "a", "provider": "v1", "soft": {}}]),
     "rules.locks[0].soft: Value error, give a `penalty` per unit of violation, a `priority` level, or both"),
    (rules(locks=[{"function": "a", "provider": "v1", "soft": {"penalty": -1}}]),
     "rules.locks[0].soft.penalty: Input should be greater than or equal to 0 (got -1)"),
    (top(budget={"soft": {"operatng": {"penalty": 1}}}),
     "budget.soft.operatng.[key]: Input should be 'operating' or 'transition' (got 'operatng')"),
]


@pytest.mark.parametrize("change, message", BAD, ids=[m.split(":")[0] for _, m in BAD])
def test_bad_term_input(change, message):
    data = copy.deepcopy(base())
    change(data)
    with pytest.raises(outopt.InputError) as info:
        make(**data)
    assert message in [str(p) for p in info.value.problems]


# --- the mid-size example and the command line ---------------------------------------------------


def test_midsize_reports_its_broken_soft_rule_in_cli_and_json():
    from conftest import INSTANCES
    from test_cli import run

    r = run("solve", INSTANCES / "midsize.yaml", "--json", "-")
    assert r.returncode == 0, r.stderr
    data = json.loads(r.stdout)
    inst = outopt.load(INSTANCES / "midsize.yaml")
    check = outopt.verify(inst, {a["function"]: a["provider"] for a in data["assignments"]})
    assert check.feasible and data["objective"] == pytest.approx(check.objective)
    # the soft ban on CloudNine monitoring itself is worth breaking: 30,000 a year
    assert [(s["rule"], s["amount"], s["cost"]) for s in data["soft_violations"]] == [("rules.forbid[1]", 1.0, 30000.0)]
    assert data["totals"]["soft_penalty"] == 30000.0 and data["totals"]["volume_discounts"] > 0
    assert data["totals"]["bundle_savings"] == pytest.approx(41300)
    r = run("solve", INSTANCES / "midsize.yaml")
    assert "soft rules broken" in r.stdout and "rules.forbid[1]" in r.stdout


def test_soft_groups_round_trip_through_tables():
    """Groups stay comma-separated in the rules table; a soft group's marker and a group's reason go in the
    row's soft.penalty / soft.priority and reason columns (no JSON cell)."""
    inst = make(**with_(rules(separate=[["a", "b"], {"functions": ["b", "c"], "soft": {"penalty": 3}}],
                              together=[{"functions": ["a", "c"], "reason": "one team, one tool"}])))
    frames = inst.to_frames()
    table = frames["rules"]
    assert list(table["value"]) == ["a, b", "b, c", "a, c"]
    assert table["soft.penalty"][1] == 3 and table["reason"][2] == "one team, one tool"
    assert outopt.Instance.from_frames(**frames).rules == inst.rules
