"""Transport faults: what the network, not the API, did to a request, and what that costs.

A hang, a reset, a body cut short and a gateway's HTML 5xx say nothing about the documented
contract. Each one is recorded here with its exchange; the rule its test was judging becomes
``not tested`` with the reason, and one line sums them up. Whether the request may have
reached the API decides the rest: one that cannot have reached it is retried; one whose fate
is unknown may have billed a reply or created an assistant, and is counted as such.
"""

from __future__ import annotations

import math
from collections import Counter
from dataclasses import dataclass, field
from typing import Any

import httpx

from replyguard.exchange import Exchange
from replyguard.wire import cannot_reach, transport_reason

__all__ = [
    "FaultLog",
    "RunStopped",
    "TargetUnreachable",
    "TransportFault",
    "TransportFaultError",
    "classify",
    "gateway_fault",
]


@dataclass(slots=True)
class TransportFault:
    """One request the network lost or spoiled.

    ``kind``: refused (no connection), timeout (no answer in time), reset (the connection
    closed before an answer), truncated (the body was cut or cannot be parsed), gateway (a
    5xx that is not the API's own JSON). ``reached``: whether the API may have acted on it.
    """

    kind: str
    operation: str
    reason: str
    reached: bool
    test: str = ""
    status: int | None = None
    exchange: Exchange | None = None

    def as_dict(self, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
        """JSON-ready form; the request as a masked curl."""
        return {
            "kind": self.kind,
            "operation": self.operation,
            "reason": self.reason,
            "reached": self.reached,
            "test": self.test,
            "status": self.status,
            "curl": self.exchange.curl(secrets) if self.exchange else "",
            "response": self.exchange.summary(secrets) if self.exchange and self.status else "",
        }


class TransportFaultError(Exception):
    """A request was lost to a transport fault; its test's rules are not tested."""

    def __init__(self, fault: TransportFault) -> None:
        super().__init__(fault.reason)
        self.fault = fault


class TargetUnreachable(TransportFaultError, ConnectionError):
    """No connection could be made at all (after retrying); the message is one line."""


class RunStopped(Exception):
    """The run must stop now (the breaker tripped, or its time limit came); one line."""

    def __init__(self, reason: str, *, kind: str) -> None:
        super().__init__(reason)
        self.kind = kind


def classify(
    exc: httpx.TransportError, url: str, read_timeout: float, *, answered: int | None = None
) -> tuple[str, str, bool]:
    """``(kind, reason, reached)`` for an httpx error; ``answered``: the status, if one came."""
    if isinstance(exc, httpx.ConnectTimeout):
        return "refused", f"cannot reach {url}: no connection in time", False
    if isinstance(exc, httpx.ConnectError | httpx.PoolTimeout | httpx.UnsupportedProtocol):
        return "refused", cannot_reach(url, exc), False
    if isinstance(exc, httpx.WriteError | httpx.WriteTimeout):
        # The request was not sent whole: the API cannot have acted on half a request.
        return "reset", f"the connection broke while sending ({transport_reason(exc)})", False
    if answered is not None:
        return "truncated", f"the answer ({answered}) was cut short", True
    if isinstance(exc, httpx.ReadTimeout):
        return "timeout", f"no answer in {read_timeout:g} s", True
    return "reset", f"the connection closed without an answer ({transport_reason(exc)})", True


def gateway_fault(exchange: Exchange) -> tuple[str, str] | None:
    """``(kind, reason)`` when an answer is not the API's own; None for an API answer.

    A 5xx whose body is not JSON is a gateway's or a proxy's page (the API answers JSON when
    asked, Laravel's "Server Error" included). A body declared JSON that does not parse was
    cut or spoiled on the way.
    """
    if exchange.status >= 500 and exchange.json() is None:
        kind = "HTML" if "html" in exchange.headers.get("content-type", "") else "not JSON"
        return "gateway", f"the gateway answered {exchange.status} ({kind})"
    declared = exchange.headers.get("content-type", "").split(";")[0].strip().lower()
    if declared == "application/json" and exchange.text.strip() and exchange.json() is None:
        return "truncated", f"the answer ({exchange.status}) is not valid JSON"
    return None


def _label(fault: TransportFault) -> str:
    if fault.kind == "gateway":
        return f"{fault.status} (gateway {'HTML' if 'HTML' in fault.reason else 'page'})"
    if fault.kind == "timeout":
        return fault.reason
    if fault.kind == "truncated":
        return "body cut short or not JSON"
    if fault.kind == "refused":
        return "connection refused"
    return "connection reset" if fault.reached else "connection broken while sending"


@dataclass(slots=True)
class FaultLog:
    """The run's transport faults, the breaker, and what they may have cost."""

    share: float = 0.1
    """The breaker trips above this share of the requests sent …"""
    floor: int = 5
    """… and never before this many faults."""
    faults: list[TransportFault] = field(default_factory=list)
    possibly_created: list[dict[str, Any]] = field(default_factory=list)
    possibly_billed: int = 0
    retried: int = 0
    """Requests sent again because the first attempt cannot have reached the API."""

    def limit(self, sent: int) -> int:
        """The most faults the run tolerates after ``sent`` requests."""
        return max(self.floor, math.ceil(self.share * sent))

    def tripped(self, sent: int) -> str | None:
        """The breaker's one line once the faults exceed the limit, else None."""
        if len(self.faults) <= self.limit(sent):
            return None
        return f"the target is unreliable: {self.summary(sent)}; stopped after {sent} requests"

    def summary(self, sent: int) -> str:
        """One line: how many of ``sent`` requests were lost, counted by what happened."""
        counts = Counter(_label(f) for f in self.faults)
        times = "\N{MULTIPLICATION SIGN}"
        parts = ", ".join(f"{n} {times} {label}" for label, n in counts.most_common())
        return f"the target dropped {len(self.faults)} of {sent} requests: {parts}"

    def as_dict(self, sent: int, secrets: tuple[str, ...] = ()) -> dict[str, Any]:
        """The report's ``transport`` section."""
        return {
            "summary": self.summary(sent) if self.faults else "",
            "requests": sent,
            "faults": [f.as_dict(secrets) for f in self.faults],
            "by_kind": dict(Counter(f.kind for f in self.faults)),
            "retried": self.retried,
            "possibly_billed": self.possibly_billed,
            "possibly_created": list(self.possibly_created),
        }
