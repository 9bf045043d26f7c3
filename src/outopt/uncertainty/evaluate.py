"""Plans over scenarios, vectorised: each plan's net benefit, recurring cost and one-off cost in every
scenario, and the statistics ``outopt risk`` reports.

A plan's figures are linear in the amounts except for bundle prices, volume discounts and the
penalties of soft limits on money (budgets, shares, minimum spend): so each plan gets one column of
coefficients per figure (net benefit, recurring cost, one-off cost, and where those terms need them
each vendor's offer spend, bundle members' costs and retainer), over the amounts that vary and that
the plan touches; the scenarios' deviations from the planning values times these columns (one matrix
product, in chunks of amounts) give every figure in every scenario, and the non-linear terms are then
computed from them per vendor, vectorised over the scenarios. Every figure starts from the
independent verifier's at the planning values, so a scenario where nothing moves gives the
verifier's figures exactly; :mod:`outopt.uncertainty.check` recomputes scenarios through the verifier itself.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path

import numpy as np

from outopt.errors import InputError, Problem
from outopt.instance.io.text import read_text
from outopt.instance.numerics import tolerance
from outopt.instance.schema import INHOUSE, Instance
from outopt.uncertainty.samples import Place, Samples
from outopt.verifier.portfolio import Verification, as_plan, verify

OBJ, OP, TR = 0, 1, 2


@dataclass
class Outcome:
    """A plan's figures in every scenario: net benefit (the objective: penalties of soft rules taken off),
    recurring cost per year and one-off cost; ``planning`` is the verifier's check at the planning values."""

    name: str
    plan: dict[str, str]
    objective: np.ndarray
    operating: np.ndarray
    transition: np.ndarray
    planning: Verification


class _Terms:
    """One plan's aggregate figures (columns) and each varying amount's coefficient in them."""

    def __init__(self, instance: Instance, plan: dict[str, str], varying: set[Place], need_spend: bool):
        self.instance, self.plan, self.varying = instance, plan, varying
        self.check = verify(instance, plan)
        self.columns: dict[tuple, int] = {("obj",): OBJ, ("op",): OP, ("tr",): TR}
        self.base: list[float] = [0.0, 0.0, 0.0]  # planning values of the aggregates (figures: unused)
        self.terms: list[tuple[Place, int, float]] = []
        engaged = self.check.engaged
        vendors = {v.id: v for v in instance.vendors}
        priced = {v for v in engaged if vendors[v].discounts or vendors[v].bundles}
        self.spend_vendors = sorted(set(engaged) if need_spend else priced)
        self._linear()
        self._vendors(vendors)

    def column(self, key: tuple, base: float) -> int:
        if key not in self.columns:
            self.columns[key] = len(self.base)
            self.base.append(base)
        return self.columns[key]

    def term(self, place: Place, col: int, coef: float) -> None:
        if coef and place in self.varying:
            self.terms.append((place, col, coef))

    def _linear(self) -> None:
        """Net benefit, recurring and one-off cost: the verifier's formulas, coefficient by coefficient."""
        inst, plan = self.instance, self.plan
        H = inst.horizon
        offer_at = {(o.function, o.vendor): i for i, o in enumerate(inst.offers)}
        self.paid: dict[str, tuple[int, float, float]] = {}  # f -> (offer index, k, yearly paid) when outsourced
        for fi, f in enumerate(inst.functions):
            provider = plan[f.id]
            if provider == INHOUSE:
                self.term(Place("inhouse", fi, "cost"), OP, 1.0)
                continue
            i = offer_at[(f.id, provider)]
            o = inst.offers[i]
            k = 1 - o.stay_discount / 100 if f.current == provider else 1.0
            self.paid[f.id] = (i, k, o.cost * k + o.commission * f.revenue)
            if f.inhouse is not None:
                self.term(Place("inhouse", fi, "cost"), OBJ, 1.0)
                self.term(Place("inhouse", fi, "value"), OBJ, -1.0)
            self.term(Place("offers", i, "cost"), OBJ, -k)
            self.term(Place("offers", i, "cost"), OP, k)
            self.term(Place("offers", i, "value"), OBJ, 1.0)
            if f.current != provider:
                self.term(Place("offers", i, "transition"), OBJ, -1.0 / H)
                self.term(Place("offers", i, "transition"), TR, 1.0)
        served_now = {f.current for f in inst.functions if f.current not in (None, INHOUSE)}
        vendor_at = {v.id: j for j, v in enumerate(inst.vendors)}
        for v in self.check.engaged:
            j = vendor_at[v]
            self.term(Place("vendors", j, "retainer"), OBJ, -1.0)
            self.term(Place("vendors", j, "retainer"), OP, 1.0)
            if v not in served_now:
                self.term(Place("vendors", j, "onboarding"), OBJ, -1.0 / H)
                self.term(Place("vendors", j, "onboarding"), TR, 1.0)

    def _vendors(self, vendors) -> None:
        """Offer spend, bundle members' costs and retainer of the vendors whose price terms or shares need them."""
        inst, plan = self.instance, self.plan
        vendor_at = {v.id: j for j, v in enumerate(inst.vendors)}
        for v in self.spend_vendors:
            members = [f for f, (i, _, _) in self.paid.items() if plan[f] == v]
            col = self.column(("G", v), sum(self.paid[f][2] for f in members))
            for f in members:
                self.term(Place("offers", self.paid[f][0], "cost"), col, self.paid[f][1])
            for k, b in enumerate(vendors[v].bundles):
                if all(plan.get(f) == v for f in b.functions):
                    paid = [(self.paid[f][0], self.paid[f][1], inst.offers[self.paid[f][0]].cost) for f in b.functions]
                    col = self.column(("B", v, k), sum(c * kk for _, kk, c in paid))
                    for i, kk, _ in paid:
                        self.term(Place("offers", i, "cost"), col, kk)
            col = self.column(("A", v), vendors[v].retainer)
            self.term(Place("vendors", vendor_at[v], "retainer"), col, 1.0)


def _discount(vendor, base: np.ndarray) -> np.ndarray:
    """The verifier's ``volume_discount``, vectorised over scenarios."""
    tiers = vendor.discounts
    if vendor.discount_kind == "all_units":
        pct = np.zeros_like(base)
        for t in tiers:  # a threshold is reached within its tolerance (numerics.reached)
            pct = np.where(t.threshold - base > tolerance(t.threshold), pct, np.maximum(pct, t.percent))
        return pct / 100 * base
    total = np.zeros_like(base)
    for k, t in enumerate(tiers):
        top = tiers[k + 1].threshold if k + 1 < len(tiers) else math.inf
        total += t.percent / 100 * np.maximum(0.0, np.minimum(base, top) - t.threshold)
    return total


def _price_terms(terms: _Terms, agg: np.ndarray) -> tuple[np.ndarray, dict[str, np.ndarray]]:
    """Bundle savings plus volume discounts (summed), and each spend vendor's net spend, per scenario,
    from the aggregates ``agg`` (scenarios x columns)."""
    inst = terms.instance
    vendors = {v.id: v for v in inst.vendors}
    reduction = np.zeros(agg.shape[0])
    spend = {}
    for v in terms.spend_vendors:
        saving = np.zeros(agg.shape[0])
        for k, b in enumerate(vendors[v].bundles):
            col = terms.columns.get(("B", v, k))
            if col is not None:
                saving += np.maximum(0.0, agg[:, col] - b.price)
        base = agg[:, terms.columns[("G", v)]] - saving
        discount = _discount(vendors[v], base) if vendors[v].discounts else 0.0
        reduction += saving + discount
        spend[v] = base - discount + agg[:, terms.columns[("A", v)]]
    return reduction, spend


def _penalties(inst: Instance, op: np.ndarray, tr: np.ndarray, spend: dict[str, np.ndarray]) -> np.ndarray:
    """Penalties of the soft limits on money (budgets, shares, minimum spend), per scenario (the verifier's)."""
    total = np.zeros_like(op)
    soft = inst.budget.soft
    for name, use in (("operating", op), ("transition", tr)):
        limit = getattr(inst.budget, name)
        if limit is not None and name in soft and soft[name].penalty:
            total += soft[name].penalty * np.maximum(0.0, use - limit)
    if not money_soft_rules(inst):
        return total
    T = sum(spend.values()) if spend else np.zeros_like(op)
    for v in inst.vendors:
        s = spend.get(v.id)
        if s is None:  # not engaged: no spend, no minimum
            continue
        if v.max_share is not None and "max_share" in v.soft and v.soft["max_share"].penalty:
            total += v.soft["max_share"].penalty * np.maximum(0.0, s - v.max_share * T)
        if v.min_spend is not None and "min_spend" in v.soft and v.soft["min_spend"].penalty:
            total += v.soft["min_spend"].penalty * np.maximum(0.0, v.min_spend - s)
    for g in inst.vendor_groups:
        if g.soft is None or not g.soft.penalty:
            continue
        sg = sum((spend[v] for v in g.vendors if v in spend), np.zeros_like(op))
        if g.min_share is not None:
            total += g.soft.penalty * np.maximum(0.0, g.min_share * T - sg)
        if g.max_share is not None:
            total += g.soft.penalty * np.maximum(0.0, sg - g.max_share * T)
    return total


def money_soft_rules(inst: Instance) -> bool:
    """Whether a soft rule's penalty depends on vendors' spend (shares, minimum spend)."""
    vendor = any(r in v.soft and v.soft[r].penalty and getattr(v, r) is not None
                 for v in inst.vendors for r in ("max_share", "min_spend"))
    group = any(g.soft is not None and g.soft.penalty and (g.min_share is not None or g.max_share is not None)
                for g in inst.vendor_groups)
    return vendor or group


def check_plan(instance: Instance, plan, name: str) -> dict[str, str]:
    """A plan as a mapping, refused (InputError at ``name``) unless every function has a provider it can
    have: in-house when it has that option, or a vendor with an offer for it. (Its limits may be broken.)"""
    try:
        plan = as_plan(plan)
    except (TypeError, KeyError) as err:
        raise InputError([Problem(name, f"not a plan: {err}")]) from None
    offered = {(o.function, o.vendor) for o in instance.offers}
    problems = []
    for f in instance.functions:
        p = plan.get(f.id)
        if p is None:
            problems.append(Problem(name, f"function '{f.id}' has no provider"))
        elif p == INHOUSE and f.inhouse is None:
            problems.append(Problem(name, f"function '{f.id}' cannot be done in-house"))
        elif p != INHOUSE and (f.id, p) not in offered:
            problems.append(Problem(name, f"function '{f.id}' goes to '{p}', which has no offer for it"))
    known = {f.id for f in instance.functions}
    problems += [Problem(name, f"function '{f}' is not in the instance") for f in plan if f not in known]
    if problems:
        raise InputError(problems)
    return {f.id: plan[f.id] for f in instance.functions}


def read_plan(path) -> dict | list:
    """A plan file: ``outopt solve --json`` output (its ``assignments``) or a JSON/YAML mapping function ->
    provider (checked against an instance by :func:`check_plan`)."""
    data = read_text(Path(path))
    if isinstance(data, dict) and isinstance(data.get("assignments"), list):
        data = data["assignments"]
    ok = (isinstance(data, dict) and all(isinstance(v, str) for v in data.values())) or (
        isinstance(data, list) and all(isinstance(r, dict) and "function" in r and "provider" in r for r in data))
    if not ok:
        raise InputError([Problem("", "not a plan; give a solve --json file or a mapping of function ids to "
                                      "providers")], str(path))
    return data


def evaluate(samples: Samples, plans: Mapping[str, dict[str, str]], chunk: int = 32) -> list[Outcome]:
    """Every plan's figures in every scenario (plans: name -> complete plan, see :func:`check_plan`)."""
    inst = samples.instance
    varying = samples.varies()
    need_spend = money_soft_rules(inst)
    all_terms = [_Terms(inst, plan, varying, need_spend) for plan in plans.values()]
    offsets, width = [], 0
    for t in all_terms:
        offsets.append(width)
        width += len(t.base)
    places = sorted({p for t in all_terms for p, _, _ in t.terms})
    row = {p: i for i, p in enumerate(places)}
    coef = np.zeros((len(places), width))
    for t, off in zip(all_terms, offsets):
        if t.terms:
            rows = np.fromiter((row[p] for p, _, _ in t.terms), dtype=np.int64, count=len(t.terms))
            cols = np.fromiter((off + c for _, c, _ in t.terms), dtype=np.int64, count=len(t.terms))
            vals = np.fromiter((a for _, _, a in t.terms), dtype=float, count=len(t.terms))
            np.add.at(coef, (rows, cols), vals)
    delta = np.zeros((samples.n, width))
    for start, d in samples.deltas(places, chunk):
        delta += d @ coef[start:start + d.shape[1]]
    out = []
    for name, t, off in zip(plans, all_terms, offsets):
        d = delta[:, off:off + len(t.base)]
        base = np.array(t.base)
        red0, spend0 = _price_terms(t, base[None, :])
        red, spend = _price_terms(t, base[None, :] + d)
        c = t.check
        op = c.operating_cost + d[:, OP] - (red - red0)
        tr = c.transition_cost + d[:, TR]
        pen0 = _penalties(inst, np.array([c.operating_cost]), np.array([c.transition_cost]), spend0)
        obj = c.objective + d[:, OBJ] + (red - red0) - (_penalties(inst, op, tr, spend) - pen0)
        out.append(Outcome(name, t.plan, obj, op, tr, c))
    return out


# --- statistics -------------------------------------------------------------------------------------


def cvar(values: np.ndarray, alpha: float) -> float:
    """Conditional value at risk of a net benefit at level ``alpha``: the mean of the worst ``alpha * n``
    scenarios, with the fraction of the next one when ``alpha * n`` is not whole (Rockafellar-Uryasev:
    the most of ``eta - mean((eta - z)+) / alpha`` over ``eta``)."""
    z = np.sort(np.asarray(values, dtype=float))
    k = alpha * len(z)
    m = min(math.floor(k + 1e-12), len(z))
    total = z[:m].sum() + ((k - m) * z[m] if m < len(z) and k > m else 0.0)
    return float(total / k)


def beats(a: np.ndarray, b: np.ndarray) -> np.ndarray:
    """Per scenario, whether net benefit ``a`` is more than ``b`` beyond the tolerance of the numerical policy."""
    return a - b > tolerance(np.abs(b))


def statistics(out: Outcome, instance: Instance, quo: Outcome | None) -> dict:
    """The statistics ``outopt risk`` reports for one plan (README, "Uncertainty")."""
    z = out.objective
    p5, p50, p95 = np.percentile(z, [5, 50, 95])
    over = {}
    for name, use in (("operating", out.operating), ("transition", out.transition)):
        limit = getattr(instance.budget, name)
        over[name] = None if limit is None else float(np.mean(use - limit > tolerance(limit)))
    return {
        "name": out.name,
        "mean": float(np.mean(z)), "std": float(np.std(z)),
        "p5": float(p5), "p50": float(p50), "p95": float(p95),
        "prob_beats_status_quo": None if quo is None else float(np.mean(beats(z, quo.objective))),
        "prob_over_budget": over,
    }
