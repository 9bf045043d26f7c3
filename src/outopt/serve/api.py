"""The JSON API under ``/api``: the workbench's actions for other systems.

* ``POST /api/solve``: body an instance (JSON, YAML, or a file upload in the form field ``file``:
  .yaml, .yml, .json, .xlsx or a zip of CSV files); options ``time_limit`` and ``gap`` as query
  parameters or form fields. Answers with the JSON of ``outopt solve --json -`` (a ``diagnosis`` when
  no plan exists).
* ``POST /api/jobs``: the same body; starts the solve and answers ``{"id"}`` at once.
  ``GET /api/jobs/{id}``: ``{"id", "state": "queued|running|done|failed|cancelled", "progress": {...},
  "result": {...}}``; ``DELETE /api/jobs/{id}`` cancels it (it ends within a second).
* ``POST /api/validate``: ``{"valid", "source", "problems": [{"place", "message"}]}`` (200 either way).
* ``GET /api/health``.

Invalid input (an instance with problems, bad options) is a 422 with every problem at its place; a
body over the read limits is a 413; the OpenAPI document is at ``/api/openapi.json``.
"""

from __future__ import annotations

import asyncio
import json
import math

from fastapi import APIRouter, HTTPException, Request
from fastapi.responses import JSONResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from outopt.errors import InputError, Problem
from outopt.instance.schema import Instance
from outopt.serve import work
from outopt.serve.jobs import Job
from outopt.serve.uploads import UPLOADS, read_instance

router = APIRouter(prefix="/api", tags=["api"])

JSON_TYPES = ("application/json",)
YAML_TYPES = ("application/yaml", "application/x-yaml", "text/yaml", "text/x-yaml")
OPTIONS = ("time_limit", "gap")

_INSTANCE_BODY = {
    "requestBody": {
        "required": True,
        "description": "An instance: as JSON, as YAML, or a file upload (field `file`: " + UPLOADS + "). "
                       "With an upload, `time_limit` and `gap` may also be form fields.",
        "content": {
            "application/json": {"schema": {"type": "object", "description": "An instance (`outopt schema`)."}},
            "application/yaml": {"schema": {"type": "string"}},
            "multipart/form-data": {"schema": {"type": "object", "properties": {
                "file": {"type": "string", "format": "binary"},
                "time_limit": {"type": "number"}, "gap": {"type": "number"}}, "required": ["file"]}},
        },
    },
    "parameters": [
        {"name": "time_limit", "in": "query", "required": False,
         "schema": {"type": "number", "exclusiveMinimum": 0}, "description": "Seconds for the whole solve."},
        {"name": "gap", "in": "query", "required": False, "schema": {"type": "number", "minimum": 0, "maximum": 0.999},
         "description": "Relative optimality gap; 0 (the default) proves optimality."},
    ],
}


def problems_json(err: InputError) -> dict:
    """The body of a 422: every problem at its place."""
    n = len(err.problems)
    return {"valid": False, "source": err.source, "detail": f"{n:,} problem{'s' if n != 1 else ''} found",
            "problems": [{"place": p.where, "message": p.message} for p in err.problems]}


def parse_options(values: dict) -> dict:
    """``time_limit`` (seconds > 0, or none) and ``gap`` (0 <= gap < 1) from text; every problem at once."""
    out, problems = {"time_limit": None, "gap": 0.0}, []
    for name in OPTIONS:
        text = values.get(name)
        if text is None or str(text).strip() == "":
            continue
        try:
            x = float(str(text).strip())
        except ValueError:
            problems.append(Problem(name, f"must be a number, got {str(text)[:40]!r}"))
            continue
        if name == "time_limit" and not (math.isfinite(x) and x > 0):
            problems.append(Problem(name, f"must be a positive number of seconds, got {x:g}"))
        elif name == "gap" and not 0 <= x <= 0.999:
            problems.append(Problem(name, f"must be between 0 and 0.999, got {x:g}"))
        else:
            out[name] = x
    if problems:
        raise InputError(problems, "request")
    return out


async def read_request(request: Request) -> tuple[Instance, dict, str]:
    """The instance a request carries, read and validated as the command line reads files; its options;
    the name it came under (the upload's file name, or ``request.json`` / ``request.yaml``)."""
    wb = request.app.state.workbench
    kind = request.headers.get("content-type", "").split(";")[0].strip().lower()
    values = dict(request.query_params)
    if kind == "multipart/form-data":
        try:
            form = await request.form(max_files=1, max_fields=len(OPTIONS) + 1)
        except HTTPException as err:  # a broken multipart body
            raise InputError([Problem("", f"the upload is not readable form data: {err.detail}")], "request") from None
        try:
            upload = form.get("file")
            if not isinstance(upload, UploadFile):
                raise InputError([Problem("file", f"send the instance as the form's file field 'file' ({UPLOADS})")],
                                 "request")
            data, filename = await upload.read(), upload.filename or "upload"
            values.update({k: form.get(k) for k in OPTIONS if isinstance(form.get(k), str)})
        finally:
            await form.close()
    elif kind in JSON_TYPES or kind in YAML_TYPES:
        data, filename = await request.body(), "request.json" if kind in JSON_TYPES else "request.yaml"
    else:
        raise InputError([Problem("", f"send an instance as JSON (Content-Type: application/json), YAML "
                                      f"(application/yaml) or a file upload (multipart/form-data, field 'file'); "
                                      f"got {kind[:60] or 'no content type'!r}")], "request")
    options = parse_options(values)
    instance = await run_in_threadpool(read_instance, bytes(data), filename, wb.tmp, wb.limits())
    return instance, options, filename


def job_json(job: Job) -> dict:
    out = {"id": job.id, "state": job.state, "progress": job.progress or {}, "result": None}
    if job.state == "done":
        out["result"] = job.result.to_dict()
    elif job.state == "failed":
        out["error"] = job.error
        if job.problems:
            out["problems"] = [{"place": w, "message": m} for w, m in job.problems]
    return out


def json_text(data: dict, status: int = 200) -> Response:
    """JSON as ``outopt solve --json -`` writes it (indent 2), the same text whatever the route."""
    return Response(json.dumps(data, indent=2) + "\n", status_code=status, media_type="application/json")


async def finished(job: Job) -> None:
    """Wait for a job without holding a thread (the event loop checks it every 50 ms)."""
    while not job.finished:
        await asyncio.sleep(0.05)


@router.post("/solve", openapi_extra=_INSTANCE_BODY, summary="Solve an instance and answer with the plan")
async def solve(request: Request) -> Response:
    """The JSON of ``outopt solve --json -`` for the instance in the body."""
    instance, options, _ = await read_request(request)
    job = request.app.state.workbench.pool.submit("solve", instance.name, work.solve_job,
                                                  (instance, options["time_limit"], options["gap"]))
    try:
        await finished(job)
    except asyncio.CancelledError:  # the client went away: so does its solve
        request.app.state.workbench.pool.cancel(job.id, wait=0)
        raise
    if job.problems:
        return json_text(problems_json(InputError([Problem(w, m) for w, m in job.problems], instance.name)), 422)
    if job.state != "done":
        return json_text({"detail": job.error or job.state}, 500)
    return json_text(job.result.to_dict())


@router.post("/jobs", openapi_extra=_INSTANCE_BODY, status_code=202, summary="Start a solve; answer its id")
async def start_job(request: Request) -> JSONResponse:
    instance, options, _ = await read_request(request)
    job = request.app.state.workbench.pool.submit("solve", instance.name, work.solve_job,
                                                  (instance, options["time_limit"], options["gap"]))
    return JSONResponse({"id": job.id}, status_code=202)


def _job(request: Request, job_id: str) -> Job:
    job = request.app.state.workbench.pool.get(job_id)
    if job is None or job.owner is not None:  # a browser's jobs are its own
        raise HTTPException(404, f"no job {job_id!r}")
    return job


@router.get("/jobs/{job_id}", summary="A job's state, progress and result")
def get_job(request: Request, job_id: str) -> Response:
    return json_text(job_json(_job(request, job_id)))


@router.delete("/jobs/{job_id}", summary="Cancel a job (it ends within a second)")
def cancel_job(request: Request, job_id: str) -> Response:
    job = _job(request, job_id)
    return json_text(job_json(request.app.state.workbench.pool.cancel(job.id, wait=1.0)))


@router.post("/validate", openapi_extra=_INSTANCE_BODY, summary="Check an instance; solve nothing")
async def validate(request: Request) -> JSONResponse:
    """``{"valid": true, ...}`` with the instance's size, or ``{"valid": false, "problems": [...]}``."""
    try:
        instance, _, source = await read_request(request)
    except InputError as err:
        if err.source == "request":  # the request itself, not the instance, is wrong
            raise
        return JSONResponse(problems_json(err))
    return JSONResponse({"valid": True, "source": source, "problems": [],
                         "functions": len(instance.functions), "vendors": len(instance.vendors),
                         "offers": len(instance.offers)})


@router.get("/health", summary="Is the server up: its workers and jobs")
def health(request: Request) -> JSONResponse:
    pool = request.app.state.workbench.pool
    return JSONResponse({"status": "ok", "workers": pool.workers, "jobs": pool.counts()})
