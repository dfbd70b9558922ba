"""From test outcomes to one verdict per rule of the catalogue."""

from __future__ import annotations

from collections.abc import Iterable, Iterator
from dataclasses import asdict, dataclass, field
from typing import Any, Literal

from replyguard.suite.exchange import Exchange

__all__ = ["Outcome", "RuleVerdict", "Violation", "aggregate", "iter_violations"]

VerdictName = Literal["pass", "fail", "not tested"]


class Violation(AssertionError):
    """A rule the target broke, with what was expected, what was seen and the request."""

    def __init__(self, rule: str, expected: str, observed: str,
                 exchange: Exchange | None = None) -> None:
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
    status: Literal["passed", "failed", "skipped"]
    reason: str = ""
    violations: list[dict[str, Any]] = field(default_factory=list)


@dataclass(slots=True)
class RuleVerdict:
    rule: str
    verdict: VerdictName
    reason: str = ""
    tests: list[str] = field(default_factory=list)
    failures: list[dict[str, Any]] = field(default_factory=list)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return asdict(self)


def aggregate(rule_ids: Iterable[str], outcomes: Iterable[Outcome],
              untested_reasons: dict[str, str]) -> list[RuleVerdict]:
    """Fail if any test failed on the rule, pass if one passed and none failed, else not tested.

    A failed test whose violations name other rules is inconclusive for the rules it carries
    but did not name: it stopped before proving them.
    """
    verdicts = {rule: RuleVerdict(rule, "not tested") for rule in rule_ids}
    passed: dict[str, int] = {}
    skip_reasons: dict[str, list[str]] = {}
    for outcome in outcomes:
        named = {v["rule"] for v in outcome.violations}
        for rule in {*outcome.rules, *named}:
            verdict = verdicts.setdefault(rule, RuleVerdict(rule, "not tested"))
            verdict.tests.append(outcome.test)
            if outcome.status == "failed" and (rule in named or not named):
                verdict.verdict = "fail"
                mine = [v for v in outcome.violations if v["rule"] == rule]
                verdict.failures.extend(mine or [{"rule": rule, "test": outcome.test,
                                                  "expected": "", "observed": outcome.reason,
                                                  "curl": ""}])
            elif outcome.status == "passed":
                passed[rule] = passed.get(rule, 0) + 1
            elif outcome.status == "skipped":
                skip_reasons.setdefault(rule, []).append(outcome.reason)
            else:
                skip_reasons.setdefault(rule, []).append(
                    f"inconclusive: {outcome.test} stopped at another rule's failure")
    for rule, verdict in verdicts.items():
        if verdict.verdict == "fail":
            continue
        if passed.get(rule):
            verdict.verdict = "pass"
        elif rule in skip_reasons:
            verdict.reason = "; ".join(dict.fromkeys(skip_reasons[rule]))
        else:
            verdict.reason = untested_reasons.get(rule, "no test of this suite covers it")
    return list(verdicts.values())
