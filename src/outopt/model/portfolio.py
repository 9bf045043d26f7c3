"""The portfolio MIP in Pyomo: one function per constraint family.

Each ``add_*`` function creates one named Pyomo component whose name is the one in
``models/portfolio.md`` (the formulation). Variables exist only for allowed
(function, vendor) offers, and are indexed by the instance's own ids, so an
exported LP file reads like the instance.

Limits are mutable parameters (``*_limit``) so analyses can change them and
re-solve the same built model.
"""

from __future__ import annotations

import pyomo.environ as pyo

from outopt.model.data import PortfolioData


def build_model(data: PortfolioData) -> pyo.ConcreteModel:
    """Build the Pyomo model of a compiled instance (see models/portfolio.md)."""
    inst = data.instance
    m = pyo.ConcreteModel(name=inst.name)
    m.F = pyo.Set(initialize=data.functions, ordered=True, doc="functions")
    m.V = pyo.Set(initialize=data.vendors, ordered=True, doc="vendors")
    m.A = pyo.Set(initialize=data.pairs, dimen=2, ordered=True, doc="allowed offers (f, v)")
    m.VE = pyo.Set(initialize=data.engaged_vendors, ordered=True, doc="vendors with an engagement variable")
    m.outsource = pyo.Var(m.A, domain=pyo.Binary, doc="1 if function f goes to vendor v")
    m.engage = pyo.Var(m.VE, domain=pyo.Binary, doc="1 if vendor v is engaged")

    add_one_provider(m, data)
    add_engage_link(m, data)
    add_engage_used(m, data)
    add_operating_budget(m, data)
    add_transition_budget(m, data)
    add_resource_capacity(m, data)
    add_vendor_capacity(m, data)
    add_max_share(m, data)
    add_max_vendors(m, data)
    add_separate(m, data)
    add_together(m, data)
    add_net_benefit(m, data)
    return m


def _vendor_spend(m, data: PortfolioData, v: str):
    """Yearly spend with vendor v: its offers' cost and commission plus its retainer."""
    expr = sum(data.spend[p] * m.outsource[p] for p in data.pairs_of_vendor[v])
    retainer = data.instance.vendor(v).retainer
    if v in m.VE and retainer:
        expr = expr + retainer * m.engage[v]
    return expr


def add_one_provider(m, data: PortfolioData) -> None:
    """Each function has one provider: sum_v x[f,v] <= 1, and = 1 when f has no in-house option."""

    def rule(m, f):
        pairs = data.pairs_of_function[f]
        if not pairs:
            return pyo.Constraint.Skip
        total = sum(m.outsource[p] for p in pairs)
        return total == 1 if f in data.must_outsource else total <= 1

    m.one_provider = pyo.Constraint(m.F, rule=rule, doc="one provider per function")


def add_engage_link(m, data: PortfolioData) -> None:
    """A function goes only to an engaged vendor: x[f,v] <= y[v] for v in VE."""
    idx = [p for v in data.engaged_vendors for p in data.pairs_of_vendor[v]]
    m.engage_link = pyo.Constraint(
        pyo.Set(initialize=idx, dimen=2, ordered=True),
        rule=lambda m, f, v: m.outsource[f, v] <= m.engage[v],
        doc="engaged if used",
    )


def add_engage_used(m, data: PortfolioData) -> None:
    """A vendor is engaged only if some function goes to it: y[v] <= sum_f x[f,v]."""
    m.engage_used = pyo.Constraint(
        m.VE,
        rule=lambda m, v: m.engage[v] <= sum(m.outsource[p] for p in data.pairs_of_vendor[v]),
        doc="used if engaged",
    )


def add_operating_budget(m, data: PortfolioData) -> None:
    """Recurring cost within budget: C0 + sum (s[f,v] - c[f]) x[f,v] + sum retainer[v] y[v] <= B_op."""
    limit = data.instance.budget.operating
    if limit is None:
        return
    m.operating_budget_limit = pyo.Param(initialize=limit, mutable=True, doc="budget.operating")
    expr = data.operating_base + sum(data.operating_delta[p] * m.outsource[p] for p in data.pairs)
    expr += sum(data.instance.vendor(v).retainer * m.engage[v] for v in data.engaged_vendors)
    m.operating_budget = pyo.Constraint(expr=expr <= m.operating_budget_limit, doc="budget.operating")


def add_transition_budget(m, data: PortfolioData) -> None:
    """One-off cost within budget: sum t'[f,v] x[f,v] + sum o'[v] y[v] <= B_tr."""
    limit = data.instance.budget.transition
    if limit is None:
        return
    m.transition_budget_limit = pyo.Param(initialize=limit, mutable=True, doc="budget.transition")
    expr = sum(data.transition[p] * m.outsource[p] for p in data.pairs if data.transition[p])
    expr += sum(data.onboarding[v] * m.engage[v] for v in data.engaged_vendors if data.onboarding[v])
    m.transition_budget = pyo.Constraint(expr=expr <= m.transition_budget_limit, doc="budget.transition")


def add_resource_capacity(m, data: PortfolioData) -> None:
    """Internal capacity: U0[r] - sum u[f,r] x[f,v] <= cap[r] (only where the all-in-house plan overuses r)."""
    caps = {r.id: r.capacity for r in data.instance.resources if r.id in data.binding_resources}
    m.R = pyo.Set(initialize=data.binding_resources, ordered=True, doc="limiting resources")
    m.resource_capacity_limit = pyo.Param(m.R, initialize=caps, mutable=True, doc="resources[r].capacity")

    def rule(m, r):
        freed = sum(
            data.uses[(p[0], r)] * m.outsource[p]
            for p in data.pairs
            if (p[0], r) in data.uses
        )
        return data.resource_base[r] - freed <= m.resource_capacity_limit[r]

    m.resource_capacity = pyo.Constraint(m.R, rule=rule, doc="resource capacity")


def add_vendor_capacity(m, data: PortfolioData) -> None:
    """Vendor capacity: sum_f load[f,v] x[f,v] <= cap[v] * y[v] (y[v] = 1 when v has no engagement variable)."""
    caps = {v.id: v.capacity for v in data.instance.vendors if v.id in data.binding_vendor_capacity}
    m.VC = pyo.Set(initialize=data.binding_vendor_capacity, ordered=True, doc="capacity-limited vendors")
    m.vendor_capacity_limit = pyo.Param(m.VC, initialize=caps, mutable=True, doc="vendors[v].capacity")

    def rule(m, v):
        used = sum(data.load[p] * m.outsource[p] for p in data.pairs_of_vendor[v] if data.load[p])
        cap = m.vendor_capacity_limit[v] * m.engage[v] if v in m.VE else m.vendor_capacity_limit[v]
        return used <= cap

    m.vendor_capacity = pyo.Constraint(m.VC, rule=rule, doc="vendor capacity")


def add_max_share(m, data: PortfolioData) -> None:
    """Concentration: spend[v] <= max_share[v] * T, with T = sum_w spend[w] (one row, total_spend_def)."""
    shares = {v.id: v.max_share for v in data.instance.vendors if v.id in data.share_limited}
    m.VS = pyo.Set(initialize=data.share_limited, ordered=True, doc="share-limited vendors")
    m.max_share_limit = pyo.Param(m.VS, initialize=shares, mutable=True, doc="vendors[v].max_share")
    if not data.share_limited:
        m.max_share = pyo.Constraint(m.VS)
        return
    # The total is one variable so that each share row stays sparse: a row holding every offer times a
    # mutable max_share took Pyomo minutes to hand to HiGHS at 2,000 x 50 (see benchmarks/README.md).
    m.total_spend = pyo.Var(domain=pyo.Reals, doc="total outsourced spend T")
    total = sum(_vendor_spend(m, data, w) for w in data.vendors if data.pairs_of_vendor[w])
    m.total_spend_def = pyo.Constraint(expr=m.total_spend == total, doc="total outsourced spend")
    m.max_share = pyo.Constraint(
        m.VS,
        rule=lambda m, v: _vendor_spend(m, data, v) - m.max_share_limit[v] * m.total_spend <= 0,
        doc="max share of outsourced spend",
    )


def add_max_vendors(m, data: PortfolioData) -> None:
    """Vendor count: sum_v y[v] <= K."""
    limit = data.instance.rules.max_vendors
    if limit is None:
        return
    m.max_vendors_limit = pyo.Param(initialize=limit, mutable=True, doc="rules.max_vendors")
    m.max_vendors = pyo.Constraint(expr=sum(m.engage[v] for v in m.VE) <= m.max_vendors_limit)


def add_separate(m, data: PortfolioData) -> None:
    """Segregation of duties: for group g and vendor v, sum_{f in g} x[f,v] <= 1."""
    idx = []
    for g, group in enumerate(data.instance.rules.separate):
        for v in data.vendors:
            members = [(f, v) for f in group if (f, v) in m.A]
            if len(members) > 1:
                idx.append((g, v))
    groups = data.instance.rules.separate

    def rule(m, g, v):
        return sum(m.outsource[f, v] for f in groups[g] if (f, v) in m.A) <= 1

    m.separate = pyo.Constraint(pyo.Set(initialize=idx, dimen=2, ordered=True), rule=rule, doc="rules.separate")


def add_together(m, data: PortfolioData) -> None:
    """Same provider: for group g, consecutive members f, f' and vendor v, x[f,v] = x[f',v]
    (a missing offer counts as 0, which forbids that vendor for the whole group)."""
    idx = []
    for g, group in enumerate(data.instance.rules.together):
        for k in range(len(group) - 1):
            for v in data.vendors:
                if (group[k], v) in m.A or (group[k + 1], v) in m.A:
                    idx.append((g, k, v))
    groups = data.instance.rules.together

    def x(m, f, v):
        return m.outsource[f, v] if (f, v) in m.A else 0

    def rule(m, g, k, v):
        a, b = x(m, groups[g][k], v), x(m, groups[g][k + 1], v)
        if isinstance(a, int):
            return b == 0
        if isinstance(b, int):
            return a == 0
        return a == b

    m.together = pyo.Constraint(pyo.Set(initialize=idx, dimen=3, ordered=True), rule=rule, doc="rules.together")


def add_net_benefit(m, data: PortfolioData) -> None:
    """Objective: max sum b[f,v] x[f,v] - sum e[v] y[v]."""
    expr = sum(data.benefit[p] * m.outsource[p] for p in data.pairs)
    expr -= sum(data.engage_cost[v] * m.engage[v] for v in data.engaged_vendors)
    m.net_benefit = pyo.Objective(expr=expr, sense=pyo.maximize, doc="net yearly benefit vs all in-house")
