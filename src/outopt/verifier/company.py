"""The independent company verifier: plain Python, reusing the portfolio verifier per division plus
the corporate checks and the shared retainer/onboarding accounting (paid once for the company)."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from outopt.instance.company import Company, division_view
from outopt.instance.numerics import exceeds, tolerance
from outopt.instance.schema import INHOUSE
from outopt.verifier.portfolio import Verification, verify


@dataclass
class CompanyVerification:
    """What the company verifier found: per-division checks, corporate figures and broken rules."""

    objective: float  # net yearly benefit of the company against all in-house
    operating_cost: float  # recurring cost per year, with retainers paid once
    transition_cost: float  # one-off cost, with onboarding paid once
    engaged: list[str]  # vendors engaged by any division
    spend: dict[str, float]  # company spend per engaged vendor (offers + commissions + one retainer)
    vendor_load: dict[str, float]
    divisions: dict[str, Verification]  # per division, retainers and onboarding left to the company
    violations: list[str] = field(default_factory=list)
    risk: float = 0.0  # risk score of the company's outsourced spend at list price (one retainer a vendor), weighted

    @property
    def feasible(self) -> bool:
        return not self.violations


def verify_company(company: Company, plans: Mapping[str, Mapping[str, str]]) -> CompanyVerification:
    """Recompute a company plan from the raw company and list every broken division and corporate rule."""
    violations: list[str] = []
    known = {d.id for d in company.divisions}
    for did in plans:
        if did not in known:
            violations.append(f"plan names division '{did}', which is not in the company")
    checks: dict[str, Verification] = {}
    for d in company.divisions:
        check = verify(division_view(d.instance), plans.get(d.id, {}))
        checks[d.id] = check
        violations.extend(f"{d.id}: {v}" for v in check.violations)

    terms = company.vendor_terms()
    served = company.served_now()
    H = company.horizon
    engaged: list[str] = []
    spend: dict[str, float] = {}
    load: dict[str, float] = {}
    for check in checks.values():
        for v in check.engaged:
            if v not in engaged:
                engaged.append(v)
            spend[v] = spend.get(v, 0.0) + check.spend[v]
            load[v] = load.get(v, 0.0) + check.vendor_load[v]
    operating = sum(c.operating_cost for c in checks.values())
    transition = sum(c.transition_cost for c in checks.values())
    objective = sum(c.objective for c in checks.values())
    # risk: each division's spend at list price with its risk, and each engaged vendor's one retainer
    listed = {did: sum(r["yearly_cost"] for r in c.rows if r["provider"] not in (None, INHOUSE))
              for did, c in checks.items()}
    risk_spend, list_spend = sum(checks[d].risk * s for d, s in listed.items()), sum(listed.values())
    for v in engaged:
        retainer, onboarding = terms[v]
        onboarding = 0.0 if v in served else onboarding
        operating += retainer
        transition += onboarding
        spend[v] += retainer
        objective -= retainer + onboarding / H
        risk_spend += retainer * company.vendor_risk(v)
        list_spend += retainer

    b = company.budget
    if b.operating is not None and exceeds(operating, b.operating):
        violations.append(f"budget.operating: corporate recurring cost {operating:,.2f} exceeds {b.operating:,.2f}")
    if b.transition is not None and exceeds(transition, b.transition):
        violations.append(f"budget.transition: corporate one-off cost {transition:,.2f} exceeds {b.transition:,.2f}")
    total = sum(spend.values())
    for vid, lim in company.vendors.items():
        if lim.capacity is not None and exceeds(load.get(vid, 0.0), lim.capacity):
            violations.append(f"vendors.{vid}.capacity: company load {load[vid]:g} of {lim.capacity:g}")
        if lim.max_share is not None and spend.get(vid, 0.0) > lim.max_share * total + tolerance(total):
            violations.append(
                f"vendors.{vid}.max_share: {spend[vid] / total:.2%} of company outsourced spend, above {lim.max_share:.2%}"
            )
    if company.max_vendors is not None and exceeds(len(engaged), company.max_vendors):
        violations.append(f"max_vendors: {len(engaged)} vendors engaged company-wide, at most {company.max_vendors}")
    return CompanyVerification(
        objective=objective, operating_cost=operating, transition_cost=transition, engaged=engaged,
        spend=spend, vendor_load=load, divisions=checks, violations=violations,
        risk=risk_spend / list_spend if list_spend > 0 else 0.0,
    )
