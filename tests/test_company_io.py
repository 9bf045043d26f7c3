"""A company as one workbook or CSV folder (company, company_vendors and divisions sheets, the instance's
sheets with a division column): `outopt convert` round-trips every company example, problems name the
sheet and cell, and a division may still come from its own file."""

import shutil

import openpyxl
import pytest
from conftest import INSTANCES

import outopt
from outopt.instance.company import load_any, load_company, save_company

COMPANIES = INSTANCES / "company"


def inline(company):
    """The company with its divisions inline (the one thing a conversion does not keep is where they were)."""
    return company.model_copy(update={"divisions": [d.model_copy(update={"path": None}) for d in company.divisions]})


def rich_company():
    """Two divisions using every contract term a company accepts (soft rules with penalties, no priorities)."""
    midsize = outopt.load(INSTANCES / "midsize.yaml").model_dump(mode="json")
    midsize["budget"]["soft"] = {"transition": {"penalty": 2}}
    midsize["rules"]["soft"] = {"max_changes": {"penalty": 20000}}
    midsize["rules"]["separate"].append({"functions": ["payables", "treasury_ops"], "soft": {"penalty": 500},
                                         "reason": "four eyes"})
    small = outopt.load(INSTANCES / "small_business.yaml").model_dump(mode="json")
    for v in small["vendors"]:
        v.update(retainer=0.0, onboarding=0.0)
    for v in midsize["vendors"]:
        if v["id"] in {x["id"] for x in small["vendors"]}:
            v.update(retainer=0.0, onboarding=0.0)
    from outopt.instance.company import company_from_data

    return company_from_data({"name": "Rich Group", "budget": {"operating": 9_000_000}, "max_vendors": 9,
                              "vendors": {"numera": {"capacity": 4000, "max_share": 0.5}},
                              "divisions": [{"id": "meridian", "instance": midsize},
                                            {"id": "brightpath", "instance": small}]})


EXAMPLES = {"group": lambda: load_company(COMPANIES / "group.yaml"), "rich": rich_company}


@pytest.mark.parametrize("name", list(EXAMPLES))
def test_company_yaml_to_xlsx_to_csv_to_yaml_gives_an_equal_company(tmp_path, name):
    original = EXAMPLES[name]()
    save_company(original, tmp_path / "c.xlsx")
    from_xlsx = load_any(tmp_path / "c.xlsx")
    save_company(from_xlsx, tmp_path / "csv")
    from_csv = load_any(tmp_path / "csv")
    save_company(from_csv, tmp_path / "c.yaml")
    back = load_any(tmp_path / "c.yaml")
    save_company(back, tmp_path / "c.json")
    assert from_xlsx == inline(original) and from_csv == inline(original) and back == inline(original)
    assert load_any(tmp_path / "c.json") == inline(original)
    assert openpyxl.load_workbook(tmp_path / "c.xlsx").sheetnames == [
        "company", "company_vendors", "divisions", "resources", "functions", "vendors", "discounts", "bundles",
        "offers", "vendor_groups", "rules"]


def test_group_workbook_layout(tmp_path):
    save_company(load_company(COMPANIES / "group.yaml"), tmp_path / "g.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "g.xlsx")
    rows = {name: [[c.value for c in r] for r in wb[name].iter_rows()] for name in wb.sheetnames}
    assert rows["company"] == [["field", "value"], ["name", "Harbor Group"], ["budget.operating", 520000],
                               ["budget.transition", 40000], ["max_vendors", 2]]
    assert rows["company_vendors"] == [["vendor", "capacity", "max_share"], ["ledgerly", 5, 0.8]]
    assert rows["divisions"] == [
        ["id", "path", "name", "currency", "horizon", "budget.operating", "budget.transition"],
        ["retail", None, "Harbor Retail", "USD", 2, None, None],
        ["wholesale", None, "Harbor Wholesale", "USD", 2, 250000, None]]
    assert rows["offers"][0][:4] == ["division", "function", "vendor", "cost"]
    assert [r[:4] for r in rows["offers"][1:]] == [
        ["retail", "invoicing", "ledgerly", 62000], ["retail", "payroll", "ledgerly", 50000],
        ["retail", "payroll", "quickpay", 57000], ["retail", "helpdesk", "nimbus", 41000],
        ["wholesale", "invoicing", "ledgerly", 80000], ["wholesale", "collections", "ledgerly", 61000],
        ["wholesale", "collections", "nimbus", 66000], ["wholesale", "helpdesk", "nimbus", 33000]]
    assert wb["offers"]["A1"].comment is None or "division" in wb["offers"]["A1"].comment.text.lower()


def _broken(tmp_path, edit) -> list[str]:
    save_company(load_company(COMPANIES / "group.yaml"), tmp_path / "g.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "g.xlsx")
    edit(wb)
    wb.save(tmp_path / "bad.xlsx")
    with pytest.raises(outopt.InputError) as info:
        load_any(tmp_path / "bad.xlsx")
    assert info.value.source == str(tmp_path / "bad.xlsx")
    return [str(p) for p in info.value.problems]


def test_problems_name_the_sheet_and_cell(tmp_path):
    def edit(wb):
        wb["offers"]["C7"] = "ledgrly"  # wholesale's collections offer (row 7)
        wb["divisions"]["E3"] = "two"  # wholesale's horizon
        wb["offers"].append(["services", "invoicing", "ledgerly", 1])  # a division that does not exist

    assert _broken(tmp_path, edit) == [  # a row of no division, and every problem of the divisions it could read
        "offers!A10: division 'services' is not in divisions",
        "divisions!E3: Input should be a valid number, unable to parse string as a number (got 'two')",
        "offers!C7: vendor 'ledgrly' is not in vendors; did you mean 'ledgerly'?",
    ]

    def edit2(wb):
        wb["offers"]["C7"] = "ledgrly"
        wb["divisions"]["F2"] = 1000  # retail's budget.operating

    assert _broken(tmp_path, edit2) == [
        "offers!C7: vendor 'ledgrly' is not in vendors; did you mean 'ledgerly'?",
    ]


def test_company_checks_name_their_cells(tmp_path):
    def edit(wb):
        wb["vendors"]["D5"] = 21000  # wholesale's ledgerly retainer, 20,000 in retail (row 5 of vendors)
        wb["company_vendors"]["A2"] = "nosuch"
        wb["company"]["B3"] = -1  # budget.operating

    assert _broken(tmp_path, edit) == [
        "company!B3: Input should be greater than or equal to 0 (got -1)",
    ]

    def edit2(wb):
        wb["vendors"]["D5"] = 21000
        wb["company_vendors"]["A2"] = "nosuch"

    assert _broken(tmp_path, edit2) == [
        "vendors!D5: vendor 'ledgerly' has retainer 21000 here but 20000 in division 'retail'; a vendor's retainer "
        "and onboarding are paid once for the company, so make them equal",
        "company_vendors!A2: vendor 'nosuch' is in no division",
    ]


def test_a_division_may_come_from_its_own_file(tmp_path):
    shutil.copy(COMPANIES / "retail.yaml", tmp_path / "retail.yaml")
    save_company(load_company(COMPANIES / "group.yaml"), tmp_path / "g.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "g.xlsx")
    wb["divisions"]["B2"] = "retail.yaml"
    for name in ("functions", "vendors", "offers"):
        ws = wb[name]
        for row in range(ws.max_row, 1, -1):
            if ws.cell(row=row, column=1).value == "retail":
                ws.delete_rows(row)
    wb.save(tmp_path / "mixed.xlsx")
    mixed = load_any(tmp_path / "mixed.xlsx")
    assert mixed.divisions[0].path == "retail.yaml"
    assert inline(mixed) == inline(load_company(COMPANIES / "group.yaml"))
    wb["divisions"]["B2"] = "../../etc/passwd"
    wb.save(tmp_path / "outside.xlsx")
    with pytest.raises(outopt.InputError) as info:
        load_any(tmp_path / "outside.xlsx")
    assert [str(p) for p in info.value.problems] == [
        "divisions!B2: '../../etc/passwd' is outside the company file's folder; a division file must be in that "
        "folder or below it (or in a folder named in OUTOPT_DIVISION_DIRS)"]


def test_convert_a_company_on_the_command_line(tmp_path):
    from typer.testing import CliRunner

    from outopt.cli import app

    runner = CliRunner()
    r = runner.invoke(app, ["convert", str(COMPANIES / "group.yaml"), str(tmp_path / "g.xlsx")])
    assert r.exit_code == 0, r.output
    r = runner.invoke(app, ["convert", str(tmp_path / "g.xlsx"), str(tmp_path / "g.yaml")])
    assert r.exit_code == 0, r.output
    assert inline(load_company(tmp_path / "g.yaml")) == inline(load_company(COMPANIES / "group.yaml"))
    r = runner.invoke(app, ["validate", str(tmp_path / "g.xlsx")])
    assert r.exit_code == 0 and r.stdout.strip() == f"{tmp_path / 'g.xlsx'}: valid company (2 divisions, 6 functions)"


def test_unknown_columns_and_tables_are_named_once(tmp_path):
    def edit(wb):
        wb["divisions"]["H1"] = "colour"
        wb["divisions"]["H2"] = "red"
        wb["offers"]["K1"] = "discount"
        wb.create_sheet("notes")["A1"] = "x"

    assert _broken(tmp_path, edit) == [
        "sheet notes: unknown table 'notes'; the tables of a company are company, company_vendors, divisions, "
        "resources, functions, vendors, discounts, bundles, offers, vendor_groups, rules",
        "divisions!H1: unknown column 'colour'",
        "offers!K1: unknown column 'discount'; did you mean 'stay_discount'?",
    ]
