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

:func:`verify_company` is the independent company verifier: plain Python, reusing
:func:`outopt.verify.verify` per division plus the corporate checks and the shared
retainer/onboarding accounting. The joint model is in :mod:`outopt.model.company`.
"""

from __future__ import annotations

import hashlib
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from pydantic import Field, ValidationError

from outopt.errors import InputError, Problem
from outopt.schema import INHOUSE, Budget, Id, Instance, NonNegative, _Frozen
from outopt.validation import instance_from_data, problems_from_validation_error
from outopt.verify import Verification, verify

CompanyPlan = dict[str, dict[str, str]]
"""A company plan: division id -> (function id -> provider)."""


class SharedVendor(_Frozen):
    """Company-wide limits on one vendor, over all divisions together."""

    capacity: NonNegative | None = Field(
        None, description="Capacity in the vendor's units shared by all divisions' offer loads (absent = unlimited)."
    )
    max_share: float | None = Field(
        None, gt=0, le=1, description="At most this share (0, 1] of the company's total outsourced spend."
    )


class Division(_Frozen):
    """One division: an id and its instance (loaded from its file or given inline)."""

    id: Id = Field(description="Division id, unique in the company (default: the file's stem or the instance name).")
    path: str | None = Field(None, description="The instance file it was read from, relative to the company file.")
    instance: Instance = Field(description="The division's instance.")


class Company(_Frozen):
    """A multi-division company: divisions plus corporate budget, shared vendor limits and vendor count."""

    name: str = Field(description="Company name.")
    budget: Budget = Field(default_factory=Budget, description="Corporate budgets across all divisions (currency).")
    vendors: dict[Id, SharedVendor] = Field(
        default_factory=dict, description="Company-wide vendor limits by vendor id."
    )
    max_vendors: int | None = Field(None, ge=0, description="At most this many vendors engaged company-wide.")
    divisions: list[Division] = Field(min_length=1, description="The divisions.")

    @property
    def currency(self) -> str:
        return self.divisions[0].instance.currency

    @property
    def horizon(self) -> float:
        return self.divisions[0].instance.horizon

    def division(self, did: str) -> Division:
        return next(d for d in self.divisions if d.id == did)

    def vendor_terms(self) -> dict[str, tuple[float, float]]:
        """(retainer, onboarding) of every vendor any division lists (equal across divisions, validated)."""
        terms: dict[str, tuple[float, float]] = {}
        for d in self.divisions:
            for v in d.instance.vendors:
                terms.setdefault(v.id, (v.retainer, v.onboarding))
        return terms

    def served_now(self) -> set[str]:
        """Vendors serving some function of some division in the status quo (no onboarding)."""
        return {
            f.current for d in self.divisions for f in d.instance.functions if f.current not in (None, INHOUSE)
        }


def is_company_data(data: Any) -> bool:
    """A company file is a mapping with a top-level `divisions` key."""
    return isinstance(data, Mapping) and "divisions" in data


def division_view(instance: Instance) -> Instance:
    """The division as the joint model sees it: retainers and onboarding are corporate, so 0 here."""
    if not any(v.retainer or v.onboarding for v in instance.vendors):
        return instance
    vendors = [v.model_copy(update={"retainer": 0.0, "onboarding": 0.0}) for v in instance.vendors]
    return instance.model_copy(update={"vendors": vendors})


# --- loading and validation ---------------------------------------------------------


def load_company(path: str | Path) -> Company:
    """Read a company file and its division files; raise :class:`InputError` listing every problem.

    Problems in the company file are named by their place (``divisions[2].path: file not
    found``); problems inside a division file are named with that file.
    """
    from outopt.io.text import read_text

    path = Path(path)
    if path.suffix.lower() not in TEXT_FORMATS:
        raise InputError([Problem("", f"unsupported file type '{path.suffix}'; a company file is YAML or JSON")], str(path))
    if not path.exists():
        raise InputError([Problem("", "file not found")], str(path))
    data = read_text(path)
    return company_from_data(data, base=path.parent, source=str(path))


def company_from_data(data: Any, base: Path | None = None, source: str | None = None) -> Company:
    """Validate plain company data; division paths are resolved against ``base``."""
    from outopt.io import load

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
            file = (base or Path(".")) / str(entry["path"])
            if not file.is_file():
                problems.append(Problem(f"{where}.path", f"file not found: {file}"))
                continue
            try:
                inst = load(file)
            except InputError as err:
                src = err.source or str(file)
                nested.extend(Problem(f"{src}: {p.where}" if p.where else src, p.message) for p in err.problems)
                problems.append(Problem(f"{where}.path", f"{file} is invalid ({len(err.problems)} problems)"))
                continue
            default_id = Path(str(entry["path"])).stem
        else:
            try:
                inst = instance_from_data(entry["instance"])
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
    from outopt.model.data import compile_data

    for i, d in enumerate(company.divisions):
        if any(soft.priority is not None for soft in compile_data(d.instance).soft.values()):
            problems.append(Problem(
                f"divisions[{i}]", "soft rules with a `priority` are not supported in a company (the joint model "
                "weighs all divisions in one objective); give them a `penalty` instead"))
    for vid in company.vendors:
        if vid not in terms:
            problems.append(Problem(f"vendors.{vid}", f"vendor '{vid}' is in no division"))
    return problems


TEXT_FORMATS = (".yaml", ".yml", ".json")
"""Company files are YAML or JSON (their divisions may be in any instance format)."""


def load_any(path: str | Path) -> Instance | Company:
    """Load an instance file, or a company file (detected by its top-level `divisions` key)."""
    from outopt.io import gc_paused, load
    from outopt.io.text import read_text

    path = Path(path)
    if path.suffix.lower() in TEXT_FORMATS and path.is_file():
        with gc_paused():
            data = read_text(path)
            if is_company_data(data):
                return company_from_data(data, base=path.parent, source=str(path))
            try:  # an instance: validated from what was read (load(path) would read the file again)
                return instance_from_data(data)
            except InputError as err:
                raise err.with_source(str(path)) from None
    return load(path)


def input_hash(path: str | Path) -> str:
    """sha256 of an input's content; for a company file, of it and every division file it names."""
    path = Path(path)
    h = hashlib.sha256(path.read_bytes())
    try:
        from outopt.io.text import read_text

        data = read_text(path)
    except Exception:  # an unreadable file is hashed by its bytes only
        return h.hexdigest()
    if is_company_data(data) and isinstance(data["divisions"], list):
        for entry in data["divisions"]:
            rel = entry if isinstance(entry, str) else entry.get("path") if isinstance(entry, Mapping) else None
            file = path.parent / str(rel) if rel is not None else None
            if file is not None and file.is_file():
                h.update(file.read_bytes())
    return h.hexdigest()


# --- the independent company verifier -----------------------------------------------


def _tol(limit: float) -> float:
    return 1e-6 * max(1.0, abs(limit))


@dataclass
class CompanyVerification:
    """What the company verifier found: per-division checks, corporate figures and broken rules."""

    objective: float  # net yearly benefit of the company against all in-house
    operating_cost: float  # recurring cost per year, with retainers paid once
    transition_cost: float  # one-off cost, with onboarding paid once
    engaged: list[str]  # vendors engaged by any division
    spend: dict[str, float]  # company spend per engaged vendor (offers + commissions + one retainer)
    vendor_load: dict[str, float]
    divisions: dict[str, Verification]  # per division, retainers and onboarding left to the company
    violations: list[str] = field(default_factory=list)

    @property
    def feasible(self) -> bool:
        return not self.violations


def verify_company(company: Company, plans: Mapping[str, Mapping[str, str]]) -> CompanyVerification:
    """Recompute a company plan from the raw company and list every broken division and corporate rule."""
    violations: list[str] = []
    known = {d.id for d in company.divisions}
    for did in plans:
        if did not in known:
            violations.append(f"plan names division '{did}', which is not in the company")
    checks: dict[str, Verification] = {}
    for d in company.divisions:
        check = verify(division_view(d.instance), plans.get(d.id, {}))
        checks[d.id] = check
        violations.extend(f"{d.id}: {v}" for v in check.violations)

    terms = company.vendor_terms()
    served = company.served_now()
    H = company.horizon
    engaged: list[str] = []
    spend: dict[str, float] = {}
    load: dict[str, float] = {}
    for check in checks.values():
        for v in check.engaged:
            if v not in engaged:
                engaged.append(v)
            spend[v] = spend.get(v, 0.0) + check.spend[v]
            load[v] = load.get(v, 0.0) + check.vendor_load[v]
    operating = sum(c.operating_cost for c in checks.values())
    transition = sum(c.transition_cost for c in checks.values())
    objective = sum(c.objective for c in checks.values())
    for v in engaged:
        retainer, onboarding = terms[v]
        onboarding = 0.0 if v in served else onboarding
        operating += retainer
        transition += onboarding
        spend[v] += retainer
        objective -= retainer + onboarding / H

    b = company.budget
    if b.operating is not None and operating > b.operating + _tol(b.operating):
        violations.append(f"budget.operating: corporate recurring cost {operating:,.2f} exceeds {b.operating:,.2f}")
    if b.transition is not None and transition > b.transition + _tol(b.transition):
        violations.append(f"budget.transition: corporate one-off cost {transition:,.2f} exceeds {b.transition:,.2f}")
    total = sum(spend.values())
    for vid, lim in company.vendors.items():
        if lim.capacity is not None and load.get(vid, 0.0) > lim.capacity + _tol(lim.capacity):
            violations.append(f"vendors.{vid}.capacity: company load {load[vid]:g} of {lim.capacity:g}")
        if lim.max_share is not None and spend.get(vid, 0.0) > lim.max_share * total + _tol(total):
            violations.append(
                f"vendors.{vid}.max_share: {spend[vid] / total:.2%} of company outsourced spend, above {lim.max_share:.2%}"
            )
    if company.max_vendors is not None and len(engaged) > company.max_vendors:
        violations.append(f"max_vendors: {len(engaged)} vendors engaged company-wide, at most {company.max_vendors}")
    return CompanyVerification(
        objective=objective, operating_cost=operating, transition_cost=transition, engaged=engaged,
        spend=spend, vendor_load=load, divisions=checks, violations=violations,
    )
