"""Independent re-solves on copies of one session's HiGHS model, in worker threads (Session.solve_variants):
each answer equals the serial re-solve of the same change and is checked against brute-force enumeration,
it does not depend on the number of workers, and a passed deadline returns every job as "timeout"."""

import math
import time

import pytest
from bruteforce import feasible_plans
from conftest import INSTANCES

import outopt
from outopt.analysis._session import Job, Session
from outopt.solver import build


@pytest.fixture(scope="module")
def small():
    inst = outopt.load(INSTANCES / "small_business.yaml")
    return inst, list(feasible_plans(inst))


def _jobs(model):
    """Every offer forced on, and every function forced out of in-house."""
    m, data = model.pyomo, model.data
    jobs = [(f"{f}->{v}", Job(bounds=((m.outsource[f, v], 1.0, 1.0),))) for f, v in data.pairs]
    for f in data.functions:
        xs = tuple(m.outsource[p] for p in data.pairs_of_function[f])
        if xs:
            jobs.append((f"{f} out", Job(rows=((1.0, math.inf, xs, (1.0,) * len(xs)),))))
    return jobs


def test_each_variant_is_the_enumerated_optimum_of_its_change(small):
    inst, plans = small
    model = build(inst)
    session = Session(model, fixed_as_bounds=True)
    named = _jobs(model)
    found = session.solve_variants([job for _, job in named], workers=2)
    assert session.solves == len(named)
    for (name, _), (status, objective, plan) in zip(named, found):
        if "->" in name:
            f, v = name.split("->")
            fits = [obj for obj, p in plans if p[f] == v]
        else:
            f = name.split()[0]
            fits = [obj for obj, p in plans if p[f] != "inhouse"]
        if not fits:
            assert status == "infeasible", name
            continue
        assert status == "optimal", name
        assert objective == pytest.approx(max(fits)), name
        assert outopt.verify(inst, plan).objective == pytest.approx(max(fits)), name
        assert (plan[f] == v) if "->" in name else (plan[f] != "inhouse"), name


def test_variants_do_not_depend_on_workers_and_leave_the_model_unchanged(small):
    inst, plans = small
    model = build(inst)
    session = Session(model, fixed_as_bounds=True)
    jobs = [job for _, job in _jobs(model)]
    one = session.solve_variants(jobs, workers=1)
    two = session.solve_variants(jobs, workers=2)
    assert [(s, round(o, 6) if o is not None else None, p) for s, o, p in one] == \
           [(s, round(o, 6) if o is not None else None, p) for s, o, p in two]
    # the session's own model is untouched: a plain re-solve is the unconstrained optimum
    status, objective = session.solve()
    assert status == "optimal" and objective == pytest.approx(max(obj for obj, _ in plans))


def test_a_passed_deadline_returns_every_variant_as_timeout(small):
    inst, _ = small
    model = build(inst)
    session = Session(model, fixed_as_bounds=True, deadline=time.perf_counter() - 1.0)
    jobs = [job for _, job in _jobs(model)]
    assert session.solve_variants(jobs) == [("timeout", None, None)] * len(jobs)
