"""The HTML report: one self-contained file a manager can read (no scripts, no network fetches).

Sections: a plain-language summary, key figures, the decision table, spend by vendor, a
waterfall from the all-in-house cost to the plan, internal resource use, the limits and
how close the plan is to each; then the explanation and the frontier when given. Charts
are inline SVG. Other analyses plug in through ``sections`` (title -> DataFrame).
"""

from __future__ import annotations

import html
from collections.abc import Mapping

import pandas as pd

from outopt.instance.schema import INHOUSE
from outopt.analysis.why import status_quo_breaks, why_outsourced
from outopt.report import charts, tables
from outopt.solver.solution import Solution

CSS = """
body{font-family:-apple-system,'Segoe UI',Roboto,Helvetica,Arial,sans-serif;margin:2rem auto;max-width:1000px;
color:#1a202c;line-height:1.45;padding:0 1rem}
h1{font-size:1.6rem;margin-bottom:.2rem}h2{font-size:1.2rem;margin-top:2rem;border-bottom:1px solid #e2e8f0}
.sub{color:#4a5568;margin-top:0}.summary{font-size:1.05rem;background:#f7fafc;border-left:4px solid #2b6cb0;
padding:.8rem 1rem}.cards{display:flex;gap:1rem;flex-wrap:wrap;margin:1rem 0}
.card{flex:1;min-width:150px;border:1px solid #e2e8f0;border-radius:6px;padding:.6rem .8rem}
.card .v{font-size:1.35rem;font-weight:600}.card .k{color:#4a5568;font-size:.85rem}
table{border-collapse:collapse;width:100%;font-size:.88rem;margin:.5rem 0}
th,td{border-bottom:1px solid #e2e8f0;padding:.3rem .5rem;text-align:left}
td.n,th.n{text-align:right;font-variant-numeric:tabular-nums}tr.changed td{background:#fffbea}
.chart svg{width:100%;height:auto}.status-ok{color:#2f855a}.status-bad{color:#c53030}
footer{margin-top:3rem;color:#718096;font-size:.8rem}
"""


EXPLANATION_TABLES = {"offers": "Offers not taken: the cost at which each would be", "limits": "Limits: used, binding, and what more of each is worth"}


def _money(x, currency: str = "") -> str:
    if x is None or (isinstance(x, float) and pd.isna(x)):
        return "-"
    return f"{x:,.0f} {html.escape(currency)}".strip()  # the currency is user text


def _cell(v) -> tuple[str, bool]:
    if v is None or (isinstance(v, float) and pd.isna(v)):
        return "", False
    if isinstance(v, bool):
        return ("yes" if v else ""), False
    if isinstance(v, float):
        return (f"{v:,.0f}" if abs(v) >= 100 else f"{v:,.4g}"), True
    if isinstance(v, int):
        return f"{v:,}", True
    return html.escape(str(v)), False


def table_html(frame: pd.DataFrame, highlight: str | None = None, percent: tuple[str, ...] = ()) -> str:
    """A DataFrame as an HTML table, every value escaped; numbers right-aligned."""
    head = "".join(f"<th>{html.escape(tables.heading(str(c)))}</th>" for c in frame.columns)
    body = []
    for row in frame.itertuples(index=False):
        cells = []
        for c, v in zip(frame.columns, row):
            if c in percent and v is not None and not pd.isna(v):
                text, num = f"{v:.1%}", True
            else:
                text, num = _cell(v)
            cells.append(f'<td class="n">{text}</td>' if num else f"<td>{text}</td>")
        cls = ' class="changed"' if highlight and bool(getattr(row, highlight, False)) else ""
        body.append(f"<tr{cls}>{''.join(cells)}</tr>")
    return f"<table><thead><tr>{head}</tr></thead><tbody>{''.join(body)}</tbody></table>"


def summary(sol: Solution) -> str:
    """A few plain sentences on the plan, for a reader who will not read the tables."""
    cur = sol.instance.currency
    if sol.plan is None:
        return (f"No plan was found: the solve ended <b>{sol.status.value}</b>. "
                f"{html.escape(sol.message)}")
    t = sol.totals()
    n, m = t["functions_outsourced"], len(sol.plan)
    saving = t["all_inhouse_operating_cost"] - t["operating_cost"]
    parts = [
        f"The plan outsources <b>{n} of {m}</b> functions to <b>{t['vendors_engaged']}</b> "
        f"vendor{'s' if t['vendors_engaged'] != 1 else ''} and keeps the rest in-house.",
        f"Recurring cost goes from {_money(t['all_inhouse_operating_cost'], cur)} (everything in-house) to "
        f"<b>{_money(t['operating_cost'], cur)}</b> a year"
        + (f", {_money(saving, cur)} less" if saving > 0 else f", {_money(-saving, cur)} more" if saving < 0 else "")
        + f"; one-off costs are {_money(t['transition_cost'], cur)}.",
        f"Net benefit: <b>{_money(sol.objective, cur)} a year</b> against keeping everything in-house"
        + (f", {_money(t['net_benefit_vs_status_quo'], cur)} a year against today's arrangement"
           f" ({t['functions_changed']} function{'s' if t['functions_changed'] != 1 else ''} change provider)"
           if "net_benefit_vs_status_quo" in t else "")
        + ".",
    ]
    if t.get("status_quo_feasible") is False:
        parts.append(f"Today's arrangement is no plan to keep: {html.escape(status_quo_breaks(sol.instance))}.")
    why = why_outsourced(sol.instance, sol.plan, sol.verification)
    if why:
        parts.append(" ".join(f"{html.escape(f)} is outsourced at a negative yearly benefit because "
                              f"{html.escape(w)}." for f, w in why.items()))
    if sol.status.value == "optimal":
        parts.append("No better plan exists under these rules" + (
            f" (within {sol.gap:.2%})." if sol.gap else "."))
    else:
        parts.append(f"The search stopped at a limit; a better plan may exist (gap {sol.gap:.2%})."
                     if sol.gap is not None else "The search stopped at a limit; a better plan may exist.")
    lim = tables.limits(sol)
    tight = lim.loc[lim["binding"].astype(bool), "limit"].tolist()  # (an empty frame's column is not boolean)
    if tight:
        parts.append("Limits reached: " + html.escape(", ".join(tight)) + ".")
    return " ".join(parts)


def _cards(sol: Solution, functions: int | None = None) -> str:
    """Key figures; ``functions``: how many there are (default: the plan's; a company's are counted by it)."""
    cur = sol.instance.currency
    t = sol.totals()
    items = [("net benefit / year", _money(sol.objective, cur)),
             ("recurring cost / year", _money(t.get("operating_cost"), cur)),
             ("one-off cost", _money(t.get("transition_cost"), cur)),
             ("outsourced", f"{t.get('functions_outsourced', 0)} of {len(sol.plan or {}) if functions is None else functions}")]
    return '<div class="cards">' + "".join(
        f'<div class="card"><div class="v">{v}</div><div class="k">{html.escape(k)}</div></div>' for k, v in items
    ) + "</div>"


def notebook_html(sol: Solution) -> str:
    """The rich display of a solution in Jupyter: a status line and the decision table."""
    cur = sol.instance.currency
    head = (f"<p><b>{html.escape(sol.instance.name)}</b>: <b>{sol.status.value}</b>, net benefit "
            f"{_money(sol.objective, cur)} per year" + (f", gap {sol.gap:.3%}" if sol.gap else "") + "</p>")
    if sol.plan is None:
        return head + f"<p>{html.escape(sol.message)}</p>"
    d = tables.decisions(sol)[["function", "provider", "yearly_cost", "one_off", "benefit", "changed"]]
    return head + table_html(d, highlight="changed")


def as_frame(obj, method: str) -> pd.DataFrame | None:
    """A DataFrame, or an analysis result that gives one (``Explanation.frame()``, ``Frontier.table``)."""
    if obj is None or isinstance(obj, pd.DataFrame):
        return obj
    attr = getattr(obj, method)
    return attr() if callable(attr) else attr


def plan_sections(sol: Solution, prefix: str = "", h: str = "h2") -> list[str]:
    """The report's sections on a plan: key figures, decisions, spend by vendor, the waterfall, resources,
    limits and broken soft rules (section ids start with ``prefix`` and headings are ``h``: a company's
    report has these for each division)."""
    d = tables.decisions(sol).drop(columns=["provider"])
    if not d["why"].astype(bool).any():
        d = d.drop(columns=["why"])
    d = d.rename(columns={"provider_name": "provider"})
    d["current"] = d["current"].map(lambda c: "in-house" if c == INHOUSE else c)
    out = [_cards(sol), f"<{h} id='{prefix}decisions'>Decisions</{h}>",
           "<p>One row per function; highlighted rows change provider from today.</p>",
           table_html(d, highlight="changed")]
    vs = tables.vendor_spend(sol)
    out += [f"<{h} id='{prefix}spend'>Spend by vendor</{h}>"]
    if not vs.empty:
        out += [f"<div class='chart'>{charts.svg(charts.spend(sol, charts.detached('spend')))}</div>", table_html(vs, percent=("share",))]
    else:
        out += ["<p>No vendor is engaged: everything stays in-house.</p>"]
    out += [f"<{h} id='{prefix}waterfall'>From all in-house to the plan</{h}>",
            "<p>Each step is one outsourced function's change in recurring cost (vendor fee and commission "
            "minus the in-house cost saved); retainers are added at the end.</p>",
            f"<div class='chart'>{charts.svg(charts.waterfall(sol, charts.detached('waterfall')))}</div>"]
    ru = tables.resource_use(sol)
    if not ru.empty:
        out += [f"<{h} id='{prefix}resources'>Internal resources</{h}>",
                f"<div class='chart'>{charts.svg(charts.resources(sol, charts.detached('resources')))}</div>",
                table_html(ru, percent=("utilisation",))]
    lim = tables.limits(sol)
    if not lim.empty:
        out += [f"<{h} id='{prefix}limits'>Limits and how close the plan is</{h}>",
                table_html(lim, percent=("closeness",))]
    soft = tables.soft_rules(sol)
    if soft is not None:
        out += [f"<{h} id='{prefix}soft'>Soft rules the plan breaks</{h}>", table_html(soft)]
    return out


def analysis_sections(explanation=None, frontier=None, sections: Mapping[str, pd.DataFrame] | None = None,
                      currency: str = "") -> list[str]:
    """The report's sections on analyses: the explanation, the frontier and any other tables."""
    out: list[str] = []
    explanation, frontier = as_frame(explanation, "frame"), as_frame(frontier, "table")
    if explanation is not None:
        out += ["<h2 id='explanation'>Why this plan</h2>", table_html(explanation)]
        for key, frame in explanation.attrs.items():  # e.g. the offers not chosen, the limits
            if isinstance(frame, pd.DataFrame) and not frame.empty:
                title = EXPLANATION_TABLES.get(key, str(key))
                out += [f"<h3 id='explanation-{html.escape(str(key))}'>{html.escape(title)}</h3>", table_html(frame)]
    if frontier is not None:
        out += ["<h2 id='frontier'>Frontier</h2>",
                f"<div class='chart'>{charts.svg(charts.frontier(frontier, charts.detached('frontier'), currency=currency))}</div>",
                table_html(frontier)]
    for title, frame in (sections or {}).items():
        out += [f"<h2>{html.escape(title)}</h2>", table_html(frame)]
    return out


def render(sol: Solution, explanation=None, frontier=None, sections: Mapping[str, pd.DataFrame] | None = None,
           appendix: str = "") -> str:
    """The report as one HTML string. ``explanation`` and ``frontier`` are DataFrames or the
    explain/frontier analyses' results (anything with ``.frame()`` / ``.table``); ``appendix`` is HTML
    (already escaped) put at the end, e.g. a robust solve's section (:mod:`outopt.report.uncertainty`)."""
    inst = sol.instance
    ok = sol.status.has_plan
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(inst.name)}: outsourcing plan</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(inst.name)}: outsourcing plan</h1>",
        f"<p class='sub'>Status: <b class='{'status-ok' if ok else 'status-bad'}' id='status'>{sol.status.value}</b>"
        f" &middot; {len(inst.functions)} functions, {len(inst.vendors)} vendors, {len(inst.offers)} offers"
        f" &middot; amounts in {html.escape(inst.currency)}, per year unless one-off"
        f" &middot; horizon {inst.horizon:g} years</p>",
        f"<p class='summary' id='summary'>{summary(sol)}</p>",
    ]
    if ok:
        out += plan_sections(sol)
    out += analysis_sections(explanation, frontier, sections, inst.currency)
    if appendix:
        out.append(appendix)
    out += [f"<footer>Made by outopt. Every figure is the independent verifier's recomputation. "
            f"Solve time {sol.total_time:.2f} s.</footer></body></html>"]
    return "\n".join(out)
