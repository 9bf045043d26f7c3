"""A planner's session of the command line (the manual's "Command line" page) on every example instance:
each command runs and answers in its documented terms, with no refusal (issue 15). Company files get
the same session in the companies' tests."""

import json

import pytest
from conftest import INSTANCES
from typer.testing import CliRunner

from outopt.cli import app

EXAMPLES = ["small_business.yaml", "midsize.yaml", "infeasible.yaml"]
FEASIBLE = {"small_business.yaml": True, "midsize.yaml": True, "infeasible.yaml": False}


def outopt(*args) -> tuple[int, str]:
    r = CliRunner().invoke(app, [str(a) for a in args])
    assert "Traceback" not in r.output and "internal error" not in r.output, r.output
    return r.exit_code, r.output


@pytest.mark.parametrize("example", EXAMPLES)
def test_every_command_on_every_example(example, tmp_path):
    path, plan = INSTANCES / example, FEASIBLE[example]
    code, text = outopt("validate", path)
    assert code == 0 and "valid (" in text
    code, text = outopt("solve", path, "--time-limit", "20", "--json", tmp_path / "plan.json",
                        "--out", tmp_path / "report.html")
    assert code == (0 if plan else 3)
    assert json.loads((tmp_path / "plan.json").read_text())["status"] == ("optimal" if plan else "infeasible")
    assert (tmp_path / "report.html").stat().st_size > 1000
    code, text = outopt("explain", path, "--time-limit", "1.5", "--threads", "1")
    assert code == (0 if plan else 3) and ("Limits:" in text if plan else "outopt diagnose" in text)
    code, text = outopt("diagnose", path, "--time-limit", "10")
    assert code == (0 if plan else 3)
    for target in ("copy.xlsx", "copy", "copy.json"):  # workbook, CSV folder, JSON, from the one before
        code, text = outopt("convert", path, tmp_path / target)
        assert code == 0, text
        path = tmp_path / target
    scenarios = tmp_path / "s.yaml"
    scenarios.write_text("scenarios:\n  tighter:\n    budget.operating: '*0.95'\n")
    code, text = outopt("compare", path, "--scenarios", scenarios, "--time-limit", "10")
    assert code == 0 and "tighter" in text
    code, text = outopt("frontier", path, "--param", "budget.operating", "--from", "1", "--to", "9000000",
                        "--steps", "2", "--time-limit", "2", "--csv", tmp_path / "f.csv", "--plot", tmp_path / "f.png")
    assert code in (0, 3, 4) and (tmp_path / "f.png").exists() and "breakpoint" in text
    code, text = outopt("pareto", path, "--points", "2", "--time-limit", "1.5")
    assert code == (0 if plan else 3) or code == 4


def test_the_commands_that_need_no_instance(tmp_path):
    code, text = outopt("template", tmp_path / "t.xlsx")
    assert code == 0 and (tmp_path / "t.xlsx").exists()
    code, text = outopt("schema")
    assert code == 0 and json.loads(text)["title"] == "Instance"
    code, text = outopt("generate", tmp_path / "g.json", "--size", "30x4", "--rules")
    assert code == 0 and text.startswith(f"{tmp_path / 'g.json'}: 30 functions, 4 vendors")
    code, text = outopt("--version")
    assert code == 0 and text.startswith("outopt ")
