"""A large model's HiGHS run in a forked child process that the call can abandon at the deadline.

HiGHS runs some steps for seconds without calling back (presolve, the objective's clique
partition, root heuristics: benchmarks/README.md, Time limits), and only a process can be
abandoned (an abandoned thread would keep Pyomo's capture of file descriptors 1 and 2).
The child streams each improving plan HiGHS finds, so an abandoned run keeps its best plan.
"""

from __future__ import annotations

import contextlib
import os
import pickle
import select
import signal
import sys
import threading
import time
from dataclasses import replace

from outopt.errors import SolverError
from outopt.instance.schema import INHOUSE, Instance
from outopt.solver.direct import DirectModel
from outopt.solver.highs import SCHEDULER
from outopt.solver.options import Progress, SolveOptions
from outopt.solver.solution import Solution, Status
from outopt.verifier.portfolio import verify

CHILD_MIN_COLUMNS = 1_000
"""Models with at least this many columns are solved in a child process (smaller ones check for interrupts
often and solve in moments)."""

CTRL_C_GRACE = 0.8
"""Seconds a child gets after Ctrl-C to stop HiGHS itself and report, before it is killed."""


def solve_in_child(instance: Instance, model: DirectModel, options: SolveOptions, start,
                   deadline: float | None) -> Solution:
    """``model.solve`` in a forked child process; the caller waits until the deadline and a grace, or after
    Ctrl-C (which the child gets too) for a moment.

    The child sends each improving plan HiGHS finds (with HiGHS's bound at that moment) and then
    its result through a pipe. A child not back in time is killed: the call returns the best of
    those plans (verified here), or the starting plan via ``_finish``, or ``timeout``. HiGHS checks for
    interrupts seconds apart on some models, so only a process that can be killed stops within a second.
    """
    began = time.perf_counter()
    columns = [(j, f, v) for (f, v), j in model.matrix.x.items()]
    functions = list(model.data.functions)
    sys.stdout.flush()
    sys.stderr.flush()
    read_end, write_end = os.pipe()
    pid = os.fork()
    if pid == 0:  # the child: solve, report, and never return into the caller's code
        try:
            os.close(read_end)
            _solve_and_send(model, replace(options, progress=None), start, columns, functions, write_end)
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
    kill_at = float("inf") if deadline is None else deadline + 0.4 * max(0.1 * options.time_limit, 2.0)
    data, records = b"", []
    try:
        while True:
            now = time.perf_counter()
            if state["interrupted"]:
                kill_at = min(kill_at, now + CTRL_C_GRACE)  # the child stops at HiGHS's next callback, or is killed
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
                    if options.progress is not None and records[-1][0] == "plan":
                        plan, bound = records[-1][1]
                        options.progress(Progress("solving", 0.0, verify(instance, plan).objective, bound))
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
    solve_time = time.perf_counter() - began
    for _, (plan, bound) in reversed([r for r in records if r[0] == "plan"]):
        if verify(instance, plan).feasible:
            return Solution.from_plan(instance, plan, Status.FEASIBLE, bound=bound, solve_time=solve_time,
                                      interrupted=state["interrupted"],
                                      message="interrupted" if state["interrupted"] else
                                      f"{why}; HiGHS abandoned, returned its best verified plan so far")
    return Solution(instance, Status.TIMEOUT, solve_time=solve_time, interrupted=state["interrupted"],
                    message=f"{why} before any plan was found")


def _solve_and_send(model: DirectModel, options: SolveOptions, start, columns, functions, fd: int) -> None:
    """In the forked child: solve, sending ('plan', (plan, bound)) per improving plan, then ('result', ...)."""

    def send(record) -> None:
        blob = pickle.dumps(record)
        view = memoryview(len(blob).to_bytes(8, "little") + blob)
        while view:
            view = view[os.write(fd, view):]

    if SCHEDULER["threads"] is not None:  # the parent's HiGHS worker threads do not exist here
        import highspy

        highspy.Highs.resetGlobalScheduler(False)
        SCHEDULER["threads"] = None
    highs = model.highs
    staged = bool(model.matrix.levels)  # priority stages: HiGHS's bound is of a stage's objective

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
