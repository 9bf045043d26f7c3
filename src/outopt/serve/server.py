"""``outopt serve``: the workbench on uvicorn, on this machine's loopback unless another host is asked for."""

from __future__ import annotations

import ipaddress
import signal
import socket
from collections.abc import Callable
from pathlib import Path

import uvicorn

from outopt.serve.app import create_app


def is_loopback(host: str) -> bool:
    """True for an address only this machine can reach (127.0.0.0/8, ::1, localhost)."""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host.strip("[]")).is_loopback
    except ValueError:
        return False


def listen(host: str, port: int) -> socket.socket:
    """A socket bound to host:port (port 0: any free port); OSError when the address cannot be had."""
    infos = socket.getaddrinfo(host, port, type=socket.SOCK_STREAM, flags=socket.AI_PASSIVE)
    family, kind, proto, _, address = infos[0]
    sock = socket.socket(family, kind, proto)
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        sock.bind(address)
    except OSError:
        sock.close()
        raise
    return sock


def url_of(sock: socket.socket) -> str:
    host, port = sock.getsockname()[:2]
    return f"http://[{host}]:{port}/" if ":" in host else f"http://{host}:{port}/"


class _Stopped(Exception):
    """SIGTERM, passed on by uvicorn once it has shut down."""


def _stopped(signum, frame):
    raise _Stopped


def serve(path: Path | None, host: str = "127.0.0.1", port: int = 8000, workers: int | None = None,
          announce: Callable[[str], None] = print) -> None:
    """Serve the workbench until Ctrl-C or SIGTERM, then return; ``announce(url)`` once it listens.

    uvicorn stops gracefully on either signal (running jobs are cancelled) and then raises the signal
    again for the caller: here that is the end of serving, not an error."""
    app = create_app(path, workers, host=host)
    sock = listen(host, port)
    config = uvicorn.Config(app, log_level="warning", access_log=False, timeout_graceful_shutdown=3)
    announce(url_of(sock))
    previous = signal.signal(signal.SIGTERM, _stopped)
    try:
        uvicorn.Server(config).run(sockets=[sock])
    except (KeyboardInterrupt, _Stopped):
        pass
    finally:
        signal.signal(signal.SIGTERM, previous)
