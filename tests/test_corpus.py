"""Hostile and broken input: every file of tests/corpus/ is refused quickly, in bounded memory,
with the exact problems listed in tests/corpus/expected.yaml, exit code 2 and no traceback;
nothing in a file is ever executed. Files too big or too odd to commit are made here."""

import os
import subprocess
import sys
import time
import tracemalloc
from pathlib import Path

import pytest
import yaml
from typer.testing import CliRunner

import outopt
from outopt.cli import app
from outopt.instance.io.limits import MB, ReadLimits, nesting_depth

CORPUS = Path(__file__).parent / "corpus"
EXPECTED = yaml.safe_load((CORPUS / "expected.yaml").read_text())
FILES = sorted(p.name for p in CORPUS.iterdir() if p.name != "expected.yaml")
SECONDS = 5.0  # "quickly": each file is refused well within this on a loaded 2-core machine
PEAK_MB = 50  # "bounded memory": the Python heap never grows more than this while refusing


def refuse(path: Path, limits: ReadLimits | None = None) -> tuple[list[str], float, float]:
    """Load a file that must be refused: (problems as printed, seconds, peak MB of new allocations)."""
    tracemalloc.start()
    tracemalloc.reset_peak()
    t0 = time.perf_counter()
    try:
        with pytest.raises(outopt.InputError) as info:
            outopt.load(path, limits=limits)
        seconds = time.perf_counter() - t0
        peak = tracemalloc.get_traced_memory()[1] / MB
    finally:
        tracemalloc.stop()
    assert info.value.source == str(path)
    assert str(info.value).splitlines() == [f"{path}: {p}" for p in info.value.problems]
    return [str(p) for p in info.value.problems], seconds, peak


def test_the_table_lists_every_corpus_file():
    assert sorted(EXPECTED) == FILES
    assert all(set(entry) == {"what", "problems"} and entry["problems"] for entry in EXPECTED.values())


@pytest.mark.parametrize("name", FILES)
def test_corpus_file_is_refused_with_its_exact_message(name, tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)  # a payload that ran (echo/touch outopt-pwned) would leave a file here
    problems, seconds, peak = refuse(CORPUS / name)
    assert problems == EXPECTED[name]["problems"]
    assert seconds < SECONDS
    assert peak < PEAK_MB
    assert list(tmp_path.iterdir()) == []


@pytest.mark.parametrize("name", FILES)
def test_cli_prints_each_problem_and_exits_2(name):
    for command in ("validate", "solve"):
        result = CliRunner().invoke(app, [command, str(CORPUS / name)])
        assert result.exit_code == 2, result.output
        lines = result.stderr.splitlines()
        n = len(EXPECTED[name]["problems"])
        assert lines[0] == f"error: {CORPUS / name}: {n} problem{'s' if n > 1 else ''} found"
        assert lines[1:] == [f"  {CORPUS / name}: {p}" for p in EXPECTED[name]["problems"]]
        assert result.stdout == ""
        assert not isinstance(result.exception, Exception) or isinstance(result.exception, SystemExit)


def cap_memory(megabytes: int = 1024):
    """For subprocess preexec_fn: cap the child's address space, so a file that blew up memory would fail."""
    import resource

    def apply():
        resource.setrlimit(resource.RLIMIT_AS, (megabytes * MB, megabytes * MB))
    return apply


def run_cli(*args, env=None, cwd=None, timeout=60, memory_mb=None):
    return subprocess.run([sys.executable, "-m", "outopt", *map(str, args)], capture_output=True, text=True,
                          timeout=timeout, env={**os.environ, **(env or {})}, cwd=cwd,
                          preexec_fn=cap_memory(memory_mb) if memory_mb else None)


@pytest.mark.parametrize("name", ["alias_bomb.yaml", "python_apply.yaml", "deep.json"])
def test_hostile_files_in_a_real_process(name, tmp_path):
    """The command itself, memory capped at 1 GB of address space: refused in seconds, exit 2, nothing run."""
    t0 = time.perf_counter()
    r = run_cli("validate", CORPUS / name, cwd=tmp_path, memory_mb=1024)
    assert r.returncode == 2, r.stderr
    assert time.perf_counter() - t0 < 20  # includes starting Python and importing Pyomo
    assert r.stderr.splitlines()[1:] == [f"  {CORPUS / name}: {p}" for p in EXPECTED[name]["problems"]]
    assert "Traceback" not in r.stderr
    assert list(tmp_path.iterdir()) == []


def big_json(path: Path, megabytes: int) -> Path:
    """A well-formed instance file of about this size (one function, many offers), written in 1 MB blocks."""
    row = b'{"function": "f0", "vendor": "v", "cost": 1, "value": 0, "transition": 0, "load": 0},\n'
    block = row * (MB // len(row))
    with open(path, "wb") as handle:
        handle.write(b'{"name": "Big", "functions": [{"id": "f0", "inhouse": {"cost": 1}}], "vendors": [{"id": "v"}],\n'
                     b'"offers": [\n')
        for _ in range(megabytes):
            handle.write(block)
        handle.write(row.rstrip(b",\n") + b"]}\n")
    return path


def test_100_mb_file_is_refused_before_reading(tmp_path):
    path = big_json(tmp_path / "huge.json", 100)
    problems, seconds, peak = refuse(path)
    assert problems == [
        f"file is {path.stat().st_size / MB:.1f} MB, above the 50.0 MB limit; "
        "set OUTOPT_MAX_FILE_MB (in MB) to read larger files"
    ]
    assert seconds < 1 and peak < 1
    r = CliRunner().invoke(app, ["solve", str(path)])
    assert r.exit_code == 2 and "above the 50.0 MB limit" in r.stderr


def test_size_limit_is_settable(tmp_path, monkeypatch):
    path = big_json(tmp_path / "two_mb.json", 2)
    size = path.stat().st_size / MB
    monkeypatch.setenv("OUTOPT_MAX_FILE_MB", "1.5")
    assert refuse(path)[0] == [f"file is {size:.1f} MB, above the 1.5 MB limit; "
                               "set OUTOPT_MAX_FILE_MB (in MB) to read larger files"]
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 2 and "above the 1.5 MB limit" in r.stderr
    # an explicit limit wins over the environment; this one lets the file through to validation
    with pytest.raises(outopt.InputError) as info:
        outopt.load(path, limits=ReadLimits(max_bytes=3 * MB))
    assert str(info.value.problems[0]) == (
        "offers[1]: duplicate offer for function 'f0' and vendor 'v' (also offers[0]); keep one offer per pair"
    )


def test_depth_and_node_limits_are_settable(tmp_path, monkeypatch):
    path = tmp_path / "x.yaml"
    path.write_text("name: X\nfunctions:\n  - {id: a, inhouse: {cost: 1, uses: {}}}\n")
    assert outopt.load(path).name == "X"  # 5 levels deep, 14 nodes
    monkeypatch.setenv("OUTOPT_MAX_DEPTH", "4")
    assert refuse(path)[0] == [
        "line 3, column 38: lists and mappings nest deeper than 4 levels; an instance needs about 5 "
        "(set OUTOPT_MAX_DEPTH to allow more)"
    ]
    monkeypatch.delenv("OUTOPT_MAX_DEPTH")
    assert refuse(path, ReadLimits(max_nodes=13))[0] == [  # at the node that crosses the limit
        "line 3, column 38: the document expands to more than 13 nodes (aliases counted at every use: "
        "an alias bomb?); set OUTOPT_MAX_YAML_NODES to allow more"
    ]
    monkeypatch.setenv("OUTOPT_MAX_YAML_NODES", "14")
    assert outopt.load(path).name == "X"


# The pure-Python parser (used only where PyYAML lacks libyaml) words two errors differently.
PURE_PYTHON_WORDING = {
    "deep.yaml": ["line 2, column 61: lists and mappings nest deeper than 50 levels; an instance needs about 5 "
                  "(set OUTOPT_MAX_DEPTH to allow more)"],
    "malformed.yaml": ["line 5, column 7: invalid YAML: expected ',' or '}', but got ':'"],
}


@pytest.mark.parametrize("name", [n for n in FILES if n.endswith(".yaml")])
def test_pure_python_yaml_fallback_refuses_the_same(name, monkeypatch):
    from outopt.instance.io import text

    monkeypatch.setattr(text, "LOADER", text.GuardedLoader)
    problems, _, _ = refuse(CORPUS / name)  # not timed: the pure-Python scanner is slower, and unused here
    assert problems == PURE_PYTHON_WORDING.get(name, EXPECTED[name]["problems"])


@pytest.mark.parametrize("value", ["lots", "0", "-5", "inf"])
def test_bad_limit_settings_are_usage_errors(tmp_path, monkeypatch, value):
    path = tmp_path / "x.yaml"
    path.write_text("name: X\nfunctions: [{id: a, inhouse: {cost: 1}}]\n")
    monkeypatch.setenv("OUTOPT_MAX_FILE_MB", value)
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 2
    assert f"environment: OUTOPT_MAX_FILE_MB: must be a number of at least 1, got '{value}'" in r.stderr


def test_devices_and_pipes_are_refused_without_reading(tmp_path):
    zero = tmp_path / "zero.yaml"
    zero.symlink_to("/dev/zero")  # endless: reading it would never finish
    pipe = tmp_path / "pipe.json"
    os.mkfifo(pipe)  # opening it would block until a writer comes
    for path in (zero, pipe):
        problems, seconds, _ = refuse(path)
        assert problems == ["is not a regular file (a device, pipe or socket)"]
        assert seconds < 1


@pytest.mark.skipif(not Path("/proc/cpuinfo").exists(), reason="needs Linux /proc")
def test_reading_stops_at_the_limit_even_when_the_size_lies(tmp_path):
    """/proc files report size 0 (as a file growing under us would pass the size check): the read itself is capped."""
    path = tmp_path / "cpu.yaml"
    path.symlink_to("/proc/cpuinfo")
    problems, _, _ = refuse(path, ReadLimits(max_bytes=100))
    assert problems == ["file is more than 100 bytes, above the 100 bytes limit; "
                        "set OUTOPT_MAX_FILE_MB (in MB) to read larger files"]


def test_byte_order_mark_is_accepted(tmp_path):
    path = tmp_path / "bom.json"
    path.write_bytes(b'\xef\xbb\xbf{"name": "X", "functions": [{"id": "a", "inhouse": {"cost": 1}}]}')
    assert outopt.load(path).name == "X"


def test_yaml_merge_keys_and_aliases_still_work(tmp_path):
    path = tmp_path / "anchors.yaml"
    path.write_text(
        "name: X\nresources: [{id: staff, capacity: 3}]\n"
        "functions:\n"
        "  - {id: a, inhouse: &std {cost: 10, uses: {staff: 1}}}\n"
        "  - {id: b, inhouse: *std}\n"
        "  - {id: c, inhouse: {<<: *std, cost: 20}}\n"
    )
    inst = outopt.load(path)
    assert [f.inhouse.cost for f in inst.functions] == [10, 10, 20]
    assert inst.functions[2].inhouse.uses == {"staff": 1}


def test_json_depth_is_measured_without_recursion():
    deep: list = []
    node = deep
    for _ in range(100_000):
        node.append([])
        node = node[0]
    assert nesting_depth(deep) == 100_001
    assert nesting_depth({"a": [1, {"b": 2}]}) == 3


@pytest.mark.parametrize("enabled", [True, False])
def test_reading_leaves_the_garbage_collector_as_it_was(enabled, tmp_path):
    """Reading pauses Python's collector (a large file reads about twice as fast) and restores it, also on errors."""
    import gc

    path = tmp_path / "broken.json"
    path.write_text('{"name": "x", "functions": []}')
    was = gc.isenabled()
    try:
        gc.enable() if enabled else gc.disable()
        outopt.load(Path(__file__).parents[1] / "instances" / "small_business.yaml")
        assert gc.isenabled() is enabled
        with pytest.raises(outopt.InputError):
            outopt.load(path)
        assert gc.isenabled() is enabled
    finally:
        gc.enable() if was else gc.disable()
