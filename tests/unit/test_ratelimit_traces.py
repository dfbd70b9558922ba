"""The rate-limit model on traces recorded from real runs (issue #18), call for call, and on
simulated traces shaped like the suite's: a burst, polls until served again, a second token of
the account that spends its own limit meanwhile."""

from __future__ import annotations

from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from replyguard import ratelimit as rl
from tests.unit.ratelimit_sim import Client, Gcra, NginxLimitReq, TokenBucket, run
from tests.unit.test_ratelimit_model import clients_strategy, conforming

# `replyguard check --rules 'ratelimit.*'` against `serve --fault ratelimit.token-bucket
# --window 2`: the report's ratelimit.calls as (role, sent, received, status, valid,
# X-RateLimit-Remaining). The primary token got 5 replies, a 429, a 429 poll, a reply 0.41 s
# after the burst's first call and a 429: six served within 0.41 s at 5 per 2 s. In between,
# the secondary token of the same account spent its limit (2 replies, 3 answers 422, a 429)
# and 5 calls without a token were answered 401.
TOKEN_BUCKET_RUN = (
    ("primary", 1796610635.207, 1796610635.211, 200, True, "4"),
    ("primary", 1796610635.211, 1796610635.212, 200, True, "3"),
    ("primary", 1796610635.213, 1796610635.214, 200, True, "2"),
    ("primary", 1796610635.214, 1796610635.215, 200, True, "1"),
    ("primary", 1796610635.215, 1796610635.215, 200, True, "0"),
    ("primary", 1796610635.215, 1796610635.216, 429, True, "0"),
    ("secondary", 1796610635.218, 1796610635.219, 200, True, "4"),
    ("none", 1796610635.22, 1796610635.22, 401, False, None),
    ("none", 1796610635.22, 1796610635.221, 401, False, None),
    ("none", 1796610635.221, 1796610635.221, 401, False, None),
    ("none", 1796610635.221, 1796610635.222, 401, False, None),
    ("none", 1796610635.222, 1796610635.222, 401, False, None),
    ("secondary", 1796610635.222, 1796610635.223, 200, True, "3"),
    ("secondary", 1796610635.223, 1796610635.223, 422, False, "2"),
    ("secondary", 1796610635.223, 1796610635.224, 422, False, "1"),
    ("secondary", 1796610635.224, 1796610635.224, 422, False, "0"),
    ("secondary", 1796610635.224, 1796610635.225, 429, True, "0"),
    ("primary", 1796610635.416, 1796610635.418, 429, True, "0"),
    ("primary", 1796610635.617, 1796610635.619, 200, True, "0"),
    ("primary", 1796610635.619, 1796610635.62, 429, True, "0"),
    ("primary", 1796610637.467, 1796610637.468, 200, True, "3"),
)
ACCOUNTS = {"primary": "account", "secondary": "account"}
LIMITS = rl.Limits(5, 2.0)


def recorded(
    trace: tuple[tuple[str, float, float, int, bool, str | None], ...],
    *,
    headers: bool = False,
    retry_after: int = 2,
) -> list[rl.Call]:
    """The model's calls as the suite hands them over (bodies as the reference answers)."""
    calls = []
    for role, sent, received, status, valid, remaining in trace:
        kind = rl.VALID if valid else (rl.NO_TOKEN if role == "none" else rl.INVALID)
        body = (
            {"message": "Too Many Attempts.", "retry_after": retry_after}
            if status == 429
            else {"success": True, "reply": "x"}
            if status == 200
            else {"message": "x"}
        )
        shown = (
            {"x-ratelimit-limit": "5", "x-ratelimit-remaining": remaining}
            if headers and remaining is not None
            else None
        )
        calls.append(
            rl.Call.from_answer(
                role,
                sent,
                received,
                status,
                body,
                shown,
                kind=kind,
                account=ACCOUNTS.get(role, role),
                is_reply=True if status == 200 else None,
            )
        )
    return calls


def test_other_tokens_calls_do_not_explain_a_bucket() -> None:
    # The secondary token's calls and the 401s once let a fixed window "reset" between the
    # primary's burst and its 429 poll (the others filling it), while the primary was then
    # served inside that full window: a window that refused serves nothing until it resets.
    a = rl.assess(recorded(TOKEN_BUCKET_RUN), LIMITS, fresh=True)
    verdict = a.verdicts["ratelimit.limit"]
    assert verdict.failed, verdict.observed
    assert "[primary] 6 served within 0.412s" in verdict.observed
    assert "token bucket" in verdict.observed
    assert a.limiter.family.value == rl.TOKEN_BUCKET


def test_the_primary_tokens_calls_alone_give_the_same_verdict() -> None:
    alone = [c for c in recorded(TOKEN_BUCKET_RUN) if c.token == "primary"]
    a = rl.assess(alone, LIMITS, fresh=True)
    assert a.verdicts["ratelimit.limit"].failed
    assert a.limiter.family.value == rl.TOKEN_BUCKET


def test_answers_that_counted_without_a_reply_take_the_remaining_slots() -> None:
    # The secondary's last reply showed 3 remaining, then three 422s showed 2, 1, 0 and the
    # next call was refused: the header agrees (the embedded reference answers the same way).
    a = rl.assess(recorded(TOKEN_BUCKET_RUN, headers=True), LIMITS, fresh=True)
    finding = a.limiter.headers["X-RateLimit-*"]
    assert finding.value == "agrees", finding.evidence


def test_a_remaining_slot_shown_right_before_a_refusal_disagrees() -> None:
    # Without the 422s between, the reply that showed 3 was the last thing before the 429.
    trace = tuple(t for t in TOKEN_BUCKET_RUN if not (t[0] == "secondary" and t[3] == 422))
    a = rl.assess(recorded(trace, headers=True), LIMITS, fresh=True)
    finding = a.limiter.headers["X-RateLimit-*"]
    assert finding.value == "disagrees"
    assert "the last call served before a refusal showed '3'" in finding.evidence


# -- simulated: the second token's calls never explain the first one's bucket ---------------


def suite_shaped(calls: list[rl.Call]) -> list[rl.Call]:
    """The calls as the suite makes them: the primary stops one call after it is served again
    following a refusal, every other token at its first refusal (per-token limits only: the
    calls left out changed no other token's answers)."""
    out: list[rl.Call] = []
    refused: set[str] = set()
    left: int | None = None
    for c in calls:
        if c.token != "primary":
            if c.token not in refused:
                out.append(c)
                refused |= {c.token} if c.status == 429 else set()
            continue
        if left is not None:
            if left:
                out.append(c)
                left -= 1
            continue
        out.append(c)
        if c.status == 429:
            refused.add(c.token)
        elif c.served and c.token in refused:
            left = 1
    return out


@settings(max_examples=40, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    kind=st.sampled_from(["bucket", "gcra", "nginx"]),
    window=st.sampled_from((60.0, 2.0)),
    poll=st.floats(0.02, 0.1),
    latency=st.floats(0.0, 0.5),
    start=st.floats(0, 100),
    seed=st.integers(0, 2**16),
    other_start=st.floats(0, 0.2),
    other_poll=st.floats(0.001, 0.1),
)
def test_bucket_traces_with_a_second_token_always_fail(
    kind: str,
    window: float,
    poll: float,
    latency: float,
    start: float,
    seed: int,
    other_start: float,
    other_poll: float,
) -> None:
    limiter = {
        "bucket": TokenBucket(5, window / 5),
        "gcra": Gcra(5, window / 5),
        "nginx": NginxLimitReq(5, 4, scale=window / 60),
    }[kind]
    at = start * window / 60
    clients = [
        Client("primary", at, poll * window),
        Client("secondary", at + other_start * window, other_poll * window),
    ]
    calls = run(
        limiter,
        clients,
        duration=at + 2 * window,
        latency=latency * window / 60,
        seed=seed,
        accounts={"primary": "a", "secondary": "a"},
    )
    a = rl.assess(suite_shaped(calls), rl.Limits(5, window), fresh=True)
    assert a.verdicts["ratelimit.limit"].failed, a.verdicts["ratelimit.limit"].observed


@settings(max_examples=60, deadline=None, suppress_health_check=[HealthCheck.too_slow])
@given(
    family=st.sampled_from(["first hit", "whole-second timer", "clock", "sliding log"]),
    window=st.sampled_from((60.0, 2.0)),
    specs=clients_strategy,
    latency=st.floats(0.0, 0.5),
    seed=st.integers(0, 2**16),
    fresh=st.booleans(),
)
def test_conforming_windows_shared_by_the_account_never_fail_the_limit(
    family: str,
    window: float,
    specs: list[tuple[str, float, float, bool, float]],
    latency: float,
    seed: int,
    fresh: bool,
) -> None:
    # Laravel keys by user: both tokens fill one window. That is ratelimit.per-token's to
    # judge; the limit itself holds. (Never cut short: in a shared window every call counts.)
    clients = [Client(t, s * window, p * window, h, g * window) for t, s, p, h, g in specs]
    calls = run(
        conforming(window)[family],
        clients,
        duration=4 * window,
        latency=latency * window / 60,
        seed=seed,
        key=lambda token: "a",
        accounts={"primary": "a", "secondary": "a"},
        max_calls=3000,
    )
    a = rl.assess(calls, rl.Limits(5, window), fresh=fresh)
    assert not a.verdicts["ratelimit.limit"].failed, a.verdicts["ratelimit.limit"].observed


# `replyguard check` on the embedded reference (5 per 1 s): the primary token's burst, its
# refusal, and its next calls 8 s later (the suite judged other rules meanwhile).
REFERENCE_RUN = (
    ("primary", 0.0, 0.004, 200, True, "4"),
    ("primary", 0.004, 0.005, 200, True, "3"),
    ("primary", 0.005, 0.006, 200, True, "2"),
    ("primary", 0.006, 0.007, 200, True, "1"),
    ("primary", 0.007, 0.008, 200, True, "0"),
    ("primary", 0.008, 0.008, 429, True, "0"),
    ("primary", 8.048, 8.05, 200, True, "4"),
    ("primary", 8.052, 8.053, 200, True, "3"),
    ("primary", 8.054, 8.055, 200, True, "2"),
    ("primary", 8.056, 8.057, 200, True, "1"),
    ("primary", 8.057, 8.058, 200, True, "0"),
)


def test_a_return_long_after_the_refusal_leaves_the_family_unknown_and_says_why() -> None:
    calls = recorded(REFERENCE_RUN, headers=True, retry_after=1)
    a = rl.assess(calls, rl.Limits(5, 1.0), fresh=True)
    assert not a.failed
    family = a.limiter.family
    assert family.value == rl.UNKNOWN
    # Slots did come back: only not soon enough after the refusal to tell the family.
    assert "served again 8.04s after its refusal at +0.01s" in family.evidence
    assert a.limiter.headers["X-RateLimit-*"].value == "agrees"
