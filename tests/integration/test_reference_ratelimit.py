"""Laravel throttle semantics of generate-reply on fresh reference servers."""

from __future__ import annotations

import asyncio
import time
from typing import Any

import httpx
import pytest

pytest_plugins = ["tests.helpers.servers"]
pytestmark = pytest.mark.integration

PATHS = ["/user/ai/generate-reply", "/ai/generate-reply"]


def body(i: int = 0) -> dict[str, Any]:
    return {"assistant_id": 101, "customer_identifier": f"rl-{i}", "message": "hi"}


def test_limit_then_429(make_reference: Any) -> None:
    ref = make_reference(limit=5, window=60)
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        remaining = []
        for i in range(5):
            # Both paths share one bucket per token.
            response = api.post(PATHS[i % 2], json=body(i))
            assert response.status_code == 200
            assert response.headers["x-ratelimit-limit"] == "5"
            remaining.append(int(response.headers["x-ratelimit-remaining"]))
        assert remaining == [4, 3, 2, 1, 0]
        before = int(time.time())
        refused = api.post(PATHS[0], json=body())
        assert refused.status_code == 429
        data = refused.json()
        assert set(data) == {"message", "retry_after"}
        assert data["message"] == "Too Many Attempts."
        assert isinstance(data["retry_after"], int)
        assert 1 <= data["retry_after"] <= 60
        assert refused.headers["retry-after"] == str(data["retry_after"])
        assert refused.headers["x-ratelimit-limit"] == "5"
        assert refused.headers["x-ratelimit-remaining"] == "0"
        reset = int(refused.headers["x-ratelimit-reset"])
        assert before <= reset <= before + 61
        # Still refused on the other path; invalid bodies are refused too (throttle first).
        assert api.post(PATHS[1], json=body()).status_code == 429
        assert api.post(PATHS[1], json={}).status_code == 429
        # Auth still comes first.
        assert httpx.post(ref.base_url + PATHS[0], json=body()).status_code == 401


def test_per_token_isolation(make_reference: Any) -> None:
    ref = make_reference(limit=3, window=60)
    url = ref.base_url + PATHS[0]
    for i in range(3):
        assert httpx.post(url, json=body(i), headers=ref.headers()).status_code == 200
    assert httpx.post(url, json=body(), headers=ref.headers()).status_code == 429
    # Same account, second token: its own bucket.
    for i in range(3):
        response = httpx.post(url, json=body(i), headers=ref.headers("secondary"))
        assert response.status_code == 200
    assert httpx.post(url, json=body(), headers=ref.headers("secondary")).status_code == 429
    other = {**body(), "assistant_id": 201}
    assert httpx.post(url, json=other, headers=ref.headers("other_account")).status_code == 200


def test_failed_requests_count(make_reference: Any) -> None:
    ref = make_reference(limit=4, window=60)
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        assert api.post(PATHS[0], json={}).status_code == 422
        assert (
            api.post(
                PATHS[0], content=b"{not json", headers={"content-type": "application/json"}
            ).status_code
            == 422
        )
        assert api.post(PATHS[0], json={**body(), "assistant_id": 201}).status_code == 404
        response = api.post(PATHS[0], json=body())
        assert response.status_code == 200
        assert response.headers["x-ratelimit-remaining"] == "0"
        assert api.post(PATHS[0], json=body()).status_code == 429
    low = httpx.post(
        ref.base_url + PATHS[0],
        json={**body(), "assistant_id": 301},
        headers=ref.headers("low_balance"),
    )
    assert low.status_code == 402
    assert low.headers["x-ratelimit-remaining"] == "3"


def test_create_assistant_not_throttled(make_reference: Any) -> None:
    ref = make_reference(limit=1, window=60)
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        for _ in range(4):
            assert api.post("/user/assistant", json={}).status_code == 422


def test_recovery_after_window(make_reference: Any) -> None:
    ref = make_reference(limit=2, window=2)
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        assert api.post(PATHS[0], json=body()).status_code == 200
        assert api.post(PATHS[0], json=body()).status_code == 200
        refused = api.post(PATHS[0], json=body())
        assert refused.status_code == 429
        retry_after = refused.json()["retry_after"]
        assert 1 <= retry_after <= 2
        time.sleep(retry_after + 0.1)
        assert api.post(PATHS[0], json=body()).status_code == 200
        assert api.post(PATHS[0], json=body()).status_code == 200
        assert api.post(PATHS[0], json=body()).status_code == 429


async def _burst(base_url: str, token: str, count: int) -> list[int]:
    limits = httpx.Limits(max_connections=count, max_keepalive_connections=count)
    async with httpx.AsyncClient(
        base_url=base_url, headers={"Authorization": f"Bearer {token}"}, limits=limits, timeout=30
    ) as client:
        responses = await asyncio.gather(
            *(client.post(PATHS[i % 2], json=body(i)) for i in range(count))
        )
    return [r.status_code for r in responses]


@pytest.mark.slow
def test_exact_under_concurrency_with_workers(make_reference: Any) -> None:
    ref = make_reference(limit=5, window=60, workers=4)
    statuses = asyncio.run(_burst(ref.base_url, ref.token(), 200))
    assert len(statuses) == 200
    assert statuses.count(429) == 195
    assert statuses.count(200) == 5
    # A second token is untouched by the burst on the first.
    statuses = asyncio.run(_burst(ref.base_url, ref.token("secondary"), 50))
    assert statuses.count(200) == 5
    assert statuses.count(429) == 45
