"""Figures that can't mislead (issue 15): the resources chart's parts add up to each pool's capacity, a
function outsourced at a loss says why, a status quo that breaks a rule is said to, a prioritised
frontier shows the violations it trades for net benefit, the explanation's `used` column is filled for
every limit, chart labels never overlap, tables read in words."""

import itertools
import json

import pytest
from conftest import INSTANCES, make, run_cli

import outopt
from outopt.analysis.frontier import step_figure
from outopt.analysis.why import why_outsourced
from outopt.report import charts, tables
from outopt.report.html import render

SMALL = INSTANCES / "small_business.yaml"


@pytest.fixture(scope="module")
def midsize():
    return outopt.solve(outopt.load(INSTANCES / "midsize.yaml"))


def test_resource_bars_add_up_to_the_capacity_and_freed_units_are_said_apart(midsize):
    use = tables.resource_use(midsize).set_index("resource")
    it = use.loc["it_staff"]  # capacity 7; outsourcing frees 26.3 (all in-house would need 26.3)
    assert (it.capacity, it.used, it.spare, it.all_inhouse) == pytest.approx((7, 0, 7, 26.3))
    assert it.freed == pytest.approx(26.3) and it.freed > it.capacity
    assert (use["used"] + use["spare"]).tolist() == pytest.approx(use["capacity"].tolist())
    ax = charts.resources(midsize, charts.detached("resources"))
    widths = {}
    for bar in ax.patches:
        widths.setdefault(round(bar.get_y() + bar.get_height() / 2), []).append(bar.get_width())
    names = use["name"].tolist()[::-1]
    for y, name in enumerate(names):  # each bar is the plan's use and the spare capacity: the capacity, no more
        assert sum(widths[y]) == pytest.approx(use.set_index("name").loc[name, "capacity"])
    notes = [t.get_text() for t in ax.texts]
    assert "0 of 7 used; outsourcing frees 26.3 (all in-house: 26.3)" in notes


def test_a_function_outsourced_at_a_loss_says_why(midsize):
    why = why_outsourced(midsize.instance, midsize.plan, midsize.verification)
    assert why == {"freight": "it has no in-house option, so a vendor must take it; it stays with its current "
                              "vendor shipfast; leaving costs an exit fee of 40,000; moving it counts against "
                              "rules.max_changes (23 of 24 used)"}
    assert tables.decisions(midsize).set_index("function").loc["freight", "why"] == why["freight"]
    assert "freight is outsourced at a negative yearly benefit because it has no in-house option" in render(midsize)
    # a member of a bundle taken whole, and a locked offer dearer than in-house
    held = make(functions=[{"id": "a", "inhouse": {"cost": 10}}, {"id": "b", "inhouse": {"cost": 100}},
                           {"id": "c", "inhouse": {"cost": 10}}],
                vendors=[{"id": "v", "bundles": [{"id": "pair", "functions": ["a", "b"], "price": 60}]}],
                offers=[{"function": "a", "vendor": "v", "cost": 50}, {"function": "b", "vendor": "v", "cost": 95},
                        {"function": "c", "vendor": "v", "cost": 30}],
                rules={"locks": [{"function": "c", "provider": "v", "reason": "signed in 2025"}]})
    sol = outopt.solve(held)
    # both members for 60 beat b alone (95) with a in-house (10); a's own row shows its list cost, 50 > 10
    assert sol.plan == {"a": "v", "b": "v", "c": "v"}
    assert why_outsourced(held, sol.plan) == {"a": "in v's bundle 'pair' with b, priced 60 together",
                                              "c": "locked to v by rules.locks[0] (signed in 2025)"}


def test_a_status_quo_that_breaks_a_rule_is_said_to(small, tmp_path):
    r = run_cli("solve", SMALL, "--out", tmp_path / "report.html")
    assert r.returncode == 0
    assert "    status quo (breaks a rule)            1,247,000 USD" in r.stdout
    assert ("  the status quo is no plan to keep: it breaks budget.operating: recurring cost 1,247,000.00 "
            "exceeds 1,150,000.00, and 1 more rule\n") in r.stdout
    report = (tmp_path / "report.html").read_text()
    assert ("Today's arrangement is no plan to keep: it breaks budget.operating: recurring cost 1,247,000.00 "
            "exceeds 1,150,000.00, and 1 more rule.") in report


def prioritised():
    """Net benefit falls where the budget rises: a soft lock of priority 1 on an offer dearer than in-house."""
    return make(functions=[{"id": "a", "inhouse": {"cost": 10}}], vendors=[{"id": "v"}],
                offers=[{"function": "a", "vendor": "v", "cost": 100}], budget={"operating": 200},
                rules={"locks": [{"function": "a", "provider": "v", "soft": {"priority": 1}}]})


def test_a_prioritised_frontier_shows_the_violation_it_trades(tmp_path):
    result = outopt.frontier(prioritised(), "budget.operating", 10, 200, steps=3)
    assert [(b.at, b.objective_below, b.objective_above) for b in result.breakpoints] == [(100, 0, -90)]
    table = result.table
    assert list(table.columns) == ["value", "objective", "priority_1_violation", "status", "requirement"]
    rows = table[["value", "objective", "priority_1_violation"]].values.ravel().tolist()
    # the probe just below 100 is one tolerance under it
    assert rows == pytest.approx([10, 0, 1, 100 - result.tolerance, 0, 1, 105, -90, 0, 200, -90, 0])
    assert result.to_csv().splitlines()[0] == "value,objective,priority_1_violation,status,requirement"
    assert json.loads(result.to_json())["points"][0]["priority_violations"] == {"1": 1.0}
    fig = step_figure(result)
    assert len(fig.axes) == 2 and fig.axes[1].get_ylabel() == "soft-rule violation"
    outopt.save(prioritised(), tmp_path / "p.yaml")
    r = run_cli("frontier", tmp_path / "p.yaml", "--param", "budget.operating", "--from", "10", "--to", "200",
                "--steps", "3")
    assert r.returncode == 0 and "priority 1 violation" in r.stdout


def test_frontier_labels_never_overlap():
    inst = outopt.load(SMALL)
    result = outopt.frontier(inst, "budget.transition", 20_000, 60_000, steps=5)
    fig = step_figure(result)
    renderer = fig.canvas.get_renderer()
    labels = [t for t in fig.axes[0].texts if t.get_text().endswith(("change", "changes"))]
    boxes = [t.get_window_extent(renderer) for t in labels]
    assert 0 < len(labels) <= len([b for b in result.breakpoints if b.objective_below is not None])
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))
    squeezed = step_figure(result)  # the same breakpoints on a narrow figure: fewer labels, still none overlap
    squeezed.set_size_inches(3, 2.5)
    from outopt.analysis.frontier import _drop_overlapping

    texts = [t for t in squeezed.axes[0].texts]
    _drop_overlapping(squeezed, texts)
    boxes = [t.get_window_extent(squeezed.canvas.get_renderer()) for t in squeezed.axes[0].texts]
    assert len(boxes) < len(labels)
    assert not any(a.overlaps(b) for a, b in itertools.combinations(boxes, 2))


def test_explain_fills_used_for_every_limit(small):
    inst = small.replace(rules={"max_changes": 5, "max_vendors": 3})
    ex = outopt.explain(inst)
    row = next(r for r in ex.limits if r["limit"] == "rules.max_changes")
    assert (row["used"], row["current"], row["label"]) == (ex.solution.verification.changes, 5, "max changes")
    assert all(r["used"] is not None for r in ex.limits)


def test_report_tables_read_in_words(midsize):
    page = render(midsize)
    for field in ("all_inhouse", "limit_value", "closeness", "utilisation", "yearly_cost", "provider_name"):
        assert f"<th>{field}</th>" not in page
    for header in ("if all in-house", "use / limit", "spare capacity", "freed by outsourcing", "yearly cost"):
        assert f"<th>{header}</th>" in page
    assert ".chart svg{width:100%;height:auto}" in page  # charts as wide as the page
