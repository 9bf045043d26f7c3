"""A fast starting plan: a construction followed by local search over single moves.

``starting_plan(data, time_limit)`` works on the compiled sets and coefficients
(:mod:`outopt.model.data`). Functions of a ``together`` group move as one unit. From
the status quo (or all in-house, with functions that must be outsourced at their best
offer) it repeatedly moves a unit to the option that lowers the total violation of the
limits (budgets, staff, vendor capacities, share caps, vendor count, separation) or,
with no more violation, raises the net benefit, until no move helps or the time is up.

It reasons about the core terms only (budgets, staff, vendor capacity, shares, vendor count,
separate/together); the plan it returns has passed :func:`outopt.verify` on the instance it
was given (with every term), else it returns None. The solver verifies it again on the
original instance before handing it to HiGHS.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass

from outopt.instance.numerics import REL_TOL, highest_met
from outopt.instance.schema import INHOUSE, group_functions
from outopt.model.data import PortfolioData
from outopt.verifier.portfolio import verify

_EPS = 1e-9
SHORTLIST = 6  # offers per unit the local search tries (the best by benefit)
MAX_BREAKOUTS = 40  # rounds of raising the weights of broken limits before giving up


@dataclass
class _Option:
    vendor: str | None  # None = in-house
    benefit: float
    op: float  # change in recurring cost against all in-house
    tr: float
    load: float
    spend: float
    members: int


class _Units:
    """Functions grouped into units that move together, each with its options."""

    def __init__(self, data: PortfolioData):
        inst = data.instance
        parent = {f: f for f in data.functions}

        def find(f):
            while parent[f] != f:
                parent[f] = parent[parent[f]]
                f = parent[f]
            return f

        for group in map(group_functions, inst.rules.together):
            for a, b in zip(group, group[1:]):
                parent[find(a)] = find(b)
        members: dict[str, list[str]] = {}
        for f in data.functions:
            members.setdefault(find(f), []).append(f)
        self.members = list(members.values())
        funcs = {f.id: f for f in inst.functions}
        self.options: list[list[_Option]] = []
        for group in self.members:
            opts = []
            if all(funcs[f].inhouse is not None for f in group):
                opts.append(_Option(None, 0.0, 0.0, 0.0, 0.0, 0.0, len(group)))
            vendor_sets = [{p[1] for p in data.pairs_of_function[f]} for f in group]
            common = set.intersection(*vendor_sets) if vendor_sets else set()
            for v in sorted(common, key=data.vendors.index):
                ps = [(f, v) for f in group]
                opts.append(_Option(
                    v,
                    sum(data.benefit[p] for p in ps),
                    sum(data.operating_delta[p] for p in ps),
                    sum(data.transition[p] for p in ps),
                    sum(data.load[p] for p in ps),
                    sum(data.spend[p] for p in ps),
                    len(group),
                ))
            self.options.append(opts)


class _State:
    """Running totals of a plan and the violation of every limit."""

    def __init__(self, data: PortfolioData, units: _Units):
        inst = data.instance
        self.data = data
        self.units = units
        # each limit as the largest use that meets it (models/portfolio.md, Numerical policy)
        op, tr = inst.budget.operating, inst.budget.transition
        self.b_op = None if op is None else highest_met(op)
        self.b_tr = None if tr is None else highest_met(tr)
        self.retainer = {v.id: v.retainer for v in inst.vendors}
        self.cap = {v.id: highest_met(v.capacity) for v in inst.vendors if v.capacity is not None}
        self.share = {v.id: v.max_share + REL_TOL for v in inst.vendors if v.max_share is not None and v.max_share < 1}
        self.k = inst.rules.max_vendors
        self.scale = max(1.0, data.operating_base, sum(data.spend.values()) / max(1, len(data.functions)))
        self.res_cap = {r.id: highest_met(r.capacity) for r in inst.resources}
        self.uses = [{} for _ in units.members]
        for u, group in enumerate(units.members):
            for f in group:
                for r in data.resources:
                    x = data.uses.get((f, r))
                    if x:
                        self.uses[u][r] = self.uses[u].get(r, 0.0) + x
        self.sep_groups = [[] for _ in units.members]
        unit_of = {f: u for u, group in enumerate(units.members) for f in group}
        for g, group in enumerate(map(group_functions, inst.rules.separate)):
            for f in group:
                self.sep_groups[unit_of[f]].append(g)
        self.unit_of = unit_of

    def reset(self, choice: list[int]) -> None:
        d = self.data
        self.choice = list(choice)
        self.obj = 0.0
        self.op = d.operating_base
        self.tr = 0.0
        self.load = {v: 0.0 for v in d.vendors}
        self.spend = {v: 0.0 for v in d.vendors}
        self.count = {v: 0 for v in d.vendors}
        self.res = dict(d.resource_base)
        self.sep = {}
        for u, c in enumerate(choice):
            self._apply(u, self.units.options[u][c], +1)

    def _apply(self, u: int, o: _Option, sign: int) -> None:
        d = self.data
        self.obj += sign * o.benefit
        if o.vendor is None:
            return
        v = o.vendor
        self.op += sign * o.op
        self.tr += sign * o.tr
        self.load[v] += sign * o.load
        self.spend[v] += sign * o.spend
        before = self.count[v]
        self.count[v] += sign * o.members
        if (before == 0) != (self.count[v] == 0):  # engaged or released
            s = 1 if before == 0 else -1
            self.obj -= s * d.engage_cost[v]
            self.op += s * self.retainer[v]
            self.tr += s * d.onboarding[v]
            self.spend[v] += s * self.retainer[v]
        for r, x in self.uses[u].items():
            self.res[r] -= sign * x
        for g in self.sep_groups[u]:
            self.sep[(g, v)] = self.sep.get((g, v), 0) + sign

    def violation(self, weights: dict | None = None) -> float:
        """Weighted sum of each limit's relative excess (0 when the plan keeps every limit)."""
        w = weights or {}
        viol = 0.0
        if self.b_op is not None and self.op > self.b_op:
            viol += w.get("op", 1.0) * (self.op - self.b_op) / max(1.0, self.b_op)
        if self.b_tr is not None and self.tr > self.b_tr:
            viol += w.get("tr", 1.0) * (self.tr - self.b_tr) / max(1.0, self.b_tr)
        for r, cap in self.res_cap.items():
            if self.res[r] > cap:
                viol += w.get(("r", r), 1.0) * (self.res[r] - cap) / max(1.0, cap)
        for v, cap in self.cap.items():
            if self.load[v] > cap:
                viol += w.get(("c", v), 1.0) * (self.load[v] - cap) / max(1.0, cap)
        if self.share:
            total = sum(self.spend.values())
            for v, m in self.share.items():
                if self.spend[v] > m * total:
                    viol += w.get(("s", v), 1.0) * (self.spend[v] - m * total) / self.scale
        if self.k is not None:
            viol += w.get("k", 1.0) * max(0, sum(1 for c in self.count.values() if c) - self.k)
        viol += w.get("sep", 1.0) * sum(max(0, c - 1) for c in self.sep.values())
        return viol if viol > 1e-12 else 0.0

    def violated(self) -> list:
        """Keys of the limits the plan breaks (the weights the search raises when stuck)."""
        keys = []
        if self.b_op is not None and self.op > self.b_op + 1e-9:
            keys.append("op")
        if self.b_tr is not None and self.tr > self.b_tr + 1e-9:
            keys.append("tr")
        keys += [("r", r) for r, cap in self.res_cap.items() if self.res[r] > cap + 1e-9]
        keys += [("c", v) for v, cap in self.cap.items() if self.load[v] > cap + 1e-9]
        if self.share:
            total = sum(self.spend.values())
            keys += [("s", v) for v, m in self.share.items() if self.spend[v] > m * total + 1e-9]
        if self.k is not None and sum(1 for c in self.count.values() if c) > self.k:
            keys.append("k")
        if any(c > 1 for c in self.sep.values()):
            keys.append("sep")
        return keys

    def move(self, u: int, c: int) -> None:
        self._apply(u, self.units.options[u][self.choice[u]], -1)
        self.choice[u] = c
        self._apply(u, self.units.options[u][c], +1)


def starting_plan(data: PortfolioData, time_limit: float = 5.0, seed: int = 0) -> dict[str, str] | None:
    """A plan found by construction and local search within ``time_limit`` seconds, or None."""
    deadline = time.perf_counter() + time_limit
    units = _Units(data)
    if any(not opts for opts in units.options):
        return None
    state = _State(data, units)
    state.reset(_initial_choice(data, units))
    weights: dict = {}
    viol = state.violation(weights)
    rng = random.Random(seed)
    order = list(range(len(units.members)))
    # moves considered for a unit: in-house and its best offers by benefit (all of them when few)
    shortlist = []
    for opts in units.options:
        ranked = sorted(range(len(opts)), key=lambda i: -opts[i].benefit)
        keep = set(ranked[:SHORTLIST]) | {i for i, o in enumerate(opts) if o.vendor is None}
        shortlist.append(sorted(keep))
    best_plan, best_obj = None, None
    breakouts = 0
    while time.perf_counter() < deadline and breakouts <= MAX_BREAKOUTS:
        improved = False
        rng.shuffle(order)
        for u in order:
            if time.perf_counter() > deadline:
                break
            current = state.choice[u]
            best = (viol, -state.obj, current)
            for c in shortlist[u]:
                if c == current:
                    continue
                state.move(u, c)
                cand = (state.violation(weights), -state.obj, c)
                if cand[0] < best[0] - 1e-12 or (cand[0] <= best[0] + 1e-12 and cand[1] < best[1] - 1e-7):
                    best = cand
                state.move(u, current)
            if best[2] != current:
                state.move(u, best[2])
                viol = state.violation(weights)
                improved = True
        if not state.violated() and (best_obj is None or state.obj > best_obj + 1e-7):
            best_plan, best_obj = list(state.choice), state.obj
        if improved:
            continue
        broken = state.violated()
        if not broken:
            if _close_a_vendor(state, shortlist, weights, deadline):
                viol = state.violation(weights)
                continue
            break  # a local optimum that keeps every limit, and no vendor is worth closing
        breakouts += 1
        for key in broken:  # stuck short of feasibility: make the broken limits weigh more (breakout)
            weights[key] = weights.get(key, 1.0) * 2.0
        viol = state.violation(weights)
    if best_plan is None:
        return None
    state.reset(best_plan)
    plan = {f: INHOUSE for f in data.functions}
    for u, group in enumerate(units.members):
        v = units.options[u][state.choice[u]].vendor
        for f in group:
            plan[f] = v if v is not None else INHOUSE
    # the search knows the core terms only; the verifier judges every term of the instance
    return plan if verify(data.instance, plan).feasible else None


def _close_a_vendor(state: _State, shortlist: list[list[int]], weights: dict, deadline: float) -> bool:
    """Close one engaged vendor whose engagement costs something: move each of its units to its best other
    option (in-house or a vendor), keeping every limit, when that raises the net benefit; vendors are
    tried by their engagement cost per unit served, highest first. True when one was closed."""
    d = state.data
    served: dict[str, list[int]] = {}
    for u, c in enumerate(state.choice):
        v = state.units.options[u][c].vendor
        if v is not None:
            served.setdefault(v, []).append(u)
    ranked = sorted((v for v in served if d.engage_cost.get(v, 0.0) > 0),
                    key=lambda v: -d.engage_cost[v] / len(served[v]))
    for v in ranked:
        if time.perf_counter() > deadline:
            return False
        before_obj, moved = state.obj, []
        for u in served[v]:
            current = state.choice[u]
            best = None
            for c in shortlist[u]:
                if state.units.options[u][c].vendor == v:
                    continue
                state.move(u, c)
                cand = (state.violation(weights), -state.obj, c)
                if best is None or cand < best:
                    best = cand
                state.move(u, current)
            if best is None:
                break
            moved.append((u, current))
            state.move(u, best[2])
        if len(moved) == len(served[v]) and not state.violated() and state.obj > before_obj + 1e-7:
            return True
        for u, c in reversed(moved):
            state.move(u, c)
    return False


def _initial_choice(data: PortfolioData, units: _Units) -> list[int]:
    """The status quo where it is among the options, else in-house, else the best offer counting a share of
    its vendor's engagement cost (its load's share of the vendor's capacity, or an even share)."""
    funcs = {f.id: f for f in data.instance.functions}
    choice = []
    for group, opts in zip(units.members, units.options):
        current = {funcs[f].current for f in group}
        pick = None
        if len(current) == 1:
            cur = current.pop()
            cur = None if cur in (None, INHOUSE) else cur
            pick = next((i for i, o in enumerate(opts) if o.vendor == cur), None)
        if pick is None:
            pick = next((i for i, o in enumerate(opts) if o.vendor is None), None)
        if pick is None:
            pick = max(range(len(opts)), key=lambda i: opts[i].benefit - _engagement_share(data, opts[i]))
        choice.append(pick)
    return choice


def _engagement_share(data: PortfolioData, option: _Option) -> float:
    v = option.vendor
    if v is None or not data.engage_cost.get(v):
        return 0.0
    capacity = data.instance.vendor(v).capacity
    if capacity:
        return data.engage_cost[v] * min(1.0, option.load / capacity)
    return data.engage_cost[v] / max(1, len(data.pairs_of_vendor[v]))
