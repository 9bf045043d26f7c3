"""The roadmap model against the single-year solve of the same instance.

    python benchmarks/roadmap.py --functions 200 --vendors 20 --years 5 --time-limit 600

The base is ``generate(F, V, "hard")`` (every single-year limit binds: budgets, staff, vendor
capacities, retainers and onboarding, a 40 % share cap; ``--rules`` adds max_vendors and
separate/together groups, which make even the single-year solve of 200 x 20 stop at 600 s with a gap
of 0.23 %); today's providers are its single-year optimum. The roadmap adds, seeded: offers 20 % cheaper
from the vendors today's plan does not use (half of them arriving in year 2 or 3; with ``--rules``,
max_vendors gets room for one more), escalation of 2-4 %
a year for today's vendors (0-1 % for the others), a contract end (years 1..T) and an exit fee for every
function with a current vendor, an earliest change for a tenth of the functions, parallel runs on a third
of the offers, a transition team of a twentieth of the functions a year, an operating budget at today's
cost in every year and a transition budget of a sixth of the base's. The single-year instance is the same
without its roadmap. Times the single-year solve (``outopt.solve``) and the roadmap's build and solve
(HiGHS threads=1), reports how close the roadmap is to each per-year limit (use / limit), and writes
benchmarks/results/roadmap.json.
"""

from __future__ import annotations

import argparse
import json
import random
import time
from pathlib import Path

from outopt.instance.generate import generate
from outopt.instance.schema import INHOUSE
from outopt.instance.validation import instance_from_data
from outopt.solver import SolveOptions, solve
from outopt.solver.roadmap import build_roadmap
from outopt.verifier.portfolio import verify


def roadmap_instance(functions: int, vendors: int, years: int, seed: int, options: SolveOptions, rules: bool = False):
    """(the single-year instance, its roadmap): see the module docstring. Today's plan is the single-year optimum,
    so year 1 starts from a plan that meets every limit; the roadmap has reasons to move (cheaper vendors,
    escalation, contract ends) and per-year limits that bind."""
    base = generate(functions, vendors, "hard", seed=seed, rules=rules)
    rng = random.Random(seed)
    today = solve(base, options=options).plan
    used = set(today.values())
    data = base.model_dump(mode="json")
    for f in data["functions"]:
        f["current"] = today[f["id"]]
        if f["current"] != INHOUSE:
            f["exit_fee"] = round(next(o["cost"] for o in data["offers"] if o["function"] == f["id"]
                                       and o["vendor"] == f["current"]) * rng.uniform(0.1, 0.3), -2)
    for o in data["offers"]:
        if o["vendor"] not in used:
            o["cost"] = round(o["cost"] * 0.8, 2)
    if data["rules"].get("max_vendors") is not None:  # room for one new vendor
        data["rules"]["max_vendors"] += 1
    single = instance_from_data(json.loads(json.dumps(data)))
    for f in data["functions"]:
        if f["current"] != INHOUSE:
            f["contract_end"] = rng.randint(1, years)
        if rng.random() < 0.1:
            f["earliest_change"] = rng.randint(2, years)
    for v in data["vendors"]:
        v["escalation"] = rng.choice([2, 3, 4]) if v["id"] in used else rng.choice([0, 1])
        if v["id"] not in used and rng.random() < 0.5:
            v["available_from"] = rng.randint(2, min(3, years))
    for o in data["offers"]:
        if rng.random() < 1 / 3:
            o["parallel_run"] = rng.choice([0.1, 0.25, 0.5])
    now = verify(single, today).operating_cost
    tr = data["budget"]["transition"]
    data["roadmap"] = {
        "years": years, "discount_rate": 0.08, "tail_years": 2, "max_changes_per_year": max(1, functions // 20),
        "budget": {"operating": [round(now + 500, -3)] * years, "transition": [round(tr / 6, -3)] * years},
    }
    return single, instance_from_data(data)


def closeness(sol) -> dict:
    """Per year: operating and transition cost against their limits, changes against the team's capacity."""
    inst = sol.instance
    rm = inst.roadmap
    out = []
    for y in sol.verification.years:
        op = rm.budget.operating[y.year - 1]
        tr = rm.budget.transition[y.year - 1]
        out.append({"year": y.year, "operating": y.operating_cost / op, "transition": y.transition_cost / tr,
                    "changes": y.changes / rm.max_changes_per_year})
    return out


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=200)
    ap.add_argument("--vendors", type=int, default=20)
    ap.add_argument("--years", type=int, default=5)
    ap.add_argument("--seed", type=int, default=1)
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--rules", action="store_true", help="also the generator's rules (max_vendors, separate, together)")
    args = ap.parse_args()

    options = SolveOptions(time_limit=args.time_limit, gap=args.gap, threads=1)
    base, inst = roadmap_instance(args.functions, args.vendors, args.years, args.seed, options, args.rules)
    print(f"{inst.name}: {len(inst.functions)} functions, {len(inst.vendors)} vendors, {len(inst.offers)} offers, "
          f"{args.years} years", flush=True)
    t0 = time.perf_counter()
    single = solve(base, options=options)  # the same instance without its roadmap
    single_s = time.perf_counter() - t0
    print(f"single year: {single.status.value}, net benefit {single.objective:,.0f}, gap {single.gap}, "
          f"{single_s:.1f}s", flush=True)
    t0 = time.perf_counter()
    model = build_roadmap(inst)
    build_s = time.perf_counter() - t0
    sol = model.solve(SolveOptions(time_limit=max(1.0, args.time_limit - build_s), gap=args.gap, threads=1))
    total_s = time.perf_counter() - t0
    ncols = sum(1 for _ in model.pyomo.component_data_objects(ctype=__import__("pyomo.environ").environ.Var))
    print(f"roadmap: {sol.status.value}, NPV {sol.objective}, bound {sol.bound}, gap {sol.gap}, "
          f"{ncols} variables, build {build_s:.1f}s, solve {sol.solve_time:.1f}s, total {total_s:.1f}s", flush=True)
    near = closeness(sol) if sol.verification is not None else []
    for row in near:
        print(f"  year {row['year']}: operating {row['operating']:.1%}, transition {row['transition']:.1%}, "
              f"changes {row['changes']:.0%} of their limits")
    out = Path(__file__).parent / "results" / "roadmap.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({
        "args": vars(args), "offers": len(inst.offers), "variables": ncols,
        "single": {"status": single.status.value, "objective": single.objective, "gap": single.gap, "seconds": single_s},
        "roadmap": {"status": sol.status.value, "objective": sol.objective, "bound": sol.bound, "gap": sol.gap,
                    "build_s": build_s, "solve_s": sol.solve_time, "total_s": total_s, "closeness": near},
    }, indent=2))


if __name__ == "__main__":
    main()
