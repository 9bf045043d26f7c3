"""The ``outopt`` command: a thin layer over the Python API.

Exit codes: 0 a plan was found, 2 invalid input or usage, 3 infeasible,
4 no plan within the time limit, 1 an internal or solver error.

Each command imports what it needs when it runs (reading brings pydantic, solving Pyomo and HiGHS,
reports pandas and matplotlib): ``outopt --help`` and ``--version`` load none of them.
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

from outopt.errors import SHOWN_PROBLEMS, InputError, OutoptError, more_problems
from outopt.report.live import CTRL_C_SOLVE, CTRL_C_STOP, CTRL_C_SWEEP, LiveLine
from outopt.report.text import say, terminal_text
from outopt.solver.interrupts import WORKER_THREAD
from outopt.solver.options import (
    DEFAULT_METHOD,
    METHODS,
    SolveOptions,
    default_time_limit,
)

EXIT_OK, EXIT_ERROR, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_TIMEOUT = 0, 1, 2, 3, 4
EXIT_INTERRUPTED = 130  # Ctrl-C outside the solver (the shell's convention: 128 + SIGINT)

def piped_width(environ=os.environ) -> int | None:
    """The width of tables written to a pipe or file: ``COLUMNS`` when set (rich reads it on a terminal
    only), else 120; None on a terminal (its own width)."""
    if sys.stdout.isatty():
        return None
    try:
        return max(40, int(environ.get("COLUMNS", "")))
    except ValueError:
        return 120


out = Console(highlight=False, soft_wrap=True, width=piped_width())
err = Console(stderr=True, highlight=False, soft_wrap=True)


LIVE: list[LiveLine] = []
"""The live line of the running command (see :func:`live_line`)."""


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
        finally:  # the live line ends with the command, however it ends
            while LIVE:
                LIVE.pop().stop()


app = typer.Typer(
    name="outopt",
    help="Decide which business functions to keep in-house and which to give to vendors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
    cls=GuardedGroup,
)


def show_version(value: bool) -> None:
    if value:
        from importlib.metadata import PackageNotFoundError, version

        try:
            typer.echo(f"outopt {version('outopt')}")
        except PackageNotFoundError:  # a source tree that was never installed
            typer.echo("outopt (version unknown: not installed; pip install -e .)")
        raise typer.Exit()


@app.callback()
def every_command(
    version: Annotated[bool, typer.Option("--version", callback=show_version, is_eager=True,
                                          help="Print outopt's version and exit.")] = False,
) -> None:
    """Decide which business functions to keep in-house and which to give to vendors."""


def error_line(message: str) -> Text:
    """``error: MESSAGE``, the message printed as text (it often quotes user text)."""
    return Text.assemble(("error:", "red"), " ", terminal_text(message, newlines=True))


def fail(message: str, code: int) -> typer.Exit:
    err.print(error_line(message))
    return typer.Exit(code)


def load_or_exit(path: Path, company: bool = False):
    from outopt.instance.company import load_any
    from outopt.instance.io import load

    try:
        return load_any(path) if company else load(path)
    except InputError as e:
        raise invalid(e, path)


def time_limit_or_default(given: float | None) -> float | None:
    """``--time-limit`` when given, else the default set once (``OUTOPT_TIME_LIMIT`` or the config file)."""
    if given is not None:
        return given
    try:
        return default_time_limit()
    except InputError as e:
        raise invalid(e, e.source)


def live_line(command: str, ctrl_c: str, json_out: str | None = None, verbose: bool = False) -> LiveLine:
    """The live line of a long command on stderr (never with ``--json -`` or ``--verbose``; only on a
    terminal), started now and erased when the command ends or at ``live.stop()``, before its output."""
    live = LiveLine(err, command, ctrl_c, show=json_out != "-" and not verbose).start()
    LIVE.append(live)
    return live


def is_company(loaded) -> bool:
    from outopt.instance.company import Company

    return isinstance(loaded, Company)


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
    from outopt.instance.io.atomic import atomic_write_text

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
    if is_company(loaded):
        base = path if path.is_dir() else path.parent  # division paths are relative to the file, or the CSV folder
        files += [(base / d.path, "an input file (a division of the company)") for d in loaded.divisions if d.path]
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


FileArg = Annotated[Path, typer.Argument(help="Instance or company: .yaml, .yml, .json, .xlsx or a folder of CSV files.",
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
    robust: RobustOpt = None,
    samples: SamplesOpt = None,
    samples_file: SamplesFileOpt = None,
) -> None:
    """Solve an instance or a company file: print the plan, totals, status and time."""
    from outopt.analysis.diagnose import diagnose_infeasible
    from outopt.instance.company import Company
    from outopt.report.terminal import print_diagnosis
    from outopt.solver.company import solve_company
    from outopt.solver.entry import solve as solve_instance

    started = time.perf_counter()  # the time limit counts reading the file too
    time_limit = time_limit_or_default(time_limit)
    live = live_line("solve", CTRL_C_SOLVE, json_out, verbose)
    live.phase(f"reading {file}")
    instance = load_or_exit(file, company=True)
    live.currency = instance.currency
    refuse_over_inputs(input_files(file, instance), {"--json": json_out, "--out": out_file})
    if method not in METHODS:
        raise fail(f"--method must be one of {', '.join(METHODS)}", EXIT_INVALID)
    options = SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed, verbose=verbose,
                           progress=live.update)
    if robust is not None or samples is not None or samples_file is not None:
        raise typer.Exit(solve_robust_command(file, instance, robust, samples, samples_file, options, json_out,
                                              out_file, alternatives is not None or within is not None))
    if alternatives is not None or within is not None:
        refuse_roadmap(file, instance, "solve --alternatives")
        raise typer.Exit(solve_alternatives(file, instance, options, alternatives or 10, within, json_out, out_file,
                                            live))
    try:
        if isinstance(instance, Company):
            sol = solve_company(instance, method=method, options=options)
        else:
            sol = solve_instance(instance, options=replace(options, started=started))
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    diagnosis = None
    if sol.status.exit_code == EXIT_INFEASIBLE and not is_roadmap(instance):
        live.phase("diagnosing: why no plan")
        try:
            left = None if time_limit is None else max(0.05, time_limit - sol.total_time)
            diagnosis = diagnose_infeasible(instance, SolveOptions(time_limit=left, threads=threads, seed=seed))
        except OutoptError as e:
            say(err, f"{file}: the diagnosis failed: {e}")
    live.stop()
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


RobustOpt = Annotated[Optional[str], typer.Option(
    "--robust", help="Best plan over scenarios of the instance's ranges: mean, cvar:ALPHA or mean-cvar:ALPHA:LAMBDA.")]
SamplesOpt = Annotated[Optional[int], typer.Option("--samples", min=1, help="Scenarios drawn from the ranges.")]
SamplesFileOpt = Annotated[Optional[Path], typer.Option(
    "--samples-file", help="Scenarios as CSV: one column per amount (offers[3].cost, ...), one row per scenario.")]


def scenarios_or_exit(instance, samples: int | None, samples_file: Path | None, default: int):
    """The scenarios the options ask for: drawn (--samples, default ``default``) or read (--samples-file)."""
    if samples is not None and samples_file is not None:
        raise fail("give --samples or --samples-file, not both", EXIT_INVALID)
    if samples_file is None:
        return samples if samples is not None else default
    from outopt.uncertainty.samples import read_samples

    return run_or_exit(samples_file, lambda: read_samples(samples_file, instance))


def solve_robust_command(file: Path, instance, robust: str | None, samples: int | None, samples_file: Path | None,
                         options: SolveOptions, json_out: str | None, out_file: Path | None, alternatives: bool) -> int:
    """``solve --robust M [--samples N | --samples-file S.csv]``: the plan with the best measure over scenarios."""
    from outopt.instance.io.atomic import atomic_write_text
    from outopt.report.terminal import print_solution
    from outopt.report.uncertainty import print_robust, robust_page
    from outopt.uncertainty.assess import solve_robust

    if robust is None:
        raise fail("--samples and --samples-file go with --robust (the measure to maximise over the scenarios)",
                   EXIT_INVALID)
    if is_company(instance):
        raise fail("--robust is for instance files, not company files", EXIT_INVALID)
    refuse_roadmap(file, instance, "solve --robust")
    if alternatives:
        raise fail("--robust and --alternatives do not go together", EXIT_INVALID)
    if samples_file is not None:
        refuse_over_inputs([(samples_file, "the samples file")], {"--json": json_out, "--out": out_file})
    chosen = scenarios_or_exit(instance, samples, samples_file, 200)
    sol = run_or_exit(file, lambda: solve_robust(instance, robust, chosen, seed=options.seed, options=options))
    if json_out is not None:
        write_output(json_out, sol.to_json())
    if out_file is not None:
        if out_file.suffix.lower() in (".html", ".htm"):
            with writing(out_file):
                atomic_write_text(out_file, robust_page(sol))
        else:
            write_results_or_exit(sol, out_file)
    if json_out != "-":
        print_solution(sol, out)
        print_robust(sol, out)
    if not sol.status.has_plan:
        say(err, f"{file}: {sol.status.value}: {sol.message}")
    return sol.status.exit_code


def solve_alternatives(file: Path, instance, options: SolveOptions, k: int, within: str | None,
                       json_out: str | None, out_file: Path | None = None, live: LiveLine | None = None) -> int:
    """``solve --alternatives K [--within D]``: the best plan as usual, then the K best plans."""
    from outopt.analysis.alternatives import alternatives as find_alternatives
    from outopt.report.terminal import (
        print_alternatives,
        print_company_solution,
        print_solution,
    )

    alts = run_or_exit(file, lambda: find_alternatives(instance, k, within, options))
    if live is not None:
        live.stop()
    sol = alts.best
    if json_out is not None:
        write_output(json_out, json.dumps({**sol.to_dict(), **alts.to_dict()}, indent=2))
    if out_file is not None:  # the best plan's results
        write_results_or_exit(sol, out_file)
    if json_out != "-":
        (print_company_solution if is_company(instance) else print_solution)(sol, out)
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
    """Say why an instance or company has no plan: smallest repairs of its limits and a minimal set of conflicting rules."""
    from outopt.analysis.diagnose import diagnose as diagnose_instance
    from outopt.report.terminal import print_diagnosis

    time_limit = time_limit_or_default(time_limit)
    live = live_line("diagnose", CTRL_C_STOP, json_out)
    live.phase(f"reading {file}")
    instance = load_or_exit(file, company=True)
    refuse_over_inputs(input_files(file, instance), {"--json": json_out})
    refuse_roadmap(file, instance, "diagnose")
    live.phase("looking for a plan, then for the smallest repairs and a conflict")
    try:
        d = diagnose_instance(instance, SolveOptions(time_limit=time_limit))
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    live.stop()
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
    from outopt.analysis.explain import explain as explain_instance
    from outopt.report.terminal import print_explanation

    time_limit = time_limit_or_default(time_limit)
    live = live_line("explain", CTRL_C_STOP, json_out)
    live.phase(f"reading {file}")
    instance = load_or_exit(file, company=True)
    live.currency = instance.currency
    refuse_over_inputs(input_files(file, instance), {"--json": json_out, "--out": out_file})
    if is_roadmap(instance):
        raise typer.Exit(explain_roadmap_command(file, instance, SolveOptions(time_limit=time_limit, threads=threads),
                                                 json_out, out_file))
    try:
        ex = explain_instance(instance, SolveOptions(time_limit=time_limit, threads=threads), progress=live.update)
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    live.stop()
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
    if is_company(inst):
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
    """Convert an instance or a company between YAML, JSON, Excel and a folder of CSV files, losslessly."""
    from outopt.instance.company import save_any

    instance = load_or_exit(source, company=True)
    refuse_over_inputs(input_files(source, instance), {"": target})
    try:
        with writing(target):
            save_any(instance, target)
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
    from outopt.instance.io.text import json_schema

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
    from outopt.batch import run_batch
    from outopt.report.terminal import BatchProgress, print_batch_summary

    time_limit = time_limit_or_default(time_limit)
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
    from outopt.report.terminal import print_comparison

    time_limit = time_limit_or_default(time_limit)
    live = live_line("compare", CTRL_C_STOP, json_out)
    live.phase(f"reading {file}")
    instance = load_or_exit(file, company=True)
    live.currency = instance.currency
    refuse_over_inputs(input_files(file, instance) + [(scenarios, "the scenario file")], {"--json": json_out})
    refuse_roadmap(file, instance, "compare")
    table = run_or_exit(scenarios, lambda: compare_scenarios(instance, load_scenarios(scenarios),
                                                             SolveOptions(time_limit=time_limit), progress=live.update))
    live.stop()
    if json_out is not None:
        write_output(json_out, json.dumps(comparison_to_dict(table), indent=2))
    if json_out != "-":
        print_comparison(table, instance.currency, out)


@app.command()
def frontier(
    file: FileArg,
    param: Annotated[str, typer.Option("--param", help="The limit to move: budget.operating, budget.transition, "
                                       "resources.<id>.capacity, vendors.<id>.capacity, vendors.<id>.max_share, "
                                       "rules.max_vendors (a company file: its corporate budget.operating, "
                                       "budget.transition, max_vendors, vendors.<id>.capacity, vendors.<id>.max_share).",
                                       show_default=False)],
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
    from outopt.report.terminal import print_frontier
    from outopt.solver.company import solve_company
    from outopt.solver.entry import solve as solve_instance

    time_limit = time_limit_or_default(time_limit)
    live = live_line("frontier", CTRL_C_SWEEP, json_out)
    live.phase(f"reading {file}")
    instance = load_or_exit(file, company=True)
    live.currency = instance.currency
    if is_roadmap(instance):  # a roadmap's limits: a year's budget, every year's, the team's capacity
        from outopt.analysis.roadmap import roadmap_frontier as sweep_frontier
    refuse_over_inputs(input_files(file, instance), {"--json": json_out, "--csv": csv_out, "--plot": plot,
                                                     "--out": out_file})
    result = run_or_exit(file, lambda: sweep_frontier(instance, param, lower, upper, steps=steps, tol=tol,
                                                      options=SolveOptions(time_limit=time_limit),
                                                      progress=live.update))
    if out_file is not None:
        live.phase("solving at the instance's own limits, for the report")
        base = run_or_exit(file, lambda: solve_company(instance) if is_company(instance)
                           else solve_instance(instance))
    live.stop()
    write_outputs(result, json_out, plot)
    if csv_out is not None:
        write_output(csv_out, result.to_csv())
    if out_file is not None:
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
    from outopt.report.terminal import print_pareto

    time_limit = time_limit_or_default(time_limit)
    live = live_line("pareto", CTRL_C_SWEEP, json_out)
    live.phase(f"reading {file}")
    instance = load_or_exit(file, company=True)
    live.currency = instance.currency
    refuse_over_inputs(input_files(file, instance), {"--json": json_out, "--plot": plot})
    refuse_roadmap(file, instance, "pareto")
    result = run_or_exit(file, lambda: trace_pareto(instance, points=points, tol=tol,
                                                    options=SolveOptions(time_limit=time_limit),
                                                    progress=live.update))
    live.stop()
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
def risk(
    file: FileArg,
    samples: Annotated[Optional[int], typer.Option("--samples", min=1, help="Scenarios drawn from the ranges (default 1000).")] = None,
    seed: Annotated[int, typer.Option("--seed", min=0, help="Random seed of the scenarios (and of the solver).")] = 0,
    samples_file: SamplesFileOpt = None,
    plan: Annotated[Optional[list[Path]], typer.Option(
        "--plan", help="Also evaluate this plan: a solve --json file, or JSON {function: provider}. Repeatable.")] = None,
    json_out: JsonOpt = None,
    out_file: Annotated[Optional[Path], typer.Option(
        "--out", help="Also write: .html report (a histogram per plan) or .csv (net benefit per scenario and plan).")] = None,
    time_limit: TimeLimitOpt = None,
) -> None:
    """How sure the plans are: the optimal plan, the status quo and given plans over scenarios of the amounts."""
    from outopt.instance.io.atomic import atomic_write_text
    from outopt.report.uncertainty import print_risk, risk_page
    from outopt.uncertainty.assess import risk as assess_risk

    instance = load_or_exit(file)
    refuse_roadmap(file, instance, "risk")
    plans = plan or []
    extra = [(samples_file, "the samples file")] if samples_file is not None else []
    refuse_over_inputs(input_files(file, instance) + extra + [(p, "a plan file") for p in plans],
                       {"--json": json_out, "--out": out_file})
    if out_file is not None and out_file.suffix.lower() not in (".html", ".htm", ".csv"):
        raise fail(f"--out {out_file}: write a .html report or a .csv table", EXIT_INVALID)
    chosen = scenarios_or_exit(instance, samples, samples_file, 1000)
    given = {}
    for p in plans:  # named by the file's stem, or its path when the stem is taken
        given[p.stem if p.stem not in given and p.stem not in ("optimal", "status_quo") else str(p)] = read_plan_or_exit(p, instance)
    result = run_or_exit(file, lambda: assess_risk(instance, given, chosen, seed=seed,
                                                   options=SolveOptions(time_limit=time_limit, seed=seed)))
    if json_out is not None:
        write_output(json_out, result.to_json())
    if out_file is not None:
        with writing(out_file):
            text = risk_page(result) if out_file.suffix.lower() != ".csv" else result.net_benefit.to_csv(index_label="scenario")
            atomic_write_text(out_file, text)
    if json_out != "-":
        print_risk(result, out)
    sol = result.solution
    if sol is not None and not sol.status.has_plan:
        raise typer.Exit(sol.status.exit_code)


def read_plan_or_exit(path: Path, instance) -> dict:
    """A plan file, checked against the instance (every function with a provider it can have)."""
    from outopt.uncertainty.evaluate import check_plan, read_plan

    try:
        return check_plan(instance, read_plan(path), "")
    except InputError as e:
        raise invalid(e.with_source(str(path)), path)


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
    from outopt.instance.io import save
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


@app.command()
def serve(
    path: Annotated[Optional[Path], typer.Argument(help="An instance file, or a folder of them, to open in the browser.",
                                                   show_default=False)] = None,
    host: Annotated[str, typer.Option("--host", help="Address to listen on; the default is this machine only.")] = "127.0.0.1",
    port: Annotated[int, typer.Option("--port", min=0, max=65535, help="Port to listen on (0: any free port).")] = 8000,
    workers: Annotated[Optional[int], typer.Option("--workers", min=1, help="Solves run at once (default: cores).")] = None,
) -> None:
    """Start the workbench: open, solve, steer and compare plans in the browser, and a JSON API under /api."""
    from outopt.serve.server import is_loopback
    from outopt.serve.server import serve as run_server

    if path is not None and not path.exists():
        raise fail(f"{path}: file or folder not found", EXIT_INVALID)
    if not is_loopback(host):
        say(err, f"warning: listening on {host}: anyone who can reach this machine there can use the workbench "
                 "(it has no login); use --host 127.0.0.1 to keep it to this machine")
    try:
        run_server(path, host, port, workers, announce=lambda url: (
            say(out, f"outopt workbench at {url} (Ctrl-C to stop)"), sys.stdout.flush()))
    except InputError as e:
        raise invalid(e, "environment")
    except OSError as e:
        raise fail(f"cannot listen on {host}:{port}: {e.strerror or e}", EXIT_INVALID)
# --- roadmaps (issue 16) ---------------------------------------------------------------------------


def is_roadmap(instance) -> bool:
    """An instance with a `roadmap` section: a multi-year plan (README, The transition roadmap)."""
    return getattr(instance, "roadmap", None) is not None


def printer(instance):
    """How `solve` prints the result of this input: a company's plans, a roadmap, or one plan."""
    from outopt.report.terminal import print_company_solution, print_solution

    if is_company(instance):
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
