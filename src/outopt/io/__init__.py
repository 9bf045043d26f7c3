"""Readers and writers of instance files, chosen by extension.

``load(path)`` accepts YAML (``.yaml``/``.yml``) and JSON (``.json``) and returns a
validated :class:`~outopt.schema.Instance`; every problem in the file is reported
at once as an :class:`~outopt.errors.InputError` naming the file and the place.
"""

from __future__ import annotations

from pathlib import Path

from outopt.errors import InputError, Problem
from outopt.io.text import dump_text, read_text
from outopt.schema import Instance
from outopt.validation import instance_from_data

READERS = {".yaml": read_text, ".yml": read_text, ".json": read_text}
WRITERS = {".yaml": dump_text, ".yml": dump_text, ".json": dump_text}


def load(path: str | Path) -> Instance:
    """Read and validate an instance file; raise :class:`InputError` on any problem."""
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            [Problem("", f"unsupported file type '{path.suffix}'; use one of {', '.join(sorted(READERS))}")],
            str(path),
        )
    if not path.exists():
        raise InputError([Problem("", "file not found")], str(path))
    if path.is_dir():
        raise InputError([Problem("", "is a folder, not an instance file")], str(path))
    data = reader(path)
    try:
        return instance_from_data(data)
    except InputError as err:
        raise err.with_source(str(path)) from None


def save(instance: Instance, path: str | Path) -> None:
    """Write an instance to a file, format by extension."""
    path = Path(path)
    writer = WRITERS.get(path.suffix.lower())
    if writer is None:
        raise InputError(
            [Problem("", f"unsupported file type '{path.suffix}'; use one of {', '.join(sorted(WRITERS))}")],
            str(path),
        )
    writer(instance, path)
