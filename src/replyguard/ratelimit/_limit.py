"""The documented limit, judged the same for every family.

A token is over the limit when more than ``limit`` of its calls were served within ``window``
seconds of the first of them, unless a fixed window's reset explains the extra calls: a reset
hands all slots back at once, so after it the next ``limit`` counted calls are all served. A
reset is ruled out at an instant when a refusal followed it, within the shortest window, before
``limit`` calls could have been counted. Slots handed back one by one (a token bucket, GCRA, a
sliding counter) leave such refusals between the extra calls, and fail; a first-hit or a
clock-anchored window, a sliding log and Laravel's whole-second timer never do.

The windows may be the token's own, its account's or every token's. Each scope is fitted as
one hypothesis: the calls that may fill its windows (and explain its refusals) are the calls
its windows hold, so another token's calls never explain a refusal the token's own windows
then ignore.
"""

from __future__ import annotations

import bisect
import itertools
import math
from collections.abc import Iterable
from dataclasses import dataclass, field

from replyguard.ratelimit._timeline import Counter, Timeline

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
    """The token's calls possibly counted in the window before it."""
    account: int
    """...of every token of its account."""
    everyone: int
    """...of every token."""
    with_refusals: int
    """The token's calls, refused ones too."""
    own_slack: int
    """The token's calls over one more slot's time (window + window/limit): a bucket refilling
    slightly slower than limit per window still reaches ``limit`` here, so a shortfall below
    it is never read as another token's calls."""


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
    """Where the fixed window of a group of tokens sharing it (one token, its account, every
    token) could have reset."""

    def __init__(self, tl: Timeline, members: frozenset[str], counted: Counter) -> None:
        self.tl = tl
        self.counted = counted
        calls = tl.calls
        refusals = sorted(
            (i for t in members for i in tl.refusals(t)), key=lambda i: (calls[i].sent, i)
        )
        self.sent = [calls[i].sent for i in refusals]
        # Suffix minimum of the answer times: the earliest-answered refusal sent at or after r.
        answered = [calls[i].received for i in refusals]
        self.first_answer = answered[:]
        for k in range(len(answered) - 2, -1, -1):
            self.first_answer[k] = min(answered[k], self.first_answer[k + 1])
        # The group's served calls by send time, with the suffix minimum of their answers: the
        # earliest-answered served call sent at or after a given instant.
        served = sorted((calls[i].sent, calls[i].received) for i in _served_of(tl, members))
        self.served_sent = [a for a, _ in served]
        self.served_answer = [b for _, b in served]
        for k in range(len(served) - 2, -1, -1):
            self.served_answer[k] = min(self.served_answer[k], self.served_answer[k + 1])
        self.cache: dict[tuple[float, int], bool] = {}

    def possible(self, r: float, before: int = 0) -> bool:
        """No refusal rules out a reset at ``r`` when ``before`` of the group's calls answered
        across r are taken as processed before it (they cannot fill the new window)."""
        key = (r, before)
        if key in self.cache:
            return self.cache[key]
        limits = self.tl.limits
        k = bisect.bisect_left(self.sent, r)
        ok = True
        if k < len(self.sent):
            q_answer = self.first_answer[k]
            end = r + limits.shortest_window
            # The window opened at r lasts at least the shortest window: a refusal surely in it
            # needs `limit` of the group's counted calls (never refusals) between r and it.
            if q_answer < end:
                ok = self.counted.possibly(r, q_answer) - before >= limits.limit
                # A refusal means the window was full: it serves the group nothing more until
                # it resets, whatever filled it (a 422 that counted is never served, so the
                # served calls alone would not show the window over-full).
                m = bisect.bisect_right(self.served_sent, q_answer)
                if ok and m < len(self.served_sent) and self.served_answer[m] < end:
                    ok = False
        self.cache[key] = ok
        return ok


def _served_of(tl: Timeline, tokens: Iterable[str]) -> list[int]:
    """The served calls of ``tokens``."""
    return [i for t in tokens for i in tl.served(t)]


class _Served:
    """Served calls (one token's, or a group's), for counts over spans."""

    def __init__(self, tl: Timeline, items: list[int]) -> None:
        calls = tl.calls
        self.items = sorted(items, key=lambda i: calls[i].sent)
        self.sent = [calls[i].sent for i in self.items]
        by_answer = sorted(self.items, key=lambda i: calls[i].received)
        self.received = [calls[i].received for i in by_answer]
        self.latest_sent: list[float] = []
        top = -math.inf
        for i in by_answer:
            top = max(top, calls[i].sent)
            self.latest_sent.append(top)
        self.longest = max((calls[i].received - calls[i].sent for i in self.items), default=0.0)
        self.calls = calls

    def surely(self, a: float, b: float) -> int:
        """Calls surely processed in [a, b): sent at or after a, answered before b."""
        before_b = bisect.bisect_left(self.received, b)
        sent_before_a = bisect.bisect_left(self.sent, a)
        # Calls sent before a and answered at or after b were counted by neither side.
        first = bisect.bisect_left(self.sent, a - self.longest)
        spanning = sum(1 for i in self.items[first:sent_before_a] if self.calls[i].received >= b)
        return before_b - sent_before_a + spanning

    def across(self, r: float) -> int:
        """Calls sent before r and answered at or after it (on either side of r)."""
        return bisect.bisect_left(self.sent, r) - bisect.bisect_left(self.received, r)

    def latest_sent_before(self, b: float) -> float:
        """The latest send time of the calls answered before b (-inf when none)."""
        k = bisect.bisect_left(self.received, b)
        return self.latest_sent[k - 1] if k else -math.inf


def _pieces(tl: Timeline) -> list[tuple[float, float]]:
    """The time axis cut at every call's send and answer time: each instant, and each open
    span between two of them, as (first, last) position. Every count below is the same
    anywhere inside one piece."""
    events = tl.events
    out: list[tuple[float, float]] = []
    for a, b in itertools.pairwise(events):
        out.append((a, a))
        if b - a > 2 * _EPS:
            out.append((a + _EPS, b - _EPS))
    if events:
        out.append((events[-1], events[-1]))
        out.append((events[-1] + _EPS, events[-1] + 2 * tl.limits.window))
    return out


@dataclass(slots=True)
class _Starts:
    """Window starts reached with the same number of calls carried in: the earliest position
    in each piece, and the piece's end, in time order."""

    at: list[float] = field(default_factory=list)
    end: list[float] = field(default_factory=list)


def _windows_fit(tl: Timeline, members: frozenset[str], resets: _Resets) -> bool:
    """Whether fixed windows hold every served call of the group: each window lasts between
    the shortest window and the window, starts with all slots back (no refusal rules it out)
    and serves at most ``limit``; the first may have opened before the run.

    A call answered across a window's start may belong to either side: it is counted on the
    earlier side while that has room, else carried into the later window (``carried``).
    """
    limits = tl.limits
    served = _Served(tl, _served_of(tl, members))
    if not served.items:
        return True
    shortest, window, limit = limits.shortest_window, limits.window, limits.limit
    first = tl.calls[served.items[0]]
    last_sent = served.sent[-1]
    if len(served.items) <= limit and last_sent - first.received < window:
        return True
    reached: dict[int, _Starts] = {}
    for lo, hi in _pieces(tl):
        across = served.across(lo)
        latest = served.latest_sent_before(lo)
        # (carried out, earliest start in this piece): a later start leaves less room for the
        # next window, carrying fewer out leaves more.
        options: dict[int, float] = {}
        offers: list[tuple[int, float]] = []
        before = served.surely(-math.inf, lo)
        if latest == -math.inf or latest - first.received < window:
            offers.append((before, lo))
        for carried, starts in reached.items():
            last = bisect.bisect_right(starts.at, hi - shortest) - 1
            # The previous window must still hold the last call before this piece.
            earliest = bisect.bisect_left(starts.end, latest - window + _EPS)
            if last < earliest:
                continue
            # A later previous start holds fewer calls between but pushes this start later:
            # for each count, the earliest previous start that keeps to it.
            inside_last = served.surely(starts.at[last], lo) + carried
            for target in range(limit, inside_last - 1, -1):
                a, b = earliest, last
                while a < b:
                    mid = (a + b) // 2
                    if served.surely(starts.at[mid], lo) + carried <= target:
                        b = mid
                    else:
                        a = mid + 1
                at = max(starts.at[a], latest - window + _EPS)
                offers.append((served.surely(starts.at[a], lo) + carried, max(lo, at + shortest)))
        for inside, start in offers:
            if inside > limit or start > hi:
                continue
            out = across - min(across, limit - inside)
            # The calls kept on the earlier side cannot fill the new window.
            if not resets.possible(start, across - out):
                if not resets.possible(hi, across - out):
                    continue
                start = hi
            options[out] = min(start, options.get(out, math.inf))
        for out, start in options.items():
            if start > hi:
                continue
            entry = reached.setdefault(out, _Starts())
            entry.at.append(start)
            entry.end.append(hi)
            if served.surely(lo, math.inf) + out <= limit and last_sent < hi + window:
                return True
    return False


def _explained(tl: Timeline, token: str, fits: dict[frozenset[str], bool]) -> bool:
    """Whether fixed windows explain every call the token was served, in one of the scopes
    its window may have: its own, its account's, every token's. A scope is one hypothesis
    throughout: the calls that fill its windows are the ones its windows count, so another
    token's calls never explain a refusal that the token's own fit then ignores.
    (A shared window is ratelimit.per-token's to judge, not this rule's.)"""
    account = tl.account[token]
    scopes = (
        (frozenset((token,)), tl.token_counter(token)),
        (frozenset(t for t, a in tl.account.items() if a == account), tl.account_counter(token)),
        (frozenset(tl.tokens), tl.all_counter),
    )
    for members, counted in scopes:
        if members not in fits:
            fits[members] = _windows_fit(tl, members, _Resets(tl, members, counted))
        if fits[members]:
            return True
    return False


def _bursts(
    tl: Timeline, token: str, findings: LimitFindings, fits: dict[frozenset[str], bool]
) -> None:
    limits = tl.limits
    served = tl.served(token)
    if len(served) <= limits.limit:
        return
    calls = tl.calls
    over: list[Burst] = []
    for n, a in enumerate(served):
        end = calls[a].sent + limits.window
        burst = [i for i in served[n:] if calls[i].received < end]
        if len(burst) > limits.limit and not (over and set(burst) <= set(over[-1].calls)):
            span = max(calls[i].received for i in burst) - calls[a].sent
            over.append(Burst(token, tuple(burst), span))
    if not over:
        return
    if _explained(tl, token, fits):
        findings.explained += len(over)
        return
    # The first burst over the limit, as a client meets it, is the evidence.
    findings.over.append(max(over[:3], key=lambda b: len(b.calls)))


def _refusals(tl: Timeline, token: str, findings: LimitFindings) -> None:
    limits = tl.limits
    # A full window or a full sliding window both hold `limit` counted calls within the window
    # before a refusal: a count over that span clears both.
    horizon = limits.window
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
        # Refused calls can fill a window only after the token was last served again after a
        # refusal: a return means the window had reset.
        back = _last_return(tl, token, c.sent, refusal_received[0] if refusal_received else 0.0)
        others = bisect.bisect_left(refusal_sent, c.received) - max(
            bisect.bisect_left(refusal_received, lo), bisect.bisect_left(refusal_sent, back)
        )
        findings.unjustified.append(
            Refusal(
                token,
                q,
                own,
                account.possibly(lo, c.received),
                tl.all_counter.possibly(lo, c.received),
                own + max(0, others - 1),
                mine.possibly(lo - limits.window / limits.limit, c.received),
            )
        )


def _last_return(tl: Timeline, token: str, before: float, first_refusal: float) -> float:
    """The send time of the token's last call served before ``before`` after its first refusal
    was answered (-inf when none)."""
    latest = -math.inf
    for i in tl.served(token):
        c = tl.calls[i]
        if c.received > before:
            break
        if c.sent >= first_refusal:
            latest = max(latest, c.sent)
    return latest


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
    fits: dict[frozenset[str], bool] = {}
    for token in tl.tokens:
        _bursts(tl, token, findings, fits)
        _refusals(tl, token, findings)
        _one_by_one(tl, token, findings)
    findings.over.sort(key=lambda b: (-len(b.calls), b.span))
    return findings
