"""Ctrl-C: HiGHS cancelled at once; helper threads leave the signal to the main thread.

:func:`cancelled_by_ctrl_c` turns a Ctrl-C during a HiGHS run into HiGHS's cancel: Python runs a
signal handler only between bytecodes, and the main thread is inside HiGHS, so the default
KeyboardInterrupt would wait for the run to end (a minute on a hard model); HiGHS calls back into
Python at its interrupt checks, where the handler runs and cancels.

Linux delivers a process-directed signal to any thread that does not block it. Python only runs
its handler in the main thread, but a helper thread (a progress bar's refresh, Dask's event loop)
that takes the signal while it is ignored or blocked in the main thread discards it. Threads
started inside :func:`helper_threads` inherit a mask with SIGINT blocked, so a Ctrl-C always
reaches the main thread.
"""

from __future__ import annotations

import contextlib
import signal
import threading
from collections.abc import Iterator

WORKER_THREAD = "outopt-solve"
"""The name of the thread that prepares a time-limited solve (:mod:`outopt.solver.pipeline`)."""


@contextlib.contextmanager
def helper_threads() -> Iterator[None]:
    """Threads (and processes) started in the block inherit a signal mask with SIGINT blocked; the main
    thread's own mask is restored after it (a Ctrl-C pressed meanwhile is delivered then)."""
    if threading.current_thread() is not threading.main_thread() or not hasattr(signal, "pthread_sigmask"):
        yield
        return
    mask = signal.pthread_sigmask(signal.SIG_BLOCK, {signal.SIGINT})
    try:
        yield
    finally:
        signal.pthread_sigmask(signal.SIG_SETMASK, mask)


@contextlib.contextmanager
def cancelled_by_ctrl_c(highs) -> Iterator[list]:
    """Within the block (a HiGHS run in the main thread), Ctrl-C cancels ``highs`` (a highspy ``Highs``)
    and is noted in the returned list, for the caller to act on when the run has returned."""
    pressed: list = []
    if threading.current_thread() is not threading.main_thread():
        yield pressed
        return

    def on_sigint(signum, frame):
        pressed.append(True)
        highs.cancelSolve()

    def check(event):  # also at every interrupt check: a cancel just before the run starts is not lost
        if pressed:
            event.interrupt()

    callbacks = (highs.cbSimplexInterrupt, highs.cbIpmInterrupt, highs.cbMipInterrupt)
    for cb in callbacks:
        cb.subscribe(check)
    previous = signal.signal(signal.SIGINT, on_sigint)
    try:
        yield pressed
    finally:
        signal.signal(signal.SIGINT, previous)
        for cb in callbacks:
            cb.unsubscribe(check)


def unless_interrupted(sol):
    """A solve that Ctrl-C cancelled returns its best plan so far, which is right for ``outopt solve``;
    an analysis asking many questions stops instead (KeyboardInterrupt)."""
    if sol.interrupted:
        raise KeyboardInterrupt
    return sol
