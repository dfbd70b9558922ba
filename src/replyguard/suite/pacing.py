"""Spacing generate-reply calls so the suite's own requests are never throttled.

The documents promise ``limit`` calls per ``window`` per token. Keeping at most ``limit`` sends
in any sliding interval of ``window`` (plus a margin for network jitter) stays under the limit
whether the server counts in fixed windows (Laravel) or sliding ones.
"""

from __future__ import annotations

import threading
import time
from collections import deque
from collections.abc import Callable

__all__ = ["Pacer"]


class Pacer:
    def __init__(self, limit: int, window: float, *, margin: float | None = None,
                 clock: Callable[[], float] = time.monotonic,
                 sleep: Callable[[float], None] = time.sleep) -> None:
        self.limit = limit
        self.window = window
        self.margin = margin if margin is not None else min(1.0, 0.05 * window + 0.05)
        self._clock = clock
        self._sleep = sleep
        self._sent: dict[str, deque[float]] = {}
        self._lock = threading.Lock()
        self.waited = 0.0

    def _log(self, key: str) -> deque[float]:
        return self._sent.setdefault(key, deque())

    def delay(self, key: str) -> float:
        """Seconds to wait before the next send on ``key`` keeps within the limit."""
        now = self._clock()
        log = self._log(key)
        span = self.window + self.margin
        while log and now - log[0] >= span:
            log.popleft()
        if len(log) < self.limit:
            return 0.0
        return log[len(log) - self.limit] + span - now

    def acquire(self, key: str) -> None:
        """Wait until a send on ``key`` is within the limit, then record it."""
        with self._lock:
            wait = self.delay(key)
            if wait > 0:
                self.waited += wait
                self._sleep(wait)
            self._log(key).append(self._clock())

    def record(self, key: str) -> None:
        """Record a send made without waiting (a deliberate burst)."""
        with self._lock:
            self._log(key).append(self._clock())

    def quiet(self, key: str) -> None:
        """Wait until no send on ``key`` lies within the last window: a fresh bucket."""
        with self._lock:
            log = self._log(key)
            if log:
                wait = log[-1] + self.window + self.margin - self._clock()
                if wait > 0:
                    self.waited += wait
                    self._sleep(wait)
            log.clear()

    def pause(self, seconds: float) -> None:
        """Wait for the rate limit on purpose (a test honouring retry_after): counted as such."""
        if seconds > 0:
            with self._lock:
                self.waited += seconds
            self._sleep(seconds)

    def penalise(self, key: str, seconds: float) -> None:
        """The server throttled us anyway: wait what it asked before anything else on ``key``."""
        with self._lock:
            if seconds > 0:
                self.waited += seconds
                self._sleep(seconds)
