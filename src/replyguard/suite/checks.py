"""Schemathesis checks, each mapped to the rule of the catalogue it proves."""

from __future__ import annotations

from typing import Any

from schemathesis.checks import not_a_server_error
from schemathesis.core.failures import Failure, FailureGroup
from schemathesis.specs.openapi.checks import (
    content_type_conformance,
    negative_data_rejection,
    positive_data_acceptance,
    response_schema_conformance,
    status_code_conformance,
)

from replyguard.exchange import Exchange
from replyguard.verdicts import Violation

__all__ = ["CHECKS", "NEGATIVE_RULES", "POSITIVE_RULES", "judge_case"]

CHECKS = {
    "contract.no-server-error": not_a_server_error,
    "contract.status-code-documented": status_code_conformance,
    "contract.content-type": content_type_conformance,
    "contract.response-schema": response_schema_conformance,
    "contract.negative-data-rejected": negative_data_rejection,
    "contract.positive-data-accepted": positive_data_acceptance,
}
_COMMON = (
    "contract.no-server-error",
    "contract.status-code-documented",
    "contract.content-type",
    "contract.response-schema",
)
POSITIVE_RULES = (*_COMMON, "contract.positive-data-accepted")
NEGATIVE_RULES = (*_COMMON, "contract.negative-data-rejected")


def judge_case(case: Any, exchange: Exchange, rules: tuple[str, ...]) -> None:
    """Run each rule's schemathesis check on an answer; the first failure is a Violation."""
    for rule_id in rules:
        try:
            case.validate_response(exchange.response, checks=[CHECKS[rule_id]])
        except (FailureGroup, Failure, AssertionError) as exc:
            failures = exc.exceptions if isinstance(exc, FailureGroup) else [exc]
            titles = "; ".join(str(getattr(f, "title", "") or f).splitlines()[0] for f in failures)
            raise Violation(
                rule_id,
                f"schemathesis check {CHECKS[rule_id].__name__} to hold",
                f"{titles} ({exchange.summary(limit=160)})",
                exchange,
            ) from None
