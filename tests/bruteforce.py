"""Brute-force enumeration of every plan of a small instance, judged by the independent verifier.

Test oracle only: it shares no code with the model, so agreement with the solver is evidence.
"""

from __future__ import annotations

import itertools

from outopt.schema import INHOUSE, Instance
from outopt.verify import verify


def options(instance: Instance) -> dict[str, list[str]]:
    """Every provider each function could have (in-house and every offer, core or not: the verifier judges)."""
    opts = {f.id: ([INHOUSE] if f.inhouse else []) for f in instance.functions}
    for o in instance.offers:
        opts[o.function].append(o.vendor)
    return opts


def all_plans(instance: Instance, limit: int = 200_000):
    opts = options(instance)
    n = 1
    for v in opts.values():
        n *= max(1, len(v))
    assert n <= limit, f"{n} plans is too many to enumerate"
    ids = list(opts)
    for combo in itertools.product(*(opts[f] for f in ids)):
        yield dict(zip(ids, combo))


def feasible_plans(instance: Instance):
    """(objective, plan) for every feasible plan."""
    for plan in all_plans(instance):
        check = verify(instance, plan)
        if check.feasible:
            yield check.objective, plan


def priority_levels(instance: Instance) -> list[int]:
    """Priority levels of the instance's soft rules, highest first."""
    found = set()

    def visit(node):
        if isinstance(node, dict):
            if node.get("priority") is not None and "penalty" in node:
                found.add(node["priority"])
            for value in node.values():
                visit(value)
        elif isinstance(node, list):
            for value in node:
                visit(value)

    visit(instance.model_dump())
    return sorted(found, reverse=True)


def best(instance: Instance):
    """(optimum, [optimal plans]) or (None, []) when no plan is feasible.

    With priority levels the order is lexicographic: least weighted violation of the highest
    level first, then the next level, ..., then the largest objective.
    """
    levels = priority_levels(instance)
    top, top_key, plans = None, None, []
    for plan in all_plans(instance):
        check = verify(instance, plan)
        if not check.feasible:
            continue
        key = [-check.level_violation.get(p, 0.0) for p in levels] + [check.objective]
        if top_key is None or _better(key, top_key):
            top, top_key, plans = check.objective, key, [plan]
        elif not _better(top_key, key):
            plans.append(plan)
    return top, plans


def _better(a: list[float], b: list[float]) -> bool:
    for x, y in zip(a, b):
        if x > y + 1e-7:
            return True
        if x < y - 1e-7:
            return False
    return False
