"""Readable terminal reports of solutions (rich tables) for the CLI."""

from __future__ import annotations

from rich.console import Console
from rich.table import Table
from rich.text import Text

from outopt.analysis.why import status_quo_breaks, why_outsourced
from outopt.report.text import money, say, terminal_text
from outopt.solver.interrupts import helper_threads
from outopt.instance.numerics import plain
from outopt.solver.solution import Solution


def add_row(table: Table, *cells) -> None:
    """A table row of user text: every cell shown as text (escapes visible, no markup)."""
    table.add_row(*(c if isinstance(c, Text) else terminal_text(c) for c in cells))


def titled(title: str, **kw) -> Table:
    """A table whose title (which holds user text) is never read as markup."""
    return Table(title=terminal_text(title), title_justify="left", **kw)


def status_line(sol, currency: str, after_status: str = "") -> Text:
    """The closing line of a solve report: status, bound and gap, time, message."""
    line = f"{after_status}"
    if sol.gap is not None:
        line += f"  bound {money(sol.bound, currency)}  gap {sol.gap:.4%}"
    line += f"  time {sol.total_time:.2f}s"
    if sol.message:
        line += f"  ({sol.message})"
    return Text.assemble("status: ", terminal_text(sol.status.value, style="bold"), terminal_text(line))


def print_solution(sol: Solution, console: Console) -> None:
    """Decisions, totals against all in-house and the status quo, status and time."""
    cur = sol.instance.currency
    if sol.plan is not None:
        table = titled(f"{sol.instance.name}: plan")
        for col, just in [("function", "left"), ("provider", "left"), ("yearly cost", "right"),
                          ("one-off", "right"), ("benefit/yr", "right"), ("change", "left")]:
            table.add_column(col, justify=just)
        for row in sol.assignments.itertuples():
            change = f"from {row.current}" if row.changed else ""
            add_row(table, row.function, row.provider, money(row.yearly_cost), money(row.one_off),
                          money(row.benefit), change)
        console.print(table)
        for f, why in why_outsourced(sol.instance, sol.plan, sol.verification).items():
            say(console, f"  {f} is outsourced at a negative yearly benefit because {why}")
        t = sol.totals()
        totals = Table(show_header=False, box=None, padding=(0, 2))
        add_row(totals, "recurring cost per year", money(t["operating_cost"], cur))
        add_row(totals, "  all in-house", money(t["all_inhouse_operating_cost"], cur))
        if "status_quo_operating_cost" in t:
            add_row(totals, "  status quo" + (" (breaks a rule)" if t["status_quo_feasible"] is False else ""),
                    money(t["status_quo_operating_cost"], cur))
        add_row(totals, "one-off cost", money(t["transition_cost"], cur))
        add_row(totals, "net benefit per year vs all in-house", money(t["net_benefit_vs_all_inhouse"], cur))
        if "net_benefit_vs_status_quo" in t:
            add_row(totals, "net benefit per year vs status quo", money(t["net_benefit_vs_status_quo"], cur))
        for key, label in (("volume_discounts", "volume discounts per year"), ("bundle_savings", "bundle savings per year"),
                           ("soft_penalty", "soft-rule penalties per year (in the net benefit)")):
            if key in t:
                add_row(totals, label, money(t[key], cur))
        add_row(totals, "functions outsourced", f"{t['functions_outsourced']} of {len(sol.plan)}")
        add_row(totals, "vendors engaged", str(t["vendors_engaged"]))
        console.print(totals)
        if t.get("status_quo_feasible") is False:
            say(console, f"  the status quo is no plan to keep: {status_quo_breaks(sol.instance)}")
        soft = sol.soft_violations
        if len(soft):
            broken = titled("soft rules broken")
            for col, just in [("rule", "left"), ("by", "right"), ("unit", "left"), ("cost/yr", "right"),
                              ("priority", "right"), ("detail", "left")]:
                broken.add_column(col, justify=just)
            for row in soft.itertuples():
                add_row(broken, row.rule, f"{row.amount:,.4g}", row.unit, money(row.cost, cur),
                               "-" if row.priority is None or row.priority != row.priority else str(int(row.priority)),
                               row.detail)
            console.print(broken)
    console.print(status_line(sol, cur))


def print_company_solution(sol, console: Console) -> None:
    """Each division's plan, the corporate totals and the value of coordination (a CompanySolution)."""
    cur = sol.company.currency
    if sol.plans is not None:
        rows = sol.assignments
        for d in sol.company.divisions:
            table = titled(f"{d.instance.name} ({d.id}): plan")
            for col, just in [("function", "left"), ("provider", "left"), ("yearly cost", "right"),
                              ("one-off", "right"), ("benefit/yr", "right")]:
                table.add_column(col, justify=just)
            for row in rows[rows["division"] == d.id].itertuples():
                add_row(table, row.function, row.provider, money(row.yearly_cost), money(row.one_off), money(row.benefit))
            console.print(table)
        t = sol.totals()
        totals = titled(f"{sol.company.name}: corporate totals", show_header=False,
                       box=None, padding=(0, 2))
        add_row(totals, "recurring cost per year", money(t["operating_cost"], cur))
        add_row(totals, "  all in-house", money(t["all_inhouse_operating_cost"], cur))
        add_row(totals, "  retainers (paid once)", money(t["retainers"], cur))
        add_row(totals, "one-off cost", money(t["transition_cost"], cur))
        add_row(totals, "net benefit per year vs all in-house", money(t["net_benefit_vs_all_inhouse"], cur))
        add_row(totals, "functions outsourced", str(t["functions_outsourced"]))
        add_row(totals, "vendors engaged", f"{t['vendors_engaged']} ({', '.join(sol.verification.engaged)})")
        console.print(totals)
        voc = sol.value_of_coordination
        if voc:
            table = titled("value of coordination: each division alone, corporate budget split by in-house cost")
            for col, just in [("division", "left"), ("share", "right"), ("operating budget", "right"),
                              ("one-off budget", "right"), ("status", "left"), ("net benefit/yr", "right")]:
                table.add_column(col, justify=just)
            for a in voc["divisions"]:
                add_row(table, a["division"], f"{a['share']:.1%}", money(a["budget_operating"]),
                              money(a["budget_transition"]), a["status"], money(a["objective"]))
            console.print(table)
            console.print(Text.assemble(
                terminal_text(f"divisions alone: {money(voc['separate'], cur)}   joint: {money(voc['joint'], cur)}   "
                              "value of coordination: "),
                terminal_text(money(voc["value"], cur), style="bold"), " per year"))
            if voc["separate_plans_feasible_for_company"] is False:
                console.print("  (the divisions' separate plans together break a corporate limit)")
    console.print(status_line(sol, cur, f" ({sol.method})"))


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
        with helper_threads():  # the bar's refresh thread never takes a Ctrl-C meant for the main thread
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
    table = titled("batch summary")
    for col, just in [("input", "left"), ("status", "left"), ("net benefit/yr", "right"), ("gap", "right"),
                      ("time", "right"), ("reason", "left")]:
        table.add_column(col, justify=just)
    inputs = [r for r in run.results if r.status != "ignored"]
    for r in sorted(inputs, key=lambda r: r.input):
        status = r.status + (" (skipped)" if r.skipped else "")
        gap = "-" if r.gap is None else f"{r.gap:.2%}"
        add_row(table, r.input, status, money(r.objective), gap, f"{r.seconds:.2f}s", r.reason.splitlines()[0] if r.reason else "")
    console.print(table)
    skipped = sum(r.skipped for r in inputs)
    console.print(f"{len(inputs)} of {run.total - len(run.ignored)} inputs: {len(inputs) - len(run.failed)} with a plan "
                  f"({skipped} skipped as already done), {len(run.failed)} failed, {run.seconds:.1f}s")


def print_diagnosis(diagnosis, console: Console) -> None:
    """An infeasible instance's repairs and conflicting rules, in sentences (see outopt.analysis.diagnose)."""
    for line in diagnosis.lines():
        say(console, line)


def row_words(row: dict) -> str:
    """The function a row names, with its division for a company's: ``retail.invoicing``."""
    return f"{row['division']}.{row['function']}" if "division" in row else str(row["function"])


def print_explanation(expl, console: Console) -> None:
    """Regrets, break-even costs and binding limits of a plan (see outopt.analysis.explain)."""
    cur = expl.instance.currency
    sol = expl.solution
    say(console, f"{expl.instance.name}: net benefit {money(sol.objective, cur)}/yr ({sol.status.value})")
    table = titled("Decisions: regret = yearly net benefit lost if the function must go to its runner-up")
    for col, just in [("function", "left"), ("provider", "left"), ("runner-up", "left"), ("regret/yr", "right"),
                      ("other decisions that change", "left")]:
        table.add_column(col, justify=just)
    for r in expl.functions:
        changes = ", ".join(f"{row_words(c)} -> {c['to']}" for c in r["changes"])
        add_row(table, row_words(r), r["provider"], r["runner_up"] or "none possible", money(r["regret"]), changes)
    console.print(table)
    offers = titled("Offers not chosen: break-even = the yearly cost at which the offer enters the optimal plan")
    for col, just in [("function", "left"), ("vendor", "left"), ("cost/yr", "right"), ("break-even", "right"),
                      ("", "left")]:
        offers.add_column(col, justify=just)
    for r in expl.offers:
        be = "never" if r["break_even_cost"] is None else money(r["break_even_cost"])
        add_row(offers, row_words(r), r["vendor"], money(r["cost"]), be, r["reason"])
    console.print(offers)
    def num(x):
        return "-" if x is None else (f"{x:.4g}" if abs(x) < 10 else money(x))

    rows = [(r["limit"], r["label"], num(r["used"]), num(r["current"]), "yes" if r["binding"] else "no",
             num(r["step"]) if r["binding"] else "", money(r["gain"]), num(r["value_of_unit"]), num(r["lp_dual"]))
            for r in expl.limits]
    limits = titled("Limits: binding = used to within one step; value of one more unit by re-solving "
                    "with the limit relaxed by the step")
    for j, (col, just) in enumerate([("limit", "left"), ("", "left"), ("used", "right"), ("of", "right"),
                                     ("binding", "left"), ("step", "right"), ("gain/yr", "right"),
                                     ("per unit", "right"), ("LP dual", "right")]):
        # a narrow terminal folds the names onto more lines; a figure or a place is never cut short
        # (two cut places read the same: `vendor_groups[0].mi...`)
        widest = max((len(row[j]) for row in rows), default=0)
        limits.add_column(col, justify=just, overflow="fold", min_width=widest if just == "right" else None)
    for row in rows:
        add_row(limits, *row)
    console.print(limits)
    console.print(f"{expl.solves} solves for {expl.questions} questions in {expl.time:.2f}s", markup=False)
# --- what-if analyses (outopt.analysis) ----------------------------------------------------


def number(x: float) -> str:
    """A limit's value, readable: 1,102,000 / 0.6 / 1,101,996.5."""
    return f"{plain(round(x, 4)):,.4f}".rstrip("0").rstrip(".")


def print_comparison(table, currency: str, console: Console) -> None:
    """One row per scenario: status, net benefit, change against the base, recurring cost, vendors, changed functions."""
    t = titled(f"scenarios (amounts in {currency} per year)")
    for col, just in [("scenario", "left"), ("status", "left"), ("net benefit", "right"), ("vs base", "right"),
                      ("recurring cost", "right"), ("vendors", "left"), ("changed", "left")]:
        t.add_column(col, justify=just, no_wrap=col == "scenario")
    for r in table.to_dict("records"):
        has = r["status"] in ("optimal", "feasible")
        delta = "" if not has or r["delta"] is None else f"{r['delta']:+,.0f}"
        add_row(t, r["scenario"], r["status"], money(r["objective"] if has else None), delta,
                  money(r["total_cost"] if has else None), " ".join(r["vendors"]),
                  " ".join(r["changed"]) or ("-" if has else ""))
    console.print(t)


def print_frontier(result, console: Console) -> None:
    """The breakpoints, what changes at each, and the grid of points."""
    cur = result.currency
    say(console, f"{result.param} from {number(result.lower)} to {number(result.upper)}: {len(result.breakpoints)} "
                  f"breakpoint{'s' if len(result.breakpoints) != 1 else ''} (tolerance {result.tolerance:.3g}), "
                  f"{len(result.points)} solves in {result.time:.2f}s{'' if result.exact else ' (not all proven optimal)'}")
    if result.prioritised:
        console.print("soft rules with priority levels rank plans first by least violation, level by level; "
                      "net benefit can fall where the limit rises")
    if result.breakpoints:
        t = titled("breakpoints")
        for col, just in [("at", "right"), ("net benefit below", "right"), ("above", "right"), ("what changes", "left")]:
            t.add_column(col, justify=just)
        for b in result.breakpoints:
            if b.objective_below is None:
                what = "below: no plan"
            else:
                what = "; ".join(f"{row_words(c)}: {c['below']} -> {c['above']}" for c in b.changes)
            add_row(t, number(b.at), money(b.objective_below, cur), money(b.objective_above, cur), what)
        console.print(t)
    levels = result.levels  # prioritised soft rules: each level's violation beside the net benefit
    grid = titled("points" + (": plans ranked by least violation, highest priority first, then net benefit"
                              if levels else ""))
    for col, just in [("value", "right"), ("net benefit/yr", "right")] + [
            (f"priority {level} violation", "right") for level in levels] + [("status", "left")]:
        grid.add_column(col, justify=just)
    for p in result.points:
        violations = [number(p.levels.get(level, 0.0)) if p.objective is not None else "-" for level in levels]
        add_row(grid, number(p.value), money(p.objective, cur), *violations, p.status.value)
    console.print(grid)


def print_pareto(result, currency: str, console: Console) -> None:
    """The efficient plans, least risk first."""
    t = titled(f"efficient plans (net benefit against risk), {len(result.sweep.points)} solves "
                    f"in {result.time:.2f}s")
    for col, just in [("risk", "right"), ("net benefit/yr", "right"), ("outsourced", "right"), ("vendors", "left")]:
        t.add_column(col, justify=just)
    for p in result.plans:
        n = sum(1 for a in p.assignments if a["provider"] != "inhouse")
        add_row(t, f"{p.risk:.4f}", money(p.objective, currency), str(n), ", ".join(p.vendors))
    console.print(t)


def print_alternatives(result, console: Console) -> None:
    """Each plan's net benefit, its distance from the best, and what differs."""
    if not result.plans:
        return
    cur = result.plans[0].instance.currency
    within = "" if result.within is None else f" within {result.within:.2%} of the optimum"
    t = titled(f"{len(result.plans)} best plans{within}")
    for col, just in [("#", "right"), ("net benefit/yr", "right"), ("vs best", "right"), ("differs from the best", "left")]:
        t.add_column(col, justify=just)
    top = result.plans[0].objective
    for i, s in enumerate(result.plans):
        diff = "; ".join(f"{row_words(d)}: {d['provider']} (best: {d['best']})" for d in result.differences(i))
        add_row(t, str(i + 1), money(s.objective, cur), f"{s.objective - top:+,.0f}" if i else "", diff or "-")
    console.print(t)
