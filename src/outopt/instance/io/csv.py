"""A folder of CSV files, one per table of :mod:`outopt.instance.io.frames` (``offers.csv``, ...).

Row 1 of each file holds the headers. Text that a spreadsheet would run as a formula is
written with a leading apostrophe, which the reader removes (see :mod:`outopt.instance.io.cells`).
Problems name the file, row and column: ``offers.csv:14:3: vendor 'ledgrly' is not in vendors``.
"""

from __future__ import annotations

import csv
import io
from pathlib import Path
from typing import Any

from outopt.errors import InputError, Problem
from outopt.instance.io.atomic import atomic_write_folder, atomic_write_text
from outopt.instance.io.cells import csv_cell, csv_text
from outopt.instance.io.frames import (
    Locator,
    Table,
    instance_from_tables,
    instance_to_tables,
)
from outopt.instance.io.limits import ReadLimits, read_bytes, resolve, too_many_cells
from outopt.instance.schema import Instance


class CsvLocator(Locator):
    def cell(self, table: str, key: Any, col: int) -> str:
        return f"{table}.csv:{1 if key == 'header' else key}:{col + 1}"

    def row(self, table: str, key: Any) -> str:
        return f"{table}.csv:{key}"

    def table(self, table: str) -> str:
        return f"{table}.csv"


def read_table(path: Path, limits: ReadLimits | None = None, cells_before: int = 0) -> Table:
    """One CSV file as a table, within ``limits`` (its size, and every table's cells together)."""
    limits = resolve(limits)
    try:
        text = read_bytes(path, limits).decode("utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError([Problem(path.name, f"not a UTF-8 text file (byte {err.start})")]) from None
    if csv.field_size_limit() < limits.max_bytes:  # a cell may be as long as the file (default: 131,072)
        csv.field_size_limit(limits.max_bytes)
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, cells, width = [], cells_before, 0
    try:
        for r in reader:
            rows.append([csv_text(v) if v != "" else None for v in r])
            width = max(width, len(r))
            cells += len(r)
            if cells > limits.max_cells or cells_before + width * len(rows) > limits.max_cells:
                raise InputError([Problem(f"{path.name}:{reader.line_num}", too_many_cells(limits))])
    except csv.Error as err:
        raise InputError([Problem(f"{path.name}:{reader.line_num}", f"not readable as CSV: {err}")]) from None
    del text
    for r in rows:
        r.extend([None] * (width - len(r)))
    header = rows[0] if rows else []
    return Table(header, rows[1:], list(range(2, len(rows) + 1)))


def read_csv_folder(folder: Path, limits: ReadLimits | None = None) -> Instance:
    """Read and validate a folder of CSV files; problems name file, row and column."""
    try:
        return instance_from_tables(read_csv_tables(folder, limits), CsvLocator())
    except InputError as err:
        raise err.with_source(str(folder)) from None


def read_csv_tables(folder: Path, limits: ReadLimits | None = None) -> dict[str, Table]:
    """Every CSV file of a folder as a table, by file stem, within ``limits`` (all tables' cells together)."""
    limits = resolve(limits)
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise InputError([Problem("", "the folder has no .csv files (settings.csv, functions.csv, ...)")], str(folder))
    try:
        tables, cells = {}, 0
        for f in files:
            tables[f.stem] = table = read_table(f, limits, cells)
            cells += len(table.columns) * (len(table.rows) + 1)
        return tables
    except InputError as err:
        raise err.with_source(str(folder)) from None


def table_csv(columns: list[str], rows: list[list[Any]]) -> str:
    """CSV text of a table, formula-like text neutralised."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    quoted = csv.writer(buf, lineterminator="\n", quoting=csv.QUOTE_ALL)
    for r in [[csv_cell(c) for c in columns]] + [["" if v is None else csv_cell(_number(v)) for v in r] for r in rows]:
        # the csv module quotes a cell holding "\n" but not one holding a lone "\r", which readers take
        # for a line end: such a row is written with every cell quoted (the reader sees the same text)
        (quoted if any(isinstance(v, str) and "\r" in v for v in r) else w).writerow(r)
    return buf.getvalue()


def _number(v: Any) -> Any:
    """Whole floats without a trailing .0 (95000, not 95000.0); the reader parses both."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def write_csv_folder(instance: Instance, folder: Path) -> None:
    """Write the tables as a folder of CSV files, replacing an existing folder whole (its files other
    than .csv are kept): a failure midway leaves the old folder as it was, never old tables beside new."""
    write_csv_tables(instance_to_tables(instance), folder)


def write_csv_tables(tables: dict[str, Table], folder: Path) -> None:
    """Tables as a folder of CSV files (see :func:`write_csv_folder`)."""
    if folder.exists() and not folder.is_dir():
        raise InputError([Problem("", "exists and is not a folder")], str(folder))
    texts = {f"{name}.csv": table_csv(t.columns, t.rows) for name, t in tables.items()}

    def fill(new: Path) -> None:
        for name, text in texts.items():
            atomic_write_text(new / name, text)

    atomic_write_folder(folder, fill, keep=lambda entry: entry.suffix.lower() != ".csv")
