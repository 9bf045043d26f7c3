"""Solver options: determinism, threads, gap semantics, statuses and the typed result."""

import json

import pytest
from conftest import INSTANCES
from hard import perfect_packing

import outopt


def test_same_input_and_options_give_the_same_plan():
    inst = outopt.load(INSTANCES / "midsize.yaml")
    plans = {json.dumps(outopt.solve(inst, threads=1, seed=s).plan, sort_keys=True) for s in (7, 7, 7)}
    assert len(plans) == 1


def test_options_are_checked():
    with pytest.raises(ValueError, match="solver 'cbc' is not supported"):
        outopt.SolveOptions(solver="cbc")
    with pytest.raises(ValueError, match="gap must be in"):
        outopt.SolveOptions(gap=1.5)
    with pytest.raises(ValueError, match="time_limit must be positive"):
        outopt.SolveOptions(time_limit=0)


def test_optimal_result_is_typed_and_explained(small):
    sol = outopt.solve(small, gap=0)
    assert sol.status is outopt.Status.OPTIMAL and sol.status.exit_code == 0
    assert sol.gap == pytest.approx(0, abs=1e-9) and sol.bound == pytest.approx(sol.objective)
    df = sol.assignments
    assert list(df["function"]) == [f.id for f in small.functions]
    assert df["benefit"].sum() - sum(  # engaged vendors' retainers and amortised onboarding
        v.retainer + v.onboarding / small.horizon * (v.id != "techdesk") for v in small.vendors if v.id in sol.verification.engaged
    ) == pytest.approx(sol.objective)
    assert repr(sol).startswith("<Solution 'BrightPath Ltd': optimal, net benefit 339,500.00 USD/yr")
    totals = sol.totals()
    assert totals["operating_cost"] == pytest.approx(sol.verification.operating_cost)
    assert totals["net_benefit_vs_status_quo"] == pytest.approx(sol.objective - outopt.verify(small, outopt.status_quo(small)).objective)


def test_time_limit_without_plan_is_timeout_not_silent():
    sol = outopt.solve(perfect_packing(), time_limit=1)
    assert sol.status is outopt.Status.TIMEOUT and sol.status.exit_code == 4
    assert sol.plan is None and sol.objective is None
    assert sol.total_time < 1 + 2
    assert json.loads(sol.to_json())["status"] == "timeout"


def test_gap_on_hard_gap_instance_is_reported(gap_dir):
    from outopt.instance.orlib import gap_instance

    sol = outopt.solve(gap_instance(gap_dir / "gapd.txt", 1, "min"), time_limit=2)
    assert sol.status in (outopt.Status.FEASIBLE, outopt.Status.OPTIMAL)
    assert outopt.verify(sol.instance, sol.plan).feasible
    assert sol.bound >= sol.objective - 1e-6
    assert sol.gap == pytest.approx((sol.bound - sol.objective) / abs(sol.objective))
    assert sol.total_time < 2 * 1.1 + 0.5
