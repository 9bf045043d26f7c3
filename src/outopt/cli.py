"""The ``outopt`` command: a thin layer over the Python API.

Exit codes: 0 a plan was found, 2 invalid input or usage, 3 infeasible,
4 no plan within the time limit, 1 an internal or solver error.
"""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from outopt.company import Company, load_any
from outopt.errors import InputError, OutoptError
from outopt.io import load
from outopt.io.atomic import atomic_write_text
from outopt.batch import run_batch
from outopt.report import BatchProgress, print_batch_summary, print_company_solution, print_solution
from outopt.company_solver import DEFAULT_METHOD, METHODS, solve_company
from outopt.solver import SolveOptions, solve as solve_instance

EXIT_OK, EXIT_ERROR, EXIT_INVALID, EXIT_INFEASIBLE, EXIT_TIMEOUT = 0, 1, 2, 3, 4

app = typer.Typer(
    name="outopt",
    help="Decide which business functions to keep in-house and which to give to vendors.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,
)
out = Console(highlight=False, soft_wrap=True, width=None if sys.stdout.isatty() else 120)
err = Console(stderr=True, highlight=False, soft_wrap=True)


def fail(message: str, code: int) -> typer.Exit:
    err.print(f"[red]error:[/red] {message}", markup=True)
    return typer.Exit(code)


def load_or_exit(path: Path, company: bool = False):
    try:
        return load_any(path) if company else load(path)
    except InputError as e:
        n = len(e.problems)
        err.print(f"[red]error:[/red] {path}: {n} problem{'s' if n > 1 else ''} found", markup=True)
        for p in e.problems:
            err.print(f"  {e.source or path}: {p}", markup=False)
        raise typer.Exit(EXIT_INVALID)


def write_output(target: str, text: str) -> None:
    """'-' writes to stdout (and nothing else goes there); a path is written atomically."""
    if target == "-":
        sys.stdout.write(text if text.endswith("\n") else text + "\n")
        sys.stdout.flush()
    else:
        atomic_write_text(target, text if text.endswith("\n") else text + "\n")


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
    method: Annotated[str, typer.Option("--method", help="Company files: 'joint' (one MIP) or 'decompose' "
                                        "(Lagrangian).")] = DEFAULT_METHOD,
) -> None:
    """Solve an instance or a company file: print the plan, totals, status and time."""
    instance = load_or_exit(file, company=True)
    if method not in METHODS:
        raise fail(f"--method must be one of {', '.join(METHODS)}", EXIT_INVALID)
    options = SolveOptions(time_limit=time_limit, gap=gap, threads=threads, seed=seed, verbose=verbose)
    try:
        if isinstance(instance, Company):
            sol = solve_company(instance, method=method, options=options)
        else:
            sol = solve_instance(instance, options=options)
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    if json_out is not None:
        write_output(json_out, sol.to_json())
    if json_out != "-":
        (print_company_solution if isinstance(instance, Company) else print_solution)(sol, out)
    if sol.status.exit_code == EXIT_INFEASIBLE:
        err.print(f"{file}: infeasible: {sol.message}", markup=False)
    elif sol.status.exit_code == EXIT_TIMEOUT:
        err.print(f"{file}: no plan within the time limit", markup=False)
    raise typer.Exit(sol.status.exit_code)


@app.command()
def validate(file: FileArg) -> None:
    """Check an instance or company file and report every problem; solve nothing."""
    inst = load_or_exit(file, company=True)
    if isinstance(inst, Company):
        n = sum(len(d.instance.functions) for d in inst.divisions)
        out.print(f"{file}: valid company ({len(inst.divisions)} divisions, {n} functions)", markup=False)
        return
    out.print(
        f"{file}: valid ({len(inst.functions)} functions, {len(inst.vendors)} vendors, {len(inst.offers)} offers)",
        markup=False,
    )


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
    progress = BatchProgress(err)
    with progress:
        run = run_batch(paths, out=out_dir, executor=scheduler, workers=workers, time_limit=time_limit,
                        force=force, on_start=progress.start, on_result=progress.advance)
    print_batch_summary(run, out)
    if out_dir is not None:
        err.print(f"results and summary.csv in {out_dir}", markup=False)
    if run.interrupted:
        err.print("interrupted: finished results are kept", markup=False)
        raise typer.Exit(130)
    raise typer.Exit(EXIT_ERROR if run.failed else EXIT_OK)


def main() -> None:  # pragma: no cover - console entry point
    app()
