"""The verdict vocabulary every layer shares: the verdicts, a Violation, a test's Outcome.

The levels: ``fail`` (a documented rule broke, with a Violation), ``error`` (replyguard could
not judge), ``not tested`` (with the reason), ``pass`` (a test proved it) and, for the
``silent.*`` rules of the zones the documents do not settle, ``observed``. How outcomes become
verdicts is the engine's job (``replyguard.engine.judge``).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from replyguard.exchange import Exchange

__all__ = [
    "DESELECTED",
    "VERDICTS",
    "Outcome",
    "RuleVerdict",
    "VerdictName",
    "Violation",
    "iter_violations",
]

VerdictName = Literal["pass", "fail", "error", "not tested", "observed"]
#: Every verdict, worst first: the order of tables and summaries.
VERDICTS: tuple[VerdictName, ...] = ("fail", "error", "not tested", "observed", "pass")
#: The reason of a rule ``--rules`` left out of the run (the gate does not count it as a change).
DESELECTED = "deselected for this run"


class Violation(AssertionError):
    """A rule the target broke, with what was expected, what was seen and the request."""

    def __init__(
        self, rule: str, expected: str, observed: str, exchange: Exchange | None = None
    ) -> None:
        super().__init__(f"[{rule}] expected {expected}; observed {observed}")
        self.rule = rule
        self.expected = expected
        self.observed = observed
        self.exchange = exchange


def iter_violations(exc: BaseException | None) -> Iterator[Violation]:
    """Every Violation inside an exception, looking into exception groups (hypothesis)."""
    if exc is None:
        return
    if isinstance(exc, Violation):
        yield exc
    elif isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            yield from iter_violations(inner)


@dataclass(slots=True)
class Outcome:
    """One test's result as it bears on its rules."""

    test: str
    rules: tuple[str, ...]
    status: Literal["passed", "failed", "error", "skipped"]
    reason: str = ""
    violations: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class RuleVerdict:
    rule: str
    verdict: VerdictName
    reason: str = ""
    tests: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)
    errors: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)
