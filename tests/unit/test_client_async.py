"""AsyncAssistantClient behaves like AssistantClient (driven with asyncio.run, no plugin)."""

from __future__ import annotations

import asyncio
import json
import random
from collections.abc import Coroutine, Iterator
from typing import Any, TypeVar

import httpx
import pytest
import respx

from replyguard.client import (
    AssistantNotFound,
    AsyncAssistantClient,
    RateLimited,
    Reply,
    RetryPolicy,
    TransportError,
    ValidationFailed,
)

BASE = "https://portal.intellixent.ai/api"
TOKEN = "rg_live_5ecret5ecret5ecretXY"
PATH = "/user/ai/generate-reply"
REPLY_BODY = {
    "success": True,
    "conversation_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "customer_identifier": "+14155551234",
    "reply": "Hello",
    "function_calls": [{"name": "book"}],
    "ai_disabled": True,
}
T = TypeVar("T")


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


def run(coro: Coroutine[Any, Any, T]) -> T:
    return asyncio.run(coro)


def make_client(sleeps: list[float], **options: Any) -> AsyncAssistantClient:
    async def sleep(seconds: float) -> None:
        sleeps.append(seconds)

    options.setdefault("rng", random.Random(1).random)
    return AsyncAssistantClient(BASE, TOKEN, sleep=sleep, **options)


def test_async_generate_reply_sends_headers_and_parses(router: respx.MockRouter) -> None:
    route = router.post(PATH).respond(200, json=REPLY_BODY)

    async def scenario() -> Reply:
        async with make_client([]) as client:
            return await client.generate_reply(123, "+14155551234", "Hi", {"a": 1})

    reply = run(scenario())
    assert reply.function_calls == ({"name": "book"},)
    assert reply.ai_disabled is True
    request = route.calls.last.request
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert json.loads(request.content)["variables"] == {"a": 1}


def test_async_retries_429_then_raises_last(router: respx.MockRouter) -> None:
    route = router.post(PATH).mock(
        side_effect=[httpx.Response(429, json={"message": "x", "retry_after": n}) for n in (4, 9)]
    )
    sleeps: list[float] = []

    async def scenario() -> None:
        async with make_client(sleeps, retry=RetryPolicy(max_attempts=2)) as client:
            await client.generate_reply(123, "c", "Hi")

    with pytest.raises(RateLimited) as info:
        run(scenario())
    assert info.value.retry_after == 9
    assert sleeps == [4]
    assert route.call_count == 2


def test_async_retry_then_success_counts_stats(router: respx.MockRouter) -> None:
    router.post(PATH).mock(
        side_effect=[
            httpx.Response(429, headers={"Retry-After": "3"}),
            httpx.Response(200, json=REPLY_BODY),
        ]
    )
    sleeps: list[float] = []
    client = make_client(sleeps)

    async def scenario() -> Reply:
        try:
            return await client.generate_reply(123, "c", "Hi")
        finally:
            await client.aclose()

    assert run(scenario()).reply == "Hello"
    assert sleeps == [3]
    assert (client.stats.attempts, client.stats.retries, client.stats.total_wait) == (2, 1, 3)


def test_async_error_mapping_and_no_retry(router: respx.MockRouter) -> None:
    router.post(PATH).respond(
        404, json={"success": False, "error": "nope", "error_code": "ASSISTANT_NOT_FOUND"}
    )
    router.post("/user/assistant").respond(422, json={"message": "x", "errors": {"name": ["req"]}})
    sleeps: list[float] = []

    async def scenario() -> list[Exception]:
        caught: list[Exception] = []
        async with make_client(sleeps) as client:
            for call in (client.generate_reply(1, "c", "m"), client.create_assistant({})):
                try:
                    await call
                except Exception as exc:
                    caught.append(exc)
        return caught

    not_found, invalid = run(scenario())
    assert isinstance(not_found, AssistantNotFound)
    assert isinstance(invalid, ValidationFailed)
    assert invalid.errors == {"name": ["req"]}
    assert sleeps == []


def test_async_send_is_raw_and_transport_error_is_one_line(router: respx.MockRouter) -> None:
    router.post(PATH).mock(
        side_effect=[httpx.Response(500, text="boom"), httpx.ConnectError("Connection refused")]
    )

    async def scenario() -> tuple[int, str]:
        async with make_client([]) as client:
            status = (await client.send("generate_reply", {})).status_code
            try:
                await client.send("generate_reply", {})
            except TransportError as exc:
                return status, str(exc)
        raise AssertionError("no transport error")

    status, message = run(scenario())
    assert status == 500
    assert message == f"cannot reach {BASE}: connection refused"
    assert TOKEN not in message


def test_async_from_brand_and_repr() -> None:
    client = AsyncAssistantClient.from_brand("famulor", token=TOKEN)
    try:
        assert client.base_url == "https://app.famulor.de/api"
        assert client.paths["generate_reply"] == "/ai/generate-reply"
        assert TOKEN not in repr(client)
        assert repr(client).startswith("AsyncAssistantClient(")
    finally:
        run(client.aclose())
