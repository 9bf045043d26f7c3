"""Results of a company (a :class:`~outopt.solver.solution.CompanySolution`): the corporate summary, then
each division, as tables (the workbook and CSV), and as the HTML report.

Each division's part is reported as a plan of its own (:meth:`CompanySolution.division_solutions`): the
same decisions, spend, waterfall, resources and limits as an instance's report, on the division's figures
(retainers and onboarding are corporate: they appear in the corporate totals only). Every figure is the
company verifier's recomputation.
"""

from __future__ import annotations

import html

import pandas as pd

from outopt.report import tables
from outopt.report.html import CSS, _cards, _money, analysis_sections, plan_sections, summary, table_html
from outopt.solver.solution import CompanySolution


def with_division(frames: dict[str, pd.DataFrame]) -> pd.DataFrame:
    """One table of every division's table of the same kind, a ``division`` column first."""
    parts = [f.assign(division=did)[["division", *f.columns]] for did, f in frames.items() if not f.empty]
    if not parts:
        first = next(iter(frames.values()), pd.DataFrame())
        return pd.DataFrame(columns=["division", *first.columns])
    return pd.concat(parts, ignore_index=True)


def corporate_totals(sol: CompanySolution) -> pd.DataFrame:
    """Status, objective, bound, gap, method and the company's totals."""
    rows = [("status", sol.status.value), ("net_benefit", sol.objective), ("bound", sol.bound), ("gap", sol.gap),
            ("method", sol.method), ("currency", sol.company.currency), ("solve_time_s", round(sol.solve_time, 3))]
    rows += list(sol.totals().items())
    voc = sol.value_of_coordination or {}
    if voc.get("value") is not None:
        rows += [("divisions_alone_net_benefit", voc["separate"]), ("value_of_coordination", voc["value"])]
    return pd.DataFrame(rows, columns=["metric", "value"])


def corporate_limits(sol: CompanySolution) -> pd.DataFrame:
    """The corporate limits (budgets with retainers and onboarding paid once, shared vendor limits, the
    company's vendor count) and the plan's use of each."""
    c, v = sol.company, sol.verification
    if v is None:
        return tables.limit_frame([])
    rows: list[tuple[str, float, float]] = []
    if c.budget.operating is not None:
        rows.append(("budget.operating", v.operating_cost, c.budget.operating))
    if c.budget.transition is not None:
        rows.append(("budget.transition", v.transition_cost, c.budget.transition))
    total = sum(v.spend.values())
    for vid, shared in c.vendors.items():
        if shared.capacity is not None:
            rows.append((f"vendors.{vid}.capacity", v.vendor_load.get(vid, 0.0), shared.capacity))
        if shared.max_share is not None:
            rows.append((f"vendors.{vid}.max_share", v.spend.get(vid, 0.0), shared.max_share * total))
    if c.max_vendors is not None:
        rows.append(("max_vendors", float(len(v.engaged)), float(c.max_vendors)))
    return tables.limit_frame(rows)


def company_vendor_spend(sol: CompanySolution) -> pd.DataFrame:
    """Engaged vendors company-wide: yearly spend (one retainer), share, load against the shared capacity,
    functions and the divisions they serve."""
    cols = ["vendor", "name", "spend", "share", "load", "capacity", "functions", "divisions"]
    v = sol.verification
    if v is None or not v.engaged:
        return pd.DataFrame(columns=cols)
    names = {x.id: x.name or x.id for d in sol.company.divisions for x in d.instance.vendors}
    total = sum(v.spend.values())
    rows = []
    for vid in v.engaged:
        served = [(d, f) for d, plan in sol.plans.items() for f, p in plan.items() if p == vid]
        shared = sol.company.vendors.get(vid)
        rows.append({"vendor": vid, "name": names.get(vid, vid), "spend": v.spend[vid],
                     "share": v.spend[vid] / total if total else 0.0, "load": v.vendor_load.get(vid, 0.0),
                     "capacity": None if shared is None else shared.capacity, "functions": len(served),
                     "divisions": ", ".join(dict.fromkeys(d for d, _ in served))})
    return pd.DataFrame(rows, columns=cols).sort_values("spend", ascending=False, ignore_index=True)


def coordination(sol: CompanySolution) -> pd.DataFrame | None:
    """Each division alone with its share of the corporate budgets (the value of coordination's baseline)."""
    voc = sol.value_of_coordination
    if not voc:
        return None
    return pd.DataFrame(voc["divisions"], columns=["division", "share", "budget_operating", "budget_transition",
                                                   "status", "objective"])


def company_tables(sol: CompanySolution) -> dict[str, pd.DataFrame]:
    """All result tables of a company by name, in the order the workbook shows them: the corporate ones,
    then every division's in one table with a division column."""
    parts = {did: tables.tables(s) for did, s in sol.division_solutions().items()}
    out = {"divisions": sol.division_table(), "totals": corporate_totals(sol),
           "corporate_limits": corporate_limits(sol), "vendors": company_vendor_spend(sol)}
    voc = coordination(sol)
    if voc is not None:
        out["coordination"] = voc
    for name in ("decisions", "resources", "limits", "soft_rules"):
        frames = {did: t[name] for did, t in parts.items() if name in t}
        if frames:
            out[name] = with_division(frames)
    if "decisions" not in out:
        out["decisions"] = pd.DataFrame(columns=["division", *tables.DECISION_COLUMNS])
    return out


def company_summary(sol: CompanySolution) -> str:
    """A few plain sentences on the company's plan."""
    cur = sol.company.currency
    if sol.plans is None:
        return f"No plan was found: the solve ended <b>{sol.status.value}</b>. {html.escape(sol.message)}"
    t = sol.totals()
    n = sum(len(p) for p in sol.plans.values())
    k = t["vendors_engaged"]
    parts = [
        f"The plan outsources <b>{t['functions_outsourced']} of {n}</b> functions across "
        f"<b>{len(sol.company.divisions)}</b> divisions to <b>{k}</b> vendor{'s' if k != 1 else ''}, "
        f"whose retainers ({_money(t['retainers'], cur)} a year) the company pays once.",
        f"Recurring cost goes from {_money(t['all_inhouse_operating_cost'], cur)} (everything in-house) to "
        f"<b>{_money(t['operating_cost'], cur)}</b> a year; one-off costs are {_money(t['transition_cost'], cur)}.",
        f"Net benefit: <b>{_money(sol.objective, cur)} a year</b> against keeping everything in-house.",
    ]
    voc = sol.value_of_coordination or {}
    if voc.get("value") is not None:
        parts.append(f"Planned together, the divisions gain {_money(voc['value'], cur)} a year more than each "
                     "planning alone with its share of the corporate budgets (the value of coordination).")
    if sol.status.value == "optimal":
        parts.append("No better plan exists under these rules.")
    else:
        parts.append("The search stopped at a limit; a better plan may exist.")
    lim = corporate_limits(sol)
    tight = lim.loc[lim["binding"].astype(bool), "limit"].tolist()
    if tight:
        parts.append("Corporate limits reached: " + html.escape(", ".join(tight)) + ".")
    return " ".join(parts)


def corporate_sections(sol: CompanySolution) -> list[str]:
    """Key figures, the divisions side by side, the corporate limits, spend by vendor, the value of coordination."""
    out = [_cards(sol, sum(len(p) for p in sol.plans.values())), "<h2 id='divisions'>Divisions</h2>",
           "<p>Each division's net benefit and costs before the corporate retainers and onboarding.</p>",
           table_html(sol.division_table().rename(columns={"net_benefit": "net benefit / year",
                                                           "operating_cost": "recurring cost",
                                                           "transition_cost": "one-off",
                                                           "functions_outsourced": "outsourced"}))]
    lim = corporate_limits(sol)
    if not lim.empty:
        out += ["<h2 id='corporate-limits'>Corporate limits and how close the plan is</h2>",
                table_html(lim, percent=("closeness",))]
    vs = company_vendor_spend(sol)
    out += ["<h2 id='company-spend'>Spend by vendor, company-wide</h2>"]
    out += [table_html(vs, percent=("share",))] if not vs.empty else ["<p>No vendor is engaged.</p>"]
    voc = coordination(sol)
    if voc is not None:
        out += ["<h2 id='coordination'>Value of coordination</h2>",
                "<p>Each division solved alone, paying its own retainers, with the corporate budgets split in "
                "proportion to its in-house cost.</p>",
                table_html(voc.rename(columns={"budget_operating": "operating budget", "budget_transition": "one-off budget",
                                               "objective": "net benefit / year"}), percent=("share",))]
    return out


def render_company(sol: CompanySolution, explanation=None, frontier=None, sections=None) -> str:
    """The company's report as one HTML string: the corporate summary, then each division's plan."""
    c = sol.company
    ok = sol.status.has_plan
    n = sum(len(d.instance.functions) for d in c.divisions)
    out = [
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(c.name)}: outsourcing plan</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(c.name)}: outsourcing plan</h1>",
        f"<p class='sub'>Status: <b class='{'status-ok' if ok else 'status-bad'}' id='status'>{sol.status.value}</b>"
        f" ({html.escape(sol.method)}) &middot; {len(c.divisions)} divisions, {n} functions"
        f" &middot; amounts in {html.escape(c.currency)}, per year unless one-off"
        f" &middot; horizon {c.horizon:g} years</p>",
        f"<p class='summary' id='summary'>{company_summary(sol)}</p>",
    ]
    if ok:
        out += corporate_sections(sol)
        for i, (did, part) in enumerate(sol.division_solutions().items()):
            division = c.division(did)
            out += [f"<h2 id='division-{i}'>Division: {html.escape(division.instance.name)} ({html.escape(did)})</h2>",
                    f"<p class='summary'>{summary(part)}</p>",
                    "<p>The division's own figures: vendors' retainers and onboarding are the company's (above).</p>",
                    *plan_sections(part, prefix=f"d{i}-", h="h3")]
    out += analysis_sections(explanation, frontier, sections, c.currency)
    out += [f"<footer>Made by outopt. Every figure is the independent company verifier's recomputation. "
            f"Solve time {sol.total_time:.2f} s.</footer></body></html>"]
    return "\n".join(out)
