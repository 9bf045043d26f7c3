"""Reports of a roadmap (a :class:`~outopt.solver.roadmap.RoadmapSolution`): the table of functions by years,
a Gantt-like chart (matplotlib, and in text for the terminal), the years and the changes, for the terminal,
the HTML report and the results workbook."""

from __future__ import annotations

import html

import pandas as pd
from matplotlib.patches import Patch
from rich.console import Console
from rich.table import Table
from rich.text import Text

from outopt.instance.schema import INHOUSE
from outopt.report import charts
from outopt.report.html import CSS, table_html
from outopt.report.terminal import add_row, money, say, status_line, titled
from outopt.report.text import chart_label, terminal_text
from outopt.solver.roadmap import RoadmapSolution

PALETTE = ["#2b6cb0", "#2f855a", "#b7791f", "#6b46c1", "#c05621", "#2c7a7b", "#b83280", "#4a5568",
           "#3182ce", "#38a169", "#d69e2e", "#805ad5"]
INHOUSE_COLOUR = "#cbd5e0"
TERMINAL_COLOURS = ["blue", "green", "yellow", "magenta", "red", "cyan", "bright_blue", "bright_green",
                    "bright_yellow", "bright_magenta", "bright_red", "bright_cyan"]


def providers(sol: RoadmapSolution) -> list[str]:
    """The vendors the roadmap uses, in the order they first appear (year by year, function by function)."""
    seen: list[str] = []
    for t in range(sol.instance.roadmap.years):
        for f in sol.instance.functions:
            p = sol.plan[f.id][t]
            if p != INHOUSE and p not in seen:
                seen.append(p)
    return seen


def runs(path: list[str]) -> list[tuple[int, int, str]]:
    """Consecutive years with one provider: (first year, last year, provider)."""
    out: list[tuple[int, int, str]] = []
    for t, p in enumerate(path, start=1):
        if out and out[-1][2] == p:
            out[-1] = (out[-1][0], t, p)
        else:
            out.append((t, t, p))
    return out


# --- tables -----------------------------------------------------------------------------------


def roadmap_table(sol: RoadmapSolution) -> pd.DataFrame:
    """Functions by years: the provider of each function in each year (in-house written 'in-house')."""
    frame = sol.roadmap.copy()
    names = {f.id: f.name or f.id for f in sol.instance.functions}
    frame.insert(1, "name", frame["function"].map(names))
    for col in frame.columns[2:]:
        frame[col] = frame[col].map(lambda p: "in-house" if p == INHOUSE else p)
    return frame


def tables(sol: RoadmapSolution) -> dict[str, pd.DataFrame]:
    """The results workbook's sheets: roadmap (functions by years), changes, years, totals."""
    totals = pd.DataFrame([{"figure": k, "value": v} for k, v in sol.totals().items()], columns=["figure", "value"])
    return {"roadmap": roadmap_table(sol), "changes": sol.changes, "years": sol.years, "totals": totals}


# --- the Gantt-like chart ----------------------------------------------------------------------


def gantt(sol: RoadmapSolution, ax=None):
    """Horizontal bars by function over the years, one colour per provider (in-house grey); a change
    starts a new bar, marked with a triangle."""
    n = len(sol.instance.functions)
    if ax is None:
        import matplotlib.pyplot as plt

        _, ax = plt.subplots(figsize=gantt_size(sol), layout="constrained")
    colour = {p: PALETTE[i % len(PALETTE)] for i, p in enumerate(providers(sol))}
    colour[INHOUSE] = INHOUSE_COLOUR
    changed = {(c["function"], c["year"]) for c in sol.change_rows()}
    for y, f in enumerate(sol.instance.functions):
        row = n - 1 - y
        for first, last, p in runs(sol.plan[f.id]):
            ax.barh(row, last - first + 1, left=first - 0.5, height=0.7, color=colour[p], edgecolor="white")
            if p != INHOUSE:
                ax.text((first + last) / 2, row, chart_label(p), ha="center", va="center", fontsize=6, color="white",
                        clip_on=True)
            if (f.id, first) in changed:
                ax.plot(first - 0.5, row, marker=">", color="#1a202c", markersize=4)
    ax.set_yticks(range(n), [chart_label(f.name or f.id) for f in reversed(sol.instance.functions)], fontsize=7)
    T = sol.instance.roadmap.years
    ax.set_xticks(range(1, T + 1), [f"year {t}" for t in range(1, T + 1)])
    ax.set_xlim(0.5, T + 0.5)
    ax.set_ylim(-0.6, n - 0.4)
    handles = [Patch(color=c, label=chart_label("in-house" if p == INHOUSE else p)) for p, c in colour.items()]
    ax.legend(handles=handles, fontsize=7, loc="upper left", bbox_to_anchor=(1.01, 1), frameon=False)
    ax.set_title("Roadmap: provider of each function by year (> a change)", loc="left", fontsize=10)
    return ax


def gantt_size(sol: RoadmapSolution) -> tuple[float, float]:
    return (8.0, max(2.5, 0.28 * len(sol.instance.functions) + 1.2))


def detached_gantt(sol: RoadmapSolution):
    from matplotlib.figure import Figure

    return Figure(figsize=gantt_size(sol), layout="constrained").add_subplot()


class RoadmapPlots:
    """``RoadmapSolution.plot``: ``sol.plot()`` or ``sol.plot.gantt()`` draws the Gantt-like chart."""

    KINDS = ("gantt",)

    def __init__(self, sol: RoadmapSolution):
        if sol.plan is None:
            raise ValueError(f"no roadmap to plot: the solve ended {sol.status.value}")
        self._sol = sol

    def __call__(self, kind: str | None = None, ax=None):
        if kind not in (None, *self.KINDS):
            raise ValueError(f"unknown chart '{kind}'; use one of {', '.join(self.KINDS)}")
        return self.gantt(ax)

    def gantt(self, ax=None):
        return gantt(self._sol, ax)


# --- terminal ------------------------------------------------------------------------------------


def print_roadmap(sol: RoadmapSolution, console: Console) -> None:
    """The roadmap (functions by years, changes marked), a text Gantt chart, the years, the NPV and status."""
    cur = sol.instance.currency
    if sol.plan is not None:
        T = sol.instance.roadmap.years
        changed = {(c["function"], c["year"]) for c in sol.change_rows()}
        table = titled(f"{sol.instance.name}: roadmap (* = changes provider that year)")
        table.add_column("function")
        for t in range(1, T + 1):
            table.add_column(f"year {t}")
        for f in sol.instance.functions:
            cells = [("in-house" if p == INHOUSE else p) + (" *" if (f.id, t) in changed else "")
                     for t, p in enumerate(sol.plan[f.id], start=1)]
            add_row(table, f.id, *cells)
        console.print(table)
        console.print(text_gantt(sol))
        years = titled("years (amounts in " + cur + "; net benefit against all in-house, one-offs included)")
        for col in ("year", "net benefit", "recurring cost", "one-off cost", "staff freed", "changes"):
            years.add_column(col, justify="right")
        for y in sol.verification.years:
            add_row(years, str(y.year), money(y.net_benefit), money(y.operating_cost), money(y.transition_cost),
                    money(y.redeploy), str(y.changes))
        console.print(years)
        t = sol.totals()
        line = f"net present value {money(sol.objective, cur)} (discount rate {sol.instance.roadmap.discount_rate:.1%}"
        line += f", tail {money(t['tail_value'], cur)})" if sol.instance.roadmap.tail_years else ")"
        say(console, line + f"; {t['changes']} changes, one-offs {money(t['transition_cost'], cur)}")
        if len(sol.soft_violations):
            say(console, "soft rules broken: " + "; ".join(
                f"year {r.year}: {r.rule} by {r.amount:,.4g} {r.unit} ({money(r.cost, cur)})"
                for r in sol.soft_violations.itertuples()))
    console.print(status_line(sol, cur))


def text_gantt(sol: RoadmapSolution, width: int = 8) -> Table:
    """The roadmap as coloured bars, one column per year, a letter per provider (in-house '.'), '>' at a change."""
    letters = {p: chr(ord("A") + i) if i < 26 else "#" for i, p in enumerate(providers(sol))}
    changed = {(c["function"], c["year"]) for c in sol.change_rows()}
    table = titled("gantt: " + ", ".join(f"{a} = {p}" for p, a in letters.items()) + ", . = in-house",
                   show_header=True, box=None, padding=(0, 1))
    table.add_column("function")
    table.add_column("".join(f"{'year ' + str(t):<{width}}" for t in range(1, sol.instance.roadmap.years + 1)))
    order = list(letters)
    for f in sol.instance.functions:
        bar = Text()
        for t, p in enumerate(sol.plan[f.id], start=1):
            mark = ">" if (f.id, t) in changed else " "
            if p == INHOUSE:
                bar.append(mark + "." * (width - 1), style="dim")
            else:
                style = TERMINAL_COLOURS[order.index(p) % len(TERMINAL_COLOURS)]
                bar.append(mark + letters[p] * (width - 1), style=style)
        table.add_row(terminal_text(f.id), bar)
    return table


# --- HTML ---------------------------------------------------------------------------------------


def _money(x, currency: str = "") -> str:
    return "-" if x is None else f"{x:,.0f} {currency}".strip()


def summary(sol: RoadmapSolution) -> str:
    """A few plain sentences on the roadmap."""
    cur = sol.instance.currency
    if sol.plan is None:
        return f"No roadmap was found: the solve ended <b>{sol.status.value}</b>. {html.escape(sol.message)}"
    t = sol.totals()
    T = sol.instance.roadmap.years
    by_year = sol.years
    busiest = by_year.loc[by_year["changes"].idxmax()] if len(by_year) else None
    parts = [
        f"Over <b>{T} year{'s' if T != 1 else ''}</b> the roadmap makes <b>{t['changes']} change"
        f"{'s' if t['changes'] != 1 else ''}</b> of provider ({t['functions_changed']} function"
        f"{'s' if t['functions_changed'] != 1 else ''}), with one-off costs of {_money(t['transition_cost'], cur)}.",
        f"By year {T}, {t['functions_outsourced_last_year']} of {len(sol.plan)} functions are outsourced to "
        f"{t['vendors_engaged_last_year']} vendors; recurring cost {_money(t['operating_cost_last_year'], cur)} a year "
        f"against {_money(t['all_inhouse_operating_cost'], cur)} all in-house.",
        f"Net present value against keeping everything in-house: <b>{_money(sol.objective, cur)}</b>.",
    ]
    if busiest is not None and busiest["changes"]:
        parts.append(f"The busiest year is year {int(busiest['year'])} ({int(busiest['changes'])} changes).")
    parts.append("No better roadmap exists under these rules." if sol.status.value == "optimal"
                 else "The search stopped at a limit; a better roadmap may exist.")
    return " ".join(parts)


def render(sol: RoadmapSolution, explanation=None, frontier=None) -> str:
    """The roadmap report as one self-contained HTML page (no scripts; the chart is inline SVG)."""
    inst = sol.instance
    ok = sol.status.has_plan
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(inst.name)}: transition roadmap</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(inst.name)}: transition roadmap</h1>",
        f"<p class='sub'>Status: <b class='{'status-ok' if ok else 'status-bad'}' id='status'>{sol.status.value}</b>"
        f" &middot; {len(inst.functions)} functions, {len(inst.vendors)} vendors, {inst.roadmap.years} years"
        f" &middot; amounts in {html.escape(inst.currency)}"
        f" &middot; discount rate {inst.roadmap.discount_rate:.1%}</p>",
        f"<p class='summary' id='summary'>{summary(sol)}</p>",
    ]
    if ok:
        t = sol.totals()
        cards = [("net present value", _money(sol.objective, inst.currency)), ("changes", str(t["changes"])),
                 ("one-off cost", _money(t["transition_cost"], inst.currency)),
                 (f"recurring cost, year {inst.roadmap.years}", _money(t["operating_cost_last_year"], inst.currency))]
        out.append('<div class="cards">' + "".join(
            f'<div class="card"><div class="v">{v}</div><div class="k">{html.escape(k)}</div></div>' for k, v in cards)
            + "</div>")
        out += ["<h2 id='roadmap'>Roadmap</h2>", "<p>The provider of each function in each year.</p>",
                table_html(roadmap_table(sol)),
                f"<div class='chart' id='gantt'>{charts.svg(gantt(sol, detached_gantt(sol)))}</div>",
                "<h2 id='years'>Years</h2>",
                "<p>Net benefit against all in-house, one-offs of the year included, before discounting.</p>",
                table_html(sol.years), "<h2 id='changes'>Changes</h2>"]
        out.append(table_html(sol.changes) if len(sol.changes) else "<p>No function changes provider.</p>")
        if len(sol.soft_violations):
            out += ["<h2 id='soft'>Soft rules the roadmap breaks</h2>", table_html(sol.soft_violations)]
    for title, frame in (("Why each change happens when it does", explanation), ("Frontier", frontier)):
        if frame is not None:
            out += [f"<h2>{html.escape(title)}</h2>", table_html(frame)]
    out.append(f"<footer>Made by outopt. Every figure is the independent verifier's recomputation. "
               f"Solve time {sol.total_time:.2f} s.</footer></body></html>")
    return "\n".join(out)


def notebook_html(sol: RoadmapSolution) -> str:
    """The rich display of a roadmap in Jupyter: a status line and the table of functions by years."""
    head = (f"<p><b>{html.escape(sol.instance.name)}</b>: <b>{sol.status.value}</b>, net present value "
            f"{_money(sol.objective, sol.instance.currency)}</p>")
    if sol.plan is None:
        return head + f"<p>{html.escape(sol.message)}</p>"
    return head + table_html(roadmap_table(sol))


def print_roadmap_explanation(ex, console: Console) -> None:
    """Why each change happens in its year: the regret of moving it a year earlier or later, then why not."""
    sol = ex.solution
    cur = sol.instance.currency
    say(console, f"{sol.instance.name}: net present value {money(sol.objective, cur)} ({sol.status.value})")
    table = titled("Changes: regret = NPV lost by the best roadmap that makes the move a year earlier or later "
                   "(- : no roadmap can)")
    for col, just in [("function", "left"), ("year", "right"), ("from", "left"), ("to", "left"),
                      ("regret earlier", "right"), ("regret later", "right")]:
        table.add_column(col, justify=just)
    for c in ex.changes:
        add_row(table, c["function"], str(c["year"]), _name(c["from"]), _name(c["to"]), _regret(c["earlier"]),
                _regret(c["later"]))
    console.print(table)
    say(console, "Why not: what the move alone would break, and what it would cost (+) or save (-), discounted")
    for c in ex.changes:
        for key, shift in (("earlier", c["earlier"]), ("later", c["later"])):
            if shift.year is not None:
                say(console, f"  {c['function']} in year {shift.year} ({key}): " + "; ".join(shift.reasons))
    say(console, f"{ex.solves} solves in {ex.time:.2f}s")


def _name(provider) -> str:
    return "none" if provider is None else "in-house" if provider == INHOUSE else str(provider)


def _regret(shift) -> str:
    if shift.year is None:
        return ""
    return "-" if shift.regret is None else money(shift.regret)
