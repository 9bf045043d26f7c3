"""Brute-force enumeration of every roadmap of a tiny instance, judged by the independent roadmap verifier.

Test oracle only: every function's provider in every year is tried (in-house and every offer, the
verifier judges), so agreement with the roadmap model is evidence."""

from __future__ import annotations

import itertools

from bruteforce import options

from outopt.instance.schema import Instance
from outopt.verifier.roadmap import verify_roadmap


def all_roadmaps(instance: Instance, limit: int = 20_000):
    T = instance.roadmap.years
    paths = {f: list(itertools.product(opts, repeat=T)) for f, opts in options(instance).items()}
    n = 1
    for p in paths.values():
        n *= max(1, len(p))
    assert n <= limit, f"{n} roadmaps is too many to enumerate"
    ids = list(paths)
    for combo in itertools.product(*(paths[f] for f in ids)):
        yield {f: list(p) for f, p in zip(ids, combo)}


def best_roadmap(instance: Instance, limit: int = 20_000):
    """(optimal NPV, [optimal roadmaps]) or (None, []) when no roadmap is feasible."""
    cache: dict = {}
    top, plans = None, []
    for plan in all_roadmaps(instance, limit):
        check = verify_roadmap(instance, plan, cache)
        if not check.feasible:
            continue
        if top is None or check.objective > top + 1e-7:
            top, plans = check.objective, [plan]
        elif check.objective > top - 1e-7:
            plans.append(plan)
    return top, plans
