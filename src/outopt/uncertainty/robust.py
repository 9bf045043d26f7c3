"""The scenario model: the plan with the best mean, CVaR or mix of the two of its net benefit over scenarios.

Sample-average approximation over the ``n`` scenarios of :mod:`outopt.uncertainty.samples`, built once from
the deterministic model's matrix form (:mod:`outopt.model.matrix`): its columns and rows (every rule
at the planning values) stay as they are, and each scenario adds a block of rows, with its own amounts:

* its operating and transition budget rows (every budget holds in every scenario);
* for a measure with CVaR, Rockafellar and Uryasev's linearisation: a column ``u_s >= 0`` and the row
  ``z_s + u_s - eta >= 0``, where ``z_s`` is the plan's net benefit in scenario ``s``; then
  ``eta - sum_s u_s / (alpha n)`` is at most the CVaR at level ``alpha`` (the mean of the worst
  ``alpha n`` scenarios), with equality at the best ``eta``.

The objective is ``(1 - lambda) mean_s z_s + lambda (eta - sum_s u_s / (alpha n))``: ``mean``
(``lambda = 0``), ``cvar:alpha`` (``lambda = 1``) or ``mean-cvar:alpha:lambda``. Ties: for ``cvar``,
a second run keeps the CVaR found (within 1e-6 of it, relative) and maximises the mean among the plans
that reach it; any plan that ties on both may be returned. Soft rules with priority levels are
honoured first, level by level, as :func:`outopt.solve` does.

Terms the scenario rows cannot hold linearly are refused when the amounts they apply to vary (the
instance is then evaluated exactly by ``outopt risk``): volume discounts and bundle prices of a vendor
whose offer costs vary, and soft budgets, shares and minimum spends. Other limits (shares, minimum
spend, capacities) hold at the planning values. The plan found is checked by the independent
verifier at the planning values and in every scenario (:mod:`outopt.uncertainty.check`).
"""

from __future__ import annotations

import math
import time
from dataclasses import dataclass

import numpy as np

from outopt.errors import InputError, Problem, SolverError
from outopt.instance.schema import INHOUSE, Instance
from outopt.model.data import PortfolioData, compile_data
from outopt.model.matrix import Matrix, build_matrix
from outopt.solver.direct import Run, run_highs
from outopt.solver.highs import stdout_to_stderr
from outopt.solver.options import SolveOptions
from outopt.uncertainty.evaluate import cvar, money_soft_rules
from outopt.uncertainty.samples import Place, Samples

INF = float("inf")
TIE = 1e-6
"""Relative tolerance of the CVaR kept when the second run maximises the mean."""


@dataclass(frozen=True)
class Measure:
    """What the scenario model maximises: ``(1 - weight) mean + weight CVaR_alpha``."""

    text: str
    alpha: float | None
    weight: float

    @classmethod
    def parse(cls, text: str) -> Measure:
        """``mean``, ``cvar:ALPHA`` or ``mean-cvar:ALPHA:LAMBDA`` (ALPHA in (0, 1], LAMBDA in [0, 1])."""
        parts = str(text).strip().lower().split(":")
        usage = "use mean, cvar:ALPHA (e.g. cvar:0.1) or mean-cvar:ALPHA:LAMBDA (e.g. mean-cvar:0.1:0.5)"
        try:
            if parts == ["mean"]:
                return cls("mean", None, 0.0)
            if parts[0] == "cvar" and len(parts) == 2:
                alpha, weight = float(parts[1]), 1.0
            elif parts[0] == "mean-cvar" and len(parts) == 3:
                alpha, weight = float(parts[1]), float(parts[2])
            else:
                raise ValueError
        except ValueError:
            raise InputError([Problem("--robust", f"'{text}' is not a measure; {usage}")]) from None
        if not 0 < alpha <= 1 or not math.isfinite(alpha):
            raise InputError([Problem("--robust", f"the CVaR level must be in (0, 1], got {parts[1]}")])
        if not 0 <= weight <= 1:
            raise InputError([Problem("--robust", f"the weight of the CVaR must be in [0, 1], got {parts[2]}")])
        canonical = f"cvar:{alpha:g}" if parts[0] == "cvar" else f"mean-cvar:{alpha:g}:{weight:g}"
        return cls(canonical, alpha, weight)

    def value(self, z: np.ndarray) -> float:
        """The measure of a plan's net benefit over the scenarios ``z``."""
        mean = float(np.mean(z))
        return mean if not self.weight else (1 - self.weight) * mean + self.weight * cvar(z, self.alpha)


def unsupported(instance: Instance, varying: list[Place]) -> list[Problem]:
    """What the scenario model cannot hold for these varying amounts (empty: it can be built)."""
    if not varying:
        return []
    problems = []
    why = "; `outopt risk` evaluates such plans exactly"
    shifted = {instance.offers[p.row].vendor for p in varying if p.table == "offers" and p.field == "cost"}
    for j, v in enumerate(instance.vendors):
        if v.id in shifted and v.discounts:
            problems.append(Problem(f"vendors[{j}].discounts", f"the volume discounts of '{v.id}' apply to offer "
                                    "costs that vary; the scenario model does not hold a discount tier per scenario"
                                    + why))
        if v.id in shifted and v.bundles:
            problems.append(Problem(f"vendors[{j}].bundles", f"the bundle prices of '{v.id}' apply to offer costs "
                                    "that vary; the scenario model does not hold bundle savings per scenario" + why))
    for name in instance.budget.soft:
        if getattr(instance.budget, name) is not None:
            problems.append(Problem(f"budget.soft.{name}", "a soft budget is not held per scenario by the scenario "
                                    "model; make it hard (every budget then holds in every scenario)" + why))
    if money_soft_rules(instance):
        problems.append(Problem("", "soft shares and minimum spends are not held per scenario by the scenario model"
                                + why))
    return problems


@dataclass
class ScenarioModel:
    """The scenario model's columns and rows (numpy), and where its parts are."""

    data: PortfolioData
    base: Matrix
    measure: Measure
    n: int
    col_lower: np.ndarray
    col_upper: np.ndarray
    integer: np.ndarray
    start: np.ndarray
    index: np.ndarray
    value: np.ndarray
    row_lower: np.ndarray
    row_upper: np.ndarray
    mean_cost: np.ndarray  # objective of the mean net benefit over the scenarios (maximised)
    mean_offset: float
    cost: np.ndarray  # the measure's objective
    offset: float
    eta: int | None = None  # CVaR columns (None for the mean)
    u: np.ndarray | None = None

    @property
    def num_col(self) -> int:
        return len(self.col_lower)


class _Deltas:
    """The scenarios' changes, per column of the offers (x) and vendors (y), to the net benefit and budgets."""

    def __init__(self, instance: Instance, data: PortfolioData, mx: Matrix, samples: Samples):
        n = samples.n
        H = instance.horizon
        varying = samples.varying()
        col = {p: j for j, p in enumerate(varying)}
        fi = {f.id: i for i, f in enumerate(instance.functions)}
        vi = {v.id: j for j, v in enumerate(instance.vendors)}
        oi = {(o.function, o.vendor): i for i, o in enumerate(instance.offers)}
        K = len(varying)
        d = np.zeros((n, K + 1))  # the last column stays 0: amounts that do not vary
        for start, part in samples.deltas(varying):
            d[:, start:start + part.shape[1]] = part

        def at(places):
            return d[:, [col.get(p, K) for p in places]]

        pairs, vendors = data.pairs, list(mx.y)
        self.x_cols = np.array([mx.x[p] for p in pairs], dtype=np.int64)
        self.y_cols = np.array([mx.y[v] for v in vendors], dtype=np.int64)
        offers = [instance.offers[oi[p]] for p in pairs]
        current = {f.id: f.current for f in instance.functions}
        stays = np.array([current[p[0]] == p[1] for p in pairs], dtype=bool)
        k = np.array([1 - o.stay_discount / 100 if s else 1.0 for o, s in zip(offers, stays)])
        moves = (~stays).astype(float)
        cost = at([Place("offers", oi[p], "cost") for p in pairs])
        trans = at([Place("offers", oi[p], "transition") for p in pairs])
        value = at([Place("offers", oi[p], "value") for p in pairs])
        c_in = at([Place("inhouse", fi[p[0]], "cost") for p in pairs])
        v_in = at([Place("inhouse", fi[p[0]], "value") for p in pairs])
        served = {f.current for f in instance.functions if f.current not in (None, INHOUSE)}
        onb_on = np.array([v not in served for v in vendors], dtype=float)
        retainer = at([Place("vendors", vi[v], "retainer") for v in vendors])
        onboarding = at([Place("vendors", vi[v], "onboarding") for v in vendors])
        self.obj = np.hstack([c_in - v_in - k * cost - moves / H * trans + value,
                              -(retainer + onb_on / H * onboarding)])
        self.op = np.hstack([k * cost - c_in, retainer])
        self.op_constant = at([Place("inhouse", i, "cost") for i, f in enumerate(instance.functions)
                               if f.inhouse is not None]).sum(axis=1)
        self.tr = np.hstack([moves * trans, onb_on * onboarding])
        self.xy = np.concatenate([self.x_cols, self.y_cols])


def _block(cols: np.ndarray, vals: np.ndarray) -> tuple[np.ndarray, np.ndarray, np.ndarray]:
    """Rows with the same columns (``vals``: rows x columns) in compressed-row form, zeros left out:
    (entries per row, column indexes, values)."""
    keep = vals != 0
    return keep.sum(axis=1), np.broadcast_to(cols, vals.shape)[keep], vals[keep]


def _row_terms(mx: Matrix, name: str) -> tuple[int, dict[int, float]] | None:
    if name not in mx.row_names:
        return None
    r = mx.row_names.index(name)
    return r, {mx.index[t]: mx.value[t] for t in range(mx.start[r], mx.start[r + 1])}


def _dense_over(terms: dict[int, float], xy: np.ndarray, delta: np.ndarray) -> tuple[np.ndarray, np.ndarray]:
    """Columns ``xy`` then the other columns of ``terms``, and per scenario the terms plus ``delta`` on ``xy``."""
    others = np.array(sorted(set(terms) - set(xy.tolist())), dtype=np.int64)
    cols = np.concatenate([xy, others])
    base = np.array([terms.get(int(j), 0.0) for j in cols])
    vals = np.broadcast_to(base, (delta.shape[0], len(cols))).copy()
    vals[:, :len(xy)] += delta
    return cols, vals


def build_scenario_model(instance: Instance, samples: Samples, measure: Measure) -> ScenarioModel:
    """The deterministic matrix plus one block of rows per scenario (module docstring); raises InputError
    for what it cannot hold (:func:`unsupported`)."""
    varying = samples.varying()
    problems = unsupported(instance, varying)
    if problems:
        raise InputError(problems)
    moving = {instance.vendors[p.row].id for p in varying if p.table == "vendors"}
    data = compile_data(instance)
    if moving - set(data.engaged_vendors):  # a vendor whose engagement costs something in some scenario
        data = compile_data(instance, reduce=False)
    mx = build_matrix(data)
    n = samples.n
    dl = _Deltas(instance, data, mx, samples)
    c0 = np.asarray(mx.cost, dtype=float)
    mean_cost = c0.copy()
    mean_cost[dl.xy] += dl.obj.mean(axis=0)
    counts, index, value = [np.diff(np.asarray(mx.start))], [np.asarray(mx.index, dtype=np.int64)], [np.asarray(mx.value)]
    lower, upper = [np.asarray(mx.row_lower)], [np.asarray(mx.row_upper)]
    for name, delta, constant in (("operating_budget", dl.op, dl.op_constant), ("transition_budget", dl.tr, None)):
        found = _row_terms(mx, name)
        if found is None:
            continue
        r, terms = found
        cols, vals = _dense_over(terms, dl.xy, delta)
        block = _block(cols, vals)
        counts.append(block[0]), index.append(block[1]), value.append(block[2])
        lower.append(np.full(n, -INF))
        upper.append(mx.row_upper[r] - (constant if constant is not None else np.zeros(n)))
    ncol = mx.num_col
    col_lower, col_upper = np.asarray(mx.col_lower, dtype=float), np.asarray(mx.col_upper, dtype=float)
    integer = np.asarray(mx.integer, dtype=bool)
    eta = u = None
    cost, offset = (1 - measure.weight) * mean_cost, (1 - measure.weight) * mx.offset
    if measure.weight > 0:
        eta, u = ncol, np.arange(ncol + 1, ncol + 1 + n)
        col_lower = np.concatenate([col_lower, [-INF], np.zeros(n)])
        col_upper = np.concatenate([col_upper, [INF], np.full(n, INF)])
        integer = np.concatenate([integer, np.zeros(n + 1, dtype=bool)])
        objective = {j: c for j, c in enumerate(mx.cost) if c}
        cols, vals = _dense_over(objective, dl.xy, dl.obj)
        block = _block(cols, vals)
        # z_s + u_s - eta >= -offset: the scenario's net benefit terms, then u_s and eta
        per_row = block[0] + 2
        rows_index = np.split(block[1], np.cumsum(block[0])[:-1])
        rows_value = np.split(block[2], np.cumsum(block[0])[:-1])
        index.append(np.concatenate([np.concatenate([ri, [u[s], eta]]) for s, ri in enumerate(rows_index)]))
        value.append(np.concatenate([np.concatenate([rv, [1.0, -1.0]]) for rv in rows_value]))
        counts.append(per_row)
        lower.append(np.full(n, -mx.offset))
        upper.append(np.full(n, INF))
        cost = np.concatenate([cost, [measure.weight], np.full(n, -measure.weight / (measure.alpha * n))])
        mean_cost = np.concatenate([mean_cost, np.zeros(n + 1)])
    start = np.concatenate([[0], np.cumsum(np.concatenate(counts))]).astype(np.int64)
    return ScenarioModel(data, mx, measure, n, col_lower, col_upper, integer, start, np.concatenate(index),
                         np.concatenate(value), np.concatenate(lower), np.concatenate(upper), mean_cost,
                         float(mx.offset), cost, float(offset), eta, u)


# --- solving ------------------------------------------------------------------------------------


def hand_off(sm: ScenarioModel):
    """The scenario model as a HiGHS instance."""
    import highspy

    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = sm.num_col, len(sm.row_lower)
    lp.sense_ = highspy.ObjSense.kMaximize
    lp.offset_ = sm.offset
    lp.col_cost_ = sm.cost
    lp.col_lower_, lp.col_upper_ = sm.col_lower, sm.col_upper
    lp.row_lower_, lp.row_upper_ = sm.row_lower, sm.row_upper
    lp.a_matrix_.format_ = highspy.MatrixFormat.kRowwise
    lp.a_matrix_.start_ = sm.start.astype(np.int32)
    lp.a_matrix_.index_ = sm.index.astype(np.int32)
    lp.a_matrix_.value_ = sm.value
    kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
    lp.integrality_ = [kinds[int(i)] for i in sm.integer]
    with stdout_to_stderr():
        highs = highspy.Highs()
        highs.setOptionValue("output_flag", False)
        highs.HandleUserInterrupt = True
        status = highs.passModel(lp)
    if status == highspy.HighsStatus.kError:
        raise SolverError("HiGHS refused the scenario model")
    return highs


@dataclass
class ScenarioRun:
    """The end of a scenario model's solve: the plan (None: none found), the measure HiGHS reached and its
    bound, whether it is proven, and how it ended."""

    plan: dict[str, str] | None
    measure: float | None
    bound: float | None
    proven: bool
    infeasible: bool
    interrupted: bool
    solve_time: float


def _objective(highs, cost: np.ndarray, offset: float, sense) -> None:
    highs.changeObjectiveSense(sense)
    highs.changeColsCost(len(cost), np.arange(len(cost), dtype=np.int32), np.asarray(cost, dtype=float))
    highs.changeObjectiveOffset(offset)


def _completed(highs, sm: ScenarioModel, plan: dict[str, str], options: SolveOptions, left) -> tuple | None:
    """A start for HiGHS from a plan: every column's value (HiGHS takes only complete starts, see
    :func:`~outopt.solver.highs.set_start`), the offers' and vendors' fixed to the plan's and the others
    (bundles, spends, eta, u_s, ...) solved for under the current objective; None when the plan does not fit."""
    fixed = [(j, 1.0 if plan.get(p[0]) == p[1] else 0.0) for p, j in sm.base.x.items()]
    used = set(plan.values())
    fixed += [(j, 1.0 if v in used else 0.0) for v, j in sm.base.y.items()]
    idx = np.array([j for j, _ in fixed], dtype=np.int32)
    val = np.array([v for _, v in fixed])
    highs.changeColsBounds(len(idx), idx, val, val)
    try:
        run = run_highs(highs, options, left(), None, phase="completing the starting plan", net_benefit=False)
    finally:
        highs.changeColsBounds(len(idx), idx, sm.col_lower[idx], sm.col_upper[idx])
    return (list(range(sm.num_col)), list(run.values)) if run.has_plan else None


def solve_scenario_model(sm: ScenarioModel, options: SolveOptions, deadline: float | None,
                         highs_options: dict | None = None, start_plan: dict[str, str] | None = None) -> ScenarioRun:
    """Priority levels first, then the measure, then (for ``cvar``) the mean at the CVaR found; ``start_plan``
    (a plan that keeps every budget in every scenario) is handed to HiGHS as a start when there is no level."""
    import highspy

    t0 = time.perf_counter()
    highs = hand_off(sm)
    for key, value in (highs_options or {}).items():
        highs.setOptionValue(key, value)

    def left():
        return None if deadline is None else max(0.05, deadline - time.perf_counter())

    maximise, minimise = highspy.ObjSense.kMaximize, highspy.ObjSense.kMinimize
    start = None
    if start_plan is not None and not sm.base.levels:
        _objective(highs, sm.cost, sm.offset, maximise)
        start = _completed(highs, sm, start_plan, options, left)
    for _, objective, row in sm.base.levels:
        cost = np.zeros(sm.num_col)
        for j, w in objective.items():
            cost[j] = w
        _objective(highs, cost, 0.0, minimise)
        run = run_highs(highs, options, left(), start, phase="priority level", net_benefit=False)
        if not run.has_plan:
            return _ended(sm, run, None, t0, False)
        best = max(0.0, run.objective)
        highs.changeRowBounds(row, -INF, best + 1e-9 * max(1.0, best))
        start = (list(range(sm.num_col)), list(run.values))
    _objective(highs, sm.cost, sm.offset, maximise)
    run = run_highs(highs, options, left(), start, phase="solving the scenario model", net_benefit=False)
    if not run.has_plan or sm.measure.weight < 1:
        return _ended(sm, run, run, t0, run.proven)
    first = run  # cvar: keep the CVaR found, maximise the mean
    floor = first.objective - TIE * max(1.0, abs(first.objective))
    terms = {sm.eta: 1.0, **{int(j): -1.0 / (sm.measure.alpha * sm.n) for j in sm.u}}
    highs.addRow(floor, INF, len(terms), np.array(list(terms), dtype=np.int32), np.array(list(terms.values())))
    _objective(highs, sm.mean_cost, sm.mean_offset, maximise)
    second = run_highs(highs, options, left(), (list(range(sm.num_col)), list(first.values)),
                       phase="the best mean at that CVaR", net_benefit=False)
    return _ended(sm, second if second.has_plan else first, first, t0, first.proven and second.proven)


def _ended(sm: ScenarioModel, run: Run, measured: Run | None, t0: float, proven: bool = False) -> ScenarioRun:
    """The run's plan; the measure and bound are those of ``measured`` (the run that maximised the measure)."""
    plan = None
    if run.has_plan:
        plan = {f: INHOUSE for f in sm.data.functions}
        for p, j in sm.base.x.items():
            if run.values[j] > 0.5:
                plan[p[0]] = p[1]
    return ScenarioRun(plan, measured.objective if measured is not None and measured.has_plan else None,
                       measured.bound if measured is not None else None,
                       proven and run.has_plan, run.infeasible,
                       run.interrupted, time.perf_counter() - t0)
