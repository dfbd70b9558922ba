"""Rate limit: ``limit`` generate-reply calls per window per token, then a documented 429.

One burst of ``limit + 1`` calls on a fresh bucket is judged by several rules; the per-token,
counting and recovery checks reuse the state it leaves, so all of them share one window: while
the primary token is throttled, the second token is served (per token), then fills its own
bucket with refused calls (what counts), and the primary is served again after ``retry_after``.
A paid target spends ``limit + 3`` billable calls here, and no window of its own.
"""

from __future__ import annotations

import math
import time
import uuid
from dataclasses import dataclass

import pytest

from replyguard.suite.exchange import Exchange
from replyguard.suite.expect import expect, expect_status, short
from replyguard.suite.latency import unjudgeable_window
from replyguard.suite.session import ApiSession, retry_after_of
from replyguard.target import Target

rule = pytest.mark.rule


@dataclass(slots=True)
class Burst:
    answers: list[Exchange]
    ended: float
    limit: int

    @property
    def served(self) -> list[Exchange]:
        return [a for a in self.answers[: self.limit] if a.status != 429]

    @property
    def throttled(self) -> Exchange:
        return self.answers[self.limit]


@dataclass(slots=True)
class Counting:
    """Whether ratelimit.counts-failed-validation was judged in the burst's window."""

    judged: bool = False


def _payload(target: Target, tag: str) -> dict:
    return {
        "assistant_id": target.assistants.own,
        "customer_identifier": f"rl-{tag}-{uuid.uuid4().hex[:8]}",
        "message": "Hello",
    }


@pytest.fixture(scope="session")
def burst(api: ApiSession, target: Target) -> Burst:
    limit = target.rate_limit.limit
    # The burst, the second token and the recovery: every one of them can be billed.
    api.budget.reserve("generate_reply", limit + 3, billable=limit + 3)
    api.fresh_window("primary")
    if target.tokens.secondary:
        api.fresh_window("secondary")
    answers = [
        api.generate_reply(_payload(target, "burst"), token="primary", paced=False)
        for _ in range(limit + 1)
    ]
    return Burst(answers, time.monotonic(), limit)


@pytest.fixture(scope="session")
def second_token(api: ApiSession, target: Target, burst: Burst) -> Exchange | None:
    """The second token's first call, sent while the first token is throttled."""
    if not target.tokens.secondary:
        return None
    return api.generate_reply(_payload(target, "other-token"), token="secondary", paced=False)


@pytest.fixture(scope="session")
def counting() -> Counting:
    return Counting()


def _retry_after(burst: Burst) -> object:
    body = burst.throttled.json()
    return body.get("retry_after") if isinstance(body, dict) else None


@rule("ratelimit.limit")
@pytest.mark.phase(0)
def test_exactly_limit_served_then_refused(burst: Burst, target: Target) -> None:
    statuses = [a.status for a in burst.answers]
    first_throttled = next((i for i, s in enumerate(statuses) if s == 429), None)
    expect(
        "ratelimit.limit",
        first_throttled is None or first_throttled >= burst.limit,
        f"the first {burst.limit} calls of a fresh window served",
        f"call #{(first_throttled or 0) + 1} throttled; statuses {statuses}",
        burst.answers[first_throttled or 0],
    )
    # A pass rests on the documented answers: `limit` replies, then a refusal. Anything else
    # in the first calls (a 501 stub, an HTML page) proves nothing about the limit.
    odd = next((a for a in burst.answers[: burst.limit] if a.status != 200), None)
    if odd is not None:
        pytest.skip(
            f"inconclusive: a call of the burst answered HTTP {odd.status}, not a reply; "
            f"statuses {statuses}"
        )
    slow = unjudgeable_window(burst.answers, burst.limit, target.rate_limit.window_seconds)
    if slow and 200 <= statuses[-1] < 300:
        pytest.skip(slow)
    expect(
        "ratelimit.limit",
        not 200 <= statuses[-1] < 300,
        f"call #{burst.limit + 1} within the window refused",
        f"statuses {statuses}: the limit is not enforced at {burst.limit}",
        burst.throttled,
    )
    if statuses[-1] != 429:
        pytest.skip(
            f"inconclusive: call #{burst.limit + 1} answered HTTP {statuses[-1]}, "
            "not 429 (see ratelimit.status-429)"
        )


@rule("ratelimit.status-429")
@pytest.mark.phase(0)
def test_refusal_is_429(burst: Burst) -> None:
    if 200 <= burst.throttled.status < 300:
        pytest.skip("inconclusive: the burst was never refused (see ratelimit.limit)")
    expect_status("ratelimit.status-429", burst.throttled, 429)


@rule("ratelimit.body")
@pytest.mark.phase(0)
def test_429_body_as_documented(burst: Burst) -> None:
    if burst.throttled.status != 429:
        pytest.skip("inconclusive: no 429 to judge (see ratelimit.limit, ratelimit.status-429)")
    body = burst.throttled.json()
    expect(
        "ratelimit.body",
        isinstance(body, dict) and isinstance(body.get("message"), str),
        "a JSON body with a string 'message'",
        burst.throttled.text[:200],
        burst.throttled,
    )
    expect(
        "ratelimit.body",
        "retry_after" in body,
        "a 'retry_after' field",
        short(body),
        burst.throttled,
    )


@rule("ratelimit.retry-after.range")
@pytest.mark.phase(0)
def test_retry_after_is_an_integer_within_the_window(burst: Burst, target: Target) -> None:
    if burst.throttled.status != 429:
        pytest.skip("inconclusive: no 429 to judge")
    value = _retry_after(burst)
    window = math.ceil(target.rate_limit.window_seconds)
    ok = isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= window
    expect(
        "ratelimit.retry-after.range",
        ok,
        f"retry_after an integer in 1..{window}",
        f"retry_after {value!r}",
        burst.throttled,
    )


@rule("ratelimit.retry-after.header-agrees")
@pytest.mark.phase(0)
def test_retry_after_header_agrees(burst: Burst) -> None:
    if burst.throttled.status != 429:
        pytest.skip("inconclusive: no 429 to judge")
    header = burst.throttled.headers.get("retry-after")
    if header is None:
        pytest.skip("the target sends no Retry-After header (allowed: it is not documented)")
    value = _retry_after(burst)
    expect(
        "ratelimit.retry-after.header-agrees",
        header.strip() == str(value),
        f"Retry-After equal to retry_after ({value!r})",
        f"Retry-After: {header}",
        burst.throttled,
    )


@rule("ratelimit.per-token")
@pytest.mark.phase(0)
def test_second_token_not_throttled_by_first(burst: Burst, second_token: Exchange | None) -> None:
    if second_token is None:
        pytest.skip("the profile has no tokens.secondary (a second token of the same account)")
    if burst.throttled.status != 429:
        pytest.skip("inconclusive: the first token was never throttled with a 429")
    exchange = second_token
    if exchange.status not in (200, 429):
        pytest.skip(f"inconclusive: the second token got HTTP {exchange.status}, not a reply")
    expect(
        "ratelimit.per-token",
        exchange.status != 429,
        "the second token of the account served while the first is throttled "
        "(the documents say 5 per minute per API token)",
        f"HTTP {exchange.status}: the limit is shared between tokens (Laravel's default "
        "throttle keys by user, not by token)",
        exchange,
    )


@rule("ratelimit.recovers")
@pytest.mark.phase(2)
def test_served_again_after_retry_after(api: ApiSession, target: Target, burst: Burst) -> None:
    if burst.throttled.status != 429:
        pytest.skip("inconclusive: no 429 to recover from")
    value = retry_after_of(burst.throttled)
    window = target.rate_limit.window_seconds
    if value is None or value <= 0 or value > window + 1:
        pytest.skip("inconclusive: no usable retry_after (see ratelimit.retry-after.range)")
    # Honour exactly what the server said, from when it said it, plus a little network slack.
    api.honour_retry_after(burst.ended + value + 0.25 - time.monotonic())
    exchange = api.generate_reply(_payload(target, "recover"), token="primary", paced=False)
    expect(
        "ratelimit.recovers",
        exchange.status == 200,
        f"served after waiting retry_after ({value:g}s)",
        exchange.summary(limit=160),
        exchange,
    )


def _prove_counting(
    api: ApiSession, target: Target, token: str, used: int, first: Exchange | None = None
) -> None:
    """Fill the token's bucket (``used`` calls in it, all served) with unauthenticated calls,
    one reply and failed validations, then expect a valid call to be refused.

    Laravel authenticates before it throttles (a token's bucket never sees calls without it),
    and throttles before it validates (a 422 counts). The documents say neither; the rule is
    inferred (rules.yaml), and this is the one request sequence that shows both halves.
    """
    limit = target.rate_limit.limit
    invalid = limit - used - 1
    api.budget.reserve("generate_reply", limit + invalid + 2, billable=2)
    for _ in range(limit):
        refused = api.generate_reply(_payload(target, "anon"), token=None, paced=False)
        if refused.status == 429:
            pytest.skip(
                "inconclusive: a call without a token was throttled (see "
                "ratelimit.per-token: the limit is not kept per token)"
            )
        expect(
            "ratelimit.counts-failed-validation",
            refused.status == 401,
            "401 without a token",
            refused.summary(limit=120),
            refused,
        )
    served = api.generate_reply(_payload(target, "after-401"), token=token, paced=False)
    expect(
        "ratelimit.counts-failed-validation",
        served.status == 200,
        f"the token served after {limit} unauthenticated calls (they are not its calls)",
        served.summary(limit=160),
        served,
    )
    rejected = [api.generate_reply({}, token=token, paced=False) for _ in range(invalid)]
    expect(
        "ratelimit.counts-failed-validation",
        all(r.status == 422 for r in rejected),
        f"{invalid} invalid calls answered 422",
        [r.status for r in rejected],
        rejected[-1] if rejected else served,
    )
    exchange = api.generate_reply(_payload(target, "after-422"), token=token, paced=False)
    on_token = [e for e in (first, served, *rejected, exchange) if e is not None]
    slow = unjudgeable_window(on_token, limit, target.rate_limit.window_seconds)
    if slow and exchange.status != 429:
        pytest.skip(slow)
    expect(
        "ratelimit.counts-failed-validation",
        exchange.status == 429,
        f"a valid call refused after {used + 1} replies and {invalid} failed validations "
        "in the window (the throttle runs before validation)",
        f"HTTP {exchange.status}",
        exchange,
    )


@rule("ratelimit.counts-failed-validation")
@pytest.mark.phase(0)
def test_refused_calls_count_on_the_second_token(
    api: ApiSession, target: Target, second_token: Exchange | None, counting: Counting
) -> None:
    # The second token has served one call in this window (ratelimit.per-token): the rest of
    # its bucket proves the counting while the primary one waits out its retry_after.
    if second_token is None or second_token.status != 200:
        pytest.skip(
            "judged on a fresh window of the primary token instead: the second token "
            "was not served after the first one's burst"
        )
    if target.rate_limit.limit < 3:
        pytest.skip(
            "judged on a fresh window of the primary token instead: the limit leaves "
            "no room for a failed validation after the second token's reply"
        )
    counting.judged = True
    try:
        _prove_counting(api, target, "secondary", used=1, first=second_token)
    except pytest.skip.Exception:
        counting.judged = False  # inconclusive here: a fresh window of the primary may judge it
        raise


@rule("ratelimit.counts-failed-validation")
@pytest.mark.phase(4)
def test_refused_calls_count_on_a_fresh_window(
    api: ApiSession, target: Target, counting: Counting
) -> None:
    # Only when the burst's window could not judge it: no second token, or one that shares
    # the first one's bucket. A window of its own, last, after every other call.
    if counting.judged:
        pytest.skip("judged in the burst's window, on the second token")
    api.fresh_window("primary")
    _prove_counting(api, target, "primary", used=0)
