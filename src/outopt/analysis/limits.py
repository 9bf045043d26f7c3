"""The relaxable limits of a built model, named by their place in the instance file.

Every limit of the portfolio model is a mutable Pyomo Param named ``<row>_limit``
whose constraint is the component ``<row>`` with the same index (see
models/portfolio.md). This module finds them, names them (``budget.operating``,
``resources[2].capacity``), and writes each limit row as

    r(x, P) = a(x) + P * g(x) <= 0

(affine in the limit's value P), which is what an elastic copy of the row needs:
relaxing P by delta adds ``delta * g(x)``. The decomposition is numeric (the row is
read at P and at P + 1), so it does not depend on how the row is written.
"""

from __future__ import annotations

import copy
import math
from dataclasses import dataclass, field, replace

import pyomo.environ as pyo
from pyomo.common.collections import ComponentMap
from pyomo.repn import generate_standard_repn

from outopt.instance.schema import Company, Instance
from outopt.verifier.company import CompanyVerification
from outopt.verifier.portfolio import Verification


@dataclass(frozen=True)
class Limit:
    """One relaxable limit: a mutable Param entry and the constraint row it bounds."""

    param: str  # Pyomo Param name, e.g. "resource_capacity_limit"
    index: object  # its index (None for a scalar Param)
    place: str  # where it is in the instance file, e.g. "resources[0].capacity" (a company's: divisions[1]...)
    label: str  # what a planner calls it, e.g. "operating budget", "finance_staff capacity"
    unit: str  # currency, "units", "share", "vendors"
    integer: bool  # values are whole numbers (max_vendors)
    current: float  # its value in the instance
    ceiling: float | None  # a value at which the limit can never bind (None: unbounded)
    step: float  # the step used for "one more unit" in explanations
    block: str | None = None  # a company's division block holding the Param and row (None: the model itself)
    division: str | None = None  # that division's id

    def owner(self, m: pyo.ConcreteModel):
        return m if self.block is None else getattr(m, self.block)

    def param_data(self, m: pyo.ConcreteModel):
        p = getattr(self.owner(m), self.param)
        return p if self.index is None else p[self.index]

    def row(self, m: pyo.ConcreteModel):
        c = getattr(self.owner(m), self.param[: -len("_limit")])
        return c if self.index is None else c[self.index]

    @property
    def local(self) -> str:
        """Its place in its own instance file (a division's, for a company's division limit)."""
        return self.place.split("].", 1)[1] if self.division is not None else self.place


def _place(inst: Instance, param: str, index, doc: str | None) -> tuple[str, str, str, bool, float | None]:
    """(place, label, unit, integer, natural ceiling) of a known limit; a generic name otherwise."""
    if param == "operating_budget_limit":
        return "budget.operating", "operating budget", inst.currency, False, None
    if param == "transition_budget_limit":
        return "budget.transition", "transition budget", inst.currency, False, None
    if param == "resource_capacity_limit":
        i = next(k for k, r in enumerate(inst.resources) if r.id == index)
        return f"resources[{i}].capacity", f"{index} capacity", "units", False, None
    if param == "vendor_capacity_limit":
        i = next(k for k, v in enumerate(inst.vendors) if v.id == index)
        return f"vendors[{i}].capacity", f"{index} capacity", "units", False, None
    if param == "max_share_limit":
        i = next(k for k, v in enumerate(inst.vendors) if v.id == index)
        return f"vendors[{i}].max_share", f"{index} max share", "share", False, 1.0
    if param == "max_vendors_limit":
        return "rules.max_vendors", "max vendors", "vendors", True, None
    if param == "max_changes_limit":
        return "rules.max_changes", "max changes", "", False, None
    if param in ("group_share_limit", "group_count_limit") and isinstance(index, tuple) and len(index) == 2:
        g, quota = index
        share = param == "group_share_limit"
        return (f"vendor_groups[{g}].{quota}", f"{inst.vendor_groups[g].id} {quota.replace('_', ' ')}",
                "share" if share else "functions", not share, 1.0 if share else None)
    # a limit added later: its doc names its place, with [v] / [r] standing for the id in the index
    name = doc or param
    ids = {"[v]": [v.id for v in inst.vendors], "[r]": [r.id for r in inst.resources]}
    for token, table in ids.items():
        if token in name and index in table:
            field_name = name.split(".")[-1].replace("_", " ")
            return name.replace(token, f"[{table.index(index)}]"), f"{index} {field_name}", "", False, None
    if "[g]" in name and isinstance(index, tuple) and len(index) == 2:  # vendor_groups[g].min/max_share, (0, "min_share")
        name = f"{name.split('[g]')[0]}[{index[0]}].{index[1]}"
    elif index is not None:
        name = f"{name}[{index}]"
    return name, name, "", False, None


PLACES = ("budget", "resources", "functions", "vendors", "vendor_groups", "rules")
"""The sections of an instance file: a limit or rule whose doc starts with one is named by its place."""


def is_place(doc: str | None) -> bool:
    return bool(doc) and doc.split("[")[0].split(".")[0] in PLACES


def _step(param: str, unit: str, integer: bool, value: float) -> float:
    """One step of a limit: 1% of a budget or vendor capacity, one unit of a resource or vendor count,
    one percentage point of a share."""
    if integer or param == "resource_capacity_limit":
        return 1.0
    if unit == "share":
        return 0.01
    return max(1.0, round(abs(value) * 0.01, 2))


def find_limits(model) -> list[Limit]:
    """Every limit Param of a built :class:`~outopt.solver.Model` that bounds an active row, in file order;
    of a company's model, the corporate limits, then each division's (``divisions[1].budget.operating``)."""
    if hasattr(model, "cdata"):
        return _company_limits(model)
    return _limits_of(model.pyomo, model.instance)


def _company_limits(model) -> list[Limit]:
    company, m = model.instance, model.pyomo
    out = []
    for p in m.component_objects(pyo.Param, active=True, descend_into=False):
        name = p.local_name
        rows = getattr(m, name[: -len("_limit")], None)
        if name not in CORPORATE or rows is None:
            continue
        for idx in (p.keys() if p.is_indexed() else [None]):
            if idx is not None and idx not in rows:
                continue
            place, label, unit, integer, ceiling = CORPORATE[name](idx)
            unit = unit or company.currency
            current = float(pyo.value(p[idx] if idx is not None else p))
            out.append(Limit(name, idx, place, label, unit, integer, current, ceiling,
                             _step(name, unit, integer, current)))
    order = {"budget": 0, "vendors": 1, "max_vendors": 2}
    out.sort(key=lambda lim: (order.get(lim.place.split(".")[0], 9), lim.place))
    for i, d in enumerate(company.divisions):
        block = model.blocks[d.id]
        out += [replace(lim, place=f"divisions[{i}].{lim.place}", label=f"{d.id} {lim.label}", block=block,
                        division=d.id) for lim in _limits_of(getattr(m, block), d.instance)]
    return out


CORPORATE = {
    "operating_budget_limit": lambda i: ("budget.operating", "corporate operating budget", "", False, None),
    "transition_budget_limit": lambda i: ("budget.transition", "corporate transition budget", "", False, None),
    "vendor_capacity_limit": lambda v: (f"vendors.{v}.capacity", f"{v} company-wide capacity", "units", False, None),
    "max_share_limit": lambda v: (f"vendors.{v}.max_share", f"{v} company-wide max share", "share", False, 1.0),
    "max_vendors_limit": lambda i: ("max_vendors", "company max vendors", "vendors", True, None),
}
"""The corporate limits of a company's model: place, label, unit ("" = the currency), integer, ceiling."""


def _limits_of(m, inst: Instance) -> list[Limit]:
    """The limits of one portfolio model (or a company's division block) and its instance."""
    out = []
    for p in m.component_objects(pyo.Param, active=True, descend_into=False):
        name = p.local_name
        if not name.endswith("_limit") or not p.mutable:
            continue
        rows = getattr(m, name[: -len("_limit")], None)
        if rows is None or not is_place(p.doc):  # e.g. a solver stage's bound, not a limit of the file
            continue
        for idx in (p.keys() if p.is_indexed() else [None]):
            if idx is not None and idx not in rows:
                continue
            place, label, unit, integer, ceiling = _place(inst, name, idx, p.doc)
            current = pyo.value(p[idx] if idx is not None else p)
            out.append(Limit(name, idx, place, label, unit, integer, float(current), ceiling,
                             _step(name, unit, integer, float(current))))
    order = {"budget": 0, "resources": 1, "vendors": 2, "rules": 3}
    return sorted(out, key=lambda lim: (order.get(lim.place.split("[")[0].split(".")[0], 9), file_index(lim.place),
                                        lim.place))


def file_index(place: str) -> int:
    """The first row number in a place (``vendors[3].capacity`` -> 3), -1 when there is none."""
    head = place.split("[")[1].split("]")[0] if "[" in place else ""
    return int(head) if head.isdigit() else -1


@dataclass
class AffineRow:
    """A limit row as  a0 + sum a[x] x  +  P * (g0 + sum g[x] x)  <= 0  (sense flipped for >= rows)."""

    a0: float
    a: ComponentMap = field(default_factory=ComponentMap)  # var data -> coefficient
    g0: float = 0.0
    g: ComponentMap = field(default_factory=ComponentMap)

    @property
    def loosens_upward(self) -> bool:
        """True when raising P can only loosen the row (g <= 0 for every 0/1 value of the variables)."""
        return self.g0 <= 1e-12 and all(c <= 1e-12 for c in self.g.values())


def _linear(row, sign: float):
    """(constant, {var: coef}) of sign * (body - bound) for the row's bound."""
    repn = generate_standard_repn(row.body, compute_values=True, quadratic=False)
    if not repn.is_linear():
        raise ValueError(f"row {row.name} is not linear")
    bound = pyo.value(row.upper) if sign > 0 else pyo.value(row.lower)
    const = sign * (pyo.value(repn.constant) - bound)
    coefs = ComponentMap()
    for v, c in zip(repn.linear_vars, repn.linear_coefs):
        coefs[v] = coefs.get(v, 0.0) + sign * pyo.value(c)
    return const, coefs


def affine_row(m, limit: Limit) -> AffineRow | None:
    """The row of a limit, affine in the limit's value; None for equality or two-sided rows."""
    row = limit.row(m)
    if row.has_lb() and row.has_ub():
        return None
    sign = 1.0 if row.has_ub() else -1.0
    par = limit.param_data(m)
    p0 = pyo.value(par)
    c0, a = _linear(row, sign)
    par.set_value(p0 + 1.0)
    try:
        c1, a1 = _linear(row, sign)
    finally:
        par.set_value(p0)
    g = ComponentMap()
    for v in list(a.keys()) + [v for v in a1.keys() if v not in a]:
        d = a1.get(v, 0.0) - a.get(v, 0.0)
        if abs(d) > 1e-12:
            g[v] = d
    return AffineRow(a0=c0 - p0 * (c1 - c0), a=ComponentMap((v, c - p0 * g.get(v, 0.0)) for v, c in a.items()),
                     g0=c1 - c0, g=g)


def ceiling_of(m, limit: Limit, row: AffineRow) -> float | None:
    """A value of the limit at which its row holds for every 0/1 point: the most a relaxation can need."""
    if limit.ceiling is not None:
        return limit.ceiling
    if not row.g:  # P on the right-hand side only: a0 + sum a x - P * (-g0) <= 0
        if row.g0 >= -1e-12:
            return None
        worst = row.a0 + sum(max(0.0, c) for c in row.a.values())
        return max(limit.current, worst / -row.g0)
    # P multiplies 0/1 variables (vendor capacity * engage): the worst case puts them at 1
    total_g = row.g0 + sum(row.g.values())
    if total_g >= -1e-12:
        return None
    worst = row.a0 + sum(max(0.0, c) for c in row.a.values())
    value = worst / -total_g
    if limit.integer:
        value = math.ceil(value - 1e-9)
    return max(limit.current, value)


def set_place(instance: Instance | Company, values: dict[str, float]) -> Instance | Company:
    """A copy of an instance with the fields at the given places (``budget.operating``,
    ``resources[2].capacity``...) set to new values; of a company, a corporate field (``max_vendors``,
    ``vendors.x.capacity``) or a division's (``divisions[1].budget.operating``)."""
    data = copy.deepcopy(instance.model_dump())
    for place, value in values.items():
        node, key = data, None
        if isinstance(instance, Company) and place.startswith("divisions["):
            place = place.replace("].", "].instance.", 1)
        parts = place.replace("]", "").replace("[", ".").split(".")
        for part in parts[:-1]:
            node = node[int(part)] if part.isdigit() else node.setdefault(part, {}) if node.get(part) is None else node[part]
        key = parts[-1]
        node[key] = value
    return type(instance).model_validate(data)


def round_up(x: float, digits: int = 6) -> float:
    """x rounded up at ``digits`` decimals, ignoring float noise below that."""
    scale = 10**digits
    return math.ceil(x * scale - 1e-6) / scale


UPPER = {"operating_budget_limit", "transition_budget_limit", "resource_capacity_limit", "vendor_capacity_limit",
         "max_share_limit", "max_vendors_limit", "max_changes_limit"}
"""Limits a plan's use must stay under, always (minimums and quotas of a group may be either way)."""


def binding(check: Verification | CompanyVerification, limit: Limit, used: float | None) -> bool | None:
    """Whether the plan uses the limit to within one step: under a maximum, over a minimum (a minimum
    contract binds only a vendor that is engaged). None when the use is not known."""
    if used is None:
        return None
    if limit.division is not None:
        check = check.divisions[limit.division]
    room = limit.step - 1e-9
    if limit.param in UPPER or (limit.param.startswith("group_") and limit.index[1].startswith("max")):
        return limit.current - used < room
    if limit.param in ("min_spend_limit", "min_functions_limit") and limit.index not in check.engaged:
        return False
    return used - limit.current < room


def usage(check: Verification | CompanyVerification, limit: Limit, instance: Instance | None = None) -> float | None:
    """How much of a limit a plan uses, by the verifier's recomputation (None for an unknown limit;
    a vendor group's quotas need the ``instance``); a company's division limit by that division's figures."""
    if limit.division is not None:
        check = check.divisions[limit.division]
    return usage_of(check, limit.param, limit.index, instance)


def violated(check: Verification | CompanyVerification, limit: Limit) -> bool:
    """True when the verifier names the limit among the plan's violations."""
    prefix = f"{limit.division}: {limit.local}:" if limit.division is not None else f"{limit.place}:"
    return any(v.startswith(prefix) for v in check.violations)


def usage_of(check: Verification, param: str, index=None, instance: Instance | None = None) -> float | None:
    """How much of the limit behind the mutable Param ``param`` (at ``index``) a verified plan uses: a
    minimum contract counts the vendor's spend or functions, a group quota the group's share or count."""
    if param == "operating_budget_limit":
        return check.operating_cost
    if param == "transition_budget_limit":
        return check.transition_cost
    if param == "resource_capacity_limit":
        return check.resource_use[index]
    if param == "vendor_capacity_limit":
        return check.vendor_load.get(index, 0.0)
    if param == "max_share_limit":
        total = sum(check.spend.values())
        return check.spend.get(index, 0.0) / total if total > 0 else 0.0
    if param == "max_vendors_limit":
        return float(len(check.engaged))
    if param == "max_changes_limit":
        return float(check.changes)
    if param == "min_spend_limit":
        return check.spend.get(index, 0.0)
    if param == "min_functions_limit":
        return float(sum(r["provider"] == index for r in check.rows))
    if param in ("group_share_limit", "group_count_limit") and instance is not None:
        members = set(instance.vendor_groups[index[0]].vendors)
        if param == "group_count_limit":
            return float(sum(r["provider"] in members for r in check.rows))
        total = sum(check.spend.values())
        return sum(check.spend.get(v, 0.0) for v in members) / total if total > 0 else 0.0
    return None
