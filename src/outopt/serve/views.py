"""What the workbench shows, built from the report's pieces (:mod:`outopt.report`): the plan of a
scenario, its totals, the comparison of scenarios, the answer to "why", a frontier.

Text from an instance is user text: the templates escape everything (Jinja2 autoescape); the HTML
made here is either the report's own (which escapes every value) or wrapped as ``Markup`` after
escaping. Nothing here runs a solver.
"""

from __future__ import annotations

import math

from markupsafe import Markup

from outopt.instance.schema import INHOUSE, Instance
from outopt.report import html as report_html
from outopt.report import tables
from outopt.serve.workspace import Scenario
from outopt.verifier.portfolio import status_quo, verify


MAX_ROWS = 1000
"""Decisions shown in the page (each with its steering controls); the downloads have every one."""


def money(x, digits: int = 0) -> str:
    """1,234,567 (no currency); '-' for nothing."""
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    return f"{x:,.{digits}f}"


def number(x) -> str:
    if x is None or (isinstance(x, float) and math.isnan(x)):
        return "-"
    if isinstance(x, float) and not x.is_integer():
        return f"{x:,.6g}"
    return f"{x:,.0f}"


def percent(x) -> str:
    return "-" if x is None else f"{x:.2%}"


def provider_label(p: str | None) -> str:
    return "-" if p is None else "in-house" if p == INHOUSE else p


def providers_of(inst: Instance) -> dict[str, list[str]]:
    """Each function's possible providers: in-house when it has that option, then its offers' vendors."""
    out = {f.id: ([INHOUSE] if f.inhouse is not None else []) for f in inst.functions}
    for o in inst.offers:
        out[o.function].append(o.vendor)
    return out


def totals_rows(sc: Scenario) -> list[tuple[str, str, str, str]]:
    """The plan against all in-house and the status quo: (what, plan, all in-house, status quo)."""
    sol = sc.solution
    t = sol.totals()
    if not t:
        return []
    quo = "status_quo_operating_cost" in t
    quo_vendors = len(verify(sol.instance, status_quo(sol.instance)).engaged) if quo else None
    rows = [("recurring cost / year", money(t["operating_cost"]), money(t["all_inhouse_operating_cost"]),
             money(t.get("status_quo_operating_cost")) if quo else "-"),
            ("net benefit / year (against all in-house)", money(sol.objective), "0",
             money(t.get("status_quo_net_benefit")) if quo else "-"),
            ("one-off cost", money(t["transition_cost"]), "0", "0" if quo else "-"),
            ("functions outsourced", str(t["functions_outsourced"]), "0",
             str(sum(1 for f in sol.instance.functions if f.current not in (None, INHOUSE))) if quo else "-"),
            ("vendors engaged", str(t["vendors_engaged"]), "0", "-" if quo_vendors is None else str(quo_vendors))]
    if quo:
        rows.append(("plan's gain over the status quo / year", money(t["net_benefit_vs_status_quo"]), "", ""))
        rows.append(("functions that change provider", str(t["functions_changed"]), "", ""))
    return rows


def plan_view(sc: Scenario) -> dict:
    """Everything the plan section shows for one scenario."""
    sol = sc.solution
    view = {"summary": Markup(report_html.summary(sol)), "status": sol.status.value, "decisions": [],
            "charts": {k: Markup(v) for k, v in sc.solved.charts.items()}, "totals": totals_rows(sc)}
    if sol.plan is None:
        d = sc.solved.diagnosis
        view["diagnosis"] = d.lines() if d is not None else None
        return view
    providers = providers_of(sc.instance)
    rows = tables.decisions(sol).to_dict("records")
    for row in rows[:MAX_ROWS]:
        row["options"] = providers[row["function"]]
        view["decisions"].append(row)
    view["hidden_rows"] = max(0, len(rows) - MAX_ROWS)
    vs = tables.vendor_spend(sol)
    view["spend"] = Markup(report_html.table_html(vs, percent=("share",))) if not vs.empty else None
    ru = tables.resource_use(sol)
    view["resources"] = Markup(report_html.table_html(ru, percent=("utilisation",))) if not ru.empty else None
    lim = tables.limits(sol)
    view["binding"] = [r["limit"] for r in lim.to_dict("records") if r["binding"]]
    view["limits"] = Markup(report_html.table_html(lim, highlight="binding", percent=("closeness",))) \
        if not lim.empty else None
    soft = tables.soft_rules(sol)
    view["soft"] = Markup(report_html.table_html(soft)) if soft is not None else None
    return view


def comparison(scenarios: list[Scenario]) -> dict:
    """Scenarios side by side: figures per scenario, and the functions whose provider differs."""
    first = scenarios[0].solution
    figures = []
    for sc in scenarios:
        sol, t = sc.solution, sc.solution.totals()
        delta = None if sol.objective is None or first.objective is None else sol.objective - first.objective
        figures.append({"name": sc.name, "status": sol.status.value, "objective": money(sol.objective),
                        "delta": "" if sc is scenarios[0] else ("-" if delta is None else f"{delta:+,.0f}"),
                        "operating": money(t.get("operating_cost")), "one_off": money(t.get("transition_cost")),
                        "vs_quo": money(t.get("net_benefit_vs_status_quo")),
                        "vendors": ", ".join(sorted(sol.verification.engaged)) if sol.verification else "-",
                        "outsourced": t.get("functions_outsourced", "-"),
                        "edits": "; ".join(e.describe() for e in sc.edits) or "as opened"})
    functions = [f.id for f in scenarios[0].instance.functions]
    changed = []
    for f in functions:
        cells = [provider_label(sc.solution.plan.get(f)) if sc.solution.plan else "-" for sc in scenarios]
        if len(set(cells)) > 1:
            changed.append({"function": f, "cells": [(c, k > 0 and c != cells[0]) for k, c in enumerate(cells)]})
    return {"names": [sc.name for sc in scenarios], "figures": figures, "changed": changed}


def why_view(sc: Scenario, function: str) -> dict | None:
    """The explanation of one function of a scenario: runner-up, regret, the other decisions that change
    with it, the break-even cost of each of its offers not chosen, and the rules that touch it."""
    ex = sc.explanation
    row = next((r for r in ex.functions if r["function"] == function), None) if ex is not None else None
    if row is None:
        return None
    offers = [o for o in ex.offers if o["function"] == function]
    return {"function": function, "provider": provider_label(row["provider"]),
            "runner_up": provider_label(row["runner_up"]) if row["runner_up"] else "none possible",
            "regret": money(row["regret"]) if row["regret"] is not None else "-",
            "note": row.get("note", ""),
            "changes": [(c["function"], provider_label(c["from"]), provider_label(c["to"])) for c in row["changes"]],
            "offers": [(o["vendor"], money(o["cost"]), "never" if o["break_even_cost"] is None
                        else money(o["break_even_cost"]), o["reason"]) for o in offers],
            "rules": sc.instance.rules_affecting(function)}


def frontier_view(traced) -> dict:
    """A frontier's chart and breakpoints: where the best net benefit changes, and what changes there."""
    f = traced.frontier
    rows = [{"at": number(b.at), "below": money(b.objective_below), "above": money(b.objective_above),
             "changes": ", ".join(f"{c['function']}: {provider_label(c['below'])} -> {provider_label(c['above'])}"
                                  for c in b.changes)} for b in f.breakpoints]
    return {"param": f.param, "lower": number(f.lower), "upper": number(f.upper), "exact": f.exact,
            "svg": Markup(traced.svg), "breakpoints": rows, "solves": len(f.points)}
