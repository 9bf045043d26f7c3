"""The live line of long commands (issue 15): on a terminal, what is being done, the time, the best plan,
bound and gap of a solve or the questions and points done of how many, and what Ctrl-C does; never in
``--json -`` output nor when stderr is not a terminal. The analyses report the same through ``progress=``."""

import re

import pytest
from conftest import INSTANCES, run_cli
from conftest import on_terminal as terminal
from hard import packing_with_status_quo
from rich.console import Console

import outopt
from outopt.report.live import CTRL_C_SOLVE, LiveLine
from outopt.solver.options import Progress

SMALL = INSTANCES / "small_business.yaml"
MIDSIZE = INSTANCES / "midsize.yaml"


def on_terminal(*args) -> tuple[int, str]:
    return terminal(*args, env={"COLUMNS": "200", "LINES": "50"})


@pytest.fixture(scope="module")
def hard(tmp_path_factory):
    """A plan at once (the status quo), its proof never within the test's time limit."""
    path = tmp_path_factory.mktemp("live") / "hard.json"
    outopt.save(packing_with_status_quo(), path)
    return path


def test_a_solve_on_a_terminal_shows_its_progress_and_what_ctrl_c_does(hard):
    code, shown = on_terminal("solve", hard, "--time-limit", "2", "--threads", "1")
    assert code == 0, shown
    assert "solve: reading" in shown and "solve: solving" in shown
    assert "best plan " in shown and "bound " in shown and "gap " in shown
    assert f"({CTRL_C_SOLVE})" in shown
    assert "status: " in shown  # then the report, on the same terminal


def test_no_live_line_in_json_output_or_when_stderr_is_not_a_terminal(hard):
    code, shown = on_terminal("solve", hard, "--time-limit", "1", "--threads", "1", "--json", "-")
    assert code == 0 and CTRL_C_SOLVE not in shown and "solve:" not in shown
    assert shown.lstrip().startswith("{")
    piped = run_cli("solve", hard, "--time-limit", "1", "--threads", "1")
    assert piped.returncode == 0 and "status: feasible" in piped.stdout
    assert CTRL_C_SOLVE not in piped.stderr + piped.stdout and "\x1b" not in piped.stderr


def test_explain_and_frontier_on_a_terminal_count_questions_and_points(tmp_path):
    code, shown = on_terminal("explain", MIDSIZE, "--time-limit", "5", "--threads", "1")
    assert code == 0, shown
    assert re.search(r"explain: (limits|break-even costs|regrets)  \d+s  \d+ of \d+", shown), shown
    assert "explain: solving the instance" in shown and "(Ctrl-C stops)" in shown
    code, shown = on_terminal("frontier", MIDSIZE, "--param", "budget.transition", "--from", "500000",
                              "--to", "700000", "--steps", "5", "--time-limit", "2.5")
    assert code == 0, shown
    assert re.search(r"frontier: grid points  \d+s  \d of 5", shown), shown
    assert "(Ctrl-C stops and keeps what was found)" in shown


def test_the_line_reads_as_a_sentence():
    line = LiveLine(Console(), "solve", CTRL_C_SOLVE, show=False)
    line.currency = "USD"
    line.update(Progress("solving", 12.0, objective=4_028_631, bound=4_100_000))
    text = line.render().plain
    assert text[2:].startswith("solve: solving  0s  best plan 4,028,631 USD  bound 4,100,000 USD  gap 1.77%")
    assert text.endswith(f"({CTRL_C_SOLVE})")
    line.update(Progress("break-even costs", 3.0, done=40, total=66))
    assert "explain" not in line.render().plain and "break-even costs  0s  40 of 66" in line.render().plain
    line.update(Progress("breakpoints: walking down, at 31,000", 3.0, done=14))
    assert "at 31,000  0s  14 done" in line.render().plain


# --- the analyses' progress callbacks ------------------------------------------------------------------


def test_analyses_report_questions_and_points_done_of_how_many(small):
    seen = []
    ex = outopt.explain(small, progress=seen.append)
    phases = {p.phase: p for p in seen}
    assert list(phases) == ["solving the instance", "limits", "break-even costs", "regrets"]
    for name, count in (("limits", len(ex.limits)), ("break-even costs", 7), ("regrets", 7)):
        assert (phases[name].done, phases[name].total) == (count, count)  # the last report: all done
    assert all(p.done <= p.total for p in seen if p.total is not None)

    seen.clear()
    front = outopt.frontier(small, "budget.transition", 20_000, 60_000, steps=5, progress=seen.append)
    grid = [p for p in seen if p.phase == "grid points"]
    assert [p.done for p in grid] == [0, 1, 2, 3, 4, 5] and {p.total for p in grid} == {5}
    walk = [p for p in seen if p.phase.startswith("breakpoints: walking down, at ")]
    assert walk and walk[-1].done == len(front.points) and all(p.total is None for p in walk)

    seen.clear()
    scenarios = outopt.compare(small, {"cut": {"budget.operating": "*0.95"}, "same": {}}, progress=seen.append)
    assert [(p.phase, p.done, p.total) for p in seen] == [
        ("solving the base", 0, 3), ("solving scenario cut", 1, 3), ("solving scenario same", 2, 3), ("done", 3, 3)]
    assert list(scenarios["scenario"]) == ["base", "cut", "same"]
