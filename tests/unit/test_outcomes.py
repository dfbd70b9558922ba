"""outcome_of: a Violation fails, replyguard's own exceptions err, a spent budget is untested."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import httpx
import pytest

from replyguard.engine.judge import aggregate
from replyguard.exchange import Exchange
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


def test_a_3_mib_body_gives_a_report_line_under_10_kib(tmp_path: Path) -> None:
    # issue 20: the malformed-request test's 3 MiB body used to land whole in the curl line,
    # making the plain output and the JSON report 3.1 MB each.
    body = b'{"message": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    request = httpx.Request(
        "POST",
        "http://127.0.0.1:9/api/user/ai/generate-reply",
        headers={"Authorization": f"Bearer {SECRET}", "Content-Type": "application/json"},
        content=body,
    )
    exchange = Exchange.from_response(httpx.Response(500, text="oops", request=request))
    outcome = outcome_of(
        "test_huge",
        ("contract.malformed-request-4xx",),
        _Report("failed"),
        Violation("contract.malformed-request-4xx", "a 4xx", "HTTP 500", exchange),
        None,
        (SECRET,),
        tmp_path / "bodies",
    )
    text = json.dumps({"failures": outcome.violations}, indent=2)
    assert max(len(line) for line in text.splitlines()) < 10 * 1024
    assert SECRET not in text
    curl = outcome.violations[0]["curl"]
    assert '"authorization: Bearer $REPLYGUARD_TOKEN"' in curl
    kept = next((tmp_path / "bodies").iterdir())
    assert kept.read_bytes() == body
