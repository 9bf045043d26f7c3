"""Writers of results, chosen by extension: ``.xlsx`` (a workbook of every result table),
``.csv`` (the decisions table), ``.json`` (``Solution.to_json``) and ``.html`` (the report).

Text from the instance (ids, names) that a spreadsheet would run as a formula is
neutralised in CSV and Excel output (see :mod:`outopt.instance.io.cells`).
"""

from __future__ import annotations

import io
import json
import math
from collections.abc import Mapping
from pathlib import Path

import pandas as pd

from outopt.errors import InputError, Problem
from outopt.instance.io.atomic import atomic_write_bytes, atomic_write_text
from outopt.instance.io.cells import EXCEL_CELL_CHARS, set_excel_cell
from outopt.instance.io.csv import table_csv
from outopt.report import roadmap, tables
from outopt.solver.roadmap import RoadmapSolution
from outopt.solver.solution import CompanySolution, Solution

RESULT_FORMATS = (".xlsx", ".csv", ".json", ".html", ".htm")


def _value(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, (list, dict, tuple)):
        return json.dumps(v, default=str)
    return v.item() if hasattr(v, "item") else v


def _cell(v):
    """A value for a results workbook: text longer than a cell holds is cut, with an ellipsis
    (the JSON keeps it whole)."""
    v = _value(v)
    if isinstance(v, str) and len(v) > EXCEL_CELL_CHARS:
        return v[:EXCEL_CELL_CHARS - 1] + "…"
    return v


def result_tables(sol: Solution | CompanySolution) -> dict[str, pd.DataFrame]:
    """The result tables of a solution: an instance's, or a company's (corporate, then by division)."""
    if isinstance(sol, CompanySolution):
        from outopt.report.company import company_tables

        return company_tables(sol)
    return tables.tables(sol)


def results_workbook(sol: Solution | CompanySolution, extra: Mapping[str, pd.DataFrame] | None = None) -> bytes:
    """Sheets decisions, totals, vendors, resources, limits (a company's: divisions, totals, corporate_limits,
    vendors, coordination, then the divisions' decisions, resources and limits), and any extra tables."""
    return frames_workbook({**result_tables(sol), **(extra or {})})


def frames_workbook(frames: Mapping[str, pd.DataFrame]) -> bytes:
    """A workbook of one sheet per table, headers bold in row 1."""
    from openpyxl import Workbook
    from openpyxl.styles import Font

    wb = Workbook()
    wb.remove(wb.active)
    for name, frame in frames.items():
        ws = wb.create_sheet(name[:31])
        for j, c in enumerate(frame.columns, start=1):
            set_excel_cell(ws.cell(row=1, column=j), _cell(str(c)))
            ws.cell(row=1, column=j).font = Font(bold=True)
            ws.column_dimensions[ws.cell(row=1, column=j).column_letter].width = max(12, len(str(c)) + 4)
        for i, row in enumerate(frame.itertuples(index=False), start=2):
            for j, v in enumerate(row, start=1):
                v = _cell(v)
                if v is not None:
                    set_excel_cell(ws.cell(row=i, column=j), v)
        ws.freeze_panes = "A2"
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()


def decisions_csv(sol: Solution | CompanySolution) -> str:
    d = result_tables(sol)["decisions"]
    return table_csv(list(d.columns), [[_value(v) for v in r] for r in d.itertuples(index=False)])


def write_results(sol: Solution | CompanySolution, path: str | Path, explanation=None, frontier=None) -> None:
    """Write a solution to a file, format by extension; the explanation and frontier go into the
    workbook and the report when given (DataFrames, or results with ``.frame()`` / ``.table()``)."""
    path = Path(path)
    ext = path.suffix.lower()
    if isinstance(sol, RoadmapSolution):
        return write_roadmap_results(sol, path, explanation, frontier)
    if ext == ".json":
        atomic_write_text(path, sol.to_json() + "\n")
    elif ext == ".csv":
        atomic_write_text(path, decisions_csv(sol))
    elif ext == ".xlsx":
        from outopt.report.html import as_frame

        extra = {k: v for k, v in (("explanation", as_frame(explanation, "frame")),
                                   ("frontier", as_frame(frontier, "table"))) if v is not None}
        atomic_write_bytes(path, results_workbook(sol, extra))
    elif ext in (".html", ".htm"):
        from outopt.report.company import render_company
        from outopt.report.html import render

        draw = render_company if isinstance(sol, CompanySolution) else render
        atomic_write_text(path, draw(sol, explanation=explanation, frontier=frontier))
    else:
        raise InputError([Problem("", f"unsupported results type '{path.suffix}'; use one of "
                                      f"{', '.join(RESULT_FORMATS)}")], str(path))


def write_roadmap_results(sol: RoadmapSolution, path: Path, explanation=None, frontier=None) -> None:
    """A roadmap's results: ``.xlsx`` (sheets roadmap, changes, years, totals, and the explanation or frontier),
    ``.csv`` (the roadmap, one row per function and year), ``.json`` or the ``.html`` report."""
    from outopt.report.html import as_frame

    ext = path.suffix.lower()
    explanation, frontier = as_frame(explanation, "frame"), as_frame(frontier, "table")
    if ext == ".json":
        atomic_write_text(path, sol.to_json() + "\n")
    elif ext == ".csv":
        rows = sol.roadmap_rows()
        atomic_write_text(path, table_csv(["function", "year", "provider"], [list(r.values()) for r in rows]))
    elif ext == ".xlsx":
        extra = {k: v for k, v in (("explanation", explanation), ("frontier", frontier)) if v is not None}
        atomic_write_bytes(path, frames_workbook({**roadmap.tables(sol), **extra}))
    elif ext in (".html", ".htm"):
        atomic_write_text(path, roadmap.render(sol, explanation=explanation, frontier=frontier))
    else:
        raise InputError([Problem("", f"unsupported results type '{path.suffix}'; use one of "
                                      f"{', '.join(RESULT_FORMATS)}")], str(path))
