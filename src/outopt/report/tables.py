"""Result tables of a solution, as DataFrames: what the workbook, CSV, HTML report and charts show.

Every figure comes from the verifier's recomputation (``Solution.verification``),
never from solver values.
"""

from __future__ import annotations

import pandas as pd

from outopt.analysis.why import why_outsourced
from outopt.instance.numerics import tolerance
from outopt.instance.schema import INHOUSE
from outopt.solver.solution import Solution

DECISION_COLUMNS = ["function", "name", "provider", "provider_name", "yearly_cost", "one_off", "benefit",
                    "current", "changed", "why"]

HEADERS = {
    "provider_name": "provider name", "yearly_cost": "yearly cost", "one_off": "one-off", "benefit": "benefit / year",
    "why": "why, at a negative benefit", "all_inhouse": "if all in-house", "freed": "freed by outsourcing",
    "spare": "spare capacity", "utilisation": "use / capacity", "limit_value": "limit", "closeness": "use / limit",
    "spend": "spend / year", "share": "share of spend", "objective": "net benefit / year", "value": "limit at",
    "net_benefit": "net benefit", "solve_time_s": "solve time (s)",
}
"""Column headers in words for tables people read (the report); files and DataFrames keep the field names."""


def heading(column: str) -> str:
    """A column's header in words: ``limit_value`` -> ``limit``, ``break_even_cost`` -> ``break even cost``."""
    return HEADERS.get(column, column.replace("_", " "))


def decisions(sol: Solution) -> pd.DataFrame:
    """One row per function: provider, yearly cost, one-off cost, yearly benefit, change from current, and
    for a function outsourced at a negative yearly benefit, what holds it there (``why``)."""
    a = sol.assignments
    if a.empty:
        return pd.DataFrame(columns=DECISION_COLUMNS)
    names = {v.id: v.name or v.id for v in sol.instance.vendors}
    names[INHOUSE] = "in-house"
    a = a.copy()
    a["provider_name"] = a["provider"].map(lambda p: names.get(p, p))
    why = why_outsourced(sol.instance, sol.plan, sol.verification)
    a["why"] = a["function"].map(lambda f: why.get(f, ""))
    return a[DECISION_COLUMNS]


def totals(sol: Solution) -> pd.DataFrame:
    """Status, objective, bound, gap and the plan's totals against all in-house and the status quo."""
    rows = [("status", sol.status.value), ("net_benefit", sol.objective), ("bound", sol.bound), ("gap", sol.gap),
            ("currency", sol.instance.currency), ("solve_time_s", round(sol.solve_time, 3))]
    rows += list(sol.totals().items())
    return pd.DataFrame(rows, columns=["metric", "value"])


def vendor_spend(sol: Solution) -> pd.DataFrame:
    """Engaged vendors: yearly spend, share of outsourced spend, load against capacity, functions."""
    cols = ["vendor", "name", "spend", "share", "load", "capacity", "functions"]
    v = sol.vendor_spend
    if v.empty:
        return pd.DataFrame(columns=cols)
    total = v["spend"].sum()
    vendors = {x.id: x for x in sol.instance.vendors}
    v = v.copy()
    v["name"] = v["vendor"].map(lambda k: vendors[k].name or k)
    v["share"] = v["spend"] / total if total else 0.0
    v["capacity"] = v["vendor"].map(lambda k: vendors[k].capacity)
    return v[cols].sort_values("spend", ascending=False, ignore_index=True)


def resource_use(sol: Solution) -> pd.DataFrame:
    """Each internal resource: capacity, units used by the plan and the capacity left (``used + spare =
    capacity``), units all in-house would use and the units the outsourced functions no longer need
    (``freed = all_inhouse - used``, what the redeploy value is paid on; it can exceed the capacity when
    keeping everything in-house would overload the pool)."""
    cols = ["resource", "name", "capacity", "used", "spare", "all_inhouse", "freed", "utilisation"]
    if sol.verification is None:
        return pd.DataFrame(columns=cols)
    inst = sol.instance
    base = {r.id: 0.0 for r in inst.resources}
    for f in inst.functions:
        if f.inhouse:
            for r, u in f.inhouse.uses.items():
                base[r] += u
    rows = []
    for r in inst.resources:
        used = sol.verification.resource_use[r.id]
        rows.append({"resource": r.id, "name": r.name or r.id, "capacity": r.capacity, "used": used,
                     "spare": r.capacity - used, "all_inhouse": base[r.id], "freed": base[r.id] - used,
                     "utilisation": used / r.capacity if r.capacity else None})
    return pd.DataFrame(rows, columns=cols)


def limits(sol: Solution) -> pd.DataFrame:
    """Every limit in the instance, the plan's use of it and how close it is (use / limit)."""
    cols = ["limit", "used", "limit_value", "slack", "closeness", "binding"]
    if sol.verification is None:
        return pd.DataFrame(columns=cols)
    inst, v = sol.instance, sol.verification
    rows: list[tuple[str, float, float]] = []
    if inst.budget.operating is not None:
        rows.append(("budget.operating", v.operating_cost, inst.budget.operating))
    if inst.budget.transition is not None:
        rows.append(("budget.transition", v.transition_cost, inst.budget.transition))
    for r in inst.resources:
        rows.append((f"resource {r.id}", v.resource_use[r.id], r.capacity))
    total = sum(v.spend.values())
    for x in inst.vendors:
        if x.capacity is not None:
            rows.append((f"vendor {x.id} capacity", v.vendor_load.get(x.id, 0.0), x.capacity))
        if x.max_share is not None:
            rows.append((f"vendor {x.id} max_share", v.spend.get(x.id, 0.0), x.max_share * total))
    if inst.rules.max_vendors is not None:
        rows.append(("rules.max_vendors", float(len(v.engaged)), float(inst.rules.max_vendors)))
    if inst.rules.max_changes is not None:
        rows.append(("rules.max_changes", float(v.changes), float(inst.rules.max_changes)))
    return limit_frame(rows)


def limit_frame(rows: list[tuple[str, float, float]]) -> pd.DataFrame:
    """The limits table of (name, the plan's use, the limit) rows: slack, closeness, binding."""
    cols = ["limit", "used", "limit_value", "slack", "closeness", "binding"]
    out = []
    for name, used, lim in rows:
        slack = lim - used
        out.append({"limit": name, "used": used, "limit_value": lim, "slack": slack,
                    "closeness": used / lim if lim else (1.0 if used == 0 else float("inf")),
                    "binding": abs(slack) <= tolerance(lim)})
    return pd.DataFrame(out, columns=cols)


def waterfall(sol: Solution, top: int = 10) -> pd.DataFrame:
    """From the all-in-house recurring cost to the plan's: each outsourced function's change, the
    retainers, then the plan. The ``top`` largest changes are shown, the rest summed."""
    cols = ["step", "amount", "kind"]
    if sol.verification is None:
        return pd.DataFrame(columns=cols)
    inst = sol.instance
    start = sum(f.inhouse.cost for f in inst.functions if f.inhouse)
    steps = []
    for r in sol.verification.rows:
        if r["provider"] in (None, INHOUSE):
            continue
        f = inst.function(r["function"])
        saved = f.inhouse.cost if f.inhouse else 0.0
        steps.append((f"{r['function']} -> {r['provider']}", r["yearly_cost"] - saved))
    steps.sort(key=lambda s: -abs(s[1]))
    shown, rest = steps[:top], steps[top:]
    rows = [("all in-house", start, "total")] + [(n, a, "step") for n, a in shown]
    if rest:
        rows.append((f"{len(rest)} other functions", sum(a for _, a in rest), "step"))
    retainers = sum(inst.vendor(k).retainer for k in sol.verification.engaged)
    if retainers:
        rows.append(("vendor retainers", retainers, "step"))
    end = sol.verification.operating_cost
    rest_of_it = end - start - sum(a for _, a, kind in rows if kind == "step")
    if abs(rest_of_it) > 1e-6 * max(1.0, abs(end)):  # terms priced on the whole plan (e.g. discounts)
        rows.append(("discounts and other terms", rest_of_it, "step"))
    rows.append(("plan", end, "total"))
    return pd.DataFrame(rows, columns=cols)


def soft_rules(sol: Solution) -> pd.DataFrame | None:
    """The soft rules the plan breaks, when the solution reports them (None otherwise)."""
    frame = getattr(sol, "soft_violations", None)
    return frame if isinstance(frame, pd.DataFrame) and not frame.empty else None


def tables(sol: Solution) -> dict[str, pd.DataFrame]:
    """All result tables by name, in the order the workbook shows them."""
    out = {"decisions": decisions(sol), "totals": totals(sol), "vendors": vendor_spend(sol),
           "resources": resource_use(sol), "limits": limits(sol)}
    soft = soft_rules(sol)
    if soft is not None:
        out["soft_rules"] = soft
    return out
