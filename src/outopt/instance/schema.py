"""The instance format: one company or division, as pydantic models.

Every model is frozen and forbids unknown fields, so a typo in a file is an
error, never a silently ignored key. Amounts are yearly and in the instance's
``currency`` unless a field says otherwise. Cross-table checks (unknown ids,
duplicates, ...) live in :mod:`outopt.instance.validation`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Discriminator,
    Field,
    PrivateAttr,
    StringConstraints,
    Tag,
    model_serializer,
    model_validator,
)

from outopt.instance.numerics import MAX_AMOUNT
from outopt.instance.ranges import PriceShift, Range, ranged_schema, read_ranges, write_ranges

INHOUSE = "inhouse"
"""The provider name of a function kept in-house."""

Id = Annotated[str, StringConstraints(min_length=1, max_length=200, strip_whitespace=True)]
# every number is within outopt's range of magnitudes (models/portfolio.md, Numerical policy)
Money = Annotated[float, Field(ge=0, le=MAX_AMOUNT)]
NonNegative = Annotated[float, Field(ge=0, le=MAX_AMOUNT)]
Amount = Annotated[float, Field(ge=-MAX_AMOUNT, le=MAX_AMOUNT)]
MAX_COUNT = int(MAX_AMOUNT)
MAX_YEARS = 50
"""The longest roadmap (plan years, tail years) outopt takes."""


class _Frozen(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, allow_inf_nan=False)


class Soft(_Frozen):
    """Marks a limit or rule as soft: it may be broken, at a price or after higher priorities.

    A soft rule's violation is measured in the rule's own unit (currency for budgets, spend
    shares and commitments; units for capacities; functions, vendors or changes for counts;
    1 per broken lock, forbidden assignment, requirement, extra exclusive member or broken
    `together` group; for a `separate` group, members beyond one at each vendor, summed).
    """

    penalty: float | None = Field(
        None, ge=0, le=MAX_AMOUNT,
        description="Cost charged in the objective per unit of violation (currency/year per unit); "
        "absent = 0 (then `priority` must be given).",
    )
    priority: int | None = Field(
        None, ge=1,
        description="Priority level (higher first): levels are honoured lexicographically before net "
        "benefit; within a level violations are summed, each weighted by its penalty (or 1).",
    )

    @model_validator(mode="after")
    def _one_given(self):
        if self.penalty is None and self.priority is None:
            raise ValueError("give a `penalty` per unit of violation, a `priority` level, or both")
        return self

    @property
    def weight(self) -> float:
        """Weight of a unit of violation within its priority level."""
        return self.penalty if self.penalty else 1.0


class Budget(_Frozen):
    """Company-wide spending limits; each is optional (absent = no limit)."""

    operating: Money | None = Field(
        None,
        description="Max recurring cost per year (currency/year): kept functions' in-house cost "
        "+ offer costs + commissions + retainers of engaged vendors.",
    )
    transition: Money | None = Field(
        None,
        description="Max total one-off cost (currency): offer transitions + vendor onboarding + exit fees.",
    )
    soft: dict[Literal["operating", "transition"], Soft] = Field(
        default_factory=dict,
        description="Limits of this budget that are soft, by name (violation in currency); absent = hard.",
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
    soft: Soft | None = Field(None, description="Makes the capacity soft (violation in units); absent = hard.")


class InHouse(_Frozen):
    """How a function is run by the company's own staff."""

    model_config = ConfigDict(json_schema_extra=ranged_schema("cost", "value"))  # amounts may be ranges

    cost: Money = Field(description="Yearly cost of running it in-house (currency/year).")
    value: Amount = Field(
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
    exit_fee: Money = Field(
        0.0,
        description="One-off fee (currency) for leaving the current vendor (`current` must be a vendor): "
        "paid when the plan gives the function to anyone else, in-house included.",
    )
    # --- roadmap terms (used only with a `roadmap` section; models/roadmap.md) ---
    contract_end: int | None = Field(
        None, ge=1, le=MAX_YEARS,
        description="Roadmap: the current contract runs through this plan year; leaving the current vendor in a "
        "year up to and including it pays `exit_fee`, later it is free (absent = every departure pays it).",
    )
    earliest_change: int | None = Field(
        None, ge=1, le=MAX_YEARS,
        description="Roadmap: no change of provider before this plan year (absent = from year 1).",
    )


class DiscountTier(_Frozen):
    """A volume discount tier on a vendor's yearly offer spend."""

    threshold: Money = Field(
        description="Yearly offer spend with the vendor (currency/year, after bundle prices, before "
        "discounts) at or above which the tier applies."
    )
    percent: float = Field(gt=0, le=100, description="Discount in percent (0, 100].")


class Bundle(_Frozen):
    """A set of a vendor's offers priced together."""

    id: Id | None = Field(None, description="Bundle id for reports (defaults to its position, e.g. 'bundle0').")
    functions: list[Id] = Field(description="Functions that make the bundle (each needs an offer from the vendor).")
    price: Money = Field(
        description="Yearly price (currency/year) charged instead of the members' offer costs when every "
        "member goes to the vendor and it is lower than those costs (a dearer bundle is never taken; "
        "commissions are still paid)."
    )


class Vendor(_Frozen):
    """An outside provider."""

    model_config = ConfigDict(json_schema_extra=ranged_schema("retainer", "onboarding"))  # amounts may be ranges

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
    discount_kind: Literal["all_units", "incremental"] = Field(
        "all_units",
        description="How `discounts` apply: all_units = the tier's percent on all the offer spend; "
        "incremental = each tier's percent only on the spend above its threshold.",
    )
    discounts: list[DiscountTier] = Field(
        default_factory=list, description="Volume discount tiers, in increasing threshold and percent."
    )
    bundles: list[Bundle] = Field(default_factory=list, description="Bundle prices for sets of functions.")
    min_spend: Money | None = Field(
        None, description="Minimum contract: if engaged, at least this yearly spend (currency/year)."
    )
    min_functions: int | None = Field(
        None, ge=1, le=MAX_COUNT, description="Minimum contract: if engaged, at least this many functions."
    )
    soft: dict[Literal["capacity", "max_share", "min_spend", "min_functions"], Soft] = Field(
        default_factory=dict, description="Limits of this vendor that are soft, by name; absent = hard."
    )
    price_shift: PriceShift | None = Field(
        None,
        description="Uncertainty (outopt risk, solve --robust): one percent shift, uniform from `low` to `high`, "
        "common to all of this vendor's offer costs, for vendors whose prices move together; absent = none.",
    )
    # --- roadmap terms (used only with a `roadmap` section; models/roadmap.md) ---
    available_from: int | None = Field(
        None, ge=1, le=MAX_YEARS,
        description="Roadmap: no function with this vendor before this plan year, a current one included "
        "(absent = from year 1).",
    )
    escalation: float = Field(
        0.0, ge=0, le=100,
        description="Roadmap: percent [0, 100] per year on its offers' cost and its retainer (plan year t pays "
        "(1 + escalation/100)^(t-1) times them).",
    )


class Offer(_Frozen):
    """A vendor's terms for taking over one function."""

    model_config = ConfigDict(json_schema_extra=ranged_schema("cost", "value", "transition"))  # may be ranges

    function: Id = Field(description="Function id.")
    vendor: Id = Field(description="Vendor id.")
    cost: Money = Field(0.0, description="Recurring fee (currency/year).")
    commission: float = Field(
        0.0, ge=0, le=1, description="Share [0, 1] of the function's revenue paid to the vendor, yearly."
    )
    value: Amount = Field(
        0.0, description="Yearly value of quality or expertise beyond in-house (currency/year)."
    )
    transition: Money = Field(0.0, description="One-off cost of moving the function (currency).")
    load: NonNegative = Field(0.0, description="Capacity used at the vendor (vendor units).")
    risk: float | None = Field(
        None, ge=0, le=1, description="Risk score in [0, 1] of this offer (absent = the vendor's `risk`)."
    )
    stay_discount: float = Field(
        0.0, ge=0, le=100,
        description="Percent [0, 100] off `cost` when the function stays with this vendor, its current one.",
    )
    parallel_run: float = Field(
        0.0, ge=0, le=1,
        description="Roadmap: share [0, 1] of the change year in which the old provider is paid as well when the "
        "function moves to this offer (a one-off: that share of the old provider's yearly cost in that year).",
    )


class Lock(_Frozen):
    """Forces a function to a provider."""

    function: Id = Field(description="Function id.")
    provider: Id = Field(description="'inhouse' or a vendor id (the vendor needs an offer for the function).")
    reason: str = Field("", description="Why (shown in explanations).")
    soft: Soft | None = Field(None, description="Makes the lock soft (violation 1 when broken); absent = hard.")


class Forbid(_Frozen):
    """Forbids providers for functions, e.g. data residency."""

    functions: list[Id] = Field(min_length=1, description="Function ids.")
    vendors: list[Id] = Field(
        min_length=1, description="Vendor ids ('inhouse' forbids keeping the functions in-house)."
    )
    reason: str = Field("", description="Why (shown in explanations).")
    soft: Soft | None = Field(
        None, description="Makes the ban soft (violation: forbidden assignments taken); absent = hard."
    )


class Requires(_Frozen):
    """Outsourcing one function requires outsourcing another."""

    function: Id = Field(description="The function that, when outsourced, ...")
    requires: Id = Field(description="... requires this function to be outsourced too (to any vendor).")
    reason: str = Field("", description="Why (shown in explanations).")
    soft: Soft | None = Field(None, description="Makes it soft (violation 1 when broken); absent = hard.")


class Exclusive(_Frozen):
    """At most one function of a set is outsourced."""

    functions: list[Id] = Field(description="Function ids (two or more).")
    reason: str = Field("", description="Why (shown in explanations).")
    soft: Soft | None = Field(
        None, description="Makes it soft (violation: outsourced members beyond one); absent = hard."
    )


class FunctionGroup(_Frozen):
    """A `separate` or `together` group written as a mapping, to give it a reason or make it soft."""

    functions: list[Id] = Field(description="Function ids (two or more).")
    reason: str = Field("", description="Why (shown in explanations).")
    soft: Soft | None = Field(
        None,
        description="Makes the group soft (violation: for `separate`, members beyond one at each vendor, summed "
        "over vendors; for `together`, 1 when the members do not all share one provider); absent = hard.",
    )


def _group_kind(value) -> str:
    return "<mapping>" if isinstance(value, (dict, FunctionGroup)) else "<ids>"


Group = Annotated[
    Annotated[list[Id], Tag("<ids>")] | Annotated[FunctionGroup, Tag("<mapping>")],
    Discriminator(_group_kind),
]
"""A `separate`/`together` group: a plain list of function ids, or a :class:`FunctionGroup`."""


def group_functions(group: Group) -> list[str]:
    """The function ids of a `separate`/`together` group, whichever way it is written."""
    return list(group.functions) if isinstance(group, FunctionGroup) else list(group)


def group_soft(group: Group) -> Soft | None:
    """The soft marker of a `separate`/`together` group (None: hard)."""
    return group.soft if isinstance(group, FunctionGroup) else None


class VendorGroup(_Frozen):
    """Named vendors (certified small suppliers, a region, an affiliated group) with quotas."""

    id: Id = Field(description="Unique group id.")
    name: str | None = Field(None, description="Readable name (defaults to the id).")
    vendors: list[Id] = Field(min_length=1, description="Vendor ids in the group.")
    min_share: float | None = Field(
        None, ge=0, le=1, description="At least this share [0, 1] of total outsourced spend goes to the group."
    )
    max_share: float | None = Field(
        None, ge=0, le=1, description="At most this share [0, 1] of total outsourced spend goes to the group."
    )
    min_count: int | None = Field(None, ge=0, le=MAX_COUNT, description="At least this many functions go to the group.")
    max_count: int | None = Field(None, ge=0, le=MAX_COUNT, description="At most this many functions go to the group.")
    reason: str = Field("", description="Why (shown in explanations).")
    soft: Soft | None = Field(
        None, description="Makes every quota of the group soft (violation in currency or functions); absent = hard."
    )


class Rules(_Frozen):
    """Business rules; all optional."""

    max_vendors: int | None = Field(None, ge=0, le=MAX_COUNT, description="At most this many vendors engaged.")
    separate: list[Group] = Field(
        default_factory=list,
        description="Groups of functions that must never go to the same vendor (segregation of duties); "
        "a group is a list of function ids, or `{functions: [...], soft: {...}}` to make it soft.",
    )
    together: list[Group] = Field(
        default_factory=list,
        description="Groups of functions that must share one provider: all in-house or all with one vendor; "
        "a group is a list of function ids, or `{functions: [...], soft: {...}}` to make it soft.",
    )
    locks: list[Lock] = Field(default_factory=list, description="Functions forced to a provider.")
    forbid: list[Forbid] = Field(default_factory=list, description="Providers forbidden for functions.")
    requires: list[Requires] = Field(
        default_factory=list, description="Outsourcing a function requires outsourcing another."
    )
    exclusive: list[Exclusive] = Field(
        default_factory=list, description="Sets of functions of which at most one is outsourced."
    )
    max_changes: int | None = Field(
        None, ge=0, le=MAX_COUNT,
        description="At most this many functions change provider against the status quo (`current`, "
        "in-house when absent); a function with no current provider and no in-house option counts as a change.",
    )
    soft: dict[Literal["max_vendors", "max_changes"], Soft] = Field(
        default_factory=dict, description="Rule limits that are soft, by name; absent = hard."
    )


class RoadmapBudget(_Frozen):
    """Budgets per plan year of a roadmap; each list has one amount per year (absent = the instance's budget
    applies in every year)."""

    operating: list[Money] | None = Field(
        None, description="Max recurring cost in each plan year (currency/year), year 1 first.",
    )
    transition: list[Money] | None = Field(
        None,
        description="Max one-off cost in each plan year (currency): transitions, onboarding, exit fees and "
        "parallel runs of that year's changes, year 1 first.",
    )


class Roadmap(_Frozen):
    """A multi-year plan: which function moves to which provider in which year (models/roadmap.md)."""

    years: int = Field(ge=1, le=MAX_YEARS, description="Plan years 1..years; year 1 starts from `current`.")
    discount_rate: float = Field(
        0.0, ge=0, le=1,
        description="Per year (0.08 = 8 %): year t's net benefit and one-offs count 1/(1+rate)^(t-1) in the net "
        "present value.",
    )
    tail_years: int = Field(
        0, ge=0, le=MAX_YEARS,
        description="The last year's recurring net benefit (its plan, at its prices, all staff freed) counts this "
        "many more years, discounted on.",
    )
    max_changes_per_year: int | None = Field(
        None, ge=0, le=MAX_COUNT,
        description="The transition team's capacity: at most this many functions change provider in one year "
        "(absent = no limit).",
    )
    budget: RoadmapBudget = Field(default_factory=RoadmapBudget, description="Budgets per plan year.")


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
    vendor_groups: list[VendorGroup] = Field(
        default_factory=list, description="Named groups of vendors with spend or count quotas."
    )
    roadmap: Roadmap | None = Field(
        None,
        description="Makes the instance a multi-year plan (models/roadmap.md); absent = one steady state "
        "(one-offs amortised over `horizon`).",
    )

    # --- uncertainty (outopt.instance.ranges): ranges are read as their modes and kept here ---
    _ranges: dict[tuple, Range] = PrivateAttr(default_factory=dict)

    @model_validator(mode="wrap")
    @classmethod
    def _read_ranges(cls, data, handler):
        return read_ranges(cls, data, handler)

    @model_serializer(mode="wrap")
    def _write_ranges(self, handler):
        return write_ranges(self, handler(self))

    # Lookups used across the package (cheap; instances are frozen).
    def function(self, fid: str) -> Function:
        return next(f for f in self.functions if f.id == fid)

    def vendor(self, vid: str) -> Vendor:
        return next(v for v in self.vendors if v.id == vid)

    def soft_rules(self) -> dict[str, Soft]:
        """Every soft limit and rule by its place in the file (``budget.operating``, ``rules.locks[0]``, ...)."""
        soft: dict[str, Soft] = {f"budget.{k}": s for k, s in self.budget.soft.items()}
        soft.update({f"resources[{i}].capacity": r.soft for i, r in enumerate(self.resources) if r.soft})
        for i, v in enumerate(self.vendors):
            soft.update({f"vendors[{i}].{k}": s for k, s in v.soft.items()})
        for g, group in enumerate(self.vendor_groups):
            if group.soft:
                for q in ("min_share", "max_share", "min_count", "max_count"):
                    if getattr(group, q) is not None:
                        soft[f"vendor_groups[{g}].{q}"] = group.soft
        soft.update({f"rules.{k}": s for k, s in self.rules.soft.items()})
        for kind in ("separate", "together"):
            for k, group in enumerate(getattr(self.rules, kind)):
                if group_soft(group):
                    soft[f"rules.{kind}[{k}]"] = group_soft(group)
        for kind in ("locks", "forbid", "requires", "exclusive"):
            for k, rule in enumerate(getattr(self.rules, kind)):
                if rule.soft:
                    soft[f"rules.{kind}[{k}]"] = rule.soft
        return soft

    def rules_affecting(self, function: str, provider: str | None = None) -> list[dict]:
        """Rules that constrain giving ``function`` to ``provider`` (any provider when None).

        Each item: ``{"rule": place in the file, "kind", "text", "reason"}``; used by explanations.
        """
        out = []
        r = self.rules
        for k, lock in enumerate(r.locks):
            if lock.function == function:  # it forces one offer and forbids the others
                out.append({"rule": f"rules.locks[{k}]", "kind": "lock",
                            "text": f"'{function}' is locked to '{lock.provider}'", "reason": lock.reason})
        for k, ban in enumerate(r.forbid):
            if function in ban.functions and (provider is None or provider in ban.vendors):
                out.append({"rule": f"rules.forbid[{k}]", "kind": "forbid",
                            "text": f"'{function}' may not go to {', '.join(ban.vendors)}", "reason": ban.reason})
        for k, req in enumerate(r.requires):
            if function in (req.function, req.requires):
                out.append({"rule": f"rules.requires[{k}]", "kind": "requires",
                            "text": f"outsourcing '{req.function}' requires outsourcing '{req.requires}'",
                            "reason": req.reason})
        for k, ex in enumerate(r.exclusive):
            if function in ex.functions:
                out.append({"rule": f"rules.exclusive[{k}]", "kind": "exclusive",
                            "text": f"at most one of {', '.join(ex.functions)} is outsourced", "reason": ex.reason})
        for k, g in enumerate(self.vendor_groups):
            if provider is not None and provider in g.vendors:
                out.append({"rule": f"vendor_groups[{k}]", "kind": "vendor_group",
                            "text": f"'{provider}' is in vendor group '{g.id}'", "reason": g.reason})
        return out

    # The notebook API: tables laid out like the workbook's sheets (see outopt.instance.io.frames).
    @classmethod
    def from_frames(cls, **frames) -> "Instance":
        """Build a validated instance from DataFrames: ``functions=``, ``vendors=``, ``offers=``, ``resources=``,
        optional ``rules=``/``settings=`` and top-level fields (``name=``, ``budget=``)."""
        from outopt.instance.io.frames import instance_from_frames

        return instance_from_frames(**frames)

    def to_frames(self) -> dict:
        """The instance as DataFrames by table: settings, resources, functions, vendors, offers, rules."""
        from outopt.instance.io.frames import instance_to_frames

        return instance_to_frames(self)

    # Changing an instance in code: validated like a file.
    def replace(self, **changes: Any) -> "Instance":
        """A copy with fields changed, validated as a file is (schema and cross-table checks).

        Values are plain data or outopt's models; a mapping is merged into the field's current value
        (``inst.replace(budget={"operating": 1_100_000})`` keeps the transition budget, ``None`` in it
        removes a limit), a model or a list replaces it whole. Raises :class:`~outopt.errors.InputError`
        listing every problem, each with its place (``budget.operating: ...``)."""
        from outopt.instance.validation import instance_from_data

        data = self.model_dump()
        for name, value in changes.items():
            data[name] = _merged(data.get(name), value)
        return instance_from_data(data)

    def model_copy(self, *, update: Mapping[str, Any] | None = None, deep: bool = False) -> "Instance":
        """A copy; changing fields this way is refused, as it skips validation: use :meth:`replace`."""
        if update:
            raise TypeError("Instance.model_copy(update=...) skips validation (a plain dict would be stored "
                            "as it is); use inst.replace(" + ", ".join(f"{k}=..." for k in update)
                            + "), which checks the new values as a file's are")
        return super().model_copy(deep=deep)


def _plain(value: Any) -> Any:
    """Models as plain data (lists and mappings of them too)."""
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    if isinstance(value, Mapping):
        return {k: _plain(v) for k, v in value.items()}
    return value


def _merged(current: Any, change: Any) -> Any:
    """``change`` merged into ``current``: mappings key by key (recursively), anything else replaced."""
    if isinstance(change, Mapping) and not isinstance(change, BaseModel) and isinstance(current, dict):
        return {**current, **{k: _merged(current.get(k), v) for k, v in change.items()}}
    return _plain(change)


def derived(instance: Instance, **update: Any) -> Instance:
    """A copy of a valid instance with fields set to already-valid values, unchecked: for outopt's own
    derivations (reductions, analyses), which keep the format's rules and must stay cheap on 300,000
    offers. Code outside outopt uses :meth:`Instance.replace`."""
    return BaseModel.model_copy(instance, update=update)

# --- companies: several divisions (each an instance) under corporate limits (outopt.instance.company) ---


class SharedVendor(_Frozen):
    """Company-wide limits on one vendor, over all divisions together."""

    capacity: NonNegative | None = Field(
        None, description="Capacity in the vendor's units shared by all divisions' offer loads (absent = unlimited)."
    )
    max_share: float | None = Field(
        None, gt=0, le=1, description="At most this share (0, 1] of the company's total outsourced spend."
    )


class Division(_Frozen):
    """One division: an id and its instance (loaded from its file or given inline)."""

    id: Id = Field(description="Division id, unique in the company (default: the file's stem or the instance name).")
    path: str | None = Field(None, description="The instance file it was read from, relative to the company file.")
    instance: Instance = Field(description="The division's instance.")


class Company(_Frozen):
    """A multi-division company: divisions plus corporate budget, shared vendor limits and vendor count."""

    name: str = Field(description="Company name.")
    budget: Budget = Field(default_factory=Budget, description="Corporate budgets across all divisions (currency).")
    vendors: dict[Id, SharedVendor] = Field(
        default_factory=dict, description="Company-wide vendor limits by vendor id."
    )
    max_vendors: int | None = Field(None, ge=0, le=MAX_COUNT,
                                    description="At most this many vendors engaged company-wide.")
    divisions: list[Division] = Field(min_length=1, description="The divisions.")

    @property
    def currency(self) -> str:
        return self.divisions[0].instance.currency

    @property
    def horizon(self) -> float:
        return self.divisions[0].instance.horizon

    def division(self, did: str) -> Division:
        return next(d for d in self.divisions if d.id == did)

    def vendor_terms(self) -> dict[str, tuple[float, float]]:
        """(retainer, onboarding) of every vendor any division lists (equal across divisions, validated)."""
        terms: dict[str, tuple[float, float]] = {}
        for d in self.divisions:
            for v in d.instance.vendors:
                terms.setdefault(v.id, (v.retainer, v.onboarding))
        return terms

    def vendor_risk(self, vid: str) -> float:
        """The risk score of a vendor's retainer: the vendor's ``risk`` in the first division that lists it."""
        return next((v.risk or 0.0 for d in self.divisions for v in d.instance.vendors if v.id == vid), 0.0)

    def served_now(self) -> set[str]:
        """Vendors serving some function of some division in the status quo (no onboarding)."""
        return {
            f.current for d in self.divisions for f in d.instance.functions if f.current not in (None, INHOUSE)
        }
