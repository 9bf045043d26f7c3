"""Instances as tables: the one mapping behind workbooks, CSV folders and DataFrames.

The tables are driven by the pydantic schema, so fields added to it appear as
columns without changes here:

* ``settings`` — two columns ``field``/``value``: every top-level field that is not a
  table, nested models flattened with dots (``budget.operating``).
* one table per top-level list of models (``resources``, ``functions``, ``vendors``,
  ``offers``, and any list added later), one row per item. Nested models are flattened
  with dots (``inhouse.cost``); a mapping of ids to numbers becomes one column per key
  (``inhouse.uses.finance_staff``: one column per resource); a list of ids is a
  comma-separated cell; anything more complex is a JSON cell.
* ``rules`` — columns ``rule``/``value`` plus one column per field of any rule that is
  a model: one row per scalar rule (``max_vendors``), per group of a list of groups
  (``separate``, ``together``), or per item of a list of rule models.

Readers turn their sheets or files into :class:`Table` s that remember where each row
came from; :func:`instance_from_tables` validates them and maps every problem's place
(``offers[12].vendor``) back to the source's own coordinates (``offers!C14``) through a
:class:`Locator`.
"""

from __future__ import annotations

import json
import math
import re
import types
import typing
from collections.abc import Callable, Mapping
from dataclasses import dataclass, field
from enum import Enum
from typing import Any

from pydantic import BaseModel
from pydantic.fields import FieldInfo

from outopt.errors import InputError, Problem
from outopt.instance.schema import Group, Instance
from outopt.instance.validation import did_you_mean, instance_from_data

SETTINGS, RULES = "settings", "rules"
SETTINGS_COLUMNS = ["field", "value"]
RULE_COLUMNS = ["rule", "value"]
REFERENCES = {"function": "functions", "vendor": "vendors", "resource": "resources"}
"""Columns holding ids of another table (used by the template's drop-down lists)."""


# --- the schema, seen as columns ------------------------------------------------------


def _unwrap(ann: Any) -> tuple[Any, list]:
    """Strip Annotated and Optional; return the bare type and the collected metadata."""
    meta: list = []
    while True:
        origin = typing.get_origin(ann)
        if origin is typing.Annotated:
            meta.extend(ann.__metadata__)
            ann = ann.__origin__
        elif origin in (typing.Union, types.UnionType):
            args = [a for a in typing.get_args(ann) if a is not type(None)]
            if len(args) != 1:
                return ann, meta
            ann = args[0]
        else:
            return ann, meta


def _is_model(ann: Any) -> bool:
    return isinstance(ann, type) and issubclass(ann, BaseModel)


def _is_scalar(ann: Any) -> bool:
    base, _ = _unwrap(ann)
    if isinstance(base, type) and (base in (str, int, float, bool) or issubclass(base, Enum)):
        return True
    if typing.get_origin(base) is typing.Literal:
        return True
    if typing.get_origin(base) in (typing.Union, types.UnionType):
        return all(_is_scalar(a) for a in typing.get_args(base) if a is not type(None))
    return False


def kind(ann: Any) -> str:
    """How a field is laid out in a table: model, dict (column per key), list, scalar or json."""
    base, _ = _unwrap(ann)
    if _is_model(base):
        return "model"
    origin, args = typing.get_origin(base), typing.get_args(base)
    if origin is dict and len(args) == 2 and _is_scalar(args[1]):
        return "dict"
    if origin is list and args and _is_scalar(args[0]):
        return "list"
    if _is_scalar(base):
        return "scalar"
    return "json"


def list_item_model(ann: Any) -> type[BaseModel] | None:
    base, _ = _unwrap(ann)
    if typing.get_origin(base) is list:
        (item,) = typing.get_args(base)
        item, _ = _unwrap(item)
        if _is_model(item):
            return item
    return None


def table_fields(model: type[BaseModel] | None = None) -> list[str]:
    """Top-level fields that get a table of their own (lists of models), in schema order."""
    model = model or Instance
    return [n for n, f in model.model_fields.items() if n != RULES and list_item_model(f.annotation)]


def table_model(name: str) -> type[BaseModel]:
    """The model of one row of a table (``offers`` -> Offer)."""
    return list_item_model(Instance.model_fields[name].annotation)


def sheet_names() -> list[str]:
    """Every table of the format, in the order a workbook shows them."""
    return [SETTINGS, *table_fields(), RULES]


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, the field path it fills and the field's schema."""

    name: str
    path: tuple[str, ...]
    info: FieldInfo
    layout: str  # scalar | list | json | dict-key

    @property
    def description(self) -> str:
        """The field's description and, when it has a plain default, the default (a blank cell)."""
        text = self.info.description or ""
        if self.layout == "dict-key" or self.info.is_required():
            return text + (" Required." if self.info.is_required() else "")
        default = self.info.get_default(call_default_factory=False)
        if isinstance(default, (str, int, float, bool)):
            return f"{text} Blank = {default}."
        return text

    def bounds(self) -> dict[str, float]:
        """Numeric bounds from the schema (ge/gt/le/lt), for the template's data validation."""
        ann = self.info.annotation
        if self.layout == "dict-key":
            ann = typing.get_args(_unwrap(ann)[0])[1]
        _, meta = _unwrap(ann)
        out = {}
        for m in [*meta, *self.info.metadata]:
            for k in ("ge", "gt", "le", "lt"):
                if getattr(m, k, None) is not None:
                    out[k] = getattr(m, k)
        return out

    def number_type(self) -> type | None:
        ann = self.info.annotation
        if self.layout == "dict-key":
            ann = typing.get_args(_unwrap(ann)[0])[1]
        base, _ = _unwrap(ann)
        return base if base in (int, float) else None


def model_columns(model: type[BaseModel], prefix: tuple[str, ...] = (), keys: Mapping[tuple, list[str]] | None = None) -> list[Column]:
    """The columns of a model flattened into one row; ``keys`` gives the keys of each dict field."""
    cols: list[Column] = []
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        k = kind(info.annotation)
        if k == "model":
            cols.extend(model_columns(_unwrap(info.annotation)[0], path, keys))
        elif k == "dict":
            for key in (keys or {}).get(path, []):
                cols.append(Column(".".join(path) + "." + key, (*path, key), info, "dict-key"))
        else:
            cols.append(Column(".".join(path), path, info, k))
    return cols


def dict_fields(model: type[BaseModel], prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    """Paths of the fields laid out as one column per key (e.g. functions' ``inhouse.uses``)."""
    out = []
    for name, info in model.model_fields.items():
        k = kind(info.annotation)
        if k == "model":
            out.extend(dict_fields(_unwrap(info.annotation)[0], (*prefix, name)))
        elif k == "dict":
            out.append((*prefix, name))
    return out


def settings_rows(model: type[BaseModel] | None = None, prefix: tuple[str, ...] = ()) -> list[Column]:
    """The settings table's rows: every top-level field that is neither a table nor the rules."""
    model = model or Instance
    skip = set(table_fields()) | {RULES} if not prefix else set()
    cols = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        path = (*prefix, name)
        k = kind(info.annotation)
        if k == "model":
            cols.extend(settings_rows(_unwrap(info.annotation)[0], path))
        else:
            cols.append(Column(".".join(path), path, info, "json" if k == "dict" else k))
    return cols


def rules_model() -> type[BaseModel]:
    return _unwrap(Instance.model_fields[RULES].annotation)[0]


def rule_kinds() -> dict[str, tuple[FieldInfo, str, type[BaseModel] | None]]:
    """Each rule: its schema, its layout (scalar, groups, items, list or json) and the item model."""
    out = {}
    for name, info in rules_model().model_fields.items():
        item = list_item_model(info.annotation)
        base, _ = _unwrap(info.annotation)
        if item is not None:
            out[name] = (info, "items", item)
        elif typing.get_origin(base) is list and (
                kind(typing.get_args(base)[0]) == "list" or typing.get_args(base)[0] == Group):
            out[name] = (info, "groups", None)  # a group: ids comma-separated, or a JSON mapping when soft
        elif typing.get_origin(base) is list and _is_scalar(typing.get_args(base)[0]):
            out[name] = (info, "list-items", None)
        else:
            out[name] = (info, kind(info.annotation), None)
    return out


def rule_item_columns() -> list[Column]:
    """Columns of the rules table beyond rule/value: the fields of rules that are models."""
    seen, cols = set(RULE_COLUMNS[:1]), []
    for _, (_, layout, item) in rule_kinds().items():
        if layout == "items":
            for c in model_columns(item):
                if c.name not in seen:
                    seen.add(c.name)
                    cols.append(c)
    return cols


# --- cell values ------------------------------------------------------------------------


def is_blank(v: Any) -> bool:
    if v is None:
        return True
    if isinstance(v, float) and math.isnan(v):
        return True
    return isinstance(v, str) and not v.strip()


def to_cell(value: Any, layout: str, info: FieldInfo | None = None) -> Any:
    """A field's value as one cell: scalars as they are, id lists comma-separated, the rest JSON.
    An empty list or mapping that is the field's default is a blank cell (a blank reads as the default)."""
    if value is None:
        return None
    if value in ([], {}) and info is not None and not info.is_required() and info.get_default(
            call_default_factory=True) == value:
        return None
    if isinstance(value, Enum):
        return value.value
    if layout == "list" and isinstance(value, list) and all(isinstance(x, str) and "," not in x and x.strip() == x and not x.startswith("[") for x in value):
        return ", ".join(value)
    if isinstance(value, (list, dict)):
        return json.dumps(value, ensure_ascii=False)
    return value


def from_cell(value: Any, layout: str, info: FieldInfo | None) -> Any:
    """The inverse of :func:`to_cell`; raises ValueError with a message for the user."""
    if layout == "list":
        if isinstance(value, str):
            text = value.strip()
            if text.startswith(("[", "{")):  # a JSON list, or a mapping (e.g. a soft rule group)
                return _json(text)
            return [p.strip() for p in text.split(",") if p.strip()]
        return [_plain(value)]
    if layout == "json":
        return _json(value.strip()) if isinstance(value, str) else value
    if info is not None and isinstance(value, (int, float)) and not isinstance(value, bool):
        base, _ = _unwrap(info.annotation if layout != "dict-key" else typing.get_args(_unwrap(info.annotation)[0])[1])
        if base is str:  # an id typed as a number in a spreadsheet
            return _plain(value)
    return value


def _plain(v: Any) -> Any:
    if isinstance(v, float) and v.is_integer():
        return str(int(v))
    return str(v) if isinstance(v, (int, float)) and not isinstance(v, bool) else v


def _json(text: str) -> Any:
    try:
        return json.loads(text)
    except json.JSONDecodeError as err:
        raise ValueError(f"not valid JSON ({err.msg} at character {err.pos + 1})") from None


# --- tables -----------------------------------------------------------------------------


@dataclass
class Table:
    """Header and rows of one sheet or file; ``keys`` says where each row came from."""

    columns: list[str]
    rows: list[list[Any]] = field(default_factory=list)
    keys: list[Any] = field(default_factory=list)  # source row number (or DataFrame label) per row


class Locator:
    """Names a place in a source: a cell, a row or a whole table. Readers subclass it."""

    def cell(self, table: str, key: Any, col: int) -> str:  # col: 0-based index into columns
        return f"{table}[{key}].{col}"

    def row(self, table: str, key: Any) -> str:
        return f"{table}[{key}]"

    def table(self, table: str) -> str:
        return table


def _unknown(kind: str, name: str, known: list[str]) -> str:
    """``unknown rule 'lock'; did you mean 'locks'?``, or the list of the known names when none is close."""
    hint = did_you_mean(name, known)
    return f"unknown {kind} '{name}'; " + (hint or f"the {kind}s are {', '.join(known)}")


UNREAD = object()
"""A cell that could not be read (its problem is reported): left out of the data."""


def _set(target: dict, path: tuple[str, ...], value: Any) -> None:
    if value is UNREAD:
        return
    for p in path[:-1]:
        target = target.setdefault(p, {})
    target[path[-1]] = value


def _get(source: Any, path: tuple[str, ...]) -> Any:
    for p in path:
        if source is None:
            return None
        source = source.get(p) if isinstance(source, dict) else getattr(source, p, None)
    return source


def _resolve(header: str, model: type[BaseModel], dict_paths: list[tuple[str, ...]]) -> Column | None:
    for path in dict_paths:
        prefix = ".".join(path) + "."
        if header.startswith(prefix) and len(header) > len(prefix):
            info = _field_info(model, path)
            return Column(header, (*path, header[len(prefix):]), info, "dict-key")
    return next((c for c in model_columns(model) if c.name == header), None)


def _field_info(model: type[BaseModel], path: tuple[str, ...]) -> FieldInfo:
    info = None
    for p in path:
        info = model.model_fields[p]
        model = _unwrap(info.annotation)[0]
    return info


class _Reader:
    """Turns tables into plain data and remembers where each value came from."""

    def __init__(self, tables: Mapping[str, Table], locator: Locator):
        self.tables, self.loc = tables, locator
        self.problems: list[Problem] = []
        self.rows: dict[str, list] = {}  # table -> row keys, by item index
        self.cols: dict[str, list[str]] = {}  # table -> header names
        self.settings_at: dict[str, Any] = {}  # settings field -> row key
        self.rules_at: dict[tuple[str, int], Any] = {}  # (rule, index) -> row key
        self.rule_one: dict[str, Any] = {}  # scalar rule -> row key
        self.unknown_in: set[str] = set()  # tables with an unknown column

    def problem(self, where: str, message: str) -> None:
        self.problems.append(Problem(where, message))

    def header_problems(self, name: str, table: Table, known: Callable[[str], bool]) -> dict[int, str]:
        """Check the header; return the usable columns by index."""
        usable = {}
        for j, h in enumerate(table.columns):
            h = "" if is_blank(h) else str(h).strip()
            if not h:
                first = next((k for k, r in zip(table.keys, table.rows) if not is_blank(r[j])), None)
                if first is not None:
                    self.problem(self.loc.cell(name, first, j), "a value under a column with no header")
                continue
            if h in usable.values():
                self.problem(self.loc.cell(name, "header", j), f"column '{h}' appears twice")
                continue
            if not known(h):
                hint = did_you_mean(h, self.known_columns(name))
                self.problem(self.loc.cell(name, "header", j), f"unknown column '{h}'" + (f"; {hint}" if hint else ""))
                self.unknown_in.add(name)
                continue
            usable[j] = h
        return usable

    def data(self) -> dict:
        data: dict = {}
        unknown = sorted(set(self.tables) - set(sheet_names()))
        for name in unknown:
            self.problem(self.loc.table(name), _unknown("table", name, sheet_names()))
        if SETTINGS in self.tables:
            self.read_settings(self.tables[SETTINGS], data)
        for name in table_fields():
            if name in self.tables:
                data[name] = self.read_rows(name, self.tables[name])
        if RULES in self.tables:
            data[RULES] = self.read_rules(self.tables[RULES])
        return data

    def known_columns(self, name: str) -> list[str]:
        """The column names a table may have (for a suggestion when a header is unknown)."""
        if name == SETTINGS:
            return SETTINGS_COLUMNS
        if name == RULES:
            return RULE_COLUMNS + [c.name for c in rule_item_columns()]
        return [c.name for c in model_columns(table_model(name))] if name in table_fields() else []

    def value(self, table: str, key: Any, j: int, raw: Any, layout: str, info: FieldInfo | None) -> Any:
        try:
            return from_cell(raw, layout, info)
        except ValueError as err:
            self.problem(self.loc.cell(table, key, j), str(err))
            return UNREAD

    def read_settings(self, table: Table, data: dict) -> None:
        self.cols[SETTINGS] = list(table.columns)
        fields = {c.name: c for c in settings_rows()}
        usable = self.header_problems(SETTINGS, table, lambda h: h in SETTINGS_COLUMNS + ["description"])
        at = {h: j for j, h in usable.items()}
        if "field" not in at or "value" not in at:
            self.problem(self.loc.table(SETTINGS), "needs the columns 'field' and 'value'")
            return
        for key, row in zip(table.keys, table.rows):
            name, raw = row[at["field"]], row[at["value"]]
            if is_blank(name):
                if not is_blank(raw):
                    self.problem(self.loc.cell(SETTINGS, key, at["field"]), "a value with no field name")
                continue
            name = str(name).strip()
            col = fields.get(name)
            if col is None:
                self.problem(self.loc.cell(SETTINGS, key, at["field"]),
                             _unknown("setting", name, list(fields)))
                continue
            if name in self.settings_at:
                self.problem(self.loc.cell(SETTINGS, key, at["field"]), f"setting '{name}' appears twice")
                continue
            self.settings_at[name] = key
            if not is_blank(raw):
                _set(data, col.path, self.value(SETTINGS, key, at["value"], raw, col.layout, col.info))

    def read_rows(self, name: str, table: Table) -> list[dict]:
        model = table_model(name)
        dicts = dict_fields(model)
        resolved: dict[int, Column] = {}

        def known(h: str) -> bool:
            col = _resolve(h, model, dicts)
            return col is not None

        usable = self.header_problems(name, table, known)
        for j, h in usable.items():
            resolved[j] = _resolve(h, model, dicts)
        self.cols[name] = [str(c).strip() if not is_blank(c) else "" for c in table.columns]
        items, keys = [], []
        for key, row in zip(table.keys, table.rows):
            if all(is_blank(v) for v in row):
                continue
            item: dict = {}
            for j, col in resolved.items():
                raw = row[j]
                if is_blank(raw):
                    continue
                _set(item, col.path, self.value(name, key, j, raw, col.layout, col.info))
            items.append(item)
            keys.append(key)
        self.rows[name] = keys
        return items

    def read_rules(self, table: Table) -> dict:
        kinds = rule_kinds()
        extra = {c.name: c for c in rule_item_columns()}
        usable = self.header_problems(RULES, table, lambda h: h in RULE_COLUMNS or h in extra)
        at = {h: j for j, h in usable.items()}
        self.cols[RULES] = [str(c).strip() if not is_blank(c) else "" for c in table.columns]
        if "rule" not in at:
            self.problem(self.loc.table(RULES), "needs the columns 'rule' and 'value'")
            return {}
        out: dict = {}
        for key, row in zip(table.keys, table.rows):
            if all(is_blank(v) for v in row):
                continue
            name = row[at["rule"]]
            if is_blank(name):
                self.problem(self.loc.cell(RULES, key, at["rule"]), "a rule with no name")
                continue
            name = str(name).strip()
            if name not in kinds:
                self.problem(self.loc.cell(RULES, key, at["rule"]),
                             _unknown("rule", name, list(kinds)))
                continue
            info, layout, item_model = kinds[name]
            raw = row[at["value"]] if "value" in at else None
            vcol = at.get("value", at["rule"])
            fields = item_model.model_fields if item_model else {}
            for h, j in at.items():
                applies = h == "rule" or (h == "value" and layout != "items") or (h in extra and extra[h].path[0] in fields)
                if not applies and not is_blank(row[j]):
                    self.problem(self.loc.cell(RULES, key, j), f"column '{h}' does not apply to rule '{name}'")
            if layout == "items":
                item: dict = {}
                for h, j in at.items():
                    if h in extra and not is_blank(row[j]) and extra[h].path[0] in fields:
                        c = extra[h]
                        _set(item, c.path, self.value(RULES, key, j, row[j], c.layout, c.info))
                self.rules_at[(name, len(out.setdefault(name, [])))] = key
                out[name].append(item)
            elif layout in ("groups", "list-items"):
                value = self.value(RULES, key, vcol, raw, "list" if layout == "groups" else "scalar", None)
                self.rules_at[(name, len(out.setdefault(name, [])))] = key
                out[name].append(raw if value is UNREAD else value)  # kept in place: later items keep their rows
            else:
                if name in out:
                    self.problem(self.loc.cell(RULES, key, at["rule"]), f"rule '{name}' appears twice")
                    continue
                self.rule_one[name] = key
                if not is_blank(raw):
                    _set(out, (name,), self.value(RULES, key, vcol, raw, layout, info))
        return out

    # --- places -------------------------------------------------------------------------
    def place(self, where: str) -> str:
        """Map a place in the instance (``offers[12].vendor``) to the source's coordinates."""
        m = re.match(r"^(\w+)(?:\[(\d+)\])?(?:\.?(.*))?$", where)
        if not m:
            return where
        top, index, rest = m.group(1), m.group(2), m.group(3) or ""
        if top in self.rows:
            if index is None:
                return self.loc.table(top)
            keys = self.rows[top]
            i = int(index)
            if i >= len(keys):
                return self.loc.table(top)
            j = self._column(self.cols[top], rest)
            return self.loc.row(top, keys[i]) if j is None else self.loc.cell(top, keys[i], j)
        if top == RULES and RULES in self.cols:
            r = re.match(r"^(\w+)(?:\[(\d+)\])?\.?(.*)$", rest)
            if not r:
                return self.loc.table(RULES)
            name, idx, sub = r.group(1), r.group(2), r.group(3)
            key = self.rule_one.get(name) if idx is None else self.rules_at.get((name, int(idx)))
            if key is None:
                return self.loc.table(RULES)
            cols = self.cols[RULES]
            j = self._column(cols, re.sub(r"^\[\d+\]\.?", "", sub)) if sub and not sub.startswith("[") else None
            if j is None:
                j = cols.index("value") if "value" in cols else cols.index("rule")
            return self.loc.cell(RULES, key, j)
        path = f"{top}.{rest}" if rest else top
        if top in Instance.model_fields and top not in sheet_names() and SETTINGS not in self.cols:
            return f"{self.loc.table(SETTINGS)}: {path}"
        if SETTINGS in self.cols:
            for name in sorted(self.settings_at, key=len, reverse=True):
                if path == name or path.startswith(name + ".") or path.startswith(name + "["):
                    cols = self.cols[SETTINGS]
                    return self.loc.cell(SETTINGS, self.settings_at[name], cols.index("value"))
            return f"{self.loc.table(SETTINGS)}: {path}" if top in Instance.model_fields else where
        return self.loc.table(top) if top in sheet_names() else where

    @staticmethod
    def _column(cols: list[str], rest: str) -> int | None:
        if not rest:
            return None
        if rest in cols:
            return cols.index(rest)
        best = [c for c in cols if c and (rest.startswith(c + ".") or rest.startswith(c + "["))]
        if best:
            return cols.index(max(best, key=len))
        below = [c for c in cols if c.startswith(rest + ".")]
        return cols.index(below[0]) if below else None


def instance_from_tables(tables: Mapping[str, Table], locator: Locator | None = None) -> Instance:
    """Validate tables into an :class:`Instance`; every problem names its cell.

    The problems of the tables themselves (cells that do not read, unknown columns) and those of the data
    they hold (types, references) are reported together; a cell that does not read is left out of the
    data, and a required field in a table with an unknown column (likely that field misspelt) is not
    called missing on every row."""
    reader = _Reader(tables, locator or Locator())
    data = reader.data()
    try:
        instance = instance_from_data(data)
    except InputError as err:
        seen = {p.where for p in reader.problems}
        found = [Problem(reader.place(p.where), p.message) for p in err.problems
                 if not (p.message == "required field is missing" and p.where.split("[")[0] in reader.unknown_in)]
        raise InputError(reader.problems + [p for p in found if p.where not in seen]) from None
    if reader.problems:
        raise InputError(reader.problems)
    return instance


# --- writing ------------------------------------------------------------------------------


def instance_to_tables(instance: Instance) -> dict[str, Table]:
    """The tables of an instance, lossless: reading them back gives an equal instance."""
    tables = {SETTINGS: Table(list(SETTINGS_COLUMNS))}
    dumped = instance.model_dump(mode="json")
    for c in settings_rows():
        v = _get(dumped, c.path)
        if v is not None:
            cell = to_cell(v, c.layout, c.info)
            if cell is not None:
                tables[SETTINGS].rows.append([c.name, cell])
    for name in table_fields():
        model = table_model(name)
        items = dumped[name]
        keys = {path: _keys(items, path) for path in dict_fields(model)}
        cols = model_columns(model, keys=keys)
        t = Table([c.name for c in cols])
        for item in items:
            t.rows.append([to_cell(_get(item, c.path), c.layout if c.layout != "dict-key" else "scalar", c.info)
                           for c in cols])
        tables[name] = t
    tables[RULES] = rules_table(dumped[RULES])
    for t in tables.values():
        t.keys = list(range(2, len(t.rows) + 2))
    return tables


def _keys(items: list[dict], path: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for item in items:
        for k in _get(item, path) or {}:
            if k not in out:
                out.append(k)
    return out


def rules_table(rules: dict) -> Table:
    extra = rule_item_columns()
    t = Table(RULE_COLUMNS + [c.name for c in extra])
    blank = [None] * len(extra)
    for name, (info, layout, item_model) in rule_kinds().items():
        value = rules.get(name)
        if value is None:
            continue
        if layout == "items":
            for item in value:
                t.rows.append([name, None] + [
                    to_cell(_get(item, c.path), c.layout, c.info) if c.path[0] in item_model.model_fields else None
                    for c in extra
                ])
        elif layout == "groups":
            for group in value:
                t.rows.append([name, to_cell(group, "list"), *blank])
        elif layout == "list-items":
            for item in value:
                t.rows.append([name, item, *blank])
        else:
            cell = to_cell(value, layout, info)
            if cell is not None:
                t.rows.append([name, cell, *blank])
    return t


# --- DataFrames (the notebook API) ----------------------------------------------------------


class FrameLocator(Locator):
    def __init__(self, tables: Mapping[str, Table]):
        self.tables = tables

    def cell(self, table, key, col):
        if key == "header":
            return f"{table}.columns[{col}]"
        return f"{table}.loc[{key!r}, {self.tables[table].columns[col]!r}]"

    def row(self, table, key):
        return f"{table}.loc[{key!r}]"


def _frame_table(frame) -> Table:
    import pandas as pd

    if isinstance(frame, Table):
        return frame
    if not isinstance(frame, pd.DataFrame):
        frame = pd.DataFrame(frame)
    rows = [[None if is_blank(v) else (v.item() if hasattr(v, "item") else v) for v in r]
            for r in frame.itertuples(index=False, name=None)]
    return Table([str(c) for c in frame.columns], rows, list(frame.index))


def instance_from_frames(*, functions, vendors=None, offers=None, resources=None, rules=None,
                         settings=None, **fields: Any) -> Instance:
    """Build an instance from DataFrames laid out like the workbook's sheets.

    ``settings`` may be a DataFrame with ``field``/``value`` columns or a mapping; keyword
    arguments (``name=``, ``currency=``, ``budget={...}``) set top-level fields directly.
    ``rules`` may be a DataFrame (``rule``/``value``) or a mapping like the YAML's ``rules``.
    """
    frames = {"functions": functions, "vendors": vendors, "offers": offers, "resources": resources}
    extra_tables = {k: fields.pop(k) for k in list(fields) if k in table_fields()}
    frames.update(extra_tables)
    tables = {k: _frame_table(v) for k, v in frames.items() if v is not None}
    if isinstance(rules, BaseModel):
        rules = rules.model_dump(mode="json")
    if isinstance(rules, Mapping):
        rules = _frame_of(rules_table(dict(rules)))
    if rules is not None:
        tables[RULES] = _frame_table(rules)
    if isinstance(settings, Mapping):
        fields = {**settings, **fields}
        settings = None
    if settings is not None:
        tables[SETTINGS] = _frame_table(settings)
    if fields:
        flat = _flatten_settings(fields)
        t = tables.setdefault(SETTINGS, Table(list(SETTINGS_COLUMNS)))
        fcol, vcol = t.columns.index("field"), t.columns.index("value")
        for name, value in flat.items():
            row = [None] * len(t.columns)
            row[fcol], row[vcol] = name, value
            t.rows.append(row)
            t.keys.append(name)
    return instance_from_tables(tables, FrameLocator(tables))


def _flatten_settings(fields: Mapping[str, Any], prefix: str = "") -> dict[str, Any]:
    out = {}
    for k, v in fields.items():
        if isinstance(v, BaseModel):
            v = v.model_dump(mode="json")
        if isinstance(v, Mapping) and (prefix + k) in {".".join(c.path[:-1]) for c in settings_rows()}:
            out.update(_flatten_settings(v, prefix + k + "."))
        elif isinstance(v, (list, dict)):
            out[prefix + k] = json.dumps(v)
        else:
            out[prefix + k] = v
    return out


def _frame_of(table: Table):
    import pandas as pd

    return pd.DataFrame(table.rows, columns=table.columns, dtype=object)


def instance_to_frames(instance: Instance) -> dict:
    """The instance's tables as DataFrames: settings, resources, functions, vendors, offers, rules."""
    import pandas as pd

    out = {}
    for name, t in instance_to_tables(instance).items():
        frame = pd.DataFrame(t.rows, columns=t.columns)
        out[name] = frame.astype(object).where(frame.notna(), None) if name in (SETTINGS, RULES) else frame
    return out
