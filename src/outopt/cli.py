"""The ``outopt`` command: a thin layer over the Python API.

Exit codes: 0 a plan was found, 2 invalid input or usage, 3 infeasible,
4 no plan within the time limit, 1 an internal or solver error.
"""

from __future__ import annotations

import contextlib
import json
import os
import sys
import threading
import time
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console
from rich.text import Text
from typer.core import TyperGroup
from typer.exceptions import TyperException

from outopt.analysis.alternatives import alternatives as find_alternatives
from outopt.analysis.diagnose import diagnose as diagnose_instance
from outopt.analysis.diagnose import diagnose_infeasible
from outopt.analysis.explain import explain as explain_instance
from outopt.batch import run_batch
from outopt.errors import SHOWN_PROBLEMS, InputError, OutoptError, more_problems
from outopt.instance.company import Company, load_any
from outopt.instance.io import load, save
from outopt.instance.io.atomic import atomic_write_text
from outopt.instance.io.text import json_schema
from outopt.report.terminal import (
    BatchProgress,
    print_alternatives,
    print_batch_summary,
    print_company_solution,
    print_comparison,
    print_diagnosis,
    print_explanation,
    print_frontier,
    print_pareto,
    print_solution,
    say,
)
from outopt.report.text import terminal_text
from outopt.solver import WORKER_THREAD, SolveOptions
from outopt.solver import solve as solve_instance
from outopt.solver.company import DEFAULT_METHOD, METHODS, solve_company

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
            err.print(error_line("interrupted"))
            raise typer.Exit(EXIT_INTERRUPTED) from None
        except Exception as e:  # noqa: BLE001 - the last line of defence
            detail = str(e).strip().splitlines()[0] if str(e).strip() else ""
            err.print(error_line(f"internal error ({type(e).__name__}{': ' + detail if detail else ''}); "
                                 "please report it with the input file"))
            raise typer.Exit(EXIT_ERROR) from None


app = typer.Typer(
    name="outopt",
    help="Decide which business functions to keep in-house and which to give to vendors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=GuardedGroup,
)


def error_line(message: str) -> Text:
    """``error: MESSAGE``, the message printed as text (it often quotes user text)."""
    return Text.assemble(("error:", "red"), " ", terminal_text(message, newlines=True))


def fail(message: str, code: int) -> typer.Exit:
    err.print(error_line(message))
    return typer.Exit(code)


def load_or_exit(path: Path, company: bool = False):
    try:
        return load_any(path) if company else load(path)
    except InputError as e:
        raise invalid(e, path)


def invalid(e: InputError, path) -> typer.Exit:
    """Print every problem of an input (file, scenario or option) and return the exit for invalid input."""
    n = len(e.problems)
    err.print(error_line(f"{e.source or path}: {n:,} problem{'s' if n > 1 else ''} found"))
    for p in e.problems[:SHOWN_PROBLEMS]:
        say(err, f"  {e.source or path}: {p}")
    if n > SHOWN_PROBLEMS:
        say(err, f"  {more_problems(n - SHOWN_PROBLEMS)}")
    return typer.Exit(EXIT_INVALID)


def write_output(target: str | Path, text: str) -> None:
    """'-' writes to stdout (and nothing else goes there); a path is written atomically."""
    if str(target) == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        with writing(target):
            atomic_write_text(target, text if text.endswith("\n") else text + "\n")


@contextlib.contextmanager
def writing(target) -> Iterator[None]:
    """An output that cannot be written (a missing folder, a full disk, no permission) is the user's
    environment, not a bug: ``error: cannot write TARGET: REASON``, exit 2."""
    try:
        yield
    except OSError as e:
        raise fail(f"cannot write {target}: {e.strerror or e}", EXIT_INVALID) from None


def input_files(path: Path, loaded) -> list[tuple[Path, str]]:
    """The files (or CSV folder) a command reads, with how to call each: the input, and a company's divisions."""
    files = [(path, "the input file")]
    if isinstance(loaded, Company):
        files += [(path.parent / d.path, "an input file (a division of the company)") for d in loaded.divisions if d.path]
    return files


def refuse_over_inputs(inputs: list[tuple[Path, str]], targets: dict[str, str | Path | None]) -> None:
    """Exit 2 when an output would replace an input, or land inside a CSV folder being read (the next
    read of that folder would fail). ``targets``: option (``--json``; "" for an argument) -> path
    (None or '-' for none)."""
    for option, target in targets.items():
        if target is None or str(target) == "-":
            continue
        flag = f"{option} {target}".strip()
        out_path = Path(target).resolve()
        for source, what in inputs:
            src = source.resolve()
            if src.is_dir() and (out_path == src or src in out_path.parents):
                raise fail(f"{flag} is inside the input folder {source}; write the results somewhere else",
                           EXIT_INVALID)
            if out_path == src or (out_path.exists() and src.exists() and os.path.samefile(out_path, src)):
                raise fail(f"{flag} is {what}; write the results somewhere else", EXIT_INVALID)


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
        with writing(plot):
            run_or_exit(plot, lambda: result.plot(plot))
    if json_out is not None:
        write_output(json_out, result.to_json())


FileArg = Annotated[Path, typer.Argument(help="Instance: .yaml, .yml, .json, .xlsx or a folder of CSV files.",
                                         show_default=False)]
TimeLimitOpt = Annotated[Optional[float], typer.Option("--time-limit", min=0.001, help="Seconds for the whole run.")]
JsonOpt = Annotated[Optional[str], typer.Option("--json", help="Write JSON to this path ('-' for stdout).")]
OutOpt = Annotated[Optional[Path], typer.Option(
    "--out", help="Also write the results: .xlsx workbook, .csv decisions, .json or .html report.")]


@app.command()
def solve(
    file: FileArg,
    time_limit: TimeLimitOpt = None,
    gap: Annotated[float, typer.Option("--gap", min=0.0, max=0.999, help="Relative optimality gap; 0 proves optimality.")] = 0.0,
    threads: Annotated[Optional[int], typer.Option("--threads", min=1, help="Solver threads.")] = None,
    seed: Annotated[int, typer.Option("--seed", help="Random seed of the solver.")] = 0,
    json_out: JsonOpt = None,
    verbose: Annotated[bool, typer.Option("--verbose", help="Show the solver log on stderr.")] = False,
    alternatives: Annotated[Optional[int], typer.Option("--alternatives", min=1, help="Up to K distinct plans, best first (10 with --within alone).")] = None,
    within: Annotated[Optional[str], typer.Option("--within", help="With --alternatives: only plans within this distance of the optimum, e.g. 2%.")] = None,
    out_file: OutOpt = None,
    method: Annotated[str, typer.Option("--method", help="Company files: 'joint' (one MIP) or 'decompose' "
                                        "(Lagrangian).")] = DEFAULT_METHOD,
) -> None:
    """Solve an instance or a company file: print the plan, totals, status and time."""
    started = time.perf_counter()  # the time limit counts reading the file too
    instance = load_or_exit(file, company=True)
    refuse_over_inputs(input_files(file, instance), {"--json": json_out, "--out": out_file})
    if method not in METHODS:
        raise fail(f"--method must be one of {', '.join(METHODS)}", EXIT_INVALID)
    options = SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed, verbose=verbose)
    if alternatives is not None or within is not None:
        if isinstance(instance, Company):
            raise fail("--alternatives is for instance files, not company files", EXIT_INVALID)
        refuse_roadmap(file, instance, "solve --alternatives")
        raise typer.Exit(solve_alternatives(file, instance, options, alternatives or 10, within, json_out, out_file))
    if out_file is not None and isinstance(instance, Company):
        raise fail("--out is for instance files; use --json for the results of a company file", EXIT_INVALID)
    try:
        if isinstance(instance, Company):
            sol = solve_company(instance, method=method, options=options)
        else:
            sol = solve_instance(instance, options=replace(options, started=started))
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    diagnosis = None
    if sol.status.exit_code == EXIT_INFEASIBLE and not isinstance(instance, Company) and not is_roadmap(instance):
        try:
            left = None if time_limit is None else max(0.05, time_limit - sol.total_time)
            diagnosis = diagnose_infeasible(instance, SolveOptions(time_limit=left, threads=threads, seed=seed))
        except OutoptError as e:
            say(err, f"{file}: the diagnosis failed: {e}")
    if json_out is not None:
        text = sol.to_json()
        if diagnosis is not None:
            text = json.dumps({**json.loads(text), "diagnosis": diagnosis.to_dict()}, indent=2)
        write_output(json_out, text)
    if out_file is not None:
        write_results_or_exit(sol, out_file)
    if json_out != "-":
        printer(instance)(sol, out)
    if sol.status.exit_code == EXIT_INFEASIBLE:
        say(err, f"{file}: infeasible: {sol.message}")
        if diagnosis is not None:
            print_diagnosis(diagnosis, err)
    elif sol.status.exit_code == EXIT_TIMEOUT:
        say(err, f"{file}: no plan within the time limit")
    if any(t.name == WORKER_THREAD and t.is_alive() for t in threading.enumerate()):
        # a solve abandoned at the time limit is still unwinding: do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(sol.status.exit_code)
    raise typer.Exit(sol.status.exit_code)


def solve_alternatives(file: Path, instance, options: SolveOptions, k: int, within: str | None,
                       json_out: str | None, out_file: Path | None = None) -> int:
    """``solve --alternatives K [--within D]``: the best plan as usual, then the K best plans."""
    alts = run_or_exit(file, lambda: find_alternatives(instance, k, within, options))
    sol = alts.best
    if json_out is not None:
        write_output(json_out, json.dumps({**sol.to_dict(), **alts.to_dict()}, indent=2))
    if out_file is not None:  # the best plan's results
        write_results_or_exit(sol, out_file)
    if json_out != "-":
        print_solution(sol, out)
        print_alternatives(alts, out)
    if not sol.status.has_plan:
        say(err, f"{file}: {sol.status.value}: {sol.message}")
    return sol.status.exit_code


@app.command()
def diagnose(
    file: FileArg,
    time_limit: TimeLimitOpt = None,
    json_out: JsonOpt = None,
) -> None:
    """Say why an instance has no plan: smallest repairs of its limits and a minimal set of conflicting rules."""
    instance = load_or_exit(file)
    refuse_over_inputs(input_files(file, instance), {"--json": json_out})
    refuse_roadmap(file, instance, "diagnose")
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
    time_limit: TimeLimitOpt = None,
    threads: Annotated[Optional[int], typer.Option(
        "--threads", min=1, help="Threads: re-solves run this many at once, one HiGHS thread each (default: the CPU count).")] = None,
    json_out: JsonOpt = None,
    out_file: OutOpt = None,
) -> None:
    """Explain the optimal plan: runner-up and regret per function, break-even cost per offer, binding limits."""
    instance = load_or_exit(file)
    refuse_over_inputs(input_files(file, instance), {"--json": json_out, "--out": out_file})
    if is_roadmap(instance):
        raise typer.Exit(explain_roadmap_command(file, instance, SolveOptions(time_limit=time_limit, threads=threads),
                                                 json_out, out_file))
    try:
        ex = explain_instance(instance, SolveOptions(time_limit=time_limit, threads=threads))
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    code = ex.solution.status.exit_code
    if code == EXIT_INFEASIBLE:
        say(err, f"{file}: infeasible: no plan to explain; `outopt diagnose {file}` says why")
        raise typer.Exit(code)
    if code == EXIT_TIMEOUT:
        say(err, f"{file}: no plan within the time limit")
        raise typer.Exit(code)
    if json_out is not None:
        write_output(json_out, ex.to_json())
    if out_file is not None:
        write_results_or_exit(ex.solution, out_file, explanation=ex)
    if json_out != "-":
        print_explanation(ex, out)
    raise typer.Exit(code)


@app.command()
def validate(file: FileArg) -> None:
    """Check an instance or company file and report every problem; solve nothing."""
    inst = load_or_exit(file, company=True)
    if isinstance(inst, Company):
        n = sum(len(d.instance.functions) for d in inst.divisions)
        say(out, f"{file}: valid company ({len(inst.divisions)} divisions, {n} functions)")
        return
    say(out, f"{file}: valid ({len(inst.functions)} functions, {len(inst.vendors)} vendors, {len(inst.offers)} offers)")


def write_results_or_exit(sol, path: Path, **analyses) -> None:
    from outopt.report.files import write_results

    try:
        with writing(path):
            write_results(sol, path, **analyses)
    except InputError as e:
        raise fail(str(e), EXIT_INVALID)


@app.command()
def convert(
    source: Annotated[Path, typer.Argument(help="Instance to read (.yaml, .yml, .json, .xlsx or a CSV folder).")],
    target: Annotated[Path, typer.Argument(help="Where to write it; format by extension, a folder for CSV files.")],
) -> None:
    """Convert an instance between YAML, JSON, Excel and a folder of CSV files, losslessly."""
    instance = load_or_exit(source)
    refuse_over_inputs(input_files(source, instance), {"": target})
    try:
        with writing(target):
            save(instance, target)
    except InputError as e:
        raise fail(str(e), EXIT_INVALID)
    say(out, f"{source} -> {target}")


@app.command()
def template(
    file: Annotated[Path, typer.Argument(help="Workbook to write (.xlsx).")],
    force: Annotated[bool, typer.Option("--force", help="Replace an existing file.")] = False,
) -> None:
    """Write an empty instance workbook: headers, a note per column, data validation."""
    from outopt.instance.io.excel import write_template

    if file.suffix.lower() != ".xlsx":
        raise fail(f"{file}: the template is an Excel workbook; name it *.xlsx", EXIT_INVALID)
    if file.exists() and not force:
        raise fail(f"{file} exists; use --force to replace it with an empty template", EXIT_INVALID)
    with writing(file):
        write_template(file)
    say(out, f"{file}: template written")


@app.command()
def schema() -> None:
    """Print the JSON Schema of the instance format (for editors validating YAML and JSON)."""
    write_output("-", json_schema())


@app.command()
def batch(
    paths: Annotated[list[Path], typer.Argument(help="Instance or company files, or folders to search.", show_default=False)],
    out_dir: Annotated[Optional[Path], typer.Option("--out", help="Folder for one result per input and summary.csv.")] = None,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Local worker processes (default: cores).")] = None,
    scheduler: Annotated[Optional[str], typer.Option("--scheduler", help="An existing Dask cluster, tcp://HOST:PORT.")] = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.001, help="Seconds per input.")] = None,
    force: Annotated[bool, typer.Option("--force", help="Solve again inputs whose result exists for the same content.")] = False,
) -> None:
    """Solve many files on local worker processes or a Dask cluster; exit 0 when every input has a plan."""
    if scheduler is not None and not scheduler.startswith(("tcp://", "dask://")):
        raise fail("--scheduler must look like tcp://HOST:PORT", EXIT_INVALID)
    if out_dir is not None and out_dir.exists() and not out_dir.is_dir():
        raise fail(f"--out {out_dir} is a file, not a folder", EXIT_INVALID)
    progress = BatchProgress(err)
    with progress:
        run = run_batch(paths, out=out_dir, executor=scheduler, workers=workers, time_limit=time_limit,
                        force=force, on_start=progress.start, on_result=progress.advance)
    report_ignored(run, out_dir)
    if run.results and run.inputs:
        print_batch_summary(run, out)
    if run.error:
        raise fail(run.error, EXIT_ERROR)
    if out_dir is not None and not run.summary_error:
        say(err, f"results and summary.csv in {out_dir}")
    if run.summary_error:
        raise fail(run.summary_error, EXIT_ERROR)
    if run.interrupted:
        say(err, "interrupted: finished results are kept")
        raise typer.Exit(EXIT_INTERRUPTED)
    if not run.inputs:
        raise fail("no input to run: " + (f"nothing in {', '.join(map(str, paths))} is a .yaml, .yml or .json file"
                                         if not run.total and not run.in_out else "every file found was ignored"),
                   EXIT_INVALID)
    raise typer.Exit(EXIT_ERROR if run.failed else EXIT_OK)


def report_ignored(run, out_dir: Path | None) -> None:
    """Say which files a batch found but did not run, and why (at most SHOWN_PROBLEMS of them, then a count)."""
    if run.in_out:
        say(err, f"ignored {run.in_out:,} file{'s' if run.in_out != 1 else ''} inside the --out folder {out_dir} "
                 "(results are written there, not read)")
    for r in run.ignored[:SHOWN_PROBLEMS]:
        say(err, f"ignored {r.input}: {r.reason}")
    if len(run.ignored) > SHOWN_PROBLEMS:
        say(err, f"{more_problems(len(run.ignored) - SHOWN_PROBLEMS).replace('problem', 'file')} ignored")


PlotOpt = Annotated[Optional[Path], typer.Option("--plot", help="Write a chart here (.png or .svg).")]


@app.command()
def compare(
    file: FileArg,
    scenarios: Annotated[Path, typer.Option("--scenarios", help="Scenario file (YAML or JSON).", show_default=False)],
    json_out: JsonOpt = None,
    time_limit: Annotated[Optional[float], typer.Option("--time-limit", min=0.001, help="Seconds per solve.")] = None,
) -> None:
    """Solve the base and each scenario; one table of status, net benefit, cost, vendors and changes."""
    from outopt.analysis.scenarios import compare as compare_scenarios
    from outopt.analysis.scenarios import comparison_to_dict, load_scenarios

    instance = load_or_exit(file)
    refuse_over_inputs(input_files(file, instance) + [(scenarios, "the scenario file")], {"--json": json_out})
    refuse_roadmap(file, instance, "compare")
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
    out_file: Annotated[Optional[Path], typer.Option(
        "--out", help="Also write the plan at the instance's own limits with this frontier: .html report or .xlsx.")] = None,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Best net benefit across a range of one limit: every breakpoint, what changes there, a chart."""
    from outopt.analysis.frontier import frontier as sweep_frontier

    instance = load_or_exit(file)
    if is_roadmap(instance):  # a roadmap's limits: a year's budget, every year's, the team's capacity
        from outopt.analysis.roadmap import roadmap_frontier as sweep_frontier
    refuse_over_inputs(input_files(file, instance), {"--json": json_out, "--csv": csv_out, "--plot": plot,
                                                     "--out": out_file})
    result = run_or_exit(file, lambda: sweep_frontier(instance, param, lower, upper, steps=steps, tol=tol,
                                                      options=SolveOptions(time_limit=time_limit)))
    write_outputs(result, json_out, plot)
    if csv_out is not None:
        write_output(csv_out, result.to_csv())
    if out_file is not None:
        base = run_or_exit(file, lambda: solve_instance(instance))
        write_results_or_exit(base, out_file, frontier=result)
    if json_out != "-":
        print_frontier(result, out)
    if all(p.objective is None for p in result.points):
        if not result.exact:
            say(err, f"{file}: no plan within the time limit")
            raise typer.Exit(EXIT_TIMEOUT)
        say(err, f"{file}: no plan anywhere in the range")
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command()
def pareto(
    file: FileArg,
    points: Annotated[int, typer.Option("--points", min=2, help="Risk limits solved evenly across the range, besides the search.")] = 11,
    tol: Annotated[float, typer.Option("--tol", help="Risks closer than this count as one.")] = 1e-4,
    plot: PlotOpt = None,
    json_out: JsonOpt = None,
    time_limit: TimeLimitOpt = None,
) -> None:
    """Net benefit against risk: every efficient plan, by the epsilon-constraint method."""
    from outopt.analysis.pareto import pareto as trace_pareto

    instance = load_or_exit(file)
    refuse_over_inputs(input_files(file, instance), {"--json": json_out, "--plot": plot})
    refuse_roadmap(file, instance, "pareto")
    result = run_or_exit(file, lambda: trace_pareto(instance, points=points, tol=tol,
                                                    options=SolveOptions(time_limit=time_limit)))
    write_outputs(result, json_out, plot)
    if json_out != "-":
        print_pareto(result, instance.currency, out)
    if not result.plans and not result.sweep.exact:
        say(err, f"{file}: no plan within the time limit")
        raise typer.Exit(EXIT_TIMEOUT)
    if not result.plans:
        say(err, f"{file}: infeasible: no plan satisfies every rule")
        raise typer.Exit(EXIT_INFEASIBLE)


@app.command()
def generate(
    file: Annotated[Path, typer.Argument(help="Instance file to write (.yaml, .yml or .json).", show_default=False)],
    size: Annotated[str, typer.Option("--size", help="FUNCTIONSxVENDORS, e.g. 2000x50.")] = "50x5",
    profile: Annotated[str, typer.Option("--profile", help="easy (limits loose) or hard (every limit binds).")] = "easy",
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same instance.")] = 0,
    rules: Annotated[bool, typer.Option("--rules", help="Add core functions, a status quo and rules.")] = False,
) -> None:
    """Write a seeded synthetic instance (for benchmarks and tests)."""
    from outopt.instance.generate import generate as make
    try:
        n, m = (int(x) for x in size.lower().split("x"))
        instance = make(n, m, profile=profile, seed=seed, rules=rules)
    except ValueError as e:
        msg = str(e) if "profile" in str(e) or "at least" in str(e) else f"--size must look like 2000x50, got {size!r}"
        raise fail(msg, EXIT_INVALID)
    try:
        with writing(file):
            save(instance, file)
    except InputError as e:
        raise fail(f"{file}: {e.problems[0].message}", EXIT_INVALID)
    say(out, f"{file}: {n} functions, {m} vendors, {len(instance.offers)} offers ({profile}, seed {seed})")


# --- roadmaps (issue 16) ---------------------------------------------------------------------------


def is_roadmap(instance) -> bool:
    """An instance with a `roadmap` section: a multi-year plan (README, The transition roadmap)."""
    return getattr(instance, "roadmap", None) is not None


def printer(instance):
    """How `solve` prints the result of this input: a company's plans, a roadmap, or one plan."""
    if isinstance(instance, Company):
        return print_company_solution
    if is_roadmap(instance):
        from outopt.report.roadmap import print_roadmap

        return print_roadmap
    return print_solution


def refuse_roadmap(file: Path, instance, command: str) -> None:
    """Commands that do not plan roadmaps say so (exit 2) rather than answer for one steady state."""
    if is_roadmap(instance):
        raise fail(f"{file}: `outopt {command}` does not plan roadmaps; it would answer for one steady state. "
                   "Use `outopt solve`, `explain` or `frontier`, or remove the `roadmap` section", EXIT_INVALID)


def explain_roadmap_command(file: Path, instance, options: SolveOptions, json_out: str | None,
                            out_file: Path | None) -> int:
    """``outopt explain`` of a roadmap: why each change happens in its year; returns the exit code."""
    from outopt.analysis.roadmap import explain_roadmap
    from outopt.report.roadmap import print_roadmap_explanation

    ex = run_or_exit(file, lambda: explain_roadmap(instance, options=options))
    code = ex.solution.status.exit_code
    if not ex.solution.status.has_plan:
        say(err, f"{file}: {ex.solution.status.value}: no roadmap to explain" + (
            "" if code != EXIT_INFEASIBLE else "; no roadmap satisfies every rule"))
        return code
    if json_out is not None:
        write_output(json_out, ex.to_json())
    if out_file is not None:
        write_results_or_exit(ex.solution, out_file, explanation=ex)
    if json_out != "-":
        print_roadmap_explanation(ex, out)
    return code


def main() -> None:  # pragma: no cover - console entry point
    app()
