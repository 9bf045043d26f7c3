"""Batch throughput: serial, local worker processes and a Dask cluster on the same small instances.

    python benchmarks/batch.py --instances 200 --workers 2

Each executor solves the same generated instances (benchmarks/company_gen.py, seeded) through
``outopt.solve_many``; throughput is instances per second of the batch itself, and the start
time of the workers is reported apart. The cluster is a ``dask scheduler`` and N ``dask worker``
processes on loopback, started and stopped here. Writes benchmarks/results/batch.json.
"""

from __future__ import annotations

import argparse
import json
import os
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))

from company_gen import small_instance  # noqa: E402

import outopt  # noqa: E402


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def run(instances, executor) -> tuple[float, list]:
    t0 = time.perf_counter()
    results = list(outopt.solve_many(instances, executor=executor))
    return time.perf_counter() - t0, results


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--instances", type=int, default=200)
    ap.add_argument("--workers", type=int, default=2)
    ap.add_argument("--executors", default="serial,processes,cluster")
    args = ap.parse_args()
    instances = [small_instance(seed) for seed in range(args.instances)]
    rows = []
    expected = None
    for name in args.executors.split(","):
        start = 0.0
        procs = []
        if name == "serial":
            executor = "serial"
        else:
            from distributed import Client, LocalCluster

            t0 = time.perf_counter()
            if name == "processes":
                cluster = LocalCluster(n_workers=args.workers, threads_per_worker=1, processes=True,
                                       dashboard_address=None, silence_logs=40)
                executor = Client(cluster)
                procs = [executor, cluster]
            else:
                port = free_port()
                address = f"tcp://127.0.0.1:{port}"
                quiet = dict(stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
                sched = subprocess.Popen([sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1",
                                          "--port", str(port), "--no-dashboard"], **quiet)
                workers = [subprocess.Popen([sys.executable, "-m", "dask", "worker", address, "--nthreads", "1",
                                             "--no-dashboard"], **quiet) for _ in range(args.workers)]
                executor = Client(address, timeout="30s")
                executor.wait_for_workers(args.workers, timeout=60)
                procs = [executor, *workers, sched]  # workers end before the scheduler
            # warm the workers (imports) so the batch measures solving, not importing
            executor.run(lambda: __import__("outopt.batch") and None)
            start = time.perf_counter() - t0
        seconds, results = run(instances, executor)
        objectives = {r.name: (r.status, r.objective) for r in results}
        assert not any(r.status == "error" for r in results), [r.reason for r in results if r.status == "error"][:3]
        if expected is None:
            expected = objectives
        assert objectives == expected, "executors disagree"
        for p in procs:
            if isinstance(p, subprocess.Popen):
                os.kill(p.pid, signal.SIGTERM)
                p.wait(timeout=20)
            else:
                p.close()
        rows.append({"executor": name, "workers": 1 if name == "serial" else args.workers,
                     "instances": len(results), "seconds": seconds, "per_second": len(results) / seconds,
                     "start_seconds": start, "with_plan": sum(r.ok for r in results)})
        print(json.dumps(rows[-1]), flush=True)
    base = rows[0]["per_second"]
    print("\n| executor | workers | instances | batch s | instances/s | vs serial | workers start s |")
    print("| --- | ---: | ---: | ---: | ---: | ---: | ---: |")
    for r in rows:
        print(f"| {r['executor']} | {r['workers']} | {r['instances']} | {r['seconds']:.1f} | {r['per_second']:.1f} | "
              f"{r['per_second'] / base:.2f}x | {r['start_seconds']:.1f} |")
    out = Path(__file__).parent / "results" / "batch.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"args": vars(args), "rows": rows}, indent=2))


if __name__ == "__main__":
    main()
