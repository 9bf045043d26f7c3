"""The search for large models: a matheuristic on top of HiGHS (models/portfolio.md, "Search").

A model of tens of thousands of offers with retainers is a capacitated facility location problem:
HiGHS alone spends a minute in the root LP of its 100,000 linking rows (x <= y) and returns whatever
start it was given. :class:`Search` works on the same matrix form (:mod:`outopt.model.matrix`) in
small HiGHS models instead:

1. **Bound.** A Lagrangian relaxation of the one-provider rows over a relaxation of the model (each
   vendor keeps its capacity and engagement; rows that span vendors, such as budgets and shares,
   are dropped, and discounts and bundle savings are counted at their most) gives a valid upper
   bound on the net benefit in seconds; with no engagement columns, the LP relaxation does.
2. **Vendors.** A local search over which vendors are engaged (close one, engage one, swap), each
   set scored by the LP of the model with the engagements fixed (every row of the model but the
   linking ones, which fixed engagements make bounds); engage candidates are ranked by their
   Lagrangian value at that LP's prices.
3. **Assignment.** The MIP of the functions over the engaged vendors of the best sets.
4. **Neighbourhoods.** Sub-MIPs around the best plan: a few vendors (some serving, some not) and the
   functions they serve, or a sample of functions over the engaged vendors; each improvement kept.

Every plan is verified on the instance before it is kept, the best verified plan is returned with the
bound, and every HiGHS run gets what is left of the time limit.
"""

from __future__ import annotations

import time
from dataclasses import dataclass

from outopt.instance.schema import INHOUSE
from outopt.model.matrix import Matrix
from outopt.solver.highs import deadline_guard, stdout_to_stderr, use_threads
from outopt.solver.options import Progress, SolveOptions
from outopt.solver.solution import Solution, Status
from outopt.verifier.portfolio import verify

SEARCH_MIN_LINKS = 50_000
"""Models with at least this many linking rows (x <= y) are searched: HiGHS's root LP on them takes most
of a minute (capa-capc, 100,000 rows); below it, on hard 2,000 x 50 (30,000 rows), HiGHS alone reaches a
better plan than the search within 10 s (benchmarks/README.md, Search)."""


class Restricted:
    """Small HiGHS models of the matrix with some columns free and the others fixed at given values."""

    def __init__(self, mx: Matrix, options: SolveOptions):
        import numpy as np

        self.mx, self.options = mx, options
        self.ncol, self.nrow = mx.num_col, mx.num_row
        start = np.asarray(mx.start, dtype=np.int64)
        self.row = np.repeat(np.arange(self.nrow), np.diff(start))
        self.col = np.asarray(mx.index, dtype=np.int64)
        self.val = np.asarray(mx.value, dtype=float)
        self.cost = np.asarray(mx.cost, dtype=float)
        self.col_lower = np.asarray(mx.col_lower, dtype=float)
        self.col_upper = np.asarray(mx.col_upper, dtype=float)
        self.integer = np.asarray(mx.integer, dtype=bool)
        self.row_lower = np.asarray(mx.row_lower, dtype=float)
        self.row_upper = np.asarray(mx.row_upper, dtype=float)

    def objective(self, z) -> float:
        return float(self.cost @ z) + self.mx.offset

    def build(self, free, fix, drop_rows=None, integer: bool = True):
        """(HiGHS, its columns' indices in the matrix, its rows' indices) of the model with ``free`` columns
        free and the others at ``fix``; rows in ``drop_rows`` are left out. None when a row of fixed columns
        only is broken."""
        import highspy
        import numpy as np

        fixed_nz = ~free[self.col]
        activity = np.bincount(self.row[fixed_nz], self.val[fixed_nz] * fix[self.col[fixed_nz]], minlength=self.nrow)
        keep_row = np.ones(self.nrow, dtype=bool) if drop_rows is None else ~drop_rows
        keep = free[self.col] & keep_row[self.row]
        used = np.zeros(self.nrow, dtype=bool)
        used[self.row[keep]] = True
        lone = keep_row & ~used  # rows of fixed columns only: they must hold as they are
        if np.any((activity[lone] > self.row_upper[lone] + 1e-6) | (activity[lone] < self.row_lower[lone] - 1e-6)):
            return None
        cols = np.flatnonzero(free)
        cmap = np.full(self.ncol, -1, dtype=np.int64)
        cmap[cols] = np.arange(len(cols))
        rows = np.flatnonzero(used)
        rmap = np.full(self.nrow, -1, dtype=np.int64)
        rmap[rows] = np.arange(len(rows))
        r, c, v = rmap[self.row[keep]], cmap[self.col[keep]], self.val[keep]
        order = np.lexsort((r, c))
        lp = highspy.HighsLp()
        lp.num_col_, lp.num_row_ = len(cols), len(rows)
        lp.sense_ = highspy.ObjSense.kMaximize
        lp.offset_ = self.mx.offset + float(self.cost[~free] @ fix[~free])
        lp.col_cost_ = self.cost[cols]
        lp.col_lower_, lp.col_upper_ = self.col_lower[cols], self.col_upper[cols]
        lp.row_lower_ = self.row_lower[rows] - activity[rows]
        lp.row_upper_ = self.row_upper[rows] - activity[rows]
        lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
        lp.a_matrix_.start_ = np.searchsorted(c[order], np.arange(len(cols) + 1)).astype(np.int32)
        lp.a_matrix_.index_ = r[order].astype(np.int32)
        lp.a_matrix_.value_ = v[order]
        if integer:
            kinds = (highspy.HighsVarType.kContinuous, highspy.HighsVarType.kInteger)
            lp.integrality_ = [kinds[int(i)] for i in self.integer[cols]]
        with stdout_to_stderr():
            h = highspy.Highs()
        h.setOptionValue("output_flag", False)
        h.setOptionValue("threads", 1)
        h.setOptionValue("random_seed", self.options.seed)
        h.passModel(lp)
        return h, cols, rows


def run(h, seconds: float, start=None) -> bool:
    """Run a HiGHS model for at most ``seconds`` (Ctrl-C cancels it); True when Ctrl-C came."""
    import numpy as np

    h.setOptionValue("time_limit", float(h.getRunTime() + max(0.05, seconds)))
    if start is not None:
        h.setSolution(len(start), np.arange(len(start), dtype=np.int32), np.asarray(start, dtype=float))
    use_threads(1)  # the sub-models run with one thread (HiGHS fails a run whose count differs from the last)
    with stdout_to_stderr(), deadline_guard(h, max(0.05, seconds)) as state:
        h.run()
    return state["interrupted"]


@dataclass
class _Incumbent:
    z: object  # full column vector (numpy)
    plan: dict[str, str]
    objective: float  # the verifier's


class Search:
    """The matheuristic on a :class:`~outopt.solver.direct.DirectModel` (see the module docstring)."""

    def __init__(self, model, options: SolveOptions, deadline: float | None, t0: float):
        import numpy as np

        self.model, self.options = model, options
        self.instance, self.data, self.mx = model.instance, model.data, model.matrix
        self.t0 = t0
        self.deadline = deadline if deadline is not None else time.perf_counter() + 60.0
        self.sub = Restricted(self.mx, options)
        self.rng = np.random.default_rng(options.seed)
        self.best: _Incumbent | None = None
        self.bound: float | None = None
        self.interrupted = False
        self.phase = "searching"
        mx = self.mx
        self.pairs = list(mx.x)
        self.xcol = np.array([mx.x[p] for p in self.pairs], dtype=np.int64)
        self.vendors = list(self.data.vendors)
        vidx = {v: j for j, v in enumerate(self.vendors)}
        fidx = {f: i for i, f in enumerate(self.data.functions)}
        self.of_f = np.array([fidx[p[0]] for p in self.pairs], dtype=np.int64)
        self.of_v = np.array([vidx[p[1]] for p in self.pairs], dtype=np.int64)
        self.ycol = np.full(len(self.vendors), -1, dtype=np.int64)
        for v, j in mx.y.items():
            self.ycol[vidx[v]] = j
        self.has_y = self.ycol >= 0
        self.offer_of_col = {int(c): k for k, c in enumerate(self.xcol)}
        self.must = np.array([f in self.data.must_outsource for f in self.data.functions])
        link = list(mx.family_rows.get("engage_link", ())) + list(mx.family_rows.get("engage_used", ()))
        self.link_rows = np.zeros(mx.num_row, dtype=bool)
        self.link_rows[link] = True

    # --- time, progress and the incumbent ---------------------------------------------------
    def left(self) -> float:
        return self.deadline - time.perf_counter()

    def report(self, phase: str | None = None) -> None:
        if phase is not None:
            self.phase = phase
        if self.options.progress is not None:
            self.options.progress(Progress(self.phase, time.perf_counter() - self.t0,
                                           None if self.best is None else self.best.objective, self.bound))

    def tighten(self, bound: float | None) -> None:
        """A valid upper bound on the net benefit: keep the lowest."""
        if bound is not None and (self.bound is None or bound < self.bound):
            self.bound = bound
            self.report()

    def plan_of(self, z) -> dict[str, str]:
        plan = {f: INHOUSE for f in self.data.functions}
        for k in (z[self.xcol] > 0.5).nonzero()[0]:
            f, v = self.pairs[k]
            plan[f] = v
        return plan

    def offer(self, z) -> bool:
        """Keep ``z`` when its plan passes the verifier and beats the best so far; True when kept."""
        plan = self.plan_of(z)
        check = verify(self.instance, plan)
        if not check.feasible or (self.best is not None and check.objective <= self.best.objective + 1e-9
                                  * max(1.0, abs(self.best.objective))):
            return False
        self.best = _Incumbent(z.copy(), plan, check.objective)
        self.report()
        return True

    def solved(self, h, cols, fix):
        """The full column vector of a sub-model's plan (None without one)."""
        import numpy as np

        if h.getInfo().primal_solution_status != 2:
            return None
        z = fix.copy()
        values = np.asarray(h.getSolution().col_value)
        z[cols] = np.where(self.sub.integer[cols], np.round(values), values)
        return z

    def complete(self, plan: dict[str, str]):
        """The full column vector of a plan: its offers and engagements, the other columns solved for."""
        import numpy as np

        fix = np.zeros(self.mx.num_col)
        free = np.ones(self.mx.num_col, dtype=bool)
        free[self.xcol] = False
        free[self.ycol[self.has_y]] = False
        used = set(plan.values())
        for k, (f, v) in enumerate(self.pairs):
            fix[self.xcol[k]] = 1.0 if plan.get(f) == v else 0.0
        for j, v in enumerate(self.vendors):
            if self.has_y[j]:
                fix[self.ycol[j]] = 1.0 if v in used else 0.0
        built = self.sub.build(free, fix)
        if built is None:
            return None
        h, cols, _ = built
        if not len(cols):  # nothing else to solve for: the plan's rows hold (build checked them)
            return fix
        self.interrupted |= run(h, min(5.0, max(0.1, self.left())))
        return self.solved(h, cols, fix)

    def result(self, start_time: float) -> Solution:
        """The best verified plan with the bound (a plan is always known: the search starts from one)."""
        if self.best is None:
            return Solution(self.instance, Status.TIMEOUT, interrupted=self.interrupted,
                            message="time limit reached before any plan was found")
        bound = self.bound if self.bound is not None and self.bound >= self.best.objective - 1e-6 else None
        proven = bound is not None and bound - self.best.objective <= self.options.gap * max(1.0, abs(bound)) + 1e-6
        message = "" if proven else ("interrupted" if self.interrupted else "time limit reached")
        sol = Solution.from_plan(self.instance, self.best.plan, Status.OPTIMAL if proven else Status.FEASIBLE,
                                 bound=bound, solve_time=time.perf_counter() - start_time,
                                 interrupted=self.interrupted, message=message)
        return sol


class Lagrangian:
    """Upper bounds on the net benefit from a relaxation: each vendor keeps its offers, capacity row and
    engagement; the one-provider rows are priced by multipliers u (>= 0, free for functions that must be
    outsourced); every other row is dropped, and discounts and bundle savings are counted at their most.

    ``L(u) = sum_f u_f + sum_v max(0, K_v(u) - e_v)`` with ``K_v`` the continuous knapsack of v's offers
    at profits ``b_fv - u_f`` (all of them, without a capacity row) is at least the optimum for every u:
    a valid bound at every iteration. When every function must be outsourced and every vendor has a
    capacity and an engagement, the engaged capacity must also cover the least load of every function.
    """

    def __init__(self, search: Search):
        import numpy as np

        s, data, mx = search, search.data, search.mx
        n, m = len(data.functions), len(s.vendors)
        self.n, self.m = n, m
        profit = s.sub.cost[s.xcol].copy()  # the objective of each offer, then its savings at their most
        vidx = {v: j for j, v in enumerate(s.vendors)}
        top_rate = {v: max((t[2] for t in rows), default=0.0) for v, rows in data.tiers.items()}
        for k, p in enumerate(s.pairs):
            profit[k] += top_rate.get(p[1], 0.0) * data.spend[p]
        pos = {p: k for k, p in enumerate(s.pairs)}
        for (v, _), (members, saving) in data.bundles.items():
            profit[pos[members[0], v]] += saving
        self.b = np.full((n, m), -np.inf)
        self.b[s.of_f, s.of_v] = profit
        self.a = np.zeros((n, m))
        self.cap = np.full(m, np.inf)
        starts = mx.start
        for v, r in mx.capacity_row.items():
            j = vidx[v]
            for k in range(starts[r], starts[r + 1]):
                col, val = mx.index[k], mx.value[k]
                if col == s.ycol[j]:
                    self.cap[j] = -val
                elif col in s.offer_of_col:
                    self.a[s.of_f[s.offer_of_col[col]], j] = val
            if s.ycol[j] < 0:
                self.cap[j] = mx.row_upper[r]
        self.e = np.where(s.has_y, -s.sub.cost[np.maximum(s.ycol, 0)], 0.0)
        self.has_y = s.has_y
        self.assignable = np.array([bool(data.pairs_of_function[f]) for f in data.functions])
        self.must = np.array([f in data.must_outsource for f in data.functions])
        self.cover = None
        if self.must[self.assignable].all() and self.has_y.all() and np.isfinite(self.cap).all():
            loads = np.where(np.isfinite(self.b), self.a, np.inf).min(axis=1)
            self.cover = float(loads[self.assignable].sum())
        self.offset = mx.offset

    def start(self):
        """Multipliers to start from: each function's best profit with its share of an engagement."""
        import numpy as np

        share = np.where(np.isfinite(self.cap), self.a / np.where(np.isfinite(self.cap), self.cap, 1.0)[None, :],
                         1.0 / max(1, self.n))
        u = np.max(np.where(np.isfinite(self.b), self.b - share * self.e[None, :], -np.inf), axis=1)
        u = np.where(np.isfinite(u), u, 0.0)
        return np.where(self.must, u, np.maximum(u, 0.0))

    def knapsacks(self, u):
        """Each vendor's continuous knapsack at profits b - u: (x as an n x m array, value per vendor)."""
        import numpy as np

        p = self.b - u[:, None]
        good = p > 0
        a = np.where(good, self.a, 0.0)
        ratio = np.where(good, p / np.maximum(self.a, 1e-12), -np.inf)
        order = np.argsort(-ratio, axis=0, kind="stable")
        ps = np.take_along_axis(np.where(good, p, 0.0), order, 0)
        as_ = np.take_along_axis(a, order, 0)
        gs = np.take_along_axis(good, order, 0)
        room = self.cap[None, :] - (np.cumsum(as_, axis=0) - as_)
        xs = np.where(gs, np.where(as_ > 0, np.clip(room / np.maximum(as_, 1e-12), 0.0, 1.0), 1.0), 0.0)
        x = np.zeros_like(p)
        np.put_along_axis(x, order, xs, 0)
        return x, (ps * xs).sum(axis=0)

    def value(self, u):
        """(L(u), x, y): the bound and the relaxation's plan at multipliers u."""
        import numpy as np

        x, worth = self.knapsacks(u)
        h = worth - self.e
        y = np.where(self.has_y, (h > 0).astype(float), 1.0)
        if self.cover is not None:
            have = float((self.cap * y).sum())
            for j in np.argsort(-(h / self.cap)):
                if have >= self.cover:
                    break
                if y[j] < 1:
                    frac = min(1.0, (self.cover - have) / self.cap[j])
                    y[j] = frac
                    have += frac * self.cap[j]
        bound = float(u[self.assignable].sum() + (h * y).sum() + self.e[~self.has_y].sum()) + self.offset
        return bound, x, y

    def descend(self, u, target: float, seconds: float, iterations: int):
        """Subgradient steps towards ``target`` (a value the optimum is believed to reach): (best bound, u)."""
        import numpy as np

        stop = time.perf_counter() + seconds
        best, best_u, theta, stall = np.inf, u.copy(), 2.0, 0
        for _ in range(iterations):
            bound, x, y = self.value(u)
            if best == np.inf or bound < best - 1e-9 * max(1.0, abs(best)):
                best, best_u, stall = bound, u.copy(), 0
            else:
                stall += 1
                if stall >= 20:
                    theta, stall = theta / 2, 0
            g = np.where(self.assignable, 1.0 - (x * y[None, :]).sum(axis=1), 0.0)
            norm = float(g @ g)
            if norm < 1e-12 or theta < 1e-5 or time.perf_counter() > stop:
                break
            u = u - theta * max(bound - target, 1e-9 * max(1.0, abs(bound))) / norm * g
            u = np.where(self.must, u, np.maximum(u, 0.0))
        return best, best_u

    def open_values(self, u):
        """What engaging each vendor is worth at multipliers u (its knapsack less its engagement cost)."""
        _, worth = self.knapsacks(u)
        return worth - self.e


class VendorLP:
    """The LP of the model with the engagements fixed: the score of a set of engaged vendors.

    Built once (every row but the linking ones, which fixed engagements turn into bounds, continuous),
    then each set changes only column bounds, so HiGHS's dual simplex starts from the last basis."""

    def __init__(self, search: Search):
        import numpy as np

        s = search
        self.search = s
        built = s.sub.build(np.ones(s.mx.num_col, dtype=bool), np.zeros(s.mx.num_col), s.link_rows, integer=False)
        self.h, _, rows = built
        self.h.setOptionValue("solver", "simplex")
        self.x_of = [s.xcol[s.of_v == j].astype(np.int32) for j in range(len(s.vendors))]
        self.lower = s.sub.col_lower
        self.state = np.full(len(s.vendors), -1)
        position = {int(r): i for i, r in enumerate(rows)}
        self.assign = np.array([position.get(s.mx.assign_row.get(f, -1), -1) for f in s.data.functions])
        self.evaluations = 0

    def relaxation(self) -> float | None:
        """The LP relaxation of the model without its linking rows (engagements between 0 and 1): a bound,
        before any set is scored."""
        import highspy

        s = self.search
        s.interrupted |= run(self.h, min(30.0, max(0.05, s.left())))
        if self.h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return None
        return self.h.getInfo().objective_function_value

    def score(self, engaged):
        """(LP value or -inf, the LP's column values, its prices of the one-provider rows) with ``engaged``."""
        import highspy
        import numpy as np

        s, h = self.search, self.h
        for j in np.flatnonzero((self.state != engaged.astype(int)) & s.has_y):
            b = 1.0 if engaged[j] else 0.0
            h.changeColBounds(int(s.ycol[j]), b, b)
            idx = self.x_of[j]
            h.changeColsBounds(len(idx), idx, self.lower[idx] * b, np.full(len(idx), b))
        self.state = engaged.astype(int)
        s.interrupted |= run(h, min(10.0, max(0.05, s.left())))
        self.evaluations += 1
        if h.getModelStatus() != highspy.HighsModelStatus.kOptimal:
            return -np.inf, None, None
        sol = h.getSolution()
        duals = np.asarray(sol.row_dual)
        u = np.where(self.assign >= 0, duals[np.maximum(self.assign, 0)], 0.0)
        return h.getInfo().objective_function_value, np.asarray(sol.col_value), u


def _phases(search: Search, start: dict[str, str] | None, vendor_share: float) -> None:
    """The search's phases in order, each within the time left (see the module docstring)."""
    import numpy as np

    s = search
    total = max(0.5, s.left())
    if start is not None:
        z = s.complete(start)
        if z is not None:
            s.offer(z)
    s.report("bounding: LP without the linking rows")
    vlp = VendorLP(s)
    s.tighten(vlp.relaxation())
    lag = u = None
    if s.has_y.any() and not s.interrupted:
        s.report("bounding: Lagrangian relaxation")
        lag = Lagrangian(s)
        u = _lagrangian_bound(s, lag, vlp, min(0.08 * total, 6.0))
        if s.best is None:  # a first plan early: the LP's plan rounded, else the assignment MIP
            engaged = _initial_set(s, lag, u)
            _, z, _ = vlp.score(engaged)
            if z is not None:
                _round(s, lag, z, engaged)
        if s.best is None:
            s.report("assigning functions to the engaged vendors")
            _assign(s, [(0.0, _initial_set(s, lag, u))], min(0.15 * total, 0.5 * s.left()), gap=0.01)
        s.report("searching vendor sets")
        sets = _vendor_search(s, lag, vlp, u, time.perf_counter() + vendor_share * max(0.0, s.left()))
        s.report("assigning functions to the engaged vendors")
        _assign(s, sets, 0.15 * total)
    elif not s.interrupted:
        s.report("solving the full model")
        _sub_mip(s, np.ones(s.mx.num_col, dtype=bool), min(0.3 * total, s.left()))
    if s.best is not None and not s.interrupted:
        s.report("improving neighbourhoods")
        _neighbourhoods(s, lag, s.deadline - (2.0 if lag is not None else 0.3))
    if lag is not None and s.best is not None and not s.interrupted and s.left() > 0.3:
        s.report("bounding: Lagrangian relaxation")
        bound, _ = lag.descend(u, s.best.objective, max(0.0, min(2.0, s.left() - 0.3)), 400)
        s.tighten(bound)


def _lagrangian_bound(s: Search, lag: Lagrangian, vlp: VendorLP, seconds: float):
    """Two stages: a crude target first, then the LP value of the engaged set the first multipliers
    suggest (the target that made the bound tight on the capa-capc instances)."""
    u = lag.start()
    first, _, _ = lag.value(u)
    target = s.best.objective if s.best is not None else first - 0.1 * max(1.0, abs(first))
    bound, u = lag.descend(u, target, 0.3 * seconds, 150)
    s.tighten(bound)
    value, _, _ = vlp.score(_initial_set(s, lag, u))
    if value > -float("inf"):
        bound2, u2 = lag.descend(u, min(value, bound), 0.7 * seconds, 400)
        if bound2 < bound:
            s.tighten(bound2)
            u = u2
    return u


def _initial_set(s: Search, lag: Lagrangian, u):
    """The vendors the relaxation engages at u (with capacity for 5 % more than the least loads)."""
    import numpy as np

    _, _, y = lag.value(u)
    engaged = (y > 0.5) | ~s.has_y
    if lag.cover is not None:
        worth = lag.open_values(u)
        for j in np.argsort(-(worth / lag.cap)):
            if lag.cap[engaged].sum() >= 1.05 * lag.cover:
                break
            engaged[j] = True
    return engaged


def _profits(s: Search):
    """The objective of each offer as a functions x vendors array (-inf: no offer)."""
    import numpy as np

    p = np.full((len(s.data.functions), len(s.vendors)), -np.inf)
    p[s.of_f, s.of_v] = s.sub.cost[s.xcol]
    return p


def _closing_order(s: Search, profit, engaged, z):
    """Engaged vendors by the estimated gain of closing one: its engagement cost saved less what its
    functions lose going to their next best engaged vendor (or in-house), best first."""
    import numpy as np

    x = np.zeros_like(profit)
    x[s.of_f, s.of_v] = z[s.xcol]
    open_profit = np.where(engaged[None, :], profit, -np.inf)
    inhouse = np.where(s.must, -np.inf, 0.0)[:, None]
    ranked = np.sort(np.concatenate([open_profit, inhouse], axis=1), axis=1)
    first, second = ranked[:, -1], ranked[:, -2]
    candidates = np.flatnonzero(engaged & s.has_y)
    gains = []
    for j in candidates:
        alt = np.where(profit[:, j] >= first, second, first)
        moved = x[:, j] > 1e-9
        loss = (x[moved, j] * (profit[moved, j] - alt[moved])).sum()
        gains.append(-s.sub.cost[s.ycol[j]] - loss)
    return candidates[np.argsort(-np.asarray(gains))] if len(candidates) else candidates


def _vendor_search(s: Search, lag: Lagrangian, vlp: VendorLP, u, until: float):
    """Local search over the engaged set (close, engage, swap), each set scored by its LP; the sets met,
    best first, as (LP value, engaged mask)."""
    import numpy as np

    profit = _profits(s)
    engaged = _initial_set(s, lag, u)
    if s.best is not None:  # the starting plan's vendors may score better
        mine = ~s.has_y.copy()
        mine[s.of_v[s.best.z[s.xcol] > 0.5]] = True
        if vlp.score(mine)[0] > vlp.score(engaged)[0]:
            engaged = mine
    value, z, prices = vlp.score(engaged)
    for _ in range(len(s.vendors)):  # an engaged set with no plan at all: engage the best-valued vendor
        if np.isfinite(value) or time.perf_counter() > until:
            break
        closed = np.flatnonzero(~engaged & s.has_y)
        if not len(closed):
            break
        engaged[closed[np.argmax(lag.open_values(u)[closed])]] = True
        value, z, prices = vlp.score(engaged)
    sets = [(value, engaged.copy())]
    better = lambda v, w: v > w + 1e-9 * max(1.0, abs(w))  # noqa: E731

    def flipped(j: int, state: bool):
        trial = engaged.copy()
        trial[j] = state
        v, zz, pp = vlp.score(trial)
        return v, trial, zz, pp

    while np.isfinite(value) and time.perf_counter() < until and not s.interrupted:
        worth = lag.open_values(prices)
        closed = np.flatnonzero(~engaged & s.has_y)
        adds = closed[np.argsort(-worth[closed])]
        move = None
        for j in _closing_order(s, profit, engaged, z):  # close: first improvement
            if time.perf_counter() > until:
                break
            trial = flipped(j, False)
            if better(trial[0], value):
                move = trial
                break
        for k in adds[:68] if move is None else ():  # engage, or swap with the most promising closes
            if time.perf_counter() > until:
                break
            trial = flipped(k, True)
            if better(trial[0], value):
                move = trial
                break
            if trial[2] is None:
                continue
            closes = 3 if k in adds[:8] else 5
            for j in _closing_order(s, profit, trial[1], trial[2])[:closes + 1]:
                if j == k or time.perf_counter() > until:
                    continue
                swapped = trial[1].copy()
                swapped[j] = False
                v2, zz2, pp2 = vlp.score(swapped)
                if better(v2, value) and (move is None or v2 > move[0]):
                    move = (v2, swapped, zz2, pp2)
            if move is not None:
                break
        if move is None:
            break
        value, engaged, z, prices = move
        sets.append((value, engaged.copy()))
    sets.sort(key=lambda pair: -pair[0])
    return sets


def _round(s: Search, lag: Lagrangian, z, engaged) -> None:
    """A plan from an LP solution in milliseconds: each function, most decided first, to the engaged vendor
    the LP gives it most of that still has room for its load; when none has, in-house when it may stay,
    else its best vendor with room (engaging it)."""
    import numpy as np

    x = np.zeros((len(s.data.functions), len(s.vendors)))
    x[s.of_f, s.of_v] = z[s.xcol]
    profit = _profits(s)
    room = lag.cap.astype(float).copy()
    plan = {f: INHOUSE for f in s.data.functions}
    for i in np.argsort(-x.max(axis=1), kind="stable"):
        if not np.isfinite(profit[i]).any():
            continue
        order = np.lexsort((-profit[i], -x[i], ~engaged))
        if not s.must[i]:
            order = order[engaged[order]]
        for j in order:
            if np.isfinite(profit[i, j]) and lag.a[i, j] <= room[j] + 1e-9:
                room[j] -= lag.a[i, j]
                plan[s.data.functions[i]] = s.vendors[j]
                break
        else:
            if s.must[i]:
                return
    full = s.complete(plan)
    if full is not None:
        s.offer(full)


def _sub_mip(s: Search, free, seconds: float, fix=None, start=True, gap: float = 1e-6):
    """Solve the model with ``free`` columns free (the others at ``fix``, default the best plan's) from the
    best plan when it fits; keep an improving verified plan. Returns HiGHS's model status name or None."""
    import numpy as np

    if fix is None:
        fix = s.best.z if s.best is not None else np.zeros(s.mx.num_col)
    built = s.sub.build(free, fix)
    if built is None or seconds <= 0.05:
        return None
    h, cols, _ = built
    h.setOptionValue("mip_rel_gap", gap)
    s.interrupted |= run(h, seconds, s.best.z[cols] if start and s.best is not None else None)
    z = s.solved(h, cols, fix)
    if z is not None:
        s.offer(z)
    return h.modelStatusToString(h.getModelStatus())


def _assign(s: Search, sets, seconds: float, gap: float = 1e-6) -> None:
    """The MIP of the functions over the engaged vendors of the best sets (within 0.05 % of the best LP),
    ``seconds`` each (half of what is left when no plan is known yet)."""
    import numpy as np

    tried = []
    for value, engaged in sets[:3]:
        if any((engaged == t).all() for t in tried) or value < sets[0][0] - 5e-4 * max(1.0, abs(sets[0][0])):
            continue
        tried.append(engaged)
        if s.left() < 0.5 or s.interrupted:
            break
        free = np.ones(s.mx.num_col, dtype=bool)
        fix = np.zeros(s.mx.num_col)
        free[s.xcol[~engaged[s.of_v]]] = False  # offers of vendors not engaged: 0
        free[s.ycol[s.has_y & ~engaged]] = False
        _sub_mip(s, free, min(s.left(), max(seconds, 0.5 * s.left() if s.best is None else 0.0)), fix,
                 start=False, gap=gap)


def _neighbourhoods(s: Search, lag: Lagrangian | None, until: float, sub_seconds: float = 3.0,
                    max_cols: int = 1500) -> None:
    """Sub-MIPs around the best plan until ``until``, each size adapted to how fast its sub-MIPs solve:
    r serving vendors (and r others near them) with the functions they serve, or q functions over the
    engaged vendors."""
    import numpy as np

    profit = _profits(s)
    distance = _vendor_distance(profit)
    r, q, calm = 3, 20, 0
    seeds: list[int] = []
    aux = np.ones(s.mx.num_col, dtype=bool)
    aux[s.xcol] = False
    aux[s.ycol[s.has_y]] = False
    vendor_kind = lag is not None
    while time.perf_counter() < until - 0.2 and not s.interrupted:
        chosen = s.best.z[s.xcol] > 0.5
        serving = np.unique(s.of_v[chosen])
        free = aux.copy()
        if vendor_kind and len(serving):
            if not seeds:
                seeds = list(s.rng.permutation(serving))
            seed = seeds.pop()
            near = np.argsort(distance[seed]) if s.rng.random() < 0.5 else np.concatenate(
                [[seed], s.rng.permutation(np.setdiff1d(np.arange(len(s.vendors)), [seed]))])
            in_use = np.zeros(len(s.vendors), dtype=bool)
            in_use[serving] = True
            picked = [v for v in near if in_use[v]][:r] + [v for v in near if not in_use[v] and s.has_y[v]][:r]
            mask = np.zeros(len(s.vendors), dtype=bool)
            mask[picked] = True
            functions = np.zeros(len(s.data.functions), dtype=bool)
            functions[s.of_f[chosen & mask[s.of_v]]] = True
            free[s.xcol[functions[s.of_f] & mask[s.of_v]]] = True
            free[s.ycol[mask & s.has_y]] = True
            if free.sum() - aux.sum() > max_cols and r > 2:
                r -= 1
                continue
        else:
            functions = np.zeros(len(s.data.functions), dtype=bool)
            functions[s.rng.choice(len(functions), size=min(q, len(functions)), replace=False)] = True
            open_vendor = ~s.has_y.copy()
            open_vendor[serving] = True
            free[s.xcol[functions[s.of_f] & open_vendor[s.of_v]]] = True
        t = time.perf_counter()
        status = _sub_mip(s, free, min(sub_seconds, until - time.perf_counter()))
        fast = status == "Optimal"
        if vendor_kind and len(serving):
            calm = calm + 1 if fast else 0
            if not fast:
                r = max(2, r - 1)
            elif calm >= 2 * len(serving):
                r, calm = min(len(s.vendors), r + 1), 0
        else:
            q = min(len(s.data.functions), q + 5) if fast and time.perf_counter() - t < 0.25 * sub_seconds \
                else (max(5, q - 5) if not fast else q)
        if lag is not None:
            vendor_kind = not vendor_kind if s.rng.random() < 0.3 else True


def _vendor_distance(profit):
    """How alike two vendors' offers are: the mean absolute difference over the functions both serve."""
    import numpy as np
    import warnings

    p = np.where(np.isfinite(profit), profit, np.nan)
    m = p.shape[1]
    distance = np.zeros((m, m))
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", RuntimeWarning)  # vendors with no function in common: nan
        for v in range(m):
            distance[v] = np.nanmean(np.abs(p - p[:, [v]]), axis=0)
    distance[np.isnan(distance)] = np.inf
    np.fill_diagonal(distance, -1.0)
    return distance


def search(model, options: SolveOptions, deadline: float | None, t0: float, start: dict[str, str] | None,
           vendor_share: float | None = None) -> Solution:
    """The matheuristic on a handed-off :class:`~outopt.solver.direct.DirectModel`: the best verified plan
    found by ``deadline`` (perf_counter seconds) and a valid bound. ``vendor_share``: the share of the time
    left after the bounds that the search over engaged vendors gets (default: 0.75 with 30 s or more
    left, else 0.5; the rest goes to assignments and neighbourhoods)."""
    started = time.perf_counter()
    s = Search(model, options, deadline, t0)
    if vendor_share is None:
        vendor_share = 0.75 if s.left() > 30 else 0.5
    _phases(s, start, vendor_share)
    return s.result(started)


SMALL_MAX_OFFERS = 12_000
"""Models with engagement columns and at most this many offers get the full MIP first and, when it does not
prove the optimum in its share of the time, the search and the full MIP again from the search's plan."""


def searchable(model) -> bool:
    """Models with many linking rows and no priority levels are searched (see ``SEARCH_MIN_LINKS``)."""
    return len(model.matrix.family_rows.get("engage_link", ())) >= SEARCH_MIN_LINKS and not model.matrix.levels
