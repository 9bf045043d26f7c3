"""Solving a company: the joint MIP, the Lagrangian decomposition, and the value of coordination.

``solve_company(company, method=...)`` returns a :class:`CompanySolution` whose plan has
passed :func:`outopt.verifier.company.verify_company` and whose objective is that verifier's
recomputation. ``method="joint"`` solves the joint model of :mod:`outopt.model.company`
with HiGHS; ``method="decompose"`` runs :func:`outopt.solver.decompose.decompose` (Lagrangian
relaxation of the corporate limits, divisions in parallel, a repair to a verified plan).
"""

from __future__ import annotations

import time
from dataclasses import replace

import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from outopt.errors import PlanError, SolverError
from outopt.instance.company import Company, CompanyPlan
from outopt.instance.numerics import plain
from outopt.instance.schema import INHOUSE, Budget, derived
from outopt.model.company import CompanyData, build_company_model, compile_company
from outopt.solver.decompose import decompose
from outopt.solver.highs import Model, quiet_update, set_start, stdout_to_stderr
from outopt.solver.options import DEFAULT_METHOD, METHODS, SolveOptions
from outopt.solver.pipeline import solve as solve_instance
from outopt.solver.solution import CompanySolution, Status, company_status_quo
from outopt.verifier.company import verify_company



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

    @property
    def instance(self) -> Company:
        """What plans are judged against (the name analyses share with :class:`Model`); set it to a changed
        copy of the company to judge re-solves against that."""
        return self.company

    @instance.setter
    def instance(self, company: Company) -> None:
        self.company = company

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
        try:
            return self._attempt(options, start, t0)
        except (_Unconfirmed, PlanError) as doubt:
            if start is None or options.time_limit is not None and time.perf_counter() - t0 > options.time_limit / 2:
                raise SolverError(str(doubt)) from None
        # HiGHS reported another plan's objective with the start's values after a re-solve (seen on a corporate
        # budget lowered under the start's plan): solve again from a cleared state, without the start
        self._solver._solver_model.clearSolver()
        left = None if options.time_limit is None else max(0.05, options.time_limit - (time.perf_counter() - t0))
        try:
            return self._attempt(replace(options, time_limit=left), None, t0)
        except (_Unconfirmed, PlanError) as doubt:
            raise SolverError(str(doubt)) from None

    def _attempt(self, options: SolveOptions, start: CompanyPlan | None, t0: float) -> CompanySolution:
        with stdout_to_stderr():
            if self._solver is None:
                self._solver = Highs()
                self._solver.set_instance(self.pyomo)
            else:
                quiet_update(self._solver)
            highs = self._solver._solver_model
            if start is not None:  # only a start that sets every column (see set_start)
                set_start(highs, *self._start_vector(start))
            remaining = None
            if options.time_limit is not None:
                remaining = max(0.05, options.time_limit * 0.97 - 0.05)
            results, interrupted = self._run(highs, options, remaining, {"random_seed": options.seed})
        return self._read_company(results, interrupted, time.perf_counter() - t0)

    def _read_company(self, results, interrupted: bool, solve_time: float) -> CompanySolution:
        from pyomo.contrib.solver.common.results import (
            SolutionStatus,
            TerminationCondition,
        )

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
        bound = None if results.objective_bound is None else plain(results.objective_bound)  # never -0.0
        if proven and bound is None:
            bound = plain(results.incumbent_objective)
        sol = CompanySolution.from_plans(
            self.company, self.plan_from_values(), Status.OPTIMAL if proven else Status.FEASIBLE,
            bound=bound, solve_time=solve_time, method="joint", interrupted=interrupted,
            message="" if proven else ("interrupted" if interrupted else "time limit reached"),
        )
        if abs(sol.objective - results.incumbent_objective) > 1e-6 * max(1.0, abs(sol.objective)):
            raise _Unconfirmed(
                f"joint model objective {results.incumbent_objective} differs from the verifier's {sol.objective}"
            )
        return sol


class _Unconfirmed(Exception):
    """HiGHS's objective is not the verifier's for the plan read back."""


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
        alone = derived(d.instance, budget=budget)
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
        sol = decompose(company, options)
    if coordination and sol.status.has_plan:
        left = None
        if options.time_limit is not None:  # the time limit covers the whole call
            left = max(0.05, (options.time_limit - (time.perf_counter() - t0)) / len(company.divisions))
        sol.value_of_coordination = value_of_coordination(company, sol, replace(options, time_limit=left))
    sol.total_time = time.perf_counter() - t0
    return sol
