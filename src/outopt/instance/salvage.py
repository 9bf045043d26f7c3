"""What parsed of an invalid file, so the cross-table checks run on it too and every problem shows at once.

A file with format problems (a wrong type, a missing or unknown field) used to show only those: once they
were fixed, the next run showed the reference problems (``offers[0].vendor: vendor 'alpah' is not in
vendors``), one round at a time. Here every row that validates is kept as it is; a row that does not is
kept with its bad fields set aside (back to their defaults, a required one given a stand-in), or, when that
fails too, replaced by a stand-in row that keeps its ids. The cross-table checks then run on the whole, and
:func:`salvaged_problems` drops what they say about the places set aside and about stand-ins, which the
format problems already name.
"""

from __future__ import annotations

import copy
from typing import Annotated, Any, get_args

from pydantic import TypeAdapter, ValidationError

from outopt.errors import Problem
from outopt.instance.schema import INHOUSE, Budget, Instance, Rules

STAND_IN = "\x00"
"""The id of a stand-in (a NUL: YAML and workbooks cannot hold it, and an id of JSON's ``\\u0000`` is no
planner's); no problem naming it is reported."""

ROW_STAND_INS: dict[str, Any] = {
    "resources": {"id": STAND_IN, "capacity": 0},
    "functions": {"id": STAND_IN, "inhouse": {"cost": 0}},  # an in-house option: no rule about it can fail
    "vendors": {"id": STAND_IN},
    "offers": {"function": STAND_IN, "vendor": STAND_IN},
    "vendor_groups": {"id": STAND_IN, "vendors": [STAND_IN], "min_count": 0},
    "locks": {"function": STAND_IN, "provider": INHOUSE},
    "forbid": {"functions": [STAND_IN], "vendors": [STAND_IN]},
    "requires": {"function": STAND_IN, "requires": STAND_IN},
    "exclusive": {"functions": [STAND_IN, STAND_IN]},
    "separate": [STAND_IN, STAND_IN],
    "together": [STAND_IN, STAND_IN],
}
"""A valid row of each table, for a row that cannot be kept; its ids (``KEPT``) are copied from the row."""

KEPT = ("id", "function", "vendor", "provider", "requires")
"""Fields a stand-in row takes from the row it replaces, when they are usable ids: other rows refer to
them, and without them a bad function row would make every offer of it 'not in functions'."""

FIELD_STAND_INS: dict[str, Any] = {
    "id": STAND_IN, "function": STAND_IN, "vendor": STAND_IN, "requires": STAND_IN, "provider": INHOUSE,
    "functions": [STAND_IN, STAND_IN], "vendors": [STAND_IN], "cost": 0, "capacity": 0, "price": 0,
    "threshold": 0, "percent": 100,
}
"""A value for a required field that is missing or was set aside, within a row."""

TABLES = ("resources", "functions", "vendors", "offers", "vendor_groups")
RULE_LISTS = ("separate", "together", "locks", "forbid", "requires", "exclusive")


def _is_tag(part: Any) -> bool:
    return isinstance(part, str) and part.startswith("<") and part.endswith(">")


def _adapter(model, name: str) -> TypeAdapter:
    """A validator of one field of a model, with the field's constraints."""
    info = model.model_fields[name]
    return TypeAdapter(Annotated[(info.annotation, *info.metadata)] if info.metadata else info.annotation)


def _item_adapter(model, name: str) -> TypeAdapter:
    """A validator of one item of a list field."""
    (item,) = get_args(model.model_fields[name].annotation)
    return TypeAdapter(item)


def _usable_id(value: Any) -> bool:
    return isinstance(value, str) and 0 < len(value.strip()) <= 200 and STAND_IN not in value


def _set_aside(data: dict, path: list, kind: str) -> bool:
    """Set aside the value at ``path`` in a row: drop it (its default applies), or put a stand-in in a
    required field. False when the path is not a field of a mapping (then the whole row goes)."""
    if not path:
        return False
    if path[-1] == "[key]":  # a bad key of a mapping (``uses``): drop the entry
        path = path[:-1]
    parent = data
    for part in path[:-1]:
        try:
            parent = parent[part]
        except (KeyError, IndexError, TypeError):
            return False
    key = path[-1]
    if not isinstance(parent, dict) or not isinstance(key, str):
        return False
    if key in FIELD_STAND_INS and parent.get(key) == FIELD_STAND_INS[key]:
        return False  # the stand-in failed too
    if kind != "missing":
        parent.pop(key, None)  # its default applies; a required field comes back as missing
    elif key in FIELD_STAND_INS:
        parent[key] = copy.deepcopy(FIELD_STAND_INS[key])
    else:
        return False
    return True


def _row(adapter: TypeAdapter, row: Any, stand_in: Any) -> tuple[Any, list[list]]:
    """The row validated, and the paths within it that were set aside ([[]]: the whole row)."""
    try:
        return adapter.validate_python(row), []
    except ValidationError as err:
        errors = err.errors(include_url=False)
    if isinstance(row, dict):
        data, aside = copy.deepcopy(row), []
        for _ in range(3):
            paths = [([p for p in e["loc"] if not _is_tag(p)], e["type"]) for e in errors]
            aside += [p for p, _ in paths]
            if not all(_set_aside(data, p, kind) for p, kind in paths):
                break
            try:
                return adapter.validate_python(data), aside
            except ValidationError as err:
                errors = err.errors(include_url=False)
    whole = copy.deepcopy(stand_in)
    if isinstance(row, dict) and isinstance(whole, dict):
        whole.update({k: row[k].strip() for k in KEPT if k in whole and _usable_id(row.get(k))})
    return adapter.validate_python(whole), [[]]


def _rows(model, name: str, rows: Any, prefix: list, aside: list[list]) -> list:
    if rows is None:
        return []
    if not isinstance(rows, list):
        aside.append(prefix)
        return []
    adapter, out = _item_adapter(model, name), []
    for i, row in enumerate(rows):
        value, paths = _row(adapter, row, ROW_STAND_INS[name])
        out.append(value)
        aside += [prefix + [i] + p for p in paths]
    return out


def _fields(model, data: Any, skip: tuple[str, ...], prefix: list, aside: list[list]) -> dict:
    """The fields of a mapping other than ``skip`` that validate one by one (the others: defaults)."""
    out = {}
    if not isinstance(data, dict):
        aside.append(prefix)
        return out
    for name, value in data.items():
        if name in skip:
            continue
        if name not in model.model_fields:
            aside.append(prefix + [name])
            continue
        try:
            out[name] = _adapter(model, name).validate_python(value)
        except ValidationError:
            aside.append(prefix + [name])
    return out


def parsed_part(data: dict) -> tuple[Instance, list[list]]:
    """The instance of what parsed, unvalidated as a whole (``model_construct``), and the paths set aside."""
    aside: list[list] = []
    fields = _fields(Instance, data, TABLES + ("budget", "rules"), [], aside)
    fields.setdefault("name", "?")
    for name in TABLES:
        fields[name] = _rows(Instance, name, data.get(name), [name], aside)
    budget, paths = _row(TypeAdapter(Budget), data.get("budget") or {}, {})
    fields["budget"] = budget
    aside += [["budget"] + p for p in paths]
    rules = data.get("rules") or {}
    rule_fields = _fields(Rules, rules, RULE_LISTS, ["rules"], aside)
    for name in RULE_LISTS:
        rule_fields[name] = _rows(Rules, name, rules.get(name) if isinstance(rules, dict) else None,
                                  ["rules", name], aside)
    fields["rules"] = Rules.model_construct(**rule_fields)
    return Instance.model_construct(**fields), aside


def salvaged_problems(data: dict, checks, location) -> list[Problem]:
    """The cross-table problems of what parsed of ``data`` (see the module docstring); ``checks``: the
    cross-table checks, ``location``: renders a path as ``offers[3].vendor``."""
    instance, aside = parsed_part(data)
    places = {location(p) for p in aside}

    def under(where: str) -> bool:
        return any(where == p or where.startswith((p + ".", p + "[")) or not p for p in places)

    return [p for check in checks for p in check(instance)
            if STAND_IN not in p.message and STAND_IN not in p.where and not under(p.where)]
