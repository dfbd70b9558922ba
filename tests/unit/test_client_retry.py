"""Retry and backoff: 429 honours retry_after, waits grow with bounded jitter, limits hold."""

from __future__ import annotations

import email.utils
import random
import time
from collections.abc import Iterator

import httpx
import pytest
import respx

from replyguard.client import (
    AssistantClient,
    AssistantNotFound,
    ClientError,
    InsufficientBalance,
    RateLimited,
    RetryPolicy,
    ServerError,
    TransportError,
    ValidationFailed,
    parse_retry_after,
)

BASE = "https://app.autocalls.ai/api"
TOKEN = "rg_live_5ecret5ecret5ecretXY"
PATH = "/ai/generate-reply"
REPLY_BODY = {
    "success": True,
    "conversation_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "customer_identifier": "+14155551234",
    "reply": "Hello",
    "function_calls": [],
    "ai_disabled": False,
}
THROTTLED = httpx.Response(429, json={"message": "Too Many Attempts."})


class Recorder:
    """A client whose sleeps and retry callbacks are recorded instead of slept."""

    def __init__(self, policy: RetryPolicy | None = None, seed: int = 7) -> None:
        self.sleeps: list[float] = []
        self.retries: list[tuple[int, float, ClientError]] = []
        self.client = AssistantClient.from_brand(
            "autocalls",
            token=TOKEN,
            retry=policy if policy is not None else RetryPolicy(),
            sleep=self.sleeps.append,
            rng=random.Random(seed).random,
            on_retry=lambda attempt, wait, error: self.retries.append((attempt, wait, error)),
        )

    def ask(self) -> object:
        return self.client.generate_reply(123, "+14155551234", "Hi")


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def throttled(
    retry_after: float | None = None, *, headers: dict[str, str] | None = None
) -> httpx.Response:
    body: dict[str, object] = {"message": "Too Many Attempts."}
    if retry_after is not None:
        body["retry_after"] = retry_after
    return httpx.Response(429, json=body, headers=headers)


def ok() -> httpx.Response:
    return httpx.Response(200, json=REPLY_BODY)


# --- the policy's arithmetic ------------------------------------------------------------------


def test_backoff_without_jitter_doubles_up_to_cap() -> None:
    policy = RetryPolicy(base=1.0, cap=10.0, jitter=False)
    assert [policy.backoff(i, 0.5) for i in range(6)] == [1, 2, 4, 8, 10, 10]
    assert policy.backoff(10_000, 0.5) == 10  # no overflow


def test_full_jitter_scales_the_capped_backoff() -> None:
    policy = RetryPolicy(base=2.0, cap=60.0)
    assert policy.backoff(3, 0.25) == pytest.approx(4.0)
    assert policy.backoff(9, 0.5) == pytest.approx(30.0)


def test_wait_is_never_shorter_than_retry_after() -> None:
    policy = RetryPolicy(base=1.0, cap=60.0)
    assert policy.wait(0, 0.9, retry_after=60) == 60
    assert policy.wait(6, 0.9, retry_after=1) == pytest.approx(54.0)
    assert policy.wait(0, 0.5, retry_after=None) == pytest.approx(0.5)


def test_parse_retry_after_seconds_and_dates() -> None:
    now = 1_700_000_000.0
    date = email.utils.formatdate(now + 90, usegmt=True)
    assert parse_retry_after("30") == 30
    assert parse_retry_after(" 1.5 ") == 1.5
    assert parse_retry_after("-3") == 0
    assert parse_retry_after(date, now=now) == pytest.approx(90)
    assert parse_retry_after(email.utils.formatdate(now - 90, usegmt=True), now=now) == 0
    for junk in (None, "", "soon", "nan", "inf"):
        assert parse_retry_after(junk) is None


# --- retrying 429 -----------------------------------------------------------------------------


def test_retries_429_honouring_body_retry_after(router: respx.MockRouter) -> None:
    route = router.post(PATH).mock(side_effect=[throttled(retry_after=60), ok()])
    rec = Recorder()
    assert rec.ask()
    assert route.call_count == 2
    assert rec.sleeps == [60]
    [(attempt, wait, error)] = rec.retries
    assert (attempt, wait) == (1, 60)
    assert isinstance(error, RateLimited)
    assert (rec.client.stats.attempts, rec.client.stats.retries) == (2, 1)
    assert rec.client.stats.total_wait == 60
    assert rec.client.stats.rate_limited == 1


def test_retries_429_honouring_retry_after_header_seconds(router: respx.MockRouter) -> None:
    router.post(PATH).mock(side_effect=[throttled(headers={"Retry-After": "12"}), ok()])
    rec = Recorder()
    rec.ask()
    assert rec.sleeps == [12]


def test_retries_429_honouring_retry_after_header_date(router: respx.MockRouter) -> None:
    date = email.utils.formatdate(time.time() + 120, usegmt=True)
    router.post(PATH).mock(side_effect=[throttled(headers={"Retry-After": date}), ok()])
    rec = Recorder()
    rec.ask()
    [wait] = rec.sleeps
    assert 118 <= wait <= 120  # the date has one-second resolution


def test_waits_grow_exponentially_with_bounded_jitter(router: respx.MockRouter) -> None:
    router.post(PATH).mock(side_effect=[THROTTLED] * 5 + [ok()])
    policy = RetryPolicy(max_attempts=6, base=1.0, cap=60.0)
    rec = Recorder(policy, seed=42)
    rec.ask()
    draws = random.Random(42)
    expected = [min(60.0, 2.0**i) * draws.random() for i in range(5)]
    assert rec.sleeps == pytest.approx(expected)
    for i, wait in enumerate(rec.sleeps):
        assert 0 <= wait < min(60.0, 2.0**i)


def test_same_seed_gives_same_waits(router: respx.MockRouter) -> None:
    router.post(PATH).mock(side_effect=[THROTTLED, THROTTLED, ok()] * 2)
    first, second = Recorder(seed=3), Recorder(seed=3)
    first.ask()
    second.ask()
    assert first.sleeps == second.sleeps


def test_without_jitter_waits_double(router: respx.MockRouter) -> None:
    router.post(PATH).mock(side_effect=[THROTTLED] * 4 + [ok()])
    rec = Recorder(RetryPolicy(base=0.5, cap=3.0, jitter=False))
    rec.ask()
    assert rec.sleeps == [0.5, 1.0, 2.0, 3.0]


def test_max_attempts_then_last_rate_limited_raised(router: respx.MockRouter) -> None:
    responses = [throttled(retry_after=n) for n in (1, 2, 3)]
    route = router.post(PATH).mock(side_effect=responses)
    rec = Recorder(RetryPolicy(max_attempts=3, base=0.0))
    with pytest.raises(RateLimited) as info:
        rec.ask()
    assert route.call_count == 3
    assert info.value.retry_after == 3  # the last answer, not the first
    assert rec.sleeps == [1, 2]
    assert [attempt for attempt, _, _ in rec.retries] == [1, 2]
    stats = rec.client.stats
    assert (stats.attempts, stats.retries, stats.rate_limited) == (3, 2, 3)


def test_max_total_wait_stops_early(router: respx.MockRouter) -> None:
    route = router.post(PATH).mock(side_effect=[throttled(retry_after=60)] * 5)
    rec = Recorder(RetryPolicy(max_total_wait=100))
    with pytest.raises(RateLimited):
        rec.ask()
    assert rec.sleeps == [60]
    assert route.call_count == 2


def test_disabled_policy_does_not_retry(router: respx.MockRouter) -> None:
    route = router.post(PATH).mock(side_effect=[throttled(retry_after=1), ok()])
    rec = Recorder(RetryPolicy.disabled())
    with pytest.raises(RateLimited):
        rec.ask()
    assert route.call_count == 1
    assert rec.sleeps == []


@pytest.mark.parametrize(
    ("response", "error_cls"),
    [
        (
            httpx.Response(402, json={"success": False, "error_code": "INSUFFICIENT_BALANCE"}),
            InsufficientBalance,
        ),
        (
            httpx.Response(404, json={"success": False, "error_code": "ASSISTANT_NOT_FOUND"}),
            AssistantNotFound,
        ),
        (httpx.Response(422, json={"message": "x", "errors": {}}), ValidationFailed),
    ],
    ids=["402", "404", "422"],
)
def test_client_errors_are_not_retried(
    router: respx.MockRouter, response: httpx.Response, error_cls: type[Exception]
) -> None:
    route = router.post(PATH).mock(side_effect=[response, ok()])
    rec = Recorder()
    with pytest.raises(error_cls):
        rec.ask()
    assert route.call_count == 1
    assert rec.sleeps == []


# --- 5xx and transport errors -----------------------------------------------------------------


def test_server_errors_not_retried_by_default(router: respx.MockRouter) -> None:
    route = router.post(PATH).mock(side_effect=[httpx.Response(503), ok()])
    rec = Recorder()
    with pytest.raises(ServerError):
        rec.ask()
    assert route.call_count == 1


def test_server_errors_retried_when_enabled(router: respx.MockRouter) -> None:
    route = router.post(PATH).mock(side_effect=[httpx.Response(502), httpx.Response(500), ok()])
    rec = Recorder(RetryPolicy(retry_on_server_errors=True, jitter=False))
    rec.ask()
    assert route.call_count == 3
    assert rec.sleeps == [1.0, 2.0]
    assert all(isinstance(error, ServerError) for _, _, error in rec.retries)


def test_transport_errors_not_retried_by_default(router: respx.MockRouter) -> None:
    # A timeout or a reset after sending: the reply may have been generated and billed.
    for lost in (httpx.ReadTimeout("slow"), httpx.RemoteProtocolError("disconnected")):
        route = router.post(PATH).mock(side_effect=[lost, ok()])
        before = route.call_count
        with pytest.raises(TransportError):
            Recorder().ask()
        assert route.call_count == before + 1


def test_a_request_that_never_left_is_retried_by_default(router: respx.MockRouter) -> None:
    # No connection, or broken while sending: the API cannot have acted on it (issue 20).
    route = router.post(PATH).mock(side_effect=[httpx.ConnectError("refused"), ok()])
    rec = Recorder(RetryPolicy(jitter=False))
    rec.ask()
    assert route.call_count == 2
    assert rec.sleeps == [1.0]
    assert rec.retries[0][2].reached is False  # type: ignore[attr-defined]
    route = router.post(PATH).mock(side_effect=[httpx.ConnectError("refused"), ok()])
    with pytest.raises(TransportError):
        Recorder(RetryPolicy(retry_unsent=False)).ask()


def test_transport_errors_retried_when_enabled(router: respx.MockRouter) -> None:
    route = router.post(PATH).mock(side_effect=[httpx.ReadTimeout("slow"), ok()])
    rec = Recorder(RetryPolicy(retry_on_server_errors=True, jitter=False))
    rec.ask()
    assert route.call_count == 2
    assert isinstance(rec.retries[0][2], TransportError)


def test_transport_error_after_last_attempt_is_raised(router: respx.MockRouter) -> None:
    router.post(PATH).mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    rec = Recorder(RetryPolicy(max_attempts=2, retry_on_server_errors=True))
    with pytest.raises(TransportError) as info:
        rec.ask()
    assert str(info.value) == f"cannot reach {BASE}: connection refused"
    assert rec.client.stats.attempts == 2


# --- raw send ---------------------------------------------------------------------------------


def test_send_does_not_retry_by_default(router: respx.MockRouter) -> None:
    route = router.post(PATH).mock(side_effect=[throttled(retry_after=5), ok()])
    rec = Recorder()
    response = rec.client.send("generate_reply", {"assistant_id": 1})
    assert response.status_code == 429
    assert route.call_count == 1
    assert rec.client.stats.rate_limited == 1


def test_send_retries_when_asked_and_returns_last_answer(router: respx.MockRouter) -> None:
    router.post(PATH).mock(side_effect=[throttled(retry_after=5), ok()])
    rec = Recorder()
    assert rec.client.send("generate_reply", {}, retry=True).status_code == 200
    assert rec.sleeps == [5]


def test_send_with_retry_returns_final_429(router: respx.MockRouter) -> None:
    router.post(PATH).mock(side_effect=[throttled(retry_after=1)] * 2)
    rec = Recorder(RetryPolicy(max_attempts=2))
    assert rec.client.send("generate_reply", {}, retry=True).status_code == 429


def test_stats_accumulate_across_calls_and_reset(router: respx.MockRouter) -> None:
    router.post(PATH).mock(
        side_effect=[throttled(retry_after=2), ok(), throttled(retry_after=3), ok()]
    )
    rec = Recorder()
    rec.ask()
    rec.ask()
    stats = rec.client.stats
    assert (stats.attempts, stats.retries, stats.total_wait) == (4, 2, 5)
    stats.reset()
    assert (stats.attempts, stats.retries, stats.total_wait, stats.rate_limited) == (0, 0, 0, 0)
