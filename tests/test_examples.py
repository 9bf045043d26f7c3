"""Every file in instances/ solves to its expected objective; the small one is checked by enumeration."""

import pytest
from bruteforce import best
from conftest import INSTANCES

import outopt

EXPECTED = {
    # file: (status, net benefit per year)
    "small_business.yaml": ("optimal", 339_500.0),
    "small_business_ranges.yaml": ("optimal", 339_500.0),  # the same planning values, with ranges (issue 17)
    "midsize.yaml": ("optimal", 4_028_630.6666666665),  # every contract term in use; proven optimal by HiGHS at gap 0
    "infeasible.yaml": ("infeasible", None),
}


ELSEWHERE = {"roadmap.yaml"}  # a multi-year plan: its roadmap and NPV are checked in test_roadmap_cli.py


def test_every_instance_has_an_expectation():
    assert {p.name for p in INSTANCES.iterdir() if p.suffix in (".yaml", ".json")} == set(EXPECTED) | ELSEWHERE


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_example_solves(name):
    status, objective = EXPECTED[name]
    inst = outopt.load(INSTANCES / name)
    sol = outopt.solve(inst)
    assert sol.status.value == status
    if objective is not None:
        assert sol.objective == pytest.approx(objective)
    if sol.status.has_plan:
        assert outopt.verify(inst, sol.plan).feasible


def test_small_business_optimum_by_enumeration(small):
    optimum, plans = best(small)
    assert optimum == pytest.approx(EXPECTED["small_business.yaml"][1])
    sol = outopt.solve(small)
    assert sol.plan in plans


def test_infeasible_example_has_no_feasible_plan():
    assert best(outopt.load(INSTANCES / "infeasible.yaml")) == (None, [])
