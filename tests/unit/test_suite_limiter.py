"""What the contract suite's polls show the rate-limit model (suite.limiter, suite.polls).

The traces are what ``replyguard check`` records (tests/integration and a served fault at a 2 s
window): a burst on a fresh token, the refusal, then the polls every window / 10.
"""

from __future__ import annotations

from replyguard.ratelimit import FAIL, PASS, Call, Limits, assess

_T = 1_800_000_000.0


def _trace(answers: list[tuple[float, int]]) -> list[Call]:
    return [
        Call.from_answer(
            "primary",
            _T + at,
            _T + at + 0.005,
            status,
            {"message": "Too Many Attempts.", "retry_after": 2} if status == 429 else {},
        )
        for at, status in answers
    ]


_BURST = [(0.0, 200), (0.01, 200), (0.02, 200), (0.04, 200), (0.05, 200), (0.06, 429)]


def test_a_fixed_window_seen_by_the_polls_keeps_the_limit() -> None:
    polls = [(0.26, 429), (0.46, 429), (0.66, 429), (0.86, 429), (1.06, 429), (2.06, 200)]
    verdict = assess(_trace(_BURST + polls), Limits(5, 2.0), fresh=True).verdicts
    assert verdict["ratelimit.limit"].outcome == PASS


def test_a_bucket_seen_by_the_polls_fails_the_limit() -> None:
    # The token-bucket fault: one slot back every 0.4 s; the poll after the reply is refused,
    # so no reset handed all slots back.
    polls = [(0.26, 429), (0.46, 200), (0.47, 429), (2.31, 200)]
    verdict = assess(_trace(_BURST + polls), Limits(5, 2.0), fresh=True).verdicts
    assert verdict["ratelimit.limit"].outcome == FAIL
    assert "bucket" in verdict["ratelimit.limit"].observed
