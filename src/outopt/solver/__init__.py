"""The search: the HiGHS driver (:mod:`~outopt.solver.highs`), the whole time-limited solve
(:mod:`~outopt.solver.pipeline`: reductions, starting plan, build, HiGHS, in a forked child for large
models, :mod:`~outopt.solver.child`), the starting-plan heuristic, the typed result
(:mod:`~outopt.solver.solution`) and the company solvers (:mod:`~outopt.solver.company`, joint;
:mod:`~outopt.solver.decompose`, Lagrangian)."""

from outopt.solver.highs import WORKER_THREAD, Model, build, stdout_to_stderr
from outopt.solver.options import SolveOptions
from outopt.solver.entry import solve  # a roadmap to solver.roadmap, any other instance to solver.pipeline
from outopt.solver.solution import Solution, Status

__all__ = ["WORKER_THREAD", "Model", "SolveOptions", "Solution", "Status", "build", "solve", "stdout_to_stderr"]
