"""Net benefit against risk: the efficient plans, by the epsilon-constraint method.

A plan's risk is the spend-weighted risk score of its outsourced spend (models/portfolio.md,
"Risk"). Its limit ``risk <= eps`` is linear for a fixed ``eps``::

    sum_{(f,v)} (r_fv - eps) s_fv x_fv + sum_v (r_v - eps) a_v y_v <= 0

which :func:`add_max_risk` adds to a built model with ``eps`` as the mutable parameter
``max_risk_limit``. The frontier is traced by the sweep of :mod:`outopt.analysis.frontier`
with ``eps`` as the limit: starting from the best plan, each next ``eps`` lies just below the
risk of the last plan found (the adaptive epsilon-constraint method), and among plans of
equal benefit the one of least risk is kept. Each plan found is efficient: no plan has at
least its benefit and less risk. Risks closer than the tolerance count as one.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

import pyomo.environ as pyo

from outopt.analysis._subject import build_any, flat_plan, label_of, subject_of
from outopt.analysis.frontier import Frontier, step_figure, sweep, write_figure
from outopt.errors import InputError, Problem
from outopt.instance.schema import INHOUSE, Company, Instance
from outopt.solver import SolveOptions
from outopt.solver.interrupts import unless_interrupted


def risk_scores(instance: Instance) -> tuple[dict[tuple[str, str], float], dict[str, float]]:
    """Risk of each offer (its own, else its vendor's, else 0) and of each vendor's retainer."""
    vendors = {v.id: v.risk or 0.0 for v in instance.vendors}
    offers = {(o.function, o.vendor): (o.risk if o.risk is not None else vendors[o.vendor]) for o in instance.offers}
    return offers, vendors


def add_max_risk(model, limit: float = 1.0) -> None:
    """Risk limit: sum_A (r_fv - eps) s_fv x_fv + sum_{V^E} (r_v - eps) a_v y_v <= 0 (component ``max_risk``);
    of a company, the offers of every division and each vendor's one retainer (its engagement company-wide)."""
    m = model.pyomo
    m.max_risk_limit = pyo.Param(initialize=limit, mutable=True, doc="risk limit eps")
    eps = m.max_risk_limit
    expr = 0.0
    for scope in subject_of(model).scopes():
        r_offer, _ = risk_scores(scope.instance)
        data = scope.data
        expr += sum((r_offer[p] - eps) * data.spend[p] * scope.block.outsource[p] for p in data.pairs if data.spend[p])
    expr += sum((risk - eps) * retainer * engage for engage, retainer, risk in _retainers(model) if retainer)
    m.max_risk = pyo.Constraint(expr=expr <= 0, doc="spend-weighted risk at most eps")


def _retainers(model) -> list[tuple]:
    """(engagement variable, retainer, risk score) of each vendor whose engagement pays a retainer."""
    if isinstance(model.instance, Company):
        cd = model.cdata
        return [(model.pyomo.engage[v], cd.retainer[v], model.instance.vendor_risk(v)) for v in cd.vendors]
    _, r_vendor = risk_scores(model.instance)
    retainer = {v.id: v.retainer for v in model.instance.vendors}
    return [(model.pyomo.engage[v], retainer[v], r_vendor[v]) for v in model.data.engaged_vendors]


@dataclass(frozen=True)
class RiskLimit:
    """The risk limit as a sweepable limit (see :func:`outopt.analysis.frontier.sweep`)."""

    path: str = "risk"
    integer: bool = False
    top: float = 1.0

    def instance_at(self, instance: Instance | Company, value: float) -> Instance | Company:
        return instance  # the limit lives in the model only; plans are checked against it below

    def clean(self, value: float) -> float:
        return float(value)

    def set(self, model, value: float) -> None:
        model.pyomo.max_risk_limit.set_value(float(value))

    def requirement(self, check) -> float:
        return check.risk


@dataclass
class EfficientPlan:
    objective: float
    risk: float
    plan: dict = field(repr=False)  # a company's by division

    @property
    def vendors(self) -> list[str]:
        return sorted({p for p in flat_plan(self.plan).values() if p != INHOUSE})

    @property
    def assignments(self) -> list[dict]:
        return [{**label_of(f), "provider": p} for f, p in flat_plan(self.plan).items()]


def efficient(plans: list[EfficientPlan], tol: float = 1e-9) -> list[EfficientPlan]:
    """Drop dominated plans (another has at least the benefit and at most the risk, one strictly); by risk."""
    keep = []
    for p in plans:
        dominated = any(
            q.objective >= p.objective - tol * max(1, abs(p.objective)) and q.risk <= p.risk + tol
            and (q.objective > p.objective + tol * max(1, abs(p.objective)) or q.risk < p.risk - tol)
            for q in plans
        )
        if not dominated and not any(abs(k.objective - p.objective) <= tol * max(1, abs(p.objective))
                                     and abs(k.risk - p.risk) <= tol for k in keep):
            keep.append(p)
    return sorted(keep, key=lambda p: (p.risk, p.objective))


@dataclass
class Pareto:
    """The efficient plans (least risk first) and the sweep that found them."""

    plans: list[EfficientPlan]
    sweep: Frontier = field(repr=False)
    time: float = 0.0

    def to_dict(self) -> dict:
        return {
            "plans": [
                {"objective": p.objective, "risk": p.risk, "vendors": p.vendors,
                 "assignments": p.assignments}
                for p in self.plans
            ],
            "tolerance": self.sweep.tolerance,
            "exact": self.sweep.exact,
            "complete": self.sweep.complete,
            "points": [{"value": q.value, "objective": q.objective, "status": q.status.value}
                       for q in self.sweep.points],
            "solves": len(self.sweep.points),
            "time": round(self.time, 4),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def plot(self, path) -> None:
        """Best net benefit against the risk limit (PNG or SVG), the efficient plans marked."""
        fig = step_figure(self.sweep, title=f"Net benefit against risk: {len(self.plans)} efficient plans",
                          xlabel="risk limit (spend-weighted risk score)")
        ax = fig.axes[0]
        ax.plot([p.risk for p in self.plans], [p.objective for p in self.plans], "s", color="tab:green",
                markersize=5, label="efficient plans")
        ax.legend(loc="lower right", fontsize=8)
        write_figure(fig, path)

    def __repr__(self) -> str:
        return f"<Pareto: {len(self.plans)} efficient plans, {len(self.sweep.points)} solves, {self.time:.2f}s>"


def pareto(instance: Instance | Company, points: int = 11, tol: float = 1e-4, options=None, progress=None) -> Pareto:
    """The benefit-risk frontier of ``instance`` (or a company, every division together): every efficient
    plan, least risk first.

    ``points`` risk limits evenly spread from 0 to the risk of the best plan are solved
    too (for the chart); risks within ``tol`` of each other count as one. ``progress``: called with a
    :class:`~outopt.solver.options.Progress` after each solve (points done).
    """
    if points < 2:
        raise InputError([Problem("--points", "need at least 2 points")])
    if not 0 < tol < 1:
        raise InputError([Problem("--tol", "the risk tolerance must be in (0, 1)")])
    options = options or SolveOptions()
    t0 = time.perf_counter()
    deadline = None if options.time_limit is None else t0 + options.time_limit
    model = build_any(instance)
    add_max_risk(model, 1.0)
    best = unless_interrupted(model.solve(
        options if deadline is None else replace(options, time_limit=max(0.01, deadline - time.perf_counter()))))
    top = best.verification.risk if best.plan is not None else 1.0
    result = sweep(model, instance, RiskLimit(), 0.0, max(top, tol), points, tol, options, deadline=deadline,
                   progress=progress)
    found = []
    subject = subject_of(model)
    for piece in result.pieces:
        check = subject.check(flat_plan(piece.plan), instance)
        assert check.feasible, check.violations
        found.append(EfficientPlan(check.objective, check.risk, piece.plan))
    return Pareto(efficient(found), result, time.perf_counter() - t0)
