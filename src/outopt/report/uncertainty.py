"""Reports of ``outopt risk`` and ``solve --robust``: terminal tables, histograms, HTML.

``risk``: one row of statistics per plan, and in the HTML page a histogram of each plan's net benefit
over the scenarios (same bins for every plan, so they compare at a glance). ``solve --robust``: the
robust plan beside the optimal plan (at the planning values) and the status quo, in the scenarios the
plan was chosen on and in fresh ones: mean, P5, CVaR, odds against the status quo and of breaking a
budget; the HTML report of the robust plan gets that table and the histograms after its usual sections.
"""

from __future__ import annotations

import html

import numpy as np
import pandas as pd
from matplotlib.figure import Figure
from rich.console import Console

from outopt.report import charts
from outopt.report.html import CSS, render, table_html
from outopt.report.terminal import add_row, money, say, titled
from outopt.uncertainty.assess import (
    OPTIMAL,
    ROBUST,
    STATUS_QUO,
    RiskResult,
    RobustSolution,
)

NAMES = {OPTIMAL: "optimal", STATUS_QUO: "status quo", ROBUST: "robust"}


def _share(x: float | None) -> str:
    return "-" if x is None else f"{x:.1%}"


def stats_frame(stats: list[dict], extra: tuple[str, ...] = ()) -> pd.DataFrame:
    """Statistics as a table for people: plan, mean, std, P5, P50, P95 and the odds."""
    rows = []
    for s in stats:
        row = {"plan": NAMES.get(s["name"], s["name"]), **{k: s[k] for k in extra if k in s}}
        row.update({"mean": s["mean"], "std": s["std"], "P5": s["p5"], "P50": s["p50"], "P95": s["p95"],
                    "beats status quo": s["prob_beats_status_quo"],
                    "over operating budget": s["prob_over_budget"]["operating"],
                    "over transition budget": s["prob_over_budget"]["transition"]})
        rows.append(row)
    return pd.DataFrame(rows)


ODDS = ("beats status quo", "over operating budget", "over transition budget")


def _print_frame(frame: pd.DataFrame, title: str, console: Console) -> None:
    t = titled(title)
    for c in frame.columns:
        t.add_column(c, justify="left" if c in ("plan", "scenarios") else "right")
    for row in frame.to_dict("records"):
        add_row(t, *[_share(v) if c in ODDS else money(v) if isinstance(v, float) else str(v)
                     for c, v in row.items()])
    console.print(t)


def print_risk(result: RiskResult, console: Console) -> None:
    """One row per plan: the statistics of its net benefit over the scenarios."""
    cur = result.instance.currency
    _print_frame(stats_frame(result.stats), f"net benefit over {result.samples.describe()} ({cur} per year)", console)
    if result.solution is not None and not result.solution.status.has_plan:
        say(console, f"no optimal plan to evaluate: the solve ended {result.solution.status.value}")


def robust_frame(sol: RobustSolution) -> pd.DataFrame:
    """The robust plan, the optimal plan and the status quo, in sample and out of sample, side by side."""
    r = sol.robust
    rows = []
    for name, entry in ((ROBUST, {"in_sample": r["in_sample"], "out_of_sample": r.get("out_of_sample")}),
                        (OPTIMAL, r.get("optimal")), (STATUS_QUO, r.get("status_quo"))):
        if not entry:
            continue
        for where, label in (("in_sample", f"{r['samples']:,} chosen on"),
                             ("out_of_sample", f"{r.get('out_of_sample_samples', 0):,} fresh")):
            s = entry.get(where)
            if s is None:
                continue
            row = {"plan": NAMES[name], "scenarios": label, "mean": s["mean"], "P5": s["p5"]}
            if "cvar" in s:
                row["CVaR"] = s["cvar"]
            row.update({"beats status quo": s["prob_beats_status_quo"],
                        "over operating budget": s["prob_over_budget"]["operating"],
                        "over transition budget": s["prob_over_budget"]["transition"]})
            rows.append(row)
    return pd.DataFrame(rows)


def print_robust(sol: RobustSolution, console: Console) -> None:
    """The robust plan against the optimal plan and the status quo, in and out of sample."""
    r = sol.robust
    if "in_sample" not in r:
        return
    title = (f"robust plan: best {r['measure']} of the net benefit ({sol.instance.currency} per year), "
             f"{money(r['value'])} over the scenarios it was chosen on")
    _print_frame(robust_frame(sol), title, console)


# --- HTML -------------------------------------------------------------------------------------------


def _bins(values: list[np.ndarray]) -> np.ndarray:
    every = np.concatenate(values)
    low, high = float(every.min()), float(every.max())
    return np.linspace(low, high if high > low else low + 1.0, 41)


def histograms_html(series: dict[str, np.ndarray], currency: str, quo: np.ndarray | None = None) -> str:
    """One histogram per plan, its mean and P5 marked (and the status quo's mean when it is in view); the plans
    share their bins, so they compare at a glance (the status quo, often far below, gets its own)."""
    plans = [np.asarray(z) for name, z in series.items() if name != STATUS_QUO]
    shared = _bins(plans) if plans else None
    out = []
    for name, z in series.items():
        bins = shared if name != STATUS_QUO else _bins([np.asarray(z)])
        ax = Figure(figsize=charts.HISTOGRAM_SIZE, layout="constrained").add_subplot()
        marks = [("mean", float(np.mean(z)), charts.BLUE), ("P5", float(np.percentile(z, 5)), charts.RED)]
        if quo is not None and name != STATUS_QUO and bins[0] <= float(np.mean(quo)) <= bins[-1]:
            marks.append(("status quo's mean", float(np.mean(quo)), charts.GREY))
        charts.histogram(z, ax, bins=bins, title=NAMES.get(name, name), currency=currency, marks=marks)
        out.append(f"<div class='chart'>{charts.svg(ax)}</div>")
    return "\n".join(out)


def _quo(outcomes) -> np.ndarray | None:
    return next((o.objective for o in outcomes if o.name == STATUS_QUO), None)


def risk_page(result: RiskResult) -> str:
    """``outopt risk --out report.html``: the statistics and a histogram per plan, one self-contained page."""
    inst = result.instance
    frame = stats_frame(result.stats)
    series = {o.name: o.objective for o in result.outcomes}
    return "\n".join([
        "<!DOCTYPE html><html lang='en'><head><meta charset='utf-8'>",
        "<meta name='viewport' content='width=device-width, initial-scale=1'>",
        f"<title>{html.escape(inst.name)}: how sure the plans are</title><style>{CSS}</style></head><body>",
        f"<h1>{html.escape(inst.name)}: how sure the plans are</h1>",
        f"<p class='sub'>Net benefit per year ({html.escape(inst.currency)}) over "
        f"{html.escape(result.samples.describe())}</p>",
        "<h2 id='risk'>Net benefit over the scenarios</h2>",
        "<p>P5 is the net benefit that 95 % of the scenarios exceed; the odds are the share of scenarios in which "
        "the plan beats the status quo, or breaks a budget.</p>",
        table_html(frame, percent=ODDS),
        "<h2 id='histograms'>How the net benefit spreads</h2>",
        histograms_html(series, inst.currency, _quo(result.outcomes)),
        "<footer>Made by outopt. Each plan's first scenarios are recomputed by the independent verifier.</footer>",
        "</body></html>",
    ])


def robust_section(sol: RobustSolution) -> str:
    """The robust plan beside the optimal plan and the status quo, and the histograms (in sample)."""
    r = sol.robust
    if "in_sample" not in r:
        return ""
    inside = sol.outcomes.get("in_sample") or []
    series = {o.name: o.objective for o in inside}
    return "\n".join([
        "<h2 id='robust'>A plan that stays good when prices move</h2>",
        f"<p>This plan has the best {html.escape(r['measure'])} of its net benefit over "
        f"{html.escape(r['source'])}, with every rule met at the planning values and every budget in every "
        "scenario. Beside it, the plan that is best at the planning values and the status quo; the fresh "
        "scenarios show how much of the difference holds outside the scenarios the plan was chosen on.</p>",
        table_html(robust_frame(sol), percent=ODDS),
        histograms_html(series, sol.instance.currency, _quo(inside)),
    ])


def robust_page(sol: RobustSolution) -> str:
    """The HTML report of a robust solve: the usual report of its plan, then :func:`robust_section`."""
    return render(sol, appendix=robust_section(sol))
