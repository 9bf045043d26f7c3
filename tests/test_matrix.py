"""The matrix form (src/outopt/model/matrix.py) is the Pyomo model (the definition) row for row:
same columns (bounds, integrality, objective), same rows (coefficients, bounds) under the same names,
on the examples and on random instances with every term of the format."""

import math

import highspy
import pyomo.environ as pyo
from conftest import INSTANCES
from hypothesis import HealthCheck, given, settings
from strategies import FUZZ, examples, instances

import outopt
from outopt.model.data import compile_data
from outopt.model.matrix import build_matrix
from outopt.model.portfolio import build_model
from outopt.solver.highs import stdout_to_stderr


def _key(component) -> str:
    index = component.index()
    if index is None:
        return component.parent_component().local_name
    parts = index if isinstance(index, tuple) else (index,)
    return f"{component.parent_component().local_name}[{','.join(map(str, parts))}]"


def _canonical(coefs: dict[str, float], lower: float, upper: float):
    """A row up to its sign: the first coefficient (by column name) positive."""
    coefs = {k: v for k, v in coefs.items() if v}
    if not coefs:  # a row of constants: only whether it holds matters
        holds = float(lower <= 1e-9 and upper >= -1e-9)
        return {}, holds, holds
    if coefs[min(coefs)] < 0:
        return {k: -v for k, v in coefs.items()}, -upper, -lower
    return coefs, lower, upper


def pyomo_form(instance):
    """Columns and rows of the Pyomo model as HiGHS receives them through Pyomo's interface."""
    from pyomo.contrib.solver.solvers.highs import Highs

    data = compile_data(instance)
    model = build_model(data, sparse_shares=True)
    with stdout_to_stderr():
        solver = Highs()
        solver.set_instance(model)
    highs = solver._solver_model
    lp = highs.getLp()
    col_name = {}
    for var in model.component_data_objects(pyo.Var):
        j = solver._pyomo_var_to_solver_var_map.get(id(var))
        if j is not None:
            col_name[j] = _key(var)
    integer = list(lp.integrality_) or [highspy.HighsVarType.kContinuous] * lp.num_col_
    cols = {col_name[j]: (lp.col_lower_[j], lp.col_upper_[j], integer[j] != highspy.HighsVarType.kContinuous,
                          lp.col_cost_[j]) for j in range(lp.num_col_)}
    rows = {}
    starts, index, value = lp.a_matrix_.start_, lp.a_matrix_.index_, lp.a_matrix_.value_
    by_row: dict[int, dict[str, float]] = {i: {} for i in range(lp.num_row_)}
    rowwise = lp.a_matrix_.format_ == highspy.MatrixFormat.kRowwise
    for outer in range(len(starts) - 1):
        for k in range(starts[outer], starts[outer + 1]):
            i, j = (outer, index[k]) if rowwise else (index[k], outer)
            by_row[i][col_name[j]] = value[k]
    for con, i in solver._pyomo_con_to_solver_con_map.items():
        rows[_key(con)] = _canonical(by_row[i], lp.row_lower_[i], lp.row_upper_[i])
    return cols, rows, lp.offset_


def matrix_form(instance):
    mx = build_matrix(compile_data(instance))
    cols = {mx.col_names[j]: (mx.col_lower[j], mx.col_upper[j], mx.integer[j], mx.cost[j]) for j in range(mx.num_col)}
    rows = {}
    for i in range(mx.num_row):
        coefs = {}
        for k in range(mx.start[i], mx.start[i + 1]):
            coefs[mx.col_names[mx.index[k]]] = coefs.get(mx.col_names[mx.index[k]], 0.0) + mx.value[k]
        rows[mx.row_names[i]] = _canonical(coefs, mx.row_lower[i], mx.row_upper[i])
    return cols, rows, mx.offset


def close(a: float, b: float) -> bool:
    if math.isinf(a) or math.isinf(b):
        return a == b or (math.isinf(a) and math.isinf(b) and abs(max(abs(a), abs(b))) >= 1e20
                          and (a > 0) == (b > 0))
    return abs(a - b) <= 1e-9 * max(1.0, abs(a), abs(b))


def assert_same(instance):
    p_cols, p_rows, p_offset = pyomo_form(instance)
    m_cols, m_rows, m_offset = matrix_form(instance)
    assert set(m_cols) == set(p_cols)
    for name, (lo, up, integer, cost) in p_cols.items():
        m = m_cols[name]
        assert close(lo, m[0]) and close(up, m[1]) and integer == m[2] and close(cost, m[3]), (name, p_cols[name], m)
    assert close(p_offset, m_offset)
    assert set(m_rows) == set(p_rows), set(m_rows) ^ set(p_rows)
    for name, (coefs, lo, up) in p_rows.items():
        m_coefs, m_lo, m_up = m_rows[name]
        assert set(coefs) == set(m_coefs), (name, coefs, m_coefs)
        assert all(close(coefs[k], m_coefs[k]) for k in coefs), (name, coefs, m_coefs)
        assert close(lo, m_lo) and close(up, m_up), (name, (lo, up), (m_lo, m_up))


def test_examples_have_the_same_rows():
    for path in sorted(INSTANCES.glob("*.yaml")):
        assert_same(outopt.load(path))


def test_generated_instances_with_rules_have_the_same_rows():
    for profile in ("easy", "hard"):
        assert_same(outopt.generate(60, 6, profile, seed=3, rules=True))


@settings(max_examples=examples(40), deadline=None, derandomize=not FUZZ,
          suppress_health_check=[HealthCheck.too_slow])
@given(case=instances(functions=(1, 6), vendors=(1, 4), resources=(0, 2)))
def test_random_instances_with_every_term_have_the_same_rows(case):
    assert_same(case[0])
