"""Validation of instances: the schema (pydantic) first, then cross-table checks.

Each cross-table check is a small function that returns the problems it finds;
:func:`check_instance` runs them all and raises one :class:`InputError` listing
every problem, each naming its place in the file (``offers[3].vendor``) and the fix.
"""

from __future__ import annotations

import difflib
from collections import Counter
from collections.abc import Callable, Iterable
from typing import Any, get_args

from pydantic import BaseModel, ValidationError

from outopt.errors import InputError, Problem
from outopt.instance.numerics import MAX_AMOUNT, MIN_SHARE
from outopt.instance.salvage import salvaged_problems
from outopt.instance.roadmap import check_roadmap
from outopt.instance.schema import INHOUSE, FunctionGroup, Instance

RANGE_MESSAGE = (f"must be at most {MAX_AMOUNT:.0e} in absolute value, outopt's range of numbers "
                 "(the manual, Numerical policy)")


def location(loc: Iterable[Any]) -> str:
    """Render a pydantic location tuple as ``offers[3].vendor``."""
    out = ""
    for part in loc:
        if isinstance(part, str) and part.startswith("<") and part.endswith(">"):
            continue  # the tag of a union's branch (e.g. a group written as ids or as a mapping)
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


_MESSAGES = {
    "missing": "required field is missing",
    "extra_forbidden": "unknown field; check its spelling against the instance format in the manual",
    "finite_number": "must be a finite number, not NaN or infinity",
}


SHOWN_CHARS = 60
"""A wrong value is quoted in its message up to this many characters (a 200 MB cell was repeated whole)."""


def _shown(value) -> str:
    if isinstance(value, str) and len(value) > SHOWN_CHARS:
        return f"{value[:SHOWN_CHARS]!r}... ({len(value):,} characters)"
    return repr(value)


def _out_of_range(error: dict) -> bool:
    """A number beyond outopt's range of magnitudes (the schema's bound at +-MAX_AMOUNT)."""
    bound = (error.get("ctx") or {}).get("le" if error["type"] == "less_than_equal" else "ge")
    return error["type"] in ("less_than_equal", "greater_than_equal") and bound is not None \
        and abs(float(bound)) == MAX_AMOUNT


def _fields_at(loc: Iterable[Any]) -> list[str]:
    """The field names of the model at a location (``functions[0].inhouse`` -> InHouse's), [] if none."""
    models = [Instance]
    for part in loc:
        if isinstance(part, int) or (isinstance(part, str) and part.startswith("<")):
            continue
        models = [m for model in models if part in getattr(model, "model_fields", {})
                  for m in _models_in(model.model_fields[part].annotation)]
    return [name for model in models for name in model.model_fields]


def _models_in(annotation: Any) -> list[type]:
    """The pydantic models an annotation holds (through lists, optionals, unions and Annotated)."""
    if isinstance(annotation, type) and issubclass(annotation, BaseModel):
        return [annotation]
    return [m for arg in get_args(annotation) for m in _models_in(arg)]


def did_you_mean(value: str, known: Iterable[str]) -> str:
    """``did you mean 'alpha'?`` for the closest of ``known`` to ``value``, or "" when none is close."""
    close = difflib.get_close_matches(value, list(known), n=1)
    return f"did you mean '{close[0]}'?" if close else ""


def _problem(error: dict) -> Problem:
    kind = error["type"]
    message = _MESSAGES.get(kind)
    if kind == "extra_forbidden" and error["loc"]:
        hint = did_you_mean(str(error["loc"][-1]), _fields_at(error["loc"][:-1]))
        if hint:
            message = f"unknown field; {hint}"
    if _out_of_range(error):
        value = error.get("input")
        try:
            message = f"{RANGE_MESSAGE} (got {float(value):g})"
        except (TypeError, ValueError, OverflowError):
            message = f"{RANGE_MESSAGE} (got {value!r})"
    if message is None:
        message = error["msg"]
        value = error.get("input")
        if isinstance(value, (str, int, float, bool)) or value is None:
            message += f" (got {_shown(value)})"
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
        # the rows that parsed get the cross-table checks too: every problem at once
        raise InputError(problems_from_validation_error(err) + salvaged_problems(data, CHECKS, location)) from None
    check_instance(instance)
    return instance


class _Unknown:
    """The message of an id that is not in its table, with the closest known id when one is close
    (``vendor 'alpah' is not in vendors; did you mean 'alpha'?``). Looked up for the first ``LOOKUPS`` ids
    of a check only: 20 problems are shown, and 30,000 look-ups among 2,000 ids would take minutes."""

    LOOKUPS = 100

    def __init__(self, kind: str, known: set[str], provider: bool = False):
        self.kind, self.known, self.provider = kind, known, provider
        self.left = self.LOOKUPS

    def __contains__(self, value: str) -> bool:
        return value in self.known

    def __call__(self, value: str) -> str:
        text = f"{self.kind} '{value}' is not in {self.kind}s"
        hint = ""
        if self.left > 0:
            self.left -= 1
            hint = did_you_mean(value, sorted(self.known) + ([INHOUSE] if self.provider else []))
        if hint:
            return f"{text}; {hint}"
        return text + (" (use 'inhouse' or a vendor id)" if self.provider else "")


# --- cross-table checks -------------------------------------------------------------


def _offered(inst: Instance) -> set[tuple[str, str]]:
    """The (function, vendor) pairs with an offer (built only by checks that need it: 300,000 offers)."""
    return {(o.function, o.vendor) for o in inst.offers}


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
    keys = [(o.function, o.vendor) for o in inst.offers]
    if len(set(keys)) == len(keys):
        return problems
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
    no_function, no_vendor = _Unknown("function", functions), _Unknown("vendor", vendors)
    problems = []
    for i, o in enumerate(inst.offers):
        if o.function not in functions:
            problems.append(Problem(f"offers[{i}].function", no_function(o.function)))
        if o.vendor not in vendors:
            problems.append(Problem(f"offers[{i}].vendor", no_vendor(o.vendor)))
    return problems


def check_resource_uses(inst: Instance) -> list[Problem]:
    resources = {r.id for r in inst.resources}
    no_resource = _Unknown("resource", resources)
    return [
        Problem(f"functions[{i}].inhouse.uses.{rid}", no_resource(rid))
        for i, f in enumerate(inst.functions)
        if f.inhouse is not None
        for rid in f.inhouse.uses
        if rid not in resources
    ]


def check_current_providers(inst: Instance) -> list[Problem]:
    vendors = {v.id for v in inst.vendors}
    offered = _offered(inst) if any(f.current in vendors for f in inst.functions) else set()
    no_vendor = _Unknown("vendor", vendors, provider=True)
    problems = []
    for i, f in enumerate(inst.functions):
        where = f"functions[{i}].current"
        if f.current is None:
            continue
        if f.current == INHOUSE:
            if f.inhouse is None:
                problems.append(Problem(where, f"'{f.id}' is current in-house but has no in-house option; add `inhouse`"))
        elif f.current not in vendors:
            problems.append(Problem(where, no_vendor(f.current)))
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


def _function_group(where: str, group: list[str], functions: _Unknown, item: str = "") -> list[Problem]:
    """A list of two or more known, distinct functions; ``item`` is the list's own key, if any."""
    problems = []
    if len(group) < 2:
        problems.append(Problem(where, "a group needs at least two functions"))
    for k, fid in enumerate(group):
        if fid not in functions:
            problems.append(Problem(f"{where}{item}[{k}]", functions(fid)))
    for fid, n in Counter(group).items():
        if n > 1:
            problems.append(Problem(where, f"function '{fid}' is listed {n} times"))
    return problems


def check_rule_groups(inst: Instance) -> list[Problem]:
    functions = _Unknown("function", {f.id for f in inst.functions})
    problems = []
    for kind in ("separate", "together"):
        for g, group in enumerate(getattr(inst.rules, kind)):
            if isinstance(group, FunctionGroup):
                problems += _function_group(f"rules.{kind}[{g}]", group.functions, functions, ".functions")
            else:
                problems += _function_group(f"rules.{kind}[{g}]", group, functions)
    for g, ex in enumerate(inst.rules.exclusive):
        problems += _function_group(f"rules.exclusive[{g}]", ex.functions, functions, ".functions")
    return problems


def check_discounts(inst: Instance) -> list[Problem]:
    problems = []
    for i, v in enumerate(inst.vendors):
        for t in range(1, len(v.discounts)):
            prev, tier = v.discounts[t - 1], v.discounts[t]
            where = f"vendors[{i}].discounts[{t}]"
            if tier.threshold <= prev.threshold:
                problems.append(Problem(f"{where}.threshold",
                                        f"thresholds must increase; {tier.threshold:g} is not above {prev.threshold:g}"))
            if tier.percent <= prev.percent:
                problems.append(Problem(f"{where}.percent",
                                        f"percents must increase with the threshold; {tier.percent:g} is not above {prev.percent:g}"))
    return problems


def check_bundles(inst: Instance) -> list[Problem]:
    functions = {f.id: f for f in inst.functions}
    known = _Unknown("function", set(functions))
    offered = _offered(inst) if any(v.bundles for v in inst.vendors) else set()
    problems = []
    for i, v in enumerate(inst.vendors):
        bundled: dict[str, int] = {}
        ids = Counter(b.id for b in v.bundles if b.id is not None)
        for k, b in enumerate(v.bundles):
            where = f"vendors[{i}].bundles[{k}]"
            if b.id is not None and ids[b.id] > 1:
                problems.append(Problem(f"{where}.id", f"duplicate bundle id '{b.id}' in vendor '{v.id}'"))
            problems += _function_group(where, b.functions, known, ".functions")
            for j, fid in enumerate(b.functions):
                if fid not in functions:
                    continue
                if (fid, v.id) not in offered:
                    problems.append(Problem(f"{where}.functions[{j}]",
                                            f"vendor '{v.id}' has no offer for '{fid}'; add the offer or drop it from the bundle"))
                elif functions[fid].core:
                    problems.append(Problem(f"{where}.functions[{j}]", f"'{fid}' is core and cannot be in a bundle"))
                if fid in bundled and bundled[fid] != k:
                    problems.append(Problem(f"{where}.functions[{j}]",
                                            f"'{fid}' is already in bundles[{bundled[fid]}] of '{v.id}'; a function is in one bundle per vendor"))
                bundled.setdefault(fid, k)
    return problems


def check_commitments(inst: Instance) -> list[Problem]:
    offers = Counter(o.vendor for o in inst.offers)
    return [
        Problem(f"vendors[{i}].min_functions",
                f"vendor '{v.id}' has {offers[v.id]} offer(s), fewer than min_functions {v.min_functions}")
        for i, v in enumerate(inst.vendors)
        if v.min_functions is not None and v.min_functions > offers[v.id]
    ]


def check_vendor_groups(inst: Instance) -> list[Problem]:
    vendors = _Unknown("vendor", {v.id for v in inst.vendors})
    counts = Counter(g.id for g in inst.vendor_groups)
    problems = []
    for g, group in enumerate(inst.vendor_groups):
        where = f"vendor_groups[{g}]"
        if counts[group.id] > 1 and any(h.id == group.id for h in inst.vendor_groups[:g]):
            problems.append(Problem(f"{where}.id", f"duplicate id '{group.id}'; ids must be unique"))
        for k, vid in enumerate(group.vendors):
            if vid not in vendors:
                problems.append(Problem(f"{where}.vendors[{k}]", vendors(vid)))
        for vid, n in Counter(group.vendors).items():
            if n > 1:
                problems.append(Problem(f"{where}.vendors", f"vendor '{vid}' is listed {n} times"))
        quotas = (group.min_share, group.max_share, group.min_count, group.max_count)
        if all(q is None for q in quotas):
            problems.append(Problem(where, "give at least one of min_share, max_share, min_count, max_count"))
        for lo, hi in (("min_share", "max_share"), ("min_count", "max_count")):
            a, b = getattr(group, lo), getattr(group, hi)
            if a is not None and b is not None and a > b:
                problems.append(Problem(f"{where}.{lo}", f"{lo} {a:g} is above {hi} {b:g}"))
    return problems


def check_locks_and_bans(inst: Instance) -> list[Problem]:
    functions = {f.id: f for f in inst.functions}
    vendors = {v.id for v in inst.vendors}
    no_function, no_vendor = _Unknown("function", set(functions)), _Unknown("vendor", vendors, provider=True)
    offered = _offered(inst) if inst.rules.locks else set()
    problems = []
    hard: dict[str, tuple[int, str]] = {}
    for k, lock in enumerate(inst.rules.locks):
        where = f"rules.locks[{k}]"
        f = functions.get(lock.function)
        if f is None:
            problems.append(Problem(f"{where}.function", no_function(lock.function)))
            continue
        if lock.provider == INHOUSE:
            if f.inhouse is None:
                problems.append(Problem(f"{where}.provider", f"'{f.id}' has no in-house option; add `inhouse` or lock it to a vendor"))
        elif lock.provider not in vendors:
            problems.append(Problem(f"{where}.provider", no_vendor(lock.provider)))
        elif (f.id, lock.provider) not in offered:
            problems.append(Problem(f"{where}.provider", f"vendor '{lock.provider}' has no offer for '{f.id}'; add the offer"))
        elif f.core:
            problems.append(Problem(f"{where}.provider", f"core function '{f.id}' cannot be locked to a vendor"))
        if lock.soft is None:
            if f.id in hard and hard[f.id][1] != lock.provider:
                other = hard[f.id][0]
                problems.append(Problem(where, f"'{f.id}' is also locked to '{hard[f.id][1]}' by rules.locks[{other}]; keep one"))
            hard.setdefault(f.id, (k, lock.provider))
    for k, ban in enumerate(inst.rules.forbid):
        where = f"rules.forbid[{k}]"
        for j, fid in enumerate(ban.functions):
            if fid not in functions:
                problems.append(Problem(f"{where}.functions[{j}]", no_function(fid)))
        for j, vid in enumerate(ban.vendors):
            if vid != INHOUSE and vid not in vendors:
                problems.append(Problem(f"{where}.vendors[{j}]", no_vendor(vid)))
    for k, req in enumerate(inst.rules.requires):
        where = f"rules.requires[{k}]"
        for key in ("function", "requires"):
            fid = getattr(req, key)
            if fid not in functions:
                problems.append(Problem(f"{where}.{key}", no_function(fid)))
        if req.function == req.requires:
            problems.append(Problem(f"{where}.requires", f"'{req.function}' cannot require itself"))
    return problems


def check_incumbents(inst: Instance) -> list[Problem]:
    current = {f.id: f.current for f in inst.functions}
    vendors = {v.id for v in inst.vendors}
    problems = [
        Problem(f"functions[{i}].exit_fee", f"'{f.id}' has an exit fee but no current vendor; set `current` to the vendor it leaves")
        for i, f in enumerate(inst.functions)
        if f.exit_fee > 0 and current[f.id] not in vendors
    ]
    problems += [
        Problem(f"offers[{i}].stay_discount",
                f"'{o.vendor}' is not the current provider of '{o.function}'; a stay discount needs `current: {o.vendor}`")
        for i, o in enumerate(inst.offers)
        if o.stay_discount > 0 and o.function in current and current[o.function] != o.vendor
    ]
    return problems


def check_numeric_range(inst: Instance) -> list[Problem]:
    """Shares of at least MIN_SHARE (or 0 where 0 is allowed), and the yearly figures outopt derives from
    the file (a function's freed staff value, one-off costs over the horizon) within MAX_AMOUNT
    (models/portfolio.md, Numerical policy)."""
    problems = []

    def share(where: str, value: float | None, zero_ok: bool) -> None:
        if value is not None and 0 < value < MIN_SHARE:
            problems.append(Problem(where, f"{value:g} is below {MIN_SHARE:g}, the smallest share outopt accepts "
                                           f"(shares are met within a billionth of total spend); set "
                                           f"{'0 or ' if zero_ok else ''}at least {MIN_SHARE:g}"))

    def yearly(where: str, amount: float, what: str) -> None:
        if amount > MAX_AMOUNT:
            problems.append(Problem(where, f"{what} is {amount:.3g} a year, above {MAX_AMOUNT:.0e}, outopt's range of "
                                           "numbers (the manual, Numerical policy)"))

    for i, v in enumerate(inst.vendors):
        share(f"vendors[{i}].max_share", v.max_share, zero_ok=False)
        yearly(f"vendors[{i}].onboarding", v.onboarding / inst.horizon, "onboarding over the horizon")
    for g, group in enumerate(inst.vendor_groups):
        share(f"vendor_groups[{g}].min_share", group.min_share, zero_ok=True)
        share(f"vendor_groups[{g}].max_share", group.max_share, zero_ok=True)
    value = {r.id: r.redeploy_value for r in inst.resources}
    for i, f in enumerate(inst.functions):
        if f.inhouse is not None:
            freed = sum(u * value.get(r, 0.0) for r, u in f.inhouse.uses.items())
            yearly(f"functions[{i}].inhouse.uses", freed, "the redeploy value of the staff it frees")
        yearly(f"functions[{i}].exit_fee", f.exit_fee / inst.horizon, "the exit fee over the horizon")
    for i, o in enumerate(inst.offers):
        yearly(f"offers[{i}].transition", o.transition / inst.horizon, "the transition over the horizon")
    return problems


def check_soft_limits(inst: Instance) -> list[Problem]:
    """A `soft` marker must name a limit that is set."""
    problems = []

    def unset(where, obj, names):
        for name in names:
            if getattr(obj, name) is None:
                problems.append(Problem(f"{where}.soft.{name}", f"marks {name} soft, but {name} is not set"))

    unset("budget", inst.budget, inst.budget.soft)
    unset("rules", inst.rules, inst.rules.soft)
    for i, v in enumerate(inst.vendors):
        unset(f"vendors[{i}]", v, v.soft)
    return problems


CHECKS: list[Callable[[Instance], list[Problem]]] = [
    check_duplicate_ids,
    check_reserved_ids,
    check_offer_references,
    check_resource_uses,
    check_current_providers,
    check_function_options,
    check_rule_groups,
    check_discounts,
    check_bundles,
    check_commitments,
    check_vendor_groups,
    check_locks_and_bans,
    check_incumbents,
    check_numeric_range,
    check_soft_limits,
    check_roadmap,
]


def check_instance(inst: Instance) -> None:
    """Run every cross-table check; raise one :class:`InputError` listing all problems."""
    problems = [p for check in CHECKS for p in check(inst)]
    if problems:
        raise InputError(problems)
