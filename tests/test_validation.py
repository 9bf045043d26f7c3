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
        ({"colour": "red"}, "colour: unknown field; check its spelling against the instance format in the manual"),
        ({"functions": [{"id": "a", "inhouse": {"cost": 1, "costs": 2}}]}, "functions[0].inhouse.costs: unknown field; did you mean 'cost'?"),
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


# --- every problem at once (issue 15) -----------------------------------------------------------


def test_format_and_reference_problems_show_at_once():
    """Format problems no longer hide reference problems: the rows that parsed (and the good fields of the
    rows that did not) get the cross-table checks, with a suggestion for each near miss."""
    data = dict(
        name="Acme",
        resources=[{"id": "staff", "capacity": "two"}],
        functions=[{"id": "a", "inhouse": {"cost": -1, "uses": {"staf": 1}}},
                   {"id": "b", "inhouse": {"cost": 20}, "current": "alpah"}, {"idd": "c"}],
        vendors=[{"id": "alpha", "retainer": "no"}, {"id": "beta"}],
        offers=[{"function": "a", "vendor": "alpah", "cost": "abc"}, {"function": "b", "vendr": "beta"},
                {"function": "zz", "vendor": "beta"}],
        rules={"locks": [{"function": "a", "provider": "alpa"}], "separate": [["a", "bb"]], "max_vendors": -1},
    )
    with pytest.raises(outopt.InputError) as info:
        instance_from_data(data)
    assert [str(p) for p in info.value.problems] == [
        "resources[0].capacity: Input should be a valid number, unable to parse string as a number (got 'two')",
        "functions[0].inhouse.cost: Input should be greater than or equal to 0 (got -1)",
        "functions[2].id: required field is missing",
        "functions[2].idd: unknown field; did you mean 'id'?",
        "vendors[0].retainer: Input should be a valid number, unable to parse string as a number (got 'no')",
        "offers[0].cost: Input should be a valid number, unable to parse string as a number (got 'abc')",
        "offers[1].vendor: required field is missing",
        "offers[1].vendr: unknown field; did you mean 'vendor'?",
        "rules.max_vendors: Input should be greater than or equal to 0 (got -1)",
        "offers[0].vendor: vendor 'alpah' is not in vendors; did you mean 'alpha'?",
        "offers[2].function: function 'zz' is not in functions",
        "functions[0].inhouse.uses.staf: resource 'staf' is not in resources; did you mean 'staff'?",
        "functions[1].current: vendor 'alpah' is not in vendors; did you mean 'alpha'?",
        "rules.separate[0][1]: function 'bb' is not in functions; did you mean 'b'?",
        "rules.locks[0].provider: vendor 'alpa' is not in vendors; did you mean 'alpha'?",
    ]


def test_a_row_with_a_format_problem_still_counts_for_the_references():
    """A function, vendor or offer with a bad field keeps its id: nothing that refers to it is called unknown,
    and the bad field's own default raises nothing."""
    data = dict(
        name="Acme",
        functions=[{"id": "a", "inhouse": {"cost": "x"}, "current": "v"}, {"id": "b", "core": "maybe", "inhouse": {"cost": 1}}],
        vendors=[{"id": "v", "max_share": 2}],
        offers=[{"function": "a", "vendor": "v", "cost": -5}, {"function": "b", "vendor": "v", "load": "heavy"}],
        rules={"locks": [{"function": "b", "provider": "inhouse"}], "together": [["a", "b"]]},
    )
    with pytest.raises(outopt.InputError) as info:
        instance_from_data(data)
    assert [p.where for p in info.value.problems] == [
        "functions[0].inhouse.cost", "functions[1].core", "vendors[0].max_share", "offers[0].cost", "offers[1].load"]


def test_unknown_ids_far_from_any_get_no_suggestion_and_inhouse_is_suggested():
    assert problems(offers=[{"function": "a", "vendor": "zzzzzz"}]) == ["offers[0].vendor: vendor 'zzzzzz' is not in vendors"]
    assert problems(functions=[{"id": "a", "inhouse": {"cost": 1}, "current": "in-house"}, {"id": "b", "inhouse": {"cost": 1}}]) \
        == ["functions[0].current: vendor 'in-house' is not in vendors; did you mean 'inhouse'?"]


# --- changing an instance in code ---------------------------------------------------------------


def test_replace_validates_merges_mappings_and_takes_models():
    inst = outopt.load(INSTANCES / "small_business.yaml")
    leaner = inst.replace(budget={"operating": 1_100_000})
    assert (leaner.budget.operating, leaner.budget.transition) == (1_100_000, inst.budget.transition)
    assert inst.replace(budget={"transition": None}).budget.transition is None  # None removes a limit
    assert inst.replace(budget=outopt.Budget(operating=1)).budget == outopt.Budget(operating=1)
    assert inst.replace(name="other").offers == inst.offers
    with pytest.raises(outopt.InputError) as info:
        inst.replace(budget={"operating": -1}, offers=[*inst.offers, {"function": "invoicing", "vendor": "ledgrly"}],
                     budgett=1)
    assert [str(p) for p in info.value.problems] == [
        "budget.operating: Input should be greater than or equal to 0 (got -1)",
        "budgett: unknown field; did you mean 'budget'?",
        f"offers[{len(inst.offers)}].vendor: vendor 'ledgrly' is not in vendors; did you mean 'ledgerly'?",
    ]


def test_model_copy_with_changes_is_refused_with_the_way_to_do_it():
    inst = outopt.load(INSTANCES / "small_business.yaml")
    with pytest.raises(TypeError) as info:
        inst.model_copy(update={"budget": {"operating": 1}})
    assert str(info.value) == ("Instance.model_copy(update=...) skips validation (a plain dict would be stored as it "
                               "is); use inst.replace(budget=...), which checks the new values as a file's are")
    assert inst.model_copy() == inst and inst.model_copy(deep=True) == inst
