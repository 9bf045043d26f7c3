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
