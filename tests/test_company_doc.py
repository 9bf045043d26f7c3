"""models/company.md and the joint model agree: every corporate family in the document is built
under the same Pyomo name by the named function, every company-level component is documented,
and each division is a block built by the portfolio formulation."""

import re

import pyomo.environ as pyo
from conftest import INSTANCES, ROOT
from test_formulation_doc import doc_families as portfolio_families

from outopt.instance.company import load_company
from outopt.solver.company import build_company
from outopt.model import company as company_model

DOC = ROOT / "models" / "company.md"


def doc_families():
    section = DOC.read_text().split("## Constraint families", 1)[1].split("\n## ", 1)[0]
    out = {}
    for row in (line for line in section.splitlines() if line.startswith("| ") and "`" in line):
        cells = [c.strip() for c in row.strip("|").split("|")]
        out[re.fullmatch(r"`(\w+)`", cells[2]).group(1)] = re.fullmatch(r"`(\w+)`", cells[3]).group(1)
    return out


def built():
    return build_company(load_company(INSTANCES / "company" / "group.yaml"))


def test_corporate_families_match_the_document():
    families = doc_families()
    assert len(families) == 7
    for builder in families.values():
        assert hasattr(company_model, builder), builder
    model = built()
    top = {c.local_name for c in model.pyomo.component_objects(pyo.Constraint, descend_into=False)}
    assert top == set(families)
    builders = {n for n in dir(company_model) if n.startswith("add_") and n != "add_company_net_benefit"}
    assert builders == set(families.values())


def test_division_blocks_are_portfolio_models():
    model = built()
    portfolio = set(portfolio_families())
    for did in ("retail", "wholesale"):
        block = model.block(did)
        assert block.local_name == f"div_{did}"
        names = {c.local_name for c in block.component_objects(pyo.Constraint, descend_into=False)}
        assert names <= portfolio and "one_provider" in names
        assert not block.net_benefit.active


def test_company_variables_and_objective_are_documented():
    text = DOC.read_text()
    for comp in built().pyomo.component_objects((pyo.Var, pyo.Objective), descend_into=False):
        assert f"`{comp.local_name}" in text, comp.local_name
