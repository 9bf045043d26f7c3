"""The verifier of scenarios: a plan's figures in each scenario, recomputed by the independent verifier.

For each scenario, :func:`sampled_instance` makes a copy of the instance whose varying amounts have
that scenario's values, and :func:`~outopt.verifier.portfolio.verify` recomputes the plan on it from
scratch: net benefit (penalties taken off), recurring cost, one-off cost and every broken rule. It
shares nothing with the vectorised evaluation (:mod:`outopt.uncertainty.evaluate`) or the scenario model
(:mod:`outopt.uncertainty.robust`), which it checks; it is slower (one verification per scenario).
"""

from __future__ import annotations

from collections import defaultdict
from collections.abc import Sequence
from dataclasses import dataclass, field

import numpy as np

from outopt.instance.numerics import tolerance
from outopt.instance.schema import Instance, derived
from outopt.uncertainty.samples import Place, Samples
from outopt.verifier.portfolio import verify


def sampled_instance(instance: Instance, values: dict[Place, float]) -> Instance:
    """A copy of the instance with these amounts set (no validation: the values are amounts of the right kind)."""
    by_table: dict[str, dict[int, dict[str, float]]] = defaultdict(lambda: defaultdict(dict))
    for place, value in values.items():
        by_table[place.table][place.row][place.field] = float(value)
    offers = list(instance.offers)
    for i, update in by_table["offers"].items():
        offers[i] = offers[i].model_copy(update=update)
    functions = list(instance.functions)
    for i, update in by_table["inhouse"].items():
        functions[i] = functions[i].model_copy(update={"inhouse": functions[i].inhouse.model_copy(update=update)})
    vendors = list(instance.vendors)
    for i, update in by_table["vendors"].items():
        vendors[i] = vendors[i].model_copy(update=update)
    return derived(instance, offers=offers, functions=functions, vendors=vendors)


@dataclass
class ScenarioCheck:
    """The verifier's figures of one plan in each scenario checked, and the budgets it breaks there."""

    rows: list[int]
    objective: np.ndarray
    operating: np.ndarray
    transition: np.ndarray
    over_budget: list[str] = field(default_factory=list)  # "scenario 3: budget.operating: ..." per break

    @property
    def within_budgets(self) -> bool:
        return not self.over_budget


def check_scenarios(samples: Samples, plan: dict[str, str], rows: Sequence[int] | None = None) -> ScenarioCheck:
    """Verify a plan in the given scenarios (all when ``rows`` is None), one verification each."""
    inst = samples.instance
    rows = list(range(samples.n)) if rows is None else list(rows)
    # the amounts of offers the plan does not take change none of its figures: those offers are not copied
    taken = {i for i, o in enumerate(inst.offers) if plan.get(o.function) == o.vendor}
    places = [p for p in samples.varying() if p.table != "offers" or p.row in taken]
    values = samples.columns(places)[rows] if places else np.zeros((len(rows), 0))
    objective, operating, transition, over = [], [], [], []
    for k, s in enumerate(rows):
        check = verify(sampled_instance(inst, dict(zip(places, values[k]))), plan)
        objective.append(check.objective)
        operating.append(check.operating_cost)
        transition.append(check.transition_cost)
        for name, use in (("operating", check.operating_cost), ("transition", check.transition_cost)):
            limit = getattr(inst.budget, name)
            if limit is not None and use - limit > tolerance(limit):
                over.append(f"scenario {s}: budget.{name}: {use:,.2f} exceeds {limit:,.2f}")
    return ScenarioCheck(rows, np.array(objective), np.array(operating), np.array(transition), over)


COSTS = ("cost", "transition", "retainer", "onboarding")
"""The amounts that count in a budget (an in-house option's cost included); values count in none."""


def costliest_instance(samples: Samples) -> Instance:
    """The instance with every cost that varies at its highest over the scenarios and its planning value: a plan
    within the budgets there is within them in every scenario (each budget's use grows with every cost)."""
    places = [p for p in samples.varying() if p.field in COSTS]
    if not places:
        return samples.instance
    top = np.maximum(samples.columns(places).max(axis=0), [p.planning(samples.instance) for p in places])
    return sampled_instance(samples.instance, dict(zip(places, top)))
