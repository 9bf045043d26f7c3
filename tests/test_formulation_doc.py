"""models/portfolio.md and the code agree: every constraint family in the document is built
under the same Pyomo name by the named function, and every built component is documented."""

import re

import pyomo.environ as pyo
from conftest import INSTANCES, ROOT

import outopt
from outopt.model import portfolio


def doc_families():
    text = (ROOT / "models" / "portfolio.md").read_text()
    section = text.split("## Constraint families", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    out = {}
    for row in rows:
        cells = [c.strip() for c in row.strip("|").split("|")]
        component = re.fullmatch(r"`(\w+)`", cells[2]).group(1)
        builder = re.fullmatch(r"`(\w+)`", cells[3]).group(1)
        out[component] = builder
    return out


def test_every_documented_family_is_built_by_its_function():
    families = doc_families()
    assert len(families) >= 11
    for component, builder in families.items():
        assert hasattr(portfolio, builder), builder
    inst = outopt.load(INSTANCES / "midsize.yaml")
    # the same instance with every separate/together group soft builds the soft-only families too
    soft_rules = {kind: [{"functions": list(g), "soft": {"penalty": 1}} for g in getattr(inst.rules, kind)]
                  for kind in ("separate", "together")}
    assert soft_rules["separate"] and soft_rules["together"]
    soft = inst.replace(rules=soft_rules)
    built = set()
    for variant in (inst, soft):
        model = outopt.build(variant, reduce=False).pyomo
        built |= {c.local_name for c in model.component_objects(pyo.Constraint)}
    assert built == set(families)


def test_every_family_is_checked_by_the_named_verifier_function():
    from functools import reduce

    from outopt.verifier import portfolio as verifier

    text = (ROOT / "models" / "portfolio.md").read_text()
    section = text.split("## Constraint families", 1)[1].split("\n## ", 1)[0]
    rows = [line for line in section.splitlines() if line.startswith("| ") and "`" in line]
    named = {re.match(r"`([\w.]+)`", [c.strip() for c in row.strip("|").split("|")][5]).group(1) for row in rows}
    for name in named:
        assert reduce(getattr, name.split("."), verifier), name
    checks = {name for name in dir(verifier) if name.startswith("check_")}
    assert checks == {n for n in named if n.startswith("check_")}
    assert set(verifier.CHECKS) == {getattr(verifier, n) for n in checks}


def test_every_builder_is_documented():
    builders = {name for name in dir(portfolio) if name.startswith("add_") and name != "add_net_benefit"}
    assert builders == set(doc_families().values())


def test_objective_and_variables_are_documented():
    text = (ROOT / "models" / "portfolio.md").read_text()
    model = outopt.build(outopt.load(INSTANCES / "small_business.yaml")).pyomo
    for comp in model.component_objects((pyo.Var, pyo.Objective)):
        assert f"`{comp.local_name}" in text, comp.local_name
