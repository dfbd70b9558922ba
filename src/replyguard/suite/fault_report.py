"""What a run's transport faults add to its report: the section, and the 5xx the contract forbids.

A gateway's 502 is a transport fault for the rule its test was judging, but the documents'
"no 5xx" rule (``contract.no-server-error``) holds for whatever answers at the target's URL,
so every 5xx still fails that rule, with its exchange.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from replyguard.suite.guard import TransportGuard
from replyguard.suite.transport import TransportFault
from replyguard.suite.verdicts import Outcome

__all__ = ["NO_SERVER_ERROR", "server_error_outcomes", "transport_section"]

NO_SERVER_ERROR = "contract.no-server-error"


def server_error_outcomes(
    faults: Iterable[TransportFault], secrets: tuple[str, ...] = ()
) -> list[Outcome]:
    """One failed outcome of contract.no-server-error per test that got a 5xx fault."""
    outcomes: dict[str, Outcome] = {}
    for fault in faults:
        if fault.status is None or fault.status < 500 or fault.exchange is None:
            continue
        violation = {
            "rule": NO_SERVER_ERROR,
            "test": fault.test,
            "expected": "no 5xx answer",
            "observed": f"HTTP {fault.status} ({fault.reason})",
            "curl": fault.exchange.curl(secrets),
            "response": fault.exchange.summary(secrets),
        }
        outcome = outcomes.setdefault(
            fault.test,
            Outcome(fault.test, (NO_SERVER_ERROR,), "failed", violation["observed"]),
        )
        outcome.violations.append(violation)
    return list(outcomes.values())


def transport_section(
    guard: TransportGuard, sent: int, secrets: tuple[str, ...] = ()
) -> dict[str, Any]:
    """The report's ``transport`` section: the faults, what they may have cost, the stop."""
    section = guard.log.as_dict(sent, secrets)
    section["bounds"] = {
        "connect_timeout": guard.bounds.connect_timeout,
        "read_timeout": guard.bounds.read_timeout,
        "max_faults": guard.bounds.max_faults,
        "max_seconds": guard.bounds.max_seconds,
    }
    stopped = guard.stopped
    section["stopped"] = (
        {"kind": stopped.kind, "reason": str(stopped)} if stopped is not None else None
    )
    return section
