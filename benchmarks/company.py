"""Joint MIP against Lagrangian decomposition on a generated company.

    python benchmarks/company.py --divisions 20 --functions 200 --time-limit 300

Times the build and the solve of the joint model separately, and the decomposition as a
whole; reports each plan's verified objective, the bound, the gap against the best bound
either method proved, and writes benchmarks/results/company.json.
"""

from __future__ import annotations

import argparse
import json
import sys
import time
from dataclasses import replace
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from company_gen import company as generate  # noqa: E402

from outopt.verifier.company import verify_company  # noqa: E402
from outopt.solver.company import build_company  # noqa: E402
from outopt.solver.decompose import decompose  # noqa: E402
from outopt.solver import SolveOptions  # noqa: E402


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--divisions", type=int, default=20)
    ap.add_argument("--functions", type=int, default=200)
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--time-limit", type=float, default=300.0)
    ap.add_argument("--gap", type=float, default=1e-4)
    ap.add_argument("--iterations", type=int, default=30)
    ap.add_argument("--methods", default="joint,decompose")
    args = ap.parse_args()

    t0 = time.perf_counter()
    company = generate(args.seed, args.divisions, args.functions)
    n_offers = sum(len(d.instance.offers) for d in company.divisions)
    print(f"{company.name}: {n_offers} offers, generated in {time.perf_counter() - t0:.1f}s", flush=True)
    options = SolveOptions(time_limit=args.time_limit, gap=args.gap)
    rows = []
    for method in args.methods.split(","):
        t0 = time.perf_counter()
        if method == "joint":
            model = build_company(company)
            build = time.perf_counter() - t0
            sol = model.solve(replace(options, time_limit=max(1.0, args.time_limit - build)))
        else:
            build = None
            sol = decompose(company, options, iterations=args.iterations)
        total = time.perf_counter() - t0
        assert sol.plans is None or verify_company(company, sol.plans).feasible
        rows.append({"method": method, "status": sol.status.value, "objective": sol.objective, "bound": sol.bound,
                     "gap": sol.gap, "build_s": build, "total_s": total, "iterations": sol.iterations})
        print(json.dumps(rows[-1]), flush=True)
    best_bound = min(r["bound"] for r in rows if r["bound"] is not None)
    for r in rows:
        r["gap_to_best_bound"] = None if r["objective"] is None else (best_bound - r["objective"]) / abs(r["objective"])
    print(f"\n| method | status | net benefit/yr | own bound | gap | gap to best bound | build s | total s |")
    print("| --- | --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        build = "-" if r["build_s"] is None else f"{r['build_s']:.1f}"
        print(f"| {r['method']} | {r['status']} | {r['objective']:,.0f} | {r['bound']:,.0f} | {r['gap']:.3%} | "
              f"{r['gap_to_best_bound']:.3%} | {build} | "
              f"{r['total_s']:.1f} |")
    out = Path(__file__).parent / "results" / "company.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
