"""The independent verifier: recompute every cost, benefit and limit of a plan from the raw instance.

Plain Python, no Pyomo and no shared code with the model builder, so a mistake in
the formulation cannot hide itself here. It accepts any plan: the solver's, a
user's, or the status quo. Every plan outopt reports has passed it.
"""

from __future__ import annotations

import sys
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field

from outopt.instance.numerics import reached, tolerance
from outopt.instance.schema import INHOUSE, Instance, group_functions, group_soft

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


def volume_discount(tiers, kind: str, base: float) -> float:
    """Yearly discount of a vendor's tiers on its offer spend ``base`` (see models/portfolio.md)."""
    if kind == "all_units":  # a threshold is reached within its tolerance (outopt.instance.numerics)
        pct = max((t.percent for t in tiers if reached(base, t.threshold)), default=0.0)
        return pct / 100 * base
    total = 0.0
    for k, t in enumerate(tiers):
        top = tiers[k + 1].threshold if k + 1 < len(tiers) else float("inf")
        total += t.percent / 100 * max(0.0, min(base, top) - t.threshold)
    return total


@dataclass
class _Tally:
    """A plan's figures as the verifier adds them up, function by function."""

    plan: dict[str, str]
    operating: float = 0.0
    transition: float = 0.0
    objective: float = 0.0
    spend: dict[str, float] = field(default_factory=dict)
    load: dict[str, float] = field(default_factory=dict)
    use: dict[str, float] = field(default_factory=dict)
    engaged: list[str] = field(default_factory=list)
    rows: list[dict] = field(default_factory=list)
    paid_cost: dict[str, float] = field(default_factory=dict)  # offer cost as paid (stay discounts applied)
    risk_spend: float = 0.0  # sum of risk score x yearly spend at list price
    list_spend: float = 0.0
    savings: dict[str, float] = field(default_factory=dict)
    discounts: dict[str, float] = field(default_factory=dict)
    violations: list[str] = field(default_factory=list)
    soft_violations: list[dict] = field(default_factory=list)
    levels: dict[int, float] = field(default_factory=dict)
    penalty: float = 0.0

    def count(self, v: str) -> int:
        return sum(1 for p in self.plan.values() if p == v)

    def limit(self, place: str, excess: float, tol: float, soft, unit: str, message: str, reason: str = "") -> None:
        """Record a broken rule: a violation when hard, a priced soft violation when soft."""
        excess = max(0.0, excess)
        if soft is None:
            if excess > tol:
                self.violations.append(message)
            return
        cost = (soft.penalty or 0.0) * excess
        self.objective -= cost
        self.penalty += cost
        if soft.priority is not None:
            self.levels[soft.priority] = self.levels.get(soft.priority, 0.0) + soft.weight * excess
        if excess > tol:
            self.soft_violations.append({"rule": place, "amount": excess, "unit": unit, "penalty": soft.penalty or 0.0,
                                         "cost": cost, "priority": soft.priority, "reason": reason, "detail": message})


def verify(instance: Instance, plan) -> Verification:
    """Recompute a plan's figures from the raw instance and list every broken rule."""
    t = _Tally(as_plan(plan))
    t.violations.extend(f"plan names function '{fid}', which is not in the instance"
                        for fid in t.plan if fid not in {f.id for f in instance.functions})
    add_functions(instance, t)
    add_bundles_and_discounts(instance, t)
    add_engagement(instance, t)
    for check in CHECKS:
        check(instance, t)
    return Verification(
        objective=t.objective,
        operating_cost=t.operating,
        transition_cost=t.transition,
        engaged=t.engaged,
        spend={v: s for v, s in t.spend.items() if v in t.engaged},
        resource_use=t.use,
        vendor_load={v: x for v, x in t.load.items() if v in t.engaged},
        rows=t.rows,
        violations=t.violations,
        risk=t.risk_spend / t.list_spend if t.list_spend > 0 else 0.0,
        soft_violations=t.soft_violations,
        penalty=t.penalty,
        discounts={v: d for v, d in t.discounts.items() if d},
        bundle_savings={v: x for v, x in t.savings.items() if x},
        changes=changes(instance, t.plan),
        level_violation=t.levels,
    )


# --- the plan's figures ---------------------------------------------------------------


def add_functions(instance: Instance, t: _Tally) -> None:
    """Each function's provider, cost, one-off and benefit (the `one provider` family: one provider each,
    an offer for it, never a core function outsourced)."""
    H = instance.horizon
    offers = {(o.function, o.vendor): o for o in instance.offers}
    vendors = {v.id: v for v in instance.vendors}
    resources = {r.id: r for r in instance.resources}
    t.spend = {v: 0.0 for v in vendors}
    t.load = {v: 0.0 for v in vendors}
    t.use = {r: 0.0 for r in resources}
    for f in instance.functions:
        provider = t.plan.get(f.id)
        c_in = f.inhouse.cost if f.inhouse else 0.0
        row = {"function": f.id, "provider": provider, "yearly_cost": 0.0, "one_off": 0.0, "benefit": 0.0}
        t.rows.append(row)
        if provider is None:
            t.violations.append(f"function '{f.id}' has no provider in the plan")
            continue
        exit_fee = f.exit_fee if provider != f.current else 0.0
        if provider == INHOUSE:
            if f.inhouse is None:
                t.violations.append(f"function '{f.id}' cannot be done in-house but the plan keeps it")
                continue
            t.operating += c_in
            t.transition += exit_fee
            t.objective -= exit_fee / H
            row["yearly_cost"] = c_in
            if exit_fee:
                row.update(one_off=exit_fee, benefit=-exit_fee / H)
            for r, u in f.inhouse.uses.items():
                t.use[r] += u
            continue
        offer = offers.get((f.id, provider))
        if offer is None:
            t.violations.append(f"function '{f.id}' goes to '{provider}', which has no offer for it")
            continue
        if f.core:
            t.violations.append(f"core function '{f.id}' is outsourced to '{provider}'")
        if provider not in t.engaged:
            t.engaged.append(provider)
        cost = offer.cost * (1 - offer.stay_discount / 100) if f.current == provider else offer.cost
        t.paid_cost[f.id] = cost
        yearly = cost + offer.commission * f.revenue
        one_off = (0.0 if f.current == provider else offer.transition) + exit_fee
        freed = sum(u * resources[r].redeploy_value for r, u in f.inhouse.uses.items()) if f.inhouse else 0.0
        v_in = f.inhouse.value if f.inhouse else 0.0
        benefit = c_in - v_in + freed - yearly - one_off / H + offer.value
        t.operating += yearly
        t.transition += one_off
        t.objective += benefit
        t.spend[provider] += yearly
        t.load[provider] += offer.load
        t.risk_spend += yearly * (offer.risk if offer.risk is not None else vendors[provider].risk or 0.0)
        t.list_spend += yearly
        row.update(yearly_cost=yearly, one_off=one_off, benefit=benefit)


def add_bundles_and_discounts(instance: Instance, t: _Tally) -> None:
    """Bundle prices, then volume discounts, on each engaged vendor's offer spend (the bundle and tier families)."""
    vendors = {v.id: v for v in instance.vendors}
    t.savings = {v: 0.0 for v in t.engaged}
    t.discounts = {v: 0.0 for v in t.engaged}
    for v in t.engaged:
        for b in vendors[v].bundles:
            if all(t.plan.get(f) == v for f in b.functions):  # the lower of the bundle price and the costs is paid
                t.savings[v] += max(0.0, sum(t.paid_cost.get(f, 0.0) for f in b.functions) - b.price)
        base = t.spend[v] - t.savings[v]
        if vendors[v].discounts:
            t.discounts[v] = volume_discount(vendors[v].discounts, vendors[v].discount_kind, base)
        reduction = t.savings[v] + t.discounts[v]
        t.spend[v] -= reduction
        t.operating -= reduction
        t.objective += reduction


def add_engagement(instance: Instance, t: _Tally) -> None:
    """Retainer and onboarding of every engaged vendor (onboarding is free for a vendor serving some function now)."""
    H = instance.horizon
    vendors = {v.id: v for v in instance.vendors}
    served_now = {f.current for f in instance.functions if f.current not in (None, INHOUSE)}
    for v in t.engaged:
        onboarding = 0.0 if v in served_now else vendors[v].onboarding
        t.operating += vendors[v].retainer
        t.transition += onboarding
        t.spend[v] += vendors[v].retainer
        t.risk_spend += vendors[v].retainer * (vendors[v].risk or 0.0)
        t.list_spend += vendors[v].retainer
        t.objective -= vendors[v].retainer + onboarding / H


def changes(instance: Instance, plan: Mapping[str, str]) -> int:
    """Functions whose provider differs from the status quo (a function with none always counts)."""
    count = 0
    for f in instance.functions:
        before = f.current if f.current is not None else (INHOUSE if f.inhouse is not None else None)
        count += plan.get(f.id) != before
    return count


def _because(reason: str) -> str:
    return f" ({reason})" if reason else ""


# --- one check per limit family, named as in models/portfolio.md -------------------------


def check_operating_budget(instance: Instance, t: _Tally) -> None:
    cap = instance.budget.operating
    if cap is not None:
        t.limit("budget.operating", t.operating - cap, tolerance(cap), instance.budget.soft.get("operating"),
                instance.currency, f"budget.operating: recurring cost {t.operating:,.2f} exceeds {cap:,.2f}")


def check_transition_budget(instance: Instance, t: _Tally) -> None:
    cap = instance.budget.transition
    if cap is not None:
        t.limit("budget.transition", t.transition - cap, tolerance(cap), instance.budget.soft.get("transition"),
                instance.currency, f"budget.transition: one-off cost {t.transition:,.2f} exceeds {cap:,.2f}")


def check_resource_capacity(instance: Instance, t: _Tally) -> None:
    for i, r in enumerate(instance.resources):
        t.limit(f"resources[{i}].capacity", t.use[r.id] - r.capacity, tolerance(r.capacity), r.soft, "units",
                f"resources[{i}].capacity: '{r.id}' uses {t.use[r.id]:g} of {r.capacity:g}")


def check_vendor_capacity(instance: Instance, t: _Tally) -> None:
    for i, v in enumerate(instance.vendors):
        if v.capacity is not None:
            t.limit(f"vendors[{i}].capacity", t.load[v.id] - v.capacity, tolerance(v.capacity),
                    v.soft.get("capacity"), "units",
                    f"vendors[{i}].capacity: '{v.id}' carries load {t.load[v.id]:g} of {v.capacity:g}")


def check_max_share(instance: Instance, t: _Tally) -> None:
    total = sum(t.spend.values())
    for i, v in enumerate(instance.vendors):
        if v.max_share is not None:
            t.limit(f"vendors[{i}].max_share", t.spend[v.id] - v.max_share * total, tolerance(total),
                    v.soft.get("max_share"), instance.currency,
                    f"vendors[{i}].max_share: '{v.id}' has {t.spend[v.id] / total if total else 0:.2%} of "
                    f"outsourced spend, above {v.max_share:.2%}")


def check_min_spend(instance: Instance, t: _Tally) -> None:
    for i, v in enumerate(instance.vendors):
        if v.id in t.engaged and v.min_spend is not None:
            t.limit(f"vendors[{i}].min_spend", v.min_spend - t.spend[v.id], tolerance(v.min_spend),
                    v.soft.get("min_spend"), instance.currency,
                    f"vendors[{i}].min_spend: '{v.id}' is engaged with spend {t.spend[v.id]:,.2f}, "
                    f"below its minimum {v.min_spend:,.2f}")


def check_min_functions(instance: Instance, t: _Tally) -> None:
    for i, v in enumerate(instance.vendors):
        if v.id in t.engaged and v.min_functions is not None:
            n = t.count(v.id)
            t.limit(f"vendors[{i}].min_functions", v.min_functions - n, tolerance(v.min_functions), v.soft.get("min_functions"),
                    "functions", f"vendors[{i}].min_functions: '{v.id}' is engaged with {n} function(s), "
                    f"below its minimum {v.min_functions}")


def check_group_share(instance: Instance, t: _Tally) -> None:
    total = sum(t.spend.values())
    for g, group in enumerate(instance.vendor_groups):
        where = f"vendor_groups[{g}]"
        g_spend = sum(t.spend[v] for v in group.vendors if v in t.spend)
        share = g_spend / total if total else 0.0
        if group.min_share is not None:
            t.limit(f"{where}.min_share", group.min_share * total - g_spend, tolerance(total), group.soft,
                    instance.currency, f"{where}.min_share: group '{group.id}' has {share:.2%} of outsourced spend, "
                    f"below {group.min_share:.2%}", group.reason)
        if group.max_share is not None:
            t.limit(f"{where}.max_share", g_spend - group.max_share * total, tolerance(total), group.soft,
                    instance.currency, f"{where}.max_share: group '{group.id}' has {share:.2%} of outsourced spend, "
                    f"above {group.max_share:.2%}", group.reason)


def check_group_count(instance: Instance, t: _Tally) -> None:
    for g, group in enumerate(instance.vendor_groups):
        where = f"vendor_groups[{g}]"
        n = sum(t.count(v) for v in group.vendors)
        if group.min_count is not None:
            t.limit(f"{where}.min_count", group.min_count - n, tolerance(group.min_count), group.soft, "functions",
                    f"{where}.min_count: group '{group.id}' has {n} function(s), fewer than {group.min_count}",
                    group.reason)
        if group.max_count is not None:
            t.limit(f"{where}.max_count", n - group.max_count, tolerance(group.max_count), group.soft, "functions",
                    f"{where}.max_count: group '{group.id}' has {n} function(s), more than {group.max_count}",
                    group.reason)


def check_max_vendors(instance: Instance, t: _Tally) -> None:
    rules = instance.rules
    if rules.max_vendors is not None:
        t.limit("rules.max_vendors", len(t.engaged) - rules.max_vendors, tolerance(rules.max_vendors), rules.soft.get("max_vendors"),
                "vendors", f"rules.max_vendors: {len(t.engaged)} vendors engaged, at most {rules.max_vendors}")


def check_separate(instance: Instance, t: _Tally) -> None:
    plan = t.plan
    for g, entry in enumerate(instance.rules.separate):
        group, soft = group_functions(entry), group_soft(entry)
        reason = getattr(entry, "reason", "")
        chosen = [plan.get(f) for f in group if plan.get(f) not in (None, INHOUSE)]
        shared = [v for v in sorted(set(chosen)) if chosen.count(v) > 1]
        if soft is None:
            for v in shared:
                members = [f for f in group if plan.get(f) == v]
                t.violations.append(f"rules.separate[{g}]: {', '.join(members)} all go to '{v}'" + _because(reason))
        else:  # violation: members beyond one at each vendor, summed over vendors
            excess = sum(chosen.count(v) - 1 for v in shared)
            detail = "; ".join(f"{', '.join(f for f in group if plan.get(f) == v)} all go to '{v}'" for v in shared)
            t.limit(f"rules.separate[{g}]", float(excess), 0.5, soft, "functions",
                    f"rules.separate[{g}]: {detail}" + _because(reason), reason)


def check_together(instance: Instance, t: _Tally) -> None:
    for g, entry in enumerate(instance.rules.together):
        group, soft = group_functions(entry), group_soft(entry)
        reason = getattr(entry, "reason", "")
        providers = {t.plan.get(f) for f in group}
        message = (f"rules.together[{g}]: providers differ ({', '.join(f'{f}->{t.plan.get(f)}' for f in group)})"
                   + _because(reason))
        if soft is None:
            if len(providers) > 1:
                t.violations.append(message)
        else:  # violation: 1 when the members do not all share one provider
            t.limit(f"rules.together[{g}]", float(len(providers) > 1), 0.5, soft, "groups", message, reason)


def check_lock(instance: Instance, t: _Tally) -> None:
    for k, lock in enumerate(instance.rules.locks):
        got = t.plan.get(lock.function)
        t.limit(f"rules.locks[{k}]", float(got != lock.provider), 0.5, lock.soft, "locks",
                f"rules.locks[{k}]: '{lock.function}' goes to '{got}', locked to '{lock.provider}'"
                + _because(lock.reason), lock.reason)


def check_forbid(instance: Instance, t: _Tally) -> None:
    for k, ban in enumerate(instance.rules.forbid):
        hits = [f for f in ban.functions if t.plan.get(f) in ban.vendors]
        t.limit(f"rules.forbid[{k}]", float(len(hits)), 0.5, ban.soft, "assignments",
                f"rules.forbid[{k}]: " + ", ".join(f"'{f}' goes to '{t.plan.get(f)}'" for f in hits)
                + ", which is forbidden" + _because(ban.reason), ban.reason)


def _outsourced(t: _Tally) -> set[str]:
    return {f for f, p in t.plan.items() if p not in (None, INHOUSE)}


def check_requires(instance: Instance, t: _Tally) -> None:
    outsourced = _outsourced(t)
    for k, req in enumerate(instance.rules.requires):
        broken = req.function in outsourced and req.requires not in outsourced
        t.limit(f"rules.requires[{k}]", float(broken), 0.5, req.soft, "rules",
                f"rules.requires[{k}]: '{req.function}' is outsourced but '{req.requires}' is not"
                + _because(req.reason), req.reason)


def check_exclusive(instance: Instance, t: _Tally) -> None:
    outsourced = _outsourced(t)
    for k, ex in enumerate(instance.rules.exclusive):
        members = [f for f in ex.functions if f in outsourced]
        t.limit(f"rules.exclusive[{k}]", float(len(members) - 1), 0.5, ex.soft, "functions",
                f"rules.exclusive[{k}]: {', '.join(members)} are all outsourced, at most one may be"
                + _because(ex.reason), ex.reason)


def check_max_changes(instance: Instance, t: _Tally) -> None:
    rules = instance.rules
    if rules.max_changes is not None:
        n = changes(instance, t.plan)
        t.limit("rules.max_changes", float(n - rules.max_changes), tolerance(rules.max_changes), rules.soft.get("max_changes"), "changes",
                f"rules.max_changes: {n} functions change provider, at most {rules.max_changes}")


CHECKS = (
    check_operating_budget, check_transition_budget, check_resource_capacity, check_vendor_capacity, check_max_share,
    check_min_spend, check_min_functions, check_group_share, check_group_count, check_max_vendors, check_separate,
    check_together, check_lock, check_forbid, check_requires, check_exclusive, check_max_changes,
)
"""Every limit family the verifier checks, in the order its messages are listed."""
