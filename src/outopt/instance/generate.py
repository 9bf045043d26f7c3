"""Seeded synthetic instances for benchmarks and tests.

``generate(functions, vendors, profile, seed)`` makes an outsourcing instance of the
given size. Every function gets offers from about 30 % of the vendors (at least one),
so 10,000 functions x 100 vendors has 300,000 offers. The same arguments always give
the same instance.

Profiles:

* ``easy``: every limit is loose (budgets, staff and vendor capacities no plan can
  reach; no retainer, onboarding or concentration cap), so each function simply takes
  its best option.
* ``hard``: every limit binds: the operating and transition budgets, internal staff,
  vendor capacities, vendor retainers and onboarding, and a 40 % cap on any vendor's
  share of outsourced spend.

``rules=True`` adds the rule types of the format: core functions, status-quo
providers, ``max_vendors``, ``separate`` and ``together`` groups.
"""

from __future__ import annotations

import numpy as np

from outopt.instance.schema import (
    INHOUSE,
    Budget,
    Function,
    InHouse,
    Instance,
    Offer,
    Resource,
    Rules,
    Vendor,
)

PROFILES = ("easy", "hard")
OFFER_DENSITY = 0.3


def _limits(rng, hard: bool, k: int, c_in, cost, transition, use, vendor_load):
    """Staff and vendor capacities, retainers, onboarding, the share cap and the budgets of a profile."""
    m = vendor_load.size
    if hard:
        res_cap = (use * 0.55).round(1)
        vend_cap = (vendor_load / k * rng.uniform(0.3, 0.7, m)).round(1)
        if m > 2:
            vend_cap[0] = round(float(vendor_load[0]) * 0.8, 1)
        retainer = rng.uniform(5_000, 40_000, m).round(-2)
        onboarding = rng.uniform(10_000, 60_000, m).round(-2)
        max_share = 0.4
        b_op = round(float(c_in.sum()) * 0.88, -3)
        b_tr = round(float(transition.sum()) / k * 0.45, -3)
    else:
        res_cap = (use * 1.2 + 1).round(1)
        vend_cap = (vendor_load * 1.1 + 1).round(1)
        retainer = np.zeros(m)
        onboarding = np.zeros(m)
        max_share = None
        b_op = round(float(c_in.sum() + cost.sum() + m) * 2, -3)
        b_tr = round(float(transition.sum()) * 2 + 1000, -3)
    return res_cap, vend_cap, retainer, onboarding, max_share, b_op, b_tr


def _rules(rng, funcs: list[Function], m: int, hard: bool) -> Rules:
    """``max_vendors``, ``separate`` and ``together`` groups; members of a together group start in-house."""
    n = len(funcs)
    ids = rng.permutation(n)
    pairs = max(1, n // 25)
    separate = [[f"f{ids[2 * g]}", f"f{ids[2 * g + 1]}"] for g in range(pairs) if 2 * g + 1 < n]
    rest = ids[2 * pairs:]
    together = [[f"f{rest[2 * g]}", f"f{rest[2 * g + 1]}"] for g in range(max(1, n // 50)) if 2 * g + 1 < rest.size]
    for group in together:  # keep the status quo consistent with the rule
        for fid in group:
            i = int(fid[1:])
            funcs[i] = funcs[i].model_copy(update={"current": INHOUSE})
    return Rules(max_vendors=max(2, int(m * (0.5 if hard else 1.0))), separate=separate, together=together)


def generate(functions: int, vendors: int, profile: str = "easy", seed: int = 0, rules: bool = False) -> Instance:
    """A synthetic instance of ``functions`` x ``vendors`` (see the module docstring)."""
    if profile not in PROFILES:
        raise ValueError(f"profile must be one of {', '.join(PROFILES)}, got {profile!r}")
    if functions < 1 or vendors < 1:
        raise ValueError("functions and vendors must be at least 1")
    hard = profile == "hard"
    rng = np.random.default_rng(seed)
    n, m = functions, vendors
    n_res = max(1, min(5, n // 50))
    horizon = 3.0

    # functions: in-house cost, staff use, revenue (some are paid by commission)
    c_in = rng.uniform(40_000, 160_000, n).round(-2)
    v_in = np.where(rng.random(n) < 0.3, rng.uniform(0, 15_000, n), 0.0).round(-2)
    res_of = rng.integers(0, n_res, n)
    fte = rng.uniform(0.3, 2.5, n).round(2)
    revenue = np.where(rng.random(n) < 0.1, rng.uniform(200_000, 2_000_000, n), 0.0).round(-3)
    redeploy = rng.uniform(10_000, 30_000, n_res).round(-3)

    # offers: each function gets about 30 % of the vendors
    k = max(1, min(m, round(OFFER_DENSITY * m)))
    choice = np.argsort(rng.random((n, m)), axis=1)[:, :k]
    if hard and m > 2:  # one large, cheap vendor makes an offer for most functions (the concentration cap binds)
        big = rng.random(n) < 0.7
        has = (choice == 0).any(axis=1)
        choice[big & ~has, k - 1] = 0
    fi = np.repeat(np.arange(n), k)
    vi = choice.ravel()
    quality = rng.uniform(0.85, 1.15, m)  # vendor price level
    if hard and m > 2:
        quality[0] = 0.8
    ratio = rng.uniform(0.65, 1.15, fi.size) * quality[vi]
    commission = np.where((revenue[fi] > 0) & (rng.random(fi.size) < 0.5), rng.uniform(0.01, 0.05, fi.size), 0.0)
    cost = (c_in[fi] * ratio - commission * revenue[fi]).clip(0).round(-2)
    value = rng.uniform(-2_000, 12_000, fi.size).round(-2)
    transition = (c_in[fi] * rng.uniform(0.05, 0.4, fi.size)).round(-2)
    load = (fte[fi] * rng.uniform(0.8, 1.25, fi.size)).round(2)

    # status quo and core functions (rules) -------------------------------------------
    current = [None] * n
    core = np.zeros(n, dtype=bool)
    if rules:
        core = rng.random(n) < 0.05
        first_offer = {}
        for j in range(fi.size):
            first_offer.setdefault(int(fi[j]), int(vi[j]))
        for f in range(n):
            if not core[f] and rng.random() < 0.2:
                current[f] = f"v{first_offer[f]}"

    res_cap, vend_cap, retainer, onboarding, max_share, b_op, b_tr = _limits(
        rng, hard, k, c_in, cost, transition, np.bincount(res_of, weights=fte, minlength=n_res),
        np.bincount(vi, weights=load, minlength=m))

    resources = [
        Resource(id=f"r{r}", capacity=float(res_cap[r]), redeploy_value=float(redeploy[r])) for r in range(n_res)
    ]
    funcs = [
        Function(
            id=f"f{f}",
            revenue=float(revenue[f]),
            core=bool(core[f]),
            current=current[f] if current[f] is not None else (INHOUSE if rules else None),
            inhouse=InHouse(cost=float(c_in[f]), value=float(v_in[f]), uses={f"r{res_of[f]}": float(fte[f])}),
        )
        for f in range(n)
    ]
    vends = [
        Vendor(
            id=f"v{v}",
            retainer=float(retainer[v]),
            onboarding=float(onboarding[v]),
            capacity=float(vend_cap[v]),
            max_share=max_share,
        )
        for v in range(m)
    ]
    offers = [
        Offer(
            function=f"f{f}",
            vendor=f"v{v}",
            cost=c,
            commission=cm,
            value=val,
            transition=t,
            load=ld,
        )
        for f, v, c, cm, val, t, ld in zip(
            fi.tolist(), vi.tolist(), cost.tolist(), commission.round(4).tolist(), value.tolist(),
            transition.tolist(), load.tolist(),
        )
    ]
    rule_set = _rules(rng, funcs, m, hard) if rules else Rules()

    name = f"generated-{profile}-{n}x{m}-s{seed}" + ("-rules" if rules else "")
    return Instance(
        name=name,
        currency="USD",
        horizon=horizon,
        budget=Budget(operating=b_op, transition=b_tr),
        resources=resources,
        functions=funcs,
        vendors=vends,
        offers=offers,
        rules=rule_set,
    )

