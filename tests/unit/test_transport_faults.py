"""Transport faults (issue 20): named, kept from unrelated rules, retried only when harmless,
counted when they may have billed or created, bounded by the breaker and the time limit."""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

import httpx
import pytest
from hypothesis import HealthCheck, Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import FlakyFailure

from replyguard.config import read_choices, run_config
from replyguard.config.bounds import Bounds
from replyguard.config.options import ConfigError
from replyguard.engine.judge import aggregate
from replyguard.profile import Profile, parse_target
from replyguard.report.render import transport_line
from replyguard.suite.budget import Budget
from replyguard.suite.fault_report import server_error_exchanges, transport_section
from replyguard.suite.outcomes import outcome_of
from replyguard.suite.server_errors import server_error_outcome
from replyguard.suite.session import ApiSession
from replyguard.suite.transport import (
    FaultLog,
    RunStopped,
    TargetUnreachable,
    TransportFault,
    TransportFaultError,
    classify,
)

URL = "http://127.0.0.1:9/api/user/ai/generate-reply"
VALID = {"assistant_id": 1, "customer_identifier": "+1", "message": "Hi"}
ASSISTANT = {"name": "replyguard 1234abcd", "type": "outbound"}
GATEWAY_PAGE = "<html><body><h1>502 Bad Gateway</h1></body></html>"


def _target(exhaustive: bool = False) -> Any:
    return parse_target(
        {
            "base_url": "http://127.0.0.1:9/api",
            "brand": "autocalls",
            "tokens": {"primary": "p" * 20, "secondary": "s" * 20},
            "assistants": {"own": 1, "foreign": 2},
            "safety": {"exhaustive": exhaustive, "allow_writes": True},
        },
        env={},
    )


def _session(
    handler: Callable[[httpx.Request], httpx.Response],
    *,
    exhaustive: bool = False,
    bounds: Bounds | None = None,
) -> ApiSession:
    session = ApiSession(
        _target(exhaustive), Budget(), transport=httpx.MockTransport(handler), bounds=bounds
    )
    session.guard._sleep = lambda seconds: None
    session.pacer._sleep = lambda seconds: None
    session.begin_test("test_x")
    return session


def _raising(exc: Exception) -> Callable[[httpx.Request], httpx.Response]:
    def handler(request: httpx.Request) -> httpx.Response:
        raise exc

    return handler


def test_each_httpx_error_is_named_and_says_whether_the_api_may_have_acted() -> None:
    assert classify(httpx.ConnectError("[Errno 111] Connection refused"), URL, 30)[::2] == (
        "refused",
        False,
    )
    assert "cannot reach" in classify(httpx.ConnectError("refused"), URL, 30)[1]
    assert classify(httpx.ReadTimeout("timed out"), URL, 30) == (
        "timeout",
        "no answer in 30 s",
        True,
    )
    kind, reason, reached = classify(httpx.ReadError("[Errno 104] Connection reset"), URL, 30)
    assert (kind, reached) == ("reset", True)
    assert "cannot reach" not in reason  # a connection was made: the request went out
    cut = classify(httpx.RemoteProtocolError("incomplete"), URL, 30, answered=201)
    assert cut == ("truncated", "the answer (201) was cut short", True)
    assert classify(httpx.WriteError("broken pipe"), URL, 30)[2] is False


def test_a_refused_connection_is_retried_with_backoff_and_sent_once() -> None:
    attempts: list[int] = []

    def flaky(request: httpx.Request) -> httpx.Response:
        attempts.append(1)
        if len(attempts) < 3:
            raise httpx.ConnectError("[Errno 111] Connection refused")
        return httpx.Response(200, json={"success": True})

    session = _session(flaky)
    waits: list[float] = []
    session.guard._sleep = waits.append
    try:
        exchange = session.generate_reply(VALID, token="primary")
    finally:
        session.close()
    assert exchange.status == 200
    assert len(attempts) == 3
    assert len(waits) == 2
    assert session.guard.log.retried == 2
    assert session.guard.log.faults == []
    assert session.budget.total == 1  # one request reached the API


def test_a_target_that_never_accepts_a_connection_cannot_be_reached() -> None:
    session = _session(_raising(httpx.ConnectError("[Errno 111] Connection refused")))
    try:
        with pytest.raises(TargetUnreachable, match=r"cannot reach .*connection refused"):
            session.generate_reply(VALID, token="primary")
    finally:
        session.close()


def test_a_lost_billable_reply_is_possibly_billed_and_never_resent() -> None:
    sent: list[int] = []

    def hang(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        raise httpx.ReadTimeout("timed out")

    session = _session(hang)
    try:
        with pytest.raises(TransportFaultError, match="no answer in 30 s"):
            session.generate_reply(VALID, token="primary")
    finally:
        session.close()
    assert len(sent) == 1
    assert session.guard.log.possibly_billed == 1
    assert session.budget.billed == 1
    assert session.guard.test_faults[0].exchange is not None
    assert "generate-reply" in session.guard.test_faults[0].exchange.curl()


def test_a_created_assistant_whose_answer_was_cut_is_possibly_created_by_name() -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            201, headers={"content-type": "application/json"}, content=b'{"data": {"id": 10'
        )

    session = _session(cut)
    try:
        with pytest.raises(TransportFaultError, match="not valid JSON"):
            session.create_assistant(ASSISTANT, token="primary")
    finally:
        session.close()
    assert session.created == []
    assert session.guard.log.possibly_created[0]["name"] == "replyguard 1234abcd"
    line = transport_line({"transport": transport_section(session.guard, 1)})
    assert "possibly created" in line
    assert "'replyguard 1234abcd'" in line


def test_a_refused_create_assistant_is_not_possibly_created() -> None:
    def cut(request: httpx.Request) -> httpx.Response:
        return httpx.Response(422, headers={"content-type": "application/json"}, content=b'{"mes')

    session = _session(cut)
    try:
        with pytest.raises(TransportFaultError):
            session.create_assistant(ASSISTANT, token="primary")
    finally:
        session.close()
    assert session.guard.log.possibly_created == []


def test_a_gateway_page_is_a_fault_that_still_fails_only_no_server_error() -> None:
    def gateway(request: httpx.Request) -> httpx.Response:
        return httpx.Response(502, headers={"content-type": "text/html"}, text=GATEWAY_PAGE)

    session = _session(gateway)
    try:
        with pytest.raises(TransportFaultError) as caught:
            session.generate_reply({**VALID, "message": ""}, token="primary")
    finally:
        session.close()
    faults = session.guard.test_faults
    assert faults[0].reason == "the gateway answered 502 (HTML)"
    judged = outcome_of(
        "test_x",
        ("reply.message.required",),
        _Report(),
        caught.value,
        session.last,
        (),
        faults,
    )
    whole_run = server_error_outcome(server_error_exchanges(faults), [judged], ())
    assert whole_run is not None
    outcomes = [judged, whole_run]
    verdicts = {
        v.rule: v
        for v in aggregate(["reply.message.required", "contract.no-server-error"], outcomes, {})
    }
    assert verdicts["reply.message.required"].verdict == "not tested"
    assert "the gateway answered 502" in verdicts["reply.message.required"].reason
    assert verdicts["contract.no-server-error"].verdict == "fail"
    assert "502" in verdicts["contract.no-server-error"].failures[0]["observed"]


def test_over_the_limit_only_a_503_page_is_the_limiters_refusal() -> None:
    # An unpaced burst on one token, as the rate-limit tests send it (issue 18 and 20): within
    # the limit any gateway page is a blip; over it a 503 page is nginx limit_req's refusal
    # (judged by ratelimit.status-429), and a 502 is still a blip.
    statuses = iter([503, 422, 502, 422, 422, 503, 502])

    def burst(request: httpx.Request) -> httpx.Response:
        status = next(statuses)
        if status == 422:
            return httpx.Response(422, json={"message": "invalid", "errors": {}})
        page = f"<html><body><h1>{status}</h1></body></html>"
        return httpx.Response(status, headers={"content-type": "text/html"}, text=page)

    session = _session(burst)
    answered: list[int | str] = []
    try:
        for _ in range(7):
            try:
                answered.append(session.generate_reply({}, token="primary", paced=False).status)
            except TransportFaultError as fault:
                answered.append(f"fault {fault.fault.status}")
    finally:
        session.close()
    assert answered == ["fault 503", 422, "fault 502", 422, 422, 503, "fault 502"]


def test_the_api_s_own_json_500_is_its_answer_not_a_fault() -> None:
    def server_error(request: httpx.Request) -> httpx.Response:
        return httpx.Response(500, json={"message": "Server Error"})

    session = _session(server_error)
    try:
        assert session.generate_reply(VALID, token="primary").status == 500
    finally:
        session.close()
    assert session.guard.log.faults == []


class _Report:
    skipped = passed = False
    failed = True
    longrepr: Any = None


def test_a_flaky_error_is_unwrapped_to_the_fault_under_it() -> None:
    fault = TransportFault("reset", "generate_reply", "the connection closed", True, "test_x")
    flaky = FlakyFailure(
        "Hypothesis run(case=...) produces unreliable results", [TransportFaultError(fault)]
    )
    outcome = outcome_of("test_x", ("contract.response-schema",), _Report(), flaky, None, ())
    assert outcome.status == "skipped"
    assert outcome.reason == "transport fault: the connection closed"
    assert "Flaky" not in outcome.reason


def test_inside_hypothesis_a_fault_rejects_the_example_and_the_others_judge() -> None:
    calls: list[int] = []

    def every_third_resets(request: httpx.Request) -> httpx.Response:
        calls.append(1)
        if len(calls) % 3 == 1:
            raise httpx.ReadError("[Errno 104] Connection reset by peer")
        return httpx.Response(422, json={"message": "invalid"})

    session = _session(every_third_resets, exhaustive=True)

    @settings(max_examples=10, database=None, suppress_health_check=list(HealthCheck))
    @given(message=st.text(max_size=3))
    def run(message: str) -> None:
        assert session.generate_reply({"message": message}, token="primary").status == 422

    try:
        run()
    finally:
        session.close()
    assert len(session.guard.log.faults) >= 1
    assert len(calls) > 10  # the faulted examples were replaced, not failed


def test_a_hypothesis_replay_on_a_paid_target_sends_nothing_billable_again() -> None:
    sent: list[bytes] = []

    def answer(request: httpx.Request) -> httpx.Response:
        sent.append(request.content)
        return httpx.Response(200, json={"success": True})

    def fails_on_a_reply(session: ApiSession) -> Callable[[], None]:
        @settings(max_examples=5, database=None, phases=(Phase.explicit, Phase.generate))
        @given(st.just(VALID))
        def run(body: dict[str, Any]) -> None:
            reply = session.generate_reply(body, token="primary")
            raise AssertionError(f"a violation seen on {reply.status}")

        return run

    # Hypothesis runs a failing example once more at the end, to raise its error: on a paid
    # target that replay is answered from what was seen, never billed again.
    for exhaustive, expected in ((False, 1), (True, 2)):
        sent.clear()
        session = _session(answer, exhaustive=exhaustive)
        try:
            with pytest.raises(AssertionError, match="a violation seen on 200"):
                fails_on_a_reply(session)()
        finally:
            session.close()
        assert len(sent) == expected


def test_the_breaker_trips_past_its_share_and_never_below_five() -> None:
    log = FaultLog(share=0.1, floor=5)
    log.faults = [
        TransportFault("timeout", "generate_reply", "no answer in 30 s", True) for _ in range(5)
    ]
    assert log.tripped(10) is None  # 5 faults: at the floor
    log.faults.append(TransportFault("gateway", "create_assistant", "502 (HTML)", True, "", 502))
    assert log.tripped(100) is None  # 6 of 100: under 10 %
    line = log.tripped(20)
    assert line is not None
    assert line.startswith("the target is unreliable: the target dropped 6 of 20 requests: ")
    assert "5 \N{MULTIPLICATION SIGN} no answer in 30 s" in line
    assert "1 \N{MULTIPLICATION SIGN} 502 (gateway HTML)" in line


def test_the_session_stops_at_the_breaker_and_sends_nothing_after() -> None:
    sent: list[int] = []

    def reset(request: httpx.Request) -> httpx.Response:
        sent.append(1)
        raise httpx.ReadError("[Errno 104] Connection reset by peer")

    session = _session(reset, bounds=Bounds(max_faults="5"))
    try:
        for _ in range(5):
            with pytest.raises(TransportFaultError):
                session.create_assistant({"name": 1}, token="primary")
        with pytest.raises(RunStopped, match="the target is unreliable"):
            session.create_assistant({"name": 1}, token="primary")
        with pytest.raises(RunStopped):
            session.create_assistant({"name": 1}, token="primary")
    finally:
        session.close()
    assert len(sent) == 6


def test_the_time_limit_stops_before_a_send_or_a_wait_that_would_pass_it() -> None:
    now = [0.0]
    session = _session(lambda r: httpx.Response(200, json={}), bounds=Bounds(max_seconds=10))
    session.guard._clock = lambda: now[0]
    session.guard.start()
    try:
        session.guard.check(5)
        with pytest.raises(RunStopped, match=r"time limit \(10 s"):
            session.guard.check(11)
        with pytest.raises(RunStopped):
            session.generate_reply(VALID, token="primary")
    finally:
        session.close()
    assert session.guard.stopped is not None
    assert session.guard.stopped.kind == "time-limit"


def _profile(raw: dict[str, Any]) -> Profile:
    base = {
        "base_url": "http://127.0.0.1:9/api",
        "brand": "autocalls",
        "tokens": {"primary": "p" * 20},
        "assistants": {"own": 1, "foreign": 2},
    }
    data = {**base, **raw}
    return Profile(Path("profile.toml"), data, parse_target(data, env={}))


def test_bounds_come_from_flags_variables_and_the_profile() -> None:
    profile = _profile(
        {"transport": {"read_timeout": 2, "max_faults": "25%"}, "safety": {"max_seconds": 90}}
    )
    config = run_config(read_choices({}, {}), profile)
    assert config.bounds == Bounds(
        connect_timeout=5.0, read_timeout=2.0, max_faults="25%", max_seconds=90.0
    )
    assert config.bounds.fault_share == 0.25
    flags = read_choices({"max_transport_faults": "12"}, {"REPLYGUARD_READ_TIMEOUT": "7"})
    config = run_config(flags, profile)
    assert (config.bounds.read_timeout, config.bounds.fault_floor) == (7.0, 12)
    assert "answer 7 s" in config.bounds.lines()[0]
    with pytest.raises(ConfigError, match="--max-transport-faults"):
        read_choices({"max_transport_faults": "lots"}, {})
    with pytest.raises(ConfigError, match=r"transport\.read_timeout"):
        run_config(read_choices({}, {}), _profile({"transport": {"read_timeout": 0.001}}))


def _timed(sent_at: float, answered_at: float) -> Any:
    from replyguard.exchange import Exchange

    exchange = Exchange("POST", URL, {}, b"", 200, {}, "{}")
    exchange.sent_at, exchange.answered_at = sent_at, answered_at
    return exchange


def test_a_burst_slower_than_a_limiter_frees_a_call_is_not_judged() -> None:
    from replyguard.suite.latency import unjudgeable_window

    # Six calls answered 1.5 s after each send: 9 s in all.
    slow = [_timed(1.5 * i, 1.5 * (i + 1)) for i in range(6)]
    reason = unjudgeable_window(slow, 5, 2.0)
    assert reason is not None
    assert "9.0 s" in reason
    assert "up to 1.5 s" in reason
    assert unjudgeable_window(slow, 5, 60.0) is None  # 9 s < 12 s: no call can be freed
    fast = [_timed(0.01 * i, 0.01 * i + 0.005) for i in range(6)]
    assert unjudgeable_window(fast, 5, 1.0) is None


def test_the_pacer_holds_a_slot_from_the_answer_not_the_send() -> None:
    from replyguard.suite.pacing import Pacer

    now = [0.0]
    pacer = Pacer(1, 10, margin=0, clock=lambda: now[0], sleep=lambda s: None)
    pacer.acquire("t")
    now[0] = 1.5  # the answer came 1.5 s after the send: the server may have counted it then
    pacer.answered("t")
    now[0] = 10.5
    assert pacer.delay("t") == pytest.approx(1.0)


def test_the_markdown_and_html_reports_name_the_faults_in_one_line() -> None:
    from replyguard.report import render_html, render_markdown
    from replyguard.report.build import exit_code

    log = FaultLog()
    log.faults = [TransportFault("gateway", "generate_reply", "502 (HTML)", True, "t", 502)]
    report: dict[str, Any] = {
        "summary": {"pass": 1, "fail": 0, "rules": 1},
        "rules": [],
        "requests": {"generate_reply": 8},
        "duration_seconds": 1.0,
        "target": {"name": "t", "base_url": "http://x", "mode": "paid"},
        "transport": {**log.as_dict(8), "stopped": {"kind": "unreliable", "reason": "stop"}},
        "partial": {"kind": "unreliable", "reason": "stop"},
    }
    dropped = "the target dropped 1 of 8 requests: 1 \N{MULTIPLICATION SIGN} 502 (gateway HTML)"
    assert dropped in render_markdown(report)
    assert dropped in render_html(report)
    assert exit_code(report) == 2  # a partial run could not judge everything
