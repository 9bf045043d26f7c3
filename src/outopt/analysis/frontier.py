"""The frontier of one numeric limit: the best net benefit as the limit moves through a range.

Every limit outopt can sweep bounds a *requirement* of the plan: its recurring cost
(``budget.operating``), its one-off cost (``budget.transition``), its use of a resource,
its load at a vendor, a vendor's share of outsourced spend, its number of vendors. A plan
is allowed at limit ``t`` exactly when its requirement is at most ``t``, so the optimal
net benefit ``z(t)`` is a non-decreasing step function that jumps only where ``t`` equals
the requirement of some plan.

The sweep is exact up to a stated tolerance ``tol``. It solves at the top of the range,
then walks down: with the plan ``P`` optimal at the current piece, whose requirement is
``c``, it solves at ``c - tol``. Same net benefit: a cheaper plan of equal value, continue
from its requirement. Lower net benefit: ``z`` jumps at ``c`` (a breakpoint, found
exactly at the requirement of a plan), continue from the new plan. Infeasible: the range
below ``c`` has no plan. (With soft rules in priority levels, "value" is the solver's
lexicographic order: least violation level by level, then net benefit.) Every breakpoint of
``z`` in the range lies within ``tol`` of a
reported one; two breakpoints closer than ``tol`` are reported as one. (When a plan a hair over
the limit comes back, within the tolerance of the numerical policy, models/portfolio.md, the step
below ``c`` is doubled until the plan found is within the limit; the breakpoint stays at ``c``.)

The model is built once; each point changes the limit's mutable ``*_limit`` parameter
and re-solves the same model (HiGHS keeps it), warm-started from the neighbouring plan: the
best plan solved so far that fits under the new value. The grid points are solved first,
bottom up, so every later point has such a plan.
"""

from __future__ import annotations

import io
import json
import math
import time
from dataclasses import dataclass, field, replace

import numpy as np
import pandas as pd

from outopt.analysis._subject import build_any, flat_plan, label_of
from outopt.analysis.limits import usage_of
from outopt.errors import InputError, Problem
from outopt.instance.io.atomic import atomic_write_bytes
from outopt.instance.schema import Company, Instance
from outopt.solver import SolveOptions
from outopt.solver.options import Tally
from outopt.solver.solution import Status
from outopt.verifier.portfolio import Verification

LIMITS = {
    "budget.operating": "operating_budget_limit",
    "budget.transition": "transition_budget_limit",
    "resources.capacity": "resource_capacity_limit",
    "vendors.capacity": "vendor_capacity_limit",
    "vendors.max_share": "max_share_limit",
    "rules.max_vendors": "max_vendors_limit",
}
PARAMS_HELP = ("budget.operating, budget.transition, resources.<id>.capacity, vendors.<id>.capacity, "
               "vendors.<id>.max_share, rules.max_vendors")


@dataclass(frozen=True)
class Limit:
    """A numeric limit of an instance, by its path (``resources.finance_staff.capacity``)."""

    path: str
    kind: str  # a key of LIMITS
    key: str | None = None  # resource or vendor id
    integer: bool = False
    top: float | None = None  # largest allowed value (max_share: 1)

    @property
    def component(self) -> str:
        return LIMITS[self.kind]

    def instance_at(self, instance: Instance, value: float) -> Instance:
        """The instance with the limit at ``value``, and hard (validated like a file)."""
        from outopt.analysis.scenarios import apply_overrides

        return apply_overrides(instance, {self.path: self.clean(value), **self.hard(instance)}, where="--param")

    def hard(self, instance: Instance | Company) -> dict:
        """Overrides that make the limit hard when the instance marks it soft: the frontier asks for
        the best plan when the limit is t, so no plan may break it (a company's limits are never soft)."""
        if isinstance(instance, Company):
            return {}
        section, name = self.kind.split(".")
        if section == "resources":
            return {f"resources.{self.key}.soft": None}
        owner = instance.vendor(self.key) if section == "vendors" else getattr(instance, section)
        soft = getattr(owner, "soft", None)
        if not isinstance(soft, dict) or name not in soft:
            return {}
        where = f"vendors.{self.key}.soft" if section == "vendors" else f"{section}.soft"
        return {where: {k: v.model_dump() for k, v in soft.items() if k != name}}

    def clean(self, value: float) -> float:
        return int(round(value)) if self.integer else float(value)

    def set(self, model, value: float) -> None:
        """Change the built model's mutable limit parameter."""
        param = getattr(model.pyomo, self.component)
        if self.key is None:
            param.set_value(self.clean(value))
        else:
            param[self.key] = self.clean(value)

    def requirement(self, check: Verification) -> float:
        """How much of the limit a verified plan takes (from the verifier's figures)."""
        return usage_of(check, self.component, self.key)


def parse_limit(instance: Instance | Company, path: str) -> Limit:
    """The limit a ``--param`` names; unknown names and ids are input errors. A company's are its corporate
    limits: budget.operating, budget.transition, max_vendors, vendors.<id>.capacity, vendors.<id>.max_share."""
    if isinstance(instance, Company):
        return parse_company_limit(instance, path)
    parts = path.strip().split(".")
    bad = InputError([Problem("--param", f"'{path}' is not a limit; use one of {PARAMS_HELP}")])
    if len(parts) == 2:
        kind = ".".join(parts)
        if kind not in ("budget.operating", "budget.transition", "rules.max_vendors"):
            raise bad
        return Limit(path, kind, integer=kind == "rules.max_vendors")
    if len(parts) != 3 or f"{parts[0]}.{parts[2]}" not in LIMITS:
        raise bad
    section, key, field_ = parts
    ids = {r.id for r in instance.resources} if section == "resources" else {v.id for v in instance.vendors}
    if key not in ids:
        raise InputError([Problem("--param", f"{section[:-1]} '{key}' is not in {section}")])
    if section == "vendors" and not any(o.vendor == key for o in instance.offers):
        raise InputError([Problem("--param", f"vendor '{key}' has no offers; its {field_} cannot change the plan")])
    return Limit(path, f"{section}.{field_}", key, top=1.0 if field_ == "max_share" else None)


def parse_company_limit(company: Company, path: str) -> Limit:
    """A corporate limit of a company (see :func:`parse_limit`)."""
    parts = path.strip().split(".")
    if path.strip() in ("budget.operating", "budget.transition"):
        return Limit(path.strip(), path.strip())
    if path.strip() == "max_vendors":
        return Limit("max_vendors", "rules.max_vendors", integer=True)
    if len(parts) == 3 and parts[0] == "vendors" and parts[2] in ("capacity", "max_share"):
        if not any(o.vendor == parts[1] for d in company.divisions for o in d.instance.offers):
            raise InputError([Problem("--param", f"vendor '{parts[1]}' has no offer in any division; its "
                                                 f"{parts[2]} cannot change the plan")])
        return Limit(path.strip(), f"vendors.{parts[2]}", parts[1], top=1.0 if parts[2] == "max_share" else None)
    raise InputError([Problem("--param", f"'{path}' is not a corporate limit; use one of {COMPANY_PARAMS_HELP}")])


COMPANY_PARAMS_HELP = "budget.operating, budget.transition, max_vendors, vendors.<id>.capacity, vendors.<id>.max_share"


# --- results ----------------------------------------------------------------------------


@dataclass
class Point:
    """One solve of the sweep: the limit's value, the status and the plan found."""

    value: float
    objective: float | None
    status: Status
    plan: dict[str, str] | None = field(default=None, repr=False)
    requirement: float | None = None  # how much of the limit the plan takes
    levels: dict[int, float] = field(default_factory=dict, repr=False)  # soft-rule violation by priority level


@dataclass
class Piece:
    """A stretch of the range with one best net benefit, and the plan of that value that takes least."""

    requirement: float  # how much of the limit the plan takes (the piece starts here, or at the range's bottom)
    objective: float
    plan: dict[str, str] = field(repr=False)


@dataclass
class Breakpoint:
    """The limit value at which the best net benefit changes, and the plans either side."""

    at: float
    objective_below: float | None  # None: no plan below
    objective_above: float
    plan_below: dict[str, str] | None = field(default=None, repr=False)
    plan_above: dict[str, str] = field(default_factory=dict, repr=False)

    @property
    def changes(self) -> list[dict]:
        """Functions whose provider differs between the plan below and the plan above (a company's with
        their division)."""
        if self.plan_below is None:
            return []
        below, above = flat_plan(self.plan_below), flat_plan(self.plan_above)
        return [{**label_of(f), "below": below.get(f), "above": p} for f, p in above.items() if below.get(f) != p]

    def to_dict(self) -> dict:
        return {"at": self.at, "objective_below": self.objective_below, "objective_above": self.objective_above,
                "changes": self.changes}


@dataclass
class Frontier:
    """The best net benefit across a range of one limit: breakpoints and every point solved."""

    param: str
    lower: float
    upper: float
    tolerance: float
    breakpoints: list[Breakpoint]
    points: list[Point]
    currency: str = ""
    time: float = 0.0  # seconds for the whole sweep, build included
    build_time: float = 0.0
    complete: bool = True  # False when the solve cap or the time limit stopped the sweep
    pieces: list[Piece] = field(default_factory=list, repr=False)  # ascending, one per value of the step function

    @property
    def exact(self) -> bool:
        """True when every solve was proven optimal (or infeasible) and the sweep completed."""
        return self.complete and all(p.status in (Status.OPTIMAL, Status.INFEASIBLE) for p in self.points)

    @property
    def prioritised(self) -> bool:
        """True when soft rules with priority levels rank plans before net benefit (z may then fall)."""
        return any(p.levels for p in self.points)

    def objective_at(self, value: float) -> float | None:
        """The step function z(value) as found by the sweep (None: no plan)."""
        if not self.lower - 1e-12 <= value <= self.upper + 1e-12:
            raise ValueError(f"{value} is outside [{self.lower}, {self.upper}]")
        z = self.objective_of_top
        for b in reversed(self.breakpoints):
            if value < b.at:
                z = b.objective_below
        return z

    @property
    def objective_of_top(self) -> float | None:
        top = max(self.points, key=lambda p: p.value)
        return top.objective

    @property
    def levels(self) -> list[int]:
        """The priority levels of the soft rules, highest first (none: net benefit alone ranks plans)."""
        return sorted({level for p in self.points for level in p.levels}, reverse=True)

    @property
    def table(self) -> pd.DataFrame:
        """Every point solved: value, objective, with prioritised soft rules each level's weighted violation
        (``priority_2_violation``, ...: the plans are ranked by these first, so where the net benefit falls as
        the limit rises, a violation falls), status, requirement (how much of the limit the plan takes)."""
        levels = [f"priority_{level}_violation" for level in self.levels]
        rows = []
        for p in self.points:
            row = {"value": p.value, "objective": p.objective}
            row.update({c: (p.levels.get(level, 0.0) if p.objective is not None else None)
                        for c, level in zip(levels, self.levels)})
            rows.append({**row, "status": p.status.value, "requirement": p.requirement})
        return pd.DataFrame(rows, columns=["value", "objective", *levels, "status", "requirement"])

    def to_dict(self) -> dict:
        return {
            "param": self.param,
            "lower": self.lower,
            "upper": self.upper,
            "tolerance": self.tolerance,
            "exact": self.exact,
            "complete": self.complete,
            "prioritised": self.prioritised,
            "breakpoints": [b.to_dict() for b in self.breakpoints],
            "points": [{"value": p.value, "objective": p.objective, "status": p.status.value,
                        **({"priority_violations": {str(k): p.levels.get(k, 0.0) for k in self.levels}}
                           if self.levels and p.objective is not None else {})}
                       for p in self.points],
            "solves": len(self.points),
            "time": round(self.time, 4),
            "build_time": round(self.build_time, 4),
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def to_csv(self) -> str:
        return self.table.to_csv(index=False)

    def plot(self, path, title: str | None = None) -> None:
        """Write a chart of the step function (PNG or SVG by the path's extension)."""
        write_figure(step_figure(self, title), path)

    def __repr__(self) -> str:
        return (f"<Frontier {self.param} in [{self.lower:g}, {self.upper:g}]: {len(self.breakpoints)} breakpoints, "
                f"{len(self.points)} solves, {self.time:.2f}s>")


# --- the sweep ---------------------------------------------------------------------------


def _same(a: float, b: float) -> bool:
    return abs(a - b) <= 1e-6 * max(1.0, abs(a), abs(b))


def _compare(a: Point, b: Point) -> int:
    """-1, 0 or 1 as plan a is worse than, as good as, or better than plan b, in the solver's order:
    least violation of each soft-rule priority level first (highest level first), then net benefit."""
    for level in sorted(set(a.levels) | set(b.levels), reverse=True):
        x, y = a.levels.get(level, 0.0), b.levels.get(level, 0.0)
        if not _same(x, y):
            return -1 if x > y else 1
    return 0 if _same(a.objective, b.objective) else (1 if a.objective > b.objective else -1)


class _OutOfTime(Exception):
    """The sweep's time limit has passed, or Ctrl-C stopped it: the walk ends, keeping what it found."""


def sweep(model, base: Instance | Company, limit, lower: float, upper: float, steps: int, tol: float,
          options=None, max_solves: int = 5000, deadline: float | None = None, progress=None) -> Frontier:
    """Walk the built ``model`` down from ``upper`` to ``lower`` (see the module docstring).

    ``limit`` has ``instance_at(base, t)``, ``set(model, t)``, ``requirement(check)`` and ``clean(t)``.
    ``deadline`` (perf_counter seconds; default: ``options.time_limit`` from now) bounds the sweep:
    each solve gets what is left, and once a solve is not proven (optimal or infeasible) or the
    time is spent the walk stops there, ``complete`` False; the breakpoints found above it stand.
    ``progress``: called with a :class:`~outopt.solver.options.Progress` after each solve (the grid's points
    done of how many, then the walk's solves and where it is).
    """
    options = options or SolveOptions()
    t_start = time.perf_counter()
    tally = Tally(progress, t_start)
    grid = len({limit.clean(float(t)) for t in np.linspace(lower, upper, max(2, steps))} | {limit.clean(upper)})
    tally.start("grid points", total=grid)
    if deadline is None and options.time_limit is not None:
        deadline = t_start + options.time_limit
    points: dict[float, Point] = {}

    def start_for(t: float) -> dict | None:
        """The neighbouring plan: the best plan solved so far that fits at t (a feasible warm start)."""
        fits = [p for p in points.values() if p.plan is not None and p.requirement <= t]
        return max(fits, key=lambda p: p.objective).plan if fits else None

    def run(t: float) -> Point:
        t = limit.clean(t)
        if t in points:
            return points[t]
        run_options = options
        if deadline is not None:
            left = deadline - time.perf_counter()
            if left <= 0.01:
                raise _OutOfTime()
            run_options = replace(options, time_limit=left)
        model.instance = limit.instance_at(base, t)  # the verifier judges each plan at this value
        limit.set(model, t)
        sol = model.solve(run_options, start=start_for(t))
        check = sol.verification
        req = limit.requirement(check) if sol.plan is not None else None
        levels = dict(getattr(check, "level_violation", None) or {}) if check is not None else {}
        points[t] = Point(t, sol.objective, sol.status, sol.plan, req, levels)
        if len(points) <= grid:
            tally.tick()
        else:
            tally.start(f"breakpoints: walking down, at {t:,.6g}", total=None, done=len(points))
        if sol.interrupted:  # Ctrl-C: the walk stops as at the time limit, keeping what it found
            raise _OutOfTime()
        return points[t]

    proven = (Status.OPTIMAL, Status.INFEASIBLE)
    breaks: list[Breakpoint] = []
    pieces: list[Piece] = []
    complete = True
    try:
        # the grid first, bottom up, so each point starts from the plan below it
        for t in np.linspace(lower, upper, max(2, steps)):
            run(float(t))
        top = run(upper)
    except (_OutOfTime, KeyboardInterrupt):  # Ctrl-C between solves too: keep what was found
        complete, top = False, None
    if top is not None and top.plan is not None and top.status in proven:
        c, cur, plan = min(top.requirement, upper), top, top.plan
        step = tol
        while c > lower:
            if len(points) >= max_solves:
                complete = False
                break
            t = max(lower, c - step)
            try:
                p = run(t)
            except (_OutOfTime, KeyboardInterrupt):  # Ctrl-C between solves too: keep what was found
                complete = False
                break
            if p.status not in proven:  # a time limit stopped this solve: no answer below c
                complete = False
                break
            if p.plan is None:
                breaks.append(Breakpoint(c, None, cur.objective, None, plan))
                break
            if p.requirement > t + 1e-9 * max(1.0, abs(t)) and t > lower:
                # the plan takes more than t, within the tolerance of the numerical policy (the model's
                # rows allow it) or HiGHS's: no answer at t, whose breakpoints sit at plans' exact
                # requirements; drop the probe and step further down
                del points[t]
                step *= 2
                continue
            step = tol
            if _compare(p, cur) >= 0:
                c, plan = min(p.requirement, t), p.plan  # a plan of equal value that takes less
                continue
            breaks.append(Breakpoint(c, p.objective, cur.objective, p.plan, plan))
            pieces.append(Piece(c, cur.objective, plan))
            c, cur, plan = min(p.requirement, t), p, p.plan
        pieces.append(Piece(c, cur.objective, plan))
    breaks.reverse()
    pieces.reverse()

    return Frontier(
        param=limit.path if hasattr(limit, "path") else str(limit),
        lower=limit.clean(lower), upper=limit.clean(upper), tolerance=tol, breakpoints=breaks,
        points=[points[k] for k in sorted(points)], currency=base.currency,
        time=time.perf_counter() - t_start, build_time=model.build_time, complete=complete, pieces=pieces,
    )


def default_tolerance(limit, lower: float, upper: float) -> float:
    """1 for whole-number limits, else 1e-5 of the range (at least 1e-9)."""
    return 1.0 if limit.integer else max(1e-5 * (upper - lower), 1e-9)


def check_range(limit: Limit, lower: float, upper: float, steps: int, tol: float | None) -> None:
    problems = []
    if not (math.isfinite(lower) and math.isfinite(upper)) or lower > upper:
        problems.append(Problem("--from/--to", f"need finite --from <= --to, got {lower:g} and {upper:g}"))
    if lower < 0:
        problems.append(Problem("--from", f"{limit.path} cannot be negative"))
    if limit.top is not None and (upper > limit.top or lower <= 0):
        problems.append(Problem("--from/--to", f"{limit.path} must be in (0, {limit.top:g}]"))
    if limit.integer and (lower != int(lower) or upper != int(upper)):
        problems.append(Problem("--from/--to", f"{limit.path} takes whole numbers"))
    if steps < 2:
        problems.append(Problem("--steps", "need at least 2 grid points"))
    if tol is not None and not tol > 0:
        problems.append(Problem("--tol", "the tolerance must be positive"))
    if problems:
        raise InputError(problems)


def frontier(instance: Instance | Company, param: str, lower: float, upper: float, steps: int = 11,
             tol: float | None = None, options=None, progress=None) -> Frontier:
    """The best net benefit of ``instance`` (or a company) as the limit ``param`` goes from ``lower`` to ``upper``.

    ``param`` is one of budget.operating, budget.transition, resources.<id>.capacity,
    vendors.<id>.capacity, vendors.<id>.max_share, rules.max_vendors; of a company, a corporate
    limit (see :func:`parse_company_limit`), every division solved jointly at each value. Every breakpoint
    in the range is found to within ``tol`` (default: 1e-5 of the range; 1 for
    whole-number limits); ``steps`` grid points are solved as well, for the chart. ``progress``: called
    with a :class:`~outopt.solver.options.Progress` after each solve (points done).
    """
    limit = parse_limit(instance, param)
    check_range(limit, lower, upper, steps, tol)
    tol = tol or default_tolerance(limit, lower, upper)
    # build at the top of the range without reductions, so the limit's row exists at every value
    t0 = time.perf_counter()
    deadline = None if options is None or options.time_limit is None else t0 + options.time_limit
    model = build_any(limit.instance_at(instance, upper), reduce=False)
    result = sweep(model, instance, limit, lower, upper, steps, tol, options, deadline=deadline, progress=progress)
    result.time = time.perf_counter() - t0
    return result


# --- charts ------------------------------------------------------------------------------


def step_figure(result: Frontier, title: str | None = None, xlabel: str | None = None):
    """A matplotlib Figure of the step function, its breakpoints and the points solved; with prioritised
    soft rules, a panel below with each priority level's violation at the points solved (the plans are
    ranked by those first, so a fall in net benefit shows as a fall in violation). No two labels overlap."""
    from matplotlib.figure import Figure

    levels = result.levels
    fig = Figure(figsize=(8, 6.2 if levels else 4.5), dpi=100, layout="constrained")
    if levels:
        ax, below = fig.subplots(2, 1, sharex=True, height_ratios=(3, 1.4))
    else:
        ax, below = fig.add_subplot(), None
    edges = [result.lower] + [b.at for b in result.breakpoints] + [result.upper]
    values = [b.objective_below for b in result.breakpoints] + [result.objective_of_top]
    for a, b, z in zip(edges[:-1], edges[1:], values):
        if z is not None:
            ax.hlines(z, a, b, colors="tab:blue", linewidth=2)
    if result.breakpoints and result.breakpoints[0].objective_below is None:
        ax.axvspan(result.lower, result.breakpoints[0].at, color="tab:red", alpha=0.08, label="no plan")
    labels = []
    for b in result.breakpoints if len(result.breakpoints) <= 25 else []:
        ax.axvline(b.at, color="grey", linestyle=":", linewidth=1)
        if b.objective_below is not None:
            labels.append(ax.annotate(f"{len(b.changes)} change{'s' if len(b.changes) != 1 else ''}",
                                      (b.at, b.objective_above), textcoords="offset points", xytext=(3, 3),
                                      fontsize=7, color="dimgrey"))
    solved = [p for p in result.points if p.objective is not None]
    ax.plot([p.value for p in solved], [p.objective for p in solved], "o", color="tab:orange", markersize=3,
            label="solved")
    ax.set_ylabel(f"net benefit per year ({result.currency})".replace(" ()", ""))
    ax.set_title(title or f"Best net benefit against {result.param}: {len(result.breakpoints)} breakpoints")
    ax.grid(True, alpha=0.3)
    ax.legend(loc="lower right", fontsize=8)
    if below is not None:
        for level in levels:
            below.step([p.value for p in solved], [p.levels.get(level, 0.0) for p in solved], where="post",
                       marker="o", markersize=3, label=f"priority {level}")
        below.set_ylabel("soft-rule violation", fontsize=8)
        below.grid(True, alpha=0.3)
        below.legend(loc="best", fontsize=7, title="ranked first, by level", title_fontsize=7)
    (below or ax).set_xlabel(xlabel or result.param)
    from matplotlib.ticker import FuncFormatter

    readable = FuncFormatter(lambda x, _: f"{x:,.6g}" if abs(x) < 1e4 else f"{x:,.0f}")  # 4,200,000, not 4.2 1e6
    for axis in fig.axes:
        axis.xaxis.set_major_formatter(readable)
        axis.yaxis.set_major_formatter(readable)
    _drop_overlapping(fig, labels)
    return fig


def _drop_overlapping(fig, labels: list) -> None:
    """Remove each label that would overlap one kept before it (or leave the axes), so none overlap."""
    if not labels:
        return
    from matplotlib.backends.backend_agg import FigureCanvasAgg

    canvas = FigureCanvasAgg(fig)
    renderer = canvas.get_renderer()
    fig.draw(renderer)  # the constrained layout places the axes; label extents are then final
    kept = []
    for label in labels:
        box = label.get_window_extent(renderer).expanded(1.05, 1.1)
        inside = label.axes.get_window_extent(renderer)
        if any(box.overlaps(k) for k in kept) or box.x1 > inside.x1 or box.y1 > inside.y1:
            label.remove()
        else:
            kept.append(box)


def write_figure(fig, path) -> None:
    """Save a figure atomically; the format (png or svg) comes from the extension."""
    from pathlib import Path

    path = Path(path)
    fmt = path.suffix.lower().lstrip(".")
    if fmt not in ("png", "svg"):
        raise InputError([Problem("--plot", f"unsupported chart type '{path.suffix}'; use .png or .svg")])
    buf = io.BytesIO()
    fig.savefig(buf, format=fmt)
    atomic_write_bytes(path, buf.getvalue())
