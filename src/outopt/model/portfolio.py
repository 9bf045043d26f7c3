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

from outopt.instance.numerics import ABS_TOL, REL_TOL, ROW_ROOM, row_lower, row_upper
from outopt.instance.schema import INHOUSE, group_functions
from outopt.model.data import PortfolioData


def build_model(data: PortfolioData, sparse_shares: bool = False) -> pyo.ConcreteModel:
    """Build the Pyomo model of a compiled instance (see models/portfolio.md).

    ``sparse_shares`` writes share rows against spend variables per vendor and in total (see
    :func:`_total_spend`); :func:`outopt.solve` uses it, analyses that read rows as sums of
    binaries keep the default.
    """
    inst = data.instance
    m = pyo.ConcreteModel(name=inst.name)
    m._sparse_shares = sparse_shares
    m.F = pyo.Set(initialize=data.functions, ordered=True, doc="functions")
    m.V = pyo.Set(initialize=data.vendors, ordered=True, doc="vendors")
    m.A = pyo.Set(initialize=data.pairs, dimen=2, ordered=True, doc="allowed offers (f, v)")
    m.VE = pyo.Set(initialize=data.engaged_vendors, ordered=True, doc="vendors with an engagement variable")
    m.outsource = pyo.Var(m.A, domain=pyo.Binary, doc="1 if function f goes to vendor v")
    m.engage = pyo.Var(m.VE, domain=pyo.Binary, doc="1 if vendor v is engaged")
    if data.soft:
        m.SOFT = pyo.Set(initialize=list(data.soft), ordered=True, doc="soft rules, by place in the file")
        m.violation = pyo.Var(m.SOFT, domain=pyo.NonNegativeReals, doc="violation of soft rule k, in its unit")

    add_one_provider(m, data)
    add_engage_link(m, data)
    add_engage_used(m, data)
    add_bundle_link(m, data)
    add_bundle_all(m, data)
    add_tier_choice(m, data)
    add_tier_split(m, data)
    add_tier_floor(m, data)
    add_tier_ceiling(m, data)
    add_operating_budget(m, data)
    add_transition_budget(m, data)
    add_resource_capacity(m, data)
    add_vendor_capacity(m, data)
    add_max_share(m, data)
    add_max_vendors(m, data)
    add_separate(m, data)
    add_together(m, data)
    add_min_spend(m, data)
    add_min_functions(m, data)
    add_group_share(m, data)
    add_group_count(m, data)
    add_lock(m, data)
    add_forbid(m, data)
    add_requires(m, data)
    add_exclusive(m, data)
    add_max_changes(m, data)
    add_net_benefit(m, data)
    add_priority_level(m, data)
    return m


def _slack(m, data: PortfolioData, place: str):
    """The violation variable of a soft rule, or 0 for a hard one."""
    return m.violation[place] if place in data.soft else 0


def _at_most(m, data: PortfolioData, place: str, limit):
    """Right-hand side of an upper limit's row: the limit plus the violation of a soft rule (charged from
    the limit itself, as the verifier does), or for a hard rule the limit plus the room of a model row
    within its tolerance (models/portfolio.md, Numerical policy)."""
    return limit + m.violation[place] if place in data.soft else row_upper(limit)


def _at_least(m, data: PortfolioData, place: str, limit):
    """Right-hand side of a lower limit's row: the limit less a soft rule's violation, or for a hard rule
    the limit less the room of a model row within its tolerance."""
    return limit - m.violation[place] if place in data.soft else row_lower(limit)


def _share_row(m, data: PortfolioData, place: str, spend, share, total, upper: bool = True):
    """A share limit's row, ``spend <= share * total`` (``>=`` when not ``upper``), plus a soft rule's
    violation; a hard one with the room of a model row within the tolerance of the total spend (total >= 0),
    written with one coefficient per variable: ``spend - (share + REL_TOL) * total <= ROW_ROOM`` (HiGHS drops a
    separate coefficient of 1e-9 as too small)."""
    if place in data.soft:
        if upper:
            return spend - share * total <= m.violation[place]
        return spend - share * total + m.violation[place] >= 0
    if upper:
        if pyo.value(share) == 0:  # a group's share of 0: HiGHS would drop a coefficient of REL_TOL alone
            return spend <= ROW_ROOM
        return spend - (share + REL_TOL) * total <= ROW_ROOM
    return spend - (share - REL_TOL) * total >= -ROW_ROOM


def _reduction(m, data: PortfolioData, v: str):
    """Yearly saving at vendor v from bundle prices and volume discounts (0 when it has none)."""
    expr = 0
    for (w, k), (_, saving) in data.bundles.items():
        if w == v:
            expr += saving * m.bundle[w, k]
    for t, (_, _, rate, intercept) in enumerate(data.tiers.get(v, [])):
        if intercept:
            expr += intercept * m.tier[v, t]
        if rate:
            expr += rate * m.tier_spend[v, t]
    return expr


def _vendor_spend(m, data: PortfolioData, v: str):
    """Yearly spend with vendor v: its offers' cost and commission, less bundle and volume savings, plus its retainer."""
    expr = sum(data.spend[p] * m.outsource[p] for p in data.pairs_of_vendor[v])
    retainer = data.instance.vendor(v).retainer
    if v in m.VE and retainer:
        expr = expr + retainer * m.engage[v]
    if v in data.tiers or any(w == v for w, _ in data.bundles):
        expr = expr - _reduction(m, data, v)
    return expr


def _total_spend(m, data: PortfolioData):
    """Total outsourced spend sum_w S[w].

    With ``sparse_shares`` it is one variable T over one spend variable per vendor: ``spend_def``
    defines S[v] from v's offers, ``total_spend_def`` sets T = sum_w S[w], and share rows hold
    S[v] and T instead of every offer. A dense row per vendor times a mutable share took Pyomo
    minutes to hand to HiGHS at 2,000 x 50; one dense row T = sum of every offer made HiGHS's
    root randomized rounding propagate that row after each of its 30,000 fixings (about 20 s
    without an interrupt check, benchmarks/README.md, Time limits).
    """
    if not getattr(m, "_sparse_shares", False):
        return sum(_vendor_spend(m, data, w) for w in data.vendors if data.pairs_of_vendor[w])
    if not hasattr(m, "total_spend"):
        m.VP = pyo.Set(initialize=[w for w in data.vendors if data.pairs_of_vendor[w]], ordered=True,
                       doc="vendors with an offer (sparse share rows)")
        m.spend = pyo.Var(m.VP, domain=pyo.NonNegativeReals, doc="yearly spend with vendor v S[v]")
        m.spend_def = pyo.Constraint(m.VP, rule=lambda m, v: m.spend[v] == _vendor_spend(m, data, v),
                                     doc="spend with vendor v")
        m.total_spend = pyo.Var(domain=pyo.NonNegativeReals, doc="total outsourced spend T")
        m.total_spend_def = pyo.Constraint(expr=m.total_spend == sum(m.spend[v] for v in m.VP),
                                           doc="total outsourced spend")
    return m.total_spend


def _share_spend(m, data: PortfolioData, v: str):
    """Spend with vendor v in a share row: the variable S[v] with sparse share rows, else the sum."""
    return m.spend[v] if hasattr(m, "spend") else _vendor_spend(m, data, v)


def _outsourced(m, data: PortfolioData, f: str):
    """1 when f is outsourced: sum_v x[f,v]."""
    return sum(m.outsource[p] for p in data.pairs_of_function[f])


def operating_cost(m, data: PortfolioData):
    """The plan's recurring cost per year (left side of budget.operating; also used by the company model)."""
    expr = data.operating_base + sum(data.operating_delta[p] * m.outsource[p] for p in data.pairs)
    expr += sum(data.instance.vendor(v).retainer * m.engage[v] for v in data.engaged_vendors)
    for v in {w for w, _ in data.bundles} | set(data.tiers):
        expr -= _reduction(m, data, v)
    return expr


def transition_cost(m, data: PortfolioData):
    """The plan's one-off cost (left side of budget.transition; also used by the company model)."""
    expr = sum(data.transition[p] * m.outsource[p] for p in data.pairs if data.transition[p])
    expr += sum(data.onboarding[v] * m.engage[v] for v in data.engaged_vendors if data.onboarding[v])
    for f, (cur, fee) in data.exit_fee.items():  # fee * (1 - x[f,cur])
        expr += fee - (fee * m.outsource[f, cur] if (f, cur) in m.A else 0)
    return expr


def vendor_spend(m, data: PortfolioData, v: str):
    """Yearly spend with vendor v (public name of the max-share expression; used by the company model)."""
    return _vendor_spend(m, data, v)


def add_one_provider(m, data: PortfolioData) -> None:
    """Each function has one provider: sum_v x[f,v] <= 1, and = 1 when f has no in-house option.
    A function with no in-house option and no offer left (every offer banned) makes the instance infeasible."""

    def rule(m, f):
        pairs = data.pairs_of_function[f]
        if not pairs:
            return pyo.Constraint.Infeasible if f in data.must_outsource else pyo.Constraint.Skip
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
    expr = operating_cost(m, data)
    rhs = _at_most(m, data, "budget.operating", m.operating_budget_limit)
    m.operating_budget = pyo.Constraint(expr=expr <= rhs, doc="budget.operating")


def add_transition_budget(m, data: PortfolioData) -> None:
    """One-off cost within budget: sum t'[f,v] x[f,v] + sum o'[v] y[v] <= B_tr."""
    limit = data.instance.budget.transition
    if limit is None:
        return
    m.transition_budget_limit = pyo.Param(initialize=limit, mutable=True, doc="budget.transition")
    expr = transition_cost(m, data)
    rhs = _at_most(m, data, "budget.transition", m.transition_budget_limit)
    m.transition_budget = pyo.Constraint(expr=expr <= rhs, doc="budget.transition")


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
        return data.resource_base[r] - freed <= _at_most(m, data, data.resource_place[r] + ".capacity",
                                                          m.resource_capacity_limit[r])

    m.resource_capacity = pyo.Constraint(m.R, rule=rule, doc="resource capacity")


def add_vendor_capacity(m, data: PortfolioData) -> None:
    """Vendor capacity: sum_f load[f,v] x[f,v] <= cap[v] * y[v] (y[v] = 1 when v has no engagement variable)."""
    caps = {v.id: v.capacity for v in data.instance.vendors if v.id in data.binding_vendor_capacity}
    m.VC = pyo.Set(initialize=data.binding_vendor_capacity, ordered=True, doc="capacity-limited vendors")
    m.vendor_capacity_limit = pyo.Param(m.VC, initialize=caps, mutable=True, doc="vendors[v].capacity")

    def rule(m, v):
        used = sum(data.load[p] * m.outsource[p] for p in data.pairs_of_vendor[v] if data.load[p])
        place = data.vendor_place[v] + ".capacity"
        if place in data.soft:
            cap = m.vendor_capacity_limit[v] * m.engage[v] if v in m.VE else m.vendor_capacity_limit[v]
            return used <= cap + m.violation[place]
        cap = row_upper(m.vendor_capacity_limit[v])
        return used <= (cap * m.engage[v] if v in m.VE else cap)

    m.vendor_capacity = pyo.Constraint(m.VC, rule=rule, doc="vendor capacity")


def add_max_share(m, data: PortfolioData) -> None:
    """Concentration: spend[v] <= max_share[v] * T, with T = sum_w spend[w] (one row, total_spend_def)."""
    shares = {v.id: v.max_share for v in data.instance.vendors if v.id in data.share_limited}
    m.VS = pyo.Set(initialize=data.share_limited, ordered=True, doc="share-limited vendors")
    m.max_share_limit = pyo.Param(m.VS, initialize=shares, mutable=True, doc="vendors[v].max_share")
    if not data.share_limited:
        m.max_share = pyo.Constraint(m.VS)
        return
    total = _total_spend(m, data)
    m.max_share = pyo.Constraint(
        m.VS,
        rule=lambda m, v: _share_row(m, data, data.vendor_place[v] + ".max_share", _share_spend(m, data, v),
                                     m.max_share_limit[v], total),
        doc="max share of outsourced spend",
    )


def add_max_vendors(m, data: PortfolioData) -> None:
    """Vendor count: sum_v y[v] <= K."""
    limit = data.instance.rules.max_vendors
    if limit is None:
        return
    m.max_vendors_limit = pyo.Param(initialize=limit, mutable=True, doc="rules.max_vendors")
    slack = _slack(m, data, "rules.max_vendors")
    m.max_vendors = pyo.Constraint(expr=sum(m.engage[v] for v in m.VE) <= m.max_vendors_limit + slack)


def add_separate(m, data: PortfolioData) -> None:
    """Segregation of duties: for group g and vendor v, sum_{f in g} x[f,v] <= 1 (+ e[g,v] when soft,
    with viol[g] = sum_v e[g,v]: the members beyond one at each vendor, summed over vendors)."""
    idx = []
    groups = [group_functions(g) for g in data.instance.rules.separate]
    for g, group in enumerate(groups):
        for v in data.vendors:
            members = [(f, v) for f in group if (f, v) in m.A]
            if len(members) > 1:
                idx.append((g, v))
    soft_idx = [(g, v) for g, v in idx if f"rules.separate[{g}]" in data.soft]
    if soft_idx:
        m.separate_excess = pyo.Var(
            pyo.Set(initialize=soft_idx, dimen=2, ordered=True), domain=pyo.NonNegativeReals,
            doc="members of soft separate group g beyond one at vendor v",
        )
        soft_groups = sorted({g for g, _ in soft_idx})
        m.separate_violation = pyo.Constraint(
            soft_groups,
            rule=lambda m, g: m.violation[f"rules.separate[{g}]"]
            >= sum(m.separate_excess[h, v] for h, v in soft_idx if h == g),
            doc="rules.separate (soft): violation = sum of excesses",
        )

    def rule(m, g, v):
        excess = m.separate_excess[g, v] if (g, v) in soft_idx else 0
        return sum(m.outsource[f, v] for f in groups[g] if (f, v) in m.A) <= 1 + excess

    m.separate = pyo.Constraint(pyo.Set(initialize=idx, dimen=2, ordered=True), rule=rule, doc="rules.separate")


def add_together(m, data: PortfolioData) -> None:
    """Same provider: for group g, consecutive members f, f' and vendor v, x[f,v] = x[f',v]
    (a missing offer counts as 0, which forbids that vendor for the whole group).
    Soft: -viol[g] <= x[f,v] - x[f',v] <= viol[g], so viol[g] = 1 exactly when the members do not
    all share one provider (x is binary), and 0 otherwise."""
    idx = []
    groups = [group_functions(g) for g in data.instance.rules.together]
    for g, group in enumerate(groups):
        for k in range(len(group) - 1):
            for v in data.vendors:
                if (group[k], v) in m.A or (group[k + 1], v) in m.A:
                    idx.append((g, k, v))

    def x(m, f, v):
        return m.outsource[f, v] if (f, v) in m.A else 0

    def rule(m, g, k, v):
        a, b = x(m, groups[g][k], v), x(m, groups[g][k + 1], v)
        slack = _slack(m, data, f"rules.together[{g}]")
        if not isinstance(slack, int):
            return a - b <= slack
        if isinstance(a, int):
            return b == 0
        if isinstance(b, int):
            return a == 0
        return a == b

    m.together = pyo.Constraint(pyo.Set(initialize=idx, dimen=3, ordered=True), rule=rule, doc="rules.together")
    soft_idx = [(g, k, v) for g, k, v in idx if f"rules.together[{g}]" in data.soft]
    if soft_idx:
        m.together_reverse = pyo.Constraint(
            pyo.Set(initialize=soft_idx, dimen=3, ordered=True),
            rule=lambda m, g, k, v: x(m, groups[g][k + 1], v) - x(m, groups[g][k], v)
            <= m.violation[f"rules.together[{g}]"],
            doc="rules.together (soft): the other side of |x[f,v] - x[f',v]| <= viol[g]",
        )


# --- bundles and volume discounts --------------------------------------------------------


def add_bundle_link(m, data: PortfolioData) -> None:
    """Bundle price: z[v,k] <= x[f,v] for each member f of bundle k of v (z earns the bundle's saving)."""
    if not data.bundles:
        return
    m.B = pyo.Set(initialize=list(data.bundles), dimen=2, ordered=True, doc="bundles (v, k) that save money")
    m.bundle = pyo.Var(m.B, domain=pyo.Binary, doc="1 if every member of bundle k goes to v")
    idx = [(v, k, f) for (v, k), (members, _) in data.bundles.items() for f in members]
    m.bundle_link = pyo.Constraint(
        pyo.Set(initialize=idx, dimen=3, ordered=True),
        rule=lambda m, v, k, f: m.bundle[v, k] <= m.outsource[f, v],
        doc="bundle only when all members go to the vendor",
    )


def add_bundle_all(m, data: PortfolioData) -> None:
    """A bundle applies whenever all its members go to the vendor: z[v,k] >= sum_f x[f,v] - (n - 1).
    (The vendor charges the bundle price; without this row a plan could decline the saving to meet
    a minimum spend or another vendor's share.)"""
    if not data.bundles:
        return
    m.bundle_all = pyo.Constraint(
        m.B,
        rule=lambda m, v, k: m.bundle[v, k]
        >= sum(m.outsource[f, v] for f in data.bundles[v, k][0]) - (len(data.bundles[v, k][0]) - 1),
        doc="bundle whenever all members go to the vendor",
    )


def _tier_index(data: PortfolioData) -> list[tuple[str, int]]:
    return [(v, t) for v, rows in data.tiers.items() for t in range(len(rows))]


def add_tier_choice(m, data: PortfolioData) -> None:
    """One discount tier per vendor with discounts: sum_t d[v,t] = 1 (tier 0: no discount)."""
    if not data.tiers:
        return
    m.VT = pyo.Set(initialize=_tier_index(data), dimen=2, ordered=True, doc="discount tiers (v, t)")
    m.tier = pyo.Var(m.VT, domain=pyo.Binary, doc="1 if vendor v's offer spend falls in tier t")
    m.tier_spend = pyo.Var(m.VT, domain=pyo.NonNegativeReals, doc="offer spend of v when in tier t, else 0")
    m.tier_choice = pyo.Constraint(
        list(data.tiers), rule=lambda m, v: sum(m.tier[v, t] for t in range(len(data.tiers[v]))) == 1,
        doc="one tier",
    )


def add_tier_split(m, data: PortfolioData) -> None:
    """The offer spend is in its tier: sum_f s[f,v] x[f,v] - sum_k saving[v,k] z[v,k] = sum_t g[v,t]."""
    if not data.tiers:
        return

    def rule(m, v):
        base = sum(data.spend[p] * m.outsource[p] for p in data.pairs_of_vendor[v])
        base -= sum(saving * m.bundle[w, k] for (w, k), (_, saving) in data.bundles.items() if w == v)
        return base == sum(m.tier_spend[v, t] for t in range(len(data.tiers[v])))

    m.tier_split = pyo.Constraint(list(data.tiers), rule=rule, doc="spend in its tier")


def add_tier_floor(m, data: PortfolioData) -> None:
    """Tier t starts at its threshold: lo[v,t] d[v,t] <= g[v,t] (t >= 1)."""
    if not data.tiers:
        return
    idx = [(v, t) for v, t in _tier_index(data) if t > 0]
    m.tier_floor = pyo.Constraint(
        pyo.Set(initialize=idx, dimen=2, ordered=True),
        rule=lambda m, v, t: data.tiers[v][t][0] * m.tier[v, t] <= m.tier_spend[v, t],
        doc="tier threshold",
    )


def add_tier_ceiling(m, data: PortfolioData) -> None:
    """Tier t ends at the next threshold (the last at the most v can be paid): g[v,t] <= hi[v,t] d[v,t]."""
    if not data.tiers:
        return
    m.tier_ceiling = pyo.Constraint(
        m.VT, rule=lambda m, v, t: m.tier_spend[v, t] <= data.tiers[v][t][1] * m.tier[v, t], doc="tier top"
    )


# --- commitments and vendor groups --------------------------------------------------------


def add_min_spend(m, data: PortfolioData) -> None:
    """Minimum contract: S[v] >= min_spend[v] y[v]."""
    limits = {v.id: v.min_spend for v in data.instance.vendors
              if v.min_spend is not None and v.min_spend > ABS_TOL and v.id in m.VE}  # else every plan meets it
    if not limits:
        return
    m.VM = pyo.Set(initialize=list(limits), ordered=True, doc="vendors with a minimum spend")
    m.min_spend_limit = pyo.Param(m.VM, initialize=limits, mutable=True, doc="vendors[v].min_spend")
    m.min_spend = pyo.Constraint(
        m.VM,
        rule=lambda m, v: _vendor_spend(m, data, v)
        >= _at_least(m, data, data.vendor_place[v] + ".min_spend", m.min_spend_limit[v] * m.engage[v]),
        doc="vendors[v].min_spend",
    )


def add_min_functions(m, data: PortfolioData) -> None:
    """Minimum contract: sum_f x[f,v] >= n[v] y[v]."""
    limits = {v.id: v.min_functions for v in data.instance.vendors if v.min_functions is not None and v.id in m.VE}
    if not limits:
        return
    m.VN = pyo.Set(initialize=list(limits), ordered=True, doc="vendors with a minimum number of functions")
    m.min_functions_limit = pyo.Param(m.VN, initialize=limits, mutable=True, doc="vendors[v].min_functions")
    m.min_functions = pyo.Constraint(
        m.VN,
        rule=lambda m, v: sum(m.outsource[p] for p in data.pairs_of_vendor[v])
        + _slack(m, data, data.vendor_place[v] + ".min_functions") >= m.min_functions_limit[v] * m.engage[v],
        doc="vendors[v].min_functions",
    )


_VACUOUS = {"min_share": 0.0, "max_share": 1.0}  # quotas every plan meets: no row


def _group_quotas(data: PortfolioData, kinds: tuple[str, str]) -> dict[tuple[int, str], float]:
    return {
        (g, q): getattr(group, q)
        for g, group in enumerate(data.instance.vendor_groups)
        for q in kinds
        if getattr(group, q) is not None and getattr(group, q) != _VACUOUS.get(q)
    }


def add_group_share(m, data: PortfolioData) -> None:
    """Group quota on spend: sum_{v in g} S[v] >= / <= share[g] * sum_w S[w]."""
    limits = _group_quotas(data, ("min_share", "max_share"))
    if not limits:
        return
    m.group_share_limit = pyo.Param(list(limits), initialize=limits, mutable=True, doc="vendor_groups[g].min/max_share")
    total = _total_spend(m, data)
    groups = data.instance.vendor_groups

    def rule(m, g, q):
        spend = sum(_share_spend(m, data, v) for v in groups[g].vendors if data.pairs_of_vendor[v])
        return _share_row(m, data, f"vendor_groups[{g}].{q}", spend, m.group_share_limit[g, q], total,
                          upper=q == "max_share")

    m.group_share = pyo.Constraint(list(limits), rule=rule, doc="vendor group share of spend")


def add_group_count(m, data: PortfolioData) -> None:
    """Group quota on functions: sum_{v in g} sum_f x[f,v] >= / <= count[g]."""
    limits = _group_quotas(data, ("min_count", "max_count"))
    if not limits:
        return
    m.group_count_limit = pyo.Param(list(limits), initialize=limits, mutable=True, doc="vendor_groups[g].min/max_count")
    groups = data.instance.vendor_groups

    def rule(m, g, q):
        n = sum(m.outsource[p] for v in groups[g].vendors for p in data.pairs_of_vendor[v])
        slack = _slack(m, data, f"vendor_groups[{g}].{q}")
        if q == "min_count":
            return n + slack >= m.group_count_limit[g, q]
        return n - slack <= m.group_count_limit[g, q]

    m.group_count = pyo.Constraint(list(limits), rule=rule, doc="vendor group count of functions")


# --- locks, bans, dependencies, switching ---------------------------------------------------


def add_lock(m, data: PortfolioData) -> None:
    """Lock: x[f,v] = 1 (1 - x[f,v] <= viol when soft); lock in-house: sum_v x[f,v] <= 0 (+ viol)."""
    locks = data.instance.rules.locks
    if not locks:
        return

    def rule(m, k):
        lock, slack = locks[k], _slack(m, data, f"rules.locks[{k}]")
        if lock.provider == INHOUSE:
            if not data.pairs_of_function[lock.function]:
                return pyo.Constraint.Skip
            return _outsourced(m, data, lock.function) <= slack
        return 1 - m.outsource[lock.function, lock.provider] <= slack

    m.lock = pyo.Constraint(range(len(locks)), rule=rule, doc="rules.locks")


def add_forbid(m, data: PortfolioData) -> None:
    """Ban k: sum over its offers x[f,v] + sum over its in-house bans (1 - sum_v x[f,v]) <= viol[k] (0 when hard).
    Hard bans of offers are removed from A before the build (when reducing), so only what is left gets a row."""
    if not data.forbidden:
        return
    rows = {k: (pairs, kept) for k, pairs, kept in data.forbidden}

    def rule(m, k):
        pairs, kept = rows[k]
        expr = sum(m.outsource[p] for p in pairs) + sum(1 - _outsourced(m, data, f) for f in kept)
        slack = _slack(m, data, f"rules.forbid[{k}]")
        if isinstance(expr, (int, float)) and isinstance(slack, int):  # in-house banned, no offer left
            return pyo.Constraint.Infeasible if expr > 0 else pyo.Constraint.Skip
        return expr <= slack

    m.forbid = pyo.Constraint(list(rows), rule=rule, doc="rules.forbid")


def add_requires(m, data: PortfolioData) -> None:
    """Dependency: sum_v x[a,v] <= sum_v x[b,v] (+ viol)."""
    reqs = data.instance.rules.requires
    idx = [k for k, r in enumerate(reqs) if data.pairs_of_function[r.function]]
    if not idx:
        return

    def rule(m, k):
        r = reqs[k]
        return _outsourced(m, data, r.function) - _outsourced(m, data, r.requires) <= _slack(m, data, f"rules.requires[{k}]")

    m.requires = pyo.Constraint(idx, rule=rule, doc="rules.requires")


def add_exclusive(m, data: PortfolioData) -> None:
    """At most one outsourced: sum_{f in g} sum_v x[f,v] <= 1 (+ viol)."""
    groups = data.instance.rules.exclusive
    idx = [k for k, g in enumerate(groups) if sum(1 for f in g.functions if data.pairs_of_function[f]) > 1]
    if not idx:
        return
    m.exclusive = pyo.Constraint(
        idx,
        rule=lambda m, k: sum(_outsourced(m, data, f) for f in groups[k].functions)
        <= 1 + _slack(m, data, f"rules.exclusive[{k}]"),
        doc="rules.exclusive",
    )


def _changed(m, data: PortfolioData, f: str):
    """1 when f's provider differs from the status quo, as a linear expression in x."""
    before = data.quo[f]
    if before is None:
        return 1
    if before == INHOUSE:
        return _outsourced(m, data, f)
    return 1 - m.outsource[f, before] if (f, before) in m.A else 1


def add_max_changes(m, data: PortfolioData) -> None:
    """Change management: sum_f changed[f] <= K (+ viol)."""
    limit = data.instance.rules.max_changes
    if limit is None:
        return
    m.max_changes_limit = pyo.Param(initialize=limit, mutable=True, doc="rules.max_changes")
    expr = sum(_changed(m, data, f) for f in data.functions)
    m.max_changes = pyo.Constraint(expr=expr <= m.max_changes_limit + _slack(m, data, "rules.max_changes"))


def add_net_benefit(m, data: PortfolioData) -> None:
    """Objective: max sum b[f,v] x[f,v] - sum e[v] y[v] + savings - exit fees / H - sum penalty[k] viol[k]."""
    expr = sum(data.benefit[p] * m.outsource[p] for p in data.pairs)
    expr -= sum(data.engage_cost[v] * m.engage[v] for v in data.engaged_vendors)
    for v in {w for w, _ in data.bundles} | set(data.tiers):
        expr += _reduction(m, data, v)
    H = data.instance.horizon
    for f, (cur, fee) in data.exit_fee.items():  # - fee/H * (1 - x[f,cur])
        expr -= fee / H - (fee / H * m.outsource[f, cur] if (f, cur) in m.A else 0)
    for k, soft in data.soft.items():
        if soft.penalty:
            expr -= soft.penalty * m.violation[k]
    m.net_benefit = pyo.Objective(expr=expr, sense=pyo.maximize, doc="net yearly benefit vs all in-house")


def add_priority_level(m, data: PortfolioData) -> None:
    """Priority level p: sum_{k at p} w[k] viol[k] <= L[p], and (inactive) objectives min sum_{k at p} w[k] viol[k].
    The solver minimises levels from the highest down, fixing each L[p] at its optimum, then maximises net benefit."""
    levels = sorted({s.priority for s in data.soft.values() if s.priority is not None}, reverse=True)
    if not levels:
        return

    def weighted(m, p):
        return sum(s.weight * m.violation[k] for k, s in data.soft.items() if s.priority == p)

    m.P = pyo.Set(initialize=levels, ordered=True, doc="priority levels, highest first")
    m.priority_level_limit = pyo.Param(m.P, initialize=1e12, mutable=True, doc="violation allowed at level p")
    m.priority_level = pyo.Constraint(m.P, rule=lambda m, p: weighted(m, p) <= m.priority_level_limit[p])
    m.priority_objective = pyo.Objective(m.P, rule=weighted, sense=pyo.minimize, doc="violation at level p")
    m.priority_objective.deactivate()
