"""Batch runs: solve many instance or company files on local worker processes or a Dask cluster.

``solve_many(instances, executor=...)`` yields a :class:`BatchResult` per input as it
completes. Executors:

* ``None`` or ``"processes"``: a ``dask.distributed.LocalCluster`` of worker processes
  (one thread each), started and stopped here; no setup needed.
* ``"dask://host:port"`` (or ``"tcp://host:port"``): an existing Dask cluster
  (``dask scheduler`` / ``dask worker``), which must have outopt installed.
* ``"serial"``: in this process, one after another (for measuring and debugging).
* a ``distributed.Client``: used as is, not closed.

Workers receive instance *data* (plain dicts) and build their own model: HiGHS objects
do not pickle. Tasks are submitted with ``pure=False`` so identical inputs are not merged.
Small inputs go to a worker in chunks (:func:`_chunks`), large ones alone.
A task whose worker dies is retried by Dask on another worker; if it kills workers
repeatedly it ends as ``KilledWorker``. Dask also counts that against the tasks queued on the
dying workers, so every ``KilledWorker`` input is run once more on its own after the others:
only an input that crashes workers by itself ends as a failure. No failure of one input stops
the others.

``run_batch(paths, out=...)`` is what ``outopt batch`` runs: folders are searched for
instance files, each result is written atomically to ``out`` as it completes (named after
its input, with the sha256 of the input content), inputs whose result already exists for
the same content are skipped unless ``force``, and ``summary.csv`` is written at the end
(also after Ctrl-C, keeping every finished result).
"""

from __future__ import annotations

import csv
import io
import json
import logging
import os
import time
from collections.abc import Callable, Iterable, Iterator
from dataclasses import asdict, dataclass, field
from pathlib import Path

from outopt.errors import InputError, OutoptError
from outopt.instance.company import Company, input_hash, load_any
from outopt.instance.io.atomic import atomic_write_text
from outopt.instance.schema import Instance
from outopt.solver import SolveOptions, solve

SUFFIXES = (".yaml", ".yml", ".json")
PLAN = ("optimal", "feasible")
FINAL = ("optimal", "feasible", "infeasible", "invalid")  # outcomes a re-run would repeat: skipped when unchanged


@dataclass
class BatchResult:
    """The outcome of one input. ``status``: a solve status, ``invalid`` or ``error`` (with ``reason``)."""

    input: str
    name: str
    status: str
    objective: float | None = None
    gap: float | None = None
    seconds: float = 0.0
    reason: str = ""
    input_hash: str | None = None
    output: str | None = None
    skipped: bool = False
    result: dict | None = field(default=None, repr=False)  # the solution as JSON data

    @property
    def ok(self) -> bool:
        return self.status in PLAN


@dataclass
class Job:
    input: str
    name: str
    kind: str | None = None  # "instance" | "company"; None when it failed to load
    data: dict | None = None
    input_hash: str | None = None
    error: str = ""


# --- work done on a worker -------------------------------------------------------------------


def solve_payload(kind: str, data: dict, time_limit: float | None, gap: float) -> dict:
    """Solve one input's data on a worker; every outcome is returned as data, never raised."""
    from outopt.solver.company import solve_company
    t0 = time.perf_counter()
    try:
        options = SolveOptions(time_limit=time_limit, gap=gap, threads=1)  # one task per worker thread
        if kind == "company":
            sol = solve_company(Company.model_validate(data), options=options)
        else:
            sol = solve(Instance.model_validate(data), options=options)
        result = sol.to_dict()
        return {"status": result["status"], "result": result, "reason": sol.message if not sol.status.has_plan else "",
                "seconds": time.perf_counter() - t0}
    except OutoptError as err:
        return {"status": "error", "reason": str(err), "seconds": time.perf_counter() - t0}
    except Exception as err:  # a bug must fail this input only
        return {"status": "error", "reason": f"{type(err).__name__}: {err}", "seconds": time.perf_counter() - t0}


# --- inputs ----------------------------------------------------------------------------------


def find_inputs(paths: Iterable[str | Path], exclude: Path | None = None) -> list[Path]:
    """Files as given; folders searched (recursively) for .yaml/.yml/.json files, sorted."""
    found: list[Path] = []
    skip = exclude.resolve() if exclude is not None else None
    for p in map(Path, paths):
        if p.is_dir():
            for f in sorted(p.rglob("*")):
                if f.is_file() and f.suffix.lower() in SUFFIXES and not f.name.startswith("."):
                    if skip is None or skip not in f.resolve().parents:
                        found.append(f)
        else:
            found.append(p)
    unique: dict[Path, None] = {}
    for f in found:
        unique.setdefault(f, None)
    return list(unique)


def result_names(paths: list[Path]) -> dict[Path, str]:
    """A result name per input: its stem, or its path joined by '__' where stems collide."""
    stems: dict[str, int] = {}
    for p in paths:
        stems[p.stem] = stems.get(p.stem, 0) + 1
    names = {}
    for p in paths:
        if stems[p.stem] == 1:
            names[p] = p.stem
        else:
            parts = [x for x in p.with_suffix("").parts if x not in ("/", "..", ".")]
            names[p] = "__".join(parts)
    return names


def prepare(item, name: str | None = None) -> Job:
    """Load and validate one input on the client (a path, an Instance or a Company)."""
    if isinstance(item, (Instance, Company)):
        kind = "company" if isinstance(item, Company) else "instance"
        return Job(input=item.name, name=name or item.name, kind=kind, data=item.model_dump(mode="json"))
    path = Path(item)
    job = Job(input=str(path), name=name or path.stem)
    try:
        job.input_hash = input_hash(path) if path.is_file() else None
        loaded = load_any(path)
    except InputError as err:
        job.error = str(err) if err.source else f"{path}: {err}"
        return job
    except OSError as err:
        job.error = f"{path}: {err.strerror}"
        return job
    job.kind = "company" if isinstance(loaded, Company) else "instance"
    job.data = loaded.model_dump(mode="json")
    return job


def _result(job: Job, out: dict) -> BatchResult:
    res = out.get("result") or {}
    return BatchResult(input=job.input, name=job.name, status=out["status"], objective=res.get("objective"),
                       gap=res.get("gap"), seconds=out.get("seconds", 0.0), reason=out.get("reason", ""),
                       input_hash=job.input_hash, result=out.get("result"))


# --- executors -------------------------------------------------------------------------------


def _client(executor, workers: int | None):
    """(client, owned resources to close) for an executor spec."""
    from distributed import Client, LocalCluster

    if isinstance(executor, Client):
        return executor, []
    if executor in (None, "processes"):
        n = workers or os.cpu_count() or 1
        cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                               silence_logs=logging.ERROR)
        client = Client(cluster)
        return client, [client, cluster]
    if isinstance(executor, str) and executor.startswith(("dask://", "tcp://")):
        address = "tcp://" + executor.split("://", 1)[1]
        client = Client(address, timeout="20s")
        return client, [client]
    raise ValueError(f"executor must be None, 'processes', 'serial', 'dask://host:port' or a Client, got {executor!r}")


CHUNK_OFFERS = 2_000  # small inputs travel to a worker together, up to about this many offers a task


def _size(job: Job) -> int:
    """An input's offers (a company's over its divisions): a proxy for its solve time."""
    data = job.data or {}
    if job.kind == "company":
        return sum(len(d.get("offers", ())) for d in data.get("divisions", ()))
    return len(data.get("offers", ()))


def _chunks(jobs: list[Job], threads: int) -> list[list[Job]]:
    """Jobs in tasks: small inputs together (up to CHUNK_OFFERS offers, and at most a quarter of an
    even share per worker thread, so every thread still gets several tasks), a large input alone.
    Dask's overhead per task (scheduling, transfer, a few milliseconds) is then small against the
    work even when each solve takes milliseconds."""
    most = max(1, len(jobs) // (4 * max(1, threads)))
    chunks: list[list[Job]] = []
    current: list[Job] = []
    offers = 0
    for job in jobs:
        size = _size(job)
        if current and (offers + size > CHUNK_OFFERS or len(current) >= most):
            chunks.append(current)
            current, offers = [], 0
        current.append(job)
        offers += size
    if current:
        chunks.append(current)
    return chunks


def run_chunk(task: Callable[..., dict], items: list[tuple[str, dict]], time_limit: float | None,
              gap: float) -> list[dict]:
    """Run ``task`` on each (kind, data) of a chunk, on a worker; one outcome per input."""
    return [task(kind, data, time_limit, gap) for kind, data in items]


def execute(jobs: list[Job], executor=None, workers: int | None = None, time_limit: float | None = None,
            gap: float = 0.0, task: Callable[..., dict] = solve_payload) -> Iterator[BatchResult]:
    """Yield one result per job as it completes; jobs that failed to load come first.

    ``task(kind, data, time_limit, gap) -> dict`` is the work done per input (``solve_payload``).
    """
    runnable = []
    for job in jobs:
        if job.kind is None:
            yield BatchResult(input=job.input, name=job.name, status="invalid", reason=job.error,
                              input_hash=job.input_hash)
        else:
            runnable.append(job)
    if not runnable:
        return
    if executor == "serial":
        for job in runnable:
            yield _result(job, task(job.kind, job.data, time_limit, gap))
        return

    from distributed import as_completed
    from distributed.scheduler import KilledWorker

    client, owned = _client(executor, workers)
    futures = {}
    try:
        threads = sum(w.get("nthreads", 1) for w in client.scheduler_info().get("workers", {}).values()) or 1
        chunks = _chunks(runnable, threads)
        futs = client.map(run_chunk, [task] * len(chunks), [[(j.kind, j.data) for j in c] for c in chunks],
                          [time_limit] * len(chunks), [gap] * len(chunks), pure=False)
        futures = dict(zip(futs, chunks))
        suspects = []  # KilledWorker: an input crashed its workers, or was queued on workers another one crashed
        for fut in as_completed(futs):
            chunk = futures[fut]
            try:
                outs = fut.result()
            except KilledWorker:
                suspects.extend(chunk)
                continue
            except Exception as err:  # the task could not run: report it for these inputs only
                outs = [{"status": "error", "reason": f"{type(err).__name__}: {err}"}] * len(chunk)
            for job, out in zip(chunk, outs):
                yield _result(job, out)
        for job in suspects:  # each alone, so only an input that crashes workers by itself fails
            fut = client.submit(task, job.kind, job.data, time_limit, gap, pure=False)
            futures[fut] = job
            try:
                out = fut.result()
            except KilledWorker:
                out = {"status": "error", "reason": "worker crashed while solving it (KilledWorker)"}
            except Exception as err:
                out = {"status": "error", "reason": f"{type(err).__name__}: {err}"}
            yield _result(job, out)
    finally:
        for fut in futures:
            fut.cancel()
        for thing in owned:
            try:
                thing.close()
            except Exception:  # closing a cluster after Ctrl-C must not hide the interrupt
                pass


def solve_many(instances: Iterable, executor=None, *, workers: int | None = None, time_limit: float | None = None,
               gap: float = 0.0) -> Iterator[BatchResult]:
    """Solve instances, company objects or files; yield a :class:`BatchResult` for each as it completes.

    ``executor``: None or "processes" (local worker processes), "dask://host:port" (an existing
    Dask cluster), "serial", or a ``distributed.Client``.
    """
    return execute([prepare(i) for i in instances], executor, workers, time_limit, gap)


# --- the batch command -----------------------------------------------------------------------


def existing_result(path: Path, digest: str | None) -> dict | None:
    """The stored result at ``path`` if it is for the same input content and a final outcome."""
    if digest is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if isinstance(data, dict) and data.get("input_hash") == digest and data.get("status") in FINAL:
        return data
    return None


def write_result(out: Path, r: BatchResult) -> None:
    """Write a result atomically; errors (crashes, solver failures) and timeouts are written too,
    but a re-run solves them again."""
    payload = {"input": r.input, "input_hash": r.input_hash, **(r.result or {"status": r.status}), "reason": r.reason}
    target = out / f"{r.name}.json"
    atomic_write_text(target, json.dumps(payload, indent=2, default=str) + "\n")
    r.output = str(target)


SUMMARY_COLUMNS = ["input", "name", "status", "objective", "gap", "seconds", "skipped", "reason", "output"]


def summary_csv(results: list[BatchResult]) -> str:
    buf = io.StringIO()
    w = csv.DictWriter(buf, fieldnames=SUMMARY_COLUMNS, extrasaction="ignore")
    w.writeheader()
    for r in results:
        w.writerow({k: v for k, v in asdict(r).items() if k in SUMMARY_COLUMNS})
    return buf.getvalue()


@dataclass
class BatchRun:
    results: list[BatchResult]
    total: int
    interrupted: bool = False
    seconds: float = 0.0

    @property
    def failed(self) -> list[BatchResult]:
        return [r for r in self.results if not r.ok]


def run_batch(paths: Iterable[str | Path], out: str | Path | None = None, executor=None, workers: int | None = None,
              time_limit: float | None = None, gap: float = 0.0, force: bool = False,
              on_start: Callable[[int, int], None] | None = None,
              on_result: Callable[[BatchResult], None] | None = None) -> BatchRun:
    """Solve every input file; write results and summary.csv to ``out``; skip unchanged finished work.

    ``on_start(total, skipped)`` and ``on_result(result)`` let a caller show progress.
    Ctrl-C ends the run cleanly: finished results are kept, summary.csv is written, and
    the returned run has ``interrupted`` set.
    """
    t0 = time.perf_counter()
    outdir = Path(out) if out is not None else None
    files = find_inputs(paths, exclude=outdir)
    names = result_names(files)
    results: list[BatchResult] = []
    jobs: list[Job] = []
    for f in files:
        digest = input_hash(f) if f.is_file() else None
        old = None if force or outdir is None else existing_result(outdir / f"{names[f]}.json", digest)
        if old is not None:
            results.append(BatchResult(input=str(f), name=names[f], status=old["status"],
                                       objective=old.get("objective"), gap=old.get("gap"), reason=old.get("reason", ""),
                                       input_hash=digest, output=str(outdir / f"{names[f]}.json"), skipped=True))
        else:
            jobs.append(prepare(f, names[f]))
    if on_start:
        on_start(len(files), len(results))
    run = BatchRun(results=results, total=len(files))
    try:
        for r in execute(jobs, executor, workers, time_limit, gap):
            if outdir is not None:
                write_result(outdir, r)
            results.append(r)
            if on_result:
                on_result(r)
    except KeyboardInterrupt:
        run.interrupted = True
    run.seconds = time.perf_counter() - t0
    if outdir is not None:
        atomic_write_text(outdir / "summary.csv", summary_csv(results))
    return run
