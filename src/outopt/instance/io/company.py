"""A company as tables: one workbook (or CSV folder) holding the corporate limits and every division.

Sheets (files of a CSV folder):

* ``company`` — ``field``/``value``: the company's name, corporate ``budget.operating``,
  ``budget.transition`` and ``max_vendors``;
* ``company_vendors`` — ``vendor``, ``capacity``, ``max_share``: the vendors' company-wide limits;
* ``divisions`` — one row per division: ``id``, ``path`` and the division's settings as columns
  (``name``, ``currency``, ``horizon``, ``budget.operating``, ...). A division with a ``path`` is read
  from that instance file (relative to the workbook, as in a company YAML file); the others are
  given in the sheets below;
* the instance's sheets (``resources``, ``functions``, ``vendors``, ``discounts``, ``bundles``,
  ``offers``, ``vendor_groups``, ``rules``; see :mod:`outopt.instance.io.frames`), each with a
  first column ``division`` naming the division of the row.

A workbook is a company's when it has a ``divisions`` sheet. Problems name the sheet and cell:
``offers!C7`` for a division's offer, ``divisions!E3`` for its settings, ``company!B2``.
"""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any

from outopt.errors import InputError, Problem
from outopt.instance.io.frames import (
    SETTINGS,
    Locator,
    Table,
    _Reader,
    from_cell,
    instance_and_places,
    instance_to_tables,
    is_blank,
    model_columns,
    settings_rows,
    sheet_names,
)
from outopt.instance.schema import Company, SharedVendor

COMPANY, SHARED, DIVISIONS, DIVISION = "company", "company_vendors", "divisions", "division"
DIVISION_TABLES = tuple(sheet_names()[1:])
"""The instance's tables, each with a first column naming the division of the row."""
COMPANY_TABLES = (COMPANY, SHARED, DIVISIONS, *DIVISION_TABLES)


def company_sheet_names() -> list[str]:
    """Every table of a company, in the order a workbook shows them."""
    return list(COMPANY_TABLES)


def is_company_tables(names) -> bool:
    """Tables are a company's when one of them is ``divisions``."""
    return DIVISIONS in {str(n).strip() for n in names}


def division_settings_rows():
    """The instance's settings a division can have (not a roadmap's: a company plans one steady state)."""
    return [c for c in settings_rows() if c.path[0] != "roadmap"]


def _division_settings() -> list[str]:
    """The columns of the divisions sheet after id and path: the instance's settings."""
    return [c.name for c in division_settings_rows()]


def company_notes(name: str) -> dict[str, str] | None:
    """A note per column of a company's own tables (None for the instance's tables)."""
    if name == COMPANY:
        return {"field": "Setting name (one per row): " + ", ".join(
            c.name for c in settings_rows(Company, tables=("vendors",))), "value": "Its value."}
    if name == SHARED:
        return {"vendor": "Vendor id, the same vendor in every division that lists it.",
                **{c.name: c.description for c in model_columns(SharedVendor)}}
    if name == DIVISIONS:
        return {"id": "Division id; the rows of the other sheets name it in their 'division' column. Required.",
                "path": "An instance file (relative to this workbook) to read the division from instead of the "
                        "other sheets; blank = the division is in this workbook.",
                **{c.name: c.description for c in division_settings_rows()}}
    return None


DIVISION_NOTE = "Division id (from the divisions sheet) this row belongs to."


# --- writing ------------------------------------------------------------------------------


def company_to_tables(company: Company) -> dict[str, Table]:
    """The tables of a company, every division in them (none by path): reading them back gives an equal
    company (but for the divisions' ``path``)."""
    dumped = company.model_dump(mode="json")
    tables = {COMPANY: Table(["field", "value"]), SHARED: Table(["vendor"] + [c.name for c in model_columns(SharedVendor)])}
    for c in settings_rows(Company, tables=("vendors",)):
        value = _value(dumped, c.path)
        if value is not None:
            tables[COMPANY].rows.append([c.name, value])
    for vid, limits in dumped["vendors"].items():
        tables[SHARED].rows.append([vid] + [limits.get(c.name) for c in model_columns(SharedVendor)])
    per_division = {d.id: instance_to_tables(d.instance) for d in company.divisions}
    own = {did: dict(row[:2] for row in t[SETTINGS].rows) for did, t in per_division.items()}
    # a soft marker's columns only where some division has one
    settings = [c.name for c in division_settings_rows() if c.part_of is None or any(c.name in o for o in own.values())]
    tables[DIVISIONS] = Table(["id", "path", *settings])
    for d in company.divisions:
        tables[DIVISIONS].rows.append([d.id, None] + [own[d.id].get(name) for name in settings])
    for name in DIVISION_TABLES:
        columns: list[str] = []
        for t in per_division.values():
            columns += [c for c in t[name].columns if c not in columns]
        table = Table([DIVISION, *columns])
        for did, t in per_division.items():
            at = {c: j for j, c in enumerate(t[name].columns)}
            table.rows += [[did] + [row[at[c]] if c in at else None for c in columns] for row in t[name].rows]
        tables[name] = table
    for t in tables.values():
        t.keys = list(range(2, len(t.rows) + 2))
    return tables


def _value(data: dict, path: tuple[str, ...]) -> Any:
    for p in path:
        data = data.get(p) if isinstance(data, dict) else None
    return data


# --- reading ------------------------------------------------------------------------------


class DivisionLocator(Locator):
    """Places of one division's tables in the company's: its settings are cells of its row of the
    divisions sheet, its rows are the company tables' rows (one column further right: ``division``)."""

    def __init__(self, base: Locator, row: Any, settings: Mapping[str, int]):
        self.base, self.key, self.settings = base, row, settings

    def cell(self, table: str, key: Any, col: int) -> str:
        if table == SETTINGS:
            return self.base.cell(DIVISIONS, self.key, self.settings.get(key, 0))
        return self.base.cell(table, key, col + 1)

    def row(self, table: str, key: Any) -> str:
        return self.base.row(DIVISIONS if table == SETTINGS else table, self.key if table == SETTINGS else key)

    def table(self, table: str) -> str:
        return self.base.row(DIVISIONS, self.key) if table == SETTINGS else self.base.table(table)


class _CompanyReader:
    """Reads a company's tables into the plain data of a company file (inline divisions as instances)
    and maps every place of the company (``divisions[1].offers[3].vendor``) to a cell."""

    def __init__(self, tables: Mapping[str, Table], locator: Locator):
        self.tables = {str(k).strip(): v for k, v in tables.items()}
        self.loc = locator
        self.problems: list[Problem] = []
        self.company = _Reader({}, locator)  # the company sheet, as settings
        self.shared_at: dict[str, Any] = {}  # vendor id -> row of company_vendors
        self.division_at: list[Any] = []  # division index -> row of the divisions sheet
        self.division_places: dict[int, Callable[[str], str]] = {}
        self.division_header: list[str] = []

    def data(self) -> dict:
        unknown = sorted(set(self.tables) - set(COMPANY_TABLES))
        for name in unknown:
            self.problems.append(Problem(self.loc.table(name), f"unknown table '{name}'; the tables of a company "
                                                              f"are {', '.join(COMPANY_TABLES)}"))
        data: dict = {}
        if COMPANY in self.tables:
            self.company.read_settings(self.tables[COMPANY], data, COMPANY, Company, ("vendors",))
            self.problems += self.company.problems
        if SHARED in self.tables:
            data["vendors"] = self.shared_vendors(self.tables[SHARED])
        entries = self.division_entries()
        rows = self.division_rows({str(_plain_id(e["id"])).strip() for _, e in entries if "id" in e})
        data["divisions"] = [self.division(i, entry, rows) for i, entry in enumerate(entries)]
        return data

    def shared_vendors(self, table: Table) -> dict:
        header = [str(h).strip() if not is_blank(h) else "" for h in table.columns]
        fields = {c.name: c for c in model_columns(SharedVendor)}
        for j, h in enumerate(header):
            if h and h != "vendor" and h not in fields:
                self.problems.append(Problem(self.loc.cell(SHARED, "header", j), f"unknown column '{h}'"))
        if "vendor" not in header:
            self.problems.append(Problem(self.loc.table(SHARED), "needs the column 'vendor'"))
            return {}
        out: dict = {}
        for key, row in zip(table.keys, table.rows):
            vid = row[header.index("vendor")]
            if all(is_blank(v) for v in row):
                continue
            if is_blank(vid):
                self.problems.append(Problem(self.loc.cell(SHARED, key, header.index("vendor")), "a row with no vendor"))
                continue
            vid = str(from_cell(vid, "scalar", model_columns(SharedVendor)[0].info)).strip()
            if vid in out:
                self.problems.append(Problem(self.loc.cell(SHARED, key, header.index("vendor")),
                                             f"vendor '{vid}' appears twice"))
                continue
            self.shared_at[vid] = key
            out[vid] = {h: row[j] for j, h in enumerate(header) if h in fields and not is_blank(row[j])}
        return out

    def division_entries(self) -> list[tuple[Any, dict]]:
        """(row key, {column: value}) of every division row."""
        table = self.tables.get(DIVISIONS)
        if table is None:
            return []
        header = [str(h).strip() if not is_blank(h) else "" for h in table.columns]
        known = {"id", "path", *_division_settings()}
        for j, h in enumerate(header):
            if h and h not in known:
                self.problems.append(Problem(self.loc.cell(DIVISIONS, "header", j), f"unknown column '{h}'"))
        self.division_header = header
        return [(key, {h: v for h, v in zip(header, row) if h and not is_blank(v)})
                for key, row in zip(table.keys, table.rows) if not all(is_blank(v) for v in row)]

    def division_rows(self, ids: set[str]) -> dict[str, dict[str, Table]]:
        """Each division's rows of the instance tables, by division id (tables keep their row keys)."""
        out: dict[str, dict[str, Table]] = {}
        for name in DIVISION_TABLES:
            table = self.tables.get(name)
            if table is None:
                continue
            header = list(table.columns)
            if not header or str(header[0]).strip() != DIVISION:
                self.problems.append(Problem(self.loc.cell(name, "header", 0), f"the first column must be "
                                                                               f"'{DIVISION}' (the division of each row)"))
                continue
            for key, row in zip(table.keys, table.rows):
                if all(is_blank(v) for v in row):
                    continue
                did = row[0]
                if is_blank(did) or str(_plain_id(did)).strip() not in ids:
                    what = "a row with no division" if is_blank(did) else f"division '{_plain_id(did)}' is not in divisions"
                    self.problems.append(Problem(self.loc.cell(name, key, 0), what))
                    continue
                tables = out.setdefault(str(_plain_id(did)).strip(), {})
                tables.setdefault(name, Table(header[1:])).rows.append(row[1:])
                tables[name].keys.append(key)
        return out

    def division(self, i: int, entry: tuple[Any, dict], rows: dict[str, dict[str, Table]]) -> dict:
        key, values = entry
        self.division_at.append(key)
        did = str(_plain_id(values["id"])).strip() if "id" in values else None
        if "path" in values:
            if did is not None and did in rows:
                self.problems.append(Problem(self.loc.cell(DIVISIONS, key, self.division_header.index("path")),
                                             f"division '{did}' is read from {values['path']}; its rows in the "
                                             "other sheets are not used: delete them or the path"))
            return {"path": str(values["path"]), **({"id": did} if did is not None else {})}
        if did is None:
            self.problems.append(Problem(self.loc.cell(DIVISIONS, key, 0), "a division given in these sheets needs "
                                                                             "an id (its rows name it)"))
            return {"instance": {}}
        known = set(_division_settings())
        settings_cols = {h: j for j, h in enumerate(self.division_header) if h in known}
        tables = {SETTINGS: Table(["field", "value"], [[h, v] for h, v in values.items() if h in settings_cols],
                                  [h for h in values if h in settings_cols])}
        tables.update(rows.get(did, {}))
        for name in DIVISION_TABLES:
            tables.setdefault(name, Table(list(self.tables[name].columns[1:]) if name in self.tables else []))
        try:
            instance, places = instance_and_places(tables, DivisionLocator(self.loc, key, settings_cols))
        except InputError as err:
            self.problems += [p for p in err.problems if p not in self.problems]  # a header problem once
            return {"id": did, "instance": {}}
        self.division_places[i] = places
        return {"id": did, "instance": instance}

    def place(self, where: str) -> str:
        """A place of the company (``budget.operating``, ``vendors.x.capacity``, ``divisions[1].offers[0].cost``)
        in the tables' coordinates."""
        head, _, rest = where.partition(".")
        if head.startswith("divisions[") and "]" in head:
            i = int(head[len("divisions["):head.index("]")])
            rest = rest.removeprefix("instance.")
            if i in self.division_places and rest and rest not in ("id", "path"):
                return self.division_places[i](rest)
            if i < len(self.division_at):
                col = self.division_header.index(rest) if rest in self.division_header else 0
                return self.loc.cell(DIVISIONS, self.division_at[i], col)
            return self.loc.table(DIVISIONS)
        if head == "vendors" and rest:
            vid, _, field_ = rest.rpartition(".")
            vid = vid or field_
            if vid in self.shared_at:
                header = [str(h).strip() for h in self.tables[SHARED].columns]
                return self.loc.cell(SHARED, self.shared_at[vid], header.index(field_) if field_ in header else 0)
        for name, key in sorted(self.company.settings_at.items(), key=lambda kv: -len(kv[0])):
            if where == name or where.startswith(name + ".") or name.startswith(where + "."):
                header = self.company.cols[COMPANY]
                return self.loc.cell(COMPANY, key, header.index("value") if "value" in header else 1)
        return f"{self.loc.table(COMPANY)}: {where}" if head in Company.model_fields else where


def _plain_id(value: Any) -> Any:
    """An id typed as a number in a spreadsheet (2024.0) as the text it stands for."""
    if isinstance(value, float) and value.is_integer():
        return int(value)
    return value


def company_data_from_tables(tables: Mapping[str, Table],
                             locator: Locator) -> tuple[dict, Callable[[str], str]]:
    """The plain data of a company file from its tables (inline divisions as validated instances), and the
    function that names a place of the company in the tables' coordinates; raises :class:`InputError`
    with every problem of the tables, each naming its cell."""
    reader = _CompanyReader(tables, locator)
    data = reader.data()
    if DIVISIONS not in reader.tables:
        reader.problems.append(Problem(locator.table(DIVISIONS), "a company needs a divisions table"))
    if reader.problems:
        raise InputError(reader.problems)
    return data, reader.place
