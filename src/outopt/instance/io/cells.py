"""Cells written from user text: neutralise formula injection in CSV and Excel output.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, so a vendor called ``=HYPERLINK(...)`` could run code on a planner's machine.
CSV cells holding such text get a leading apostrophe (the OWASP advice; outopt's own CSV
reader removes it again, so round trips are lossless). Excel cells are stored as text,
never as formulas, with Excel's "quote prefix" style, so editing them keeps them text.

Workbooks are XML, which cannot hold most control characters: text is stored with the
Office Open XML escapes Excel itself uses (``_x001B_`` for ESC, ``_x005F_`` for an ``_`` that
starts such a sequence), and read back through :func:`from_excel_text`. An Excel cell holds
at most 32,767 characters (:data:`EXCEL_CELL_CHARS`).
"""

from __future__ import annotations

import re
from typing import Any

EXCEL_CELL_CHARS = 32_767
"""The most characters an Excel cell holds (Excel's specification and limits)."""

_NOT_IN_XML = re.compile("[\x00-\x08\x0b-\x0d\x0e-\x1f\ufffe\uffff]|_(?=x[0-9A-Fa-f]{4}_)")
_ESCAPED = re.compile("_x([0-9A-Fa-f]{4})_")


class CellTooLong(ValueError):
    """Text longer than an Excel cell holds."""


def excel_text(value: str) -> str:
    """Text as an Excel cell stores it: characters XML cannot hold escaped as ``_xHHHH_``."""
    if len(value) > EXCEL_CELL_CHARS:
        raise CellTooLong(f"text of {len(value):,} characters; an Excel cell holds at most {EXCEL_CELL_CHARS:,}")
    return _NOT_IN_XML.sub(lambda m: f"_x{ord(m.group()):04X}_", value)


def from_excel_text(value: Any) -> Any:
    """The inverse of :func:`excel_text` for text read from a workbook (other values unchanged)."""
    if isinstance(value, str) and "_x" in value:
        return _ESCAPED.sub(lambda m: chr(int(m.group(1), 16)), value)
    return value

FORMULA_START = ("=", "+", "-", "@", "\t", "\r")


def is_risky(value: Any) -> bool:
    return isinstance(value, str) and value.startswith(FORMULA_START)


def csv_cell(value: Any) -> Any:
    """A value for a CSV cell; text that a spreadsheet would run gets a leading apostrophe."""
    if isinstance(value, str) and (is_risky(value) or value.startswith("'")):
        return "'" + value
    return value


def csv_text(value: str) -> str:
    """The inverse of :func:`csv_cell` for text read back from outopt's CSV files."""
    return value[1:] if value.startswith("'") else value


def set_excel_cell(cell, value: Any) -> None:
    """Write a value into an openpyxl cell; text is always stored as text, never as a formula.
    Raises :class:`CellTooLong` for text longer than a cell holds."""
    cell.value = excel_text(value) if isinstance(value, str) else value
    if isinstance(value, str) and cell.data_type != "s":
        cell.data_type = "s"  # openpyxl makes "=..." a formula and "#N/A" an error
    if is_risky(value):
        cell.quotePrefix = True
