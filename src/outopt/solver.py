"""Build once, solve many times: the HiGHS driver behind :func:`outopt.solve`.

``build(instance)`` compiles the instance and builds the Pyomo model;
``Model.solve(options)`` hands it to HiGHS through Pyomo's persistent in-process
interface, so analyses can change a limit and solve again without a rebuild.

The driver owns three guarantees:

* **stdout stays clean**: HiGHS writes its banner and log to file descriptor 1;
  every solver call runs with fd 1 pointed at stderr, so ``--json -`` prints JSON only.
* **the time limit holds for the whole call**: HiGHS gets what is left of it, and a
  watchdog cancels the solve if HiGHS overruns.
* **every plan is verified**: the plan read back is checked by :mod:`outopt.verify`
  and its objective is the verifier's recomputation.
"""

from __future__ import annotations

import contextlib
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace

import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from outopt.errors import SolverError
from outopt.model.data import PortfolioData, compile_data
from outopt.model.portfolio import build_model
from outopt.schema import INHOUSE, Instance
from outopt.solution import Solution, Status
from outopt.verify import status_quo, verify


@dataclass(frozen=True)
class SolveOptions:
    """Everything that steers a solve; the solver is injected here (HiGHS is the default).

    time_limit: seconds for the whole call (build, solve, verification), None = no limit.
    gap: relative optimality gap at which to stop; 0 proves optimality.
    threads: solver threads (None = HiGHS's default).
    seed: random seed; the same input and options give the same plan.
    warm_start: hand a verified starting plan to the solver when one is known.
    verbose: copy the solver log to stderr.
    """

    time_limit: float | None = None
    gap: float = 0.0
    threads: int | None = None
    seed: int = 0
    warm_start: bool = True
    verbose: bool = False
    solver: str = "highs"

    def __post_init__(self):
        if self.solver != "highs":
            raise ValueError(f"solver '{self.solver}' is not supported; use 'highs'")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError("time_limit must be positive seconds")
        if not 0 <= self.gap < 1:
            raise ValueError("gap must be in [0, 1)")


@contextlib.contextmanager
def stdout_to_stderr():
    """Point file descriptor 1 at stderr for the duration (HiGHS prints its banner to fd 1)."""
    sys.stdout.flush()
    try:
        saved = os.dup(1)
    except OSError:  # no fd 1 (embedded interpreters)
        yield
        return
    try:
        os.dup2(2, 1)
        yield
    finally:
        sys.stdout.flush()
        os.dup2(saved, 1)
        os.close(saved)


class Model:
    """A built portfolio model: the compiled data, the Pyomo model and, once solved, the solver."""

    def __init__(self, instance: Instance, data: PortfolioData, pyomo_model: pyo.ConcreteModel, build_time: float):
        self.instance = instance
        self.data = data
        self.pyomo = pyomo_model
        self.build_time = build_time
        self._solver: Highs | None = None

    def __repr__(self) -> str:
        return (
            f"<Model {self.instance.name!r}: {len(self.data.pairs)} offer variables, "
            f"{len(self.data.engaged_vendors)} engagement variables, built in {self.build_time:.2f}s>"
        )

    # --- plans <-> variables -----------------------------------------------------------
    def plan_from_values(self) -> dict[str, str]:
        plan = {f: INHOUSE for f in self.data.functions}
        for p in self.data.pairs:
            v = self.pyomo.outsource[p].value
            if v is not None and v > 0.5:
                plan[p[0]] = p[1]
        return plan

    def _start_vector(self, plan: dict[str, str]) -> tuple[list[int], list[float]]:
        col = self._solver._pyomo_var_to_solver_var_map
        idx, val = [], []
        m = self.pyomo
        for p in self.data.pairs:
            idx.append(col[id(m.outsource[p])])
            val.append(1.0 if plan.get(p[0]) == p[1] else 0.0)
        used = set(plan.values())
        for v in self.data.engaged_vendors:
            idx.append(col[id(m.engage[v])])
            val.append(1.0 if v in used else 0.0)
        return idx, val

    # --- solve -----------------------------------------------------------------------
    def solve(self, options: SolveOptions | None = None, start: dict[str, str] | None = None, **kw) -> Solution:
        """Solve (or re-solve) the built model. Keyword arguments override fields of ``options``."""
        options = replace(options or SolveOptions(), **kw)
        t0 = time.perf_counter()
        deadline = None if options.time_limit is None else t0 + options.time_limit - self._spent_before_solve
        self._spent_before_solve = 0.0

        if not self.data.pairs and not self.data.engaged_vendors:
            return self._trivial(t0)

        if start is None and options.warm_start:
            quo = status_quo(self.instance)
            if quo is not None and verify(self.instance, quo).feasible:
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
            solver_options = {"random_seed": options.seed}

            def remaining():
                if deadline is None:
                    return None
                # keep a little of the budget for reading back and verifying the plan
                return max(0.05, (deadline - time.perf_counter()) * 0.97 - 0.05)

            early = self._priority_stages(highs, options, remaining, solver_options)
            if early is not None:
                results, interrupted = early
            else:
                results, interrupted = self._run(highs, options, remaining(), solver_options)
        solve_time = results.timing_info.wall_time or (time.perf_counter() - t0)
        return self._read_back(results, interrupted, solve_time, t0)

    def _priority_stages(self, highs, options: SolveOptions, remaining, solver_options: dict):
        """Soft rules with priorities, lexicographically: for each level, highest first, minimise its
        weighted violation and fix it (``priority_level_limit[p]``); then restore ``net_benefit``.
        Returns the results of a stage that ended without a plan (infeasible, timeout), else None."""
        from pyomo.contrib.solver.common.results import SolutionStatus

        m = self.pyomo
        if not hasattr(m, "P"):
            return None
        for p in m.P:
            m.priority_level_limit[p] = 1e12
        m.net_benefit.deactivate()
        try:
            for p in m.P:
                m.priority_objective[p].activate()
                self._solver.update()
                results, interrupted = self._run(highs, options, remaining(), solver_options)
                m.priority_objective[p].deactivate()
                if results.solution_status not in (SolutionStatus.optimal, SolutionStatus.feasible):
                    return results, interrupted
                best = max(0.0, results.incumbent_objective)
                m.priority_level_limit[p] = best + 1e-6 * max(1.0, best)
                # the stage's plan meets every level so far: start the next stage from it
                results.solution_loader.load_vars()
                idx, val = self._start_vector(self.plan_from_values())
                highs.setSolution(len(idx), idx, val)
        finally:
            m.priority_objective.deactivate()
            m.net_benefit.activate()
            self._solver.update()
        return None

    _spent_before_solve = 0.0

    def _run(self, highs, options: SolveOptions, remaining: float | None, solver_options: dict):
        """Run HiGHS with a watchdog on the time limit and Ctrl-C turned into a clean cancel."""
        state = {"interrupted": False}
        timer = None
        if remaining is not None:
            timer = threading.Timer(remaining + max(0.25, 0.02 * remaining), highs.cancelSolve)
            timer.daemon = True
        previous = None
        if threading.current_thread() is threading.main_thread():
            def on_sigint(signum, frame):
                state["interrupted"] = True
                highs.cancelSolve()
            previous = signal.signal(signal.SIGINT, on_sigint)
        try:
            if timer:
                timer.start()
            results = self._solver.solve(
                self.pyomo,
                tee=[sys.stderr] if options.verbose else [],
                time_limit=remaining,
                rel_gap=options.gap,
                threads=options.threads,
                solver_options=solver_options,
                load_solutions=False,
                raise_exception_on_nonoptimal_result=False,
            )
        except Exception as err:  # a solver failure is not a property of the instance
            raise SolverError(f"HiGHS failed: {err}") from err
        finally:
            if timer:
                timer.cancel()
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        return results, state["interrupted"]

    def _read_back(self, results, interrupted: bool, solve_time: float, t0: float) -> Solution:
        from pyomo.contrib.solver.common.results import SolutionStatus, TerminationCondition

        tc = results.termination_condition
        bound = results.objective_bound
        has_plan = results.solution_status in (SolutionStatus.optimal, SolutionStatus.feasible)
        common = dict(bound=bound, solve_time=solve_time, interrupted=interrupted)
        if tc in (TerminationCondition.provenInfeasible, TerminationCondition.infeasibleOrUnbounded) and not has_plan:
            return Solution(self.instance, Status.INFEASIBLE, message="no plan satisfies every rule",
                            total_time=time.perf_counter() - t0, **{**common, "bound": None})
        if tc == TerminationCondition.error:
            raise SolverError(f"HiGHS stopped with an error ({results.solver_log[-500:]})")
        if not has_plan:
            why = "interrupted" if interrupted else "time limit reached"
            return Solution(self.instance, Status.TIMEOUT, message=f"{why} before any plan was found",
                            total_time=time.perf_counter() - t0, **common)
        results.solution_loader.load_vars()
        plan = self.plan_from_values()
        proven = tc == TerminationCondition.convergenceCriteriaSatisfied and not interrupted
        status = Status.OPTIMAL if proven else Status.FEASIBLE
        if proven and bound is None:
            bound = results.incumbent_objective
        message = "" if proven else ("interrupted" if interrupted else "time limit reached")
        sol = Solution.from_plan(self.instance, plan, status, bound=bound, solve_time=solve_time,
                                 interrupted=interrupted, message=message)
        if abs(sol.objective - results.incumbent_objective) > 1e-6 * max(1.0, abs(sol.objective)):
            raise SolverError(
                f"model objective {results.incumbent_objective} differs from the verifier's {sol.objective}"
            )
        sol.total_time = time.perf_counter() - t0
        return sol

    def _trivial(self, t0: float) -> Solution:
        """No decision to make: every function stays in-house."""
        plan = {f: INHOUSE for f in self.data.functions}
        check = verify(self.instance, plan)
        if not check.feasible:
            return Solution(self.instance, Status.INFEASIBLE, message="; ".join(check.violations),
                            total_time=time.perf_counter() - t0)
        return Solution.from_plan(self.instance, plan, Status.OPTIMAL, bound=check.objective,
                                  total_time=time.perf_counter() - t0)


def build(instance: Instance, reduce: bool = True) -> Model:
    """Compile and build the model of an instance (no solve)."""
    t0 = time.perf_counter()
    data = compile_data(instance, reduce=reduce)
    m = build_model(data)
    return Model(instance, data, m, time.perf_counter() - t0)


def solve(
    instance: Instance,
    time_limit: float | None = None,
    gap: float = 0.0,
    threads: int | None = None,
    seed: int = 0,
    options: SolveOptions | None = None,
) -> Solution:
    """Build and solve an instance; the time limit covers the whole call."""
    options = options or SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed)
    t0 = time.perf_counter()
    model = build(instance)
    model._spent_before_solve = time.perf_counter() - t0
    sol = model.solve(options)
    sol.total_time = time.perf_counter() - t0
    return sol
