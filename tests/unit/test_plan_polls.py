"""The plan counts the polls of a throttled token the real run may send beyond its rehearsal's."""

from __future__ import annotations

from types import SimpleNamespace
from typing import Any

from replyguard.engine.plan import Plan, _unrehearsed_polls
from replyguard.suite.polls import most_polls


def _config(window: float) -> Any:
    rate_limit = SimpleNamespace(limit=5, window_seconds=window)
    return SimpleNamespace(target=SimpleNamespace(rate_limit=rate_limit))


def test_a_rehearsal_that_polled_once_plans_up_to_a_windows_worth_more() -> None:
    report = {"ratelimit": {"calls": [{"probe": True, "served": True}, {"probe": False}]}}
    assert _unrehearsed_polls(report, _config(60)) == most_polls(60) - 1
    assert _unrehearsed_polls({"ratelimit": {"calls": [{"probe": False}]}}, _config(60)) == 0
    assert _unrehearsed_polls({}, _config(60)) == 0


def test_polls_are_requests_of_the_plan_but_never_billed() -> None:
    plan = Plan(requests={"generate_reply": 30}, billed_calls=8, polls=11)
    assert plan.total == 41
    lines = plan.lines()
    assert lines[0] == (
        "plan: 30 requests (generate_reply 30) and up to 11 more polls of a throttled token "
        "(refusals: not billed)"
    )
    assert "8 generate-reply calls can be billed" in lines[1]
