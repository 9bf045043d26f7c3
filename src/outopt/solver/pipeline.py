"""``solve(instance)``: reductions, a starting plan, the build and HiGHS, within one time limit.

With a time limit, the preparation (reductions, starting plan, Pyomo build, hand-off) runs in
a worker thread that the call stops waiting for at the deadline, keeping the best verified plan
found so far; HiGHS then runs in the caller's thread (:mod:`outopt.solver.highs`), or for a large
model in a forked child (:mod:`outopt.solver.child`).
"""

from __future__ import annotations

import os
import signal
import threading
import time
from dataclasses import replace

from outopt.instance.schema import INHOUSE, Instance
from outopt.model.data import compile_data
from outopt.model.reduce import Reduction, reduce_instance, separable_plan
from outopt.solver.child import CHILD_MIN_COLUMNS, solve_in_child
from outopt.solver.direct import DirectModel
from outopt.solver.heuristic import starting_plan
from outopt.solver.highs import WORKER_THREAD, stdout_to_stderr
from outopt.solver.options import Progress, SolveOptions, merged_progress
from outopt.solver.search import SEARCH_MIN_LINKS, SMALL_MAX_OFFERS, search, searchable
from outopt.solver.solution import Solution, Status, relative_gap
from outopt.verifier.portfolio import status_quo, verify


class _Abandoned(Exception):
    """The caller stopped waiting: the time limit passed before this phase."""


class _Progress:
    """What a solve running in a worker thread has reached; the caller reads it when time is up."""

    def __init__(self, report=None):
        self.report = report  # merged_progress of the caller's callback, or None
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
        if self.report is not None:
            self.report(Progress(phase, 0.0))

    def found(self, plan: dict[str, str], objective: float) -> None:
        """A better verified plan."""
        self.plan = plan
        if self.report is not None:
            self.report(Progress(self.phase, 0.0, objective))


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
    starting plan (:mod:`outopt.solver.heuristic`), verified on the original instance, is handed
    to HiGHS and returned if HiGHS finds nothing better within the limit.

    With a time limit, the preparation (reductions, starting plan, Pyomo build, hand-off)
    runs in a worker thread: if it is not done by the deadline, the call returns the best
    verified plan found so far (status ``feasible``) or ``timeout``, and the worker stops
    at its next step. HiGHS then runs in the caller's thread with what is left of the limit,
    stopped by its own time limit and by a watchdog's cancel; for a model of ``CHILD_MIN_COLUMNS``
    or more columns it runs in a forked child that is killed if not back by the deadline (or a moment
    after Ctrl-C).
    """
    options = options or SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed)
    t0 = options.started if options.started is not None else time.perf_counter()
    progress = _Progress(merged_progress(options.progress, t0))
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

    if options.warm_start:  # the status quo, else all in-house, when it passes the verifier
        quo = status_quo(instance)
        inhouse = {f.id: INHOUSE for f in instance.functions} if all(f.inhouse for f in instance.functions) else None
        for plan in (quo, inhouse if inhouse != quo else None):
            check = verify(instance, plan) if plan is not None else None
            if check is not None and check.feasible:
                progress.found(plan, check.objective)
                break
    if options.heuristic > 0 and data.pairs:
        progress.step("searching for a starting plan")
        budget = options.heuristic
        if deadline is not None:
            budget = min(budget, 0.1 * max(0.0, deadline - time.perf_counter()))
        if sum(len(data.pairs_of_vendor[v]) for v in data.engaged_vendors) >= SEARCH_MIN_LINKS:
            budget = min(budget, 1.0)  # a model the search solves: its time is better spent there
        candidate = starting_plan(data, budget, seed=options.seed) if budget > 0.01 else None
        if candidate is not None:
            check = verify(instance, candidate)
            if check.feasible and (progress.plan is None or check.objective > verify(instance, progress.plan).objective):
                progress.found(candidate, check.objective)

    progress.step("building the model")
    model = DirectModel(instance, data)
    if data.pairs or data.engaged_vendors:
        progress.step("handing the model to HiGHS")
        model.hand_off()
        model.fix(reduction.fixed.items())
    progress.step("solving")
    return model, progress.plan


def _finish(instance: Instance, options: SolveOptions, t0: float, model: DirectModel, start) -> Solution:
    """Run HiGHS on the prepared model (in the caller's thread: its watchdog and Ctrl-C apply).

    With a time limit, a large model is solved in a forked child that the call abandons (kills)
    when it is not back by the deadline; the call then returns the best verified plan known.
    """
    model._spent_before_solve = time.perf_counter() - t0
    progress = merged_progress(options.progress, t0) if options.progress is not None else None
    opts = replace(options, started=None, warm_start=False, progress=progress)
    if model.highs is not None and searchable(model):
        sol = _search(instance, model, opts, start, t0, options)
    elif (options.time_limit is not None and model.highs is not None and model.matrix.y and not model.matrix.levels
          and len(model.matrix.x) <= SMALL_MAX_OFFERS):
        sol = _mip_then_search(instance, model, opts, start, t0 + options.time_limit)
    else:
        sol = _solve_model(instance, model, opts, start, None if options.time_limit is None else t0 + options.time_limit)
    if start is not None:
        sol = _better_of(instance, sol, start)
    sol.total_time = time.perf_counter() - t0
    return sol


MIP_FIRST_SHARE, SEARCH_SHARE = 0.3, 0.5
"""Of a small model's time limit: the full MIP's first share, then the search's share of what is left."""


def _solve_model(instance: Instance, model: DirectModel, opts: SolveOptions, start, deadline: float | None) -> Solution:
    """One full MIP of the model within ``deadline``: in a forked child for a model of ``CHILD_MIN_COLUMNS``
    or more columns (where fork exists), else in this process."""
    if hasattr(os, "fork") and model.highs is not None and model.num_col >= CHILD_MIN_COLUMNS:
        return solve_in_child(instance, model, opts, start, deadline)
    return model.solve(opts, start=start)


def _mip_then_search(instance: Instance, model: DirectModel, opts: SolveOptions, start, deadline: float) -> Solution:
    """A small model with engagements: the full MIP for a share of the time (most are proven there); if not
    proven, the search from its plan, then the full MIP again from the best plan for the rest. The best
    verified plan is returned with the lowest bound of the runs."""
    left = deadline - time.perf_counter()
    first_limit = max(0.05, MIP_FIRST_SHARE * left)
    first = _solve_model(instance, model, replace(opts, time_limit=first_limit), start, time.perf_counter() + first_limit)
    if first.status in (Status.OPTIMAL, Status.INFEASIBLE) or first.interrupted:
        return first
    best = first.plan if first.plan is not None else start
    left = deadline - time.perf_counter()
    found = search(model, opts, time.perf_counter() + SEARCH_SHARE * left, time.perf_counter(), best,
                   vendor_share=0.3)
    if found.plan is not None:
        best = found.plan
    if found.interrupted:
        return _lowest_bound(found, opts.gap, first)
    last_limit = max(0.05, deadline - time.perf_counter())
    last = _solve_model(instance, model, replace(opts, time_limit=last_limit), best, time.perf_counter() + last_limit)
    answer = last if last.plan is not None and (found.plan is None or last.objective >= found.objective - 1e-9) \
        else found
    return _lowest_bound(answer, opts.gap, first, found, last)


def _lowest_bound(answer: Solution, gap: float, *runs: Solution) -> Solution:
    """``answer`` with the lowest bound any run proved (every run's bound is valid for the same model);
    optimal when that bound is within ``gap`` of its plan."""
    bounds = [r.bound for r in (answer, *runs) if r.bound is not None and r.bound >= answer.objective - 1e-6]
    if answer.plan is None or not bounds:
        return answer
    answer.bound = min(bounds)
    answer.gap = relative_gap(answer.objective, answer.bound)
    if answer.status == Status.FEASIBLE and answer.bound - answer.objective <= gap * max(1.0, abs(answer.bound)) + 1e-6:
        answer.status, answer.message = Status.OPTIMAL, ""
    return answer


SEARCH_WITHOUT_LIMIT = 60.0
"""Seconds of search before the full MIP proves the optimum, when a large model is solved with no time limit."""


def _search(instance: Instance, model: DirectModel, opts: SolveOptions, start, t0: float,
            options: SolveOptions) -> Solution:
    """A large model's search (:mod:`outopt.solver.search`) within the time limit; with none, the search's
    plan then starts the full MIP, which proves the optimum."""
    if options.time_limit is not None:
        return search(model, opts, t0 + options.time_limit, t0, start)
    found = search(model, opts, time.perf_counter() + SEARCH_WITHOUT_LIMIT, t0, start)
    if found.plan is None:
        return model.solve(opts, start=start)
    proven = model.solve(opts, start=found.plan)
    return _better_of(instance, proven, found.plan)


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
