"""The independent roadmap verifier: every plan year recomputed by the portfolio verifier on its year view,
and the links between years (changes, transitions, onboarding, exit fees, parallel runs, the redeploy value
of freed staff, the transition budget and team capacity, earliest changes, vendor availability) and the net
present value recomputed here, in plain Python, from the raw instance (models/roadmap.md).
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from outopt.instance.numerics import exceeds, tolerance
from outopt.instance.roadmap import (
    before,
    discount,
    old_cost,
    tail_factor,
    year_budget,
    year_view,
    years,
)
from outopt.instance.schema import INHOUSE, Instance
from outopt.verifier.portfolio import Verification, verify

RoadmapPlan = dict[str, list[str]]
"""A roadmap: each function's provider in years 1..T."""


@dataclass
class Year:
    """One plan year's figures, as the roadmap verifier recomputes them."""

    year: int
    check: Verification  # the portfolio verifier on the year view (recurring figures, that year's limits)
    redeploy: float  # value of staff freed since an earlier year
    transition_cost: float  # one-offs of the year: changes' transitions, exit fees, parallel runs, onboarding
    onboarding: dict[str, float]  # onboarding paid per vendor
    changes: int
    penalty: float = 0.0  # soft transition budget's penalty

    @property
    def operating_cost(self) -> float:
        return self.check.operating_cost

    @property
    def net_benefit(self) -> float:
        """The year's net benefit against all in-house: recurring (penalties included), redeploy value,
        less the year's one-offs."""
        return self.check.objective + self.redeploy - self.transition_cost - self.penalty


@dataclass
class RoadmapVerification:
    """What the roadmap verifier found: the figures of every year, the changes, the NPV and every broken rule."""

    objective: float  # net present value
    years: list[Year]
    changes: list[dict]  # function, year, from, to, one_off (transition + exit fee + parallel run), and the parts
    tail: float  # the tail's part of the NPV
    violations: list[str] = field(default_factory=list)
    soft_violations: list[dict] = field(default_factory=list)  # each with its year

    @property
    def feasible(self) -> bool:
        return not self.violations


def as_roadmap(plan, instance: Instance) -> RoadmapPlan:
    """A roadmap from a mapping function -> providers by year, rows ``{function, year, provider}`` or a
    DataFrame of such rows (a missing year is None)."""
    pd = sys.modules.get("pandas")
    if pd is not None and isinstance(plan, pd.DataFrame):
        plan = plan.to_dict("records")
    if isinstance(plan, Mapping):
        return {f: list(p) for f, p in plan.items()}
    if not isinstance(plan, Iterable):
        raise TypeError(f"a roadmap is a mapping function -> providers by year, got {type(plan).__name__}")
    out: RoadmapPlan = {}
    T = instance.roadmap.years
    for row in plan:
        path = out.setdefault(row["function"], [None] * T)
        year = int(row["year"])
        if 1 <= year <= T:
            path[year - 1] = row["provider"]
    return out


def verify_roadmap(instance: Instance, plan, cache: dict | None = None) -> RoadmapVerification:
    """Recompute a roadmap from the raw instance and list every broken rule, year by year and between years.

    ``cache``: a dict this function fills with the year views and their checks, to pass again with the same
    instance when verifying many roadmaps (an enumeration): each year's plan is then checked once."""
    rm = instance.roadmap
    plan = as_roadmap(plan, instance)
    T = rm.years
    violations = [f"plan names function '{f}', which is not in the instance"
                  for f in plan if f not in {x.id for x in instance.functions}]
    violations += [f"function '{f}' has {len(p)} years in the plan, not {T}"
                   for f, p in plan.items() if len(p) != T]
    path = {f.id: (list(plan.get(f.id, [])) + [None] * T)[:T] for f in instance.functions}
    prev = before(instance)
    engaged_before = {p for p in prev.values() if p not in (None, INHOUSE)}
    out_before = {f: p not in (None, INHOUSE) for f, p in prev.items()}
    result = RoadmapVerification(objective=0.0, years=[], changes=[], tail=0.0, violations=violations)
    for t in years(instance):
        now = {f: p[t - 1] for f, p in path.items()}
        year = _year(instance, t, now, prev, engaged_before, out_before, result, cache)
        result.years.append(year)
        result.objective += discount(instance, t) * year.net_benefit
        prev = now
        engaged_before = set(year.check.engaged)
        out_before = {f: p not in (None, INHOUSE) for f, p in now.items()}
    last = result.years[-1]
    result.tail = tail_factor(instance) * (last.check.objective + _freed(_freed_value(instance), out_before, out_before))
    result.objective += result.tail
    return result


def _freed_value(instance: Instance) -> dict[str, float]:
    value = {r.id: r.redeploy_value for r in instance.resources}
    return {f.id: sum(u * value[r] for r, u in f.inhouse.uses.items()) if f.inhouse else 0.0
            for f in instance.functions}


def _freed(freed: dict[str, float], out_now: dict[str, bool], out_before: dict[str, bool]) -> float:
    """Redeploy value of the staff of functions outsourced this year and the year before."""
    return sum(freed[f] for f, now in out_now.items() if now and out_before.get(f))


def _check(instance: Instance, t: int, now: dict, cache: dict | None) -> Verification:
    """The portfolio verifier's check of year t's plan on the year view (kept in ``cache`` when given)."""
    if cache is None:
        return verify(year_view(instance, t), now)
    key = (t, tuple(sorted(now.items(), key=lambda kv: kv[0])))
    if key not in cache:
        if ("view", t) not in cache:
            cache["view", t] = year_view(instance, t)
        cache[key] = verify(cache["view", t], now)
    return cache[key]


def _year(instance: Instance, t: int, now: dict, prev: dict, engaged_before: set, out_before: dict,
          result: RoadmapVerification, cache: dict | None = None) -> Year:
    """Check plan year t: its year view, availability, then the links from year t-1."""
    check = _check(instance, t, now, cache)
    listed = "budget.operating:" if instance.roadmap.budget.operating is not None else None
    result.violations += [f"year {t}: " + (v.replace(listed, f"roadmap.budget.operating[{t - 1}]:", 1)
                                           if listed and v.startswith(listed) else v) for v in check.violations]
    result.soft_violations += [{"year": t, **v} for v in check.soft_violations]
    check_available(instance, t, now, result)
    one_offs = 0.0
    count = 0
    for f in instance.functions:
        p, q = now[f.id], prev[f.id]
        if p is None or p == q:
            continue
        count += 1
        change = change_costs(instance, f.id, t, q, p)
        one_offs += change["one_off"]
        result.changes.append(change)
        if f.earliest_change is not None and t < f.earliest_change:
            i = instance.functions.index(f)
            result.violations.append(f"year {t}: functions[{i}].earliest_change: '{f.id}' changes provider in year "
                                     f"{t}, not allowed before year {f.earliest_change}")
    onboarding = {v.id: v.onboarding for v in instance.vendors
                  if v.id in check.engaged and v.id not in engaged_before and v.onboarding}
    one_offs += sum(onboarding.values())
    out_now = {f: p not in (None, INHOUSE) for f, p in now.items()}
    year = Year(t, check, _freed(_freed_value(instance), out_now, out_before), one_offs, onboarding, count)
    cap = instance.roadmap.max_changes_per_year
    if cap is not None and count > cap:
        result.violations.append(f"year {t}: roadmap.max_changes_per_year: {count} functions change provider, "
                                 f"at most {cap}")
    check_transition_budget(instance, year, result)
    return year


def change_costs(instance: Instance, function: str, t: int, old: str | None, new: str) -> dict:
    """The one-offs of one change in year t: the new offer's transition, the exit fee when leaving the current
    vendor up to its contract end, and the parallel run (a share of the old provider's yearly cost)."""
    f = instance.function(function)
    offer = next((o for o in instance.offers if o.function == function and o.vendor == new), None)
    transition = offer.transition if offer is not None else 0.0
    exit_fee = 0.0
    if old == f.current and f.exit_fee and (f.contract_end is None or t <= f.contract_end):
        exit_fee = f.exit_fee
    parallel = 0.0
    if offer is not None and offer.parallel_run and old is not None:
        parallel = offer.parallel_run * old_cost(instance, function, old, t)
    return {"function": function, "year": t, "from": old, "to": new, "one_off": transition + exit_fee + parallel,
            "transition": transition, "exit_fee": exit_fee, "parallel_run": parallel}


def check_available(instance: Instance, t: int, now: dict, result: RoadmapVerification) -> None:
    """`available_from`: no function with a vendor before that year."""
    late = {v.id: (i, v.available_from) for i, v in enumerate(instance.vendors)
            if v.available_from is not None and v.available_from > t}
    for f, p in now.items():
        if p in late:
            place, start = late[p]
            result.violations.append(f"year {t}: vendors[{place}].available_from: '{f}' goes to '{p}', "
                                     f"available from year {start}")


def check_transition_budget(instance: Instance, year: Year, result: RoadmapVerification) -> None:
    """The one-offs of a year within that year's transition budget (soft: charged per unit over it)."""
    t = year.year
    cap = year_budget(instance, "transition", t)
    if cap is None:
        return
    place = f"roadmap.budget.transition[{t - 1}]" if instance.roadmap.budget.transition is not None \
        else "budget.transition"
    message = f"year {t}: {place}: one-off cost {year.transition_cost:,.2f} exceeds {cap:,.2f}"
    soft = instance.budget.soft.get("transition")
    excess = year.transition_cost - cap
    if soft is None:
        if exceeds(year.transition_cost, cap):
            result.violations.append(message)
        return
    excess = max(0.0, excess)
    year.penalty = (soft.penalty or 0.0) * excess
    if excess > tolerance(cap):
        result.soft_violations.append({"year": t, "rule": "budget.transition", "amount": excess,
                                       "unit": instance.currency, "penalty": soft.penalty or 0.0,
                                       "cost": year.penalty, "priority": soft.priority, "reason": "",
                                       "detail": message})
