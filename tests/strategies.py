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

import math
import os
import random
from typing import Any

from hypothesis import strategies as st
from pydantic import BaseModel

from outopt import INHOUSE, Instance, verify
from outopt.instance.numerics import MIN_SHARE
from outopt.instance.validation import instance_from_data

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
def instances(draw, functions=(1, 4), vendors=(1, 3), resources=(0, 2), planted: bool = False, terms: bool = True):
    """(Instance, plan) using every field and rule of the format; see the module docstring.

    ``terms``: also the contract terms (exit fees, stay discounts, volume discounts, bundles,
    minimum contracts, locks, bans, requirements, exclusive sets, max_changes, vendor groups)
    and soft limits priced by penalties. Priority levels are not drawn (see tests/test_terms.py)."""
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
    if terms:
        _price_terms(draw, data, offered)
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
    if terms:
        _rule_terms(draw, data, plan, need, planted)
    return instance_from_data(data), plan


def _price_terms(draw, data: dict, offered: dict[str, list[str]]) -> None:
    """Terms that change what a plan costs: exit fees, stay discounts, volume discounts, bundles."""
    offers = {(o["function"], o["vendor"]): o for o in data["offers"]}
    for row in data["functions"]:
        current = row.get("current")
        if current not in (None, INHOUSE):
            row["exit_fee"] = draw(st.sampled_from([0, 0, 30]))
            offers[(row["id"], current)]["stay_discount"] = draw(st.sampled_from([0, 0, 10, 50]))
    core = {row["id"] for row in data["functions"] if row.get("core")}
    for vendor in data["vendors"]:
        v = vendor["id"]
        if draw(st.integers(0, 2)) == 0:
            vendor["discount_kind"] = draw(st.sampled_from(["all_units", "incremental"]))
            tiers = draw(st.sampled_from([[(50, 5)], [(100, 10)], [(40, 5), (150, 20)]]))
            vendor["discounts"] = [{"threshold": t, "percent": p} for t, p in tiers]
        members = [f for f, vs in offered.items() if v in vs and f not in core]
        if len(members) >= 2 and draw(st.integers(0, 2)) == 0:
            functions = draw(st.lists(st.sampled_from(members), min_size=2, max_size=3, unique=True))
            current = {row["id"]: row.get("current") for row in data["functions"]}
            paid = sum(offers[(f, v)]["cost"] * (1 - offers[(f, v)].get("stay_discount", 0) / 100
                                                 if current[f] == v else 1) for f in functions)
            # sometimes above the members' own costs: such a bundle is never taken (models/portfolio.md)
            vendor["bundles"] = [{"functions": functions, "price": draw(st.integers(0, int(paid) + 60))}]


def _rule_terms(draw, data: dict, plan: dict[str, str], need, planted: bool) -> None:
    """Terms that allow or forbid plans; when planted, set so the plan obeys them."""
    fids = list(plan)
    core = {row["id"] for row in data["functions"] if row.get("core")}
    offered = {(o["function"], o["vendor"]) for o in data["offers"]}
    count = {v: sum(1 for p in plan.values() if p == v) for v in need.engaged}

    def keep(ok: bool) -> bool:  # planted: only what the plan obeys; otherwise mostly that, sometimes not
        return ok or not (planted or draw(st.integers(0, 2)) > 0)

    for vendor in data["vendors"]:
        v = vendor["id"]
        if draw(st.integers(0, 3)) == 0:
            floor = max(0, need.spend.get(v, 0) - draw(SLACK))
            value = draw(st.sampled_from([int(floor), 50, 200])) if v in need.engaged else draw(st.integers(0, 200))
            if keep(v not in need.engaged or value <= need.spend[v]):
                vendor["min_spend"] = value
        n_offers = sum(1 for (_, w) in offered if w == v)
        if n_offers and draw(st.integers(0, 3)) == 0:
            value = draw(st.integers(1, n_offers))
            if keep(v not in need.engaged or value <= count[v]):
                vendor["min_functions"] = value
    rules = data["rules"]
    locks, forbid, requires, exclusive = [], [], [], []
    for f in draw(st.lists(st.sampled_from(fids), unique=True, max_size=2)):
        choices = [p for p in [INHOUSE] + sorted({v for (g, v) in offered if g == f})
                   if (p == INHOUSE and any(r["id"] == f and "inhouse" in r for r in data["functions"]))
                   or (p != INHOUSE and f not in core)]
        if choices:
            provider = draw(st.sampled_from(choices))
            if keep(provider == plan[f]):
                lock = {"function": f, "provider": provider}
                if draw(st.integers(0, 3)) == 0:
                    lock["soft"] = {"penalty": draw(st.integers(0, 50))}
                locks.append(lock)
    for _ in range(draw(st.integers(0, 1))):
        f = draw(st.sampled_from(fids))
        banned = draw(st.lists(st.sampled_from([INHOUSE] + [v["id"] for v in data["vendors"]]), min_size=1,
                               max_size=2, unique=True))
        if keep(plan[f] not in banned):
            forbid.append({"functions": [f], "vendors": banned})
    if len(fids) >= 2:
        for _ in range(draw(st.integers(0, 1))):
            a, b = draw(st.lists(st.sampled_from(fids), min_size=2, max_size=2, unique=True))
            if keep(plan[a] == INHOUSE or plan[b] != INHOUSE):
                requires.append({"function": a, "requires": b})
        for _ in range(draw(st.integers(0, 1))):
            group = draw(st.lists(st.sampled_from(fids), min_size=2, max_size=3, unique=True))
            if keep(sum(plan[f] != INHOUSE for f in group) <= 1):
                exclusive.append({"functions": group})
    rules.update(locks=locks, forbid=forbid, requires=requires, exclusive=exclusive)
    if draw(st.integers(0, 2)) == 0:
        value = need.changes + draw(SLACK) if planted or draw(st.booleans()) else draw(st.integers(0, len(fids)))
        rules["max_changes"] = value
    vids = [v["id"] for v in data["vendors"]]
    if draw(st.integers(0, 2)) == 0:
        members = draw(st.lists(st.sampled_from(vids), min_size=1, max_size=2, unique=True))
        g_spend = sum(need.spend.get(v, 0) for v in members)
        total = sum(need.spend.values())
        share = g_spend / total if total else 0.0
        g_count = sum(count.get(v, 0) for v in members)
        group: dict[str, Any] = {"id": "g0", "vendors": members}
        kind = draw(st.sampled_from(["min_share", "max_share", "min_count", "max_count"]))
        if kind == "min_share":
            group[kind] = draw(st.sampled_from([0.0, 0.2, round(share, 6) if share < 1 else 1.0]))
            ok = group[kind] <= share + 1e-9 or total == 0
        elif kind == "max_share":
            group[kind] = draw(st.sampled_from([1.0, 0.5, min(1.0, share)]))
            ok = group[kind] >= share - 1e-9
        elif kind == "min_count":
            group[kind] = draw(st.sampled_from([0, 1, g_count]))
            ok = group[kind] <= g_count
        else:
            group[kind] = draw(st.sampled_from([0, 1, g_count]))
            ok = group[kind] >= g_count
        if keep(ok):
            data["vendor_groups"] = [group]
    if "operating" in data["budget"] and draw(st.integers(0, 3)) == 0:
        data["budget"]["soft"] = {"operating": {"penalty": draw(st.sampled_from([0.5, 1, 3]))}}
    for r in data["resources"]:
        if draw(st.integers(0, 4)) == 0:
            r["soft"] = {"penalty": draw(st.integers(0, 40))}


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
            return BaseModel.model_copy(obj, update=update)  # unchecked: scaling keeps the format's rules
        if isinstance(obj, list):
            return [scale(x) for x in obj]
        return obj

    return scale(instance)


ORDERED = {"discounts"}  # lists whose order means something (tiers by threshold): never shuffled


def rename_and_reorder(instance: Instance, rng: random.Random) -> tuple[Instance, dict[str, str]]:
    """New ids for every function, vendor and resource (wherever an id appears) and every list shuffled.

    Returns the new instance and the renaming (old id -> new id)."""
    ids = [x.id for table in (instance.functions, instance.vendors, instance.resources) for x in table]
    new_names = rng.sample(range(10_000, 99_999), len(ids))
    renaming = {old: f"{old[0]}{rng.choice('xyz')}{n}" for old, n in zip(ids, new_names)}

    def walk(node, key=None):
        if isinstance(node, dict):
            return {renaming.get(k, k): walk(v, k) for k, v in node.items()}
        if isinstance(node, list):
            items = [walk(x) for x in node]
            if key not in ORDERED:
                rng.shuffle(items)
            return items
        if isinstance(node, str):
            return renaming.get(node, node)
        return node

    return instance_from_data(walk(instance.model_dump(mode="json"))), renaming


# --- limits exactly at a plan's use, amounts over a wide range (the numerical policy) -----------------


def _amount(draw, scale: str) -> float:
    """An amount: two-decimal money up to 1e9 ("cents"), or any float from 1e-3 to 1e9 ("wide")."""
    if draw(st.integers(0, 5)) == 0:
        return 0.0
    if scale == "cents":
        return draw(st.integers(1, 10**11)) / 100
    return float(10 ** draw(st.floats(-3, 9, allow_nan=False)))


@st.composite
def exact_limit_instances(draw, functions=(2, 6), vendors=(1, 3)):
    """(Instance, plan, scale): amounts in cents or from 1e-3 to 1e9, and every limit set exactly at what
    one plan uses (budgets, capacities, shares, minimum spends, group shares; all-units discounts with a
    threshold at or just above the plan's spend). The plan meets every limit in exact arithmetic; for
    "cents" the limits are rounded to the cent as a planner writes them (10205956.42, not the float sum)."""
    scale = draw(st.sampled_from(["cents", "wide"]))
    nf, nv = draw(st.integers(*functions)), draw(st.integers(*vendors))
    fids, vids = [f"f{i}" for i in range(nf)], [f"v{j}" for j in range(nv)]
    amount = lambda: _amount(draw, scale)  # noqa: E731
    funcs, offers, offered = [], [], {}
    for f in fids:
        row: dict[str, Any] = {"id": f, "inhouse": {"cost": amount(), "uses": {"staff": amount()}}}
        offered[f] = draw(st.lists(st.sampled_from(vids), unique=True))
        offers += [{"function": f, "vendor": v, "cost": amount(), "transition": amount(), "load": amount()}
                   for v in offered[f]]
        funcs.append(row)
    vendors = [{"id": v, "retainer": amount(), "onboarding": amount()} for v in vids]
    data: dict[str, Any] = {"name": "exact", "functions": funcs, "vendors": vendors, "offers": offers,
                            "resources": [{"id": "staff", "capacity": 0}]}
    plan = {f: draw(st.sampled_from([INHOUSE] + offered[f])) for f in fids}
    for vendor in vendors:  # all-units discounts: a threshold exactly at, or a cent above, the plan's spend
        v = vendor["id"]
        spend = sum(o["cost"] for o in offers if o["vendor"] == v and plan[o["function"]] == v)
        if spend > 0 and draw(st.integers(0, 2)) == 0:
            if scale == "cents":  # at the spend, or a cent above it (then the plan pays list price)
                threshold = round(spend, 2) + draw(st.sampled_from([0.0, 0.01]))
            else:
                threshold = spend * draw(st.sampled_from([1.0, 1 + 1e-7, 1.001]))
            vendor["discounts"] = [{"threshold": threshold, "percent": draw(st.sampled_from([1, 4, 25]))}]
    need = verify(instance_from_data(data), plan)
    if scale == "cents":  # the exact use has at most 4 decimals (a discount of whole percents on cents):
        up = lambda x: math.ceil(round(x, 4) * 100 - 1e-3) / 100  # noqa: E731  the limit a planner writes
        down = lambda x: math.floor(round(x, 4) * 100 + 1e-3) / 100  # noqa: E731  (the least for a minimum)
    else:
        up = down = lambda x: x  # noqa: E731
    data["budget"] = {"operating": up(need.operating_cost), "transition": up(need.transition_cost)}
    data["resources"][0]["capacity"] = up(need.resource_use["staff"])
    total = sum(need.spend.values())
    for vendor in vendors:
        v = vendor["id"]
        if v in need.engaged:
            vendor["capacity"] = up(need.vendor_load[v])
            if draw(st.booleans()):
                vendor["min_spend"] = down(need.spend[v])
            if 0 < need.spend[v] < total:  # a share below the smallest outopt accepts is raised to it
                vendor["max_share"] = max(MIN_SHARE, need.spend[v] / total)
    if need.engaged and total > 0 and draw(st.booleans()):
        members = draw(st.lists(st.sampled_from(vids), min_size=1, max_size=2, unique=True))
        share = min(1.0, sum(need.spend.get(v, 0.0) for v in members) / total)
        kind = draw(st.sampled_from(["min_share", "max_share"]))
        if share < MIN_SHARE:
            share = 0.0 if kind == "min_share" else MIN_SHARE
        data["vendor_groups"] = [{"id": "g", "vendors": members, kind: share}]
    data["rules"] = {"max_vendors": len(need.engaged)}
    return instance_from_data(data), plan, scale
