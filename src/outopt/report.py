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
