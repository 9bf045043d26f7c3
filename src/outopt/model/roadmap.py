"""The roadmap model in Pyomo: one portfolio block per plan year plus the links between years.

Each year's block is built by :func:`outopt.model.portfolio.build_model`, the same formulation as a
single instance (models/portfolio.md), on that year's view of the instance
(:func:`outopt.instance.roadmap.year_view`: escalated prices, that year's operating budget, vendors not
yet available banned); the block's own objective is deactivated. The links between years (changes,
transitions, onboarding, exit fees, parallel runs, freed staff, the transition budget and team capacity
per year, earliest changes) and the net present value are added by one ``add_*`` function per family,
each creating one named component documented in ``models/roadmap.md``.
"""

from __future__ import annotations

from dataclasses import dataclass

import pyomo.environ as pyo

from outopt.instance.numerics import row_upper
from outopt.instance.roadmap import before, discount, tail_factor, year_budget, year_view, years
from outopt.instance.schema import INHOUSE, Instance
from outopt.model.data import Pair, PortfolioData, compile_data
from outopt.model.portfolio import build_model

Key = tuple[str, str, int]  # (function, provider, year)


@dataclass
class RoadmapData:
    """Sets and coefficients of the roadmap model (see models/roadmap.md)."""

    instance: Instance
    years: list[int]
    blocks: dict[int, PortfolioData]  # compiled year views, by year
    quo: dict[str, str | None]  # provider in year 0
    providers: dict[tuple[str, int], list[str]]  # P(f,t): in-house (when f has the option) and the offers of A_t
    transition: dict[Pair, float]  # the offer's transition (paid on a change to it)
    onboarding: dict[str, float]  # vendors' onboarding, those > 0
    exit_fee: dict[str, tuple[str, float, int]]  # f -> (current vendor, fee, last year it is paid)
    parallel: dict[Pair, float]  # offer (f, v) -> share of the change year
    old_cost: dict[Key, float]  # yearly cost of provider w for f in year t (in-house cost, or escalated offer)
    freed: dict[str, float]  # redeploy value of f's staff per year
    weight: dict[int, float]  # discount factor of each year
    tail: float  # sum of the tail years' discount factors
    transition_budget: dict[int, float]  # years with a transition budget
    max_changes: int | None
    earliest: dict[str, int]  # f -> first year a change is allowed (only > 1)


def compile_roadmap(inst: Instance) -> RoadmapData:
    """Compile every year view and the coefficients of the links."""
    T = years(inst)
    blocks = {t: compile_data(year_view(inst, t, bans=True)) for t in T}
    onboarding = {v.id: v.onboarding for v in inst.vendors if v.onboarding > 0}
    for data in blocks.values():  # onboarding is paid on engagement: every such vendor needs its y[v] each year
        counted = set(data.engaged_vendors) | {v for v in onboarding if data.pairs_of_vendor[v]}
        data.engaged_vendors = [v for v in data.vendors if v in counted]
    providers = {}
    for t in T:
        data = blocks[t]
        for f in inst.functions:
            inhouse = [INHOUSE] if f.inhouse is not None else []
            providers[f.id, t] = inhouse + [v for _, v in data.pairs_of_function[f.id]]
    quo = before(inst)
    res_value = {r.id: r.redeploy_value for r in inst.resources}
    freed = {f.id: sum(u * res_value[r] for r, u in f.inhouse.uses.items()) for f in inst.functions if f.inhouse}
    return RoadmapData(
        instance=inst, years=T, blocks=blocks, quo=quo, providers=providers,
        transition={(o.function, o.vendor): o.transition for o in inst.offers if o.transition},
        onboarding=onboarding,
        exit_fee={f.id: (f.current, f.exit_fee, f.contract_end or T[-1]) for f in inst.functions if f.exit_fee > 0},
        parallel={(o.function, o.vendor): o.parallel_run for o in inst.offers if o.parallel_run},
        old_cost=_old_costs(inst, T, providers, quo),
        freed={f: v for f, v in freed.items() if v > 0},
        weight={t: discount(inst, t) for t in T},
        tail=tail_factor(inst),
        transition_budget={t: b for t in T if (b := year_budget(inst, "transition", t)) is not None},
        max_changes=inst.roadmap.max_changes_per_year,
        earliest={f.id: f.earliest_change for f in inst.functions if (f.earliest_change or 1) > 1},
    )


def _old_costs(inst: Instance, T: list[int], providers, quo) -> dict[Key, float]:
    """For functions with a parallel-run offer: the yearly cost in year t of each provider it may leave
    (in-house cost; offer cost escalated to t, less a stay discount with the current vendor, plus commission)."""
    with_parallel = {o.function for o in inst.offers if o.parallel_run}
    offers = {(o.function, o.vendor): o for o in inst.offers}
    growth = {v.id: 1 + v.escalation / 100 for v in inst.vendors}
    out = {}
    for f in inst.functions:
        if f.id not in with_parallel:
            continue
        for t in T:
            leaving = [quo[f.id]] if t == 1 else providers[f.id, t - 1]
            for w in leaving:
                if w == INHOUSE:
                    out[f.id, w, t] = f.inhouse.cost
                elif w is not None:
                    o = offers[f.id, w]
                    cost = o.cost * growth[w] ** (t - 1) * (1 - (o.stay_discount / 100 if f.current == w else 0))
                    out[f.id, w, t] = cost + o.commission * f.revenue
    return out


# --- the model ------------------------------------------------------------------------------


def block_name(t: int) -> str:
    return f"year_{t}"


def build_roadmap_model(rd: RoadmapData, sparse_shares: bool = True) -> pyo.ConcreteModel:
    """Build the roadmap model: a portfolio block ``year_<t>`` per year, the links and the NPV."""
    m = pyo.ConcreteModel(name=rd.instance.name)
    for t in rd.years:
        block = build_model(rd.blocks[t], sparse_shares=sparse_shares)
        for objective in block.component_objects(pyo.Objective):
            objective.deactivate()
        m.add_component(block_name(t), block)
    m.T = pyo.Set(initialize=rd.years, ordered=True, doc="plan years")
    add_arrival(m, rd)
    add_exit_fee(m, rd)
    add_onboarding(m, rd)
    add_parallel_in(m, rd)
    add_parallel_out(m, rd)
    add_redeploy(m, rd)
    add_changes_per_year(m, rd)
    add_earliest_change(m, rd)
    add_transition_budget(m, rd)
    add_npv(m, rd)
    return m


def block(m, t: int):
    return getattr(m, block_name(t))


def holds(m, rd: RoadmapData, f: str, p: str, t: int):
    """1 when f's provider in year t is p: x[f,p,t], 1 - sum_v x[f,v,t] for in-house; a number in year 0
    (the status quo) and when p cannot serve f in year t."""
    if t == 0:
        return 1 if rd.quo[f] == p else 0
    data, b = rd.blocks[t], block(m, t)
    if p == INHOUSE:
        if rd.instance.function(f).inhouse is None:
            return 0
        return 1 - sum(b.outsource[q] for q in data.pairs_of_function[f])
    return b.outsource[f, p] if p in rd.providers[f, t] else 0


def outsourced(m, rd: RoadmapData, f: str, t: int):
    """1 when f is outsourced in year t (a number in year 0)."""
    if t == 0:
        return 0 if rd.quo[f] in (None, INHOUSE) else 1
    return sum(block(m, t).outsource[q] for q in rd.blocks[t].pairs_of_function[f])


def _is_one(expr) -> bool:
    return isinstance(expr, (int, float)) and expr == 1


def _is_zero(expr) -> bool:
    return isinstance(expr, (int, float)) and expr == 0


def arrivals(rd: RoadmapData) -> list[Key]:
    """(f, p, t) where f may arrive at p in year t: p in P(f,t), and f not certainly with p the year before
    (its provider in the status quo, or its only option then)."""
    return [(f.id, p, t) for t in rd.years for f in rd.instance.functions for p in rd.providers[f.id, t]
            if not (rd.quo[f.id] == p if t == 1 else rd.providers[f.id, t - 1] == [p])]


def add_arrival(m, rd: RoadmapData) -> None:
    """A change: arrive[f,p,t] >= x[f,p,t] - x[f,p,t-1] (year 0: the status quo); f changes provider in year t
    exactly when it arrives somewhere, so change[f,t] = sum_p arrive[f,p,t]."""
    idx = arrivals(rd)
    m.AR = pyo.Set(initialize=idx, dimen=3, ordered=True, doc="(f, p, t): f may arrive at provider p in year t")
    m.arrive = pyo.Var(m.AR, domain=pyo.NonNegativeReals, bounds=(0, 1), doc="1 if f moves to p in year t")
    m.arrival = pyo.Constraint(
        m.AR, rule=lambda m, f, p, t: m.arrive[f, p, t] >= holds(m, rd, f, p, t) - holds(m, rd, f, p, t - 1),
        doc="arrival at a provider",
    )
    by_ft: dict[tuple[str, int], list] = {}
    for f, p, t in idx:
        by_ft.setdefault((f, t), []).append(m.arrive[f, p, t])
    m._changes = by_ft


def change(m, f: str, t: int):
    """1 when f changes provider in year t (a sum of arrivals; 0 when no arrival is possible)."""
    return sum(m._changes.get((f, t), []))


def add_exit_fee(m, rd: RoadmapData) -> None:
    """Leaving the current vendor c up to the contract end: depart[f,t] >= x[f,c,t-1] - x[f,c,t]."""
    idx = [(f, t) for f, (c, _, last) in rd.exit_fee.items() for t in rd.years
           if t <= last and not _is_zero(holds(m, rd, f, c, t - 1))]
    m.EX = pyo.Set(initialize=idx, dimen=2, ordered=True, doc="(f, t): f may leave its current vendor in year t")
    m.depart = pyo.Var(m.EX, domain=pyo.NonNegativeReals, bounds=(0, 1), doc="1 if f leaves its current vendor in t")
    m.exit_fee = pyo.Constraint(
        m.EX, rule=lambda m, f, t: m.depart[f, t] >= holds(m, rd, f, rd.exit_fee[f][0], t - 1)
        - holds(m, rd, f, rd.exit_fee[f][0], t),
        doc="departure from the current vendor",
    )


def engaged(m, rd: RoadmapData, v: str, t: int):
    """1 when v is engaged in year t (block t's engage[v]; year 0: v serves a function in the status quo)."""
    if t == 0:
        return 1 if v in rd.quo.values() else 0
    return block(m, t).engage[v] if v in rd.blocks[t].engaged_vendors else 0


def add_onboarding(m, rd: RoadmapData) -> None:
    """Onboarding when a vendor is engaged and was not the year before: onboard[v,t] >= y[v,t] - y[v,t-1]."""
    idx = [(v, t) for v in rd.onboarding for t in rd.years
           if not _is_zero(engaged(m, rd, v, t)) and not _is_one(engaged(m, rd, v, t - 1))]
    m.ON = pyo.Set(initialize=idx, dimen=2, ordered=True, doc="(v, t): v may be newly engaged in year t")
    m.onboard = pyo.Var(m.ON, domain=pyo.NonNegativeReals, bounds=(0, 1), doc="1 if v is newly engaged in year t")
    m.onboarding = pyo.Constraint(
        m.ON, rule=lambda m, v, t: m.onboard[v, t] >= engaged(m, rd, v, t) - engaged(m, rd, v, t - 1),
        doc="onboarding of a newly engaged vendor",
    )


def _before(rd: RoadmapData, f: str, t: int) -> list[str]:
    """The providers f may have in year t-1 (the status quo in year 0)."""
    return [w for w in ([rd.quo[f]] if t == 1 else rd.providers[f, t - 1]) if w is not None]


def parallel_moves(rd: RoadmapData) -> list[tuple[str, str, str, int]]:
    """(f, w, v, t): f may be with w in year t-1 and with v in year t, (f, v) an offer of A_t with a parallel
    run (w = v included: staying)."""
    return [(f, w, v, t) for t in rd.years for (f, v) in rd.parallel if v in rd.providers[f, t]
            for w in _before(rd, f, t)]


def add_parallel_in(m, rd: RoadmapData) -> None:
    """Where f comes from when it is with v (an offer with a parallel run) in year t: sum_w move[f,w,v,t] =
    x[f,v,t]. With ``parallel_out`` this is the transport of f's provider from t-1 to t restricted to those v,
    exact for 0/1 decisions and as tight as a linear relaxation gets for the parallel run's cost (which depends
    on both the old and the new provider)."""
    idx = parallel_moves(rd)
    m.PR = pyo.Set(initialize=idx, dimen=4, ordered=True,
                   doc="(f, w, v, t): f may move from w to v, an offer with a parallel run, in year t")
    m.move = pyo.Var(m.PR, domain=pyo.NonNegativeReals, bounds=(0, 1), doc="1 if f is with w in t-1 and v in t")
    into: dict[tuple[str, str, int], list] = {}
    for f, w, v, t in idx:
        into.setdefault((f, v, t), []).append(m.move[f, w, v, t])
    m.parallel_in = pyo.Constraint(
        pyo.Set(initialize=list(into), dimen=3, ordered=True),
        rule=lambda m, f, v, t: sum(into[f, v, t]) == holds(m, rd, f, v, t), doc="arrivals at a parallel-run offer",
    )


def add_parallel_out(m, rd: RoadmapData) -> None:
    """f leaves w at most once: sum_v move[f,w,v,t] <= x[f,w,t-1] (over the offers v with a parallel run)."""
    out: dict[tuple[str, str, int], list] = {}
    for f, w, v, t in m.PR:
        out.setdefault((f, w, t), []).append(m.move[f, w, v, t])
    m.parallel_out = pyo.Constraint(
        pyo.Set(initialize=list(out), dimen=3, ordered=True),
        rule=lambda m, f, w, t: sum(out[f, w, t]) <= holds(m, rd, f, w, t - 1), doc="departures to them",
    )


def add_redeploy(m, rd: RoadmapData) -> None:
    """Staff freed from the year after the function leaves in-house: redeploy[f,t] <= out[f,t] and
    redeploy[f,t] <= out[f,t-1] (out: sum_v x[f,v,t]; year 0 the status quo)."""
    idx = [(f, t) for f in rd.freed for t in rd.years if not _is_zero(outsourced(m, rd, f, t - 1))
           and rd.blocks[t].pairs_of_function[f]]
    m.RD = pyo.Set(initialize=idx, dimen=2, ordered=True, doc="(f, t): f's staff may be freed in year t")
    m.redeploy = pyo.Var(m.RD, domain=pyo.NonNegativeReals, bounds=(0, 1), doc="1 if f's staff are freed in year t")
    m.redeploy_now = pyo.Constraint(m.RD, rule=lambda m, f, t: m.redeploy[f, t] <= outsourced(m, rd, f, t),
                                    doc="outsourced this year")
    before_idx = [(f, t) for f, t in idx if not _is_one(outsourced(m, rd, f, t - 1))]
    m.redeploy_before = pyo.Constraint(
        pyo.Set(initialize=before_idx, dimen=2, ordered=True),
        rule=lambda m, f, t: m.redeploy[f, t] <= outsourced(m, rd, f, t - 1), doc="outsourced the year before",
    )


def add_changes_per_year(m, rd: RoadmapData) -> None:
    """The transition team's capacity: sum_f change[f,t] <= K in every year."""
    if rd.max_changes is None:
        return
    m.max_changes_per_year_limit = pyo.Param(initialize=rd.max_changes, mutable=True,
                                             doc="roadmap.max_changes_per_year")
    m.changes_per_year = pyo.Constraint(
        m.T, rule=lambda m, t: sum(change(m, f.id, t) for f in rd.instance.functions) <= m.max_changes_per_year_limit
        if any((f.id, t) in m._changes for f in rd.instance.functions) else pyo.Constraint.Skip,
        doc="changes per year",
    )


def add_earliest_change(m, rd: RoadmapData) -> None:
    """No change before a function's earliest year: change[f,t] <= 0 for t < earliest_change[f]."""
    idx = [(f, t) for f, first in rd.earliest.items() for t in rd.years if t < first and (f, t) in m._changes]
    m.earliest_change = pyo.Constraint(pyo.Set(initialize=idx, dimen=2, ordered=True),
                                       rule=lambda m, f, t: change(m, f, t) <= 0, doc="no change before this year")


def one_off_costs(m, rd: RoadmapData) -> dict:
    """The one-offs of each year: transitions of arrivals, exit fees, parallel runs and onboarding."""
    terms: dict[int, list] = {t: [] for t in rd.years}
    for f, p, t in m.AR:
        if (f, p) in rd.transition:
            terms[t].append(rd.transition[f, p] * m.arrive[f, p, t])
    for f, t in m.EX:
        terms[t].append(rd.exit_fee[f][1] * m.depart[f, t])
    for f, w, v, t in m.PR:  # a parallel run: that share of the old provider's yearly cost in the change year
        if w != v:
            terms[t].append(rd.parallel[f, v] * rd.old_cost[f, w, t] * m.move[f, w, v, t])
    for v, t in m.ON:
        terms[t].append(rd.onboarding[v] * m.onboard[v, t])
    return {t: pyo.quicksum(terms[t]) if terms[t] else 0 for t in rd.years}


def add_transition_budget(m, rd: RoadmapData) -> None:
    """One-offs of each year within that year's transition budget (+ violation when `budget.soft.transition`)."""
    m.TB = pyo.Set(initialize=list(rd.transition_budget), ordered=True, doc="years with a transition budget")
    m.transition_budget_limit = pyo.Param(m.TB, initialize=rd.transition_budget, mutable=True,
                                          doc="transition budget of year t")
    soft = rd.instance.budget.soft.get("transition")
    if soft is not None:
        m.transition_violation = pyo.Var(m.TB, domain=pyo.NonNegativeReals, doc="one-off cost over year t's budget")
    m._one_off = one_off_costs(m, rd)

    def rule(m, t):
        if soft is not None:
            return m._one_off[t] <= m.transition_budget_limit[t] + m.transition_violation[t]
        return m._one_off[t] <= row_upper(m.transition_budget_limit[t])

    m.transition_budget = pyo.Constraint(m.TB, rule=rule, doc="transition budget per year")


def add_npv(m, rd: RoadmapData) -> None:
    """Objective: max sum_t w_t (NB_t + freed staff_t - one-offs_t - penalty) + tail (NB_T + all freed staff_T)."""
    soft = rd.instance.budget.soft.get("transition")
    freed: dict[int, list] = {t: [] for t in rd.years}
    for f, t in m.RD:
        freed[t].append(rd.freed[f] * m.redeploy[f, t])
    expr = 0
    for t in rd.years:
        year = block(m, t).net_benefit.expr + sum(freed[t])
        year -= m._one_off[t]
        if soft is not None and soft.penalty and t in m.TB:
            year -= soft.penalty * m.transition_violation[t]
        expr += rd.weight[t] * year
    last = rd.years[-1]
    if rd.tail:
        staff = sum(value * outsourced(m, rd, f, last) for f, value in rd.freed.items())
        expr += rd.tail * (block(m, last).net_benefit.expr + staff)
    m.npv = pyo.Objective(expr=expr, sense=pyo.maximize, doc="net present value of the roadmap")
