"""Readable terminal reports of solutions (rich tables) for the CLI."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table

from outopt.solution import Solution


def money(x: float | None, currency: str = "") -> str:
    if x is None:
        return "-"
    text = f"{x:,.0f}" if abs(x) >= 100 or x == int(x) else f"{x:,.2f}"
    return f"{text} {currency}".strip()


def print_solution(sol: Solution, console: Console) -> None:
    """Decisions, totals against all in-house and the status quo, status and time."""
    cur = sol.instance.currency
    if sol.plan is not None:
        table = Table(title=f"{sol.instance.name}: plan", title_justify="left")
        for col, just in [("function", "left"), ("provider", "left"), ("yearly cost", "right"),
                          ("one-off", "right"), ("benefit/yr", "right"), ("change", "left")]:
            table.add_column(col, justify=just)
        for row in sol.assignments.itertuples():
            change = f"from {row.current}" if row.changed else ""
            table.add_row(row.function, row.provider, money(row.yearly_cost), money(row.one_off),
                          money(row.benefit), change)
        console.print(table)
        t = sol.totals()
        totals = Table(show_header=False, box=None, padding=(0, 2))
        totals.add_row("recurring cost per year", money(t["operating_cost"], cur))
        totals.add_row("  all in-house", money(t["all_inhouse_operating_cost"], cur))
        if "status_quo_operating_cost" in t:
            totals.add_row("  status quo", money(t["status_quo_operating_cost"], cur))
        totals.add_row("one-off cost", money(t["transition_cost"], cur))
        totals.add_row("net benefit per year vs all in-house", money(t["net_benefit_vs_all_inhouse"], cur))
        if "net_benefit_vs_status_quo" in t:
            totals.add_row("net benefit per year vs status quo", money(t["net_benefit_vs_status_quo"], cur))
        for key, label in (("volume_discounts", "volume discounts per year"), ("bundle_savings", "bundle savings per year"),
                           ("soft_penalty", "soft-rule penalties per year (in the net benefit)")):
            if key in t:
                totals.add_row(label, money(t[key], cur))
        totals.add_row("functions outsourced", f"{t['functions_outsourced']} of {len(sol.plan)}")
        totals.add_row("vendors engaged", str(t["vendors_engaged"]))
        console.print(totals)
        soft = sol.soft_violations
        if len(soft):
            broken = Table(title="soft rules broken", title_justify="left")
            for col, just in [("rule", "left"), ("by", "right"), ("unit", "left"), ("cost/yr", "right"),
                              ("priority", "right"), ("detail", "left")]:
                broken.add_column(col, justify=just)
            for row in soft.itertuples():
                broken.add_row(row.rule, f"{row.amount:,.4g}", row.unit, money(row.cost, cur),
                               "-" if row.priority is None or row.priority != row.priority else str(int(row.priority)),
                               row.detail)
            console.print(broken)
    line = f"status: [bold]{sol.status.value}[/bold]"
    if sol.gap is not None:
        line += f"  bound {money(sol.bound, cur)}  gap {sol.gap:.4%}"
    line += f"  time {sol.total_time:.2f}s"
    if sol.message:
        line += f"  ({sol.message})"
    console.print(line)


def print_diagnosis(diagnosis, console: Console) -> None:
    """An infeasible instance's repairs and conflicting rules, in sentences (see outopt.analysis.diagnose)."""
    for line in diagnosis.lines():
        console.print(line, markup=False)


def print_explanation(expl, console: Console) -> None:
    """Regrets, break-even costs and binding limits of a plan (see outopt.analysis.explain)."""
    cur = expl.instance.currency
    sol = expl.solution
    console.print(f"{expl.instance.name}: net benefit {money(sol.objective, cur)}/yr ({sol.status.value})", markup=False)
    table = Table(title="Decisions: regret = yearly net benefit lost if the function must go to its runner-up",
                  title_justify="left")
    for col, just in [("function", "left"), ("provider", "left"), ("runner-up", "left"), ("regret/yr", "right"),
                      ("other decisions that change", "left")]:
        table.add_column(col, justify=just)
    for r in expl.functions:
        changes = ", ".join(f"{c['function']} -> {c['to']}" for c in r["changes"])
        table.add_row(r["function"], r["provider"], r["runner_up"] or "none possible", money(r["regret"]), changes)
    console.print(table)
    offers = Table(title="Offers not chosen: break-even = the yearly cost at which the offer enters the optimal plan",
                   title_justify="left")
    for col, just in [("function", "left"), ("vendor", "left"), ("cost/yr", "right"), ("break-even", "right"),
                      ("", "left")]:
        offers.add_column(col, justify=just)
    for r in expl.offers:
        be = "never" if r["break_even_cost"] is None else money(r["break_even_cost"])
        offers.add_row(r["function"], r["vendor"], money(r["cost"]), be, r["reason"])
    console.print(offers)
    limits = Table(title="Limits: binding = used to within one step; value of one more unit by re-solving "
                         "with the limit relaxed by the step", title_justify="left")
    for col, just in [("limit", "left"), ("", "left"), ("used", "right"), ("of", "right"), ("binding", "left"),
                      ("step", "right"), ("gain/yr", "right"), ("per unit", "right"), ("LP dual", "right")]:
        limits.add_column(col, justify=just)
    for r in expl.limits:
        def num(x):
            return "-" if x is None else (f"{x:.4g}" if abs(x) < 10 else money(x))
        limits.add_row(r["limit"], r["label"], num(r["used"]), num(r["current"]), "yes" if r["binding"] else "no",
                       num(r["step"]) if r["binding"] else "", money(r["gain"]), num(r["value_of_unit"]),
                       num(r["lp_dual"]))
    console.print(limits)
    console.print(f"{expl.solves} solves in {expl.time:.2f}s", markup=False)
