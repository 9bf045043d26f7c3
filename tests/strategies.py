"""Hypothesis strategies for random instances that use every field and rule of the format,
and the transformations of the metamorphic tests.

``instances()`` draws (instance, plan): an instance and one plan of it. With ``planted=True`` the
plan is made first and every limit is set at or above what the plan needs (often exactly at it),
so the plan is feasible by construction and the solver must never call the instance infeasible.
Otherwise each limit is absent, planted or random, so some instances are infeasible.

A feature that adds fields or rules to the format extends ``instances()`` (draw the new field;
in planted mode, set it so the plan still fits). Money fields are found from the schema (a field
whose description gives its unit in "currency"), and ids are renamed wherever they appear, so
``scale_money`` and ``rename_and_reorder`` follow the format as it grows.
"""

from __future__ import annotations

import os
import random
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from outopt import INHOUSE, Instance, verify
from outopt.validation import instance_from_data

# --- example counts: small in CI, large in a fuzz campaign ------------------------------------

FUZZ = os.environ.get("OUTOPT_FUZZ", "") not in ("", "0")
SCALE = int(os.environ.get("OUTOPT_FUZZ_SCALE", "50")) if FUZZ else 1


def examples(n: int) -> int:
    """Examples for a property: n in CI; n x OUTOPT_FUZZ_SCALE (default 50) with OUTOPT_FUZZ=1."""
    return n * SCALE


# --- instances ----------------------------------------------------------------------------------

money = st.integers(0, 200)
value = st.integers(-20, 60)  # yearly values may be negative (an offer of worse quality)
SLACK = st.sampled_from([0, 0, 1, 7, 40])  # how far above the plan's need a planted limit sits (0: tight)


def _options(function: dict, offered: list[str]) -> list[str]:
    if function.get("core"):
        return [INHOUSE]
    return ([INHOUSE] if "inhouse" in function else []) + offered


@st.composite
def instances(draw, functions=(1, 4), vendors=(1, 3), resources=(0, 2), planted: bool = False):
    """(Instance, plan) using every field and rule of the format; see the module docstring."""
    nf, nv, nr = (draw(st.integers(*functions)), draw(st.integers(*vendors)), draw(st.integers(*resources)))
    fids, vids, rids = [f"f{i}" for i in range(nf)], [f"v{j}" for j in range(nv)], [f"r{k}" for k in range(nr)]

    funcs, offers, offered = [], [], {}
    for f in fids:
        row: dict[str, Any] = {"id": f, "revenue": draw(st.sampled_from([0, 0, 100, 400]))}
        if draw(st.integers(0, 4)) > 0:  # most functions can be done in-house
            used = draw(st.lists(st.sampled_from(rids), unique=True)) if rids else []
            row["inhouse"] = {"cost": draw(money), "value": draw(value),
                              "uses": {r: draw(st.integers(1, 3)) for r in used}}
            row["core"] = draw(st.integers(0, 6)) == 0
        offered[f] = draw(st.lists(st.sampled_from(vids), unique=True, min_size=0 if "inhouse" in row else 1))
        for v in offered[f]:
            offers.append({
                "function": f, "vendor": v, "cost": draw(money), "value": draw(value),
                "commission": draw(st.sampled_from([0, 0, 0.1, 0.25])), "transition": draw(st.integers(0, 100)),
                "load": draw(st.integers(0, 5)),
            })
        current = draw(st.sampled_from([None] + (["inhouse"] if "inhouse" in row else []) + offered[f]))
        if current is not None:
            row["current"] = current
        funcs.append(row)
    draw(st.randoms()).shuffle(offers)
    data: dict[str, Any] = {
        "name": "random",
        "horizon": draw(st.sampled_from([1, 1, 2, 3, 0.5])),
        "resources": [{"id": r, "capacity": 10_000, "redeploy_value": draw(st.integers(0, 30))} for r in rids],
        "functions": funcs,
        "vendors": [{"id": v, "retainer": draw(st.integers(0, 40)), "onboarding": draw(st.integers(0, 60))}
                    for v in vids],
        "offers": offers,
    }
    plan = {row["id"]: draw(st.sampled_from(_options(row, offered[row["id"]]))) for row in funcs}
    need = verify(instance_from_data(data), plan)  # what the plan uses, before any limit exists

    def limit(planned: float, largest: float, may_be_absent: bool = True):
        modes = (["absent"] * 2 if may_be_absent else []) + ["planted"] * 2 + ([] if planted else ["random"])
        mode = draw(st.sampled_from(modes))
        if mode == "absent":
            return None
        if mode == "planted":
            return planned + draw(SLACK)
        return draw(st.integers(0, int(largest)))

    budget = {"operating": limit(need.operating_cost, need.operating_cost * 1.5 + 10),
              "transition": limit(need.transition_cost, need.transition_cost * 1.5 + 10)}
    data["budget"] = {k: v for k, v in budget.items() if v is not None}
    for r in data["resources"]:
        cap = limit(need.resource_use[r["id"]], 8, may_be_absent=False)
        r["capacity"] = cap
    total_spend = sum(need.spend.values())
    for vendor in data["vendors"]:
        v = vendor["id"]
        cap = limit(need.vendor_load.get(v, 0), 10)
        if cap is not None:
            vendor["capacity"] = cap
        if draw(st.integers(0, 2)) == 0:
            share = need.spend.get(v, 0) / total_spend if total_spend > 0 else 0
            drawn = draw(st.sampled_from([0.25, 0.5, 0.75, 1]))
            vendor["max_share"] = min(1, max(share, drawn)) if planted or draw(st.booleans()) else drawn
    rules: dict[str, Any] = {}
    max_vendors = limit(len(need.engaged), nv)
    if max_vendors is not None:
        rules["max_vendors"] = max_vendors
    rules["separate"], rules["together"] = _groups(draw, plan, offered, planted) if nf >= 2 else ([], [])
    data["rules"] = rules
    return instance_from_data(data), plan


def either(**kw):
    """Half planted (feasible by construction), half with random limits (often infeasible)."""
    return st.one_of(instances(planted=True, **kw), instances(planted=False, **kw))


def _groups(draw, plan: dict[str, str], offered: dict[str, list[str]], planted: bool) -> tuple[list, list]:
    """Rule groups, mostly of functions that could share a vendor (where a rule bites); when
    planted, only groups the plan obeys."""
    fids = list(plan)

    def group():
        vendors = sorted({v for f in fids for v in offered[f]})
        sharing = [f for f in fids if vendors and draw(st.sampled_from(vendors)) in offered[f]]
        pool = sharing if len(sharing) >= 2 and draw(st.integers(0, 3)) > 0 else fids
        return draw(st.lists(st.sampled_from(pool), min_size=2, max_size=3, unique=True))

    separate, together = [], []
    for _ in range(draw(st.integers(0, 3))):
        g = group()
        vendors = [plan[f] for f in g if plan[f] != INHOUSE]
        if len(vendors) == len(set(vendors)) or not (planted or draw(st.booleans())):
            separate.append(g)
    for _ in range(draw(st.integers(0, 2))):
        if planted or draw(st.booleans()):
            provider = draw(st.sampled_from(sorted(set(plan.values()))))
            members = [f for f in fids if plan[f] == provider]
            if len(members) < 2:
                continue
            together.append(draw(st.lists(st.sampled_from(members), min_size=2, max_size=3, unique=True)))
        else:
            together.append(group())
    return separate, together


def plan_count(instance: Instance) -> int:
    """How many plans brute force would enumerate."""
    n = 1
    for f in instance.functions:
        n *= (1 if f.inhouse else 0) + sum(1 for o in instance.offers if o.function == f.id)
    return n


def random_plans(instance: Instance, rng: random.Random, n: int):
    """n random plans, each function given one of its possible providers."""
    options = {f.id: ([INHOUSE] if f.inhouse else []) for f in instance.functions}
    for o in instance.offers:
        options[o.function].append(o.vendor)
    for _ in range(n):
        yield {f: rng.choice(opts) for f, opts in options.items()}


# --- metamorphic transformations ---------------------------------------------------------------


def money_fields(model: type[BaseModel]) -> set[str]:
    """Names ``Model.field`` of the numeric fields whose description gives a unit in 'currency'."""
    found = set()
    for cls in _models(model):
        for name, field in cls.model_fields.items():
            text = field.description or ""
            if "currency" in text and "Currency of every amount" not in text and _numeric(field.annotation):
                found.add(f"{cls.__name__}.{name}")
    return found


def _models(model: type[BaseModel], seen=None) -> list[type[BaseModel]]:
    seen = seen if seen is not None else []
    if model in seen:
        return seen
    seen.append(model)
    for field in model.model_fields.values():
        for inner in _inner_types(field.annotation):
            if isinstance(inner, type) and issubclass(inner, BaseModel):
                _models(inner, seen)
    return seen


def _inner_types(annotation) -> list:
    args = getattr(annotation, "__args__", None)
    if not args:
        return [annotation]
    return [t for a in args for t in _inner_types(a)]


def _numeric(annotation) -> bool:
    return any(t in (int, float) for t in _inner_types(annotation))


def scale_money(instance: Instance, factor: float) -> Instance:
    """Every money amount multiplied by ``factor``; shares, capacities, loads and years unchanged."""
    fields = money_fields(Instance)

    def scale(obj):
        if isinstance(obj, BaseModel):
            update = {}
            for name in type(obj).model_fields:
                value = getattr(obj, name)
                if f"{type(obj).__name__}.{name}" in fields and isinstance(value, (int, float)) \
                        and not isinstance(value, bool):
                    update[name] = value * factor
                elif isinstance(value, (BaseModel, list)):
                    update[name] = scale(value)
            return obj.model_copy(update=update)
        if isinstance(obj, list):
            return [scale(x) for x in obj]
        return obj

    return scale(instance)


def rename_and_reorder(instance: Instance, rng: random.Random) -> tuple[Instance, dict[str, str]]:
    """New ids for every function, vendor and resource (wherever an id appears) and every list shuffled.

    Returns the new instance and the renaming (old id -> new id)."""
    ids = [x.id for table in (instance.functions, instance.vendors, instance.resources) for x in table]
    new_names = rng.sample(range(10_000, 99_999), len(ids))
    renaming = {old: f"{old[0]}{rng.choice('xyz')}{n}" for old, n in zip(ids, new_names)}

    def walk(node):
        if isinstance(node, dict):
            return {renaming.get(k, k): walk(v) for k, v in node.items()}
        if isinstance(node, list):
            items = [walk(x) for x in node]
            rng.shuffle(items)
            return items
        if isinstance(node, str):
            return renaming.get(node, node)
        return node

    return instance_from_data(walk(instance.model_dump(mode="json"))), renaming
