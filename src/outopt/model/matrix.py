"""The portfolio MIP as matrices: the same columns and rows as :mod:`outopt.model.portfolio`, built
straight from the compiled data for a fast hand-off to HiGHS.

The Pyomo model is the definition (models/portfolio.md); building and handing 100,000 Pyomo rows to
HiGHS costs seconds, so :func:`outopt.solve` builds this form instead. One function per constraint
family, named as in the Pyomo module (``add_engage_link`` makes the ``engage_link`` rows), with the
Pyomo model's ``sparse_shares`` variant; ``tests/test_matrix.py`` checks on the examples and on random
instances with every term that both give the same rows, bounds, columns and objective.

Rows are stored in compressed-row form, with body constants moved into the bounds as Pyomo's HiGHS
interface does. The objective is a maximisation (``net_benefit``); ``levels`` holds the objective of
each priority level (minimised, highest level first) and its ``priority_level`` row.
"""

from __future__ import annotations

from dataclasses import dataclass, field

from outopt.instance.numerics import ABS_TOL, REL_TOL, ROW_ROOM, row_upper
from outopt.instance.schema import INHOUSE, group_functions
from outopt.model.data import Pair, PortfolioData

INF = float("inf")


@dataclass
class Matrix:
    """Columns (bounds, integrality, objective, names) and rows (CSR, bounds, names) of the model."""

    col_lower: list[float] = field(default_factory=list)
    col_upper: list[float] = field(default_factory=list)
    integer: list[bool] = field(default_factory=list)
    cost: list[float] = field(default_factory=list)  # objective coefficient (maximised)
    offset: float = 0.0  # objective constant
    col_names: list[str] = field(default_factory=list)
    start: list[int] = field(default_factory=lambda: [0])
    index: list[int] = field(default_factory=list)
    value: list[float] = field(default_factory=list)
    row_lower: list[float] = field(default_factory=list)
    row_upper: list[float] = field(default_factory=list)
    row_names: list[str] = field(default_factory=list)
    x: dict[Pair, int] = field(default_factory=dict)  # outsource[f,v] columns
    y: dict[str, int] = field(default_factory=dict)  # engage[v] columns
    levels: list[tuple[int, dict[int, float], int]] = field(default_factory=list)  # (p, objective, row)
    family_rows: dict[str, range] = field(default_factory=dict)  # the rows each family added, by its name
    assign_row: dict[str, int] = field(default_factory=dict)  # one_provider row of each function
    capacity_row: dict[str, int] = field(default_factory=dict)  # vendor_capacity row of each (hard) vendor

    @property
    def num_col(self) -> int:
        return len(self.col_lower)

    @property
    def num_row(self) -> int:
        return len(self.row_lower)

    def column(self, name: str, lower: float, upper: float, integer: bool) -> int:
        self.col_names.append(name)
        self.col_lower.append(lower)
        self.col_upper.append(upper)
        self.integer.append(integer)
        self.cost.append(0.0)
        return len(self.col_lower) - 1

    def columns(self, names: list[str], lower: float, upper: float, integer: bool) -> range:
        """Add many columns with the same bounds and kind; their indices."""
        first = len(self.col_lower)
        n = len(names)
        self.col_names.extend(names)
        self.col_lower.extend([lower] * n)
        self.col_upper.extend([upper] * n)
        self.integer.extend([integer] * n)
        self.cost.extend([0.0] * n)
        return range(first, first + n)

    def difference_rows(self, names: list[str], left: list[int], right: list[int]) -> None:
        """Add rows ``x[left[i]] - x[right[i]] <= 0`` (linking rows), many at once."""
        n = len(names)
        for a, b in zip(left, right):
            self.index.append(a)
            self.index.append(b)
        self.value.extend([1.0, -1.0] * n)
        last = self.start[-1]
        self.start.extend(range(last + 2, last + 2 * n + 1, 2))
        self.row_lower.extend([-INF] * n)
        self.row_upper.extend([0.0] * n)
        self.row_names.extend(names)

    def row(self, name: str, terms: dict[int, float], lower: float = -INF, upper: float = INF,
            constant: float = 0.0) -> int:
        """Add ``lower <= sum terms + constant <= upper`` (zero coefficients dropped, the constant moved)."""
        nonzero = [(j, a) for j, a in terms.items() if a]
        if nonzero:
            cols, values = zip(*nonzero)
            self.index.extend(cols)
            self.value.extend(values)
        self.start.append(len(self.index))
        self.row_lower.append(lower - constant)
        self.row_upper.append(upper - constant)
        self.row_names.append(name)
        return len(self.row_lower) - 1


def _add(terms: dict[int, float], col: int, coef: float) -> None:
    terms[col] = terms.get(col, 0.0) + coef


class _Builder:
    """Column lookups and the expressions the families share (vendor spend, savings, slacks)."""

    def __init__(self, data: PortfolioData):
        self.data = data
        self.mx = Matrix()
        mx = self.mx
        mx.x = dict(zip(data.pairs, mx.columns([f"outsource[{f},{v}]" for f, v in data.pairs], 0.0, 1.0, True)))
        mx.y = dict(zip(data.engaged_vendors, mx.columns([f"engage[{v}]" for v in data.engaged_vendors], 0.0, 1.0, True)))
        self.viol: dict[str, int] = {}  # violation[k] columns, made where a row or the objective uses one
        self.bundle: dict[tuple[str, int], int] = {}
        self.tier: dict[tuple[str, int], int] = {}
        self.tier_spend: dict[tuple[str, int], int] = {}
        self.spend: dict[str, int] = {}
        self.total: int | None = None

    def violation(self, place: str) -> int:
        """The column of soft rule ``place``'s violation."""
        if place not in self.viol:
            self.viol[place] = self.mx.column(f"violation[{place}]", 0.0, INF, False)
        return self.viol[place]

    def upper(self, terms: dict[int, float], place: str, limit: float) -> float:
        """The bound of an upper limit's row: the limit, with a soft rule's violation added to ``terms``, or
        for a hard rule the limit with a model row's room (models/portfolio.md, Numerical policy)."""
        if place in self.data.soft:
            self.slack(terms, place, -1.0)
            return limit
        return row_upper(limit)

    def share_row(self, name: str, place: str, terms: dict[int, float], share: float, upper: bool = True) -> None:
        """``spend <= share * T`` (``>=`` when not ``upper``) with ``spend`` in ``terms``: soft, with the
        violation; hard, with a model row's room within the tolerance of the total spend."""
        total = self.total_spend()
        if place in self.data.soft:
            _add(terms, total, -share)
            self.slack(terms, place, -1.0 if upper else 1.0)
            self.mx.row(name, terms, upper=0.0) if upper else self.mx.row(name, terms, lower=0.0)
        elif upper:
            if share != 0:
                _add(terms, total, -(share + REL_TOL))
            self.mx.row(name, terms, upper=ROW_ROOM)
        else:
            _add(terms, total, -(share - REL_TOL))
            self.mx.row(name, terms, lower=-ROW_ROOM)

    def slack(self, terms: dict[int, float], place: str, sign: float) -> None:
        """Add ``sign * violation[place]`` when the rule at ``place`` is soft."""
        if place in self.data.soft:
            _add(terms, self.violation(place), sign)

    def reduction(self, terms: dict[int, float], v: str, sign: float) -> None:
        """Add ``sign`` times v's bundle savings and volume discount."""
        for (w, k), (_, saving) in self.data.bundles.items():
            if w == v:
                _add(terms, self.bundle[w, k], sign * saving)
        for t, (_, _, rate, intercept) in enumerate(self.data.tiers.get(v, [])):
            if intercept:
                _add(terms, self.tier[v, t], sign * intercept)
            if rate:
                _add(terms, self.tier_spend[v, t], sign * rate)

    def vendor_spend(self, terms: dict[int, float], v: str, sign: float = 1.0) -> None:
        """Add ``sign`` times v's yearly spend: offers, less savings, plus its retainer."""
        data, x = self.data, self.mx.x
        for p in data.pairs_of_vendor[v]:
            _add(terms, x[p], sign * data.spend[p])
        retainer = data.instance.vendor(v).retainer
        if v in self.mx.y and retainer:
            _add(terms, self.mx.y[v], sign * retainer)
        if v in data.tiers or any(w == v for w, _ in data.bundles):
            self.reduction(terms, v, -sign)

    def total_spend(self) -> int:
        """The column T = sum_w S[w], with ``spend_def`` and ``total_spend_def`` (made on first use)."""
        if self.total is None:
            mx, data = self.mx, self.data
            vp = [w for w in data.vendors if data.pairs_of_vendor[w]]
            self.spend = {v: mx.column(f"spend[{v}]", 0.0, INF, False) for v in vp}
            for v in vp:
                terms = {self.spend[v]: 1.0}
                self.vendor_spend(terms, v, -1.0)
                mx.row(f"spend_def[{v}]", terms, 0.0, 0.0)
            self.total = mx.column("total_spend", 0.0, INF, False)
            terms = {self.total: 1.0}
            for v in vp:
                _add(terms, self.spend[v], -1.0)
            mx.row("total_spend_def", terms, 0.0, 0.0)
        return self.total

    def outsourced(self, terms: dict[int, float], f: str, sign: float) -> None:
        for p in self.data.pairs_of_function[f]:
            _add(terms, self.mx.x[p], sign)


def build_matrix(data: PortfolioData) -> Matrix:
    """The model of ``build_model(data, sparse_shares=True)`` as matrices (see the module docstring)."""
    b = _Builder(data)
    for family in FAMILIES:
        first = b.mx.num_row
        family(b)
        b.mx.family_rows[family.__name__.removeprefix("add_")] = range(first, b.mx.num_row)
    return b.mx


def add_one_provider(b: _Builder) -> None:
    data = b.data
    for f in data.functions:
        pairs = data.pairs_of_function[f]
        must = f in data.must_outsource
        if not pairs:
            if must:  # every offer banned: the instance is infeasible
                b.mx.row(f"one_provider[{f}]", {}, upper=0.0, constant=1.0)
            continue
        b.mx.assign_row[f] = b.mx.row(f"one_provider[{f}]", {b.mx.x[p]: 1.0 for p in pairs}, 1.0 if must else -INF, 1.0)


def add_engage_link(b: _Builder) -> None:
    x, y = b.mx.x, b.mx.y
    pairs = [p for v in b.data.engaged_vendors for p in b.data.pairs_of_vendor[v]]
    b.mx.difference_rows([f"engage_link[{f},{v}]" for f, v in pairs], [x[p] for p in pairs], [y[p[1]] for p in pairs])


def add_engage_used(b: _Builder) -> None:
    x, y = b.mx.x, b.mx.y
    for v in b.data.engaged_vendors:
        terms = {y[v]: 1.0, **{x[p]: -1.0 for p in b.data.pairs_of_vendor[v]}}
        b.mx.row(f"engage_used[{v}]", terms, upper=0.0)


def add_bundle_link(b: _Builder) -> None:
    mx = b.mx
    for (v, k) in b.data.bundles:
        b.bundle[v, k] = mx.column(f"bundle[{v},{k}]", 0.0, 1.0, True)
    for (v, k), (members, _) in b.data.bundles.items():
        for f in members:
            mx.row(f"bundle_link[{v},{k},{f}]", {b.bundle[v, k]: 1.0, mx.x[f, v]: -1.0}, upper=0.0)


def add_bundle_all(b: _Builder) -> None:
    for (v, k), (members, _) in b.data.bundles.items():
        terms = {b.bundle[v, k]: -1.0}
        for f in members:
            _add(terms, b.mx.x[f, v], 1.0)
        b.mx.row(f"bundle_all[{v},{k}]", terms, upper=0.0, constant=-(len(members) - 1))


def add_tier_choice(b: _Builder) -> None:
    mx = b.mx
    for v, rows in b.data.tiers.items():
        for t in range(len(rows)):
            b.tier[v, t] = mx.column(f"tier[{v},{t}]", 0.0, 1.0, True)
    for v, rows in b.data.tiers.items():
        for t in range(len(rows)):
            b.tier_spend[v, t] = mx.column(f"tier_spend[{v},{t}]", 0.0, INF, False)
    for v, rows in b.data.tiers.items():
        mx.row(f"tier_choice[{v}]", {b.tier[v, t]: 1.0 for t in range(len(rows))}, 1.0, 1.0)


def add_tier_split(b: _Builder) -> None:
    data = b.data
    for v, rows in data.tiers.items():
        terms: dict[int, float] = {}
        for p in data.pairs_of_vendor[v]:
            _add(terms, b.mx.x[p], data.spend[p])
        for (w, k), (_, saving) in data.bundles.items():
            if w == v:
                _add(terms, b.bundle[w, k], -saving)
        for t in range(len(rows)):
            _add(terms, b.tier_spend[v, t], -1.0)
        b.mx.row(f"tier_split[{v}]", terms, 0.0, 0.0)


def add_tier_floor(b: _Builder) -> None:
    for v, rows in b.data.tiers.items():
        for t in range(1, len(rows)):
            b.mx.row(f"tier_floor[{v},{t}]", {b.tier[v, t]: rows[t][0], b.tier_spend[v, t]: -1.0}, upper=0.0)


def add_tier_ceiling(b: _Builder) -> None:
    for v, rows in b.data.tiers.items():
        for t in range(len(rows)):
            b.mx.row(f"tier_ceiling[{v},{t}]", {b.tier_spend[v, t]: 1.0, b.tier[v, t]: -rows[t][1]}, upper=0.0)


def add_operating_budget(b: _Builder) -> None:
    data, mx = b.data, b.mx
    limit = data.instance.budget.operating
    if limit is None:
        return
    terms: dict[int, float] = {}
    for p in data.pairs:
        _add(terms, mx.x[p], data.operating_delta[p])
    for v in data.engaged_vendors:
        _add(terms, mx.y[v], data.instance.vendor(v).retainer)
    for v in _reducing_vendors(data):
        b.reduction(terms, v, -1.0)
    mx.row("operating_budget", terms, upper=b.upper(terms, "budget.operating", limit), constant=data.operating_base)


def _reducing_vendors(data: PortfolioData) -> list[str]:
    """Vendors with bundles or discount tiers, in the order the Pyomo model sums them."""
    return list({w for w, _ in data.bundles} | set(data.tiers))


def add_transition_budget(b: _Builder) -> None:
    data, mx = b.data, b.mx
    limit = data.instance.budget.transition
    if limit is None:
        return
    terms: dict[int, float] = {}
    for p in data.pairs:
        _add(terms, mx.x[p], data.transition[p])
    for v in data.engaged_vendors:
        _add(terms, mx.y[v], data.onboarding[v])
    fees = 0.0
    for f, (cur, fee) in data.exit_fee.items():
        fees += fee
        if (f, cur) in mx.x:
            _add(terms, mx.x[f, cur], -fee)
    mx.row("transition_budget", terms, upper=b.upper(terms, "budget.transition", limit), constant=fees)


def add_resource_capacity(b: _Builder) -> None:
    data, mx = b.data, b.mx
    caps = {r.id: r.capacity for r in data.instance.resources}
    for r in data.binding_resources:
        terms: dict[int, float] = {}
        for p in data.pairs:
            u = data.uses.get((p[0], r))
            if u is not None:
                _add(terms, mx.x[p], -u)
        upper = b.upper(terms, data.resource_place[r] + ".capacity", caps[r])
        mx.row(f"resource_capacity[{r}]", terms, upper=upper, constant=data.resource_base[r])


def add_vendor_capacity(b: _Builder) -> None:
    data, mx = b.data, b.mx
    for v in data.binding_vendor_capacity:
        cap = data.instance.vendor(v).capacity
        terms = {mx.x[p]: data.load[p] for p in data.pairs_of_vendor[v] if data.load[p]}
        soft = data.vendor_place[v] + ".capacity" in data.soft
        cap = b.upper(terms, data.vendor_place[v] + ".capacity", cap)
        if v in mx.y:
            _add(terms, mx.y[v], -cap)
            row = mx.row(f"vendor_capacity[{v}]", terms, upper=0.0)
        else:
            row = mx.row(f"vendor_capacity[{v}]", terms, upper=cap)
        if not soft:
            mx.capacity_row[v] = row


def add_max_share(b: _Builder) -> None:
    data = b.data
    if not data.share_limited:
        return
    b.total_spend()
    for v in data.share_limited:
        b.share_row(f"max_share[{v}]", data.vendor_place[v] + ".max_share", {b.spend[v]: 1.0},
                    data.instance.vendor(v).max_share)


def add_max_vendors(b: _Builder) -> None:
    limit = b.data.instance.rules.max_vendors
    if limit is None:
        return
    terms = {j: 1.0 for j in b.mx.y.values()}
    b.slack(terms, "rules.max_vendors", -1.0)
    b.mx.row("max_vendors", terms, upper=limit)


def add_separate(b: _Builder) -> None:
    data, mx = b.data, b.mx
    groups = [group_functions(g) for g in data.instance.rules.separate]
    idx = [(g, v) for g, group in enumerate(groups) for v in data.vendors
           if sum((f, v) in mx.x for f in group) > 1]
    excess = {}
    for g, v in idx:
        if f"rules.separate[{g}]" in data.soft:
            excess[g, v] = mx.column(f"separate_excess[{g},{v}]", 0.0, INF, False)
    for g in sorted({g for g, _ in excess}):
        terms = {b.violation(f"rules.separate[{g}]"): 1.0}
        for (h, v), j in excess.items():
            if h == g:
                _add(terms, j, -1.0)
        mx.row(f"separate_violation[{g}]", terms, lower=0.0)
    for g, v in idx:
        terms = {mx.x[f, v]: 1.0 for f in groups[g] if (f, v) in mx.x}
        if (g, v) in excess:
            _add(terms, excess[g, v], -1.0)
        mx.row(f"separate[{g},{v}]", terms, upper=1.0)


def add_together(b: _Builder) -> None:
    data, mx = b.data, b.mx
    groups = [group_functions(g) for g in data.instance.rules.together]
    reverse = []
    for g, group in enumerate(groups):
        soft = f"rules.together[{g}]" in data.soft
        for k in range(len(group) - 1):
            for v in data.vendors:
                a, c = mx.x.get((group[k], v)), mx.x.get((group[k + 1], v))
                if a is None and c is None:
                    continue
                terms: dict[int, float] = {}
                if a is not None:
                    _add(terms, a, 1.0)
                if c is not None:
                    _add(terms, c, -1.0)
                if soft:
                    b.slack(terms, f"rules.together[{g}]", -1.0)
                    mx.row(f"together[{g},{k},{v}]", terms, upper=0.0)
                    reverse.append((g, k, v, a, c))
                else:
                    mx.row(f"together[{g},{k},{v}]", terms, 0.0, 0.0)
    for g, k, v, a, c in reverse:
        terms = {}
        if c is not None:
            _add(terms, c, 1.0)
        if a is not None:
            _add(terms, a, -1.0)
        b.slack(terms, f"rules.together[{g}]", -1.0)
        mx.row(f"together_reverse[{g},{k},{v}]", terms, upper=0.0)


def add_min_spend(b: _Builder) -> None:
    data, mx = b.data, b.mx
    for v in data.instance.vendors:
        if v.min_spend is not None and v.min_spend > ABS_TOL and v.id in mx.y:  # else every plan meets it
            terms: dict[int, float] = {}
            b.vendor_spend(terms, v.id)
            place = data.vendor_place[v.id] + ".min_spend"
            if place in data.soft:
                b.slack(terms, place, 1.0)
                _add(terms, mx.y[v.id], -v.min_spend)
                mx.row(f"min_spend[{v.id}]", terms, lower=0.0)
            else:
                _add(terms, mx.y[v.id], -(1 - REL_TOL) * v.min_spend)
                mx.row(f"min_spend[{v.id}]", terms, lower=-ROW_ROOM)


def add_min_functions(b: _Builder) -> None:
    data, mx = b.data, b.mx
    for v in data.instance.vendors:
        if v.min_functions is not None and v.id in mx.y:
            terms = {mx.x[p]: 1.0 for p in data.pairs_of_vendor[v.id]}
            b.slack(terms, data.vendor_place[v.id] + ".min_functions", 1.0)
            _add(terms, mx.y[v.id], -v.min_functions)
            mx.row(f"min_functions[{v.id}]", terms, lower=0.0)


_VACUOUS = {"min_share": 0.0, "max_share": 1.0}  # quotas every plan meets: no row


def _quotas(data: PortfolioData, kinds: tuple[str, str]):
    return [(g, q, getattr(group, q)) for g, group in enumerate(data.instance.vendor_groups)
            for q in kinds if getattr(group, q) is not None and getattr(group, q) != _VACUOUS.get(q)]


def add_group_share(b: _Builder) -> None:
    data = b.data
    quotas = _quotas(data, ("min_share", "max_share"))
    if not quotas:
        return
    b.total_spend()
    groups = data.instance.vendor_groups
    for g, q, limit in quotas:
        terms: dict[int, float] = {}
        for v in groups[g].vendors:
            if data.pairs_of_vendor[v]:
                _add(terms, b.spend[v], 1.0)
        b.share_row(f"group_share[{g},{q}]", f"vendor_groups[{g}].{q}", terms, limit, upper=q == "max_share")


def add_group_count(b: _Builder) -> None:
    data, mx = b.data, b.mx
    groups = data.instance.vendor_groups
    for g, q, limit in _quotas(data, ("min_count", "max_count")):
        terms = {mx.x[p]: 1.0 for v in groups[g].vendors for p in data.pairs_of_vendor[v]}
        if q == "min_count":
            b.slack(terms, f"vendor_groups[{g}].{q}", 1.0)
            mx.row(f"group_count[{g},{q}]", terms, lower=limit)
        else:
            b.slack(terms, f"vendor_groups[{g}].{q}", -1.0)
            mx.row(f"group_count[{g},{q}]", terms, upper=limit)


def add_lock(b: _Builder) -> None:
    data, mx = b.data, b.mx
    for k, lock in enumerate(data.instance.rules.locks):
        terms: dict[int, float] = {}
        if lock.provider == INHOUSE:
            if not data.pairs_of_function[lock.function]:
                continue
            b.outsourced(terms, lock.function, 1.0)
            b.slack(terms, f"rules.locks[{k}]", -1.0)
            mx.row(f"lock[{k}]", terms, upper=0.0)
        else:
            _add(terms, mx.x[lock.function, lock.provider], -1.0)
            b.slack(terms, f"rules.locks[{k}]", -1.0)
            mx.row(f"lock[{k}]", terms, upper=0.0, constant=1.0)


def add_forbid(b: _Builder) -> None:
    data, mx = b.data, b.mx
    for k, pairs, kept in data.forbidden:
        terms: dict[int, float] = {}
        for p in pairs:
            _add(terms, mx.x[p], 1.0)
        for f in kept:
            b.outsourced(terms, f, -1.0)
        b.slack(terms, f"rules.forbid[{k}]", -1.0)
        if not terms:  # in-house banned, no offer left: a constant row
            if kept:
                mx.row(f"forbid[{k}]", {}, upper=0.0, constant=float(len(kept)))
            continue
        mx.row(f"forbid[{k}]", terms, upper=0.0, constant=float(len(kept)))


def add_requires(b: _Builder) -> None:
    data = b.data
    for k, r in enumerate(data.instance.rules.requires):
        if not data.pairs_of_function[r.function]:
            continue
        terms: dict[int, float] = {}
        b.outsourced(terms, r.function, 1.0)
        b.outsourced(terms, r.requires, -1.0)
        b.slack(terms, f"rules.requires[{k}]", -1.0)
        b.mx.row(f"requires[{k}]", terms, upper=0.0)


def add_exclusive(b: _Builder) -> None:
    data = b.data
    for k, group in enumerate(data.instance.rules.exclusive):
        if sum(1 for f in group.functions if data.pairs_of_function[f]) <= 1:
            continue
        terms: dict[int, float] = {}
        for f in group.functions:
            b.outsourced(terms, f, 1.0)
        b.slack(terms, f"rules.exclusive[{k}]", -1.0)
        b.mx.row(f"exclusive[{k}]", terms, upper=1.0)


def add_max_changes(b: _Builder) -> None:
    data, mx = b.data, b.mx
    limit = data.instance.rules.max_changes
    if limit is None:
        return
    terms: dict[int, float] = {}
    constant = 0.0
    for f in data.functions:
        before = data.quo[f]
        if before == INHOUSE:
            b.outsourced(terms, f, 1.0)
        elif before is not None and (f, before) in mx.x:
            constant += 1.0
            _add(terms, mx.x[f, before], -1.0)
        else:
            constant += 1.0
    b.slack(terms, "rules.max_changes", -1.0)
    mx.row("max_changes", terms, upper=limit, constant=constant)


def add_net_benefit(b: _Builder) -> None:
    data, mx = b.data, b.mx
    terms = {mx.x[p]: data.benefit[p] for p in data.pairs}  # one column per offer: no sums yet
    for v in data.engaged_vendors:
        _add(terms, mx.y[v], -data.engage_cost[v])
    for v in _reducing_vendors(data):
        b.reduction(terms, v, 1.0)
    H = data.instance.horizon
    for f, (cur, fee) in data.exit_fee.items():
        mx.offset -= fee / H
        if (f, cur) in mx.x:
            _add(terms, mx.x[f, cur], fee / H)
    for k, soft in data.soft.items():
        if soft.penalty:
            _add(terms, b.violation(k), -soft.penalty)
    for j, c in terms.items():
        mx.cost[j] = c


def add_priority_level(b: _Builder) -> None:
    data = b.data
    levels = sorted({s.priority for s in data.soft.values() if s.priority is not None}, reverse=True)
    for p in levels:
        objective: dict[int, float] = {}
        for k, s in data.soft.items():
            if s.priority == p:
                _add(objective, b.violation(k), s.weight)
        row = b.mx.row(f"priority_level[{p}]", objective, upper=1e12)
        b.mx.levels.append((p, objective, row))


FAMILIES = (
    add_one_provider, add_engage_link, add_engage_used, add_bundle_link, add_bundle_all, add_tier_choice,
    add_tier_split, add_tier_floor, add_tier_ceiling, add_operating_budget, add_transition_budget,
    add_resource_capacity, add_vendor_capacity, add_max_share, add_max_vendors, add_separate, add_together,
    add_min_spend, add_min_functions, add_group_share, add_group_count, add_lock, add_forbid, add_requires,
    add_exclusive, add_max_changes, add_net_benefit, add_priority_level,
)
"""The families in the order :func:`outopt.model.portfolio.build_model` builds them."""
