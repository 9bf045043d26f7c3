"""Readers and writers of instance files, chosen by extension.

``load(path)`` accepts YAML (``.yaml``/``.yml``), JSON (``.json``), Excel workbooks
(``.xlsx``) and folders of CSV files (a folder path), and returns a validated
:class:`~outopt.instance.schema.Instance`; every problem is reported at once as an
:class:`~outopt.errors.InputError` naming the file and the place in that file's own
terms (``offers[3].vendor``, ``offers!C14``, ``offers.csv:14:3``).
Every reader runs within :class:`~outopt.instance.io.limits.ReadLimits` (file size, nesting,
YAML alias expansion), settable by argument or ``OUTOPT_MAX_*`` environment variables.
"""

from __future__ import annotations

import contextlib
import gc
from collections.abc import Iterator
from pathlib import Path

from outopt.errors import InputError, Problem
from outopt.instance.io.csv import read_csv_folder, write_csv_folder
from outopt.instance.io.limits import ReadLimits, check_file, resolve, using
from outopt.instance.io.text import dump_text, read_text
from outopt.instance.schema import Instance
from outopt.instance.validation import instance_from_data

CSV_FOLDER = "folder"
"""The format key of a folder of CSV files."""


def _read_text_instance(path: Path) -> Instance:
    return instance_from_data(read_text(path))


def _read_excel(path: Path) -> Instance:
    from outopt.instance.io.excel import read_excel

    return read_excel(path)


def _read_csv(path: Path) -> Instance:
    return read_csv_folder(path)


def _write_excel(instance: Instance, path: Path) -> None:
    from outopt.instance.io.excel import write_excel

    write_excel(instance, path)


def _write_csv(instance: Instance, path: Path) -> None:
    write_csv_folder(instance, path)


READERS = {".yaml": _read_text_instance, ".yml": _read_text_instance, ".json": _read_text_instance,
           ".xlsx": _read_excel, CSV_FOLDER: _read_csv}
WRITERS = {".yaml": dump_text, ".yml": dump_text, ".json": dump_text, ".xlsx": _write_excel, CSV_FOLDER: _write_csv}
FORMATS = "YAML (.yaml, .yml), JSON (.json), Excel (.xlsx) or a folder of CSV files"


def instance_format(path: Path, writing: bool = False) -> str:
    """The format key of a path: its extension, or ``folder`` for a folder of CSV files."""
    if path.is_dir() or (writing and not path.suffix and not path.exists()):
        return CSV_FOLDER
    return path.suffix.lower()


_MANY_OBJECTS = 100_000
"""Objects allocated while the collector was paused above which it runs once, in full, at the end."""


@contextlib.contextmanager
def gc_paused() -> Iterator[None]:
    """Python's cyclic garbage collector off inside the block (as it was, after).

    Reading builds millions of small objects (parsed data, then a pydantic model per row) and
    frees them only at the end; the collector, triggered by every few hundred allocations, would
    walk all of them again and again: on a 300,000-offer file, about half of the reading time.
    When many objects were made, one full collection at the end moves the survivors (the
    instance) to the oldest generation at once, instead of three passes over them later as the
    collector would promote them generation by generation.
    """
    enabled = gc.isenabled()
    allocated = gc.get_count()[0]
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()
            if gc.get_count()[0] - allocated > _MANY_OBJECTS:
                gc.collect()


def load(path: str | Path, limits: ReadLimits | None = None) -> Instance:
    """Read and validate an instance file or CSV folder; raise :class:`InputError` on any problem.

    ``limits`` bounds what is read (default: ``ReadLimits.from_env()``); every file is checked
    against it before it is read.
    """
    path = Path(path)
    if not path.exists():
        if path.suffix and path.suffix.lower() not in READERS:
            raise InputError([Problem("", f"unsupported file type '{path.suffix}'; use {FORMATS}")], str(path))
        raise InputError([Problem("", "file not found")], str(path))
    reader = READERS.get(instance_format(path))
    if reader is None:
        raise InputError([Problem("", f"unsupported file type '{path.suffix}'; use {FORMATS}")], str(path))
    # missing, not a regular file, too large: refused before any reading
    if path.is_dir():
        limits = resolve(limits)
        for member in sorted(path.glob("*.csv")):
            check_file(member, limits)
    else:
        limits = check_file(path, limits)
    try:
        with using(limits), gc_paused():
            return reader(path)
    except InputError as err:
        raise err.with_source(err.source or str(path)) from None


def save(instance: Instance, path: str | Path) -> None:
    """Write an instance, format by extension (a path without one, or a folder: CSV files)."""
    path = Path(path)
    writer = WRITERS.get(instance_format(path, writing=True))
    if writer is None:
        raise InputError([Problem("", f"unsupported file type '{path.suffix}'; use {FORMATS}")], str(path))
    writer(instance, path)
