"""The independent verifier: recompute every cost, benefit and limit of a plan from the raw instance.

Plain Python, no Pyomo and no shared code with the model builder, so a mistake in
the formulation cannot hide itself here. It accepts any plan: the solver's, a
user's, or the status quo. Every plan outopt reports has passed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

import pandas as pd

from outopt.schema import INHOUSE, Instance

Plan = Mapping[str, str]


@dataclass
class Verification:
    """What the verifier found: the plan's figures and every rule it breaks."""

    objective: float  # net yearly benefit against all in-house
    operating_cost: float  # recurring cost per year
    transition_cost: float  # one-off cost
    engaged: list[str]
    spend: dict[str, float]  # yearly spend by vendor (offers + commissions + retainer)
    resource_use: dict[str, float]
    vendor_load: dict[str, float]
    rows: list[dict]  # one per function: provider, yearly_cost, one_off, benefit
    violations: list[str] = field(default_factory=list)
    risk: float = 0.0  # spend-weighted risk score of outsourced spend (0 with no outsourced spend)

    @property
    def feasible(self) -> bool:
        return not self.violations


def as_plan(plan) -> dict[str, str]:
    """Accept a mapping, a DataFrame with function/provider columns, or a list of such dicts."""
    if isinstance(plan, pd.DataFrame):
        return dict(zip(plan["function"], plan["provider"]))
    if isinstance(plan, Mapping):
        return dict(plan)
    if isinstance(plan, Iterable):
        return {row["function"]: row["provider"] for row in plan}
    raise TypeError(f"a plan is a mapping function -> provider, got {type(plan).__name__}")


def status_quo(instance: Instance) -> dict[str, str] | None:
    """The current plan, or None when some function has no current provider and no in-house option."""
    plan = {}
    for f in instance.functions:
        if f.current is not None:
            plan[f.id] = f.current
        elif f.inhouse is not None:
            plan[f.id] = INHOUSE
        else:
            return None
    return plan


def _tol(limit: float) -> float:
    return 1e-6 * max(1.0, abs(limit))


def verify(instance: Instance, plan) -> Verification:
    """Recompute a plan's figures from the raw instance and list every broken rule."""
    plan = as_plan(plan)
    H = instance.horizon
    offers = {(o.function, o.vendor): o for o in instance.offers}
    vendors = {v.id: v for v in instance.vendors}
    resources = {r.id: r for r in instance.resources}
    served_now = {f.current for f in instance.functions if f.current not in (None, INHOUSE)}
    violations: list[str] = []

    known = {f.id for f in instance.functions}
    for fid in plan:
        if fid not in known:
            violations.append(f"plan names function '{fid}', which is not in the instance")

    operating = transition = objective = 0.0
    spend = {v: 0.0 for v in vendors}
    load = {v: 0.0 for v in vendors}
    use = {r: 0.0 for r in resources}
    engaged: list[str] = []
    rows = []
    risk_spend = 0.0  # sum of risk score x yearly spend
    for f in instance.functions:
        provider = plan.get(f.id)
        c_in = f.inhouse.cost if f.inhouse else 0.0
        row = {"function": f.id, "provider": provider, "yearly_cost": 0.0, "one_off": 0.0, "benefit": 0.0}
        rows.append(row)
        if provider is None:
            violations.append(f"function '{f.id}' has no provider in the plan")
            continue
        if provider == INHOUSE:
            if f.inhouse is None:
                violations.append(f"function '{f.id}' cannot be done in-house but the plan keeps it")
                continue
            operating += c_in
            row["yearly_cost"] = c_in
            for r, u in f.inhouse.uses.items():
                use[r] += u
            continue
        offer = offers.get((f.id, provider))
        if offer is None:
            violations.append(f"function '{f.id}' goes to '{provider}', which has no offer for it")
            continue
        if f.core:
            violations.append(f"core function '{f.id}' is outsourced to '{provider}'")
        if provider not in engaged:
            engaged.append(provider)
        yearly = offer.cost + offer.commission * f.revenue
        one_off = 0.0 if f.current == provider else offer.transition
        freed = sum(u * resources[r].redeploy_value for r, u in f.inhouse.uses.items()) if f.inhouse else 0.0
        v_in = f.inhouse.value if f.inhouse else 0.0
        benefit = c_in - v_in + freed - yearly - one_off / H + offer.value
        operating += yearly
        transition += one_off
        objective += benefit
        spend[provider] += yearly
        load[provider] += offer.load
        risk_spend += yearly * (offer.risk if offer.risk is not None else vendors[provider].risk or 0.0)
        row.update(yearly_cost=yearly, one_off=one_off, benefit=benefit)

    for v in engaged:
        onboarding = 0.0 if v in served_now else vendors[v].onboarding
        operating += vendors[v].retainer
        transition += onboarding
        spend[v] += vendors[v].retainer
        risk_spend += vendors[v].retainer * (vendors[v].risk or 0.0)
        objective -= vendors[v].retainer + onboarding / H

    budget = instance.budget
    if budget.operating is not None and operating > budget.operating + _tol(budget.operating):
        violations.append(f"budget.operating: recurring cost {operating:,.2f} exceeds {budget.operating:,.2f}")
    if budget.transition is not None and transition > budget.transition + _tol(budget.transition):
        violations.append(f"budget.transition: one-off cost {transition:,.2f} exceeds {budget.transition:,.2f}")
    for i, r in enumerate(instance.resources):
        if use[r.id] > r.capacity + _tol(r.capacity):
            violations.append(f"resources[{i}].capacity: '{r.id}' uses {use[r.id]:g} of {r.capacity:g}")
    total_spend = sum(spend.values())
    for i, v in enumerate(instance.vendors):
        if v.capacity is not None and load[v.id] > v.capacity + _tol(v.capacity):
            violations.append(f"vendors[{i}].capacity: '{v.id}' carries load {load[v.id]:g} of {v.capacity:g}")
        if v.max_share is not None and spend[v.id] > v.max_share * total_spend + _tol(total_spend):
            violations.append(
                f"vendors[{i}].max_share: '{v.id}' has {spend[v.id] / total_spend:.2%} of outsourced spend, "
                f"above {v.max_share:.2%}"
            )
    rules = instance.rules
    if rules.max_vendors is not None and len(engaged) > rules.max_vendors:
        violations.append(f"rules.max_vendors: {len(engaged)} vendors engaged, at most {rules.max_vendors}")
    for g, group in enumerate(rules.separate):
        chosen = [plan.get(f) for f in group if plan.get(f) not in (None, INHOUSE)]
        for v in sorted(set(chosen)):
            if chosen.count(v) > 1:
                members = [f for f in group if plan.get(f) == v]
                violations.append(f"rules.separate[{g}]: {', '.join(members)} all go to '{v}'")
    for g, group in enumerate(rules.together):
        providers = {plan.get(f) for f in group}
        if len(providers) > 1:
            detail = ", ".join(f"{f}->{plan.get(f)}" for f in group)
            violations.append(f"rules.together[{g}]: providers differ ({detail})")

    return Verification(
        objective=objective,
        operating_cost=operating,
        transition_cost=transition,
        engaged=engaged,
        spend={v: s for v, s in spend.items() if v in engaged},
        resource_use=use,
        vendor_load={v: x for v, x in load.items() if v in engaged},
        rows=rows,
        violations=violations,
        risk=risk_spend / total_spend if total_spend > 0 else 0.0,
    )
