"""Brute-force enumeration of every plan of a small instance, judged by the independent verifier.

Test oracle only: it shares no code with the model, so agreement with the solver is evidence.
"""

from __future__ import annotations

import itertools

from outopt.instance.schema import INHOUSE, Instance
from outopt.verifier.portfolio import verify


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


def step_function(instance: Instance, requirement):
    """(requirement, objective) of every feasible plan, by requirement: the optimum at limit t is the
    best objective among plans whose requirement is at most t (``instance`` has the limit at the top)."""
    out = []
    for plan in all_plans(instance):
        check = verify(instance, plan)
        if check.feasible:
            out.append((requirement(check), check.objective, plan))
    return sorted(out, key=lambda x: x[0])


def optimum_at(steps, t, eps=1e-9):
    """The best objective among plans of ``step_function`` whose requirement is at most t (None: none)."""
    best_ = None
    for req, obj, _ in steps:
        if req <= t + eps and (best_ is None or obj > best_):
            best_ = obj
    return best_


def breakpoints(steps, lower, upper):
    """[(at, objective_below, objective_above)] for every value in (lower, upper] where the optimum rises."""
    out, best_ = [], None
    reqs = sorted({round(r, 9) for r, _, _ in steps})
    for r in reqs:
        below = best_
        for req, obj, _ in steps:
            if abs(round(req, 9) - r) < 1e-12 and (best_ is None or obj > best_ + 1e-7):
                best_ = obj
        if best_ != below and lower < r <= upper:
            out.append((r, below, best_))
    return out


def nondominated(points, tol=1e-7):
    """The (objective, risk) pairs no other pair beats in both (at least as good in both, better in one)."""
    keep = set()
    for o, r in points:
        if not any(o2 >= o - tol and r2 <= r + tol and (o2 > o + tol or r2 < r - tol) for o2, r2 in points):
            keep.add((round(o, 6), round(r, 9)))
    return sorted(keep, key=lambda x: x[1])
