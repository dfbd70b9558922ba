"""Rate limiting with Laravel throttle semantics, kept behind a small interface.

The documents: "This endpoint is rate-limited to 5 requests per minute per API token." Laravel's
``throttle`` middleware keeps a hit counter with a decay timer that starts at the first hit of a
window (a fixed window per key), checks ``tooManyAttempts`` *before* hitting, so a request it
refuses is not counted, and answers ``{"message": "Too Many Attempts.", "retry_after": N}`` with
``Retry-After`` and ``X-RateLimit-*`` headers.

The other families real targets run live here too, so the harness can be proven on each: a
fixed window anchored to the clock and a sliding log (both conforming), and a token bucket and
GCRA (both hand back one slot every ``window / limit`` seconds, so they serve more than
``limit`` within a window after a burst: faults by the documents).

Every limiter's state lives in SQLite and each check-and-increment runs inside the caller's
``BEGIN IMMEDIATE`` transaction, so it is exact across several worker processes.
"""

from __future__ import annotations

import math
import sqlite3
from collections.abc import Callable
from dataclasses import dataclass
from typing import Protocol

__all__ = [
    "LIMITERS",
    "ClockWindowLimiter",
    "Decision",
    "FixedWindowLimiter",
    "GcraLimiter",
    "NeverResetLimiter",
    "RateLimiter",
    "SlidingLogLimiter",
    "TokenBucketLimiter",
    "UnlimitedLimiter",
    "make_limiter",
]


@dataclass(slots=True, frozen=True)
class Decision:
    """The outcome of one throttle check."""

    allowed: bool
    limit: int
    remaining: int
    #: Seconds until the window resets (only meaningful when refused), 1..window.
    retry_after: int = 0
    #: Epoch seconds at which the window resets (only meaningful when refused).
    reset_at: int = 0
    #: Whole seconds until the quota is back in full, allowed or refused (the IETF draft's
    #: ``RateLimit: ...;t=``); 0 where a limiter does not know it.
    reset_in: int = 0

    def headers(self) -> dict[str, str]:
        """The ``X-RateLimit-*`` (and when refused ``Retry-After``) headers Laravel sends."""
        headers = {
            "X-RateLimit-Limit": str(self.limit),
            "X-RateLimit-Remaining": str(self.remaining),
        }
        if not self.allowed:
            headers["Retry-After"] = str(self.retry_after)
            headers["X-RateLimit-Reset"] = str(self.reset_at)
        return headers


class RateLimiter(Protocol):
    """Anything that can decide, inside a write transaction, whether a hit is allowed."""

    limit: int
    window: int

    def hit(self, conn: sqlite3.Connection, key: str, now: float) -> Decision:
        """Check and (if allowed) count one hit for ``key`` at time ``now``."""
        ...


class FixedWindowLimiter:
    """Laravel's ``RateLimiter``: ``limit`` hits per window that starts at the first hit."""

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window

    def _current(self, row: tuple[float, int] | None, now: float) -> tuple[float, int]:
        """The window in force at ``now``: (its start, hits counted in it)."""
        if row is None or now >= row[0] + self.window:
            return now, 0
        return float(row[0]), int(row[1])

    def hit(self, conn: sqlite3.Connection, key: str, now: float) -> Decision:
        """Check-and-increment; the caller holds a ``BEGIN IMMEDIATE`` transaction."""
        row = conn.execute(
            "SELECT window_start, hits FROM throttle WHERE key = ?", (key,)
        ).fetchone()
        window_start, hits = self._current(row, now)
        seconds_left = window_start + self.window - now
        reset_in = min(self.window, max(1, math.ceil(seconds_left)))
        if hits >= self.limit:
            # Refused hits are not counted: Laravel checks tooManyAttempts() before hit().
            return Decision(
                allowed=False,
                limit=self.limit,
                remaining=0,
                retry_after=reset_in,
                reset_at=int(now) + reset_in,
                reset_in=reset_in,
            )
        hits += 1
        conn.execute(
            "INSERT INTO throttle (key, window_start, hits) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start,"
            " hits = excluded.hits",
            (key, window_start, hits),
        )
        return Decision(
            allowed=True,
            limit=self.limit,
            remaining=max(0, self.limit - hits),
            reset_in=reset_in,
        )


class ClockWindowLimiter(FixedWindowLimiter):
    """A fixed window anchored to the clock: windows start at multiples of ``window`` epoch
    seconds (Kong's rate-limiting plugin, Redis ``INCR`` on a per-minute key, the ``limits``
    library's fixed-window strategy). A correct variant: at most ``limit`` per window, and
    ``retry_after`` is the time to the next boundary."""

    def _current(self, row: tuple[float, int] | None, now: float) -> tuple[float, int]:
        start = now - now % self.window
        if row is None or float(row[0]) != start:
            return start, 0
        return start, int(row[1])


class SlidingLogLimiter:
    """At most ``limit`` hits in any interval of ``window`` seconds (a correct variant).

    A log of allowed hits per key; a refusal says how long until the oldest hit leaves the
    window, so ``retry_after`` stays honest.
    """

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window

    def hit(self, conn: sqlite3.Connection, key: str, now: float) -> Decision:
        """Check-and-log; the caller holds a ``BEGIN IMMEDIATE`` transaction."""
        conn.execute("DELETE FROM throttle_log WHERE key = ? AND at <= ?", (key, now - self.window))
        times = [
            row[0]
            for row in conn.execute("SELECT at FROM throttle_log WHERE key = ? ORDER BY at", (key,))
        ]
        if len(times) >= self.limit:
            oldest = times[len(times) - self.limit]
            retry_after = min(self.window, max(1, math.ceil(oldest + self.window - now)))
            return Decision(
                allowed=False,
                limit=self.limit,
                remaining=0,
                retry_after=retry_after,
                reset_at=int(now) + retry_after,
            )
        conn.execute("INSERT INTO throttle_log (key, at) VALUES (?, ?)", (key, now))
        return Decision(
            allowed=True, limit=self.limit, remaining=max(0, self.limit - len(times) - 1)
        )


class UnlimitedLimiter:
    """Fault: the throttle middleware is not on the route; every hit is allowed."""

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window

    def hit(self, conn: sqlite3.Connection, key: str, now: float) -> Decision:
        """Allow."""
        return Decision(allowed=True, limit=self.limit, remaining=self.limit)


class NeverResetLimiter(FixedWindowLimiter):
    """Fault: a counter without expiry (Redis INCR without EXPIRE); the window never resets.

    It still *says* the window resets: retry_after is computed from the window start.
    """

    def hit(self, conn: sqlite3.Connection, key: str, now: float) -> Decision:
        """Check-and-increment, never starting a new window."""
        row = conn.execute(
            "SELECT window_start, hits FROM throttle WHERE key = ?", (key,)
        ).fetchone()
        if row is not None and int(row[1]) >= self.limit:
            seconds_left = float(row[0]) + self.window - now
            retry_after = min(self.window, max(1, math.ceil(seconds_left)))
            return Decision(
                allowed=False,
                limit=self.limit,
                remaining=0,
                retry_after=retry_after,
                reset_at=int(now) + retry_after,
            )
        if row is not None and now >= float(row[0]) + self.window:
            # Keep the count, move the advertised window start along.
            conn.execute(
                "UPDATE throttle SET window_start = ?, hits = hits + 1 WHERE key = ?", (now, key)
            )
            return Decision(
                allowed=True, limit=self.limit, remaining=max(0, self.limit - int(row[1]) - 1)
            )
        return super().hit(conn, key, now)


class TokenBucketLimiter:
    """A token bucket per key (Envoy's ``token_bucket``, cloud gateways' rate and burst): it
    holds up to ``limit`` tokens, a hit takes one, and one comes back every ``window / limit``
    seconds. A burst of ``limit`` is served at once, then one more per interval: more than
    ``limit`` within a window, a fault by the documents. ``retry_after`` is the time to the
    next token (a fault may show something else)."""

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window
        self.interval = window / limit

    def hit(self, conn: sqlite3.Connection, key: str, now: float) -> Decision:
        """Refill, then take a token if there is one; the caller holds the transaction."""
        row = conn.execute(
            "SELECT tokens, at FROM throttle_bucket WHERE key = ?", (key,)
        ).fetchone()
        tokens = (
            float(self.limit)
            if row is None
            else min(float(self.limit), float(row[0]) + (now - float(row[1])) / self.interval)
        )
        if tokens < 1:
            # The bucket is not written back: the refill keeps counting from the last hit.
            retry_after = min(self.window, max(1, math.ceil((1 - tokens) * self.interval)))
            return Decision(
                allowed=False,
                limit=self.limit,
                remaining=0,
                retry_after=retry_after,
                reset_at=int(now) + retry_after,
                reset_in=math.ceil((self.limit - tokens) * self.interval),
            )
        tokens -= 1
        conn.execute(
            "INSERT INTO throttle_bucket (key, tokens, at) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET tokens = excluded.tokens, at = excluded.at",
            (key, tokens, now),
        )
        return Decision(
            allowed=True,
            limit=self.limit,
            remaining=int(tokens),
            reset_in=math.ceil((self.limit - tokens) * self.interval),
        )


class GcraLimiter:
    """The generic cell rate algorithm, the way ``redis-cell`` runs it (``CL.THROTTLE key
    limit-1 limit window``): one theoretical arrival time per key, an emission interval of
    ``window / limit`` and a tolerance of ``window``. It serves like a token bucket (``limit`` at
    once, then one per interval) and its ``retry_after`` is honest: the wait for the next slot."""

    def __init__(self, limit: int, window: int) -> None:
        self.limit = limit
        self.window = window
        self.interval = window / limit

    def hit(self, conn: sqlite3.Connection, key: str, now: float) -> Decision:
        """Check-and-advance the arrival time; the caller holds the transaction."""
        row = conn.execute("SELECT tat FROM throttle_gcra WHERE key = ?", (key,)).fetchone()
        tat = now if row is None else max(float(row[0]), now)
        new_tat = tat + self.interval
        allow_at = new_tat - self.window
        if now < allow_at:
            retry_after = min(self.window, max(1, math.ceil(allow_at - now)))
            return Decision(
                allowed=False,
                limit=self.limit,
                remaining=0,
                retry_after=retry_after,
                reset_at=int(now) + retry_after,
                reset_in=math.ceil(tat - now),
            )
        conn.execute(
            "INSERT INTO throttle_gcra (key, tat) VALUES (?, ?)"
            " ON CONFLICT(key) DO UPDATE SET tat = excluded.tat",
            (key, new_tat),
        )
        # A small epsilon: float noise must not turn 4.0 free slots into 3.
        remaining = int((now - allow_at) / self.interval + 1e-9)
        return Decision(
            allowed=True,
            limit=self.limit,
            remaining=min(self.limit - 1, remaining),
            reset_in=math.ceil(new_tat - now),
        )


#: Limiter kinds by name: "fixed" is Laravel's; the others are variants or faults.
LIMITERS: dict[str, Callable[[int, int], RateLimiter]] = {
    "fixed": FixedWindowLimiter,
    "clock": ClockWindowLimiter,
    "sliding": SlidingLogLimiter,
    "token-bucket": TokenBucketLimiter,
    "gcra": GcraLimiter,
    "unlimited": UnlimitedLimiter,
    "never-reset": NeverResetLimiter,
}


def make_limiter(kind: str, limit: int, window: int) -> RateLimiter:
    """Build the limiter named ``kind`` (see :data:`LIMITERS`)."""
    factory = LIMITERS.get(kind)
    if factory is None:
        raise ValueError(f"unknown rate limiter {kind!r}")
    return factory(limit, window)
