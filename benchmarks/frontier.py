"""What-if benchmark: the frontier of one limit over a range against one solve of the same instance.

    python benchmarks/frontier.py                      # midsize, budget.operating, 75%..125% of the base budget
    python benchmarks/frontier.py --param budget.transition --plot benchmarks/frontier_midsize_transition.png

Prints a Markdown table row: one solve (median of --repeat runs, build included), the whole
frontier (one build, every re-solve, verification), the number of solves and breakpoints,
and the frontier's time in units of one solve.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import outopt

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--instance", default=str(ROOT / "instances" / "midsize.yaml"))
    ap.add_argument("--param", default="budget.operating")
    ap.add_argument("--from-share", type=float, default=0.75, help="bottom of the range, share of the base value")
    ap.add_argument("--to-share", type=float, default=1.25, help="top of the range, share of the base value")
    ap.add_argument("--steps", type=int, default=11)
    ap.add_argument("--repeat", type=int, default=3)
    ap.add_argument("--plot", default=None, help="write the chart here (.png or .svg)")
    args = ap.parse_args()

    inst = outopt.load(args.instance)
    section, _, name = args.param.partition(".")
    base = getattr(getattr(inst, section), name)
    lower, upper = args.from_share * base, args.to_share * base

    one = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        sol = outopt.solve(inst)
        one.append(time.perf_counter() - t0)
        assert sol.status.value == "optimal"
    t_one = statistics.median(one)

    runs = []
    for _ in range(args.repeat):
        t0 = time.perf_counter()
        result = outopt.frontier(inst, args.param, lower, upper, steps=args.steps)
        runs.append(time.perf_counter() - t0)
    t_front = statistics.median(runs)
    assert result.exact
    if args.plot:
        result.plot(args.plot, title=f"{inst.name}: best net benefit against {args.param}")

    print("| instance | parameter | range | one solve (s) | frontier (s) | solves | breakpoints | frontier / one solve |")
    print("| --- | --- | --- | ---: | ---: | ---: | ---: | ---: |")
    print(f"| {Path(args.instance).name} | {args.param} | {lower:,.0f} .. {upper:,.0f} | {t_one:.2f} | {t_front:.2f} "
          f"| {len(result.points)} | {len(result.breakpoints)} | {t_front / t_one:.1f}x |")
    for b in result.breakpoints:
        what = "no plan below" if b.objective_below is None else \
            "; ".join(f"{c['function']}: {c['below']} -> {c['above']}" for c in b.changes)
        print(f"  at {b.at:,.0f}: {b.objective_below} -> {b.objective_above:,.0f}  ({what})")


if __name__ == "__main__":
    main()
