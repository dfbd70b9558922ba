"""The session records every generate-reply call of a run (the rate-limit model's input)."""

from __future__ import annotations

import json

import httpx
import pytest

from replyguard.profile import parse_target
from replyguard.suite.budget import Budget
from replyguard.suite.session import ApiSession

_TARGET = {
    "base_url": "http://127.0.0.1:9/api",
    "brand": "autocalls",
    "tokens": {"primary": "p" * 20, "secondary": "s" * 20},
    "assistants": {"own": 1},
}
_BODY = {"assistant_id": 1, "customer_identifier": "+1", "message": "Hi"}


def _server(request: httpx.Request) -> httpx.Response:
    if request.headers.get("authorization") == "Bearer " + "s" * 20:
        return httpx.Response(
            429,
            json={"message": "Too Many Attempts.", "retry_after": 42},
            headers={
                "Retry-After": "42",
                "X-RateLimit-Remaining": "0",
                "RateLimit-Policy": '"default";q=5;w=60',
                "Set-Cookie": "session=secret",
            },
        )
    return httpx.Response(200, json={"success": True, "reply": "Hello"})


def _session() -> ApiSession:
    target = parse_target(_TARGET, env={})
    return ApiSession(target, Budget(), transport=httpx.MockTransport(_server))


def test_every_generate_reply_call_is_recorded_with_its_role_and_limiter_fields() -> None:
    session = _session()
    try:
        session.generate_reply(_BODY, token="primary", paced=False)
        session.generate_reply(_BODY, token="secondary", paced=False)
        session.generate_reply({}, token=None, paced=False)
        session.generate_reply(_BODY, raw_token="x" * 20, paced=False)
        session.create_assistant({"name": "a"}, token="primary")  # not rate-limited: not kept
        calls = session.calls.calls
        assert [c.role for c in calls] == ["primary", "secondary", "none", "raw"]
        assert [c.valid for c in calls] == [True, True, False, False]
        assert [c.status for c in calls] == [200, 429, 200, 200]
        assert calls[0].served
        assert not calls[1].served
        assert calls[1].body == {"message": "Too Many Attempts.", "retry_after": 42}
        assert calls[1].headers == {
            "retry-after": "42",
            "x-ratelimit-remaining": "0",
            "ratelimit-policy": '"default";q=5;w=60',
        }
        assert all(c.sent <= c.received for c in calls)
        assert [c.sent for c in calls] == sorted(c.sent for c in calls)
        # No token in what a report may show.
        text = json.dumps([c.as_dict() for c in calls])
        assert "p" * 20 not in text
        assert "s" * 20 not in text
        assert "x" * 20 not in text
        assert session.calls.of("secondary") == [calls[1]]
    finally:
        session.close()


def test_a_429_is_not_billed_and_a_refused_probe_takes_no_pacing_slot() -> None:
    session = _session()
    try:
        session.generate_reply(_BODY, token="secondary", paced=False, probe=True)
        assert session.budget.billed == 0
        assert session.budget.spent["generate_reply"] == 1
        assert session.pacer.delay(session.token("secondary") or "") == 0
        assert not session.pacer.trace  # a refused probe is no send of the pacer's
        session.generate_reply(_BODY, token="primary", paced=False, probe=True)
        assert session.budget.billed == 1
        assert [step.kind for step in session.pacer.trace] == ["record"]
    finally:
        session.close()


def test_polls_fall_every_tenth_of_a_window_and_exactly_at_retry_after() -> None:
    from replyguard.suite.polls import SLACK, most_polls, poll_times

    times = poll_times(100.0, window=60, retry_after=55, now=100.0)
    assert times[:2] == [106.0, 112.0]
    assert 155.0 + SLACK in times
    assert times[-1] >= 160.0  # past any fixed window's reset
    assert len(times) <= most_polls(60)
    # Grid points already past (the suite did other work) collapse into one poll now.
    late = poll_times(100.0, window=60, retry_after=55, now=121.0)
    assert late[:2] == [121.0, 124.0]


def test_the_model_reads_each_call_as_what_it_was_meant_to_be() -> None:
    from replyguard.ratelimit import BAD_TOKEN, INVALID, MISSING_ASSISTANT, NO_TOKEN, VALID
    from replyguard.suite.limiter import model_calls, ratelimit_section

    session = _session()
    try:
        session.generate_reply(_BODY, token="primary", paced=False)
        session.generate_reply(_BODY, token="secondary", paced=False)
        session.generate_reply({}, token="primary", paced=False)
        session.generate_reply({**_BODY, "assistant_id": 999}, token="primary", paced=False)
        session.generate_reply(_BODY, token=None, paced=False)
        session.generate_reply(_BODY, raw_token="x" * 20, paced=False)
        calls = model_calls(session.calls.calls, session)
        assert [c.kind for c in calls] == [
            VALID,
            VALID,
            INVALID,
            MISSING_ASSISTANT,
            NO_TOKEN,
            BAD_TOKEN,
        ]
        assert [c.token for c in calls][:2] == ["primary", "secondary"]
        assert calls[0].account == calls[1].account
        assert calls[1].retry_after == 42
        assert calls[1].header("retry-after") == "42"
        section = ratelimit_section(session)
        assert section is not None
        assert [c["refused"] for c in section["calls"]][:2] == [False, True]
        assert "x" * 20 not in json.dumps(section)
    finally:
        session.close()


def test_a_gateway_page_is_not_billed_but_the_apps_own_5xx_is() -> None:
    target = parse_target(_TARGET, env={})
    limit = target.rate_limit.limit
    reply = {"success": True, "reply": "Hi", "conversation_id": "c"}
    answers = iter(
        [
            *(httpx.Response(200, json=reply) for _ in range(limit)),
            # Over the limit: a gateway's refusal page (only there is a 503 page an answer).
            httpx.Response(503, text="<html><body>503 Service Temporarily Unavailable</body>"),
            httpx.Response(500, json={"message": "Server Error"}),
        ]
    )
    session = ApiSession(target, Budget(), transport=httpx.MockTransport(lambda r: next(answers)))
    try:
        for _ in range(limit):
            session.generate_reply(_BODY, token="primary", paced=False)
        assert session.budget.billed == limit
        assert session.generate_reply(_BODY, token="primary", paced=False).status == 503
        assert session.budget.billed == limit
        session.generate_reply(_BODY, token="primary", paced=False)
        assert session.budget.billed == limit + 1  # the app answered: it may have made the reply
    finally:
        session.close()


def test_a_model_that_raises_leaves_the_report_and_says_so(monkeypatch: pytest.MonkeyPatch) -> None:
    from replyguard.suite import limiter

    def broken(*args: object, **kwargs: object) -> None:
        raise ValueError("no window")

    monkeypatch.setattr(limiter, "assess", broken)
    session = _session()
    try:
        session.generate_reply(_BODY, token="primary", paced=False)
        section = limiter.ratelimit_section(session)
        assert section is not None
        assert "the rate-limit model raised ValueError: no window" in section["limiter"]["summary"]
        assert len(section["calls"]) == 1
    finally:
        session.close()
