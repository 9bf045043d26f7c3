"""The joint corporate model in Pyomo: one portfolio block per division plus corporate limits.

Each division's block is built by :func:`outopt.model.portfolio.build_model`, the same
formulation as a single instance (see models/portfolio.md), on the division's view of its
instance (retainers and onboarding are corporate, so 0 in the block); the block's own
objective is deactivated. Vendor engagement, the shared retainer and onboarding and the
corporate limits are lifted to the company level by one ``add_*`` function per family,
each creating one named component documented in ``models/company.md``.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import pyomo.environ as pyo

from outopt.instance.company import Company, division_view
from outopt.instance.numerics import REL_TOL, ROW_ROOM, row_upper
from outopt.model.data import Pair, PortfolioData, compile_data
from outopt.model.portfolio import (
    build_model,
    operating_cost,
    transition_cost,
    vendor_spend,
)

DivPair = tuple[str, str, str]  # (division, function, vendor)


@dataclass
class CompanyData:
    """Sets and coefficients of the joint model (see models/company.md)."""

    company: Company
    divisions: dict[str, PortfolioData]  # compiled division views, by division id
    vendors: list[str]  # V: vendors with an offer in some division
    pairs_of_vendor: dict[str, list[DivPair]]
    retainer: dict[str, float]  # a_v
    onboarding: dict[str, float]  # o'_v: 0 when v serves some division in the status quo
    engage_cost: dict[str, float]  # e_v = a_v + o'_v / H


def compile_company(company: Company, reduce: bool = True) -> CompanyData:
    """Compile every division's view and the corporate coefficients."""
    divisions = {d.id: compile_data(division_view(d.instance), reduce=reduce) for d in company.divisions}
    terms = company.vendor_terms()
    served = company.served_now()
    by_v: dict[str, list[DivPair]] = {}
    for did, data in divisions.items():
        for f, v in data.pairs:
            by_v.setdefault(v, []).append((did, f, v))
    vendors = [v for v in terms if v in by_v]
    retainer = {v: terms[v][0] for v in vendors}
    onboarding = {v: 0.0 if v in served else terms[v][1] for v in vendors}
    H = company.horizon
    return CompanyData(
        company=company, divisions=divisions, vendors=vendors, pairs_of_vendor=by_v, retainer=retainer,
        onboarding=onboarding, engage_cost={v: retainer[v] + onboarding[v] / H for v in vendors},
    )


def block_name(did: str, taken: set[str]) -> str:
    """A Pyomo-friendly block name from a division id (``div_<id>``), unique."""
    base = "div_" + re.sub(r"\W+", "_", did).strip("_")
    name, k = base, 2
    while name in taken:
        name, k = f"{base}_{k}", k + 1
    taken.add(name)
    return name


def build_company_model(cd: CompanyData) -> tuple[pyo.ConcreteModel, dict[str, str]]:
    """Build the joint model; returns it and the block name of each division."""
    m = pyo.ConcreteModel(name=cd.company.name)
    names: dict[str, str] = {}
    taken: set[str] = set()
    for did, data in cd.divisions.items():
        block = build_model(data)
        for objective in block.component_objects(pyo.Objective):
            objective.deactivate()
        names[did] = block_name(did, taken)
        m.add_component(names[did], block)
    m.V = pyo.Set(initialize=cd.vendors, ordered=True, doc="vendors with an offer in some division")
    m.engage = pyo.Var(m.V, domain=pyo.Binary, doc="1 if vendor v is engaged by the company")
    blocks = {did: getattr(m, names[did]) for did in cd.divisions}

    def x(did: str, p: Pair):
        return blocks[did].outsource[p]

    add_company_engage_link(m, cd, x)
    add_company_engage_used(m, cd, x)
    add_corporate_operating_budget(m, cd, blocks)
    add_corporate_transition_budget(m, cd, blocks)
    add_shared_vendor_capacity(m, cd, x)
    add_shared_max_share(m, cd, blocks)
    add_corporate_max_vendors(m, cd)
    add_company_net_benefit(m, cd, blocks)
    return m, names


def add_company_engage_link(m, cd: CompanyData, x) -> None:
    """A function of any division goes only to a vendor the company engages: x[d,f,v] <= Y[v]."""
    idx = [dp for v in cd.vendors for dp in cd.pairs_of_vendor[v]]
    m.engage_link = pyo.Constraint(
        pyo.Set(initialize=idx, dimen=3, ordered=True),
        rule=lambda m, d, f, v: x(d, (f, v)) <= m.engage[v],
        doc="engaged if used by any division",
    )


def add_company_engage_used(m, cd: CompanyData, x) -> None:
    """The company engages a vendor only if some division uses it: Y[v] <= sum_{d,f} x[d,f,v]."""
    m.engage_used = pyo.Constraint(
        m.V,
        rule=lambda m, v: m.engage[v] <= sum(x(d, (f, w)) for d, f, w in cd.pairs_of_vendor[v]),
        doc="used if engaged",
    )


def add_corporate_operating_budget(m, cd: CompanyData, blocks) -> None:
    """Corporate recurring cost: sum_d (division d's recurring cost, portfolio's operating_cost) + sum_v a_v Y_v <= B_op."""
    limit = cd.company.budget.operating
    if limit is None:
        return
    m.operating_budget_limit = pyo.Param(initialize=limit, mutable=True, doc="company budget.operating")
    expr = sum(operating_cost(blocks[did], data) for did, data in cd.divisions.items())
    expr += sum(cd.retainer[v] * m.engage[v] for v in cd.vendors if cd.retainer[v])
    m.operating_budget = pyo.Constraint(expr=expr <= row_upper(m.operating_budget_limit), doc="company budget.operating")


def add_corporate_transition_budget(m, cd: CompanyData, blocks) -> None:
    """Corporate one-off cost: sum_d (division d's one-off cost, portfolio's transition_cost) + sum_v o'_v Y_v <= B_tr."""
    limit = cd.company.budget.transition
    if limit is None:
        return
    m.transition_budget_limit = pyo.Param(initialize=limit, mutable=True, doc="company budget.transition")
    expr = sum(transition_cost(blocks[did], data) for did, data in cd.divisions.items())
    expr += sum(cd.onboarding[v] * m.engage[v] for v in cd.vendors if cd.onboarding[v])
    m.transition_budget = pyo.Constraint(expr=expr <= row_upper(m.transition_budget_limit), doc="company budget.transition")


def add_shared_vendor_capacity(m, cd: CompanyData, x) -> None:
    """Shared capacity: sum_{d,f} load x[d,f,v] <= cap_v Y_v, for vendors with a company capacity."""
    caps = {
        v: lim.capacity for v, lim in cd.company.vendors.items() if lim.capacity is not None and v in cd.pairs_of_vendor
    }
    m.VC = pyo.Set(initialize=list(caps), ordered=True, doc="vendors with a company-wide capacity")
    m.vendor_capacity_limit = pyo.Param(m.VC, initialize=caps, mutable=True, doc="company vendors.<id>.capacity")

    def load(d, f, v):
        return cd.divisions[d].load[(f, v)]

    m.vendor_capacity = pyo.Constraint(
        m.VC,
        rule=lambda m, v: sum(load(*dp) * x(dp[0], dp[1:]) for dp in cd.pairs_of_vendor[v] if load(*dp))
        <= row_upper(m.vendor_capacity_limit[v]) * m.engage[v],
        doc="company vendor capacity",
    )


def company_vendor_spend(m, cd: CompanyData, v: str, blocks):
    """Company spend with v: its spend in every division (offers, commissions, less discounts) plus one retainer."""
    expr = sum(vendor_spend(blocks[d], data, v) for d, data in cd.divisions.items() if data.pairs_of_vendor.get(v))
    return expr + cd.retainer[v] * m.engage[v] if cd.retainer[v] else expr


def add_shared_max_share(m, cd: CompanyData, blocks) -> None:
    """Company concentration: S_v <= m_v sum_w S_w with S_v = sum_{d,f} s x + a_v Y_v."""
    shares = {
        v: lim.max_share for v, lim in cd.company.vendors.items()
        if lim.max_share is not None and lim.max_share < 1 and v in cd.pairs_of_vendor
    }
    m.VS = pyo.Set(initialize=list(shares), ordered=True, doc="vendors with a company-wide max_share")
    m.max_share_limit = pyo.Param(m.VS, initialize=shares, mutable=True, doc="company vendors.<id>.max_share")
    if not shares:
        m.max_share = pyo.Constraint(m.VS)
        return
    total = sum(company_vendor_spend(m, cd, w, blocks) for w in cd.vendors)
    m.max_share = pyo.Constraint(
        m.VS,
        rule=lambda m, v: company_vendor_spend(m, cd, v, blocks) - (m.max_share_limit[v] + REL_TOL) * total
        <= ROW_ROOM,
        doc="company max share of outsourced spend",
    )


def add_corporate_max_vendors(m, cd: CompanyData) -> None:
    """Company vendor count: sum_v Y_v <= K."""
    limit = cd.company.max_vendors
    if limit is None:
        return
    m.max_vendors_limit = pyo.Param(initialize=limit, mutable=True, doc="company max_vendors")
    m.max_vendors = pyo.Constraint(expr=sum(m.engage[v] for v in m.V) <= m.max_vendors_limit)


def add_company_net_benefit(m, cd: CompanyData, blocks) -> None:
    """Objective: max sum_d (division net benefit) - sum_v e_v Y_v."""
    expr = sum(blocks[d].net_benefit.expr for d in cd.divisions)
    expr -= sum(cd.engage_cost[v] * m.engage[v] for v in cd.vendors if cd.engage_cost[v])
    m.net_benefit = pyo.Objective(expr=expr, sense=pyo.maximize, doc="company net yearly benefit vs all in-house")
