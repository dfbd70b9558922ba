"""Rate limiting with Laravel throttle semantics, kept behind a small interface.

The documents: "This endpoint is rate-limited to 5 requests per minute per API token." Laravel's
``throttle`` middleware keeps a hit counter with a decay timer that starts at the first hit of a
window (a fixed window per key), checks ``tooManyAttempts`` *before* hitting, so a request it
refuses is not counted, and answers ``{"message": "Too Many Attempts.", "retry_after": N}`` with
``Retry-After`` and ``X-RateLimit-*`` headers.

The counter lives in SQLite and each check-and-increment runs inside the caller's
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
    "Decision",
    "FixedWindowLimiter",
    "NeverResetLimiter",
    "RateLimiter",
    "SlidingLogLimiter",
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

    def hit(self, conn: sqlite3.Connection, key: str, now: float) -> Decision:
        """Check-and-increment; the caller holds a ``BEGIN IMMEDIATE`` transaction."""
        row = conn.execute(
            "SELECT window_start, hits FROM throttle WHERE key = ?", (key,)
        ).fetchone()
        if row is None or now >= row[0] + self.window:
            window_start, hits = now, 0
        else:
            window_start, hits = float(row[0]), int(row[1])
        if hits >= self.limit:
            # Refused hits are not counted: Laravel checks tooManyAttempts() before hit().
            seconds_left = window_start + self.window - now
            retry_after = min(self.window, max(1, math.ceil(seconds_left)))
            return Decision(
                allowed=False,
                limit=self.limit,
                remaining=0,
                retry_after=retry_after,
                reset_at=int(now) + retry_after,
            )
        hits += 1
        conn.execute(
            "INSERT INTO throttle (key, window_start, hits) VALUES (?, ?, ?)"
            " ON CONFLICT(key) DO UPDATE SET window_start = excluded.window_start,"
            " hits = excluded.hits",
            (key, window_start, hits),
        )
        return Decision(allowed=True, limit=self.limit, remaining=max(0, self.limit - hits))


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


#: Limiter kinds by name: "fixed" is Laravel's; the others are a variant or faults.
LIMITERS: dict[str, Callable[[int, int], RateLimiter]] = {
    "fixed": FixedWindowLimiter,
    "sliding": SlidingLogLimiter,
    "unlimited": UnlimitedLimiter,
    "never-reset": NeverResetLimiter,
}


def make_limiter(kind: str, limit: int, window: int) -> RateLimiter:
    """Build the limiter named ``kind`` (see :data:`LIMITERS`)."""
    factory = LIMITERS.get(kind)
    if factory is None:
        raise ValueError(f"unknown rate limiter {kind!r}")
    return factory(limit, window)
