"""Solve time with every expressive contract term on, against the same instance with flat prices.

    python benchmarks/terms.py [--functions 2000] [--seed 7] [--gap 0.0001] [--time-limit 600]

Times build (compile + Pyomo model), solve (HiGHS, with the lexicographic priority stages) and
verification separately for: instances/midsize.yaml, and a seeded generated instance with all
terms on and the same instance with the terms stripped ("flat": no discounts, bundles,
commitments, groups, locks, bans, dependencies, exit fees, stay discounts, change cap or soft rules).
The generator below is self-contained (issue 8's generator was not on main when this was written).
"""

from __future__ import annotations

import argparse
import copy
import random
import sys
import time
from pathlib import Path

import pyomo.environ as pyo

import outopt
from outopt.instance.validation import instance_from_data

ROOT = Path(__file__).resolve().parents[1]


def generate(n: int, seed: int) -> dict:
    """A company of n functions and n/20 vendors using every contract term (plain data, as in a file)."""
    rng = random.Random(seed)
    n_vendors = max(6, n // 20)
    resources = [{"id": f"staff{r}", "capacity": 0.0, "redeploy_value": rng.choice([0, 20000, 30000, 40000])}
                 for r in range(5)]
    functions, offers = [], []
    vendors = [{"id": f"v{k}", "retainer": rng.randint(0, 40) * 1000, "onboarding": rng.randint(0, 20) * 1000}
               for k in range(n_vendors)]
    by_vendor: dict[str, list[tuple[str, float]]] = {v["id"]: [] for v in vendors}
    for i in range(n):
        fid = f"f{i}"
        cost = rng.randint(50, 400) * 1000
        res = rng.randrange(5)
        use = round(rng.uniform(0.5, 3.0), 1)
        resources[res]["capacity"] += use
        f = {"id": fid, "inhouse": {"cost": cost, "value": rng.choice([0, 0, 5000, 20000]), "uses": {f"staff{res}": use}}}
        if rng.random() < 0.04:
            f["core"] = True
        chosen = rng.sample(range(n_vendors), 4)
        for k in chosen:
            vid = f"v{k}"
            price = round(cost * rng.uniform(0.6, 1.1), -2)
            offers.append({"function": fid, "vendor": vid, "cost": price, "value": rng.choice([-5000, 0, 5000, 10000]),
                           "transition": round(cost * rng.uniform(0.05, 0.3), -2), "load": rng.randint(1, 10)})
            by_vendor[vid].append((fid, price))
        if rng.random() < 0.1 and not f.get("core"):
            f["current"] = f"v{chosen[0]}"
        functions.append(f)
    for r in resources:
        r["capacity"] = round(r["capacity"] * 0.8, 1)
    for v in vendors:
        total = sum(p for _, p in by_vendor[v["id"]])
        v["capacity"] = round(sum(10 for _ in by_vendor[v["id"]]) * 0.5)
        if int(v["id"][1:]) % 4 == 0:
            v["max_share"] = 0.25
        v["_total"] = total
    all_inhouse = sum(f["inhouse"]["cost"] for f in functions)
    return {
        "name": f"generated {n} functions (seed {seed})",
        "horizon": 3,
        "budget": {"operating": round(all_inhouse * 0.9), "transition": round(all_inhouse * 0.08)},
        "resources": resources,
        "functions": functions,
        "vendors": vendors,
        "offers": offers,
        "rules": {"max_vendors": max(5, 2 * n_vendors // 3)},
    }, rng, by_vendor


def add_terms(data: dict, rng: random.Random, by_vendor: dict) -> dict:
    """Every contract term, on a share of the vendors and functions."""
    functions = data["functions"]
    fids = [f["id"] for f in functions if not f.get("core")]
    current = {f["id"]: f["current"] for f in functions if f.get("current")}
    for k, v in enumerate(data["vendors"]):
        total, mine = v["_total"], by_vendor[v["id"]]
        if k % 3 == 0 and total > 0:
            v["discount_kind"] = "all_units" if k % 2 == 0 else "incremental"
            v["discounts"] = [{"threshold": round(total * 0.15, -3), "percent": 3},
                              {"threshold": round(total * 0.3, -3), "percent": 6}]
        free = [(f, p) for f, p in mine if not next(x for x in functions if x["id"] == f).get("core")]
        if k % 4 == 1 and len(free) >= 2:
            pair = rng.sample(free, 2)
            v["bundles"] = [{"functions": [pair[0][0], pair[1][0]], "price": round((pair[0][1] + pair[1][1]) * 0.9, -2)}]
        if k % 5 == 2:
            v["min_spend"] = round(total * 0.1, -3)
        if k % 5 == 3 and len(mine) >= 3:
            v["min_functions"] = 3
        if "max_share" in v and k % 8 == 0:
            v["soft"] = {"max_share": {"penalty": 0.2}}
    for f in functions:
        if f["id"] in current and rng.random() < 0.7:
            f["exit_fee"] = round(f["inhouse"]["cost"] * 0.2, -2)
    for o in data["offers"]:
        if current.get(o["function"]) == o["vendor"] and rng.random() < 0.5:
            o["stay_discount"] = 5
    vids = [v["id"] for v in data["vendors"]]
    data["vendor_groups"] = [
        {"id": "diverse", "vendors": rng.sample(vids, max(2, len(vids) // 10)), "min_share": 0.05, "min_count": 10,
         "soft": {"penalty": 1.0}},
        {"id": "offshore", "vendors": rng.sample(vids, max(2, len(vids) // 5)), "max_share": 0.3},
    ]
    n = len(fids)
    offered = {(o["function"], o["vendor"]) for o in data["offers"]}
    locks = []
    for fid in rng.sample(fids, max(1, n // 100)):
        vs = [v for (f, v) in offered if f == fid]
        locks.append({"function": fid, "provider": rng.choice(vs + ["inhouse"]), "reason": "contract"})
    locks[0]["soft"] = {"penalty": 100000, "priority": 2}
    rules = data["rules"]
    rules["locks"] = locks
    rules["forbid"] = [{"functions": rng.sample(fids, 10), "vendors": rng.sample(vids, 3), "reason": "residency"}
                       for _ in range(5)]
    rules["forbid"][0]["soft"] = {"penalty": 20000}
    rules["requires"] = [{"function": a, "requires": b} for a, b in (rng.sample(fids, 2) for _ in range(n // 100))]
    rules["exclusive"] = [{"functions": rng.sample(fids, 3)} for _ in range(n // 200)]
    rules["max_changes"] = int(n * 0.6)
    rules["soft"] = {"max_changes": {"priority": 1, "penalty": 10000}}
    data["budget"]["soft"] = {"transition": {"penalty": 0.5}}
    return data


def strip(data: dict) -> dict:
    for v in data["vendors"]:
        v.pop("_total", None)
    return data


def measure(label: str, inst: outopt.Instance, gap: float, time_limit: float) -> dict:
    t0 = time.perf_counter()
    model = outopt.build(inst)
    build = time.perf_counter() - t0
    t1 = time.perf_counter()
    sol = model.solve(gap=gap, time_limit=time_limit)
    total = time.perf_counter() - t1
    t2 = time.perf_counter()
    outopt.verify(inst, sol.plan) if sol.plan else None
    verify = time.perf_counter() - t2
    m = model.pyomo
    n_vars = sum(len(v) for v in m.component_objects(pyo.Var))
    n_rows = sum(len(c) for c in m.component_objects(pyo.Constraint))
    row = {"instance": label, "functions": len(inst.functions), "vars": n_vars, "rows": n_rows,
           "build_s": build, "solve_s": sol.solve_time, "solve_call_s": total, "verify_s": verify,
           "status": sol.status.value, "gap": sol.gap, "objective": sol.objective}
    print(f"| {label} | {row['functions']} | {n_vars} | {n_rows} | {build:.2f} | {total:.2f} | {verify:.2f} | "
          f"{row['status']} | {'-' if sol.gap is None else f'{sol.gap:.2e}'} |", flush=True)
    return row


def main(argv=None) -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=2000)
    ap.add_argument("--seed", type=int, default=7)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--time-limit", type=float, default=600)
    args = ap.parse_args(argv)

    print(f"gap {args.gap}, time limit {args.time_limit:g} s, python {sys.version.split()[0]}")
    print("| instance | functions | variables | rows | build s | solve s | verify s | status | gap |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: | --- | ---: |")
    mid = outopt.load(ROOT / "instances" / "midsize.yaml")
    measure("midsize, all terms", mid, args.gap, args.time_limit)
    flat_mid = mid.replace(**{
        "vendor_groups": [], "rules": outopt.Rules(max_vendors=mid.rules.max_vendors, separate=mid.rules.separate,
                                                   together=mid.rules.together),
        "budget": outopt.Budget(operating=mid.budget.operating, transition=mid.budget.transition),
        "vendors": [v.model_copy(update={"discounts": [], "bundles": [], "min_spend": None, "min_functions": None,
                                         "soft": {}}) for v in mid.vendors],
        "functions": [f.model_copy(update={"exit_fee": 0.0}) for f in mid.functions],
        "offers": [o.model_copy(update={"stay_discount": 0.0}) for o in mid.offers],
    })
    measure("midsize, flat", flat_mid, args.gap, args.time_limit)

    base, rng, by_vendor = generate(args.functions, args.seed)

    flat = instance_from_data(strip(copy.deepcopy(base)))
    full = instance_from_data(strip(add_terms(base, rng, by_vendor)))
    measure("generated, all terms", full, args.gap, args.time_limit)
    measure("generated, flat", flat, args.gap, args.time_limit)


if __name__ == "__main__":
    main()
