"""The limiter's description: family, burst and refill, anchor, scope, what counts, headers."""

from __future__ import annotations

import bisect
import email.utils
import itertools
import math
import re
import statistics
from dataclasses import dataclass

from replyguard.ratelimit._calls import (
    BAD_TOKEN,
    EXPECTED_STATUS,
    INVALID,
    MISSING,
    MISSING_ASSISTANT,
    NO_BALANCE,
    VALID,
)
from replyguard.ratelimit._limit import LimitFindings
from replyguard.ratelimit._results import (
    ACCOUNT,
    ANCHOR_CLOCK,
    ANCHOR_FIRST_HIT,
    FIXED_WINDOW,
    GLOBAL,
    NEVER_RESETS,
    NO_LIMIT,
    SLIDING_LOG,
    TOKEN,
    TOKEN_BUCKET,
    UNKNOWN,
    Finding,
)
from replyguard.ratelimit._timeline import Timeline, finite_number

__all__ = ["Return", "Shape", "returns", "shape"]

#: Seconds of clock disagreement tolerated when a reset is compared with a clock multiple.
_TOLERANCE = 0.05


@dataclass(frozen=True, slots=True)
class Return:
    """A served call right after a refusal of the same token: a slot came back between them."""

    refusal: int
    served: int
    after: int
    """Calls of the token served from this one up to its next refusal (or the end)."""
    next_refusal: int | None


def returns(tl: Timeline, token: str) -> list[Return]:
    """The token's returns, in time order: served calls surely after a refusal with no served
    call surely between them."""
    calls = tl.calls
    refusals = sorted(tl.refusals(token), key=lambda i: calls[i].received)
    answers = [calls[i].received for i in refusals]
    served = tl.served(token)
    served_sent = [calls[i].sent for i in served]
    # Calls at one instant (no latency at all) keep the order they were given in.
    order = {i: n for n, i in enumerate(tl.tokens[token])}
    out: list[Return] = []
    for n, s in enumerate(served):
        k = bisect.bisect_right(answers, calls[s].sent) - 1
        while k >= 0 and order[refusals[k]] > order[s]:
            k -= 1
        if k < 0:
            continue
        q0 = refusals[k]
        first = bisect.bisect_left(served_sent, calls[q0].received)
        if any(calls[x].received <= calls[s].sent for x in served[first:n]):
            continue
        out.append(Return(q0, s, 0, None))
    return out


def _mid(tl: Timeline, r: Return) -> float:
    return (tl.calls[r.refusal].sent + tl.calls[r.served].received) / 2


@dataclass(frozen=True, slots=True)
class Shape:
    """Family, burst, refill interval, window length and anchor."""

    family: Finding
    burst: int | None
    refill: float | None
    window: float | None
    anchor: Finding


def _burst(tl: Timeline, token: str) -> tuple[int, int] | None:
    """(served, first call) of the token's first run of served calls from a quiet start that a
    refusal ended."""
    calls = tl.calls
    seq = [i for i in tl.tokens[token] if calls[i].served or i in tl.refused]
    horizon = tl.limits.window + tl.limits.early
    for n, i in enumerate(seq):
        # From a quiet start; else the run's own start (a lower bound: the target may have
        # spent some of it before the run).
        if not calls[i].served or not (tl.quiet_before(i, horizon) or n == 0):
            continue
        ended = next((k for k, j in enumerate(seq[n:]) if j in tl.refused), None)
        return None if ended is None else (ended, i)
    return None


def _spans(tl: Timeline, token: str) -> list[list[int]]:
    """The token's calls split where it was quiet for half a window (a bucket may fill up)."""
    spans: list[list[int]] = []
    last = -math.inf
    for i in tl.tokens[token]:
        c = tl.calls[i]
        if c.sent - last >= tl.limits.window / 2 or not spans:
            spans.append([])
        spans[-1].append(i)
        last = max(last, c.received)
    return spans


def _refill(tl: Timeline, token: str) -> tuple[float | None, list[float]]:
    """Seconds per slot from the returns of the longest span under pressure, and the
    estimates between consecutive returns."""
    best: tuple[float | None, list[float]] = (None, [])
    most = 1
    for span in _spans(tl, token):
        inside = set(span)
        rets = [r for r in returns(tl, token) if r.served in inside and r.refusal in inside]
        if len(rets) <= most:
            continue
        served = [i for i in span if tl.calls[i].served]
        position = {i: n for n, i in enumerate(served)}

        def used(a: Return, b: Return) -> int:
            return position[b.served] - position[a.served]  # noqa: B023

        total = used(rets[0], rets[-1])
        if total <= 0:
            continue
        pieces = [
            (_mid(tl, b) - _mid(tl, a)) / used(a, b)
            for a, b in itertools.pairwise(rets)
            if used(a, b) > 0
        ]
        best = ((_mid(tl, rets[-1]) - _mid(tl, rets[0])) / total, pieces)
        most = len(rets)
    return best


def _anchor(tl: Timeline, token: str) -> tuple[Finding, float | None]:
    """A fixed window's anchor and its length, from the resets after windows opened in quiet."""
    calls = tl.calls
    limits = tl.limits
    rets = returns(tl, token)
    lengths = [
        (
            calls[b.refusal].sent - calls[a.served].received,
            calls[b.served].received - calls[a.refusal].sent,
        )
        for a, b in itertools.pairwise(rets)
        if calls[b.served].received - calls[a.refusal].sent < 1.5 * limits.window
        and calls[b.refusal].sent >= calls[a.served].received
    ]
    window = statistics.median((lo + hi) / 2 for lo, hi in lengths) if lengths else None
    horizon = limits.window + limits.early
    opened = [i for i in tl.served(token) if tl.quiet_before(i, horizon)]
    first_hit = clock = 0
    evidence = []
    for o in opened:
        nxt = next((r for r in rets if calls[r.refusal].sent > calls[o].sent), None)
        if nxt is None:
            continue
        lo = calls[nxt.refusal].sent - calls[o].received
        hi = calls[nxt.served].received - calls[o].sent
        fits_hit = lo - _TOLERANCE <= limits.window and hi + _TOLERANCE >= limits.shortest_window
        k = math.floor((calls[nxt.served].received + _TOLERANCE) / limits.window)
        fits_clock = k * limits.window >= calls[nxt.refusal].sent - _TOLERANCE
        first_hit += fits_hit and not fits_clock
        clock += fits_clock and not fits_hit
        evidence.append(
            f"a window opened at {tl.at(o)} reset between {lo:.2f}s and {hi:.2f}s later"
        )
    if first_hit and not clock:
        return Finding(ANCHOR_FIRST_HIT, "; ".join(evidence)), window
    if clock and not first_hit:
        return Finding(
            ANCHOR_CLOCK, "; ".join(evidence) + f" (on a multiple of {limits.window:g}s)"
        ), window
    why = "; ".join(evidence) or "no window opened after a quiet window was seen to reset"
    return Finding(UNKNOWN, why), window


def shape(tl: Timeline, found: LimitFindings, never: list[int]) -> Shape:
    """The family and its parameters, from the token with the most refusals."""
    limits = tl.limits
    token = max(tl.tokens, key=lambda t: (len(tl.refusals(t)), len(tl.served(t))), default=None)
    none = Finding(UNKNOWN, "no window seen")
    if token is None:
        return Shape(Finding(UNKNOWN, "no calls"), None, None, None, none)
    burst = _burst(tl, token)
    quiet = burst is not None and tl.quiet_before(burst[1], tl.limits.window + tl.limits.early)
    # Served from the run's own start only bounds a bucket's burst from below: a window may
    # have been partly used before the run.
    size = burst[0] if burst and quiet else None
    bucket_size = burst[0] if burst else None
    if never:
        q = never[0]
        return Shape(
            Finding(
                NEVER_RESETS,
                f"[{tl.calls[q].token}] still refused at {tl.at(q)} after "
                f"a quiet {limits.window + limits.early:g}s",
                (q,),
            ),
            size,
            None,
            None,
            none,
        )
    if not any(tl.refusals(t) for t in tl.tokens):
        if found.over:
            b = found.over[0]
            return Shape(
                Finding(
                    NO_LIMIT,
                    f"[{b.token}] {len(b.calls)} served within {b.span:.1f}s, none refused",
                    b.calls[:1],
                ),
                size,
                None,
                None,
                none,
            )
        return Shape(Finding(UNKNOWN, "no call was refused"), size, None, None, none)
    stuck = _stuck(tl, token)
    if stuck is not None and not returns(tl, token):
        last, q = stuck
        return Shape(
            Finding(
                NEVER_RESETS,
                f"[{token}] still refused at {tl.at(q)}, "
                f"{tl.calls[q].sent - last:.1f}s after its last served call "
                "(or its refused calls count: a quiet window tells them apart)",
                (q,),
            ),
            size,
            None,
            None,
            none,
        )
    mine = [t for t in found.one_by_one if tl.calls[t[1]].token == token] or found.one_by_one
    if mine:
        before, s, after = mine[0]
        slots = (
            f"[{tl.calls[s].token}] served at {tl.at(s)} between refusals at "
            f"{tl.at(before)} and {tl.at(after)}: slots come back one by one"
        )
        if found.over:
            refill, _ = _refill(tl, found.over[0].token)
            b = found.over[0]
            # A leaky bucket, GCRA and a sliding counter hand slots back the same way: from
            # outside they are one family (SLIDING_COUNTER is never told apart).
            text = (
                f"{slots}; {len(b.calls)} served within {b.span:.1f}s of a burst's first call "
                "(a token or leaky bucket, GCRA or a sliding counter)"
            )
            return Shape(
                Finding(TOKEN_BUCKET, text, (b.calls[0], s)), bucket_size, refill, None, none
            )
        return Shape(
            Finding(
                SLIDING_LOG,
                slots + f", never more than {limits.limit} within {limits.window:g}s",
                (s,),
            ),
            size,
            None,
            None,
            none,
        )
    full = [r for r in returns(tl, token) if _all_back(tl, token, r)]
    if full:
        anchor, window = _anchor(tl, token)
        r = full[0]
        text = (
            f"[{token}] after the reset before {tl.at(r.served)} {r.after} calls were served "
            f"at once; no slot came back alone"
        )
        return Shape(Finding(FIXED_WINDOW, text, (r.served,)), size, None, window, anchor)
    back = returns(tl, token)
    if back:
        # Served again, but later than half a window (every family is full again after a
        # quiet window) or with too few calls after it to tell one slot from all of them.
        r = back[0]
        gap = tl.calls[r.served].sent - tl.calls[r.refusal].received
        text = (
            f"[{token}] served again {gap:.2f}s after its refusal at {tl.at(r.refusal)}: "
            "too late or too few calls to tell one slot coming back from all of them"
        )
        return Shape(Finding(UNKNOWN, text, (r.served,)), size, None, None, none)
    return Shape(Finding(UNKNOWN, "no slot was seen coming back"), size, None, None, none)


def _all_back(tl: Timeline, token: str, r: Return) -> bool:
    """``limit`` calls served within half a window after a refusal: a bucket refilling one slot
    per window/limit cannot do that, a fixed window's reset does."""
    q = tl.calls[r.refusal]
    end = q.sent + tl.limits.window / 2
    served = [i for i in tl.served(token) if tl.calls[i].sent >= q.received]
    return sum(1 for i in served if tl.calls[i].received <= end) >= tl.limits.limit


def _stuck(tl: Timeline, token: str) -> tuple[float, int] | None:
    """(last served answer, a refusal more than a window after it), when there is one."""
    served = tl.served(token)
    last = max((tl.calls[i].received for i in served), default=tl.first(token).sent)
    horizon = tl.limits.window + tl.limits.early
    late = [i for i in tl.refusals(token) if tl.calls[i].sent > last + horizon]
    return (last, late[0]) if late else None


# -- scope -----------------------------------------------------------------------------------


def scope(tl: Timeline, found: LimitFindings) -> tuple[Finding, list[int], list[int]]:
    """The scope, with the refusals that show a shared limit and the calls that show a token's
    own one."""
    limits = tl.limits
    # A token's own bucket, empty at a refusal, was refilled about `limit` times in the window
    # before it and spent them: at least limit - 1 of its own calls there. Fewer, or fewer
    # than `limit` even over one more slot's time, is another token's doing.
    short = [
        r for r in found.unjustified if r.own_slack < limits.limit or r.own <= limits.limit - 2
    ]
    account = [r for r in short if r.account >= limits.limit]
    everyone = [r for r in short if r.account < limits.limit <= r.everyone]
    if account:
        r = account[0]
        return (
            Finding(
                ACCOUNT,
                (
                    f"[{r.token}] refused at {tl.at(r.call)} after {r.own} of its own and "
                    f"{r.account - r.own} of another token's calls of its account "
                    f"(limit {limits.limit} each)"
                ),
                (r.call,),
            ),
            [r.call],
            [],
        )
    if everyone:
        r = everyone[0]
        return (
            Finding(
                GLOBAL,
                (
                    f"[{r.token}] refused at {tl.at(r.call)} after {r.own} of its own and "
                    f"{r.everyone - r.own} of other accounts' calls"
                ),
                (r.call,),
            ),
            [r.call],
            [],
        )
    own = _own_limit(tl)
    if own is not None:
        q, s, q2 = own
        return (
            Finding(
                TOKEN,
                (
                    f"[{tl.calls[s].token}] served at {tl.at(s)} while [{tl.calls[q].token}] was "
                    f"refused at {tl.at(q)} and {tl.at(q2)}"
                ),
                (s, q),
            ),
            [],
            [s, q],
        )
    return Finding(UNKNOWN, "no second token served while the first one was refused"), [], []


def _own_limit(tl: Timeline) -> tuple[int, int, int] | None:
    """Another token of the account served right after a refusal, before the next one."""
    limits = tl.limits
    calls = tl.calls
    close = limits.window / (4 * limits.limit)
    for token in tl.tokens:
        refusals = tl.refusals(token)
        if len(refusals) < 2:
            continue
        by_answer = sorted(refusals, key=lambda i: calls[i].received)
        answers = [calls[i].received for i in by_answer]
        sent = [calls[i].sent for i in refusals]
        for other, account in tl.account.items():
            if other == token or account != tl.account[token]:
                continue
            for s in tl.served(other):
                c = calls[s]
                k = bisect.bisect_right(answers, c.sent) - 1
                m = bisect.bisect_left(sent, c.received)
                if k < 0 or m >= len(refusals):
                    continue
                q, q2 = by_answer[k], refusals[m]
                if c.received - calls[q].sent >= close:
                    continue
                if calls[q2].received - calls[q].sent >= limits.shortest_window:
                    continue
                if tl.all_counter.possibly(calls[q].sent, calls[q2].received) < limits.limit:
                    return q, s, q2
    return None


# -- what counts -----------------------------------------------------------------------------


_COUNTED_KINDS = (
    (INVALID, "422"),
    (MISSING_ASSISTANT, "404"),
    (NO_BALANCE, "402"),
    (BAD_TOKEN, "401"),
)


def counts(tl: Timeline) -> dict[str, Finding]:
    """Whether 422, 404, 402, 401 and 429 answers count against the limit."""
    limits = tl.limits
    calls = tl.calls
    out: dict[str, Finding] = {}
    horizon = limits.window + limits.early
    for kind, status in _COUNTED_KINDS:
        expected = EXPECTED_STATUS[kind]
        for token, seq in tl.tokens.items():
            for n, i in enumerate(seq):
                if calls[i].kind != kind or not (
                    tl.quiet_before(i, horizon) or (n == 0 and tl.fresh)
                ):
                    continue
                group = seq[n : n + limits.limit]
                if (
                    len(group) < limits.limit
                    or n + limits.limit >= len(seq)
                    or any(calls[g].kind != kind or calls[g].status != expected for g in group)
                ):
                    continue
                nxt = seq[n + limits.limit]
                c = calls[nxt]
                if c.received - calls[i].sent >= limits.shortest_window:
                    continue
                answered = [calls[g].status for g in group]
                if nxt in tl.refused:
                    out[status] = Finding(
                        "yes",
                        f"[{token}] {len(group)} calls answered "
                        f"{answered}, then a call was refused at {tl.at(nxt)}",
                        (*group, nxt),
                    )
                elif c.status == EXPECTED_STATUS.get(c.kind) or c.served:
                    out[status] = Finding(
                        "no",
                        f"[{token}] {len(group)} calls answered "
                        f"{answered}, then a call answered {c.status} at "
                        f"{tl.at(nxt)}",
                        (*group, nxt),
                    )
                break
            if status in out:
                break
        out.setdefault(
            status,
            Finding(
                UNKNOWN,
                f"no {limits.limit} calls answered {status} in a fresh window followed by one more",
            ),
        )
    out["429"] = _refusals_count(tl)
    return out


def _refusals_count(tl: Timeline) -> Finding:
    limits = tl.limits
    for token in tl.tokens:
        sent = [tl.calls[i].sent for i in tl.refusals(token)]
        for r in returns(tl, token):
            q = tl.calls[r.served]
            polls = bisect.bisect_left(sent, q.sent) - bisect.bisect_right(
                sent, q.sent - limits.window
            )
            served = tl.token_counter(token).possibly(q.sent - limits.window, q.received)
            if polls + served > limits.limit:
                return Finding(
                    "no",
                    f"[{token}] {polls} refused calls in the window before "
                    f"{tl.at(r.served)} did not keep it from being served",
                    (r.served,),
                )
    return Finding(UNKNOWN, "no token was served again while it was polled")


# -- retry_after and headers -----------------------------------------------------------------


def retry_after(tl: Timeline) -> Finding:
    """``counts down``, ``constant N``, ``absent`` or unknown, from the 429 bodies."""
    calls = tl.calls
    lockouts: list[list[float]] = []
    absent = present = 0
    for token in tl.tokens:
        current: list[float] = []
        for i in tl.tokens[token]:
            c = calls[i]
            if c.served:
                if current:
                    lockouts.append(current)
                current = []
            elif c.status == 429:
                value = finite_number(c.retry_after)
                present += c.retry_after is not MISSING
                absent += c.retry_after is MISSING
                if value is not None:
                    current.append(value)
        if current:
            lockouts.append(current)
    values = sorted({v for run in lockouts for v in run})
    if not values:
        if absent and not present:
            return Finding("absent", f"{absent} answers 429 without retry_after")
        return Finding(UNKNOWN, "no 429 with a numeric retry_after")
    if any(len(set(run)) > 1 for run in lockouts):
        return Finding("counts down", f"{sum(map(len, lockouts))} answers 429 gave {values[:8]}")
    if len(values) == 1:
        return Finding(f"constant {values[0]:g}", f"every 429 said retry_after {values[0]:g}")
    return Finding(UNKNOWN, f"one value per lockout: {values[:8]}")


def _seconds(value: str | None, now: float) -> float | None:
    if value is None:
        return None
    try:
        return float(value.strip())
    except ValueError:
        pass
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    return when.timestamp() - now if now > 1e9 else None


def retry_after_header(tl: Timeline) -> tuple[Finding, list[int], list[int]]:
    """The Retry-After header against the body's retry_after: (finding, agreeing, disagreeing)."""
    calls = tl.calls
    good: list[int] = []
    bad: list[int] = []
    for i, c in enumerate(calls):
        if c.status != 429 or c.header("retry-after") is None:
            continue
        body = finite_number(c.retry_after)
        header = _seconds(c.header("retry-after"), c.received)
        if body is None or header is None:
            continue
        (good if abs(body - header) <= 1 else bad).append(i)
    sent = [i for i, c in enumerate(calls) if c.status == 429 and c.header("retry-after")]
    if not sent:
        return Finding("not sent", "no 429 carried it (allowed: not documented)"), [], []
    example = calls[(bad or good or sent)[0]]
    text = (
        f"{len(sent)} answers 429 carried it; e.g. Retry-After {example.header('retry-after')!r}, "
        f"retry_after {example.retry_after!r}"
    )
    if bad:
        return Finding("disagrees", text, tuple(bad[:1])), good, bad
    if good:
        return Finding("agrees", text, tuple(good[:1])), good, bad
    return Finding(UNKNOWN, text), good, bad


_PARAM = re.compile(r"\b([a-z]+)=(-?\d+(?:\.\d+)?)")


def headers(tl: Timeline) -> dict[str, Finding]:
    """The X-RateLimit-* and IETF RateLimit headers, against what the limiter did."""
    out: dict[str, Finding] = {}
    for label, limit, remaining in (
        ("X-RateLimit-*", "x-ratelimit-limit", "x-ratelimit-remaining"),
        ("RateLimit-Limit/-Remaining", "ratelimit-limit", "ratelimit-remaining"),
    ):
        found = _remaining(tl, limit, remaining)
        if found is not None or label == "X-RateLimit-*":
            out[label] = found or Finding("not sent", "no answer carried them")
    policy = [
        (i, c.header("ratelimit-policy"))
        for i, c in enumerate(tl.calls)
        if c.header("ratelimit-policy")
    ]
    state = [(i, c.header("ratelimit")) for i, c in enumerate(tl.calls) if c.header("ratelimit")]
    if policy or state:
        problems = []
        for i, value in policy:
            params = dict(_PARAM.findall(value or ""))
            if params.get("q") not in (None, str(tl.limits.limit)) or (
                "w" in params and float(params["w"]) != tl.limits.window
            ):
                problems.append((i, f"RateLimit-Policy {value!r}"))
        for i, value in state:
            params = dict(_PARAM.findall(value or ""))
            if i in tl.refused and params.get("r") not in (None, "0"):
                problems.append((i, f"RateLimit {value!r} on a refused call"))
        shown = (policy or state)[0]
        out["RateLimit"] = (
            Finding("disagrees", problems[0][1], (problems[0][0],))
            if problems
            else Finding(
                "agrees", f"{len(policy) + len(state)} fields; e.g. {shown[1]!r}", (shown[0],)
            )
        )
    return out


def _remaining(tl: Timeline, limit_name: str, name: str) -> Finding | None:
    calls = tl.calls
    carried = [i for i, c in enumerate(calls) if c.header(name) is not None]
    if not carried:
        return None
    problems: list[tuple[int, str]] = []
    for i, c in enumerate(calls):
        value = c.header(limit_name)
        if value is not None and value.strip() != str(tl.limits.limit) and c.kind == VALID:
            problems.append((i, f"{limit_name} {value!r} (documented: {tl.limits.limit})"))
            break
    for token in tl.tokens:
        # The last answer before a refusal may be one that counted without being served (a
        # 422 the limiter counts showing 2, 1, 0 after the last reply showed 3).
        # Only an answer surely given before the refusal was processed speaks for the count.
        shown = [
            i for i in tl.tokens[token] if i in tl.refused or calls[i].header(name) is not None
        ]
        for a, b in itertools.pairwise(shown):
            if a not in tl.refused and b in tl.refused and calls[a].received <= calls[b].sent:
                value = calls[a].header(name)
                if value is not None and value.strip() != "0":
                    what = "served" if calls[a].served else f"answered {calls[a].status}"
                    problems.append((a, f"the last call {what} before a refusal showed {value!r}"))
        seq = [i for i in tl.tokens[token] if calls[i].served or i in tl.refused]
        for a, b in itertools.pairwise(seq):
            if calls[a].served and calls[b].served:
                x, y = calls[a].header(name), calls[b].header(name)
                numbers = (
                    x is not None and y is not None and x.strip().isdigit() and y.strip().isdigit()
                )
                if (
                    numbers
                    and 0 < int(str(x)) <= int(str(y))
                    and calls[b].sent - calls[a].received < 1
                ):
                    problems.append((b, f"it did not fall between served calls: {x} then {y}"))
    if problems:
        return Finding("disagrees", problems[0][1], (problems[0][0],))
    return Finding(
        "agrees",
        f"{len(carried)} answers carried it; it fell with each served call "
        "and reached 0 before a refusal",
    )
