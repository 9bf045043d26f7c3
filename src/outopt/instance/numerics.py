"""The numerical policy, in one place (models/portfolio.md, "Numerical policy"; the manual, docs/guide/numerics.md).

* **When a limit is met.** A plan meets an upper limit ``L`` when its use is at most
  ``L + tolerance(L)``, a lower limit when its use is at least ``L - tolerance(L)``, with
  ``tolerance(L) = ABS_TOL + REL_TOL * |L|``: a hundred-thousandth of a unit plus a billionth of the
  limit (1.00001 on a budget of 1e9, so 999 over it is not met). The verifiers, the model's hard rows,
  the heuristic, the diagnosis and every analysis's "binding" use these functions and nothing else; a share limit
  ``m`` of total spend ``T`` is met when the vendor's spend is at most ``m T + tolerance(T)``.
  A volume-discount threshold counts as reached by a spend of at least ``threshold - tolerance(threshold)``.
* **The range of magnitudes.** Every number in an instance is at most ``MAX_AMOUNT`` (1e12) in
  absolute value, and so is each yearly figure outopt derives from them (a function's freed staff
  value, a one-off cost over the horizon); larger values are refused when the file is validated,
  with their place, so no overflow can reach a result. A share limit other than 0 is at least
  ``MIN_SHARE`` (1e-6). Amounts may be as small as wanted: one below ``ABS_TOL`` is within the tolerance.

The model's hard limit rows allow the relative part of the tolerance and half the absolute part
(:func:`row_upper`, :func:`row_lower`); HiGHS's feasibility tolerance (1e-6) stays within the other half,
so a plan HiGHS accepts is one the verifier accepts, and a plan that meets every limit in exact arithmetic
lies inside every row by at least ``ABS_TOL / 2``, more than the rounding in a row of amounts up to about
1e10 (1e-16 times its largest amount: an operating budget's row holds every in-house cost). The functions
take limits that are numbers or Pyomo expressions (the model's mutable limits): they are affine in the
limit for limits of at least 0, which every limit of the format is.
"""

from __future__ import annotations

ABS_TOL = 1e-5
"""Absolute part of the tolerance, in the limit's own unit."""

REL_TOL = 1e-9
"""Relative part of the tolerance, per unit of the limit."""

MAX_AMOUNT = 1e12
"""The largest magnitude of a number in an instance (amounts, capacities, loads, uses, penalties),
and of the yearly figures derived from them."""

MIN_SHARE = 1e-6
"""The smallest share limit (``max_share``, a group's ``min_share``/``max_share``) other than 0: shares are
met within a billionth of total spend, and HiGHS drops coefficients of 1e-9 and below (a share of 3e-9
made HiGHS 1.16 crash, issue 19)."""


def tolerance(limit: float) -> float:
    """How far a use may pass a limit and still meet it: ``ABS_TOL + REL_TOL * |limit|``."""
    return ABS_TOL + REL_TOL * abs(limit)


def highest_met(limit):
    """The largest use that meets an upper limit of at least 0: ``limit + tolerance(limit)``."""
    return (1 + REL_TOL) * limit + ABS_TOL


def lowest_met(limit):
    """The smallest use that meets a lower limit of at least 0: ``limit - tolerance(limit)``."""
    return (1 - REL_TOL) * limit - ABS_TOL


ROW_ROOM = ABS_TOL / 2
"""The absolute room a model row allows beyond its limit; HiGHS's feasibility tolerance (1e-6) is within
the other half of ``ABS_TOL``."""


def row_upper(limit):
    """The bound of a hard upper limit's row in the model (limit >= 0): ``(1 + REL_TOL) * limit + ROW_ROOM``."""
    return (1 + REL_TOL) * limit + ROW_ROOM


def row_lower(limit):
    """The bound of a hard lower limit's row in the model (limit >= 0): ``(1 - REL_TOL) * limit - ROW_ROOM``."""
    return (1 - REL_TOL) * limit - ROW_ROOM


def exceeds(use: float, limit: float) -> bool:
    """True when ``use`` breaks the upper limit ``limit`` (beyond its tolerance)."""
    return use - limit > tolerance(limit)


def falls_short(use: float, limit: float) -> bool:
    """True when ``use`` breaks the lower limit ``limit`` (beyond its tolerance)."""
    return limit - use > tolerance(limit)


def reached(amount: float, threshold: float) -> bool:
    """True when ``amount`` reaches ``threshold`` (a volume-discount tier), within its tolerance."""
    return not falls_short(amount, threshold)


def tier_start(threshold: float) -> float:
    """The least spend that reaches a threshold of at least 0 (0 for a threshold within ``ABS_TOL``)."""
    return max(0.0, lowest_met(threshold))


def plain(x: float) -> float:
    """``x`` with a negative zero made positive (a cost or bound printed as ``-0`` reads as a loss)."""
    return x + 0.0
