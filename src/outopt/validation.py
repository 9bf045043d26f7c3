"""Validation of instances: the schema (pydantic) first, then cross-table checks.

Each cross-table check is a small function that returns the problems it finds;
:func:`check_instance` runs them all and raises one :class:`InputError` listing
every problem, each naming its place in the file (``offers[3].vendor``) and the fix.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any

from pydantic import ValidationError

from outopt.errors import InputError, Problem
from outopt.schema import INHOUSE, Instance


def location(loc: Iterable[Any]) -> str:
    """Render a pydantic location tuple as ``offers[3].vendor``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field; check its spelling against the format in the README",
    "finite_number": "must be a finite number, not NaN or infinity",
}


def _problem(error: dict) -> Problem:
    kind = error["type"]
    message = _MESSAGES.get(kind)
    if message is None:
        message = error["msg"]
        value = error.get("input")
        if isinstance(value, (str, int, float, bool)) or value is None:
            message += f" (got {value!r})"
    return Problem(location(error["loc"]), message)


def problems_from_validation_error(err: ValidationError, prefix: Iterable[Any] = ()) -> list[Problem]:
    prefix = tuple(prefix)
    return [
        _problem({**e, "loc": prefix + tuple(e["loc"])})
        for e in err.errors(include_url=False)
    ]


def instance_from_data(data: Any) -> Instance:
    """Validate plain data (as read from YAML/JSON) into an :class:`Instance`."""
    if not isinstance(data, dict):
        kind = "a list" if isinstance(data, list) else type(data).__name__
        raise InputError([Problem("", f"the top level must be a mapping of fields (name, functions, ...), got {kind}")])
    try:
        instance = Instance.model_validate(data)
    except ValidationError as err:
        raise InputError(problems_from_validation_error(err)) from None
    check_instance(instance)
    return instance


# --- cross-table checks -------------------------------------------------------------


def check_duplicate_ids(inst: Instance) -> list[Problem]:
    problems = []
    for table in ("resources", "functions", "vendors"):
        rows = getattr(inst, table)
        counts = Counter(r.id for r in rows)
        seen: set[str] = set()
        for i, row in enumerate(rows):
            if counts[row.id] > 1 and row.id in seen:
                problems.append(Problem(f"{table}[{i}].id", f"duplicate id '{row.id}'; ids must be unique"))
            seen.add(row.id)
    pairs: dict[tuple[str, str], int] = {}
    for i, o in enumerate(inst.offers):
        key = (o.function, o.vendor)
        if key in pairs:
            problems.append(
                Problem(
                    f"offers[{i}]",
                    f"duplicate offer for function '{o.function}' and vendor '{o.vendor}' "
                    f"(also offers[{pairs[key]}]); keep one offer per pair",
                )
            )
        else:
            pairs[key] = i
    return problems


def check_reserved_ids(inst: Instance) -> list[Problem]:
    return [
        Problem(f"vendors[{i}].id", f"'{INHOUSE}' is reserved for the in-house option; rename the vendor")
        for i, v in enumerate(inst.vendors)
        if v.id == INHOUSE
    ]


def check_offer_references(inst: Instance) -> list[Problem]:
    functions = {f.id for f in inst.functions}
    vendors = {v.id for v in inst.vendors}
    problems = []
    for i, o in enumerate(inst.offers):
        if o.function not in functions:
            problems.append(Problem(f"offers[{i}].function", f"function '{o.function}' is not in functions"))
        if o.vendor not in vendors:
            problems.append(Problem(f"offers[{i}].vendor", f"vendor '{o.vendor}' is not in vendors"))
    return problems


def check_resource_uses(inst: Instance) -> list[Problem]:
    resources = {r.id for r in inst.resources}
    return [
        Problem(f"functions[{i}].inhouse.uses.{rid}", f"resource '{rid}' is not in resources")
        for i, f in enumerate(inst.functions)
        if f.inhouse is not None
        for rid in f.inhouse.uses
        if rid not in resources
    ]


def check_current_providers(inst: Instance) -> list[Problem]:
    vendors = {v.id for v in inst.vendors}
    offered = {(o.function, o.vendor) for o in inst.offers}
    problems = []
    for i, f in enumerate(inst.functions):
        where = f"functions[{i}].current"
        if f.current is None:
            continue
        if f.current == INHOUSE:
            if f.inhouse is None:
                problems.append(Problem(where, f"'{f.id}' is current in-house but has no in-house option; add `inhouse`"))
        elif f.current not in vendors:
            problems.append(Problem(where, f"vendor '{f.current}' is not in vendors (use 'inhouse' or a vendor id)"))
        elif (f.id, f.current) not in offered:
            problems.append(
                Problem(where, f"current vendor '{f.current}' has no offer for '{f.id}'; add the offer it runs under")
            )
    return problems


def check_function_options(inst: Instance) -> list[Problem]:
    offered = {o.function for o in inst.offers}
    problems = []
    for i, f in enumerate(inst.functions):
        if f.core and f.inhouse is None:
            problems.append(
                Problem(f"functions[{i}].core", f"core function '{f.id}' has no in-house option; add `inhouse`")
            )
        elif f.inhouse is None and f.id not in offered:
            problems.append(
                Problem(
                    f"functions[{i}].inhouse",
                    f"function '{f.id}' has no in-house option and no offer; add one or the other",
                )
            )
    return problems


def check_rule_groups(inst: Instance) -> list[Problem]:
    functions = {f.id for f in inst.functions}
    problems = []
    for kind in ("separate", "together"):
        for g, group in enumerate(getattr(inst.rules, kind)):
            where = f"rules.{kind}[{g}]"
            if len(group) < 2:
                problems.append(Problem(where, "a group needs at least two functions"))
            counts = Counter(group)
            for k, fid in enumerate(group):
                if fid not in functions:
                    problems.append(Problem(f"{where}[{k}]", f"function '{fid}' is not in functions"))
            for fid, n in counts.items():
                if n > 1:
                    problems.append(Problem(where, f"function '{fid}' is listed {n} times"))
    return problems


CHECKS: list[Callable[[Instance], list[Problem]]] = [
    check_duplicate_ids,
    check_reserved_ids,
    check_offer_references,
    check_resource_uses,
    check_current_providers,
    check_function_options,
    check_rule_groups,
]


def check_instance(inst: Instance) -> None:
    """Run every cross-table check; raise one :class:`InputError` listing all problems."""
    problems = [p for check in CHECKS for p in check(inst)]
    if problems:
        raise InputError(problems)
