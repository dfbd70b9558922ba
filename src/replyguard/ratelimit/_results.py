"""What the rate-limit model returns: the limiter's description and the rules' verdicts."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

from replyguard.spec import get_rule

__all__ = [
    "ACCOUNT",
    "ANCHOR_CLOCK",
    "ANCHOR_FIRST_HIT",
    "FAIL",
    "FAMILIES",
    "FIXED_WINDOW",
    "GLOBAL",
    "NEVER_RESETS",
    "NOT_TESTED",
    "NO_LIMIT",
    "OUTCOMES",
    "PASS",
    "RULES",
    "SCOPES",
    "SLIDING_COUNTER",
    "SLIDING_LOG",
    "TOKEN",
    "TOKEN_BUCKET",
    "UNKEYED",
    "UNKNOWN",
    "Assessment",
    "Description",
    "Finding",
    "Judgement",
]

PASS: Final = "pass"
FAIL: Final = "fail"
NOT_TESTED: Final = "not tested"
OUTCOMES: Final = (PASS, FAIL, NOT_TESTED)

UNKNOWN: Final = "unknown"

# Families: how slots come back.
FIXED_WINDOW: Final = "fixed window"
"""All slots back at once at a reset (anchored at the first hit or on the clock)."""
SLIDING_LOG: Final = "sliding log"
"""One slot back exactly a window after each call used it."""
SLIDING_COUNTER: Final = "sliding counter"
"""An estimate weighting the previous window: slots come back gradually."""
TOKEN_BUCKET: Final = "token bucket"
"""One slot every ``refill`` seconds up to ``burst`` (a leaky bucket or GCRA looks the same)."""
NO_LIMIT: Final = "no limit"
NEVER_RESETS: Final = "never resets"
FAMILIES: Final = (
    FIXED_WINDOW,
    SLIDING_LOG,
    SLIDING_COUNTER,
    TOKEN_BUCKET,
    NO_LIMIT,
    NEVER_RESETS,
    UNKNOWN,
)
ANCHOR_FIRST_HIT: Final = "first hit"
ANCHOR_CLOCK: Final = "clock"

# Scopes: what one limit is kept for.
TOKEN: Final = "token"
ACCOUNT: Final = "account"
GLOBAL: Final = "global"
UNKEYED: Final = "unkeyed"
"""Calls without a known token are throttled too (keyed by IP or the raw header)."""
SCOPES: Final = (TOKEN, ACCOUNT, GLOBAL, UNKEYED, UNKNOWN)

#: The catalogue's rate-limit rules the model judges (openapi/rules.yaml).
RULES: Final = (
    "ratelimit.limit",
    "ratelimit.status-429",
    "ratelimit.body",
    "ratelimit.retry-after.range",
    "ratelimit.retry-after.header-agrees",
    "ratelimit.recovers",
    "ratelimit.per-token",
    "ratelimit.counts-failed-validation",
)


@dataclass(frozen=True, slots=True)
class Finding:
    """One item of the description: a value and the evidence for it."""

    value: str
    evidence: str
    calls: tuple[int, ...] = ()
    """Indexes (into the calls given to ``assess``) of the calls it rests on."""

    def to_json(self) -> dict[str, Any]:
        """JSON-able form."""
        return {"value": self.value, "evidence": self.evidence, "calls": list(self.calls)}


def _unknown(why: str) -> Finding:
    return Finding(UNKNOWN, why)


@dataclass(frozen=True, slots=True)
class Description:
    """What kind of limiter answered: each item with its evidence."""

    family: Finding = field(default_factory=lambda: _unknown("no calls"))
    """One of :data:`FAMILIES`."""
    burst: int | None = None
    """Calls served at once from a quiet start (a bucket's burst, a window's limit)."""
    refill: float | None = None
    """Seconds per slot handed back (token bucket, sliding counter)."""
    window: float | None = None
    """Seconds from a fixed window's first hit to its reset, as measured."""
    anchor: Finding = field(default_factory=lambda: _unknown("no reset seen"))
    """A fixed window's anchor: :data:`ANCHOR_FIRST_HIT`, :data:`ANCHOR_CLOCK` or unknown."""
    scope: Finding = field(default_factory=lambda: _unknown("no second token"))
    """One of :data:`SCOPES`."""
    counts: Mapping[str, Finding] = field(default_factory=dict)
    """Whether answers of a status count against the limit: keys ``"422"``, ``"404"``,
    ``"402"``, ``"401"``, ``"429"``; values ``yes`` / ``no`` / unknown."""
    retry_after: Finding = field(default_factory=lambda: _unknown("no 429"))
    """``counts down``, ``constant N``, ``absent`` or unknown."""
    honest: Finding = field(default_factory=lambda: _unknown("no 429 with a number"))
    """Whether every wait ``retry_after`` asked for was enough: ``yes`` / ``no``."""
    headers: Mapping[str, Finding] = field(default_factory=dict)
    """Per header family (``Retry-After``, ``X-RateLimit-*``, ``RateLimit``): ``not sent``,
    ``agrees`` or ``disagrees`` with what the limiter did."""

    @property
    def summary(self) -> str:
        """One line: the family with its parameters and the scope."""
        fam = self.family.value
        if fam == TOKEN_BUCKET and self.burst is not None and self.refill is not None:
            fam = f"{fam}, burst {self.burst}, one slot every {self.refill:.3g}s"
        elif fam == FIXED_WINDOW:
            parts = [fam]
            if self.burst is not None:
                parts.append(f"{self.burst} per window")
            if self.window is not None:
                parts.append(f"{self.window:.3g}s")
            if self.anchor.value != UNKNOWN:
                parts.append(f"anchored at the {self.anchor.value}")
            fam = ", ".join(parts)
        return f"{fam}; scope {self.scope.value}"

    def items(self) -> list[tuple[str, Finding]]:
        """Every item as (name, finding), in a fixed order."""
        out = [
            ("family", self.family),
            ("anchor", self.anchor),
            ("scope", self.scope),
            *((f"{status} counts", f) for status, f in self.counts.items()),
            ("retry_after", self.retry_after),
            ("retry_after honest", self.honest),
            *((name, f) for name, f in self.headers.items()),
        ]
        return out

    def lines(self) -> list[str]:
        """Plain-text lines: ``name: value (evidence)``."""
        return [f"{name}: {f.value} ({f.evidence})" for name, f in self.items()]

    def to_json(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "summary": self.summary,
            "family": self.family.to_json(),
            "burst": self.burst,
            "refill": self.refill,
            "window": self.window,
            "anchor": self.anchor.to_json(),
            "scope": self.scope.to_json(),
            "counts": {k: v.to_json() for k, v in self.counts.items()},
            "retry_after": self.retry_after.to_json(),
            "honest": self.honest.to_json(),
            "headers": {k: v.to_json() for k, v in self.headers.items()},
        }


@dataclass(frozen=True, slots=True)
class Judgement:
    """The verdict of one catalogue rule, with the calls it rests on."""

    rule: str
    outcome: str
    """:data:`PASS`, :data:`FAIL` or :data:`NOT_TESTED`."""
    expected: str
    observed: str
    calls: tuple[int, ...] = ()
    """Indexes (into the calls given to ``assess``) of the evidence; the first is the example."""

    def __post_init__(self) -> None:
        get_rule(self.rule)  # only catalogue ids (raises UnknownRuleError)
        if self.outcome not in OUTCOMES:
            raise ValueError(f"outcome {self.outcome!r} is not one of {OUTCOMES}")

    @property
    def label(self) -> str:
        """The rule's text from the catalogue."""
        return get_rule(self.rule).rule

    @property
    def failed(self) -> bool:
        """The rule is broken."""
        return self.outcome == FAIL

    def to_json(self) -> dict[str, Any]:
        """JSON-able form."""
        return {
            "rule": self.rule,
            "label": self.label,
            "outcome": self.outcome,
            "expected": self.expected,
            "observed": self.observed,
            "calls": list(self.calls),
        }


@dataclass(frozen=True, slots=True)
class Assessment:
    """The limiter's description and the verdict of every rule in :data:`RULES`."""

    limiter: Description
    verdicts: Mapping[str, Judgement]

    @property
    def failed(self) -> list[Judgement]:
        """The failing verdicts, in catalogue order."""
        return [j for j in self.verdicts.values() if j.failed]

    @property
    def passed(self) -> bool:
        """No rule failed."""
        return not self.failed

    def to_json(self) -> dict[str, Any]:
        """JSON-able form (for reports)."""
        return {
            "limiter": self.limiter.to_json(),
            "verdicts": {rule: j.to_json() for rule, j in self.verdicts.items()},
        }
