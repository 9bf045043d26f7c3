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

from outopt.errors import InputError, OutoptError, PlanError, Problem, SolverError
from outopt.instance.generate import generate
from outopt.instance.io import load, save
from outopt.instance.io.limits import ReadLimits
from outopt.instance.schema import (
    INHOUSE,
    Budget,
    Bundle,
    DiscountTier,
    Exclusive,
    Forbid,
    Function,
    InHouse,
    Instance,
    Lock,
    Offer,
    Requires,
    Resource,
    Roadmap,
    RoadmapBudget,
    Rules,
    Soft,
    Vendor,
    VendorGroup,
)
from outopt.instance.validation import check_instance
from outopt.solver import Model, Solution, SolveOptions, Status, build, solve
from outopt.verifier import Verification, status_quo, verify

# Imported on first use (they bring pandas, matplotlib, dask, ...; reading and solving need none of them).
_LAZY = {
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
    "outopt.verifier.roadmap": ("RoadmapVerification", "verify_roadmap"),
    "outopt.solver.roadmap": ("RoadmapSolution", "build_roadmap", "solve_roadmap"),
    "outopt.analysis.roadmap": ("RoadmapExplanation", "explain_roadmap", "roadmap_frontier"),
}
_LAZY_NAMES = {name: module for module, names in _LAZY.items() for name in names}


def __getattr__(name: str):
    """A name of the API from a module not imported yet, or a submodule (``outopt.analysis``), imported now."""
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
    "Roadmap", "RoadmapBudget", "RoadmapExplanation", "RoadmapSolution", "RoadmapVerification", "build_roadmap",
    "explain_roadmap", "roadmap_frontier", "solve_roadmap", "verify_roadmap",
]
