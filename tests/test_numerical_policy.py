"""The numerical policy at its edges (models/portfolio.md, Numerical policy; README, Numerical policy):
exactly at a limit is met, within the tolerance is met, beyond it is not, in the verifier and the model
alike; numbers at the edge of the accepted range are accepted and beyond it refused with their place;
and what a solve does when HiGHS's answer is not confirmed by the verifier."""

import pytest
from bruteforce import best
from conftest import make

import outopt
from outopt import Status, verify
from outopt.errors import InputError, PlanError
from outopt.instance.numerics import (
    ABS_TOL,
    MAX_AMOUNT,
    MIN_SHARE,
    REL_TOL,
    reached,
    tolerance,
)
from outopt.solver import SolveOptions, highs
from outopt.solver.direct import DirectModel

LIMITS = [0.0, 1.0, 100.0, 1e6, 1e9, 9e11]


def test_the_tolerance_is_a_hundred_thousandth_plus_a_billionth_of_the_limit():
    assert (ABS_TOL, REL_TOL) == (1e-5, 1e-9)
    assert tolerance(0) == 1e-5 and tolerance(1e9) == pytest.approx(1.00001) and tolerance(-100) == tolerance(100)


def _one_offer(cost: float, **budget) -> outopt.Instance:
    """One function that must go to the one vendor, at ``cost`` a year and ``cost`` one-off."""
    return make(functions=[{"id": "a"}], vendors=[{"id": "v"}],
                offers=[{"function": "a", "vendor": "v", "cost": cost, "transition": cost}], budget=budget)


@pytest.mark.parametrize("limit", LIMITS)
@pytest.mark.parametrize("budget", ["operating", "transition"])
def test_a_budget_is_met_exactly_and_within_its_tolerance_not_beyond(limit, budget):
    for over, met in [(0.0, True), (0.5 * tolerance(limit), True), (2 * tolerance(limit), False)]:
        inst = _one_offer(limit + over, **{budget: limit})
        assert verify(inst, {"a": "v"}).feasible == met, (limit, over)
        sol = outopt.solve(inst)
        assert sol.status == (Status.OPTIMAL if met else Status.INFEASIBLE), (limit, over, sol.message)


def test_a_budget_of_1e9_is_not_met_999_over():
    """The verifier's old tolerance, 1e-6 x |limit|, accepted 1,000 over a budget of 1e9."""
    inst = _one_offer(1e9 + 999, operating=1e9)
    check = verify(inst, {"a": "v"})
    assert check.violations == ["budget.operating: recurring cost 1,000,000,999.00 exceeds 1,000,000,000.00"]
    assert outopt.solve(inst).status == Status.INFEASIBLE
    assert verify(_one_offer(1e9 + 1, operating=1e9), {"a": "v"}).feasible  # 1 over: within 1.00001


@pytest.mark.parametrize("limit", [1.0, 1e6, 9e11])
def test_a_capacity_is_met_exactly_and_within_its_tolerance_not_beyond(limit):
    for over, met in [(0.0, True), (0.5 * tolerance(limit), True), (2 * tolerance(limit), False)]:
        inst = make(resources=[{"id": "staff", "capacity": limit}],
                    functions=[{"id": "a", "inhouse": {"cost": 10, "uses": {"staff": limit + over}}}])
        assert verify(inst, {"a": "inhouse"}).feasible == met
        assert outopt.solve(inst).status == (Status.OPTIMAL if met else Status.INFEASIBLE)
        inst = make(functions=[{"id": "a"}], vendors=[{"id": "v", "capacity": limit}],
                    offers=[{"function": "a", "vendor": "v", "cost": 1, "load": limit + over}])
        assert verify(inst, {"a": "v"}).feasible == met
        assert outopt.solve(inst).status == (Status.OPTIMAL if met else Status.INFEASIBLE)


@pytest.mark.parametrize("limit", [1.0, 1e6, 9e11])
def test_a_minimum_spend_is_met_exactly_and_within_its_tolerance_not_beyond(limit):
    for short, met in [(0.0, True), (0.5 * tolerance(limit), True), (2 * tolerance(limit), False)]:
        inst = make(functions=[{"id": "a"}], vendors=[{"id": "v", "min_spend": limit}],
                    offers=[{"function": "a", "vendor": "v", "cost": limit - short}])
        assert verify(inst, {"a": "v"}).feasible == met
        assert outopt.solve(inst).status == (Status.OPTIMAL if met else Status.INFEASIBLE)


@pytest.mark.parametrize("other", [1.0, 1e6, 1e9])
def test_a_share_is_met_within_the_tolerance_of_total_spend(other):
    """v takes A of A + B, with at most a quarter: A - (A + B)/4 = over."""
    for over, met in [(0.0, True), (0.5, True), (2.0, False)]:  # in units of the tolerance of total spend
        a = other / 3
        a += over * tolerance(a + other) / 0.75
        inst = make(functions=[{"id": "a"}, {"id": "b"}], vendors=[{"id": "v", "max_share": 0.25}, {"id": "w"}],
                    offers=[{"function": "a", "vendor": "v", "cost": a}, {"function": "b", "vendor": "w", "cost": other}])
        assert verify(inst, {"a": "v", "b": "w"}).feasible == met, (other, over)
        assert outopt.solve(inst).status == (Status.OPTIMAL if met else Status.INFEASIBLE), (other, over)


@pytest.mark.parametrize("threshold", [100.0, 70100.04, 2e6, 5e11])
def test_a_discount_threshold_is_reached_within_its_tolerance_and_below_it_list_price_is_paid(threshold):
    """All-units, 4 % off: a spend at the threshold or within its tolerance below it is discounted; a spend
    further below pays list price, and the model agrees with the verifier (and enumeration) either way."""
    cent = 0.01 <= tolerance(threshold)  # a cent below is within the tolerance of a threshold from 1e7 on
    for short, discounted in [(0.0, True), (0.5 * tolerance(threshold), True), (2 * tolerance(threshold), False),
                              (0.01, cent)]:
        spend = threshold - short
        assert reached(spend, threshold) == discounted
        inst = make(functions=[{"id": "a", "inhouse": {"cost": 2 * threshold}}, {"id": "b", "inhouse": {"cost": 1}}],
                    vendors=[{"id": "v", "discounts": [{"threshold": threshold, "percent": 4}]}],
                    offers=[{"function": "a", "vendor": "v", "cost": spend},
                            {"function": "b", "vendor": "v", "cost": 1}])
        check = verify(inst, {"a": "v", "b": "inhouse"})
        assert check.discounts == ({"v": pytest.approx(0.04 * spend)} if discounted else {})
        sol = outopt.solve(inst)
        top, _ = best(inst)
        assert sol.status == Status.OPTIMAL and sol.objective == pytest.approx(top, rel=1e-12)


# --- the range of numbers ---------------------------------------------------------------------------------


def _problems(**kw) -> list[str]:
    try:
        make(**kw)
    except InputError as err:
        return [str(p) for p in err.problems]
    return []


RANGE = "must be at most 1e+12 in absolute value, outopt's range of numbers (the manual, Numerical policy)"


def test_numbers_at_the_edge_of_the_range_are_accepted_and_beyond_it_refused_with_their_place():
    assert MAX_AMOUNT == 1e12
    edge = {"functions": [{"id": "a", "inhouse": {"cost": 1e12, "value": -1e12}}], "budget": {"operating": 1e12}}
    assert _problems(**edge) == []
    beyond = 1.0000000001e12
    assert _problems(functions=[{"id": "a", "inhouse": {"cost": beyond, "value": -beyond}}],
                     budget={"operating": beyond}, rules={"max_vendors": 10**12 + 1}) == [
        f"budget.operating: {RANGE} (got 1e+12)",
        f"functions[0].inhouse.cost: {RANGE} (got 1e+12)",
        f"functions[0].inhouse.value: {RANGE} (got -1e+12)",
        f"rules.max_vendors: {RANGE} (got 1e+12)",
    ]


def test_derived_yearly_figures_beyond_the_range_are_refused_with_their_place():
    fine = dict(resources=[{"id": "r", "capacity": 1e6, "redeploy_value": 1e6}],
                functions=[{"id": "a", "inhouse": {"cost": 1, "uses": {"r": 1e6}}}],
                vendors=[{"id": "v", "onboarding": 1e9}], offers=[{"function": "a", "vendor": "v", "transition": 1e9}],
                horizon=1e-3)
    assert _problems(**fine) == []  # 1e12 a year each: at the edge
    over = {**fine, "horizon": 0.9e-3, "resources": [{"id": "r", "capacity": 1e6, "redeploy_value": 1.1e6}]}
    assert _problems(**over) == [
        "vendors[0].onboarding: onboarding over the horizon is 1.11e+12 a year, above 1e+12, outopt's range of "
        "numbers (the manual, Numerical policy)",
        "functions[0].inhouse.uses: the redeploy value of the staff it frees is 1.1e+12 a year, above 1e+12, "
        "outopt's range of numbers (the manual, Numerical policy)",
        "offers[0].transition: the transition over the horizon is 1.11e+12 a year, above 1e+12, outopt's range "
        "of numbers (the manual, Numerical policy)",
    ]


def test_a_share_below_the_smallest_accepted_is_refused_with_its_place():
    assert MIN_SHARE == 1e-6
    base = dict(functions=[{"id": "a", "inhouse": {"cost": 1}}], vendors=[{"id": "v"}],
                offers=[{"function": "a", "vendor": "v", "cost": 1}])
    ok = {**base, "vendors": [{"id": "v", "max_share": 1e-6}],
          "vendor_groups": [{"id": "g", "vendors": ["v"], "min_share": 0, "max_share": 1e-6}]}
    assert _problems(**ok) == []
    tiny = {**base, "vendors": [{"id": "v", "max_share": 2.9e-9}],
            "vendor_groups": [{"id": "g", "vendors": ["v"], "min_share": 1e-7}]}
    assert _problems(**tiny) == [
        "vendors[0].max_share: 2.9e-09 is below 1e-06, the smallest share outopt accepts (shares are met within "
        "a billionth of total spend); set at least 1e-06",
        "vendor_groups[0].min_share: 1e-07 is below 1e-06, the smallest share outopt accepts (shares are met "
        "within a billionth of total spend); set 0 or at least 1e-06",
    ]


# --- when HiGHS's answer is not confirmed ------------------------------------------------------------------


def _doubting(monkeypatch, answers: list):
    """Make the drivers' HiGHS runs (of ``outopt.build`` and of ``outopt.solve``) return the given answers in
    turn (a _Doubt or 'infeasible'), then run."""
    calls = []

    def doubting(real):
        def attempt(self, options, start, deadline, t0, highs_options=None):
            calls.append(highs_options)
            sol = real(self, options, start, deadline, t0, highs_options)
            answer = answers[len(calls) - 1] if len(calls) <= len(answers) else None
            if answer == "infeasible":
                return outopt.Solution(self.instance, Status.INFEASIBLE, message="no plan satisfies every rule")
            if isinstance(answer, str):  # HiGHS's plan rejected by the verifier
                return highs._Doubt(answer, None, False)
            return sol
        return attempt

    for cls in (highs.Model, DirectModel):
        monkeypatch.setattr(cls, "_attempt", doubting(cls._attempt))
    return calls


def _quo_feasible() -> outopt.Instance:
    """The status quo (all in-house, 0) is feasible; the optimum moves a to v (budget 150 allows it)."""
    return make(budget={"operating": 150}, functions=[{"id": "a", "inhouse": {"cost": 100}},
                                                       {"id": "b", "inhouse": {"cost": 50}}],
                vendors=[{"id": "v", "retainer": 5}, {"id": "w", "retainer": 5}],
                offers=[{"function": "a", "vendor": "v", "cost": 60}, {"function": "b", "vendor": "v", "cost": 40},
                        {"function": "a", "vendor": "w", "cost": 70}], rules={"max_vendors": 1})


def test_a_plan_failing_verification_is_solved_again_with_tighter_tolerances(monkeypatch):
    calls = _doubting(monkeypatch, ["HiGHS's plan failed verification: budget.operating: ..."])
    sol = outopt.solve(_quo_feasible())
    assert calls == [None, highs.TIGHT]
    assert sol.status == Status.OPTIMAL and sol.objective == pytest.approx(best(_quo_feasible())[0])
    assert sol.message == "solved again (HiGHS's plan failed verification: budget.operating: ...)"


def test_unconfirmed_thrice_gives_the_best_verified_plan_known_never_an_error(monkeypatch):
    inst = _quo_feasible()
    calls = _doubting(monkeypatch, ["rejected", "rejected", "rejected"])
    sol = outopt.solve(inst)
    assert calls == [None, highs.TIGHT, highs.NO_PRESOLVE]
    assert sol.status == Status.FEASIBLE and sol.bound is None and verify(inst, sol.plan).feasible
    assert sol.message == "rejected; returned the best plan that passes the verifier (no bound)"


def test_infeasible_while_a_verified_plan_is_known_is_not_reported(monkeypatch):
    inst = _quo_feasible()
    calls = _doubting(monkeypatch, ["infeasible", "infeasible"])
    sol = outopt.solve(inst)
    assert calls == [None, highs.NO_PRESOLVE]
    assert sol.status == Status.FEASIBLE and verify(inst, sol.plan).feasible
    assert sol.message.startswith("HiGHS found no plan, but the starting plan passes the verifier; returned")


def test_an_infeasible_verdict_is_confirmed_by_a_second_run(monkeypatch):
    inst = _one_offer(101, operating=100)
    calls = _doubting(monkeypatch, [])
    sol = outopt.solve(inst)
    assert sol.status == Status.INFEASIBLE and calls == [None, highs.NO_PRESOLVE]


def test_no_verified_plan_known_and_both_runs_rejected_is_an_error(monkeypatch):
    # a must go to v or to w (over budget): no status quo, no all-in-house plan, no heuristic
    inst = make(functions=[{"id": "a"}], vendors=[{"id": "v"}, {"id": "w"}], budget={"operating": 60},
                offers=[{"function": "a", "vendor": "v", "cost": 50}, {"function": "a", "vendor": "w", "cost": 80,
                                                                       "value": 100}])
    _doubting(monkeypatch, ["rejected", "rejected", "rejected"])
    with pytest.raises(PlanError, match="rejected; also when solved again without presolve and with tighter"):
        outopt.solve(inst, options=SolveOptions(heuristic=0))


def test_the_second_run_leaves_the_models_highs_options_as_they_were(monkeypatch):
    inst = _quo_feasible()
    model = outopt.build(inst)
    calls = _doubting(monkeypatch, ["rejected"])
    assert model.solve().status == Status.OPTIMAL and calls == [None, highs.TIGHT]
    h = model._solver._solver_model
    assert [highs._option(h, k) for k in highs.TIGHT] == ["choose", 1e-6]


# --- no negative zero ---------------------------------------------------------------------------------


def test_a_negative_zero_is_printed_and_written_as_zero():
    from outopt.report.terminal import money, number

    assert money(-0.0, "USD") == "0 USD" and money(-0.004) == "0.00" and money(-0.4) == "-0.40"
    assert money(-100.2) == "-100" and number(-0.0) == "0" and number(-0.00001) == "0"
    inst = _quo_feasible()
    sol = outopt.Solution.from_plan(inst, {"a": "inhouse", "b": "inhouse"}, Status.FEASIBLE, bound=-0.0)
    assert str(sol.to_dict()["bound"]) == "0.0" and '"bound": 0.0' in sol.to_json()
