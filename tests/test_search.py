"""The search for large models (src/outopt/solver/search.py): every plan it keeps passes the verifier, it
never returns a worse plan than its start, its bound is valid (never below an enumerated optimum), and
the time limit holds on a 100 x 1000 facility-location instance."""

import time
from pathlib import Path

import pytest
from bruteforce import best
from conftest import make
from hypothesis import HealthCheck, given, settings
from strategies import FUZZ, examples, instances

import outopt
from outopt.instance.generate import generate
from outopt.model.data import compile_data
from outopt.solver.direct import DirectModel
from outopt.solver.heuristic import starting_plan
from outopt.solver.options import SolveOptions
from outopt.solver.search import search

SSCFLP = Path(__file__).resolve().parents[2] / "shared" / "sscflp"
if not SSCFLP.exists():
    SSCFLP = Path("/work/shared/sscflp")


def searched(instance, seconds: float, start=None):
    """The search run on a whole instance (whatever its size), from ``start``."""
    model = DirectModel(instance, compile_data(instance))
    model.hand_off()
    t0 = time.perf_counter()
    return search(model, SolveOptions(threads=1), t0 + seconds, t0, start)


def facility(costs, loads, caps, fixed) -> outopt.Instance:
    """A small facility-location instance: functions that must be outsourced, vendors with retainers."""
    n, m = len(loads), len(caps)
    return make(functions=[{"id": f"c{i}"} for i in range(n)],
                vendors=[{"id": f"f{j}", "retainer": fixed[j], "capacity": caps[j]} for j in range(m)],
                offers=[{"function": f"c{i}", "vendor": f"f{j}", "cost": costs[j][i], "load": loads[i]}
                        for j in range(m) for i in range(n)])


def test_a_small_facility_instance_reaches_the_enumerated_optimum_with_a_valid_bound():
    inst = facility(costs=[[4, 9, 3, 8, 6], [7, 2, 8, 3, 5], [5, 6, 6, 4, 2]], loads=[3, 4, 2, 5, 3],
                    caps=[9, 10, 8], fixed=[6, 7, 5])
    optimum, _ = best(inst)
    sol = searched(inst, 5.0)
    assert sol.objective == pytest.approx(optimum)
    assert outopt.verify(inst, sol.plan).feasible
    assert sol.bound >= optimum - 1e-6


@settings(max_examples=examples(20), deadline=None, derandomize=not FUZZ,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=instances(functions=(2, 5), vendors=(1, 3), planted=True))
def test_random_instances_plans_verified_never_worse_than_the_start_and_bound_valid(case):
    inst, plan = case
    optimum, _ = best(inst)
    sol = searched(inst, 2.0, start=plan)
    start = outopt.verify(inst, plan).objective
    assert sol.plan is not None and outopt.verify(inst, sol.plan).feasible
    assert sol.objective == pytest.approx(outopt.verify(inst, sol.plan).objective)
    assert sol.objective >= start - 1e-6 * max(1.0, abs(start))
    assert sol.objective <= optimum + 1e-6 * max(1.0, abs(optimum))
    assert sol.bound is None or sol.bound >= optimum - 1e-6 * max(1.0, abs(optimum))


def test_a_generated_hard_instance_keeps_its_start_or_better():
    inst = generate(300, 12, "hard", seed=2)
    start = starting_plan(compile_data(inst), 2.0)
    assert start is not None
    sol = searched(inst, 4.0, start=start)
    assert sol.objective >= outopt.verify(inst, start).objective - 1e-6
    assert sol.bound >= sol.objective - 1e-6


@pytest.mark.skipif(not SSCFLP.exists(), reason="the shared SSCFLP files are not on this machine")
def test_the_time_limit_holds_on_a_100_by_1000_instance():
    from outopt.instance.orlib import sscflp_instance

    inst = sscflp_instance(SSCFLP / "orlib" / "capa1.gz", "A")
    t0 = time.perf_counter()
    sol = outopt.solve(inst, options=SolveOptions(time_limit=12, threads=1))
    elapsed = time.perf_counter() - t0
    assert elapsed <= 12 * 1.1 + 2.0
    assert sol.status == outopt.Status.FEASIBLE and sol.bound is not None and sol.bound >= sol.objective
    assert outopt.verify(inst, sol.plan).feasible
