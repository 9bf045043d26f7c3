"""The HiGHS driver: build once, solve many times.

``build(instance)`` compiles the instance and builds the Pyomo model;
``Model.solve(options)`` hands it to HiGHS through Pyomo's persistent in-process
interface, so analyses can change a limit and solve again without a rebuild.

The driver owns three guarantees:

* **stdout stays clean**: HiGHS writes its banner and log to file descriptor 1;
  every solver call runs with fd 1 pointed at stderr, so ``--json -`` prints JSON only.
* **the time limit holds inside HiGHS**: HiGHS gets what is left of it; its interrupt
  callbacks (simplex, IPM, MIP) check the deadline themselves and a watchdog's cancel backs
  them up (:mod:`outopt.solver.pipeline` holds the limit for the whole call, and
  :mod:`outopt.solver.child` for HiGHS's steps that call no callback).
* **every plan is verified**: the plan read back is checked by :mod:`outopt.verifier`
  and its objective is the verifier's recomputation.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import sys
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from outopt.errors import PlanError, SolverError
from outopt.instance.numerics import plain
from outopt.instance.schema import INHOUSE, Instance
from outopt.model.data import PortfolioData, compile_data
from outopt.solver.interrupts import WORKER_THREAD, cancelled_by_ctrl_c
from outopt.solver.options import SolveOptions
from outopt.solver.solution import Solution, Status
from outopt.verifier.portfolio import status_quo, verify

if TYPE_CHECKING:  # Pyomo is imported when a model is built: an instance the reductions solve needs none
    import pyomo.environ as pyo
    from pyomo.contrib.solver.solvers.highs import Highs


NO_PRESOLVE = {"presolve": "off"}
"""HiGHS options of the second run when the first found no plan: no presolve, whose reductions called
instances with thin share limits infeasible (issue 19; a plan at every limit, all amounts from 1e-3 to 1e9)."""

TIGHT = {"presolve": "off", "mip_feasibility_tolerance": 1e-9}
"""HiGHS options of the second run when the verifier does not confirm the first one's plan: integer
variables within 1e-9 of 0 or 1 (default 1e-6: a binary at 0.9999994 times a coefficient of 1e9 is 600
of room). Rows of large amounts may then not be met to 1e-9 (a float near 4e8 is exact to 6e-8): a third
run is ``NO_PRESOLVE``."""


@dataclass
class _Doubt:
    """A HiGHS answer the verifier does not confirm: why, the plan when it passes the verifier (only its
    objective was not confirmed), and HiGHS's error when it stopped with one."""

    reason: str
    plan: dict[str, str] | None
    interrupted: bool
    error: SolverError | None = None


class _StatusError(SolverError):
    """HiGHS stopped with a model status that is neither a result nor a limit (kSolveError, ...)."""

    def __init__(self, status: str, log: str):
        super().__init__(f"HiGHS stopped with model status {status} ({log})")
        self.status = status


class _OwnInterrupt(logging.Filter):
    """Pyomo warns of HiGHS's ``kInterrupt`` status as unhandled; it is how the driver stops HiGHS at
    the deadline or on Ctrl-C, and the driver reads the result itself (``_read_back``)."""

    def filter(self, record: logging.LogRecord) -> bool:
        return "kInterrupt" not in record.getMessage()


logging.getLogger("pyomo.contrib.solver.solvers.highs").addFilter(_OwnInterrupt())


@contextlib.contextmanager
def stdout_to_stderr():
    """Point file descriptor 1 at stderr for the duration (HiGHS prints its banner to fd 1).

    A no-op inside the worker thread of a time-limited :func:`solve`: the caller's thread
    holds the redirection for it, and a worker that outlives the call must never move fd 1
    while the caller prints.
    """
    if threading.current_thread().name == WORKER_THREAD:
        yield
        return
    swallow_banner()
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


_banner = {"swallowed": False, "lock": threading.Lock()}


def swallow_banner() -> None:
    """HiGHS prints its banner ("Running HiGHS 1.16.0 ...") to fd 1 when a process makes its first
    ``Highs`` object, and never again: make that first object here, with fd 1 on the null device, so no
    banner reaches stdout or stderr (a ``--verbose`` solve still shows HiGHS's log)."""
    with _banner["lock"]:
        if _banner["swallowed"]:
            return
        import highspy

        sys.stdout.flush()
        try:
            saved, null = os.dup(1), os.open(os.devnull, os.O_WRONLY)
        except OSError:  # no fd 1 (embedded interpreters): nothing to keep clean
            _banner["swallowed"] = True
            return
        try:
            os.dup2(null, 1)
            highspy.Highs()
        finally:
            os.dup2(saved, 1)
            os.close(saved)
            os.close(null)
        _banner["swallowed"] = True


def quiet_update(solver) -> None:
    """Pyomo's update of a solved model with HiGHS's console log off: Pyomo turns the log on for each
    run (and captures it), and an update that sets a coefficient to 0 then warns on the console (`pareto`
    on midsize printed 306 lines of ``|Value| of 0 supplied to Highs::changeCoeff``)."""
    solver._solver_model.setOptionValue("log_to_console", False)
    solver.update()


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
        if hasattr(m, "total_spend"):  # sparse share rows: a complete start saves HiGHS completing it
            spend = verify(self.instance, plan).spend
            for v in m.VP:
                idx.append(col[id(m.spend[v])])
                val.append(spend.get(v, 0.0))
            idx.append(col[id(m.total_spend)])
            val.append(sum(spend.values()))
        return idx, val

    # --- solve -----------------------------------------------------------------------
    def solve(self, options: SolveOptions | None = None, start: dict[str, str] | None = None, **kw) -> Solution:
        """Solve (or re-solve) the built model. Keyword arguments override fields of ``options``.

        ``start``: a plan HiGHS starts from. When the caller gives one that passes the verifier (and
        meets any rows the caller added to the model), it is also the answer of last resort. HiGHS's answer
        is confirmed when its plan passes the verifier with HiGHS's objective; otherwise the model is solved
        again (``TIGHT``, then ``NO_PRESOLVE``; ``NO_PRESOLVE`` when HiGHS found no plan), and if no run
        gives a verified plan, the best verified plan known is returned with status ``feasible`` and no
        bound, the message saying why (models/portfolio.md, Numerical policy)."""
        options = replace(options or SolveOptions(), **kw)
        t0 = time.perf_counter()
        deadline = None if options.time_limit is None else t0 + options.time_limit - self._spent_before_solve
        self._spent_before_solve = 0.0

        if not self.data.pairs and not self.data.engaged_vendors:
            return trivial_solution(self.instance, self.data, t0)

        known = start if start is not None and verify(self.instance, start).feasible else None
        if start is None and options.warm_start:
            quo = status_quo(self.instance)
            if quo is not None and verify(self.instance, quo).feasible:
                start = quo

        return second_opinion(self.instance, lambda opinion: self._attempt(options, start, deadline, t0, opinion),
                              known, deadline, t0)

    def _attempt(self, options: SolveOptions, start, deadline: float | None, t0: float, highs_options=None):
        """One HiGHS run (all priority stages) read back: a Solution, or a :class:`_Doubt` when the verifier
        does not confirm HiGHS's plan. ``highs_options`` apply to this run only."""
        self.hand_off()
        with stdout_to_stderr():
            if not self._fresh:
                quiet_update(self._solver)  # pass changed limits of a model solved before
            self._fresh = False
            highs = self._solver._solver_model
            self._pending_start = self._start_vector(start) if start is not None else None
            solver_options = {"random_seed": options.seed, **(highs_options or {})}
            saved = {key: _option(highs, key) for key in highs_options or {}}

            def remaining():
                if deadline is None:
                    return None
                # keep a little of the budget for reading back and verifying the plan
                return max(0.05, (deadline - time.perf_counter()) * 0.97 - 0.05)

            try:
                early = self._priority_stages(highs, options, remaining, solver_options)
                if early is not None:
                    results, interrupted = early
                else:
                    results, interrupted = self._run(highs, options, remaining(), solver_options)
            except _StatusError as err:  # HiGHS's numerics failed on this run (on a badly scaled model, issue 19)
                if err.status not in ("kSolveError", "kPresolveError", "kPostsolveError"):
                    raise
                return _Doubt(f"HiGHS stopped with model status {err.status}", None, False, err)
            finally:
                for key, value in saved.items():  # later solves of this model run with its own settings
                    highs.setOptionValue(key, value)
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
                quiet_update(self._solver)
                results, interrupted = self._run(highs, options, remaining(), solver_options)
                m.priority_objective[p].deactivate()
                if results.solution_status not in (SolutionStatus.optimal, SolutionStatus.feasible):
                    return results, interrupted
                best = max(0.0, results.incumbent_objective)
                m.priority_level_limit[p] = best + 1e-9 * max(1.0, best)
                # the stage's plan meets every level so far: start the next stage from it
                results.solution_loader.load_vars()
                self._pending_start = self._start_vector(self.plan_from_values())
        finally:
            m.priority_objective.deactivate()
            m.net_benefit.activate()
            quiet_update(self._solver)
        return None

    _spent_before_solve = 0.0
    _fresh = False
    _pending_start: tuple[list[int], list[float]] | None = None

    def hand_off(self) -> None:
        """Create the HiGHS instance and hand it the model (once; later solves pass only changes)."""
        if self._solver is None:
            with stdout_to_stderr():
                from pyomo.contrib.solver.solvers.highs import Highs

                solver = Highs()
                if threading.current_thread().name == WORKER_THREAD:
                    _set_instance_quietly(solver, self.pyomo)
                else:
                    solver.set_instance(self.pyomo)
            self._solver = solver
            self._fresh = True

    def _run(self, highs, options: SolveOptions, remaining: float | None, solver_options: dict):
        """Run HiGHS through Pyomo within :func:`deadline_guard` (the time limit enforced from inside HiGHS,
        Ctrl-C turned into a clean cancel). The model is brought up to date first and Pyomo's own update
        is switched off for the run: an update touching the HiGHS model discards the starting plan."""
        # None keeps this HiGHS object's setting (0 = HiGHS's default, unless an earlier solve set one)
        use_threads(options.threads if options.threads is not None else _option(highs, "threads"))
        if self._pending_start is not None:
            set_start(highs, *self._pending_start)
            self._pending_start = None
        with deadline_guard(highs, remaining) as state:
            try:
                results = self._solver.solve(
                    self.pyomo,
                    tee=[sys.stderr] if options.verbose else [],
                    time_limit=remaining,
                    rel_gap=options.gap,
                    threads=options.threads,
                    solver_options=solver_options,
                    load_solutions=False,
                    raise_exception_on_nonoptimal_result=False,
                    auto_updates=_auto_updates_off(),
                )
            except Exception as err:  # a solver failure is not a property of the instance
                raise SolverError(f"HiGHS failed: {err}") from err
        check_model_status(highs, results.solver_log)
        return results, state["interrupted"]

    def _read_back(self, results, interrupted: bool, solve_time: float, t0: float) -> Solution | _Doubt:
        from pyomo.contrib.solver.common.results import (
            SolutionStatus,
            TerminationCondition,
        )

        tc = results.termination_condition
        bound = None if results.objective_bound is None else plain(results.objective_bound)  # HiGHS gives -0.0
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
        proven = tc == TerminationCondition.convergenceCriteriaSatisfied and not interrupted
        return confirmed(self.instance, self.plan_from_values(), proven, interrupted, bound, results.incumbent_objective,
                         solve_time, t0)


def confirmed(instance: Instance, plan: dict[str, str], proven: bool, interrupted: bool, bound: float | None,
              incumbent: float, solve_time: float, t0: float) -> Solution | _Doubt:
    """A plan HiGHS found, as a Solution when the verifier confirms it (feasible, with HiGHS's objective),
    else a :class:`_Doubt`."""
    status = Status.OPTIMAL if proven else Status.FEASIBLE
    if proven and bound is None:
        bound = plain(incumbent)
    message = "" if proven else ("interrupted" if interrupted else "time limit reached")
    check = verify(instance, plan)
    if not check.feasible:
        return _Doubt(f"HiGHS's plan failed verification: {'; '.join(check.violations)}", None, interrupted)
    if abs(check.objective - incumbent) > 1e-6 * max(1.0, abs(check.objective)):
        return _Doubt(f"HiGHS's objective {incumbent:.12g} differs from the verifier's "
                      f"{check.objective:.12g}", plan, interrupted)
    sol = Solution.from_plan(instance, plan, status, bound=bound, solve_time=solve_time,
                             interrupted=interrupted, message=message, verification=check)
    sol.total_time = time.perf_counter() - t0
    return sol


def second_opinion(instance: Instance, attempt, known: dict[str, str] | None, deadline: float | None,
                   t0: float) -> Solution:
    """HiGHS's answer, confirmed (models/portfolio.md, Numerical policy): ``attempt(highs_options)`` runs the
    model once and returns a Solution, or a :class:`_Doubt` when the verifier does not confirm its plan. An
    unconfirmed answer is solved again (``TIGHT``, then ``NO_PRESOLVE``; ``NO_PRESOLVE`` when HiGHS found no
    plan); if no run gives a verified plan, the best verified plan known (``known``, a verified start) is
    returned with status ``feasible`` and no bound, the message saying why."""
    first = attempt(None)
    if isinstance(first, Solution) and first.status != Status.INFEASIBLE:
        return first
    none_found = isinstance(first, Solution)  # HiGHS's presolve has called instances infeasible that a plan meets
    if none_found:
        why = "HiGHS found no plan" + (", but the starting plan passes the verifier" if known else "")
    else:
        why = first.reason
    answers = [first]
    for opinion in (NO_PRESOLVE,) if none_found else (TIGHT, NO_PRESOLVE):
        if first.interrupted or deadline is not None and deadline - time.perf_counter() <= 0.1:
            break  # Ctrl-C, or no time left for another run
        answer = attempt(opinion)
        answers.append(answer)
        if isinstance(answer, Solution) and answer.status.has_plan:
            answer.message = "; ".join(m for m in (answer.message, f"solved again ({why})") if m)
            return answer
        if isinstance(answer, Solution) and answer.status == Status.INFEASIBLE and none_found and known is None:
            return answer  # confirmed
    plans = [a.plan for a in answers if isinstance(a, _Doubt) and a.plan is not None] + [known]
    best = max((p for p in plans if p is not None), key=lambda p: verify(instance, p).objective, default=None)
    if best is None:
        if none_found:  # not confirmed within the time limit
            return first
        late = [a for a in answers if isinstance(a, Solution) and a.status == Status.TIMEOUT]
        if late:
            late[-1].message = f"{late[-1].message}; {why}"
            return late[-1]
        if first.error is not None:
            raise first.error
        raise PlanError(f"{why}; also when solved again without presolve and with tighter tolerances")
    interrupted = any(getattr(a, "interrupted", False) for a in answers)
    sol = Solution.from_plan(instance, best, Status.FEASIBLE, interrupted=interrupted,
                             solve_time=time.perf_counter() - t0,
                             message=f"{why}; returned the best plan that passes the verifier (no bound)")
    sol.total_time = time.perf_counter() - t0
    return sol


def trivial_solution(instance: Instance, data: PortfolioData, t0: float) -> Solution:
    """No decision to make: every function stays in-house."""
    plan = {f: INHOUSE for f in data.functions}
    check = verify(instance, plan)
    if not check.feasible:
        return Solution(instance, Status.INFEASIBLE, message="; ".join(check.violations),
                        total_time=time.perf_counter() - t0)
    return Solution.from_plan(instance, plan, Status.OPTIMAL, bound=check.objective,
                              total_time=time.perf_counter() - t0)


@contextlib.contextmanager
def deadline_guard(highs, remaining: float | None):
    """Stop a HiGHS run at the deadline and on Ctrl-C; yields a state whose "interrupted" says Ctrl-C came.

    HiGHS's interrupt callbacks (simplex, IPM, MIP) check the deadline themselves and interrupt once it
    has passed, and a watchdog a little after the deadline makes them interrupt at their next check
    whatever the clock says (a flag of this run only: HiGHS's own ``cancelSolve`` flag would outlive the
    run and stop the next one on this model at once). Ctrl-C (in the main thread) cancels the run
    (:func:`~outopt.solver.interrupts.cancelled_by_ctrl_c`).
    """
    state = {"interrupted": False, "cancelled": False}
    timer = None
    stop_at = None
    if remaining is not None:
        stop_at = time.monotonic() + remaining
        timer = threading.Timer(remaining + max(0.25, 0.02 * remaining), lambda: state.update(cancelled=True))
        timer.daemon = True
    callbacks = (highs.cbSimplexInterrupt, highs.cbIpmInterrupt, highs.cbMipInterrupt)
    with cancelled_by_ctrl_c(highs) as pressed:

        def on_interrupt_check(event):
            # set either way: HiGHS keeps the flag from one run to the next, so a run after one stopped at
            # its deadline would stop at its first check
            event.interrupt(bool(pressed) or state["cancelled"] or (stop_at is not None and time.monotonic() >= stop_at))

        try:
            for cb in callbacks:
                cb.subscribe(on_interrupt_check)
            if timer:
                timer.start()
            yield state
        finally:
            state["interrupted"] = bool(pressed)
            if timer:
                timer.cancel()
            for cb in callbacks:
                cb.unsubscribe(on_interrupt_check)


def set_start(highs, idx: list[int], val: list[float]) -> None:
    """Hand HiGHS a starting plan, only when it sets every column: HiGHS completes a partial one with a
    sub-MIP, and on a bundle model (issue 8 follow-up) it then reported the completed start's objective
    in its presolved space (70) with the unreduced start's values (0)."""
    if len(idx) == highs.getNumCol():
        highs.setSolution(len(idx), idx, val)


def check_model_status(highs, log: str = "") -> None:
    """Raise :class:`SolverError` unless HiGHS stopped in a state the driver reads a result from."""
    if highs.getModelStatus() not in _stopped_or_done():
        raise _StatusError(highs.getModelStatus().name, log[-500:].strip())


@functools.cache  # computed on first use: Pyomo and highspy are imported when a model is solved
def _auto_updates_off() -> dict[str, bool]:
    from pyomo.contrib.solver.common.config import AutoUpdateConfig

    return {key: False for key in AutoUpdateConfig().keys()}


@functools.cache
def _stopped_or_done():
    """HiGHS model statuses after which the driver reads a result; any other status is a solver error."""
    import highspy

    s = highspy.HighsModelStatus
    return frozenset(getattr(s, name) for name in (
        "kOptimal", "kInfeasible", "kUnboundedOrInfeasible", "kUnbounded", "kObjectiveBound", "kObjectiveTarget",
        "kTimeLimit", "kIterationLimit", "kSolutionLimit", "kInterrupt", "kModelEmpty",
    ) if hasattr(s, name))


SCHEDULER = {"threads": None}
_scheduler_lock = threading.Lock()


def _option(highs, name: str):
    """An option's value (highspy returns ``(status, value)``)."""
    value = highs.getOptionValue(name)
    return value[1] if isinstance(value, tuple) else value


def use_threads(threads: int | None) -> None:
    """Restart HiGHS's process-wide task scheduler when a solve asks for another thread count.

    HiGHS starts one scheduler per process with the first run's ``threads``; a later run with
    a different non-zero value fails (model status ``kNotset``) unless the scheduler is reset.
    """
    import highspy

    with _scheduler_lock:
        if threads and SCHEDULER["threads"] not in (None, threads):
            highspy.Highs.resetGlobalScheduler(True)
        SCHEDULER["threads"] = threads or "default"


def build_model(data: PortfolioData, **kw) -> "pyo.ConcreteModel":
    """:func:`outopt.model.portfolio.build_model`, imported on first use (it imports Pyomo)."""
    from outopt.model.portfolio import build_model as build_pyomo_model

    return build_pyomo_model(data, **kw)


def build(instance: Instance, reduce: bool = True) -> Model:
    """Compile and build the model of an instance (no solve)."""
    t0 = time.perf_counter()
    data = compile_data(instance, reduce=reduce)
    m = build_model(data)
    return Model(instance, data, m, time.perf_counter() - t0)


def _set_instance_quietly(solver: Highs, model) -> None:
    """``Highs.set_instance`` without its ``capture_output(capture_fd=True)``.

    Capturing moves the process's file descriptors 1 and 2 for the whole hand-off; from the
    worker thread of a time-limited solve that would swallow what the caller prints once it
    has stopped waiting. This is the body of ``set_instance`` in Pyomo 6.10 (pinned), and
    the caller's thread holds fd 1 on stderr meanwhile for the HiGHS banner.
    """
    import highspy

    if solver._last_results_object is not None:
        solver._last_results_object.solution_loader.invalidate()
    solver._reinit()
    solver._model = model
    solver._solver_model = highspy.Highs()
    solver.add_block(model)
    if solver._objective is None:
        solver.set_objective(None)
