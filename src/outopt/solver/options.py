"""The options of a solve: one object that steers it, with the solver injected (HiGHS is the default)."""

from __future__ import annotations

from dataclasses import dataclass


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

