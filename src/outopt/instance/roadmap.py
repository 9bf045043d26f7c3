"""The roadmap section of an instance: its checks, and each plan year as a single-year instance.

A roadmap plans years 1..T (models/roadmap.md). Every single-year limit, rule and term holds in
every year, so year t is the instance as the portfolio model and verifier see it, its **year view**
(:func:`year_view`): offer costs and retainers escalated to year t, that year's operating budget,
and the terms that link one year to the next left out (they are the roadmap's own: transitions,
onboarding, exit fees, parallel runs, the transition budget, the redeploy value of freed staff).
The roadmap model builds one portfolio block per year view; the roadmap verifier checks each year
view with the portfolio verifier and the links between years itself.
"""

from __future__ import annotations

from outopt.errors import Problem
from outopt.instance.numerics import MAX_AMOUNT
from outopt.instance.schema import INHOUSE, Budget, Forbid, Instance, Rules, derived

AVAILABILITY = "available from year {year}"
"""The reason of the ban a year view puts on a vendor not yet available (rules.forbid, model only)."""


def years(instance: Instance) -> list[int]:
    """The plan years 1..T."""
    return list(range(1, instance.roadmap.years + 1))


def escalated(amount: float, escalation: float, year: int) -> float:
    """An offer cost or retainer in plan year ``year``: ``amount (1 + escalation/100)^(year-1)``."""
    return amount * (1 + escalation / 100) ** (year - 1) if escalation else amount


def discount(instance: Instance, year: int) -> float:
    """What a unit of year ``year`` counts in the net present value: ``1/(1+r)^(year-1)``."""
    return 1.0 / (1 + instance.roadmap.discount_rate) ** (year - 1)


def tail_factor(instance: Instance) -> float:
    """What a unit of the last year's recurring net benefit counts over the tail: the discount factors of
    years T+1 .. T+tail_years."""
    T = instance.roadmap.years
    return sum(discount(instance, T + k) for k in range(1, instance.roadmap.tail_years + 1))


def year_budget(instance: Instance, kind: str, year: int) -> float | None:
    """The ``operating`` or ``transition`` budget of plan year ``year``: the roadmap's list where given,
    else the instance's budget (None: no limit)."""
    listed = getattr(instance.roadmap.budget, kind)
    return listed[year - 1] if listed is not None else getattr(instance.budget, kind)


def before(instance: Instance) -> dict[str, str | None]:
    """Each function's provider in year 0: its `current`, in-house when absent and it has an in-house
    option, else None (no provider yet)."""
    return {f.id: f.current if f.current is not None else (INHOUSE if f.inhouse is not None else None)
            for f in instance.functions}


def available(instance: Instance, vendor: str, year: int) -> bool:
    """Whether a vendor may serve a function in plan year ``year`` (`available_from`)."""
    start = instance.vendor(vendor).available_from
    return start is None or year >= start


def year_view(instance: Instance, year: int, bans: bool = False) -> Instance:
    """Plan year ``year`` as a single-year instance (see the module docstring): offer costs and retainers
    escalated, that year's operating budget, no transition budget (the roadmap's own, per year), no
    transitions, onboarding, exit fees or redeploy value (the roadmap's links), horizon 1, no roadmap.

    ``bans`` adds a hard ban (``rules.forbid``, after the file's own) of every offer of a vendor not yet
    available, so the model leaves out its variables; the verifier checks availability itself."""
    vendors = {v.id: v for v in instance.vendors}
    offers = [o.model_copy(update={"cost": escalated(o.cost, vendors[o.vendor].escalation, year),
                                   "transition": 0.0, "parallel_run": 0.0}) for o in instance.offers]
    new_vendors = [v.model_copy(update={"retainer": escalated(v.retainer, v.escalation, year), "onboarding": 0.0,
                                        "available_from": None, "escalation": 0.0}) for v in instance.vendors]
    functions = [f.model_copy(update={"exit_fee": 0.0, "contract_end": None, "earliest_change": None})
                 for f in instance.functions]
    resources = [r.model_copy(update={"redeploy_value": 0.0}) for r in instance.resources]
    soft = {k: s for k, s in instance.budget.soft.items() if k != "transition"}
    budget = Budget(operating=year_budget(instance, "operating", year), soft=soft)
    rules = instance.rules
    if bans:
        late = [v.id for v in instance.vendors if not available(instance, v.id, year)]
        offered = [(o.function, o.vendor) for o in instance.offers if o.vendor in late]
        extra = [Forbid(functions=[f for f, w in offered if w == v], vendors=[v],
                        reason=AVAILABILITY.format(year=vendors[v].available_from))
                 for v in late if any(w == v for _, w in offered)]
        if extra:
            rules = Rules.model_validate({**rules.model_dump(), "forbid": [*rules.model_dump()["forbid"],
                                                                            *(b.model_dump() for b in extra)]})
    return derived(instance, horizon=1.0, budget=budget, functions=functions, vendors=new_vendors, offers=offers,
                   resources=resources, rules=rules, roadmap=None)


def old_cost(instance: Instance, function: str, provider: str, year: int) -> float:
    """The yearly cost of ``provider`` for ``function`` in plan year ``year``, as a parallel run pays a share
    of it: the in-house cost, or the offer's escalated cost (less a stay discount for the current vendor)
    plus its commission on the function's revenue."""
    f = instance.function(function)
    if provider == INHOUSE:
        return f.inhouse.cost if f.inhouse is not None else 0.0
    offer = next((o for o in instance.offers if o.function == function and o.vendor == provider), None)
    if offer is None:  # not an option (the verifier reports the plan that names it)
        return 0.0
    cost = escalated(offer.cost, instance.vendor(provider).escalation, year)
    if f.current == provider:
        cost *= 1 - offer.stay_discount / 100
    return cost + offer.commission * f.revenue


# --- checks (run by outopt.instance.validation) ---------------------------------------------------


def check_roadmap(inst: Instance) -> list[Problem]:
    """The roadmap section and the roadmap fields of functions, vendors and offers."""
    if inst.roadmap is None:
        return _unused_fields(inst)
    rm = inst.roadmap
    problems = []
    for kind in ("operating", "transition"):
        listed = getattr(rm.budget, kind)
        if listed is not None and len(listed) != rm.years:
            problems.append(Problem(f"roadmap.budget.{kind}", f"{len(listed)} amount{'s' if len(listed) != 1 else ''} "
                                    f"for {rm.years} year{'s' if rm.years != 1 else ''}; give one per plan year"))
    for i, f in enumerate(inst.functions):
        if f.contract_end is not None and f.current in (None, INHOUSE):
            problems.append(Problem(f"functions[{i}].contract_end",
                                    f"'{f.id}' has a contract end but no current vendor; set `current` to the vendor "
                                    "whose contract ends"))
    marked = dict.fromkeys(_soft_marker(place) for place, soft in inst.soft_rules().items() if soft.priority is not None)
    problems += [Problem(f"{where}.priority", "soft rules with a `priority` are not supported in a roadmap (levels "
                                              "cannot be ranked across years); give a `penalty` instead")
                 for where in marked]
    for i, v in enumerate(inst.vendors):
        growth = (1 + v.escalation / 100) ** (rm.years - 1)
        if v.retainer * growth > MAX_AMOUNT:
            problems.append(Problem(f"vendors[{i}].escalation", f"escalates the retainer to {v.retainer * growth:.3g} "
                                    f"in year {rm.years}, above {MAX_AMOUNT:.0e}, outopt's range of numbers"))
    escalation = {v.id: v.escalation for v in inst.vendors}
    for i, o in enumerate(inst.offers):
        growth = (1 + escalation.get(o.vendor, 0.0) / 100) ** (rm.years - 1)
        if o.cost * growth > MAX_AMOUNT:
            problems.append(Problem(f"offers[{i}].cost", f"escalates to {o.cost * growth:.3g} in year {rm.years}, "
                                    f"above {MAX_AMOUNT:.0e}, outopt's range of numbers"))
    return problems


def _soft_marker(place: str) -> str:
    """Where the `soft` marker of a soft rule is written (``budget.operating`` -> ``budget.soft.operating``)."""
    head, _, name = place.rpartition(".")
    if place.startswith(("budget.", "vendors[")) or place in ("rules.max_vendors", "rules.max_changes"):
        return f"{head}.soft.{name}"
    if place.startswith(("resources[", "vendor_groups[")):
        return f"{head}.soft"
    return f"{place}.soft"


def _unused_fields(inst: Instance) -> list[Problem]:
    """Roadmap fields set on an instance without a `roadmap` section would change nothing: say so."""
    fix = "only a roadmap uses it; add a `roadmap` section or remove the field"
    problems = []
    for i, f in enumerate(inst.functions):
        for name in ("contract_end", "earliest_change"):
            if getattr(f, name) is not None:
                problems.append(Problem(f"functions[{i}].{name}", fix))
    for i, v in enumerate(inst.vendors):
        if v.available_from is not None:
            problems.append(Problem(f"vendors[{i}].available_from", fix))
        if v.escalation:
            problems.append(Problem(f"vendors[{i}].escalation", fix))
    problems += [Problem(f"offers[{i}].parallel_run", fix) for i, o in enumerate(inst.offers) if o.parallel_run]
    return problems
