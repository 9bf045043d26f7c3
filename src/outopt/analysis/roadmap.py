"""Analyses of a roadmap: why each change happens in its year, and the frontier of a per-year limit.

**Explanation** (:func:`explain_roadmap`). For every change of the optimal roadmap (a function moving
from one provider to another in year t) two questions are asked, each by re-solving the same built
model with that function's path fixed:

* *earlier*: the same move one year sooner (year t-1 already with the new provider);
* *later*: the same move one year later (year t still with the old provider).

The **regret** is the net present value lost by the best roadmap that moves it so (None: no roadmap
can). The **why** is read off the optimal roadmap with only that function moved (the independent
verifier's figures): the links it would break (the team's capacity, that year's transition or operating
budget, the earliest change, a vendor not yet available) and what it would cost or save, part by part
(the exit fee before the contract end, the parallel run, onboarding, recurring cost and benefit, freed
staff), discounted as in the NPV.

**Frontier** (:func:`roadmap_frontier`): the walk of :func:`outopt.analysis.frontier.sweep` over one
limit of the roadmap model: a year's operating or transition budget (``roadmap.budget.operating.<year>``,
``roadmap.budget.transition.<year>``), every year's at once (``budget.operating``, ``budget.transition``),
or the team's capacity (``roadmap.max_changes_per_year``).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

import pandas as pd

from outopt.analysis.frontier import Frontier, check_range, default_tolerance, sweep
from outopt.errors import InputError, Problem
from outopt.instance.numerics import MAX_AMOUNT
from outopt.instance.roadmap import before, discount
from outopt.instance.schema import INHOUSE, Instance
from outopt.instance.validation import instance_from_data
from outopt.solver.options import SolveOptions
from outopt.solver.roadmap import RoadmapModel, RoadmapSolution, build_roadmap, solve_roadmap
from outopt.verifier.roadmap import RoadmapVerification, verify_roadmap

# --- explanation ------------------------------------------------------------------------------


@dataclass
class Shift:
    """One change moved one year: to which year, the regret of the best roadmap doing so, and why not."""

    year: int | None  # None: there is no such year (year 0, or after the last year)
    regret: float | None = None  # NPV lost by the best roadmap with the move in that year; None: impossible
    reasons: list[str] = field(default_factory=list)
    others: list[dict] = field(default_factory=list)  # other functions whose path changes in that best roadmap


@dataclass
class RoadmapExplanation:
    """Why each change of a roadmap happens in its year."""

    solution: RoadmapSolution
    changes: list[dict]  # function, year, from, to, earlier: Shift, later: Shift
    solves: int = 0
    time: float = 0.0

    def frame(self) -> pd.DataFrame:
        """One row per change: when, from, to, and for a move a year earlier or later its regret and why not."""
        cols = ["function", "year", "from", "to", "regret_earlier", "why_not_earlier", "regret_later", "why_not_later"]
        rows = []
        for c in self.changes:
            rows.append({"function": c["function"], "year": c["year"], "from": c["from"], "to": c["to"],
                         "regret_earlier": c["earlier"].regret, "why_not_earlier": "; ".join(c["earlier"].reasons),
                         "regret_later": c["later"].regret, "why_not_later": "; ".join(c["later"].reasons)})
        return pd.DataFrame(rows, columns=cols)

    def to_dict(self) -> dict:
        def shift(s: Shift) -> dict:
            return {"year": s.year, "regret": s.regret, "reasons": s.reasons, "others": s.others}

        return {"objective": self.solution.objective, "status": self.solution.status.value,
                "changes": [{**{k: c[k] for k in ("function", "year", "from", "to")},
                             "earlier": shift(c["earlier"]), "later": shift(c["later"])} for c in self.changes],
                "solves": self.solves, "time": round(self.time, 4)}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)


def shifted(path: list, old: str | None, t: int, earlier: bool) -> list | None:
    """The path with its change of year t moved a year earlier or later (None when there is no such year)."""
    path = list(path)
    if earlier:
        if t == 1:
            return None
        path[t - 2] = path[t - 1]
    else:
        if t == len(path) or old is None:
            return None
        path[t - 1] = old
    return path


def _parts(instance: Instance, check: RoadmapVerification, function: str) -> dict[str, float]:
    """The discounted figures of a roadmap an explanation compares: each one-off of a function's changes,
    onboarding, and the recurring net benefit with freed staff (tail included)."""
    w = {t: discount(instance, t) for t in range(1, instance.roadmap.years + 1)}
    out = {"exit fee": 0.0, "transition": 0.0, "parallel run": 0.0}
    for c in check.changes:
        if c["function"] == function:
            out["exit fee"] += w[c["year"]] * c["exit_fee"]
            out["transition"] += w[c["year"]] * c["transition"]
            out["parallel run"] += w[c["year"]] * c["parallel_run"]
    out["onboarding"] = sum(w[y.year] * sum(y.onboarding.values()) for y in check.years)
    out["recurring net benefit"] = sum(w[y.year] * (y.check.objective + y.redeploy - y.penalty) for y in check.years)
    out["recurring net benefit"] += check.tail
    return out


def why_not(instance: Instance, best: RoadmapVerification, alone: RoadmapVerification, function: str) -> list[str]:
    """What moving only this function's change would break (the optimal roadmap meets every rule, so each
    broken rule is the move's doing), and what it would cost or save, discounted."""
    cur = instance.currency
    reasons = list(alone.violations)
    a, b = _parts(instance, alone, function), _parts(instance, best, function)
    for key in ("exit fee", "parallel run", "transition", "onboarding"):
        delta = a[key] - b[key]
        if abs(delta) > 1e-6:
            reasons.append(f"{key} {'+' if delta > 0 else '-'}{abs(delta):,.0f} {cur}")
    delta = a["recurring net benefit"] - b["recurring net benefit"]
    if abs(delta) > 1e-6:
        reasons.append(f"recurring net benefit {'+' if delta > 0 else '-'}{abs(delta):,.0f} {cur}")
    if alone.feasible:
        reasons.append(f"NPV {alone.objective - best.objective:+,.0f} {cur} with nothing else changed")
    return reasons


def _fix_path(model: RoadmapModel, function: str, path: list | None) -> bool:
    """Fix (or, with None, free) a function's provider in every year; False when a year's provider cannot
    serve it then (no variable: the path is impossible)."""
    for t, data in model.rdata.blocks.items():
        b = model.block(t)
        pairs = data.pairs_of_function[function]
        if path is None:
            for p in pairs:
                b.outsource[p].unfix()
            continue
        if path[t - 1] != INHOUSE and (function, path[t - 1]) not in pairs:
            return False
        for p in pairs:
            b.outsource[p].fix(1 if p[1] == path[t - 1] else 0)
    return True


def explain_roadmap(instance: Instance, solution: RoadmapSolution | None = None,
                    options: SolveOptions | None = None, functions: list[str] | None = None) -> RoadmapExplanation:
    """Why each change of the optimal roadmap happens in its year (see the module docstring); ``functions``:
    only the changes of these functions (default: every change)."""
    unknown = [f for f in functions or [] if f not in {g.id for g in instance.functions}]
    if unknown:
        raise InputError([Problem("functions", f"function '{f}' is not in functions") for f in unknown])
    t0 = time.perf_counter()
    options = replace(options or SolveOptions(), warm_start=False)
    sol = solution if solution is not None and solution.plan is not None else solve_roadmap(instance, options=options)
    out = RoadmapExplanation(sol, [], solves=0 if solution is not None else 1)
    if sol.plan is None:
        out.time = time.perf_counter() - t0
        return out
    model = build_roadmap(instance)
    best = sol.verification
    quo = before(instance)
    for c in best.changes:
        if functions is not None and c["function"] not in functions:
            continue
        f, t = c["function"], c["year"]
        path = sol.plan[f]
        old = path[t - 2] if t > 1 else quo[f]
        row = {**{k: c[k] for k in ("function", "year", "from", "to")}}
        for key, earlier in (("earlier", True), ("later", False)):
            alt = shifted(path, old, t, earlier)
            if alt is None:
                why = ("it changes in year 1" if earlier else "it has no provider before" if old is None
                       else "it changes in the last year")
                row[key] = Shift(None, reasons=[why])
                continue
            alone = verify_roadmap(instance, {**sol.plan, f: alt})
            shift = Shift(t - 1 if earlier else t + 1, reasons=why_not(instance, best, alone, f))
            if _fix_path(model, f, alt):
                other = model.solve(options)
                out.solves += 1
                if other.plan is not None:
                    shift.regret = sol.objective - other.objective
                    shift.others = [{"function": g, "path": p} for g, p in other.plan.items()
                                    if g != f and p != sol.plan[g]]
            _fix_path(model, f, None)
            row[key] = shift
        out.changes.append(row)
    out.time = time.perf_counter() - t0
    return out


# --- frontier -----------------------------------------------------------------------------------

PARAMS_HELP = ("budget.operating, budget.transition (every year), roadmap.budget.operating.<year>, "
               "roadmap.budget.transition.<year>, roadmap.max_changes_per_year")


@dataclass(frozen=True)
class RoadmapLimit:
    """A limit of a roadmap the frontier moves: a budget of one year or of every year, or the team's capacity."""

    path: str
    kind: str  # operating | transition | changes
    year: int | None = None  # None: every year
    integer: bool = False
    top: float | None = None

    def clean(self, value: float) -> float:
        return int(round(value)) if self.integer else float(value)

    def instance_at(self, instance: Instance, value: float) -> Instance:
        """The instance with the limit at ``value``, hard, validated like a file."""
        data = instance.model_dump(mode="json")
        rm = data["roadmap"]
        if self.kind == "changes":
            rm["max_changes_per_year"] = self.clean(value)
        else:
            T = rm["years"]
            listed = rm["budget"].get(self.kind)
            if listed is None:
                own = data["budget"].get(self.kind)
                listed = [MAX_AMOUNT if own is None else own] * T
            listed = [self.clean(value) if self.year in (None, t + 1) else x for t, x in enumerate(listed)]
            rm["budget"][self.kind] = listed
            data["budget"].setdefault("soft", {}).pop(self.kind, None)
        return instance_from_data(data)

    def set(self, model, value: float) -> None:
        """Change the built model's mutable limit (``model``: a RoadmapModel, or the sweep's view of one)."""
        model = getattr(model, "model", model)
        m = model.pyomo
        value = self.clean(value)
        if self.kind == "changes":
            m.max_changes_per_year_limit.set_value(value)
            return
        for t in model.rdata.years:
            if self.year in (None, t):
                if self.kind == "operating":
                    model.block(t).operating_budget_limit.set_value(value)
                else:
                    m.transition_budget_limit[t] = value

    def requirement(self, check: RoadmapVerification) -> float:
        if self.kind == "changes":
            return max(y.changes for y in check.years)
        figure = "operating_cost" if self.kind == "operating" else "transition_cost"
        return max(getattr(y, figure) for y in check.years if self.year in (None, y.year))


def parse_roadmap_limit(instance: Instance, path: str) -> RoadmapLimit:
    """The roadmap limit a ``--param`` names; anything else is an input error naming the choices."""
    text = path.strip()
    if text == "roadmap.max_changes_per_year":
        return RoadmapLimit(text, "changes", integer=True)
    for kind in ("operating", "transition"):
        if text == f"budget.{kind}":
            return RoadmapLimit(text, kind)
        prefix = f"roadmap.budget.{kind}."
        if text.startswith(prefix):
            year = text[len(prefix):]
            if not year.isdigit() or not 1 <= int(year) <= instance.roadmap.years:
                raise InputError([Problem("--param", f"'{year}' is not a plan year of this roadmap "
                                                     f"(1 to {instance.roadmap.years})")])
            return RoadmapLimit(text, kind, int(year))
    raise InputError([Problem("--param", f"'{path}' is not a limit of a roadmap; use one of {PARAMS_HELP}")])


class _Sweeping:
    """The built roadmap model as :func:`~outopt.analysis.frontier.sweep` drives it: plans are flat
    (``"<function> in year <t>"`` -> provider), so a breakpoint names each function and year that changes."""

    def __init__(self, model: RoadmapModel):
        self.model = model
        self.build_time = model.build_time

    @property
    def instance(self) -> Instance:
        return self.model.instance

    @instance.setter
    def instance(self, value: Instance) -> None:
        self.model.instance = value

    def solve(self, options: SolveOptions, start=None):
        path = None
        if start is not None:
            T = self.instance.roadmap.years
            path = {f.id: [start[f"{f.id} in year {t}"] for t in range(1, T + 1)] for f in self.instance.functions}
        sol = self.model.solve(options, start=path)
        if sol.plan is not None:
            sol.plan = {f"{f} in year {t}": p for f, ps in sol.plan.items() for t, p in enumerate(ps, start=1)}
        return sol


def roadmap_frontier(instance: Instance, param: str, lower: float, upper: float, steps: int = 11,
                     tol: float | None = None, options: SolveOptions | None = None, progress=None) -> Frontier:
    """The best NPV of a roadmap as one limit goes from ``lower`` to ``upper`` (every breakpoint, to ``tol``);
    ``progress`` as for :func:`outopt.analysis.frontier.frontier`."""
    limit = parse_roadmap_limit(instance, param)
    check_range(limit, lower, upper, steps, tol)
    tol = tol or default_tolerance(limit, lower, upper)
    t0 = time.perf_counter()
    deadline = None if options is None or options.time_limit is None else t0 + options.time_limit
    model = build_roadmap(limit.instance_at(instance, upper))
    options = replace(options or SolveOptions(), warm_start=False)
    result = sweep(_Sweeping(model), instance, limit, lower, upper, steps, tol, options, deadline=deadline,
                   progress=progress)
    result.time = time.perf_counter() - t0
    return result
