"""Scenarios of an instance's amounts: drawn from its ranges, or read from a samples file.

A scenario gives every amount of the instance a value; most amounts keep their planning value in
every scenario, and only the ones that vary are stored or drawn. An amount is named by its place
in the file: ``offers[3].cost``, ``functions[0].inhouse.cost``, ``vendors[1].retainer`` (the
amounts that may be ranges, :data:`~outopt.instance.ranges.RANGED`).

Drawn scenarios (:func:`draw`) are independent per amount: a triangular law from the amount's
range, times ``1 + shift/100`` for an offer cost of a vendor with a ``price_shift`` (one uniform
shift per vendor and scenario, common to all its offer costs). Each amount's values come from their
own random stream, seeded by the seed and the amount's place, so any subset of amounts is drawn
alike: evaluating a plan draws only the amounts it touches, and a plan evaluated alone or with
others sees the same scenarios. ``stream`` 1 gives fresh scenarios for an out-of-sample check.

A samples file (:func:`read_samples`) is a CSV file with one column per amount (its place as the
header) and one row per scenario; a blank cell is the planning value. Its values are the amounts
as they are: a vendor's ``price_shift`` does not apply to them.
"""

from __future__ import annotations

import csv
import io
import math
import re
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import NamedTuple

import numpy as np

from outopt.errors import InputError, Problem
from outopt.instance.io.limits import read_bytes
from outopt.instance.numerics import MAX_AMOUNT
from outopt.instance.ranges import MONEY, RANGED, Range, place_text, range_items
from outopt.instance.schema import Instance

_PLACE = re.compile(r"^(?:offers\[(\d+)\]\.(cost|value|transition)|functions\[(\d+)\]\.inhouse\.(cost|value)"
                    r"|vendors\[(\d+)\]\.(retainer|onboarding))$")
_TABLE_CODE = {"offers": 0, "inhouse": 1, "vendors": 2}
_FIELD_CODE = {"cost": 0, "value": 1, "transition": 2, "retainer": 3, "onboarding": 4}
_SHIFT_CODE = 3


class Place(NamedTuple):
    """One amount of an instance: table (``offers``, ``inhouse``: a function's in-house option,
    ``vendors``), the row's index in ``offers``, ``functions`` or ``vendors``, and the field."""

    table: str
    row: int
    field: str

    def __str__(self) -> str:
        return place_text(self.table, self.row, self.field)

    @classmethod
    def parse(cls, text: str) -> Place | None:
        """The place a text names (``offers[3].cost``), or None when it names no amount that may vary."""
        m = _PLACE.match(text.strip())
        if m is None:
            return None
        if m.group(1) is not None:
            return cls("offers", int(m.group(1)), m.group(2))
        if m.group(3) is not None:
            return cls("inhouse", int(m.group(3)), m.group(4))
        return cls("vendors", int(m.group(5)), m.group(6))

    def planning(self, instance: Instance) -> float:
        """The amount's planning value (its mode when it is a range)."""
        if self.table == "offers":
            return getattr(instance.offers[self.row], self.field)
        if self.table == "inhouse":
            return getattr(instance.functions[self.row].inhouse, self.field)
        return getattr(instance.vendors[self.row], self.field)

    def problem(self, instance: Instance) -> str | None:
        """Why this place is not an amount of the instance (None: it is one)."""
        rows = {"offers": instance.offers, "inhouse": instance.functions, "vendors": instance.vendors}[self.table]
        if self.row >= len(rows):
            table = "functions" if self.table == "inhouse" else self.table
            return f"the instance has {len(rows)} {table} (indexes 0 to {len(rows) - 1})"
        if self.table == "inhouse" and instance.functions[self.row].inhouse is None:
            return f"function '{instance.functions[self.row].id}' has no in-house option"
        return None


class Samples:
    """``n`` scenarios of an instance's amounts; ``varying`` lists the amounts that may differ from
    their planning value (every other amount has its planning value in every scenario)."""

    instance: Instance
    n: int

    def varying(self) -> list[Place]:
        raise NotImplementedError

    def varies(self):
        """The varying amounts as a collection to test membership in (a Place is found in it)."""
        return set(self.varying())

    def columns(self, places: list[Place], minus: np.ndarray | None = None) -> np.ndarray:
        """The amounts' values, one row per scenario and one column per place (n x len(places)), less ``minus``
        (one value per place) when given."""
        raise NotImplementedError

    def deltas(self, places: list[Place], chunk: int = 256) -> Iterable[tuple[int, np.ndarray]]:
        """(first column, values minus planning values) for the places, ``chunk`` columns at a time."""
        for start in range(0, len(places), chunk):
            part = places[start:start + chunk]
            yield start, self.columns(part, np.array([p.planning(self.instance) for p in part]))

    def describe(self) -> str:
        raise NotImplementedError


class DrawnSamples(Samples):
    """Scenarios drawn from the instance's ranges and vendors' price shifts (see the module docstring)."""

    def __init__(self, instance: Instance, n: int, seed: int = 0, stream: int = 0):
        if n < 1:
            raise InputError([Problem("--samples", f"needs at least 1 sample (got {n})")])
        if seed < 0:
            raise InputError([Problem("--seed", f"must be 0 or more (got {seed})")])
        self.instance, self.n, self.seed, self.stream = instance, n, seed, stream
        # keyed by plain (table, row, field) tuples, which a Place equals and hashes as: quicker to make
        self.ranges: dict[tuple, Range] = {(t, i, f): r for t, i, f, r in range_items(instance)}
        self.shifts = {i: v.price_shift for i, v in enumerate(instance.vendors)
                       if v.price_shift is not None and v.price_shift.high > v.price_shift.low}
        self.shift_vendor = {}
        if self.shifts:
            index = {v.id: i for i, v in enumerate(instance.vendors)}
            self.shift_vendor = {i: index[o.vendor] for i, o in enumerate(instance.offers)
                                 if index[o.vendor] in self.shifts}
        self._factors: dict[int, np.ndarray] = {}
        moving = [p for p, r in self.ranges.items() if r.high > r.low]  # file order
        moving += [("offers", i, "cost") for i in self.shift_vendor]
        self._moving = dict.fromkeys(moving)

    def describe(self) -> str:
        return f"{self.n:,} samples drawn (seed {self.seed}{', fresh stream' if self.stream else ''})"

    def varying(self) -> list[Place]:
        return [Place(*p) for p in self._moving]

    def varies(self):
        return self._moving.keys()

    def _rng(self, *key: int) -> np.random.Generator:
        return np.random.default_rng([self.stream, self.seed, *key])

    def factor(self, vendor: int) -> np.ndarray:
        """``1 + shift/100`` of a vendor with a price shift, per scenario."""
        if vendor not in self._factors:
            s = self.shifts[vendor]
            self._factors[vendor] = 1.0 + self._rng(_SHIFT_CODE, vendor).uniform(s.low, s.high, self.n) / 100.0
        return self._factors[vendor]

    def columns(self, places: list[Place], minus: np.ndarray | None = None) -> np.ndarray:
        """Triangular draws by the inverse of the law's distribution function, one random stream per amount,
        vectorised over the places asked for; then each vendor's price shift.

        With ``F = (mode - low) / (high - low)``, the inverse is ``low + sqrt(u w (mode - low))`` for ``u < F``
        and ``high - sqrt((1 - u) w (high - mode))`` above (``w = high - low``). Each branch gives ``mode``
        when ``u`` is clipped to ``F``, so the inverse is the sum of both, ``u`` clipped to below and above ``F``
        in turn, less ``mode``: no per-value branch (numpy's ``where`` on a random mask is slow)."""
        k, n = len(places), self.n
        u = np.empty((k, n))
        low, mode, high = np.empty(k), np.empty(k), np.empty(k)
        for j, p in enumerate(places):
            rng = self.ranges.get(p)
            if rng is not None and rng.width > 0:
                self._rng(_TABLE_CODE[p.table], p.row, _FIELD_CODE[p.field]).random(out=u[j])
                low[j], mode[j], high[j] = rng.low, rng.mode, rng.high
            else:
                u[j] = 0.0
                low[j] = mode[j] = high[j] = p.planning(self.instance)
        width = high - low
        split = np.divide(mode - low, width, out=np.zeros(k), where=width > 0)[:, None]
        left = np.minimum(u, split)
        left *= (width * (mode - low))[:, None]
        np.sqrt(left, out=left)
        np.maximum(u, split, out=u)
        np.subtract(1.0, u, out=u)
        u *= (width * (high - mode))[:, None]
        np.sqrt(u, out=u)
        left += (low + high - mode)[:, None]
        left -= u
        for j, p in enumerate(places):
            if p.table == "offers" and p.field == "cost" and p.row in self.shift_vendor:
                left[j] *= self.factor(self.shift_vendor[p.row])
        if minus is not None:
            left -= np.asarray(minus)[:, None]
        return left.T

class GivenSamples(Samples):
    """Scenarios given as values: a samples file or a DataFrame (NaN = the planning value)."""

    def __init__(self, instance: Instance, values: Mapping[Place, np.ndarray], n: int, source: str = "given"):
        self.instance, self.n, self.source = instance, n, source
        self.values = {p: np.where(np.isnan(v), p.planning(instance), v) for p, v in values.items()}

    def describe(self) -> str:
        return f"{self.n:,} samples from {self.source}"

    def varying(self) -> list[Place]:
        return [p for p, v in self.values.items() if np.any(v != p.planning(self.instance))]

    def columns(self, places: list[Place], minus: np.ndarray | None = None) -> np.ndarray:
        out = np.empty((self.n, len(places)))
        for j, p in enumerate(places):
            v = self.values.get(p)
            out[:, j] = v if v is not None else p.planning(self.instance)
        return out if minus is None else out - np.asarray(minus)


def draw(instance: Instance, n: int = 1000, seed: int = 0, stream: int = 0) -> DrawnSamples:
    """``n`` scenarios drawn from the instance's ranges and price shifts (module docstring)."""
    return DrawnSamples(instance, n, seed, stream)


# --- samples given by the user ------------------------------------------------------------------


def _cell_value(text: str, place: Place, where: str, problems: list[Problem]) -> float:
    text = text.strip()
    if not text:
        return math.nan
    try:
        value = float(text)
    except ValueError:
        problems.append(Problem(where, f"'{text[:40]}' is not a number"))
        return math.nan
    if not math.isfinite(value) or abs(value) > MAX_AMOUNT:
        problems.append(Problem(where, f"must be a finite number at most {MAX_AMOUNT:.0e} in absolute value "
                                       f"(got {text[:40]})"))
        return math.nan
    if (place.table, place.field) in MONEY and value < 0:
        problems.append(Problem(where, f"{place.field} cannot be negative (got {text[:40]})"))
        return math.nan
    return value


def samples_from_rows(instance: Instance, header: list[str], rows: list[list[str]], source: str,
                      locate=lambda r, c: f"line {r}, column {c}") -> GivenSamples:
    """Scenarios from a table of text cells: ``header`` names each column's amount; problems are raised at
    once, each at ``locate(row, column)`` (1-based, the header is row 1)."""
    problems: list[Problem] = []
    places: list[Place | None] = []
    seen: dict[Place, int] = {}
    for j, name in enumerate(header):
        place = Place.parse(name)
        where = locate(1, j + 1)
        if place is None:
            problems.append(Problem(where, f"'{name[:60]}' is not an amount that may vary; name one as "
                                           "offers[3].cost, functions[0].inhouse.cost or vendors[1].retainer"))
        elif (why := place.problem(instance)) is not None:
            problems.append(Problem(where, f"{place}: {why}"))
            place = None
        elif place in seen:
            problems.append(Problem(where, f"{place} has two columns (also column {seen[place] + 1})"))
            place = None
        else:
            seen[place] = j
        places.append(place)
    data = [r for r in rows if any(c.strip() for c in r)]
    if not data and not problems:
        problems.append(Problem(locate(2, 1), "the file has no scenario: one row per scenario below the header"))
    columns = {p: np.full(len(data), math.nan) for p in places if p is not None}
    for i, row in enumerate(data):
        if len(row) > len(header):
            problems.append(Problem(locate(i + 2, len(header) + 1), "a cell beyond the header's last column"))
        for j, place in enumerate(places):
            if place is not None and j < len(row):
                columns[place][i] = _cell_value(row[j], place, locate(i + 2, j + 1), problems)
    if problems:
        raise InputError(problems, source)
    return GivenSamples(instance, columns, len(data), source)


def read_samples(path: str | Path, instance: Instance) -> GivenSamples:
    """Scenarios from a CSV file: one column per amount (its place as the header), one row per scenario, a
    blank cell the planning value; every problem is raised at once, at its line and column."""
    path = Path(path)
    raw = read_bytes(path)  # missing, not a regular file, too large: refused before reading
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError([Problem("", f"not a UTF-8 text file (byte {err.start} is not UTF-8)")], str(path)) from None
    try:
        table = list(csv.reader(io.StringIO(text)))
    except csv.Error as err:
        raise InputError([Problem("", f"not a CSV file: {err}")], str(path)) from None
    if not table:
        raise InputError([Problem("", "file is empty; the first row names the amounts (offers[3].cost, ...)")],
                         str(path))
    return samples_from_rows(instance, table[0], table[1:], str(path))


def samples_from_frame(instance: Instance, frame) -> GivenSamples:
    """Scenarios from a DataFrame: one column per amount (its place), one row per scenario, NaN = planning."""
    header = [str(c) for c in frame.columns]
    rows = [["" if v is None or (isinstance(v, float) and math.isnan(v)) else str(v) for v in r]
            for r in frame.itertuples(index=False, name=None)]
    return samples_from_rows(instance, header, rows, "the DataFrame", lambda r, c: f"row {r - 2}, column {header[c - 1]!r}"
                             if r > 1 else f"column {c}")


def as_samples(instance: Instance, samples, seed: int = 0) -> Samples:
    """Samples from what a caller gives: a count (drawn), a CSV path, a DataFrame or :class:`Samples`."""
    if isinstance(samples, Samples):
        return samples
    if isinstance(samples, bool) or samples is None:
        raise TypeError("samples: give a count, a CSV file's path, a DataFrame or Samples")
    if isinstance(samples, int):
        return draw(instance, samples, seed)
    if isinstance(samples, (str, Path)):
        return read_samples(samples, instance)
    if hasattr(samples, "columns") and hasattr(samples, "itertuples"):
        return samples_from_frame(instance, samples)
    raise TypeError(f"samples: give a count, a CSV file's path, a DataFrame or Samples, not {type(samples).__name__}")


def amount_places(instance: Instance) -> list[Place]:
    """Every amount of the instance that may vary, in file order."""
    out = [Place("offers", i, f) for i in range(len(instance.offers)) for f in RANGED["offers"]]
    out += [Place("inhouse", i, f) for i, fn in enumerate(instance.functions) if fn.inhouse is not None
            for f in RANGED["inhouse"]]
    out += [Place("vendors", i, f) for i in range(len(instance.vendors)) for f in RANGED["vendors"]]
    return out
