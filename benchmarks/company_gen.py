"""Seeded generators for the benchmarks: small instances for batch runs, and multi-division companies.

The same seed gives the same files. Amounts are realistic in scale (functions costing
50k-300k a year in-house, offers at 65-105% of that, retainers and onboarding of tens of
thousands), and the corporate limits are set so that they bind: a transition budget for
about a third of the worthwhile moves, shared capacities for about half of a vendor's
possible load, a company-wide vendor cap and max shares.
"""

from __future__ import annotations

import random

from outopt.instance.company import Company, Division
from outopt.instance.schema import Instance
from outopt.instance.validation import instance_from_data


def vendor_pool(rng: random.Random, n: int) -> list[dict]:
    return [{"id": f"vendor{k:02d}", "retainer": round(rng.uniform(20, 80)) * 1000,
             "onboarding": round(rng.uniform(10, 40)) * 1000} for k in range(n)]


def division_data(rng: random.Random, name: str, n_functions: int, vendors: list[dict],
                  offers_per_function: tuple[int, int] = (3, 5)) -> dict:
    functions, offers = [], []
    staff = 0.0
    for i in range(n_functions):
        cost = round(rng.uniform(50, 300)) * 1000
        fte = round(cost / 90_000, 1)
        staff += fte
        functions.append({"id": f"f{i:03d}", "inhouse": {"cost": cost, "value": round(rng.uniform(0, 0.1) * cost),
                                                         "uses": {"staff": fte}},
                          "core": rng.random() < 0.05})
        for v in rng.sample(vendors, rng.randint(*offers_per_function)):
            offers.append({"function": f"f{i:03d}", "vendor": v["id"],
                           "cost": round(cost * rng.uniform(0.65, 1.05), -2),
                           "value": round(cost * rng.uniform(0, 0.08), -2),
                           "transition": round(cost * rng.uniform(0.05, 0.25), -2),
                           "load": round(fte * rng.uniform(0.8, 1.2), 1)})
    return {"name": name, "currency": "USD", "horizon": 3,
            "resources": [{"id": "staff", "capacity": round(staff * 1.0, 1), "redeploy_value": 20_000}],
            "functions": functions, "vendors": vendors, "offers": offers,
            "rules": {}}


def small_instance(seed: int, n_functions: int = 12, n_vendors: int = 5) -> Instance:
    """One small instance (a batch input)."""
    rng = random.Random(seed)
    data = division_data(rng, f"small-{seed}", n_functions, vendor_pool(rng, n_vendors), (1, 3))
    total = sum(f["inhouse"]["cost"] for f in data["functions"])
    data["budget"] = {"operating": round(total * 0.97), "transition": round(total * 0.08)}
    data["rules"]["max_vendors"] = 3
    return instance_from_data(data)


def company(seed: int = 0, n_divisions: int = 20, n_functions: int = 200, n_vendors: int = 15) -> Company:
    """A generated company: divisions sharing one vendor pool and binding corporate limits."""
    rng = random.Random(seed)
    vendors = vendor_pool(rng, n_vendors)
    divisions = [division_data(rng, f"Division {d:02d}", n_functions, vendors) for d in range(n_divisions)]
    transitions, loads = 0.0, {v["id"]: 0.0 for v in vendors}
    for data in divisions:
        cost = {f["id"]: f["inhouse"]["cost"] for f in data["functions"]}
        for o in data["offers"]:
            loads[o["vendor"]] += o["load"]
            if o["cost"] < cost[o["function"]]:
                transitions += o["transition"] / len([p for p in data["offers"] if p["function"] == o["function"]])
    all_inhouse = sum(f["inhouse"]["cost"] for data in divisions for f in data["functions"])
    shared = {v["id"]: {"capacity": round(loads[v["id"]] * 0.25, 1)} for v in vendors[: n_vendors // 2]}
    for v in vendors[:3]:
        shared[v["id"]]["max_share"] = 0.2
    return Company(
        name=f"Generated group {seed} ({n_divisions}x{n_functions})",
        budget={"operating": round(all_inhouse * 0.95), "transition": round(transitions * 0.35)},
        max_vendors=max(3, (2 * n_vendors) // 3),
        vendors=shared,
        divisions=[Division(id=f"d{d:02d}", instance=instance_from_data(data)) for d, data in enumerate(divisions)],
    )
