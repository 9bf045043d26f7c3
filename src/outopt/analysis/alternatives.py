"""Alternative plans: the K best distinct plans, within a stated distance of the optimum.

The built model is solved once for the best plan; then each plan found is excluded by a
no-good cut on the assignment variables (for the plan's set ``S`` of chosen offers,
``sum_{S} (1 - x) + sum_{A \\ S} x >= 1``) and the same model, kept by HiGHS, is solved
again. A floor ``net_benefit >= z* - within * max(1, |z*|)`` keeps the search inside the
distance asked for. Each solve is proven optimal over the plans not yet found, so the plans
come best first; each is checked by the verifier. A time limit covers the whole search;
when a limit stops a solve before its plan is proven, that plan is the last one reported
(its ``status`` says ``feasible``).
"""

from __future__ import annotations

import re
import time
from dataclasses import dataclass, replace

import pyomo.environ as pyo

from outopt.analysis._subject import Source, build_any, flat_plan, label_of, subject_of
from outopt.errors import InputError, Problem
from outopt.solver import SolveOptions
from outopt.solver.solution import CompanySolution, Solution, Status


def parse_within(text: str | float | None) -> float | None:
    """``"2%"`` or ``0.02`` -> 0.02 (relative distance from the optimum); None = no limit."""
    if text is None:
        return None
    raw = str(text).strip()
    m = re.fullmatch(r"([0-9]*\.?[0-9]+)\s*(%?)", raw)
    if not m:
        raise InputError([Problem("--within", f"'{raw}' is not a distance; write e.g. 2% or 0.02")])
    value = float(m.group(1)) / (100 if m.group(2) else 1)
    if value >= 1 and not m.group(2):
        raise InputError([Problem("--within", f"{raw} is not a fraction below 1; write e.g. 2% or 0.02")])
    return value


@dataclass
class Alternatives:
    """The best plan and up to K-1 more, best first; ``best`` is the first solve (maybe infeasible)."""

    best: Solution | CompanySolution
    plans: list[Solution | CompanySolution]
    within: float | None
    floor: float | None

    def differences(self, i: int) -> list[dict]:
        """Functions whose provider in plan ``i`` differs from the best plan (a company's with their division)."""
        top, plan = flat_plan(self.plans[0].plan), flat_plan(self.plans[i].plan)
        return [{**label_of(f), "provider": p, "best": top[f]} for f, p in plan.items() if top[f] != p]

    def to_dict(self) -> dict:
        return {
            "plans": [
                {"objective": s.objective, "status": s.status.value,
                 "assignments": [{**label_of(f), "provider": p} for f, p in flat_plan(s.plan).items()],
                 "differs": self.differences(i)}
                for i, s in enumerate(self.plans)
            ],
            "within": self.within,
            "floor": self.floor,
        }

    def __repr__(self) -> str:
        return f"<Alternatives: {len(self.plans)} plans, objectives {[round(s.objective, 2) for s in self.plans]}>"


def _cut(subject, plan: dict, pairs):
    chosen = [p for p in pairs if plan.get(p[0]) == p[1]]
    others = [p for p in pairs if plan.get(p[0]) != p[1]]
    return sum(1 - subject.x(p) for p in chosen) + sum(subject.x(p) for p in others) >= 1


def alternatives(instance: Source, k: int, within: float | str | None = None, options=None) -> Alternatives:
    """Up to ``k`` distinct plans (the best included), best first, each within ``within``
    (relative: 0.02 or "2%") of the optimum; all of them when ``within`` is None. A company's plans are
    whole company plans, all divisions solved together."""
    if k < 1:
        raise InputError([Problem("--alternatives", "ask for at least 1 plan")])
    within = parse_within(within)
    options = options or SolveOptions()
    t0 = time.perf_counter()
    model = build_any(instance)
    best = model.solve(options)
    if not best.status.has_plan:
        return Alternatives(best, [], within, None)
    subject = subject_of(model)
    m, pairs = model.pyomo, subject.pairs
    floor = None
    if within is not None:
        floor = best.objective - within * max(1.0, abs(best.objective))
        slack = 1e-7 * max(1.0, abs(floor))
        m.alternatives_floor = pyo.Constraint(expr=m.net_benefit.expr >= floor - slack)
    m.alternatives_cut = pyo.ConstraintList()
    plans = [best]
    while len(plans) < k and pairs and best.status == Status.OPTIMAL:
        m.alternatives_cut.add(_cut(subject, flat_plan(plans[-1].plan), pairs))
        step = options
        if options.time_limit is not None:  # the time limit covers the whole call
            left = options.time_limit - (time.perf_counter() - t0)
            if left < 0.05:
                break
            step = replace(options, time_limit=left)
        sol = model.solve(step)
        if not sol.status.has_plan or (floor is not None and sol.objective < floor - 1e-6 * max(1.0, abs(floor))):
            break
        plans.append(sol)
        if sol.status != Status.OPTIMAL:  # a limit stopped the search: the next plan would not be proven next
            break
    return Alternatives(best, plans, within, floor)
