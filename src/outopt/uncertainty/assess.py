"""``outopt risk`` and ``solve --robust`` as Python calls: how sure a plan is, and a plan that stays good.

:func:`risk` evaluates the optimal plan (at the planning values), the status quo and any given plans
over scenarios of the amounts and reports, per plan, the mean, spread and percentiles of the net
benefit, the odds it beats the status quo and the odds it breaks each budget. :func:`solve_robust`
finds the plan with the best mean or CVaR over the scenarios (:mod:`outopt.uncertainty.robust`) and reports
the same statistics in the scenarios it was chosen on and in fresh ones, beside the optimal plan's.
Every scenario figure is checked against the independent verifier: all of a robust plan's scenarios,
and the first :data:`CHECKED` of each plan ``risk`` reports.
"""

from __future__ import annotations

import json
import time
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

import numpy as np

from outopt.errors import PlanError, SolverError
from outopt.instance.numerics import tolerance
from outopt.instance.schema import Instance
from outopt.solver import Solution, SolveOptions, Status, solve
from outopt.uncertainty.check import check_scenarios, costliest_instance
from outopt.uncertainty.evaluate import Outcome, check_plan, cvar, evaluate, statistics
from outopt.uncertainty.robust import (
    Measure,
    ScenarioRun,
    build_scenario_model,
    solve_scenario_model,
)
from outopt.uncertainty.samples import Samples, as_samples, draw
from outopt.verifier.portfolio import status_quo, verify

CHECKED = 5
"""Scenarios of each plan that :func:`risk` recomputes through the independent verifier."""

OPTIMAL, STATUS_QUO, ROBUST = "optimal", "status_quo", "robust"


def _agree(a: np.ndarray, b: np.ndarray) -> bool:
    return bool(np.all(np.abs(a - b) <= 1e-6 * np.maximum(1.0, np.abs(b))))


def checked_outcomes(samples: Samples, plans: Mapping[str, dict[str, str]], rows=None) -> list[Outcome]:
    """:func:`~outopt.uncertainty.evaluate.evaluate`, with the scenarios ``rows`` (default the first :data:`CHECKED`)
    of every plan recomputed by the verifier; a difference is an internal error (PlanError)."""
    outcomes = evaluate(samples, plans)
    rows = range(min(CHECKED, samples.n)) if rows is None else rows
    for out in outcomes:
        check = check_scenarios(samples, out.plan, rows)
        for what in ("objective", "operating", "transition"):
            if not _agree(getattr(out, what)[check.rows], getattr(check, what)):
                raise PlanError(f"the {what} of plan '{out.name}' in the scenarios differs from the verifier's "
                                "(an internal error; please report it with the input file)")
    return outcomes


@dataclass
class RiskResult:
    """Plans over scenarios: ``table`` (one row of statistics per plan), ``net_benefit``, ``operating`` and
    ``transition`` (one row per scenario, one column per plan), ``solution`` (the optimal plan's solve)."""

    instance: Instance
    samples: Samples
    outcomes: list[Outcome]
    stats: list[dict]
    solution: Solution | None = None

    def _frame(self, what: str):
        import pandas as pd

        return pd.DataFrame({o.name: getattr(o, what) for o in self.outcomes})

    @property
    def net_benefit(self):
        return self._frame("objective")

    @property
    def operating(self):
        return self._frame("operating")

    @property
    def transition(self):
        return self._frame("transition")

    @property
    def table(self):
        import pandas as pd

        rows = [{**{k: v for k, v in s.items() if k != "prob_over_budget"},
                 "prob_over_budget_operating": s["prob_over_budget"]["operating"],
                 "prob_over_budget_transition": s["prob_over_budget"]["transition"]} for s in self.stats]
        return pd.DataFrame(rows)

    def to_dict(self) -> dict:
        return {"samples": self.samples.n, "source": self.samples.describe(), "plans": self.stats}

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def __repr__(self) -> str:
        names = ", ".join(s["name"] for s in self.stats)
        return f"<RiskResult {self.instance.name!r}: {self.samples.n:,} samples, plans {names}>"


def _plans_with_quo(instance: Instance, plans: Mapping[str, object] | None, optimal: dict | None) -> dict:
    out = {}
    if optimal is not None:
        out[OPTIMAL] = optimal
    quo = status_quo(instance)
    if quo is not None:
        out[STATUS_QUO] = quo
    for name, plan in (plans or {}).items():
        if isinstance(plan, Solution):
            plan = plan.plan
        out[str(name)] = check_plan(instance, plan, str(name))
    return out


def _stats(instance: Instance, outcomes: list[Outcome]) -> list[dict]:
    quo = next((o for o in outcomes if o.name == STATUS_QUO), None)
    return [statistics(o, instance, quo) for o in outcomes]


def risk(instance: Instance, plans: Mapping[str, object] | None = None, samples=1000, seed: int = 0,
         options: SolveOptions | None = None, optimal: bool = True) -> RiskResult:
    """Evaluate the optimal plan (solved at the planning values, unless ``optimal=False``), the status quo
    (when every function has one) and ``plans`` (name -> a plan mapping, a Solution, or a DataFrame with
    ``function``/``provider`` columns) over ``samples``: a count of scenarios drawn from the instance's
    ranges with ``seed``, a CSV file of scenarios, a DataFrame, or :class:`~outopt.uncertainty.samples.Samples`."""
    samples = as_samples(instance, samples, seed)
    solution = solve(instance, options=options) if optimal else None
    best = solution.plan if solution is not None and solution.status.has_plan else None
    chosen = _plans_with_quo(instance, plans, best)
    outcomes = checked_outcomes(samples, chosen)
    return RiskResult(instance, samples, outcomes, _stats(instance, outcomes), solution)


# --- the robust plan ---------------------------------------------------------------------------------


@dataclass(repr=False)
class RobustSolution(Solution):
    """A :class:`~outopt.solver.solution.Solution` of the scenario model; ``robust`` holds the measure, its
    value and bound, and the statistics of the robust and optimal plans in and out of sample (the JSON's
    ``robust`` key); ``outcomes`` the plans' figures per scenario (in sample, then out of sample)."""

    robust: dict = field(default_factory=dict)
    outcomes: dict = field(default_factory=dict)

    def to_dict(self) -> dict:
        return {**super().to_dict(), "robust": self.robust}


def _measure_stats(measure: Measure, instance: Instance, outcomes: list[Outcome]) -> dict[str, dict]:
    """name -> statistics with the measure (and the CVaR at its level) added."""
    out = {}
    for s, o in zip(_stats(instance, outcomes), outcomes):
        extra = {"measure": measure.value(o.objective)}
        if measure.alpha is not None:
            extra["cvar"] = cvar(o.objective, measure.alpha)
        out[o.name] = {**{k: v for k, v in s.items() if k != "name"}, **extra}
    return out


def _verified(instance: Instance, samples: Samples, measure: Measure, run: ScenarioRun) -> tuple[str | None, float]:
    """Why the run's plan is not confirmed by the verifiers (None: it is), and its measure as they compute it."""
    check = verify(instance, run.plan)
    if not check.feasible:
        return "it breaks a rule at the planning values: " + "; ".join(check.violations[:3]), 0.0
    scenarios = check_scenarios(samples, run.plan)
    if not scenarios.within_budgets:
        return "it breaks a budget: " + "; ".join(scenarios.over_budget[:3]), 0.0
    value = measure.value(scenarios.objective)
    room = 1e-6 * max(1.0, abs(value)) + (2e-6 * max(1.0, abs(run.measure)) if measure.weight == 1 else 0.0)
    low_ok = value >= run.measure - room
    high_ok = measure.weight == 1 or value <= run.measure + room
    if not (low_ok and high_ok):
        return f"its measure is {value:.10g} by the verifier, {run.measure:.10g} by HiGHS", value
    return None, value


def starting_plan(samples: Samples, measure: Measure, candidates: list[dict | None]) -> dict[str, str] | None:
    """The candidate plan with the best measure among those that meet every rule at the planning values and
    every budget in every scenario (None: none does)."""
    inst = samples.instance
    ok = {str(k): p for k, p in enumerate(candidates) if p is not None and verify(inst, p).feasible}
    best = None
    for out in evaluate(samples, ok) if ok else []:
        within = all(getattr(inst.budget, name) is None
                     or not np.any(use - getattr(inst.budget, name) > tolerance(getattr(inst.budget, name)))
                     for name, use in (("operating", out.operating), ("transition", out.transition)))
        if within and (best is None or measure.value(out.objective) > best[0]):
            best = (measure.value(out.objective), out.plan)
    return None if best is None else best[1]


def solve_robust(instance: Instance, robust: str = "cvar:0.1", samples=200, time_limit: float | None = None,
                 gap: float = 0.0, threads: int | None = None, seed: int = 0, options: SolveOptions | None = None,
                 out_of_sample: int = 1000) -> RobustSolution:
    """The plan with the best ``robust`` measure (``mean``, ``cvar:ALPHA``, ``mean-cvar:ALPHA:LAMBDA``) of its
    net benefit over ``samples`` (as in :func:`risk`; drawn with ``seed``, which also seeds the solver), every
    rule holding at the planning values and every budget in every scenario; statistics in sample and on
    ``out_of_sample`` fresh scenarios drawn from the instance's ranges (none when it has no range).
    ``time_limit`` covers the whole call: a tenth each for the plans at the planning values and at the highest
    costs (the comparison and the starting plan), the scenario model until 85 % of it, then the checks."""
    t0 = time.perf_counter()
    options = options or SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed)
    measure = Measure.parse(robust)
    samples = as_samples(instance, samples, seed)
    model = build_scenario_model(instance, samples, measure)
    limit = options.time_limit
    deadline = None if limit is None else t0 + 0.85 * limit  # the rest: verifying every scenario, statistics
    share = replace(options, time_limit=None if limit is None else 0.1 * limit)
    base = solve(instance, options=share)
    info = {"measure": measure.text, "samples": samples.n, "source": samples.describe()}
    if base.status == Status.INFEASIBLE:
        return RobustSolution(instance, Status.INFEASIBLE, message="no plan satisfies every rule at the planning "
                              "values", total_time=time.perf_counter() - t0, robust=info)
    costliest = solve(costliest_instance(samples), options=share)  # a plan within the budgets in every scenario
    start = starting_plan(samples, measure, [base.plan, costliest.plan, status_quo(instance)])
    run = solve_scenario_model(model, options, deadline, start_plan=start)
    why, value = (None, 0.0) if run.plan is None else _verified(instance, samples, measure, run)
    if why is not None:  # solved again without presolve, as the deterministic driver does
        run = solve_scenario_model(model, options, deadline, {"presolve": "off", "mip_feasibility_tolerance": 1e-9},
                                   start_plan=start)
        why, value = (None, 0.0) if run.plan is None else _verified(instance, samples, measure, run)
        if why is not None:
            raise SolverError(f"the scenario model's plan is not confirmed: {why}")
    if run.plan is None:
        status = Status.INFEASIBLE if run.infeasible else Status.TIMEOUT
        message = ("no plan keeps every budget in every scenario" if run.infeasible
                   else "time limit reached before any plan was found")
        return RobustSolution(instance, status, message=message, solve_time=run.solve_time, interrupted=run.interrupted,
                              total_time=time.perf_counter() - t0, robust=info)
    status = Status.OPTIMAL if run.proven else Status.FEASIBLE
    sol = RobustSolution.from_plan(instance, run.plan, status, solve_time=run.solve_time, interrupted=run.interrupted,
                                   message=f"best {measure.text} over {samples.n:,} scenarios"
                                   + ("" if run.proven else "; stopped at a limit"))
    plans = {ROBUST: run.plan, **_plans_with_quo(instance, None, base.plan if base.status.has_plan else None)}
    inside = evaluate(samples, plans)
    outside = None
    fresh = draw(instance, out_of_sample, seed, stream=1) if out_of_sample else None
    if fresh is not None and fresh.varying():
        outside = checked_outcomes(fresh, plans)
    s_in = _measure_stats(measure, instance, inside)
    s_out = _measure_stats(measure, instance, outside) if outside is not None else {}
    info.update(value=value, bound=run.bound,
                in_sample=s_in[ROBUST], out_of_sample=s_out.get(ROBUST),
                out_of_sample_samples=fresh.n if outside is not None else 0)
    if OPTIMAL in plans:
        info["optimal"] = {"objective": base.objective, "in_sample": s_in[OPTIMAL], "out_of_sample": s_out.get(OPTIMAL)}
    if STATUS_QUO in plans:
        info["status_quo"] = {"in_sample": s_in[STATUS_QUO], "out_of_sample": s_out.get(STATUS_QUO)}
    sol.robust = info
    sol.outcomes = {"in_sample": inside, "out_of_sample": outside}
    sol.total_time = time.perf_counter() - t0
    return sol
