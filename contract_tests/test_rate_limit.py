"""Rate limit: ``limit`` generate-reply calls per window per token, then a documented 429.

One burst of ``limit + 1`` calls on a fresh bucket (more, bounded, while every one is served)
is judged by several rules; the per-token, counting and recovery checks reuse the state it
leaves, so all of them share one window: while the primary token is throttled, the second
token is served (per token), then fills its own bucket with refused calls (what counts), and
the primary is served again after ``retry_after``.
After the refusal the primary token is polled (about every window / 10, only refusals on a
conforming target, so nothing billed) until it is served again: that reply is the recovery, and
a reply before a fixed window could have reset is what gives a bucket away. ``ratelimit.limit``
is judged last, by the rate-limit model (``replyguard.ratelimit``) on every generate-reply call
of the run. A paid target is billed ``limit + 3`` calls here, and no window of its own.
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass

import pytest

from replyguard.profile import Role, Target
from replyguard.testing import (
    FAIL,
    PASS,
    SLACK,
    ApiSession,
    CallRecord,
    Exchange,
    Limits,
    Violation,
    assess_run,
    expect,
    expect_status,
    is_reply,
    most_polls,
    poll_times,
    retry_after_in_range,
    retry_after_of,
    retry_after_range_text,
    short,
    unjudgeable_window,
)

rule = pytest.mark.rule


@dataclass(slots=True)
class Burst:
    answers: list[Exchange]
    limit: int

    @property
    def throttled(self) -> Exchange:
        """The call judged as the one over the limit: the refusal, else call ``limit + 1``."""
        return self.refusal or self.answers[self.limit]

    @property
    def refusal(self) -> Exchange | None:
        """The burst's first answer that is no reply: the documented 429, or whatever this
        target answers over the limit instead (a gateway's 503 page, a 500, a 200 with an
        error body). ratelimit.status-429 names it once; the other rules take it as a refusal.
        """
        return next((a for a in self.answers if not _is_reply(a)), None)

    def refused(self, exchange: Exchange) -> bool:
        """Whether an answer is this target's refusal over the limit."""
        refusal = self.refusal
        return exchange.status == 429 or (
            refusal is not None and exchange.status == refusal.status and not _is_reply(exchange)
        )


@dataclass(slots=True)
class Recovery:
    """The polls of the primary token after the burst's refusal, until it was served again."""

    refused_at: float
    retry_after: float | None
    polls: list[CallRecord]

    @property
    def served(self) -> CallRecord | None:
        return next((c for c in self.polls if c.served), None)


@dataclass(slots=True)
class Counting:
    """Whether ratelimit.counts-failed-validation was judged in the burst's window."""

    judged: bool = False


def _is_reply(exchange: Exchange) -> bool:
    return is_reply(exchange.status, exchange.json())


def _payload(target: Target, tag: str) -> dict:
    return {
        "assistant_id": target.assistants.own,
        "customer_identifier": f"rl-{tag}-{uuid.uuid4().hex[:8]}",
        "message": "Hello",
    }


@pytest.fixture(scope="session")
def burst(api: ApiSession, target: Target) -> Burst:
    limit = target.rate_limit.limit
    # The burst, the second token and the recovery can be billed; the polls before the
    # recovery are refusals (a 429 is not billed) on a target that keeps the limit. A target
    # that serves the whole burst is billed up to ``2 * limit + 1`` for it.
    api.budget.reserve(
        "generate_reply",
        2 * limit + 3 + most_polls(target.rate_limit.window_seconds),
        billable=limit + 2,
    )
    api.fresh_window(Role.PRIMARY)
    if target.tokens.secondary:
        api.fresh_window(Role.SECONDARY)
    answers: list[Exchange] = []
    # ``limit + 1`` calls; while they are all served, more (bounded): a sixth reply alone could
    # be a fixed window's reset between the fifth and sixth call, which the model gives the
    # benefit of the doubt, but not a refusal right after it nor eleven in a blink.
    while len(answers) <= limit or (len(answers) <= 2 * limit and _is_reply(answers[-1])):
        answers.append(
            api.generate_reply(_payload(target, "burst"), token=Role.PRIMARY, paced=False)
        )
    return Burst(answers, limit)


@pytest.fixture(scope="session")
def second_token(api: ApiSession, target: Target, burst: Burst) -> Exchange | None:
    """The second token's first call, sent while the first token is throttled."""
    if not target.tokens.secondary:
        return None
    return api.generate_reply(_payload(target, "other-token"), token=Role.SECONDARY, paced=False)


@pytest.fixture(scope="session")
def counting() -> Counting:
    return Counting()


def _retry_after(burst: Burst) -> object:
    body = burst.throttled.json()
    return body.get("retry_after") if isinstance(body, dict) else None


@rule("ratelimit.status-429")
@pytest.mark.phase(0)
def test_refusal_is_429(burst: Burst) -> None:
    # The one place an over-limit answer other than the documented 429 is named.
    if burst.refusal is None:
        pytest.skip("inconclusive: the burst was never refused (see ratelimit.limit)")
    expect_status("ratelimit.status-429", burst.refusal, 429)


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
    window = target.rate_limit.window_seconds
    expect(
        "ratelimit.retry-after.range",
        retry_after_in_range(value, window),
        retry_after_range_text(window),
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
    if burst.refusal is None:
        pytest.skip("inconclusive: the first token was never refused")
    exchange = second_token
    if not (_is_reply(exchange) or burst.refused(exchange)):
        pytest.skip(f"inconclusive: the second token got HTTP {exchange.status}, not a reply")
    expect(
        "ratelimit.per-token",
        not burst.refused(exchange),
        "the second token of the account served while the first is throttled "
        "(the documents say 5 per minute per API token)",
        f"HTTP {exchange.status}: the limit is shared between tokens (Laravel's default "
        "throttle keys by user, not by token)",
        exchange,
    )


@pytest.fixture(scope="session")
def recovery(api: ApiSession, target: Target, burst: Burst) -> Recovery | None:
    """Poll the primary token after the burst's refusal until it is served again (bounded).

    Each poll is a valid call: a refusal costs nothing, and the first reply is the one billed
    call, the recovery itself. A bucket serves one long before its window could have reset;
    then one more poll at once tells it from a clock-anchored window's reset (that serves the
    next call too, a bucket refuses it).
    """
    refusal = burst.refusal
    if refusal is None:
        return None
    refused = next(c for c in api.calls.calls if c.exchange is refusal)
    window = target.rate_limit.window_seconds
    value = retry_after_of(refusal)
    usable = value if value is not None and 0 < value <= window + 1 else None
    first_hit = api.calls.calls[api.calls.calls.index(refused) - burst.answers.index(refusal)]
    polls: list[CallRecord] = []
    for at in poll_times(refused.received, window=window, retry_after=usable, now=api.calls.now()):
        # A keyed pause: the plan's replay waits until the token has room, as the run will.
        api.honour_retry_after(at - api.calls.now())
        api.generate_reply(_payload(target, "poll"), token=Role.PRIMARY, paced=False, probe=True)
        polls.append(api.calls.calls[-1])
        if polls[-1].served:
            break
    served = next((c for c in polls if c.served), None)
    shortest = Limits(target.rate_limit.limit, window).shortest_window
    if served is not None and served.sent < first_hit.sent + shortest:
        api.generate_reply(_payload(target, "poll"), token=Role.PRIMARY, paced=False, probe=True)
        polls.append(api.calls.calls[-1])
    over = burst.refusal is None or burst.answers.index(burst.refusal) > burst.limit
    if served is not None and (target.safety.exhaustive or over):
        _second_burst(api, target, billed=not target.safety.exhaustive)
    return Recovery(refused.received, usable, polls)


def _second_burst(api: ApiSession, target: Target, *, billed: bool) -> None:
    """``limit`` more calls right after the recovery's reply (bounded; until one is refused):
    the new window gets ``limit + 1`` calls as the first did.

    One burst of ``limit + 1`` replies in a blink could be a clock-anchored window's reset
    between its first two calls, and the model gives it that benefit of the doubt; a second
    burst one window later cannot be explained by the same reset. A free target always gets
    it; a paid one only when its first burst served more than ``limit`` (a conforming target
    costs nothing more), within the billed-call cap.
    """
    limit = target.rate_limit.limit
    if api.budget.remaining("generate_reply", billable=billed) < limit:
        return  # the cap leaves no room: the first burst alone is judged
    for _ in range(limit):
        api.generate_reply(_payload(target, "burst-2"), token=Role.PRIMARY, paced=False, probe=True)
        if not api.calls.calls[-1].served:
            break


@rule("ratelimit.recovers")
@pytest.mark.phase(2)
def test_served_again_after_retry_after(
    api: ApiSession, target: Target, burst: Burst, recovery: Recovery | None
) -> None:
    if recovery is None:
        pytest.skip("inconclusive: no refusal to recover from")
    value = recovery.retry_after
    if value is None:
        pytest.skip("inconclusive: no usable retry_after (see ratelimit.retry-after.range)")
    # Honour exactly what the server said, from when it said it, plus a little network slack:
    # the first poll from then on must be served (one poll falls exactly there).
    due = recovery.refused_at + value + SLACK
    after = [c for c in recovery.polls if c.sent >= due - 0.01]
    if after and not after[0].served:
        first = after[0].exchange
        raise Violation(
            "ratelimit.recovers",
            f"served after waiting retry_after ({value:g}s)",
            f"{first.summary(limit=160) if first else after[0].status}, "
            f"{after[0].sent - recovery.refused_at:.1f}s after the refusal",
            first,
        )
    served = recovery.served
    if served is not None and served.sent >= recovery.refused_at + value - 1:
        return  # served as retry_after said (a whole number of seconds: up to one early)
    # Served before retry_after (the wait it asked for was longer than needed), or the polls
    # ended before it: one call exactly where retry_after says the token is free again.
    api.honour_retry_after(due - api.calls.now())
    exchange = api.generate_reply(_payload(target, "recover"), token=Role.PRIMARY, paced=False)
    expect(
        "ratelimit.recovers",
        _is_reply(exchange),
        f"served after waiting retry_after ({value:g}s)",
        exchange.summary(limit=160),
        exchange,
    )


@rule("ratelimit.limit")
@pytest.mark.phase(2)
def test_limit_per_window(
    api: ApiSession, target: Target, burst: Burst, recovery: Recovery | None
) -> None:
    """Judged by the rate-limit model on every generate-reply call of the run so far."""
    statuses = [a.status for a in burst.answers]
    odd = next((a for a in burst.answers[: burst.limit] if a.status != 200), None)
    assessment, judgement, example = assess_run(api, "ratelimit.limit")
    if judgement.outcome == FAIL:
        raise Violation("ratelimit.limit", judgement.expected, judgement.observed, example)
    if judgement.outcome != PASS:
        pytest.skip(f"inconclusive: {judgement.observed} ({assessment.limiter.summary})")
    # A pass rests on the documented answers: `limit` replies, then a refusal. Anything else
    # in the first calls (a 501 stub, an HTML page) proves nothing about the limit.
    if odd is not None:
        pytest.skip(
            f"inconclusive: a call of the burst answered HTTP {odd.status}, not a reply; "
            f"statuses {statuses}"
        )


def _prove_counting(
    api: ApiSession,
    target: Target,
    burst: Burst,
    token: str,
    used: int,
    first: Exchange | None = None,
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
        if burst.refused(refused):
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
    if not (_is_reply(exchange) or burst.refused(exchange)):
        pytest.skip(f"inconclusive: the last call got HTTP {exchange.status}, not a reply")
    on_token = [e for e in (first, served, *rejected, exchange) if e is not None]
    slow = unjudgeable_window(on_token, limit, target.rate_limit.window_seconds)
    if slow and exchange.status != 429:
        pytest.skip(slow)
    expect(
        "ratelimit.counts-failed-validation",
        burst.refused(exchange),
        f"a valid call refused after {used + 1} replies and {invalid} failed validations "
        "in the window (the throttle runs before validation)",
        f"HTTP {exchange.status}",
        exchange,
    )


@rule("ratelimit.counts-failed-validation")
@pytest.mark.phase(0)
def test_refused_calls_count_on_the_second_token(
    api: ApiSession,
    target: Target,
    burst: Burst,
    second_token: Exchange | None,
    counting: Counting,
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
        _prove_counting(api, target, burst, Role.SECONDARY, used=1, first=second_token)
    except pytest.skip.Exception:
        counting.judged = False  # inconclusive here: a fresh window of the primary may judge it
        raise


@rule("ratelimit.counts-failed-validation")
@pytest.mark.phase(4)
def test_refused_calls_count_on_a_fresh_window(
    api: ApiSession, target: Target, burst: Burst, counting: Counting
) -> None:
    # Only when the burst's window could not judge it: no second token, or one that shares
    # the first one's bucket. A window of its own, last, after every other call.
    if counting.judged:
        pytest.skip("judged in the burst's window, on the second token")
    api.fresh_window(Role.PRIMARY)
    _prove_counting(api, target, burst, Role.PRIMARY, used=0)
