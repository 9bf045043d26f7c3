"""The workbench's pages: one page, re-rendered on the server after each action (htmx swaps it in).

Every action is a form post that answers with the whole workbench (``#workbench``), or, without
htmx, a redirect back to it. Long work (solve, explain, frontier) runs as a job of the pool; while a
browser has jobs, its page polls ``/jobs`` for the progress line, and gets the workbench back when
they are over. A browser is known by its cookie; it sees and acts on its own workspace only.
"""

from __future__ import annotations

import json
import math
from collections.abc import Callable
from pathlib import Path

from fastapi import APIRouter, Form, Request
from fastapi.responses import HTMLResponse, RedirectResponse, Response
from starlette.concurrency import run_in_threadpool
from starlette.datastructures import UploadFile

from outopt.errors import InputError, Problem
from outopt.instance.io import load
from outopt.instance.schema import Instance
from outopt.report.files import write_results
from outopt.serve import views, work
from outopt.serve.jobs import Job
from outopt.serve.uploads import UPLOADS, instance_file, private_folder, read_instance, safe_filename
from outopt.serve.workspace import (
    MAX_ACTIVE_JOBS,
    Edit,
    Notice,
    Workspace,
    Workspaces,
    frontier_limits,
    steerable_limits,
)

router = APIRouter(include_in_schema=False)

DEFAULT_TIME_LIMIT = 60.0
"""Seconds a browser's solve gets unless the planner sets another limit."""
EXPLAIN_TIME_LIMIT = 300.0
FRONTIER_TIME_LIMIT = 300.0
RESULTS = {"results.xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet",
           "results.csv": "text/csv; charset=utf-8", "results.json": "application/json",
           "report.html": "text/html; charset=utf-8"}
INSTANCE_FILES = {"yaml": "application/yaml", "json": "application/json",
                  "xlsx": "application/vnd.openxmlformats-officedocument.spreadsheetml.sheet"}


# --- rendering ------------------------------------------------------------------------------

def workspace(request: Request) -> Workspace:
    wb = request.app.state.workbench
    ws = wb.workspaces.of(request.cookies.get(Workspaces.COOKIE))
    if ws.fresh and ws.base is None and wb.single:
        name = wb.files()[0]
        with ws.lock:  # a server started with one instance opens it for every new browser
            try:
                ws.reset(name, load(wb.root, limits=wb.limits()))
            except InputError as err:
                ws.notice = Notice(f"{name}: {_count(err.problems)} found", err.problems)
    return ws


def _count(problems) -> str:
    return f"{len(problems):,} problem{'s' if len(problems) != 1 else ''}"


def context(request: Request, ws: Workspace) -> dict:
    wb = request.app.state.workbench
    inst, sc = ws.instance, ws.current
    compared = [ws.scenarios[k] for k in ws.compared if k in ws.scenarios]
    why = None
    if ws.why is not None and ws.why[0] in ws.scenarios:
        why = views.why_view(ws.scenarios[ws.why[0]], ws.why[1])
        why = why and {**why, "scenario": ws.scenarios[ws.why[0]].name}
    return {
        "ws": ws, "inst": inst, "files": wb.files(), "root": wb.root.name if wb.root else None,
        "uploads": UPLOADS, "jobs": list(ws.jobs.values()), "scenario": sc,
        "plan": views.plan_view(sc) if sc is not None else None,
        "scenarios": list(ws.scenarios.values()),
        "limits": steerable_limits(inst) if inst else [],
        "frontier_limits": frontier_limits(inst) if inst else [],
        "comparison": views.comparison(compared) if len(compared) >= 2 else None,
        "why": why, "frontier": views.frontier_view(ws.frontier) if ws.frontier is not None else None,
        "default_time_limit": DEFAULT_TIME_LIMIT,
    }


def render(request: Request, ws: Workspace, template: str = "workbench.html", status: int = 200,
           headers: dict | None = None) -> HTMLResponse:
    env = request.app.state.workbench.env
    with ws.lock:
        html = env.get_template(template).render(**context(request, ws))
    response = HTMLResponse(html, status_code=status, headers=headers)
    if ws.fresh:
        response.set_cookie(Workspaces.COOKIE, ws.id, httponly=True, samesite="strict", path="/")
        ws.fresh = False
    return response


def answer(request: Request, ws: Workspace, status: int = 200) -> Response:
    """After an action: the workbench for htmx, or back to the page for a plain form post."""
    if request.headers.get("hx-request"):
        return render(request, ws, status=status)
    response = RedirectResponse("/", status_code=303)
    if ws.fresh:
        response.set_cookie(Workspaces.COOKIE, ws.id, httponly=True, samesite="strict", path="/")
        ws.fresh = False
    return response


def notice_page(request: Request, title: str, problems: list[Problem], status: int) -> Response:
    """The workbench with a notice (for errors raised outside an action's own handling)."""
    ws = workspace(request)
    with ws.lock:
        ws.notice = Notice(title, list(problems))
    return render(request, ws, "workbench.html" if request.headers.get("hx-request") else "index.html", status)


def act(request: Request, change: Callable[[Workspace], None]) -> Response:
    """Run an action on the browser's workspace; an InputError becomes the notice, the state unchanged."""
    ws = workspace(request)
    with ws.lock:
        ws.notice = None
        try:
            change(ws)
        except InputError as err:
            ws.notice = Notice(f"{err.source + ': ' if err.source else ''}{_count(err.problems)} found", err.problems)
    return answer(request, ws)


def refuse(place: str, message: str) -> InputError:
    return InputError([Problem(place, message)])


# --- the page --------------------------------------------------------------------------------

@router.get("/", response_class=HTMLResponse)
def index(request: Request) -> HTMLResponse:
    return render(request, workspace(request), "index.html")


@router.get("/workbench", response_class=HTMLResponse)
def workbench(request: Request) -> HTMLResponse:
    return render(request, workspace(request))


# --- opening -----------------------------------------------------------------------------------

def _opened(request: Request, ws: Workspace, name: str, instance: Instance) -> None:
    """A new instance: the last one's jobs are cancelled, its steering and scenarios dropped."""
    for job_id in list(ws.jobs):
        request.app.state.workbench.pool.cancel(job_id, wait=0)
    ws.reset(name, instance)
    ws.notice = Notice(f"opened {name}: {len(instance.functions)} functions, {len(instance.vendors)} vendors, "
                       f"{len(instance.offers)} offers; valid", kind="info")


@router.post("/open")
async def open_upload(request: Request) -> Response:
    """Open an uploaded instance (read and validated as the command line reads files)."""
    wb, ws = request.app.state.workbench, workspace(request)
    form = await request.form(max_files=1, max_fields=2)
    try:
        upload = form.get("file")
        if isinstance(upload, UploadFile) and upload.filename:
            data, name = await upload.read(), upload.filename
        else:
            data, name = None, ""
    finally:
        await form.close()
    try:
        if data is None:
            raise refuse("file", f"choose a file: {UPLOADS}")
        instance = await run_in_threadpool(read_instance, data, name, wb.tmp, wb.limits())
    except InputError as err:
        with ws.lock:
            ws.notice = Notice(f"{name + ': ' if name else ''}{_count(err.problems)} found", err.problems)
        return answer(request, ws)
    with ws.lock:
        _opened(request, ws, name, instance)
    return answer(request, ws)


@router.post("/open-file")
def open_local(request: Request, name: str = Form("")) -> Response:
    wb = request.app.state.workbench
    path = wb.local(name)

    def change(ws: Workspace) -> None:
        if path is None:
            raise refuse("file", f"{name!r} is not one of the files served")
        try:
            instance = load(path, limits=wb.limits())
        except InputError as err:
            raise InputError(err.problems, name) from None
        _opened(request, ws, name, instance)

    return act(request, change)


# --- steering ----------------------------------------------------------------------------------

@router.post("/steer")
def steer(request: Request, function: str = Form(""), provider: str = Form(""), reason: str = Form(""),
          action: str = Form("lock")) -> Response:
    """Lock a function to a provider, or ban that provider for it, with a reason."""

    def change(ws: Workspace) -> None:
        inst = _instance(ws)
        options = views.providers_of(inst)
        if function not in options:
            raise refuse("function", f"function {function!r} is not in functions")
        if provider not in options[function]:
            raise refuse("provider", f"{views.provider_label(provider)!s} cannot take {function}: no such offer")
        if action not in ("lock", "ban"):
            raise refuse("action", "lock or ban")
        ws.steer(Edit(action, function=function, provider=provider, reason=" ".join(reason.split())[:200]))

    return act(request, change)


@router.post("/limit")
def set_limit(request: Request, path: str = Form(""), value: str = Form("")) -> Response:
    """A new value of a budget or limit (blank: no limit, where the limit is optional)."""

    def change(ws: Workspace) -> None:
        inst = _instance(ws)
        if path not in {p for p, _, _ in steerable_limits(inst)}:
            raise refuse("limit", f"{path!r} is not a limit of this instance")
        text = value.strip().replace(",", "")
        try:
            number = None if text == "" else float(text)
        except ValueError:
            raise refuse(path, f"must be a number, got {value[:40]!r}") from None
        if number is not None and not math.isfinite(number):
            raise refuse(path, "must be a finite number")
        if number is not None and number.is_integer() and path.startswith("rules."):
            number = int(number)
        ws.steer(Edit("limit", path=path, value=number))

    return act(request, change)


@router.post("/steer/{index}/remove")
def unsteer(request: Request, index: int) -> Response:
    def change(ws: Workspace) -> None:
        _instance(ws)
        if not 0 <= index < len(ws.edits):
            raise refuse("edit", "no such change")
        ws.unsteer(index)

    return act(request, change)


def _instance(ws: Workspace) -> Instance:
    if ws.instance is None:
        raise refuse("", "open an instance first")
    return ws.instance


# --- jobs ----------------------------------------------------------------------------------------

def _submit(request: Request, ws: Workspace, kind: str, label: str, fn, args: tuple,
            done: Callable[[Workspace, Job], None]) -> None:
    """Start a job for this browser; ``done(ws, job)`` is called, under the workspace's lock, when it
    has ended, unless the browser opened another instance meanwhile."""
    if len(ws.jobs) >= MAX_ACTIVE_JOBS:
        raise refuse("", f"{len(ws.jobs)} jobs are running already; wait for one or cancel it")
    pool, base = request.app.state.workbench.pool, ws.base

    def finish(job: Job) -> None:
        with ws.lock:
            ws.jobs.pop(job.id, None)
            if ws.base is not base:
                return
            if job.state == "done":
                done(ws, job)
            elif job.state == "cancelled":
                ws.notice = Notice(f"{job.label}: cancelled", kind="info")
            else:
                problems = [Problem(w, m) for w, m in job.problems] or [Problem("", job.error or "failed")]
                ws.notice = Notice(f"{job.label}: failed", problems)

    job = pool.submit(kind, label, fn, args, owner=ws.id, on_finish=finish)
    ws.jobs[job.id] = job


def _number(text: str, place: str, default: float | None, low: float, high: float) -> float | None:
    text = (text or "").strip().replace(",", "")
    if text == "":
        return default
    try:
        x = float(text)
    except ValueError:
        raise refuse(place, f"must be a number, got {text[:40]!r}") from None
    if not (math.isfinite(x) and low <= x <= high):
        raise refuse(place, f"must be between {low:g} and {high:g}, got {x:g}")
    return x


@router.post("/solve")
def solve(request: Request, name: str = Form(""), time_limit: str = Form(""), gap: str = Form("")) -> Response:
    def change(ws: Workspace) -> None:
        inst = _instance(ws)
        limit = _number(time_limit, "time limit", DEFAULT_TIME_LIMIT, 0.1, 86_400)
        rel = _number(gap, "gap", 0.0, 0.0, 0.999)
        scenario_name, edits = ws.scenario_name(name), tuple(ws.edits)
        _submit(request, ws, "solve", f"solving {scenario_name}", work.solve_job, (inst, limit, rel, True),
                lambda w, job: w.add_scenario(scenario_name, inst, edits, job.result))
        ws.runs += 1

    return act(request, change)


@router.get("/jobs")
def jobs(request: Request) -> Response:
    """The progress line while jobs run; the workbench (swapped in whole) once they are over."""
    ws = workspace(request)
    with ws.lock:
        jobs = list(ws.jobs.values())
    if jobs:  # the progress lines alone: the rest of the page is as it was
        return HTMLResponse(request.app.state.workbench.env.get_template("_jobs.html").render(jobs=jobs))
    return render(request, ws, headers={"HX-Retarget": "#workbench", "HX-Reswap": "outerHTML"})


@router.post("/jobs/{job_id}/cancel")
def cancel(request: Request, job_id: str) -> Response:
    ws = workspace(request)
    if job_id in ws.jobs:
        request.app.state.workbench.pool.cancel(job_id, wait=1.0)
    return answer(request, ws)


# --- scenarios -----------------------------------------------------------------------------------

def _scenario(ws: Workspace, sid: int):
    sc = ws.scenarios.get(sid)
    if sc is None:
        raise refuse("scenario", "no such scenario (it was deleted, or the page is old: reload it)")
    return sc


@router.post("/scenarios/{sid}/show")
def show(request: Request, sid: int) -> Response:
    return act(request, lambda ws: setattr(ws, "selected", _scenario(ws, sid).id))


@router.post("/scenarios/{sid}/delete")
def delete(request: Request, sid: int) -> Response:
    return act(request, lambda ws: ws.drop_scenario(_scenario(ws, sid).id))


@router.post("/compare")
def compare(request: Request, s: list[int] = Form([])) -> Response:
    def change(ws: Workspace) -> None:
        chosen = [k for k in dict.fromkeys(s) if k in ws.scenarios]
        if len(chosen) < 2:
            raise refuse("compare", "tick two or more scenarios to compare")
        ws.compared = chosen

    return act(request, change)


@router.post("/why")
def why(request: Request, scenario: int = Form(0), function: str = Form("")) -> Response:
    """Why a function goes where it goes: explained once per scenario (a job), then shown for any function."""

    def change(ws: Workspace) -> None:
        sc = _scenario(ws, scenario)
        if function not in {f.id for f in sc.instance.functions}:
            raise refuse("function", f"function {function!r} is not in functions")
        if sc.solution.plan is None:
            raise refuse("why", f"{sc.name} has no plan to explain")
        if sc.explanation is not None:
            ws.why = (sc.id, function)
            return

        def explained(w: Workspace, job: Job) -> None:
            sc.explanation = job.result
            w.why = (sc.id, function)

        _submit(request, ws, "explain", f"explaining {sc.name}", work.explain_job,
                (sc.instance, sc.solution, EXPLAIN_TIME_LIMIT), explained)

    return act(request, change)


@router.post("/frontier")
def frontier(request: Request, param: str = Form(""), lower: str = Form(""), upper: str = Form(""),
             steps: str = Form("11")) -> Response:
    def change(ws: Workspace) -> None:
        inst = _instance(ws)
        if param not in {p for p, *_ in frontier_limits(inst)}:
            raise refuse("limit", f"{param!r} is not a limit a frontier can sweep here")
        low = _number(lower, "from", None, 0, 1e12)
        high = _number(upper, "to", None, 0, 1e12)
        if low is None or high is None or low > high:
            raise refuse("from/to", "give a range: from at most to")
        n = int(_number(steps, "steps", 11, 2, 50))
        _submit(request, ws, "frontier", f"frontier of {param}", work.frontier_job,
                (inst, param, low, high, n, FRONTIER_TIME_LIMIT), lambda w, job: setattr(w, "frontier", job.result))

    return act(request, change)


# --- downloads -----------------------------------------------------------------------------------

def _attachment(content: bytes, filename: str, media: str) -> Response:
    return Response(content, media_type=media, headers={"content-disposition": f'attachment; filename="{filename}"'})


@router.get("/download/instance.{ext}")
def download_instance(request: Request, ext: str) -> Response:
    ws, wb = workspace(request), request.app.state.workbench
    if ws.instance is None or ext not in INSTANCE_FILES:
        return Response("nothing to download", status_code=404, media_type="text/plain")
    content = instance_file(ws.instance, f".{ext}", wb.tmp)
    return _attachment(content, safe_filename(ws.instance.name, ext=f".{ext}"), INSTANCE_FILES[ext])


@router.get("/scenarios/{sid}/{what}")
def download_results(request: Request, sid: int, what: str) -> Response:
    """The scenario's results as the command line's ``--out`` writes them (with its explanation, if asked)."""
    ws, wb = workspace(request), request.app.state.workbench
    sc = ws.scenarios.get(sid)
    if sc is None or what not in RESULTS:
        return Response("no such download", status_code=404, media_type="text/plain")
    if what == "results.json":
        content = (json.dumps(sc.solved.to_dict(), indent=2) + "\n").encode()
    else:
        with private_folder(wb.tmp) as folder:
            target = folder / Path(what).name
            write_results(sc.solution, target, explanation=sc.explanation)
            content = target.read_bytes()
    stem, ext = what.rsplit(".", 1)
    return _attachment(content, safe_filename(sc.instance.name, sc.name, stem, ext=f".{ext}"), RESULTS[what])
