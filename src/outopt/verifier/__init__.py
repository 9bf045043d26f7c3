"""The independent verifiers: plain Python that recomputes a plan's figures and limits from the raw
instance (:mod:`~outopt.verifier.portfolio`) or company (:mod:`~outopt.verifier.company`)."""

from outopt.verifier.portfolio import Verification, as_plan, status_quo, verify

__all__ = ["Verification", "as_plan", "status_quo", "verify"]
