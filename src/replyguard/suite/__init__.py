"""The pytest plugin behind ``contract_tests/``: verdicts per rule, pacing, budget."""

from replyguard.exchange import Exchange
from replyguard.verdicts import Violation

__all__ = ["Exchange", "Violation"]
