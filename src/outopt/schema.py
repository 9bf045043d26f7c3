"""The instance format: one company or division, as pydantic models.

Every model is frozen and forbids unknown fields, so a typo in a file is an
error, never a silently ignored key. Amounts are yearly and in the instance's
``currency`` unless a field says otherwise. Cross-table checks (unknown ids,
duplicates, ...) live in :mod:`outopt.validation`.
"""

from __future__ import annotations

from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints

INHOUSE = "inhouse"
"""The provider name of a function kept in-house."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
Money = Annotated[float, Field(ge=0)]
NonNegative = Annotated[float, Field(ge=0)]


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Budget(_Frozen):
    """Company-wide spending limits; each is optional (absent = no limit)."""

    operating: Money | None = Field(
        None,
        description="Max recurring cost per year (currency/year): kept functions' in-house cost "
        "+ offer costs + commissions + retainers of engaged vendors.",
    )
    transition: Money | None = Field(
        None,
        description="Max total one-off cost (currency): offer transitions + vendor onboarding.",
    )


class Resource(_Frozen):
    """An internal capacity pool, e.g. finance staff in FTE."""

    id: Id = Field(description="Unique resource id, referenced by functions' `inhouse.uses`.")
    name: str | None = Field(None, description="Readable name (defaults to the id).")
    capacity: NonNegative = Field(description="Units available (e.g. FTE).")
    redeploy_value: Money = Field(
        0.0,
        description="Value per unit per year (currency/unit/year) when a unit is freed for other "
        "work (product, marketing, sales).",
    )


class InHouse(_Frozen):
    """How a function is run by the company's own staff."""

    cost: Money = Field(description="Yearly cost of running it in-house (currency/year).")
    value: float = Field(
        0.0, description="Extra yearly value of keeping it (control, know-how), currency/year."
    )
    uses: dict[Id, NonNegative] = Field(
        default_factory=dict, description="Units of each resource it uses, by resource id."
    )


class Function(_Frozen):
    """A business function to keep in-house or give to one vendor."""

    id: Id = Field(description="Unique function id.")
    name: str | None = Field(None, description="Readable name (defaults to the id).")
    revenue: Money = Field(
        0.0, description="Yearly revenue the function handles (currency/year); commissions apply to it."
    )
    core: bool = Field(False, description="Strategic core: never outsourced.")
    current: Id | None = Field(
        None,
        description="Status quo provider: 'inhouse' or a vendor id (absent = in-house when it has an "
        "in-house option).",
    )
    inhouse: InHouse | None = Field(
        None, description="The in-house option; absent = the function cannot be done in-house."
    )


class Vendor(_Frozen):
    """An outside provider."""

    id: Id = Field(description="Unique vendor id ('inhouse' is reserved).")
    name: str | None = Field(None, description="Readable name (defaults to the id).")
    retainer: Money = Field(
        0.0, description="Recurring fee per year if any function goes to this vendor (currency/year)."
    )
    onboarding: Money = Field(0.0, description="One-off cost if engaged (currency).")
    capacity: NonNegative | None = Field(
        None, description="Capacity in the vendor's own units, used by offers' `load` (absent = unlimited)."
    )
    max_share: float | None = Field(
        None,
        gt=0,
        le=1,
        description="At most this share (0, 1] of total outsourced spend may go to this vendor.",
    )
    risk: float | None = Field(
        None,
        ge=0,
        le=1,
        description="Risk score in [0, 1] (0 = none) of spend with this vendor; offers may set their own "
        "(absent = 0). A plan's risk is defined in models/portfolio.md (Risk).",
    )


class Offer(_Frozen):
    """A vendor's terms for taking over one function."""

    function: Id = Field(description="Function id.")
    vendor: Id = Field(description="Vendor id.")
    cost: Money = Field(0.0, description="Recurring fee (currency/year).")
    commission: float = Field(
        0.0, ge=0, le=1, description="Share [0, 1] of the function's revenue paid to the vendor, yearly."
    )
    value: float = Field(
        0.0, description="Yearly value of quality or expertise beyond in-house (currency/year)."
    )
    transition: Money = Field(0.0, description="One-off cost of moving the function (currency).")
    load: NonNegative = Field(0.0, description="Capacity used at the vendor (vendor units).")
    risk: float | None = Field(
        None, ge=0, le=1, description="Risk score in [0, 1] of this offer (absent = the vendor's `risk`)."
    )


class Rules(_Frozen):
    """Business rules; all optional."""

    max_vendors: int | None = Field(None, ge=0, description="At most this many vendors engaged.")
    separate: list[list[Id]] = Field(
        default_factory=list,
        description="Groups of functions that must never go to the same vendor (segregation of duties).",
    )
    together: list[list[Id]] = Field(
        default_factory=list,
        description="Groups of functions that must share one provider: all in-house or all with one vendor.",
    )


class Instance(_Frozen):
    """One company or division: its functions, vendors, offers, budget, staff and rules."""

    name: str = Field(description="Company or division name.")
    currency: str = Field("USD", description="Currency of every amount.")
    horizon: float = Field(
        1.0, gt=0, description="Planning horizon in years; one-off costs count 1/horizon per year."
    )
    budget: Budget = Field(default_factory=Budget, description="Spending limits.")
    resources: list[Resource] = Field(default_factory=list, description="Internal capacity pools.")
    functions: list[Function] = Field(min_length=1, description="Business functions.")
    vendors: list[Vendor] = Field(default_factory=list, description="Outside providers.")
    offers: list[Offer] = Field(default_factory=list, description="Vendors' terms, one per (function, vendor).")
    rules: Rules = Field(default_factory=Rules, description="Business rules.")

    # Lookups used across the package (cheap; instances are frozen).
    def function(self, fid: str) -> Function:
        return next(f for f in self.functions if f.id == fid)

    def vendor(self, vid: str) -> Vendor:
        return next(v for v in self.vendors if v.id == vid)
