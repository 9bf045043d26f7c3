"""Solving a company: the joint MIP, the Lagrangian decomposition, and the value of coordination.

``solve_company(company, method=...)`` returns a :class:`CompanySolution` whose plan has
passed :func:`outopt.company.verify_company` and whose objective is that verifier's
recomputation. ``method="joint"`` solves the joint model of :mod:`outopt.model.company`
with HiGHS; ``method="decompose"`` runs :func:`outopt.decompose.decompose` (Lagrangian
relaxation of the corporate limits, divisions in parallel, a repair to a verified plan).
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

import pandas as pd
import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from outopt.company import Company, CompanyPlan, CompanyVerification, verify_company
from outopt.errors import PlanError, SolverError
from outopt.model.company import CompanyData, build_company_model, compile_company
from outopt.schema import INHOUSE, Budget
from outopt.solution import Status, _json_default, relative_gap
from outopt.solver import Model, SolveOptions, solve as solve_instance, stdout_to_stderr
from outopt.verify import status_quo

METHODS = ("joint", "decompose")
DEFAULT_METHOD = "joint"  # chosen by benchmarks/company.py (see benchmarks/README.md, "Company")


@dataclass
class CompanySolution:
    """A company plan and how it was found; ``objective`` is the company verifier's recomputation."""

    company: Company
    status: Status
    plans: CompanyPlan | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    method: str = DEFAULT_METHOD
    solve_time: float = 0.0
    total_time: float = 0.0
    interrupted: bool = False
    message: str = ""
    verification: CompanyVerification | None = field(default=None, repr=False)
    value_of_coordination: dict | None = None
    iterations: int | None = None  # decomposition only

    @classmethod
    def from_plans(cls, company: Company, plans: CompanyPlan, status: Status, **kw) -> "CompanySolution":
        check = verify_company(company, plans)
        if not check.feasible:
            raise PlanError("company plan failed verification: " + "; ".join(check.violations))
        kw.setdefault("gap", relative_gap(check.objective, kw.get("bound")))
        return cls(company=company, status=status, plans={d: dict(p) for d, p in plans.items()},
                   objective=check.objective, verification=check, **kw)

    @property
    def assignments(self) -> pd.DataFrame:
        """One row per (division, function): provider, yearly cost, one-off cost, benefit (retainers are corporate)."""
        cols = ["division", "function", "provider", "yearly_cost", "one_off", "benefit"]
        if self.verification is None:
            return pd.DataFrame(columns=cols)
        rows = [{"division": d, **r} for d, check in self.verification.divisions.items() for r in check.rows]
        return pd.DataFrame(rows, columns=cols)

    def division_table(self) -> pd.DataFrame:
        """Per division: net benefit (before corporate retainers), costs, functions outsourced, vendors used."""
        cols = ["division", "name", "net_benefit", "operating_cost", "transition_cost", "functions_outsourced", "vendors"]
        if self.verification is None:
            return pd.DataFrame(columns=cols)
        rows = []
        for d in self.company.divisions:
            check = self.verification.divisions[d.id]
            rows.append({
                "division": d.id, "name": d.instance.name, "net_benefit": check.objective,
                "operating_cost": check.operating_cost, "transition_cost": check.transition_cost,
                "functions_outsourced": sum(p != INHOUSE for p in self.plans[d.id].values()),
                "vendors": ", ".join(check.engaged),
            })
        return pd.DataFrame(rows, columns=cols)

    def totals(self) -> dict:
        v = self.verification
        if v is None:
            return {}
        all_inhouse = sum(f.inhouse.cost for d in self.company.divisions for f in d.instance.functions if f.inhouse)
        return {
            "operating_cost": v.operating_cost,
            "transition_cost": v.transition_cost,
            "all_inhouse_operating_cost": all_inhouse,
            "net_benefit_vs_all_inhouse": v.objective,
            "retainers": sum(self.company.vendor_terms()[w][0] for w in v.engaged),
            "vendors_engaged": len(v.engaged),
            "functions_outsourced": sum(p != INHOUSE for plan in self.plans.values() for p in plan.values()),
        }

    def to_dict(self) -> dict:
        assignments = self.assignments.to_dict("records") if self.verification is not None else []
        return {
            "instance": self.company.name,
            "currency": self.company.currency,
            "status": self.status.value,
            "objective": self.objective,
            "bound": self.bound,
            "gap": self.gap,
            "method": self.method,
            "solve_time": round(self.solve_time, 4),
            "total_time": round(self.total_time, 4),
            "interrupted": self.interrupted,
            "message": self.message,
            "assignments": assignments,
            "soft_violations": [] if self.verification is None else [
                {"division": d, **dict(r)} for d, c in self.verification.divisions.items() for r in c.soft_violations],
            "divisions": self.division_table().to_dict("records"),
            "totals": self.totals(),
            "vendors_engaged": [] if self.verification is None else self.verification.engaged,
            "value_of_coordination": self.value_of_coordination,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)

    def __repr__(self) -> str:
        obj = "-" if self.objective is None else f"{self.objective:,.2f} {self.company.currency}/yr"
        gap = "" if self.gap is None else f", gap {self.gap:.3%}"
        return (f"<CompanySolution {self.company.name!r}: {self.status.value} ({self.method}), net benefit {obj}{gap}, "
                f"{len(self.company.divisions)} divisions, {self.total_time:.2f}s>")


def company_status_quo(company: Company) -> CompanyPlan | None:
    plans = {}
    for d in company.divisions:
        quo = status_quo(d.instance)
        if quo is None:
            return None
        plans[d.id] = quo
    return plans


class CompanyModel(Model):
    """The built joint model; solves with the same HiGHS driver (time limit, Ctrl-C, clean stdout)."""

    def __init__(self, company: Company, data: CompanyData, pyomo_model: pyo.ConcreteModel,
                 blocks: dict[str, str], build_time: float):
        self.company = company
        self.cdata = data
        self.pyomo = pyomo_model
        self.blocks = blocks
        self.build_time = build_time
        self._solver = None

    def __repr__(self) -> str:
        n = sum(len(d.pairs) for d in self.cdata.divisions.values())
        return f"<CompanyModel {self.company.name!r}: {len(self.blocks)} divisions, {n} offer variables>"

    def block(self, did: str):
        return getattr(self.pyomo, self.blocks[did])

    def plan_from_values(self) -> CompanyPlan:
        plans = {}
        for did, data in self.cdata.divisions.items():
            b = self.block(did)
            plan = {f: INHOUSE for f in data.functions}
            for p in data.pairs:
                if (b.outsource[p].value or 0) > 0.5:
                    plan[p[0]] = p[1]
            plans[did] = plan
        return plans

    def _start_vector(self, plans: CompanyPlan):
        col = self._solver._pyomo_var_to_solver_var_map
        idx, val = [], []
        used = set()
        for did, data in self.cdata.divisions.items():
            b, plan = self.block(did), plans[did]
            used |= set(plan.values())
            for p in data.pairs:
                idx.append(col[id(b.outsource[p])])
                val.append(1.0 if plan.get(p[0]) == p[1] else 0.0)
            for v in data.engaged_vendors:
                idx.append(col[id(b.engage[v])])
                val.append(1.0 if v in plan.values() else 0.0)
        for v in self.cdata.vendors:
            idx.append(col[id(self.pyomo.engage[v])])
            val.append(1.0 if v in used else 0.0)
        return idx, val

    def solve(self, options: SolveOptions | None = None, start: CompanyPlan | None = None, **kw) -> CompanySolution:
        options = replace(options or SolveOptions(), **kw)
        t0 = time.perf_counter()
        if start is None and options.warm_start:
            quo = company_status_quo(self.company)
            if quo is not None and verify_company(self.company, quo).feasible:
                start = quo
        with stdout_to_stderr():
            if self._solver is None:
                self._solver = Highs()
                self._solver.set_instance(self.pyomo)
            else:
                self._solver.update()
            highs = self._solver._solver_model
            if start is not None:
                idx, val = self._start_vector(start)
                highs.setSolution(len(idx), idx, val)
            remaining = None
            if options.time_limit is not None:
                remaining = max(0.05, options.time_limit * 0.97 - 0.05)
            results, interrupted = self._run(highs, options, remaining, {"random_seed": options.seed})
        return self._read_company(results, interrupted, time.perf_counter() - t0)

    def _read_company(self, results, interrupted: bool, solve_time: float) -> CompanySolution:
        from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

        tc = results.termination_condition
        has_plan = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded) and not has_plan:
            return CompanySolution(self.company, Status.INFEASIBLE, message="no company plan satisfies every rule",
                                   solve_time=solve_time, method="joint")
        if tc == TerminationCondition.error:
            raise SolverError(f"HiGHS stopped with an error ({results.solver_log[-500:]})")
        if not has_plan:
            why = "interrupted" if interrupted else "time limit reached"
            return CompanySolution(self.company, Status.TIMEOUT, message=f"{why} before any plan was found",
                                   bound=results.objective_bound, solve_time=solve_time, method="joint")
        results.solution_loader.load_vars()
        proven = tc == TerminationCondition.convergenceCriteriaSatisfied and not interrupted
        bound = results.objective_bound
        if proven and bound is None:
            bound = results.incumbent_objective
        sol = CompanySolution.from_plans(
            self.company, self.plan_from_values(), Status.OPTIMAL if proven else Status.FEASIBLE,
            bound=bound, solve_time=solve_time, method="joint", interrupted=interrupted,
            message="" if proven else ("interrupted" if interrupted else "time limit reached"),
        )
        if abs(sol.objective - results.incumbent_objective) > 1e-6 * max(1.0, abs(sol.objective)):
            raise SolverError(
                f"joint model objective {results.incumbent_objective} differs from the verifier's {sol.objective}"
            )
        return sol


def build_company(company: Company, reduce: bool = True) -> CompanyModel:
    """Compile and build the joint model of a company (no solve)."""
    t0 = time.perf_counter()
    data = compile_company(company, reduce=reduce)
    m, blocks = build_company_model(data)
    return CompanyModel(company, data, m, blocks, time.perf_counter() - t0)


def separate_solutions(company: Company, options: SolveOptions | None = None) -> list[dict]:
    """Each division alone, paying its own retainers and onboarding, with the corporate budgets split
    in proportion to its in-house cost (and its own budget where that is tighter)."""
    cost = {d.id: sum(f.inhouse.cost for f in d.instance.functions if f.inhouse) for d in company.divisions}
    total = sum(cost.values()) or 1.0
    out = []
    for d in company.divisions:
        share = cost[d.id] / total
        own, corp = d.instance.budget, company.budget

        def split(mine, theirs):
            if theirs is None:
                return mine
            return theirs * share if mine is None else min(mine, theirs * share)

        budget = Budget(operating=split(own.operating, corp.operating), transition=split(own.transition, corp.transition))
        alone = d.instance.model_copy(update={"budget": budget})
        sol = solve_instance(alone, options=options)
        out.append({"division": d.id, "share": share, "budget_operating": budget.operating,
                    "budget_transition": budget.transition, "status": sol.status.value,
                    "objective": sol.objective, "plan": sol.plan})
    return out


def value_of_coordination(company: Company, joint: CompanySolution, options: SolveOptions | None = None) -> dict:
    """The joint optimum against every division solved alone with its share of the corporate budget."""
    alone = separate_solutions(company, options)
    ok = all(a["plan"] is not None for a in alone)
    separate = sum(a["objective"] for a in alone) if ok else None
    combined = verify_company(company, {a["division"]: a["plan"] for a in alone}) if ok else None
    return {
        "joint": joint.objective,
        "separate": separate,
        "value": None if separate is None or joint.objective is None else joint.objective - separate,
        "separate_plans_feasible_for_company": None if combined is None else combined.feasible,
        "divisions": [{k: a[k] for k in ("division", "share", "budget_operating", "budget_transition", "status",
                                          "objective")} for a in alone],
    }


def solve_company(
    company: Company,
    time_limit: float | None = None,
    gap: float = 0.0,
    threads: int | None = None,
    seed: int = 0,
    method: str = DEFAULT_METHOD,
    coordination: bool = True,
    options: SolveOptions | None = None,
) -> CompanySolution:
    """Solve a company by ``method`` ("joint" or "decompose"); with ``coordination``, also
    solve every division alone and report the value of coordination."""
    if method not in METHODS:
        raise ValueError(f"method '{method}' is not one of {', '.join(METHODS)}")
    options = options or SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed)
    t0 = time.perf_counter()
    if method == "joint":
        model = build_company(company)
        left = None if options.time_limit is None else max(0.05, options.time_limit - (time.perf_counter() - t0))
        sol = model.solve(replace(options, time_limit=left))
    else:
        from outopt.decompose import decompose

        sol = decompose(company, options)
    if coordination and sol.status.has_plan:
        left = None
        if options.time_limit is not None:  # the time limit covers the whole call
            left = max(0.05, (options.time_limit - (time.perf_counter() - t0)) / len(company.divisions))
        sol.value_of_coordination = value_of_coordination(company, sol, replace(options, time_limit=left))
    sol.total_time = time.perf_counter() - t0
    return sol
