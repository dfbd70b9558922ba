"""The pacer keeps any window's sends within the limit; the budget refuses overspending."""

from __future__ import annotations

import pytest

from replyguard.profile import Safety
from replyguard.suite.budget import Budget, BudgetExhausted
from replyguard.suite.pacing import Pacer, Step, replay


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def test_pacer_never_puts_more_than_limit_sends_in_a_window() -> None:
    clock = FakeClock()
    pacer = Pacer(5, 60, margin=1, clock=clock, sleep=clock.sleep)
    times = []
    for _ in range(17):
        pacer.acquire("t")
        times.append(clock.now)
        clock.now += 0.1
    for start in times:
        assert sum(1 for t in times if start <= t < start + 60) <= 5
    assert times[5] >= times[0] + 61  # the sixth waits for the first to leave the window


def test_tokens_are_paced_separately() -> None:
    clock = FakeClock()
    pacer = Pacer(1, 10, margin=0, clock=clock, sleep=clock.sleep)
    pacer.acquire("a")
    pacer.acquire("b")
    assert clock.now == 0


def test_quiet_waits_a_full_window_after_the_last_send() -> None:
    clock = FakeClock()
    pacer = Pacer(5, 2, margin=0.1, clock=clock, sleep=clock.sleep)
    pacer.record("t")
    clock.now = 1.0
    pacer.quiet("t")
    assert clock.now == pytest.approx(2.1)


def test_budget_caps_billable_calls_on_real_targets() -> None:
    budget = Budget.for_target(Safety(max_requests=0, exhaustive=False, max_billed_calls=3))
    for _ in range(3):
        budget.spend("generate_reply", billable=True)
    with pytest.raises(BudgetExhausted, match="max_billed_calls"):
        budget.spend("generate_reply", billable=True)
    budget.spend("generate_reply")  # a refusal (422, 401, 404) costs only a request
    budget.spend("create_assistant")
    assert budget.billed == 3
    assert budget.total == 5


def test_budget_overall_cap_and_reservation() -> None:
    budget = Budget.for_target(Safety(max_requests=3, exhaustive=True))
    budget.reserve("create_assistant", 3)
    with pytest.raises(BudgetExhausted):
        budget.reserve("create_assistant", 4)
    free = Budget.for_target(Safety(max_requests=0, exhaustive=True))
    assert free.remaining("generate_reply") == float("inf")


def test_billable_calls_are_valid_calls_for_an_own_assistant() -> None:
    from replyguard.profile import parse_target
    from replyguard.suite.session import ApiSession

    target = parse_target(
        {
            "base_url": "http://127.0.0.1:9/api",
            "brand": "autocalls",
            "tokens": {"primary": "p" * 20, "secondary": "s" * 20},
            "assistants": {"own": 1, "foreign": 2},
        },
        env={},
    )
    session = ApiSession(target, Budget())
    valid = {"assistant_id": 1, "customer_identifier": "+1", "message": "Hi"}
    try:
        assert session.billable("primary", valid)
        assert session.billable("secondary", valid)
        assert not session.billable(None, valid)  # no token: a 401
        assert not session.billable("primary", {**valid, "assistant_id": 2})  # foreign: 404
        assert not session.billable("primary", {**valid, "assistant_id": {"id": 1}})
        assert not session.billable("primary", {**valid, "assistant_id": True})
        assert not session.billable("primary", {**valid, "customer_identifier": "x" * 256})
        assert not session.billable("primary", {**valid, "message": " "})
        assert not session.billable("primary", {**valid, "variables": "name=John"})
    finally:
        session.close()


def _rehearsal(work_while_reset: float) -> list[Step]:
    """A paid run's pacing on a 1 s window: a burst, work, recovery, then eight paced calls."""
    clock = FakeClock()
    pacer = Pacer(5, 1, clock=clock, sleep=clock.sleep)
    for _ in range(6):
        pacer.record("primary")
    clock.now += work_while_reset
    pacer.pause(0.0, key="primary")
    pacer.record("primary")
    for _ in range(8):
        clock.now += 0.01
        pacer.acquire("primary")
    return pacer.trace


def test_a_replay_at_the_targets_window_overlaps_work_with_the_reset() -> None:
    # 20 s of create-assistant work while the burst's window resets costs nothing at 60 s:
    # recovery at ~61 s, four more calls in that window, the next four one window later.
    quick, slow = (replay(_rehearsal(work), limit=5, window=60, scale=60) for work in (0.1, 20.0))
    assert 120 < quick[0] < 125
    assert slow[0] == pytest.approx(quick[0], abs=0.2)
    # A plain scaling of the rehearsal's waits would have said 20 s more for the slow one.
    assert slow[1] < quick[1]


def test_trace_never_holds_a_key() -> None:
    clock = FakeClock()
    pacer = Pacer(1, 1, clock=clock, sleep=clock.sleep)
    pacer.acquire("secret-token-value")
    pacer.quiet("secret-token-value")
    assert "secret" not in repr([step.as_list() for step in pacer.trace])
    assert [Step.from_list(step.as_list()) for step in pacer.trace] == pacer.trace


def test_tokens_that_share_a_bucket_are_paced_as_one_after_the_first_surprise_429() -> None:
    # A server that counts the account's two tokens together (Laravel's throttle keyed by
    # user): once a token with room is refused, "any" stops spreading calls over both.
    import httpx

    from replyguard.profile import parse_target
    from replyguard.suite.session import ApiSession

    target = parse_target(
        {
            "base_url": "http://127.0.0.1:9/api",
            "brand": "autocalls",
            "tokens": {"primary": "p" * 20, "secondary": "s" * 20},
            "assistants": {"own": 1},
        },
        env={},
    )
    served = [0]

    def shared_bucket(request: httpx.Request) -> httpx.Response:
        served[0] += 1
        if served[0] > 5:
            return httpx.Response(429, json={"message": "Too Many Attempts.", "retry_after": 60})
        return httpx.Response(200, json={"success": True})

    clock = FakeClock()
    session = ApiSession(
        target,
        Budget(),
        transport=httpx.MockTransport(shared_bucket),
        pacer=Pacer(5, 60, clock=clock, sleep=clock.sleep),
    )
    body = {"assistant_id": 1, "customer_identifier": "+1", "message": "Hi"}
    try:
        for _ in range(5):
            session.generate_reply(body, token="primary", paced=False)
        # The primary's own sixth call is refused as documented: nothing is shared yet.
        served[0] = 0
        assert session.generate_reply(body, token="primary", paced=False).status == 200
        served[0] = 5
        assert session.generate_reply(body, token="primary", paced=False).status == 429
        assert not session.shared_bucket
        assert session.freest_account_token() == "secondary"
        refused = session.generate_reply(body, token="secondary", paced=False)
        assert refused.status == 429
        assert session.shared_bucket
        # The five primary sends and the refused one are one bucket's now: no token has room.
        assert session.pacer.delay(session.token("secondary") or "") == 0  # old key: unused
        assert session.freest_account_token() == "primary"
        session.fresh_window("secondary")
        assert clock.now >= 60  # waited for the shared bucket, not for the secondary's own
    finally:
        session.close()


def test_a_429_on_a_full_bucket_is_no_surprise() -> None:
    clock = FakeClock()
    pacer = Pacer(5, 60, clock=clock, sleep=clock.sleep)
    for _ in range(6):
        pacer.record("a")
    pacer.merge(["a", "b"], "ab")
    assert pacer.delay("ab") > 0
    assert pacer.delay("a") == 0


def test_a_replay_chooses_the_any_token_again_at_the_targets_window() -> None:
    # On a 1 s window a rehearsal may send every "any" call on one token (it always had room);
    # at 60 s the run spreads them over both, and so must the replay.
    clock = FakeClock()
    pacer = Pacer(5, 1, clock=clock, sleep=clock.sleep)
    for _ in range(6):
        pacer.record("primary")
    pacer.pause(0.0, key="primary")
    for _ in range(17):
        clock.now += 0.3
        pacer.acquire("primary", choices=["primary", "secondary"])
    ended, _ = replay(pacer.trace, limit=5, window=60, scale=60)
    assert 120 < ended < 130  # recovery window and one more, not four windows on one token
    fixed = [Step(s.work, s.kind, s.bucket, s.seconds) for s in pacer.trace]
    assert replay(fixed, limit=5, window=60, scale=60)[0] > 180
