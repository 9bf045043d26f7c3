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


def best(instance: Instance):
    """(optimum, [optimal plans]) or (None, []) when no plan is feasible."""
    top, plans = None, []
    for obj, plan in feasible_plans(instance):
        if top is None or obj > top + 1e-7:
            top, plans = obj, [plan]
        elif abs(obj - top) <= 1e-7:
            plans.append(plan)
    return top, plans


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
