"""The independent verifier catches every kind of broken plan, and agrees with the solver."""

import pytest
from conftest import INSTANCES, make

import outopt
from outopt import INHOUSE


@pytest.fixture
def mid():
    return outopt.load(INSTANCES / "midsize.yaml")


def test_solver_plan_passes_and_objective_matches(mid):
    sol = outopt.solve(mid)
    check = outopt.verify(mid, sol.plan)
    assert check.feasible
    assert sol.objective == pytest.approx(check.objective)


def test_status_quo_of_small_business(small):
    quo = outopt.status_quo(small)
    assert quo["it_support"] == "techdesk" and quo["invoicing"] == INHOUSE
    check = outopt.verify(small, quo)
    # it_support with TechDesk: 120,000 in-house - 84,000 + 6,000 value + 1.5 ops FTE x 25,000, no transition
    assert check.objective == pytest.approx(120_000 - 84_000 + 6_000 + 1.5 * 25_000)
    assert check.transition_cost == 0
    # all in-house but IT costs 1,247,000 a year, and finance staff is 5.0 FTE in use against 4.0
    assert check.violations == [
        "budget.operating: recurring cost 1,247,000.00 exceeds 1,150,000.00",
        "resources[0].capacity: 'finance_staff' uses 5 of 4",
    ]


BROKEN = {
    "missing function": (lambda p: p.pop("payroll"), "function 'payroll' has no provider in the plan"),
    "unknown function": (lambda p: p.update(marketing=INHOUSE), "plan names function 'marketing', which is not in the instance"),
    "no offer": (lambda p: p.update(payroll="salesreach"), "function 'payroll' goes to 'salesreach', which has no offer for it"),
    "core outsourced": (lambda p: p.update(product="ledgerly"), "function 'product' goes to 'ledgerly', which has no offer for it"),
}


@pytest.mark.parametrize("name", list(BROKEN))
def test_catches_broken_plan(small, name):
    plan = dict(outopt.solve(small).plan)
    change, message = BROKEN[name]
    change(plan)
    assert message in outopt.verify(small, plan).violations


def test_catches_each_broken_limit(small):
    # everything to the cheapest vendor breaks budgets, max_vendors, separate and together
    plan = {"invoicing": "ledgerly", "collections": "ledgerly", "payables": "ledgerly", "bookkeeping": "numera",
            "payroll": "ledgerly", "it_support": "techdesk", "sales": "salesreach", "product": INHOUSE}
    v = outopt.verify(small, plan).violations
    assert "budget.transition: one-off cost 87,000.00 exceeds 45,000.00" in v
    assert "rules.max_vendors: 4 vendors engaged, at most 3" in v
    assert "rules.separate[0]: invoicing, collections all go to 'ledgerly'" in v
    assert "rules.together[0]: providers differ (payables->ledgerly, bookkeeping->numera)" in v
    # ledgerly's spend 48k + 51k + 39k + 28k + 12k retainer = 178k of 566k outsourced: within its 60 %
    assert not any(x.startswith("vendors[0].max_share") for x in v)
    plan.update(sales="inhouse", it_support="inhouse")  # now 178k of 254k = 70 %
    assert "vendors[0].max_share: 'ledgerly' has 70.08% of outsourced spend, above 60.00%" in outopt.verify(small, plan).violations


def test_catches_core_outsourced_and_capacity():
    inst = make(
        resources=[{"id": "staff", "capacity": 0.5}],
        functions=[{"id": "a", "core": True, "inhouse": {"cost": 10, "uses": {"staff": 1}}}, {"id": "b", "inhouse": {"cost": 5}}],
        vendors=[{"id": "v", "capacity": 1}],
        offers=[{"function": "a", "vendor": "v", "load": 1}, {"function": "b", "vendor": "v", "load": 1}],
        budget={"operating": 1},
    )
    v = outopt.verify(inst, {"a": "v", "b": "v"}).violations
    assert "core function 'a' is outsourced to 'v'" in v
    assert "vendors[0].capacity: 'v' carries load 2 of 1" in v
    v = outopt.verify(inst, {"a": INHOUSE, "b": INHOUSE}).violations
    assert v == ["budget.operating: recurring cost 15.00 exceeds 1.00", "resources[0].capacity: 'staff' uses 1 of 0.5"]


def test_solution_refuses_a_broken_plan(small):
    with pytest.raises(outopt.PlanError, match="plan failed verification"):
        outopt.Solution.from_plan(small, {f.id: INHOUSE for f in small.functions}, outopt.Status.FEASIBLE)


def test_verify_accepts_dataframe_and_records(small):
    sol = outopt.solve(small)
    assert outopt.verify(small, sol.assignments).objective == pytest.approx(sol.objective)
    records = [{"function": f, "provider": p} for f, p in sol.plan.items()]
    assert outopt.verify(small, records).objective == pytest.approx(sol.objective)
