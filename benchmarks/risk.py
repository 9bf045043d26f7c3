"""Uncertainty (issue 17): the scenario model's time against one deterministic solve, and the evaluation's.

    python benchmarks/risk.py [--functions 200] [--vendors 20] [--samples 100 500] [--measures cvar:0.1 mean]
                              [--profile hard] [--time-limit 600] [--eval-functions 2000] [--eval-samples 10000]

The instance is ``outopt.generate(FUNCTIONS, VENDORS, PROFILE, seed)`` (``budgets``, the default: the easy
profile with both budgets binding, :func:`benchmark_instance`) with ranges put on its amounts
(:func:`with_ranges`: every offer cost 0.9-1.0-1.25 of its value, transition 0.8-1.0-1.6, every in-house cost
0.95-1.0-1.1, a price shift of -5 % to +15 % on every fourth vendor). One deterministic solve is
``outopt.solve(instance, threads=1)`` (median of 3). For each sample count and measure: the scenario model's
build (:func:`~outopt.uncertainty.robust.build_scenario_model`, drawing the scenarios included), the starting
plan (two deterministic solves: at the planning values and at each cost's highest, the better one that keeps
every budget in every scenario), HiGHS on the model (one thread; priority stages, the measure, for ``cvar`` the
best mean at that CVaR) and the verification of the plan in every scenario, each timed apart. Then the evaluation of one plan (the status quo
with every third function outsourced) over ``--eval-samples`` scenarios of a ``--eval-functions`` x 50
instance, with ranges on every offer cost and in-house cost, and with ranges on every amount.
"""

from __future__ import annotations

import argparse
import statistics
import time

import outopt
from outopt.instance.schema import derived
from outopt.instance.validation import instance_from_data
from outopt.solver import SolveOptions
from outopt.uncertainty.assess import starting_plan
from outopt.uncertainty.check import check_scenarios, costliest_instance
from outopt.uncertainty.evaluate import evaluate
from outopt.uncertainty.robust import (
    Measure,
    build_scenario_model,
    solve_scenario_model,
)
from outopt.uncertainty.samples import draw
from outopt.verifier.portfolio import status_quo


def with_ranges(inst, every_amount: bool = False):
    """The instance with ranges on its offer costs, transitions and in-house costs, and vendors' price shifts
    (``every_amount``: also offer values, in-house values, retainers and onboarding)."""
    d = inst.model_dump(mode="json")

    def rng(x, low, high):
        return {"low": low * x, "mode": x, "high": high * x} if x >= 0 else {"low": high * x, "mode": x, "high": low * x}

    for o in d["offers"]:
        o["cost"] = rng(o.get("cost", 0.0), 0.9, 1.25)
        o["transition"] = rng(o.get("transition", 0.0), 0.8, 1.6)
        if every_amount:
            o["value"] = rng(o.get("value", 0.0), 0.5, 1.2)
    for f in d["functions"]:
        if f.get("inhouse"):
            f["inhouse"]["cost"] = rng(f["inhouse"]["cost"], 0.95, 1.1)
            if every_amount:
                f["inhouse"]["value"] = rng(f["inhouse"].get("value", 0.0), 0.5, 1.5)
    for j, v in enumerate(d["vendors"]):
        if j % 4 == 0:
            v["price_shift"] = {"low": -5, "high": 15}
        if every_amount:
            v["retainer"] = rng(v.get("retainer", 0.0), 0.9, 1.3)
            v["onboarding"] = rng(v.get("onboarding", 0.0), 0.8, 1.5)
    return instance_from_data(d)


def benchmark_instance(functions: int, vendors: int, profile: str):
    """``generate``'s instance; ``budgets``: the easy one with budgets that bind (the operating budget asks for
    40 % of the easy optimum's saving on recurring cost, the transition budget allows 60 % of its one-off cost)."""
    if profile != "budgets":
        return outopt.generate(functions, vendors, profile, seed=0)
    inst = outopt.generate(functions, vendors, "easy", seed=0)
    best = outopt.solve(inst).verification
    quo = outopt.verify(inst, {f.id: "inhouse" for f in inst.functions})
    budget = outopt.Budget(operating=round(quo.operating_cost - 0.4 * (quo.operating_cost - best.operating_cost)),
                           transition=round(0.6 * best.transition_cost))
    return derived(inst, budget=budget)


def scenario_model(inst, n: int, text: str, time_limit: float) -> str:
    measure = Measure.parse(text)
    one = SolveOptions(threads=1)
    t = time.perf_counter()
    samples = draw(inst, n, seed=1)
    model = build_scenario_model(inst, samples, measure)
    build = time.perf_counter() - t
    t = time.perf_counter()  # the starting plan, as solve_robust finds it
    base, costliest = outopt.solve(inst, options=one), outopt.solve(costliest_instance(samples), options=one)
    start = starting_plan(samples, measure, [base.plan, costliest.plan, status_quo(inst)])
    begin = time.perf_counter() - t
    t = time.perf_counter()
    run = solve_scenario_model(model, one, time.perf_counter() + time_limit, start_plan=start)
    solve = time.perf_counter() - t
    verify = 0.0
    if run.plan is not None:
        t = time.perf_counter()
        check = check_scenarios(samples, run.plan)
        verify = time.perf_counter() - t
        assert check.within_budgets and outopt.verify(inst, run.plan).feasible
    status = "infeasible" if run.infeasible else ("optimal" if run.proven else "stopped")
    gap = "" if run.proven or run.bound is None or run.measure is None else \
        f" (gap {abs(run.bound - run.measure) / max(1.0, abs(run.measure)):.2%})"
    return (f"| {n} | {text} | {model.num_col:,} | {len(model.row_lower):,} | {len(model.value):,} | {build:.2f} | "
            f"{begin:.2f} | {solve:.2f} | {verify:.2f} | {status}{gap} | "
            f"{'-' if run.measure is None else f'{run.measure:,.0f}'} |")


def main() -> None:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--functions", type=int, default=200)
    ap.add_argument("--vendors", type=int, default=20)
    ap.add_argument("--profile", default="budgets", help="easy, hard, or budgets (easy with both budgets binding)")
    ap.add_argument("--samples", type=int, nargs="+", default=[100, 500])
    ap.add_argument("--measures", nargs="+", default=["cvar:0.1", "mean"])
    ap.add_argument("--time-limit", type=float, default=600.0)
    ap.add_argument("--eval-functions", type=int, default=2000)
    ap.add_argument("--eval-samples", type=int, default=10_000)
    ap.add_argument("--no-model", action="store_true", help="only the evaluation")
    args = ap.parse_args()
    if not args.no_model:
        scenario_models(args)
    evaluation(args)


def scenario_models(args) -> None:
    inst = with_ranges(benchmark_instance(args.functions, args.vendors, args.profile))
    times = []
    for _ in range(3):
        t = time.perf_counter()
        sol = outopt.solve(inst, threads=1)
        times.append(time.perf_counter() - t)
    print(f"instance: generate({args.functions}, {args.vendors}, {args.profile!r}) with ranges, "
          f"{len(inst.offers):,} offers; one deterministic solve {statistics.median(times):.2f}s "
          f"({sol.status.value}, net benefit {sol.objective or 0:,.0f})")
    print("| samples | measure | columns | rows | nonzeros | build s | start s | HiGHS s | verify s | status | measure |")
    print("| --- | --- | --- | --- | --- | --- | --- | --- | --- | --- | --- |")
    for n in args.samples:
        for text in args.measures:
            print(scenario_model(inst, n, text, args.time_limit), flush=True)


def evaluation(args) -> None:
    big = outopt.generate(args.eval_functions, 50, "easy", seed=1)
    offered = {o.function: o.vendor for o in big.offers}
    plan = {f.id: offered.get(f.id, "inhouse") if i % 3 == 0 else "inhouse" for i, f in enumerate(big.functions)}
    for every in (False, True):
        ranged = with_ranges(big, every)
        samples = draw(ranged, args.eval_samples, seed=1)
        t, c = time.perf_counter(), time.process_time()
        (out,) = evaluate(samples, {"plan": plan})
        took, cpu = time.perf_counter() - t, time.process_time() - c
        c = time.process_time()
        outopt.verify(ranged, plan)  # the check at the planning values, part of the evaluation
        check = time.process_time() - c
        print(f"evaluation: {args.eval_samples:,} scenarios of a {args.eval_functions:,}-function plan "
              f"({'every amount' if every else 'offer costs and transitions, in-house costs'} ranged, "
              f"{len(samples.varies()):,} amounts vary): {took:.2f}s, CPU {cpu:.2f}s (of which the verifier's "
              f"check at the planning values {check:.2f}s), mean {out.objective.mean():,.0f}")


if __name__ == "__main__":
    main()
