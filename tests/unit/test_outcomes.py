"""outcome_of: a Violation fails, replyguard's own exceptions err, a spent budget is untested."""

from __future__ import annotations

from typing import Any

import pytest

from replyguard.engine.judge import aggregate
from replyguard.suite.budget import BudgetExhausted
from replyguard.suite.outcomes import outcome_of
from replyguard.verdicts import Violation

SECRET = "rg_secret_token_value_123"


class _Report:
    """The parts of a pytest TestReport that outcome_of reads."""

    def __init__(self, outcome: str) -> None:
        self.skipped = outcome == "skipped"
        self.passed = outcome == "passed"
        self.failed = outcome == "failed"
        self.longrepr: Any = None


def _outcome(exc: BaseException) -> Any:
    return outcome_of(
        "test_x",
        ("reply.body",),
        _Report("failed"),
        exc,  # type: ignore[arg-type]
        None,
        (SECRET,),
    )


def test_import_error_is_an_error_not_a_failure() -> None:
    outcome = _outcome(ImportError("No module named 'jsonschema'"))
    assert outcome.status == "error"
    assert outcome.errors[0]["exception"] == "ImportError"
    verdict = aggregate(["reply.body"], [outcome], {})[0]
    assert verdict.verdict == "error"
    assert "jsonschema" in verdict.reason


def test_spent_budget_is_not_tested() -> None:
    outcome = _outcome(BudgetExhausted("request budget spent (200 sent; generate_reply needs 6)"))
    assert outcome.status == "skipped"
    verdict = aggregate(["reply.body"], [outcome], {})[0]
    assert verdict.verdict == "not tested"
    assert "budget spent" in verdict.reason


def test_violation_is_a_failure_with_masked_evidence() -> None:
    outcome = _outcome(Violation("reply.body", "a JSON body", f"token {SECRET} echoed"))
    assert outcome.status == "failed"
    verdict = aggregate(["reply.body"], [outcome], {})[0]
    assert verdict.verdict == "fail"
    assert SECRET not in str(verdict.failures)


def test_violation_inside_a_group_is_found() -> None:
    group = ExceptionGroup("hypothesis", [Violation("reply.body", "x", "y"), KeyError("k")])
    assert _outcome(group).status == "failed"


@pytest.mark.parametrize("exc", [KeyError("retry_after"), AssertionError("plain assert")])
def test_other_exceptions_are_errors(exc: BaseException) -> None:
    assert _outcome(exc).status == "error"
