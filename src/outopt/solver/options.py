"""The options of a solve: one object that steers it, with the solver injected (HiGHS is the default)."""

from __future__ import annotations

import math
import os
import sys
import threading
import time
import tomllib
from collections.abc import Callable, Mapping
from dataclasses import dataclass
from pathlib import Path

from outopt.errors import InputError, Problem

METHODS = ("joint", "decompose")
"""How a company file is solved: one MIP of every division, or Lagrangian decomposition."""
DEFAULT_METHOD = "joint"  # chosen by benchmarks/company.py (see benchmarks/README.md, "Company")


@dataclass(frozen=True)
class Progress:
    """Where a running solve is, as reported to ``SolveOptions.progress`` (from the thread doing the work:
    keep the callback short; the CLI draws a live line from it).

    phase: what is being done ("reducing", "searching for a starting plan", "building the model",
        "solving", "solving the LP relaxation", "searching sub-problems", ...).
    elapsed: seconds since the call started.
    objective: the best verified plan's net benefit so far (None: no plan yet).
    bound: the best proven bound on the net benefit so far (None: none yet).
    done, total: for an analysis (explain, frontier, pareto, compare), the questions or points answered
        so far, of how many (total None: not known ahead, as in a frontier's walk down the range).
    """

    phase: str
    elapsed: float
    objective: float | None = None
    bound: float | None = None
    done: int | None = None
    total: int | None = None

    @property
    def gap(self) -> float | None:
        """Relative gap of the best plan to the bound, as :class:`~outopt.solver.solution.Solution` has it."""
        if self.objective is None or self.bound is None:
            return None
        return abs(self.bound - self.objective) / max(1.0, abs(self.objective))


@dataclass(frozen=True)
class SolveOptions:
    """Everything that steers a solve; the solver is injected here (HiGHS is the default).

    time_limit: seconds for the whole call (build, solve, verification), None = no limit.
    gap: relative optimality gap at which to stop; 0 proves optimality.
    threads: solver threads (None = HiGHS's default).
    seed: random seed; the same input and options give the same plan.
    warm_start: hand a verified starting plan to the solver when one is known.
    verbose: copy the solver log to stderr.
    reduce: apply the reductions of :mod:`outopt.model.reduce` before the build (``solve`` only).
    heuristic: seconds at most for a starting plan from :mod:`outopt.solver.heuristic` (0 = none;
        ``solve`` only); the plan is returned if the solver finds nothing better.
    started: ``time.perf_counter()`` at which the time limit starts counting (None = the call's
        start); the CLI sets it before reading the file, so reading counts too.
    progress: called with a :class:`Progress` at each phase and each better plan or bound (None: silent).
    """

    time_limit: float | None = None
    gap: float = 0.0
    threads: int | None = None
    seed: int = 0
    warm_start: bool = True
    verbose: bool = False
    solver: str = "highs"
    reduce: bool = True
    heuristic: float = 5.0
    started: float | None = None
    progress: Callable[[Progress], None] | None = None

    def __post_init__(self):
        if self.solver != "highs":
            raise ValueError(f"solver '{self.solver}' is not supported; use 'highs'")
        if self.time_limit is not None and not self.time_limit > 0:
            raise ValueError("time_limit must be positive seconds")
        if not 0 <= self.gap < 1:
            raise ValueError("gap must be in [0, 1)")


def merged_progress(callback: Callable[[Progress], None] | None, t0: float) -> Callable[[Progress], None] | None:
    """A progress callback for the parts of one call: elapsed time counted from ``t0``, and the best
    objective (highest) and bound (lowest) reported by any part kept, so the line never goes back."""
    if callback is None:
        return None
    best: dict[str, float] = {}
    lock = threading.Lock()

    def report(p: Progress) -> None:
        with lock:
            if p.objective is not None and p.objective > best.get("objective", -float("inf")):
                best["objective"] = p.objective
            if p.bound is not None and p.bound < best.get("bound", float("inf")):
                best["bound"] = p.bound
            callback(Progress(p.phase, time.perf_counter() - t0, best.get("objective"), best.get("bound")))

    return report


class Tally:
    """Questions or points an analysis has answered, reported to its ``progress`` callback as a
    :class:`Progress` with ``done`` and ``total`` (thread-safe: parallel re-solves tick it)."""

    def __init__(self, progress: Callable[[Progress], None] | None, t0: float | None = None):
        self.progress = progress
        self.t0 = time.perf_counter() if t0 is None else t0
        self.phase, self.done, self.total = "", 0, None
        self._lock = threading.Lock()

    def start(self, phase: str, total: int | None = None, done: int = 0) -> None:
        with self._lock:
            self.phase, self.total, self.done = phase, total, done
            self._report()

    def tick(self, n: int = 1, phase: str | None = None) -> None:
        with self._lock:
            self.done += n
            if phase is not None:
                self.phase = phase
            self._report()

    def _report(self) -> None:
        if self.progress is not None:
            self.progress(Progress(self.phase, time.perf_counter() - self.t0, done=self.done, total=self.total))


# --- defaults set once, for the command line -----------------------------------------------------

TIME_LIMIT_ENV = "OUTOPT_TIME_LIMIT"
CONFIG_ENV = "OUTOPT_CONFIG"


def config_path(environ: Mapping[str, str] | None = None) -> Path:
    """The user's configuration file: ``$OUTOPT_CONFIG`` when set, else ``config.toml`` in the user's
    configuration folder: ``$XDG_CONFIG_HOME/outopt`` (default ``~/.config/outopt``), ``%APPDATA%\\outopt``
    on Windows."""
    env = os.environ if environ is None else environ
    if env.get(CONFIG_ENV):
        return Path(env[CONFIG_ENV]).expanduser()
    if sys.platform == "win32" and env.get("APPDATA"):
        return Path(env["APPDATA"]) / "outopt" / "config.toml"
    base = env.get("XDG_CONFIG_HOME") or str(Path("~/.config").expanduser())
    return Path(base) / "outopt" / "config.toml"


def _seconds(value, where: str, source: str) -> float:
    try:
        seconds = float(value) if not isinstance(value, bool) else math.nan
    except (TypeError, ValueError):
        seconds = math.nan
    if not (math.isfinite(seconds) and seconds > 0):
        raise InputError([Problem(where, f"must be a number of seconds above 0, got {value!r}")], source)
    return seconds


def default_time_limit(environ: Mapping[str, str] | None = None) -> float | None:
    """The time limit of a command run without ``--time-limit``: ``$OUTOPT_TIME_LIMIT`` (seconds), else
    ``time_limit`` in the configuration file (:func:`config_path`), else None (no limit). A bad value
    raises :class:`InputError` naming the variable or the file."""
    env = os.environ if environ is None else environ
    if env.get(TIME_LIMIT_ENV, "").strip():
        return _seconds(env[TIME_LIMIT_ENV].strip(), TIME_LIMIT_ENV, "environment")
    path = config_path(env)
    try:
        text = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return None
    except (OSError, UnicodeDecodeError) as err:
        raise InputError([Problem("", f"cannot be read: {getattr(err, 'strerror', None) or err}")], str(path)) from None
    try:
        config = tomllib.loads(text)
    except tomllib.TOMLDecodeError as err:
        raise InputError([Problem("", f"invalid TOML: {err}")], str(path)) from None
    unknown = sorted(set(config) - {"time_limit"})
    if unknown:
        raise InputError([Problem(k, "unknown setting; the settings are: time_limit") for k in unknown], str(path))
    return _seconds(config["time_limit"], "time_limit", str(path)) if "time_limit" in config else None
