"""A raw HiGHS session on a Pyomo model that analyses have changed (elastic rows, other objectives).

:meth:`outopt.solver.Model.solve` verifies every plan against the instance, which is right
for plans but not for the relaxed models an analysis solves; this session only solves and
reads back the 0/1 decisions. Like the driver, it keeps stdout clean and reuses one
persistent HiGHS instance, so changes (fixed variables, bounds, active rows) are applied
incrementally.
"""

from __future__ import annotations

import os
import queue
import threading
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass

from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition
from pyomo.contrib.solver.solvers.highs import Highs
from pyomo.environ import Param

from outopt.analysis._subject import subject_of
from outopt.errors import SolverError
from outopt.instance.schema import INHOUSE
from outopt.solver.highs import quiet_update, stdout_to_stderr, use_threads
from outopt.solver.interrupts import cancelled_by_ctrl_c


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
        self.model = model  # outopt.solver.Model or a company's CompanyModel
        self.subject = subject_of(model)  # plans are flat: slot -> provider (see outopt.analysis._subject)
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
            self.sync()
            if start is not None:
                self._set_start(start)
            use_threads(self.threads)  # HiGHS fails a run whose thread count differs from the last one's
            with cancelled_by_ctrl_c(self._solver._solver_model) as interrupted:
                try:
                    res = self._solver.solve(m, tee=[], time_limit=remaining, rel_gap=gap, threads=self.threads,
                                             auto_updates=_UPDATED,
                                             solver_options={"random_seed": self.seed, **self.highs_options},
                                             load_solutions=False, raise_exception_on_nonoptimal_result=False)
                except Exception as err:
                    raise SolverError(f"HiGHS failed: {err}") from err
        if interrupted:  # an analysis has no use for a half-answered question: stop it
            raise KeyboardInterrupt
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

    def sync(self) -> None:
        """Bring the HiGHS model up to date with the Pyomo model (built on first use); call inside
        :func:`stdout_to_stderr`."""
        m = self.model.pyomo
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
                quiet_update(self._solver)
            finally:
                auto.update_parameters = True
        self._params = params

    def column(self, var) -> int | None:
        """The HiGHS column of a Pyomo variable (None: not a column, a fixed variable made a constant)."""
        return self._solver._pyomo_var_to_solver_var_map.get(id(var))

    def _start(self, plan: dict) -> tuple[list[int], list[float]]:
        """A (flat) plan's assignment and engagement values as (columns, values)."""
        s = self.subject
        idx, val = [], []
        values = [(s.x(p), 1.0 if plan.get(p[0]) == p[1] else 0.0) for p in s.pairs] + s.engagement(plan)
        for var, value in values:
            c = self.column(var)
            if c is not None:
                idx.append(c)
                val.append(value)
        return idx, val

    def _set_start(self, plan: dict[str, str]) -> None:
        idx, val = self._start(plan)
        self._solver._solver_model.setSolution(len(idx), idx, val)

    def solve_variants(self, jobs: list[Job], workers: int | None = None, on_done=None) -> list[tuple]:
        """Solve independent variants of the current model at once: each job is the model as it is now
        plus the job's column bounds and rows. Each runs on a copy of the HiGHS model in a worker
        thread (HiGHS releases the GIL; one HiGHS thread per copy), from a cleared state, so the
        results do not depend on which worker ran which job or in what order. Returns per job
        (status, objective, plan) as :meth:`solve` does; status "timeout" once the deadline has passed.
        ``workers``: copies solved at the same time (default: the CPU count); ``on_done``: called (from the
        worker thread) as each job ends."""
        import highspy

        if not jobs:
            return []
        workers = max(1, min(len(jobs), workers or os.cpu_count() or 1))
        subject = self.subject
        with stdout_to_stderr():  # HiGHS prints its banner to fd 1 when a Highs object is made
            self.sync()
            main = self._solver._solver_model
            model, opts = main.getModel(), main.getOptions()
            copies: queue.Queue = queue.Queue()
            for _ in range(workers):
                h = highspy.Highs()
                h.passOptions(opts)
                for key, value in {"output_flag": False, "threads": 1, "random_seed": self.seed,
                                   "mip_rel_gap": 0.0, **self.highs_options}.items():
                    h.setOptionValue(key, value)
                h.passModel(model)
                copies.put(h)
        # each job's changes on columns (the Pyomo variables' columns exist once synced), made here so
        # the worker threads touch HiGHS only
        changes = [([(self.column(x), lo, up) for x, lo, up in job.bounds],
                    [(lo, up, [self.column(x) for x in xs], list(cs)) for lo, up, xs, cs in job.rows],
                    None if job.start is None else self._start(job.start))
                   for job in jobs]
        columns = [(c, f, v) for (f, v) in subject.pairs if (c := self.column(subject.x((f, v)))) is not None]
        fixed = {f: v for (f, v) in subject.pairs if self.column(subject.x((f, v))) is None
                 and (subject.x((f, v)).value or 0.0) > 0.5}
        stop = threading.Event()
        deadline = self.deadline
        use_threads(1)  # the copies run with one thread each

        def interrupt(event):
            if stop.is_set() or (deadline is not None and time.perf_counter() >= deadline):
                event.interrupt()

        def run(change):
            bounds, rows, start = change
            remaining = None if deadline is None else deadline - time.perf_counter()
            if stop.is_set() or (remaining is not None and remaining <= 0.01):
                return "timeout", None, None
            lower = [model.lp_.col_lower_[c] for c, _, _ in bounds]
            upper = [model.lp_.col_upper_[c] for c, _, _ in bounds]
            h = copies.get()
            try:
                h.clearSolver()
                h.setOptionValue("time_limit", remaining if remaining is not None else highspy.kHighsInf)
                for c, lo, up in bounds:
                    h.changeColBounds(c, lo, up)
                for lo, up, idx, val in rows:
                    h.addRow(lo, up, len(idx), idx, val)
                if start is not None:
                    h.setSolution(len(start[0]), *start)
                h.run()
                outcome = _outcome(h, columns, {f: fixed.get(f, INHOUSE) for f in subject.slots})
                if on_done is not None:
                    on_done()
                return outcome
            finally:
                for (c, _, _), lo, up in zip(bounds, lower, upper):
                    h.changeColBounds(c, lo, up)
                if rows:
                    h.deleteRows(len(rows), list(range(model.lp_.num_row_, model.lp_.num_row_ + len(rows))))
                copies.put(h)

        subscribed = []
        for h in list(copies.queue):
            for cb in (h.cbSimplexInterrupt, h.cbIpmInterrupt, h.cbMipInterrupt):
                cb.subscribe(interrupt)
                subscribed.append(cb)
        pool = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outopt-resolve")
        try:
            futures = [pool.submit(run, change) for change in changes]
            out = [f.result() for f in futures]
        except BaseException:  # Ctrl-C: stop the running copies, drop the rest
            stop.set()
            pool.shutdown(wait=True, cancel_futures=True)
            raise
        finally:
            pool.shutdown(wait=True)
            for cb in subscribed:
                cb.unsubscribe(interrupt)
        self.solves += len(jobs)
        return out

    def duals(self, rows) -> dict:
        """Row duals of the last (LP) solve for the given constraint data."""
        return self._solver._get_duals(rows)

    def plan(self) -> dict:
        """The (flat) plan in the loaded variable values (fixed variables included)."""
        return self.subject.plan_from_values()



@dataclass(frozen=True)
class Job:
    """One MIP of :meth:`Session.solve_variants`: the session's model with these variable bounds
    (Pyomo variable, lower, upper) and these extra rows (lower, upper, variables, coefficients),
    started from ``start`` (a plan) when given."""

    bounds: tuple = ()
    rows: tuple = ()
    start: dict | None = None


def _outcome(h, columns, base: dict[str, str]) -> tuple:
    """(status, objective, plan) of a finished run of a HiGHS copy, as :meth:`Session.solve` reports it."""
    import highspy

    status = h.getModelStatus()
    info = h.getInfo()
    has = info.primal_solution_status == 2  # kSolutionStatusFeasible
    if status in (highspy.HighsModelStatus.kInfeasible, highspy.HighsModelStatus.kUnboundedOrInfeasible) and not has:
        return "infeasible", None, None
    if status not in (highspy.HighsModelStatus.kOptimal, highspy.HighsModelStatus.kTimeLimit,
                      highspy.HighsModelStatus.kInterrupt, highspy.HighsModelStatus.kSolutionLimit):
        raise SolverError(f"HiGHS stopped with model status {status.name}")
    if not has:
        return "timeout", None, None
    values = h.getSolution().col_value
    plan = dict(base)  # the functions assigned by fixed variables (constants, not columns)
    for c, f, v in columns:
        if values[c] > 0.5:
            plan[f] = v
    return ("optimal" if status == highspy.HighsModelStatus.kOptimal else "feasible"), info.objective_function_value, plan
