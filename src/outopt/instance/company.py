"""Company files: several divisions (each a normal instance) sharing corporate limits and vendors.

A company file (YAML or JSON) names its divisions, each an instance file by relative
path or an inline instance, and the corporate limits::

    name: Acme Group
    budget: {operating: 2500000, transition: 150000}   # across all divisions
    max_vendors: 4                                     # company-wide
    vendors:                                           # shared company-wide
      ledgerly: {capacity: 5000, max_share: 0.5}
    divisions:
      - path: retail.yaml                              # relative to the company file
      - id: wholesale                                  # or inline
        instance: {name: Wholesale, functions: [...], vendors: [...], offers: [...]}

A vendor id is the same vendor in every division. Its retainer and onboarding are paid
**once for the company** when any division engages it, so every division that lists a
vendor must give it the same retainer and onboarding (validated). Inside a division,
its own limits (budget, resources, vendor capacity, max_share, rules) still hold, on
the division's own costs: retainers and onboarding are corporate costs and count in the
corporate budgets and objective only. Divisions must share the currency and horizon.

:func:`outopt.verifier.company.verify_company` is the independent company verifier; the joint
model is in :mod:`outopt.model.company`.
"""

from __future__ import annotations

import hashlib
import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from pydantic import ValidationError

from outopt.errors import InputError, Problem
from outopt.instance.io import (
    CSV_FOLDER,
    FORMATS,
    gc_paused,
    instance_format,
    load,
    save,
)
from outopt.instance.io.company import (
    DIVISIONS,
    company_data_from_tables,
    company_sheet_names,
    company_to_tables,
    is_company_tables,
)
from outopt.instance.io.csv import CsvLocator, read_csv_tables, write_csv_tables
from outopt.instance.io.limits import ReadLimits, check_file, resolve, using
from outopt.instance.io.text import dump_text, read_text
from outopt.instance.numerics import MIN_SHARE
from outopt.instance.schema import Company, Division, Instance, SharedVendor, derived
from outopt.instance.validation import (
    instance_from_data,
    problems_from_validation_error,
)

CompanyPlan = dict[str, dict[str, str]]
"""A company plan: division id -> (function id -> provider)."""

__all__ = ["Company", "CompanyPlan", "Division", "SharedVendor", "company_from_data", "load_any", "load_company",
           "save_any", "save_company"]


def is_company_data(data: Any) -> bool:
    """A company file is a mapping with a top-level `divisions` key."""
    return isinstance(data, Mapping) and "divisions" in data


def division_view(instance: Instance) -> Instance:
    """The division as the joint model sees it: retainers and onboarding are corporate, so 0 here."""
    if not any(v.retainer or v.onboarding for v in instance.vendors):
        return instance
    vendors = [v.model_copy(update={"retainer": 0.0, "onboarding": 0.0}) for v in instance.vendors]
    return derived(instance, vendors=vendors)


# --- loading and validation ---------------------------------------------------------


def load_company(path: str | Path) -> Company:
    """Read a company file and its division files; raise :class:`InputError` listing every problem.

    Problems in the company file are named by their place (``divisions[2].path: file not
    found``); problems inside a division file are named with that file.
    """
    path = Path(path)
    if not path.exists():
        raise InputError([Problem("", "file not found")], str(path))
    found = company_tables(path)
    if found is not None:
        return company_from_tables(*found, base=path.parent if path.is_file() else path, source=str(path))
    if path.suffix.lower() not in TEXT_FORMATS:
        raise InputError([Problem("", f"unsupported file type '{path.suffix}'; a company file is YAML, JSON, "
                                      "a workbook with a divisions sheet or a folder of CSV files with divisions.csv")],
                         str(path))
    data = read_text(path)
    return company_from_data(data, base=path.parent, source=str(path))


def company_tables(path: Path, limits: ReadLimits | None = None):
    """(tables, locator) of a company workbook (a ``divisions`` sheet) or CSV folder (``divisions.csv``);
    None for any other path. The files are checked against the read limits first."""
    if path.is_dir() and (path / f"{DIVISIONS}.csv").is_file():
        limits = resolve(limits)
        for member in sorted(path.glob("*.csv")):
            check_file(member, limits)
        with using(limits):
            return read_csv_tables(path, limits), CsvLocator()
    if path.suffix.lower() == ".xlsx" and path.is_file():
        from outopt.instance.io.excel import ExcelLocator, read_tables, workbook_sheets

        limits = check_file(path, limits)
        try:
            if not is_company_tables(workbook_sheets(path)):
                return None
            return read_tables(path, limits, known=company_sheet_names()), ExcelLocator()
        except InputError as err:
            raise err.with_source(err.source or str(path)) from None
    return None


def company_from_tables(tables, locator, base: Path | None = None, source: str | None = None) -> Company:
    """Validate a company's tables (:mod:`outopt.instance.io.company`); every problem names its cell."""
    try:
        data, place = company_data_from_tables(tables, locator)
    except InputError as err:
        raise err.with_source(source) from None
    try:
        return company_from_data(data, base=base, source=source)
    except InputError as err:
        raise InputError([Problem(place(p.where), p.message) for p in err.problems], source) from None


def save_company(company: Company, path: str | Path) -> None:
    """Write a company, format by extension: YAML or JSON with every division inline (one file that
    stands alone), an Excel workbook or a folder of CSV files (:mod:`outopt.instance.io.company`)."""
    path = Path(path)
    fmt = instance_format(path, writing=True)
    if fmt in TEXT_FORMATS:
        inline = company.model_copy(update={"divisions": [d.model_copy(update={"path": None}) for d in company.divisions]})
        dump_text(inline, path)
    elif fmt == ".xlsx":
        from outopt.instance.io.excel import write_company_excel

        write_company_excel(company_to_tables(company), path)
    elif fmt == CSV_FOLDER:
        write_csv_tables(company_to_tables(company), path)
    else:
        raise InputError([Problem("", f"unsupported file type '{path.suffix}'; use {FORMATS}")], str(path))


def company_from_data(data: Any, base: Path | None = None, source: str | None = None) -> Company:
    """Validate plain company data; division paths are resolved against ``base``."""
    if not isinstance(data, Mapping):
        raise InputError([Problem("", "the top level must be a mapping with `divisions`")], source)
    problems: list[Problem] = []
    nested: list[Problem] = []  # problems inside division files, named with their file
    raw = data.get("divisions")
    divisions: list[dict] = []
    if not isinstance(raw, list) or not raw:
        problems.append(Problem("divisions", "must be a non-empty list of {path: FILE} or {instance: {...}}"))
        raw = []
    for i, entry in enumerate(raw):
        where = f"divisions[{i}]"
        if isinstance(entry, str):
            entry = {"path": entry}
        if not isinstance(entry, Mapping):
            problems.append(Problem(where, "must be {path: FILE} or {id: ..., instance: {...}}"))
            continue
        extra = set(entry) - {"id", "path", "instance"}
        if extra:
            problems.append(Problem(f"{where}.{sorted(extra)[0]}", "unknown field; use id, path or instance"))
            continue
        if ("path" in entry) == ("instance" in entry):
            problems.append(Problem(where, "give exactly one of `path` (an instance file) or `instance` (inline)"))
            continue
        if "path" in entry:
            inst = _division_file(str(entry["path"]), base, f"{where}.path", problems, nested)
            if inst is None:
                continue
            default_id = Path(str(entry["path"])).stem
        else:
            try:  # plain data, or an instance read from a company's tables
                inst = entry["instance"] if isinstance(entry["instance"], Instance) else instance_from_data(
                    entry["instance"])
            except InputError as err:
                problems.extend(Problem(f"{where}.instance.{p.where}".rstrip("."), p.message) for p in err.problems)
                continue
            default_id = inst.name
        divisions.append({"id": entry.get("id", default_id), "path": entry.get("path"), "instance": inst})

    company = None
    if not problems:
        fields = {k: v for k, v in data.items() if k != "divisions"}
        try:
            company = Company.model_validate({**fields, "divisions": divisions})
        except ValidationError as err:
            problems.extend(problems_from_validation_error(err))
    if company is not None:
        problems.extend(check_company(company))
    if problems:
        # nested file problems first, each already naming its own file
        raise InputError(nested + problems, source)
    return company


DIVISION_DIRS = "OUTOPT_DIVISION_DIRS"
"""Environment variable: folders (separated by the system's path separator) that division files may be
in besides the company file's own folder."""


def division_path(rel: str, base: Path | None) -> Path | None:
    """The file a division path names, or None when it is outside the company file's folder (and
    outside every folder of ``OUTOPT_DIVISION_DIRS``). Links are followed before judging, so a link
    inside the folder to a file outside it is outside."""
    base = (base or Path(".")).resolve()
    file = (base / rel).resolve()
    roots = [base] + [Path(d).resolve() for d in os.environ.get(DIVISION_DIRS, "").split(os.pathsep) if d.strip()]
    return file if any(file.is_relative_to(root) for root in roots) else None


def _division_file(rel: str, base: Path | None, where: str, problems: list[Problem],
                   nested: list[Problem]) -> Instance | None:
    """Load one division file; its problems go to ``nested`` (named with the file) when it is an
    instance file, and only as a summary to ``problems`` otherwise: a file that is not an instance
    (a credentials file, /etc/passwd) never has its keys or values printed back."""
    file = division_path(rel, base)
    if file is None:
        problems.append(Problem(where, f"'{rel}' is outside the company file's folder; a division file must be in "
                                       f"that folder or below it (or in a folder named in {DIVISION_DIRS})"))
        return None
    if not file.is_file():
        problems.append(Problem(where, f"file not found: {(base or Path('.')) / rel}"))
        return None
    try:
        if file.suffix.lower() not in TEXT_FORMATS:
            return load(file)
        data = read_text(file)
    except InputError as err:
        if len(err.problems) == 1 and not err.problems[0].where:  # the file as a whole: size, type, encoding
            problems.append(Problem(where, f"{rel}: {err.problems[0].message}"))
        else:  # a place in a file that may not be an instance: not its text
            at = "; ".join(p.where for p in err.problems[:3] if p.where)
            nested_or = f" ({at})" if at else ""
            problems.append(Problem(where, f"{rel} is invalid{nested_or}; run `outopt validate {rel}` for the details"))
        return None
    if not isinstance(data, Mapping) or "functions" not in data:
        problems.append(Problem(where, f"{rel} is not an instance file (it has no `functions`)"))
        return None
    try:
        return instance_from_data(data)
    except InputError as err:
        nested.extend(Problem(f"{file}: {p.where}" if p.where else str(file), p.message) for p in err.problems)
        n = len(err.problems)
        problems.append(Problem(where, f"{rel} is invalid ({n} problem{'s' if n != 1 else ''})"))
        return None


def check_company(company: Company) -> list[Problem]:
    """Cross-division checks: unique ids, one currency and horizon, one set of terms per vendor."""
    problems: list[Problem] = []
    seen: dict[str, int] = {}
    for i, d in enumerate(company.divisions):
        if d.id in seen:
            problems.append(Problem(f"divisions[{i}].id", f"duplicate division id '{d.id}' (also divisions[{seen[d.id]}])"))
        seen.setdefault(d.id, i)
    first = company.divisions[0].instance
    for i, d in enumerate(company.divisions[1:], start=1):
        if d.instance.currency != first.currency:
            problems.append(Problem(f"divisions[{i}]", f"currency {d.instance.currency} differs from {first.currency}"))
        if d.instance.horizon != first.horizon:
            problems.append(Problem(f"divisions[{i}]", f"horizon {d.instance.horizon:g} differs from {first.horizon:g}"))
    terms: dict[str, tuple[float, float, str]] = {}
    for i, d in enumerate(company.divisions):
        for j, v in enumerate(d.instance.vendors):
            if v.id not in terms:
                terms[v.id] = (v.retainer, v.onboarding, d.id)
                continue
            retainer, onboarding, other = terms[v.id]
            for name, mine, theirs in (("retainer", v.retainer, retainer), ("onboarding", v.onboarding, onboarding)):
                if mine != theirs:
                    problems.append(Problem(
                        f"divisions[{i}].vendors[{j}].{name}",
                        f"vendor '{v.id}' has {name} {mine:g} here but {theirs:g} in division '{other}'; "
                        "a vendor's retainer and onboarding are paid once for the company, so make them equal",
                    ))
    for i, d in enumerate(company.divisions):
        if any(soft.priority is not None for soft in d.instance.soft_rules().values()):
            problems.append(Problem(
                f"divisions[{i}]", "soft rules with a `priority` are not supported in a company (the joint model "
                "weighs all divisions in one objective); give them a `penalty` instead"))
        if d.instance.roadmap is not None:  # issue 16: a roadmap is planned alone, not inside a company
            problems.append(Problem(
                f"divisions[{i}].roadmap", "a division cannot have a `roadmap` (the company model plans one steady "
                "state); solve the division's roadmap alone with `outopt solve`"))
    for vid, shared in company.vendors.items():
        if vid not in terms:
            problems.append(Problem(f"vendors.{vid}", f"vendor '{vid}' is in no division"))
        if shared.max_share is not None and shared.max_share < MIN_SHARE:
            problems.append(Problem(f"vendors.{vid}.max_share", f"{shared.max_share:g} is below {MIN_SHARE:g}, the "
                                    "smallest share outopt accepts (shares are met within a billionth of total "
                                    f"spend); set at least {MIN_SHARE:g}"))
    return problems


TEXT_FORMATS = (".yaml", ".yml", ".json")
"""Company files are YAML or JSON (their divisions may be in any instance format)."""


def load_any(path: str | Path) -> Instance | Company:
    """Load an instance file, or a company file (detected by its top-level `divisions` key)."""
    path = Path(path)
    if path.suffix.lower() in TEXT_FORMATS and path.is_file():
        with gc_paused():
            return instance_or_company(read_text(path), path)
    if path.exists():
        found = company_tables(path)
        if found is not None:
            with gc_paused():
                return company_from_tables(*found, base=path.parent if path.is_file() else path, source=str(path))
    return load(path)


def save_any(loaded: Instance | Company, path: str | Path) -> None:
    """Write an instance or a company, format by extension."""
    if isinstance(loaded, Company):
        save_company(loaded, path)
    else:
        save(loaded, path)


def instance_or_company(data: Any, path: Path) -> Instance | Company:
    """The instance or company in plain data read from ``path`` (validated from what was read:
    loading the path would read the file again)."""
    if is_company_data(data):
        return company_from_data(data, base=path.parent, source=str(path))
    try:
        return instance_from_data(data)
    except InputError as err:
        raise err.with_source(str(path)) from None


def input_hash(path: str | Path, limits: ReadLimits | None = None) -> str:
    """sha256 of an input's content; for a company file, of it and every division file it names.

    Files are checked against the read limits first (raising :class:`InputError` for a file over
    the size limit, never reading it) and hashed in chunks, so hashing costs no memory; division
    files outside the company file's folder are not read."""
    path = Path(path)
    limits = check_file(path, limits)
    h = hashlib.sha256()
    _hash_into(h, path)
    try:
        data = read_text(path, limits)
    except InputError:  # an unreadable file is hashed by its bytes only
        return h.hexdigest()
    if is_company_data(data) and isinstance(data["divisions"], list):
        for entry in data["divisions"]:
            rel = entry if isinstance(entry, str) else entry.get("path") if isinstance(entry, Mapping) else None
            file = division_path(str(rel), path.parent) if rel is not None else None
            if file is not None and file.is_file():
                try:
                    check_file(file, limits)
                except InputError:
                    continue
                _hash_into(h, file)
    return h.hexdigest()


def _hash_into(h, path: Path) -> None:
    with path.open("rb") as f:
        while chunk := f.read(1 << 20):
            h.update(chunk)
