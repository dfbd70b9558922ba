"""From one pytest report to an :class:`Outcome`: fail, error or not tested, never confused.

Only a :class:`Violation` (a documented rule the target broke, with the exchange) makes a
``failed`` outcome. Any other exception is replyguard's own problem (``error``): a missing
module, a fixture missing at run time, an answer the test code could not parse. A spent
request budget is a reason for ``not tested``, never a failure.
"""

from __future__ import annotations

import traceback
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import pytest

from replyguard.exchange import Exchange
from replyguard.masking import mask_secrets
from replyguard.suite.budget import BudgetExhausted
from replyguard.suite.transport import RunStopped, TransportFault, TransportFaultError
from replyguard.verdicts import Outcome, iter_violations

__all__ = ["outcome_of"]


def _first_line(exc: BaseException) -> str:
    text = str(exc).strip()
    return text.splitlines()[0] if text else type(exc).__name__


def _budget_spent(exc: BaseException | None) -> BudgetExhausted | None:
    if isinstance(exc, BudgetExhausted):
        return exc
    if isinstance(exc, BaseExceptionGroup):
        for inner in exc.exceptions:
            found = _budget_spent(inner)
            if found is not None:
                return found
    return None


def _inner(exc: BaseException | None, kind: type[BaseException]) -> BaseException | None:
    """The first ``kind`` in an exception, its causes and groups (a hypothesis Flaky error
    wraps the fault of the example that failed first)."""
    seen: set[int] = set()
    todo = [exc]
    while todo:
        current = todo.pop(0)
        if current is None or id(current) in seen:
            continue
        seen.add(id(current))
        if isinstance(current, kind):
            return current
        if isinstance(current, BaseExceptionGroup):
            todo.extend(current.exceptions)
        todo.extend([current.__cause__, current.__context__])
    return None


def _fault_reason(faults: Sequence[TransportFault], exc: BaseException | None) -> str | None:
    """Why a test is not tested because of the network, or None."""
    stopped = _inner(exc, RunStopped)
    if stopped is not None:
        return f"the run stopped: {stopped}"
    lost = _inner(exc, TransportFaultError)
    reasons = [f.reason for f in faults]
    if isinstance(lost, TransportFaultError) and lost.fault.reason not in reasons:
        reasons.insert(0, lost.fault.reason)
    if not reasons:
        return None
    more = f" (and {len(reasons) - 1} more)" if len(reasons) > 1 else ""
    return f"transport fault: {reasons[0]}{more}"


def outcome_of(
    test: str,
    rules: Sequence[str],
    report: pytest.TestReport,
    exc: BaseException | None,
    last: Exchange | None,
    secrets: tuple[str, ...],
    bodies: Path | None = None,
    faults: Sequence[TransportFault] = (),
) -> Outcome:
    """The outcome of one test for its rules; every text in it is masked.

    ``bodies``: where a reproduction's long request body is written. A test that lost a request
    to the network (``faults``) and saw no violation is not tested, with the fault as its
    reason: a hang, a reset or a gateway's page says nothing about them.
    """
    rules = tuple(rules)
    if report.skipped:
        reason = report.longrepr[2] if isinstance(report.longrepr, tuple) else str(report.longrepr)
        return Outcome(
            test, rules, "skipped", mask_secrets(reason.removeprefix("Skipped: "), secrets)
        )
    if report.passed:
        return Outcome(test, rules, "passed")
    violations = [
        _violation(test, v.rule, v.expected, v.observed, v.exchange or last, secrets, bodies)
        for v in iter_violations(exc)
    ]
    if violations:
        return Outcome(test, rules, "failed", violations[0]["observed"], violations)
    spent = _budget_spent(exc)
    if spent is not None:
        return Outcome(test, rules, "skipped", str(spent))
    lost = _fault_reason(faults, exc)
    if lost is not None:
        return Outcome(test, rules, "skipped", mask_secrets(lost, secrets))
    return Outcome(
        test,
        rules,
        "error",
        mask_secrets(_describe(exc), secrets),
        errors=[_error(test, exc, secrets)],
    )


def _describe(exc: BaseException | None) -> str:
    if exc is None:
        return "the test did not finish (no exception recorded)"
    return f"{type(exc).__name__}: {_first_line(exc)}"


def _error(test: str, exc: BaseException | None, secrets: tuple[str, ...]) -> dict[str, Any]:
    where = ""
    if exc is not None and exc.__traceback__ is not None:
        frames = traceback.extract_tb(exc.__traceback__)
        if frames:
            last = frames[-1]
            where = f"{last.filename}:{last.lineno} in {last.name}"
    return {
        "test": test,
        "exception": type(exc).__name__ if exc is not None else "",
        "message": mask_secrets(_first_line(exc) if exc is not None else "", secrets),
        "where": where,
    }


def _violation(
    test: str,
    rule: str,
    expected: str,
    observed: str,
    exchange: Exchange | None,
    secrets: tuple[str, ...],
    bodies: Path | None = None,
) -> dict[str, Any]:
    return {
        "rule": rule,
        "test": test,
        "expected": mask_secrets(expected, secrets),
        "observed": mask_secrets(observed, secrets),
        "curl": exchange.curl(secrets, bodies) if exchange else "",
        "response": exchange.summary(secrets) if exchange else "",
    }
