"""Atomic file writes: write a temporary file beside the target, then rename.

A run that fails or is interrupted never leaves a half-written or truncated output. The file
gets the mode a normal write would give: an existing file keeps its mode, a new one gets
0666 less the process's umask (0644 under the usual umask 022), so colleagues on a shared
drive can read a report (``tempfile.mkstemp`` would make every output 0600).
"""

from __future__ import annotations

import os
import secrets
import shutil
import stat
from collections.abc import Callable
from pathlib import Path

_TEMP_NAME_BYTES = 100  # of the target's name, in the temporary's (a file name holds 255 bytes)


def _temporary(path: Path, suffix: str) -> Path:
    stem = path.name.encode()[:_TEMP_NAME_BYTES].decode(errors="ignore")
    return path.parent / f".{stem}.{secrets.token_hex(4)}{suffix}"


def _existing_mode(path: Path) -> int | None:
    try:
        return stat.S_IMODE(os.stat(path).st_mode)
    except (FileNotFoundError, NotADirectoryError):
        return None


def atomic_write_bytes(path: str | Path, data: bytes) -> None:
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    mode = _existing_mode(path)
    while True:
        tmp = _temporary(path, ".tmp")
        try:  # a new file: 0666, less the umask (the kernel applies it, as for any open)
            fd = os.open(tmp, os.O_WRONLY | os.O_CREAT | os.O_EXCL | getattr(os, "O_CLOEXEC", 0), 0o666)
            break
        except FileExistsError:
            continue
    try:
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            if mode is not None:
                os.fchmod(handle.fileno(), mode)
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        try:
            os.unlink(tmp)
        except FileNotFoundError:
            pass
        raise


def atomic_write_text(path: str | Path, text: str) -> None:
    atomic_write_bytes(path, text.encode("utf-8"))


def atomic_write_folder(folder: str | Path, fill: Callable[[Path], None], keep: Callable[[Path], bool]) -> None:
    """Replace a folder whole: ``fill(new)`` writes the new content into a folder beside it, the
    entries of the old folder for which ``keep(entry)`` is true are copied over, and the new folder is
    swapped in. If anything fails before the swap, the old folder is untouched and the new one removed."""
    folder = Path(folder)
    folder.parent.mkdir(parents=True, exist_ok=True)
    mode = _existing_mode(folder)
    new = _temporary(folder, ".new")
    os.mkdir(new, 0o777)  # the umask applies, as for any new folder
    try:
        if mode is not None:
            os.chmod(new, mode)
        fill(new)
        if mode is not None:
            for entry in folder.iterdir():
                if keep(entry):
                    if entry.is_dir() and not entry.is_symlink():
                        shutil.copytree(entry, new / entry.name, symlinks=True)
                    else:
                        shutil.copy2(entry, new / entry.name, follow_symlinks=False)
        if mode is None:
            os.replace(new, folder)
            return
        old = _temporary(folder, ".old")
        os.replace(folder, old)  # a folder cannot be renamed over a folder that holds files: two steps
        try:
            os.replace(new, folder)
        except BaseException:
            os.replace(old, folder)
            raise
    except BaseException:
        shutil.rmtree(new, ignore_errors=True)
        raise
    shutil.rmtree(old, ignore_errors=True)
