"""The live line a long command shows on a terminal while it works.

One line on stderr, redrawn four times a second and erased when the work is done: what is being done,
the time so far, and for a solve the best verified plan, the bound and the gap, or for an analysis the
questions or points answered of how many, and what Ctrl-C does. It is fed
:class:`~outopt.solver.options.Progress` reports (from the solver's or an analysis's own thread).

Nothing is shown when stderr is not a terminal (a pipe, a file, CI), with ``--json -`` (stdout is for
the JSON alone; a terminal that shows both would mix them) or with ``--verbose`` (the solver's log is on
stderr then).
"""

from __future__ import annotations

import threading
import time

from rich.console import Console
from rich.live import Live
from rich.text import Text

from outopt.report.text import money, visible
from outopt.solver.interrupts import helper_threads
from outopt.solver.options import Progress

SPINNER = "⠋⠙⠹⠸⠼⠴⠦⠧⠇⠏"

CTRL_C_SOLVE = "Ctrl-C keeps the best plan found"
CTRL_C_SWEEP = "Ctrl-C stops and keeps what was found"
CTRL_C_STOP = "Ctrl-C stops"


class LiveLine:
    """``live = LiveLine(err, "solve", CTRL_C_SOLVE, show=...).start()``, ``live.update(p)`` from any thread,
    ``live.stop()`` before the command prints its results (also a context manager).

    ``show``: False for no line at all (``--json -``, ``--verbose``); the line needs a terminal on stderr too.
    """

    def __init__(self, console: Console, command: str, ctrl_c: str, show: bool = True):
        self.console, self.command, self.ctrl_c = console, command, ctrl_c
        self.shown = show and console.is_terminal
        self.currency = ""
        self._t0 = time.perf_counter()
        self._last: Progress | None = None
        self._phase = "starting"
        self._lock = threading.Lock()
        self._live: Live | None = None

    def start(self) -> "LiveLine":
        if self.shown and self._live is None:
            self._live = Live(console=self.console, get_renderable=self.render, refresh_per_second=4,
                              transient=True, redirect_stdout=False, redirect_stderr=False)
            with helper_threads():  # the refresh thread never takes a Ctrl-C meant for the main thread
                self._live.start(refresh=True)  # at once, not a quarter of a second later
        return self

    def stop(self) -> None:
        """Erase the line (again: nothing)."""
        if self._live is not None:
            self._live.stop()
            self._live = None

    def __enter__(self) -> "LiveLine":
        return self.start()

    def __exit__(self, *exc) -> None:
        self.stop()

    def phase(self, text: str) -> None:
        """Say what is being done now (before any progress report: reading the file, building); shown at
        once, so that a short phase is seen too."""
        with self._lock:
            self._phase, self._last = text, None
        if self._live is not None:
            self._live.refresh()

    def update(self, progress: Progress) -> None:
        """A progress report (called from any thread); a new phase is shown at once."""
        with self._lock:
            new_phase = (self._last.phase if self._last is not None else self._phase) != progress.phase
            self._last = progress
        if new_phase and self._live is not None:
            self._live.refresh()

    def render(self) -> Text:
        with self._lock:
            p, phase = self._last, self._phase
        elapsed = time.perf_counter() - self._t0
        spin = SPINNER[int(elapsed * 8) % len(SPINNER)]
        parts = [f"{self.command}: {visible(p.phase if p is not None else phase)}", f"{elapsed:.0f}s"]
        if p is not None:
            if p.done is not None and (p.total is not None or p.done):
                parts.append(f"{p.done:,} of {p.total:,}" if p.total is not None else f"{p.done:,} done")
            if p.objective is not None:
                parts.append(f"best plan {money(p.objective, self.currency)}")
            if p.bound is not None:
                parts.append(f"bound {money(p.bound, self.currency)}")
            if p.gap is not None:
                parts.append(f"gap {p.gap:.2%}")
        return Text.assemble((spin + " ", "cyan"), "  ".join(parts), ("  (" + self.ctrl_c + ")", "dim"))
