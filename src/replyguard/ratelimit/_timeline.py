"""The calls of one run arranged for the model: who is served, who refused, and counts over time.

Every count is made over send/receive intervals: the server processed a call at an unknown
instant between its ``sent`` and ``received``. A call *possibly* in a span is one whose interval
meets it; a call *surely* in it lies wholly inside. Counts that could clear a target use the
possible calls, counts that could blame it the sure ones, so latency never makes a fail.
"""

from __future__ import annotations

import bisect
import math
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field

from replyguard.ratelimit._calls import (
    BAD_TOKEN,
    CUT,
    EXPECTED_STATUS,
    NO_ANSWER,
    NO_TOKEN,
    Call,
    Limits,
)

__all__ = ["Counter", "Timeline"]


@dataclass(slots=True)
class Counter:
    """Counts calls possibly processed in a span, from their sorted send and receive times."""

    sent: list[float] = field(default_factory=list)
    received: list[float] = field(default_factory=list)

    @classmethod
    def of(cls, calls: Iterable[Call]) -> Counter:
        """A counter over ``calls``."""
        items = list(calls)
        return cls(sorted(c.sent for c in items), sorted(c.received for c in items))

    def possibly(self, lo: float, hi: float) -> int:
        """Calls possibly processed in [lo, hi]: received >= lo and sent <= hi (a call sent at
        the instant another was answered may have been processed before it)."""
        if hi < lo:
            return 0
        # A call received before lo was also sent before hi, so the two counts subtract.
        return bisect.bisect_right(self.sent, hi) - bisect.bisect_left(self.received, lo)


class Timeline:
    """The calls of one run, classified once: served, refused, possibly counted."""

    def __init__(self, calls: Sequence[Call], limits: Limits, *, fresh: bool) -> None:
        self.calls = list(calls)
        self.limits = limits
        self.fresh = fresh
        self.start = min((c.sent for c in self.calls), default=0.0)
        self.tokens: dict[str, list[int]] = {}
        for i in sorted(range(len(self.calls)), key=lambda i: self.calls[i].sent):
            self.tokens.setdefault(self.calls[i].token, []).append(i)
        self.account = {t: self._account_of(t) for t in self.tokens}
        countable = [i for i, c in enumerate(self.calls) if self._plainly_countable(c)]
        self.over_limit: set[int] = set()
        by_token = {
            t: Counter.of(self.calls[i] for i in countable if self.calls[i].token == t)
            for t in self.tokens
        }
        window = limits.window + limits.early
        for i, c in enumerate(self.calls):
            if self._odd_answer(c):
                seen = by_token[c.token].possibly(c.sent - window, c.received)
                if seen >= limits.limit:
                    self.over_limit.add(i)
        self.refused = {i for i, c in enumerate(self.calls) if c.status == 429} | self.over_limit
        self.nonrefused = sorted(
            (i for i, c in enumerate(self.calls) if i not in self.refused and self._limited(c)),
            key=lambda i: self.calls[i].sent,
        )
        self.nonrefused_sent = [self.calls[i].sent for i in self.nonrefused]
        self.longest = max((c.received - c.sent for c in self.calls), default=0.0)
        self.all_counter = Counter.of(self.calls[i] for i in self.nonrefused)
        self.events = sorted({t for c in self.calls for t in (c.sent, c.received)})
        self._token_counter: dict[str, Counter] = {}
        self._account_counter: dict[str, Counter] = {}
        self._busy: dict[str, Counter] = {}

    # -- classification ------------------------------------------------------------------

    def _account_of(self, token: str) -> str:
        return next(
            (self.calls[i].account for i in self.tokens[token] if self.calls[i].account), ""
        )

    @staticmethod
    def _limited(c: Call) -> bool:
        """A call the token's limiter may have counted (its own token, known or not)."""
        return c.kind not in (BAD_TOKEN, NO_TOKEN) or c.status == 429

    @staticmethod
    def _plainly_countable(c: Call) -> bool:
        """Served, or the answer its kind gets with room in the limit, or no answer."""
        if c.status in (NO_ANSWER, CUT):
            return c.kind not in (BAD_TOKEN, NO_TOKEN)
        return c.served or (c.status == EXPECTED_STATUS.get(c.kind) and not 200 <= c.status < 300)

    @staticmethod
    def _odd_answer(c: Call) -> bool:
        """An answer that is neither a 429 nor what the call's kind gets (a 503, a 500, a 200
        with an error body): over the limit, it is the limiter's refusal."""
        if c.status in (NO_ANSWER, CUT, 429) or c.kind in (BAD_TOKEN, NO_TOKEN):
            return False
        if 200 <= c.status < 300:
            return c.is_reply is False
        return c.status != EXPECTED_STATUS.get(c.kind)

    # -- views -----------------------------------------------------------------------------

    def of(self, token: str, which: Iterable[int]) -> list[int]:
        """The indexes of ``which`` that belong to ``token``, by send time."""
        wanted = set(which)
        return [i for i in self.tokens.get(token, []) if i in wanted]

    def served(self, token: str) -> list[int]:
        """The token's served calls, by send time."""
        return [i for i in self.tokens.get(token, []) if self.calls[i].served]

    def refusals(self, token: str) -> list[int]:
        """The token's refused calls (429 or an over-limit answer), by send time."""
        return [i for i in self.tokens.get(token, []) if i in self.refused]

    def token_counter(self, token: str) -> Counter:
        """Non-refused calls of the token that its limiter may have counted."""
        if token not in self._token_counter:
            self._token_counter[token] = Counter.of(
                self.calls[i] for i in self.nonrefused if self.calls[i].token == token
            )
        return self._token_counter[token]

    def account_counter(self, token: str) -> Counter:
        """Non-refused calls of every token of the token's account."""
        account = self.account[token]
        if account not in self._account_counter:
            members = {t for t, a in self.account.items() if a == account}
            self._account_counter[account] = Counter.of(
                self.calls[i] for i in self.nonrefused if self.calls[i].token in members
            )
        return self._account_counter[account]

    def events_in(self, lo: float, hi: float) -> list[float]:
        """Every call's send and answer time strictly between ``lo`` and ``hi``."""
        return self.events[
            bisect.bisect_right(self.events, lo) : bisect.bisect_left(self.events, hi)
        ]

    def first(self, token: str) -> Call:
        """The token's first call."""
        return self.calls[self.tokens[token][0]]

    def at(self, i: int) -> str:
        """A call's time from the run's first call, for evidence."""
        return f"+{self.calls[i].sent - self.start:.2f}s"

    def may_predate(self, token: str, i: int) -> bool:
        """A window opened before the run may still hold call ``i`` of ``token``."""
        if self.fresh:
            return False
        horizon = self.limits.window + self.limits.early
        return self.calls[i].sent < self.first(token).sent + horizon

    def quiet_before(self, i: int, span: float) -> bool:
        """No call of the call's account possibly processed in the ``span`` before call ``i``."""
        c = self.calls[i]
        if not self.fresh and c.sent - span < self.start:
            return False
        account = self.account[c.token]
        if account not in self._busy:
            self._busy[account] = Counter.of(self.calls[j] for j in self.tokens_of_account(account))
        # Calls sent with it or after it are not before it (nor is the call itself).
        before = self._busy[account].possibly(c.sent - span, c.sent)
        sent = self._busy[account].sent
        at_once = bisect.bisect_right(sent, c.sent) - bisect.bisect_left(sent, c.sent)
        return before - at_once == 0

    def tokens_of_account(self, account: str) -> list[int]:
        """Every call of the account's tokens."""
        return [i for t, a in self.account.items() if a == account for i in self.tokens[t]]


def finite_number(value: object) -> float | None:
    """``value`` as seconds when it is a finite JSON number (not a boolean), else None."""
    if isinstance(value, bool) or not isinstance(value, int | float):
        return None
    return float(value) if math.isfinite(value) else None
