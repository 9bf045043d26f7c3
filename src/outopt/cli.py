"""The ``outopt`` command: a thin layer over the Python API.

Exit codes: 0 a plan was found, 2 invalid input or usage, 3 infeasible,
4 no plan within the time limit, 1 an internal or solver error.
"""

from __future__ import annotations

import os
import sys
import threading
import time
from pathlib import Path
from typing import Annotated, Optional

import typer
from rich.console import Console

from outopt.errors import InputError, OutoptError
from outopt.io import load
from outopt.io.atomic import atomic_write_text
from outopt.report import print_solution
from outopt.solver import WORKER_THREAD, SolveOptions, solve as solve_instance

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


def load_or_exit(path: Path):
    try:
        return load(path)
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
) -> None:
    """Solve an instance: print the plan, totals, status and time."""
    started = time.perf_counter()  # the time limit counts reading the file too
    instance = load_or_exit(file)
    try:
        sol = solve_instance(instance, options=SolveOptions(time_limit=time_limit, gap=gap, threads=threads,
                                                            seed=seed, verbose=verbose, started=started))
    except OutoptError as e:
        raise fail(str(e), EXIT_ERROR)
    if json_out is not None:
        write_output(json_out, sol.to_json())
    if json_out != "-":
        print_solution(sol, out)
    if sol.status.exit_code == EXIT_INFEASIBLE:
        err.print(f"{file}: infeasible: {sol.message}", markup=False)
    elif sol.status.exit_code == EXIT_TIMEOUT:
        err.print(f"{file}: no plan within the time limit", markup=False)
    if any(t.name == WORKER_THREAD and t.is_alive() for t in threading.enumerate()):
        # a solve abandoned at the time limit is still unwinding: do not wait for it
        sys.stdout.flush()
        sys.stderr.flush()
        os._exit(sol.status.exit_code)
    raise typer.Exit(sol.status.exit_code)


@app.command()
def validate(file: FileArg) -> None:
    """Check an instance file and report every problem; solve nothing."""
    inst = load_or_exit(file)
    out.print(
        f"{file}: valid ({len(inst.functions)} functions, {len(inst.vendors)} vendors, {len(inst.offers)} offers)",
        markup=False,
    )


@app.command()
def generate(
    file: Annotated[Path, typer.Argument(help="Instance file to write (.yaml, .yml or .json).", show_default=False)],
    size: Annotated[str, typer.Option("--size", help="FUNCTIONSxVENDORS, e.g. 2000x50.")] = "50x5",
    profile: Annotated[str, typer.Option("--profile", help="easy (limits loose) or hard (every limit binds).")] = "easy",
    seed: Annotated[int, typer.Option("--seed", help="Random seed; the same seed gives the same instance.")] = 0,
    rules: Annotated[bool, typer.Option("--rules", help="Add core functions, a status quo and rules.")] = False,
) -> None:
    """Write a seeded synthetic instance (for benchmarks and tests)."""
    from outopt.generate import generate as make
    from outopt.io import save

    try:
        n, m = (int(x) for x in size.lower().split("x"))
        instance = make(n, m, profile=profile, seed=seed, rules=rules)
    except ValueError as e:
        msg = str(e) if "profile" in str(e) or "at least" in str(e) else f"--size must look like 2000x50, got {size!r}"
        raise fail(msg, EXIT_INVALID)
    try:
        save(instance, file)
    except InputError as e:
        raise fail(f"{file}: {e.problems[0].message}", EXIT_INVALID)
    out.print(f"{file}: {n} functions, {m} vendors, {len(instance.offers)} offers ({profile}, seed {seed})", markup=False)


def main() -> None:  # pragma: no cover - console entry point
    app()
