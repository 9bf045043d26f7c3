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
from rich.markup import escape
from typer.core import TyperGroup
from typer.exceptions import TyperException

from outopt.errors import InputError, OutoptError
from outopt.io import load
from outopt.io.atomic import atomic_write_text
from outopt.report import print_solution
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
        n = len(e.problems)
        err.print(f"[red]error:[/red] {escape(str(path))}: {n} problem{'s' if n > 1 else ''} found", markup=True)
        for p in e.problems:
            err.print(f"  {e.source or path}: {p}", markup=False)
        raise typer.Exit(EXIT_INVALID)


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
    instance = load_or_exit(file)
    try:
        sol = solve_instance(instance, options=SolveOptions(time_limit=time_limit, gap=gap, threads=threads,
                                                            seed=seed, verbose=verbose))
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
    raise typer.Exit(sol.status.exit_code)


@app.command()
def validate(file: FileArg) -> None:
    """Check an instance file and report every problem; solve nothing."""
    inst = load_or_exit(file)
    out.print(
        f"{file}: valid ({len(inst.functions)} functions, {len(inst.vendors)} vendors, {len(inst.offers)} offers)",
        markup=False,
    )


def main() -> None:  # pragma: no cover - console entry point
    app()
