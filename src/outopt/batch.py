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
instance files (what is found but not run is reported as ``ignored``, with the reason), each
result is written atomically to ``out`` as it completes (named after its input, distinct for
every input: :func:`result_names`; with the sha256 of the input content and the options that
change the answer), inputs whose result already answers the same question are skipped unless
``force``, and ``summary.csv`` is written at the end (also after Ctrl-C, keeping every finished
result). A result that cannot be written fails its input only.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import io
import json
import logging
import os
import signal
import stat
import threading
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path

from outopt.errors import InputError, OutoptError
from outopt.instance.company import Company, input_hash, instance_or_company, is_company_data, load_any
from outopt.instance.io import gc_paused
from outopt.instance.io.atomic import atomic_write_text
from outopt.instance.io.limits import ReadLimits
from outopt.instance.io.text import read_text
from outopt.instance.schema import Instance
from outopt.solver import SolveOptions, solve
from outopt.solver.interrupts import helper_threads

SUFFIXES = (".yaml", ".yml", ".json")
PLAN = ("optimal", "feasible")
FINAL = ("optimal", "feasible", "infeasible", "invalid")  # outcomes a re-run would repeat: skipped when unchanged
PROVEN = ("optimal", "infeasible", "invalid")  # outcomes no time limit changes
IGNORED = "ignored"  # a file found that is not an input (a scenario file, a pipe, ...): said, not run


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

    @property
    def failed(self) -> bool:
        return self.status not in PLAN and self.status != IGNORED


@dataclass
class Job:
    input: str
    name: str
    kind: str | None = None  # "instance" | "company" | "ignored"; None when it failed to load
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


IN_OUT = "inside the --out folder (results are written there, not read)"


def find_inputs(paths: Iterable[str | Path], exclude: Path | None = None) -> tuple[list[Path], list[tuple[Path, str]]]:
    """(inputs, ignored): files as given; folders searched (recursively, links to folders not
    followed) for .yaml/.yml/.json files, sorted. What a search finds but does not run is returned
    with the reason: files in ``exclude`` (the results folder), pipes, devices and dangling links.
    Each file once, however often it is named."""
    found: list[Path] = []
    ignored: list[tuple[Path, str]] = []
    out = exclude.resolve() if exclude is not None else None
    for p in map(Path, paths):
        if not p.is_dir():
            found.append(p)  # as given: a problem with it is reported when it is read
            continue
        for f in _search(p):
            if out is not None and (f.resolve() == out or out in f.resolve().parents):
                ignored.append((f, IN_OUT))
            elif why := _not_a_file(f):
                ignored.append((f, why))
            else:
                found.append(f)
    unique: dict[Path, Path] = {}
    for f in found:
        unique.setdefault(f.resolve(), f)
    return list(unique.values()), ignored


def _search(folder: Path) -> list[Path]:
    files = []
    for root, dirs, names in os.walk(folder):
        dirs[:] = [d for d in dirs if not d.startswith(".")]
        files += [Path(root) / n for n in names if Path(n).suffix.lower() in SUFFIXES and not n.startswith(".")]
    return sorted(files)


def _not_a_file(path: Path) -> str:
    """Why a path found in a folder is not read ("" for a regular file)."""
    try:
        info = path.stat()
    except FileNotFoundError:
        return "a link to a file that does not exist"
    except OSError as err:
        return f"cannot be read: {err.strerror}"
    return "" if stat.S_ISREG(info.st_mode) else "not a regular file (a device, pipe or socket)"


NAME_BYTES = 200  # a result's name: the input's stem up to this many bytes (a file name holds 255)


def result_names(paths: list[Path]) -> dict[Path, str]:
    """A distinct result name per input, whatever the others are called: its stem; where stems
    collide (also by case, for case-insensitive file systems) or a stem is cut to fit a file name,
    the stem and a digest of the input's absolute path. The same inputs get the same names."""
    unique = list(dict.fromkeys(paths))
    stems = {p: _cut(p.stem) for p in unique}
    count = Counter(s.casefold() for s in stems.values())
    names = {p: stems[p] if count[stems[p].casefold()] == 1 and stems[p] == p.stem else _tagged(p, stems[p], 12)
             for p in unique}
    while True:  # a stem may equal another input's tagged name: tag both in full
        clash = Counter(n.casefold() for n in names.values())
        doubled = [p for p, n in names.items() if clash[n.casefold()] > 1]
        if not doubled:
            return names
        for p in doubled:
            names[p] = _tagged(p, stems[p], 64)


def _cut(stem: str) -> str:
    return stem.encode()[:NAME_BYTES].decode(errors="ignore")


def _tagged(path: Path, stem: str, digits: int) -> str:
    return f"{stem}-{hashlib.sha256(os.path.abspath(path).encode(errors='surrogateescape')).hexdigest()[:digits]}"


def not_an_input(data) -> str:
    """Why plain data read from a .yaml/.json file is not an instance or company ("" when it may be one)."""
    if isinstance(data, Mapping) and "functions" not in data and not is_company_data(data):
        if "scenarios" in data:
            return "a scenario file (for `outopt compare`), not an instance"
        if "input_hash" in data and "status" in data:
            return "an outopt result file, not an instance"
    return ""


def prepare(item, name: str | None = None, digest: str | None = None) -> Job:
    """Load and validate one input on the client (a path, an Instance or a Company)."""
    if isinstance(item, (Instance, Company)):
        kind = "company" if isinstance(item, Company) else "instance"
        return Job(input=item.name, name=name or item.name, kind=kind, data=item.model_dump(mode="json"))
    path = Path(item)
    job = Job(input=str(path), name=name or path.stem, input_hash=digest)
    try:
        if job.input_hash is None and path.is_file():
            job.input_hash = input_hash(path)
        if path.suffix.lower() in SUFFIXES and path.is_file():
            with gc_paused():
                data = read_text(path)
                why = not_an_input(data)
                loaded = None if why else instance_or_company(data, path)
            if why:
                job.kind, job.error = IGNORED, why
                return job
        else:
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


class SchedulerError(OutoptError, ConnectionError):
    """The Dask scheduler named for a batch cannot be reached."""


CONNECT_TIMEOUT = "20s"


def _start_forkserver() -> bool:
    """Start multiprocessing's fork server with Ctrl-C ignored, so that the local Dask workers forked
    from it ignore Ctrl-C too (the fork server hands its inherited 'ignore' to each child). A terminal's
    Ctrl-C goes to every process of the foreground group: each worker died with a traceback,
    mid-import or mid-task. Now only this process acts on it, and stops the workers itself
    (:func:`_stop_at_once`). False where there is no fork server (Windows: workers are spawned)."""
    import multiprocessing
    from multiprocessing import forkserver

    from distributed.utils import get_mp_context

    if "forkserver" not in multiprocessing.get_all_start_methods():
        return False
    with dask_config({"distributed.worker.multiprocessing-method": "forkserver"}):
        get_mp_context()  # Dask's preload list for the fork server
    if threading.current_thread() is not threading.main_thread():
        forkserver.ensure_running()
        return True
    handler = signal.signal(signal.SIGINT, signal.SIG_IGN)  # for the milliseconds of starting two processes
    # the workers are killed at Ctrl-C; multiprocessing's resource tracker (started here) then warns of
    # the semaphores it cleans up for them: that is its job, not news
    warnings = os.environ.get("PYTHONWARNINGS")
    os.environ["PYTHONWARNINGS"] = ",".join(filter(None, [warnings, "ignore::UserWarning:multiprocessing.resource_tracker"]))
    try:
        forkserver.ensure_running()
    finally:
        if warnings is None:
            del os.environ["PYTHONWARNINGS"]
        else:
            os.environ["PYTHONWARNINGS"] = warnings
        signal.signal(signal.SIGINT, handler)
    return True


def dask_config(values: dict):
    import dask

    return dask.config.set(values)


@contextlib.contextmanager
def deferred_sigint() -> Iterator[list]:
    """Ctrl-C noted, not raised, inside the block (starting a cluster half-way and abandoning it leaves
    processes and Dask's exit-time tracebacks); the caller checks the returned list afterwards."""
    pressed: list = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return
    previous = signal.signal(signal.SIGINT, lambda *_: pressed.append(True))
    try:
        with helper_threads():  # Dask's own threads leave Ctrl-C to the main thread
            yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)


def _stop_at_once(owned: list) -> None:
    """After Ctrl-C: kill the local cluster's worker processes, then close it (a graceful close waits
    seconds for the running solves; the results are not wanted any more)."""
    import multiprocessing

    for name in [n for n in logging.root.manager.loggerDict if n.startswith("distributed")] + ["distributed"]:
        logging.getLogger(name).setLevel(logging.CRITICAL)  # the scheduler's notes on the closed connections
    for thing in owned:
        for nanny in getattr(thing, "workers", {}).values():
            with contextlib.suppress(Exception):
                nanny.close_gracefully()  # Dask's signal not to restart the worker when it goes away
            pid = getattr(getattr(getattr(nanny, "process", None), "process", None), "pid", None)
            if pid:
                with contextlib.suppress(OSError):
                    os.kill(pid, signal.SIGKILL)
    multiprocessing.active_children()  # reap them


def _client(executor, workers: int | None):
    """(client, owned resources to close) for an executor spec."""
    from distributed import Client, LocalCluster

    if isinstance(executor, Client):
        return executor, []
    if executor in (None, "processes"):
        n = workers or os.cpu_count() or 1
        method = "forkserver" if _start_forkserver() else "spawn"
        config = contextlib.ExitStack()  # for the whole run: a worker restarted after a crash comes from it too
        config.enter_context(dask_config({"distributed.worker.multiprocessing-method": method}))
        try:
            cluster = LocalCluster(n_workers=n, threads_per_worker=1, processes=True, dashboard_address=None,
                                   silence_logs=logging.ERROR)
        except BaseException:
            config.close()
            raise
        client = Client(cluster)
        return client, [client, cluster, config]
    if isinstance(executor, str) and executor.startswith(("dask://", "tcp://")):
        address = "tcp://" + executor.split("://", 1)[1]
        try:
            client = Client(address, timeout=CONNECT_TIMEOUT)
        except (OSError, TimeoutError) as err:
            raise SchedulerError(f"cannot reach the Dask scheduler at {address}: {err}") from None
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
        if job.kind in (None, IGNORED):
            yield BatchResult(input=job.input, name=job.name, status="invalid" if job.kind is None else IGNORED,
                              reason=job.error, input_hash=job.input_hash)
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

    with deferred_sigint() as pressed:
        client, owned = _client(executor, workers)
    futures = {}
    try:
        if pressed:
            raise KeyboardInterrupt
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
    except KeyboardInterrupt:
        _stop_at_once(owned)
        raise
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


def question(time_limit: float | None, gap: float) -> dict:
    """What a batch result answers besides its input's content: the options that change the answer
    (the time limit, the gap, and the read limits, which decide what is refused)."""
    try:
        limits = asdict(ReadLimits.from_env())
    except InputError:
        limits = None
    return {"time_limit": time_limit, "gap": gap, "read_limits": limits}


def existing_result(path: Path, digest: str | None, asked: dict | None = None) -> dict | None:
    """The stored result at ``path`` if it answers the same question: the same input content, a final
    outcome, the same gap and read limits, and the same time limit unless the outcome is proven
    (an optimum or infeasibility no time limit changes; a plan stopped by the clock is not reused
    for a run with another limit)."""
    if digest is None or not path.is_file():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    if not (isinstance(data, dict) and data.get("input_hash") == digest and data.get("status") in FINAL):
        return None
    asked = asked if asked is not None else question(None, 0.0)
    stored = data.get("question")
    if not isinstance(stored, dict) or any(stored.get(k) != asked[k] for k in ("gap", "read_limits")):
        return None
    if data["status"] not in PROVEN and stored.get("time_limit") != asked["time_limit"]:
        return None
    return data


def write_result(out: Path, r: BatchResult, asked: dict | None = None) -> None:
    """Write a result atomically; errors (crashes, solver failures) and timeouts are written too,
    but a re-run solves them again. A result that cannot be written makes this input an error
    (the others go on)."""
    payload = {"input": r.input, "input_hash": r.input_hash, **(r.result or {"status": r.status}), "reason": r.reason,
               "question": asked}
    target = out / f"{r.name}.json"
    try:
        atomic_write_text(target, json.dumps(payload, indent=2, default=str) + "\n")
    except OSError as err:
        r.status, r.reason = "error", f"the result could not be written to {target}: {err.strerror or err}"
        return
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
    summary_error: str = ""  # why summary.csv could not be written
    in_out: int = 0  # files found inside the results folder, not read
    error: str = ""  # why the inputs could not be run (the cluster could not be reached)

    @property
    def failed(self) -> list[BatchResult]:
        return [r for r in self.results if r.failed]

    @property
    def ignored(self) -> list[BatchResult]:
        return [r for r in self.results if r.status == IGNORED]

    @property
    def inputs(self) -> int:
        """Inputs to run or reuse: the files found, less those ignored."""
        return self.total - len(self.ignored)


def _digest(path: Path) -> str | None:
    try:
        return input_hash(path) if path.is_file() else None
    except (InputError, OSError):  # too large, unreadable: reported when it is read
        return None


def run_batch(paths: Iterable[str | Path], out: str | Path | None = None, executor=None, workers: int | None = None,
              time_limit: float | None = None, gap: float = 0.0, force: bool = False,
              on_start: Callable[[int, int], None] | None = None,
              on_result: Callable[[BatchResult], None] | None = None) -> BatchRun:
    """Solve every input file; write results and summary.csv to ``out``; skip finished work that
    answers the same question (same content, same options) unless ``force``.

    ``on_start(total, skipped)`` and ``on_result(result)`` let a caller show progress.
    Ctrl-C ends the run cleanly: finished results are kept, summary.csv is written, and
    the returned run has ``interrupted`` set. Files found but not run (results in ``out``, scenario
    files, pipes, dangling links) are in the results with status ``ignored`` and the reason.
    """
    t0 = time.perf_counter()
    outdir = Path(out) if out is not None else None
    files, found_ignored = find_inputs(paths, exclude=outdir)
    names = result_names(files)
    asked = question(time_limit, gap)
    results = [BatchResult(input=str(f), name=f.stem, status=IGNORED, reason=why) for f, why in found_ignored
               if why != IN_OUT]
    jobs: list[Job] = []
    for f in files:
        digest = _digest(f)
        old = None if force or outdir is None else existing_result(outdir / f"{names[f]}.json", digest, asked)
        if old is not None:
            results.append(BatchResult(input=str(f), name=names[f], status=old["status"],
                                       objective=old.get("objective"), gap=old.get("gap"), reason=old.get("reason", ""),
                                       input_hash=digest, output=str(outdir / f"{names[f]}.json"), skipped=True))
        else:
            jobs.append(prepare(f, names[f], digest))
    if on_start:
        on_start(len(files) - sum(j.kind == IGNORED for j in jobs), sum(r.skipped for r in results))
    run = BatchRun(results=results, total=len(files) + sum(why != IN_OUT for _, why in found_ignored),
                   in_out=sum(why == IN_OUT for _, why in found_ignored))
    try:
        for r in execute(jobs, executor, workers, time_limit, gap):
            if outdir is not None and r.status != IGNORED:
                write_result(outdir, r, asked)
            results.append(r)
            if on_result and r.status != IGNORED:
                on_result(r)
    except KeyboardInterrupt:
        run.interrupted = True
    except SchedulerError as err:
        run.error = str(err)
    run.seconds = time.perf_counter() - t0
    if outdir is not None:
        target = outdir / "summary.csv"
        try:
            atomic_write_text(target, summary_csv(results))
        except OSError as err:
            run.summary_error = f"cannot write {target}: {err.strerror or err}"
    return run
