"""Scenarios: named sets of overrides on a base instance, solved and compared side by side.

A scenario file (YAML or JSON) maps scenario names to overrides::

    scenarios:
      budget_cut_10:
        budget.operating: "*0.9"                 # scale the base value
      ledgerly_raises_prices:
        vendors.ledgerly.retainer: "*1.1"
        offers[invoicing,ledgerly].cost: "+5000"  # add to the base value ("-5000" subtracts)
      numera_drops_out:
        remove: [vendors.numera]                  # the vendor and its offers
      payroll_is_core:
        functions.payroll.core: true              # flip a flag
      segregate_payroll:
        add: {rules.separate: [[payables, payroll]]}

A key is a path to one field: ``budget.<field>``, ``rules.<field>``, ``horizon``,
``resources.<id>.<field>``, ``functions.<id>.<field>[.<field>]`` (e.g.
``functions.payroll.inhouse.cost``), ``vendors.<id>.<field>`` or
``offers[<function>,<vendor>].<field>``. A value is set as written, or, as a string
``"*k"``, ``"+k"``, ``"-k"``, scales or shifts the base value. ``remove`` lists vendors
(``vendors.<id>``, with their offers) and offers (``offers[<function>,<vendor>]``) to take
out; a function whose current provider is removed has no current provider in the
scenario (so moving it costs its transition). ``add`` appends items to list fields
(``rules.separate``, ``rules.together``, ``offers``, ``vendors``, ...).

Overrides apply to the plain data of the instance and the result goes through the
normal validation, so every check of a file applies to a scenario too. Every problem
names its scenario and key.
"""

from __future__ import annotations

import copy
import math
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pandas as pd

from outopt.analysis._subject import flat_plan, slot_text, solve_any
from outopt.errors import InputError, Problem
from outopt.instance.company import company_from_data
from outopt.instance.io.text import read_text
from outopt.instance.schema import Company, Instance, SharedVendor
from outopt.instance.validation import instance_from_data
from outopt.solver import SolveOptions
from outopt.solver.interrupts import unless_interrupted
from outopt.solver.options import Tally

_RELATIVE = re.compile(r"^\s*([*+-])\s*([0-9]*\.?[0-9]+(?:[eE][+-]?[0-9]+)?)\s*$")
_OFFER = re.compile(r"^offers\[\s*([^,\]]+?)\s*,\s*([^\]]+?)\s*\]$")
_BY_ID = ("resources", "functions", "vendors")
_SPECIAL = ("remove", "add", "description")


@dataclass(frozen=True)
class Scenario:
    """A named set of overrides (see the module docstring for the keys)."""

    name: str
    overrides: dict[str, Any] = field(default_factory=dict)
    description: str = ""


class _Bad(Exception):
    """A problem with one key of one scenario (turned into a Problem with its location)."""


# --- reading --------------------------------------------------------------------------


def scenarios_from_data(data: Any) -> list[Scenario]:
    """Scenarios from plain data: ``{"scenarios": {name: {key: value}}}`` (or the inner mapping)."""
    if isinstance(data, Mapping) and set(data) == {"scenarios"}:
        data = data["scenarios"]
    if not isinstance(data, Mapping) or not data:
        raise InputError([Problem("scenarios", "expected a mapping of scenario names to overrides")])
    out, problems = [], []
    for name, overrides in data.items():
        if overrides is None:
            overrides = {}
        if not isinstance(overrides, Mapping):
            problems.append(Problem(f"scenarios.{name}", "expected a mapping of keys to values"))
            continue
        desc = overrides.get("description", "")
        out.append(Scenario(str(name), {k: v for k, v in overrides.items() if k != "description"}, str(desc or "")))
    if problems:
        raise InputError(problems)
    return out


def load_scenarios(path: str | Path) -> list[Scenario]:
    """Read a scenario file (YAML or JSON); every problem names the file and the scenario."""
    path = Path(path)
    if not path.exists():
        raise InputError([Problem("", "file not found")], str(path))
    try:
        return scenarios_from_data(read_text(path))
    except InputError as err:
        raise err.with_source(str(path)) from None


def as_scenarios(scenarios) -> list[Scenario]:
    """Accept a path, a mapping name -> overrides, or a list of :class:`Scenario`."""
    if isinstance(scenarios, (str, Path)):
        return load_scenarios(scenarios)
    if isinstance(scenarios, Mapping):
        return scenarios_from_data(scenarios)
    return list(scenarios)


# --- applying -------------------------------------------------------------------------


def _number(x) -> bool:
    return isinstance(x, (int, float)) and not isinstance(x, bool)


def _new_value(old, value, what: str):
    if isinstance(value, str):
        m = _RELATIVE.match(value)
        if m:
            if not _number(old):
                raise _Bad(f"{what} has no number to change (it is {old!r}); set a value instead")
            op, k = m.group(1), float(m.group(2))
            new = old * k if op == "*" else old + k if op == "+" else old - k
            return int(new) if isinstance(old, int) and float(new).is_integer() else new
    if isinstance(value, float) and not math.isfinite(value):
        raise _Bad("must be a finite number, not NaN or infinity")
    return copy.deepcopy(value)


def _find(items: list, key: str, section: str) -> dict:
    for item in items:
        if item.get("id") == key:
            return item
    raise _Bad(f"{section[:-1]} '{key}' is not in {section}")


def _find_offer(data: dict, fid: str, vid: str) -> dict:
    for o in data["offers"]:
        if o["function"] == fid and o["vendor"] == vid:
            return o
    raise _Bad(f"there is no offer for function '{fid}' from vendor '{vid}'")


def _resolve(data: dict, path: str) -> tuple[Any, str, str]:
    """The container and key a path names, and a readable name of the field."""
    head, _, rest = path.partition(".")
    m = _OFFER.match(head)
    if m:
        node, what = _find_offer(data, m.group(1), m.group(2)), head
    elif head in _BY_ID:
        key, _, rest = rest.partition(".")
        if not key:
            raise _Bad(f"name an item: {head}.<id>.<field>")
        node, what = _find(data[head], key, head), f"{head}.{key}"
    elif head in data and not rest:
        return data, head, head
    elif head in data and isinstance(data[head], dict):
        node, what = data[head], head
    else:
        raise _Bad(f"unknown key '{head}'; use budget, rules, horizon, resources, functions, vendors or offers[f,v]")
    parts = rest.split(".") if rest else []
    if not parts:
        raise _Bad(f"name a field of {what}")
    for part in parts[:-1]:
        if part not in node:
            raise _Bad(f"{what} has no field '{part}'")
        if node[part] is None:
            raise _Bad(f"{what}.{part} is not set in the base instance; set the whole {part!r} instead")
        node, what = node[part], f"{what}.{part}"
        if not isinstance(node, dict):
            raise _Bad(f"{what} is not a group of fields")
    last = parts[-1]
    if last not in node:
        raise _Bad(f"{what} has no field '{last}'")
    return node, last, f"{what}.{last}"


def _remove(data: dict, path: str) -> None:
    m = _OFFER.match(path)
    if m:
        fid, vid = m.group(1), m.group(2)
        offer = _find_offer(data, fid, vid)
        data["offers"].remove(offer)
        for f in data["functions"]:
            if f["id"] == fid and f.get("current") == vid:
                f["current"] = None
        return
    head, _, key = path.partition(".")
    if head != "vendors" or not key or "." in key:
        raise _Bad("remove takes vendors.<id> or offers[<function>,<vendor>]")
    data["vendors"].remove(_find(data["vendors"], key, "vendors"))
    data["offers"] = [o for o in data["offers"] if o["vendor"] != key]
    for f in data["functions"]:
        if f.get("current") == key:
            f["current"] = None


def _add(data: dict, path: str, items) -> None:
    if path in data and isinstance(data[path], list):
        node, key = data, path
    else:
        node, key, _ = _resolve(data, path)
    if not isinstance(node[key], list):
        raise _Bad(f"'{path}' is not a list; set it instead of adding to it")
    if not isinstance(items, list):
        raise _Bad("add a list of items")
    node[key].extend(copy.deepcopy(items))


def apply_overrides(instance: Instance | Company, overrides: Mapping[str, Any], where: str = "overrides"):
    """A new, validated instance: ``instance`` with ``overrides`` applied (of a company: see
    :func:`apply_company_overrides`).

    Problems (an unknown key or id, a value the format rejects) are raised together as
    one :class:`InputError`, each located as ``<where>.<key>`` or ``<where>: <field>``.
    """
    if isinstance(instance, Company):
        return apply_company_overrides(instance, overrides, where)
    data = instance.model_dump(mode="python")
    problems = []
    for key, value in overrides.items():
        try:
            if key == "remove":
                for path in value if isinstance(value, list) else [value]:
                    _remove(data, str(path))
            elif key == "add":
                if not isinstance(value, Mapping):
                    raise _Bad("add takes a mapping of list fields to the items to append")
                for path, items in value.items():
                    _add(data, str(path), items)
            else:
                node, last, what = _resolve(data, str(key))
                node[last] = _new_value(node[last], value, what)
        except _Bad as bad:
            problems.append(Problem(f"{where}.{key}", str(bad)))
    if problems:
        raise InputError(problems)
    try:
        return instance_from_data(data)
    except InputError as err:
        raise InputError([Problem(f"{where}: {p.where}" if p.where else where, p.message) for p in err.problems]) from None


_CORPORATE = ("budget.operating", "budget.transition", "max_vendors", "name")


def apply_company_overrides(company: Company, overrides: Mapping[str, Any], where: str = "overrides") -> Company:
    """A new, validated company: ``company`` with ``overrides`` applied. Corporate keys: ``budget.operating``,
    ``budget.transition``, ``max_vendors``, ``vendors.<id>.capacity`` and ``vendors.<id>.max_share`` (the
    company-wide limits); a division's: ``divisions.<id>.<key>`` with any key of an instance. ``remove``
    takes ``vendors.<id>`` (the vendor leaves every division) and ``divisions.<id>.<item>``; ``add`` takes
    ``divisions.<id>.<list>``."""
    data = company.model_dump(mode="python")
    data["divisions"] = [{"id": d.id, "instance": d.instance} for d in company.divisions]
    ids = [d.id for d in company.divisions]
    own: dict[str, dict] = {}  # division id -> its overrides
    problems = []

    def division_key(key: str, path: str) -> tuple[str, str] | None:
        did, _, rest = path[len("divisions."):].partition(".")
        if did not in ids or not rest:
            problems.append(Problem(f"{where}.{key}", f"division '{did}' is not in divisions" if did not in ids
                                    else "name a field of the division: divisions.<id>.<key>"))
            return None
        return did, rest

    for key, value in overrides.items():
        try:
            if key in ("remove", "add"):
                items = (value if isinstance(value, list) else [value]) if key == "remove" else value
                if key == "add" and not isinstance(value, Mapping):
                    raise _Bad("add takes a mapping of list fields to the items to append")
                for path in items:
                    path = str(path)
                    if key == "remove" and path.startswith("vendors.") and path.count(".") == 1:
                        _remove_company_vendor(data, path[len("vendors."):], own)
                        continue
                    if not path.startswith("divisions."):
                        raise _Bad(f"{key} takes divisions.<id>.<...>" + (" or vendors.<id>" if key == "remove" else ""))
                    found = division_key(key, path)
                    if found is not None:
                        entry = own.setdefault(found[0], {})
                        if key == "remove":
                            entry.setdefault("remove", []).append(found[1])
                        else:
                            entry.setdefault("add", {})[found[1]] = value[path]
            elif key.startswith("divisions."):
                found = division_key(key, key)
                if found is not None:
                    own.setdefault(found[0], {})[found[1]] = value
            else:
                _set_corporate(data, key, value)
        except _Bad as bad:
            problems.append(Problem(f"{where}.{key}", str(bad)))
    for entry in data["divisions"]:
        if entry["id"] in own:
            try:
                entry["instance"] = apply_overrides(entry["instance"], own[entry["id"]], f"{where}.divisions.{entry['id']}")
            except InputError as err:
                problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    try:
        return company_from_data(data)
    except InputError as err:
        raise InputError([Problem(f"{where}: {p.where}" if p.where else where, p.message) for p in err.problems]) from None


def _set_corporate(data: dict, key: str, value) -> None:
    """Set a corporate field of a company's plain data (see :func:`apply_company_overrides`)."""
    parts = key.split(".")
    if key in _CORPORATE:
        node = data if len(parts) == 1 else data[parts[0]]
    elif len(parts) == 3 and parts[0] == "vendors" and parts[2] in SharedVendor.model_fields:
        node = data["vendors"].setdefault(parts[1], {f: None for f in SharedVendor.model_fields})
    else:
        raise _Bad(f"unknown key '{key}'; a company's are budget.operating, budget.transition, max_vendors, "
                   "vendors.<id>.capacity, vendors.<id>.max_share and divisions.<id>.<key>")
    node[parts[-1]] = _new_value(node.get(parts[-1]), value, key)


def _remove_company_vendor(data: dict, vid: str, own: dict[str, dict]) -> None:
    """The vendor leaves the company: out of every division that lists it, and its company-wide limits."""
    holders = [e["id"] for e in data["divisions"] if any(v.id == vid for v in e["instance"].vendors)]
    if not holders:
        raise _Bad(f"vendor '{vid}' is in no division")
    for did in holders:
        own.setdefault(did, {}).setdefault("remove", []).append(f"vendors.{vid}")
    data["vendors"].pop(vid, None)


def apply_scenario(instance: Instance, scenario: Scenario) -> Instance:
    return apply_overrides(instance, scenario.overrides, where=f"scenarios.{scenario.name}")


def apply_all(instance: Instance, scenarios) -> list[tuple[Scenario, Instance]]:
    """Every scenario applied to the base; all problems of all scenarios raised at once."""
    out, problems = [], []
    for sc in as_scenarios(scenarios):
        try:
            out.append((sc, apply_scenario(instance, sc)))
        except InputError as err:
            problems.extend(err.problems)
    if problems:
        raise InputError(problems)
    return out


# --- comparing ------------------------------------------------------------------------

COLUMNS = ["scenario", "status", "objective", "delta", "total_cost", "one_off", "vendors", "changed"]


def _row(name: str, sol, base_plan: dict | None, base_objective: float | None) -> dict:
    has = sol.plan is not None
    check = sol.verification
    changed = []
    if has and base_plan is not None:  # a company's as division.function
        base = flat_plan(base_plan)
        changed = [slot_text(f) for f, p in flat_plan(sol.plan).items() if base.get(f) != p]
    return {
        "scenario": name,
        "status": sol.status.value,
        "objective": sol.objective,
        "delta": None if not has or base_objective is None else sol.objective - base_objective,
        "total_cost": check.operating_cost if has else None,
        "one_off": check.transition_cost if has else None,
        "vendors": sorted(check.engaged) if has else [],
        "changed": changed,
    }


def compare(instance: Instance, scenarios, options=None, progress=None) -> pd.DataFrame:
    """Solve the base and every scenario; one row each, the base first.

    Columns: ``scenario``, ``status``, ``objective`` (net yearly benefit), ``delta`` (against
    the base), ``total_cost`` (recurring cost per year), ``one_off``, ``vendors`` (engaged),
    ``changed`` (functions whose provider differs from the base plan). ``progress``: called with a
    :class:`~outopt.solver.options.Progress` as each solve starts and ends (scenarios done of how many).
    """
    applied = apply_all(instance, scenarios)
    options = options or SolveOptions()
    tally = Tally(progress)
    tally.start("solving the base", total=len(applied) + 1)
    base = unless_interrupted(solve_any(instance, options))
    rows = [_row("base", base, base.plan, base.objective)]
    for sc, inst in applied:
        tally.tick(phase=f"solving scenario {sc.name}")
        rows.append(_row(sc.name, unless_interrupted(solve_any(inst, options)), base.plan, base.objective))
    tally.tick(phase="done")
    return pd.DataFrame(rows, columns=COLUMNS)


def comparison_to_dict(table: pd.DataFrame) -> dict:
    """The JSON form: ``{"scenarios": [{"name", "status", "objective", "changed", ...}]}``."""
    out = []
    for row in table.to_dict("records"):
        out.append({"name": row["scenario"], **{k: _plain(row[k]) for k in COLUMNS if k != "scenario"}})
    return {"scenarios": out}


def _plain(x):
    if isinstance(x, float) and math.isnan(x):
        return None
    if hasattr(x, "item"):
        return x.item()
    return x


__all__ = ["Scenario", "apply_company_overrides", "apply_overrides", "apply_scenario", "compare", "comparison_to_dict",
           "load_scenarios"]
