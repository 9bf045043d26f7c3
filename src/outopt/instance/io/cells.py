"""Cells written from user text: neutralise formula injection in CSV and Excel output.

A spreadsheet program runs a cell that starts with ``=``, ``+``, ``-`` or ``@`` as a
formula, so a vendor called ``=HYPERLINK(...)`` could run code on a planner's machine.
CSV cells holding such text get a leading apostrophe (the OWASP advice; outopt's own CSV
reader removes it again, so round trips are lossless). Excel cells are stored as text,
never as formulas, with Excel's "quote prefix" style, so editing them keeps them text.
"""

from __future__ import annotations

from typing import Any

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
    """Write a value into an openpyxl cell; text is always stored as text, never as a formula."""
    cell.value = value
    if isinstance(value, str) and cell.data_type != "s":
        cell.data_type = "s"  # openpyxl makes "=..." a formula and "#N/A" an error
    if is_risky(value):
        cell.quotePrefix = True
