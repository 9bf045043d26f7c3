"""Reductions before the solve: a smaller instance with the same optimum.

``reduce_instance(instance)`` returns a :class:`Reduction`: an instance with fewer
offers and limits whose optimal plans are optimal plans of the original, and whose
every plan is a plan of the original with the same net benefit (so plans found on it
are verified against the original). Each step keeps at least one optimal plan:

1. **Redundant budgets.** A budget that even the most expensive plan cannot exceed
   is dropped.
2. **Offers that cannot fit.** An offer whose load alone exceeds its vendor's
   capacity is dropped.
3. **Dominated offers.** Offer (f, v) is dropped when another offer (f, w) of the same
   function is at least as good in every respect: benefit, recurring cost change
   (when there is an operating budget) and one-off cost (when there is a transition
   budget), and w is *free*: no engagement variable (no retainer, onboarding or
   vendor count) and a capacity its offers cannot fill. Moving f from v to w then never
   breaks a limit and never lowers the benefit. Needs: f in no rule group and no
   vendor with a share cap (moving spend between vendors changes every share).
4. **Offers worse than in-house.** Offer (f, v) is dropped when keeping f in-house is
   at least as good: benefit <= 0, recurring cost not lower than in-house (with an
   operating budget), f uses no limiting resource; same needs as 3.
5. **Forced decisions.** A function whose only remaining offer beats in-house in
   every respect (the converse of 4) and goes to a free vendor is fixed there.

When nothing couples the functions any more (no budget, limiting resource or vendor
capacity, engagement variable, share cap or rule), :func:`separable_plan` gives the
optimum directly: each function takes its best option.

Every step reasons only about the fields listed in :data:`KNOWN_FIELDS`. An instance
that sets any other field (a contract term added later) is left as it is.
"""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from operator import attrgetter
from types import UnionType
from typing import Annotated, Any, Literal, Union, get_args, get_origin

from pydantic import BaseModel

from outopt.instance.schema import INHOUSE, Instance, derived, group_functions
from outopt.model.data import PortfolioData, compile_data

KNOWN_FIELDS: dict[str, set[str]] = {
    "Instance": {"name", "currency", "horizon", "budget", "resources", "functions", "vendors", "offers", "rules"},
    "Budget": {"operating", "transition"},
    "Resource": {"id", "name", "capacity", "redeploy_value"},
    "Function": {"id", "name", "revenue", "core", "current", "inhouse"},
    "InHouse": {"cost", "value", "uses"},
    "Vendor": {"id", "name", "retainer", "onboarding", "capacity", "max_share", "price_shift"},
    "PriceShift": {"low", "high"},  # uncertainty only: no planning value changes
    "Offer": {"function", "vendor", "cost", "commission", "value", "transition", "load"},
    "Rules": {"max_vendors", "separate", "together"},
    "FunctionGroup": {"functions", "reason"},  # a separate/together group written as a mapping (not `soft`)
}
"""The fields the reductions have been proven safe for, by model class."""

_EPS = 1e-9


@dataclass
class Reduction:
    """A reduced instance, the decisions fixed on it, and what was done."""

    instance: Instance
    fixed: dict[str, str] = field(default_factory=dict)  # function -> vendor, forced
    removed_offers: int = 0
    dropped_budgets: list[str] = field(default_factory=list)
    skipped: list[str] = field(default_factory=list)  # fields that switched the reductions off

    @property
    def applied(self) -> bool:
        return not self.skipped


def unknown_fields(instance: Instance, limit: int = 5) -> list[str]:
    """Places where the instance sets a field outside :data:`KNOWN_FIELDS` (at most ``limit``).

    A field counts when its value differs from its default. Lists of one model class (300,000
    offers) are screened a field at a time; only the rows the screen flags are visited.
    """
    found: list[str] = []
    plans: dict[type, list[tuple[str, bool, Any]]] = {}

    def plan(cls) -> list[tuple[str, bool, Any]]:
        if cls not in plans:
            plans[cls] = _fields_to_check(cls)
        return plans[cls]

    def visit(obj, where: str) -> None:
        if len(found) >= limit:
            return
        if isinstance(obj, BaseModel):
            for name, nested, default in plan(type(obj)):
                value = getattr(obj, name)
                if not nested:
                    if value != default:
                        found.append(f"{where}.{name}".lstrip("."))
                elif isinstance(value, (BaseModel, list)):
                    visit(value, f"{where}.{name}")
        elif isinstance(obj, list):
            for i in _rows_to_visit(obj, plan):
                if len(found) >= limit:
                    return
                visit(obj[i], f"{where}[{i}]")

    visit(instance, "")
    return found


def _fields_to_check(cls) -> list[tuple[str, bool, Any]]:
    """(name, nested, default) of a model's fields that can hold an unknown field, in declaration order:
    its unknown fields (nested False, compared with their default) and known fields that may hold models
    or lists (nested True); known fields of plain values (text, numbers, flags) are left out."""
    known = KNOWN_FIELDS.get(cls.__name__, set())
    out = []
    for name, info in cls.model_fields.items():
        if name not in known:
            out.append((name, False, info.get_default(call_default_factory=True)))
        elif not _plain(info.annotation):
            out.append((name, True, None))
    return out


def _plain(annotation) -> bool:
    """Whether a field's type admits only plain values: text, numbers, flags, literals or None."""
    origin = get_origin(annotation)
    if origin is Annotated:
        return _plain(get_args(annotation)[0])
    if origin in (Union, UnionType):
        return all(_plain(a) for a in get_args(annotation))
    return origin is Literal or annotation in (str, int, float, bool, type(None))


def _rows_to_visit(rows: list, plan) -> Iterable[int]:
    """Indices of the rows of a list that may set an unknown field: all of them, unless every row is a
    model of one class whose only fields to check are its unknown ones; then the rows where one of those
    differs from its default, found a field at a time."""
    cls = type(rows[0]) if rows else None
    if cls is None or not issubclass(cls, BaseModel) or any(type(row) is not cls for row in rows):
        return range(len(rows))
    fields = plan(cls)
    if any(nested for _, nested, _ in fields):
        return range(len(rows))
    flagged: set[int] = set()
    for name, _, default in fields:
        flagged.update(i for i, value in enumerate(map(attrgetter(name), rows)) if value != default)
    return sorted(flagged)


def reduce_instance(instance: Instance) -> Reduction:
    """Apply the reductions of the module docstring; the instance is left unchanged when it uses unknown fields."""
    skipped = unknown_fields(instance)
    if skipped:
        return Reduction(instance=instance, skipped=skipped)
    inst = instance
    data = compile_data(inst)
    dropped = _redundant_budgets(data)
    if dropped:
        budget = inst.budget.model_copy(update={name: None for name in dropped})
        inst = derived(inst, budget=budget)
        data.instance = inst

    keep = _fitting_offers(data)
    for f in data.must_outsource:  # no offer fits: keep them, so the solver reports the instance infeasible
        if not any(p in keep for p in data.pairs_of_function[f]):
            keep.update(data.pairs_of_function[f])
    fixed: dict[str, str] = {}
    if not data.share_limited:
        grouped = {f for group in inst.rules.separate + inst.rules.together for f in group_functions(group)}
        free = _free_vendors(data)
        op = inst.budget.operating is not None
        tr = inst.budget.transition is not None
        limiting = set(data.binding_resources)
        for f in data.functions:
            if f in grouped:
                continue
            pairs = [p for p in data.pairs_of_function[f] if p in keep]
            if not pairs:
                continue
            best = _dominator(data, pairs, free, op, tr)
            if best is not None:
                for p in pairs:
                    if p != best and _dominates(data, best, p, op, tr):
                        keep.discard(p)
            if f not in data.must_outsource and not any((f, r) in data.uses for r in limiting):
                for p in pairs:
                    if p in keep and _inhouse_dominates(data, p, op):
                        keep.discard(p)
            left = [p for p in pairs if p in keep]
            if len(left) == 1 and left[0][1] in free and _beats_inhouse(data, left[0], op, tr):
                fixed[f] = left[0][1]

    offers = [o for o in inst.offers if (o.function, o.vendor) in keep]
    removed = len(inst.offers) - len(offers)
    if removed:
        inst = derived(inst, offers=offers)
    return Reduction(instance=inst, fixed=fixed, removed_offers=removed, dropped_budgets=dropped)


def _redundant_budgets(data: PortfolioData) -> list[str]:
    """Budgets no plan can exceed: every function at its most expensive option, every vendor engaged."""
    inst = data.instance
    worst_op, worst_tr = data.operating_base, 0.0
    for f in data.functions:
        pairs = data.pairs_of_function[f]
        if pairs:
            worst_op += max(0.0, max(data.operating_delta[p] for p in pairs))
            worst_tr += max(data.transition[p] for p in pairs)
    for v in data.vendors:
        if data.pairs_of_vendor[v]:
            worst_op += inst.vendor(v).retainer
            worst_tr += data.onboarding[v]
    dropped = []
    if inst.budget.operating is not None and worst_op <= inst.budget.operating:
        dropped.append("operating")
    if inst.budget.transition is not None and worst_tr <= inst.budget.transition:
        dropped.append("transition")
    return dropped


def _fitting_offers(data: PortfolioData) -> set[tuple[str, str]]:
    caps = {v.id: v.capacity for v in data.instance.vendors if v.capacity is not None}
    return {p for p in data.pairs if p[1] not in caps or data.load[p] <= caps[p[1]] + _EPS}


def _free_vendors(data: PortfolioData) -> set[str]:
    """Vendors with no engagement variable whose capacity no set of their offers can fill."""
    return set(data.vendors) - set(data.engaged_vendors) - set(data.binding_vendor_capacity)


def _dominates(data: PortfolioData, p, q, op: bool, tr: bool) -> bool:
    """Offer p is at least as good as q on benefit and on each budget that is present."""
    return (
        data.benefit[p] >= data.benefit[q] - _EPS
        and (not op or data.operating_delta[p] <= data.operating_delta[q] + _EPS)
        and (not tr or data.transition[p] <= data.transition[q] + _EPS)
    )


def _dominator(data: PortfolioData, pairs, free: set[str], op: bool, tr: bool):
    """The free offer with the highest benefit (ties: lowest costs, then order), or None."""
    candidates = [p for p in pairs if p[1] in free]
    if not candidates:
        return None
    return max(candidates, key=lambda p: (data.benefit[p], -data.operating_delta[p] if op else 0,
                                          -data.transition[p] if tr else 0))


def _inhouse_dominates(data: PortfolioData, p, op: bool) -> bool:
    return data.benefit[p] <= _EPS and (not op or data.operating_delta[p] >= -_EPS)


def _beats_inhouse(data: PortfolioData, p, op: bool, tr: bool) -> bool:
    return data.benefit[p] > _EPS and (not op or data.operating_delta[p] <= _EPS) and (not tr or data.transition[p] <= _EPS)


def separable_plan(data: PortfolioData) -> dict[str, str] | None:
    """The optimal plan when nothing couples the functions (each takes its best option), else None."""
    inst = data.instance
    if (
        inst.budget.operating is not None
        or inst.budget.transition is not None
        or data.binding_resources
        or data.binding_vendor_capacity
        or data.engaged_vendors
        or data.share_limited
        or inst.rules.max_vendors is not None
        or inst.rules.separate
        or inst.rules.together
        or unknown_fields(inst, limit=1)
    ):
        return None
    plan = {}
    for f in data.functions:
        pairs = data.pairs_of_function[f]
        best = max(pairs, key=lambda p: data.benefit[p]) if pairs else None
        if f in data.must_outsource:
            if best is None:
                return None  # infeasible: left to the solver to report
            plan[f] = best[1]
        elif best is not None and data.benefit[best] > 0:
            plan[f] = best[1]
        else:
            plan[f] = INHOUSE
    return plan
