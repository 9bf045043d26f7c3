"""The report of a company file (instances/company/group.yaml) in a real headless browser: the corporate
summary, then each division, with their charts; a screenshot is a non-blank page showing them."""

import pytest
from conftest import INSTANCES
from test_browser import chart_blue, dump_dom, screenshot, written_report

import outopt

HEIGHT = 2400


@pytest.fixture(scope="module")
def report(tmp_path_factory):
    return written_report(tmp_path_factory, "company_report",
                          outopt.solve_company(outopt.load_company(INSTANCES / "company" / "group.yaml")))


def test_company_report_renders_in_chromium(tmp_path, report):
    r = dump_dom(tmp_path, report)
    dom = r.stdout
    assert "<h1>Harbor Group: outsourcing plan</h1>" in dom
    assert ("The plan outsources <b>5 of 6</b> functions across <b>2</b> divisions to <b>2</b> vendors, whose "
            "retainers (35,000 USD a year) the company pays once.") in dom
    assert "Net benefit: <b>49,000 USD a year</b> against keeping everything in-house." in dom
    assert "the divisions gain 11,500 USD a year more than each planning alone" in dom
    # the corporate sections first, then each division's
    order = [dom.index(f'id="{s}"') for s in ("summary", "divisions", "corporate-limits", "company-spend",
                                              "coordination", "division-0", "d0-decisions", "d0-spend",
                                              "division-1", "d1-decisions", "d1-waterfall")]
    assert order == sorted(order)
    assert "Division: Harbor Retail (retail)" in dom and "Division: Harbor Wholesale (wholesale)" in dom
    assert "vendors.ledgerly.capacity" in dom and "max_vendors" in dom  # corporate limits
    assert dom.count("<svg") == 4  # each division's spend and waterfall
    assert "Uncaught" not in r.stderr and "Failed to load resource" not in r.stderr


def test_company_report_screenshot_shows_the_divisions(tmp_path, report):
    pixels = screenshot(tmp_path, report, HEIGHT)
    assert chart_blue(pixels)[HEIGHT // 3:].sum() > 5000  # the first division's spend bars, below the corporate tables
