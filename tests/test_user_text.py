"""User text (ids, names, reasons) is printed as text and survives every output (issue 19).

Names reach the terminal, JSON, CSV, workbooks, the HTML report and charts. None of them may
crash on markup (`[/bold]`), `$` (matplotlib's math), control or bidi characters, very long or
non-Latin text; the terminal shows control and bidi characters as visible escapes and never
interprets markup; formats that keep text give it back unchanged.
"""

import csv
import json
import re

import openpyxl
import pytest
from conftest import INSTANCES, make
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from strategies import examples
from typer.testing import CliRunner

import outopt
from outopt.cli import app
from outopt.instance.io.cells import from_excel_text
from outopt.report.files import write_results
from outopt.report.text import visible

runner = CliRunner()

ESC_CLEAR = "\x1b[2J"
OSC8 = "\x1b]8;;https://evil.example\x1b\\click\x1b]8;;\x1b\\"
TITLE = "\x1b]0;pwned\x07"
RLO = "\u202e"
MARKUP = "[link=https://evil.example]ledgerly[/link]"


def two_vendors(name="Acme [/bold]", fid="f", vendor_a="a", vendor_a_name="Outback A$ 10% B$ Pty", **kw):
    """The issue's instance: one function, two vendors, two offers, no limits at all."""
    return make(name=name, functions=[{"id": fid, "inhouse": {"cost": 100}}],
                vendors=[{"id": vendor_a, "name": vendor_a_name}, {"id": "b"}],
                offers=[{"function": fid, "vendor": vendor_a, "cost": 50}, {"function": fid, "vendor": "b", "cost": 60}],
                **kw)


def save(tmp_path, inst, name="two.json"):
    path = tmp_path / name
    outopt.save(inst, path)
    return path


# --- reports without limits ---------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".html", ".xlsx", ".csv", ".json"])
def test_results_of_an_instance_without_limits(tmp_path, ext):
    """`solve --out r.html` failed with KeyError: 'limit' on an instance with no budget, staff or caps."""
    path = save(tmp_path, two_vendors(name="Plain", vendor_a_name="Ledgerly"))
    r = runner.invoke(app, ["solve", str(path), "--out", str(tmp_path / f"r{ext}")])
    assert r.exit_code == 0, r.output
    assert "status: optimal" in r.output
    if ext == ".html":
        page = (tmp_path / "r.html").read_text()
        assert "Limits reached" not in page and "<b>1 of 1</b>" in page


def test_explain_out_without_limits(tmp_path):
    path = save(tmp_path, two_vendors(name="Plain", vendor_a_name="Ledgerly"))
    r = runner.invoke(app, ["explain", str(path), "--out", str(tmp_path / "r.html")])
    assert r.exit_code == 0, r.output
    assert "Why this plan" in (tmp_path / "r.html").read_text()


# --- markup, escapes and bidi on the terminal -----------------------------------------------------


def test_markup_in_names_is_printed_as_written(tmp_path):
    path = save(tmp_path, two_vendors(fid=MARKUP))
    for args in (["solve", path], ["explain", path], ["solve", path, "--alternatives", "2"],
                 ["frontier", path, "--param", "rules.max_vendors", "--from", "0", "--to", "2", "--steps", "2"]):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code == 0, (args, r.output)
        assert "Acme [/bold]" in r.output or args[0] == "frontier"
        assert MARKUP in r.output, args


def test_an_infeasible_instance_with_markup_in_its_name_exits_3(tmp_path):
    path = save(tmp_path, make(name="Acme [/bold]", functions=[{"id": "f"}], vendors=[{"id": "a"}],
                               offers=[{"function": "f", "vendor": "a"}], rules={"max_vendors": 0}))
    r = runner.invoke(app, ["solve", str(path)])
    assert r.exit_code == 3, r.output
    assert "infeasible" in r.output


def test_control_and_bidi_characters_are_shown_escaped(tmp_path):
    fid = f"f{ESC_CLEAR}x"
    path = save(tmp_path, two_vendors(name=f"Acme{TITLE}{RLO}lanigiro", fid=fid, vendor_a=f"a{OSC8}"))
    for args in (["solve", path], ["explain", path]):
        r = runner.invoke(app, [str(a) for a in args])
        assert r.exit_code == 0, r.output
        assert "\x1b" not in r.output and "\x07" not in r.output and RLO not in r.output
        assert "f\\x1b[2Jx" in r.output
        assert "Acme\\x1b]0;pwned\\x07\\u202elanigiro" in r.output


def test_problems_echoing_hostile_text_are_escaped(tmp_path):
    path = tmp_path / "bad.json"
    path.write_text(json.dumps({"name": "x", "functions": [{"id": "f", "inhouse": {"cost": 1}}],
                                "vendors": [{"id": "v"}],
                                "offers": [{"function": "f", "vendor": f"[red]v{ESC_CLEAR}"}]}))
    r = runner.invoke(app, ["validate", str(path)])
    assert r.exit_code == 2
    assert "\x1b" not in r.output
    assert "vendor '[red]v\\x1b[2J' is not in vendors" in r.output


def serial_batches(monkeypatch):
    """`outopt batch` in this process, one input after another (no worker processes to start)."""
    import outopt.batch
    from outopt.batch import run_batch

    # the command imports run_batch when it runs: patched where it lives
    monkeypatch.setattr(outopt.batch, "run_batch", lambda *a, **k: run_batch(*a, **{**k, "executor": "serial"}))


def test_batch_summary_with_markup_and_escapes(tmp_path, monkeypatch):
    serial_batches(monkeypatch)
    monkeypatch.chdir(tmp_path)  # short input names: one line each in the summary table
    save(tmp_path, two_vendors(), name="[bold]x[/].json")
    (tmp_path / f"bad{ESC_CLEAR}.json").write_text("{")
    r = runner.invoke(app, ["batch", "[bold]x[/].json", f"bad{ESC_CLEAR}.json"])
    assert r.exit_code == 1, r.output
    assert "[bold]x[/].json" in r.output and "bad\\x1b[2J.json" in r.output and "\x1b[2J" not in r.output


def test_visible_escapes():
    assert visible("a\x1b[2Jb") == "a\\x1b[2Jb"
    assert visible("r\u202eL\u2066x\u2069") == "r\\u202eL\\u2066x\\u2069"
    assert visible("tab\there\r\n") == "tab\\there\\r\\n"
    assert visible("line\nnext", newlines=True) == "line\nnext"
    assert visible("\x9b31m \x7f") == "\\x9b31m \\x7f"
    assert visible("[b]$x$ 日本語 عربي") == "[b]$x$ 日本語 عربي"  # printable text untouched


# --- $ in names: matplotlib's mathtext ----------------------------------------------------------


def test_dollar_signs_in_names_do_not_break_charts(tmp_path):
    sol = outopt.solve(two_vendors())
    write_results(sol, tmp_path / "r.html")
    page = (tmp_path / "r.html").read_text()
    assert "Outback A$ 10% B$ Pty" in page
    fig = sol.plot()
    fig.savefig(tmp_path / "all.png")
    labels = [t.get_text() for t in sol.plot("spend").get_yticklabels()]
    assert labels == [r"Outback A\$ 10% B\$ Pty"]  # matplotlib shows an escaped $ as $


# --- spreadsheets: control characters and long cells ------------------------------------------


def test_control_characters_in_names_survive_xlsx(tmp_path):
    inst = two_vendors(name="Acme\x01\x1b[0m\x00end", vendor_a_name="tab\tnew\nline\x0bvt _x0041_ literal")
    sol = outopt.solve(inst)
    r = runner.invoke(app, ["solve", str(save(tmp_path, inst)), "--out", str(tmp_path / "r.xlsx")])
    assert r.exit_code == 0, r.output
    wb = openpyxl.load_workbook(tmp_path / "r.xlsx")
    assert wb["totals"]["B2"].value == "optimal"
    outopt.save(inst, tmp_path / "i.xlsx")
    assert outopt.load(tmp_path / "i.xlsx") == inst
    write_results(sol, tmp_path / "r2.xlsx")


def test_a_csv_cell_longer_than_the_csv_modules_default_reads_back(tmp_path):
    inst = two_vendors(vendor_a_name="n" * 200_000)
    outopt.save(inst, tmp_path / "folder")
    assert outopt.load(tmp_path / "folder") == inst


def test_xlsx_refuses_text_longer_than_an_excel_cell(tmp_path):
    inst = two_vendors(vendor_a_name="n" * 40_000)
    with pytest.raises(outopt.InputError, match=r"vendors!B2: text of 40,000 characters; an Excel cell holds at most 32,767"):
        outopt.save(inst, tmp_path / "i.xlsx")
    assert not (tmp_path / "i.xlsx").exists()


# --- every output, random text ------------------------------------------------------------------

HOSTILE = ["[/]", "[/bold]", "[link=https://evil.example]", "$", "$x$", "\\", "_x0041_", ESC_CLEAR, OSC8, TITLE,
           RLO, "\u2066", "\x00", "\x7f", "\x9b", "\t", "\n", "\r", "日本語", "عربي", "ß", "🙂", "=1+1", "-2", "'", '"',
           ",", ";", "<b>&amp;", "%s{}", "  "]
pieces = st.one_of(st.sampled_from(HOSTILE), st.text(min_size=1, max_size=8))
# a blank cell means "not given" in a workbook or CSV file, so text that is all white space is left out
texts = st.lists(pieces, min_size=1, max_size=6).map("".join).filter(str.strip)
long_texts = st.one_of(texts, texts.map(lambda t: (t * (3000 // len(t) + 1))[:3000]))


@st.composite
def named_instances(draw):
    ids = draw(st.lists(texts.map(lambda t: t.strip()[:60]).filter(lambda t: t and t != "inhouse"), min_size=3,
                        max_size=3, unique=True))
    fid, va, vb = ids
    name, va_name, currency = draw(long_texts), draw(long_texts), draw(texts.map(lambda t: t[:20]))
    return make(name=name, currency=currency, budget={"operating": 1000},
                functions=[{"id": fid, "name": draw(texts), "inhouse": {"cost": 100}}],
                vendors=[{"id": va, "name": va_name}, {"id": vb}],
                offers=[{"function": fid, "vendor": va, "cost": 50}, {"function": fid, "vendor": vb, "cost": 60}])


@settings(max_examples=examples(6), deadline=None, suppress_health_check=[HealthCheck.function_scoped_fixture,
                                                                           HealthCheck.too_slow])
@given(inst=named_instances())
def test_random_text_passes_through_every_output(tmp_path_factory, inst):
    tmp = tmp_path_factory.mktemp("text")
    fid = inst.functions[0].id
    for ext in (".json", ".yaml", ".xlsx", ""):
        target = tmp / f"copy{ext}"
        outopt.save(inst, target)
        assert outopt.load(target) == inst, ext  # formats that keep text give it back
    sol = outopt.solve(inst)
    assert sol.plan == {fid: inst.vendors[0].id}
    r = runner.invoke(app, ["solve", str(tmp / "copy.json"), "--out", str(tmp / "r.html"), "--json", str(tmp / "r.json")])
    assert r.exit_code == 0, r.output
    assert not re.search("[\x00-\x08\x0b-\x1f\x7f-\x9f\u202a-\u202e\u2066-\u2069]", r.output)
    assert json.loads((tmp / "r.json").read_text())["assignments"][0]["function"] == fid
    for ext in (".xlsx", ".csv"):
        write_results(sol, tmp / f"r{ext}")
    rows = list(csv.reader((tmp / "r.csv").open(newline="", encoding="utf-8")))
    assert rows[1][0].removeprefix("'") == fid
    assert from_excel_text(openpyxl.load_workbook(tmp / "r.xlsx")["decisions"]["A2"].value) == fid
    r = runner.invoke(app, ["explain", str(tmp / "copy.json")])
    assert r.exit_code == 0, r.output
