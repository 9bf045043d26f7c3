"""Correctness at random: generated instances using every field and rule of the format.

* small instances: the solver's optimum equals brute-force enumeration (tests/bruteforce.py);
* a plan planted in the instance (limits set at or above its needs) is never called infeasible;
* larger instances: the plan passes the verifier, its objective is the verifier's, and no random
  feasible plan beats the proven bound (so none beats the plan beyond the stated gap);
* metamorphic: money x10 scales the optimum x10 and the plan stays optimal; renaming and
  reordering changes nothing; raising a budget or a capacity never lowers the optimum.

CI runs a few dozen examples per property (derandomized: the same examples every run). A fuzz
campaign: ``OUTOPT_FUZZ=1 python -m pytest -q tests/test_properties.py`` (50x the examples,
fresh random seeds; ``OUTOPT_FUZZ_SCALE=N`` for N x).
"""

import os
import random

import pytest
from bruteforce import best
from hypothesis import HealthCheck, Phase, assume, event, given, settings
from hypothesis import strategies as st
from strategies import (
    FUZZ,
    either,
    examples,
    instances,
    money_fields,
    plan_count,
    random_plans,
    rename_and_reorder,
    scale_money,
)

import outopt
from outopt import Instance, Status, verify

COMMON = dict(deadline=None, derandomize=not FUZZ, suppress_health_check=[HealthCheck.too_slow],
              database=None if not FUZZ else settings.default.database)
if os.environ.get("OUTOPT_FUZZ_NO_SHRINK"):  # report the first failing example as drawn (faster, larger)
    COMMON["phases"] = [Phase.explicit, Phase.reuse, Phase.generate]


def close(a: float, b: float, rel: float = 1e-6) -> bool:
    return abs(a - b) <= rel * max(1.0, abs(a), abs(b))


def solve(instance: Instance, **kw) -> outopt.Solution:
    sol = checked(instance, **kw)
    event(f"status {sol.status.value}")  # shown by pytest --hypothesis-show-statistics
    return sol


def checked(instance: Instance, **kw) -> outopt.Solution:
    """Solve; a reported plan must pass the verifier and carry its objective (usable outside hypothesis)."""
    sol = outopt.solve(instance, **{"gap": 0, "time_limit": 60, **kw})
    if sol.status.has_plan:  # every reported plan passes the verifier and carries its objective
        check = verify(instance, sol.plan)
        assert check.feasible, check.violations
        assert close(sol.objective, check.objective)
        assert sol.bound is None or sol.bound >= sol.objective - 1e-6 * max(1, abs(sol.objective))
    return sol


# --- brute force on small instances --------------------------------------------------------------


@settings(max_examples=examples(60), **COMMON)
@given(case=instances(functions=(1, 5), vendors=(1, 3)))
def test_optimum_equals_brute_force(case):
    inst, _ = case
    assume(plan_count(inst) <= 2000)
    top, optimal_plans = best(inst)
    sol = solve(inst)
    if top is None:
        assert sol.status == Status.INFEASIBLE
        return
    assert sol.status == Status.OPTIMAL, sol.message
    assert close(sol.objective, top)
    assert sol.plan in optimal_plans or close(verify(inst, sol.plan).objective, top)


@settings(max_examples=examples(40), **COMMON)
@given(case=instances(functions=(1, 5), vendors=(1, 3), planted=True))
def test_planted_plan_small_equals_brute_force(case):
    inst, plan = case
    assume(plan_count(inst) <= 2000)
    planted = verify(inst, plan)
    assert planted.feasible, planted.violations  # the generator's promise
    top, _ = best(inst)
    sol = solve(inst)
    assert sol.status == Status.OPTIMAL
    assert close(sol.objective, top) and sol.objective >= planted.objective - 1e-6 * max(1, abs(top))


# --- larger instances: verified, unbeaten, never falsely infeasible -------------------------------


@settings(max_examples=examples(25), **COMMON)
@given(case=instances(functions=(6, 14), vendors=(2, 5), resources=(1, 3), planted=True),
       seed=st.integers(0, 2**32 - 1))
def test_planted_plan_is_never_called_infeasible(case, seed):
    inst, plan = case
    planted = verify(inst, plan)
    assert planted.feasible, planted.violations
    sol = solve(inst, gap=0.02)
    assert sol.status in (Status.OPTIMAL, Status.FEASIBLE), sol.message
    assert planted.objective <= sol.bound + 1e-6 * max(1, abs(sol.bound))
    beaten_by_random(inst, sol, random.Random(seed))


@settings(max_examples=examples(25), **COMMON)
@given(case=instances(functions=(6, 14), vendors=(2, 5), resources=(1, 3)), seed=st.integers(0, 2**32 - 1))
def test_no_random_plan_beats_the_reported_one_beyond_its_gap(case, seed):
    inst, _ = case
    sol = solve(inst, gap=0.05)
    if sol.status == Status.INFEASIBLE:
        feasible = [p for p in random_plans(inst, random.Random(seed), 300) if verify(inst, p).feasible]
        assert feasible == []  # random search must not find what the solver says does not exist
        return
    assert sol.status in (Status.OPTIMAL, Status.FEASIBLE)
    beaten_by_random(inst, sol, random.Random(seed))


def beaten_by_random(inst: Instance, sol: outopt.Solution, rng: random.Random, n: int = 300) -> None:
    """No random feasible plan is above the proven bound, so none beats the plan by more than the gap."""
    allowed = sol.objective + (sol.gap or 0) * max(1.0, abs(sol.objective))
    for plan in random_plans(inst, rng, n):
        check = verify(inst, plan)
        if check.feasible:
            assert check.objective <= sol.bound + 1e-6 * max(1, abs(sol.bound))
            assert check.objective <= allowed + 1e-6 * max(1, abs(allowed))


# --- metamorphic --------------------------------------------------------------------------------


def test_money_fields_are_found_from_the_schema():
    """The scaling below relies on units in field descriptions; the core's money fields are all found."""
    assert money_fields(Instance) >= {
        "Budget.operating", "Budget.transition", "Resource.redeploy_value", "Function.revenue",
        "InHouse.cost", "InHouse.value", "Vendor.retainer", "Vendor.onboarding",
        "Offer.cost", "Offer.value", "Offer.transition",
    }
    assert not money_fields(Instance) & {"Offer.commission", "Offer.load", "Vendor.capacity", "Vendor.max_share",
                                         "Resource.capacity", "Instance.horizon", "Rules.max_vendors"}


@settings(max_examples=examples(40), **COMMON)
@given(case=either(functions=(1, 7), vendors=(1, 4)))
def test_scaling_money_by_10_scales_the_optimum_and_keeps_the_plan(case):
    inst, _ = case
    scaled = scale_money(inst, 10)
    sol, sol10 = solve(inst), solve(scaled)
    assert sol.status == sol10.status
    if not sol.status.has_plan:
        return
    assert close(sol10.objective, 10 * sol.objective)
    again = verify(inst, sol10.plan)  # the scaled instance's plan is optimal for the original too
    assert again.feasible and close(again.objective, sol.objective)


@settings(max_examples=examples(40), **COMMON)
@given(case=either(functions=(1, 7), vendors=(1, 4)), seed=st.integers(0, 2**32 - 1))
def test_renaming_and_reordering_keeps_the_optimum(case, seed):
    inst, _ = case
    renamed, renaming = rename_and_reorder(inst, random.Random(seed))
    assert [f.id for f in renamed.functions] != [f.id for f in inst.functions]
    sol, sol2 = solve(inst), solve(renamed)
    assert sol.status == sol2.status
    if sol.status.has_plan:
        assert close(sol.objective, sol2.objective)
        back = {renaming[f]: renaming.get(p, p) for f, p in sol.plan.items()}
        assert close(verify(renamed, back).objective, sol2.objective)  # the same plan under new names


@settings(max_examples=examples(40), **COMMON)
@given(case=either(functions=(1, 7), vendors=(1, 4)), raise_by=st.sampled_from([1, 10, 100, 10_000]),
       data=st.data())
def test_raising_a_budget_or_capacity_never_lowers_the_optimum(case, raise_by, data):
    inst, _ = case
    limits = [b for b in ("operating", "transition") if getattr(inst.budget, b) is not None]
    assume(limits or inst.resources)
    what = data.draw(st.sampled_from(limits + (["capacity"] if inst.resources else [])))
    if what == "capacity":
        resources = [r.model_copy(update={"capacity": r.capacity + raise_by}) for r in inst.resources]
        richer = inst.replace(resources=resources)
    else:
        richer = inst.replace(budget={what: getattr(inst.budget, what) + raise_by})
    sol, sol2 = solve(inst), solve(richer)
    if sol.status.has_plan:
        assert sol2.status.has_plan
        assert sol2.objective >= sol.objective - 1e-6 * max(1, abs(sol.objective))
    if sol2.status == Status.INFEASIBLE:
        assert sol.status == Status.INFEASIBLE


@pytest.mark.skipif(not FUZZ, reason="fuzz campaign only (OUTOPT_FUZZ=1)")
@settings(max_examples=examples(20), **COMMON)
@given(case=instances(functions=(15, 30), vendors=(3, 8), resources=(1, 4), planted=True))
def test_fuzz_big_planted_instances(case):
    inst, plan = case
    assert verify(inst, plan).feasible
    sol = solve(inst, gap=0.01, time_limit=30)
    assert sol.status in (Status.OPTIMAL, Status.FEASIBLE)
    assert verify(inst, plan).objective <= sol.bound + 1e-6 * max(1, abs(sol.bound))


# --- bugs these properties found in the contract terms (issue 3), kept as regression tests -------------


def test_ban_on_every_option_is_infeasible():
    from conftest import make

    inst = make(functions=[{"id": "a", "inhouse": {"cost": 10}}, {"id": "b"}], vendors=[{"id": "v"}],
                offers=[{"function": "a", "vendor": "v", "cost": 5}, {"function": "b", "vendor": "v", "cost": 5}],
                rules={"forbid": [{"functions": ["b"], "vendors": ["v"]}]})
    assert checked(inst).status == Status.INFEASIBLE
    assert best(inst) == (None, [])


def test_bundle_priced_above_its_members_is_never_taken():
    from conftest import make

    inst = make(functions=[{"id": "a"}, {"id": "b"}], vendors=[{"id": "v", "bundles": [
                    {"functions": ["a", "b"], "price": 150}]}],
                offers=[{"function": "a", "vendor": "v", "cost": 50}, {"function": "b", "vendor": "v", "cost": 50}])
    sol = checked(inst)  # both must go to v; the bundle (150) is dearer than the offers (100): not taken
    assert sol.status == Status.OPTIMAL and close(sol.objective, -100)
    assert close(best(inst)[0], -100)


def test_min_spend_with_a_bundle_is_net_of_the_saving():
    from conftest import make

    inst = make(functions=[{"id": "a", "inhouse": {"cost": 100}}, {"id": "b", "inhouse": {"cost": 100}}],
                vendors=[{"id": "v", "min_spend": 90, "bundles": [{"functions": ["a", "b"], "price": 60}]}],
                offers=[{"function": "a", "vendor": "v", "cost": 50}, {"function": "b", "vendor": "v", "cost": 50}])
    # both to v: spend 60 after the bundle, below 90; one to v: 50: so all in-house
    sol = checked(inst)
    assert sol.status == Status.OPTIMAL and close(sol.objective, 0) and set(sol.plan.values()) == {"inhouse"}
    assert close(best(inst)[0], 0)
