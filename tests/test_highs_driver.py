"""The HiGHS driver: the starting plan reaches HiGHS, the time limit is enforced from inside HiGHS
(its interrupt callbacks check the deadline), a change of ``threads`` between solves works, and a
solver failure is an error, never a ``timeout``."""

import os
import time

import highspy
import pytest
from conftest import INSTANCES

import outopt
import outopt.solver.direct
import outopt.solver.highs
import outopt.solver.pipeline
from outopt.errors import SolverError
from outopt.instance.generate import generate
from outopt.model.data import compile_data
from outopt.model.portfolio import build_model


def within(elapsed: float, limit: float) -> bool:
    return elapsed <= limit * 1.1 + 2.0


def prepared(instance):
    data = compile_data(instance)
    model = outopt.solver.Model(instance, data, build_model(data, sparse_shares=True), 0.0)
    model.hand_off()
    return model


def test_starting_plan_survives_pyomo_update_and_reaches_highs():
    """Pyomo's automatic update before a run used to discard the plan given to setSolution,
    so HiGHS started without it (its log had no 'MIP start solution')."""
    inst = outopt.load(INSTANCES / "small_business.yaml")
    start = outopt.solve(inst).plan
    assert outopt.verify(inst, start).feasible
    model = prepared(inst)
    model.solve(start=start)
    log = model._solver._last_results_object.solver_log
    assert "MIP start solution is feasible" in log, log[:2000]


def test_sparse_share_rows_hold_no_row_of_every_offer():
    """Share rows go through one spend variable per vendor: the total-spend row holds those and T,
    each share row S[v] and T, each spend row one vendor's offers (a row of every offer made HiGHS's
    root rounding overrun the time limit, see test_time_limit). Same optimum as the dense rows, and
    S[v] is the verifier's spend with v."""
    from pyomo.core.expr.visitor import identify_variables

    inst = generate(60, 6, "hard", seed=0)
    model = prepared(inst)
    m = model.pyomo
    size = lambda con: len(list(identify_variables(con.body)))  # noqa: E731
    assert len(m.VP) == 6 and size(m.total_spend_def) == 7
    assert list(m.VS) and all(size(m.max_share[v]) == 2 for v in m.VS)
    for v in m.VP:
        assert size(m.spend_def[v]) == 1 + len([p for p in m.A if p[1] == v]) + (v in m.VE)
    sparse = model.solve(threads=1)
    dense = outopt.build(inst, reduce=False).solve(threads=1)
    assert sparse.status == dense.status == outopt.Status.OPTIMAL
    assert sparse.objective == pytest.approx(dense.objective)
    spend = outopt.verify(inst, sparse.plan).spend
    assert any(spend.values())
    for v in m.VP:
        assert m.spend[v].value == pytest.approx(spend.get(v, 0.0), abs=1e-4)


def test_highs_stops_at_the_deadline_on_a_hard_instance():
    """HiGHS's run alone (model built before the clock starts) ends within the limit + 10 % (or 2 s):
    the MIP interrupt callback checks the deadline itself."""
    inst = generate(600, 30, "hard", seed=1)
    model = prepared(inst)
    limit = 4.0
    t0 = time.perf_counter()
    sol = model.solve(time_limit=limit, threads=1)
    elapsed = time.perf_counter() - t0
    assert within(elapsed, limit), elapsed
    assert sol.status in (outopt.Status.FEASIBLE, outopt.Status.TIMEOUT), sol.status  # not proven in 4 s
    if sol.plan is not None:
        check = outopt.verify(inst, sol.plan)
        assert check.feasible and sol.objective == pytest.approx(check.objective)


def test_a_solve_with_another_thread_count_works():
    """HiGHS keeps one task scheduler per process; a later solve with a different non-zero
    ``threads`` used to fail inside HiGHS and came back as 'timeout'."""
    inst = outopt.load(INSTANCES / "small_business.yaml")
    first = outopt.solve(inst, threads=2)
    second = outopt.solve(inst, threads=1)
    third = outopt.solve(inst)
    for sol in (first, second, third):
        assert sol.status == outopt.Status.OPTIMAL
        assert sol.objective == pytest.approx(339500.0)


def test_analyses_and_sub_mips_run_after_a_solve_with_another_thread_count():
    """The analyses' HiGHS session and the search's sub-MIPs (one thread each) came back as 'timeout' in
    0.03 s after any solve with threads=2 in the same process (seen as a flaky Ctrl-C test)."""
    import numpy as np

    from outopt.analysis._session import Session
    from outopt.solver.search import run

    inst = outopt.load(INSTANCES / "small_business.yaml")
    outopt.solve(inst, threads=2)
    session = Session(outopt.build(inst), threads=1)
    assert session.solve() == ("optimal", pytest.approx(339500.0))
    outopt.solve(inst, threads=2)
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("threads", 1)
    lp = highspy.HighsLp()  # max x + y, x + y <= 1.5, x, y binary: 1
    lp.num_col_, lp.num_row_ = 2, 1
    lp.col_cost_, lp.col_lower_, lp.col_upper_ = np.array([-1.0, -1.0]), np.zeros(2), np.ones(2)
    lp.row_lower_, lp.row_upper_ = np.array([-highspy.kHighsInf]), np.array([1.5])
    lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_ = [0, 1, 2], [0, 0], [1.0, 1.0]
    lp.integrality_ = [highspy.HighsVarType.kInteger] * 2
    h.passModel(lp)
    assert run(h, 5.0) is False
    assert h.getModelStatus() == highspy.HighsModelStatus.kOptimal and h.getInfo().objective_function_value == -1.0


def test_a_highs_failure_raises_instead_of_timeout(monkeypatch):
    """Fault injection: the scheduler is not restarted for another thread count, so HiGHS
    refuses to run (model status kNotset): the driver raises SolverError."""
    inst = outopt.load(INSTANCES / "small_business.yaml")
    outopt.solve(inst, threads=2)
    monkeypatch.setattr(outopt.solver.highs, "use_threads", lambda threads: None)
    model = outopt.solver.build(inst)
    with pytest.raises(SolverError, match="kNotset"):
        model.solve(threads=1)
    highspy.Highs.resetGlobalScheduler(True)  # leave a clean scheduler for later tests
    outopt.solver.highs.SCHEDULER["threads"] = None


def test_a_model_solved_with_threads_re_solves_after_another_thread_count():
    """A re-solve without ``threads`` keeps the HiGHS object's earlier setting; it still works after
    another model changed the process's thread count."""
    inst = outopt.load(INSTANCES / "small_business.yaml")
    model = outopt.solver.build(inst)
    assert model.solve(threads=2).status == outopt.Status.OPTIMAL
    assert outopt.solve(inst, threads=1).status == outopt.Status.OPTIMAL
    again = model.solve()
    assert again.status == outopt.Status.OPTIMAL and again.objective == pytest.approx(339500.0)


def test_a_solve_in_the_child_process_matches_the_in_process_solve(monkeypatch):
    """The child path (large models with a time limit) returns the same optimum, also after a solve
    with another thread count left HiGHS worker threads in this process, and hands errors back."""
    inst = outopt.load(INSTANCES / "small_business.yaml")
    outopt.solve(inst, threads=2)  # a HiGHS scheduler with a worker thread, which the child lacks
    monkeypatch.setattr(outopt.solver.pipeline, "CHILD_MIN_COLUMNS", 0)
    for threads in (1, 2, None):
        sol = outopt.solve(inst, time_limit=30, threads=threads)
        assert sol.status == outopt.Status.OPTIMAL and sol.message == ""
        assert sol.objective == pytest.approx(339500.0) and sol.bound == pytest.approx(339500.0)
        assert outopt.verify(inst, sol.plan).feasible

    def fails(self, *args, **kw):
        raise SolverError(f"HiGHS stopped with model status kNotset (injected in process {os.getpid()})")

    monkeypatch.setattr(outopt.solver.direct.DirectModel, "solve", fails)
    with pytest.raises(SolverError, match="injected in process") as err:
        outopt.solve(inst, time_limit=30)
    assert str(os.getpid()) not in str(err.value)  # raised in the child, handed to the caller
