"""The load judge: pure functions over what the load users observed.

No locust or gevent here (tests import this module in a plain pytest process). The input is a
list of :class:`Observation`, one per HTTP exchange, with client-side times; the output is a
:class:`Verdict` with violations counted by catalogue rule id and one example each.

Every rate-limit decision is :func:`replyguard.ratelimit.assess`'s (the one model the contract
suite and the fingerprint use too): the observations become its calls, its failing verdicts
become the violations, keyed by rule id, and its description of the limiter is reported.
What only a load run can show (no answer at all, a well-behaved client giving up or starving,
a token never throttled) is counted under the ``load.*`` checks below: they are properties of
the run, not rules of the API, so they carry no catalogue id.
"""

from __future__ import annotations

import math
from collections import defaultdict
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any

from replyguard.ratelimit import (
    CUT,
    MISSING,
    NO_ANSWER,
    Call,
    Limits,
    assess,
    rate_limit_headers,
)

__all__ = [
    "CHECKS",
    "CUT",
    "GAVE_UP",
    "INEFFICIENT",
    "NOT_OVERLOADED",
    "NO_RESPONSE",
    "Observation",
    "Settings",
    "Verdict",
    "judge",
]

NO_RESPONSE = "load.no-answer"
"""A request got no HTTP answer (transport error): the server may have counted it."""
GAVE_UP = "load.gave-up"
"""The well-behaved client abandoned a message."""
INEFFICIENT = "load.efficiency"
"""The well-behaved client was served far below the limit."""
NOT_OVERLOADED = "load.not-overloaded"
"""Inconclusive: a token that had to be throttled never was."""
#: The load run's own checks (not catalogue rules): what only a load run can show.
CHECKS = (NO_RESPONSE, GAVE_UP, INEFFICIENT, NOT_OVERLOADED)
SERVER_ERROR = "contract.no-server-error"
UNDOCUMENTED = "contract.status-code-documented"


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
    headers: Mapping[str, str] | None = None
    """The rate-limit headers (``replyguard.ratelimit.rate_limit_headers``), when recorded."""
    content_type: str = ""

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
            dict(self.headers or {}),
            self.content_type,
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
            dict(row[9]) if len(row) > 9 and row[9] else None,
            str(row[10]) if len(row) > 10 else "",
        )

    def call(self, account: str) -> Call:
        """This exchange as the rate-limit model's call."""
        headers = rate_limit_headers(self.headers)
        if self.retry_after_header is not None:
            headers.setdefault("retry-after", self.retry_after_header)
        throttled = self.status == 429
        return Call(
            self.token,
            self.sent,
            self.received,
            self.status,
            # The recorder keeps a 429's body only; None there means no retry_after.
            retry_after=self.retry_after if throttled and self.retry_after is not None else MISSING,
            message=self.message if throttled and self.message is not None else MISSING,
            body_is_json_object=self.body_is_object if throttled else False,
            content_type=self.content_type,
            headers=headers,
            account=account,
            step=self.scenario,
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
    """Soak: report how many windows each token went through (a window that served fewer
    than ``limit`` while overloaded is the model's refusal before a full window)."""


@dataclass(slots=True)
class Verdict:
    """Violations counted by rule id, one example each, and figures worth reporting."""

    counts: dict[str, int] = field(default_factory=dict)
    examples: dict[str, str] = field(default_factory=dict)
    figures: dict[str, float] = field(default_factory=dict)
    observations: int = 0
    observed: dict[str, int] = field(default_factory=dict)
    """Behaviour worth reporting that breaks no documented rule (counted by kind)."""
    notes: list[str] = field(default_factory=list)
    """What this run could not test, and why."""
    limiter: list[str] = field(default_factory=list)
    """The rate-limit model's description of the limiter: a summary line, then its items."""
    assessment: dict[str, Any] | None = None
    """The model's assessment as JSON (``replyguard.ratelimit.Assessment.to_json``)."""

    @property
    def passed(self) -> bool:
        """True when no check failed."""
        return not self.counts

    def add(self, kind: str, example: str, count: int = 1) -> None:
        """Count ``count`` violations of ``kind`` (a rule id or a ``load.*`` check)."""
        self.counts[kind] = self.counts.get(kind, 0) + count
        self.examples.setdefault(kind, example)

    def observe(self, kind: str, example: str) -> None:
        """Record behaviour that breaks no documented rule."""
        self.observed[kind] = self.observed.get(kind, 0) + 1
        self.examples.setdefault(kind, example)

    def lines(self) -> list[str]:
        """Human-readable summary lines (no tokens: observations carry only labels)."""
        head = "PASS" if self.passed else "FAIL"
        out = [f"replyguard verdict: {head} ({self.observations} requests judged)"]
        if self.limiter:
            out.append(f"  limiter: {self.limiter[0]}")
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


def _accounts(settings: Settings, tokens: Iterable[str]) -> dict[str, str]:
    """Each token's account: the settings' account tokens share one, every other is its own."""
    shared = set(settings.account_tokens)
    return {t: "account" if t in shared else f"token:{t}" for t in tokens}


def _rate_limit(obs: list[Observation], settings: Settings, verdict: Verdict) -> set[int]:
    """The model's verdicts and description; returns the indexes it judged as refusals."""
    accounts = _accounts(settings, {o.token for o in obs})
    calls = [o.call(accounts[o.token]) for o in obs]
    assessment = assess(calls, Limits(settings.limit, settings.window))
    for judgement in assessment.failed:
        verdict.add(judgement.rule, judgement.observed, max(1, len(judgement.calls)))
    d = assessment.limiter
    verdict.limiter = [d.summary, *d.lines()]
    verdict.assessment = assessment.to_json()
    if "overstated" in d.honest.evidence:
        # The documents do not say retry_after is the shortest wait: reported, not failed.
        verdict.observe("retry_after overstated", d.honest.evidence)
    status = assessment.verdicts["ratelimit.status-429"]
    return set(status.calls) if status.failed else set()


def _statuses(obs: list[Observation], settings: Settings, refusals: set[int], v: Verdict) -> None:
    """Answers no rate-limit rule explains: no answer, a server error, an undocumented status."""
    for n, o in enumerate(obs):
        if o.status == NO_ANSWER:
            v.add(NO_RESPONSE, f"[{o.token}] no HTTP answer")
        elif o.status >= 500:
            # Over the limit too (ratelimit.status-429), but a server error whatever it means.
            v.add(SERVER_ERROR, f"[{o.token}] HTTP {o.status}")
        elif o.status in (200, CUT) or n in refusals:
            continue
        elif o.status == 429 and not settings.check_rate_limit:
            v.add(UNDOCUMENTED, f"[{o.token}] 429 although the limit is {settings.limit}")
        elif o.status != 429:
            v.add(UNDOCUMENTED, f"[{o.token}] HTTP {o.status} to a valid call")


def _windows(obs: list[Observation], settings: Settings) -> int:
    """Windows with a served call, opened greedily at the first call served after the last
    one ended (a figure: how long the soak kept the token busy, in windows)."""
    count, end = 0, -math.inf
    for o in sorted((o for o in obs if o.status == 200), key=lambda o: o.sent):
        if o.sent >= end:
            count += 1
            end = o.sent + settings.window
    return count


def _efficiency(obs: list[Observation], settings: Settings) -> float:
    """Served requests over the most a fixed-window limiter serves in the same span.

    The span runs from the first served request to the last exchange; greedy windows opened at
    hits fit ``ceil(span / window)`` times in it, each serving ``limit``.
    """
    served = [o for o in obs if o.status == 200]
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
    refusals = _rate_limit(obs, settings, verdict) if settings.check_rate_limit and obs else set()
    _statuses(obs, settings, refusals, verdict)
    if settings.check_rate_limit:
        for token, token_obs in by_token.items():
            # A 503 or any answer but a reply is never a served call.
            verdict.figures[f"{token}: served"] = sum(1 for o in token_obs if o.status == 200)
            verdict.figures[f"{token}: throttled"] = sum(1 for o in token_obs if o.status == 429)
            if settings.exact_windows:
                verdict.figures[f"{token}: windows"] = _windows(token_obs, settings)
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
