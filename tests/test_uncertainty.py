"""Uncertainty (issue 17): ranges in the format, the sampler's laws, samples files, `risk` statistics against
a direct computation through the verifier, and the scenario model against enumeration of every plan."""

import json
import math

import numpy as np
import pytest
from bruteforce import all_plans
from conftest import INSTANCES, make
from typer.testing import CliRunner

import outopt
from outopt.cli import app
from outopt.instance.io.text import json_schema
from outopt.instance.ranges import Range, ranges
from outopt.instance.schema import derived
from outopt.instance.validation import instance_from_data
from outopt.uncertainty.check import check_scenarios
from outopt.uncertainty.evaluate import evaluate
from outopt.uncertainty.samples import Place, draw, read_samples
from outopt.verifier.portfolio import status_quo, verify

RANGES = INSTANCES / "small_business_ranges.yaml"


def test_ranges_are_read_as_their_modes_and_kept_by_place():
    inst = outopt.load(RANGES)
    assert inst.offers[6].cost == 70000 and inst.functions[0].inhouse.cost == 95000
    r = ranges(inst)
    assert r["offers[6].cost"] == Range(low=66000, mode=70000, high=80000)
    assert r["functions[0].inhouse.cost"] == Range(low=90000, mode=95000, high=105000)
    assert "offers[0].cost" not in r and inst.vendors[0].price_shift.high == 20
    # the planning values are the plain example's: the same optimum
    assert outopt.solve(inst).objective == pytest.approx(339_500.0)


@pytest.mark.parametrize("target", ["x.yaml", "x.json", "x.xlsx", "folder"])
def test_round_trips_keep_the_ranges(tmp_path, target):
    inst = outopt.load(RANGES)
    outopt.save(inst, tmp_path / target)
    again = outopt.load(tmp_path / target)
    assert again == inst and ranges(again) == ranges(inst)


def test_copies_keep_ranges_by_what_they_belong_to():
    inst = outopt.load(RANGES)
    fewer = derived(inst, offers=inst.offers[5:])  # offers[6] is now offers[1]
    assert ranges(fewer)["offers[1].cost"] == Range(low=66000, mode=70000, high=80000)
    changed = inst.offers[6].model_copy(update={"cost": 71000.0})
    bumped = derived(inst, offers=[*inst.offers[:6], changed, *inst.offers[7:]])
    assert "offers[6].cost" not in ranges(bumped)  # its mode is no longer the amount: a plain number
    assert bumped.model_dump()["offers"][6]["cost"] == 71000.0
    assert bumped.model_dump()["offers"][0]["transition"] == {"low": 7000.0, "mode": 8000.0, "high": 14000.0}


def test_problems_in_ranges_are_named_at_their_place(tmp_path):
    path = tmp_path / "bad.yaml"
    path.write_text("""name: bad
functions: [{id: a, inhouse: {cost: {low: 120, mode: 100, high: 130}}}]
vendors: [{id: v, retainer: {low: -1, mode: 0, high: 5}, price_shift: {low: 10, high: -5}}]
offers: [{function: a, vendor: v, cost: {low: 1, mode: 2}, value: {low: -5, mode: x, high: 5}}]
""")
    r = CliRunner().invoke(app, ["validate", str(path)])
    assert r.exit_code == 2
    lines = r.stderr.splitlines()
    assert f"  {path}: offers[0].cost.high: required field is missing" in lines
    assert any(line.startswith(f"  {path}: offers[0].value.mode: Input should be a valid number") for line in lines)
    assert f"  {path}: vendors[0].retainer.low: Input should be greater than or equal to 0 (got -1.0)" in lines
    assert (f"  {path}: functions[0].inhouse.cost: Value error, a range needs low <= mode <= high "
            "(got low 120, mode 100, high 130)") in lines
    assert (f"  {path}: vendors[0].price_shift: Value error, a price shift needs low <= high "
            "(got low 10, high -5)") in lines


def test_the_json_schema_allows_a_range():
    schema = json.loads(json_schema())
    cost = schema["$defs"]["Offer"]["properties"]["cost"]
    assert {"type": "number", "minimum": 0, "maximum": 1e12} in cost["anyOf"]
    assert any(s.get("properties", {}).keys() == {"low", "mode", "high"} for s in cost["anyOf"])


# --- the sampler ----------------------------------------------------------------------------------


def ks(sample: np.ndarray, cdf) -> float:
    """Kolmogorov-Smirnov statistic of a sample against a distribution function."""
    x = np.sort(sample)
    f = cdf(x)
    n = len(x)
    return float(max(np.max(np.arange(1, n + 1) / n - f), np.max(f - np.arange(n) / n)))


def triangular_cdf(a, c, b):
    def cdf(x):
        below = (x - a) ** 2 / ((b - a) * (c - a))
        above = 1 - (b - x) ** 2 / ((b - a) * (b - c)) if b > c else np.ones_like(x)
        return np.where(x <= c, below, above)

    return cdf


N = 20_000
CRITICAL = 1.63 / math.sqrt(N)  # the KS test's 1 % level


def test_the_sampler_draws_triangular_and_uniform_laws():
    inst = make(functions=[{"id": "a", "inhouse": {"cost": {"low": 90, "mode": 100, "high": 130}}},
                           {"id": "b", "inhouse": {"cost": 10}}],
                vendors=[{"id": "v", "price_shift": {"low": -5, "high": 15}}],
                offers=[{"function": "a", "vendor": "v", "cost": {"low": 40, "mode": 50, "high": 80}},
                        {"function": "b", "vendor": "v", "cost": 20, "value": {"low": -5, "mode": 5, "high": 5}}])
    s = draw(inst, N, seed=7)
    places = [Place("inhouse", 0, "cost"), Place("offers", 0, "cost"), Place("offers", 1, "cost"),
              Place("offers", 1, "value")]
    assert sorted(s.varying()) == places  # b's cost varies with the vendor's shift; b's in-house cost does not
    cols = s.columns(places)
    assert ks(cols[:, 0], triangular_cdf(90, 100, 130)) < CRITICAL
    assert ks(cols[:, 3], triangular_cdf(-5, 5, 5)) < CRITICAL  # mode at the right end
    # a plain cost times the vendor's shift: uniform on [20 * 0.95, 20 * 1.15]
    assert ks(cols[:, 2], lambda x: np.clip((x - 19.0) / 4.0, 0, 1)) < CRITICAL
    # a ranged cost times the same shift, scenario by scenario: divided by the shift (b's cost / 20), triangular
    tri = cols[:, 1] / (cols[:, 2] / 20)
    assert ks(tri, triangular_cdf(40, 50, 80)) < CRITICAL
    # a wrong law is caught at this size: the uniform on [90, 130] is not the triangular
    assert ks(np.random.default_rng(1).uniform(90, 130, N), triangular_cdf(90, 100, 130)) > CRITICAL


def test_draws_are_reproducible_and_the_same_whichever_amounts_are_asked():
    inst = outopt.load(RANGES)
    places = draw(inst, 50, seed=3).varying()
    every = draw(inst, 50, seed=3).columns(places)
    np.testing.assert_array_equal(draw(inst, 50, seed=3).columns(places[2:3])[:, 0], every[:, 2])
    assert not np.array_equal(draw(inst, 50, seed=4).columns(places), every)
    assert not np.array_equal(draw(inst, 50, seed=3, stream=1).columns(places), every)


# --- samples files --------------------------------------------------------------------------------


def test_a_samples_file_gives_amounts_and_blank_is_the_planning_value(tmp_path):
    inst = outopt.load(RANGES)
    path = tmp_path / "s.csv"
    path.write_text("offers[6].cost,functions[0].inhouse.cost,vendors[0].retainer\n72000,,15000\n,99000,\n")
    s = read_samples(path, inst)
    assert s.n == 2
    cols = s.columns([Place("offers", 6, "cost"), Place("inhouse", 0, "cost"), Place("vendors", 0, "retainer"),
                      Place("offers", 0, "cost")])
    np.testing.assert_array_equal(cols, [[72000, 95000, 15000, 48000], [70000, 99000, 12000, 48000]])


def test_problems_in_a_samples_file_are_named_at_their_cell(tmp_path):
    path = tmp_path / "s.csv"
    path.write_text("offers[6].cost,offers[99].cost,functions[7].inhouse.nope,offers[6].cost,vendors[1].retainer\n"
                    "abc,1,1,1,1\n-5,1,1,1,1e13\n")
    r = CliRunner().invoke(app, ["risk", str(RANGES), "--samples-file", str(path)])
    assert r.exit_code == 2 and r.stdout == ""
    assert r.stderr.splitlines() == [
        f"error: {path}: 6 problems found",
        f"  {path}: line 1, column 2: offers[99].cost: the instance has 12 offers (indexes 0 to 11)",
        f"  {path}: line 1, column 3: 'functions[7].inhouse.nope' is not an amount that may vary; name one as "
        "offers[3].cost, functions[0].inhouse.cost or vendors[1].retainer",
        f"  {path}: line 1, column 4: offers[6].cost has two columns (also column 1)",
        f"  {path}: line 2, column 1: 'abc' is not a number",
        f"  {path}: line 3, column 1: cost cannot be negative (got -5)",
        f"  {path}: line 3, column 5: must be a finite number at most 1e+12 in absolute value (got 1e13)",
    ]


# --- risk: statistics against a direct computation ------------------------------------------------


def direct_statistics(inst, samples, plan, quo_plan):
    """The statistics from the verifier's figures in every scenario, computed here independently."""
    mine = check_scenarios(samples, plan)
    quo = check_scenarios(samples, quo_plan)
    z = mine.objective
    out = {"mean": z.mean(), "std": math.sqrt(((z - z.mean()) ** 2).mean()),
           "prob_beats_status_quo": float(np.mean([a - b > 1e-5 + 1e-9 * abs(b) for a, b in zip(z, quo.objective)]))}
    for q in (5, 50, 95):
        out[f"p{q}"] = float(np.percentile(z, q))
    for name, use in (("operating", mine.operating), ("transition", mine.transition)):
        limit = getattr(inst.budget, name)
        out[name] = None if limit is None else float(np.mean([u > limit + 1e-5 + 1e-9 * limit for u in use]))
    return out


def with_ranges(inst):
    """Every offer cost, value and transition, in-house cost and retainer made a range around its value."""
    d = inst.model_dump(mode="json")
    for o in d["offers"]:
        c = o.get("cost", 0.0)
        o["cost"] = {"low": 0.8 * c, "mode": c, "high": 1.3 * c}
        v = o.get("value", 0.0)
        o["value"] = {"low": v - 2000, "mode": v, "high": v + 1000}
        t = o.get("transition", 0.0)
        o["transition"] = {"low": 0.5 * t, "mode": t, "high": 2 * t}
    for f in d["functions"]:
        if f.get("inhouse"):
            c = f["inhouse"]["cost"]
            f["inhouse"]["cost"] = {"low": 0.9 * c, "mode": c, "high": 1.2 * c}
    for v in d["vendors"]:
        r = v.get("retainer", 0.0)
        v["retainer"] = {"low": 0.9 * r, "mode": r, "high": 1.5 * r}
        v["price_shift"] = {"low": -5, "high": 10}
    return instance_from_data(d)


@pytest.mark.parametrize("name", ["small_business_ranges.yaml", "midsize.yaml"])
def test_risk_statistics_equal_a_direct_computation(name):
    inst = outopt.load(INSTANCES / name)
    if not ranges(inst):  # midsize: every term (discounts, bundles, soft rules), with ranges on every amount
        inst = with_ranges(inst)
    result = outopt.risk(inst, samples=60, seed=5)
    quo = status_quo(inst)
    for stats, out in zip(result.to_dict()["plans"], result.outcomes):
        want = direct_statistics(inst, result.samples, out.plan, quo)
        for key in ("mean", "std", "p5", "p50", "p95", "prob_beats_status_quo"):
            assert stats[key] == pytest.approx(want[key], rel=1e-9, abs=1e-6), (stats["name"], key)
        for key in ("operating", "transition"):
            assert stats["prob_over_budget"][key] == want[key]
    assert [s["name"] for s in result.to_dict()["plans"]] == ["optimal", "status_quo"]
    assert result.to_dict()["samples"] == 60


def test_risk_statistics_from_a_samples_file_by_hand(tmp_path):
    inst = make(budget={"operating": 100},
                functions=[{"id": "a", "inhouse": {"cost": 60}}, {"id": "b", "inhouse": {"cost": 50}}],
                vendors=[{"id": "v"}],
                offers=[{"function": "a", "vendor": "v", "cost": {"low": 30, "mode": 40, "high": 80}},
                        {"function": "b", "vendor": "v", "cost": 45}])
    path = tmp_path / "s.csv"
    path.write_text("offers[0].cost,offers[1].cost\n40,\n70,\n50,60\n100,55\n")
    result = outopt.risk(inst, samples=str(path))
    (best, quo) = result.to_dict()["plans"]
    # the optimum outsources both (net 60 - 40 + 50 - 45 = 25); scenario nets: 25, -5, 0 (b at 60 loses 10, a 10),
    # -45 (a at 100: -40, b at 55: -5); the status quo keeps both in-house: 0 every time
    np.testing.assert_allclose(result.net_benefit["optimal"], [25, -5, 0, -45])
    assert best["mean"] == pytest.approx(-25 / 4)
    assert best["prob_beats_status_quo"] == 0.25
    # recurring cost 85, 115, 110, 155 against a budget of 100
    assert best["prob_over_budget"] == {"operating": 0.75, "transition": None}
    assert quo["prob_over_budget"]["operating"] == 1.0  # 110 every time


def test_evaluating_ten_thousand_scenarios_is_vectorised():
    import time

    inst = with_ranges(outopt.generate(300, 20, "easy", seed=2))
    offered = {o.function: o.vendor for o in inst.offers}
    plan = {f.id: offered.get(f.id, "inhouse") if i % 3 else "inhouse" for i, f in enumerate(inst.functions)}
    s = draw(inst, 10_000, seed=1)
    t = time.perf_counter()
    (out,) = evaluate(s, {"p": plan})
    assert time.perf_counter() - t < 5.0  # about 0.3 s; a loop over scenarios would take minutes
    check = check_scenarios(s, plan, range(3))
    np.testing.assert_allclose(out.objective[:3], check.objective, rtol=1e-9)


# --- the scenario model against enumeration -----------------------------------------------------


def tiny(seed: int):
    """4 functions, 3 vendors, 2 offers each, a transition budget; with 12 scenarios of most amounts."""
    rng = np.random.default_rng(seed)
    functions = [{"id": f"f{i}", "inhouse": {"cost": float(rng.integers(60, 100))}} for i in range(4)]
    vendors = [{"id": f"v{j}", "retainer": float(rng.integers(0, 3) * 5), "onboarding": float(rng.integers(0, 2) * 10)}
               for j in range(3)]
    offers = []
    for i in range(4):
        for j in rng.choice(3, size=2, replace=False):
            offers.append({"function": f"f{i}", "vendor": f"v{j}", "cost": float(rng.integers(35, 90)),
                           "value": float(rng.integers(-5, 10)), "transition": float(rng.integers(5, 30))})
    inst = make(horizon=2, budget={"transition": 60.0, "operating": 330.0}, functions=functions, vendors=vendors,
                offers=offers)
    header, rows = [], []
    for i, o in enumerate(offers):
        header += [f"offers[{i}].cost", f"offers[{i}].transition"]
    header += [f"functions[{i}].inhouse.cost" for i in range(4)] + ["vendors[0].retainer", "vendors[1].onboarding"]
    for _ in range(12):
        row = []
        for o in offers:
            row += [o["cost"] * rng.uniform(0.7, 1.5), o["transition"] * rng.uniform(0.8, 1.6)]
        row += [f["inhouse"]["cost"] * rng.uniform(0.9, 1.1) for f in functions]
        row += [vendors[0]["retainer"] * rng.uniform(0.5, 2.0), vendors[1]["onboarding"] * rng.uniform(0.5, 2.0)]
        rows.append(row)
    return inst, header, rows


def scenario_instances(inst, header, rows):
    """Each scenario as an instance of its own, made from the data (no outopt code beyond validation)."""
    out = []
    for row in rows:
        data = inst.model_dump(mode="json")
        for name, value in zip(header, row):
            node = data
            parts = name.replace("]", "").replace("[", ".").split(".")
            for part in parts[:-1]:
                node = node[int(part)] if part.isdigit() else node[part]
            node[parts[-1]] = value
        out.append(instance_from_data(data))
    return out


def cvar_by_hand(z, alpha):
    z = sorted(z)
    k = alpha * len(z)
    m = int(k + 1e-9)
    return (sum(z[:m]) + (k - m) * (z[m] if m < len(z) else 0.0)) / k


def enumerate_measures(inst, scenarios, alpha, weight):
    """(measure, mean, plan) of every plan that meets every rule at the planning values and every budget in
    every scenario."""
    out = []
    for plan in all_plans(inst):
        if not verify(inst, plan).feasible:
            continue
        checks = [verify(s, plan) for s in scenarios]
        if any(c.operating_cost > inst.budget.operating + 1e-5 + 1e-9 * inst.budget.operating
               or c.transition_cost > inst.budget.transition + 1e-5 + 1e-9 * inst.budget.transition for c in checks):
            continue
        z = [c.objective for c in checks]
        mean = sum(z) / len(z)
        measure = mean if alpha is None else (1 - weight) * mean + weight * cvar_by_hand(z, alpha)
        out.append((measure, mean, plan))
    return out


MEASURES = [("mean", None, 0.0), ("cvar:0.25", 0.25, 1.0), ("cvar:0.2", 0.2, 1.0), ("mean-cvar:0.25:0.5", 0.25, 0.5)]


@pytest.mark.parametrize("seed", range(4))
def test_the_robust_plan_is_the_best_of_every_plan(tmp_path, seed):
    inst, header, rows = tiny(seed)
    path = _write(tmp_path, header, rows)
    scenarios = scenario_instances(inst, header, [[float(f"{v:.6f}") for v in r] for r in rows])
    for text, alpha, weight in MEASURES:
        plans = enumerate_measures(inst, scenarios, alpha, weight)
        sol = outopt.solve(inst, robust=text, samples=str(path), out_of_sample=0)
        if not plans:
            assert sol.status.value == "infeasible"
            continue
        top = max(m for m, _, _ in plans)
        tol = 1e-6 * max(1.0, abs(top))
        tied = [(m, mean, p) for m, mean, p in plans if m >= top - tol]
        if weight == 1.0:  # documented tie rule: the best mean among the plans with the best CVaR
            best_mean = max(mean for _, mean, _ in tied)
            tied = [(m, mean, p) for m, mean, p in tied if mean >= best_mean - tol]
        assert sol.status.value == "optimal"
        assert sol.robust["value"] == pytest.approx(top, rel=1e-6, abs=1e-6), text
        assert sol.plan in [p for _, _, p in tied], text
        if len(tied) == 1:
            assert sol.plan == tied[0][2]


def test_zero_width_ranges_make_robust_mean_the_plain_solve(tmp_path):
    data = outopt.load(INSTANCES / "small_business.yaml").model_dump(mode="json")
    for o in data["offers"]:
        o["cost"] = {"low": o["cost"], "mode": o["cost"], "high": o["cost"]}
        o["transition"] = {"low": o["transition"], "mode": o["transition"], "high": o["transition"]}
    for f in data["functions"]:
        c = f["inhouse"]["cost"]
        f["inhouse"]["cost"] = {"low": c, "mode": c, "high": c}
    path = tmp_path / "zero.json"
    outopt.save(instance_from_data(data), path)
    runner = CliRunner()
    plain = json.loads(runner.invoke(app, ["solve", str(path), "--json", "-"]).stdout)
    r = runner.invoke(app, ["solve", str(path), "--robust", "mean", "--samples", "20", "--json", "-"])
    assert r.exit_code == 0
    robust = json.loads(r.stdout)
    assert robust["assignments"] == plain["assignments"] and robust["objective"] == plain["objective"]
    assert robust["robust"]["value"] == pytest.approx(plain["objective"])
    assert robust["robust"]["in_sample"]["std"] == 0.0
    assert robust["robust"]["out_of_sample"] is None  # nothing varies: no fresh scenarios to draw


def test_robust_and_risk_on_the_command_line(tmp_path):
    runner = CliRunner()
    r = runner.invoke(app, ["solve", str(RANGES), "--robust", "cvar:0.1", "--samples", "60", "--json", "-"])
    assert r.exit_code == 0
    out = json.loads(r.stdout)
    rob = out["robust"]
    assert rob["measure"] == "cvar:0.1" and rob["samples"] == 60 and rob["out_of_sample_samples"] == 1000
    keys = {"mean", "std", "p5", "p50", "p95", "prob_beats_status_quo", "prob_over_budget", "measure", "cvar"}
    assert set(rob["in_sample"]) == keys and set(rob["out_of_sample"]) == keys
    assert rob["in_sample"]["prob_over_budget"] == {"operating": 0.0, "transition": 0.0}  # every budget, every scenario
    assert rob["optimal"]["in_sample"]["prob_over_budget"]["transition"] > 0.5  # the plain optimum is fragile
    assert out["objective"] == pytest.approx(outopt.verify(outopt.load(RANGES), {a["function"]: a["provider"]
                                                                                  for a in out["assignments"]}).objective)
    plan = tmp_path / "robust.json"
    plan.write_text(r.stdout)
    r = runner.invoke(app, ["risk", str(RANGES), "--samples", "200", "--plan", str(plan), "--json", "-",
                            "--out", str(tmp_path / "risk.html")])
    assert r.exit_code == 0
    stats = json.loads(r.stdout)
    assert stats["samples"] == 200 and [p["name"] for p in stats["plans"]] == ["optimal", "status_quo", "robust"]
    assert set(stats["plans"][0]) == {"name", "mean", "std", "p5", "p50", "p95", "prob_beats_status_quo",
                                      "prob_over_budget"}
    page = (tmp_path / "risk.html").read_text()
    assert page.count("<svg") == 3 and "<script" not in page
    r = runner.invoke(app, ["solve", str(RANGES), "--robust", "mean", "--samples", "30",
                            "--out", str(tmp_path / "robust.html")])
    assert r.exit_code == 0 and "robust plan: best mean" in r.stdout
    page = (tmp_path / "robust.html").read_text()
    assert "id='robust'" in page and page.count("<svg") >= 3 + 3  # the report's charts, then one per plan


@pytest.mark.parametrize("args, message", [
    (["--samples", "5"], "error: --samples and --samples-file go with --robust (the measure to maximise over the scenarios)"),
    (["--robust", "cvar:2"], "error: RANGES: 1 problem found"),
    (["--robust", "worst"], "error: RANGES: 1 problem found"),
    (["--robust", "mean", "--samples", "5", "--samples-file", "x.csv"], "error: give --samples or --samples-file, not both"),
])
def test_robust_usage_errors(args, message):
    r = CliRunner().invoke(app, ["solve", str(RANGES), *args])
    assert r.exit_code == 2
    assert r.stderr.splitlines()[0] == message.replace("RANGES", str(RANGES))


def test_the_scenario_model_refuses_what_it_cannot_hold():
    inst = with_ranges(outopt.load(INSTANCES / "midsize.yaml"))
    with pytest.raises(outopt.InputError) as err:
        outopt.solve(inst, robust="mean", samples=10)
    where = [p.where for p in err.value.problems]
    assert "budget.soft.transition" in where and any(w.endswith(".discounts") for w in where)
    assert any(w.endswith(".bundles") for w in where)


def test_no_plan_keeps_every_budget_in_every_scenario(tmp_path):
    inst = make(budget={"transition": 10},
                functions=[{"id": "a"}], vendors=[{"id": "v"}],
                offers=[{"function": "a", "vendor": "v", "cost": 5, "transition": {"low": 5, "mode": 8, "high": 20}}])
    assert outopt.solve(inst).status.value == "optimal"
    sol = outopt.solve(inst, robust="cvar:0.5", samples=50)
    assert sol.status.value == "infeasible" and sol.message == "no plan keeps every budget in every scenario"


def test_priority_levels_come_before_the_measure(tmp_path):
    inst, header, rows = tiny(1)
    best_plain = outopt.solve(inst, robust="mean", samples=str(_write(tmp_path, header, rows)), out_of_sample=0)
    # a soft lock at a priority level against the best plan's choice for one outsourced function
    f, v = next((f, v) for f, v in best_plain.plan.items() if v != "inhouse")
    locked = derived(inst, rules=outopt.Rules(locks=[outopt.Lock(
        function=f, provider="inhouse", reason="test", soft=outopt.Soft(priority=1))]))
    scenarios = scenario_instances(locked, header, [[float(f"{x:.6f}") for x in r] for r in rows])
    plans = enumerate_measures(locked, scenarios, None, 0.0)
    least = min(verify(locked, p).level_violation.get(1, 0.0) for _, _, p in plans)
    top = max(m for m, _, p in plans if verify(locked, p).level_violation.get(1, 0.0) == least)
    sol = outopt.solve(locked, robust="mean", samples=str(_write(tmp_path, header, rows)), out_of_sample=0)
    assert least == 0.0 and sol.plan[f] == "inhouse"
    assert sol.robust["value"] == pytest.approx(top, rel=1e-6)


def _write(tmp_path, header, rows):
    path = tmp_path / "s.csv"
    path.write_text(",".join(header) + "\n" + "\n".join(",".join(f"{v:.6f}" for v in r) for r in rows) + "\n")
    return path
