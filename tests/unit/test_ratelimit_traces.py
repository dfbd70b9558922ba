"""The rate-limit model on traces recorded from real runs (issue #18), call for call."""

from __future__ import annotations

from replyguard import ratelimit as rl

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
    trace: tuple[tuple[str, float, float, int, bool, str | None], ...], *, headers: bool = False
) -> list[rl.Call]:
    """The model's calls as the suite hands them over (bodies as the reference answers)."""
    calls = []
    for role, sent, received, status, valid, remaining in trace:
        kind = rl.VALID if valid else (rl.NO_TOKEN if role == "none" else rl.INVALID)
        body = (
            {"message": "Too Many Attempts.", "retry_after": 2}
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
