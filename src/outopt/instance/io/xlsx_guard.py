"""A workbook (.xlsx) checked before openpyxl reads it, so a small file cannot cost gigabytes.

An .xlsx is a zip of XML files. What a hostile one can do, and what stops it here:

* a zip bomb: members that inflate far beyond the file. Refused from the zip's directory,
  before anything is inflated: a member inflating more than :data:`MAX_RATIO` times, or all
  members together more than :data:`UNZIPPED_PER_FILE_BYTE` times the file-size limit;
* a giant cell: openpyxl keeps every shared string in memory at once. The shared strings may
  inflate to the file-size limit at most, and they and every sheet are streamed through expat
  first: a cell (or shared string) stored with more than 7 x 32,767 characters (an Excel cell's
  text, each character escaped at worst) is refused without reading the rest of it;
* more cells than ``ReadLimits.max_cells``, rows or columns beyond Excel's own
  (1,048,576 x 16,384, where openpyxl would fill a row gap one empty row at a time), and
  DTDs (entity expansion): refused while streaming, in bounded memory.

openpyxl's read-only mode trusts a sheet's ``<dimension>`` declaration both ways (padding to a
huge declared size, or stopping at a small one); :mod:`outopt.instance.io.excel` ignores it.
"""

from __future__ import annotations

import re
import zipfile
from pathlib import Path
from xml.parsers import expat

from outopt.errors import InputError, Problem
from outopt.instance.io.cells import EXCEL_CELL_CHARS
from outopt.instance.io.limits import ENV, ReadLimits

MAX_RATIO = 100
"""A member inflating more than this many times its compressed size is refused (Apache POI's default)."""
UNZIPPED_PER_FILE_BYTE = 10
"""All members together may inflate to this many times the file-size limit (500 MB by default)."""
EXCEL_ROWS, EXCEL_COLUMNS = 1_048_576, 16_384
STORED_CELL_CHARS = 7 * EXCEL_CELL_CHARS
"""Characters a cell may take in the XML: 32,767, each escaped as ``_xHHHH_`` at worst."""
SHARED_STRINGS = "xl/sharedStrings.xml"
_SMALL = 1 << 20  # members below 1 MB inflated are not judged by their ratio
_CHUNK = 1 << 20
_CELL_REF = re.compile(r"([A-Za-z]{1,3})?([0-9]+)?")


class _Refused(Exception):
    pass


def _column_number(letters: str) -> int:
    n = 0
    for ch in letters.upper():
        n = n * 26 + ord(ch) - 64
    return n


class _Scan:
    """Counts cells and the length of each cell's text while expat streams one XML member."""

    def __init__(self, member: str, limits: ReadLimits, cells_so_far: int):
        self.member, self.limits, self.cells = member, limits, cells_so_far
        self.chars = 0

    def start(self, name: str, attrs: dict) -> None:
        local = name.rsplit(":", 1)[-1]
        if local in ("c", "si"):
            self.chars = 0
            if local == "c":
                self.cells += 1
                if self.cells > self.limits.max_cells:
                    raise _Refused(f"the workbook has more than {self.limits.max_cells:,} cells; "
                                   f"set {ENV['max_cells']} to allow more")
                self._check_ref(attrs.get("r"))
        elif local == "row":
            row = attrs.get("r")
            if row is not None and (not row.isdigit() or int(row) > EXCEL_ROWS):
                raise _Refused(f"{self.member}: row number {row[:20]!r} is beyond Excel's {EXCEL_ROWS:,} rows")

    def _check_ref(self, ref: str | None) -> None:
        if ref is None:
            return
        m = _CELL_REF.fullmatch(ref)
        if not m or (m.group(1) and _column_number(m.group(1)) > EXCEL_COLUMNS) or (
                m.group(2) and int(m.group(2)) > EXCEL_ROWS):
            raise _Refused(f"{self.member}: cell reference {ref[:20]!r} is beyond Excel's "
                           f"{EXCEL_ROWS:,} rows and {EXCEL_COLUMNS:,} columns")

    def text(self, data: str) -> None:
        self.chars += len(data)
        if self.chars > STORED_CELL_CHARS:
            raise _Refused(f"{self.member}: a cell holds more than {EXCEL_CELL_CHARS:,} characters, "
                           "more than an Excel cell can")

    @staticmethod
    def doctype(*_args) -> None:
        raise _Refused("the workbook's XML declares a DTD, which workbooks never do")


def _scan(archive: zipfile.ZipFile, member: str, limits: ReadLimits, cells: int) -> int:
    scan = _Scan(member, limits, cells)
    parser = expat.ParserCreate()
    parser.buffer_text = False
    parser.StartElementHandler = scan.start
    parser.CharacterDataHandler = scan.text
    parser.StartDoctypeDeclHandler = scan.doctype
    parser.EntityDeclHandler = scan.doctype
    with archive.open(member) as stream:
        while chunk := stream.read(_CHUNK):
            parser.Parse(chunk, False)
        parser.Parse(b"", True)
    return scan.cells


def check_workbook(path: Path, limits: ReadLimits) -> None:
    """Refuse a workbook whose unzipped size, cells, rows, columns or cell text exceed the limits."""
    try:
        with zipfile.ZipFile(path) as archive:
            infos = archive.infolist()
            total = sum(i.file_size for i in infos)
            if total > UNZIPPED_PER_FILE_BYTE * limits.max_bytes:
                raise _Refused(f"the workbook unzips to {total / 2**20:,.0f} MB, more than {UNZIPPED_PER_FILE_BYTE} "
                               f"times the {limits.max_bytes / 2**20:,.0f} MB file limit; set {ENV['max_bytes']} "
                               "to read larger files")
            for i in infos:
                if i.filename == SHARED_STRINGS and i.file_size > limits.max_bytes:
                    raise _Refused(f"its shared strings unzip to {i.file_size / 2**20:,.0f} MB, more than the "
                                   f"{limits.max_bytes / 2**20:,.0f} MB file limit; set {ENV['max_bytes']} "
                                   "to read larger files")
                if i.file_size > _SMALL and i.file_size > MAX_RATIO * max(1, i.compress_size):
                    raise _Refused(f"{i.filename} inflates {i.file_size / max(1, i.compress_size):,.0f} times its "
                                   f"compressed size (a zip bomb?); workbooks inflate less than {MAX_RATIO} times")
            cells = 0
            for i in infos:
                name = i.filename
                if name.endswith(".xml") and (name.startswith("xl/worksheets/") or name == SHARED_STRINGS):
                    cells = _scan(archive, name, limits, cells)
    except _Refused as err:
        raise InputError([Problem("", f"not read: {err}")], str(path)) from None
    except expat.ExpatError as err:
        raise InputError([Problem("", f"not a readable Excel workbook (.xlsx): broken XML ({err})")], str(path)) from None
    except (zipfile.BadZipFile, zipfile.LargeZipFile, OSError, EOFError, NotImplementedError) as err:
        raise InputError([Problem("", f"not a readable Excel workbook (.xlsx): {err}")], str(path)) from None
