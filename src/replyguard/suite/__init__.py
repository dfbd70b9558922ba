"""The pytest plugin behind ``contract_tests/``: verdicts per rule, pacing, budget."""

from replyguard.suite.exchange import Exchange
from replyguard.suite.verdicts import Violation

__all__ = ["Exchange", "Violation"]
