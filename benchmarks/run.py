"""Benchmark outopt against HiGHS alone, OR-Tools CP-SAT and PuLP+CBC on the same instances.

One command runs a registry of instances (generated sizes, the OR-Library GAP suite,
the examples) through every solver, each run in its own process (so peak memory is
per run and a solver that overruns its limit is killed), and writes a table of
build, hand-off and solve seconds, objective, bound, peak memory and the ratios
against HiGHS alone. Every plan is checked by ``outopt.verify``.

    python benchmarks/run.py --list
    python benchmarks/run.py --only easy-50x5,gap1 --solvers outopt,highs --time-limit 10
    python benchmarks/run.py --suite quick --readme      # rewrite the table in benchmarks/README.md

"HiGHS alone" is a plain formulation of the core model (every offer a variable, every
vendor an engagement variable, every limit a row) built straight into highspy from
numpy arrays; CP-SAT and CBC get the same formulation (CP-SAT with amounts rounded
to cents). Needs the ``bench`` extra: ``pip install -e ".[bench]"``.
"""

from __future__ import annotations

import argparse
import csv
import json
import os
import re
import resource
import signal
import subprocess
import sys
import time
from concurrent.futures import ThreadPoolExecutor
from dataclasses import dataclass
from pathlib import Path

import numpy as np

ROOT = Path(__file__).resolve().parents[1]
GAP_DIR = Path(os.environ.get("OUTOPT_GAP_DIR", ROOT.parent / "shared" / "gap"))
if not GAP_DIR.exists():
    GAP_DIR = Path("/work/shared/gap")
SSCFLP_DIR = Path(os.environ.get("OUTOPT_SSCFLP_DIR", GAP_DIR.parent / "sscflp"))
SSCFLP_LAYOUT = {"holmberg": "A", "orlib": "A", "delmaire": "B"}
SOLVERS = ("outopt", "highs", "cpsat", "cbc", "build", "pyomo")
PEERS = ("cpsat", "cbc")


# --- the registry ------------------------------------------------------------------


@dataclass(frozen=True)
class Case:
    name: str
    kind: str  # generated | gap | sscflp | example
    args: tuple
    time_limit: float
    sense: str = "max"  # gap: max (gap1-12) or min (types A-D)
    known: float | None = None  # known optimum (GAP), as outopt's objective
    peers: bool = True  # run CP-SAT and CBC too (off for the largest and most of the GAP suite)


def _known_gap() -> dict:
    path = GAP_DIR / "values.csv"
    if not path.exists():
        return {}
    with open(path) as fh:
        return {(r["file"], int(r["index"]), r["sense"]): float(r["value"]) for r in csv.DictReader(fh)}


def registry() -> list[Case]:
    cases = []
    for profile in ("easy", "hard"):
        for n, m in [(50, 5), (500, 20), (2000, 50), (10000, 100)]:
            cases.append(Case(f"{profile}-{n}x{m}", "generated", (n, m, profile), 60, peers=n < 10000))
    known = _known_gap()
    for k in range(1, 13):
        for i in range(1, 6):
            v = known.get((f"gap{k}.txt", i, "max"))
            cases.append(Case(f"gap{k}-{i}", "gap", (f"gap{k}.txt", i), 60, "max", v, peers=i == 1))
    for t in "abcd":
        for i in range(1, 7):
            v = known.get((f"gap{t}.txt", i, "min"))
            cases.append(Case(f"gap{t}-{i}", "gap", (f"gap{t}.txt", i), 60, "min", None if v is None else -v,
                              peers=i == 1))
    cases += sscflp_cases()
    for path in sorted((ROOT / "instances").glob("*.yaml")):
        cases.append(Case(f"example-{path.stem}", "example", (str(path),), 60))
    return cases


def sscflp_cases() -> list[Case]:
    """The SSCFLP sets with their published optima (values.csv), as outopt objectives (minus the cost)."""
    path = SSCFLP_DIR / "values.csv"
    if not path.exists():
        return []
    cases = []
    with open(path) as fh:
        for r in csv.DictReader(fh):
            name, group = r["instance"], r["set"]
            stem = name.split("-", 1)[1] if group != "orlib" else name
            file = SSCFLP_DIR / group / stem
            if not file.exists():
                file = file.with_name(stem + ".gz")
            cases.append(Case(name if group != "orlib" else f"orlib-{name}", "sscflp",
                              (str(file), SSCFLP_LAYOUT[group]), 60, "min", -float(r["optimum"]), peers=False))
    return cases


SUITES = {
    "quick": r"^(easy-(50x5|500x20)|hard-(50x5|500x20)|gap(1|12)-1|gap[abc]-1|example-.*)$",
    "targets": r"^(easy-10000x100|hard-2000x50|gap\d+-\d|gap[abcd]-\d)$",
    "readme": r"^(easy-(50x5|500x20|2000x50|10000x100)|hard-(50x5|500x20|2000x50|10000x100)|gap.*|example-.*)$",
    "gap": r"^gap",
    "sscflp": r"^(holmberg|delmaire|orlib)-",
    "sscflp-large": r"^orlib-cap[abc]\d$",
    "all": r".*",
}


def cached_file(case: Case) -> Path:
    """The file of a generated case, written on first use."""
    import outopt
    from outopt.instance.generate import generate

    n, m, profile = case.args
    path = ROOT / "benchmarks" / ".cache" / f"{case.name}-s0.json"
    if not path.exists():
        outopt.save(generate(n, m, profile, seed=0), path)
    return path


def load_case(case: Case):
    import outopt
    from outopt.instance.orlib import gap_instance, sscflp_instance

    if case.kind == "generated":  # generated once, then read like any instance file
        return outopt.load(cached_file(case))
    if case.kind == "gap":
        return gap_instance(GAP_DIR / case.args[0], case.args[1], case.sense)
    if case.kind == "sscflp":
        return sscflp_instance(case.args[0], case.args[1])
    return outopt.load(case.args[0])


# --- the plain formulation from arrays ---------------------------------------------


class Arrays:
    """The core model as arrays: x (offers) then y (vendors); rows in CSR form."""

    def __init__(self, inst):
        from outopt.instance.schema import INHOUSE

        H = inst.horizon
        fidx = {f.id: i for i, f in enumerate(inst.functions)}
        vidx = {v.id: i for i, v in enumerate(inst.vendors)}
        funcs, vends = inst.functions, inst.vendors
        n, m = len(funcs), len(vends)
        offers = [o for o in inst.offers if not funcs[fidx[o.function]].core]
        self.offers = [(o.function, o.vendor) for o in offers]
        of = np.array([fidx[o.function] for o in offers], dtype=np.int64)
        ov = np.array([vidx[o.vendor] for o in offers], dtype=np.int64)
        k = len(offers)
        c_in = np.array([f.inhouse.cost if f.inhouse else 0.0 for f in funcs])
        w_in = np.array([f.inhouse.value if f.inhouse else 0.0 for f in funcs])
        rid = {r.id: i for i, r in enumerate(inst.resources)}
        uses = np.zeros((n, len(rid)))
        for i, f in enumerate(funcs):
            if f.inhouse:
                for r, u in f.inhouse.uses.items():
                    uses[i, rid[r]] = u
        rho = np.array([r.redeploy_value for r in inst.resources]) if rid else np.zeros(0)
        freed = uses @ rho if rid else np.zeros(n)
        rev = np.array([f.revenue for f in funcs])
        served = {f.current for f in funcs if f.current not in (None, INHOUSE)}
        cur = np.array([vidx.get(f.current, -1) if f.current not in (None, INHOUSE) else -1 for f in funcs])
        spend = np.array([o.cost for o in offers]) + np.array([o.commission for o in offers]) * rev[of]
        trans = np.where(cur[of] == ov, 0.0, np.array([o.transition for o in offers]))
        load = np.array([o.load for o in offers])
        value = np.array([o.value for o in offers])
        ben = c_in[of] - w_in[of] + freed[of] - spend - trans / H + value
        ret = np.array([v.retainer for v in vends])
        onb = np.array([0.0 if v.id in served else v.onboarding for v in vends])
        self.n_x, self.n_y = k, m
        self.obj = np.concatenate([ben, -(ret + onb / H)])
        rows_i, rows_j, rows_v, lo, hi = [], [], [], [], []
        r = 0

        def add(cols, vals, lb, ub):
            nonlocal r
            rows_i.append(np.full(len(cols), r, dtype=np.int64))
            rows_j.append(np.asarray(cols, dtype=np.int64))
            rows_v.append(np.asarray(vals, dtype=float))
            lo.append(lb)
            hi.append(ub)
            r += 1

        # one provider (batched)
        order = np.argsort(of, kind="stable")
        counts = np.bincount(of, minlength=n)
        must = np.array([f.inhouse is None for f in funcs])
        has = counts > 0
        fr = np.cumsum(has) - 1
        rows_i.append(r + fr[of[order]])
        rows_j.append(order)
        rows_v.append(np.ones(k))
        lo.extend(np.where(must[has], 1.0, 0.0).tolist())
        hi.extend([1.0] * int(has.sum()))
        r += int(has.sum())
        # links x <= y (batched)
        rows_i.append(r + np.repeat(np.arange(k), 2))
        rows_j.append(np.column_stack([np.arange(k), k + ov]).ravel())
        rows_v.append(np.tile([1.0, -1.0], k))
        lo.extend([-np.inf] * k)
        hi.extend([0.0] * k)
        r += k
        y = k + np.arange(m)
        if inst.budget.operating is not None:
            add(np.concatenate([np.arange(k), y]), np.concatenate([spend - c_in[of], ret]), -np.inf,
                inst.budget.operating - c_in[[f.inhouse is not None for f in funcs]].sum())
        if inst.budget.transition is not None:
            add(np.concatenate([np.arange(k), y]), np.concatenate([trans, onb]), -np.inf, inst.budget.transition)
        for j, res in enumerate(inst.resources):
            add(np.arange(k), -uses[of, j], -np.inf, res.capacity - uses[:, j].sum())
        share_cols = np.concatenate([np.arange(k), y])
        share_vals = np.concatenate([spend, ret])
        for i, v in enumerate(vends):
            sel = np.nonzero(ov == i)[0]
            if v.capacity is not None:
                add(np.concatenate([sel, [k + i]]), np.concatenate([load[sel], [-v.capacity]]), -np.inf, 0.0)
            if v.max_share is not None:
                own = np.zeros(k + m)
                own[sel] = spend[sel]
                own[k + i] = ret[i]
                vals = own - v.max_share * np.bincount(share_cols, share_vals, minlength=k + m)
                add(np.arange(k + m), vals, -np.inf, 0.0)
        if inst.rules.max_vendors is not None:
            add(y, np.ones(m), -np.inf, inst.rules.max_vendors)
        pos = {p: i for i, p in enumerate(self.offers)}
        for group in inst.rules.separate:
            for v in vends:
                cols = [pos[(f, v.id)] for f in group if (f, v.id) in pos]
                if len(cols) > 1:
                    add(cols, np.ones(len(cols)), -np.inf, 1.0)
        for group in inst.rules.together:
            for a, b in zip(group, group[1:]):
                for v in vends:
                    ca, cb = pos.get((a, v.id)), pos.get((b, v.id))
                    if ca is None and cb is None:
                        continue
                    cols = [c for c in (ca, cb) if c is not None]
                    vals = [1.0, -1.0][: len(cols)] if ca is not None else [1.0]
                    add(cols, vals, 0.0, 0.0)
        ri, rj, rv = np.concatenate(rows_i), np.concatenate(rows_j), np.concatenate(rows_v)
        keep = rv != 0
        self.rows_i, self.rows_j, self.rows_v = ri[keep], rj[keep], rv[keep]
        self.n_rows = r
        self.row_lo, self.row_hi = np.array(lo, dtype=float), np.array(hi, dtype=float)
        self.of, self.ov = of, ov
        self.vendors = [v.id for v in vends]

    def plan(self, xvals) -> dict:
        from outopt.instance.schema import INHOUSE

        plan = {}
        for (f, v), x in zip(self.offers, xvals):
            if x > 0.5:
                plan[f] = v
        return plan, INHOUSE


def run_highs(inst, time_limit, threads):
    import highspy

    t0 = time.perf_counter()
    a = Arrays(inst)
    order = np.lexsort((a.rows_i, a.rows_j))  # column-wise
    ncol = a.n_x + a.n_y
    starts = np.searchsorted(a.rows_j[order], np.arange(ncol + 1))
    lp = highspy.HighsLp()
    lp.num_col_, lp.num_row_ = ncol, a.n_rows
    lp.col_cost_ = a.obj
    lp.col_lower_ = np.zeros(ncol)
    lp.col_upper_ = np.ones(ncol)
    lp.row_lower_, lp.row_upper_ = a.row_lo, a.row_hi
    lp.a_matrix_.format_ = highspy.MatrixFormat.kColwise
    lp.a_matrix_.start_ = starts.astype(np.int32)
    lp.a_matrix_.index_ = a.rows_i[order].astype(np.int32)
    lp.a_matrix_.value_ = a.rows_v[order]
    lp.integrality_ = [highspy.HighsVarType.kInteger] * ncol
    lp.sense_ = highspy.ObjSense.kMaximize
    t1 = time.perf_counter()
    h = highspy.Highs()
    h.setOptionValue("output_flag", False)
    h.setOptionValue("time_limit", float(time_limit))
    h.setOptionValue("threads", threads)
    h.setOptionValue("mip_rel_gap", 0.0)
    h.passModel(lp)
    t2 = time.perf_counter()
    h.run()
    t3 = time.perf_counter()
    info = h.getInfo()
    plan = None
    if info.primal_solution_status == 2:
        plan, inhouse = a.plan(h.getSolution().col_value)
    bound = info.mip_dual_bound if np.isfinite(info.mip_dual_bound) else None
    return dict(build=t1 - t0, handoff=t2 - t1, solve=t3 - t2, plan=plan, bound=bound,
                status=h.modelStatusToString(h.getModelStatus()))


def run_cpsat(inst, time_limit, threads):
    from ortools.sat.python import cp_model

    t0 = time.perf_counter()
    a = Arrays(inst)
    s = 100.0  # cents
    md = cp_model.CpModel()
    ncol = a.n_x + a.n_y
    x = [md.NewBoolVar(f"c{j}") for j in range(ncol)]
    order = np.argsort(a.rows_i, kind="stable")
    ri, rj, rv = a.rows_i[order], a.rows_j[order], a.rows_v[order]
    bounds = np.searchsorted(ri, np.arange(a.n_rows + 1))
    for r in range(a.n_rows):
        cols, vals = rj[bounds[r]:bounds[r + 1]], rv[bounds[r]:bounds[r + 1]]
        ints = np.round(vals * s).astype(np.int64)
        lo = a.row_lo[r] * s if np.isfinite(a.row_lo[r]) else None
        hi = a.row_hi[r] * s if np.isfinite(a.row_hi[r]) else None
        expr = cp_model.LinearExpr.WeightedSum([x[j] for j in cols], ints.tolist())
        if lo is not None:
            md.Add(expr >= int(np.ceil(lo - 1e-6)))
        if hi is not None:
            md.Add(expr <= int(np.floor(hi + 1e-6)))
    md.Maximize(cp_model.LinearExpr.WeightedSum(x, np.round(a.obj * s).astype(np.int64).tolist()))
    t1 = time.perf_counter()
    solver = cp_model.CpSolver()
    solver.parameters.max_time_in_seconds = float(time_limit)
    solver.parameters.num_workers = threads
    solver.parameters.relative_gap_limit = 0.0
    t2 = time.perf_counter()
    st = solver.Solve(md)
    t3 = time.perf_counter()
    plan = None
    if st in (cp_model.OPTIMAL, cp_model.FEASIBLE):
        plan, _ = a.plan([solver.Value(x[j]) for j in range(a.n_x)])
    return dict(build=t1 - t0, handoff=t2 - t1, solve=t3 - t2, plan=plan,
                bound=solver.BestObjectiveBound() / s if plan is not None else None,
                status=solver.StatusName(st))


def run_cbc(inst, time_limit, threads):
    import pulp

    t0 = time.perf_counter()
    a = Arrays(inst)
    ncol = a.n_x + a.n_y
    prob = pulp.LpProblem("bench", pulp.LpMaximize)
    x = [pulp.LpVariable(f"c{j}", cat="Binary") for j in range(ncol)]
    prob += pulp.LpAffineExpression(zip(x, a.obj.tolist()))
    order = np.argsort(a.rows_i, kind="stable")
    ri, rj, rv = a.rows_i[order], a.rows_j[order], a.rows_v[order]
    bounds = np.searchsorted(ri, np.arange(a.n_rows + 1))
    for r in range(a.n_rows):
        cols, vals = rj[bounds[r]:bounds[r + 1]], rv[bounds[r]:bounds[r + 1]]
        expr = pulp.LpAffineExpression(zip((x[j] for j in cols), vals.tolist()))
        if np.isfinite(a.row_lo[r]) and np.isfinite(a.row_hi[r]) and a.row_lo[r] == a.row_hi[r]:
            prob += expr == a.row_hi[r]
            continue
        if np.isfinite(a.row_lo[r]):
            prob += expr >= a.row_lo[r]
        if np.isfinite(a.row_hi[r]):
            prob += expr <= a.row_hi[r]
    t1 = time.perf_counter()
    solver = pulp.PULP_CBC_CMD(msg=False, timeLimit=float(time_limit), threads=threads, gapRel=0.0)
    t2 = time.perf_counter()
    prob.solve(solver)
    t3 = time.perf_counter()
    plan = None
    if pulp.LpStatus[prob.status] in ("Optimal", "Not Solved") and all(v.varValue is not None for v in x[:a.n_x]):
        plan, _ = a.plan([v.varValue for v in x[:a.n_x]])
    return dict(build=t1 - t0, handoff=t2 - t1, solve=t3 - t2, plan=plan, bound=None,
                status=pulp.LpStatus[prob.status])


def run_outopt(inst, time_limit, threads):
    import outopt
    from outopt.solver import SolveOptions

    t0 = time.perf_counter()
    sol = outopt.solve(inst, options=SolveOptions(time_limit=time_limit, threads=threads))
    total = time.perf_counter() - t0
    solve = sol.solve_time
    return dict(build=max(0.0, total - solve), handoff=0.0, solve=solve, plan=sol.plan, bound=sol.bound,
                status=sol.status.value, message=sol.message)


def run_build(inst, time_limit, threads):
    """outopt's build and hand-off of the full model (no reductions) as ``outopt.solve`` does them (from
    the matrix form), to compare with HiGHS alone's arrays."""
    from outopt.model.data import compile_data
    from outopt.solver.direct import DirectModel

    t0 = time.perf_counter()
    model = DirectModel(inst, compile_data(inst, reduce=False))
    t1 = time.perf_counter()
    model.hand_off()
    t2 = time.perf_counter()
    return dict(build=t1 - t0, handoff=t2 - t1, solve=0.0, plan=None, bound=None, status="built")


def run_pyomo(inst, time_limit, threads):
    """The Pyomo model's build and persistent hand-off (``outopt.build``: the analyses' model), for reference."""
    from pyomo.contrib.solver.solvers.highs import Highs

    from outopt.model.data import compile_data
    from outopt.model.portfolio import build_model

    t0 = time.perf_counter()
    model = build_model(compile_data(inst, reduce=False))
    t1 = time.perf_counter()
    Highs().set_instance(model)
    t2 = time.perf_counter()
    return dict(build=t1 - t0, handoff=t2 - t1, solve=0.0, plan=None, bound=None, status="built")


RUNNERS = {"outopt": run_outopt, "highs": run_highs, "cpsat": run_cpsat, "cbc": run_cbc, "build": run_build,
           "pyomo": run_pyomo}


def worker(case_name: str, solver: str, time_limit: float, threads: int) -> None:
    """Run one (instance, solver) in this process and print one JSON line."""
    import outopt
    from outopt.instance.schema import INHOUSE
    from outopt.solver import stdout_to_stderr

    if solver == "outopt":  # what outopt imports on first use when it builds a model (Pyomo, highspy),
        # imported before the clock as HiGHS alone's highspy is: `total` times solving, not importing
        import outopt.model.portfolio  # noqa: F401
        import highspy  # noqa: F401
        import pyomo.contrib.solver.solvers.highs  # noqa: F401
    case = next(c for c in registry() if c.name == case_name)
    t_read = time.perf_counter()
    inst = load_case(case)
    read = time.perf_counter() - t_read
    t0 = time.perf_counter()
    with stdout_to_stderr():
        res = RUNNERS[solver](inst, time_limit, threads)
    total = time.perf_counter() - t0
    plan = res.pop("plan")
    objective = feasible = None
    if plan is not None:
        full = {f.id: plan.get(f.id, INHOUSE) for f in inst.functions}
        check = outopt.verify(inst, full)
        feasible = check.feasible
        objective = check.objective if check.feasible else None
    print(json.dumps(dict(case=case_name, solver=solver, read=read, total=total, objective=objective,
                          feasible=feasible, known=case.known, **res)), flush=True)


# --- the driver ----------------------------------------------------------------------


def run_one(case: Case, solver: str, time_limit: float, threads: int) -> dict:
    cmd = [sys.executable, __file__, "--worker", case.name, solver, str(time_limit), str(threads)]
    t0 = time.perf_counter()
    proc = subprocess.Popen(cmd, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True,
                            start_new_session=True)
    hard = time_limit * 2 + 120  # peers that ignore their limit are killed here
    out = ""
    try:
        out, _ = proc.communicate(timeout=hard)
        killed = False
    except subprocess.TimeoutExpired:
        os.killpg(proc.pid, signal.SIGKILL)
        out, _ = proc.communicate()
        killed = True
    wall = time.perf_counter() - t0
    peak = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024  # MB, max over children so far
    line = next((ln for ln in out.splitlines()[::-1] if ln.startswith("{")), None)
    row = json.loads(line) if line else dict(case=case.name, solver=solver, status="killed" if killed else "error")
    row.update(wall=wall, peak_mb=_peak(proc.pid, peak), time_limit=time_limit)
    return row


_PEAKS: dict = {}


def _peak(pid, fallback):
    return _PEAKS.pop(pid, fallback)


def _install_peak_tracking():
    """Per-child peak memory through wait4 (RUSAGE_CHILDREN only keeps the maximum over all children)."""
    original = subprocess.Popen._try_wait

    def _try_wait(self, wait_flags):
        try:
            pid, sts, ru = os.wait4(self.pid, wait_flags)
        except ChildProcessError:
            pid, sts = self.pid, 0
            ru = None
        if pid == self.pid and ru is not None:
            _PEAKS[pid] = ru.ru_maxrss / 1024
        return pid, sts

    subprocess.Popen._try_wait = _try_wait
    return original


def fmt(x, nd=2):
    if x is None:
        return "-"
    if isinstance(x, float):
        if abs(x) >= 1e5:
            return f"{x:,.0f}"
        return f"{x:.{nd}f}"
    return str(x)


def table(rows: list[dict]) -> str:
    by_case: dict = {}
    for r in rows:
        by_case.setdefault(r["case"], {})[r["solver"]] = r
    head = ("| instance | solver | status | build s | hand-off s | solve s | wall s | objective | bound | "
            "peak MB | time / HiGHS | objective / HiGHS |")
    lines = [head, "|" + " --- |" * 12]
    for case, runs in by_case.items():
        ref = runs.get("highs")
        for solver in SOLVERS:
            r = runs.get(solver)
            if r is None:
                continue
            ratio_t = ratio_o = "-"
            if ref and ref.get("total") and r.get("total") is not None:
                ratio_t = f"{r['total'] / ref['total']:.2f}"
            if ref and ref.get("objective") and r.get("objective") is not None and ref["objective"] != 0:
                ratio_o = f"{r['objective'] / ref['objective']:.5f}"
            lines.append(
                f"| {case} | {solver} | {r.get('status', '-')} | {fmt(r.get('build'))} | {fmt(r.get('handoff'))} | "
                f"{fmt(r.get('solve'))} | {fmt(r.get('wall'))} | {fmt(r.get('objective'))} | {fmt(r.get('bound'))} | "
                f"{fmt(r.get('peak_mb'), 0)} | {ratio_t} | {ratio_o} |"
            )
    return "\n".join(lines)


def summary(rows: list[dict]) -> str:
    """The issue's targets, measured."""
    out = []
    runs = {(r["case"], r["solver"]): r for r in rows}

    def get(case, solver):
        return runs.get((case, solver))

    e = get("easy-10000x100", "outopt")
    if e:
        out.append(f"- easy 10,000x100: {e.get('status')}, whole process {e['wall']:.1f} s (target < 20 s), "
                   f"peak {e['peak_mb']:.0f} MB (target < 2048)")
    h = get("hard-2000x50", "outopt")
    if h:
        peers = {s: (get("hard-2000x50", s) or {}).get("objective") for s in ("highs", "cpsat", "cbc")}
        out.append(f"- hard 2,000x50: outopt {fmt(h.get('objective'))} vs " +
                   ", ".join(f"{s} {fmt(v)}" for s, v in peers.items()))
    for label, pat in [("gap1-12 (max)", r"^gap\d+-"), ("types A-C (min)", r"^gap[abc]-")]:
        cases = sorted({r["case"] for r in rows if re.match(pat, r["case"])})
        if not cases:
            continue
        opt = sum(1 for c in cases if (get(c, "outopt") or {}).get("status") == "optimal")
        t_o = sum((get(c, "outopt") or {}).get("total", 0) for c in cases)
        t_h = sum((get(c, "highs") or {}).get("total", 0) for c in cases)
        ratio = f"{t_o / t_h:.2f}x" if t_h else "-"
        out.append(f"- GAP {label}: {opt}/{len(cases)} proven optimal by outopt; total time {t_o:.1f} s vs HiGHS "
                   f"alone {t_h:.1f} s ({ratio}; target <= 1.3x)")
    d = [c for c in sorted({r["case"] for r in rows}) if c.startswith("gapd-")]
    if d:
        gaps = []
        for c in d:
            r = get(c, "outopt") or {}
            if r.get("objective") is not None and r.get("known"):
                gaps.append(abs(r["known"] - r["objective"]) / abs(r["known"]))
        if gaps:
            out.append(f"- GAP type D: mean gap to the known values {100 * sum(gaps) / len(gaps):.3f} % over "
                       f"{len(gaps)} problems (target <= 0.1 %)")
    for size in ("easy-10000x100", "hard-10000x100", "orlib-capa1"):
        b, h = get(size, "build"), get(size, "highs")
        if b and h and b.get("build") is not None and h.get("build") is not None:
            ours, theirs = b["build"] + b["handoff"], h["build"] + h["handoff"]
            out.append(f"- build + hand-off of the full model at {size}: outopt {ours:.2f} s vs arrays {theirs:.2f} s "
                       f"({ours / theirs:.1f}x; target <= 3x)")
    for label, pat in [("SSCFLP capa-capc", r"^orlib-cap[abc]\d$"), ("SSCFLP others", r"^(holmberg|delmaire|orlib-cap\d)")]:
        gaps, worse = [], []
        for c in sorted({r["case"] for r in rows if re.match(pat, r["case"])}):
            o, h = get(c, "outopt") or {}, get(c, "highs") or {}
            if o.get("objective") is not None and o.get("known"):
                gaps.append(abs(o["known"] - o["objective"]) / abs(o["known"]))
            if o.get("objective") is not None and h.get("objective") is not None and o["objective"] < h["objective"] - 1e-6:
                worse.append(c)
        if gaps:
            out.append(f"- {label}: mean gap to the published optima {100 * sum(gaps) / len(gaps):.3f} % over {len(gaps)}, "
                       f"worst {100 * max(gaps):.3f} %, {sum(g <= 0.01 for g in gaps)}/{len(gaps)} within 1 % (targets: mean "
                       f"<= 0.2 %, all within 1 %); worse than HiGHS alone: {', '.join(worse) or 'none'}")
    late = [r for r in rows if r["solver"] == "outopt" and r.get("wall", 0) > max(r["time_limit"] * 1.1,
                                                                                  r["time_limit"] + 2) + r.get("read", 0)]
    outs = [r for r in rows if r["solver"] == "outopt"]
    if outs:
        out.append(f"- time limits: {len(outs) - len(late)}/{len(outs)} outopt calls returned within limit + 10 % "
                   f"(or 2 s) after reading" + (": late " + ", ".join(r["case"] for r in late) if late else ""))
    return "\n".join(out)


def update_readme(text: str) -> None:
    path = ROOT / "benchmarks" / "README.md"
    old = path.read_text() if path.exists() else "# Benchmarks\n"
    start = old.find("## Performance")
    if start >= 0:
        nxt = old.find("\n## ", start + 5)
        old = old[:start].rstrip("\n") + ("\n\n" + old[nxt + 1:] if nxt >= 0 else "")
    path.write_text(old.rstrip("\n") + "\n\n" + text.rstrip("\n") + "\n")


def main(argv=None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--suite", choices=sorted(SUITES), default=None, help="a named subset of the registry")
    ap.add_argument("--only", default=None, help="comma-separated instance names or regular expressions")
    ap.add_argument("--solvers", default=",".join(SOLVERS), help=f"comma-separated, from {', '.join(SOLVERS)}")
    ap.add_argument("--time-limit", type=float, default=None, help="seconds per run (default: each instance's own)")
    ap.add_argument("--threads", type=int, default=1)
    ap.add_argument("--jobs", type=int, default=1, help="runs at the same time (each its own process)")
    ap.add_argument("--out", default=str(ROOT / "benchmarks" / "results.json"), help="raw results (JSON lines)")
    ap.add_argument("--readme", action="store_true", help="write the table into benchmarks/README.md")
    ap.add_argument("--list", action="store_true", help="list the registry and exit")
    ap.add_argument("--report", nargs="+", metavar="JSONL", help="print the targets and table of earlier runs' raw "
                    "results (--out files) and exit")
    ap.add_argument("--worker", nargs=4, help=argparse.SUPPRESS)
    ap.add_argument("--cache", help=argparse.SUPPRESS)
    args = ap.parse_args(argv)
    if args.cache:
        cached_file(next(c for c in registry() if c.name == args.cache))
        return 0
    if args.worker:
        name, solver, tl, threads = args.worker
        worker(name, solver, float(tl), int(threads))
        return 0
    if args.report:
        rows = [json.loads(line) for path in args.report for line in Path(path).read_text().splitlines() if line]
        print(f"### Targets\n\n{summary(rows)}\n\n### Table\n\n{table(rows)}")
        return 0
    cases = registry()
    if args.list:
        for c in cases:
            print(f"{c.name:22s} {c.kind:10s} limit {c.time_limit:g}s")
        return 0
    if args.suite:
        cases = [c for c in cases if re.match(SUITES[args.suite], c.name)]
    if args.only:
        pats = args.only.split(",")
        cases = [c for c in cases if any(c.name == p or re.fullmatch(p, c.name) for p in pats)]
    solvers = [s for s in args.solvers.split(",") if s]
    bad = set(solvers) - set(SOLVERS)
    if bad:
        ap.error(f"unknown solver(s): {', '.join(sorted(bad))}")
    _install_peak_tracking()
    jobs = []
    for case in cases:
        for solver in solvers:
            if solver in PEERS and not case.peers and not args.only:
                continue
            if solver in ("build", "pyomo") and not (case.name.endswith("10000x100") or re.match(r"orlib-capa1$", case.name)):
                continue
            jobs.append((case, solver, args.time_limit or case.time_limit))
    for case in dict.fromkeys(c for c, _, _ in jobs):
        if case.kind == "generated":  # write the cached file once, in a child: a parent holding a big
            # instance would make every forked child's peak memory at least as big
            subprocess.run([sys.executable, __file__, "--cache", case.name], check=True)
    rows = []
    with open(args.out, "w") as fh, ThreadPoolExecutor(max_workers=args.jobs) as pool:
        for row in pool.map(lambda job: run_one(job[0], job[1], job[2], args.threads), jobs):
            rows.append(row)
            fh.write(json.dumps(row) + "\n")
            fh.flush()
            print(f"{row['case']:18s} {row['solver']:7s} {row.get('status', '-'):22s} wall {row['wall']:7.2f}s "
                  f"obj {fmt(row.get('objective'))}", file=sys.stderr, flush=True)
    cmd = "python benchmarks/run.py " + " ".join(a for a in (argv or sys.argv[1:]) if a != "--readme")
    text = (f"## Performance\n\nMade by `{cmd}` ({time.strftime('%Y-%m-%d')}, {args.threads} thread(s), "
            f"2-core machine shared with other jobs). `wall` is the whole process (starting Python, importing, "
            f"reading the instance, solving, verifying); build, hand-off and solve are inside it (for outopt, "
            f"build is everything but the HiGHS run: reductions, heuristic, Pyomo build and hand-off). "
            f"`time / HiGHS` compares the time from the instance in memory to a verified plan. Peers (CP-SAT, "
            f"CBC) run on the generated instances below 10,000 functions, the examples and the first problem "
            f"of each GAP file; `build` is outopt's Pyomo build and hand-off of the unreduced model.\n\n### Targets\n\n{summary(rows)}\n\n"
            f"### Table\n\n{table(rows)}\n")
    print(text)
    if args.readme:
        update_readme(text)
    return 0


if __name__ == "__main__":
    sys.exit(main())
