"""The typed results of a solve, of an instance (:class:`Solution`) or a company (:class:`CompanySolution`):
status, objective, bound, gap, times and tables keyed by ids."""

from __future__ import annotations

import json
import math
from dataclasses import dataclass, field
from enum import Enum
from typing import TYPE_CHECKING

from outopt.errors import PlanError
from outopt.instance.company import Company, CompanyPlan, division_view
from outopt.instance.numerics import plain
from outopt.instance.schema import INHOUSE, Instance
from outopt.verifier.company import CompanyVerification, verify_company
from outopt.verifier.portfolio import Verification, status_quo, verify

if TYPE_CHECKING:  # pandas is imported by the tables below, when asked for: solving needs none
    import pandas as pd


class Status(str, Enum):
    """How a solve ended, as the JSON spells it."""

    OPTIMAL = "optimal"  # proven optimal within the relative gap asked for
    FEASIBLE = "feasible"  # a limit was reached with a plan; bound and gap say how good it is
    INFEASIBLE = "infeasible"  # no plan satisfies every rule
    TIMEOUT = "timeout"  # no plan found within the limit

    def __str__(self) -> str:
        return self.value

    @property
    def has_plan(self) -> bool:
        return self in (Status.OPTIMAL, Status.FEASIBLE)

    @property
    def exit_code(self) -> int:
        return {Status.OPTIMAL: 0, Status.FEASIBLE: 0, Status.INFEASIBLE: 3, Status.TIMEOUT: 4}[self]


def _plain(x: float | None) -> float | None:
    """A figure for the JSON: never -0.0 (read as a loss)."""
    return None if x is None else plain(x)


def relative_gap(objective: float | None, bound: float | None) -> float | None:
    """|bound - objective| / max(1, |objective|), HiGHS's definition; None without a plan or bound."""
    if objective is None or bound is None or not math.isfinite(bound):
        return None
    return abs(bound - objective) / max(1.0, abs(objective))


@dataclass
class Solution:
    """A plan and how it was found.

    ``objective`` is the verifier's recomputation of the plan's net yearly benefit
    against keeping every function in-house; ``bound`` is the solver's proven upper
    bound on it. ``assignments`` has one row per function.
    """

    instance: Instance
    status: Status
    plan: dict[str, str] | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    solve_time: float = 0.0  # seconds in the solver
    total_time: float = 0.0  # seconds for the whole call: build, solve, verify
    interrupted: bool = False
    message: str = ""
    verification: Verification | None = field(default=None, repr=False)

    @classmethod
    def from_plan(cls, instance: Instance, plan: dict[str, str], status: Status, **kw) -> "Solution":
        """A solution for a plan, verified (``verification=``: the verifier's check of this plan, when the
        caller has it); raises :class:`PlanError` if the plan breaks a rule."""
        check = kw.pop("verification", None) or verify(instance, plan)
        if not check.feasible:
            raise PlanError("plan failed verification: " + "; ".join(check.violations))
        kw.setdefault("gap", relative_gap(check.objective, kw.get("bound")))
        return cls(instance=instance, status=status, plan=dict(plan), objective=check.objective,
                   verification=check, **kw)

    # --- tables ---------------------------------------------------------------------
    @property
    def assignments(self) -> pd.DataFrame:
        """One row per function: provider, yearly cost, one-off cost, yearly benefit, current provider, changed."""
        import pandas as pd

        cols = ["function", "name", "provider", "yearly_cost", "one_off", "benefit", "current", "changed"]
        if self.verification is None:
            return pd.DataFrame(columns=cols)
        quo = status_quo(self.instance) or {}
        names = {f.id: f.name or f.id for f in self.instance.functions}
        rows = []
        for r in self.verification.rows:
            cur = quo.get(r["function"])
            rows.append({**r, "name": names[r["function"]], "current": cur, "changed": cur is not None and cur != r["provider"]})
        return pd.DataFrame(rows, columns=cols)

    @property
    def vendor_spend(self) -> pd.DataFrame:
        """Yearly spend and load per engaged vendor."""
        import pandas as pd

        v = self.verification
        if v is None:
            return pd.DataFrame(columns=["vendor", "spend", "load", "functions"])
        counts = {p: sum(1 for q in self.plan.values() if q == p) for p in v.engaged}
        return pd.DataFrame(
            [{"vendor": k, "spend": v.spend[k], "load": v.vendor_load[k], "functions": counts[k]} for k in v.engaged],
            columns=["vendor", "spend", "load", "functions"],
        )

    @property
    def soft_violations(self) -> pd.DataFrame:
        """One row per broken soft rule: rule (its place in the file), amount, unit, penalty, cost, priority, reason."""
        import pandas as pd

        cols = ["rule", "amount", "unit", "penalty", "cost", "priority", "reason", "detail"]
        rows = self.verification.soft_violations if self.verification is not None else []
        return pd.DataFrame(rows, columns=cols)

    def totals(self) -> dict:
        """The plan against all in-house and against the status quo."""
        if self.verification is None:
            return {}
        inst = self.instance
        all_inhouse_cost = sum(f.inhouse.cost for f in inst.functions if f.inhouse)
        out = {
            "operating_cost": self.verification.operating_cost,
            "transition_cost": self.verification.transition_cost,
            "all_inhouse_operating_cost": all_inhouse_cost,
            "net_benefit_vs_all_inhouse": self.objective,
            "vendors_engaged": len(self.verification.engaged),
            "functions_outsourced": sum(1 for p in self.plan.values() if p != INHOUSE),
        }
        v = self.verification
        if v.penalty or v.soft_violations:
            out["soft_penalty"] = v.penalty
            out["net_benefit_before_penalties"] = v.net_benefit
        if v.discounts:
            out["volume_discounts"] = sum(v.discounts.values())
        if v.bundle_savings:
            out["bundle_savings"] = sum(v.bundle_savings.values())
        quo = status_quo(inst)
        if quo is not None:
            base = verify(inst, quo)
            out["status_quo_operating_cost"] = base.operating_cost
            out["status_quo_net_benefit"] = base.objective
            out["net_benefit_vs_status_quo"] = self.objective - base.objective
            out["status_quo_feasible"] = base.feasible
            out["functions_changed"] = sum(1 for f, p in self.plan.items() if quo.get(f) != p)
        return out

    def explain(self, **kw) -> pd.DataFrame:
        """Why this plan: one row per function (provider, runner-up, regret, the other decisions that change);
        ``attrs["offers"]`` holds break-even costs and ``attrs["limits"]`` the binding limits.
        Re-solves the instance (see :func:`outopt.analysis.explain.explain`, which keyword arguments go to)."""
        from outopt.analysis.explain import explain

        return explain(self.instance, solution=self, **kw).frame()

    # --- output ---------------------------------------------------------------------
    def to_dict(self) -> dict:
        assignments = []
        if self.verification is not None:
            for row in self.assignments.to_dict("records"):
                assignments.append({k: row[k] for k in ("function", "provider", "yearly_cost", "one_off", "benefit", "changed")})
        return {
            "instance": self.instance.name,
            "currency": self.instance.currency,
            "status": self.status.value,
            "objective": _plain(self.objective),
            "bound": _plain(self.bound),
            "gap": _plain(self.gap),
            "solve_time": round(self.solve_time, 4),
            "total_time": round(self.total_time, 4),
            "interrupted": self.interrupted,
            "message": self.message,
            "assignments": assignments,
            "soft_violations": [dict(r) for r in self.verification.soft_violations] if self.verification else [],
            "totals": self.totals(),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)

    # --- notebooks ------------------------------------------------------------------
    def _repr_html_(self) -> str:
        """A rich table in Jupyter: status, net benefit and the decisions."""
        from outopt.report.html import notebook_html

        return notebook_html(self)

    @property
    def plot(self):
        """Charts: ``sol.plot()`` (all), ``sol.plot("spend")``, ``sol.plot.waterfall()``, ``.resources()``."""
        from outopt.report.charts import SolutionPlots

        return SolutionPlots(self)

    def __repr__(self) -> str:
        obj = "-" if self.objective is None else f"{self.objective:,.2f} {self.instance.currency}/yr"
        gap = "" if self.gap is None else f", gap {self.gap:.3%}"
        n = "" if self.plan is None else f", {sum(p != INHOUSE for p in self.plan.values())} of {len(self.plan)} outsourced"
        return f"<Solution {self.instance.name!r}: {self.status.value}, net benefit {obj}{gap}{n}, {self.total_time:.2f}s>"


def _json_default(obj):
    if hasattr(obj, "item"):  # numpy scalars
        return obj.item()
    raise TypeError(f"not JSON serialisable: {type(obj).__name__}")


@dataclass
class CompanySolution:
    """A company plan and how it was found; ``objective`` is the company verifier's recomputation."""

    company: Company
    status: Status
    plans: CompanyPlan | None = None
    objective: float | None = None
    bound: float | None = None
    gap: float | None = None
    method: str = "joint"
    solve_time: float = 0.0
    total_time: float = 0.0
    interrupted: bool = False
    message: str = ""
    verification: CompanyVerification | None = field(default=None, repr=False)
    value_of_coordination: dict | None = None
    iterations: int | None = None  # decomposition only

    @classmethod
    def from_plans(cls, company: Company, plans: CompanyPlan, status: Status, **kw) -> "CompanySolution":
        check = verify_company(company, plans)
        if not check.feasible:
            raise PlanError("company plan failed verification: " + "; ".join(check.violations))
        kw.setdefault("gap", relative_gap(check.objective, kw.get("bound")))
        return cls(company=company, status=status, plans={d: dict(p) for d, p in plans.items()},
                   objective=check.objective, verification=check, **kw)

    @property
    def instance(self) -> Company:
        """What the plan is judged against (the name analyses and reports share with :class:`Solution`)."""
        return self.company

    @property
    def plan(self) -> CompanyPlan | None:
        """The plan, division by division (the name analyses share with :class:`Solution`)."""
        return self.plans

    def division_solutions(self) -> dict[str, Solution]:
        """Each division's part of the plan as a :class:`Solution` of the division as the company sees it
        (retainers and onboarding are corporate: 0 in the division), with the company verifier's figures;
        the status is the company's. Empty without a plan."""
        if self.verification is None:
            return {}
        return {d.id: Solution(division_view(d.instance), self.status, plan=dict(self.plans[d.id]),
                               objective=self.verification.divisions[d.id].objective,
                               verification=self.verification.divisions[d.id])
                for d in self.company.divisions}

    @property
    def assignments(self) -> pd.DataFrame:
        """One row per (division, function): provider, yearly cost, one-off cost, benefit (retainers are corporate)."""
        import pandas as pd

        cols = ["division", "function", "provider", "yearly_cost", "one_off", "benefit"]
        if self.verification is None:
            return pd.DataFrame(columns=cols)
        rows = [{"division": d, **r} for d, check in self.verification.divisions.items() for r in check.rows]
        return pd.DataFrame(rows, columns=cols)

    def division_table(self) -> pd.DataFrame:
        """Per division: net benefit (before corporate retainers), costs, functions outsourced, vendors used."""
        import pandas as pd

        cols = ["division", "name", "net_benefit", "operating_cost", "transition_cost", "functions_outsourced", "vendors"]
        if self.verification is None:
            return pd.DataFrame(columns=cols)
        rows = []
        for d in self.company.divisions:
            check = self.verification.divisions[d.id]
            rows.append({
                "division": d.id, "name": d.instance.name, "net_benefit": check.objective,
                "operating_cost": check.operating_cost, "transition_cost": check.transition_cost,
                "functions_outsourced": sum(p != INHOUSE for p in self.plans[d.id].values()),
                "vendors": ", ".join(check.engaged),
            })
        return pd.DataFrame(rows, columns=cols)

    def totals(self) -> dict:
        v = self.verification
        if v is None:
            return {}
        all_inhouse = sum(f.inhouse.cost for d in self.company.divisions for f in d.instance.functions if f.inhouse)
        return {
            "operating_cost": v.operating_cost,
            "transition_cost": v.transition_cost,
            "all_inhouse_operating_cost": all_inhouse,
            "net_benefit_vs_all_inhouse": v.objective,
            "retainers": sum(self.company.vendor_terms()[w][0] for w in v.engaged),
            "vendors_engaged": len(v.engaged),
            "functions_outsourced": sum(p != INHOUSE for plan in self.plans.values() for p in plan.values()),
        }

    def to_dict(self) -> dict:
        assignments = self.assignments.to_dict("records") if self.verification is not None else []
        return {
            "instance": self.company.name,
            "currency": self.company.currency,
            "status": self.status.value,
            "objective": _plain(self.objective),
            "bound": _plain(self.bound),
            "gap": _plain(self.gap),
            "method": self.method,
            "solve_time": round(self.solve_time, 4),
            "total_time": round(self.total_time, 4),
            "interrupted": self.interrupted,
            "message": self.message,
            "assignments": assignments,
            "soft_violations": [] if self.verification is None else [
                {"division": d, **dict(r)} for d, c in self.verification.divisions.items() for r in c.soft_violations],
            "divisions": self.division_table().to_dict("records"),
            "totals": self.totals(),
            "vendors_engaged": [] if self.verification is None else self.verification.engaged,
            "value_of_coordination": self.value_of_coordination,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent, default=_json_default)

    def __repr__(self) -> str:
        obj = "-" if self.objective is None else f"{self.objective:,.2f} {self.company.currency}/yr"
        gap = "" if self.gap is None else f", gap {self.gap:.3%}"
        return (f"<CompanySolution {self.company.name!r}: {self.status.value} ({self.method}), net benefit {obj}{gap}, "
                f"{len(self.company.divisions)} divisions, {self.total_time:.2f}s>")


def company_status_quo(company: Company) -> CompanyPlan | None:
    plans = {}
    for d in company.divisions:
        quo = status_quo(d.instance)
        if quo is None:
            return None
        plans[d.id] = quo
    return plans
