"""The documented limit, judged the same for every family.

A token is over the limit when more than ``limit`` of its calls were served within ``window``
seconds of the first of them, unless a fixed window's reset explains the extra calls: a reset
hands all slots back at once, so after it the next ``limit`` counted calls are all served. A
reset is ruled out at an instant when a refusal followed it, within the shortest window, before
``limit`` calls could have been counted. Slots handed back one by one (a token bucket, GCRA, a
sliding counter) leave such refusals between the extra calls, and fail; a first-hit or a
clock-anchored window, a sliding log and Laravel's whole-second timer never do.
"""

from __future__ import annotations

import bisect
import math
from dataclasses import dataclass, field

from replyguard.ratelimit._timeline import Timeline

__all__ = ["Burst", "LimitFindings", "Refusal", "find"]

_EPS = 1e-6


@dataclass(frozen=True, slots=True)
class Burst:
    """More than ``limit`` served within a window of the first: ``calls`` (first one first)."""

    token: str
    calls: tuple[int, ...]
    span: float
    """Seconds from the first call's send to the last one's answer."""


@dataclass(frozen=True, slots=True)
class Refusal:
    """A refusal the token's own calls do not justify, and what does."""

    token: str
    call: int
    own: int
    account: int
    everyone: int
    with_refusals: int


@dataclass(slots=True)
class LimitFindings:
    """What the limit analysis found, per kind."""

    over: list[Burst] = field(default_factory=list)
    """Bursts no fixed window explains (the worst first)."""
    explained: int = 0
    """Bursts over the limit that a fixed window's reset explains."""
    justified: list[int] = field(default_factory=list)
    """Refusals with at least ``limit`` of the token's calls before them (a full window)."""
    unjustified: list[Refusal] = field(default_factory=list)
    one_by_one: list[tuple[int, int, int]] = field(default_factory=list)
    """(refusal, served, refusal) of one token with no room for a reset between them."""


class _Resets:
    """Where a fixed window of one token could have reset."""

    def __init__(self, tl: Timeline, token: str) -> None:
        self.tl = tl
        refusals = tl.refusals(token)
        self.sent = [tl.calls[i].sent for i in refusals]
        # Suffix minimum of the answer times: the earliest-answered refusal sent at or after r.
        answered = [tl.calls[i].received for i in refusals]
        self.first_answer = answered[:]
        for k in range(len(answered) - 2, -1, -1):
            self.first_answer[k] = min(answered[k], self.first_answer[k + 1])
        self.cache: dict[float, bool] = {}

    def possible(self, r: float) -> bool:
        """No refusal rules out a reset at ``r``."""
        if r in self.cache:
            return self.cache[r]
        limits = self.tl.limits
        k = bisect.bisect_left(self.sent, r)
        ok = True
        if k < len(self.sent):
            q_answer = self.first_answer[k]
            # The window opened at r lasts at least the shortest window: a refusal surely in it
            # needs `limit` counted calls (never refusals, the first ones) between r and it.
            # Counting every token's calls keeps a shared window from looking refuted.
            if q_answer < r + limits.shortest_window:
                ok = self.tl.all_counter.possibly(r, q_answer) >= limits.limit
        self.cache[r] = ok
        return ok


def _explained(tl: Timeline, resets: _Resets, burst: list[int], anchor: int) -> bool:
    """Whether fixed-window resets (at least the shortest window apart) split ``burst`` into
    groups of at most ``limit`` served calls each."""
    limits = tl.limits
    calls = tl.calls
    # Resets at least the shortest window apart: at most this many groups fit in a window.
    groups = math.floor(limits.window / limits.shortest_window) + 2
    if len(burst) > groups * limits.limit:
        return False
    lo = calls[anchor].sent
    hi = lo + limits.window
    # Every count the test below makes changes only at a call's send or answer time: trying
    # each such time and an instant after it tries every distinct place for a reset.
    events = [lo, *tl.events_in(lo, hi)]
    times = sorted({t for e in events for t in (e, e + _EPS) if lo < t < hi})
    candidates = [r for r in times if resets.possible(r)]

    def sure(a: float, b: float) -> int:
        return sum(1 for i in burst if calls[i].sent >= a and calls[i].received < b)

    # Fewer calls lie surely between a later earlier reset and r: the latest possible earlier
    # reset at least the shortest window before r is the only one worth trying.
    reachable: list[float] = []
    for r in candidates:
        k = bisect.bisect_right(reachable, r - limits.shortest_window) - 1
        if sure(float("-inf"), r) <= limits.limit or (
            k >= 0 and sure(reachable[k], r) <= limits.limit
        ):
            reachable.append(r)
            if sure(r, float("inf")) <= limits.limit:
                return True
    return False


def _bursts(tl: Timeline, token: str, findings: LimitFindings) -> None:
    limits = tl.limits
    served = tl.served(token)
    if len(served) <= limits.limit:
        return
    resets = _Resets(tl, token)
    calls = tl.calls
    covered: set[tuple[int, ...]] = set()
    for n, a in enumerate(served):
        end = calls[a].sent + limits.window
        burst = [i for i in served[n:] if calls[i].received < end]
        if len(burst) <= limits.limit:
            continue
        key = tuple(burst)
        if any(set(key) <= set(c) for c in covered):
            continue
        covered.add(key)
        if _explained(tl, resets, burst, a):
            findings.explained += 1
            continue
        span = max(calls[i].received for i in burst) - calls[a].sent
        findings.over.append(Burst(token, key, span))
        return  # one unexplained burst is the evidence: the first, as a client meets it


def _refusals(tl: Timeline, token: str, findings: LimitFindings) -> None:
    limits = tl.limits
    horizon = limits.window + limits.early
    own_refusals = tl.refusals(token)
    mine = tl.token_counter(token)
    account = tl.account_counter(token)
    refusal_sent = [tl.calls[i].sent for i in own_refusals]
    refusal_received = sorted(tl.calls[i].received for i in own_refusals)
    for q in own_refusals:
        c = tl.calls[q]
        lo = c.sent - horizon
        own = mine.possibly(lo, c.received)
        if own >= limits.limit:
            findings.justified.append(q)
            continue
        if tl.may_predate(token, q):
            continue
        others = bisect.bisect_left(refusal_sent, c.received) - bisect.bisect_left(
            refusal_received, lo
        )
        findings.unjustified.append(
            Refusal(
                token,
                q,
                own,
                account.possibly(lo, c.received),
                tl.all_counter.possibly(lo, c.received),
                own + max(0, others - 1),
            )
        )


def _one_by_one(tl: Timeline, token: str, findings: LimitFindings) -> None:
    """Served calls between two refusals of the token with no room for a reset between."""
    limits = tl.limits
    calls = tl.calls
    refusals = tl.refusals(token)
    if len(refusals) < 2:
        return
    by_answer = sorted(refusals, key=lambda i: calls[i].received)
    answers = [calls[i].received for i in by_answer]
    sent = [calls[i].sent for i in refusals]
    for s in tl.served(token):
        k = bisect.bisect_right(answers, calls[s].sent) - 1
        m = bisect.bisect_left(sent, calls[s].received)
        if k < 0 or m >= len(refusals):
            continue
        before, after = by_answer[k], refusals[m]
        if calls[after].received - calls[before].sent >= limits.shortest_window:
            continue
        room = tl.all_counter.possibly(calls[before].sent, calls[after].received)
        if room < limits.limit:
            findings.one_by_one.append((before, s, after))


def find(tl: Timeline) -> LimitFindings:
    """Bursts over the limit, refusals with and without a full window, one-by-one slots."""
    findings = LimitFindings()
    for token in tl.tokens:
        _bursts(tl, token, findings)
        _refusals(tl, token, findings)
        _one_by_one(tl, token, findings)
    findings.over.sort(key=lambda b: (-len(b.calls), b.span))
    return findings
