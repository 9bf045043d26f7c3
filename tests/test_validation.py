"""Every invalid-input case of the format, with its exact message and location."""

import json

import pytest
from conftest import INSTANCES

import outopt
from outopt.instance.validation import instance_from_data

GOOD = dict(
    name="Acme",
    resources=[{"id": "staff", "capacity": 2}],
    functions=[
        {"id": "a", "inhouse": {"cost": 10, "uses": {"staff": 1}}},
        {"id": "b", "inhouse": {"cost": 20}},
    ],
    vendors=[{"id": "v1"}, {"id": "v2"}],
    offers=[{"function": "a", "vendor": "v1", "cost": 5}, {"function": "b", "vendor": "v2", "cost": 5}],
)


def problems(**changes):
    data = json.loads(json.dumps(GOOD))
    for key, value in changes.items():
        data[key] = value
    with pytest.raises(outopt.InputError) as info:
        instance_from_data(data)
    return [str(p) for p in info.value.problems]


def test_good_instance_is_valid():
    assert instance_from_data(GOOD).name == "Acme"


@pytest.mark.parametrize(
    "changes, expected",
    [
        ({"offers": [{"function": "a", "vendor": "ledgrly"}]}, "offers[0].vendor: vendor 'ledgrly' is not in vendors"),
        ({"offers": [{"function": "zz", "vendor": "v1"}]}, "offers[0].function: function 'zz' is not in functions"),
        (
            {"functions": [{"id": "a", "inhouse": {"cost": 1, "uses": {"ghost": 1}}}]},
            "functions[0].inhouse.uses.ghost: resource 'ghost' is not in resources",
        ),
        (
            {"rules": {"separate": [["a", "q"]]}},
            "rules.separate[0][1]: function 'q' is not in functions",
        ),
        (
            {"rules": {"together": [["a", "b", "nope"]]}},
            "rules.together[0][2]: function 'nope' is not in functions",
        ),
        (
            {"functions": [{"id": "a", "inhouse": {"cost": 1}, "current": "nobody"}, {"id": "b", "inhouse": {"cost": 1}}]},
            "functions[0].current: vendor 'nobody' is not in vendors (use 'inhouse' or a vendor id)",
        ),
        (
            {"functions": [{"id": "a", "inhouse": {"cost": 1}, "current": "v2"}, {"id": "b", "inhouse": {"cost": 1}}]},
            "functions[0].current: current vendor 'v2' has no offer for 'a'; add the offer it runs under",
        ),
        (
            {"functions": [{"id": "a", "inhouse": {"cost": 1}}, {"id": "a", "inhouse": {"cost": 2}}]},
            "functions[1].id: duplicate id 'a'; ids must be unique",
        ),
        ({"vendors": [{"id": "v1"}, {"id": "v1"}, {"id": "v2"}]}, "vendors[1].id: duplicate id 'v1'; ids must be unique"),
        (
            {"offers": [{"function": "a", "vendor": "v1"}, {"function": "a", "vendor": "v1"}]},
            "offers[1]: duplicate offer for function 'a' and vendor 'v1' (also offers[0]); keep one offer per pair",
        ),
        ({"offers": [{"function": "a", "vendor": "v1", "cost": -1}]}, "offers[0].cost: Input should be greater than or equal to 0 (got -1)"),
        ({"resources": [{"id": "staff", "capacity": -2}]}, "resources[0].capacity: Input should be greater than or equal to 0 (got -2)"),
        ({"offers": [{"function": "a", "vendor": "v1", "load": -3}]}, "offers[0].load: Input should be greater than or equal to 0 (got -3)"),
        ({"budget": {"operating": float("nan")}}, "budget.operating: must be a finite number, not NaN or infinity"),
        ({"offers": [{"function": "a", "vendor": "v1", "cost": float("inf")}]}, "offers[0].cost: must be a finite number, not NaN or infinity"),
        ({"vendors": [{"id": "v1", "max_share": 0}, {"id": "v2"}]}, "vendors[0].max_share: Input should be greater than 0 (got 0)"),
        ({"vendors": [{"id": "v1", "max_share": 1.2}, {"id": "v2"}]}, "vendors[0].max_share: Input should be less than or equal to 1 (got 1.2)"),
        (
            {"functions": [{"id": "a", "core": True}, {"id": "b", "inhouse": {"cost": 1}}]},
            "functions[0].core: core function 'a' has no in-house option; add `inhouse`",
        ),
        (
            {"functions": [{"id": "a", "inhouse": {"cost": 1}}, {"id": "c"}]},
            "functions[1].inhouse: function 'c' has no in-house option and no offer; add one or the other",
        ),
        ({"horizon": "three"}, "horizon: Input should be a valid number, unable to parse string as a number (got 'three')"),
        ({"rules": {"max_vendors": 2.5}}, "rules.max_vendors: Input should be a valid integer, got a number with a fractional part (got 2.5)"),
        ({"colour": "red"}, "colour: unknown field; check its spelling against the format in the README"),
        ({"functions": [{"id": "a", "inhouse": {"cost": 1, "costs": 2}}]}, "functions[0].inhouse.costs: unknown field; check its spelling against the format in the README"),
        ({"vendors": [{"id": "inhouse"}]}, "vendors[0].id: 'inhouse' is reserved for the in-house option; rename the vendor"),
        ({"functions": []}, "functions: List should have at least 1 item after validation, not 0"),
    ],
)
def test_invalid_input_message(changes, expected):
    assert expected in problems(**changes)


def test_missing_required_fields():
    data = {"functions": [{"inhouse": {"cost": 1}}]}
    with pytest.raises(outopt.InputError) as info:
        instance_from_data(data)
    assert [str(p) for p in info.value.problems] == ["name: required field is missing", "functions[0].id: required field is missing"]


def test_all_problems_reported_at_once():
    found = problems(
        offers=[{"function": "zz", "vendor": "ledgrly"}],
        vendors=[{"id": "v1"}, {"id": "v1"}],
    )
    assert set(found) >= {
        "offers[0].function: function 'zz' is not in functions",
        "offers[0].vendor: vendor 'ledgrly' is not in vendors",
        "vendors[1].id: duplicate id 'v1'; ids must be unique",
    }


def test_file_errors_name_the_file(tmp_path):
    bad = tmp_path / "acme.yaml"
    bad.write_text("name: Acme\nfunctions:\n  - id: a\n    inhouse: {cost: 1}\noffers:\n  - {function: a, vendor: nope}\n")
    with pytest.raises(outopt.InputError) as info:
        outopt.load(bad)
    assert str(info.value) == f"{bad}: offers[0].vendor: vendor 'nope' is not in vendors"


@pytest.mark.parametrize(
    "name, text, expected",
    [
        ("broken.yaml", "name: [unclosed\n", "line 2, column 1: invalid YAML: did not find expected ',' or ']'"),
        ("broken.json", '{"name": "x",}', "line 1, column 14: invalid JSON: Expecting property name enclosed in double quotes"),
        ("empty.yaml", "  \n", "file is empty"),
        ("list.yaml", "- a\n- b\n", "the top level must be a mapping of fields (name, functions, ...), got a list"),
        ("plan.txt", "x", "unsupported file type '.txt'; use YAML (.yaml, .yml), JSON (.json), Excel (.xlsx) or a folder of CSV files"),
    ],
)
def test_unreadable_files(tmp_path, name, text, expected):
    path = tmp_path / name
    path.write_text(text)
    with pytest.raises(outopt.InputError) as info:
        outopt.load(path)
    assert str(info.value) == f"{path}: {expected}"


def test_missing_file(tmp_path):
    with pytest.raises(outopt.InputError) as info:
        outopt.load(tmp_path / "nope.yaml")
    assert str(info.value) == f"{tmp_path / 'nope.yaml'}: file not found"


def test_yaml_and_json_carry_the_same_structure(tmp_path):
    inst = outopt.load(INSTANCES / "small_business.yaml")
    outopt.save(inst, tmp_path / "copy.json")
    outopt.save(inst, tmp_path / "copy.yaml")
    assert outopt.load(tmp_path / "copy.json") == inst
    assert outopt.load(tmp_path / "copy.yaml") == inst
