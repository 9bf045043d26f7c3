"""A raw HiGHS session on a Pyomo model that analyses have changed (elastic rows, other objectives).

:meth:`outopt.solver.Model.solve` verifies every plan against the instance, which is right
for plans but not for the relaxed models an analysis solves; this session only solves and
reads back the 0/1 decisions. Like the driver, it keeps stdout clean and reuses one
persistent HiGHS instance, so changes (fixed variables, bounds, active rows) are applied
incrementally.
"""

from __future__ import annotations

import time

from pyomo.environ import Param
from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs

from outopt.errors import SolverError
from outopt.schema import INHOUSE
from outopt.solver import stdout_to_stderr


def _param_values(m) -> list:
    return [(id(p), p.value) for c in m.component_objects(Param, active=True) if c.mutable for p in c.values()]


# the session brings HiGHS up to date itself before setting a start; the solve call need not check again
_UPDATED = {k: False for k in ("check_for_new_or_removed_constraints", "check_for_new_or_removed_vars",
                               "check_for_new_or_removed_params", "check_for_new_objective", "update_constraints",
                               "update_vars", "update_parameters", "update_named_expressions", "update_objective")}


class Session:
    """Solve one Pyomo model again and again; ``deadline`` (perf_counter seconds) bounds every call."""

    def __init__(self, model, threads: int | None = None, seed: int = 0, deadline: float | None = None,
                 fixed_as_bounds: bool = False):
        self.model = model  # outopt.solver.Model
        # fixed variables as columns with equal bounds (a bound change per fix) rather than constants
        # (every row they appear in rebuilt): cheaper when an analysis fixes and unfixes one at a time
        self.fixed_as_bounds = fixed_as_bounds
        self.threads = threads
        self.seed = seed
        self.deadline = deadline
        self._solver: Highs | None = None
        self.solves = 0
        self.highs_options: dict = {}  # extra HiGHS options for every solve of the session
        self._params: list | None = None  # the model's mutable Param values at the last solve

    def expired(self) -> bool:
        return self.deadline is not None and time.perf_counter() >= self.deadline

    def solve(self, gap: float = 0.0, start: dict[str, str] | None = None):
        """(status, objective) with status one of "optimal", "feasible", "infeasible", "timeout";
        variable values are loaded when a solution exists. ``start``: a plan HiGHS starts from (its
        assignment and engagement values; HiGHS completes the other variables)."""
        m = self.model.pyomo
        remaining = None
        if self.deadline is not None:
            remaining = self.deadline - time.perf_counter()
            if remaining <= 0.01:
                return "timeout", None
        with stdout_to_stderr():
            params = _param_values(m)
            if self._solver is None:
                self._solver = Highs(treat_fixed_vars_as_params=not self.fixed_as_bounds)
                self._solver.set_instance(m)
            else:
                # recomputing every coefficient that depends on a Param is the dearest part of an update:
                # skip it when no Param has changed since the last solve
                auto = self._solver.config.auto_updates
                auto.update_parameters = params != self._params
                try:
                    self._solver.update()
                finally:
                    auto.update_parameters = True
            self._params = params
            if start is not None:
                self._set_start(start)
            try:
                res = self._solver.solve(m, tee=[], time_limit=remaining, rel_gap=gap, threads=self.threads,
                                         auto_updates=_UPDATED,
                                         solver_options={"random_seed": self.seed, **self.highs_options}, load_solutions=False,
                                         raise_exception_on_nonoptimal_result=False)
            except Exception as err:
                raise SolverError(f"HiGHS failed: {err}") from err
        self.solves += 1
        tc = res.termination_condition
        has = res.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded) and not has:
            return "infeasible", None
        if tc == TerminationCondition.error:
            raise SolverError("HiGHS stopped with an error")
        if not has:
            return "timeout", None
        res.solution_loader.load_vars()
        proven = tc == TerminationCondition.convergenceCriteriaSatisfied
        return ("optimal" if proven else "feasible"), res.incumbent_objective

    def _set_start(self, plan: dict[str, str]) -> None:
        m, data = self.model.pyomo, self.model.data
        col = self._solver._pyomo_var_to_solver_var_map
        idx, val = [], []
        for p in data.pairs:
            if id(m.outsource[p]) in col:  # fixed variables are not columns
                idx.append(col[id(m.outsource[p])])
                val.append(1.0 if plan.get(p[0]) == p[1] else 0.0)
        used = set(plan.values())
        for v in data.engaged_vendors:
            if id(m.engage[v]) in col:
                idx.append(col[id(m.engage[v])])
                val.append(1.0 if v in used else 0.0)
        self._solver._solver_model.setSolution(len(idx), idx, val)

    def duals(self, rows) -> dict:
        """Row duals of the last (LP) solve for the given constraint data."""
        return self._solver._get_duals(rows)

    def plan(self) -> dict[str, str]:
        """The plan in the loaded variable values (fixed variables included)."""
        data, m = self.model.data, self.model.pyomo
        plan = {f: INHOUSE for f in data.functions}
        for p in data.pairs:
            v = m.outsource[p].value
            if v is not None and v > 0.5:
                plan[p[0]] = p[1]
        return plan

