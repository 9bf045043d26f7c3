"""A planner's session on company files: every command of the README's "Command line" section that reads a
file, with every option that writes an output, run on every company file in instances/company/. None is refused ("unknown field", "for instance files"); each writes what it says.
(`batch` takes company files since it exists; tests/test_batch.py runs one through a Dask cluster.)"""

import re

import pytest
from conftest import INSTANCES, ROOT
from typer.testing import CliRunner

from outopt.cli import app

FILES = sorted(f for f in (INSTANCES / "company").glob("*.yaml") if "\ndivisions:" in f.read_text())
"""The company files (the others there are their divisions' instance files, which every command reads)."""
SCENARIOS = """scenarios:
  tighter:
    budget.operating: 450000
  nimbus_exits:
    remove: [vendors.nimbus]
"""


def command_lines() -> list[str]:
    """The commands of the manual's command line page (docs/guide/cli.md, its first code block)."""
    section = (ROOT / "docs" / "guide" / "cli.md").read_text()
    block = section.split("```text\n", 1)[1].split("```", 1)[0]
    return [line.split()[1] for line in block.splitlines() if line.startswith("outopt ")]


def invocation(command: str, file, tmp) -> list[str] | None:
    """The command on ``file`` with its outputs in ``tmp`` (None: the command reads no input file)."""
    out = {
        "solve": ["--json", tmp / "plan.json", "--out", tmp / "report.html", "--time-limit", "60", "--threads", "1"],
        "validate": [],
        "explain": ["--json", tmp / "why.json", "--out", tmp / "why.xlsx", "--threads", "1"],
        "diagnose": ["--json", tmp / "diagnosis.json"],
        "convert": [tmp / "converted.xlsx"],
        "compare": ["--scenarios", tmp / "s.yaml", "--json", tmp / "compare.json"],
        "frontier": ["--param", "budget.operating", "--from", "380000", "--to", "520000", "--steps", "3",
                     "--plot", tmp / "frontier.svg", "--csv", tmp / "frontier.csv", "--json", tmp / "frontier.json",
                     "--out", tmp / "frontier.html"],
        "pareto": ["--points", "3", "--plot", tmp / "pareto.svg", "--json", tmp / "pareto.json"],
    }
    if command not in out:
        return None
    return [command, str(file), *map(str, out[command])]


@pytest.mark.parametrize("file", FILES, ids=[f.stem for f in FILES])
def test_every_command_line_command_takes_the_company_files(tmp_path, file):
    assert FILES
    commands = command_lines()
    assert {"solve", "explain", "diagnose", "convert", "compare", "frontier", "pareto"} <= set(commands)
    (tmp_path / "s.yaml").write_text(SCENARIOS)
    runner = CliRunner()
    ran = []
    for command in commands:
        args = invocation(command, file, tmp_path)
        if args is None:
            continue
        r = runner.invoke(app, args)
        text = r.output + (r.stderr if r.stderr_bytes is not None else "")
        assert "unknown field" not in text and "for instance files" not in text, (args, text)
        assert r.exit_code == 0, (args, text)
        ran.append(command)
    assert ran == [c for c in commands if c in ("solve", "validate", "explain", "diagnose", "convert", "compare",
                                                "frontier", "pareto")]
    for name in ("plan.json", "report.html", "why.json", "why.xlsx", "diagnosis.json", "converted.xlsx",
                 "compare.json", "frontier.svg", "frontier.csv", "frontier.json", "frontier.html", "pareto.svg",
                 "pareto.json"):
        assert (tmp_path / name).stat().st_size > 0, name
    report = (tmp_path / "report.html").read_text()
    assert re.search(r"<h2 id='division-0'>Division: .+</h2>", report)
