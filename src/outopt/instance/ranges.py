"""Ranges on amounts: what an instance says about how sure its figures are (issue 17).

An amount of an offer (``cost``, ``value``, ``transition``), of an in-house option (``cost``,
``value``) or of a vendor (``retainer``, ``onboarding``) may be written as a range
``{low, mode, high}`` (a triangular law) instead of a number, and a vendor may carry a
``price_shift: {low, high}``: one percent shift, uniform, common to all its offers' costs.

The schema keeps plain numbers, so every part of outopt that reads amounts reads the planning
value: when an :class:`~outopt.instance.schema.Instance` is validated, each range is replaced by its
``mode`` and kept aside in a record on the instance, keyed by what it belongs to (the offer's
function and vendor, the function, the vendor), so that a copy with fewer offers keeps the right
ranges. A range counts only while its mode is the amount's value: a copy whose amount was changed
has a plain number there. Dumping the instance (``model_dump``: YAML, JSON, workbooks, CSV folders)
writes the ranges back, so files convert without losing them. :func:`ranges` lists them by place.
A workbook or CSV cell holds a range as JSON text (``{"low": 90000, "mode": 100000, "high": 130000}``).
"""

from __future__ import annotations

import json
from typing import Any

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    TypeAdapter,
    ValidationError,
    model_validator,
)
from pydantic_core import PydanticCustomError

from outopt.instance.numerics import MAX_AMOUNT

RANGED: dict[str, tuple[str, ...]] = {
    "offers": ("cost", "value", "transition"),
    "inhouse": ("cost", "value"),
    "vendors": ("retainer", "onboarding"),
}
"""The amounts that may be ranges, by table (``inhouse``: a function's in-house option)."""

MONEY = {("offers", "cost"), ("offers", "transition"), ("inhouse", "cost"), ("vendors", "retainer"),
         ("vendors", "onboarding")}
"""The ranged amounts that cannot be negative (the others, values, may)."""

Key = tuple
"""What a range belongs to: ``("offers", function, vendor, field)``, ``("inhouse", function, field)``
or ``("vendors", vendor, field)``."""


class Range(BaseModel):
    """A triangular law on an amount: from ``low`` to ``high``, most likely ``mode`` (the planning value)."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    low: float = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Least value (the law's left end).")
    mode: float = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT,
                        description="Most likely value: the planning value every command but `risk` uses.")
    high: float = Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT, description="Largest value (the law's right end).")

    @model_validator(mode="after")
    def _ordered(self):
        if not self.low <= self.mode <= self.high:
            raise ValueError(f"a range needs low <= mode <= high (got low {self.low:g}, mode {self.mode:g}, "
                             f"high {self.high:g})")
        return self

    @property
    def width(self) -> float:
        return self.high - self.low


class PriceShift(BaseModel):
    """A percent shift common to all of a vendor's offer costs, uniform between ``low`` and ``high``."""

    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)

    low: float = Field(ge=-100, le=1000, description="Least shift in percent (-100 to 1000).")
    high: float = Field(ge=-100, le=1000, description="Largest shift in percent (-100 to 1000).")

    @model_validator(mode="after")
    def _ordered(self):
        if self.low > self.high:
            raise ValueError(f"a price shift needs low <= high (got low {self.low:g}, high {self.high:g})")
        return self


_RANGE = TypeAdapter(Range)


# --- reading: ranges out of the data, modes in ------------------------------------------------


def _as_range(value: Any) -> Any:
    """A mapping, or its JSON text as a workbook or CSV cell holds it; anything else is not a range."""
    if isinstance(value, dict):
        return value
    if isinstance(value, str) and value.lstrip().startswith("{"):
        try:
            parsed = json.loads(value)
        except json.JSONDecodeError:
            return None
        return parsed if isinstance(parsed, dict) else None
    return None


def _line_error(loc: tuple, kind: str, message: str, value: Any, ctx: dict | None = None) -> dict:
    """A line of a ValidationError with pydantic's own type, message and context (the bounds that
    :mod:`outopt.instance.validation` turns into its range message)."""
    template = message.replace("{", "{{").replace("}", "}}")
    return {"type": PydanticCustomError(kind, template, ctx or None), "loc": loc, "input": value}


def _take(row: Any, names: tuple[str, ...], money: set[str], loc: tuple, found: dict, errors: list) -> Any:
    """The row with each ranged field replaced by its mode (a copy when any is a range)."""
    if not isinstance(row, dict):
        return row
    copied = None
    for name in names:
        raw = _as_range(row.get(name))
        if raw is None:
            continue
        copied = copied if copied is not None else dict(row)
        try:
            rng = _RANGE.validate_python(raw)
        except ValidationError as err:
            for e in err.errors(include_url=False):
                errors.append(_line_error(loc + (name, *e["loc"]), e["type"], e["msg"], e.get("input"), e.get("ctx")))
            copied[name] = 0.0
            continue
        if name in money and rng.low < 0:
            errors.append(_line_error(loc + (name, "low"), "greater_than_equal",
                                      "Input should be greater than or equal to 0", rng.low))
            copied[name] = 0.0
            continue
        found[loc + (name,)] = rng
        copied[name] = rng.mode
    return row if copied is None else copied


def _candidate(row: Any, names: tuple[str, ...]) -> bool:
    """Whether a row may hold a range (a mapping or text where a number goes); most rows hold numbers."""
    if row.__class__ is not dict:
        return False
    for name in names:
        cls = row.get(name).__class__
        if cls is dict or cls is str:
            return True
    return False


def _any_candidate(rows: list, names: tuple[str, ...], inner: str | None) -> bool:
    """Whether any row may hold a range: one quick pass per field (300,000 offers in about 50 ms)."""
    try:
        holders = rows if inner is None else [h for h in (r.get(inner) for r in rows) if h.__class__ is dict]
        for name in names:
            kinds = {h.get(name).__class__ for h in holders}
            if dict in kinds or str in kinds:
                return True
    except AttributeError:  # a row that is not a mapping: the row-by-row pass skips it
        return True
    return False


def split_ranges(data: Any) -> tuple[Any, dict[tuple, Range], list[dict]]:
    """Instance data with every range replaced by its mode (copies of what changed; the caller's data is
    left as it is), the ranges by index place (``("offers", 3, "cost")``) and the problems found in them."""
    found: dict[tuple, Range] = {}
    errors: list[dict] = []
    if not isinstance(data, dict):
        return data, found, errors
    out = data
    for table, inner in (("offers", None), ("vendors", None), ("functions", "inhouse")):
        rows = data.get(table)
        if not isinstance(rows, list):
            continue
        names = RANGED["inhouse" if inner else table]
        money = {n for n in names if ("inhouse" if inner else table, n) in MONEY}
        if not _any_candidate(rows, names, inner):
            continue
        new_rows = None
        for i, row in enumerate(rows):
            holder = row.get(inner) if inner is not None and row.__class__ is dict else row
            if not _candidate(holder, names):
                continue
            if inner is None:
                new = _take(row, names, money, (table, i), found, errors)
            else:
                part = _take(holder, names, money, (table, i, inner), found, errors)
                new = row if part is holder else {**row, inner: part}
            if new is not row:
                new_rows = new_rows if new_rows is not None else list(rows)
                new_rows[i] = new
        if new_rows is not None:
            out = {**out, table: new_rows}
    return out, found, errors


def _keys(instance, by_index: dict[tuple, Range]) -> dict[Key, Range]:
    """Ranges by index place -> by what they belong to, on the validated instance."""
    out: dict[Key, Range] = {}
    for place, rng in by_index.items():
        if place[0] == "offers":
            o = instance.offers[place[1]]
            out[("offers", o.function, o.vendor, place[2])] = rng
        elif place[0] == "functions":
            out[("inhouse", instance.functions[place[1]].id, place[3])] = rng
        else:
            out[("vendors", instance.vendors[place[1]].id, place[2])] = rng
    return out


def read_ranges(cls, data: Any, handler) -> Any:
    """The Instance validator's body: ranges out, modes in, the instance validated, the ranges kept on it.

    Problems in ranges are reported with the others, at their place (``offers[3].cost.mode``)."""
    data, found, errors = split_ranges(data)
    try:
        instance = handler(data)
    except ValidationError as err:
        if not errors:
            raise
        others = [_line_error(tuple(e["loc"]), e["type"], e["msg"], e.get("input"), e.get("ctx"))
                  for e in err.errors(include_url=False)]
        raise ValidationError.from_exception_data(err.title, errors + others) from None
    if errors:
        raise ValidationError.from_exception_data(cls.__name__, errors)
    if found:
        instance._ranges = _keys(instance, found)
    return instance


# --- where the ranges are now ----------------------------------------------------------------


def range_items(instance) -> list[tuple[str, int, str, Range]]:
    """Every range of the instance as (table, row index, field, range) in file order: table ``offers``,
    ``inhouse`` (row: the function's index) or ``vendors``. A range whose mode is no longer the amount's
    value (a changed copy of the instance) is left out."""
    record = instance._ranges
    if not record:
        return []
    out = []
    tables = (("offers", instance.offers, lambda o: ("offers", o.function, o.vendor), lambda o: o),
              ("inhouse", instance.functions, lambda f: ("inhouse", f.id), lambda f: f.inhouse),
              ("vendors", instance.vendors, lambda v: ("vendors", v.id), lambda v: v))
    for table, rows, key, holder in tables:
        names = RANGED[table]
        for i, row in enumerate(rows):
            prefix = key(row)
            for name in names:
                rng = record.get(prefix + (name,))
                if rng is not None and getattr(holder(row), name) == rng.mode:
                    out.append((table, i, name, rng))
    return out


def place_text(table: str, row: int, field: str) -> str:
    """The place of an amount in the file: ``offers[3].cost``, ``functions[0].inhouse.cost``, ``vendors[1].retainer``."""
    return f"functions[{row}].inhouse.{field}" if table == "inhouse" else f"{table}[{row}].{field}"


def ranges(instance) -> dict[str, Range]:
    """Every range of the instance by its place in the file (``offers[3].cost``), in file order; a range
    whose mode is no longer the amount's value (a changed copy of the instance) is left out."""
    return {place_text(t, i, f): rng for t, i, f, rng in range_items(instance)}


def write_ranges(instance, dumped: Any) -> Any:
    """Dumped instance data with the ranges put back in place of their modes (the serializer's body)."""
    if not instance._ranges or not isinstance(dumped, dict):
        return dumped
    found = ranges(instance)
    for place, rng in found.items():
        node: Any = dumped
        parts = place.replace("]", "").replace("[", ".").split(".")
        try:
            for part in parts[:-1]:
                node = node[int(part)] if part.isdigit() else node[part]
        except (KeyError, IndexError, TypeError):
            continue  # left out of this dump (include/exclude)
        if isinstance(node, dict):
            node[parts[-1]] = {"low": rng.low, "mode": rng.mode, "high": rng.high}
    return dumped


# --- the JSON Schema: a number or a range ---------------------------------------------------------


def ranged_schema(*names: str):
    """A ``json_schema_extra`` that lets the named number fields be ranges too (``outopt schema``)."""

    def extra(schema: dict, cls) -> None:
        for name in names:
            prop = schema.get("properties", {}).get(name)
            if prop is None:
                continue
            number = {k: v for k, v in prop.items() if k not in ("title", "description", "default")}
            shown = {k: v for k, v in prop.items() if k in ("title", "description", "default")}
            shown["description"] = (shown.get("description", "") + " A number, or a range {low, mode, high} "
                                    "(triangular; mode = the planning value).").strip()
            schema["properties"][name] = {**shown, "anyOf": [number, _RANGE.json_schema()]}

    return extra
