"""Uncertainty (issue 17): scenarios of an instance's amounts (:mod:`~outopt.uncertainty.samples`), plans evaluated
over them (:mod:`~outopt.uncertainty.evaluate`, checked by :mod:`~outopt.uncertainty.check`), the scenario model that
finds a plan with the best mean or CVaR (:mod:`~outopt.uncertainty.robust`), and the two calls over them,
:func:`risk` and :func:`solve_robust` (:mod:`~outopt.uncertainty.assess`)."""

from outopt.uncertainty.assess import RiskResult, RobustSolution, risk, solve_robust
from outopt.uncertainty.robust import Measure
from outopt.uncertainty.samples import Samples, draw, read_samples

__all__ = ["Measure", "RiskResult", "RobustSolution", "Samples", "draw", "read_samples", "risk", "solve_robust"]
