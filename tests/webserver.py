"""`outopt serve` run for the tests: the real command in a subprocess, on a free loopback port."""

from __future__ import annotations

import contextlib
import os
import queue
import subprocess
import sys
import threading
import time
from pathlib import Path

import httpx

STARTUP_SECONDS = 90  # Python, FastAPI and the fork server importing outopt, on a loaded 2-core machine


class Server:
    """A running `outopt serve`: its URL, its process, the temporary folder it was given."""

    def __init__(self, url: str, process: subprocess.Popen, tmp: Path, log: list[str]):
        self.url, self.process, self.tmp, self.log = url.rstrip("/"), process, tmp, log
        self.client = httpx.Client(base_url=self.url, timeout=120)

    def leftovers(self) -> list[str]:
        """What the server left in its temporary folder (multiprocessing's own pymp-* folders aside)."""
        return sorted(p.name for p in self.tmp.iterdir() if not p.name.startswith("pymp-"))

    def children(self, pid: int | None = None) -> list[int]:
        """Processes whose parent is ``pid`` (default: the server), from Linux's /proc."""
        pid = pid or self.process.pid
        out = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                with contextlib.suppress(OSError):
                    stat = (entry / "stat").read_text()
                    if int(stat.rsplit(")", 1)[1].split()[1]) == pid:
                        out.append(int(entry.name))
        return out

    def job_processes(self) -> list[int]:
        """The job processes alive: children of the fork server (a child of the server)."""
        out = []
        for child in self.children():
            with contextlib.suppress(OSError):
                if b"forkserver" in Path(f"/proc/{child}/cmdline").read_bytes():
                    out += [p for p in self.children(child)
                            if Path(f"/proc/{p}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"]
        return out


@contextlib.contextmanager
def serving(folder: Path | None, tmp: Path, workers: int = 2, env: dict | None = None):
    """Start `outopt serve [folder] --port 0`, wait for its address, and stop it (SIGTERM) at the end."""
    tmp.mkdir(parents=True, exist_ok=True)
    args = [sys.executable, "-m", "outopt", "serve", *([str(folder)] if folder else []), "--port", "0",
            "--workers", str(workers)]
    environ = {**os.environ, "TMPDIR": str(tmp), **(env or {})}
    process = subprocess.Popen(args, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env=environ)
    lines: queue.Queue = queue.Queue()
    log: list[str] = []
    threading.Thread(target=lambda: [lines.put(line) for line in process.stdout], daemon=True).start()
    threading.Thread(target=lambda: [log.append(line) for line in process.stderr], daemon=True).start()
    try:
        first = lines.get(timeout=STARTUP_SECONDS)
        assert first.startswith("outopt workbench at http://127.0.0.1:"), first + "".join(log)
        server = Server(first.split()[3], process, tmp, log)
        deadline = time.monotonic() + STARTUP_SECONDS
        while time.monotonic() < deadline:
            with contextlib.suppress(httpx.TransportError):
                if server.client.get("/api/health").status_code == 200:
                    break
            time.sleep(0.2)
        yield server
    finally:
        process.terminate()
        try:
            process.wait(timeout=20)
        except subprocess.TimeoutExpired:
            process.kill()
            process.wait()
