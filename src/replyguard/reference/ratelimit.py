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
from dataclasses import dataclass
from typing import Protocol

__all__ = ["Decision", "FixedWindowLimiter", "RateLimiter", "make_limiter"]


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


def make_limiter(kind: str, limit: int, window: int) -> RateLimiter:
    """Build the configured limiter (``fixed`` is Laravel's; other variants plug in here)."""
    if kind == "fixed":
        return FixedWindowLimiter(limit, window)
    raise ValueError(f"unknown rate limiter {kind!r}")
