"""The instance compiled into the sparse sets and coefficients the model is built from.

This is where filtering happens before the build: only allowed (function, vendor)
pairs become variables, only vendors whose engagement costs something or is
counted get an engagement variable, and limits no plan can reach are left out.
Every coefficient here is documented, symbol by symbol, in ``models/portfolio.md``.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from outopt.instance.numerics import tier_start
from outopt.instance.schema import INHOUSE, Instance, Soft

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
    # --- expressive terms (empty when the instance does not use them) ---
    soft: dict[str, Soft] = field(default_factory=dict)  # soft rules by place, e.g. 'budget.operating'
    vendor_place: dict[str, str] = field(default_factory=dict)  # vendor id -> 'vendors[i]'
    resource_place: dict[str, str] = field(default_factory=dict)  # resource id -> 'resources[i]'
    tiers: dict[str, list[tuple[float, float, float, float]]] = field(default_factory=dict)
    # v -> [(lo, hi, rate, intercept)] for t = 0..T: discount = intercept*tier + rate*tier_spend
    bundles: dict[tuple[str, int], tuple[list[str], float]] = field(default_factory=dict)  # (v, k) -> (members, saving)
    exit_fee: dict[str, tuple[str, float]] = field(default_factory=dict)  # f -> (current vendor, fee)
    forbidden: list[tuple[int, list[Pair], list[str]]] = field(default_factory=list)
    # (k, pairs of A it forbids, functions it forbids in-house) per rules.forbid[k] with something left
    quo: dict[str, str | None] = field(default_factory=dict)  # status-quo provider (None: none)

    def slack_of(self, place: str) -> Soft | None:
        return self.soft.get(place)


def compile_data(inst: Instance, reduce: bool = True) -> PortfolioData:
    """Compile a validated instance. With ``reduce``, leave out limits no plan can reach."""
    H = inst.horizon
    res_value = {r.id: r.redeploy_value for r in inst.resources}
    served_now = {f.current for f in inst.functions if f.current not in (None, INHOUSE)}

    locked = {(lk.function, lk.provider) for lk in inst.rules.locks}
    hard_banned = {
        (f, v) for ban in inst.rules.forbid if ban.soft is None for f in ban.functions for v in ban.vendors
    }
    # a function with no in-house option whose every offer is banned keeps them (its forbid row then
    # makes the instance infeasible, and names the ban), rather than losing every variable
    banned = hard_banned - locked
    stranded: set[str] = set()
    if banned:
        open_offer = {o.function for o in inst.offers if (o.function, o.vendor) not in banned}
        stranded = {f.id for f in inst.functions if f.inhouse is None and f.id not in open_offer}
    # per function, once: (current provider, in-house cost, c_in - v_in + freed, revenue); core ones left out
    terms: dict[str, tuple[str | None, float, float, float] | None] = {}
    for f in inst.functions:
        if f.core:
            terms[f.id] = None
            continue
        c_in = f.inhouse.cost if f.inhouse else 0.0
        v_in = f.inhouse.value if f.inhouse else 0.0
        freed = sum(u * res_value[r] for r, u in f.inhouse.uses.items()) if f.inhouse else 0.0
        terms[f.id] = (f.current, c_in, c_in - v_in + freed, f.revenue)
    paid_cost: dict[Pair, float] = {}
    pairs: list[Pair] = []
    benefit, spend, op_delta, trans, load = {}, {}, {}, {}, {}
    vendor_load = {v.id: 0.0 for v in inst.vendors}  # every offer taken, summed in offer order
    for o in inst.offers:
        term = terms[o.function]
        if term is None:
            continue
        current, c_in, kept, revenue = term
        p = (o.function, o.vendor)
        stays = current == o.vendor
        paid = paid_cost[p] = o.cost * (1 - o.stay_discount / 100) if stays else o.cost
        if reduce and p in hard_banned and p not in locked and o.function not in stranded:
            continue  # a hard ban: no variable at all
        pairs.append(p)
        s = paid + o.commission * revenue
        t = 0.0 if stays else o.transition
        spend[p] = s
        op_delta[p] = s - c_in
        trans[p] = t
        load[p] = o.load
        vendor_load[o.vendor] += o.load
        benefit[p] = kept - s - t / H + o.value  # c_in - v_in + freed - s - t/H + value, in that order

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
        if by_v[v.id]
        and (counted or v.retainer > 0 or onboarding[v.id] > 0 or not reduce
             or v.min_spend is not None or v.min_functions is not None)
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
        and (not reduce or vendor_load[v.id] > v.capacity)
    ]
    data.share_limited = [
        v.id for v in inst.vendors if v.max_share is not None and by_v[v.id] and (not reduce or v.max_share < 1)
    ]
    _compile_terms(inst, data, paid_cost, reduce)
    return data


def _compile_terms(inst: Instance, data: PortfolioData, paid_cost: dict[Pair, float], reduce: bool) -> None:
    """Soft rules, bundles, discount tiers, exit fees, bans and the status quo (models/portfolio.md)."""
    data.vendor_place = {v.id: f"vendors[{i}]" for i, v in enumerate(inst.vendors)}
    data.resource_place = {r.id: f"resources[{i}]" for i, r in enumerate(inst.resources)}
    data.soft = inst.soft_rules()

    # the pairs of A, for the bundles' and bans' lookups below (none: no set of 300,000 pairs to build)
    in_a = set(data.pairs) if inst.rules.forbid or any(v.bundles for v in inst.vendors) else set()
    for v in inst.vendors:
        for k, b in enumerate(v.bundles):
            members = [(f, v.id) for f in b.functions]
            saving = sum(paid_cost.get(p, 0.0) for p in members) - b.price
            if saving > 0 and all(p in in_a for p in members):
                data.bundles[(v.id, k)] = (list(b.functions), saving)

    for v in inst.vendors:
        if not v.discounts or not data.pairs_of_vendor[v.id]:
            continue
        top = sum(max(0.0, data.spend[p]) for p in data.pairs_of_vendor[v.id])
        # all-units: a tier starts where its threshold is reached (within the tolerance, as the verifier
        # has it), and the tier below ends there too: the tiers cover every spend, with no gap below a
        # threshold (issue 19); incremental discounts are continuous at their thresholds
        start = tier_start if v.discount_kind == "all_units" else float
        tiers = [(start(t.threshold), t.percent / 100) for t in v.discounts if not reduce or start(t.threshold) <= top]
        if not tiers:
            continue
        rows = [(0.0, tiers[0][0], 0.0, 0.0)]
        cum = 0.0  # incremental discount reached at the tier's threshold
        for t, (lo, rate) in enumerate(tiers):
            hi = tiers[t + 1][0] if t + 1 < len(tiers) else max(top, lo)
            intercept = cum - rate * lo if v.discount_kind == "incremental" else 0.0
            rows.append((lo, hi, rate, intercept))
            cum += rate * (hi - lo)
        data.tiers[v.id] = rows

    for f in inst.functions:
        if f.exit_fee > 0 and f.current not in (None, INHOUSE):
            data.exit_fee[f.id] = (f.current, f.exit_fee)
    for k, ban in enumerate(inst.rules.forbid):
        pairs = [(f, v) for f in ban.functions for v in ban.vendors if (f, v) in in_a]
        kept = [f for f in ban.functions if INHOUSE in ban.vendors and f not in data.must_outsource]
        if pairs or kept:
            data.forbidden.append((k, pairs, kept))
    for f in inst.functions:
        data.quo[f.id] = f.current if f.current is not None else (INHOUSE if f.inhouse is not None else None)
