"""Why an instance has no plan, in the planner's words: smallest repairs and conflicting rules.

``diagnose(instance)`` answers three questions about an infeasible instance:

* **repairs**: for each relaxable limit alone (operating and transition budget, each
  resource capacity, each vendor capacity and max_share, max_vendors), the least value of
  that limit that makes a plan possible with every other limit unchanged. Exact: a MIP that
  minimises that limit's slack with every other slack fixed at zero; a limit is absent when
  relaxing it alone cannot help.
* **combined**: the smallest joint relaxation of every limit at once, each limit's slack
  weighed relative to its size (slack / |limit|, or slack in units when the limit is 0), so a
  1% raise of the budget weighs as much as a 1% raise of a staff pool.
* **conflict**: a minimal set of rules (limits, core flags, together/separate groups,
  functions with no in-house option) that cannot hold together, found by a deletion filter
  over rule groups; dropping any one rule of the set makes a plan possible.

The elastic model is built on the portfolio model: each limit row ``a(x) + P g(x) <= 0`` is
replaced by ``a(x) + P g(x) + delta g(x) <= 0`` (the product of the slack ``delta`` with a 0/1
variable is linearised exactly), so a relaxation is reported in the limit's own units. The
figures reported are recomputed by the independent verifier from the repaired plan.
"""

from __future__ import annotations

import json
import time
from dataclasses import dataclass, field, replace

import pyomo.environ as pyo

from outopt.analysis._session import Session
from outopt.analysis._subject import Source, build_any, solve_any
from outopt.analysis.limits import (
    Limit,
    affine_row,
    ceiling_of,
    file_index,
    find_limits,
    is_place,
    round_up,
    usage,
    violated,
)
from outopt.instance.numerics import exceeds
from outopt.instance.schema import Company, derived, group_functions
from outopt.solver import SolveOptions
from outopt.solver.interrupts import unless_interrupted
from outopt.solver.solution import Status


@dataclass
class Repair:
    """A limit that must move: its place in the file, its value and the value a plan needs."""

    limit: str
    label: str
    unit: str
    current: float
    needed: float

    @property
    def short_by(self) -> float:
        return self.needed - self.current

    def to_dict(self) -> dict:
        return {"limit": self.limit, "label": self.label, "current": self.current, "needed": self.needed,
                "short_by": round_up(self.short_by)}

    def sentence(self, currency: str) -> str:
        """'operating budget short by 42,300 USD: raise it to 947,300'."""
        if self.unit == "share":
            return (f"{self.label} short by {self.short_by * 100:.2f} points: raise it to {self.needed:.2%}"
                    f" ({self.limit})")
        amount, target = _num(self.short_by), _num(self.needed)
        unit = f" {currency}" if self.unit == currency else ""
        return f"{self.label} short by {amount}{unit}: raise it to {target} ({self.limit})"


def _num(x: float) -> str:
    if abs(x - round(x)) < 1e-9:
        return f"{x:,.0f}"
    return f"{x:,.6f}".rstrip("0").rstrip(".")


@dataclass
class Diagnosis:
    """What stands between an instance and a plan; ``feasible`` is None when a time limit cut the check short."""

    instance: Source
    feasible: bool | None
    repairs: list[Repair] = field(default_factory=list)
    combined: list[Repair] = field(default_factory=list)
    conflict: list[str] = field(default_factory=list)
    conflict_minimal: bool = True  # False when a time limit stopped the deletion filter early
    limits_checked: list[str] = field(default_factory=list)
    solves: int = 0
    time: float = 0.0
    message: str = ""

    def to_dict(self) -> dict:
        return {
            "instance": self.instance.name,
            "feasible": self.feasible,
            "repairs": [r.to_dict() for r in self.repairs],
            "combined": [r.to_dict() for r in self.combined],
            "conflict": list(self.conflict),
            "conflict_minimal": self.conflict_minimal,
            "limits_checked": list(self.limits_checked),
            "solves": self.solves,
            "time": round(self.time, 4),
            "message": self.message,
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def lines(self) -> list[str]:
        """The diagnosis as plain sentences."""
        cur = self.instance.currency
        name = self.instance.name
        if self.feasible:
            return [f"{name}: feasible: a plan satisfies every rule; nothing to repair."]
        if self.feasible is None:
            return [f"{name}: could not decide feasibility ({self.message})."]
        out = [f"{name}: infeasible: no plan satisfies every rule."]
        out.append("Smallest repair of one limit alone (every other limit unchanged):")
        out += [f"  {r.sentence(cur)}" for r in self.repairs] or ["  none: no single limit can restore feasibility"]
        if self.combined:
            out.append("Smallest joint repair (each relaxation weighed relative to its limit's size):")
            out += [f"  {r.sentence(cur)}" for r in self.combined]
        else:
            out.append("No relaxation of the limits alone restores feasibility.")
        note = "" if self.conflict_minimal else " (not proven minimal: time limit)"
        out.append(f"Conflicting rules (dropping any one of them makes a plan possible){note}:")
        out += [f"  {place}: {_describe(self.instance, place)}" for place in self.conflict]
        if self.message:
            out.append(self.message)
        return out

    def __str__(self) -> str:
        return "\n".join(self.lines())


def _describe(inst: Source, place: str) -> str:
    """A few words on a rule named by its place (a company's: corporate, or in a division)."""
    if isinstance(inst, Company):
        return _describe_corporate(inst, place)
    idx = int(place.split("[")[1].split("]")[0]) if "[" in place else None
    if place == "budget.operating":
        return f"recurring cost at most {inst.budget.operating:,.0f} {inst.currency}/yr"
    if place == "budget.transition":
        return f"one-off cost at most {inst.budget.transition:,.0f} {inst.currency}"
    if place == "rules.max_vendors":
        return f"at most {inst.rules.max_vendors} vendors"
    if place.startswith("resources["):
        r = inst.resources[idx]
        return f"'{r.id}' capacity {r.capacity:g}"
    if place.startswith("vendors[") and place.endswith(".capacity"):
        v = inst.vendors[idx]
        return f"'{v.id}' capacity {v.capacity:g}"
    if place.startswith("vendors[") and place.endswith(".max_share"):
        v = inst.vendors[idx]
        return f"'{v.id}' at most {v.max_share:.0%} of outsourced spend"
    if place.endswith(".core"):
        return f"'{inst.functions[idx].id}' is core: kept in-house"
    if place.endswith(".inhouse"):
        return f"'{inst.functions[idx].id}' has no in-house option: it must go to a vendor"
    if place.startswith("rules.separate["):
        return "never with the same vendor: " + ", ".join(group_functions(inst.rules.separate[idx]))
    if place.startswith("rules.together["):
        return "one provider for all of: " + ", ".join(group_functions(inst.rules.together[idx]))
    if place.startswith("rules.locks[") and idx is not None:
        lock = inst.rules.locks[idx]
        return f"'{lock.function}' locked to {lock.provider}" + (f" ({lock.reason})" if lock.reason else "")
    if place.startswith("rules.forbid[") and idx is not None:
        ban = inst.rules.forbid[idx]
        return (f"{', '.join(ban.vendors)} never for {', '.join(ban.functions)}"
                + (f" ({ban.reason})" if ban.reason else ""))
    return "rule"


def _describe_corporate(company: Company, place: str) -> str:
    if place.startswith("divisions["):
        i, rest = place[len("divisions["):].split("].", 1)
        d = company.divisions[int(i)]
        return f"{d.id}: {_describe(d.instance, rest)}"
    cur = company.currency
    if place == "budget.operating":
        return f"corporate recurring cost at most {company.budget.operating:,.0f} {cur}/yr (retainers paid once)"
    if place == "budget.transition":
        return f"corporate one-off cost at most {company.budget.transition:,.0f} {cur} (onboarding paid once)"
    if place == "max_vendors":
        return f"at most {company.max_vendors} vendors company-wide"
    vid, _, field_ = place[len("vendors."):].rpartition(".")
    shared = company.vendors.get(vid)
    if shared is not None and field_ == "capacity":
        return f"'{vid}' company-wide capacity {shared.capacity:g}"
    if shared is not None and field_ == "max_share":
        return f"'{vid}' at most {shared.max_share:.0%} of the company's outsourced spend"
    return "rule"


# --- the elastic model ----------------------------------------------------------------


@dataclass
class _Elastic:
    limit: Limit
    upper: float | None  # largest useful slack (None: unbounded)
    scale: float  # slack / scale is the relative relaxation


@dataclass
class _Group:
    place: str
    drop: object  # callable
    keep: object  # callable


def _rows_group(place: str, rows: list) -> _Group:
    """A rule group made of constraint rows: dropping it deactivates them, keeping it activates them."""

    def drop():
        for r in rows:
            r.deactivate()

    def keep():
        for r in rows:
            r.activate()

    return _Group(place, drop, keep)


def _uncored(source: Source) -> Source:
    """The instance (every division of a company) with no function core: core is imposed by fixing the
    function's offers to 0 instead, so that the flag can be dropped."""
    if isinstance(source, Company):
        return source.model_copy(update={"divisions": [d.model_copy(update={"instance": _uncored(d.instance)})
                                                       for d in source.divisions]})
    return derived(source, functions=[f.model_copy(update={"core": False}) for f in source.functions])


def _scope_groups(scope, known: set[str]) -> list[tuple[str, _Group]]:
    """The rule groups of one portfolio model (a company's division block): core flags, functions with no
    in-house option, separate/together groups and the rules whose rows name their place; ``known``: the
    components that are limits (their groups are made elsewhere)."""
    block, inst, data, pre = scope.block, scope.instance, scope.data, scope.prefix
    groups: list[tuple[str, _Group]] = []
    for i, f in enumerate(inst.functions):
        pairs = data.pairs_of_function[f.id]
        if f.core and pairs:
            xs = [block.outsource[p] for p in pairs]

            def keep(xs=xs):
                for x in xs:
                    x.fix(0)

            def drop(xs=xs):
                for x in xs:
                    x.unfix()

            groups.append((f"{pre}functions[{i}].core", _Group(f"{pre}functions[{i}].core", drop, keep)))
        if f.id in data.must_outsource and pairs:
            row = block.one_provider[f.id]
            place = f"{pre}functions[{i}].inhouse"
            groups.append((place, _Group(place, row.deactivate, row.activate)))
    for kind in ("separate", "together"):
        comp = getattr(block, kind, None)
        if comp is None:
            continue
        for g in range(len(getattr(inst.rules, kind))):
            rows = [comp[k] for k in comp if k[0] == g]
            if rows:
                groups.append((f"{pre}rules.{kind}[{g}]", _rows_group(f"{pre}rules.{kind}[{g}]", rows)))
    # rules added later (locks, bans, ...): each row group of a component whose doc is a place in the file
    for comp in block.component_objects(pyo.Constraint, active=True, descend_into=False):
        if comp.local_name in known or not is_place(comp.doc):
            continue
        by_key: dict = {}
        for k in comp:
            head = k[0] if isinstance(k, tuple) else k
            by_key.setdefault(head, []).append(comp[k])
        for head, rows in by_key.items():
            place = pre + (comp.doc if head is None else f"{comp.doc}[{head}]")
            groups.append((place, _rows_group(place, rows)))
    return groups


class _Diagnoser:
    """The model of the instance or company with every core flag lifted (see :func:`_uncored`), elastic
    limit rows (corporate and every division's) and rule groups."""

    def __init__(self, instance: Source, options: SolveOptions, deadline: float | None):
        self.instance = instance
        self.model = build_any(_uncored(instance))
        self.model.instance = instance  # plans are judged against the real instance
        self.session = Session(self.model, threads=options.threads, seed=options.seed, deadline=deadline)
        self.s = self.session.subject
        m = self.model.pyomo
        self.elastic: list[_Elastic] = []
        self.groups: list[_Group] = []
        b = m.diagnosis = pyo.Block()
        hard, rows = self._elastic_limits()
        n = len(self.elastic)
        b.delta = pyo.Var(range(n), domain=pyo.NonNegativeReals)
        for i, e in enumerate(self.elastic):
            if e.limit.integer:
                b.delta[i].domain = pyo.NonNegativeIntegers
            b.delta[i].setub(e.upper)
            b.delta[i].fix(0)
        zidx = [(i, k) for i, (lim, row) in enumerate(rows) for k, _ in enumerate(row.g)]
        b.z = pyo.Var(zidx, domain=pyo.NonNegativeReals)
        b.z_le_delta = pyo.ConstraintList()
        b.z_le_x = pyo.ConstraintList()
        b.elastic_row = pyo.ConstraintList()
        for i, (lim, row) in enumerate(rows):
            p = lim.current
            gvars = list(row.g)
            expr = row.a0 + p * row.g0 + sum((c + p * row.g.get(v, 0.0)) * v for v, c in row.a.items())
            expr += sum(p * c * v for v, c in row.g.items() if v not in row.a)
            expr += row.g0 * b.delta[i]
            for k, v in enumerate(gvars):
                b.z[i, k].setub(self.elastic[i].upper)
                b.z_le_delta.add(b.z[i, k] <= b.delta[i])
                b.z_le_x.add(b.z[i, k] <= self.elastic[i].upper * v)
                expr += row.g[v] * b.z[i, k]
            b.elastic_row.add(expr <= 0)
            lim.row(m).deactivate()
        # functions with no in-house option: one_provider is "== 1"; "<= 1" stays when the rule is dropped
        must = [f for f in self.s.slots if self.s.function(f).inhouse is None and self.s.pairs_of(f)]
        b.at_most_one = pyo.Constraint(range(len(must)),
                                       rule=lambda b, k: sum(self.s.x(p) for p in self.s.pairs_of(must[k])) <= 1)
        b.weight = pyo.Param(range(n), initialize=lambda b, i: 1.0 / self.elastic[i].scale, mutable=True)
        b.relaxation = pyo.Objective(expr=sum(b.weight[i] * b.delta[i] for i in range(n)), sense=pyo.minimize)
        b.nothing = pyo.Objective(expr=0.0, sense=pyo.minimize)
        b.nothing.deactivate()
        m.net_benefit.deactivate()
        self._rule_groups(hard)

    def _elastic_limits(self) -> tuple[list[Limit], list]:
        """Sort the limits into elastic ones (``self.elastic``, with their affine rows) and hard ones."""
        m = self.model.pyomo
        rows: list[tuple[Limit, object]] = []
        hard: list[Limit] = []
        for lim in find_limits(self.model):
            row = affine_row(m, lim)
            binary = row is not None and all(v.is_binary() for v in row.g)
            up = ceiling_of(m, lim, row) if row is not None else None
            if row is None or not row.loosens_upward or not binary or (row.g and up is None):
                hard.append(lim)
                continue
            upper = None if up is None else max(0.0, up - lim.current)
            scale = abs(lim.current) if abs(lim.current) > 1e-9 else 1.0
            self.elastic.append(_Elastic(lim, upper, scale))
            rows.append((lim, row))
        return hard, rows

    # --- rule groups, in file order ----------------------------------------------------
    def _rule_groups(self, hard: list[Limit]) -> None:
        m = self.model.pyomo
        b = m.diagnosis
        groups: list[tuple[str, _Group]] = []
        for i, e in enumerate(self.elastic):
            d = b.delta[i]
            groups.append((e.limit.place, _Group(e.limit.place, lambda d=d: d.unfix(), lambda d=d: d.fix(0))))
        for lim in hard:
            row = lim.row(m)
            groups.append((lim.place, _Group(lim.place, row.deactivate, row.activate)))
        limits = [e.limit for e in self.elastic] + hard
        for scope in self.s.scopes():
            known = {"one_provider", "separate", "together"} | {
                lim.param[: -len("_limit")] for lim in limits if lim.owner(m) is scope.block}
            groups += _scope_groups(scope, known)
        order = {"budget": 0, "resources": 1, "functions": 2, "vendors": 3, "vendor_groups": 4, "rules": 5,
                 "max_vendors": 6}

        def key(item):
            place = item[0]
            division = -1
            if place.startswith("divisions["):  # a company's: corporate first, then division by division
                head, place = place[len("divisions["):].split("].", 1)
                division = int(head)
            head = place.split("[")[0].split(".")[0]
            if head == "rules":  # rules.max_vendors, rules.separate[0], rules.separate[1], rules.together[0]
                return division, order[head], place.split("[")[0], file_index(place), place
            return division, order.get(head, 9), "", file_index(place), place

        self.groups = [g for _, g in sorted(groups, key=key)]
        for g in self.groups:
            g.keep()

    # --- the three questions -------------------------------------------------------------
    def _repair_from_plan(self, lim: Limit, check, delta: float) -> Repair | None:
        used = usage(check, lim)
        if used is None:
            used = lim.current + delta
        elif not violated(check, lim):
            return None  # the verifier finds this limit kept (e.g. a soft rule that is allowed to bend)
        if not exceeds(used, lim.current):  # met within the tolerance (outopt.instance.numerics)
            return None
        needed = float(round(used)) if lim.integer else round_up(used)
        return Repair(lim.place, lim.label, lim.unit, lim.current, needed)

    def repairs(self) -> list[Repair]:
        b = self.model.pyomo.diagnosis
        out = []
        for i, e in enumerate(self.elastic):
            b.delta[i].unfix()
            status, _ = self.session.solve()
            b.delta[i].fix(0)
            if status not in ("optimal", "feasible"):
                continue
            check = self.s.check(self.session.plan(), self.instance)
            repair = self._repair_from_plan(e.limit, check, b.delta[i].value or 0.0)
            if repair is not None:
                out.append(repair)
        return out

    def combined(self) -> list[Repair]:
        b = self.model.pyomo.diagnosis
        for i in range(len(self.elastic)):
            b.delta[i].unfix()
        status, _ = self.session.solve()
        values = [b.delta[i].value or 0.0 for i in range(len(self.elastic))]
        for i in range(len(self.elastic)):
            b.delta[i].fix(0)
        if status not in ("optimal", "feasible"):
            return []
        check = self.s.check(self.session.plan(), self.instance)
        out = []
        for e, d in zip(self.elastic, values):
            r = self._repair_from_plan(e.limit, check, d)
            if r is not None:
                out.append(r)
        return out

    def conflict(self) -> tuple[list[str], bool]:
        """Deletion filter: drop each rule group in turn; keep it dropped while the rest stays infeasible."""
        b = self.model.pyomo.diagnosis
        b.relaxation.deactivate()
        b.nothing.activate()
        try:
            kept, minimal = [], True
            for g in self.groups:
                g.drop()
                status, _ = self.session.solve()
                if status == "infeasible":
                    continue  # not needed for the conflict: leave it out
                if status == "timeout":
                    minimal = False
                g.keep()
                kept.append(g.place)
            return kept, minimal
        finally:
            for g in self.groups:
                g.keep()
            b.nothing.deactivate()
            b.relaxation.activate()


def diagnose(instance: Source, options: SolveOptions | None = None, **kw) -> Diagnosis:
    """Explain why an instance or a company has no plan (see the module docstring; a company's limits are
    its corporate ones and every division's, named ``divisions[i]....``); a feasible one gets
    ``feasible=True`` and empty lists. Keyword arguments override fields of ``options``."""
    options = replace(options or SolveOptions(), **kw)
    t0 = time.perf_counter()
    deadline = None if options.time_limit is None else t0 + options.time_limit
    sol = unless_interrupted(solve_any(instance, options))  # Ctrl-C: stop, not diagnose on
    if sol.status.has_plan:
        return Diagnosis(instance, True, solves=1, time=time.perf_counter() - t0)
    if sol.status == Status.TIMEOUT:
        return Diagnosis(instance, None, solves=1, time=time.perf_counter() - t0, message=sol.message)
    return diagnose_infeasible(instance, options, deadline, t0)


def diagnose_infeasible(instance: Source, options: SolveOptions, deadline: float | None = None,
                        t0: float | None = None) -> Diagnosis:
    """The diagnosis of an instance already known to be infeasible."""
    t0 = time.perf_counter() if t0 is None else t0
    d = _Diagnoser(instance, options, deadline)
    repairs = d.repairs()
    combined = d.combined()
    conflict, minimal = d.conflict()
    message = "" if not d.session.expired() else "time limit reached: the diagnosis may be incomplete"
    return Diagnosis(instance, False, repairs=repairs, combined=combined, conflict=conflict,
                     conflict_minimal=minimal and not d.session.expired(),
                     limits_checked=[e.limit.place for e in d.elastic], solves=d.session.solves + 1,
                     time=time.perf_counter() - t0, message=message)

