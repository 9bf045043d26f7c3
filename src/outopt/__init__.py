"""outopt: decide which business functions to keep in-house and which to give to vendors.

The public API an analyst uses from a notebook::

    import outopt
    inst = outopt.load("instances/small_business.yaml")
    sol = outopt.solve(inst, time_limit=30)
    sol.status, sol.objective, sol.assignments
    outopt.verify(inst, sol.plan)
    outopt.write_results(sol, "report.html")   # or .xlsx, .csv, .json
"""

from outopt.analysis.diagnose import Diagnosis, diagnose
from outopt.analysis.explain import Explanation, explain
from outopt.errors import InputError, OutoptError, PlanError, Problem, SolverError
from outopt.generate import generate
from outopt.io import load, save
from outopt.io.limits import ReadLimits
from outopt.io.results import write_results
from outopt.schema import (
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
    Rules,
    Soft,
    Vendor,
    VendorGroup,
)
from outopt.solution import Solution, Status
from outopt.solver import Model, SolveOptions, build, solve
from outopt.validation import check_instance
from outopt.verify import Verification, status_quo, verify
from outopt.company import Company, CompanyVerification, load_company, verify_company
from outopt.company_solver import CompanySolution, build_company, solve_company
from outopt.batch import BatchResult, solve_many
from outopt.analysis.alternatives import alternatives
from outopt.analysis.frontier import frontier
from outopt.analysis.pareto import pareto
from outopt.analysis.scenarios import apply_overrides, compare

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
]
