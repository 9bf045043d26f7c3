"""Excel workbooks, CSV folders and DataFrames: lossless round trips, problems named in each
format's own coordinates, the template, conversion and the JSON Schema."""

import json

import openpyxl
import pandas as pd
import pytest
from conftest import INSTANCES
from typer.testing import CliRunner

import outopt
from outopt.cli import app
from outopt.instance.io.frames import instance_from_frames

runner = CliRunner()
EXAMPLES = sorted(INSTANCES.glob("*.yaml"))


@pytest.mark.parametrize("path", EXAMPLES, ids=[p.stem for p in EXAMPLES])
def test_yaml_to_xlsx_to_csv_to_yaml_gives_an_equal_instance(tmp_path, path):
    original = outopt.load(path)
    outopt.save(original, tmp_path / "a.xlsx")
    from_xlsx = outopt.load(tmp_path / "a.xlsx")
    outopt.save(from_xlsx, tmp_path / "csv")
    from_csv = outopt.load(tmp_path / "csv")
    outopt.save(from_csv, tmp_path / "b.yaml")
    back = outopt.load(tmp_path / "b.yaml")
    assert from_xlsx == original and from_csv == original and back == original
    assert sorted(p.name for p in (tmp_path / "csv").iterdir()) == [
        "functions.csv", "offers.csv", "resources.csv", "rules.csv", "settings.csv", "vendor_groups.csv", "vendors.csv"]


def test_awkward_text_survives_every_format(tmp_path):
    """Formula-like ids and names, commas, quotes and numeric-looking ids round-trip exactly."""
    inst = outopt.load(INSTANCES / "small_business.yaml")
    data = inst.model_dump(mode="json")
    data["name"] = "=HYPERLINK(\"http://evil\")"
    data["functions"][0]["name"] = "+cmd|' /C calc'!A0"
    data["functions"][1]["name"] = "'quoted, with comma"
    data["vendors"][0]["name"] = "-2+3"
    data["vendors"][1]["name"] = "@SUM(A1)"
    data["vendors"][1]["id"] = "2024"  # an id a spreadsheet would read as a number
    for o in data["offers"]:
        if o["vendor"] == "numera":
            o["vendor"] = "2024"
    odd = outopt.Instance.model_validate(data)
    outopt.check_instance(odd)
    for target in ("x.xlsx", "csvdir", "x.json", "x.yaml"):
        outopt.save(odd, tmp_path / target)
        assert outopt.load(tmp_path / target) == odd, target


def test_formula_injection_is_neutralised_in_excel_and_csv_output(tmp_path):
    inst = outopt.load(INSTANCES / "small_business.yaml")
    data = inst.model_dump(mode="json")
    data["vendors"][0]["name"] = "=1+1"
    data["functions"][0]["name"] = "@SUM(A1:A2)"
    odd = outopt.Instance.model_validate(data)
    outopt.save(odd, tmp_path / "in.xlsx")
    outopt.save(odd, tmp_path / "in")
    sol = outopt.solve(odd)
    from outopt.report.files import write_results

    write_results(sol, tmp_path / "out.xlsx")
    write_results(sol, tmp_path / "out.csv")
    # Excel: stored as text (data type 's'), never as a formula, with the quote prefix style
    for book, sheet in ((tmp_path / "in.xlsx", "vendors"), (tmp_path / "out.xlsx", "vendors")):
        ws = openpyxl.load_workbook(book)[sheet]
        cells = [c for row in ws.iter_rows() for c in row if c.value == "=1+1"]
        assert cells and all(c.data_type == "s" and c.quotePrefix for c in cells)
        assert not any(c.data_type == "f" for row in ws.iter_rows() for c in row)
    # CSV: a leading apostrophe, so no spreadsheet runs it
    assert "'=1+1" in (tmp_path / "in" / "vendors.csv").read_text()
    assert "'@SUM(A1:A2)" in (tmp_path / "in" / "functions.csv").read_text()
    lines = (tmp_path / "out.csv").read_text().splitlines()
    assert lines[0].startswith("function,name,provider,provider_name")
    assert lines[1].startswith("invoicing,'@SUM(A1:A2),ledgerly,'=1+1,")
    assert not any(cell.startswith(("=", "+", "-", "@")) for line in lines for cell in line.split(","))


def _workbook(tmp_path, edit):
    outopt.save(outopt.load(INSTANCES / "small_business.yaml"), tmp_path / "in.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "in.xlsx")
    edit(wb)
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "bad.xlsx")
    return [str(p) for p in info.value.problems], str(info.value)


def test_workbook_problems_name_sheet_and_cell(tmp_path):
    def edit(wb):
        wb["offers"].append(["payroll", "ledgrly", 1])  # row 14 = offers[12]
        wb["functions"]["H3"] = "lots"  # inhouse.uses.finance_staff of collections
        wb["rules"]["B3"] = "invoicing, nothere"

    problems, text = _workbook(tmp_path, edit)
    assert problems == ["functions!H3: Input should be a valid number, unable to parse string as a number (got 'lots')"]
    assert text.startswith(str(tmp_path / "bad.xlsx") + ": functions!H3: ")

    def edit2(wb):
        wb["offers"].append(["payroll", "ledgrly", 1])
        wb["rules"]["B3"] = "invoicing, nothere"
        wb["vendors"]["C3"] = None

    problems, _ = _workbook(tmp_path, edit2)
    assert problems == [
        "offers!B14: vendor 'ledgrly' is not in vendors",
        "rules!B3: function 'nothere' is not in functions",
    ]


def test_workbook_header_and_table_problems(tmp_path):
    def edit(wb):
        wb["vendors"]["G1"] = "retainr"
        wb["vendors"]["G2"] = 5
        wb.create_sheet("offer")
        wb["settings"]["A8"] = "budgett.operating"
        wb["settings"]["B8"] = 3
        wb["rules"].append(["max_vendor", 3])

    problems, _ = _workbook(tmp_path, edit)
    assert problems == [
        "sheet offer: unknown table 'offer'; the tables are settings, resources, functions, vendors, offers, "
        "vendor_groups, rules",
        "settings!A8: unknown setting 'budgett.operating'; the settings are name, currency, horizon, "
        "budget.operating, budget.transition, budget.soft, roadmap.years, roadmap.discount_rate, roadmap.tail_years, "
        "roadmap.max_changes_per_year, roadmap.budget.operating, roadmap.budget.transition",
        "vendors!G1: unknown column 'retainr'",
        "rules!A5: unknown rule 'max_vendor'; the rules are max_vendors, separate, together, locks, forbid, "
        "requires, exclusive, max_changes, soft",
    ]


def test_csv_problems_name_file_row_and_column(tmp_path):
    folder = tmp_path / "acme"
    outopt.save(outopt.load(INSTANCES / "small_business.yaml"), folder)
    offers = (folder / "offers.csv").read_text().splitlines()
    assert offers[11].startswith("it_support,techdesk,")  # line 12 = offers[10]
    offers[11] = offers[11].replace("techdesk", "ledgrly")
    (folder / "offers.csv").write_text("\n".join(offers) + "\n")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(folder)
    assert str(info.value).splitlines() == [
        f"{folder}: offers.csv:12:2: vendor 'ledgrly' is not in vendors",
        f"{folder}: functions.csv:7:5: current vendor 'techdesk' has no offer for 'it_support'; add the offer it runs under",
    ]
    (folder / "vendors.csv").write_text("id,name,retainer\nledgerly,L,-3\n")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(folder)
    assert [str(p) for p in info.value.problems] == ["vendors.csv:2:3: Input should be greater than or equal to 0 (got '-3')"]


def test_yaml_and_json_problems_name_the_place(tmp_path):
    inst = outopt.load(INSTANCES / "small_business.yaml")
    data = inst.model_dump(mode="json")
    data["offers"][12 - 1]["vendor"] = "ledgrly"
    for name in ("bad.yaml", "bad.json"):
        outopt.save(outopt.Instance.model_validate(data), tmp_path / name)
        with pytest.raises(outopt.InputError) as info:
            outopt.load(tmp_path / name)
        assert str(info.value) == f"{tmp_path / name}: offers[11].vendor: vendor 'ledgrly' is not in vendors"


def test_frames_round_trip_and_problems_name_the_frame_cell():
    inst = outopt.load(INSTANCES / "midsize.yaml")
    frames = inst.to_frames()
    assert list(frames) == ["settings", "resources", "functions", "vendors", "offers", "vendor_groups", "rules"]
    assert outopt.Instance.from_frames(**frames) == inst
    functions = pd.DataFrame({"id": ["a", "b"], "inhouse.cost": [10.0, 20.0], "inhouse.uses.staff": [1.0, None]})
    vendors = pd.DataFrame({"id": ["v"], "retainer": [1.0]})
    offers = pd.DataFrame({"function": ["a", "b"], "vendor": ["v", "w"], "cost": [3.0, 4.0]})
    resources = pd.DataFrame({"id": ["staff"], "capacity": [2.0]})
    with pytest.raises(outopt.InputError) as info:
        outopt.Instance.from_frames(functions=functions, vendors=vendors, offers=offers, resources=resources, name="x")
    assert str(info.value) == "offers.loc[1, 'vendor']: vendor 'w' is not in vendors"
    offers.loc[1, "vendor"] = "v"
    built = instance_from_frames(functions=functions, vendors=vendors, offers=offers, resources=resources,
                                 name="x", budget={"operating": 100}, rules=outopt.Rules(max_vendors=1))
    assert built.function("a").inhouse.uses == {"staff": 1.0} and built.function("b").inhouse.uses == {}
    assert built.budget.operating == 100 and built.rules.max_vendors == 1


def test_cli_convert_template_and_schema(tmp_path):
    r = runner.invoke(app, ["convert", str(INSTANCES / "small_business.yaml"), str(tmp_path / "s.xlsx")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["convert", str(tmp_path / "s.xlsx"), str(tmp_path / "s.json")])
    assert r.exit_code == 0 and outopt.load(tmp_path / "s.json") == outopt.load(INSTANCES / "small_business.yaml")
    r = runner.invoke(app, ["convert", str(INSTANCES / "small_business.yaml"), str(tmp_path / "s.txt")])
    assert r.exit_code == 2 and "unsupported file type '.txt'" in r.output
    r = runner.invoke(app, ["schema"])
    schema = json.loads(r.stdout)
    assert r.exit_code == 0 and schema["title"] == "Instance"
    assert set(schema["required"]) == {"name", "functions"} and schema["additionalProperties"] is False
    r = runner.invoke(app, ["template", str(tmp_path / "t.xlsx")])
    assert r.exit_code == 0
    r = runner.invoke(app, ["validate", str(tmp_path / "t.xlsx")])
    assert r.exit_code == 2 and "settings!B2: required field is missing" in r.output


def test_template_has_notes_validation_and_reads_back_once_filled(tmp_path):
    from outopt.instance.io.excel import write_template

    write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames == ["settings", "resources", "functions", "vendors", "offers", "vendor_groups", "rules", "_lists"]
    offers = wb["offers"]
    header = [c.value for c in offers[1]]
    assert header == list(outopt.Offer.model_fields)  # one column per field, in schema order
    assert header[:7] == ["function", "vendor", "cost", "commission", "value", "transition", "load"]
    assert offers["C1"].comment.text == "Recurring fee (currency/year). Blank = 0.0."
    assert offers["A1"].comment.text == "Function id. Required."
    rules = {str(dv.sqref): dv for dv in offers.data_validations.dataValidation}
    assert rules["A2:A501"].formula1 == "=functions!$A$2:$A$501"
    assert rules["B2:B501"].formula1 == "=vendors!$A$2:$A$501"
    # amounts are between 0 and 1e12, the numerical policy's range (README, Numerical policy)
    assert (rules["C2:C501"].operator, rules["C2:C501"].formula1, rules["C2:C501"].formula2) == (
        "between", "0", "1000000000000.0")
    assert (rules["D2:D501"].operator, rules["D2:D501"].formula1, rules["D2:D501"].formula2) == ("between", "0", "1")
    current = {str(dv.sqref): dv for dv in wb["functions"].data_validations.dataValidation}["E2:E501"]
    assert current.formula1 == "=_lists!$A$1:$A$501" and wb["_lists"].sheet_state == "hidden"
    assert wb["_lists"]["A1"].value == "inhouse" and wb["_lists"]["A2"].value == '=IF(vendors!A2="","",vendors!A2)'
    # a planner fills it in
    wb["settings"]["B2"] = "Filled"
    wb["functions"].append(["billing", None, None, "FALSE", "inhouse", 50])
    wb["vendors"].append(["acme"])
    wb["offers"].append(["billing", "acme", 30])
    wb["rules"].append(["max_vendors", 1])
    wb.save(tmp_path / "filled.xlsx")
    inst = outopt.load(tmp_path / "filled.xlsx")
    assert outopt.solve(inst).plan == {"billing": "acme"}


def test_tables_follow_the_schema_when_it_grows(monkeypatch, tmp_path):
    """New fields (a nested list, a new rule model, a new table, a new setting) map without code changes."""
    from pydantic import Field

    from outopt.instance.io import frames
    from outopt.instance.schema import Id, Rules, Vendor, _Frozen

    class Tier(_Frozen):
        threshold: float = Field(description="spend above which the discount applies")
        discount: float = Field(0.0, description="share off")

    class Link(_Frozen):
        chain: list[Id] = Field(description="if the first is outsourced, so are the others")
        why: str | None = Field(None, description="why")
        optional: bool = Field(False, description="may be broken")

    class Group(_Frozen):
        id: Id = Field(description="group id")
        vendors: list[Id] = Field(default_factory=list, description="members")
        min_share: float | None = Field(None, description="min share")

    class Switching(_Frozen):
        max_changes: int | None = Field(None, description="cap on changes")

    class BigVendor(Vendor):
        tiers: list[Tier] = Field(default_factory=list, description="volume discounts")

    class BigRules(Rules):
        links: list[Link] = Field(default_factory=list, description="dependencies")
        pairs: list[list[Id]] = Field(default_factory=list, description="at most one outsourced")

    class Big(outopt.Instance):
        vendors: list[BigVendor] = Field(default_factory=list, description="vendors")
        clusters: list[Group] = Field(default_factory=list, description="groups")
        switching: Switching = Field(default_factory=Switching, description="switching")
        rules: BigRules = Field(default_factory=BigRules, description="rules")

    monkeypatch.setattr(frames, "Instance", Big)
    def validate(data):
        from pydantic import ValidationError

        from outopt.instance.validation import problems_from_validation_error

        try:
            return Big.model_validate(data)
        except ValidationError as err:
            raise outopt.InputError(problems_from_validation_error(err)) from None

    monkeypatch.setattr(frames, "instance_from_data", validate)
    data = outopt.load(INSTANCES / "small_business.yaml").model_dump(mode="json")
    data["vendors"][0]["tiers"] = [{"threshold": 50000, "discount": 0.05}, {"threshold": 90000, "discount": 0.1}]
    data["clusters"] = [{"id": "local", "vendors": ["numera", "techdesk"], "min_share": 0.2}]
    data["switching"] = {"max_changes": 3}
    data["rules"]["links"] = [{"chain": ["payables", "bookkeeping"], "why": "one ledger", "optional": True}]
    data["rules"]["pairs"] = [["sales", "it_support"]]
    big = Big.model_validate(data)
    tables = frames.instance_to_tables(big)
    assert list(tables) == ["settings", "resources", "functions", "vendors", "offers", "vendor_groups", "clusters", "rules"]
    assert tables["vendors"].columns[-1] == "tiers" and tables["clusters"].rows == [["local", "numera, techdesk", 0.2]]
    assert ["switching.max_changes", 3] in tables["settings"].rows
    columns = tables["rules"].columns
    assert columns[-3:] == ["chain", "why", "optional"]
    link = next(r for r in tables["rules"].rows if r[0] == "links")
    assert link[-3:] == ["payables, bookkeeping", "one ledger", True] and set(link[1:-3]) == {None}
    assert frames.instance_from_tables(tables) == big
    from outopt.instance.io.excel import ExcelLocator, read_tables, write_workbook

    (tmp_path / "big.xlsx").write_bytes(write_workbook(tables))
    assert frames.instance_from_tables(read_tables(tmp_path / "big.xlsx"), ExcelLocator()) == big
    # problems in the new places still name their cells
    from openpyxl.utils import get_column_letter

    tiers = get_column_letter(tables["vendors"].columns.index("tiers") + 1)
    rows = tables["rules"].rows
    link_row, pair_row = [i for i, r in enumerate(rows) if r[0] in ("links", "pairs")]
    optional, why = columns.index("optional"), columns.index("why")
    tables["vendors"].rows[0][-1] = '[{"threshold": -1, "discount": "x"}'
    rows[link_row][optional] = "maybe"
    rows[pair_row][why] = "no reason here"
    with pytest.raises(outopt.InputError) as info:
        frames.instance_from_tables(tables, ExcelLocator())
    assert [str(p) for p in info.value.problems] == [
        f"vendors!{tiers}2: not valid JSON (Expecting ',' delimiter at character 36)",
        f"rules!{get_column_letter(why + 1)}{pair_row + 2}: column 'why' does not apply to rule 'pairs'",
    ]
    rows[pair_row][why] = None
    tables["vendors"].rows[0][-1] = '[{"threshold": 1, "discount": "x"}]'
    with pytest.raises(outopt.InputError) as info:
        frames.instance_from_tables(tables, ExcelLocator())
    assert [p.where for p in info.value.problems] == [
        f"vendors!{tiers}2", f"rules!{get_column_letter(optional + 1)}{link_row + 2}"]


def test_unreadable_workbooks_and_folders(tmp_path):
    (tmp_path / "fake.xlsx").write_text("not a zip")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "fake.xlsx")
    assert str(info.value).startswith(f"{tmp_path / 'fake.xlsx'}: not a readable Excel workbook (.xlsx): ")
    (tmp_path / "empty").mkdir()
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "empty")
    assert str(info.value) == f"{tmp_path / 'empty'}: the folder has no .csv files (settings.csv, functions.csv, ...)"
    (tmp_path / "nameless").mkdir()
    (tmp_path / "nameless" / "functions.csv").write_text("id,inhouse.cost,,x\na,1,2\n")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "nameless")
    assert [str(p) for p in info.value.problems] == [
        "functions.csv:2:3: a value under a column with no header", "functions.csv:1:4: unknown column 'x'"]
    (tmp_path / "nameless" / "functions.csv").write_text("id,inhouse.cost\na,1\n")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "nameless")
    assert [str(p) for p in info.value.problems] == ["settings.csv: name: required field is missing"]
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "missing")
    assert str(info.value) == f"{tmp_path / 'missing'}: file not found"
    r = runner.invoke(app, ["solve", str(tmp_path / "empty"), "--json", "-"])
    assert r.exit_code == 2 and r.stdout == ""


def test_contract_terms_problems_name_their_cells(tmp_path):
    """Locks, bans and vendor groups (issue 3's terms) in a workbook: places map to cells."""
    outopt.save(outopt.load(INSTANCES / "midsize.yaml"), tmp_path / "in.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "in.xlsx")
    ws = wb["rules"]
    header = [c.value for c in ws[1]]
    lock = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "locks")
    ban = next(r for r in ws.iter_rows(min_row=2) if r[0].value == "forbid")
    lock[header.index("provider")].value = "nobody"
    ban[header.index("vendors")].value = "numera, ghost"
    wb["vendor_groups"]["C2"] = "numera, phantom"
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "bad.xlsx")
    assert [str(p) for p in info.value.problems] == [
        "vendor_groups!C2: vendor 'phantom' is not in vendors",
        f"rules!D{lock[0].row}: vendor 'nobody' is not in vendors (use 'inhouse' or a vendor id)",
        f"rules!I{ban[0].row}: vendor 'ghost' is not in vendors (use 'inhouse' or a vendor id)",
    ]
