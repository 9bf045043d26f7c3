"""Solving a roadmap: the multi-year model of :mod:`outopt.model.roadmap` with HiGHS, its plan verified.

``solve_roadmap(instance)`` builds the model, runs HiGHS through the same driver as a single instance
(:class:`outopt.solver.highs.Model`: time limit, Ctrl-C, clean stdout) and returns a
:class:`RoadmapSolution` whose roadmap has passed :func:`outopt.verifier.roadmap.verify_roadmap` and
whose objective (the net present value) is that verifier's recomputation. ``outopt.solve`` sends an
instance with a ``roadmap`` section here (:mod:`outopt.solver.entry`).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace
from typing import TYPE_CHECKING

import pyomo.environ as pyo
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

from outopt.errors import PlanError, SolverError
from outopt.instance.numerics import plain
from outopt.instance.roadmap import before
from outopt.instance.schema import INHOUSE, Instance
from outopt.model.roadmap import build_roadmap_model, compile_roadmap
from outopt.solver.highs import NO_PRESOLVE, TIGHT, Model, stdout_to_stderr
from outopt.solver.options import Progress, SolveOptions
from outopt.solver.solution import Status, relative_gap
from outopt.verifier.roadmap import RoadmapPlan, RoadmapVerification, verify_roadmap

if TYPE_CHECKING:
    import pandas as pd


@dataclass
class RoadmapSolution:
    """A roadmap and how it was found; the API of :class:`~outopt.solver.solution.Solution`, with
    ``objective`` the net present value and ``plan`` each function's provider by year."""

    instance: Instance
    status: Status
    plan: RoadmapPlan | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    solve_time: float = 0.0
    total_time: float = 0.0
    interrupted: bool = False
    message: str = ""
    verification: RoadmapVerification | None = field(default=None, repr=False)

    @classmethod
    def from_plan(cls, instance: Instance, plan: RoadmapPlan, status: Status, **kw) -> RoadmapSolution:
        """A solution for a roadmap, verified; raises :class:`PlanError` if it breaks a rule."""
        check = kw.pop("verification", None) or verify_roadmap(instance, plan)
        if not check.feasible:
            raise PlanError("roadmap failed verification: " + "; ".join(check.violations))
        kw.setdefault("gap", relative_gap(check.objective, kw.get("bound")))
        return cls(instance=instance, status=status, plan={f: list(p) for f, p in plan.items()},
                   objective=check.objective, verification=check, **kw)

    # --- tables ---------------------------------------------------------------------
    def roadmap_rows(self) -> list[dict]:
        """One row per function and year: function, year, provider (the JSON's ``roadmap``)."""
        if self.plan is None:
            return []
        return [{"function": f.id, "year": t, "provider": self.plan[f.id][t - 1]}
                for f in self.instance.functions for t in range(1, self.instance.roadmap.years + 1)]

    def change_rows(self) -> list[dict]:
        """One row per change: function, year, from, to, one_off (the JSON's ``changes``)."""
        v = self.verification
        return [] if v is None else [{k: c[k] for k in ("function", "year", "from", "to", "one_off")} for c in v.changes]

    def year_rows(self) -> list[dict]:
        """One row per year: year, net_benefit, operating_cost, transition_cost (the JSON's ``years``)."""
        v = self.verification
        return [] if v is None else [{"year": y.year, "net_benefit": y.net_benefit, "operating_cost": y.operating_cost,
                                      "transition_cost": y.transition_cost} for y in v.years]

    @property
    def roadmap(self) -> pd.DataFrame:
        """Providers as a table of functions by years (one column per year)."""
        import pandas as pd

        cols = ["function"] + [f"year {t}" for t in range(1, self.instance.roadmap.years + 1)]
        if self.plan is None:
            return pd.DataFrame(columns=cols)
        return pd.DataFrame([[f.id, *self.plan[f.id]] for f in self.instance.functions], columns=cols)

    @property
    def changes(self) -> pd.DataFrame:
        """One row per change: function, year, from, to, one_off and its parts (transition, exit fee, parallel run)."""
        import pandas as pd

        cols = ["function", "year", "from", "to", "one_off", "transition", "exit_fee", "parallel_run"]
        return pd.DataFrame(self.verification.changes if self.verification else [], columns=cols)

    @property
    def years(self) -> pd.DataFrame:
        """One row per year: net benefit, recurring and one-off cost, redeploy value, onboarding, changes."""
        import pandas as pd

        cols = ["year", "net_benefit", "operating_cost", "transition_cost", "redeploy", "onboarding", "changes",
                "discount_factor"]
        v = self.verification
        rows = [] if v is None else [
            {"year": y.year, "net_benefit": y.net_benefit, "operating_cost": y.operating_cost,
             "transition_cost": y.transition_cost, "redeploy": y.redeploy, "onboarding": sum(y.onboarding.values()),
             "changes": y.changes, "discount_factor": 1 / (1 + self.instance.roadmap.discount_rate) ** (y.year - 1)}
            for y in v.years]
        return pd.DataFrame(rows, columns=cols)

    @property
    def assignments(self) -> pd.DataFrame:
        """One row per function and year: provider, recurring cost, one-off, recurring benefit, changed."""
        import pandas as pd

        cols = ["function", "year", "provider", "yearly_cost", "one_off", "benefit", "changed"]
        if self.verification is None:
            return pd.DataFrame(columns=cols)
        one_off = {(c["function"], c["year"]): c["one_off"] for c in self.verification.changes}
        rows = [{"function": r["function"], "year": y.year, "provider": r["provider"], "yearly_cost": r["yearly_cost"],
                 "one_off": one_off.get((r["function"], y.year), 0.0), "benefit": r["benefit"],
                 "changed": (r["function"], y.year) in one_off}
                for y in self.verification.years for r in y.check.rows]
        return pd.DataFrame(rows, columns=cols)

    @property
    def soft_violations(self) -> pd.DataFrame:
        import pandas as pd

        cols = ["year", "rule", "amount", "unit", "penalty", "cost", "priority", "reason", "detail"]
        return pd.DataFrame(self.verification.soft_violations if self.verification else [], columns=cols)

    def totals(self) -> dict:
        """The roadmap's net present value and its parts, one-offs and changes over the years."""
        v = self.verification
        if v is None:
            return {}
        last = v.years[-1]
        return {
            "net_present_value": v.objective,
            "tail_value": v.tail,
            "net_benefit_undiscounted": sum(y.net_benefit for y in v.years),
            "transition_cost": sum(y.transition_cost for y in v.years),
            "operating_cost_last_year": last.operating_cost,
            "all_inhouse_operating_cost": sum(f.inhouse.cost for f in self.instance.functions if f.inhouse),
            "changes": len(v.changes),
            "functions_changed": len({c["function"] for c in v.changes}),
            "functions_outsourced_last_year": sum(1 for p in self.plan.values() if p[-1] != INHOUSE),
            "vendors_engaged_last_year": len(last.check.engaged),
        }

    def explain(self, **kw) -> pd.DataFrame:
        """Why each change happens in its year (see :func:`outopt.analysis.roadmap.explain_roadmap`)."""
        from outopt.analysis.roadmap import explain_roadmap

        return explain_roadmap(self.instance, solution=self, **kw).frame()

    # --- output ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        return {
            "instance": self.instance.name,
            "currency": self.instance.currency,
            "status": self.status.value,
            "objective": None if self.objective is None else plain(self.objective),
            "bound": None if self.bound is None else plain(self.bound),
            "gap": None if self.gap is None else plain(self.gap),
            "solve_time": round(self.solve_time, 4),
            "total_time": round(self.total_time, 4),
            "interrupted": self.interrupted,
            "message": self.message,
            "roadmap": self.roadmap_rows(),
            "changes": self.change_rows(),
            "years": self.year_rows(),
            "assignments": self.assignments.to_dict("records") if self.verification is not None else [],
            "soft_violations": [dict(r) for r in self.verification.soft_violations] if self.verification else [],
            "totals": self.totals(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=lambda o: o.item())

    @property
    def plot(self):
        """The Gantt-like chart of the roadmap: ``sol.plot()`` (see :func:`outopt.report.roadmap.gantt`)."""
        from outopt.report.roadmap import RoadmapPlots

        return RoadmapPlots(self)

    def _repr_html_(self) -> str:
        from outopt.report.roadmap import notebook_html

        return notebook_html(self)

    def __repr__(self) -> str:
        cur = self.instance.currency
        obj = "-" if self.objective is None else f"{self.objective:,.2f} {cur}"
        gap = "" if self.gap is None else f", gap {self.gap:.3%}"
        n = "" if self.verification is None else f", {len(self.verification.changes)} changes"
        return (f"<RoadmapSolution {self.instance.name!r}: {self.status.value}, NPV {obj}{gap}, "
                f"{self.instance.roadmap.years} years{n}, {self.total_time:.2f}s>")


def quo_roadmap(instance: Instance) -> RoadmapPlan | None:
    """The status quo kept every year (None when some function has no provider today)."""
    quo = before(instance)
    if any(p is None for p in quo.values()):
        return None
    return {f: [p] * instance.roadmap.years for f, p in quo.items()}


class RoadmapModel(Model):
    """The built roadmap model; solves with the HiGHS driver of a single instance."""

    def __init__(self, instance: Instance, data, pyomo_model, build_time: float):
        self.instance = instance
        self.rdata = data
        self.pyomo = pyomo_model
        self.build_time = build_time
        self._solver = None

    def __repr__(self) -> str:
        n = sum(len(d.pairs) for d in self.rdata.blocks.values())
        return f"<RoadmapModel {self.instance.name!r}: {len(self.rdata.years)} years, {n} offer variables>"

    def block(self, t: int):
        return getattr(self.pyomo, f"year_{t}")

    def plan_from_values(self) -> RoadmapPlan:
        plan = {f: [INHOUSE] * len(self.rdata.years) for f in self.rdata.quo}
        for t, data in self.rdata.blocks.items():
            b = self.block(t)
            for p in data.pairs:
                if (b.outsource[p].value or 0) > 0.5:
                    plan[p[0]][t - 1] = p[1]
        return plan

    def solve(self, options: SolveOptions | None = None, start: RoadmapPlan | None = None, **kw) -> RoadmapSolution:
        """Solve (or re-solve) the built model; HiGHS's answer is confirmed by the roadmap verifier, else the
        model is solved again (tighter integrality, then without presolve; models/portfolio.md, Numerical
        policy). ``start`` (a verified roadmap) is returned when HiGHS finds nothing better in time."""
        options = replace(options or SolveOptions(), **kw)
        t0 = time.perf_counter()
        if next(self.pyomo.component_data_objects(pyo.Var), None) is None:
            return self._nothing_to_decide(t0)
        deadline = None if options.time_limit is None else t0 + options.time_limit
        known = start if start is not None and verify_roadmap(self.instance, start).feasible else None
        if known is None and start is None and options.warm_start:
            quo = quo_roadmap(self.instance)
            known = quo if quo is not None and verify_roadmap(self.instance, quo).feasible else None
        answer = self._attempt(options, deadline, None)
        why = ""
        if not isinstance(answer, RoadmapSolution) or answer.status == Status.INFEASIBLE:
            why = answer if isinstance(answer, str) else "HiGHS found no roadmap"
            for opinion in (NO_PRESOLVE,) if isinstance(answer, RoadmapSolution) else (TIGHT, NO_PRESOLVE):
                if deadline is not None and deadline - time.perf_counter() <= 0.1:
                    break
                again = self._attempt(options, deadline, opinion)
                if isinstance(again, RoadmapSolution):
                    answer = again
                    if again.status.has_plan:
                        again.message = "; ".join(m for m in (again.message, f"solved again ({why})") if m)
                    break
        if isinstance(answer, RoadmapSolution) and (answer.status.has_plan or known is None):
            answer.total_time = time.perf_counter() - t0
            return answer
        if known is None:
            raise PlanError(f"{why}; also when solved again without presolve and with tighter tolerances")
        bound = answer.bound if isinstance(answer, RoadmapSolution) else None
        sol = RoadmapSolution.from_plan(self.instance, known, Status.FEASIBLE, bound=bound,
                                        message=f"{answer.message if isinstance(answer, RoadmapSolution) else why}; "
                                                "returned the status quo kept every year")
        sol.total_time = time.perf_counter() - t0
        return sol

    def _nothing_to_decide(self, t0: float) -> RoadmapSolution:
        """No offer in any year: every function stays in-house every year (HiGHS is not asked: the model is empty)."""
        plan = {f: [INHOUSE] * len(self.rdata.years) for f in self.rdata.quo}
        check = verify_roadmap(self.instance, plan)
        if not check.feasible:
            return RoadmapSolution(self.instance, Status.INFEASIBLE, message="; ".join(check.violations),
                                   total_time=time.perf_counter() - t0)
        return RoadmapSolution.from_plan(self.instance, plan, Status.OPTIMAL, bound=check.objective,
                                         verification=check, total_time=time.perf_counter() - t0)

    def _attempt(self, options: SolveOptions, deadline: float | None, highs_options) -> RoadmapSolution | str:
        """One HiGHS run read back: a RoadmapSolution, or why the verifier does not confirm HiGHS's roadmap."""
        with stdout_to_stderr():
            if self._solver is None:
                from pyomo.contrib.solver.solvers.highs import Highs

                self._solver = Highs()
                self._solver.set_instance(self.pyomo)
            else:
                self._solver.update()
            highs = self._solver._solver_model
            remaining = None if deadline is None else max(0.05, (deadline - time.perf_counter()) * 0.97 - 0.05)
            solver_options = {"random_seed": options.seed, **(highs_options or {})}
            saved = {key: highs.getOptionValue(key) for key in highs_options or {}}
            try:
                results, interrupted = self._run(highs, options, remaining, solver_options)
            finally:
                for key, value in saved.items():
                    highs.setOptionValue(key, value[1] if isinstance(value, tuple) else value)
        return self._read_back(results, interrupted)

    def _read_back(self, results, interrupted: bool) -> RoadmapSolution | str:
        tc = results.termination_condition
        solve_time = results.timing_info.wall_time or 0.0
        has_plan = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded) and not has_plan:
            return RoadmapSolution(self.instance, Status.INFEASIBLE, message="no roadmap satisfies every rule",
                                   solve_time=solve_time)
        if tc == TerminationCondition.error:
            raise SolverError(f"HiGHS stopped with an error ({results.solver_log[-500:]})")
        bound = None if results.objective_bound is None else plain(results.objective_bound)
        if not has_plan:
            why = "interrupted" if interrupted else "time limit reached"
            return RoadmapSolution(self.instance, Status.TIMEOUT, message=f"{why} before any roadmap was found",
                                   bound=bound, solve_time=solve_time, interrupted=interrupted)
        results.solution_loader.load_vars()
        proven = tc == TerminationCondition.convergenceCriteriaSatisfied and not interrupted
        if proven and bound is None:
            bound = plain(results.incumbent_objective)
        plan = self.plan_from_values()
        check = verify_roadmap(self.instance, plan)
        if not check.feasible:
            return f"HiGHS's roadmap failed verification: {'; '.join(check.violations)}"
        if abs(check.objective - results.incumbent_objective) > 1e-6 * max(1.0, abs(check.objective)):
            return f"HiGHS's NPV {results.incumbent_objective:.12g} differs from the verifier's {check.objective:.12g}"
        return RoadmapSolution.from_plan(
            self.instance, plan, Status.OPTIMAL if proven else Status.FEASIBLE, bound=bound, solve_time=solve_time,
            interrupted=interrupted, verification=check,
            message="" if proven else ("interrupted" if interrupted else "time limit reached"))


def build_roadmap(instance: Instance) -> RoadmapModel:
    """Compile and build the roadmap model of an instance with a ``roadmap`` section (no solve)."""
    t0 = time.perf_counter()
    data = compile_roadmap(instance)
    return RoadmapModel(instance, data, build_roadmap_model(data), time.perf_counter() - t0)


def solve_roadmap(
    instance: Instance,
    time_limit: float | None = None,
    gap: float = 0.0,
    threads: int | None = None,
    seed: int = 0,
    options: SolveOptions | None = None,
) -> RoadmapSolution:
    """Build and solve the roadmap of an instance; the time limit covers the whole call (the build is not
    cut short; HiGHS gets what is left)."""
    options = options or SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed)
    t0 = options.started if options.started is not None else time.perf_counter()
    if options.progress is not None:
        options.progress(Progress("building the model", time.perf_counter() - t0))
    model = build_roadmap(instance)
    left = None if options.time_limit is None else max(0.05, options.time_limit - (time.perf_counter() - t0))
    if options.progress is not None:
        options.progress(Progress("solving", time.perf_counter() - t0))
    sol = model.solve(replace(options, time_limit=left, started=None, progress=None))
    sol.total_time = time.perf_counter() - t0
    return sol
