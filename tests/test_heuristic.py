"""Starting plans: every plan the heuristic returns passes the independent verifier, and the
solver keeps it when it finds nothing better."""

import pytest
from conftest import INSTANCES

import outopt
from outopt.instance.generate import generate
from outopt.solver.heuristic import starting_plan
from outopt.model.data import compile_data
from outopt.instance.orlib import gap_instance


@pytest.mark.parametrize(
    "inst",
    [
        generate(200, 10, "hard", seed=0),
        generate(300, 12, "hard", seed=4),
        generate(150, 8, "easy", seed=1, rules=True),
        generate(150, 8, "hard", seed=2, rules=True),
    ],
    ids=["hard-200x10", "hard-300x12", "easy-rules", "hard-rules"],
)
def test_generated_plans_pass_the_verifier(inst):
    plan = starting_plan(compile_data(inst), time_limit=3)
    if inst.name.startswith("generated-hard-200x10") or "easy" in inst.name:
        assert plan is not None  # found on these (checked when written)
    if plan is not None:
        check = outopt.verify(inst, plan)
        assert check.feasible, check.violations
        assert set(plan) == {f.id for f in inst.functions}


def test_examples_and_gap_plans_pass_the_verifier(gap_dir):
    insts = [outopt.load(INSTANCES / "small_business.yaml"), outopt.load(INSTANCES / "midsize.yaml"),
             gap_instance(gap_dir / "gap1.txt", 1, "max"), gap_instance(gap_dir / "gapa.txt", 1, "min")]
    found = 0
    for inst in insts:
        plan = starting_plan(compile_data(inst), time_limit=3)
        if plan is not None:
            found += 1
            assert outopt.verify(inst, plan).feasible
    assert found >= 3


def test_infeasible_instance_gives_no_plan():
    inst = outopt.load(INSTANCES / "infeasible.yaml")
    assert starting_plan(compile_data(inst), time_limit=2) is None


def test_solver_keeps_the_starting_plan_when_it_finds_nothing_better():
    """HiGHS given almost no time: the verified heuristic plan comes back as 'feasible' unless HiGHS beat it."""
    from outopt.solver.pipeline import _better_of

    inst = generate(200, 10, "hard", seed=0)
    plan = starting_plan(compile_data(inst), time_limit=3)
    start = outopt.verify(inst, plan).objective
    sol = outopt.build(inst).solve(time_limit=0.05, warm_start=False)
    assert sol.status in (outopt.Status.TIMEOUT, outopt.Status.FEASIBLE)
    kept = _better_of(inst, sol, plan)
    assert kept.status == outopt.Status.FEASIBLE
    assert kept.objective >= start - 1e-6 and outopt.verify(inst, kept.plan).feasible
    if sol.plan is None or sol.objective < start:
        assert kept.plan == plan and "starting plan kept" in kept.message
