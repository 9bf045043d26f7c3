"""Diagnosis of infeasible instances: exact repair per limit type (worked out by hand, checked by solving the
repaired instance and one just short of it), a minimal conflict whose members each restore feasibility when
dropped, and the CLI (exit codes, JSON on stdout)."""

import json

import pytest
from bruteforce import best
from conftest import INSTANCES, make, run_cli as run

import outopt
from outopt.analysis.diagnose import diagnose
from outopt.analysis.limits import set_place


def no_inhouse(fid):
    return {"id": fid}


# name: (instance data, place, current, needed, conflict); one relaxable limit binds in each case, and the
# conflict adds the rules that force the outsourcing (functions with no in-house option).
CASES = {
    # a costs 100 in-house or 60 with v1; b 80 in-house, 50 with v1 or 45 with v2: the cheapest plan costs 105.
    "budget.operating": (
        dict(functions=[{"id": "a", "inhouse": {"cost": 100}}, {"id": "b", "inhouse": {"cost": 80}}],
             vendors=[{"id": "v1"}, {"id": "v2"}],
             offers=[{"function": "a", "vendor": "v1", "cost": 60}, {"function": "b", "vendor": "v1", "cost": 50},
                     {"function": "b", "vendor": "v2", "cost": 45}],
             budget={"operating": 100}),
        "budget.operating", 100, 105, ["budget.operating"]),
    # a cannot be done in-house; its cheapest move costs 10 one-off (v1), the budget is 8.
    "budget.transition": (
        dict(functions=[no_inhouse("a")], vendors=[{"id": "v1"}, {"id": "v2", "onboarding": 5}],
             offers=[{"function": "a", "vendor": "v1", "transition": 10},
                     {"function": "a", "vendor": "v2", "transition": 6}],
             budget={"transition": 8}),
        "budget.transition", 8, 10, ["budget.transition", "functions[0].inhouse"]),
    # core a uses 1.0 staff, b 0.8 and has no offer: 1.8 staff needed, 1.2 available.
    "resources.capacity": (
        dict(resources=[{"id": "staff", "capacity": 1.2}],
             functions=[{"id": "a", "core": True, "inhouse": {"cost": 10, "uses": {"staff": 1.0}}},
                        {"id": "b", "inhouse": {"cost": 10, "uses": {"staff": 0.8}}}]),
        "resources[0].capacity", 1.2, 1.8, ["resources[0].capacity"]),
    # a must go out and only v1 takes it, with load 5 of capacity 3.
    "vendors.capacity": (
        dict(functions=[no_inhouse("a")], vendors=[{"id": "v1", "capacity": 3}],
             offers=[{"function": "a", "vendor": "v1", "load": 5}]),
        "vendors[0].capacity", 3, 5, ["functions[0].inhouse", "vendors[0].capacity"]),
    # a and b must go out; a only to v1 (60); b to v1 (40) or v2 (45): v1's least share is 60/105.
    # (with b in-house, v1 would have all the spend: b's rule is not part of the conflict)
    "vendors.max_share": (
        dict(functions=[no_inhouse("a"), no_inhouse("b")], vendors=[{"id": "v1", "max_share": 0.5}, {"id": "v2"}],
             offers=[{"function": "a", "vendor": "v1", "cost": 60}, {"function": "b", "vendor": "v1", "cost": 40},
                     {"function": "b", "vendor": "v2", "cost": 45}]),
        "vendors[0].max_share", 0.5, 0.571429, ["functions[0].inhouse", "vendors[0].max_share"]),
    # a only with v1, b only with v2, both must go out: two vendors, one allowed.
    "rules.max_vendors": (
        dict(functions=[no_inhouse("a"), no_inhouse("b")], vendors=[{"id": "v1"}, {"id": "v2"}],
             offers=[{"function": "a", "vendor": "v1", "cost": 1}, {"function": "b", "vendor": "v2", "cost": 1}],
             rules={"max_vendors": 1}),
        "rules.max_vendors", 1, 2, ["functions[0].inhouse", "functions[1].inhouse", "rules.max_vendors"]),
}


@pytest.mark.parametrize("name", list(CASES))
def test_repair_of_each_limit_type_is_exact(name):
    data, place, current, needed, conflict = CASES[name]
    inst = make(**data)
    assert outopt.solve(inst).status == outopt.Status.INFEASIBLE
    assert best(inst) == (None, [])
    d = diagnose(inst)
    assert d.feasible is False
    assert [(r.limit, r.current, r.needed) for r in d.repairs] == [(place, current, pytest.approx(needed, abs=1e-9))]
    assert [(r.limit, r.needed) for r in d.combined] == [(place, pytest.approx(needed, abs=1e-9))]
    assert d.conflict == conflict
    for rule in conflict:  # the only conflict: dropping any one of its rules restores a plan
        assert best(drop(inst, rule))[0] is not None, rule
    # the repaired instance has a plan; a value just short of the repair has none
    assert best(set_place(inst, {place: needed}))[0] is not None
    short = needed - 1 if place == "rules.max_vendors" else needed - 1e-3
    assert best(set_place(inst, {place: short}))[0] is None


def test_message_in_the_limits_units():
    inst = make(**CASES["budget.operating"][0])
    d = diagnose(inst)
    assert "operating budget short by 5 USD: raise it to 105 (budget.operating)" in str(d)
    staff = diagnose(make(**CASES["resources.capacity"][0]))
    assert "staff capacity short by 0.6: raise it to 1.8 (resources[0].capacity)" in str(staff)


def test_combined_repair_moves_two_limits_and_single_repairs_are_absent_when_one_cannot_help():
    # a and b must go out, only to v1 (load 2 each, capacity 2) at cost 50 each, budget 60:
    # capacity alone or budget alone cannot help; together: capacity 4 and budget 100.
    inst = make(functions=[no_inhouse("a"), no_inhouse("b")], vendors=[{"id": "v1", "capacity": 2}],
                offers=[{"function": "a", "vendor": "v1", "cost": 50, "load": 2},
                        {"function": "b", "vendor": "v1", "cost": 50, "load": 2}],
                budget={"operating": 60})
    d = diagnose(inst)
    assert d.repairs == []
    assert {(r.limit, r.needed) for r in d.combined} == {("budget.operating", 100), ("vendors[0].capacity", 4)}
    assert best(set_place(inst, {r.limit: r.needed for r in d.combined}))[0] is not None
    # the budget alone is no obstacle once a or b may stay in-house: the filter drops it first
    assert d.conflict == ["functions[0].inhouse", "functions[1].inhouse", "vendors[0].capacity"]


def test_joint_repair_weighs_relative_to_limit_size():
    # a uses 11 staff of 10 in-house; outsourcing it costs 150 against a budget of 100. Either limit alone
    # repairs it: budget 100 -> 150 (+50%) or staff 10 -> 11 (+10%); the joint repair takes the smaller step.
    inst = make(resources=[{"id": "staff", "capacity": 10}],
                functions=[{"id": "a", "inhouse": {"cost": 100, "uses": {"staff": 11}}}],
                vendors=[{"id": "v1"}], offers=[{"function": "a", "vendor": "v1", "cost": 150}],
                budget={"operating": 100})
    d = diagnose(inst)
    assert {(r.limit, r.needed) for r in d.repairs} == {("budget.operating", 150), ("resources[0].capacity", 11)}
    assert [(r.limit, r.needed) for r in d.combined] == [("resources[0].capacity", 11)]


def drop(inst: outopt.Instance, place: str) -> outopt.Instance:
    """The instance without one rule, named by its place."""
    data = inst.model_dump()
    kind, _, rest = place.partition("[")
    if place.startswith("budget."):
        data["budget"][place.split(".")[1]] = None
    elif place == "rules.max_vendors":
        data["rules"]["max_vendors"] = None
    elif kind in ("rules.separate", "rules.together"):
        del data["rules"][kind.split(".")[1]][int(rest.split("]")[0])]
    elif kind == "functions" and place.endswith(".core"):
        data["functions"][int(rest.split("]")[0])]["core"] = False
    elif kind == "functions" and place.endswith(".inhouse"):
        data["functions"][int(rest.split("]")[0])]["inhouse"] = {"cost": 0}
    elif kind == "resources":
        data["resources"][int(rest.split("]")[0])]["capacity"] = 1e9
    elif kind == "vendors":
        field = place.split(".")[1]
        data["vendors"][int(rest.split("]")[0])][field] = None
    else:
        raise AssertionError(place)
    return outopt.Instance.model_validate(data)


CONFLICT = dict(
    # a and b cannot be kept in-house, only v1 serves them, and they must be separate: infeasible.
    # c is core and together with d, which cannot be kept in-house either: infeasible again.
    # The deletion filter goes in file order: it keeps the last rules whose removal would restore a plan.
    functions=[no_inhouse("a"), no_inhouse("b"), {"id": "c", "core": True, "inhouse": {"cost": 5}},
               no_inhouse("d"), {"id": "e", "inhouse": {"cost": 50}}],
    vendors=[{"id": "v1"}, {"id": "v2"}],
    offers=[{"function": "a", "vendor": "v1", "cost": 10}, {"function": "b", "vendor": "v1", "cost": 10},
            {"function": "c", "vendor": "v2", "cost": 1}, {"function": "d", "vendor": "v2", "cost": 1},
            {"function": "e", "vendor": "v2", "cost": 30}],
    budget={"operating": 1000},
    rules={"separate": [["a", "b"]], "together": [["c", "d"]], "max_vendors": 2},
)


def test_conflict_is_minimal_and_each_member_matters():
    inst = make(**CONFLICT)
    assert best(inst) == (None, [])
    d = diagnose(inst)
    conflict = d.conflict
    # one of the two independent conflicts, found in file order
    assert conflict == ["functions[2].core", "functions[3].inhouse", "rules.together[0]"]
    assert d.conflict_minimal
    # the rules of the conflict alone are infeasible: drop every rule not in it
    others = ["budget.operating", "functions[0].inhouse", "functions[1].inhouse", "rules.max_vendors",
              "rules.separate[0]"]
    only = inst
    for place in others:
        only = drop(only, place)
    assert best(only)[0] is None
    # dropping any one rule of the conflict (from the conflict alone) restores a plan
    for place in conflict:
        assert best(drop(only, place))[0] is not None, place


def test_feasible_instance_has_nothing_to_repair(small):
    d = diagnose(small)
    assert d.feasible is True and d.repairs == [] and d.combined == [] and d.conflict == []


def test_example_infeasible_instance():
    d = diagnose(outopt.load(INSTANCES / "infeasible.yaml"))
    assert [(r.limit, r.current, r.needed) for r in d.repairs] == [("budget.operating", 300000, 311000)]
    assert d.conflict == ["budget.operating"]




def test_cli_diagnose_json_and_text(tmp_path):
    r = run("diagnose", INSTANCES / "infeasible.yaml", "--json", "-")
    assert r.returncode == 3, r.stderr
    data = json.loads(r.stdout)
    assert data["feasible"] is False
    assert data["repairs"] == [{"limit": "budget.operating", "label": "operating budget", "current": 300000.0,
                                "needed": 311000.0, "short_by": 11000.0}]
    assert [c["limit"] for c in data["combined"]] == ["budget.operating"]
    assert data["conflict"] == ["budget.operating"]
    r = run("diagnose", INSTANCES / "infeasible.yaml")
    assert r.returncode == 3
    assert "operating budget short by 11,000 EUR: raise it to 311,000 (budget.operating)" in r.stdout
    r = run("diagnose", INSTANCES / "small_business.yaml", "--json", tmp_path / "d.json")
    assert r.returncode == 0, r.stderr
    assert json.loads((tmp_path / "d.json").read_text())["feasible"] is True


def test_cli_solve_diagnoses_infeasible():
    r = run("solve", INSTANCES / "infeasible.yaml", "--json", "-")
    assert r.returncode == 3
    data = json.loads(r.stdout)  # stdout stays pure JSON
    assert data["status"] == "infeasible"
    assert data["diagnosis"]["repairs"][0]["needed"] == 311000
    assert "raise it to 311,000" in r.stderr
    r = run("solve", INSTANCES / "infeasible.yaml")
    assert r.returncode == 3
    assert "Conflicting rules" in r.stderr and "budget.operating" in r.stderr


def test_conflict_names_locks():
    # a locked to v1 and b to v2, at most one vendor
    inst = make(functions=[{"id": "a", "inhouse": {"cost": 10}}, {"id": "b", "inhouse": {"cost": 10}}],
                vendors=[{"id": "v1"}, {"id": "v2"}],
                offers=[{"function": "a", "vendor": "v1", "cost": 5}, {"function": "b", "vendor": "v2", "cost": 5}],
                rules={"max_vendors": 1, "locks": [{"function": "a", "provider": "v1"},
                                                   {"function": "b", "provider": "v2"}]})
    d = diagnose(inst)
    assert d.conflict == ["rules.locks[0]", "rules.locks[1]", "rules.max_vendors"]
    assert [(r.limit, r.needed) for r in d.repairs] == [("rules.max_vendors", 2)]
    assert "rules.locks[1]: 'b' locked to v2" in str(d)
