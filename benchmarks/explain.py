"""Time of a full explanation of an instance against one solve of it.

    python benchmarks/explain.py [instances/midsize.yaml] [--repeat 3]

One solve is ``outopt.solve(instance)`` (build, HiGHS, verification), the median of ``--repeat``
runs; the explanation is ``outopt.explain(instance)`` (its own first solve, then every re-solve on
the same built model), also the median. Prints the ratio and where the explanation's time goes.
"""

from __future__ import annotations

import argparse
import statistics
import time
from pathlib import Path

import outopt

ROOT = Path(__file__).resolve().parents[1]


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("instance", nargs="?", default=str(ROOT / "instances" / "midsize.yaml"))
    ap.add_argument("--repeat", type=int, default=3)
    args = ap.parse_args()
    inst = outopt.load(args.instance)

    solves = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        sol = outopt.solve(inst)
        solves.append(time.perf_counter() - t)
    runs = []
    for _ in range(args.repeat):
        t = time.perf_counter()
        ex = outopt.explain(inst)
        runs.append((time.perf_counter() - t, ex))
    one = statistics.median(solves)
    total, ex = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    print(f"instance: {inst.name} ({len(inst.functions)} functions, {len(inst.offers)} offers), "
          f"optimum {sol.objective:,.0f}")
    print(f"one solve: {one:.3f}s (median of {args.repeat})")
    print(f"full explanation: {total:.3f}s, {ex.solves} solves ({len(ex.functions)} functions, "
          f"{len(ex.offers)} offers not chosen, {sum(r['binding'] for r in ex.limits)} binding limits)")
    print("  " + ", ".join(f"{k} {v:.3f}s" for k, v in ex.timings.items()))
    print(f"ratio: {total / one:.1f} solves' time ({total / ex.solves / one:.2f} of a solve per re-solve)")


if __name__ == "__main__":
    main()
