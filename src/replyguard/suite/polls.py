"""When to poll a throttled token until it is served again: evidence at no extra billed cost.

A 429 is no reply and is not billed. After a burst's first refusal the suite polls the token
with valid calls about every ``window / 10``: a conforming target answers 429 until its window
resets, so it costs only refusals, and the first reply (the recovery call) is the one billed
call. A reply before a fixed window could have reset is what tells a bucket from a window.
One poll falls exactly where the refusal's ``retry_after`` says the token is free again, so
``ratelimit.recovers`` rests on the same calls.
"""

from __future__ import annotations

import math

__all__ = ["POLLS_PER_WINDOW", "SLACK", "most_polls", "poll_times"]

#: Polls per window: one every ``window / 10``.
POLLS_PER_WINDOW = 10
#: Seconds added to ``retry_after`` for the network (the recovery call's old slack).
SLACK = 0.25


def _span(window: float, retry_after: float | None) -> float:
    """How long after the refusal polling goes on: until the window or retry_after is past."""
    return max(window, retry_after or 0.0) + window / POLLS_PER_WINDOW + SLACK


def poll_times(
    refused_at: float, *, window: float, retry_after: float | None, now: float
) -> list[float]:
    """The times (one clock with ``refused_at`` and ``now``) to poll at, in order.

    A grid of ``window / 10`` from the refusal, plus ``refused_at + retry_after + SLACK``; the
    grid points already past collapse into one poll now (the suite did other work meanwhile).
    """
    step = window / POLLS_PER_WINDOW
    grid = [
        refused_at + k * step for k in range(1, math.floor(_span(window, retry_after) / step) + 1)
    ]
    times = sorted({*grid, *([refused_at + retry_after + SLACK] if retry_after else [])})
    future = [t for t in times if t > now]
    return [now, *future] if len(future) < len(times) else future


def most_polls(window: float, retry_after: float | None = None) -> int:
    """The most polls one refusal can cost (what the plan reserves for them)."""
    return len(poll_times(0.0, window=window, retry_after=retry_after or window, now=-1.0))
