"""Every generate-reply call of a run, as the rate-limit model reads it.

The suite's :class:`~replyguard.suite.session.ApiSession` is the only way any test (the
rate-limit tests, schemathesis' cases, the stateful machine, the silent-zone probes) reaches a
target, and it records each generate-reply call here: when it was sent and answered, with which
token role, what came back, and what of that a limiter shows (the body's ``message`` and
``retry_after``, the rate-limit headers). No token is kept: a role names the token.
"""

from __future__ import annotations

import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from replyguard.exchange import Exchange

__all__ = ["RATE_LIMIT_HEADERS", "CallLog", "CallRecord", "is_reply"]

#: Headers a limiter may send (lower case), or prefixes of their families: ``Retry-After``, the
#: de facto ``X-RateLimit-*`` and the IETF draft's ``RateLimit`` / ``RateLimit-Policy`` (and its
#: earlier ``RateLimit-Limit`` / ``-Remaining`` / ``-Reset``).
RATE_LIMIT_HEADERS = ("retry-after", "x-ratelimit-", "ratelimit")


def is_reply(status: int, body: Any) -> bool:
    """Whether an answer is a reply: a 2xx, and not an error body (``success: false`` or an
    ``error``), which some gateways send over the limit with a 200."""
    return 200 <= status < 300 and not (
        isinstance(body, dict) and (body.get("success") is False or "error" in body)
    )


def _limiter_headers(headers: dict[str, str]) -> dict[str, str]:
    return {k: v for k, v in headers.items() if k.lower().startswith(RATE_LIMIT_HEADERS)}


@dataclass(slots=True)
class CallRecord:
    """One generate-reply call: times are epoch seconds (one clock for the whole run)."""

    sent: float
    received: float
    role: str
    """The token's role (primary, secondary, …), ``none`` without one, ``raw`` for a literal."""
    status: int
    valid: bool
    """Whether a correct target would serve it (a billable call: valid body, own token)."""
    body: dict[str, Any] = field(default_factory=dict)
    """The answer's ``message``, ``retry_after``, ``success`` and ``error_code`` when JSON."""
    body_is_json: bool = True
    headers: dict[str, str] = field(default_factory=dict)
    probe: bool = False
    """A poll of a throttled token (the plan counts them: suite.polls)."""
    exchange: Exchange | None = field(default=None, repr=False, compare=False)

    @property
    def served(self) -> bool:
        """A reply: a 2xx whose body is not an error."""
        return is_reply(self.status, self.exchange.json() if self.exchange else self.body)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready (no token: the role names it)."""
        return {
            "sent": round(self.sent, 3),
            "received": round(self.received, 3),
            "role": self.role,
            "status": self.status,
            "valid": self.valid,
            "body": self.body,
            "body_is_json": self.body_is_json,
            "headers": self.headers,
            "probe": self.probe,
        }


class CallLog:
    """The run's generate-reply calls in the order they were sent."""

    def __init__(self, clock: Callable[[], float] = time.time) -> None:
        # Epoch seconds: a clock-anchored window resets on the clock's minute, and the model
        # can only tell that anchor from times on the same clock as the server's.
        self._clock = clock
        self.calls: list[CallRecord] = []

    def now(self) -> float:
        """The log's clock (epoch seconds)."""
        return float(self._clock())

    def record(
        self, sent: float, exchange: Exchange, *, role: str, valid: bool, probe: bool = False
    ) -> CallRecord:
        """Keep one answered call sent at ``sent`` (:meth:`now` then), answered just now."""
        body = exchange.json()
        kept = (
            {k: body[k] for k in ("message", "retry_after", "success", "error_code") if k in body}
            if isinstance(body, dict)
            else {}
        )
        call = CallRecord(
            sent=sent,
            received=self.now(),
            role=role,
            status=exchange.status,
            valid=valid,
            body=kept,
            body_is_json=body is not None,
            headers=_limiter_headers(exchange.headers),
            probe=probe,
            exchange=exchange,
        )
        self.calls.append(call)
        return call

    def of(self, role: str) -> list[CallRecord]:
        """The calls sent with one token role."""
        return [c for c in self.calls if c.role == role]
