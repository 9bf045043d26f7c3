"""A bounded pool of jobs (solves, explanations, frontiers) run outside the web process.

Each job is its own process, started from multiprocessing's fork server (which has outopt, Pyomo,
HiGHS and matplotlib imported already, so a job starts in milliseconds), in a process group of its
own: a cancel kills the group at once (the job, and a large model's forked HiGHS child with it), so a
job ends within a second of its cancel whatever HiGHS is doing. At most ``workers`` jobs run at a
time, each watched by one thread of a thread pool; the others wait their turn in order (``queued``).
The web process's event loop only reads the state of a job, never waits on one.

A job's function runs in the worker with the job's arguments (pickled) and a ``progress`` callable
taking a dict; what it returns (pickled) becomes ``Job.result``. An ``InputError`` raised there makes
the job ``failed`` with its problems, any other error ``failed`` with a one-line message.
"""

from __future__ import annotations

import contextlib
import logging
import multiprocessing
import os
import secrets
import signal
import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from typing import Any

from outopt.errors import InputError, OutoptError

STATES = ("queued", "running", "done", "failed", "cancelled")
KEEP_FINISHED = 500
"""Finished jobs remembered for ``GET /api/jobs/{id}``; the oldest are forgotten first."""
PROGRESS_EVERY = 0.2
"""Seconds at least between two progress messages of one phase from a worker (a new phase is sent at once)."""
_POLL = 0.05
LOG = logging.getLogger("outopt.serve")


def start_method() -> str:
    """The fork server where the system has one (a job starts from a process with everything imported)."""
    return "forkserver" if "forkserver" in multiprocessing.get_all_start_methods() else "spawn"


class Job:
    """One piece of work in the pool: its state, last progress, and result or error."""

    def __init__(self, kind: str, label: str, owner: str | None):
        self.id = secrets.token_urlsafe(12)
        self.kind, self.label, self.owner = kind, label, owner
        self.state = "queued"
        self.progress: dict = {}
        self.result: Any = None
        self.error: str | None = None
        self.problems: list[tuple[str, str]] = []  # (place, message) of an InputError raised in the worker
        self.created = time.time()
        self.started: float | None = None
        self.ended: float | None = None
        self._cancel = threading.Event()
        self._done = threading.Event()
        self._lock = threading.Lock()
        self._process = None
        self._on_finish: Callable[[Job], None] | None = None
        self._finalized = False

    @property
    def finished(self) -> bool:
        """True once the job has ended (done, failed or cancelled) and its process is gone."""
        return self._done.is_set()

    def wait(self, timeout: float | None = None) -> bool:
        return self._done.wait(timeout)

    @property
    def seconds(self) -> float:
        """Seconds the job has run so far (or ran)."""
        if self.started is None:
            return 0.0
        return (self.ended or time.time()) - self.started

    def __repr__(self) -> str:
        return f"<Job {self.id} {self.kind} {self.state}>"


def _kill(process) -> None:
    """Kill a job's process group (the job and anything it forked), then the process itself."""
    pid = process.pid
    if pid is None:
        return
    with contextlib.suppress(ProcessLookupError, PermissionError, OSError):
        os.killpg(pid, signal.SIGKILL)
    with contextlib.suppress(Exception):
        process.kill()


def run_in_worker(conn, fn: Callable, args: tuple) -> None:
    """The body of a job's process: run ``fn(*args, progress=...)`` and send what happened."""
    with contextlib.suppress(OSError):
        os.setpgid(0, 0)  # a group of its own: a cancel kills it and its children, a terminal's Ctrl-C does not
    signal.signal(signal.SIGINT, signal.SIG_IGN)  # the server stops its jobs itself
    with contextlib.suppress(OSError):
        os.dup2(2, 1)  # a solver's banner goes to the server's log, not to its stdout
    lock = threading.Lock()
    last = {"at": 0.0, "phase": None}

    def send(message) -> None:
        with lock:
            conn.send(message)

    def progress(update: dict) -> None:
        now = time.monotonic()
        if update.get("phase") != last["phase"] or now - last["at"] >= PROGRESS_EVERY:
            last["at"], last["phase"] = now, update.get("phase")
            send(("progress", update))

    try:
        result = fn(*args, progress=progress)
        send(("done", result))
    except InputError as err:
        send(("invalid", [(p.where, p.message) for p in err.problems]))
    except OutoptError as err:
        send(("failed", str(err)))
    except Exception as err:  # noqa: BLE001 - reported as the job's error, never a traceback to the user
        detail = str(err).strip().splitlines()[0] if str(err).strip() else ""
        send(("failed", f"internal error ({type(err).__name__}{': ' + detail if detail else ''})"))
    finally:
        conn.close()


class JobPool:
    """At most ``workers`` jobs at once, each in its own process; the rest wait in order."""

    def __init__(self, workers: int, preload: tuple[str, ...] = ("outopt.serve.work",)):
        if workers < 1:
            raise ValueError("workers must be at least 1")
        self.workers = workers
        self._method = start_method()
        self._context = multiprocessing.get_context(self._method)
        self._preload = list(preload)
        self._threads = ThreadPoolExecutor(max_workers=workers, thread_name_prefix="outopt-job")
        self._jobs: dict[str, Job] = {}
        self._lock = threading.Lock()
        self._closed = False

    def warm_up(self) -> None:
        """Start the fork server now, importing outopt, the solver and matplotlib once for every job to come
        (a process's fork server is one: when it runs already, it is used as it is)."""
        if self._method == "forkserver":
            from multiprocessing import forkserver

            self._context.set_forkserver_preload(self._preload)
            forkserver.ensure_running()

    # --- jobs -------------------------------------------------------------------------
    def submit(self, kind: str, label: str, fn: Callable, args: tuple, owner: str | None = None,
               on_finish: Callable[[Job], None] | None = None) -> Job:
        """Queue ``fn(*args)`` for a worker; ``on_finish(job)`` is called once it has ended, before
        ``job.finished`` turns true."""
        if self._closed:
            raise RuntimeError("the job pool is shut down")
        job = Job(kind, label, owner)
        with self._lock:
            self._jobs[job.id] = job
            self._forget_old()
        job._on_finish = on_finish
        self._threads.submit(self._run, job, fn, args)
        return job

    def get(self, job_id: str) -> Job | None:
        with self._lock:
            return self._jobs.get(job_id)

    def counts(self) -> dict[str, int]:
        with self._lock:
            jobs = list(self._jobs.values())
        return {state: sum(1 for j in jobs if j.state == state) for state in STATES}

    def cancel(self, job_id: str, wait: float = 1.0) -> Job | None:
        """Cancel a job: a queued one never starts, a running one's process group is killed at once.
        Waits up to ``wait`` seconds for the job to be over; returns it (None: no such job)."""
        job = self.get(job_id)
        if job is None:
            return None
        with job._lock:
            if job.finished:
                return job
            job._cancel.set()
            if job._process is not None:
                _kill(job._process)
            elif job.state == "queued":
                job.state = "cancelled"
        if job.state == "cancelled" and job._process is None:
            self._finalize(job)
        job.wait(wait)
        return job

    def shutdown(self) -> None:
        """Cancel every job and stop the pool's threads."""
        self._closed = True
        with self._lock:
            jobs = list(self._jobs.values())
        for job in jobs:
            if not job.finished:
                self.cancel(job.id, wait=0)
        self._threads.shutdown(wait=False, cancel_futures=True)

    # --- the watching thread ----------------------------------------------------------------
    def _forget_old(self) -> None:
        finished = [j for j in self._jobs.values() if j.finished]
        for job in sorted(finished, key=lambda j: j.ended or 0)[:max(0, len(finished) - KEEP_FINISHED)]:
            del self._jobs[job.id]

    def _run(self, job: Job, fn: Callable, args: tuple) -> None:
        try:
            self._execute(job, fn, args)
        except Exception as err:  # noqa: BLE001 - a job's failure never takes the pool down
            job.error = f"internal error ({type(err).__name__}: {err})"
            job.state = "failed"
        finally:
            self._finalize(job)

    def _execute(self, job: Job, fn: Callable, args: tuple) -> None:
        reader, writer = self._context.Pipe(duplex=False)
        process = self._context.Process(target=run_in_worker, args=(writer, fn, args), daemon=True,
                                        name=f"outopt-job-{job.kind}")
        with job._lock:
            if job._cancel.is_set():
                reader.close()
                writer.close()
                return
            try:
                process.start()  # (sends the job's arguments to the new process)
            except OSError as err:  # the process died while starting
                reader.close()
                writer.close()
                job.error, job.state = f"the worker could not be started ({err.strerror or err})", "failed"
                return
            job._process = process
            job.state, job.started = "running", time.time()
        writer.close()
        try:
            self._watch(job, process, reader)
        finally:
            reader.close()
            if job.state == "done":
                process.join(2.0)  # a job that answered exits by itself
            if process.is_alive():  # (while it lives, its pid and group are its own)
                _kill(process)
            process.join(1.0)

    def _watch(self, job: Job, process, reader) -> None:
        """Read the worker's messages until it answers, dies or the job is cancelled."""
        while not job._cancel.is_set():
            try:
                if not reader.poll(_POLL):
                    if not process.is_alive() and not reader.poll(0):
                        self._died(job, process)
                        return
                    continue
                kind, payload = reader.recv()
            except (EOFError, OSError):
                if not job._cancel.is_set():
                    self._died(job, process)
                return
            if kind == "progress":
                job.progress = payload
                continue
            if kind == "done":
                job.result, job.state = payload, "done"
            elif kind == "invalid":
                job.problems, job.state = payload, "failed"
                job.error = "; ".join(f"{w}: {m}" if w else m for w, m in payload[:3])
            else:
                job.error, job.state = payload, "failed"
            return

    @staticmethod
    def _died(job: Job, process) -> None:
        process.join(1.0)
        job.error, job.state = f"the worker ended without an answer (exit code {process.exitcode})", "failed"

    def _finalize(self, job: Job) -> None:
        with job._lock:
            if job._finalized:
                return
            job._finalized = True
            if job.state in ("queued", "running"):
                job.state = "cancelled" if job._cancel.is_set() else "failed"
                if job.state == "failed" and job.error is None:
                    job.error = "the job ended without an answer"
            if job._cancel.is_set() and job.state == "failed" and not job.problems:
                job.state, job.error = "cancelled", None
            job.ended = time.time()
        if job._on_finish is not None:
            try:
                job._on_finish(job)
            except Exception:  # noqa: BLE001 - the job is over whatever its follower does
                LOG.exception("after %s %s", job.kind, job.id)
        job._done.set()
