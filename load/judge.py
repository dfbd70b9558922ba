"""The conformance judge: pure functions over what the load users observed.

No locust or gevent here (tests import this module in a plain pytest process). The input is a
list of :class:`Observation`, one per HTTP exchange, with client-side times; the output is a
:class:`Verdict` with violations counted by kind and one example each.

Windows are reconstructed per token the way Laravel's throttle opens them: a window starts at the
first request served after the previous window ended and lasts ``window`` seconds. The server
processed each request at an unknown instant between its send and receive times, so every
attribution is made over that interval and ambiguous requests are not judged.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

__all__ = [
    "CUT",
    "KINDS",
    "NO_ANSWER",
    "Observation",
    "Settings",
    "Verdict",
    "judge",
]

NO_ANSWER = 0
"""Status of a request that got no HTTP answer (transport error): the server may have counted it."""
CUT = -1
"""Status of a request cut off when the test stopped: outcome unknown, not a violation."""

OVER_LIMIT = "more than limit served in one window"
TOO_FEW = "throttled before the limit was reached"
SHARED = "limit shared between tokens of one account"
BAD_BODY = "429 body not as documented"
HEADER_MISMATCH = "Retry-After header disagrees with retry_after"
DISHONEST = "retry_after dishonest (still throttled after waiting it)"
TOO_LONG = "retry_after longer than the window needed"
"""Observed, not a violation: the documents do not say retry_after is the shortest wait."""
NOT_FULL = "a full window served fewer than the limit"
UNEXPECTED = "unexpected status"
NO_RESPONSE = "no answer (transport error)"
GAVE_UP = "well-behaved client gave up"
INEFFICIENT = "served rate far below the limit"
NOT_OVERLOADED = "inconclusive: a token was never throttled"
_CLOCK = 0.05
"""Seconds of clock disagreement tolerated between load processes (one machine)."""
KINDS = (
    OVER_LIMIT,
    TOO_FEW,
    SHARED,
    BAD_BODY,
    HEADER_MISMATCH,
    DISHONEST,
    NOT_FULL,
    UNEXPECTED,
    NO_RESPONSE,
    GAVE_UP,
    INEFFICIENT,
    NOT_OVERLOADED,
)
#: Kinds recorded as observations: reported, never failing the run.
OBSERVED_KINDS = (TOO_LONG,)


@dataclass(slots=True, frozen=True)
class Observation:
    """One exchange as a client saw it. ``token`` is a label such as ``primary``, never a secret."""

    token: str
    sent: float
    received: float
    status: int
    retry_after: Any = None
    """The body's ``retry_after`` exactly as decoded (any JSON value), None when absent."""
    message: Any = None
    """The body's ``message`` as decoded."""
    retry_after_header: str | None = None
    body_is_object: bool = True
    scenario: str = ""

    def to_row(self) -> list[Any]:
        """A compact JSON-able row, for sending observations between locust processes."""
        return [
            self.token,
            self.sent,
            self.received,
            self.status,
            self.retry_after,
            self.message,
            self.retry_after_header,
            self.body_is_object,
            self.scenario,
        ]

    @classmethod
    def from_row(cls, row: Sequence[Any]) -> Observation:
        """The inverse of :meth:`to_row`."""
        return cls(
            str(row[0]),
            float(row[1]),
            float(row[2]),
            int(row[3]),
            row[4],
            row[5],
            row[6],
            bool(row[7]),
            str(row[8]),
        )


@dataclass(slots=True, frozen=True)
class Settings:
    """What the judge needs to know about the target and the run."""

    limit: int
    window: float
    check_rate_limit: bool = True
    """Judge windows, bodies and retry_after (off for the throughput scenario)."""
    require_overload: Sequence[str] = ()
    """Tokens that must have been throttled at least once, else the run proves nothing."""
    account_tokens: Sequence[str] = ()
    """Tokens of one account: a shortfall explained by their combined use is named as sharing."""
    min_efficiency: float | None = None
    """Well-behaved scenario: served / (limit * ceil(span / window)) must reach this, per token."""
    efficiency_tokens: Sequence[str] = ()
    exact_windows: bool = False
    """Soak: every window but each token's last must serve exactly ``limit`` (all overloaded)."""


@dataclass(slots=True)
class Verdict:
    """Violations counted by kind, one example each, and figures worth reporting."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    observations: int = 0
    observed: dict[str, int] = field(default_factory=dict)
    """Behaviour worth reporting that breaks no documented rule (counted by kind)."""
    notes: list[str] = field(default_factory=list)
    """What this run could not test, and why."""

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not self.counts

    def add(self, kind: str, example: str) -> None:
        """Count one violation of ``kind`` (or observation, see OBSERVED_KINDS)."""
        table = self.observed if kind in OBSERVED_KINDS else self.counts
        table[kind] = table.get(kind, 0) + 1
        self.examples.setdefault(kind, example)

    def lines(self) -> list[str]:
        """Human-readable summary lines (no tokens: observations carry only labels)."""
        head = "PASS" if self.passed else "FAIL"
        out = [f"replyguard verdict: {head} ({self.observations} requests judged)"]
        for name, value in sorted(self.figures.items()):
            out.append(f"  {name}: {value:g}")
        for kind, count in sorted(self.counts.items(), key=lambda item: -item[1]):
            out.append(f"  VIOLATION {kind}: {count}x, e.g. {self.examples[kind]}")
        for kind, count in sorted(self.observed.items()):
            out.append(f"  OBSERVED {kind}: {count}x, e.g. {self.examples[kind]}")
        out.extend(f"  NOT TESTED {note}" for note in self.notes)
        return out

    def to_dict(self) -> dict[str, Any]:
        """JSON-able form for the web UI."""
        return {**asdict(self), "passed": self.passed}


def _counted(o: Observation) -> bool:
    # Laravel's throttle counts every request it lets through, whatever the handler answers
    # (a 422 counts too); a refused 429 does not. A 401 never reaches the throttle.
    return o.status not in (429, 401, NO_ANSWER, CUT)


def _maybe_counted(o: Observation) -> bool:
    return _counted(o) or o.status in (NO_ANSWER, CUT)


@dataclass(slots=True)
class _Window:
    lo: float
    """Earliest and latest possible start."""
    hi: float
    sure: list[Observation]
    possible: list[Observation]


def _windows(served: list[Observation], unknown: list[Observation], window: float) -> list[_Window]:
    """Greedy Laravel-style windows over one token's served requests.

    Each window's start is known only as an interval [lo, hi]: it is the processing instant of
    the first request served after the previous window ended.
    """
    windows: list[_Window] = []
    remaining = sorted(served, key=lambda o: o.sent)
    after = -math.inf  # every request sent at or after this was surely processed after the end
    lo = -math.inf
    for _ in range(len(served)):  # each round consumes at least one request
        if not remaining:
            break
        starters = [o for o in remaining if o.sent >= after]
        if not starters:
            break  # only ambiguous requests left: not judged
        starter = min(starters, key=lambda o: o.received)
        lo = max(remaining[0].sent, lo + window) if windows else remaining[0].sent
        hi = starter.received
        sure = [o for o in starters if o.received < lo + window]
        possible = [o for o in remaining if o.sent < hi + window]
        possible += [o for o in unknown if o.received >= lo and o.sent < hi + window]
        windows.append(_Window(lo, hi, sure, possible))
        done = {id(o) for o in sure} | {id(starter)}
        remaining = [o for o in remaining if id(o) not in done and o.received >= lo + window]
        after = hi + window
    return windows


def _check_body(o: Observation, settings: Settings, verdict: Verdict) -> None:
    top = math.ceil(settings.window)
    ra = o.retry_after
    ok_value = isinstance(ra, int) and not isinstance(ra, bool) and 1 <= ra <= top
    if not o.body_is_object or not isinstance(o.message, str) or not ok_value:
        verdict.add(
            BAD_BODY,
            f"[{o.token}] message={o.message!r} retry_after={ra!r} "
            f"(documented: a message string and an integer 1..{top})",
        )
        return
    header = o.retry_after_header
    if header is not None and header.strip() != str(ra):
        verdict.add(HEADER_MISMATCH, f"[{o.token}] Retry-After {header!r}, retry_after {ra}")


def _judge_token(
    token: str,
    obs: list[Observation],
    others: list[Observation],
    settings: Settings,
    verdict: Verdict,
) -> None:
    limit, window = settings.limit, settings.window
    served = sorted((o for o in obs if _counted(o)), key=lambda o: o.sent)
    unknown = [o for o in obs if o.status in (NO_ANSWER, CUT)]
    throttled = sorted((o for o in obs if o.status == 429), key=lambda o: o.sent)
    windows = _windows(served, unknown, window)
    if settings.exact_windows:
        for n, w in enumerate(windows[:-1]):
            if len(w.possible) < limit:
                verdict.add(
                    NOT_FULL,
                    f"[{token}] window {n + 1} served {len(w.possible)} "
                    f"(limit {limit}) while overloaded",
                )
        verdict.figures[f"{token}: windows"] = len(windows)
    for w in windows:
        if len(w.sure) > limit:
            start = w.sure[0].sent - (served[0].sent if served else 0)
            verdict.add(
                OVER_LIMIT,
                f"[{token}] {len(w.sure)} served in the {window:g}s window "
                f"opened at +{start:.2f}s (limit {limit})",
            )
    t0 = min(o.sent for o in obs)
    for q in throttled:
        home = _home_window(q, windows, window)
        # A 429 is justified under a fixed window (limit served in its window so far) or a
        # sliding one (limit served in the window-length before it): either model passes.
        if home is not None:
            in_window = len(home.possible)
        elif q.sent < t0 + window or any(
            w.lo - _CLOCK <= q.received and q.sent < w.hi + window + _CLOCK for w in windows
        ):
            # It may belong to a window, or to one opened before the run: not judged.
            in_window = limit
        else:
            # No window of this token can hold it: nothing of its own was counted before it.
            in_window = sum(
                1 for o in unknown if o.received > q.sent - window and o.sent < q.received
            )
        sliding = sum(
            1 for o in served + unknown if o.received > q.sent - window and o.sent < q.received
        )
        if in_window < limit and sliding < limit:
            mine = max(in_window, sliding)
            shared = sum(
                1
                for o in others
                if _maybe_counted(o) and o.received > q.sent - window and o.sent < q.received
            )
            at = f"+{q.sent - t0:.2f}s"
            if shared and mine + shared >= limit:
                verdict.add(
                    SHARED,
                    f"[{token}] throttled at {at} after {mine} of its own and "
                    f"{shared} of another token's requests (limit {limit} each)",
                )
            else:
                verdict.add(
                    TOO_FEW,
                    f"[{token}] throttled at {at} after only {mine} served "
                    f"in the window (limit {limit})",
                )
    for q in throttled:
        if not (isinstance(q.retry_after, int | float) and not isinstance(q.retry_after, bool)):
            continue
        home = _home_window(q, windows, window)
        if home is None:
            continue
        # Laravel's retry_after is the ceiling of the seconds left, so the window has ended by
        # q.received + retry_after: a later 429 in the same window proves it too short.
        deadline = q.received + q.retry_after
        later = [o for o in throttled if o.sent >= deadline and _surely_in(o, home, window)]
        if later:
            verdict.add(
                DISHONEST,
                f"[{token}] retry_after {q.retry_after} at +{q.sent - t0:.2f}s"
                f", still refused {later[0].sent - q.received:.2f}s later",
            )
            continue
        nxt = _next_window(home, windows)
        # ...and had not ended before q.sent + retry_after - 1: serving earlier proves it too long.
        if nxt is not None and nxt.hi < q.sent + q.retry_after - 1 - _CLOCK:
            verdict.add(
                TOO_LONG,
                f"[{token}] retry_after {q.retry_after} at "
                f"+{q.sent - t0:.2f}s, but served again "
                f"{nxt.hi - q.sent:.2f}s later",
            )


def _surely_in(o: Observation, w: _Window, window: float) -> bool:
    return o.sent >= w.hi and o.received < w.lo + window


def _home_window(q: Observation, windows: list[_Window], window: float) -> _Window | None:
    for w in windows:
        if _surely_in(q, w, window):
            return w
    return None


def _next_window(w: _Window, windows: list[_Window]) -> _Window | None:
    index = windows.index(w)
    return windows[index + 1] if index + 1 < len(windows) else None


def _efficiency(obs: list[Observation], settings: Settings) -> float:
    """Served requests over the most a fixed-window limiter serves in the same span.

    The span runs from the first served request to the last exchange; greedy windows opened at
    hits fit ``ceil(span / window)`` times in it, each serving ``limit``.
    """
    served = [o for o in obs if _counted(o)]
    if not served:
        return 0.0
    span = max(o.received for o in obs) - min(o.sent for o in served)
    windows = max(1, math.ceil(span / settings.window - 1e-9))
    return len(served) / (settings.limit * windows)


def judge(
    observations: Iterable[Observation], settings: Settings, *, gave_up: int = 0, messages: int = 0
) -> Verdict:
    """Judge every token's observations; ``gave_up`` counts well-behaved calls abandoned."""
    obs = list(observations)
    verdict = Verdict(observations=len(obs))
    by_token: Mapping[str, list[Observation]] = _group(obs)
    for o in obs:
        if o.status == NO_ANSWER:
            verdict.add(NO_RESPONSE, f"[{o.token}] no HTTP answer")
        elif o.status == 429 and settings.check_rate_limit:
            _check_body(o, settings, verdict)
        elif o.status not in (200, CUT, 429):
            verdict.add(UNEXPECTED, f"[{o.token}] status {o.status}")
        elif o.status == 429:
            verdict.add(UNEXPECTED, f"[{o.token}] 429 although the limit is {settings.limit}")
    if settings.check_rate_limit:
        for token, token_obs in by_token.items():
            others = (
                [o for t in settings.account_tokens if t != token for o in by_token.get(t, [])]
                if token in settings.account_tokens
                else []
            )
            _judge_token(token, token_obs, others, settings, verdict)
            verdict.figures[f"{token}: served"] = sum(1 for o in token_obs if _counted(o))
            verdict.figures[f"{token}: throttled"] = sum(1 for o in token_obs if o.status == 429)
        for token in settings.require_overload:
            if not any(o.status == 429 for o in by_token.get(token, [])):
                verdict.add(
                    NOT_OVERLOADED, f"[{token}] never got a 429: run longer or with more users"
                )
    if gave_up:
        verdict.add(GAVE_UP, f"{gave_up} of {messages} messages never answered")
    if messages:
        verdict.figures["messages"] = messages
    if settings.min_efficiency is not None:
        for token in settings.efficiency_tokens:
            ratio = _efficiency(by_token.get(token, []), settings)
            verdict.figures[f"{token}: served/ideal"] = round(ratio, 3)
            if ratio < settings.min_efficiency:
                verdict.add(
                    INEFFICIENT,
                    f"[{token}] served {ratio:.2f} of limit per window "
                    f"(need {settings.min_efficiency:g})",
                )
    return verdict


def _group(obs: Iterable[Observation]) -> dict[str, list[Observation]]:
    groups: dict[str, list[Observation]] = defaultdict(list)
    for o in obs:
        groups[o.token].append(o)
    return dict(groups)
