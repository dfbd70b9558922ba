"""tokens.pool: more tokens of the account, "any" spreads calls over them, the plan counts them."""

from __future__ import annotations

from collections import Counter
from typing import Any

import httpx
import pytest

from replyguard.masking import mask_secrets
from replyguard.profile import ProfileError, Target, parse_target
from replyguard.suite.budget import Budget
from replyguard.suite.pacing import Pacer, replay
from replyguard.suite.session import ApiSession

POOL = [f"pool-token-{n}-" + "x" * 16 for n in range(1, 5)]


class FakeClock:
    def __init__(self) -> None:
        self.now = 0.0

    def __call__(self) -> float:
        return self.now

    def sleep(self, seconds: float) -> None:
        self.now += seconds


def _target(**tokens: Any) -> Target:
    return parse_target(
        {
            "base_url": "http://127.0.0.1:9/api",
            "brand": "autocalls",
            "tokens": {"primary": "p" * 20, "secondary": "s" * 20, **tokens},
            "assistants": {"own": 1},
        },
        env={"POOL_TOKEN": "from-the-environment-123"},
    )


def test_the_pool_is_read_masked_and_named_by_role() -> None:
    target = _target(pool=[*POOL, "${POOL_TOKEN}"])
    tokens = target.tokens
    assert tokens.pool == (*POOL, "from-the-environment-123")
    assert tokens.account_roles() == ("primary", "secondary", *(f"pool.{n}" for n in range(1, 6)))
    assert tokens.role("pool.1") == POOL[0]
    assert "from-the-environment-123" in tokens.secrets()
    assert POOL[0] not in repr(tokens)
    assert POOL[2] not in mask_secrets(f"Bearer {POOL[2]}", target.secrets())
    with pytest.raises(ValueError, match="unknown token role"):
        tokens.role("pool.9")


@pytest.mark.parametrize(
    ("pool", "problem"),
    [
        ("one-token", "tokens.pool"),
        ([POOL[0], POOL[0]], "tokens.pool[1]"),
        (["p" * 20], "tokens.pool[0]"),
        ([""], "tokens.pool[0]"),
        ([7], "tokens.pool"),
    ],
)
def test_a_bad_pool_is_one_line_naming_the_key(pool: Any, problem: str) -> None:
    with pytest.raises(ProfileError, match=problem.replace("[", r"\[")):
        _target(pool=pool)


def test_any_spreads_generate_reply_calls_over_the_pool() -> None:
    target = _target(pool=POOL)
    used: list[str] = []

    def serve(request: httpx.Request) -> httpx.Response:
        used.append(request.headers["authorization"].removeprefix("Bearer "))
        return httpx.Response(200, json={"success": True})

    clock = FakeClock()
    session = ApiSession(
        target,
        Budget(),
        transport=httpx.MockTransport(serve),
        pacer=Pacer(5, 60, clock=clock, sleep=clock.sleep),
    )
    body = {"assistant_id": 1, "customer_identifier": "+1", "message": "Hi"}
    try:
        for _ in range(20):  # four pool tokens, five each: one window, no wait
            session.generate_reply(body)
        # A per-token rule keeps its token.
        session.generate_reply(body, token="secondary", paced=False)
    finally:
        session.close()
    assert clock.now == 0
    # Primary and secondary stay for the rate-limit tests that name them.
    assert Counter(used[:20]) == dict.fromkeys(POOL, 5)
    assert used[20] == "s" * 20
    assert session.roles_used >= {"pool.1", "pool.4"}
    assert session.billable("pool.2", body)


def test_without_a_pool_any_takes_primary_and_secondary() -> None:
    session = ApiSession(_target(), Budget())
    try:
        assert session.freest_account_token() == "primary"
        session.pacer.record("p" * 20)
        session.pacer.limit = 1
        assert session.freest_account_token() == "secondary"
    finally:
        session.close()


def test_with_a_pool_the_other_calls_run_before_the_recovery() -> None:
    # They fill the burst's window on the pool instead of waiting for the primary's reset.
    from replyguard.engine.suite_plugin import _order

    class Item:
        def __init__(self, phase: int) -> None:
            self.phase = phase

        def get_closest_marker(self, name: str) -> Any:
            return type("Mark", (), {"args": (self.phase,)})()

    items: Any = [Item(n) for n in (4, 3, 2, 1, 0)]
    assert [i.phase for i in sorted(items, key=lambda i: _order(i, pool=True))] == [0, 1, 3, 2, 4]
    assert [i.phase for i in sorted(items, key=lambda i: _order(i, pool=False))] == [0, 1, 2, 3, 4]


def test_the_plan_replays_the_any_calls_over_the_pool() -> None:
    # A rehearsal has the account's two tokens; the target's pool of four is replayed as spare
    # buckets every "any" send may choose.
    clock = FakeClock()
    pacer = Pacer(5, 1, clock=clock, sleep=clock.sleep)
    for _ in range(30):
        clock.now += 0.1
        pacer.acquire("primary", choices=["primary", "secondary"])
    two, _ = replay(pacer.trace, limit=5, window=60, scale=60)
    six, _ = replay(pacer.trace, limit=5, window=60, scale=60, spare=4)
    assert two > 120  # 30 calls on two tokens: two more windows
    assert six < 10  # on six tokens: one window, no wait
