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
        totals.add_row("functions outsourced", f"{t['functions_outsourced']} of {len(sol.plan)}")
        totals.add_row("vendors engaged", str(t["vendors_engaged"]))
        console.print(totals)
    line = f"status: [bold]{sol.status.value}[/bold]"
    if sol.gap is not None:
        line += f"  bound {money(sol.bound, cur)}  gap {sol.gap:.4%}"
    line += f"  time {sol.total_time:.2f}s"
    if sol.message:
        line += f"  ({sol.message})"
    console.print(line)


def print_company_solution(sol, console: Console) -> None:
    """Each division's plan, the corporate totals and the value of coordination (a CompanySolution)."""
    cur = sol.company.currency
    if sol.plans is not None:
        rows = sol.assignments
        for d in sol.company.divisions:
            table = Table(title=f"{d.instance.name} ({d.id}): plan", title_justify="left")
            for col, just in [("function", "left"), ("provider", "left"), ("yearly cost", "right"),
                              ("one-off", "right"), ("benefit/yr", "right")]:
                table.add_column(col, justify=just)
            for row in rows[rows["division"] == d.id].itertuples():
                table.add_row(row.function, row.provider, money(row.yearly_cost), money(row.one_off), money(row.benefit))
            console.print(table)
        t = sol.totals()
        totals = Table(title=f"{sol.company.name}: corporate totals", title_justify="left", show_header=False,
                       box=None, padding=(0, 2))
        totals.add_row("recurring cost per year", money(t["operating_cost"], cur))
        totals.add_row("  all in-house", money(t["all_inhouse_operating_cost"], cur))
        totals.add_row("  retainers (paid once)", money(t["retainers"], cur))
        totals.add_row("one-off cost", money(t["transition_cost"], cur))
        totals.add_row("net benefit per year vs all in-house", money(t["net_benefit_vs_all_inhouse"], cur))
        totals.add_row("functions outsourced", str(t["functions_outsourced"]))
        totals.add_row("vendors engaged", f"{t['vendors_engaged']} ({', '.join(sol.verification.engaged)})")
        console.print(totals)
        voc = sol.value_of_coordination
        if voc:
            table = Table(title="value of coordination: each division alone, corporate budget split by in-house cost",
                          title_justify="left")
            for col, just in [("division", "left"), ("share", "right"), ("operating budget", "right"),
                              ("one-off budget", "right"), ("status", "left"), ("net benefit/yr", "right")]:
                table.add_column(col, justify=just)
            for a in voc["divisions"]:
                table.add_row(a["division"], f"{a['share']:.1%}", money(a["budget_operating"]),
                              money(a["budget_transition"]), a["status"], money(a["objective"]))
            console.print(table)
            console.print(f"divisions alone: {money(voc['separate'], cur)}   joint: {money(voc['joint'], cur)}   "
                          f"value of coordination: [bold]{money(voc['value'], cur)}[/bold] per year")
            if voc["separate_plans_feasible_for_company"] is False:
                console.print("  (the divisions' separate plans together break a corporate limit)")
    line = f"status: [bold]{sol.status.value}[/bold] ({sol.method})"
    if sol.gap is not None:
        line += f"  bound {money(sol.bound, cur)}  gap {sol.gap:.4%}"
    line += f"  time {sol.total_time:.2f}s"
    if sol.message:
        line += f"  ({sol.message})"
    console.print(line)


class BatchProgress:
    """A rich progress bar for batch runs: done, failed, remaining and elapsed time."""

    def __init__(self, console: Console):
        from rich.progress import BarColumn, Progress, TextColumn, TimeElapsedColumn

        self.progress = Progress(
            TextColumn("batch"), BarColumn(), TextColumn("{task.fields[done]} done, {task.fields[failed]} failed, "
                                                         "{task.fields[remaining]} remaining"),
            TimeElapsedColumn(), console=console, transient=False,
        )
        self.task = None
        self.done = self.failed = self.total = 0

    def __enter__(self):
        self.progress.start()
        return self

    def __exit__(self, *exc):
        self.progress.stop()

    def start(self, total: int, skipped: int) -> None:
        self.total, self.done = total, skipped
        self.task = self.progress.add_task("batch", total=total, completed=skipped, done=skipped, failed=0,
                                           remaining=total - skipped)

    def advance(self, result) -> None:
        if result.ok:
            self.done += 1
        else:
            self.failed += 1
        finished = self.done + self.failed
        self.progress.update(self.task, completed=finished, done=self.done, failed=self.failed,
                             remaining=self.total - finished)


def print_batch_summary(run, console: Console) -> None:
    """One row per input (status, net benefit, gap, time, reason), then the counts."""
    table = Table(title="batch summary", title_justify="left")
    for col, just in [("input", "left"), ("status", "left"), ("net benefit/yr", "right"), ("gap", "right"),
                      ("time", "right"), ("reason", "left")]:
        table.add_column(col, justify=just)
    for r in sorted(run.results, key=lambda r: r.input):
        status = r.status + (" (skipped)" if r.skipped else "")
        gap = "-" if r.gap is None else f"{r.gap:.2%}"
        table.add_row(r.input, status, money(r.objective), gap, f"{r.seconds:.2f}s", r.reason.splitlines()[0] if r.reason else "")
    console.print(table)
    skipped = sum(r.skipped for r in run.results)
    console.print(f"{len(run.results)} of {run.total} inputs: {len(run.results) - len(run.failed)} with a plan "
                  f"({skipped} skipped as already done), {len(run.failed)} failed, {run.seconds:.1f}s")
