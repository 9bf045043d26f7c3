"""Why the plan is what it is: regrets, break-even costs and binding limits, by re-solving one built model.

``explain(instance)`` solves the instance to optimality and then, on the same built model
(fixing and unfixing ``outsource`` variables, changing ``*_limit`` Params, switching
objectives; HiGHS's persistent interface applies each change incrementally):

* **functions**: for every function its provider, the **runner-up** (its provider in the best
  plan that gives it another provider) and the **regret**, the optimum minus that plan's
  net benefit (null when no other provider is possible), with the other decisions that
  change with it. One re-solve per function: ``outsource[f, p]`` fixed to 0, or, for a
  function kept in-house, a row forcing it out; a single MIP with the soft rules' priority levels
  pinned at the optimum's when a verified plan answering the question meets them (the optimal plan
  with the one decision moved, or any plan an earlier re-solve found: the pool), else the full
  lexicographic re-solve. No re-solve when the break-even searches of the function's offers
  determine the answer (see ``_break_even``).
* **offers**: for every offer not chosen, the **break-even cost**: the highest yearly
  ``cost`` (at most its current cost) at which the offer is part of an optimal plan,
  everything else unchanged. Exact, one MIP per offer: ``outsource[f, v]`` fixed to 1 and
  the cost a variable, entering the objective and every row through its coefficients
  (read off a second build with every offer's cost one unit higher), subject to a net
  benefit of at least the optimum; maximise the cost. Accurate to the solver's tolerances
  (1e-6 relative). ``None`` ("never") when no feasible plan can give the function to that
  vendor at any cost: a rule forbids it (a core function, a together-group the vendor cannot
  serve whole, ...). The soft rules' priority levels are held at the optimum's: a plan that
  breaks a higher-priority rule more never enters the optimal plan, whatever the offer's cost.
* **limits**: each limit, whether it is **binding** (the plan uses it to within one step),
  and for the binding ones the **value of one more unit**: the change in the optimum when
  the limit is relaxed by its step (1% of a budget or vendor capacity, one unit of a staff
  pool or of max_vendors, one percentage point of a share), divided by the step; plus the
  LP dual of the limit's row with the engagement decisions fixed at the plan and the
  assignments relaxed to [0, 1] (a marginal value of the relaxation, per unit).

Every re-solve starts from a verified plan and is solved to proven optimality; the questions
asked and the solver runs used are counted (``Explanation.questions``, ``Explanation.solves``).
The break-even MIPs, then the regret MIPs, are independent of one another: they run at once on
copies of the built HiGHS model in worker threads (``SolveOptions.threads`` of them, default the
CPU count; one HiGHS thread each; see ``Session.solve_variants``), each from a cleared state and
a starting plan chosen before any of them runs, so the answers do not depend on the number of
workers or their timing.
"""

from __future__ import annotations

import contextlib
import json
import math
import time
from dataclasses import dataclass, field, replace

import pandas as pd
import pyomo.environ as pyo
from pyomo.repn import generate_standard_repn

from outopt.analysis._session import Job, Session
from outopt.analysis._subject import Source, build_any, row_words
from outopt.analysis.limits import Limit, affine_row, find_limits, set_place, usage
from outopt.analysis.limits import binding as is_binding
from outopt.errors import SolverError
from outopt.instance.numerics import tolerance
from outopt.instance.schema import INHOUSE, Instance
from outopt.solver import SolveOptions
from outopt.solver.interrupts import unless_interrupted
from outopt.solver.options import Tally
from outopt.solver.solution import CompanySolution, Solution

BREAK_EVEN_TOLERANCE = 1e-6  # relative to the optimum: a plan "enters" when within this of the optimum

RESOLVE_OPTIONS = {"mip_heuristic_run_rins": False, "mip_heuristic_run_rens": False,
                   "mip_heuristic_run_feasibility_jump": False}


def _above(level: float) -> float:
    """A priority level's weighted violation with the solver's tolerance (as in outopt.solver)."""
    return level + 1e-6 * max(1.0, level)


@dataclass
class Explanation:
    """The explanation of an optimal plan: per function, per unchosen offer, per limit."""

    solution: Solution | CompanySolution
    functions: list[dict] = field(default_factory=list)
    offers: list[dict] = field(default_factory=list)
    limits: list[dict] = field(default_factory=list)
    solves: int = 0  # solver runs: the first solve, one per question a bound did not settle, the LP duals
    questions: int = 0  # regrets, break-evens and binding limits' values asked
    time: float = 0.0
    timings: dict = field(default_factory=dict)  # seconds: first solve, limits, functions, offers

    @property
    def instance(self) -> Source:
        return self.solution.instance

    def to_dict(self) -> dict:
        return {
            "instance": self.instance.name,
            "currency": self.instance.currency,
            "status": self.solution.status.value,
            "objective": self.solution.objective,
            "functions": self.functions,
            "offers": self.offers,
            "limits": self.limits,
            "break_even_tolerance": BREAK_EVEN_TOLERANCE,
            "solves": self.solves,
            "questions": self.questions,
            "time": round(self.time, 4),
            "timings": {k: round(v, 4) for k, v in self.timings.items()},
        }

    def to_json(self, indent: int | None = 2) -> str:
        return json.dumps(self.to_dict(), indent=indent)

    def frame(self) -> pd.DataFrame:
        """One row per function: provider, runner-up, regret, the other decisions that change;
        ``attrs["offers"]`` and ``attrs["limits"]`` hold the offer and limit tables."""
        by = ["division"] if any("division" in r for r in self.functions) else []  # a company's: by division
        cols = [*by, "function", "provider", "runner_up", "regret", "also_changes"]
        rows = [{**{k: r[k] for k in cols[:-1]},
                 "also_changes": ", ".join(f"{row_words(c)}: {c['from']} -> {c['to']}" for c in r["changes"])}
                for r in self.functions]
        df = pd.DataFrame(rows, columns=cols)
        df.attrs["offers"] = pd.DataFrame(self.offers, columns=[*by, "function", "vendor", "cost", "break_even_cost",
                                                                 "reason"])
        df.attrs["limits"] = pd.DataFrame(
            self.limits, columns=["limit", "label", "current", "used", "binding", "step", "gain", "value_of_unit", "lp_dual"])
        return df


class _Explainer:
    """The questions about one instance's or company's optimal plan. Plans are flat (slot -> provider; a slot
    is a function, or a company's (division, function): see outopt.analysis._subject)."""

    def __init__(self, instance: Source, options: SolveOptions, solution: Solution | CompanySolution | None,
                 tally: Tally):
        t0 = time.perf_counter()
        self.tally = tally
        tally.start("solving the instance")
        self.deadline = None if options.time_limit is None else t0 + options.time_limit
        self.instance = instance
        self.options = replace(options, gap=0.0)
        self.model = build_any(instance)
        self.session = Session(self.model, threads=options.threads, seed=options.seed, deadline=self.deadline,
                               fixed_as_bounds=True)
        self.s = self.session.subject
        start = solution.plan if solution is not None and solution.plan else None
        self.solution = unless_interrupted(self.model.solve(self.options, start=start))
        # every re-solve starts from a verified plan of the pool; HiGHS's large-neighbourhood heuristics
        # (RINS, RENS) and feasibility jump look for such plans and cost ~40% of a re-solve here. Each MIP
        # is still solved to proven optimality, so the figures do not change.
        self.session.highs_options = RESOLVE_OPTIONS
        # independent re-solves (break-evens, regrets) run this many at once, one HiGHS thread each
        self.workers = options.threads
        self.solves = 1
        self.questions = 0
        # the optimum's weighted violation per priority level: plans that do worse never enter an optimal plan
        self.levels: dict = dict(getattr(self.solution.verification, "level_violation", {})) if (
            self.solution.status.has_plan) else {}
        # verified plans seen so far (net benefit, plan), feasible at the instance's costs and meeting the
        # optimum's priority levels: warm starts, and the runner-up when they answer a question
        self.pool: list[tuple[float, dict[str, str]]] = []
        # best net benefit of a plan giving f to v, known exactly from its break-even (None: no such plan)
        self.best_with: dict[tuple[str, str], tuple[float, dict[str, str]] | None] = {}

    @property
    def plan(self) -> dict:
        return self.s.flat(self.solution.plan)

    @property
    def opt(self) -> float:
        return self.solution.objective

    @contextlib.contextmanager
    def judged_against(self, instance: Source):
        """Verify re-solved plans against a changed instance (a relaxed limit) for the duration."""
        saved = self.model.instance
        self.model.instance = instance
        try:
            yield
        finally:
            self.model.instance = saved

    def remaining(self) -> float | None:
        """Seconds left of the time limit (None: no limit)."""
        return None if self.deadline is None else self.deadline - time.perf_counter()

    def resolve(self, start: dict[str, str] | None) -> Solution | None:
        """Re-solve the built model from a starting plan; None when the time limit is spent."""
        left = self.remaining()
        if left is not None and left <= 0.05:
            return None
        self.solves += 1
        return unless_interrupted(self.model.solve(replace(self.options, warm_start=False, time_limit=left),
                                                    start=self.s.nest(start)))

    def admit(self, plan: dict[str, str]) -> float | None:
        """Verify a plan at the instance's costs (its net benefit, None when infeasible); keep it in the
        pool when it also meets the optimum's priority levels."""
        check = self.s.check(plan, self.instance)
        if not check.feasible:
            return None
        if all(check.level_violation.get(p, 0.0) <= _above(x) for p, x in self.levels.items()):
            self.pool.append((check.objective, plan))
        return check.objective

    def best_in_pool(self, fits) -> tuple[float, dict[str, str]] | None:
        known = [t for t in self.pool if fits(t[1])]
        return max(known, key=lambda t: t[0]) if known else None

    @contextlib.contextmanager
    def levels_pinned(self):
        """Soft rules with priorities held at the optimum's levels (the last stage of the lexicographic
        solve) for the duration: a single MIP then answers a question a full re-solve would."""
        m = self.model.pyomo
        if not hasattr(m, "P"):
            yield
            return
        saved = {p: pyo.value(m.priority_level_limit[p]) for p in m.P}
        for p in m.P:
            m.priority_level_limit[p] = _above(self.levels.get(p, 0.0))
        try:
            yield
        finally:
            for p, x in saved.items():
                m.priority_level_limit[p] = x

    # --- functions: runner-up and regret -----------------------------------------------
    def functions(self) -> list[dict]:
        m, s = self.model.pyomo, self.s
        with_offers = [f for f in s.slots if s.pairs_of(f)]
        self.force_out = {f: k for k, f in enumerate(with_offers)}  # slot -> index of its row
        m.explain_force_out = pyo.Constraint(
            range(len(with_offers)), rule=lambda m, k: sum(s.x(p) for p in s.pairs_of(with_offers[k])) >= 1)
        m.explain_force_out.deactivate()
        out, answers, jobs, slots = [], {}, {}, {}
        self.tally.start("regrets", total=sum(1 for f in s.slots if self.plan[f] != INHOUSE or f in self.force_out))
        for f in s.slots:
            p = self.plan[f]
            row = {**s.label(f), "provider": p, "runner_up": None, "regret": None, "changes": []}
            out.append(row)
            slots[id(row)] = f
            if p == INHOUSE and f not in self.force_out:
                continue  # no other provider is possible
            self.questions += 1
            answers[f] = self._best_from_break_evens(f, p)
            if answers[f] is None:
                start = self._start_without(f, p)
                if start is not None or not self.levels:  # one MIP, levels pinned: solved with the others
                    jobs[f] = self._job_without(f, p, start)
        self.tally.tick(sum(1 for f in answers if f not in jobs and answers[f] is not None))
        if jobs:
            with self.levels_pinned():
                found = self.session.solve_variants(list(jobs.values()), self.workers, on_done=self.tally.tick)
            self.solves += len(jobs)
            for f, outcome in zip(jobs, found):
                answers[f] = self._answer(*outcome)
        for row in out:
            f, p = slots[id(row)], row["provider"]
            if f not in answers:
                continue
            best = answers[f]
            if best is None:  # no verified plan without f -> p meets the levels: the full re-solve
                best = self._resolve_without(f, p)
                self.tally.tick()
            if best == "timeout":
                row["note"] = "time limit reached"
                continue
            if best == "none":
                continue
            objective, plan = best
            row["runner_up"] = plan[f]
            row["regret"] = round(self.opt - objective, 6)
            row["changes"] = [{**s.label(g), "from": self.plan[g], "to": plan[g]}
                              for g in s.slots if g != f and plan[g] != self.plan[g]]
        return out

    def _best_from_break_evens(self, f: str, p: str):
        """The best plan giving f another provider, when every other provider is an offer whose best plan
        the break-even search found exactly: (net benefit, plan), "none" when no plan exists, None when
        a re-solve is needed (an in-house alternative, an offer not known exactly)."""
        others = [q for (_, q) in self.s.pairs_of(f) if q != p]
        if p != INHOUSE and self.s.function(f).inhouse is not None:
            return None
        if not all((f, q) in self.best_with for q in others):
            return None
        found = [self.best_with[f, q] for q in others if self.best_with[f, q] is not None]
        if found:
            return max(found, key=lambda t: t[0])
        # no plan meets the optimum's priority levels; without priorities, none at all
        return "none" if not self.levels else None

    def _start_without(self, f: str, p: str) -> dict[str, str] | None:
        """The best verified plan that gives f another provider than p and meets the optimum's priority
        levels (the optimal plan with f moved, when that alone is feasible, or one seen before); None
        when none is known. When one exists, so does the best such plan: one MIP with the levels
        pinned finds it."""
        for q in [q for (_, q) in self.s.pairs_of(f) if q != p] + [INHOUSE]:
            if q != p:
                self.admit({**self.plan, f: q})
        start = self.best_in_pool(lambda plan: plan[f] != p)
        return None if start is None else start[1]

    def _job_without(self, f: str, p: str, start: dict[str, str] | None) -> Job:
        """The MIP keeping f from p: outsource[f, p] fixed to 0, or, when p is in-house, a row forcing f out."""
        if p == INHOUSE:
            xs = tuple(self.s.x(q) for q in self.s.pairs_of(f))
            return Job(rows=((1.0, math.inf, xs, (1.0,) * len(xs)),), start=start)
        return Job(bounds=((self.s.x((f, p)), 0.0, 0.0),), start=start)

    def _answer(self, status: str, objective: float | None, plan: dict[str, str] | None):
        """A re-solve's outcome as (net benefit by the verifier, plan), "none" or "timeout"."""
        if status != "optimal":
            return "none" if status == "infeasible" else "timeout"
        value = self.admit(plan)
        if value is None:
            raise SolverError("explain: a re-solved plan fails verification")
        return value, plan

    def _resolve_without(self, f: str, p: str):
        """The full lexicographic re-solve with f kept from p: (net benefit, plan), "none" or "timeout"."""
        m = self.model.pyomo
        if p == INHOUSE:
            m.explain_force_out[self.force_out[f]].activate()
        else:
            self.s.x((f, p)).fix(0)
        try:
            return self.best_plan(single=False, start=None)
        finally:
            if p == INHOUSE:
                m.explain_force_out[self.force_out[f]].deactivate()
            else:
                self.s.x((f, p)).unfix()

    def best_plan(self, single: bool, start: dict | None, judge: Source | None = None):
        """The optimum of the model as changed: (net benefit, plan) by ``judge`` (default: the instance),
        "none" when there is no plan, "timeout". With ``single`` (the caller knows the optimum meets the
        optimum's priority levels) or no priorities, one MIP with the levels pinned; otherwise the full
        lexicographic re-solve."""
        judge = judge or self.instance
        if single or not self.levels:
            with self.levels_pinned():
                status, _ = self.session.solve(start=start)
            self.solves += 1
            if status != "optimal":
                return "none" if status == "infeasible" else "timeout"
            plan = self.session.plan()
        else:
            with self.judged_against(judge):
                sol = self.resolve(start)
            if sol is None or sol.status.name == "TIMEOUT":
                return "timeout"
            if not sol.status.has_plan:
                return "none"
            plan = self.s.flat(sol.plan)
        if judge is not self.instance:
            check = self.s.check(plan, judge)
            if not check.feasible:
                raise SolverError(f"explain: a re-solved plan fails verification: {'; '.join(check.violations)}")
            return check.objective, plan
        objective = self.admit(plan)
        if objective is None:
            raise SolverError("explain: a re-solved plan fails verification")
        return objective, plan

    # --- offers: break-even cost ---------------------------------------------------------
    def _cost_coefficients(self):
        """d(coefficient of outsource[f, v])/d(cost of offer (f, v)) in every row and the objective,
        read off a second build with every offer's cost one unit higher."""
        other = build_any(self.s.with_costs(1.0)).pyomo
        m = self.model.pyomo

        def coefs(expr, model):
            repn = generate_standard_repn(expr, compute_values=True, quadratic=False)
            out = {}
            for v, c in zip(repn.linear_vars, repn.linear_coefs):
                pair = self.s.pair_of_var(v)
                if pair is not None:
                    out[pair] = out.get(pair, 0.0) + pyo.value(c)
            return out

        rows = {}
        for con in m.component_data_objects(pyo.Constraint, active=True):
            twin = other.find_component(con.name)
            if twin is None:
                continue
            a, b = coefs(con.body, m), coefs(twin.body, other)
            d = {p: b.get(p, 0.0) - a.get(p, 0.0) for p in set(a) | set(b)}
            d = {p: x for p, x in d.items() if abs(x) > 1e-9}
            if d:
                rows[con] = d
        a, b = coefs(m.net_benefit.expr, m), coefs(other.net_benefit.expr, other)
        objective = {p: b.get(p, 0.0) - a.get(p, 0.0) for p in set(a) | set(b)}
        return rows, objective

    def offers(self) -> list[dict]:
        m, s = self.model.pyomo, self.s
        unchosen = [(pair, cost) for pair, cost in s.offers() if self.plan[pair[0]] != pair[1]]
        allowed = [pair for pair, _ in unchosen if s.has(pair)]
        shift = {p: k for k, p in enumerate(allowed)}  # pair -> index of its cost shift
        out = []
        if allowed:
            rows, objective = self._cost_coefficients()
            big = 10.0 * (abs(self.opt) + s.scale() + 1.0)
            m.explain_cost_shift = pyo.Var(range(len(allowed)), bounds=(-big, 0.0))
            dc = m.explain_cost_shift
            for k in range(len(allowed)):
                dc[k].fix(0)
            for con, d in rows.items():
                extra = sum(x * dc[shift[p]] for p, x in d.items() if p in shift)
                if isinstance(extra, (int, float)):
                    continue
                body = con.body + extra
                if con.equality:
                    con.set_value(body == con.upper)
                elif con.has_lb() and con.has_ub():
                    con.set_value((con.lower, body, con.upper))
                elif con.has_ub():
                    con.set_value(body <= con.upper)
                else:
                    con.set_value(body >= con.lower)
            m.explain_floor = pyo.Param(mutable=True, initialize=self.opt - 1e-9 * max(1.0, abs(self.opt)))
            value = m.net_benefit.expr + sum(objective.get(p, 0.0) * dc[shift[p]] for p in allowed)
            m.explain_value_floor = pyo.Constraint(expr=value >= m.explain_floor)
            m.explain_max_cost = pyo.Objective(expr=sum(dc[k] for k in range(len(allowed))), sense=pyo.maximize)
            m.net_benefit.deactivate()
        results = {}
        try:
            with self.levels_pinned():
                jobs = []
                self.tally.start("break-even costs", total=len(allowed))
                for p in allowed:
                    self.questions += 1
                    known = self.best_in_pool(lambda plan: plan[p[0]] == p[1])
                    jobs.append(Job(bounds=((s.x(p), 1.0, 1.0), (m.explain_cost_shift[shift[p]], -big, 0.0)),
                                    start=None if known is None else known[1]))
                found = self.session.solve_variants(jobs, self.workers, on_done=self.tally.tick)
                for p, (status, shift, witness) in zip(allowed, found):
                    results[p] = self._break_even(p, status, shift, witness, rows, objective)
                self.solves += len(jobs)
        finally:
            if allowed:
                m.explain_max_cost.deactivate()
                m.explain_value_floor.deactivate()
                m.net_benefit.activate()
        for p, cost in unchosen:
            row = {**s.label(p[0]), "vendor": p[1], "cost": cost, "break_even_cost": None, "reason": ""}
            rule = _rule_against(s.instance_of(p[0]), s.function(p[0]).id, p[1])
            if not s.has(p):
                row["reason"] = rule or "not an allowed offer"
            elif results[p] is None:
                row["reason"] = rule or "no feasible plan gives this function to this vendor, at any cost"
            elif math.isnan(results[p]):
                row["reason"] = "time limit reached"
            else:
                row["break_even_cost"] = results[p]
            out.append(row)
        return out

    def _break_even(self, p, status: str, shift: float | None, witness: dict[str, str] | None, rows: dict,
                    objective: dict) -> float | None:
        """One offer's break-even from its MIP (outsource[p] fixed to 1, its cost shift free, the other
        shifts 0): None when no plan at any cost, nan at the time limit. Records in ``best_with``
        the best plan giving the function to the vendor at its current cost when the MIP determines it:
        the offer's cost only loosens rows as it falls and lowers the net benefit at a fixed rate k, so a
        plan y at the current cost breaks even at a shift (benefit(y) - optimum) / k; the largest shift s
        then bounds every such y by optimum + k s, which the witness attains when feasible at the current cost."""
        if status == "infeasible":
            self.best_with[p] = None
            return None
        if status != "optimal":  # stopped by the time limit: a plan found so far only bounds the break-even
            return math.nan
        k = -objective.get(p, 0.0)
        monotone = k > 1e-9 and all(
            not con.equality and not (con.has_lb() and con.has_ub()) and (d[p] >= 0 if con.has_ub() else d[p] <= 0)
            for con, d in rows.items() if p in d)
        value = self.admit(witness)
        if monotone and value is not None and abs(value - (self.opt + k * shift)) <= _above(0.0) * max(1.0, abs(self.opt)):
            self.best_with[p] = (value, witness)
        return self._exact_break_even(p, shift, witness)

    def _exact_break_even(self, pair, shift: float, witness: dict[str, str]) -> float:
        """The break-even cost from the solver's shift, recomputed exactly by the verifier when the
        plan found is feasible at the offer's current cost: there the plan's net benefit falls one
        for one with the cost, so it ties with the optimum at cost + (its benefit - optimum)."""
        cost = next(c for p, c in self.s.offers() if p == pair)
        check = self.s.check(witness, self.instance)
        solver = cost + min(0.0, shift)
        if check.feasible:
            exact = min(cost, cost + check.objective - self.opt)
            if abs(exact - solver) <= BREAK_EVEN_TOLERANCE * max(1.0, abs(self.opt)):
                return round(exact, 6)
        return round(solver, 6)

    # --- limits: binding, value of one more unit, LP dual --------------------------------
    def limits(self) -> list[dict]:
        m = self.model.pyomo
        limits = find_limits(self.model)
        rows = {lim.place: affine_row(m, lim) for lim in limits}
        check = self.solution.verification
        out = []
        self.tally.start("limits", total=len(limits))
        for lim in limits:
            self.tally.tick()
            used = usage(check, lim, self.instance)
            affine = rows[lim.place]
            upward = affine is None or affine.loosens_upward
            if used is not None:
                binding = is_binding(check, lim, used)
            else:  # a limit added later: binding when its row is tight at the plan
                con = lim.row(m)
                slack = (pyo.value(con.upper) - pyo.value(con.body)) if con.has_ub() else (
                    pyo.value(con.body) - pyo.value(con.lower))
                binding = slack <= 2 * tolerance(lim.current)  # a hard row's bound is the limit plus its tolerance
            row = {"limit": lim.place, "label": lim.label, "unit": lim.unit, "current": lim.current,
                   "used": None if used is None else round(used, 9), "binding": binding,
                   "step": lim.step if upward else -lim.step, "gain": None, "value_of_unit": None, "lp_dual": None}
            out.append(row)
            if not binding:
                continue
            par = lim.param_data(m)
            relaxed = lim.current + row["step"]
            try:
                judge = set_place(self.instance, {lim.place: int(relaxed) if lim.integer else relaxed})
            except (KeyError, ValueError, IndexError, TypeError):
                continue  # a limit this module cannot name in the file
            self.questions += 1
            par.set_value(relaxed)
            try:
                # the plan stays feasible with the limit relaxed, at the same priority levels: when those
                # are zero the relaxed optimum meets them too
                best = self.best_plan(single=not any(self.levels.values()), start=self.plan, judge=judge)
            finally:
                par.set_value(lim.current)
            if isinstance(best, tuple):
                row["gain"] = round(best[0] - self.opt, 6)
                row["value_of_unit"] = round(row["gain"] / abs(lim.step), 6)
        self._lp_duals(limits, rows, out)
        return out

    def _lp_duals(self, limits: list[Limit], rows: dict, out: list[dict]) -> None:
        """Duals of the binding limits' rows in the LP with engagement fixed at the plan."""
        wanted = [(lim, r) for lim, r in zip(limits, out) if r["binding"] and rows.get(lim.place) is not None]
        if not wanted:
            return
        m, s = self.model.pyomo, self.s
        engagement = s.engagement(self.plan)
        for p in s.pairs:
            s.x(p).domain = pyo.UnitInterval
        for var, value in engagement:  # fixed integer columns would make HiGHS run its MIP solver
            var.domain = pyo.UnitInterval
            var.fix(value)
        try:
            status, _ = self.session.solve()
            self.solves += 1
            if status != "optimal":
                return
            try:
                duals = self.session.duals([lim.row(m) for lim, _ in wanted])
            except Exception:  # no dual information from the solver
                return
            for lim, r in wanted:
                row = rows[lim.place]
                g = row.g0 + sum(c * pyo.value(v) for v, c in row.g.items())
                r["lp_dual"] = round(abs(duals[lim.row(m)] * g), 6)
        finally:
            for p in s.pairs:
                s.x(p).domain = pyo.Binary
            for var, _ in engagement:
                var.unfix()
                var.domain = pyo.Binary


def _rule_against(inst: Instance, f: str, v: str) -> str:
    """The rule of the file that forbids giving f to v, with its reason ('' when none does alone)."""
    if inst.function(f).core:
        return "core function: kept in-house"
    rules = inst.rules
    for k, ban in enumerate(getattr(rules, "forbid", [])):
        if ban.soft is None and f in ban.functions and v in ban.vendors:
            return f"rules.forbid[{k}]" + (f": {ban.reason}" if ban.reason else "")
    for k, lock in enumerate(getattr(rules, "locks", [])):
        if lock.soft is None and lock.function == f and lock.provider != v:
            return f"rules.locks[{k}]: locked to {lock.provider}" + (f" ({lock.reason})" if lock.reason else "")
    return ""


def explain(instance: Source, options: SolveOptions | None = None,
            solution: Solution | CompanySolution | None = None, progress=None, **kw) -> Explanation:
    """Explain the optimal plan of an instance or a company (see the module docstring; a company's rows
    name the division too, and its limits are the corporate ones and every division's). ``solution``,
    when given, is used as the starting plan. An instance with no plan gets an explanation with empty
    tables whose ``solution.status`` says why. ``progress``: called with a
    :class:`~outopt.solver.options.Progress` as questions are answered (limits, break-even costs,
    regrets: done of how many)."""
    options = replace(options or SolveOptions(), **kw)
    t0 = time.perf_counter()
    ex = _Explainer(instance, options, solution, Tally(progress, t0))
    timings = {"solve": time.perf_counter() - t0}
    if not ex.solution.status.has_plan:
        return Explanation(ex.solution, solves=ex.solves, questions=ex.questions, time=time.perf_counter() - t0,
                           timings=timings)
    parts = {}
    for part in ("limits", "offers", "functions"):  # regrets reuse what the break-evens found
        t = time.perf_counter()
        parts[part] = getattr(ex, part)()
        timings[part] = time.perf_counter() - t
    return Explanation(ex.solution, functions=parts["functions"], offers=parts["offers"], limits=parts["limits"],
                       solves=ex.solves, questions=ex.questions, time=time.perf_counter() - t0, timings=timings)
