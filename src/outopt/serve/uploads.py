"""Instances sent to the server, read exactly as the command line reads files; instances and results
written back for download.

An upload's bytes go to a file in a private temporary folder (mode 0700, removed when the read is
over, whatever happens) named by the upload's extension, never by its name, and are read there by
:func:`outopt.load` with the same read limits as the command line. A zip holds the CSV files of one
instance; it is checked from its directory before anything is inflated (no paths out of the folder,
no links, CSV files only, sizes within the read limits, no member inflating more than a workbook's
may: see :mod:`outopt.instance.io.xlsx_guard`) and then unpacked within those sizes.
"""

from __future__ import annotations

import contextlib
import lzma
import re
import shutil
import stat
import tempfile
import zipfile
import zlib
from collections.abc import Iterator
from pathlib import Path, PurePosixPath

from outopt.errors import InputError, Problem
from outopt.instance.io import FORMATS, READERS, load, save
from outopt.instance.io.limits import ENV, MB, ReadLimits
from outopt.instance.io.xlsx_guard import MAX_RATIO, UNZIPPED_PER_FILE_BYTE
from outopt.instance.schema import Instance

UPLOAD_TYPES = (".yaml", ".yml", ".json", ".xlsx", ".zip")
UPLOADS = f"{FORMATS.replace(' or a folder of CSV files', '')} or a zip of CSV files"
MAX_MEMBERS = 64
"""Files a zip of CSV files may hold (an instance has about 8 tables)."""
_SMALL = 1 << 20
_CSV_NAME = re.compile(r"[A-Za-z0-9_.-]{1,100}\.csv", re.IGNORECASE)


@contextlib.contextmanager
def private_folder(root: Path | None = None) -> Iterator[Path]:
    """A new folder only this process's user can enter, removed with all it holds at the end."""
    folder = Path(tempfile.mkdtemp(prefix="outopt-serve-", dir=root))
    try:
        yield folder
    finally:
        shutil.rmtree(folder, ignore_errors=True)


def extension(filename: str | None) -> str:
    """The upload's type from its file name ('' when it has none)."""
    return PurePosixPath((filename or "").replace("\\", "/")).suffix.lower()


def read_instance(data: bytes, filename: str, root: Path | None = None,
                  limits: ReadLimits | None = None) -> Instance:
    """Read and validate an uploaded instance; problems are raised as :class:`InputError` whose source
    is ``filename`` (the name the user knows), never the temporary file's path."""
    limits = limits or ReadLimits.from_env()
    ext = extension(filename)
    if ext not in UPLOAD_TYPES:
        what = f"unsupported file type '{ext}'" if ext else "the file name has no extension"
        raise InputError([Problem("", f"{what}; use {UPLOADS}")], filename)
    if len(data) > limits.max_bytes:
        raise InputError([Problem("", f"file is {len(data) / MB:.1f} MB, above the {limits.max_bytes / MB:.1f} MB "
                                      f"limit; set {ENV['max_bytes']} (in MB) to read larger files")], filename)
    with private_folder(root) as folder:
        if ext == ".zip":
            path = folder / "upload.zip"
            path.write_bytes(data)
            target = folder / "instance"
            target.mkdir()
            try:
                unpack_csv_zip(path, target, limits)
            except InputError as err:
                raise err.with_source(filename) from None
            path.unlink()
        else:
            target = folder / f"instance{ext}"
            target.write_bytes(data)
        try:
            return load(target, limits=limits)
        except InputError as err:
            raise InputError([_unlocated(p, folder, filename) for p in err.problems], filename) from None


def _unlocated(p: Problem, folder: Path, filename: str) -> Problem:
    """A problem with the temporary folder's path, should a message hold it, replaced by the upload's name."""
    return Problem(p.where.replace(str(folder), filename), p.message.replace(str(folder), filename))


def unpack_csv_zip(path: Path, target: Path, limits: ReadLimits) -> None:
    """Unpack the CSV files of a zip into ``target``, refusing anything that is not plainly one."""
    try:
        with zipfile.ZipFile(path) as archive:
            members = _csv_members(archive, limits)
            for info, name in members:
                with archive.open(info) as source, open(target / name, "xb") as out:
                    left = info.file_size  # zipfile stops at the declared size and checks the CRC
                    while chunk := source.read(min(MB, left + 1)):
                        left -= len(chunk)
                        if left < 0:
                            raise InputError([Problem(info.filename, "inflates beyond its declared size")])
                        out.write(chunk)
    except InputError:
        raise
    except (zipfile.BadZipFile, zipfile.LargeZipFile, EOFError, NotImplementedError, RuntimeError, ValueError,
            zlib.error, lzma.LZMAError, OSError) as err:  # broken, encrypted or oddly compressed members
        raise InputError([Problem("", f"not a readable zip file: {err}")]) from None


def _csv_members(archive: zipfile.ZipFile, limits: ReadLimits) -> list[tuple[zipfile.ZipInfo, str]]:
    """The zip's CSV files and the plain names to unpack them as; every problem at once."""
    infos = [i for i in archive.infolist() if not i.is_dir() and not i.filename.startswith("__MACOSX/")]
    if len(infos) > MAX_MEMBERS:
        raise InputError([Problem("", f"the zip holds {len(infos):,} files; an instance's CSV files are fewer than "
                                      f"{MAX_MEMBERS}")])
    problems, seen, total, out = [], set(), 0, []
    for info in infos:
        name = info.filename
        parts = PurePosixPath(name).parts
        kind = stat.S_IFMT(info.external_attr >> 16)
        if (name.startswith("/") or "\\" in name or ".." in parts or len(parts) > 2 or ":" in name
                or kind not in (0, stat.S_IFREG)):
            problems.append(Problem(name, "not a plain file at the top of the zip or in one folder; "
                                          "zip the CSV files of one instance and nothing else"))
            continue
        base = parts[-1]
        if not _CSV_NAME.fullmatch(base):
            problems.append(Problem(name, "not a CSV file (settings.csv, functions.csv, ...); a zip holds the CSV "
                                          "files of one instance"))
            continue
        if base.lower() in seen:
            problems.append(Problem(name, f"a second file named {base}"))
            continue
        seen.add(base.lower())
        total += info.file_size
        if info.file_size > limits.max_bytes:
            problems.append(Problem(name, f"unzips to {info.file_size / MB:,.1f} MB, above the "
                                          f"{limits.max_bytes / MB:.1f} MB limit; set {ENV['max_bytes']} to read "
                                          "larger files"))
        elif info.file_size > _SMALL and info.file_size > MAX_RATIO * max(1, info.compress_size):
            problems.append(Problem(name, f"inflates {info.file_size / max(1, info.compress_size):,.0f} times its "
                                          f"compressed size (a zip bomb?); CSV files inflate less than {MAX_RATIO} "
                                          "times"))
        out.append((info, base))
    if total > UNZIPPED_PER_FILE_BYTE * limits.max_bytes and not problems:
        problems.append(Problem("", f"the zip unzips to {total / MB:,.0f} MB, more than {UNZIPPED_PER_FILE_BYTE} "
                                    f"times the {limits.max_bytes / MB:,.0f} MB file limit"))
    if not out and not problems:
        problems.append(Problem("", "the zip holds no CSV files (settings.csv, functions.csv, ...)"))
    if problems:
        raise InputError(problems)
    return out


def instance_file(instance: Instance, ext: str, root: Path | None = None) -> bytes:
    """The instance as a file of the given type (.yaml, .json or .xlsx), written by outopt's own writers."""
    if ext not in READERS or ext not in (".yaml", ".yml", ".json", ".xlsx"):
        raise ValueError(f"no instance file of type {ext!r}")
    with private_folder(root) as folder:
        path = folder / f"instance{ext}"
        save(instance, path)
        return path.read_bytes()


def safe_filename(*parts: str, ext: str) -> str:
    """A download's file name from user text: letters, digits, '-', '_' and '.', never a path."""
    stem = "-".join(re.sub(r"[^A-Za-z0-9_.-]+", "_", p).strip("._-") for p in parts if p)
    stem = re.sub(r"_+", "_", stem)[:80].strip("._-")
    return f"{stem or 'outopt'}{ext}"
