"""When a slow network makes a rate-limit window unjudgeable, from send and answer times.

Calls meant to land in one window are judged by when they were sent and answered: the server
counted each one somewhere in between. If the span from the first send to the last answer is
long enough for a limiter to free a call (a bucket refills one call every ``window / limit``
seconds; a fixed or sliding window frees all of them after ``window``), a call served past the
limit proves nothing, and the rule is not tested, with the figures.
"""

from __future__ import annotations

from collections.abc import Sequence

from replyguard.exchange import Exchange

__all__ = ["unjudgeable_window"]


def unjudgeable_window(exchanges: Sequence[Exchange], limit: int, window: float) -> str | None:
    """Why these calls cannot show a limit broken within one window, or None when they can."""
    timed = [e for e in exchanges if e.answered_at > 0]
    if len(timed) < 2 or limit < 1:
        return None
    span = max(e.answered_at for e in timed) - min(e.sent_at for e in timed)
    freed_after = window / limit
    if span < freed_after:
        return None
    slowest = max(e.answered_at - e.sent_at for e in timed)
    return (
        f"not judged: the {len(timed)} calls took {span:.1f} s from the first send to the last "
        f"answer (answers took up to {slowest:.1f} s), and a limiter of {limit} calls per "
        f"{window:g} s may free a call every {freed_after:.1f} s: a call served past the limit "
        "proves nothing at this latency"
    )
