"""Charts of a solution (matplotlib): spend by vendor, the cost waterfall, resource use, a frontier.

Each function draws on an Axes (a new pyplot figure when none is given, so notebooks show
it inline) and returns it; :func:`detached` makes an Axes outside pyplot (no GUI backend is
touched) and :func:`svg` turns a chart into inline SVG for the HTML report.
"""

from __future__ import annotations

import io
import warnings

import matplotlib.pyplot as plt
import pandas as pd
from matplotlib.figure import Figure
from matplotlib.ticker import FuncFormatter

from outopt.report import tables
from outopt.report.text import chart_label
from outopt.solver.solution import Solution

BLUE, GREEN, RED, GREY = "#2b6cb0", "#2f855a", "#c53030", "#718096"
SIZES = {"spend": (10, 4.2), "waterfall": (10, 5), "resources": (10, 3.4), "frontier": (10, 4.6)}
"""Inches: drawn 10 wide, so in the report (as wide as its 1000-pixel page) the text is its own size."""


def _axes(ax, size=(7, 3.6)):
    if ax is None:
        _, ax = plt.subplots(figsize=size, layout="constrained")
    return ax


def detached(kind: str):
    """An Axes on a figure that pyplot does not track (for files: no display, nothing to close)."""
    return Figure(figsize=SIZES[kind], layout="constrained").add_subplot()


def _money_axis(axis, currency: str) -> None:
    axis.set_major_formatter(FuncFormatter(lambda x, _: f"{x / 1000:,.0f}k" if abs(x) >= 1000 else f"{x:,.0f}"))
    axis.set_label_text(chart_label(currency + " per year"))


def spend(sol: Solution, ax=None):
    """Horizontal bars: yearly spend per engaged vendor."""
    ax = _axes(ax)
    v = tables.vendor_spend(sol).iloc[::-1]
    ax.barh(range(len(v)), v["spend"], color=BLUE)
    ax.set_yticks(range(len(v)), [chart_label(n) for n in v["name"]])
    for y, (s, share) in enumerate(zip(v["spend"], v["share"])):
        ax.text(s, y, f" {share:.0%}", va="center", fontsize=8)
    _money_axis(ax.xaxis, sol.instance.currency)
    ax.set_title("Spend by vendor (share of outsourced spend)", loc="left", fontsize=10)
    ax.margins(x=0.12)
    return ax


def waterfall(sol: Solution, ax=None, top: int = 10):
    """From the all-in-house recurring cost to the plan's: saving steps green, added cost red."""
    ax = _axes(ax, SIZES["waterfall"])
    w = tables.waterfall(sol, top=top)
    level, levels = 0.0, []
    for i, row in enumerate(w.itertuples()):
        if row.kind == "total":
            ax.bar(i, row.amount, color=GREY)
            level = row.amount
        else:
            bottom = level + min(0.0, row.amount)
            ax.bar(i, abs(row.amount), bottom=bottom, color=GREEN if row.amount < 0 else RED)
            level += row.amount
        levels.append(level)
    if levels:  # start the axis near the lowest level so the steps are visible
        low, high = min(levels), max(levels)
        ax.set_ylim(bottom=max(0.0, low - 0.5 * (high - low)) if high > low else 0.0)
    ax.set_xticks(range(len(w)), [chart_label(step) for step in w["step"]], rotation=35, ha="right", fontsize=8)
    _money_axis(ax.yaxis, sol.instance.currency)
    ax.set_title("Recurring cost: all in-house to the plan", loc="left", fontsize=10)
    return ax


def resources(sol: Solution, ax=None):
    """Each internal resource's capacity, split into the plan's use and what is left (they add up to the
    capacity; a soft capacity overrun shows past it in red), and beside each bar the units the outsourced
    functions no longer need, against what all in-house would use (it can exceed the pool)."""
    ax = _axes(ax, SIZES["resources"])
    r = tables.resource_use(sol).iloc[::-1]
    at = range(len(r))
    within = r[["used", "capacity"]].min(axis=1)
    ax.barh(at, within, color=BLUE, label="used by the plan")
    ax.barh(at, r["spare"].clip(lower=0), left=within, color=GREEN, alpha=0.45, label="spare capacity")
    over = (r["used"] - r["capacity"]).clip(lower=0)
    if (over > 0).any():
        ax.barh(at, over, left=r["capacity"], color=RED, label="over capacity (soft)")
    top = float(r[["used", "capacity"]].max().max()) if not r.empty else 1.0  # an instance without resources
    top = top if top > 1e-9 else 1.0
    for y, row in zip(at, r.itertuples()):
        ax.text(max(row.used, row.capacity) + 0.02 * top, y,
                f"{row.used:,.3g} of {row.capacity:,.3g} used; outsourcing frees {row.freed:,.3g}"
                f" (all in-house: {row.all_inhouse:,.3g})", va="center", fontsize=8, color="#4a5568")
    ax.set_xlim(0, top * 2.1)  # room for the notes
    ax.set_yticks(at, [chart_label(n) for n in r["name"]])
    ax.set_xlabel("units (e.g. FTE)")
    ax.legend(fontsize=7, loc="lower right")
    ax.set_title("Internal resources: the plan's use of each pool's capacity", loc="left", fontsize=10)
    return ax


def frontier(frame: pd.DataFrame, ax=None, x: str | None = None, y: str | None = None, currency: str = ""):
    """A line through a frontier table: ``x`` against ``y`` (the first two numeric columns by default)."""
    ax = _axes(ax)
    numeric = [c for c in frame.columns if pd.api.types.is_numeric_dtype(frame[c])]
    x = x or ("value" if "value" in frame.columns else numeric[0])
    y = y or ("objective" if "objective" in frame.columns else [c for c in numeric if c != x][0])
    frame = frame.sort_values(x)
    ax.plot(frame[x], pd.to_numeric(frame[y], errors="coerce"), marker="o", color=BLUE, drawstyle="steps-post")
    ax.set_xlabel(chart_label(x))
    ax.set_ylabel(chart_label(y + (f" ({currency})" if currency else "")))
    ax.set_title("Frontier", loc="left", fontsize=10)
    ax.grid(alpha=0.3)
    return ax


class SolutionPlots:
    """``Solution.plot``: call it for every chart in one figure, or a method for one chart."""

    KINDS = ("spend", "waterfall", "resources")

    def __init__(self, sol: Solution):
        if sol.plan is None:
            raise ValueError(f"no plan to plot: the solve ended {sol.status.value}")
        self._sol = sol

    def __call__(self, kind: str | None = None, ax=None, **kw):
        if kind is not None:
            if kind not in self.KINDS:
                raise ValueError(f"unknown chart '{kind}'; use one of {', '.join(self.KINDS)}")
            return getattr(self, kind)(ax=ax, **kw)
        fig, axes = plt.subplots(3, 1, figsize=(7, 10.5), layout="constrained")
        for k, a in zip(self.KINDS, axes):
            getattr(self, k)(ax=a)
        return fig

    def spend(self, ax=None):
        return spend(self._sol, ax)

    def waterfall(self, ax=None, top: int = 10):
        return waterfall(self._sol, ax, top)

    def resources(self, ax=None):
        return resources(self._sol, ax)


def svg(ax_or_fig) -> str:
    """Inline SVG of a chart (no external references), and close its figure."""
    fig = getattr(ax_or_fig, "figure", ax_or_fig)
    buf = io.StringIO()
    with warnings.catch_warnings():  # a name in a script the font lacks is drawn as boxes, not an error
        warnings.filterwarnings("ignore", message="Glyph .* missing from")
        fig.savefig(buf, format="svg", metadata={"Date": None})
    if plt.fignum_exists(getattr(fig, "number", -1)):
        plt.close(fig)
    text = buf.getvalue()
    return text[text.index("<svg"):]


HISTOGRAM_SIZE = (7, 2.4)


def histogram(values, ax=None, bins=40, title: str = "", currency: str = "", marks=()):
    """A plan's net benefit over scenarios (``values``): how many scenarios fall in each bin, with vertical
    lines at ``marks`` ((label, x, color) each: its mean, its P5, the status quo's mean...)."""
    ax = _axes(ax, HISTOGRAM_SIZE)
    ax.hist(values, bins=bins, color=BLUE, alpha=0.75)
    for k, (label, x, color) in enumerate(marks):
        ax.axvline(x, color=color, linestyle=("-", "--", ":")[k % 3], linewidth=1.2, label=chart_label(label))
    _money_axis(ax.xaxis, currency)
    ax.set_ylabel("scenarios")
    if marks:
        ax.legend(fontsize=7, loc="upper left")
    ax.set_title(chart_label(title), loc="left", fontsize=10)
    return ax
