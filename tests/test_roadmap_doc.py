"""models/roadmap.md and the roadmap model agree: every family of links in the document is built under the
same Pyomo name by the named function, every top-level component is documented, each year is a block built
by the portfolio formulation, and each family's checker exists in the roadmap verifier."""

import re

import pyomo.environ as pyo
from conftest import INSTANCES, ROOT
from test_formulation_doc import doc_families as portfolio_families

import outopt
from outopt.model import roadmap as roadmap_model
from outopt.solver.roadmap import build_roadmap
from outopt.verifier import roadmap as roadmap_verifier

DOC = ROOT / "models" / "roadmap.md"


def rows():
    section = DOC.read_text().split("## Constraint families", 1)[1].split("\n## ", 1)[0]
    for line in section.splitlines():
        if line.startswith("| ") and "`" in line:
            yield [c.strip() for c in line.strip("|").split("|")]


def doc_families() -> dict[str, str]:
    return {re.fullmatch(r"`(\w+)`", c[2]).group(1): re.fullmatch(r"`(\w+)`", c[3]).group(1) for c in rows()}


def built():
    return build_roadmap(outopt.load(INSTANCES / "roadmap.yaml"))


def test_link_families_match_the_document():
    families = doc_families()
    assert len(families) == 10
    model = built().pyomo
    top = {c.local_name for c in model.component_objects(pyo.Constraint, descend_into=False)}
    assert top == set(families)
    builders = {n for n in dir(roadmap_model) if n.startswith("add_") and n != "add_npv"}
    assert builders == set(families.values())


def test_each_family_is_checked_by_the_named_verifier_function():
    for cells in rows():
        name = re.match(r"`(\w+)`", cells[4]).group(1)
        assert hasattr(roadmap_verifier, name), name


def test_year_blocks_are_portfolio_models():
    model = built()
    portfolio = set(portfolio_families()) | {"spend_def", "total_spend_def"}  # sparse share rows (portfolio.md)
    for t in model.rdata.years:
        block = model.block(t)
        assert block.local_name == f"year_{t}"
        names = {c.local_name for c in block.component_objects(pyo.Constraint, descend_into=False)}
        assert names <= portfolio and "one_provider" in names
        assert not block.net_benefit.active


def test_variables_sets_and_objective_are_documented():
    text = DOC.read_text()
    for comp in built().pyomo.component_objects((pyo.Var, pyo.Objective, pyo.Set), descend_into=False):
        if comp.local_name.endswith("_index"):  # Pyomo's implicit index sets
            continue
        assert f"`{comp.local_name}" in text, comp.local_name
