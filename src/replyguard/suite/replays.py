"""A violation seen on the wire outlives a hypothesis run that its replay calls flaky.

Schemathesis follows a state machine's link on a truly random coin, kept out of hypothesis's
data tree, so replaying a failing sequence may not follow the link again: hypothesis then
raises a ``Flaky`` error (``FlakyStrategyDefinition``: "Inconsistent data generation") that
carries no violation. The target did break the rule on a real exchange all the same, so that
violation is the test's result, not an error of replyguard.
"""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from hypothesis.errors import Flaky

from replyguard.verdicts import Violation

__all__ = ["SeenViolations"]


class SeenViolations:
    """The first Violation raised inside a hypothesis run, for when its replay is flaky."""

    def __init__(self) -> None:
        self.first: Violation | None = None

    @contextmanager
    def watch(self) -> Iterator[None]:
        """Around one step's judging: note the Violation it raises, and let it through."""
        try:
            yield
        except Violation as violation:
            if self.first is None:
                self.first = violation
            raise

    @contextmanager
    def run(self) -> Iterator[None]:
        """Around the hypothesis run: a flaky replay after a seen violation is that violation."""
        try:
            yield
        except Flaky as exc:
            if self.first is None:
                raise
            raise self.first from exc
