"""The session's guard against the network: timeouts, retries, faults, the breaker, the clock.

``ApiSession`` sends every request through :meth:`TransportGuard.post`. A request that cannot
have reached the API (no connection, broken while sending) is retried with backoff; any other
fault is recorded (``suite.transport``) and raised, and inside a hypothesis run the example is
rejected instead, so one lost request never decides a rule that other examples judge.
"""

from __future__ import annotations

import random
import time
from collections.abc import Callable, Mapping
from typing import Any

import httpx
from hypothesis import reject
from hypothesis.control import current_build_context, currently_in_test_context

from replyguard.client import RetryPolicy
from replyguard.config.bounds import Bounds
from replyguard.exchange import Exchange
from replyguard.suite.transport import (
    FaultLog,
    RunStopped,
    TargetUnreachable,
    TransportFault,
    TransportFaultError,
    classify,
    gateway_fault,
)

__all__ = ["TransportGuard"]

#: A request that cannot have reached the API: three attempts, 0.25 s then 0.5 s (jittered).
CONNECT_RETRY = RetryPolicy(max_attempts=3, base=0.25, cap=2.0, jitter=True)

#: The status of a gateway limiter's own refusal page (nginx ``limit_req``'s default).
LIMITER_PAGE_STATUS = 503


class TransportGuard:
    """One run's bounds and transport faults; what ``ApiSession`` asks before and after a send."""

    def __init__(
        self,
        bounds: Bounds,
        *,
        paid: bool,
        clock: Callable[[], float] = time.monotonic,
        sleep: Callable[[float], None] = time.sleep,
    ) -> None:
        self.bounds = bounds
        self.paid = paid
        self.log = FaultLog(share=bounds.fault_share, floor=bounds.fault_floor)
        self.retry = CONNECT_RETRY
        self._clock = clock
        self._sleep = sleep
        self.deadline: float | None = None
        self.stopped: RunStopped | None = None
        self.test = ""
        self.test_faults: list[TransportFault] = []
        #: On a paid target, what a hypothesis run already sent in this test: its final replay
        #: of a failing example is answered from here, never sent again.
        self._seen: dict[tuple[str, bytes, str], Exchange | TransportFault] = {}

    def timeout(self) -> httpx.Timeout:
        """The httpx timeout of every request."""
        return httpx.Timeout(
            self.bounds.read_timeout, connect=self.bounds.connect_timeout, pool=None
        )

    def start(self, began: float | None = None) -> None:
        """The run began now (or at ``began``, a time of the same clock): its limit counts."""
        if self.bounds.max_seconds:
            start = self._clock() if began is None else began
            self.deadline = start + self.bounds.max_seconds

    def begin_test(self, name: str) -> None:
        """A new test: its faults and its replay memory start empty."""
        self.test = name
        self.test_faults = []
        self._seen.clear()

    def check(self, wait: float = 0.0) -> None:
        """Raise RunStopped when the run must stop, or when a wait of ``wait`` s would pass
        its time limit."""
        if self.stopped is not None:
            raise self.stopped
        if self.deadline is not None and self._clock() + wait > self.deadline:
            limit = self.bounds.max_seconds
            self.stopped = RunStopped(
                f"the run's time limit ({limit:g} s, --max-seconds) was reached"
                + (f" (a wait of {wait:.0f} s was due)" if wait > 1 else ""),
                kind="time-limit",
            )
            raise self.stopped

    def replayed(self, key: tuple[str, bytes, str], costly: bool) -> Exchange | None:
        """The answer already seen for this request when re-sending it could cost money."""
        if not (self.paid and costly and currently_in_test_context()):
            return None
        if not current_build_context().is_final:
            # A new example that happens to repeat one is sent: the plan's rehearsal drew the
            # same number of examples, and serving it from memory would make the spend random.
            return None
        seen = self._seen.get(key)
        if isinstance(seen, TransportFault):
            reject()
        return seen

    def post(
        self,
        http: httpx.Client,
        operation: str,
        url: str,
        content: bytes,
        headers: dict[str, str],
        *,
        body: Any,
        billable: bool,
        sent: int,
        key: tuple[str, bytes, str] | None = None,
        method: str = "POST",
        roles: Mapping[str, str] | None = None,
        over_limit: bool = False,
    ) -> Exchange:
        """Send once (again only when it cannot have reached the API); faults raise.

        ``roles``: the profile's tokens' roles by token, for the exchange's reproduction.
        ``over_limit``: a call sent over the rate limit on purpose, where a gateway's 503 page
        is the limiter's answer to judge, not a fault of the network. Only a 503: nginx's
        ``limit_req`` refuses with it by default, while a 502 or 504 says the upstream failed,
        which no limiter answers (a blip there would otherwise fail a rate-limit rule).
        """
        __tracebackhide__ = True  # its arguments hold the token
        for attempt in range(self.retry.max_attempts):
            body_bytes = content if method != "GET" or content else None
            request = http.build_request(method, url, content=body_bytes, headers=headers)
            started, status = self._clock(), None
            try:
                response = http.send(request, stream=True)
                status = response.status_code
                try:
                    response.read()
                finally:
                    response.close()
            except httpx.TransportError as exc:
                kind, reason, reached = classify(
                    exc, url, self.bounds.read_timeout, answered=status
                )
                if not reached and attempt + 1 < self.retry.max_attempts:
                    self.log.retried += 1
                    self._sleep(self.retry.wait(attempt, random.random()))
                    continue
                exchange = Exchange.unanswered(request, roles)
                exchange.status = status or 0
                exchange.sent_at, exchange.answered_at = started, self._clock()
                fault = TransportFault(
                    kind, operation, reason, reached, self.test, status, exchange
                )
                self._record(fault, body=body, billable=billable, sent=sent, key=key)
                raise AssertionError("unreachable") from None  # _record always raises
            exchange = Exchange.from_response(response, roles)
            exchange.sent_at, exchange.answered_at = started, self._clock()
            refusal = over_limit and exchange.status == LIMITER_PAGE_STATUS
            spoiled = None if refusal else gateway_fault(exchange)
            if spoiled is not None:
                fault = TransportFault(
                    spoiled[0], operation, spoiled[1], True, self.test, exchange.status, exchange
                )
                self._record(fault, body=body, billable=billable, sent=sent, key=key)
            if key is not None and self.paid and exchange.status != 429:
                # A 429 is answered before the API does anything: retrying it is free.
                self._seen[key] = exchange
            return exchange
        raise AssertionError("unreachable")

    def _record(
        self,
        fault: TransportFault,
        *,
        body: Any,
        billable: bool,
        sent: int,
        key: tuple[str, bytes, str] | None,
    ) -> None:
        """Write the fault down, with what it may have cost, then raise it (or reject)."""
        __tracebackhide__ = True
        self.log.faults.append(fault)
        self.test_faults.append(fault)
        status = fault.status
        acted = fault.reached and (status is None or 200 <= status < 300 or status >= 500)
        if acted and fault.operation == "create_assistant":
            name = body.get("name") if isinstance(body, dict) else None
            self.log.possibly_created.append(
                {"name": name, "reason": fault.reason, "status": status, "test": fault.test}
            )
        if acted and billable:
            self.log.possibly_billed += 1
        if key is not None and self.paid:
            self._seen[key] = fault
        tripped = self.log.tripped(sent)
        if tripped is not None:
            self.stopped = RunStopped(tripped, kind="unreliable")
            raise self.stopped
        if currently_in_test_context():
            # This example says nothing about the contract; hypothesis draws another.
            reject()
        raise (TargetUnreachable if fault.kind == "refused" else TransportFaultError)(fault)
