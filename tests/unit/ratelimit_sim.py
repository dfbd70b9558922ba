"""Simulated limiters of every family and clients that drive them, on a virtual clock.

Each limiter answers ``decide(key, t) -> (allowed, seconds until a slot frees)`` at the instant
``t`` the server processes a call; :func:`run` sends the calls of a few clients with random
latency (the server processes each call somewhere between its send and answer times) and
returns the :class:`~replyguard.ratelimit.Call` list the model judges.
"""

from __future__ import annotations

import heapq
import math
import random
from collections.abc import Callable
from dataclasses import dataclass, field

from replyguard.ratelimit import Call

Decision = tuple[bool, float]


@dataclass
class FixedWindow:
    """First-hit (Laravel) or clock-anchored; ``whole_second``: Laravel's integer timer (it
    ends a window up to a second early)."""

    limit: int
    window: float
    anchor: str = "first"
    whole_second: bool = False
    ends: dict[str, tuple[float, int]] = field(default_factory=dict)

    def decide(self, key: str, t: float) -> Decision:
        end, hits = self.ends.get(key, (-math.inf, 0))
        if t >= end:
            if self.anchor == "clock":
                end = (math.floor(t / self.window) + 1) * self.window
            elif self.whole_second:
                # Laravel's timer is a whole second of a 60 s window (scaled with the window).
                step = self.window / 60
                end = math.floor(t / step) * step + self.window
            else:
                end = t + self.window
            hits = 0
        if hits >= self.limit:
            self.ends[key] = (end, hits)
            return False, end - t
        self.ends[key] = (end, hits + 1)
        return True, 0.0


@dataclass
class SlidingLog:
    limit: int
    window: float
    log: dict[str, list[float]] = field(default_factory=dict)

    def decide(self, key: str, t: float) -> Decision:
        hits = [h for h in self.log.get(key, []) if h > t - self.window]
        self.log[key] = hits
        if len(hits) >= self.limit:
            return False, hits[0] + self.window - t
        hits.append(t)
        return True, 0.0


@dataclass
class SlidingCounter:
    """Cloudflare-style: the previous clock window's count weighted by its remaining overlap."""

    limit: int
    window: float
    counts: dict[tuple[str, int], int] = field(default_factory=dict)

    def decide(self, key: str, t: float) -> Decision:
        n = math.floor(t / self.window)
        elapsed = t / self.window - n
        previous = self.counts.get((key, n - 1), 0)
        current = self.counts.get((key, n), 0)
        if previous * (1 - elapsed) + current >= self.limit:
            return False, self.window * 0.2
        self.counts[(key, n)] = current + 1
        return True, 0.0


@dataclass
class TokenBucket:
    burst: int
    refill: float
    state: dict[str, tuple[float, float]] = field(default_factory=dict)

    def decide(self, key: str, t: float) -> Decision:
        tokens, at = self.state.get(key, (float(self.burst), t))
        tokens = min(self.burst, tokens + (t - at) / self.refill)
        if tokens < 1:
            self.state[key] = (tokens, t)
            return False, (1 - tokens) * self.refill
        self.state[key] = (tokens - 1, t)
        return True, 0.0


@dataclass
class Gcra:
    """The generic cell rate algorithm (redis-cell): a theoretical arrival time per key."""

    burst: int
    period: float
    tat: dict[str, float] = field(default_factory=dict)

    def decide(self, key: str, t: float) -> Decision:
        tat = max(self.tat.get(key, t), t)
        allow_at = tat - self.burst * self.period
        if t < allow_at + self.period - 1e-12 and tat - t > (self.burst - 1) * self.period:
            return False, tat - (self.burst - 1) * self.period - t
        self.tat[key] = tat + self.period
        return True, 0.0


@dataclass
class NginxLimitReq:
    """nginx ``limit_req zone rate=5r/m burst=4 nodelay``: excess kept in thousandths, the rate
    in thousandths of a request per millisecond (ngx_http_limit_req_module.c)."""

    per_minute: int
    burst: int
    scale: float = 1.0
    """Time runs ``scale`` times faster than nginx's clock (a 2 s window for a 60 s one)."""
    state: dict[str, tuple[int, int]] = field(default_factory=dict)

    def decide(self, key: str, t: float) -> Decision:
        rate = self.per_minute * 1000 // 60  # requests per second x 1000, truncated
        now = int(t / self.scale * 1000)
        if key not in self.state:
            self.state[key] = (0, now)
            return True, 0.0
        excess, last = self.state[key]
        ms = now - last
        excess = max(0, excess - rate * ms // 1000 + 1000)
        if excess > self.burst * 1000:
            return False, 60.0 * self.scale
        self.state[key] = (excess, now)
        return True, 0.0


@dataclass
class NoLimit:
    def decide(self, key: str, t: float) -> Decision:
        return True, 0.0


@dataclass
class NeverResets:
    limit: int
    hits: dict[str, int] = field(default_factory=dict)

    def decide(self, key: str, t: float) -> Decision:
        if self.hits.get(key, 0) >= self.limit:
            return False, 1.0
        self.hits[key] = self.hits.get(key, 0) + 1
        return True, 0.0


Limiter = FixedWindow | SlidingLog | SlidingCounter | TokenBucket | Gcra | NginxLimitReq
Answer = Callable[[float, float], tuple[int, object, dict[str, str], bool, str]]


def documented_429(wait: float, now: float) -> tuple[int, object, dict[str, str], bool, str]:
    """The documented 429: JSON, a message and retry_after (the seconds left, at least 1)."""
    seconds = max(1, math.ceil(round(wait, 6)))
    return 429, seconds, {"retry-after": str(seconds)}, True, "application/json"


def constant_429(value: int) -> Answer:
    """A gateway's 429 with the documented body and a constant retry_after."""
    return lambda wait, now: (429, value, {}, True, "application/json")


def html_503(wait: float, now: float) -> tuple[int, object, dict[str, str], bool, str]:
    """nginx's stock answer over the limit."""
    return 503, None, {}, False, "text/html"


@dataclass
class Client:
    """One client: sends, and after a refusal waits ``poll`` (or retry_after when ``honour``)."""

    token: str
    start: float
    poll: float
    honour: bool = False
    gap: float = 0.0
    """Seconds between calls while served."""


def run(
    limiter: object,
    clients: list[Client],
    *,
    duration: float,
    latency: float = 0.02,
    seed: int = 0,
    answer: Answer = documented_429,
    key: Callable[[str], str] = lambda token: token,
    accounts: dict[str, str] | None = None,
    max_calls: int = 20_000,
) -> list[Call]:
    """Drive ``clients`` against ``limiter`` until ``duration``; each call's send-to-answer
    interval is at most ``latency``, the processing instant random inside it."""
    rng = random.Random(seed)
    decide: Callable[[str, float], Decision] = limiter.decide  # type: ignore[attr-defined]
    events: list[tuple[float, int, str, int, float]] = []
    for n, c in enumerate(clients):
        heapq.heappush(events, (c.start, n, "send", n, 0.0))
    calls: list[Call] = []
    serial = len(clients)
    while events and len(calls) < max_calls:
        t, _, what, n, sent = heapq.heappop(events)
        c = clients[n]
        if what == "send":
            if t > duration:
                continue
            serial += 1
            heapq.heappush(events, (t + rng.uniform(0, latency / 2), serial, "process", n, t))
            continue
        allowed, wait = decide(key(c.token), t)
        received = t + rng.uniform(0, latency / 2)
        account = (accounts or {}).get(c.token, "")
        if allowed:
            calls.append(Call(c.token, sent, received, 200, account=account))
            nxt = received + c.gap
        else:
            status, value, headers, is_json, ctype = answer(wait, t)
            calls.append(
                Call(
                    c.token,
                    sent,
                    received,
                    status,
                    retry_after=value,
                    message="Too Many Attempts." if is_json else None,
                    body_is_json_object=is_json,
                    content_type=ctype,
                    headers=headers,
                    account=account,
                )
            )
            ra = value if isinstance(value, int | float) and c.honour else None
            # A sleep is never shorter than asked; a microsecond more keeps the limiters' float
            # arithmetic from making an exact wait look short.
            nxt = received + (ra + 1e-6 if ra is not None else c.poll)
        serial += 1
        heapq.heappush(events, (nxt, serial, "send", n, 0.0))
    calls.sort(key=lambda call: call.sent)
    return calls
