"""The instance compiled into the sparse sets and coefficients the model is built from.

This is where filtering happens before the build: only allowed (function, vendor)
pairs become variables, only vendors whose engagement costs something or is
counted get an engagement variable, and limits no plan can reach are left out.
Every coefficient here is documented, symbol by symbol, in ``models/portfolio.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from outopt.schema import INHOUSE, Instance

Pair = tuple[str, str]


@dataclass
class PortfolioData:
    """Sets and coefficients of the portfolio model (see models/portfolio.md)."""

    instance: Instance
    functions: list[str]
    vendors: list[str]
    resources: list[str]
    pairs: list[Pair]  # A: allowed (function, vendor) offers
    pairs_of_function: dict[str, list[Pair]]
    pairs_of_vendor: dict[str, list[Pair]]
    must_outsource: set[str]  # functions with no in-house option
    benefit: dict[Pair, float]  # b[f,v]
    engage_cost: dict[str, float]  # e[v] = retainer + onboarding'/horizon
    engaged_vendors: list[str]  # VE: vendors with an engagement variable
    spend: dict[Pair, float]  # s[f,v] = cost + commission * revenue
    operating_delta: dict[Pair, float]  # s[f,v] - inhouse cost[f]
    operating_base: float  # recurring cost of the all-in-house plan
    transition: dict[Pair, float]  # t'[f,v]: 0 if v is already f's provider
    onboarding: dict[str, float]  # o'[v]: 0 if v already serves a function
    uses: dict[tuple[str, str], float]  # u[f,r] for functions with an in-house option
    resource_base: dict[str, float]  # use of r by the all-in-house plan
    load: dict[Pair, float]
    binding_resources: list[str] = field(default_factory=list)
    binding_vendor_capacity: list[str] = field(default_factory=list)
    share_limited: list[str] = field(default_factory=list)


def compile_data(inst: Instance, reduce: bool = True) -> PortfolioData:
    """Compile a validated instance. With ``reduce``, leave out limits no plan can reach."""
    H = inst.horizon
    funcs = {f.id: f for f in inst.functions}
    res_value = {r.id: r.redeploy_value for r in inst.resources}
    served_now = {f.current for f in inst.functions if f.current not in (None, INHOUSE)}

    pairs: list[Pair] = []
    benefit, spend, op_delta, trans, load = {}, {}, {}, {}, {}
    for o in inst.offers:
        f = funcs[o.function]
        if f.core:
            continue
        p = (o.function, o.vendor)
        pairs.append(p)
        c_in = f.inhouse.cost if f.inhouse else 0.0
        v_in = f.inhouse.value if f.inhouse else 0.0
        freed = sum(u * res_value[r] for r, u in f.inhouse.uses.items()) if f.inhouse else 0.0
        s = o.cost + o.commission * f.revenue
        t = 0.0 if f.current == o.vendor else o.transition
        spend[p] = s
        op_delta[p] = s - c_in
        trans[p] = t
        load[p] = o.load
        benefit[p] = c_in - v_in + freed - s - t / H + o.value

    by_f: dict[str, list[Pair]] = {f.id: [] for f in inst.functions}
    by_v: dict[str, list[Pair]] = {v.id: [] for v in inst.vendors}
    for p in pairs:
        by_f[p[0]].append(p)
        by_v[p[1]].append(p)

    onboarding = {v.id: 0.0 if v.id in served_now else v.onboarding for v in inst.vendors}
    engage_cost = {v.id: v.retainer + onboarding[v.id] / H for v in inst.vendors}
    counted = inst.rules.max_vendors is not None
    engaged = [
        v.id
        for v in inst.vendors
        if by_v[v.id] and (counted or v.retainer > 0 or onboarding[v.id] > 0 or not reduce)
    ]

    uses, res_base = {}, {r.id: 0.0 for r in inst.resources}
    for f in inst.functions:
        if f.inhouse:
            for r, u in f.inhouse.uses.items():
                uses[(f.id, r)] = u
                res_base[r] += u
    operating_base = sum(f.inhouse.cost for f in inst.functions if f.inhouse)

    data = PortfolioData(
        instance=inst,
        functions=[f.id for f in inst.functions],
        vendors=[v.id for v in inst.vendors],
        resources=[r.id for r in inst.resources],
        pairs=pairs,
        pairs_of_function=by_f,
        pairs_of_vendor=by_v,
        must_outsource={f.id for f in inst.functions if f.inhouse is None},
        benefit=benefit,
        engage_cost=engage_cost,
        engaged_vendors=engaged,
        spend=spend,
        operating_delta=op_delta,
        operating_base=operating_base,
        transition=trans,
        onboarding=onboarding,
        uses=uses,
        resource_base=res_base,
        load=load,
    )
    # Limits no plan can reach are redundant: outsourcing only frees internal capacity,
    # so a resource is only limiting when the all-in-house plan overuses it.
    data.binding_resources = [
        r.id for r in inst.resources if not reduce or res_base[r.id] > r.capacity
    ]
    data.binding_vendor_capacity = [
        v.id
        for v in inst.vendors
        if v.capacity is not None
        and by_v[v.id]
        and (not reduce or sum(load[p] for p in by_v[v.id]) > v.capacity)
    ]
    data.share_limited = [
        v.id for v in inst.vendors if v.max_share is not None and by_v[v.id] and (not reduce or v.max_share < 1)
    ]
    return data
