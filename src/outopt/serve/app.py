"""The workbench's web application: FastAPI (on Starlette), served by uvicorn.

``create_app(path, workers)`` builds it: the JSON API under ``/api`` (:mod:`outopt.serve.api`), the
pages (:mod:`outopt.serve.pages`, server-rendered with Jinja2, made interactive by the bundled htmx),
the static files, a pool of worker processes for the solves (:mod:`outopt.serve.jobs`), and the guards
every request passes: a request body is never read past the read limits (413), a page's host must be
the loopback's when the server listens there (no DNS rebinding), and every response forbids framing,
sniffing and scripts from anywhere but the server itself.
"""

from __future__ import annotations

import contextlib
import logging
import os
from collections.abc import AsyncIterator
from dataclasses import dataclass
from pathlib import Path

import jinja2
from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse, Response
from fastapi.staticfiles import StaticFiles
from starlette.middleware.trustedhost import TrustedHostMiddleware

from outopt.errors import InputError, Problem
from outopt.instance.io.limits import MB, ReadLimits
from outopt.serve import api, pages, views
from outopt.serve.jobs import JobPool
from outopt.serve.uploads import UPLOAD_TYPES
from outopt.serve.workspace import Workspaces

HERE = Path(__file__).resolve().parent
LOG = logging.getLogger("outopt.serve")
FORM_OVERHEAD = 1 * MB
"""Bytes a request may carry beyond the file-size limit (a form's fields and boundaries)."""
DRAIN_AT_MOST = 64 * MB
"""An oversized body is read and dropped up to this much before the 413 (so the client reads the answer);
past it the connection is simply closed."""
CSP = ("default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
       "object-src 'none'; base-uri 'none'; frame-ancestors 'none'; form-action 'self'")


class BodyTooLarge(Exception):
    """A request body over the read limits."""

    def __init__(self, limit: int):
        self.limit = limit
        super().__init__(f"the request body is over the {limit / MB:.1f} MB limit (the file-size limit and "
                         f"{FORM_OVERHEAD // MB} MB for the form); set OUTOPT_MAX_FILE_MB (in MB) to send larger files")


class Guard:
    """Pure ASGI middleware: a body limit on every request and the security headers on every response."""

    def __init__(self, app, limit: int):
        self.app, self.limit = app, limit

    async def __call__(self, scope, receive, send):
        if scope["type"] != "http":
            return await self.app(scope, receive, send)
        declared = dict(scope.get("headers") or []).get(b"content-length", b"")
        received, limit = 0, self.limit

        async def limited():
            nonlocal received
            if declared.isdigit() and int(declared) > limit:
                await self._drain(receive, int(declared))
                raise BodyTooLarge(limit)
            message = await receive()
            if message["type"] == "http.request":
                received += len(message.get("body", b""))
                if received > limit:
                    if message.get("more_body"):
                        await self._drain(receive, received)
                    raise BodyTooLarge(limit)
            return message

        async def hardened(message):
            if message["type"] == "http.response.start":
                headers = list(message.get("headers", []))
                headers += [(b"x-content-type-options", b"nosniff"), (b"x-frame-options", b"DENY"),
                            (b"referrer-policy", b"no-referrer"), (b"content-security-policy", CSP.encode())]
                message = {**message, "headers": headers}
            await send(message)

        await self.app(scope, limited, hardened)

    @staticmethod
    async def _drain(receive, already: int) -> None:
        """Read and drop the rest of a body (up to DRAIN_AT_MOST), so the 413 reaches a client still sending."""
        if already > DRAIN_AT_MOST:
            return
        read = 0
        while read < DRAIN_AT_MOST:
            message = await receive()
            if message["type"] != "http.request":
                return
            read += len(message.get("body", b""))
            if not message.get("more_body"):
                return


@dataclass
class Workbench:
    """The application's state: the job pool, the browsers' workspaces, the file or folder served."""

    pool: JobPool
    workspaces: Workspaces
    root: Path | None
    tmp: Path | None
    env: jinja2.Environment

    def limits(self) -> ReadLimits:
        return ReadLimits.from_env()

    @property
    def single(self) -> bool:
        """True when the server was given one instance (a file, or a folder of CSV files), not a folder of them."""
        return self.root is not None and (self.root.is_file() or any(self.root.glob("*.csv")))

    def files(self) -> list[str]:
        """Instance files in the folder served (and CSV folders in it), by name; the instance when one was given."""
        if self.root is None:
            return []
        if self.single:
            return [self.root.name + ("" if self.root.is_file() else "/")]
        out = []
        with contextlib.suppress(OSError):
            for p in sorted(self.root.iterdir()):
                if p.is_file() and p.suffix.lower() in UPLOAD_TYPES and p.suffix.lower() != ".zip":
                    out.append(p.name)
                elif p.is_dir() and any(p.glob("*.csv")):
                    out.append(p.name + "/")
        return out

    def local(self, name: str) -> Path | None:
        """The path of a file the listing offers (None for any other name: nothing outside is read)."""
        if name not in self.files():
            return None
        return self.root if self.single else self.root / name.rstrip("/")


def templates() -> jinja2.Environment:
    env = jinja2.Environment(loader=jinja2.FileSystemLoader(HERE / "templates"), autoescape=True,
                             undefined=jinja2.StrictUndefined, trim_blocks=True, lstrip_blocks=True)
    env.filters.update(money=views.money, number=views.number, percent=views.percent,
                       provider=views.provider_label)
    return env


def create_app(path: Path | None = None, workers: int | None = None, tmp: Path | None = None,
               host: str = "127.0.0.1") -> FastAPI:
    """The workbench serving ``path`` (an instance file, a folder of them, or None), with ``workers``
    solves at once (default: the CPU count); temporary files go under ``tmp`` (default: the system's)."""
    limits = ReadLimits.from_env()  # raises InputError for a bad OUTOPT_MAX_* setting, before serving
    workers = workers or os.cpu_count() or 1
    wb = Workbench(JobPool(workers), Workspaces(), path, tmp, templates())

    @contextlib.asynccontextmanager
    async def lifespan(app) -> AsyncIterator[None]:
        wb.pool.warm_up()
        yield
        wb.pool.shutdown()

    app = FastAPI(title="outopt workbench", version=_version(), lifespan=lifespan,
                  openapi_url="/api/openapi.json", docs_url=None, redoc_url=None,
                  description="Solve, validate and track outsourcing plans. Every plan is checked by outopt's "
                              "independent verifier; invalid input is a 422 with every problem at its place.")
    app.state.workbench = wb
    app.mount("/static", StaticFiles(directory=HERE / "static"), name="static")
    app.include_router(api.router)
    app.include_router(pages.router)
    app.add_exception_handler(InputError, _invalid)
    app.add_exception_handler(RequestValidationError, _bad_request)
    app.add_exception_handler(BodyTooLarge, _too_large)
    app.add_exception_handler(Exception, _unexpected)
    if host == "localhost" or host.startswith("127."):  # a page of another site cannot reach us by DNS rebinding
        app.add_middleware(TrustedHostMiddleware, allowed_hosts=[host, "127.0.0.1", "localhost"])
    app.add_middleware(Guard, limit=limits.max_bytes + FORM_OVERHEAD)
    return app


def _version() -> str:
    from importlib.metadata import PackageNotFoundError, version

    try:
        return version("outopt")
    except PackageNotFoundError:
        return "0"


def _is_api(request: Request) -> bool:
    return request.url.path.startswith("/api")


async def _invalid(request: Request, err: InputError) -> Response:
    if _is_api(request):
        return JSONResponse(api.problems_json(err), status_code=422)
    return pages.notice_page(request, f"{err.source or 'input'}: invalid", err.problems, 422)


async def _bad_request(request: Request, err: RequestValidationError) -> Response:
    problems = [Problem(".".join(str(x) for x in e.get("loc", ())[1:]), e.get("msg", "invalid")) for e in err.errors()]
    return await _invalid(request, InputError(problems, "request"))


async def _too_large(request: Request, err: BodyTooLarge) -> Response:
    if _is_api(request):
        body = {"detail": str(err), "problems": [{"place": "", "message": str(err)}]}
        return JSONResponse(body, status_code=413, headers={"connection": "close"})
    return pages.notice_page(request, "the upload is too large", [Problem("", str(err))], 413)


async def _unexpected(request: Request, err: Exception) -> Response:
    LOG.exception("unexpected error on %s %s", request.method, request.url.path)
    detail = str(err).strip().splitlines()[0] if str(err).strip() else ""
    message = f"internal error ({type(err).__name__}{': ' + detail if detail else ''}); please report it"
    if _is_api(request):
        return JSONResponse({"detail": message}, status_code=500)
    return pages.notice_page(request, "internal error", [Problem("", message)], 500)
