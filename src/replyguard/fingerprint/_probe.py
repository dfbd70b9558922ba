"""Recording and driving the fingerprint probes: a fixed, bounded sequence of calls.

The sequence (limit ``L``, window ``W``, poll interval ``W/10``):

1. ``401``: ``L + 1`` calls with a token the target does not know; ``402``: ``L + 1`` calls
   with the profile's low-balance token (when it has one).
2. ``prime``: the primary token until the first 429; ``scope``: while it is throttled, one
   call with the secondary token and one with another account's token.
3. ``reset0``: poll until served again. Its 200 opens a window whose start is known.
4. ``w1``: half a window later, calls until 429 (the count of one window); ``reset1``: poll.
5. ``w2``: calls right after that reset (a fixed window gives all ``L`` back at once, a
   sliding one only the slot that aged out).
6. ``w3``: a quiet wait, then calls that open a window half-way between clock multiples of
   ``W``; ``reset3``: poll (first-hit anchor: reset a window later; clock: half a window).
7. ``422`` and ``404``: after a quiet window each, ``L`` invalid (or unknown-assistant) calls
   then one valid one: a 429 says those answers counted.

Every loop is bounded in calls (``ProbePlan.max_requests``) and in time (``2 W + 1`` s of
polling per reset).
"""

from __future__ import annotations

import contextlib
from collections.abc import Callable, Mapping
from dataclasses import asdict, dataclass, field
from typing import Any

from replyguard.profile import Role
from replyguard.ratelimit import rate_limit_headers

__all__ = ["Probe", "ProbePlan", "Send", "probe_from_response", "run_probes"]


@dataclass(slots=True, frozen=True)
class Probe:
    """One call as the client saw it. ``role`` is a token label, never a token."""

    step: str
    role: str
    kind: str
    """``valid``, ``invalid`` (422), ``missing`` (unknown assistant), ``no-balance``,
    ``bad-token``."""
    sent: float
    received: float
    status: int
    """0 when no HTTP answer came."""
    retry_after: Any = None
    """The 429 body's ``retry_after`` as decoded (None when absent)."""
    retry_after_header: str | None = None
    remaining: str | None = None
    """``X-RateLimit-Remaining``."""
    reset: str | None = None
    """``X-RateLimit-Reset``."""
    content_type: str = ""
    headers: dict[str, str] = field(default_factory=dict)
    """Every rate-limit header (``replyguard.ratelimit.rate_limit_headers``), lower case."""

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form."""
        return asdict(self)

    @classmethod
    def from_dict(cls, data: Mapping[str, Any]) -> Probe:
        """The inverse of :meth:`to_dict`."""
        return cls(**dict(data))


def probe_from_response(
    step: str,
    role: str,
    kind: str,
    sent: float,
    received: float,
    status: int,
    body: Any,
    headers: Mapping[str, str],
) -> Probe:
    """A :class:`Probe` from a decoded answer (``headers`` looked up case-insensitively)."""
    lower = {k.lower(): v for k, v in headers.items()}
    retry_after = body.get("retry_after") if isinstance(body, dict) else None
    return Probe(
        step,
        role,
        kind,
        sent,
        received,
        status,
        retry_after,
        lower.get("retry-after"),
        lower.get("x-ratelimit-remaining"),
        lower.get("x-ratelimit-reset"),
        lower.get("content-type", ""),
        rate_limit_headers(headers),
    )


#: ``send(step, role, kind)``: make one call and return what came back.
Send = Callable[[str, str, str], Probe]


@dataclass(slots=True, frozen=True)
class ProbePlan:
    """What the probes need to know: the documented limit, window and available tokens."""

    limit: int
    window: float
    roles: frozenset[str] = frozenset({Role.PRIMARY})
    max_requests: int = 400

    @property
    def poll(self) -> float:
        """Seconds between calls while waiting for a reset."""
        return max(0.1, min(1.0, self.window / 10))


class _Spent(Exception):
    pass


class _Driver:
    def __init__(
        self,
        plan: ProbePlan,
        send: Send,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.plan, self.send, self.sleep, self.clock = plan, send, sleep, clock
        self.log: list[Probe] = []

    def one(self, step: str, role: str = Role.PRIMARY, kind: str = "valid") -> Probe:
        if len(self.log) >= self.plan.max_requests:
            raise _Spent
        probe = self.send(step, role, kind)
        self.log.append(probe)
        return probe

    def until_429(self, step: str) -> Probe | None:
        for _ in range(3 * self.plan.limit + 2):
            probe = self.one(step)
            if probe.status == 429:
                return probe
            if probe.status != 200:
                return None
        return None

    def until_served(self, step: str) -> Probe | None:
        deadline = self.clock() + 2 * self.plan.window + 1
        for _ in range(int((2 * self.plan.window + 1) / self.plan.poll) + 2):
            probe = self.one(step)
            if probe.status == 200:
                return probe
            if probe.status != 429 or self.clock() > deadline:
                return None
            self.sleep(self.plan.poll)
        return None

    def sleep_until(self, moment: float) -> None:
        wait = moment - self.clock()
        if wait > 0:
            self.sleep(wait)

    def quiet_then(self, step: str, kind: str) -> None:
        """After a quiet window, ``limit`` calls of ``kind`` and one valid call."""
        self.sleep_until(self.log[-1].received + self.plan.window + self.plan.poll)
        for _ in range(self.plan.limit):
            self.one(step, Role.PRIMARY, kind)
        self.one(step, Role.PRIMARY, "valid")

    def run(self) -> None:
        plan = self.plan
        for _ in range(plan.limit + 1):
            self.one("401", "invalid", "bad-token")
        if Role.LOW_BALANCE in plan.roles:
            for _ in range(plan.limit + 1):
                self.one("402", Role.LOW_BALANCE, "no-balance")
        if self.until_429("prime") is None:
            return
        for role in (Role.SECONDARY, Role.OTHER_ACCOUNT):
            if role in plan.roles:
                self.one("scope", role)
        start = self.until_served("reset0")
        if start is None:
            # Polling every W/10 may itself keep a limiter that counts 429s shut: stay quiet
            # for a whole window and try once more.
            self.sleep(plan.window + 1)
            self.one("quiet")
            return
        self.sleep_until(start.sent + plan.window / 2)
        self.until_429("w1")
        reset = self.until_served("reset1")
        if reset is None:
            return
        self.until_429("w2")
        self.sleep_until(reset.sent + 1.5 * plan.window)
        self.until_429("w3")
        self.until_served("reset3")
        self.quiet_then("422", "invalid")
        self.quiet_then("404", "missing")


def run_probes(
    plan: ProbePlan, send: Send, sleep: Callable[[float], None], clock: Callable[[], float]
) -> list[Probe]:
    """Run the probe sequence; returns every call made, in order (stops early when stuck)."""
    driver = _Driver(plan, send, sleep, clock)
    with contextlib.suppress(_Spent):
        driver.run()
    return driver.log
