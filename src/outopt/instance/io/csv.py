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
from outopt.instance.io.atomic import atomic_write_text
from outopt.instance.io.cells import csv_cell, csv_text
from outopt.instance.io.frames import (
    Locator,
    Table,
    instance_from_tables,
    instance_to_tables,
)
from outopt.instance.schema import Instance


class CsvLocator(Locator):
    def cell(self, table: str, key: Any, col: int) -> str:
        return f"{table}.csv:{1 if key == 'header' else key}:{col + 1}"

    def row(self, table: str, key: Any) -> str:
        return f"{table}.csv:{key}"

    def table(self, table: str) -> str:
        return f"{table}.csv"


def read_table(path: Path) -> Table:
    try:
        text = path.read_text(encoding="utf-8-sig")
    except UnicodeDecodeError as err:
        raise InputError([Problem(path.name, f"not a UTF-8 text file (byte {err.start})")]) from None
    rows = list(csv.reader(io.StringIO(text, newline="")))
    rows = [[csv_text(v) if v != "" else None for v in r] for r in rows]
    header = rows[0] if rows else []
    width = max([len(r) for r in rows] or [0])
    rows = [r + [None] * (width - len(r)) for r in rows]
    header = rows[0] if rows else []
    return Table(header, rows[1:], list(range(2, len(rows) + 1)))


def read_csv_folder(folder: Path) -> Instance:
    """Read and validate a folder of CSV files; problems name file, row and column."""
    files = sorted(folder.glob("*.csv"))
    if not files:
        raise InputError([Problem("", "the folder has no .csv files (settings.csv, functions.csv, ...)")], str(folder))
    try:
        tables = {f.stem: read_table(f) for f in files}
        return instance_from_tables(tables, CsvLocator())
    except InputError as err:
        raise err.with_source(str(folder)) from None


def table_csv(columns: list[str], rows: list[list[Any]]) -> str:
    """CSV text of a table, formula-like text neutralised."""
    buf = io.StringIO(newline="")
    w = csv.writer(buf, lineterminator="\n")
    w.writerow([csv_cell(c) for c in columns])
    for r in rows:
        w.writerow(["" if v is None else csv_cell(_number(v)) for v in r])
    return buf.getvalue()


def _number(v: Any) -> Any:
    """Whole floats without a trailing .0 (95000, not 95000.0); the reader parses both."""
    if isinstance(v, float) and v.is_integer() and abs(v) < 1e15:
        return int(v)
    return v


def write_csv_folder(instance: Instance, folder: Path) -> None:
    if folder.exists() and not folder.is_dir():
        raise InputError([Problem("", "exists and is not a folder")], str(folder))
    folder.mkdir(parents=True, exist_ok=True)
    for name, t in instance_to_tables(instance).items():
        atomic_write_text(folder / f"{name}.csv", table_csv(t.columns, t.rows))
