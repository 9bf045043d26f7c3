"""The model of :func:`outopt.solve`, handed to HiGHS straight from its matrix form.

:mod:`outopt.model.matrix` builds the same columns and rows as the Pyomo model (the definition, kept
for :func:`outopt.build` and the analyses, which change limits and re-solve); building and handing
them over takes a fraction of a second where Pyomo takes seconds on large models. A
:class:`DirectModel` solves once, as the Pyomo :class:`~outopt.solver.highs.Model` does (priority
stages, warm start, time limit, Ctrl-C, verification of the plan read back), and gives the search
(:mod:`outopt.solver.search`) the raw HiGHS object and the columns of every offer and vendor.
"""

from __future__ import annotations

import sys
import time
from dataclasses import replace

from outopt.errors import SolverError
from outopt.instance.schema import INHOUSE, Instance
from outopt.model.data import PortfolioData
from outopt.model.matrix import Matrix, build_matrix
from outopt.instance.numerics import plain
from outopt.solver.highs import (
    _Doubt,
    _option,
    _StatusError,
    use_threads,
    check_model_status,
    confirmed,
    deadline_guard,
    second_opinion,
    set_start,
    stdout_to_stderr,
    trivial_solution,
)
from outopt.solver.options import Progress, SolveOptions
from outopt.solver.solution import Solution, Status
from outopt.verifier.portfolio import verify


class DirectModel:
    """A compiled instance as a HiGHS model built from :class:`~outopt.model.matrix.Matrix`."""

    def __init__(self, instance: Instance, data: PortfolioData, matrix: Matrix | None = None):
        t0 = time.perf_counter()
        self.instance = instance
        self.data = data
        self.matrix = matrix if matrix is not None else build_matrix(data)
        self.build_time = time.perf_counter() - t0
        self.highs = None  # highspy.Highs, after hand_off()
        self._spent_before_solve = 0.0

    def __repr__(self) -> str:
        return (f"<DirectModel {self.instance.name!r}: {self.matrix.num_col} columns, {self.matrix.num_row} rows, "
                f"built in {self.build_time:.2f}s>")

    @property
    def num_col(self) -> int:
        return self.matrix.num_col

    def hand_off(self) -> None:
        """Create the HiGHS instance and pass it the model (once)."""
        if self.highs is not None:
            return
        import highspy
        import numpy as np

        mx = self.matrix
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = mx.num_col, mx.num_row
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = mx.offset
        lp.col_cost_ = np.asarray(mx.cost, dtype=float)
        lp.col_lower_ = np.asarray(mx.col_lower, dtype=float)
        lp.col_upper_ = np.asarray(mx.col_upper, dtype=float)
        lp.row_lower_ = np.asarray(mx.row_lower, dtype=float)
        lp.row_upper_ = np.asarray(mx.row_upper, dtype=float)
        lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
        lp.a_matrix_.start_ = np.asarray(mx.start, dtype=np.int32)
        lp.a_matrix_.index_ = np.asarray(mx.index, dtype=np.int32)
        lp.a_matrix_.value_ = np.asarray(mx.value, dtype=float)
        with stdout_to_stderr():
            highs = highspy.Highs()
            highs.setOptionValue("output_flag", False)
            status = highs.passModel(lp)
            integer = np.flatnonzero(np.asarray(mx.integer, dtype=bool)).astype(np.int32)
            if len(integer) and status != highspy.HighsStatus.kError:
                status = highs.changeColsIntegrality(len(integer), integer,
                                                     np.full(len(integer), highspy.HighsVarType.kInteger))
        if status == highspy.HighsStatus.kError:
            raise SolverError("HiGHS refused the model")
        self.highs = highs

    def fix(self, pairs) -> None:
        """Fix these offers to 1 (decisions the reductions forced)."""
        self.hand_off()
        for p in pairs:
            j = self.matrix.x[p]
            self.matrix.col_lower[j] = 1.0
            self.highs.changeColBounds(j, 1.0, 1.0)

    # --- plans <-> columns ---------------------------------------------------------------
    def plan_from(self, values) -> dict[str, str]:
        plan = {f: INHOUSE for f in self.data.functions}
        for p, j in self.matrix.x.items():
            if values[j] > 0.5:
                plan[p[0]] = p[1]
        return plan

    def start_vector(self, plan: dict[str, str]) -> tuple[list[int], list[float]]:
        """A plan's value for the offer, engagement and spend columns (complete when the model has no other)."""
        mx = self.matrix
        idx, val = [], []
        for p, j in mx.x.items():
            idx.append(j)
            val.append(1.0 if plan.get(p[0]) == p[1] else 0.0)
        used = set(plan.values())
        for v, j in mx.y.items():
            idx.append(j)
            val.append(1.0 if v in used else 0.0)
        spend_cols = {name[6:-1]: j for j, name in enumerate(mx.col_names) if name.startswith("spend[")}
        if spend_cols:  # sparse share rows: a complete start saves HiGHS completing it
            spend = verify(self.instance, plan).spend
            for v, j in spend_cols.items():
                idx.append(j)
                val.append(spend.get(v, 0.0))
            idx.append(mx.col_names.index("total_spend"))
            val.append(sum(spend.get(v, 0.0) for v in spend_cols))
        return idx, val

    # --- solve -------------------------------------------------------------------------------
    def solve(self, options: SolveOptions | None = None, start: dict[str, str] | None = None, **kw) -> Solution:
        """Solve the model once (priority stages first), from ``start`` when given; HiGHS's answer is
        confirmed by the verifier or solved again (:func:`~outopt.solver.highs.second_opinion`)."""
        options = replace(options or SolveOptions(), **kw)
        t0 = time.perf_counter()
        deadline = None if options.time_limit is None else t0 + options.time_limit - self._spent_before_solve
        self._spent_before_solve = 0.0
        if not self.data.pairs and not self.data.engaged_vendors:
            return trivial_solution(self.instance, self.data, t0)
        self.hand_off()
        known = start if start is not None and verify(self.instance, start).feasible else None
        return second_opinion(self.instance, lambda opinion: self._attempt(options, start, deadline, t0, opinion),
                              known, deadline, t0)

    def _attempt(self, options: SolveOptions, start, deadline: float | None, t0: float, highs_options=None):
        """One run of every priority stage and the net benefit, read back: a Solution, or a ``_Doubt``
        when the verifier does not confirm HiGHS's plan. ``highs_options`` apply to this run only."""
        highs = self.highs
        saved = {key: _option(highs, key) for key in highs_options or {}}
        for key, value in (highs_options or {}).items():
            highs.setOptionValue(key, value)

        def remaining():
            if deadline is None:
                return None
            # keep a little of the budget for reading back and verifying the plan
            return max(0.05, (deadline - time.perf_counter()) * 0.97 - 0.05)

        pending = self.start_vector(start) if start is not None else None
        try:
            for _, objective, row in self.matrix.levels:  # lexicographic: each level's violation, highest first
                highs.changeRowBounds(row, -float("inf"), 1e12)
            for level in self.matrix.levels:
                run = self.run(options, remaining(), pending, objective=level[1], phase=f"priority level {level[0]}")
                if not run.has_plan:  # infeasible, or out of time: the stage's bound is of its own objective
                    return run.solution(self, t0, staged=True)
                best = max(0.0, run.objective)
                highs.changeRowBounds(level[2], -float("inf"), best + 1e-9 * max(1.0, best))
                pending = (list(range(self.matrix.num_col)), list(run.values))
            return self.run(options, remaining(), pending).solution(self, t0, staged=False)
        except _StatusError as err:  # HiGHS's numerics failed on this run (a badly scaled model, issue 19)
            if err.status not in ("kSolveError", "kPresolveError", "kPostsolveError"):
                raise
            return _Doubt(f"HiGHS stopped with model status {err.status}", None, False, err)
        finally:
            for key, value in saved.items():  # later runs of this model with its own settings
                highs.setOptionValue(key, value)

    def run(self, options: SolveOptions, remaining: float | None, start=None, objective=None,
            phase: str = "solving") -> Run:
        """One HiGHS run of the model (``objective``: a priority level's, minimised), within the deadline."""
        import highspy

        highs, mx = self.highs, self.matrix
        if objective is None:
            highs.changeObjectiveSense(highspy.ObjSense.kMaximize)
            highs.changeColsCost(mx.num_col, list(range(mx.num_col)), mx.cost)
            highs.changeObjectiveOffset(mx.offset)
        else:
            costs = [0.0] * mx.num_col
            for j, w in objective.items():
                costs[j] = w
            highs.changeObjectiveSense(highspy.ObjSense.kMinimize)
            highs.changeColsCost(mx.num_col, list(range(mx.num_col)), costs)
            highs.changeObjectiveOffset(0.0)
        return run_highs(highs, options, remaining, start, phase=phase, net_benefit=objective is None)


class Run:
    """What one HiGHS run ended with."""

    def __init__(self, highs, interrupted: bool, wall: float):
        import highspy

        status = highs.getModelStatus()
        info = highs.getInfo()
        s = highspy.HighsModelStatus
        self.interrupted = interrupted
        self.wall = wall
        self.has_plan = info.primal_solution_status == 2  # kSolutionStatusFeasible
        self.infeasible = status in (s.kInfeasible, s.kUnboundedOrInfeasible) and not self.has_plan
        self.proven = status == s.kOptimal and not interrupted
        self.objective = info.objective_function_value if self.has_plan else None
        bound = info.mip_dual_bound
        self.bound = plain(bound) if bound is not None and abs(bound) < 1e300 else None
        self.values = list(highs.getSolution().col_value) if self.has_plan else None

    def solution(self, model: DirectModel, t0: float, staged: bool):
        """The run as a Solution of the instance (a ``_Doubt`` when the verifier does not confirm its plan);
        ``staged``: a priority stage's run, whose objective and bound are not the net benefit's."""
        instance = model.instance
        common = dict(solve_time=self.wall, interrupted=self.interrupted)
        if self.infeasible:
            return Solution(instance, Status.INFEASIBLE, message="no plan satisfies every rule",
                            total_time=time.perf_counter() - t0, **common)
        if not self.has_plan:
            why = "interrupted" if self.interrupted else "time limit reached"
            return Solution(instance, Status.TIMEOUT, message=f"{why} before any plan was found",
                            bound=None if staged else self.bound, total_time=time.perf_counter() - t0, **common)
        bound = None if self.proven else self.bound
        return confirmed(instance, model.plan_from(self.values), self.proven, self.interrupted, bound,
                         self.objective, self.wall, t0)


def run_highs(highs, options: SolveOptions, remaining: float | None, start=None, phase: str = "solving",
              net_benefit: bool = True) -> Run:
    """Run HiGHS once with the options' gap, seed, threads and time left; stopped at the deadline and on
    Ctrl-C (:func:`~outopt.solver.highs.deadline_guard`). With ``options.progress``, HiGHS's best plan and
    bound are reported about twice a second (as the net benefit's only when ``net_benefit``)."""
    use_threads(options.threads if options.threads is not None else _option(highs, "threads"))
    highs.setOptionValue("random_seed", options.seed)
    highs.setOptionValue("mip_rel_gap", options.gap)
    highs.setOptionValue("time_limit", remaining if remaining is not None else float("inf"))
    highs.setOptionValue("output_flag", bool(options.verbose))
    if options.verbose:
        highs.setOptionValue("log_to_console", True)
    if options.threads is not None:
        highs.setOptionValue("threads", options.threads)
    if start is not None:
        set_start(highs, *start)
    t0 = time.perf_counter()
    on_check = _reporter(options.progress, phase, net_benefit, t0)
    if on_check is not None:
        on_check(None)
        highs.cbMipInterrupt.subscribe(on_check)
    try:
        with stdout_to_stderr(), deadline_guard(highs, remaining) as state:
            sys.stdout.flush()
            highs.run()
    except Exception as err:  # a solver failure is not a property of the instance
        raise SolverError(f"HiGHS failed: {err}") from err
    finally:
        if on_check is not None:
            highs.cbMipInterrupt.unsubscribe(on_check)
    check_model_status(highs)
    return Run(highs, state["interrupted"], time.perf_counter() - t0)


def _reporter(progress, phase: str, net_benefit: bool, t0: float):
    """A HiGHS MIP-interrupt callback passing its best plan and bound to ``progress`` (at most every 0.5 s)."""
    if progress is None:
        return None
    last = [-1.0]

    def on_check(event) -> None:
        now = time.perf_counter()
        if event is not None and now - last[0] < 0.5:
            return
        last[0] = now
        objective = bound = None
        if event is not None and net_benefit:
            primal, dual = event.data_out.mip_primal_bound, event.data_out.mip_dual_bound
            objective = primal if abs(primal) < 1e300 else None
            bound = dual if abs(dual) < 1e300 else None
        progress(Progress(phase, now - t0, objective, bound))

    return on_check
