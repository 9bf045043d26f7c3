"""The README and the manual (docs/) show what outopt does: every Python example runs, every interactive
session (``pycon``) and every command with its output (``console``) shows what it prints today, the YAML
example is a valid instance, and the manual builds with MkDocs, warnings as errors.

A ``console`` block's lines are compared after taking out table borders, run times and spaces; a line
``...`` stands for any lines, so a page may show part of a long output."""

import doctest
import os
import re
import shlex
import subprocess
import sys
from pathlib import Path

import pytest
import yaml
from conftest import ROOT

from outopt.instance.validation import instance_from_data

PAGES = [ROOT / "README.md", *sorted((ROOT / "docs").rglob("*.md"))]


def blocks(path: Path, lang: str) -> list[tuple[int, str]]:
    """(line number, text) of each fenced block of ``lang`` in a page."""
    text = path.read_text()
    return [(text[:m.start()].count("\n") + 2, m.group(1))
            for m in re.finditer(rf"^```{lang}\n(.*?)^```", text, flags=re.S | re.M)]


def name(path: Path) -> str:
    return str(path.relative_to(ROOT))


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "python")], ids=name)
def test_python_blocks_run(page, monkeypatch):
    monkeypatch.chdir(ROOT)
    namespace: dict = {}
    for line, code in blocks(page, "python"):
        exec(compile("\n" * (line - 1) + code, str(page), "exec"), namespace)


@pytest.mark.parametrize("page", [p for p in PAGES if blocks(p, "pycon")], ids=name)
def test_sessions_show_what_they_print(page, monkeypatch):
    monkeypatch.chdir(ROOT)
    runner = doctest.DocTestRunner(optionflags=doctest.ELLIPSIS | doctest.NORMALIZE_WHITESPACE)
    namespace: dict = {}
    for line, session in blocks(page, "pycon"):
        test = doctest.DocTestParser().get_doctest(session, namespace, name(page), str(page), line - 1)
        runner.run(test, clear_globs=False)
        namespace.update(test.globs)  # the page's sessions go on from each other
    assert runner.summarize(verbose=False).failed == 0


BORDERS = re.compile("[┏┓┗┛┃━┳┻╋┡┩╇╈│─┌┐└┘├┤┬┴┼]")


def norm(line: str) -> str:
    line = BORDERS.sub(" ", line)
    line = re.sub(r"\b\d+\.\d+s\b", "<t>s", line)
    return " ".join(line.split())


def shows(expected: list[str], actual: list[str]) -> str | None:
    """None when the expected lines appear in order in the actual ones (``...``: any lines between), else the
    first line that does not."""
    actual = [a for a in map(norm, actual) if a]
    at, free = 0, False
    for line in filter(None, map(norm, expected)):
        if line == "...":
            free = True
            continue
        if free:
            found = next((k for k in range(at, len(actual)) if actual[k] == line), None)
        else:
            found = at if at < len(actual) and actual[at] == line else None
        if found is None:
            return line
        at, free = found + 1, False
    return None


def sessions() -> list[tuple[str, str, list[str]]]:
    out = []
    for page in PAGES:
        for line, block in blocks(page, "console"):
            command, shown = None, []
            for row in block.splitlines() + ["$"]:
                if row.startswith("$"):
                    if command:
                        out.append((f"{name(page)}:{line}", command, shown))
                    command, shown = row[1:].strip(), []
                else:
                    shown.append(row)
    return out


@pytest.mark.parametrize("where, command, shown", sessions(), ids=[s[0] for s in sessions()])
def test_commands_show_what_they_print(where, command, shown):
    args = shlex.split(command)
    assert args[0] == "outopt", f"{where}: a session runs outopt"
    env = {k: v for k, v in os.environ.items() if k != "COLUMNS"}  # tables as wide as a pipe's default, 120
    r = subprocess.run([sys.executable, "-m", "outopt", *args[1:]], capture_output=True, text=True, cwd=ROOT,
                       env=env, timeout=120)
    assert r.returncode in (0, 3), f"{where}: {command} exited {r.returncode}: {r.stderr}"
    missing = shows(shown, (r.stdout + r.stderr).splitlines())
    assert missing is None, f"{where}: `{command}` does not print {missing!r}; it prints:\n{r.stdout}{r.stderr}"


def test_the_readme_shows_an_example_whole():
    """The README's example is its output exactly (times aside), not a part of it."""
    (where, command, shown), = [s for s in sessions() if s[0].startswith("README.md")]
    assert command == "outopt solve instances/small_business.yaml" and "..." not in shown
    assert [line for line in shown if line.strip()][-1].startswith("status: optimal")


def test_format_example_is_valid():
    (example,) = [b for p in PAGES for _, b in blocks(p, "yaml") if b.startswith("name: BrightPath")]
    data = yaml.safe_load(example)
    # the page shows one function of each kind; add the ones its rules name
    for fid in ("collections", "payables", "expenses"):
        data["functions"].append({"id": fid, "inhouse": {"cost": 1}})
    assert instance_from_data(data).name == "BrightPath Ltd"


def test_the_manual_builds_with_warnings_as_errors(tmp_path):
    env = {**os.environ, "NO_MKDOCS_2_WARNING": "1", "DISABLE_MKDOCS_2_WARNING": "true"}
    r = subprocess.run([sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(tmp_path / "site")],
                       capture_output=True, text=True, cwd=ROOT, env=env, timeout=300)
    assert r.returncode == 0, r.stdout[-3000:] + r.stderr[-3000:]
    site = tmp_path / "site"
    cli = (site / "reference" / "cli" / "index.html").read_text()
    assert "outopt frontier" in cli and "--time-limit" in cli and "Seconds for the whole run." in cli
    schema = (site / "reference" / "format" / "index.html").read_text()
    assert "max_share" in schema and "Max recurring cost per year" in schema
    api = (site / "reference" / "api" / "index.html").read_text()
    assert "replace" in api and "A copy with fields changed, validated as a file is" in api
    assert (site / "formulation" / "portfolio" / "index.html").exists() and (site / "report.png").exists() and (site / "workbench.png").exists()
    home = (site / "index.html").read_text()
    assert "Three commands" in home and "workbench.png" in home and 'href="guide/format/"' in home
