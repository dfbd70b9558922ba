"""Retry policy: exponential backoff with full jitter that honours the server's retry_after."""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

from ._errors import ClientError, RateLimited, ServerError, TransportError

#: Called before each retry with (the 1-based number of the attempt that failed, the seconds
#: about to be slept, the error that attempt produced).
OnRetry = Callable[[int, float, ClientError], None]


@dataclass(slots=True, frozen=True)
class RetryPolicy:
    """How often and how long to retry: ``wait = max(retry_after, backoff)``.

    ``backoff = min(cap, base * 2**retry_index)``, multiplied by a uniform draw in [0, 1) when
    ``jitter`` is on ("full jitter"), so clients that were throttled together spread out.
    """

    max_attempts: int = 5
    """Total attempts including the first; 1 disables retrying."""
    base: float = 1.0
    cap: float = 60.0
    """Upper bound of the computed backoff (a server's retry_after may exceed it)."""
    jitter: bool = True
    # Off by default: generate-reply is charged per reply (autocalls doc, "Monitor costs"), and
    # after a 5xx or a dropped connection we cannot know whether the reply was generated and
    # billed. A 429 is safe to retry: the throttle answers before the request is processed.
    retry_on_server_errors: bool = False
    """Also retry 5xx answers and transport errors (timeouts, resets) whose fate is unknown."""
    retry_unsent: bool = True
    """Retry a request that cannot have reached the API (no connection was made, or it broke
    while being sent): it cannot have been billed, so it is safe to send again."""
    max_total_wait: float | None = 300.0
    """Give up rather than sleep past this many seconds in total for one call (None: no bound)."""

    def __post_init__(self) -> None:
        if self.max_attempts < 1:
            raise ValueError(f"max_attempts must be at least 1, got {self.max_attempts}")
        if self.base < 0 or self.cap < 0:
            raise ValueError("base and cap must not be negative")
        if self.max_total_wait is not None and self.max_total_wait < 0:
            raise ValueError("max_total_wait must not be negative")

    @classmethod
    def disabled(cls) -> RetryPolicy:
        """A policy that never retries."""
        return cls(max_attempts=1)

    def backoff(self, retry_index: int, rand: float) -> float:
        """The backoff before retry number ``retry_index`` (0-based), given a draw in [0, 1)."""
        # Clamp the exponent: 2.0**1100 overflows, and the cap makes large exponents moot anyway.
        raw = min(self.cap, self.base * 2.0 ** min(retry_index, 64))
        return raw * rand if self.jitter else raw

    def wait(self, retry_index: int, rand: float, retry_after: float | None = None) -> float:
        """Seconds to sleep before retry ``retry_index``: never sooner than the server asked."""
        return max(retry_after or 0.0, self.backoff(retry_index, rand))

    def is_retryable(self, error: ClientError) -> bool:
        """Whether ``error`` is worth another attempt under this policy."""
        if isinstance(error, RateLimited):
            return True
        if self.retry_unsent and isinstance(error, TransportError) and not error.reached:
            return True
        return self.retry_on_server_errors and isinstance(error, ServerError | TransportError)


@dataclass(slots=True)
class ClientStats:
    """Counters of one client, for load scenarios: requests sent, retries, seconds slept."""

    attempts: int = 0
    retries: int = 0
    total_wait: float = 0.0
    rate_limited: int = 0
    """429 answers received (retried or not)."""

    def reset(self) -> None:
        """Set every counter back to zero."""
        self.attempts = self.retries = self.rate_limited = 0
        self.total_wait = 0.0


class RetryState:
    """The retry bookkeeping of one call; shared by the sync and async clients (no IO here)."""

    __slots__ = ("_failed", "_on_retry", "_policy", "_rng", "_stats", "_waited")

    def __init__(
        self,
        policy: RetryPolicy,
        *,
        rng: Callable[[], float],
        stats: ClientStats,
        on_retry: OnRetry | None = None,
    ) -> None:
        self._policy = policy
        self._rng = rng
        self._stats = stats
        self._on_retry = on_retry
        self._failed = 0
        self._waited = 0.0

    def wait_before_retry(self, error: ClientError) -> float | None:
        """Seconds to sleep before trying again after ``error``, or None to stop retrying."""
        self._failed += 1
        if isinstance(error, RateLimited):
            self._stats.rate_limited += 1
        policy = self._policy
        if self._failed >= policy.max_attempts or not policy.is_retryable(error):
            return None
        retry_after = error.retry_after if isinstance(error, RateLimited) else None
        wait = policy.wait(self._failed - 1, self._rng(), retry_after)
        if policy.max_total_wait is not None and self._waited + wait > policy.max_total_wait:
            return None
        self._waited += wait
        self._stats.retries += 1
        self._stats.total_wait += wait
        if self._on_retry is not None:
            self._on_retry(self._failed, wait, error)
        return wait
