"""Limits on what a reader accepts, so a hostile or broken file is rejected quickly in bounded memory.

Every reader checks the file against :class:`ReadLimits` before it parses anything:

* ``max_bytes``: the file's size, checked before reading (and again while reading, so a
  device or a file growing under us cannot get past it);
* ``max_depth``: how deeply mappings and lists may nest (YAML and JSON);
* ``max_nodes``: how many YAML nodes the document may expand to, counting every use of an
  alias in full (a "billion laughs" alias bomb is a few hundred bytes that expand to 10^9 nodes);
* ``max_cells``: how many cells a workbook or a folder of CSV files may hold (a short file can
  declare or imply far more cells than it stores).

The limits come from, in order: the ``limits`` argument of :func:`outopt.load` (readers
see it through :func:`using`, so a reader's signature stays ``reader(path)``), the
environment variables ``OUTOPT_MAX_FILE_MB``, ``OUTOPT_MAX_DEPTH``, ``OUTOPT_MAX_YAML_NODES``
and ``OUTOPT_MAX_CELLS``, and the defaults below.
"""

from __future__ import annotations

import contextlib
import contextvars
import os
import stat
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path

from outopt.errors import InputError, Problem

MB = 1024 * 1024

ENV = {
    "max_bytes": "OUTOPT_MAX_FILE_MB",
    "max_depth": "OUTOPT_MAX_DEPTH",
    "max_nodes": "OUTOPT_MAX_YAML_NODES",
    "max_cells": "OUTOPT_MAX_CELLS",
}


@dataclass(frozen=True)
class ReadLimits:
    """Limits a reader enforces on one input file.

    max_bytes: largest file accepted, in bytes (default 50 MB; env ``OUTOPT_MAX_FILE_MB``, in MB).
    max_depth: deepest nesting of mappings and lists accepted (default 50; env ``OUTOPT_MAX_DEPTH``).
        An instance nests about 5 deep.
    max_nodes: most YAML nodes a document may expand to, aliases counted in full at every use
        (default 1,000,000; env ``OUTOPT_MAX_YAML_NODES``). An offer is about 15 nodes; YAML
        reads about 100,000 nodes a second, so this also bounds the time (JSON reads far faster).
    max_cells: most cells of a workbook or a folder of CSV files, every table together, counted as
        rows x columns (default 5,000,000; env ``OUTOPT_MAX_CELLS``). An offer is one row of 9 cells.
    """

    max_bytes: int = 50 * MB
    max_depth: int = 50
    max_nodes: int = 1_000_000
    max_cells: int = 5_000_000

    def __post_init__(self):
        for name in ENV:
            value = getattr(self, name)
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"ReadLimits.{name} must be a positive whole number, got {value!r}")

    @classmethod
    def from_env(cls, environ: Mapping[str, str] | None = None) -> "ReadLimits":
        """The defaults, overridden by any of the ``OUTOPT_MAX_*`` environment variables that are set."""
        environ = os.environ if environ is None else environ
        values, problems = {}, []
        for field, var in ENV.items():
            text = environ.get(var, "").strip()
            if not text:
                continue
            try:
                number = float(text)
            except ValueError:
                number = float("nan")
            if not number >= 1 or number == float("inf"):
                problems.append(Problem(var, f"must be a number of at least 1, got {text!r}"))
                continue
            values[field] = int(number * MB) if field == "max_bytes" else int(number)
        if problems:
            raise InputError(problems, "environment")
        return cls(**values)


_current: contextvars.ContextVar[ReadLimits | None] = contextvars.ContextVar("outopt_read_limits", default=None)


@contextlib.contextmanager
def using(limits: ReadLimits | None) -> Iterator[None]:
    """Within the block, readers called without explicit limits use these (``None``: the environment's)."""
    token = _current.set(limits)
    try:
        yield
    finally:
        _current.reset(token)


def resolve(limits: ReadLimits | None = None) -> ReadLimits:
    """The limits in force: the argument, else those set by :func:`using`, else the environment's."""
    if limits is not None:
        return limits
    return _current.get() or ReadLimits.from_env()


def _size(n: int) -> str:
    return f"{n / MB:.1f} MB" if n >= MB / 10 else f"{n:,} bytes"


def _too_large(size_text: str, limits: ReadLimits) -> Problem:
    return Problem(
        "",
        f"file is {size_text}, above the {_size(limits.max_bytes)} limit; "
        f"set {ENV['max_bytes']} (in MB) to read larger files",
    )


def check_file(path: Path, limits: ReadLimits | None = None) -> ReadLimits:
    """Reject a path that is missing, not a regular file, or larger than the limit (before reading it)."""
    limits = resolve(limits)
    try:
        info = path.stat()
    except FileNotFoundError:
        raise InputError([Problem("", "file not found")], str(path)) from None
    except OSError as err:
        raise InputError([Problem("", f"cannot be read: {err.strerror}")], str(path)) from None
    if stat.S_ISDIR(info.st_mode):
        raise InputError([Problem("", "is a folder, not an instance file")], str(path))
    if not stat.S_ISREG(info.st_mode):
        raise InputError([Problem("", "is not a regular file (a device, pipe or socket)")], str(path))
    if info.st_size > limits.max_bytes:
        raise InputError([_too_large(_size(info.st_size), limits)], str(path))
    return limits


def read_bytes(path: Path, limits: ReadLimits | None = None) -> bytearray:
    """Read a whole file, never more than ``max_bytes`` (+1 to notice a file that grew past it)."""
    limits = check_file(path, limits)
    data = bytearray()
    try:
        with open(path, "rb") as handle:
            while len(data) <= limits.max_bytes:  # in chunks: read(n) would reserve n bytes up front
                chunk = handle.read(min(MB, limits.max_bytes + 1 - len(data)))
                if not chunk:
                    break
                data += chunk
    except OSError as err:
        raise InputError([Problem("", f"cannot be read: {err.strerror}")], str(path)) from None
    if len(data) > limits.max_bytes:
        raise InputError([_too_large(f"more than {_size(limits.max_bytes)}", limits)], str(path))
    return data


def nesting_depth(data) -> int:
    """How deeply lists and mappings nest in plain data (1 for a flat mapping); iterative, no recursion.

    Level by level: each pass keeps the lists and mappings of one level and gathers their
    children (in C, through ``list.extend``), so a 300,000-offer file takes a fraction of a second.
    """
    depth, level = 0, [data]
    while True:
        level = [node for node in level if isinstance(node, (dict, list))]
        if not level:
            return depth
        depth += 1
        children: list = []
        for node in level:
            children.extend(node.values() if isinstance(node, dict) else node)
        level = children


def too_many_cells(limits: ReadLimits) -> str:
    return f"the tables hold more than {limits.max_cells:,} cells (rows x columns); set {ENV['max_cells']} to allow more"


def too_deep(limits: ReadLimits) -> str:
    return (
        f"lists and mappings nest deeper than {limits.max_depth} levels; "
        f"an instance needs about 5 (set {ENV['max_depth']} to allow more)"
    )
