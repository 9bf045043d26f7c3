"""The independent verifier: recompute every cost, benefit and limit of a plan from the raw instance.

Plain Python, no Pyomo and no shared code with the model builder, so a mistake in
the formulation cannot hide itself here. It accepts any plan: the solver's, a
user's, or the status quo. Every plan outopt reports has passed it.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
import sys
from dataclasses import dataclass, field

from outopt.schema import INHOUSE, Instance, group_functions, group_soft

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
    soft_violations: list[dict] = field(default_factory=list)  # broken soft rules: rule, amount, unit, penalty, cost, priority, reason
    penalty: float = 0.0  # sum of soft penalties, already taken off `objective`
    discounts: dict[str, float] = field(default_factory=dict)  # yearly volume discount by vendor
    bundle_savings: dict[str, float] = field(default_factory=dict)  # yearly saving of bundle prices by vendor
    changes: int = 0  # functions whose provider differs from the status quo
    level_violation: dict[int, float] = field(default_factory=dict)  # weighted violation per priority level
    risk: float = 0.0  # risk score of outsourced spend at list price, spend-weighted (0 with none outsourced)

    @property
    def net_benefit(self) -> float:
        """Net yearly benefit before soft-rule penalties."""
        return self.objective + self.penalty

    @property
    def feasible(self) -> bool:
        return not self.violations


def as_plan(plan) -> dict[str, str]:
    """Accept a mapping, a DataFrame with function/provider columns, or a list of such dicts."""
    pd = sys.modules.get("pandas")  # a DataFrame means pandas is imported; solving needs no pandas
    if pd is not None and isinstance(plan, pd.DataFrame):
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


def volume_discount(tiers, kind: str, base: float) -> float:
    """Yearly discount of a vendor's tiers on its offer spend ``base`` (see models/portfolio.md)."""
    if kind == "all_units":
        pct = max((t.percent for t in tiers if base >= t.threshold), default=0.0)
        return pct / 100 * base
    total = 0.0
    for k, t in enumerate(tiers):
        top = tiers[k + 1].threshold if k + 1 < len(tiers) else float("inf")
        total += t.percent / 100 * max(0.0, min(base, top) - t.threshold)
    return total


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
    risk_spend = list_spend = 0.0  # sum of risk score x yearly spend at list price, and that spend
    paid_cost: dict[str, float] = {}
    for f in instance.functions:
        provider = plan.get(f.id)
        c_in = f.inhouse.cost if f.inhouse else 0.0
        row = {"function": f.id, "provider": provider, "yearly_cost": 0.0, "one_off": 0.0, "benefit": 0.0}
        rows.append(row)
        if provider is None:
            violations.append(f"function '{f.id}' has no provider in the plan")
            continue
        exit_fee = f.exit_fee if provider != f.current else 0.0
        if provider == INHOUSE:
            if f.inhouse is None:
                violations.append(f"function '{f.id}' cannot be done in-house but the plan keeps it")
                continue
            operating += c_in
            transition += exit_fee
            objective -= exit_fee / H
            row["yearly_cost"] = c_in
            if exit_fee:
                row.update(one_off=exit_fee, benefit=-exit_fee / H)
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
        cost = offer.cost * (1 - offer.stay_discount / 100) if f.current == provider else offer.cost
        paid_cost[f.id] = cost
        yearly = cost + offer.commission * f.revenue
        one_off = (0.0 if f.current == provider else offer.transition) + exit_fee
        freed = sum(u * resources[r].redeploy_value for r, u in f.inhouse.uses.items()) if f.inhouse else 0.0
        v_in = f.inhouse.value if f.inhouse else 0.0
        benefit = c_in - v_in + freed - yearly - one_off / H + offer.value
        operating += yearly
        transition += one_off
        objective += benefit
        spend[provider] += yearly
        load[provider] += offer.load
        risk_spend += yearly * (offer.risk if offer.risk is not None else vendors[provider].risk or 0.0)
        list_spend += yearly
        row.update(yearly_cost=yearly, one_off=one_off, benefit=benefit)

    # bundle prices and volume discounts, on each vendor's offer spend
    savings = {v: 0.0 for v in engaged}
    discounts = {v: 0.0 for v in engaged}
    for v in engaged:
        for b in vendors[v].bundles:
            if all(plan.get(f) == v for f in b.functions):  # the lower of the bundle price and the costs is paid
                savings[v] += max(0.0, sum(paid_cost.get(f, 0.0) for f in b.functions) - b.price)
        base = spend[v] - savings[v]
        if vendors[v].discounts:
            discounts[v] = volume_discount(vendors[v].discounts, vendors[v].discount_kind, base)
        reduction = savings[v] + discounts[v]
        spend[v] -= reduction
        operating -= reduction
        objective += reduction

    for v in engaged:
        onboarding = 0.0 if v in served_now else vendors[v].onboarding
        operating += vendors[v].retainer
        transition += onboarding
        spend[v] += vendors[v].retainer
        risk_spend += vendors[v].retainer * (vendors[v].risk or 0.0)
        list_spend += vendors[v].retainer
        objective -= vendors[v].retainer + onboarding / H

    soft_violations: list[dict] = []
    levels: dict[int, float] = {}
    penalty = [0.0]

    def limit(place: str, excess: float, tol: float, soft, unit: str, message: str, reason: str = "") -> None:
        """Record a broken rule: a violation when hard, a priced soft violation when soft."""
        nonlocal objective
        excess = max(0.0, excess)
        if soft is None:
            if excess > tol:
                violations.append(message)
            return
        cost = (soft.penalty or 0.0) * excess
        objective -= cost
        penalty[0] += cost
        if soft.priority is not None:
            levels[soft.priority] = levels.get(soft.priority, 0.0) + soft.weight * excess
        if excess > tol:
            soft_violations.append({"rule": place, "amount": excess, "unit": unit, "penalty": soft.penalty or 0.0,
                                    "cost": cost, "priority": soft.priority, "reason": reason, "detail": message})

    budget = instance.budget
    for name, cost in (("operating", operating), ("transition", transition)):
        cap = getattr(budget, name)
        if cap is not None:
            what = "recurring" if name == "operating" else "one-off"
            limit(f"budget.{name}", cost - cap, _tol(cap), budget.soft.get(name), instance.currency,
                  f"budget.{name}: {what} cost {cost:,.2f} exceeds {cap:,.2f}")
    for i, r in enumerate(instance.resources):
        limit(f"resources[{i}].capacity", use[r.id] - r.capacity, _tol(r.capacity), r.soft, "units",
              f"resources[{i}].capacity: '{r.id}' uses {use[r.id]:g} of {r.capacity:g}")
    total_spend = sum(spend.values())
    count = {v: sum(1 for p in plan.values() if p == v) for v in vendors}
    for i, v in enumerate(instance.vendors):
        if v.capacity is not None:
            limit(f"vendors[{i}].capacity", load[v.id] - v.capacity, _tol(v.capacity), v.soft.get("capacity"), "units",
                  f"vendors[{i}].capacity: '{v.id}' carries load {load[v.id]:g} of {v.capacity:g}")
        if v.max_share is not None:
            limit(f"vendors[{i}].max_share", spend[v.id] - v.max_share * total_spend, _tol(total_spend),
                  v.soft.get("max_share"), instance.currency,
                  f"vendors[{i}].max_share: '{v.id}' has {spend[v.id] / total_spend if total_spend else 0:.2%} of "
                  f"outsourced spend, above {v.max_share:.2%}")
        if v.id in engaged and v.min_spend is not None:
            limit(f"vendors[{i}].min_spend", v.min_spend - spend[v.id], _tol(v.min_spend), v.soft.get("min_spend"),
                  instance.currency,
                  f"vendors[{i}].min_spend: '{v.id}' is engaged with spend {spend[v.id]:,.2f}, below its minimum {v.min_spend:,.2f}")
        if v.id in engaged and v.min_functions is not None:
            limit(f"vendors[{i}].min_functions", v.min_functions - count[v.id], 1e-9, v.soft.get("min_functions"),
                  "functions",
                  f"vendors[{i}].min_functions: '{v.id}' is engaged with {count[v.id]} function(s), below its minimum {v.min_functions}")
    for g, group in enumerate(instance.vendor_groups):
        where = f"vendor_groups[{g}]"
        g_spend = sum(spend[v] for v in group.vendors if v in spend)
        g_count = sum(count.get(v, 0) for v in group.vendors)
        share = g_spend / total_spend if total_spend else 0.0
        if group.min_share is not None:
            limit(f"{where}.min_share", group.min_share * total_spend - g_spend, _tol(total_spend), group.soft,
                  instance.currency, f"{where}.min_share: group '{group.id}' has {share:.2%} of outsourced spend, "
                  f"below {group.min_share:.2%}", group.reason)
        if group.max_share is not None:
            limit(f"{where}.max_share", g_spend - group.max_share * total_spend, _tol(total_spend), group.soft,
                  instance.currency, f"{where}.max_share: group '{group.id}' has {share:.2%} of outsourced spend, "
                  f"above {group.max_share:.2%}", group.reason)
        if group.min_count is not None:
            limit(f"{where}.min_count", group.min_count - g_count, 1e-9, group.soft, "functions",
                  f"{where}.min_count: group '{group.id}' has {g_count} function(s), fewer than {group.min_count}",
                  group.reason)
        if group.max_count is not None:
            limit(f"{where}.max_count", g_count - group.max_count, 1e-9, group.soft, "functions",
                  f"{where}.max_count: group '{group.id}' has {g_count} function(s), more than {group.max_count}",
                  group.reason)
    rules = instance.rules
    if rules.max_vendors is not None:
        limit("rules.max_vendors", len(engaged) - rules.max_vendors, 1e-9, rules.soft.get("max_vendors"), "vendors",
              f"rules.max_vendors: {len(engaged)} vendors engaged, at most {rules.max_vendors}")
    for g, entry in enumerate(rules.separate):
        group, soft = group_functions(entry), group_soft(entry)
        reason = getattr(entry, "reason", "")
        chosen = [plan.get(f) for f in group if plan.get(f) not in (None, INHOUSE)]
        shared = [v for v in sorted(set(chosen)) if chosen.count(v) > 1]
        if soft is None:
            for v in shared:
                members = [f for f in group if plan.get(f) == v]
                violations.append(f"rules.separate[{g}]: {', '.join(members)} all go to '{v}'"
                                  + (f" ({reason})" if reason else ""))
        else:  # violation: members beyond one at each vendor, summed over vendors
            excess = sum(chosen.count(v) - 1 for v in shared)
            detail = "; ".join(f"{', '.join(f for f in group if plan.get(f) == v)} all go to '{v}'" for v in shared)
            limit(f"rules.separate[{g}]", float(excess), 0.5, soft, "functions",
                  f"rules.separate[{g}]: {detail}" + (f" ({reason})" if reason else ""), reason)
    for g, entry in enumerate(rules.together):
        group, soft = group_functions(entry), group_soft(entry)
        reason = getattr(entry, "reason", "")
        providers = {plan.get(f) for f in group}
        detail = ", ".join(f"{f}->{plan.get(f)}" for f in group)
        if soft is None:
            if len(providers) > 1:
                violations.append(f"rules.together[{g}]: providers differ ({detail})" + (f" ({reason})" if reason else ""))
        else:  # violation: 1 when the members do not all share one provider
            limit(f"rules.together[{g}]", float(len(providers) > 1), 0.5, soft, "groups",
                  f"rules.together[{g}]: providers differ ({detail})" + (f" ({reason})" if reason else ""), reason)
    for k, lock in enumerate(rules.locks):
        got = plan.get(lock.function)
        limit(f"rules.locks[{k}]", float(got != lock.provider), 0.5, lock.soft, "locks",
              f"rules.locks[{k}]: '{lock.function}' goes to '{got}', locked to '{lock.provider}'"
              + (f" ({lock.reason})" if lock.reason else ""), lock.reason)
    for k, ban in enumerate(rules.forbid):
        hits = [f for f in ban.functions if plan.get(f) in ban.vendors]
        limit(f"rules.forbid[{k}]", float(len(hits)), 0.5, ban.soft, "assignments",
              f"rules.forbid[{k}]: " + ", ".join(f"'{f}' goes to '{plan.get(f)}'" for f in hits) + ", which is forbidden"
              + (f" ({ban.reason})" if ban.reason else ""), ban.reason)
    outsourced = {f for f, p in plan.items() if p not in (None, INHOUSE)}
    for k, req in enumerate(rules.requires):
        broken = req.function in outsourced and req.requires not in outsourced
        limit(f"rules.requires[{k}]", float(broken), 0.5, req.soft, "rules",
              f"rules.requires[{k}]: '{req.function}' is outsourced but '{req.requires}' is not"
              + (f" ({req.reason})" if req.reason else ""), req.reason)
    for k, ex in enumerate(rules.exclusive):
        members = [f for f in ex.functions if f in outsourced]
        limit(f"rules.exclusive[{k}]", float(len(members) - 1), 0.5, ex.soft, "functions",
              f"rules.exclusive[{k}]: {', '.join(members)} are all outsourced, at most one may be"
              + (f" ({ex.reason})" if ex.reason else ""), ex.reason)
    changes = 0
    for f in instance.functions:
        before = f.current if f.current is not None else (INHOUSE if f.inhouse is not None else None)
        changes += plan.get(f.id) != before
    if rules.max_changes is not None:
        limit("rules.max_changes", float(changes - rules.max_changes), 0.5, rules.soft.get("max_changes"), "changes",
              f"rules.max_changes: {changes} functions change provider, at most {rules.max_changes}")

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
        risk=risk_spend / list_spend if list_spend > 0 else 0.0,
        soft_violations=soft_violations,
        penalty=penalty[0],
        discounts={v: d for v, d in discounts.items() if d},
        bundle_savings={v: x for v, x in savings.items() if x},
        changes=changes,
        level_violation=levels,
    )
