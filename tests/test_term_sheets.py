"""Contract terms in their own sheets and columns, not JSON cells: volume discount tiers and bundles are
tables of their own (one row per tier or bundle, the vendor first), soft-rule settings are columns
(``soft.<limit>.penalty``) or rows (``budget.soft.transition.priority``) and go on the row of the rule they
mark; workbooks and CSV folders round-trip, the template validates them, and the JSON cells of older
files still read."""

import json

import openpyxl
import pytest
from conftest import INSTANCES

import outopt
from outopt.instance.io.excel import ExcelLocator, write_template
from outopt.instance.io.frames import Table, instance_from_tables, instance_to_tables

MIDSIZE = INSTANCES / "midsize.yaml"


@pytest.fixture(scope="module")
def midsize():
    return outopt.load(MIDSIZE)


def with_soft_groups(inst: outopt.Instance) -> outopt.Instance:
    """Midsize with a soft `separate` group (a reason too), a soft `together` group, a plain mapping group
    and a soft max_vendors."""
    data = inst.model_dump(mode="json")
    data["rules"]["separate"].append({"functions": ["payables", "treasury_ops"], "soft": {"penalty": 20000},
                                      "reason": "four eyes"})
    data["rules"]["together"].append({"functions": ["invoicing", "collections"], "soft": {"priority": 1}})
    data["rules"]["together"].append({"functions": ["payroll", "benefits_admin"]})  # a mapping, neither
    data["rules"]["soft"]["max_vendors"] = {"penalty": 1000}
    return outopt.Instance.model_validate(data)


def sheet(path, name) -> list[list]:
    ws = openpyxl.load_workbook(path)[name]
    return [[c.value for c in row] for row in ws.iter_rows()]


def test_midsize_terms_in_their_own_sheets_and_columns_round_trip(tmp_path, midsize):
    outopt.save(midsize, tmp_path / "m.xlsx")
    assert sheet(tmp_path / "m.xlsx", "discounts") == [
        ["vendor", "threshold", "percent"], ["payflow", 600000, 3], ["payflow", 900000, 5],
        ["logix", 400000, 4], ["logix", 800000, 8]]
    assert sheet(tmp_path / "m.xlsx", "bundles") == [
        ["vendor", "id", "functions", "price"], ["cloudnine", "cloud_stack", "cloud_hosting, app_maintenance", 450000]]
    vendors = sheet(tmp_path / "m.xlsx", "vendors")
    header = vendors[0]
    assert not {"discounts", "bundles", "soft"} & set(header)  # no JSON cell left
    numera = next(r for r in vendors if r[0] == "numera")
    assert numera[header.index("soft.max_share.penalty")] == 0.25
    assert ["budget.soft.transition.priority", 2] == sheet(tmp_path / "m.xlsx", "settings")[-1][:2]
    rules = sheet(tmp_path / "m.xlsx", "rules")
    max_changes = next(r for r in rules if r[0] == "max_changes")
    assert max_changes[1] == 24 and max_changes[rules[0].index("soft.penalty")] == 20000
    assert max_changes[rules[0].index("soft.priority")] == 1
    assert not any(r[0] == "soft" for r in rules)
    text = json.dumps(rules)
    assert "{" not in text  # not one JSON mapping in the rules sheet
    back = outopt.load(tmp_path / "m.xlsx")
    outopt.save(back, tmp_path / "m.yaml")
    assert back == midsize and outopt.load(tmp_path / "m.yaml") == midsize


def test_soft_groups_round_trip_through_workbook_csv_and_frames(tmp_path, midsize):
    inst = with_soft_groups(midsize)
    outopt.save(inst, tmp_path / "g.xlsx")
    rules = sheet(tmp_path / "g.xlsx", "rules")
    cols = rules[0]
    soft_sep = next(r for r in rules if r[0] == "separate" and r[1] == "payables, treasury_ops")
    assert soft_sep[cols.index("reason")] == "four eyes" and soft_sep[cols.index("soft.penalty")] == 20000
    max_vendors = next(r for r in rules if r[0] == "max_vendors")
    assert max_vendors[cols.index("soft.penalty")] == 1000
    plain_mapping = next(r for r in rules if r[0] == "together" and "benefits_admin" in r[1])
    assert json.loads(plain_mapping[1]) == {"functions": ["payroll", "benefits_admin"], "reason": "", "soft": None}
    assert outopt.load(tmp_path / "g.xlsx") == inst
    outopt.save(inst, tmp_path / "csv")
    assert outopt.load(tmp_path / "csv") == inst
    assert (tmp_path / "csv" / "discounts.csv").read_text().splitlines()[1] == "payflow,600000,3"
    assert outopt.Instance.from_frames(**inst.to_frames()) == inst


def old_layout(tables: dict[str, Table]) -> dict[str, Table]:
    """The tables as outopt wrote them before the term sheets: discounts, bundles and soft markers as
    JSON cells of the vendors sheet, budget.soft as one JSON setting, rules' soft markers in a `soft` row."""
    inst_tables = {k: Table(list(t.columns), [list(r) for r in t.rows], list(t.keys)) for k, t in tables.items()}
    vendors = inst_tables["vendors"]
    ids = [r[0] for r in vendors.rows]
    soft_cols = [c for c in vendors.columns if c.startswith("soft.")]
    vendors.columns += ["discounts", "bundles", "soft"]
    for row in vendors.rows:
        marker = {}
        for c in soft_cols:
            value = row[vendors.columns.index(c)]
            if value is not None:
                _, limit, field = c.split(".")
                marker.setdefault(limit, {})[field] = value
        tiers = [{"threshold": r[1], "percent": r[2]} for r in inst_tables["discounts"].rows if r[0] == row[0]]
        bundles = [{"id": r[1], "functions": [f.strip() for f in r[2].split(",")], "price": r[3]}
                   for r in inst_tables["bundles"].rows if r[0] == row[0]]
        row += [json.dumps(tiers) if tiers else None, json.dumps(bundles) if bundles else None,
                json.dumps(marker) if marker else None]
        for c in soft_cols:
            row[vendors.columns.index(c)] = None
    keep = [j for j, c in enumerate(vendors.columns) if c not in soft_cols]
    vendors.columns = [vendors.columns[j] for j in keep]
    vendors.rows = [[r[j] for j in keep] for r in vendors.rows]
    assert len(ids) == len(vendors.rows)
    del inst_tables["discounts"], inst_tables["bundles"]
    settings = inst_tables["settings"]
    soft = {}
    for name, value in [r[:2] for r in settings.rows if r[0].startswith("budget.soft.")]:
        _, _, limit, field = name.split(".")
        soft.setdefault(limit, {})[field] = value
    settings.rows = [r for r in settings.rows if not r[0].startswith("budget.soft.")] + [["budget.soft", json.dumps(soft)]]
    rules = inst_tables["rules"]
    p, q = rules.columns.index("soft.penalty"), rules.columns.index("soft.priority")
    markers = {}
    for r in rules.rows:
        if r[0] in ("max_vendors", "max_changes") and (r[p] is not None or r[q] is not None):
            markers[r[0]] = {k: v for k, v in (("penalty", r[p]), ("priority", r[q])) if v is not None}
            r[p] = r[q] = None
    rules.rows.append(["soft", json.dumps(markers)] + [None] * (len(rules.columns) - 2))
    for t in inst_tables.values():
        t.keys = list(range(2, len(t.rows) + 2))
    return inst_tables


def test_json_cells_of_older_files_still_read(tmp_path, midsize):
    old = old_layout(instance_to_tables(midsize))
    assert "discounts" in old["vendors"].columns and "discounts" not in old
    assert instance_from_tables(old, ExcelLocator()) == midsize
    from outopt.instance.io.excel import write_workbook

    (tmp_path / "old.xlsx").write_bytes(write_workbook(old))
    assert outopt.load(tmp_path / "old.xlsx") == midsize


def test_problems_name_the_cells_of_the_term_sheets(tmp_path, midsize):
    tables = instance_to_tables(midsize)
    tables["discounts"].rows[1][2] = 0  # payflow's second tier: percent 0 (row 3, column C)
    vendors = tables["vendors"]
    numera = next(r for r in vendors.rows if r[0] == "numera")
    numera[vendors.columns.index("soft.max_share.penalty")] = -1
    rules = tables["rules"]
    max_changes = next(i for i, r in enumerate(rules.rows) if r[0] == "max_changes")
    rules.rows[max_changes][rules.columns.index("soft.priority")] = 0
    with pytest.raises(outopt.InputError) as info:
        instance_from_tables(tables, ExcelLocator())
    row = {r[0]: i + 2 for i, r in enumerate(vendors.rows)}
    assert [str(p) for p in info.value.problems] == [
        f"vendors!{'ABCDEFGHIJKLMNOPQRSTUVWXYZ'[vendors.columns.index('soft.max_share.penalty')]}{row['numera']}: "
        "Input should be greater than or equal to 0 (got -1)",
        "discounts!C3: Input should be greater than 0 (got 0)",
        f"rules!G{max_changes + 2}: Input should be greater than or equal to 1 (got 0)",
    ]


def test_a_term_row_of_an_unknown_vendor_is_named(midsize):
    tables = instance_to_tables(midsize)
    tables["bundles"].rows[0][0] = "cloudnin"
    tables["discounts"].rows[0][0] = None
    with pytest.raises(outopt.InputError) as info:
        instance_from_tables(tables, ExcelLocator())
    assert [str(p) for p in info.value.problems] == [
        "discounts!A2: a row with no vendor; name the vendor these terms belong to",
        "bundles!A2: vendor 'cloudnin' is not in vendors",
    ]


def test_terms_given_twice_are_refused(midsize):
    tables = old_layout(instance_to_tables(midsize))
    new = instance_to_tables(midsize)
    tables["discounts"] = new["discounts"]  # payflow's tiers both as JSON and in the sheet
    with pytest.raises(outopt.InputError) as info:
        instance_from_tables(tables, ExcelLocator())
    assert [str(p) for p in info.value.problems] == [
        "discounts!A2: vendor 'payflow' has discounts in the vendors table's 'discounts' column too; give them in "
        "the discounts table only",
        "discounts!A3: vendor 'payflow' has discounts in the vendors table's 'discounts' column too; give them in "
        "the discounts table only",
        "discounts!A4: vendor 'logix' has discounts in the vendors table's 'discounts' column too; give them in "
        "the discounts table only",
        "discounts!A5: vendor 'logix' has discounts in the vendors table's 'discounts' column too; give them in "
        "the discounts table only",
    ]


def test_template_has_the_term_sheets_with_validation(tmp_path):
    write_template(tmp_path / "t.xlsx")
    wb = openpyxl.load_workbook(tmp_path / "t.xlsx")
    assert wb.sheetnames[:8] == ["settings", "resources", "functions", "vendors", "discounts", "bundles", "offers",
                                 "vendor_groups"]

    def checks(name):
        ws = wb[name]
        header = [c.value for c in ws[1]]
        return header, {header[int(openpyxl.utils.column_index_from_string(str(d.sqref)[0])) - 1]: (d.type, d.formula1)
                        for d in ws.data_validations.dataValidation}

    header, dv = checks("discounts")
    assert header == ["vendor", "threshold", "percent"]
    assert dv == {"vendor": ("list", "=vendors!$A$2:$A$501"), "threshold": ("decimal", "0"), "percent": ("decimal", "0")}
    assert wb["discounts"]["A1"].comment is not None
    header, dv = checks("bundles")
    assert header == ["vendor", "id", "functions", "price"]
    header, dv = checks("vendors")
    assert dv["discount_kind"] == ("list", '"all_units,incremental"')
    assert dv["soft.capacity.penalty"] == ("decimal", "0") and dv["soft.min_functions.priority"] == ("whole", "1")
    header, dv = checks("rules")
    assert dv["soft.penalty"] == ("decimal", "0") and "soft" not in dv["rule"][1]
    settings = [r[0].value for r in wb["settings"].iter_rows(min_row=2)]
    assert "budget.soft.transition.penalty" in settings and "budget.soft" not in settings
