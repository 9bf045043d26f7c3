"""Excel workbooks (.xlsx): one sheet per table of :mod:`outopt.instance.io.frames`.

Sheets: ``settings``, ``resources``, ``functions``, ``vendors``, ``offers``, ``rules``;
row 1 holds the headers. Sheets whose name starts with ``_`` are ignored (scratch work).
Problems name the sheet and cell: ``offers!C14: vendor 'ledgrly' is not in vendors``.
"""

from __future__ import annotations

import io
import typing
import zipfile
from xml.parsers import expat
from pathlib import Path
from typing import Any

from openpyxl import Workbook, load_workbook
from openpyxl.comments import Comment
from openpyxl.styles import Font, PatternFill
from openpyxl.utils import get_column_letter
from openpyxl.worksheet.datavalidation import DataValidation

from outopt.errors import InputError, Problem
from outopt.instance.io.atomic import atomic_write_bytes
from outopt.instance.io.cells import (
    EXCEL_CELL_CHARS,
    CellTooLong,
    excel_text,
    from_excel_text,
    set_excel_cell,
)
from outopt.instance.io.company import DIVISION, DIVISION_NOTE, company_notes
from outopt.instance.io.frames import (
    REFERENCES,
    RULES,
    SETTINGS,
    Column,
    Locator,
    Table,
    child_tables,
    instance_from_tables,
    instance_to_tables,
    model_columns,
    rule_item_columns,
    rule_kinds,
    settings_rows,
    sheet_names,
    table_model,
)
from outopt.instance.io.limits import ReadLimits, resolve, too_many_cells
from outopt.instance.io.xlsx_guard import check_workbook
from outopt.instance.schema import INHOUSE, Instance

HEADER_FONT = Font(bold=True)
HEADER_FILL = PatternFill("solid", fgColor="DDE7F0")
TEMPLATE_ROWS = 500  # rows covered by the template's data validation
EXCEL_MESSAGE_CHARS = 225  # the longest error message Excel shows for a data validation


class ExcelLocator(Locator):
    def cell(self, table: str, key: Any, col: int) -> str:
        return f"{table}!{get_column_letter(col + 1)}{1 if key == 'header' else key}"

    def row(self, table: str, key: Any) -> str:
        return f"{table}!{key}:{key}"

    def table(self, table: str) -> str:
        return f"sheet {table}"


def _open(path: Path, limits: ReadLimits):
    """The workbook, read-only, once :func:`~outopt.instance.io.xlsx_guard.check_workbook` has passed it."""
    check_workbook(path, limits)
    try:
        return load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError, OSError, ValueError) as err:
        raise InputError([Problem("", f"not a readable Excel workbook (.xlsx): {err}")], str(path)) from None


WORKBOOK_XML_BYTES = 1 << 24
"""The most the workbook's list of sheets may inflate to for :func:`workbook_sheets` to read it (16 MB)."""


def workbook_sheets(path: Path) -> list[str]:
    """The names of a workbook's sheets, from its list of sheets (``xl/workbook.xml``) alone: no sheet is
    read, and nothing at all when that list is larger than it can be or unreadable ([]; reading the
    workbook then says what is wrong)."""
    try:
        with zipfile.ZipFile(path) as z:
            info = z.getinfo("xl/workbook.xml")
            if info.file_size > WORKBOOK_XML_BYTES:
                return []
            text = z.read(info)
    except (zipfile.BadZipFile, KeyError, OSError, RuntimeError, ValueError):
        return []
    names: list[str] = []

    def start(tag, attrs):
        if tag.rpartition(":")[2] == "sheet" and "name" in attrs:
            names.append(attrs["name"].strip())

    def no_dtd(*_):  # entities could expand: a workbook has no DTD
        raise ValueError("a DTD")

    parser = expat.ParserCreate()
    parser.StartElementHandler = start
    parser.StartDoctypeDeclHandler = no_dtd
    try:
        parser.Parse(text, True)
    except (expat.ExpatError, ValueError):
        return []
    return names


def read_tables(path: Path, limits: ReadLimits | None = None, known=None) -> dict[str, Table]:
    """The workbook's tables; the size of the zip, of each cell and the count of cells checked first
    (:func:`~outopt.instance.io.xlsx_guard.check_workbook`). Sheets outopt does not know (``known``:
    default, an instance's) are not read."""
    limits = resolve(limits)
    wb = _open(path, limits)
    tables, known, cells = {}, set(known or sheet_names()), 0
    try:
        for ws in wb.worksheets:
            if ws.title.startswith("_"):
                continue
            table = _sheet_table(ws, limits, cells) if ws.title.strip() in known else Table([])
            cells += len(table.columns) * (len(table.rows) + 1)
            tables[ws.title.strip()] = table
    finally:
        wb.close()
    return tables


def _sheet_table(ws, limits: ReadLimits, cells_before: int) -> Table:
    """Every row with a value, wherever the sheet's ``<dimension>`` says it ends; text unescaped."""
    ws.reset_dimensions()  # read-only openpyxl would pad to, or stop at, the declared size
    header: list = []
    rows, keys = [], []
    for number, values in enumerate(ws.iter_rows(values_only=True), start=1):
        row = [from_excel_text(v) for v in values]
        while row and row[-1] is None:
            row.pop()
        if number == 1:
            header = row
        elif row:
            rows.append(row)
            keys.append(number)
    width = max([len(header)] + [len(r) for r in rows])
    if cells_before + width * (len(rows) + 1) > limits.max_cells:
        raise InputError([Problem(f"sheet {ws.title}", too_many_cells(limits))])
    for j, v in enumerate(header):
        if isinstance(v, str) and len(v) > EXCEL_CELL_CHARS:
            raise InputError([Problem(ExcelLocator().cell(ws.title, "header", j), _too_long(len(v)))])
    for key, row in zip(keys, rows):
        for j, v in enumerate(row):
            if isinstance(v, str) and len(v) > EXCEL_CELL_CHARS:
                raise InputError([Problem(ExcelLocator().cell(ws.title, key, j), _too_long(len(v)))])
        row.extend([None] * (width - len(row)))
    return Table(header + [None] * (width - len(header)), rows, keys)


def _too_long(n: int) -> str:
    return f"text of {n:,} characters; an Excel cell holds at most {EXCEL_CELL_CHARS:,}"


def read_excel(path: Path) -> Instance:
    """Read and validate a workbook; problems name sheet and cell."""
    return instance_from_tables(read_tables(path), ExcelLocator())


def _descriptions(name: str) -> dict[str, str]:
    """A short note per column of a table, from the schema's field descriptions."""
    own = company_notes(name)
    if own is not None:
        return own
    if name == SETTINGS:
        return {"field": "Setting name (one per row).", "value": "Its value.", "description": "What it means."}
    if name == RULES:
        lines = [f"{rule}: {info.description}" for rule, (info, _, _) in rule_kinds().items()]
        notes = {
            "rule": "Rule kind, one rule or group per row: " + ", ".join(rule_kinds()),
            "value": "The rule's value; a group lists function ids separated by commas "
                     "(a soft group is a JSON mapping: {\"functions\": [...], \"soft\": {\"penalty\": ...}}).\n" + "\n".join(lines),
        }
        notes.update({c.name: c.description for c in rule_item_columns()})
        return notes
    model = table_model(name)
    notes = {DIVISION: DIVISION_NOTE, **{c.name: c.description for c in model_columns(model)}}
    child = child_tables().get(name)
    if child is not None:
        notes[child.ref] = (f"Id of the {child.ref} (from the {child.parent} sheet) whose {child.field} this row "
                            f"is one of; one row per item, in order. Required.")
    if name == "functions":
        notes["inhouse.cost"] += (
            "\nAdd one column 'inhouse.uses.<resource id>' per resource for the units this function uses."
        )
    return notes


def write_workbook(tables: dict[str, Table], *, template: bool = False) -> bytes:
    wb = Workbook()
    wb.remove(wb.active)
    for name, t in tables.items():
        ws = wb.create_sheet(name)
        notes = _descriptions(name)
        columns = list(t.columns)
        settings_notes = {c.name: c.description for c in settings_rows()} if name == SETTINGS else {}
        if name == SETTINGS:
            columns.append("description")
        for j, h in enumerate(columns, start=1):
            cell = ws.cell(row=1, column=j)
            try:
                set_excel_cell(cell, h)  # a header may hold a resource id (inhouse.uses.<id>)
            except CellTooLong as err:
                raise InputError([Problem(ExcelLocator().cell(name, "header", j - 1), str(err))]) from None
            cell.font, cell.fill = HEADER_FONT, HEADER_FILL
            note = notes.get(h) or notes.get(h.rsplit(".", 1)[0]) or ""
            if h.startswith("inhouse.uses."):
                note = f"Units of resource '{h[len('inhouse.uses.'):]}' this function uses in-house."
            if note:
                cell.comment = Comment(excel_text(note[:EXCEL_CELL_CHARS]), "outopt", width=320, height=120)
            ws.column_dimensions[get_column_letter(j)].width = max(12, min(40, len(h) + 4))
        for i, row in enumerate(t.rows, start=2):
            values = list(row) + ([settings_notes.get(row[0], "")] if name == SETTINGS else [])
            for j, v in enumerate(values, start=1):
                if v is not None:
                    try:
                        set_excel_cell(ws.cell(row=i, column=j), v)
                    except CellTooLong as err:
                        raise InputError([Problem(ExcelLocator().cell(name, i, j - 1), str(err))]) from None
        ws.freeze_panes = "A2"
        if template:
            _validate_columns(ws, name, columns)
    if template:
        _providers_list(wb)
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def _providers_list(wb) -> None:
    """A hidden sheet listing 'inhouse' and every vendor id, for the functions' ``current`` drop-down.
    Sheets starting with '_' are ignored when the workbook is read."""
    ws = wb.create_sheet("_lists")
    ws["A1"] = INHOUSE
    for i in range(2, TEMPLATE_ROWS + 2):
        ws.cell(row=i, column=1, value=f'=IF(vendors!A{i}="","",vendors!A{i})')
    ws.sheet_state = "hidden"


def _validate_columns(ws, name: str, columns: list[str]) -> None:
    """Data validation where Excel supports it: ids from lists, bounds on numbers, TRUE/FALSE, choices."""
    last = TEMPLATE_ROWS + 1
    if name == SETTINGS:
        return
    if name == RULES:  # the rule kinds (a soft marker goes on its rule's row), then the rules' own columns
        kinds = [k for k, (_, layout, _) in rule_kinds().items() if layout != "dict-model"]
        dv = DataValidation(type="list", formula1='"' + ",".join(kinds) + '"', allow_blank=True)
        dv.add(f"A2:A{last}")
        ws.add_data_validation(dv)
        cols = {c.name: c for c in rule_item_columns()}
    else:
        cols = {c.name: c for c in model_columns(table_model(name))}
    child = child_tables().get(name)
    for j, h in enumerate(columns, start=1):
        rng = f"{get_column_letter(j)}2:{get_column_letter(j)}{last}"
        if child is not None and h == child.ref:  # the owner: an id from its sheet
            dv = DataValidation(type="list", formula1=f"={child.parent}!$A$2:$A${last}", allow_blank=True)
            dv.error, dv.errorTitle = f"Pick an id from the {child.parent} sheet.", "Unknown id"
        elif h in cols:
            dv = _column_validation(cols[h], name, last)
        else:
            continue
        if dv is not None:
            dv.allow_blank = True
            dv.showErrorMessage = True
            dv.add(rng)
            ws.add_data_validation(dv)


def _column_validation(col: Column, name: str, last: int) -> DataValidation | None:
    """The data validation of one column of a table, from its field's schema (None: none fits)."""
    dv = None
    ref = REFERENCES.get(col.path[-1])
    choices = typing.get_args(col.info.annotation) if typing.get_origin(col.info.annotation) is typing.Literal else ()
    if col.path[-1] in ("current", "provider"):  # inhouse or a vendor id, from the hidden _lists sheet
        dv = DataValidation(type="list", formula1=f"=_lists!$A$1:$A${last}", allow_blank=True)
        dv.error, dv.errorTitle = "Pick 'inhouse' or an id from the vendors sheet.", "Unknown provider"
    elif ref and ref != name and col.layout == "scalar":
        dv = DataValidation(type="list", formula1=f"={ref}!$A$2:$A${last}", allow_blank=True)
        dv.error, dv.errorTitle = f"Pick an id from the {ref} sheet.", "Unknown id"
    elif col.number_type() is not None:
        b = col.bounds()
        low = b.get("ge", b.get("gt"))
        high = b.get("le", b.get("lt"))
        kind = "whole" if col.number_type() is int else "decimal"
        if low is not None and high is not None:
            dv = DataValidation(type=kind, operator="between", formula1=str(low), formula2=str(high))
        elif low is not None:
            dv = DataValidation(type=kind, operator="greaterThanOrEqual", formula1=str(low))
        if dv is not None:
            dv.error, dv.errorTitle = col.description[:EXCEL_MESSAGE_CHARS], "Out of range"
    elif col.info.annotation is bool:
        dv = DataValidation(type="list", formula1='"TRUE,FALSE"', allow_blank=True)
    elif choices:  # discount_kind: all_units or incremental
        dv = DataValidation(type="list", formula1='"' + ",".join(map(str, choices)) + '"', allow_blank=True)
        dv.error, dv.errorTitle = f"Pick one of {', '.join(map(str, choices))}.", "Unknown choice"
    return dv


def write_excel(instance: Instance, path: Path) -> None:
    atomic_write_bytes(path, write_workbook(instance_to_tables(instance)))


def write_company_excel(tables: dict[str, Table], path: Path) -> None:
    """A company's tables (:func:`outopt.instance.io.company.company_to_tables`) as a workbook."""
    atomic_write_bytes(path, write_workbook(tables))


def template_tables() -> dict[str, Table]:
    """Empty tables with every header; the settings sheet lists every setting to fill in."""
    tables = {SETTINGS: Table(["field", "value"], [[c.name, None] for c in settings_rows()])}
    children = child_tables()
    for name in sheet_names()[1:-1]:
        child = children.get(name)
        tables[name] = Table(([child.ref] if child else []) + [c.name for c in model_columns(table_model(name))])
    tables[RULES] = Table(["rule", "value"] + [c.name for c in rule_item_columns()])
    return tables


def write_template(path: Path) -> None:
    """An empty workbook with headers, a note per column and data validation."""
    atomic_write_bytes(path, write_workbook(template_tables(), template=True))
