"""Exceptions outopt raises on purpose, each carrying a message a planner can act on."""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Problem:
    """One thing wrong with an input: where it is (``offers[3].vendor``) and what is wrong."""

    where: str
    message: str

    def __str__(self) -> str:
        return f"{self.where}: {self.message}" if self.where else self.message


class OutoptError(Exception):
    """Base class of outopt's own errors."""


SHOWN_PROBLEMS = 20
"""Problems spelled out in a message; the rest are counted (a million bad rows, one line each, help no one)."""


def more_problems(n: int) -> str:
    """The line that stands for the problems not spelled out."""
    return f"... and {n:,} more problem{'s' if n != 1 else ''}"


class InputError(OutoptError, ValueError):
    """An input file or object is invalid; ``problems`` lists every problem found.

    ``str(err)`` gives one line per problem, each prefixed by the source file when known, the
    first :data:`SHOWN_PROBLEMS` of them and then how many more there are.
    """

    def __init__(self, problems: list[Problem], source: str | None = None):
        self.problems = list(problems)
        self.source = source
        super().__init__(self._text())

    def _text(self) -> str:
        prefix = f"{self.source}: " if self.source else ""
        lines = [f"{prefix}{p}" for p in self.problems[:SHOWN_PROBLEMS]]
        if len(self.problems) > SHOWN_PROBLEMS:
            lines.append(more_problems(len(self.problems) - SHOWN_PROBLEMS))
        return "\n".join(lines)

    def with_source(self, source: str) -> "InputError":
        return InputError(self.problems, source)


class PlanError(OutoptError, ValueError):
    """A plan breaks a rule of its instance (found by the independent verifier)."""


class SolverError(OutoptError, RuntimeError):
    """The solver failed in a way that is not a property of the instance."""
