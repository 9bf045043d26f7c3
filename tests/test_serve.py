"""`outopt serve`'s JSON API against the real command (issue 18): the same answers as the CLI on every
example, ten solves at once, a cancel that ends its job within a second, hostile uploads refused with
413 or 422 and nothing left behind. The server runs as `outopt serve --port 0` in a subprocess, with a
file-size limit of 2 MB (so an oversized body is cheap to send) and its own temporary folder."""

import io
import json
import os
import signal
import threading
import time
import zipfile
from concurrent.futures import ThreadPoolExecutor

import pytest
import yaml
from markupsafe import escape
from conftest import INSTANCES
from typer.testing import CliRunner
from webserver import serving

import outopt
from outopt.cli import app

CORPUS = INSTANCES.parent / "tests" / "corpus"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())
EXAMPLES = sorted(p.relative_to(INSTANCES).as_posix() for p in INSTANCES.rglob("*.yaml")
                  if p.parent.name != "scenarios" and p.name != "group.yaml")
TIMES = ("solve_time", "total_time")
LIMIT_MB = 2


HOSTILE = "<script>alert(1)</script>"


def hostile_instance() -> dict:
    """The small example with markup in its name, ids and texts (user text the pages must escape)."""
    data = yaml.safe_load((INSTANCES / "small_business.yaml").read_text())
    data["name"] = f"{HOSTILE} & Co"
    data["currency"] = "<b>USD</b>"
    text = yaml.safe_dump(data).replace("ledgerly", "ledger<i>ly</i>\"'")
    return yaml.safe_load(text)


@pytest.fixture(scope="module")
def folder(tmp_path_factory):
    """The folder the server serves: two examples and an instance full of markup."""
    path = tmp_path_factory.mktemp("served")
    for name in ("small_business.yaml", "infeasible.yaml"):
        (path / name).write_bytes((INSTANCES / name).read_bytes())
    (path / "hostile.yaml").write_text(yaml.safe_dump(hostile_instance()))
    return path


@pytest.fixture(scope="module")
def server(tmp_path_factory, folder):
    with serving(folder, tmp_path_factory.mktemp("serve-tmp"), env={"OUTOPT_MAX_FILE_MB": str(LIMIT_MB)}) as s:
        yield s
        assert s.process.poll() is None, "the server died: " + "".join(s.log[-20:])
    assert s.process.returncode == 0, "".join(s.log[-20:])  # stopped cleanly by SIGTERM
    assert s.leftovers() == []
    assert "Traceback" not in "".join(s.log), "".join(s.log)  # no request ever failed unexpectedly


def without_times(answer: dict) -> dict:
    answer = {k: v for k, v in answer.items() if k not in TIMES}
    if "diagnosis" in answer:
        answer["diagnosis"] = {k: v for k, v in answer["diagnosis"].items() if k != "time"}
    return answer


def cli_json(path) -> dict:
    result = CliRunner().invoke(app, ["solve", str(path), "--json", "-"])
    assert result.exit_code in (0, 3), result.output
    return json.loads(result.stdout)


def upload(server, route: str, name: str, content: bytes, **data):
    return server.client.post(route, files={"file": (name, content)}, data=data)


@pytest.mark.parametrize("example", EXAMPLES)
def test_solve_answers_as_the_cli_does(server, example):
    path = INSTANCES / example
    r = upload(server, "/api/solve", path.name, path.read_bytes())
    assert r.status_code == 200, r.text
    assert without_times(r.json()) == without_times(cli_json(path))
    assert server.leftovers() == []


def test_an_instance_as_a_json_or_yaml_body(server, tmp_path):
    expected = without_times(cli_json(INSTANCES / "small_business.yaml"))
    outopt.save(outopt.load(INSTANCES / "small_business.yaml"), tmp_path / "sb.json")
    r = server.client.post("/api/solve", content=(tmp_path / "sb.json").read_bytes(),
                           headers={"content-type": "application/json"})
    assert r.status_code == 200 and without_times(r.json()) == expected
    r = server.client.post("/api/solve?time_limit=30&gap=0", content=(INSTANCES / "small_business.yaml").read_bytes(),
                           headers={"content-type": "application/yaml"})
    assert r.status_code == 200 and without_times(r.json()) == expected


def test_an_infeasible_instance_comes_with_its_diagnosis(server):
    r = upload(server, "/api/solve", "infeasible.yaml", (INSTANCES / "infeasible.yaml").read_bytes())
    assert r.status_code == 200
    assert r.json()["status"] == "infeasible"
    assert r.json()["diagnosis"]["conflict"] == ["budget.operating"]


def test_the_company_file_is_not_an_instance(server):
    """A company file names other files: the API takes one instance, and says what `outopt.load` says."""
    path = INSTANCES / "company" / "group.yaml"
    r = upload(server, "/api/solve", "group.yaml", path.read_bytes())
    assert r.status_code == 422
    with pytest.raises(outopt.InputError) as info:
        outopt.load(path)
    assert [(p["place"], p["message"]) for p in r.json()["problems"]] == [(p.where, p.message) for p in info.value.problems]
    assert "divisions" in [p["place"] for p in r.json()["problems"]]


def test_validate(server):
    r = upload(server, "/api/validate", "small_business.yaml", (INSTANCES / "small_business.yaml").read_bytes())
    assert r.status_code == 200
    assert r.json() == {"valid": True, "source": "small_business.yaml", "problems": [], "functions": 8, "vendors": 4,
                        "offers": 12}
    r = upload(server, "/api/validate", "unknown_ids.yaml", (CORPUS / "unknown_ids.yaml").read_bytes())
    assert r.status_code == 200 and r.json()["valid"] is False
    assert [f"{p['place']}: {p['message']}" for p in r.json()["problems"]] == EXPECTED["unknown_ids.yaml"]["problems"]


@pytest.mark.parametrize("name", sorted(EXPECTED))
def test_corpus_uploads_are_422_with_the_clis_problems(server, name):
    r = upload(server, "/api/solve", name, (CORPUS / name).read_bytes())
    assert r.status_code == 422, r.text
    body = r.json()
    assert body["valid"] is False and body["source"] == name
    assert [f"{p['place']}: {p['message']}" if p["place"] else p["message"] for p in body["problems"]] \
        == EXPECTED[name]["problems"]
    assert server.leftovers() == []


def zipped(members: dict[str, bytes], compression=zipfile.ZIP_DEFLATED) -> bytes:
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression) as z:
        for name, content in members.items():
            z.writestr(name, content)
    return buf.getvalue()


def test_a_zip_of_csv_files_is_solved(server, tmp_path):
    outopt.save(outopt.load(INSTANCES / "small_business.yaml"), tmp_path / "sb")
    members = {f"brightpath/{p.name}": p.read_bytes() for p in (tmp_path / "sb").glob("*.csv")}
    r = upload(server, "/api/solve", "brightpath.zip", zipped(members))
    assert r.status_code == 200, r.text
    assert without_times(r.json()) == without_times(cli_json(INSTANCES / "small_business.yaml"))
    # a problem in a CSV file is named by the file, row and column, under the zip's name
    members["brightpath/offers.csv"] = members["brightpath/offers.csv"].replace(b"ledgerly", b"ledgrly", 1)
    r = upload(server, "/api/solve", "brightpath.zip", zipped(members))
    assert r.status_code == 422 and r.json()["source"] == "brightpath.zip"
    assert r.json()["problems"][0]["place"].startswith("offers.csv:")
    assert server.leftovers() == []


@pytest.mark.parametrize("members, message", [
    ({"settings.csv": b"0" * (1_500_000)}, "settings.csv: inflates 1,0"),  # 1.5 MB of zeros: a ratio near 1,000
    ({"offers.csv": b"0" * (30 * 2**20)}, "offers.csv: unzips to 30.0 MB, above the 2.0 MB limit"),
    ({"../evil.csv": b"a,b\n"}, "../evil.csv: not a plain file at the top of the zip or in one folder"),
    ({"a/b/c.csv": b"a,b\n"}, "a/b/c.csv: not a plain file"),
    ({"/etc/cron.csv": b"a,b\n"}, "/etc/cron.csv: not a plain file"),
    ({"run.sh": b"#!/bin/sh\n"}, "run.sh: not a CSV file"),
    ({}, "the zip holds no CSV files"),
    ({f"t{k}.csv": b"a\n" for k in range(100)}, "the zip holds 100 files"),
])
def test_hostile_zips_are_refused_from_their_directory(server, members, message):
    r = upload(server, "/api/solve", "bad.zip", zipped(members))
    assert r.status_code == 422, r.text
    assert any(f"{p['place']}: {p['message']}".lstrip(": ").startswith(message) for p in r.json()["problems"]), r.json()
    assert server.leftovers() == []
    assert not (server.tmp.parent / "evil.csv").exists()


def test_a_zip_link_and_junk(server):
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w") as z:
        info = zipfile.ZipInfo("settings.csv")
        info.external_attr = (0o120777 << 16)  # a symbolic link to /etc/passwd
        z.writestr(info, "/etc/passwd")
    r = upload(server, "/api/solve", "link.zip", buf.getvalue())
    assert r.status_code == 422 and "not a plain file" in r.text
    r = upload(server, "/api/solve", "junk.zip", b"PK\x03\x04 not really a zip")
    assert r.status_code == 422 and r.json()["problems"][0]["message"].startswith("not a readable zip file")
    assert server.leftovers() == []


def test_an_oversized_body_is_413_and_an_oversized_file_422(server):
    big = b"#" * ((LIMIT_MB + 2) * 2**20)
    for send in (lambda: server.client.post("/api/solve", content=big, headers={"content-type": "application/json"}),
                 lambda: upload(server, "/api/solve", "big.yaml", big),
                 lambda: server.client.post("/api/jobs", content=iter([big[:2**20]] * (LIMIT_MB + 2)),
                                            headers={"content-type": "application/json"})):  # chunked, no length
        r = send()
        assert r.status_code == 413, r.text
        assert "over the 3.0 MB limit" in r.json()["detail"]
    r = upload(server, "/api/solve", "big.yaml", b"#" * int(2.5 * 2**20))  # the body fits, the file does not
    assert r.status_code == 422
    assert r.json()["problems"][0]["message"].startswith("file is 2.5 MB, above the 2.0 MB limit")
    assert server.leftovers() == []


def test_bad_requests_are_422_with_their_problems(server):
    r = server.client.post("/api/solve?time_limit=-1&gap=abc", content=b"{}", headers={"content-type": "application/json"})
    assert r.status_code == 422
    assert r.json()["problems"] == [{"place": "time_limit", "message": "must be a positive number of seconds, got -1"},
                                    {"place": "gap", "message": "must be a number, got 'abc'"}]
    r = server.client.post("/api/solve", content=b"name: x", headers={"content-type": "text/plain"})
    assert r.status_code == 422 and "got 'text/plain'" in r.json()["problems"][0]["message"]
    r = server.client.post("/api/solve", data={"gap": "0"})
    assert r.status_code == 422
    assert server.client.get("/api/jobs/nope").status_code == 404


def test_openapi_and_health(server):
    doc = server.client.get("/api/openapi.json").json()
    for path in ("/api/solve", "/api/jobs", "/api/jobs/{job_id}", "/api/validate", "/api/health"):
        assert path in doc["paths"]
    assert set(doc["paths"]["/api/jobs/{job_id}"]) == {"get", "delete"}
    assert "multipart/form-data" in doc["paths"]["/api/solve"]["post"]["requestBody"]["content"]
    health = server.client.get("/api/health").json()
    assert health["status"] == "ok" and health["workers"] == 2


def test_ten_solves_at_once_are_all_right_and_the_server_answers_meanwhile(server):
    path = INSTANCES / "midsize.yaml"
    inst = outopt.load(path)
    expected = cli_json(path)["objective"]
    answers, waits = [], []
    done = threading.Event()

    def watch():  # the pages and health stay quick while ten solves run
        while not done.is_set():
            t0 = time.perf_counter()
            codes = (server.client.get("/api/health").status_code, server.client.get("/").status_code)
            waits.append((time.perf_counter() - t0, codes))
            time.sleep(0.2)

    watcher = threading.Thread(target=watch)
    watcher.start()
    try:
        with ThreadPoolExecutor(10) as ex:
            answers = list(ex.map(lambda _: upload(server, "/api/solve", "midsize.yaml", path.read_bytes()), range(10)))
    finally:
        done.set()
        watcher.join()
    assert [r.status_code for r in answers] == [200] * 10
    for r in answers:
        body = r.json()
        assert body["status"] == "optimal" and body["objective"] == pytest.approx(expected, rel=1e-9)
        plan = {a["function"]: a["provider"] for a in body["assignments"]}
        assert outopt.verify(inst, plan).feasible
    assert waits and all(codes == (200, 200) for _, codes in waits)
    assert max(seconds for seconds, _ in waits) < 2.0, waits
    assert server.client.get("/api/health").json()["jobs"]["running"] == 0


def test_a_cancel_ends_its_job_within_a_second(server):
    hard = outopt.generate(400, 25, "hard", seed=3)
    r = server.client.post("/api/jobs", content=hard.model_dump_json(), headers={"content-type": "application/json"})
    assert r.status_code == 202
    job = r.json()["id"]
    deadline = time.monotonic() + 60
    while server.client.get(f"/api/jobs/{job}").json()["state"] != "running" and time.monotonic() < deadline:
        time.sleep(0.1)
    time.sleep(1.0)  # well into the solve
    state = server.client.get(f"/api/jobs/{job}").json()
    assert state["state"] == "running" and state["progress"]["phase"], state
    assert server.job_processes(), "the job has a process"
    t0 = time.perf_counter()
    r = server.client.delete(f"/api/jobs/{job}")
    assert r.json()["state"] == "cancelled"
    assert time.perf_counter() - t0 < 1.0
    assert server.job_processes() == []  # killed, with anything it forked
    assert server.client.get(f"/api/jobs/{job}").json()["state"] == "cancelled"
    # a job whose process dies fails with the reason; the server goes on
    r = server.client.post("/api/jobs", content=hard.model_dump_json(), headers={"content-type": "application/json"})
    job = r.json()["id"]
    while not server.client.get(f"/api/jobs/{job}").json()["progress"] and time.monotonic() < deadline + 60:
        time.sleep(0.05)  # solving
    os.kill(server.job_processes()[0], signal.SIGKILL)
    while server.client.get(f"/api/jobs/{job}").json()["state"] in ("queued", "running"):
        time.sleep(0.05)
    state = server.client.get(f"/api/jobs/{job}").json()
    assert state["state"] == "failed" and state["error"] == "the worker ended without an answer (exit code -9)"
    # the next solve is answered
    r = upload(server, "/api/solve", "small_business.yaml", (INSTANCES / "small_business.yaml").read_bytes())
    assert r.status_code == 200 and r.json()["status"] == "optimal"


def test_the_serve_command(monkeypatch, tmp_path):
    calls = []
    monkeypatch.setattr("outopt.serve.server.serve", lambda *a, **kw: calls.append(a))
    r = CliRunner().invoke(app, ["serve", str(tmp_path / "nothere")])
    assert r.exit_code == 2 and "nothere: file or folder not found" in r.stderr
    r = CliRunner().invoke(app, ["serve", str(INSTANCES), "--port", "0"])
    assert r.exit_code == 0 and r.stderr == "" and calls[-1] == (INSTANCES, "127.0.0.1", 0, None)
    r = CliRunner().invoke(app, ["serve", "--host", "0.0.0.0", "--workers", "3"])
    assert r.exit_code == 0 and calls[-1] == (None, "0.0.0.0", 8000, 3)
    assert r.stderr.startswith("warning: listening on 0.0.0.0: anyone who can reach this machine")


# --- the pages, as a browser without JavaScript would use them (htmx's header set) ------------------------

class Browser:
    """One browser: its own cookie jar; every action as htmx sends it."""

    def __init__(self, server):
        import httpx

        self.client = httpx.Client(base_url=server.url, timeout=120, headers={"HX-Request": "true"})
        self.page = self.client.get("/").text

    def post(self, route: str, **data) -> str:
        r = self.client.post(route, data=data)
        assert r.status_code == 200, r.text[:2000]
        self.page = r.text
        return self.page

    def finish_jobs(self, seconds: float = 120) -> str:
        """Poll /jobs as the page does until the jobs are over and the workbench comes back."""
        deadline = time.monotonic() + seconds
        while time.monotonic() < deadline:
            r = self.client.get("/jobs")
            if r.headers.get("HX-Retarget") == "#workbench":
                self.page = r.text
                return self.page
            assert 'class="progress"' in r.text and "Cancel</button>" in r.text
            time.sleep(0.2)
        raise AssertionError("the jobs did not finish")


def test_pages_open_from_the_folder_and_diagnose_an_infeasible_instance(server):
    b = Browser(server)
    for name in ("small_business.yaml", "infeasible.yaml", "hostile.yaml"):
        assert f'name="name" value="{name}"' in b.page
    b.post("/open-file", name="infeasible.yaml")
    assert "opened infeasible.yaml: 3 functions, 2 vendors, 3 offers; valid" in b.page
    b.post("/solve", name="as is")
    b.finish_jobs()
    assert '<span id="status" class="status-infeasible">infeasible</span>' in b.page
    diagnosis = outopt.diagnose(outopt.load(INSTANCES / "infeasible.yaml"))
    for line in diagnosis.lines():
        assert str(escape(line)) in b.page
    # steer the limit the diagnosis names to the value it gives, and solve again
    needed = diagnosis.repairs[0].needed
    b.post("/limit", path="budget.operating", value=str(needed))
    assert f"budget.operating = {needed:,.6g}" in b.page
    b.post("/solve", name="budget raised")
    b.finish_jobs()
    assert '<span id="status" class="status-optimal">optimal</span>' in b.page
    # a file the listing does not offer is never read
    b.post("/open-file", name="../../etc/passwd")
    assert "&#39;../../etc/passwd&#39; is not one of the files served" in b.page
    assert server.leftovers() == []


def test_pages_escape_user_text(server, tmp_path):
    b = Browser(server)
    b.post("/open-file", name="hostile.yaml")
    b.post("/solve", name=HOSTILE)
    page = b.finish_jobs()
    assert "&lt;script&gt;alert(1)&lt;/script&gt; &amp; Co" in page
    assert 'data-function="invoicing"' in page and "ledger&lt;i&gt;ly&lt;/i&gt;&#34;&#39;" in page
    # an upload's file name is user text too
    r = b.client.post("/open", files={"file": (f"{HOSTILE}.yaml", b"name: [")})
    assert r.status_code == 200
    pages = [page, r.text, b.client.get("/").text]
    for text in pages:
        assert HOSTILE not in text and "<i>ly</i>" not in text and "<b>USD</b>" not in text
    assert "&lt;script&gt;alert(1)&lt;/script&gt;.yaml" in r.text
    scenario = page.split('data-scenario="')[1].split('"')[0]
    report = b.client.get(f"/scenarios/{scenario}/report.html")
    assert report.status_code == 200 and HOSTILE not in report.text and "<b>USD</b>" not in report.text
    assert report.headers["content-disposition"] == 'attachment; filename="script_alert_1_script_Co-script_alert_1_script-report.html"'


def test_one_browser_never_sees_another(server):
    a, b = Browser(server), Browser(server)
    a.post("/open-file", name="small_business.yaml")
    a.post("/solve", name="mine")
    a.finish_jobs()
    assert "Plan: mine" in a.page
    assert a.client.cookies.get("outopt_workbench") != b.client.cookies.get("outopt_workbench")
    assert "Plan: mine" not in b.client.get("/").text
    assert b.client.get("/scenarios/1/results.json").status_code == 404
    assert a.client.get("/scenarios/1/results.json").json()["status"] == "optimal"
    # the downloads: the instance as edited, and the results as the command line writes them
    a.post("/steer", function="payroll", provider="numera", reason="contract", action="lock")
    edited = a.client.get("/download/instance.yaml")
    assert edited.headers["content-disposition"] == 'attachment; filename="BrightPath_Ltd.yaml"'
    assert yaml.safe_load(edited.text)["rules"]["locks"] == [{"function": "payroll", "provider": "numera",
                                                               "reason": "contract"}]
    workbook = a.client.get("/download/instance.xlsx")
    assert workbook.content[:2] == b"PK"
    sheets = a.client.get("/scenarios/1/results.xlsx")
    assert sheets.status_code == 200 and sheets.content[:2] == b"PK"
    assert a.client.get("/scenarios/1/results.csv").text.startswith("function,name,provider")


def test_pages_trace_a_frontier(server):
    b = Browser(server)
    b.post("/open-file", name="small_business.yaml")
    b.post("/frontier", param="rules.max_vendors", lower="1", upper="4", steps="4")
    page = b.finish_jobs()
    expected = outopt.frontier(outopt.load(INSTANCES / "small_business.yaml"), "rules.max_vendors", 1, 4, steps=4)
    n = len(expected.breakpoints)
    assert f"{n} breakpoint{'s' if n != 1 else ''}" in page
    assert '<div class="chart" id="frontier-chart"><svg' in page
    for bp in expected.breakpoints:
        assert f'<td class="n">{bp.at:,.0f}</td>' in page


def test_pages_cancel_a_solve(server):
    """The progress line's cancel button ends the job at once; the page says so and the server goes on."""
    import re

    b = Browser(server)
    hard = outopt.generate(400, 25, "hard", seed=3)
    r = b.client.post("/open", files={"file": ("hard.json", hard.model_dump_json().encode())})
    assert "opened hard.json: 400 functions" in r.text
    page = b.post("/solve", name="long one", time_limit="600")
    job = re.search(r'action="/jobs/([^/"]+)/cancel"', page).group(1)
    deadline = time.monotonic() + 60
    while 'data-state="running"' not in b.client.get("/jobs").text and time.monotonic() < deadline:
        time.sleep(0.1)
    # neither another browser nor the API can cancel (or see) what is not theirs
    Browser(server).post(f"/jobs/{job}/cancel")
    assert server.client.delete(f"/api/jobs/{job}").status_code == 404
    assert 'data-state="running"' in b.client.get("/jobs").text
    t0 = time.perf_counter()
    page = b.post(f"/jobs/{job}/cancel")
    assert time.perf_counter() - t0 < 1.5
    assert "solving long one: cancelled" in page and 'id="jobs"' not in page
    assert server.job_processes() == []


@pytest.mark.filterwarnings("ignore:Using `httpx` with `starlette.testclient`")
def test_a_server_given_one_instance_opens_it_and_answers_only_its_own_host(tmp_path):
    """In-process (no worker is started): a file, or a folder of CSV files, is opened for each new browser;
    a request naming another host (DNS rebinding) is refused while the server listens on the loopback."""
    from fastapi.testclient import TestClient

    from outopt.serve.app import create_app

    outopt.save(outopt.load(INSTANCES / "small_business.yaml"), tmp_path / "bp")
    for root, name in ((INSTANCES / "small_business.yaml", "small_business.yaml"), (tmp_path / "bp", "bp/")):
        client = TestClient(create_app(root, workers=1), base_url="http://127.0.0.1:8000")
        page = client.get("/").text
        assert "<h2>BrightPath Ltd</h2>" in page and f"from {name} &middot; 8 functions" in page
        assert client.get("/", headers={"host": "attacker.example:8000"}).status_code == 400
