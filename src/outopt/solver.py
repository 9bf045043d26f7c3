"""Build once, solve many times: the HiGHS driver behind :func:`outopt.solve`.

``build(instance)`` compiles the instance and builds the Pyomo model;
``Model.solve(options)`` hands it to HiGHS through Pyomo's persistent in-process
interface, so analyses can change a limit and solve again without a rebuild.

The driver owns three guarantees:

* **stdout stays clean**: HiGHS writes its banner and log to file descriptor 1;
  every solver call runs with fd 1 pointed at stderr, so ``--json -`` prints JSON only.
* **the time limit holds for the whole call**: HiGHS gets what is left of it; its interrupt
  callbacks (simplex, IPM, MIP) check the deadline themselves and a watchdog's cancel backs
  them up. HiGHS only calls them between steps, and on large models some steps run for
  seconds without one (presolve, the objective's clique partition, root heuristics), so
  :func:`solve` runs a large model's HiGHS in a forked child that it abandons at the deadline.
* **every plan is verified**: the plan read back is checked by :mod:`outopt.verify`
  and its objective is the verifier's recomputation.
"""

from __future__ import annotations

import contextlib
import functools
import logging
import os
import signal
import sys
import threading
import time
from dataclasses import dataclass, replace
from typing import TYPE_CHECKING

from outopt.errors import SolverError
from outopt.heuristic import starting_plan
from outopt.model.data import PortfolioData, compile_data
from outopt.model.reduce import Reduction, reduce_instance, separable_plan
from outopt.schema import INHOUSE, Instance
from outopt.solution import Solution, Status
from outopt.verify import status_quo, verify

if TYPE_CHECKING:  # Pyomo is imported when a model is built: an instance the reductions solve needs none
    import pyomo.environ as pyo
    from pyomo.contrib.solver.solvers.highs import Highs


@dataclass(frozen=True)
class SolveOptions:
    """Everything that steers a solve; the solver is injected here (HiGHS is the default).

    time_limit: seconds for the whole call (build, solve, verification), None = no limit.
    gap: relative optimality gap at which to stop; 0 proves optimality.
    threads: solver threads (None = HiGHS's default).
    seed: random seed; the same input and options give the same plan.
    warm_start: hand a verified starting plan to the solver when one is known.
    verbose: copy the solver log to stderr.
    reduce: apply the reductions of :mod:`outopt.model.reduce` before the build (``solve`` only).
    heuristic: seconds at most for a starting plan from :mod:`outopt.heuristic` (0 = none;
        ``solve`` only); the plan is returned if the solver finds nothing better.
    started: ``time.perf_counter()`` at which the time limit starts counting (None = the call's
        start); the CLI sets it before reading the file, so reading counts too.
    """

    time_limit: float | None = None
    gap: float = 0.0
    threads: int | None = None
    seed: int = 0
    warm_start: bool = True
    verbose: bool = False
    solver: str = "highs"
    reduce: bool = True
    heuristic: float = 5.0
    started: float | None = None

    def __post_init__(self):
        if self.solver != "highs":
            raise ValueError(f"solver '{self.solver}' is not supported; use 'highs'")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError("time_limit must be positive seconds")
        if not 0 <= self.gap < 1:
            raise ValueError("gap must be in [0, 1)")


WORKER_THREAD = "outopt-solve"


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

        self.hand_off()
        with stdout_to_stderr():
            if not self._fresh:
                self._solver.update()  # pass changed limits of a model solved before
            self._fresh = False
            highs = self._solver._solver_model
            self._pending_start = self._start_vector(start) if start is not None else None
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
                m.priority_level_limit[p] = best + 1e-9 * max(1.0, best)
                # the stage's plan meets every level so far: start the next stage from it
                results.solution_loader.load_vars()
                self._pending_start = self._start_vector(self.plan_from_values())
        finally:
            m.priority_objective.deactivate()
            m.net_benefit.activate()
            self._solver.update()
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
        """Run HiGHS with the time limit enforced from inside HiGHS and Ctrl-C turned into a clean cancel.

        HiGHS's interrupt callbacks (simplex, IPM, MIP) check the deadline themselves and
        interrupt once it has passed; a watchdog's ``cancelSolve`` backs them up. The model is
        brought up to date first and Pyomo's own update is switched off for the run: an update
        touching the HiGHS model discards the starting plan set with ``setSolution``.
        """
        state = {"interrupted": False}
        timer = None
        stop_at = None
        if remaining is not None:
            stop_at = time.monotonic() + remaining
            timer = threading.Timer(remaining + max(0.25, 0.02 * remaining), highs.cancelSolve)
            timer.daemon = True

        def on_interrupt_check(event):
            if stop_at is not None and time.monotonic() >= stop_at:
                event.interrupt()

        previous = None
        if threading.current_thread() is threading.main_thread():
            def on_sigint(signum, frame):
                state["interrupted"] = True
                highs.cancelSolve()
            previous = signal.signal(signal.SIGINT, on_sigint)
        # None keeps this HiGHS object's setting (0 = HiGHS's default, unless an earlier solve set one)
        _use_threads(options.threads if options.threads is not None else _option(highs, "threads"))
        if self._pending_start is not None:
            idx, val = self._pending_start
            self._pending_start = None
            # Only a complete start (every column): HiGHS completes a partial one with a sub-MIP,
            # and on a bundle model (issue 8 follow-up) it then reported the completed start's
            # objective in its presolved space (70) with the unreduced start's values (0).
            if len(idx) == highs.getNumCol():
                highs.setSolution(len(idx), idx, val)
        callbacks = (highs.cbSimplexInterrupt, highs.cbIpmInterrupt, highs.cbMipInterrupt)
        try:
            if stop_at is not None:
                for cb in callbacks:
                    cb.subscribe(on_interrupt_check)
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
                auto_updates=_auto_updates_off(),
            )
        except Exception as err:  # a solver failure is not a property of the instance
            raise SolverError(f"HiGHS failed: {err}") from err
        finally:
            if timer:
                timer.cancel()
            if stop_at is not None:
                for cb in callbacks:
                    cb.unsubscribe(on_interrupt_check)
            if previous is not None:
                signal.signal(signal.SIGINT, previous)
        if highs.getModelStatus() not in _stopped_or_done():
            raise SolverError(f"HiGHS stopped with model status {highs.getModelStatus().name} "
                              f"({results.solver_log[-500:].strip()})")
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


_scheduler = {"threads": None}
_scheduler_lock = threading.Lock()


def _option(highs, name: str):
    """An option's value (highspy returns ``(status, value)``)."""
    value = highs.getOptionValue(name)
    return value[1] if isinstance(value, tuple) else value


def _use_threads(threads: int | None) -> None:
    """Restart HiGHS's process-wide task scheduler when a solve asks for another thread count.

    HiGHS starts one scheduler per process with the first run's ``threads``; a later run with
    a different non-zero value fails (model status ``kNotset``) unless the scheduler is reset.
    """
    import highspy

    with _scheduler_lock:
        if threads and _scheduler["threads"] not in (None, threads):
            highspy.Highs.resetGlobalScheduler(True)
        _scheduler["threads"] = threads or "default"


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


class _Abandoned(Exception):
    """The caller stopped waiting: the time limit passed before this phase."""


class _Progress:
    """What a solve running in a worker thread has reached; the caller reads it when time is up."""

    def __init__(self):
        self.phase = "reading"
        self.plan: dict[str, str] | None = None  # best verified plan so far
        self.abandoned = False
        self.interrupted = False
        self.result = None  # a Solution, or (model, start) ready for HiGHS
        self.error: BaseException | None = None

    def step(self, phase: str) -> None:
        if self.abandoned:
            raise _Abandoned()
        self.phase = phase


def solve(
    instance: Instance,
    time_limit: float | None = None,
    gap: float = 0.0,
    threads: int | None = None,
    seed: int = 0,
    options: SolveOptions | None = None,
) -> Solution:
    """Reduce, build and solve an instance; the time limit covers the whole call.

    Reductions (:mod:`outopt.model.reduce`) shrink the model first; when nothing couples
    the functions any more the optimum is read off directly. Otherwise a heuristic
    starting plan (:mod:`outopt.heuristic`), verified on the original instance, is handed
    to HiGHS and returned if HiGHS finds nothing better within the limit.

    With a time limit, the preparation (reductions, starting plan, Pyomo build, hand-off)
    runs in a worker thread: if it is not done by the deadline, the call returns the best
    verified plan found so far (status ``feasible``) or ``timeout``, and the worker stops
    at its next step. HiGHS then runs in the caller's thread with what is left of the limit,
    stopped by its own time limit and by a watchdog's cancel; for a model of ``CHILD_MIN_COLUMNS``
    or more columns it runs in a forked child that is killed if not back by the deadline.
    """
    options = options or SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed)
    t0 = options.started if options.started is not None else time.perf_counter()
    progress = _Progress()
    if options.time_limit is None:
        prepared = _prepare(instance, options, t0, progress)
        return prepared if isinstance(prepared, Solution) else _finish(instance, options, t0, *prepared)
    deadline = t0 + options.time_limit
    worker = threading.Thread(target=_run_prepare, args=(instance, options, t0, progress), daemon=True,
                              name=WORKER_THREAD)
    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_sigint(signum, frame):
            progress.interrupted = True
            progress.abandoned = True
        previous = signal.signal(signal.SIGINT, on_sigint)
    redirect = stdout_to_stderr()  # the worker creates HiGHS, which prints a banner to fd 1
    redirect.__enter__()
    try:
        worker.start()
        while worker.is_alive() and not progress.interrupted and time.perf_counter() < deadline:
            worker.join(0.05)
        if worker.is_alive():
            progress.abandoned = True  # the worker stops at its next step; its work is not waited for
    finally:
        redirect.__exit__(None, None, None)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if not worker.is_alive() and not progress.interrupted:
        if progress.error is not None:
            raise progress.error
        if isinstance(progress.result, Solution):
            return progress.result
        if progress.result is not None:
            return _finish(instance, options, t0, *progress.result)
    why = "interrupted" if progress.interrupted else f"time limit reached while {progress.phase}"
    if progress.plan is not None:
        sol = Solution.from_plan(instance, progress.plan, Status.FEASIBLE, interrupted=progress.interrupted,
                                 message=f"{why}; returned the best verified plan so far")
    else:
        sol = Solution(instance, Status.TIMEOUT, interrupted=progress.interrupted,
                       message=f"{why} before any plan was found")
    sol.total_time = time.perf_counter() - t0
    return sol


def _run_prepare(instance: Instance, options: SolveOptions, t0: float, progress: _Progress) -> None:
    try:
        progress.result = _prepare(instance, options, t0, progress)
    except _Abandoned:
        pass
    except BaseException as err:  # handed to the caller's thread
        progress.error = err


def _prepare(instance: Instance, options: SolveOptions, t0: float, progress: _Progress):
    """Reduce, find a starting plan, build and hand off: a Solution when no MIP is needed, else (model, start).

    Pure Python and Pyomo (no solver run), so a time-limited call can stop waiting for it.
    """
    deadline = None if options.time_limit is None else t0 + options.time_limit
    progress.step("reducing")
    reduction = reduce_instance(instance) if options.reduce else Reduction(instance)
    data = compile_data(reduction.instance)
    if options.reduce and reduction.applied:
        plan = separable_plan(data)
        if plan is not None:
            sol = Solution.from_plan(instance, plan, Status.OPTIMAL,
                                     message="separable: each function takes its best option")
            sol.bound, sol.gap = sol.objective, 0.0
            sol.total_time = time.perf_counter() - t0
            return sol

    if options.warm_start:
        quo = status_quo(instance)
        if quo is not None and verify(instance, quo).feasible:
            progress.plan = quo
    if options.heuristic > 0 and data.pairs:
        progress.step("searching for a starting plan")
        budget = options.heuristic
        if deadline is not None:
            budget = min(budget, 0.1 * max(0.0, deadline - time.perf_counter()))
        candidate = starting_plan(data, budget, seed=options.seed) if budget > 0.01 else None
        if candidate is not None:
            check = verify(instance, candidate)
            if check.feasible and (progress.plan is None or check.objective > verify(instance, progress.plan).objective):
                progress.plan = candidate

    progress.step("building the model")
    b0 = time.perf_counter()
    model = Model(instance, data, build_model(data, sparse_shares=True), 0.0)
    model.build_time = time.perf_counter() - b0
    for f, v in reduction.fixed.items():
        model.pyomo.outsource[f, v].fix(1)
    if data.pairs or data.engaged_vendors:
        progress.step("handing the model to HiGHS")
        model.hand_off()
    progress.step("solving")
    return model, progress.plan


# Models with at least this many HiGHS columns are solved in a child process when the call has a
# time limit: HiGHS runs some steps for seconds without calling back (presolve, the objective's
# clique partition, root heuristics: benchmarks/README.md, Time limits), and only a process can be
# abandoned (an abandoned thread would keep Pyomo's capture of file descriptors 1 and 2).
CHILD_MIN_COLUMNS = 10_000


def _finish(instance: Instance, options: SolveOptions, t0: float, model: Model, start) -> Solution:
    """Run HiGHS on the prepared model (in the caller's thread: its watchdog and Ctrl-C apply).

    With a time limit, a large model is solved in a forked child that the call abandons (kills)
    when it is not back by the deadline; the call then returns the best verified plan known.
    """
    model._spent_before_solve = time.perf_counter() - t0
    opts = replace(options, started=None, warm_start=False)
    if (options.time_limit is not None and hasattr(os, "fork") and model._solver is not None
            and model._solver._solver_model.getNumCol() >= CHILD_MIN_COLUMNS):
        sol = _solve_in_child(instance, model, opts, start, t0 + options.time_limit)
    else:
        sol = model.solve(opts, start=start)
    if start is not None:
        sol = _better_of(instance, sol, start)
    sol.total_time = time.perf_counter() - t0
    return sol


def _better_of(instance: Instance, sol: Solution, start: dict[str, str]) -> Solution:
    """The solver's result, or the verified starting plan when the solver found nothing better."""
    if sol.status == Status.OPTIMAL or sol.status == Status.INFEASIBLE:
        return sol
    check = verify(instance, start)
    if sol.plan is not None and sol.objective >= check.objective - 1e-9:
        return sol
    bound = sol.bound if sol.bound is not None and sol.bound >= check.objective - 1e-6 else None
    return Solution.from_plan(instance, start, Status.FEASIBLE, bound=bound, solve_time=sol.solve_time,
                              interrupted=sol.interrupted,
                              message=(sol.message + "; " if sol.message else "") + "starting plan kept")


def _solve_in_child(instance: Instance, model: Model, options: SolveOptions, start, deadline: float) -> Solution:
    """``model.solve`` in a forked child process; the caller waits until the deadline and a grace.

    The child sends each improving plan HiGHS finds (with HiGHS's bound at that moment) and then
    its result through a pipe. A child not back in time is killed: the call returns the best of
    those plans (verified here), or the starting plan via ``_finish``, or ``timeout``.
    """
    import pickle
    import select

    col = model._solver._pyomo_var_to_solver_var_map
    columns = [(col[id(model.pyomo.outsource[p])], p[0], p[1]) for p in model.data.pairs]
    functions = list(model.data.functions)
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: solve, report, and never return into the caller's code
        try:
            os.close(read_end)
            _child_solve(model, options, start, columns, functions, write_end)
        finally:
            os._exit(0)
    os.close(write_end)
    state = {"interrupted": False}
    previous = None
    if threading.current_thread() is threading.main_thread():
        def on_sigint(signum, frame):  # a terminal's Ctrl-C reaches the child too; a kill of this pid only us
            state["interrupted"] = True
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGINT)
        previous = signal.signal(signal.SIGINT, on_sigint)
    # the child stops HiGHS at the deadline and reads its plan back: wait for that a little (under
    # half of the allowed overrun, max(10 %, 2 s)), leaving the rest for what follows here
    kill_at = deadline + 0.4 * max(0.1 * options.time_limit, 2.0)
    data, records = b"", []
    try:
        while True:
            now = time.perf_counter()
            if state["interrupted"]:
                kill_at = min(kill_at, now + 5.0)  # the child stops at HiGHS's next callback
            if now >= kill_at:
                break
            ready, _, _ = select.select([read_end], [], [], min(0.2, kill_at - now))
            if ready:
                chunk = os.read(read_end, 1 << 20)
                if not chunk:
                    break  # the child has reported and exited
                data += chunk
                while len(data) >= 8 and len(data) >= 8 + int.from_bytes(data[:8], "little"):
                    size = int.from_bytes(data[:8], "little")
                    records.append(pickle.loads(data[8:8 + size]))
                    data = data[8 + size:]
    finally:
        killed = not records or records[-1][0] not in ("result", "error")
        ended_early = killed and time.perf_counter() < kill_at  # the child died by itself
        if killed:
            with contextlib.suppress(ProcessLookupError):
                os.kill(pid, signal.SIGKILL)
        _, exit_status = os.waitpid(pid, 0)
        os.close(read_end)
        if previous is not None:
            signal.signal(signal.SIGINT, previous)
    if ended_early and not state["interrupted"]:
        raise SolverError(f"the HiGHS process ended without a result (wait status {exit_status})")
    kind, payload = records[-1] if records else ("none", None)
    if kind == "error":
        raise payload
    if kind == "result":
        status, plan, bound, solve_time, interrupted, message = payload
        interrupted = interrupted or state["interrupted"]
        if plan is not None:
            return Solution.from_plan(instance, plan, Status(status), bound=bound, solve_time=solve_time,
                                      interrupted=interrupted, message=message)
        return Solution(instance, Status(status), bound=bound, solve_time=solve_time, interrupted=interrupted,
                        message=message)
    # abandoned: the last plan HiGHS reported, if it passes the verifier
    why = "interrupted" if state["interrupted"] else "time limit reached"
    solve_time = time.perf_counter() - (deadline - options.time_limit + model._spent_before_solve)
    for _, (plan, bound) in reversed([r for r in records if r[0] == "plan"]):
        if verify(instance, plan).feasible:
            return Solution.from_plan(instance, plan, Status.FEASIBLE, bound=bound, solve_time=solve_time,
                                      interrupted=state["interrupted"],
                                      message=f"{why}; HiGHS abandoned, returned its best verified plan so far")
    return Solution(instance, Status.TIMEOUT, solve_time=solve_time, interrupted=state["interrupted"],
                    message=f"{why} before any plan was found")


def _child_solve(model: Model, options: SolveOptions, start, columns, functions, fd: int) -> None:
    """In the forked child: solve, sending ('plan', (plan, bound)) per improving plan, then ('result', ...)."""
    import pickle

    def send(record) -> None:
        blob = pickle.dumps(record)
        view = memoryview(len(blob).to_bytes(8, "little") + blob)
        while view:
            view = view[os.write(fd, view):]

    if _scheduler["threads"] is not None:  # the parent's HiGHS worker threads do not exist here
        import highspy

        highspy.Highs.resetGlobalScheduler(False)
        _scheduler["threads"] = None
    highs = model._solver._solver_model
    staged = hasattr(model.pyomo, "P")  # priority stages: HiGHS's bound is of a stage's objective

    def on_improving(event) -> None:
        values = event.data_out.mip_solution
        plan = {f: INHOUSE for f in functions}
        for c, f, v in columns:
            if values[c] > 0.5:
                plan[f] = v
        bound = event.data_out.mip_dual_bound
        send(("plan", (plan, bound if abs(bound) < float("inf") and not staged else None)))

    try:
        highs.cbMipImprovingSolution.subscribe(on_improving)
        sol = model.solve(options, start=start)
        send(("result", (sol.status.value, sol.plan, sol.bound, sol.solve_time, sol.interrupted, sol.message)))
    except BaseException as err:  # handed to the caller
        try:
            send(("error", err))
        except Exception:
            send(("error", SolverError(f"HiGHS failed in the solver process: {err!r}")))
