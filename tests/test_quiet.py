"""No noise: HiGHS's banner and console warnings never reach stdout or stderr (issue 15), unless asked
with ``--verbose``."""

import subprocess
import sys

from conftest import INSTANCES, ROOT, run_cli

import outopt

SMALL = INSTANCES / "small_business.yaml"


def test_no_highs_banner_at_the_first_api_solve():
    code = ("import outopt\n"
            "inst = outopt.load('instances/small_business.yaml')\n"
            "outopt.build(inst).solve()\n"
            "outopt.solve(inst, time_limit=30)\n")
    r = subprocess.run([sys.executable, "-c", code], cwd=ROOT, capture_output=True, text=True, timeout=120)
    assert (r.returncode, r.stdout, r.stderr) == (0, "", "")


def test_a_time_limited_solve_prints_the_plan_and_nothing_on_stderr():
    r = run_cli("solve", SMALL, "--time-limit", "30")
    assert r.returncode == 0 and "339,500" in r.stdout
    assert r.stderr == ""


def test_pareto_updates_print_no_highs_warnings(capfd):
    # every risk 0: the risk row's coefficients (r - eps) become 0 as eps reaches 0, which HiGHS warned
    # about once per coefficient and update (`pareto instances/midsize.yaml`: 306 lines)
    inst = outopt.load(SMALL)
    riskless = inst.replace(vendors=[{**v.model_dump(), "risk": None} for v in inst.vendors])
    result = outopt.pareto(riskless, points=3)
    assert [p.risk for p in result.plans] == [0.0]
    out, err = capfd.readouterr()
    assert (out, err) == ("", "")
