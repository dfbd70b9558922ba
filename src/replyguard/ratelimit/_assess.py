"""assess(): from the calls to the limiter's description and the ratelimit.* verdicts."""

from __future__ import annotations

import bisect
from collections.abc import Sequence

from replyguard.ratelimit import _describe as describe
from replyguard.ratelimit._calls import (
    MISSING,
    Call,
    Limits,
    retry_after_in_range,
    retry_after_range_text,
)
from replyguard.ratelimit._limit import LimitFindings, find
from replyguard.ratelimit._results import (
    ACCOUNT,
    FAIL,
    GLOBAL,
    NO_LIMIT,
    NOT_TESTED,
    PASS,
    TOKEN,
    TOKEN_BUCKET,
    Assessment,
    Description,
    Finding,
    Judgement,
)
from replyguard.ratelimit._timeline import Timeline, finite_number

__all__ = ["assess"]

#: Seconds below any clock's resolution here: a refusal this close after the promised instant
#: proves nothing.
_NOISE = 1e-3


def assess(calls: Sequence[Call], limits: Limits, *, fresh: bool = False) -> Assessment:
    """The limiter's description and the verdict of every ``ratelimit.*`` rule.

    ``fresh``: the caller knows every token's limit was unused for a window before the first
    call (else refusals within a window of a token's first call are not judged: a window
    opened before the run may hold them).
    """
    tl = Timeline(calls, limits, fresh=fresh)
    found = find(tl)
    never, too_few, maybe_429 = _split_unjustified(tl, found)
    shape = describe.shape(tl, found, never)
    scope, shared, own = describe.scope(tl, found)
    counts = describe.counts(tl)
    if maybe_429 and counts["429"].value != "no":
        q = maybe_429[0]
        counts["429"] = Finding(
            "yes",
            f"[{tl.calls[q].token}] refused at {tl.at(q)} with fewer than {limits.limit} calls "
            "in the window unless its refused calls counted",
            (q,),
        )
    dishonest, honoured, over = _retry_after_waits(tl)
    honest = _honest(tl, dishonest, honoured, over)
    header, header_good, header_bad = describe.retry_after_header(tl)
    heads = {"Retry-After": header, **describe.headers(tl)}
    description = Description(
        family=shape.family,
        burst=shape.burst,
        refill=shape.refill,
        window=shape.window,
        anchor=shape.anchor,
        scope=scope,
        counts=counts,
        retry_after=describe.retry_after(tl),
        honest=honest,
        headers=heads,
    )
    verdicts = [
        _limit(tl, found, too_few, description),
        _status_429(tl),
        *_bodies(tl),
        _header_agrees(header_good, header_bad, tl),
        _recovers(tl, never, dishonest),
        _per_token(tl, scope, shared, own),
        _counting(counts),
    ]
    return Assessment(description, {j.rule: j for j in verdicts})


def _split_unjustified(
    tl: Timeline, found: LimitFindings
) -> tuple[list[int], list[int], list[int]]:
    """Refusals the token's own calls do not justify, that no other token's calls explain:
    (still refused after a quiet window, too few served, explained if refused calls count)."""
    never: list[int] = []
    too_few: list[int] = []
    maybe_429: list[int] = []
    limit = tl.limits.limit
    for r in found.unjustified:
        if r.everyone >= limit:
            # Below the limit even over a slot's slack: the scope's evidence. Short of the
            # limit only within the window: another token's calls or a bucket refilling a
            # little slower than limit per window; unclear which rule, so neither is blamed.
            continue
        if r.with_refusals >= limit:
            maybe_429.append(r.call)
        elif r.with_refusals == 0 and any(
            i < r.call and tl.calls[i].sent < tl.calls[r.call].sent for i in tl.refusals(r.token)
        ):
            never.append(r.call)
        else:
            too_few.append(r.call)
    return never, too_few, maybe_429


def _limit(
    tl: Timeline, found: LimitFindings, too_few: list[int], description: Description
) -> Judgement:
    rule = "ratelimit.limit"
    limits = tl.limits
    expected = (
        f"at most {limits.limit} served within {limits.window:g}s after a burst's first call "
        "(more only when a fixed window's reset hands all slots back at once), and a refusal "
        f"only after {limits.limit}"
    )
    if found.over:
        b = found.over[0]
        family = description.family.value
        what = (
            f"a token bucket, burst {description.burst}, one slot every {description.refill:.3g}s"
            if family == TOKEN_BUCKET and description.burst and description.refill
            else "a token bucket: slots came back one by one"
            if family == TOKEN_BUCKET
            else family
            if family == NO_LIMIT
            else f"no fixed window's reset explains more than {limits.limit}"
        )
        observed = (
            f"[{b.token}] {len(b.calls)} served within {b.span:.3g}s after a burst "
            f"(first at {tl.at(b.calls[0])}): {what}"
        )
        return Judgement(rule, FAIL, expected, observed, b.calls)
    if too_few:
        q = too_few[0]
        c = tl.calls[q]
        own = tl.token_counter(c.token).possibly(c.sent - limits.window, c.received)
        observed = (
            f"[{c.token}] refused at {tl.at(q)} after only {own} served in the "
            f"{limits.window:g}s before it (limit {limits.limit})"
        )
        return Judgement(rule, FAIL, expected, observed, tuple(too_few))
    if found.justified:
        observed = (
            f"{len(found.justified)} refusals, each after {limits.limit} served in the window; "
            f"{found.explained} bursts over {limits.limit} explained by a fixed window's reset"
        )
        return Judgement(rule, PASS, expected, observed, tuple(found.justified[:1]))
    return Judgement(rule, NOT_TESTED, expected, "no refusal after a full window")


def _status_429(tl: Timeline) -> Judgement:
    rule = "ratelimit.status-429"
    expected = "429 over the limit"
    if tl.over_limit:
        odd = sorted(tl.over_limit)
        c = tl.calls[odd[0]]
        kind = f" ({c.content_type})" if c.content_type else ""
        body = "a JSON object" if c.body_is_json_object else "not a JSON object"
        observed = (
            f"[{c.token}] over the limit at {tl.at(odd[0])}: HTTP {c.status}{kind}, {body}"
            f" ({len(odd)} such answers)"
        )
        return Judgement(rule, FAIL, expected, observed, tuple(odd))
    throttled = [i for i, c in enumerate(tl.calls) if c.status == 429]
    if throttled:
        return Judgement(
            rule, PASS, expected, f"{len(throttled)} refusals, all 429", tuple(throttled[:1])
        )
    return Judgement(rule, NOT_TESTED, expected, "no call was refused")


def _bodies(tl: Timeline) -> list[Judgement]:
    throttled = [i for i, c in enumerate(tl.calls) if c.status == 429]
    bad_body = [
        i
        for i in throttled
        if not tl.calls[i].body_is_json_object
        or not isinstance(tl.calls[i].message, str)
        or tl.calls[i].retry_after is MISSING
    ]
    expected = "a JSON object with a string 'message' and a 'retry_after'"
    if bad_body:
        c = tl.calls[bad_body[0]]
        shown = (
            f"message={c.message!r} retry_after={c.retry_after!r}"
            if c.body_is_json_object
            else f"not a JSON object ({c.content_type or 'no content type'})"
        )
        body = Judgement(
            "ratelimit.body",
            FAIL,
            expected,
            f"[{c.token}] 429 at {tl.at(bad_body[0])}: {shown}",
            tuple(bad_body),
        )
    elif throttled:
        body = Judgement("ratelimit.body", PASS, expected, f"{len(throttled)} bodies as documented")
    else:
        body = Judgement("ratelimit.body", NOT_TESTED, expected, "no 429")
    window = tl.limits.window
    valued = [i for i in throttled if tl.calls[i].retry_after is not MISSING]
    out_of_range = [i for i in valued if not retry_after_in_range(tl.calls[i].retry_after, window)]
    rule = "ratelimit.retry-after.range"
    expected = retry_after_range_text(window)
    if out_of_range:
        c = tl.calls[out_of_range[0]]
        ranged = Judgement(
            rule,
            FAIL,
            expected,
            f"[{c.token}] retry_after {c.retry_after!r} at {tl.at(out_of_range[0])}",
            tuple(out_of_range),
        )
    elif valued:
        ranged = Judgement(rule, PASS, expected, f"{len(valued)} values in range")
    else:
        ranged = Judgement(rule, NOT_TESTED, expected, "no 429 with a retry_after")
    return [body, ranged]


def _header_agrees(good: list[int], bad: list[int], tl: Timeline) -> Judgement:
    rule = "ratelimit.retry-after.header-agrees"
    expected = "Retry-After equal to retry_after (within one second) when sent"
    if bad:
        c = tl.calls[bad[0]]
        observed = (
            f"[{c.token}] Retry-After {c.header('retry-after')!r}, retry_after "
            f"{c.retry_after!r} at {tl.at(bad[0])}"
        )
        return Judgement(rule, FAIL, expected, observed, tuple(bad))
    if good:
        return Judgement(rule, PASS, expected, f"{len(good)} answers agree", tuple(good[:1]))
    return Judgement(rule, NOT_TESTED, expected, "no 429 carried both (the header is optional)")


def _retry_after_waits(tl: Timeline) -> tuple[list[tuple[int, int]], list[int], float]:
    """(429 then a refusal after its wait with nobody served between, 429s whose wait was
    followed by a served call, the most a wait overstated)."""
    calls = tl.calls
    dishonest: list[tuple[int, int]] = []
    honoured: list[int] = []
    over = 0.0
    for token in tl.tokens:
        refusals = tl.refusals(token)
        sent = [calls[i].sent for i in refusals]
        served = tl.served(token)
        served_sent = [calls[i].sent for i in served]
        for q in refusals:
            c = calls[q]
            wait = finite_number(c.retry_after) if c.status == 429 else None
            if wait is None or wait <= 0:
                continue
            # Laravel's retry_after is the ceiling of the seconds left: the window has ended by
            # the answer plus retry_after (its whole-second timer ends it early, never late).
            promised = c.received + wait + _NOISE
            k = bisect.bisect_left(sent, promised)
            later = refusals[k] if k < len(refusals) else None
            # A slot freed by then may have gone to a call served in between (a bucket hands
            # back one): only a refusal with nothing counted since the 429 proves the wait short.
            if later is not None and not _counted_between(tl, q, later):
                dishonest.append((q, later))
                continue
            n = bisect.bisect_right(served_sent, c.received)
            if n < len(served):
                nxt = calls[served[n]]
                honoured.append(q)
                over = max(over, c.sent + wait - nxt.received)
    return dishonest, honoured, over


def _counted_between(tl: Timeline, first: int, last: int) -> bool:
    """Whether a call that may have been counted was possibly processed between two calls.

    Calls at the very same instants (no latency at all) count when given after ``first``."""
    calls = tl.calls
    lo, hi = calls[first].sent, calls[last].received
    k = bisect.bisect_left(tl.nonrefused_sent, lo - tl.longest)
    for i in tl.nonrefused[k:]:
        c = calls[i]
        if c.sent > hi:
            break
        if c.received > lo or (c.received == lo and i > first):
            return True
    return False


def _honest(
    tl: Timeline, dishonest: list[tuple[int, int]], honoured: list[int], over: float
) -> Finding:
    if dishonest:
        q, later = dishonest[0]
        c = tl.calls[q]
        return Finding(
            "no",
            f"[{c.token}] retry_after {c.retry_after!r} at {tl.at(q)}, still refused "
            f"{tl.calls[later].sent - c.received:.2f}s later with no call served between",
            (q, later),
        )
    if honoured:
        text = "every wait it asked for was enough"
        if over > 1:
            text += f"; it overstated the wait by up to {over:.2f}s"
        return Finding("yes", text, tuple(honoured[:1]))
    return Finding("unknown", "no 429 with a number was followed by a served call")


def _recovers(tl: Timeline, never: list[int], dishonest: list[tuple[int, int]]) -> Judgement:
    rule = "ratelimit.recovers"
    limits = tl.limits
    expected = "served again once retry_after has passed, and after a quiet window"
    if dishonest:
        q, later = dishonest[0]
        c = tl.calls[q]
        observed = (
            f"[{c.token}] retry_after {c.retry_after!r} at {tl.at(q)}, still refused "
            f"{tl.calls[later].sent - c.received:.2f}s later with no call served between"
        )
        return Judgement(rule, FAIL, expected, observed, (q, later))
    if never:
        q = never[0]
        observed = (
            f"[{tl.calls[q].token}] still refused at {tl.at(q)} after a quiet "
            f"{limits.window + limits.early:g}s: the window never resets"
        )
        return Judgement(rule, FAIL, expected, observed, tuple(never))
    back = [r.served for t in tl.tokens for r in describe.returns(tl, t)]
    if back:
        return Judgement(
            rule, PASS, expected, f"served again after a refusal {len(back)} times", (back[0],)
        )
    return Judgement(rule, NOT_TESTED, expected, "no token was served again after a refusal")


def _per_token(tl: Timeline, scope: Finding, shared: list[int], own: list[int]) -> Judgement:
    rule = "ratelimit.per-token"
    expected = "each API token has its own limit (the documents: per API token)"
    if scope.value in (ACCOUNT, GLOBAL):
        name = "tokens of one account" if scope.value == ACCOUNT else "accounts"
        return Judgement(
            rule, FAIL, expected, f"limit shared between {name}: {scope.evidence}", tuple(shared)
        )
    if scope.value == TOKEN:
        return Judgement(rule, PASS, expected, scope.evidence, tuple(own))
    return Judgement(rule, NOT_TESTED, expected, scope.evidence)


def _counting(counts: dict[str, Finding]) -> Judgement:
    rule = "ratelimit.counts-failed-validation"
    expected = "calls answered 422 count against the limit"
    found = counts["422"]
    if found.value == "yes":
        return Judgement(rule, PASS, expected, found.evidence, found.calls)
    if found.value == "no":
        return Judgement(rule, FAIL, expected, found.evidence, found.calls)
    return Judgement(rule, NOT_TESTED, expected, found.evidence)
