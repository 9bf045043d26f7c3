"""The search: the HiGHS driver (:mod:`~outopt.solver.highs`), the whole time-limited solve
(:mod:`~outopt.solver.pipeline`: reductions, starting plan, build, HiGHS, in a forked child for large
models, :mod:`~outopt.solver.child`), the starting-plan heuristic, the typed result
(:mod:`~outopt.solver.solution`) and the company solvers (:mod:`~outopt.solver.company`, joint;
:mod:`~outopt.solver.decompose`, Lagrangian).

The names below are imported on first use, so that :mod:`~outopt.solver.options` and
:mod:`~outopt.solver.interrupts` (what the command line needs before any solve) load alone.
"""

import importlib

_WHERE = {
    "WORKER_THREAD": "outopt.solver.interrupts",
    "Model": "outopt.solver.highs",
    "build": "outopt.solver.highs",
    "stdout_to_stderr": "outopt.solver.highs",
    "SolveOptions": "outopt.solver.options",
    "solve": "outopt.solver.entry",  # a roadmap to solver.roadmap, any other instance to solver.pipeline
    "Solution": "outopt.solver.solution",
    "Status": "outopt.solver.solution",
}


def __getattr__(name: str):
    module = _WHERE.get(name)
    if module is None:
        raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
    value = getattr(importlib.import_module(module), name)
    globals()[name] = value
    return value


__all__ = ["WORKER_THREAD", "Model", "SolveOptions", "Solution", "Status", "build", "solve", "stdout_to_stderr"]
