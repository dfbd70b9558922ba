"""What a run's transport faults add to its report: the section, and the 5xx the contract forbids.

A gateway's 502 is a transport fault for the rule its test was judging, but the documents'
"no 5xx" rule (``contract.no-server-error``) holds for whatever answers at the target's URL,
so every 5xx still fails that rule, with its exchange.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

from replyguard.exchange import Exchange
from replyguard.suite.guard import TransportGuard
from replyguard.suite.transport import TransportFault

__all__ = ["server_error_exchanges", "transport_section"]


def server_error_exchanges(faults: Iterable[TransportFault]) -> list[tuple[str, Exchange]]:
    """The 5xx answers among the faults, with the test that got each: they fail
    contract.no-server-error like every other 5xx of the run (suite.server_errors)."""
    return [
        (fault.test, fault.exchange)
        for fault in faults
        if fault.status is not None and fault.status >= 500 and fault.exchange is not None
    ]


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
