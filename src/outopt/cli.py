"""The ``outopt`` command: a thin layer over the Python API.

Exit codes: 0 a plan was found, 2 invalid input or usage, 3 infeasible,
4 no plan within the time limit, 1 an internal or solver error.
"""

from __future__ import annotations

import json
import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from outopt.analysis.diagnose import diagnose as diagnose_instance, diagnose_infeasible
from outopt.analysis.explain import explain as explain_instance
from outopt.errors import InputError, OutoptError
from outopt.io import load
from outopt.io.atomic import atomic_write_text
from outopt.analysis.alternatives import alternatives as find_alternatives
from outopt.report import (
    print_alternatives,
    print_comparison,
    print_diagnosis,
    print_explanation,
    print_frontier,
    print_pareto,
    print_solution,
)
from outopt.solver import SolveOptions, solve as solve_instance

EXIT_OK, EXIT_ERROR, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_TIMEOUT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130  # Ctrl-C outside the solver (the shell's convention: 128 + SIGINT)

out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, soft_wrap=True)


class GuardedGroup(TyperGroup):
    """Runs every command inside a guard: no traceback ever reaches a planner.

    An unexpected exception becomes one line on stderr and exit code 1; Ctrl-C outside
    the solver (which handles it itself, returning its best plan) becomes exit code 130.
    """

    def invoke(self, ctx):
        try:
            return super().invoke(ctx)
        except (typer.Exit, typer.Abort, TyperException):
            raise
        except KeyboardInterrupt:
            err.print("[red]error:[/red] interrupted", markup=True)
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as e:  # noqa: BLE001 - the last line of defence
            detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
            err.print(
                f"[red]error:[/red] internal error ({escape(type(e).__name__ + (': ' + detail if detail else ''))}); "
                "please report it with the input file",
                markup=True,
            )
            raise typer.Exit(EXIT_ERROR) from None


app = typer.Typer(
    name="outopt",
    help="Decide which business functions to keep in-house and which to give to vendors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=GuardedGroup,
)


def fail(message: str, code: int) -> typer.Exit:
    err.print(f"[red]error:[/red] {escape(message)}", markup=True)
    return typer.Exit(code)


def load_or_exit(path: Path):
    try:
        return load(path)
    except InputError as e:
        raise invalid(e, path)


def invalid(e: InputError, path) -> typer.Exit:
    """Print every problem of an input (file, scenario or option) and return the exit for invalid input."""
    n = len(e.problems)
    err.print(f"[red]error:[/red] {escape(str(e.source or path))}: {n} problem{'s' if n > 1 else ''} found", markup=True)
    for p in e.problems:
        err.print(f"  {e.source or path}: {p}", markup=False)
    return typer.Exit(EXIT_INVALID)


def write_output(target: str, text: str) -> None:
    """'-' writes to stdout (and nothing else goes there); a path is written atomically."""
    if target == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        try:
            atomic_write_text(target, text if text.endswith("\n") else text + "\n")
        except OSError as e:
            raise fail(f"cannot write {target}: {e.strerror or e}", EXIT_INVALID) from None


def run_or_exit(source, compute):
    """Run an analysis: invalid input exits 2 with every problem, a solver failure exits 1."""
    try:
        return compute()
    except InputError as e:
        raise invalid(e, source)
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)


def write_outputs(result, json_out: str | None, plot: Path | None = None) -> None:
    if plot is not None:
        run_or_exit(plot, lambda: result.plot(plot))
    if json_out is not None:
        write_output(json_out, result.to_json())


FileArg = Annotated[Path, typer.Argument(help="Instance file (.yaml, .yml or .json).", show_default=False)]
JsonOpt = Annotated[Optional[str], typer.Option("--json", help="Write JSON to this path ('-' for stdout).")]


@app.command()
def solve(
    file: FileArg,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.001, help="Seconds for the whole run.")] = None,
    gap: Annotated[float, typer.Option("--gap", min=0.0, max=0.999, help="Relative optimality gap; 0 proves optimality.")] = 0.0,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="Solver threads.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the solver.")] = 0,
    json_out: JsonOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Show the solver log on stderr.")] = False,
    alternatives: Annotated[Optional[int], typer.Option("--alternatives", min=1, help="Up to K distinct plans, best first (10 with --within alone).")] = None,
    within: Annotated[Optional[str], typer.Option("--within", help="With --alternatives: only plans within this distance of the optimum, e.g. 2%.")] = None,
) -> None:
    """Solve an instance: print the plan, totals, status and time."""
    instance = load_or_exit(file)
    if alternatives is not None or within is not None:
        options = SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed, verbose=verbose)
        raise typer.Exit(solve_alternatives(file, instance, options, alternatives or 10, within, json_out))
    try:
        sol = solve_instance(instance, options=SolveOptions(time_limit=time_limit, gap=gap, threads=threads,
                                                            seed=seed, verbose=verbose))
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    diagnosis = None
    if sol.status.exit_code == EXIT_INFEASIBLE:
        try:
            left = None if time_limit is None else max(0.05, time_limit - sol.total_time)
            diagnosis = diagnose_infeasible(instance, SolveOptions(time_limit=left, threads=threads, seed=seed))
        except OutoptError as e:
            err.print(f"{file}: the diagnosis failed: {e}", markup=False)
    if json_out is not None:
        text = sol.to_json()
        if diagnosis is not None:
            text = json.dumps({**json.loads(text), "diagnosis": diagnosis.to_dict()}, indent=2)
        write_output(json_out, text)
    if json_out != "-":
        print_solution(sol, out)
    if sol.status.exit_code == EXIT_INFEASIBLE:
        err.print(f"{file}: infeasible: {sol.message}", markup=False)
        if diagnosis is not None:
            print_diagnosis(diagnosis, err)
    elif sol.status.exit_code == EXIT_TIMEOUT:
        err.print(f"{file}: no plan within the time limit", markup=False)
    raise typer.Exit(sol.status.exit_code)


def solve_alternatives(file: Path, instance, options: SolveOptions, k: int, within: str | None,
                       json_out: str | None) -> int:
    """``solve --alternatives K [--within D]``: the best plan as usual, then the K best plans."""
    alts = run_or_exit(file, lambda: find_alternatives(instance, k, within, options))
    sol = alts.best
    if json_out is not None:
        write_output(json_out, json.dumps({**sol.to_dict(), **alts.to_dict()}, indent=2))
    if json_out != "-":
        print_solution(sol, out)
        print_alternatives(alts, out)
    if not sol.status.has_plan:
        err.print(f"{file}: {sol.status.value}: {sol.message}", markup=False)
    return sol.status.exit_code


@app.command()
def diagnose(
    file: FileArg,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.001, help="Seconds for the whole run.")] = None,
    json_out: JsonOpt = None,
) -> None:
    """Say why an instance has no plan: smallest repairs of its limits and a minimal set of conflicting rules."""
    instance = load_or_exit(file)
    try:
        d = diagnose_instance(instance, SolveOptions(time_limit=time_limit))
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    if json_out is not None:
        write_output(json_out, d.to_json())
    if json_out != "-":
        print_diagnosis(d, out)
    raise typer.Exit(EXIT_OK if d.feasible else EXIT_INFEASIBLE if d.feasible is False else EXIT_TIMEOUT)


@app.command()
def explain(
    file: FileArg,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.001, help="Seconds for the whole run.")] = None,
    json_out: JsonOpt = None,
) -> None:
    """Explain the optimal plan: runner-up and regret per function, break-even cost per offer, binding limits."""
    instance = load_or_exit(file)
    try:
        ex = explain_instance(instance, SolveOptions(time_limit=time_limit))
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    code = ex.solution.status.exit_code
    if code == EXIT_INFEASIBLE:
        err.print(f"{file}: infeasible: no plan to explain; `outopt diagnose {file}` says why", markup=False)
        raise typer.Exit(code)
    if code == EXIT_TIMEOUT:
        err.print(f"{file}: no plan within the time limit", markup=False)
        raise typer.Exit(code)
    if json_out is not None:
        write_output(json_out, ex.to_json())
    if json_out != "-":
        print_explanation(ex, out)
    raise typer.Exit(code)


@app.command()
def validate(file: FileArg) -> None:
    """Check an instance file and report every problem; solve nothing."""
    inst = load_or_exit(file)
    out.print(
        f"{file}: valid ({len(inst.functions)} functions, {len(inst.vendors)} vendors, {len(inst.offers)} offers)",
        markup=False,
    )


PlotOpt = Annotated[Optional[Path], typer.Option("--plot", help="Write a chart here (.png or .svg).")]


@app.command()
def compare(
    file: FileArg,
    scenarios: Annotated[Path, typer.Option("--scenarios", help="Scenario file (YAML or JSON).", show_default=False)],
    json_out: JsonOpt = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.001, help="Seconds per solve.")] = None,
) -> None:
    """Solve the base and each scenario; one table of status, net benefit, cost, vendors and changes."""
    from outopt.analysis.scenarios import compare as compare_scenarios, comparison_to_dict, load_scenarios

    instance = load_or_exit(file)
    table = run_or_exit(scenarios, lambda: compare_scenarios(instance, load_scenarios(scenarios),
                                                             SolveOptions(time_limit=time_limit)))
    if json_out is not None:
        write_output(json_out, json.dumps(comparison_to_dict(table), indent=2))
    if json_out != "-":
        print_comparison(table, instance.currency, out)


@app.command()
def frontier(
    file: FileArg,
    param: Annotated[str, typer.Option("--param", help="The limit to move: budget.operating, budget.transition, "
                                       "resources.<id>.capacity, vendors.<id>.capacity, vendors.<id>.max_share, "
                                       "rules.max_vendors.", show_default=False)],
    lower: Annotated[float, typer.Option("--from", help="Bottom of the range.", show_default=False)],
    upper: Annotated[float, typer.Option("--to", help="Top of the range.", show_default=False)],
    steps: Annotated[int, typer.Option("--steps", help="Grid points solved besides the breakpoint search.")] = 11,
    tol: Annotated[Optional[float], typer.Option("--tol", help="Breakpoints are found to this tolerance "
                                                 "(default 1e-5 of the range; 1 for whole numbers).")] = None,
    plot: PlotOpt = None,
    csv_out: Annotated[Optional[Path], typer.Option("--csv", help="Write the points as CSV here.")] = None,
    json_out: JsonOpt = None,
) -> None:
    """Best net benefit across a range of one limit: every breakpoint, what changes there, a chart."""
    from outopt.analysis.frontier import frontier as sweep_frontier

    instance = load_or_exit(file)
    result = run_or_exit(file, lambda: sweep_frontier(instance, param, lower, upper, steps=steps, tol=tol))
    write_outputs(result, json_out, plot)
    if csv_out is not None:
        atomic_write_text(csv_out, result.to_csv())
    if json_out != "-":
        print_frontier(result, out)
    if all(p.objective is None for p in result.points):
        err.print(f"{file}: no plan anywhere in the range", markup=False)
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command()
def pareto(
    file: FileArg,
    points: Annotated[int, typer.Option("--points", min=2, help="Risk limits solved evenly across the range, besides the search.")] = 11,
    tol: Annotated[float, typer.Option("--tol", help="Risks closer than this count as one.")] = 1e-4,
    plot: PlotOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Net benefit against risk: every efficient plan, by the epsilon-constraint method."""
    from outopt.analysis.pareto import pareto as trace_pareto

    instance = load_or_exit(file)
    result = run_or_exit(file, lambda: trace_pareto(instance, points=points, tol=tol))
    write_outputs(result, json_out, plot)
    if json_out != "-":
        print_pareto(result, instance.currency, out)
    if not result.plans:
        err.print(f"{file}: infeasible: no plan satisfies every rule", markup=False)
        raise typer.Exit(EXIT_INFEASIBLE)


def main() -> None:  # pragma: no cover - console entry point
    app()
