"""Progress of a solve (SolveOptions.progress): phases in order, elapsed time, and a best plan and bound
that never go back; what the CLI's live line shows."""

import outopt
from outopt.instance.generate import generate
from outopt.solver.options import Progress, SolveOptions


def test_progress_reports_phases_plans_and_bounds_that_never_go_back():
    inst = generate(300, 20, "hard", seed=1)
    seen: list[Progress] = []
    sol = outopt.solve(inst, options=SolveOptions(time_limit=4, threads=1, progress=seen.append))
    phases = [p.phase for p in seen]
    assert phases[0] == "reducing" and "building the model" in phases and phases[-1] == "solving"
    assert all(a.elapsed <= b.elapsed for a, b in zip(seen, seen[1:]))
    objectives = [p.objective for p in seen if p.objective is not None]
    bounds = [p.bound for p in seen if p.bound is not None]
    assert objectives == sorted(objectives) and bounds == sorted(bounds, reverse=True)
    assert objectives and bounds and objectives[-1] <= bounds[-1] + 1e-6
    # the heuristic's plan is the first objective reported, and it is the verifier's figure
    assert objectives[0] <= sol.objective + 1e-6
    assert seen[-1].gap is not None and seen[-1].gap >= 0


def test_no_progress_without_a_callback_and_no_change_in_the_answer():
    inst = outopt.load("instances/small_business.yaml")
    assert outopt.solve(inst).objective == outopt.solve(inst, options=SolveOptions(progress=lambda p: None)).objective
