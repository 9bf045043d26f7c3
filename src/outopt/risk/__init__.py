"""Uncertainty (issue 17): scenarios of an instance's amounts (:mod:`~outopt.risk.samples`), plans evaluated
over them (:mod:`~outopt.risk.evaluate`, checked by :mod:`~outopt.risk.check`), the scenario model that
finds a plan with the best mean or CVaR (:mod:`~outopt.risk.robust`), and the two calls over them,
:func:`risk` and :func:`solve_robust` (:mod:`~outopt.risk.assess`)."""

from outopt.risk.assess import RiskResult, RobustSolution, risk, solve_robust
from outopt.risk.robust import Measure
from outopt.risk.samples import Samples, draw, read_samples

__all__ = ["Measure", "RiskResult", "RobustSolution", "Samples", "draw", "read_samples", "risk", "solve_robust"]
