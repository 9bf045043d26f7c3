"""Time of a full explanation of an instance against one solve of it.

    python benchmarks/explain.py [instances/midsize.yaml] [--repeat 3]

One solve is ``outopt.solve(instance)`` (build, HiGHS, verification), the median of at least 5
runs; the explanation is ``outopt.explain(instance)`` (its own first solve, then every re-solve on
the same built model), the median of ``--repeat`` runs. Prints the ratio in wall-clock time and in
CPU time (steadier on a shared machine: both run in this one process), the MIPs solved against
the questions asked, and where the explanation's time goes.
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

    solves, cpu_solves = [], []
    for _ in range(max(5, args.repeat)):
        t, c = time.perf_counter(), time.process_time()
        sol = outopt.solve(inst)
        solves.append(time.perf_counter() - t)
        cpu_solves.append(time.process_time() - c)
    runs = []
    for _ in range(args.repeat):
        t, c = time.perf_counter(), time.process_time()
        ex = outopt.explain(inst)
        runs.append((time.perf_counter() - t, time.process_time() - c, ex))
    one, cpu_one = statistics.median(solves), statistics.median(cpu_solves)
    total, cpu, ex = sorted(runs, key=lambda r: r[0])[len(runs) // 2]
    print(f"instance: {inst.name} ({len(inst.functions)} functions, {len(inst.offers)} offers), "
          f"optimum {sol.objective:,.0f}")
    print(f"one solve: {one:.3f}s, CPU {cpu_one:.3f}s (median of {len(solves)})")
    print(f"full explanation: {total:.3f}s, CPU {cpu:.3f}s, {ex.solves} solves for {ex.questions} questions "
          f"({len(ex.functions)} functions, {len(ex.offers)} offers not chosen, "
          f"{sum(r['binding'] for r in ex.limits)} binding limits)")
    print("  " + ", ".join(f"{k} {v:.3f}s" for k, v in ex.timings.items()))
    print(f"ratio: {total / one:.1f} solves' time (CPU: {cpu / cpu_one:.1f})")


if __name__ == "__main__":
    main()
