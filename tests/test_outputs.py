"""Files outopt writes are never lost, mixed up or written over its own input (issue 19).

Batch results each get their own file and are reused only for the same question; an output never
replaces the input it came from; a folder of CSV files is replaced whole or not at all; a failed
write is that input's failure, not the batch's; files get the mode a normal write would give.
"""

import csv
import json
import os
import shutil
import stat
from pathlib import Path

import pytest
from conftest import INSTANCES, make
from hypothesis import given, settings
from hypothesis import strategies as st
from strategies import examples
from typer.testing import CliRunner

import outopt
from outopt import batch as batch_module
from outopt.batch import find_inputs, result_names, run_batch
from outopt.cli import app
from outopt.instance.io.atomic import atomic_write_text

SMALL = INSTANCES / "small_business.yaml"
runner = CliRunner()


def invoke(*args):
    return runner.invoke(app, [str(a) for a in args])


@pytest.fixture
def serial(monkeypatch):
    """`outopt batch` in this process, one input after another (no worker processes to start)."""
    import outopt.batch

    # the command imports run_batch when it runs: patched where it lives
    monkeypatch.setattr(outopt.batch, "run_batch", lambda *a, **k: run_batch(*a, **{**k, "executor": "serial"}))


# --- batch result names ---------------------------------------------------------------------------


def test_inputs_that_shared_a_result_file_each_get_their_own(tmp_path):
    """x.yaml and x.json, or a/b.yaml and b4__a__b.yaml, were written to one result file: summary.csv
    had 5 rows for 3 files, and every re-run solved them again."""
    root = tmp_path / "in"
    (root / "a").mkdir(parents=True)
    shutil.copy(SMALL, root / "x.yaml")
    outopt.save(outopt.load(INSTANCES / "infeasible.yaml"), root / "x.json")
    shutil.copy(SMALL, root / "a" / "b.yaml")
    shutil.copy(INSTANCES / "infeasible.yaml", root / "b4__a__b.yaml")
    out = tmp_path / "out"
    run = run_batch([root, root / "x.yaml"], out=out, executor="serial")
    assert len(run.results) == 4 and len({r.output for r in run.results}) == 4
    by = {Path(r.input).name: json.loads(Path(r.output).read_text()) for r in run.results}
    assert by["x.yaml"]["status"] == "optimal" and by["x.json"]["status"] == "infeasible"
    assert by["b.yaml"]["status"] == "optimal" and by["b4__a__b.yaml"]["status"] == "infeasible"
    rows = list(csv.DictReader((out / "summary.csv").open()))
    assert len(rows) == 4
    again = run_batch([root], out=out, executor="serial")
    assert len(again.results) == 4 and all(r.skipped for r in again.results)


names = st.text(alphabet="aAbB_.-4x", min_size=1, max_size=6).filter(lambda s: s.strip(".") == s)


@settings(max_examples=examples(60), deadline=None)
@given(st.lists(st.tuples(st.lists(names, max_size=3), names, st.sampled_from([".yaml", ".yml", ".json", ".YAML"])),
                min_size=1, max_size=12))
def test_random_trees_never_share_a_result_file(tree):
    paths = [Path("/data", *folders, stem + ext) for folders, stem, ext in tree]
    named = result_names(paths)
    unique = list(dict.fromkeys(paths))
    assert set(named) == set(unique)
    folded = [n.casefold() for n in named.values()]
    assert len(set(folded)) == len(folded)  # distinct even on a case-insensitive file system
    assert all(len((n + ".json").encode()) <= 255 and "/" not in n for n in named.values())
    assert result_names(list(reversed(unique))) == named  # the order of the inputs changes nothing


def test_a_long_input_name_gets_a_result_file(tmp_path):
    long = tmp_path / ("é" * 125 + ".yaml")  # 250 bytes: the result's name would pass 255
    shutil.copy(SMALL, long)
    run = run_batch([long], out=tmp_path / "out", executor="serial")
    (r,) = run.results
    assert r.status == "optimal" and Path(r.output).is_file()


# --- reuse only for the same question --------------------------------------------------------------


def test_a_result_is_reused_only_for_the_same_question(tmp_path):
    out = tmp_path / "out"
    first = run_batch([SMALL], out=out, executor="serial", time_limit=3)
    (r,) = first.results
    assert r.status == "optimal"
    # a proven optimum answers the same question under any time limit
    assert run_batch([SMALL], out=out, executor="serial", time_limit=600).results[0].skipped
    # a plan stopped by the time limit does not answer a run with more time
    stored = json.loads(Path(r.output).read_text())
    stored.update(status="feasible", gap=0.61)
    Path(r.output).write_text(json.dumps(stored))
    assert run_batch([SMALL], out=out, executor="serial", time_limit=3).results[0].skipped
    again = run_batch([SMALL], out=out, executor="serial", time_limit=600).results[0]
    assert not again.skipped and again.status == "optimal"
    # another gap is another question
    assert not run_batch([SMALL], out=out, executor="serial", time_limit=600, gap=0.05).results[0].skipped


def test_a_result_from_before_questions_were_stored_is_not_reused(tmp_path):
    out = tmp_path / "out"
    (r,) = run_batch([SMALL], out=out, executor="serial").results
    stored = json.loads(Path(r.output).read_text())
    del stored["question"]
    Path(r.output).write_text(json.dumps(stored))
    assert not run_batch([SMALL], out=out, executor="serial").results[0].skipped


# --- what batch finds, skips and says -------------------------------------------------------------


def test_batch_into_its_own_input_folder_says_so_and_exits_2(tmp_path, serial, monkeypatch):
    monkeypatch.chdir(tmp_path)
    Path("same").mkdir()
    shutil.copy(SMALL, "same/a.yaml")
    r = invoke("batch", "same", "--out", "same")
    assert r.exit_code == 2, r.output
    assert "ignored 1 file inside the --out folder same (results are written there, not read)" in r.output
    assert "error: no input to run" in r.output


def test_special_files_and_scenarios_are_named_with_the_reason(tmp_path, serial, monkeypatch):
    monkeypatch.chdir(tmp_path)
    folder = Path("in")
    folder.mkdir()
    shutil.copy(SMALL, folder / "a.yaml")
    shutil.copy(INSTANCES / "scenarios" / "small_business.scenarios.yaml", folder / "s.scenarios.yaml")
    os.mkfifo(folder / "pipe.yaml")
    (folder / "gone.yaml").symlink_to(tmp_path / "nowhere.yaml")
    r = invoke("batch", folder, "--out", "out")
    assert r.exit_code == 0, r.output  # every instance has a plan; the rest is said, not failed
    assert "ignored in/gone.yaml: a link to a file that does not exist" in r.output
    assert "ignored in/pipe.yaml: not a regular file (a device, pipe or socket)" in r.output
    assert "ignored in/s.scenarios.yaml: a scenario file (for `outopt compare`), not an instance" in r.output
    rows = {row["input"]: row for row in csv.DictReader(open("out/summary.csv"))}
    assert rows["in/a.yaml"]["status"] == "optimal"
    assert rows["in/pipe.yaml"]["status"] == "ignored" and "not a regular file" in rows["in/pipe.yaml"]["reason"]


def test_a_folder_with_nothing_to_run_exits_2(tmp_path, serial):
    (tmp_path / "empty").mkdir()
    r = invoke("batch", tmp_path / "empty")
    assert r.exit_code == 2 and "error: no input to run" in r.output


def test_inputs_named_twice_are_run_once(tmp_path):
    shutil.copy(SMALL, tmp_path / "a.yaml")
    files, _ = find_inputs([tmp_path, tmp_path / "a.yaml", tmp_path / "." / "a.yaml"])
    assert files == [tmp_path / "a.yaml"]


# --- write failures are one input's failure ---------------------------------------------------------


def test_a_write_failure_fails_that_input_only(tmp_path, monkeypatch):
    folder = tmp_path / "in"
    folder.mkdir()
    for name in ("a", "b", "c"):
        shutil.copy(SMALL, folder / f"{name}.yaml")
    real = batch_module.atomic_write_text

    def full_disk_for_b(path, text):
        if Path(path).name.startswith("b"):
            raise OSError(28, "No space left on device")
        real(path, text)

    monkeypatch.setattr(batch_module, "atomic_write_text", full_disk_for_b)
    run = run_batch([folder], out=tmp_path / "out", executor="serial")
    by = {Path(r.input).stem: r for r in run.results}
    assert by["a"].status == by["c"].status == "optimal" and Path(by["a"].output).is_file()
    assert by["b"].status == "error" and by["b"].output is None
    assert by["b"].reason == f"the result could not be written to {tmp_path / 'out' / 'b.json'}: No space left on device"
    rows = list(csv.DictReader((tmp_path / "out" / "summary.csv").open()))
    assert [r["status"] for r in rows] == ["optimal", "error", "optimal"]


def test_an_unwritable_summary_is_reported_and_results_kept(tmp_path, serial, monkeypatch):
    real = batch_module.atomic_write_text

    def no_summary(path, text):
        if Path(path).name == "summary.csv":
            raise OSError(30, "Read-only file system")
        real(path, text)

    monkeypatch.setattr(batch_module, "atomic_write_text", no_summary)
    r = invoke("batch", SMALL, "--out", tmp_path / "out")
    assert r.exit_code == 1
    assert f"error: cannot write {tmp_path / 'out' / 'summary.csv'}: Read-only file system" in r.output
    assert json.loads((tmp_path / "out" / "small_business.json").read_text())["status"] == "optimal"


def test_out_that_is_a_file_is_refused(tmp_path, serial):
    (tmp_path / "out").write_text("notes")
    r = invoke("batch", SMALL, "--out", tmp_path / "out")
    assert r.exit_code == 2 and f"--out {tmp_path / 'out'} is a file, not a folder" in r.output
    assert (tmp_path / "out").read_text() == "notes"


# --- never over the input --------------------------------------------------------------------------


@pytest.mark.parametrize("ext", [".json", ".xlsx"])
@pytest.mark.parametrize("option", ["--out", "--json"])
def test_an_output_over_its_own_input_is_refused(tmp_path, ext, option):
    if option == "--json" and ext == ".xlsx":
        pytest.skip("--json writes JSON")
    path = tmp_path / f"acme{ext}"
    outopt.save(outopt.load(SMALL), path)
    before = path.read_bytes()
    r = invoke("solve", path, option, path)
    assert r.exit_code == 2, r.output
    assert r.output == f"error: {option} {path} is the input file; write the results somewhere else\n"
    assert path.read_bytes() == before


def test_results_inside_a_csv_folder_input_are_refused(tmp_path):
    folder = tmp_path / "cf"
    outopt.save(outopt.load(SMALL), folder)
    for args in (["solve", folder, "--out", folder / "results.csv"], ["explain", folder, "--json", folder / "x.json"],
                 ["frontier", folder, "--param", "budget.operating", "--from", "1", "--to", "2",
                  "--csv", folder / "f.csv"], ["convert", folder, folder / "copy.yaml"]):
        r = invoke(*args)
        assert r.exit_code == 2, (args, r.output)
        assert "is inside the input folder" in r.output
    assert sorted(p.name for p in folder.iterdir()) == sorted(
        p.name for p in folder.iterdir() if p.suffix == ".csv") and outopt.load(folder) == outopt.load(SMALL)


def test_results_over_a_division_file_are_refused(tmp_path):
    shutil.copytree(INSTANCES / "company", tmp_path / "company")
    group = tmp_path / "company" / "group.yaml"
    r = invoke("solve", group, "--json", tmp_path / "company" / "retail.yaml")
    assert r.exit_code == 2 and "is an input file" in r.output


# --- template and convert ----------------------------------------------------------------------------


def test_template_does_not_overwrite_a_filled_workbook(tmp_path):
    filled = tmp_path / "filled.xlsx"
    outopt.save(outopt.load(SMALL), filled)
    before = filled.read_bytes()
    r = invoke("template", filled)
    assert r.exit_code == 2
    assert r.output == f"error: {filled} exists; use --force to replace it with an empty template\n"
    assert filled.read_bytes() == before
    assert invoke("template", filled, "--force").exit_code == 0
    assert filled.read_bytes() != before


def test_convert_into_a_csv_folder_is_whole_or_nothing(tmp_path, monkeypatch):
    folder = tmp_path / "cf"
    rich = outopt.load(INSTANCES / "midsize.yaml")
    outopt.save(rich, folder)
    (folder / "notes.txt").write_text("keep me")
    before = {p.name: p.read_bytes() for p in folder.iterdir()}
    calls = []
    real = os.replace

    def disk_full_on_third(src, dst):
        calls.append(dst)
        if len(calls) == 3:
            raise OSError(28, "No space left on device")
        real(src, dst)

    monkeypatch.setattr(os, "replace", disk_full_on_third)
    r = invoke("convert", SMALL, folder)
    assert r.exit_code == 2, r.output
    assert r.output.startswith(f"error: cannot write {folder}")
    monkeypatch.undo()
    assert {p.name: p.read_bytes() for p in folder.iterdir()} == before  # untouched
    assert sorted(p.name for p in tmp_path.iterdir()) == ["cf"]  # no temporary folder left
    assert invoke("convert", SMALL, folder).exit_code == 0
    assert outopt.load(folder) == outopt.load(SMALL)  # no table left over from the midsize instance
    assert (folder / "notes.txt").read_text() == "keep me"


@pytest.mark.parametrize("command", ["convert", "template", "frontier-csv", "frontier-plot"])
def test_ordinary_write_errors_say_what_failed(tmp_path, command):
    target = tmp_path / "no" / "such" / "folder"
    target.parent.parent.write_text("a file where a folder should be")
    args = {"convert": ["convert", SMALL, target / "x.json"],
            "template": ["template", target / "t.xlsx"],
            "frontier-csv": ["frontier", SMALL, "--param", "rules.max_vendors", "--from", "2", "--to", "3",
                             "--csv", target / "f.csv"],
            "frontier-plot": ["frontier", SMALL, "--param", "rules.max_vendors", "--from", "2", "--to", "3",
                              "--plot", target / "f.png"]}[command]
    r = invoke(*args)
    assert r.exit_code == 2, r.output
    assert "internal error" not in r.output
    assert f"error: cannot write {args[-1]}: Not a directory" in r.output


def test_an_unreachable_scheduler_is_said_plainly(tmp_path, monkeypatch):
    monkeypatch.setattr(batch_module, "CONNECT_TIMEOUT", "1s")  # (20 s by default)
    r = invoke("batch", SMALL, "--scheduler", "tcp://127.0.0.1:9")
    assert r.exit_code == 1, r.output
    assert "internal error" not in r.output
    assert "error: cannot reach the Dask scheduler at tcp://127.0.0.1:9" in r.output


# --- file modes --------------------------------------------------------------------------------------


@pytest.mark.parametrize("umask,mode", [(0o022, 0o644), (0o077, 0o600), (0o002, 0o664)])
def test_new_files_get_the_mode_of_a_normal_write(tmp_path, umask, mode):
    old = os.umask(umask)
    try:
        atomic_write_text(tmp_path / "new.json", "{}")
        r = invoke("solve", SMALL, "--out", tmp_path / "r.xlsx")
        assert r.exit_code == 0
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "new.json").stat().st_mode) == mode
    assert stat.S_IMODE((tmp_path / "r.xlsx").stat().st_mode) == mode


def test_an_existing_file_keeps_its_mode(tmp_path):
    target = tmp_path / "shared.html"
    target.write_text("old")
    os.chmod(target, 0o664)
    old = os.umask(0o077)
    try:
        atomic_write_text(target, "new")
    finally:
        os.umask(old)
    assert stat.S_IMODE(target.stat().st_mode) == 0o664 and target.read_text() == "new"


def test_a_converted_csv_folder_gets_normal_modes(tmp_path):
    old = os.umask(0o022)
    try:
        outopt.save(make(functions=[{"id": "f", "inhouse": {"cost": 1}}]), tmp_path / "cf")
    finally:
        os.umask(old)
    assert stat.S_IMODE((tmp_path / "cf").stat().st_mode) == 0o755
    assert {stat.S_IMODE(p.stat().st_mode) for p in (tmp_path / "cf").iterdir()} == {0o644}
