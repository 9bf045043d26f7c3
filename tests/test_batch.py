"""Batch runs: through a real Dask cluster on loopback (a scheduler and two workers as subprocesses,
ended by PID), a worker killed mid-batch, an input that kills every worker it runs on, an invalid file
among valid ones, re-runs that skip finished work, Ctrl-C keeping finished results, and the `outopt batch`
command."""

import csv
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import INSTANCES

import outopt
from outopt.batch import run_batch, solve_many
from outopt.instance.company import input_hash

SMALL = INSTANCES / "small_business.yaml"


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def start_worker(address: str, name: str) -> subprocess.Popen:
    # --no-nanny: the PID is the worker itself, so killing it is a real worker crash
    return subprocess.Popen(
        [sys.executable, "-m", "dask", "worker", address, "--nthreads", "1", "--no-nanny", "--name", name,
         "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )


def stop(proc: subprocess.Popen) -> None:
    if proc.poll() is None:
        os.kill(proc.pid, signal.SIGTERM)
        try:
            proc.wait(timeout=10)
        except subprocess.TimeoutExpired:
            os.kill(proc.pid, signal.SIGKILL)
            proc.wait()


@pytest.fixture(scope="module")
def cluster():
    """A `dask scheduler` and two `dask worker` processes on loopback; workers stop before the scheduler."""
    from distributed import Client

    port = free_port()
    address = f"tcp://127.0.0.1:{port}"
    scheduler = subprocess.Popen(
        [sys.executable, "-m", "dask", "scheduler", "--host", "127.0.0.1", "--port", str(port), "--no-dashboard"],
        stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL,
    )
    workers = [start_worker(address, f"w{i}") for i in range(2)]
    try:
        with Client(address, timeout="30s") as client:
            client.wait_for_workers(2, timeout=60)
        yield {"address": address, "workers": workers}
    finally:
        for w in workers:  # all workers at once, then the scheduler
            if w.poll() is None:
                os.kill(w.pid, signal.SIGTERM)
        for w in workers:
            stop(w)
        stop(scheduler)


def variants(n: int):
    """n distinct small instances (budget varied so the optima differ)."""
    base = outopt.load(SMALL)
    return [base.replace(name=f"v{i}", budget={"operating": base.budget.operating + 1000 * i})
            for i in range(n)]


def test_batch_through_dask_cluster_matches_serial(cluster):
    instances = variants(6)
    expected = {i.name: outopt.solve(i).objective for i in instances}
    results = list(solve_many(instances, executor="dask://" + cluster["address"].split("://")[1]))
    assert sorted(r.name for r in results) == sorted(expected)
    for r in results:
        assert r.status == "optimal"
        assert r.objective == pytest.approx(expected[r.name])
        check = outopt.verify(next(i for i in instances if i.name == r.name), r.result["assignments"])
        assert check.feasible and check.objective == pytest.approx(r.objective)


def test_killing_a_worker_mid_batch_loses_nothing(cluster):
    address = cluster["address"]
    extra = start_worker(address, "victim")
    from distributed import Client

    with Client(address) as client:
        client.wait_for_workers(3, timeout=60)
    instances = variants(15)
    results = []
    try:
        for r in solve_many([outopt.load(INSTANCES / "midsize.yaml").replace(name=f"m{i}")
                             for i in range(3)] + instances, executor=address):
            results.append(r)
            if len(results) == 2:
                os.kill(extra.pid, signal.SIGKILL)  # a worker crash in the middle of the batch
    finally:
        stop(extra)
    assert extra.returncode == -signal.SIGKILL
    assert len(results) == 18
    assert all(r.status == "optimal" for r in results), [(r.name, r.reason) for r in results if not r.ok]


def test_batch_with_invalid_file_completes_the_rest_and_rerun_skips(cluster, tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SMALL, inputs / "small.yaml")
    shutil.copy(INSTANCES / "infeasible.yaml", inputs / "infeasible.yaml")
    (inputs / "broken.yaml").write_text("name: broken\nfunctions: []\n")
    company = INSTANCES / "company"
    out = tmp_path / "out"
    run = run_batch([inputs, company / "group.yaml"], out=out, executor=cluster["address"])
    by = {Path(r.input).name: r for r in run.results}
    assert set(by) == {"small.yaml", "infeasible.yaml", "broken.yaml", "group.yaml"}
    assert by["small.yaml"].status == "optimal" and by["small.yaml"].objective == pytest.approx(339_500)
    assert by["group.yaml"].status == "optimal" and by["group.yaml"].objective == pytest.approx(49_000)
    assert by["infeasible.yaml"].status == "infeasible"
    assert by["broken.yaml"].status == "invalid"
    assert "functions: List should have at least 1 item" in by["broken.yaml"].reason
    stored = json.loads((out / "small.json").read_text())
    assert stored["input_hash"] == input_hash(inputs / "small.yaml")
    assert stored["status"] == "optimal" and stored["objective"] == pytest.approx(339_500)
    assert json.loads((out / "group.json").read_text())["value_of_coordination"]["value"] == pytest.approx(11_500)
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert {r["status"] for r in rows} == {"optimal", "infeasible", "invalid"} and len(rows) == 4

    # a re-run skips everything; a changed input is solved again; --force solves all
    again = run_batch([inputs, company / "group.yaml"], out=out, executor="serial")
    assert all(r.skipped for r in again.results)
    (inputs / "small.yaml").write_text(SMALL.read_text().replace("operating: 1150000", "operating: 1140000"))
    changed = run_batch([inputs, company / "group.yaml"], out=out, executor="serial")
    assert [Path(r.input).name for r in changed.results if not r.skipped] == ["small.yaml"]
    forced = run_batch([inputs], out=out, executor="serial", force=True)
    assert not any(r.skipped for r in forced.results) and len(forced.results) == 3


def test_ctrl_c_keeps_finished_results(tmp_path):
    inputs = tmp_path / "in"
    inputs.mkdir()
    for i in range(3):
        shutil.copy(SMALL, inputs / f"s{i}.yaml")

    def interrupt(result):
        raise KeyboardInterrupt

    run = run_batch([inputs], out=tmp_path / "out", executor="serial", on_result=interrupt)
    assert run.interrupted and len(run.results) == 1
    assert sorted(p.name for p in (tmp_path / "out").iterdir()) == ["s0.json", "summary.csv"]
    assert len(list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))) == 1


def test_local_processes_default_and_cli(tmp_path):
    from typer.testing import CliRunner

    from outopt.cli import app

    inputs = tmp_path / "in"
    inputs.mkdir()
    shutil.copy(SMALL, inputs / "a.yaml")
    (inputs / "bad.json").write_text("{")
    # no --scheduler: the default local worker processes (a LocalCluster started and stopped by the run)
    r = CliRunner().invoke(app, ["batch", str(inputs), "--out", str(tmp_path / "out"), "--workers", "1"])
    assert r.exit_code == 1, r.output  # one input failed
    assert "1 done, 1 failed, 0 remaining" in r.output
    assert "batch summary" in r.output and "invalid" in r.output and "339,500" in r.output
    assert json.loads((tmp_path / "out" / "a.json").read_text())["status"] == "optimal"
    bad = CliRunner().invoke(app, ["batch", str(inputs), "--scheduler", "localhost:1"])
    assert bad.exit_code == 2 and "tcp://HOST:PORT" in bad.output


def test_an_input_that_always_kills_its_worker_fails_alone():
    """A poison input (its task ends the worker process every time, as a segfault would) becomes that
    input's failure after Dask's allowed retries on restarted workers; every other input is solved."""
    import dask

    from outopt.batch import execute, prepare, solve_payload

    def task(kind, data, time_limit, gap):
        if data["name"] == "poison":
            os._exit(1)
        return solve_payload(kind, data, time_limit, gap)

    instances = variants(4)
    instances.insert(2, instances[0].replace(name="poison"))
    expected = {i.name: outopt.solve(i).objective for i in instances if i.name != "poison"}
    with dask.config.set({"distributed.scheduler.allowed-failures": 0}):
        results = list(execute([prepare(i) for i in instances], executor="processes", workers=2, task=task))
    by = {r.name: r for r in results}
    assert set(by) == set(expected) | {"poison"}
    assert by["poison"].status == "error" and "worker crashed while solving it (KilledWorker)" in by["poison"].reason
    for name, objective in expected.items():
        assert by[name].status == "optimal" and by[name].objective == pytest.approx(objective), by[name].reason


def test_small_inputs_travel_in_chunks_large_ones_alone():
    from outopt.batch import CHUNK_OFFERS, Job, _chunks

    def job(i, offers):
        return Job(input=f"i{i}", name=f"i{i}", kind="instance", data={"offers": [{}] * offers})

    jobs = [job(i, 30) for i in range(100)] + [job(100, CHUNK_OFFERS + 1)] + [job(101 + i, 30) for i in range(8)]
    chunks = _chunks(jobs, threads=2)
    assert [j for c in chunks for j in c] == jobs  # every input once, in order
    assert max(len(c) for c in chunks) == len(jobs) // 8  # a quarter of an even share per thread
    assert [jobs[100]] in chunks  # a large input alone
    assert all(sum(len(j.data["offers"]) for j in c) <= CHUNK_OFFERS for c in chunks if len(c) > 1)
    assert len(_chunks(jobs[:5], threads=2)) == 5  # a short batch: one input a task
