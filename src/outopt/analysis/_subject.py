"""What an analysis works on, seen one way: an instance or a company, its built model and its verifier.

The analyses (explain, diagnose, frontier, scenarios, pareto) re-solve one built model; they see a plan
as a flat mapping from a **slot** to a provider. A slot is a function id for an instance and a
``(division, function)`` pair for a company, so one code path answers both. A :class:`Subject` gives:

* the slots, the allowed ``(slot, vendor)`` pairs and their 0/1 variables ``x`` in the built model
  (``outsource[f, v]``, or ``div_<id>.outsource[f, v]`` in a company's division block);
* the engagement variables and their values for a plan (a company's division blocks and its
  company-wide ``engage``);
* plans between the flat form and the solver's (``nest``; a company plan is by division) and the
  independent verifier's check of a plan (against the subject, or a changed copy of it);
* how to name a slot in a table (``{"function": ...}`` or ``{"division": ..., "function": ...}``).

``build_any`` and ``solve_any`` build or solve either kind.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from outopt.instance.company import Company, CompanyPlan
from outopt.instance.schema import INHOUSE, Function, Instance, derived
from outopt.solver import Model, SolveOptions, build, solve
from outopt.solver.company import CompanyModel, build_company, solve_company
from outopt.verifier.company import verify_company
from outopt.verifier.portfolio import verify

Source = Instance | Company


def build_any(source: Source, reduce: bool = True) -> Model | CompanyModel:
    """The built model of an instance or a company (no solve)."""
    return build_company(source, reduce=reduce) if isinstance(source, Company) else build(source, reduce=reduce)


def solve_any(source: Source, options: SolveOptions | None = None):
    """Solve an instance, or a company jointly (without the value of coordination: an analysis's solve)."""
    if isinstance(source, Company):
        return solve_company(source, options=options or SolveOptions(), coordination=False)
    return solve(source, options=options)


def subject_of(model) -> Subject:
    return CompanySubject(model) if isinstance(model, CompanyModel) else InstanceSubject(model)


@dataclass
class Scope:
    """One portfolio model inside a subject: the model itself, or a company's division block."""

    prefix: str  # how places in its instance are named in the subject's file: "" or "divisions[1]."
    block: object  # the Pyomo model or block
    instance: Instance
    data: object  # its compiled PortfolioData
    slot: Callable  # function id -> the subject's slot


class Subject:
    """The common view (see the module docstring); :class:`InstanceSubject` and :class:`CompanySubject`."""

    model: Model | CompanyModel
    slots: list
    pairs: list[tuple]

    @property
    def source(self) -> Source:
        """What plans are judged against now (an analysis may set a changed copy on the model)."""
        return self.model.instance

    def pairs_of(self, slot) -> list[tuple]:
        return self._by_slot.get(slot, [])

    def has(self, pair) -> bool:
        return pair in self._pairs

    def plan_from_values(self) -> dict:
        """The flat plan in the model's loaded variable values (fixed variables included)."""
        plan = {s: INHOUSE for s in self.slots}
        for p in self.pairs:
            value = self.x(p).value
            if value is not None and value > 0.5:
                plan[p[0]] = p[1]
        return plan

    def check(self, plan: dict, judge: Source | None = None):
        """The verifier's check of a flat plan against ``judge`` (default: the subject as it is now)."""
        raise NotImplementedError

    def _index(self) -> None:
        self._pairs = set(self.pairs)
        self._by_slot: dict = {}
        for p in self.pairs:
            self._by_slot.setdefault(p[0], []).append(p)


class InstanceSubject(Subject):
    """An instance: a slot is a function id; plans are already flat."""

    def __init__(self, model: Model):
        self.model = model
        data = model.data
        self.slots = list(data.functions)
        self.pairs = list(data.pairs)
        self._index()

    def x(self, pair):
        return self.model.pyomo.outsource[pair]

    def scopes(self) -> list[Scope]:
        """The one portfolio model and its instance."""
        return [Scope("", self.model.pyomo, self.source, self.model.data, lambda f: f)]

    def engagement(self, plan: dict) -> list[tuple]:
        used = set(plan.values())
        return [(self.model.pyomo.engage[v], 1.0 if v in used else 0.0) for v in self.model.data.engaged_vendors]

    def nest(self, plan: dict | None) -> dict | None:
        return plan

    def flat(self, plan: dict | None) -> dict | None:
        return plan

    def check(self, plan: dict, judge: Source | None = None):
        return verify(judge or self.source, plan)

    def label(self, slot) -> dict:
        return {"function": slot}

    def function(self, slot) -> Function:
        return self.source.function(slot)

    def instance_of(self, slot) -> Instance:
        return self.source

    def offers(self) -> list[tuple[tuple, float]]:
        """Every offer of the file, ((slot, vendor), cost), allowed or not."""
        return [((o.function, o.vendor), o.cost) for o in self.source.offers]

    def pair_of_var(self, var):
        """The (slot, vendor) of an ``outsource`` variable of a model built the same way, None for others."""
        return var.index() if var.parent_component().local_name == "outsource" else None

    def with_costs(self, shift: float) -> Instance:
        """The subject with every offer's yearly cost ``shift`` higher."""
        inst = self.source
        return derived(inst, offers=[o.model_copy(update={"cost": o.cost + shift}) for o in inst.offers])

    def scale(self) -> float:
        """A bound on every amount of the objective: benefits, engagement costs and offer costs together."""
        data = self.model.data
        return (sum(abs(b) for b in data.benefit.values()) + sum(data.engage_cost.values())
                + sum(o.cost for o in self.source.offers))


class CompanySubject(Subject):
    """A company: a slot is ``(division, function)``; the solver's plans are by division."""

    def __init__(self, model: CompanyModel):
        self.model = model
        cd = model.cdata
        self.slots = [(d, f) for d, data in cd.divisions.items() for f in data.functions]
        self.pairs = [((d, f), v) for d, data in cd.divisions.items() for (f, v) in data.pairs]
        self._block_of = {name: did for did, name in model.blocks.items()}
        self._index()

    def x(self, pair):
        (did, f), v = pair
        return self.model.block(did).outsource[f, v]

    def scopes(self) -> list[Scope]:
        """Each division's block and instance (its places start ``divisions[i].``)."""
        return [Scope(f"divisions[{i}].", self.model.block(d.id), d.instance, self.model.cdata.divisions[d.id],
                      lambda f, did=d.id: (did, f)) for i, d in enumerate(self.source.divisions)]

    def engagement(self, plan: dict) -> list[tuple]:
        out = []
        anywhere = set(plan.values())
        for did, data in self.model.cdata.divisions.items():
            used = {p for (d, _), p in plan.items() if d == did}
            out += [(self.model.block(did).engage[v], 1.0 if v in used else 0.0) for v in data.engaged_vendors]
        return out + [(self.model.pyomo.engage[v], 1.0 if v in anywhere else 0.0) for v in self.model.cdata.vendors]

    def nest(self, plan: dict | None) -> CompanyPlan | None:
        if plan is None:
            return None
        out: CompanyPlan = {d.id: {} for d in self.source.divisions}
        for (did, f), p in plan.items():
            out.setdefault(did, {})[f] = p
        return out

    def flat(self, plan: CompanyPlan | None) -> dict | None:
        return None if plan is None else {(d, f): p for d, fs in plan.items() for f, p in fs.items()}

    def check(self, plan: dict, judge: Source | None = None):
        return verify_company(judge or self.source, self.nest(plan))

    def label(self, slot) -> dict:
        return {"division": slot[0], "function": slot[1]}

    def function(self, slot) -> Function:
        return self.instance_of(slot).function(slot[1])

    def instance_of(self, slot) -> Instance:
        return self.source.division(slot[0]).instance

    def offers(self) -> list[tuple[tuple, float]]:
        return [(((d.id, o.function), o.vendor), o.cost) for d in self.source.divisions for o in d.instance.offers]

    def pair_of_var(self, var):
        if var.parent_component().local_name != "outsource":
            return None
        did = self._block_of.get(var.parent_block().local_name)
        if did is None:
            return None
        f, v = var.index()
        return (did, f), v

    def with_costs(self, shift: float) -> Company:
        company = self.source
        divisions = [d.model_copy(update={"instance": derived(d.instance, offers=[
            o.model_copy(update={"cost": o.cost + shift}) for o in d.instance.offers])}) for d in company.divisions]
        return company.model_copy(update={"divisions": divisions})

    def scale(self) -> float:
        cd = self.model.cdata
        return (sum(abs(b) for data in cd.divisions.values() for b in data.benefit.values())
                + sum(cd.engage_cost.values()) + sum(cost for _, cost in self.offers()))


def label_of(slot) -> dict:
    """How a table names a slot: ``{"function": f}``, or ``{"division": d, "function": f}`` for a company's."""
    return {"division": slot[0], "function": slot[1]} if isinstance(slot, tuple) else {"function": slot}


def flat_plan(plan: dict | None) -> dict | None:
    """A plan as slot -> provider: an instance's as it is, a company's (division -> plan) by (division, function)."""
    if plan is None:
        return None
    if any(isinstance(v, dict) for v in plan.values()):
        return {(d, f): p for d, fs in plan.items() for f, p in fs.items()}
    return dict(plan)


def row_words(row: dict) -> str:
    """The function a table row names, with its division for a company's: ``retail.invoicing``."""
    return f"{row['division']}.{row['function']}" if "division" in row else str(row["function"])


def slot_text(slot) -> str:
    """A slot in words: ``invoicing``, or ``retail.invoicing``."""
    return ".".join(slot) if isinstance(slot, tuple) else str(slot)

