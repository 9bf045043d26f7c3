"""Lagrangian decomposition of a company: corporate limits priced, divisions solved in parallel.

The corporate limits (budgets, shared capacity and max_share) and the link between a
division's engagement ``y[d,v]`` and the company's ``Y[v]`` are relaxed with multipliers;
what is left splits into one portfolio subproblem per division (the division's own model,
built by :func:`outopt.model.portfolio.build_model`, with a priced objective) and a tiny
vendor subproblem (pick at most ``max_vendors`` vendors with positive price). Their optimal
values (HiGHS's bounds) plus the priced limits give an upper bound for every multiplier;
subgradient steps (Polyak) lower it.

A **repair** turns the priced division plans into a verified company plan: divisions are
re-solved one after another with what is left of every corporate limit as hard constraints
(shares are kept on the running totals, so they hold at every step), new vendors paying
their retainer and onboarding; then one improvement pass re-solves each division with the
others fixed. The best repaired plan, the best bound and their gap are reported.
See models/company.md, "Decomposition".
"""

from __future__ import annotations

import math
import os
import time
from concurrent.futures import ThreadPoolExecutor

import pyomo.environ as pyo
from pyomo.contrib.solver.solvers.highs import Highs

from outopt.instance.company import Company, CompanyPlan
from outopt.instance.schema import INHOUSE
from outopt.model.company import CompanyData, compile_company
from outopt.model.data import PortfolioData
from outopt.model.portfolio import (
    build_model,
    operating_cost,
    transition_cost,
    vendor_spend,
)
from outopt.solver.highs import quiet_update, stdout_to_stderr
from outopt.solver.options import SolveOptions
from outopt.solver.solution import CompanySolution, Status, company_status_quo
from outopt.verifier.company import verify_company
from outopt.verifier.portfolio import verify


class DivisionProblem:
    """One division's model with a priced objective and switchable repair limits (mutable params)."""

    def __init__(self, did: str, data: PortfolioData, cd: CompanyData):
        self.did, self.data = did, data
        company = cd.company
        m = build_model(data)
        m.net_benefit.deactivate()
        vendors = [v for v in data.vendors if data.pairs_of_vendor[v]]
        m.V_d = pyo.Set(initialize=vendors, ordered=True)
        m.lam_op = pyo.Param(initialize=0.0, mutable=True)
        m.lam_tr = pyo.Param(initialize=0.0, mutable=True)
        m.mu = pyo.Param(m.V_d, initialize=0.0, mutable=True)  # shared capacity
        m.share_adj = pyo.Param(m.V_d, initialize=0.0, mutable=True)  # sum_w sigma_w m_w - sigma_v
        m.pi = pyo.Param(m.V_d, initialize=0.0, mutable=True)  # price of engaging v in this division
        x, y = m.outsource, m.engage
        m.net_benefit.deactivate()
        op, tr = operating_cost(m, data), transition_cost(m, data)
        spend = {v: vendor_spend(m, data, v) for v in vendors}
        priced = (m.net_benefit.expr - m.lam_op * op - m.lam_tr * tr
                  - sum(m.mu[p[1]] * data.load[p] * x[p] for p in data.pairs if data.load[p])
                  + sum(m.share_adj[v] * spend[v] for v in vendors))
        m.priced = pyo.Objective(expr=priced - sum(m.pi[v] * y[v] for v in vendors), sense=pyo.maximize)

        # repair: what is left of the corporate limits, and which vendors are new to the company
        big = 1e15
        m.new = pyo.Param(m.V_d, initialize=1.0, mutable=True)
        m.rem_op = pyo.Param(initialize=big, mutable=True)
        m.rem_tr = pyo.Param(initialize=big, mutable=True)
        m.rem_cap = pyo.Param(m.V_d, initialize=big, mutable=True)
        m.rem_k = pyo.Param(initialize=big, mutable=True)
        m.prev_spend = pyo.Param(m.V_d, initialize=0.0, mutable=True)
        m.prev_total = pyo.Param(initialize=0.0, mutable=True)
        a, o, e = cd.retainer, cd.onboarding, cd.engage_cost
        m.r_op = pyo.Constraint(expr=op + sum(m.new[v] * a[v] * y[v] for v in vendors) <= m.rem_op)
        m.r_tr = pyo.Constraint(expr=tr + sum(m.new[v] * o[v] * y[v] for v in vendors) <= m.rem_tr)
        caps = [v for v in vendors if v in company.vendors and company.vendors[v].capacity is not None]
        m.r_cap = pyo.Constraint(
            caps, rule=lambda m, v: sum(data.load[p] * x[p] for p in data.pairs_of_vendor[v]) <= m.rem_cap[v])
        m.r_k = pyo.Constraint(expr=sum(m.new[v] * y[v] for v in vendors) <= m.rem_k)
        m.allow = pyo.Param(m.V_d, initialize=1.0, mutable=True)
        m.r_allow = pyo.Constraint(m.V_d, rule=lambda m, v: y[v] <= m.allow[v])

        def with_retainer(v):
            return spend[v] + m.new[v] * a[v] * y[v]

        total = sum(with_retainer(w) for w in vendors)
        shares = [v for v in vendors if v in company.vendors and company.vendors[v].max_share is not None]
        m.r_share = pyo.Constraint(shares, rule=lambda m, v: m.prev_spend[v] + with_retainer(v)
                                   - company.vendors[v].max_share * (m.prev_total + total) <= 0)
        engage = sum(m.new[v] * e[v] * y[v] for v in vendors)
        m.true = pyo.Objective(expr=m.net_benefit.expr - engage, sense=pyo.maximize)
        m.true.deactivate()
        m.repair_priced = pyo.Objective(expr=priced - engage, sense=pyo.maximize)
        m.repair_priced.deactivate()
        self.vendors = vendors
        self.repair_parts = [m.r_op, m.r_tr, m.r_cap, m.r_k, m.r_share, m.r_allow]
        self.m = m
        self.solver: Highs | None = None
        self.mode("priced")

    def mode(self, objective: str) -> None:
        """'priced' (Lagrangian subproblem), 'repair_priced' or 'true' (both with the repair limits)."""
        for c in self.repair_parts:
            c.activate() if objective != "priced" else c.deactivate()
        for name in ("priced", "repair_priced", "true"):
            obj = getattr(self.m, name)
            obj.activate() if name == objective else obj.deactivate()

    def prepare(self, gap: float, seed: int, time_limit: float | None) -> None:
        """Hand the model's changes to HiGHS (main thread: Pyomo is not thread-safe)."""
        if self.solver is None:
            self.solver = Highs()
            self.solver.set_instance(self.m)
        else:
            quiet_update(self.solver)
        h = self.solver._solver_model
        h.setOptionValue("output_flag", False)
        h.setOptionValue("mip_rel_gap", gap)
        h.setOptionValue("random_seed", seed)
        h.setOptionValue("time_limit", math.inf if time_limit is None else max(0.05, time_limit))

    def run(self):
        """Run HiGHS directly (no Pyomo on this path, so divisions can run in threads).
        Returns (plan or None, upper bound of the active objective)."""
        h = self.solver._solver_model
        h.run()
        info = h.getInfo()
        if info.primal_solution_status != 2:  # no feasible solution
            return None, None
        col = self.solver._pyomo_var_to_solver_var_map
        values = h.getSolution().col_value
        plan = {f: INHOUSE for f in self.data.functions}
        for p in self.data.pairs:
            if values[col[id(self.m.outsource[p])]] > 0.5:
                plan[p[0]] = p[1]
        bound = info.mip_dual_bound if math.isfinite(info.mip_dual_bound) else info.objective_function_value
        return plan, bound

    def solve(self, gap: float, seed: int, time_limit: float | None):
        self.prepare(gap, seed, time_limit)
        return self.run()


def _figures(data: PortfolioData, plan: dict[str, str]) -> dict:
    """A division plan's contribution to the corporate limits, by the verifier (retainers are corporate)."""
    check = verify(data.instance, plan)
    return {"op": check.operating_cost, "tr": check.transition_cost, "spend": dict(check.spend),
            "load": dict(check.vendor_load), "vendors": set(check.engaged)}


def repair(problems: dict[str, DivisionProblem], cd: CompanyData, order: list[str], options: SolveOptions,
           current: CompanyPlan | None = None, vendors: set[str] | None = None,
           deadline: float | None = None) -> CompanyPlan | None:
    """Divisions re-solved one after another within what is left of every corporate limit.

    Without ``current``: a repair from scratch, engaging only ``vendors`` (their retainer,
    onboarding and count charged up front) with the priced objective, so each division
    leaves for the others what the multipliers say it should. With ``current`` (a feasible
    plan): one improvement pass, each division re-solved with the others fixed, true objective.
    """
    company = cd.company
    plans: CompanyPlan = dict(current or {})
    figs = {d: _figures(cd.divisions[d], plans[d]) for d in plans}
    b = company.budget
    big = 1e15
    for did in order:
        others = [d for d in figs if d != did]
        pr = problems[did]
        m = pr.m
        engaged = set().union(*(figs[d]["vendors"] for d in others)) if others else set()
        if current is None:
            engaged |= vendors or set()
        op = sum(figs[d]["op"] for d in others) + sum(cd.retainer[v] for v in engaged)
        tr = sum(figs[d]["tr"] for d in others) + sum(cd.onboarding[v] for v in engaged)
        m.rem_op = big if b.operating is None else b.operating - op
        m.rem_tr = big if b.transition is None else b.transition - tr
        m.rem_k = big if company.max_vendors is None else company.max_vendors - len(engaged)
        spend = {v: sum(figs[d]["spend"].get(v, 0.0) for d in others) + (cd.retainer[v] if v in engaged else 0.0)
                 for v in cd.vendors}
        for v in pr.vendors:
            m.new[v] = 0.0 if v in engaged else 1.0
            m.allow[v] = 1.0 if current is not None or vendors is None or v in vendors else 0.0
            lim = company.vendors.get(v)
            used = sum(figs[d]["load"].get(v, 0.0) for d in others)
            m.rem_cap[v] = big if lim is None or lim.capacity is None else lim.capacity - used
            m.prev_spend[v] = spend[v]
        m.prev_total = sum(spend.values())
        pr.mode("true" if current is not None else "repair_priced")
        for limit, con in ((b.operating, m.r_op), (b.transition, m.r_tr), (company.max_vendors, m.r_k)):
            if limit is None:
                con.deactivate()
        left = None if deadline is None else deadline - time.perf_counter()
        if left is not None and left <= 0:
            return None if current is None else plans
        plan, _ = pr.solve(options.gap or 1e-6, options.seed, left)
        pr.mode("priced")
        if plan is None:
            if current is None:
                return None
            continue  # improvement pass: keep the division's current plan
        plans[did] = plan
        figs[did] = _figures(cd.divisions[did], plan)
    return plans


def _subgradient_step(company: Company, cd: CompanyData, results: dict, Y: dict, prices: tuple, floor: dict,
                      theta: float, best_ub: float, best_obj: float) -> None:
    """Move the multipliers (lam, mu, sigma, pi, changed in place) along the subgradient of the corporate rows."""
    lam, mu, sigma, pi = prices
    b, lim = company.budget, company.vendors
    dids = list(results)
    cap_v, share_v = list(mu), list(sigma)
    figs = {d: _figures(cd.divisions[d], results[d][0]) for d in dids}
    g = {}
    if b.operating is not None:
        g["op"] = sum(f["op"] for f in figs.values()) + sum(cd.retainer[v] * Y[v] for v in cd.vendors) - b.operating
    if b.transition is not None:
        g["tr"] = sum(f["tr"] for f in figs.values()) + sum(cd.onboarding[v] * Y[v] for v in cd.vendors) - b.transition
    for v in cap_v:
        g[("cap", v)] = sum(f["load"].get(v, 0.0) for f in figs.values()) - lim[v].capacity
    S = {v: sum(f["spend"].get(v, 0.0) for f in figs.values()) + cd.retainer[v] * Y[v] for v in cd.vendors}
    for v in share_v:
        g[("share", v)] = S[v] - lim[v].max_share * sum(S.values())
    for (d, v) in pi:
        g[("pi", d, v)] = (1.0 if v in figs[d]["vendors"] else 0.0) - Y[v]
    # Polyak steps per family (budgets, capacities, shares and engagement links have
    # different units): each family is asked to close an equal part of the gap. A
    # family's squared norm is floored at (5% of its limits)^2, so a limit that is
    # nearly met does not send its price to infinity.
    target = best_obj if best_obj > -math.inf else 0.0
    gap_now = max(best_ub - target, 1e-6 * max(1.0, abs(best_ub)))
    families: dict[str, list] = {}
    for k in g:
        families.setdefault(k if k in ("op", "tr") else k[0], []).append(k)
    for keys in families.values():
        norm = max(sum(g[k] ** 2 for k in keys), sum(floor[k] ** 2 for k in keys))
        if norm <= 0:
            continue
        step = theta * gap_now / (len(families) * norm)
        for k in keys:
            if k in ("op", "tr"):
                lam[k] = max(0.0, lam[k] + step * g[k])
            elif k[0] == "cap":
                mu[k[1]] = max(0.0, mu[k[1]] + step * g[k])
            elif k[0] == "share":
                sigma[k[1]] = max(0.0, sigma[k[1]] + step * g[k])
            else:
                pi[k[1:]] = max(0.0, pi[k[1:]] + step * g[k])


def decompose(company: Company, options: SolveOptions | None = None, iterations: int = 30,
              workers: int | None = None) -> CompanySolution:
    """Lagrangian decomposition with repair; returns a verified plan with a bound and gap."""
    options = options or SolveOptions()
    t0 = time.perf_counter()
    deadline = None if options.time_limit is None else t0 + options.time_limit
    cd = compile_company(company, reduce=False)
    dids = list(cd.divisions)
    problems = {d: DivisionProblem(d, cd.divisions[d], cd) for d in dids}
    lim = company.vendors
    cap_v = [v for v in cd.vendors if v in lim and lim[v].capacity is not None]
    share_v = [v for v in cd.vendors if v in lim and lim[v].max_share is not None and lim[v].max_share < 1]
    offered = {v: sorted({d for d, _, _ in cd.pairs_of_vendor[v]}) for v in cd.vendors}
    # multipliers; an engagement's cost starts spread evenly over the divisions that could use it
    lam = {"op": 0.0, "tr": 0.0}
    mu = {v: 0.0 for v in cap_v}
    sigma = {v: 0.0 for v in share_v}
    pi = {(d, v): cd.engage_cost[v] / len(offered[v]) for v in cd.vendors for d in offered[v]}
    b = company.budget

    floor = {"op": 0.05 * (b.operating or 0.0), "tr": 0.05 * (b.transition or 0.0)}
    floor.update({("cap", v): 0.05 * lim[v].capacity for v in cap_v})
    floor.update({("share", v): 0.05 * lim[v].max_share * (b.operating or 0.0) for v in share_v})
    floor.update({("pi", d, v): 0.0 for d, v in pi})
    best_plan, best_obj, best_ub = None, -math.inf, math.inf
    quo = company_status_quo(company)
    if quo is not None:
        check = verify_company(company, quo)
        if check.feasible:
            best_plan, best_obj = quo, check.objective
    theta, stall, it = 1.0, 0, 0
    pool = ThreadPoolExecutor(max_workers=workers or min(len(dids), os.cpu_count() or 1))
    sub_gap = max(options.gap, 1e-6)

    def left():
        return None if deadline is None else deadline - time.perf_counter()

    with stdout_to_stderr(), pool:
        for it in range(1, iterations + 1):
            if deadline is not None and left() <= 0:
                break
            sbar = sum(sigma[v] * lim[v].max_share for v in share_v)
            for d, pr in problems.items():
                m = pr.m
                m.lam_op, m.lam_tr = lam["op"], lam["tr"]
                for v in pr.vendors:
                    m.mu[v] = mu.get(v, 0.0)
                    m.share_adj[v] = sbar - sigma.get(v, 0.0)
                    m.pi[v] = pi[(d, v)]
            t_left = left()
            for pr in problems.values():
                pr.prepare(sub_gap, options.seed, t_left)
            results = dict(zip(dids, pool.map(lambda d: problems[d].run(), dids)))
            if any(plan is None for plan, _ in results.values()):
                break  # a division has no plan at all (or ran out of time)
            # vendor subproblem: engage v when its price covers its cost, at most max_vendors of them
            price = {
                v: sum(pi[(d, v)] for d in offered[v]) - cd.engage_cost[v] - lam["op"] * cd.retainer[v]
                - lam["tr"] * cd.onboarding[v] + (sbar - sigma.get(v, 0.0)) * cd.retainer[v]
                for v in cd.vendors
            }
            chosen = sorted((v for v in cd.vendors if price[v] > 0), key=lambda v: -price[v])
            if company.max_vendors is not None:
                chosen = chosen[: company.max_vendors]
            Y = {v: 1.0 if v in chosen else 0.0 for v in cd.vendors}
            ub = sum(bd for _, bd in results.values()) + sum(price[v] for v in chosen)
            ub += lam["op"] * (b.operating or 0.0) + lam["tr"] * (b.transition or 0.0)
            ub += sum(mu[v] * lim[v].capacity for v in cap_v)
            if ub < best_ub - 1e-9 * max(1.0, abs(ub)):
                best_ub, stall = ub, 0
            else:
                stall += 1
                if stall >= 3:
                    theta, stall = theta / 2, 0
            if it == 1 or it % 5 == 0:
                # engage the vendors the divisions chose, most used first, within max_vendors
                uses = {v: sum(v in results[d][0].values() for d in dids) for v in cd.vendors}
                ranked = sorted((v for v in cd.vendors if uses[v]), key=lambda v: (-uses[v], -price[v]))
                if company.max_vendors is not None:
                    ranked = ranked[: company.max_vendors]
                plans = repair(problems, cd, dids, options, vendors=set(ranked), deadline=deadline)
                if plans is not None:
                    plans = repair(problems, cd, dids, options, current=plans, deadline=deadline)
                    check = verify_company(company, plans)
                    if check.feasible and check.objective > best_obj:
                        best_plan, best_obj = plans, check.objective
            if best_plan is not None and best_ub - best_obj <= options.gap * max(1.0, abs(best_obj)) + 1e-6:
                break
            _subgradient_step(company, cd, results, Y, (lam, mu, sigma, pi), floor, theta, best_ub, best_obj)

    elapsed = time.perf_counter() - t0
    if best_plan is None:
        return CompanySolution(company, Status.TIMEOUT, method="decompose", solve_time=elapsed, iterations=it,
                               bound=None if best_ub == math.inf else best_ub,
                               message="the decomposition found no feasible plan; try method='joint'")
    bound = None if best_ub == math.inf else max(best_ub, best_obj)
    proven = bound is not None and bound - best_obj <= options.gap * max(1.0, abs(best_obj)) + 1e-6
    return CompanySolution.from_plans(
        company, best_plan, Status.OPTIMAL if proven else Status.FEASIBLE, bound=bound, method="decompose",
        solve_time=elapsed, iterations=it,
        message="" if proven else f"Lagrangian bound after {it} iterations",
    )
