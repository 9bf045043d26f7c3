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
from dataclasses import dataclass, field, replace
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
    """How a field is laid out in a table: model, dict (column per key), dict-model (columns per fixed
    key and field: ``soft.capacity.penalty``), items (a list of models: a table of its own inside a
    table, ``discounts``), list, scalar or json."""
    base, _ = _unwrap(ann)
    if _is_model(base):
        return "model"
    origin, args = typing.get_origin(base), typing.get_args(base)
    if origin is dict and len(args) == 2 and _is_scalar(args[1]):
        return "dict"
    if origin is dict and len(args) == 2 and typing.get_origin(args[0]) is typing.Literal and _is_model(
            _unwrap(args[1])[0]):
        return "dict-model"
    if origin is list and args and _is_scalar(args[0]):
        return "list"
    if origin is list and args and _is_model(_unwrap(args[0])[0]):
        return "items"
    if _is_scalar(base):
        return "scalar"
    return "json"


def _dict_model_parts(ann: Any) -> tuple[list[str], type[BaseModel]]:
    """The fixed keys and the value model of a ``dict-model`` field (``Literal[...] -> Soft``)."""
    key, value = typing.get_args(_unwrap(ann)[0])
    return list(typing.get_args(key)), _unwrap(value)[0]


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
    """The model of one row of a table (``offers`` -> Offer, ``discounts`` -> DiscountTier)."""
    if name not in Instance.model_fields:
        return child_tables()[name].model
    return list_item_model(Instance.model_fields[name].annotation)


@dataclass(frozen=True)
class Child:
    """A table of items that belong to rows of another table: a vendor's ``discounts`` tiers and
    ``bundles``, one row per item, the owner named in the first column (``vendor``)."""

    name: str  # the table, named after the field: discounts
    parent: str  # the owners' table: vendors
    field: str  # the owners' field that holds the items: discounts
    model: type[BaseModel]  # one item: DiscountTier
    ref: str  # the first column, the owner's id: vendor


def child_tables() -> dict[str, Child]:
    """Tables of the lists of models inside table rows (``vendors[].discounts`` -> ``discounts``)."""
    out = {}
    for parent in table_fields():
        for name, info in table_model(parent).model_fields.items():
            if kind(info.annotation) == "items":
                out[name] = Child(name, parent, name, _unwrap(typing.get_args(_unwrap(info.annotation)[0])[0])[0],
                                  parent[:-1])
    return out


def sheet_names() -> list[str]:
    """Every table of the format, in the order a workbook shows them (a table's child tables after it)."""
    children = child_tables()
    out = [SETTINGS]
    for name in table_fields():
        out += [name] + [c.name for c in children.values() if c.parent == name]
    return out + [RULES]


@dataclass(frozen=True)
class Column:
    """One column of a table: its header, the field path it fills and the field's schema."""

    name: str
    path: tuple[str, ...]
    info: FieldInfo
    layout: str  # scalar | list | json | dict-key
    part_of: tuple[str, ...] | None = None  # a column of a dict-model field (soft.capacity.penalty): that field

    @property
    def description(self) -> str:
        """The field's description and, when it has a plain default, the default (a blank cell)."""
        text = self.info.description or ""
        if self.part_of is not None:  # soft.capacity.penalty: "Soft capacity: <penalty's description>"
            text = f"{' '.join(self.path[len(self.part_of) - 1:-1]).capitalize()}: {text}"
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


def model_columns(model: type[BaseModel], prefix: tuple[str, ...] = (), keys: Mapping[tuple, list[str]] | None = None,
                  legacy: bool = False) -> list[Column]:
    """The columns of a model flattened into one row; ``keys`` gives the keys of each dict field. A list
    of models has a table of its own (:func:`child_tables`) and a dict-model field a column per key and
    field; with ``legacy``, each of them is also one JSON column (how older files wrote them)."""
    cols: list[Column] = []
    for name, info in model.model_fields.items():
        path = (*prefix, name)
        k = kind(info.annotation)
        if k == "model":
            cols.extend(model_columns(_unwrap(info.annotation)[0], path, keys, legacy))
        elif k == "dict":
            for key in (keys or {}).get(path, []):
                cols.append(Column(".".join(path) + "." + key, (*path, key), info, "dict-key"))
        elif k == "dict-model":
            cols.extend(_marker_columns(path, info, legacy))
        elif k == "items":
            if legacy:
                cols.append(Column(".".join(path), path, info, "json"))
        else:
            cols.append(Column(".".join(path), path, info, k))
    return cols


def _marker_columns(path: tuple[str, ...], info: FieldInfo, legacy: bool) -> list[Column]:
    """A dict-model field (``soft``: limit -> Soft) as a column per key and field (``soft.capacity.penalty``);
    with ``legacy``, also the whole field as one JSON column."""
    names, value = _dict_model_parts(info.annotation)
    cols = [replace(c, part_of=path) for key in names for c in model_columns(value, (*path, key))]
    return cols + ([Column(".".join(path), path, info, "json")] if legacy else [])


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


def settings_rows(model: type[BaseModel] | None = None, prefix: tuple[str, ...] = (), legacy: bool = False,
                  tables: tuple[str, ...] = ()) -> list[Column]:
    """The settings table's rows: every top-level field that is neither a table (``tables``: more fields
    that are) nor the rules (a soft marker one row per field: ``budget.soft.transition.priority``; with
    ``legacy``, also the whole marker as JSON in one row, ``budget.soft``, as older files wrote it)."""
    model = model or Instance
    skip = set(table_fields(model)) | {RULES, *tables} if not prefix else set()
    cols = []
    for name, info in model.model_fields.items():
        if name in skip:
            continue
        path = (*prefix, name)
        k = kind(info.annotation)
        if k == "model":
            cols.extend(settings_rows(_unwrap(info.annotation)[0], path, legacy))
        elif k == "dict-model":
            cols.extend(_marker_columns(path, info, legacy))
        else:
            cols.append(Column(".".join(path), path, info, "json" if k in ("dict", "items") else k))
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


def soft_rule_names() -> list[str]:
    """The scalar rules that can be soft (``rules.soft`` keys): their rows carry soft.* columns."""
    info = rules_model().model_fields["soft"]
    return _dict_model_parts(info.annotation)[0]


def _rule_columns(name: str, layout: str, item_model: type[BaseModel] | None) -> set[str]:
    """The fields of the rules table's extra columns a row of rule ``name`` fills: an item's fields; a
    group's reason and soft marker; a scalar rule's soft marker."""
    if item_model is not None:
        return set(item_model.model_fields)
    if layout == "groups":
        return {"reason", "soft"}
    return {"soft"} if name in soft_rule_names() else set()


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
    return next((c for c in model_columns(model, legacy=True) if c.name == header), None)


def _given_twice(col: Column, given: list[Column]) -> str | None:
    """A problem when a field is given both as one JSON cell (how older files wrote soft markers) and in
    its own columns (``soft`` and ``soft.capacity.penalty``); None otherwise."""
    for other in given:
        json_col, parts = (col, other) if col.part_of is None else (other, col)
        if json_col.layout == "json" and parts.part_of == json_col.path:
            return (f"'{json_col.name}' is given as JSON and in the column '{parts.name}'; give it in its own "
                    "columns only")
    return None


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
        self.soft_marked: set[str] = set()  # scalar rules marked soft in their rows' soft.* columns
        self.children_at: dict[tuple, Any] = {}
        self.children = child_tables()  # (owners' table, owner index, field, item index) -> row key
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
        for child in self.children.values():
            if child.name in self.tables:
                self.read_children(child, self.tables[child.name], data)
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

    def read_settings(self, table: Table, data: dict, name: str = SETTINGS,
                      model: type[BaseModel] | None = None, tables: tuple[str, ...] = ()) -> None:
        """A settings table (``field``/``value``) into ``data``: the instance's, or another model's top-level
        fields but ``tables`` (a company's ``company`` sheet)."""
        self.cols[name] = list(table.columns)
        fields = {c.name: c for c in settings_rows(model, legacy=True, tables=tables)}
        usable = self.header_problems(name, table, lambda h: h in SETTINGS_COLUMNS + ["description"])
        at = {h: j for j, h in usable.items()}
        if "field" not in at or "value" not in at:
            self.problem(self.loc.table(name), "needs the columns 'field' and 'value'")
            return
        for key, row in zip(table.keys, table.rows):
            field_, raw = row[at["field"]], row[at["value"]]
            where = self.loc.cell(name, key, at["field"])
            if is_blank(field_):
                if not is_blank(raw):
                    self.problem(where, "a value with no field name")
                continue
            field_ = str(field_).strip()
            col = fields.get(field_)
            if col is None:
                self.problem(where, _unknown("setting", field_, [c.name for c in settings_rows(model, tables=tables)]))
                continue
            if field_ in self.settings_at:
                self.problem(where, f"setting '{field_}' appears twice")
                continue
            self.settings_at[field_] = key
            if is_blank(raw):
                continue
            twin = _given_twice(col, [c for c in fields.values() if not is_blank(_get(data, c.path))])
            if twin is not None:
                self.problem(where, twin)
                continue
            _set(data, col.path, self.value(name, key, at["value"], raw, col.layout, col.info))

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
            given: list[Column] = []
            for j, col in resolved.items():
                raw = row[j]
                if is_blank(raw):
                    continue
                twin = _given_twice(col, given)
                if twin is not None:
                    self.problem(self.loc.cell(name, key, j), twin)
                    continue
                given.append(col)
                _set(item, col.path, self.value(name, key, j, raw, col.layout, col.info))
            items.append(item)
            keys.append(key)
        self.rows[name] = keys
        return items

    def read_children(self, child: Child, table: Table, data: dict) -> None:
        """A child table's rows, each into the list ``child.field`` of the owner its first column names,
        in the order of the rows."""
        model = child.model
        usable = self.header_problems(child.name, table, lambda h: h == child.ref or _resolve(h, model, []) is not None)
        at = {h: j for j, h in usable.items()}
        self.cols[child.name] = [str(c).strip() if not is_blank(c) else "" for c in table.columns]
        owners = data.get(child.parent, [])
        if child.ref not in at:
            if any(not all(is_blank(v) for v in row) for row in table.rows):
                self.problem(self.loc.table(child.name), f"needs the column '{child.ref}' (the {child.ref} id of each row)")
            return
        index = {}
        for i, owner in enumerate(owners):
            index.setdefault(str(owner.get("id", "")).strip(), i)
        inline = {i for i, owner in enumerate(owners) if child.field in owner}  # a JSON cell of an older file
        cols = {j: _resolve(h, model, []) for j, h in usable.items() if h != child.ref}
        for key, row in zip(table.keys, table.rows):
            if all(is_blank(v) for v in row):
                continue
            ref = row[at[child.ref]]
            where = self.loc.cell(child.name, key, at[child.ref])
            if is_blank(ref):
                self.problem(where, f"a row with no {child.ref}; name the {child.ref} these terms belong to")
                continue
            ref = str(_plain(ref)).strip()
            if ref not in index:
                self.problem(where, f"{child.ref} '{ref}' is not in {child.parent}")
                continue
            i = index[ref]
            if i in inline:
                self.problem(where, f"{child.ref} '{ref}' has {child.field} in the {child.parent} table's "
                                    f"'{child.field}' column too; give them in the {child.name} table only")
                continue
            item: dict = {}
            for j, col in cols.items():
                if not is_blank(row[j]):
                    _set(item, col.path, self.value(child.name, key, j, row[j], col.layout, col.info))
            items = owners[i].setdefault(child.field, [])
            self.children_at[(child.parent, i, child.field, len(items))] = key
            items.append(item)

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
        markers: dict[str, dict] = {}  # soft markers of scalar rules from their rows' soft.* columns
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
            own = _rule_columns(name, layout, item_model)
            for h, j in at.items():
                applies = h == "rule" or (h == "value" and layout != "items") or (h in extra and extra[h].path[0] in own)
                if not applies and not is_blank(row[j]):
                    self.problem(self.loc.cell(RULES, key, j), f"column '{h}' does not apply to rule '{name}'")
            item: dict = {}  # the row's own columns (an item's fields, a group's reason and soft marker)
            for h, j in at.items():
                if h in extra and not is_blank(row[j]) and extra[h].path[0] in own:
                    c = extra[h]
                    _set(item, c.path, self.value(RULES, key, j, row[j], c.layout, c.info))
            if layout == "items":
                self.rules_at[(name, len(out.setdefault(name, [])))] = key
                out[name].append(item)
            elif layout in ("groups", "list-items"):
                value = self.value(RULES, key, vcol, raw, "list" if layout == "groups" else "scalar", None)
                if item and isinstance(value, list):  # a group with a reason or a soft marker
                    value = {"functions": value, **item}
                self.rules_at[(name, len(out.setdefault(name, [])))] = key
                out[name].append(raw if value is UNREAD else value)  # kept in place: later items keep their rows
            else:
                if name in out or name in self.rule_one:
                    self.problem(self.loc.cell(RULES, key, at["rule"]), f"rule '{name}' appears twice")
                    continue
                self.rule_one[name] = key
                if item.get("soft"):
                    markers[name] = item["soft"]
                if not is_blank(raw):
                    _set(out, (name,), self.value(RULES, key, vcol, raw, "json" if layout == "dict-model" else layout, info))
        self._soft_markers(out, markers)
        return out

    def _soft_markers(self, rules: dict, markers: dict[str, dict]) -> None:
        """The soft markers of scalar rules (``max_vendors`` rows' soft.* columns) into ``rules.soft``; a
        JSON ``soft`` row (older files) still reads, but not for a rule whose row marks it too."""
        if not markers:
            return
        soft = rules.setdefault("soft", {})
        if not isinstance(soft, dict):
            return  # the JSON row's own problem is reported by validation
        for name, marker in markers.items():
            if name in soft:
                self.problem(self.loc.cell(RULES, self.rule_one[name], self.cols[RULES].index("soft.penalty")
                                           if "soft.penalty" in self.cols[RULES] else 0),
                             f"rule '{name}' is marked soft both on its row and in the 'soft' row; keep one")
                continue
            soft[name] = marker
            self.soft_marked.add(name)

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
            child = self._child_place(top, i, rest)
            if child is not None:
                return child
            j = self._column(self.cols[top], rest)
            return self.loc.row(top, keys[i]) if j is None else self.loc.cell(top, keys[i], j)
        if top == RULES and RULES in self.cols:
            r = re.match(r"^(\w+)(?:\[(\d+)\])?\.?(.*)$", rest)
            if not r:
                return self.loc.table(RULES)
            name, idx, sub = r.group(1), r.group(2), r.group(3)
            marked = sub.split(".")[0]
            if name == "soft" and idx is None and marked in self.soft_marked:
                # rules.soft.max_changes.penalty: the soft.* columns of the max_changes row
                name, sub = marked, "soft" + sub[len(marked):]
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
            cols = self.cols[SETTINGS]
            for name in sorted(self.settings_at, key=len, reverse=True):
                if path == name or path.startswith(name + ".") or path.startswith(name + "["):
                    return self.loc.cell(SETTINGS, self.settings_at[name], cols.index("value"))
            below = [name for name in self.settings_at if name.startswith(path + ".")]  # budget.soft.transition
            if below:
                return self.loc.cell(SETTINGS, self.settings_at[below[0]], cols.index("value"))
            return f"{self.loc.table(SETTINGS)}: {path}" if top in Instance.model_fields else where
        return self.loc.table(top) if top in sheet_names() else where

    def _child_place(self, table: str, i: int, rest: str) -> str | None:
        """``vendors[2].discounts[1].percent`` -> the cell of a child table's row (None: not in one)."""
        m = re.match(r"^(\w+)(?:\[(\d+)\])?\.?(.*)$", rest)
        if not m or m.group(1) not in self.children or self.children[m.group(1)].parent != table:
            return None
        name = m.group(1)
        k = 0 if m.group(2) is None else int(m.group(2))
        key = self.children_at.get((table, i, name, k))
        if key is None:
            return None
        j = self._column(self.cols[name], m.group(3)) if m.group(2) is not None else None
        return self.loc.row(name, key) if j is None else self.loc.cell(name, key, j)

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
    return instance_and_places(tables, locator)[0]


def instance_and_places(tables: Mapping[str, Table],
                        locator: Locator | None = None) -> tuple[Instance, Callable[[str], str]]:
    """:func:`instance_from_tables`, and the function that maps a place in the instance
    (``offers[12].vendor``) to the tables' coordinates, for checks made later (a company's)."""
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
    return instance, reader.place


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
    children = child_tables()
    for name in table_fields():
        model = table_model(name)
        items = dumped[name]
        keys = {path: _keys(items, path) for path in dict_fields(model)}
        # a soft marker's columns only where some row has one
        cols = [c for c in model_columns(model, keys=keys)
                if c.part_of is None or any(_get(item, c.path) is not None for item in items)]
        t = Table([c.name for c in cols])
        for item in items:
            t.rows.append([to_cell(_get(item, c.path), c.layout if c.layout != "dict-key" else "scalar", c.info)
                           for c in cols])
        tables[name] = t
        for child in (c for c in children.values() if c.parent == name):
            tables[child.name] = child_table(child, items)
    tables[RULES] = rules_table(dumped[RULES])
    for t in tables.values():
        t.keys = list(range(2, len(t.rows) + 2))
    return tables


def child_table(child: Child, owners: list[dict]) -> Table:
    """The rows of a child table: every item of every owner, the owner's id first."""
    cols = model_columns(child.model)
    t = Table([child.ref] + [c.name for c in cols])
    for owner in owners:
        for item in owner.get(child.field) or []:
            t.rows.append([owner["id"]] + [to_cell(_get(item, c.path), c.layout, c.info) for c in cols])
    return t


def _keys(items: list[dict], path: tuple[str, ...]) -> list[str]:
    out: list[str] = []
    for item in items:
        for k in _get(item, path) or {}:
            if k not in out:
                out.append(k)
    return out


def rules_table(rules: dict) -> Table:
    """The rules as rows: a rule model's fields, a group's reason and a rule's soft marker in columns."""
    extra = rule_item_columns()
    t = Table(RULE_COLUMNS + [c.name for c in extra])
    blank = [None] * len(extra)
    soft = rules.get("soft") or {}

    def columns(item: dict, own) -> list:
        return [to_cell(_get(item, c.path), c.layout, c.info) if c.path[0] in own else None for c in extra]

    for name, (info, layout, item_model) in rule_kinds().items():
        value = rules.get(name)
        if layout == "dict-model" or (value is None and name not in soft):
            continue  # soft markers go on the rows of the rules they mark
        if layout == "items":
            for item in value:
                t.rows.append([name, None, *columns(item, item_model.model_fields)])
        elif layout == "groups":
            for group in value:
                if isinstance(group, dict) and (group.get("reason") or group.get("soft")):
                    t.rows.append([name, to_cell(group["functions"], "list"), *columns(group, ("reason", "soft"))])
                else:  # a plain list; a mapping with neither stays a JSON mapping, to read back the same
                    t.rows.append([name, to_cell(group, "list"), *blank])
        elif layout == "list-items":
            for item in value:
                t.rows.append([name, item, *blank])
        else:
            cell = to_cell(value, layout, info)
            if cell is not None or name in soft:
                t.rows.append([name, cell, *columns({"soft": soft.get(name)}, ("soft",))])
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
    extra_tables = {k: fields.pop(k) for k in list(fields) if k in sheet_names()[1:-1]}
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
