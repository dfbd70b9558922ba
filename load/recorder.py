"""Recording every exchange of the load users: an httpx transport that times each attempt.

All scenarios send through :class:`RecordingTransport`, so even the retries made inside
``replyguard.client.AssistantClient`` are observed one by one. Each exchange becomes a judge
:class:`~load.judge.Observation` (token *label* only, never the token) and one locust request
event, so locust's own statistics, CSV and HTML reports stay as usual.
"""

from __future__ import annotations

import json
import threading
import time
from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

import httpx

from load.judge import CUT, NO_ANSWER, Observation
from replyguard.ratelimit import rate_limit_headers

__all__ = ["Recorder", "RecordingTransport", "RequestCap", "RequestCapReached", "RequestEvent"]

#: Called once per exchange like locust's ``events.request.fire`` (keyword arguments).
RequestEvent = Callable[..., None]


class RequestCapReached(Exception):
    """The process has sent as many requests as ``--replyguard-max-requests`` allows."""


class RequestCap:
    """A hard bound on requests sent by this process; :meth:`take` is False once spent."""

    def __init__(self, limit: int) -> None:
        self.limit = limit
        self.used = 0

    def take(self) -> bool:
        """Reserve one request; False when the bound is reached."""
        if self.used >= self.limit:
            return False
        self.used += 1
        return True


@dataclass(slots=True)
class Recorder:
    """Observations of this process since the test started, and the unsent tail of them."""

    observations: list[Observation] = field(default_factory=list)
    unsent: int = 0
    """Index of the first observation not yet sent to the master (workers only)."""
    messages: int = 0
    gave_up: int = 0
    _lock: threading.Lock = field(default_factory=threading.Lock)

    def add(self, observation: Observation) -> None:
        """Keep one observation."""
        with self._lock:
            self.observations.append(observation)

    def take_unsent(self) -> list[Observation]:
        """Observations recorded since the last call (for batching to the master)."""
        with self._lock:
            batch = self.observations[self.unsent :]
            self.unsent = len(self.observations)
            return batch

    def reset(self) -> None:
        """Forget everything (a new test run started)."""
        with self._lock:
            self.observations = []
            self.unsent = self.messages = self.gave_up = 0


class RecordingTransport(httpx.BaseTransport):
    """Wraps httpx's transport: times, records and reports each exchange.

    ``expected``: the statuses that count as successes in locust's statistics (a 429 is
    expected in the rate-limit scenarios, a failure in the throughput one; the fingerprint
    expects 401, 402, 404 and 422 too).
    """

    def __init__(
        self,
        recorder: Recorder,
        budget: RequestCap,
        fire: RequestEvent,
        *,
        token: str,
        scenario: str,
        expected: frozenset[int] = frozenset({200, 429}),
        clock: Callable[[], float] = time.time,
    ) -> None:
        self._inner = httpx.HTTPTransport()
        self._budget = budget
        self._recorder = recorder
        self._fire = fire
        self._token = token
        self._scenario = scenario
        self._expected = expected
        self._clock = clock

    def handle_request(self, request: httpx.Request) -> httpx.Response:
        """Send, read the whole answer, record it, fire one locust request event."""
        if not self._budget.take():
            raise RequestCapReached(f"request bound of {self._budget.limit} reached")
        sent = self._clock()
        try:
            response = self._inner.handle_request(request)
            response.read()
        except httpx.TransportError as exc:
            received = self._clock()
            self._record(
                Observation(self._token, sent, received, NO_ANSWER, scenario=self._scenario)
            )
            self._event("no answer", sent, received, 0, exc)
            raise
        except BaseException:
            # Killed by locust when the test stops: the server may or may not have counted it.
            # It left the client, so it is one of locust's requests too (not a failure).
            received = self._clock()
            self._record(Observation(self._token, sent, received, CUT, scenario=self._scenario))
            self._event("cut off at stop", sent, received, 0, None)
            raise
        received = self._clock()
        self._record(self._observation(response, sent, received))
        status = response.status_code
        error: Exception | None = None
        if status not in self._expected:
            error = RuntimeError(f"HTTP {status}")
        name = "429 throttled" if status == 429 else f"{status}"
        self._event(name, sent, received, len(response.content), error)
        return response

    def _observation(self, response: httpx.Response, sent: float, received: float) -> Observation:
        status = response.status_code
        # Every answer's rate-limit headers and content type: IETF RateLimit fields on a served
        # call, a gateway's text/html 503 over the limit (the model names both).
        headers = rate_limit_headers(response.headers)
        content_type = response.headers.get("content-type", "")
        if status != 429:
            return Observation(
                self._token,
                sent,
                received,
                status,
                scenario=self._scenario,
                headers=headers,
                content_type=content_type,
            )
        try:
            body: Any = json.loads(response.content)
        except ValueError:
            body = None
        is_object = isinstance(body, dict)
        data = body if isinstance(body, dict) else {}
        return Observation(
            self._token,
            sent,
            received,
            429,
            data.get("retry_after"),
            data.get("message"),
            response.headers.get("retry-after"),
            is_object,
            self._scenario,
            headers,
            content_type,
        )

    def _record(self, observation: Observation) -> None:
        self._recorder.add(observation)

    def _event(
        self, outcome: str, sent: float, received: float, length: int, error: Exception | None
    ) -> None:
        self._fire(
            request_type="POST",
            name=f"{self._scenario}: generate-reply {outcome}",
            response_time=(received - sent) * 1000.0,
            response_length=length,
            exception=error,
            context={},
        )

    def close(self) -> None:
        """Close the wrapped transport."""
        self._inner.close()
