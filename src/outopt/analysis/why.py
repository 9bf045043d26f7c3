"""Why a plan outsources a function at a loss: what holds the function with its provider.

A function's yearly benefit is counted against keeping it in-house; a negative one (midsize: freight,
-211,220 a year) reads like a mistake unless something holds the function where it is. :func:`why_outsourced`
names what does, each with its rule's place and reason: no in-house option, a lock, a bundle taken whole,
a `together` group, a function that requires it, the vendor's minimum commitment or a vendor group's
minimum, the status quo (an exit fee, a change counted against `rules.max_changes`), in-house staff the
function would need and the plan has not got. When none of these applies, the function is there because
the plan as a whole is better with it.
"""

from __future__ import annotations

from outopt.instance.numerics import tolerance
from outopt.instance.schema import INHOUSE, Instance, group_functions
from outopt.verifier.portfolio import Verification, status_quo, verify


def _with_reason(text: str, reason: str) -> str:
    return f"{text} ({reason})" if reason else text


def _held(inst: Instance, plan: dict[str, str], check: Verification, f: str, v: str) -> list[str]:
    """The rules and terms that hold function f with vendor v in the plan."""
    fn, vendor = inst.function(f), inst.vendor(v)
    out = []
    if fn.inhouse is None:
        out.append("it has no in-house option, so a vendor must take it")
    for k, lock in enumerate(inst.rules.locks):
        if lock.function == f and lock.provider == v:
            out.append(_with_reason(f"locked to {v} by rules.locks[{k}]", lock.reason))
    for k, b in enumerate(vendor.bundles):
        if f in b.functions and all(plan.get(g) == v for g in b.functions):
            others = ", ".join(g for g in b.functions if g != f)
            out.append(f"in {v}'s bundle '{b.id or f'bundle{k}'}' with {others}, priced {b.price:,.0f} together")
    for k, group in enumerate(inst.rules.together):
        members = group_functions(group)
        if f in members:
            others = ", ".join(g for g in members if g != f)
            out.append(_with_reason(f"kept with {others} by rules.together[{k}]", getattr(group, "reason", "")))
    for k, req in enumerate(inst.rules.requires):
        if req.requires == f and plan.get(req.function, INHOUSE) != INHOUSE:
            out.append(_with_reason(f"outsourcing {req.function} requires it (rules.requires[{k}])", req.reason))
    if vendor.min_functions is not None:
        out.append(f"it counts toward {v}'s minimum of {vendor.min_functions} functions")
    if vendor.min_spend is not None:
        out.append(f"it counts toward {v}'s minimum spend of {vendor.min_spend:,.0f} a year")
    for g in inst.vendor_groups:
        if v in g.vendors and (g.min_share is not None or g.min_count is not None):
            out.append(_with_reason(f"it counts toward vendor group '{g.id}''s minimum", g.reason))
    if fn.current == v:
        text = f"it stays with its current vendor {v}"
        if fn.exit_fee:
            text += f"; leaving costs an exit fee of {fn.exit_fee:,.0f}"
        if inst.rules.max_changes is not None:
            text += f"; moving it counts against rules.max_changes ({check.changes} of {inst.rules.max_changes} used)"
        out.append(text)
    if fn.inhouse is not None:
        capacity = {r.id: r.capacity for r in inst.resources}
        for r, units in fn.inhouse.uses.items():
            free = capacity.get(r, 0.0) - check.resource_use.get(r, 0.0)
            if units > free + tolerance(capacity.get(r, 0.0)):
                out.append(f"in-house it would need {units:g} {r}, and the plan leaves {max(free, 0.0):g} free")
    return out


def why_outsourced(instance: Instance, plan: dict[str, str], check: Verification | None = None) -> dict[str, str]:
    """For each function the plan gives to a vendor at a negative yearly benefit (by the verifier's
    recomputation), a sentence saying what holds it there."""
    check = check if check is not None else verify(instance, plan)
    out = {}
    for row in check.rows:
        f, v = row["function"], row["provider"]
        if v in (None, INHOUSE) or row["benefit"] >= -tolerance(row["benefit"]):
            continue
        held = _held(instance, plan, check, f, v)
        out[f] = "; ".join(held) if held else ("the plan as a whole is better with it (retainers shared, volume "
                                               "discounts, limits met elsewhere)")
    return out


def status_quo_breaks(instance: Instance) -> str:
    """What today's arrangement (the functions' ``current`` providers) breaks, in a phrase: the first rule
    and how many more ("" when it breaks none or there is no status quo)."""
    quo = status_quo(instance)
    broken = verify(instance, quo).violations if quo is not None else []
    if not broken:
        return ""
    more = f", and {len(broken) - 1} more rule{'s' if len(broken) > 2 else ''}" if len(broken) > 1 else ""
    return f"it breaks {broken[0]}{more}"
