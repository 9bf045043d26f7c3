"""outopt: decide which business functions to keep in-house and which to give to vendors.

The public API an analyst uses from a notebook::

    import outopt
    inst = outopt.load("instances/small_business.yaml")
    sol = outopt.solve(inst, time_limit=30)
    sol.status, sol.objective, sol.assignments
    outopt.verify(inst, sol.plan)
    outopt.write_results(sol, "report.html")   # or .xlsx, .csv, .json
"""

import importlib
from importlib.util import find_spec
from typing import TYPE_CHECKING

import outopt.solver as _solver
from outopt.errors import InputError, OutoptError, PlanError, Problem, SolverError

if TYPE_CHECKING:
    from outopt.instance.schema import Instance
    from outopt.solver.solution import Solution

# Imported on first use: ``import outopt`` (and ``outopt --help``) loads none of pydantic, Pyomo, pandas,
# numpy, matplotlib or Dask; each name brings what it needs.
_LAZY = {
    "outopt.instance.schema": ("INHOUSE", "Budget", "Bundle", "DiscountTier", "Exclusive", "Forbid", "Function",
                               "InHouse", "Instance", "Lock", "Offer", "Requires", "Resource", "Roadmap",
                               "RoadmapBudget", "Rules", "Soft", "Vendor", "VendorGroup"),
    "outopt.instance.generate": ("generate",),
    "outopt.instance.io": ("load", "save"),
    "outopt.instance.io.limits": ("ReadLimits",),
    "outopt.instance.validation": ("check_instance",),
    "outopt.solver": ("Model", "Solution", "SolveOptions", "Status", "build"),
    "outopt.verifier": ("Verification", "status_quo", "verify"),
    "outopt.analysis.diagnose": ("Diagnosis", "diagnose"),
    "outopt.analysis.explain": ("Explanation", "explain"),
    "outopt.report.files": ("write_results",),
    "outopt.instance.company": ("Company", "load_company"),
    "outopt.verifier.company": ("CompanyVerification", "verify_company"),
    "outopt.solver.company": ("CompanySolution", "build_company", "solve_company"),
    "outopt.batch": ("BatchResult", "solve_many"),
    "outopt.analysis.alternatives": ("alternatives",),
    "outopt.analysis.frontier": ("frontier",),
    "outopt.analysis.pareto": ("pareto",),
    "outopt.analysis.scenarios": ("apply_overrides", "compare"),
    "outopt.uncertainty": ("Measure", "RiskResult", "RobustSolution", "draw", "read_samples", "risk", "solve_robust"),
    "outopt.verifier.roadmap": ("RoadmapVerification", "verify_roadmap"),
    "outopt.solver.roadmap": ("RoadmapSolution", "build_roadmap", "solve_roadmap"),
    "outopt.analysis.roadmap": ("RoadmapExplanation", "explain_roadmap", "roadmap_frontier"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def solve(instance: "Instance", *args, robust: str | None = None, samples=None, **kwargs) -> "Solution":
    """Solve an instance: :func:`outopt.solver.solve` (``time_limit``, ``gap``, ``threads``, ``seed``,
    ``options``). With ``robust`` (``"mean"``, ``"cvar:0.1"``, ``"mean-cvar:0.1:0.5"``), the plan with the best
    measure of its net benefit over ``samples`` scenarios of the instance's ranges (a count, default 200, a
    CSV file's path or a DataFrame): :func:`outopt.uncertainty.solve_robust`, a ``RobustSolution``."""
    if robust is None:
        if samples is not None:
            raise TypeError("samples= goes with robust= (the measure to maximise over the scenarios)")
        return _solver.solve(instance, *args, **kwargs)
    from outopt.uncertainty.assess import solve_robust

    return solve_robust(instance, robust, 200 if samples is None else samples, *args, **kwargs)


def version() -> str:
    """outopt's version, as installed (pyproject.toml's ``version``)."""
    from importlib.metadata import PackageNotFoundError
    from importlib.metadata import version as installed

    try:
        return installed("outopt")
    except PackageNotFoundError:  # run from a source tree that was never installed
        return "unknown (not installed)"


def __getattr__(name: str):
    """A name of the API from a module not imported yet, or a submodule (``outopt.analysis``), imported now."""
    if name == "__version__":
        return version()
    module = _LAZY_NAMES.get(name)
    if module is not None:
        value = getattr(importlib.import_module(module), name)
        globals()[name] = value
        return value
    if not name.startswith("_") and find_spec(f"{__name__}.{name}") is not None:
        return importlib.import_module(f"{__name__}.{name}")
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")


def __dir__() -> list[str]:
    return sorted(set(globals()) | set(_LAZY_NAMES))


__all__ = [
    "INHOUSE", "Budget", "Function", "InHouse", "Instance", "Offer", "Resource", "Rules", "Vendor",
    "Bundle", "DiscountTier", "Exclusive", "Forbid", "Lock", "Requires", "Soft", "VendorGroup",
    "InputError", "OutoptError", "PlanError", "Problem", "SolverError",
    "Model", "ReadLimits", "SolveOptions", "Solution", "Status", "Verification",
    "build", "check_instance", "generate", "load", "save", "solve", "status_quo", "verify", "write_results",
    "Company", "CompanySolution", "CompanyVerification", "build_company", "load_company", "solve_company",
    "verify_company", "BatchResult", "solve_many",
    "Diagnosis", "Explanation", "diagnose", "explain",
    "alternatives", "apply_overrides", "compare", "frontier", "pareto",
    "Measure", "RiskResult", "RobustSolution", "draw", "read_samples", "risk", "solve_robust",
    "Roadmap", "RoadmapBudget", "RoadmapExplanation", "RoadmapSolution", "RoadmapVerification", "build_roadmap",
    "explain_roadmap", "roadmap_frontier", "solve_roadmap", "verify_roadmap",
]
