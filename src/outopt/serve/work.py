"""What a worker process runs for the workbench: a solve (answered as ``outopt solve --json -`` answers
it, a diagnosis included when no plan exists), an explanation, a frontier; with the charts drawn there,
so the web process never runs a solver or matplotlib.

Each function takes a ``progress`` callable (given by :mod:`outopt.serve.jobs`) that receives plain dicts.
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, field

from outopt.analysis.diagnose import Diagnosis, diagnose_infeasible
from outopt.analysis.explain import Explanation, explain
from outopt.analysis.frontier import Frontier, frontier, step_figure
from outopt.errors import OutoptError
from outopt.instance.schema import Instance
from outopt.report import charts
from outopt.solver import Solution, SolveOptions, Status, solve
from outopt.solver.options import Progress

Report = Callable[[dict], None]


def progress_dict(p: Progress) -> dict:
    """A solve's progress as the API shows it: phase, elapsed seconds, best plan, bound and gap."""
    return {"phase": p.phase, "elapsed": round(p.elapsed, 3), "objective": p.objective, "bound": p.bound,
            "gap": p.gap}


@dataclass
class Solved:
    """A solve's answer: the solution, the diagnosis when it is infeasible, and charts when asked for."""

    solution: Solution
    diagnosis: Diagnosis | None = None
    charts: dict[str, str] = field(default_factory=dict)  # name -> inline SVG

    def to_dict(self) -> dict:
        """The JSON of ``outopt solve --json -``."""
        out = json.loads(self.solution.to_json())
        if self.diagnosis is not None:
            out["diagnosis"] = self.diagnosis.to_dict()
        return out


def solve_job(instance: Instance, time_limit: float | None, gap: float, draw: bool = False, *,
              progress: Report) -> Solved:
    """Solve as ``outopt solve`` does (same options, the diagnosis of an infeasible instance within
    what is left of the time limit); ``draw``: also the report's charts of the plan."""
    options = SolveOptions(time_limit=time_limit, gap=gap, progress=lambda p: progress(progress_dict(p)))
    sol = solve(instance, options=options)
    diagnosis = None
    if sol.status is Status.INFEASIBLE:
        progress({"phase": "diagnosing", "elapsed": round(sol.total_time, 3), "objective": None, "bound": None,
                  "gap": None})
        left = None if time_limit is None else max(0.05, time_limit - sol.total_time)
        try:
            diagnosis = diagnose_infeasible(instance, SolveOptions(time_limit=left))
        except OutoptError:
            diagnosis = None  # the plan's status stands; the page says no diagnosis was made
    return Solved(sol, diagnosis, plan_charts(sol) if draw else {})


def plan_charts(sol: Solution) -> dict[str, str]:
    """The report's charts of a plan as inline SVG: spend by vendor, the cost waterfall, resources."""
    if sol.plan is None:
        return {}
    out = {"waterfall": charts.svg(charts.waterfall(sol, charts.detached("waterfall")))}
    if sol.verification.engaged:
        out["spend"] = charts.svg(charts.spend(sol, charts.detached("spend")))
    if sol.instance.resources:
        out["resources"] = charts.svg(charts.resources(sol, charts.detached("resources")))
    return out


def explain_job(instance: Instance, solution: Solution | None, time_limit: float | None, *,
                progress: Report) -> Explanation:
    """Why the plan: runner-up and regret per function, break-even cost per offer, binding limits.
    One solver thread: the pool's other workers have the other cores."""
    progress({"phase": "explaining", "elapsed": 0.0, "objective": None, "bound": None, "gap": None})
    return explain(instance, SolveOptions(time_limit=time_limit, threads=1), solution=solution)


@dataclass
class Traced:
    """A frontier and its chart."""

    frontier: Frontier
    svg: str


def frontier_job(instance: Instance, param: str, lower: float, upper: float, steps: int,
                 time_limit: float | None, *, progress: Report) -> Traced:
    """The best net benefit across a range of one limit, and its step chart."""
    progress({"phase": f"sweeping {param}", "elapsed": 0.0, "objective": None, "bound": None, "gap": None})
    result = frontier(instance, param, lower, upper, steps=steps, options=SolveOptions(time_limit=time_limit))
    return Traced(result, charts.svg(step_figure(result)))
