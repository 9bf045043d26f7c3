"""Readers and writers of instance files, chosen by extension.

``load(path)`` accepts YAML (``.yaml``/``.yml``) and JSON (``.json``) and returns a
validated :class:`~outopt.schema.Instance`; every problem in the file is reported
at once as an :class:`~outopt.errors.InputError` naming the file and the place.
Every reader runs within :class:`~outopt.io.limits.ReadLimits` (file size, nesting,
YAML alias expansion), settable by argument or ``OUTOPT_MAX_*`` environment variables.
"""

from __future__ import annotations

from pathlib import Path

from outopt.errors import InputError, Problem
from outopt.io.limits import ReadLimits, check_file, using
from outopt.io.text import dump_text, read_text
from outopt.schema import Instance
from outopt.validation import instance_from_data

READERS = {".yaml": read_text, ".yml": read_text, ".json": read_text}
WRITERS = {".yaml": dump_text, ".yml": dump_text, ".json": dump_text}


def load(path: str | Path, limits: ReadLimits | None = None) -> Instance:
    """Read and validate an instance file; raise :class:`InputError` on any problem.

    ``limits`` bounds what is read (default: ``ReadLimits.from_env()``).
    """
    path = Path(path)
    reader = READERS.get(path.suffix.lower())
    if reader is None:
        raise InputError(
            [Problem("", f"unsupported file type '{path.suffix}'; use one of {', '.join(sorted(READERS))}")],
            str(path),
        )
    limits = check_file(path, limits)  # missing, not a file, too large: before any reading
    with using(limits):
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
