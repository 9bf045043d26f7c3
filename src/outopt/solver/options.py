"""The options of a solve: one object that steers it, with the solver injected (HiGHS is the default)."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from dataclasses import dataclass


@dataclass(frozen=True)
class Progress:
    """Where a running solve is, as reported to ``SolveOptions.progress`` (from the thread doing the work:
    keep the callback short; the CLI draws a live line from it).

    phase: what is being done ("reducing", "searching for a starting plan", "building the model",
        "solving", "solving the LP relaxation", "searching sub-problems", ...).
    elapsed: seconds since the call started.
    objective: the best verified plan's net benefit so far (None: no plan yet).
    bound: the best proven bound on the net benefit so far (None: none yet).
    """

    phase: str
    elapsed: float
    objective: float | None = None
    bound: float | None = None

    @property
    def gap(self) -> float | None:
        """Relative gap of the best plan to the bound, as :class:`~outopt.solver.solution.Solution` has it."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.bound - self.objective) / max(1.0, abs(self.objective))


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
    heuristic: seconds at most for a starting plan from :mod:`outopt.solver.heuristic` (0 = none;
        ``solve`` only); the plan is returned if the solver finds nothing better.
    started: ``time.perf_counter()`` at which the time limit starts counting (None = the call's
        start); the CLI sets it before reading the file, so reading counts too.
    progress: called with a :class:`Progress` at each phase and each better plan or bound (None: silent).
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
    progress: Callable[[Progress], None] | None = None

    def __post_init__(self):
        if self.solver != "highs":
            raise ValueError(f"solver '{self.solver}' is not supported; use 'highs'")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError("time_limit must be positive seconds")
        if not 0 <= self.gap < 1:
            raise ValueError("gap must be in [0, 1)")


def merged_progress(callback: Callable[[Progress], None] | None, t0: float) -> Callable[[Progress], None] | None:
    """A progress callback for the parts of one call: elapsed time counted from ``t0``, and the best
    objective (highest) and bound (lowest) reported by any part kept, so the line never goes back."""
    if callback is None:
        return None
    best: dict[str, float] = {}
    lock = threading.Lock()

    def report(p: Progress) -> None:
        with lock:
            if p.objective is not None and p.objective > best.get("objective", -float("inf")):
                best["objective"] = p.objective
            if p.bound is not None and p.bound < best.get("bound", float("inf")):
                best["bound"] = p.bound
            callback(Progress(p.phase, time.perf_counter() - t0, best.get("objective"), best.get("bound")))

    return report
