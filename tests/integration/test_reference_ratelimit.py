"""Laravel throttle semantics of generate-reply on fresh reference servers, and the other
limiter families the reference offers as faults and variants."""

from __future__ import annotations

import asyncio
import itertools
import math
import re
import time
from dataclasses import dataclass
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


# -- the other limiter families (issue 18): buckets and GCRA as faults, a clock-anchored window
# and IETF headers as correct variants. Short windows; timings asserted with room for a loaded
# machine, but each one fails when the family's defining behaviour is gone.

LIMIT = 5


@dataclass(slots=True, frozen=True)
class Call:
    sent: float
    answered: float
    status: int
    response: httpx.Response


def _call(api: httpx.Client, i: int = 0) -> Call:
    sent = time.time()
    response = api.post(PATHS[0], json=body(i))
    return Call(sent, time.time(), response.status_code, response)


def _burst_then_poll(api: httpx.Client, seconds: float, every: float = 0.03) -> list[Call]:
    """``LIMIT`` calls at once, then one every ``every`` s until ``seconds`` after the first."""
    calls = [_call(api, i) for i in range(LIMIT)]
    while time.time() < calls[0].sent + seconds:
        calls.append(_call(api, len(calls)))
        time.sleep(every)
    return calls


def _served_after_burst(calls: list[Call]) -> list[float]:
    """When the calls after the burst were served, relative to the burst's first call."""
    return [c.sent - calls[0].sent for c in calls[LIMIT:] if c.status == 200]


def test_token_bucket_fault_refills_one_slot_per_interval(make_reference: Any) -> None:
    window = 2
    interval = window / LIMIT
    ref = make_reference(
        limit=LIMIT, window=window, extra_args=["--fault", "ratelimit.token-bucket"]
    )
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        calls = _burst_then_poll(api, window)
    assert [c.status for c in calls[:LIMIT]] == [200] * LIMIT
    assert calls[LIMIT].status == 429
    refused = [c.response for c in calls if c.status == 429]
    for response in refused:
        # A gateway's constant answer: the documented body, retry_after always the window.
        assert response.json() == {"message": "Too Many Attempts.", "retry_after": window}
        assert response.headers["retry-after"] == str(window)
    served = _served_after_burst(calls)
    # One slot back per interval after the first call: not before it, and never two at once.
    assert served, "the bucket never refilled within the window"
    assert served[0] >= interval - 0.05
    assert all(b - a >= interval - 0.1 for a, b in itertools.pairwise(served))
    # More than the limit within one window: 5 at once, then one every 0.4 s (4 more by 2 s).
    assert len(served) >= 3, served


def test_gcra_fault_serves_like_a_bucket_with_an_honest_retry_after(make_reference: Any) -> None:
    window = 10  # one slot every 2 s: retry_after (whole seconds) can be seen to be the wait
    interval = window // LIMIT
    ref = make_reference(limit=LIMIT, window=window, extra_args=["--fault", "ratelimit.gcra"])
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        first = _call(api)
        assert [_call(api, i).status for i in range(1, LIMIT)] == [200] * (LIMIT - 1)
        refused = _call(api)
        assert refused.status == 429
        assert refused.response.json() == {"message": "Too Many Attempts.", "retry_after": interval}
        time.sleep(max(0.0, first.sent + interval - time.time()) + 0.05)
        # One slot is back after one interval, not the whole window...
        assert _call(api).status == 200
        # ...and only one.
        again = _call(api)
        assert again.status == 429
        assert again.response.json()["retry_after"] == interval


@pytest.mark.slow
@pytest.mark.parametrize("fault", ["ratelimit.token-bucket", "ratelimit.gcra"])
def test_buckets_exact_under_concurrency_with_workers(make_reference: Any, fault: str) -> None:
    ref = make_reference(limit=LIMIT, window=60, workers=3, extra_args=["--fault", fault])
    statuses = asyncio.run(_burst(ref.base_url, ref.token(), 60))
    # Well inside one refill interval (12 s): exactly the burst is served.
    assert statuses.count(200) == LIMIT
    assert statuses.count(429) == 60 - LIMIT


def test_clock_window_variant_resets_at_the_clock_boundary(make_reference: Any) -> None:
    window = 2
    ref = make_reference(limit=LIMIT, window=window, extra_args=["--variant", "clock-window"])
    # Start 0.4-0.7 s into a clock window, so its boundary (1.3-1.6 s later) and a window from
    # the first hit (2 s later) are far apart.
    while not 0.4 <= time.time() % window <= 0.7:
        time.sleep(0.01)
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        calls = _burst_then_poll(api, window + 0.2, every=0.02)
    first = calls[0].sent
    boundary = first - first % window + window
    assert [c.status for c in calls[:LIMIT]] == [200] * LIMIT
    refused = [c for c in calls if c.status == 429]
    assert refused
    assert refused[0] is calls[LIMIT]
    for call in refused:
        # Honest: the time to the next clock boundary (in whole seconds) at some moment
        # between sending and the answer.
        honest = {max(1, math.ceil(window - t % window)) for t in (call.sent, call.answered)}
        assert call.response.json()["retry_after"] in honest, (call.sent % window, honest)
    served = [c for c in calls[LIMIT:] if c.status == 200]
    # All slots come back at once at the boundary: the next window serves exactly the limit.
    assert len(served) == LIMIT
    assert boundary - 0.05 <= served[0].sent < boundary + 0.3
    assert served[0].sent < first + window - 0.2  # not anchored at the first hit
    assert served[-1].sent < served[0].sent + 0.5


IETF_ITEM = re.compile(r'^"(?P<name>[a-z]+)"(?P<params>(;[a-z]+=\d+)+)$')


def ietf_item(value: str) -> tuple[str, dict[str, int]]:
    """One structured-field item of the draft's fields: its name and integer parameters."""
    match = IETF_ITEM.match(value)
    assert match, value
    params = dict(p.split("=") for p in match["params"].strip(";").split(";"))
    return match["name"], {k: int(v) for k, v in params.items()}


def test_ietf_headers_variant_agrees_with_its_behaviour(make_reference: Any) -> None:
    window = 2
    ref = make_reference(
        limit=LIMIT, window=window, extra_args=["--variant", "ietf-ratelimit-headers"]
    )
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        served = [_call(api, i).response for i in range(LIMIT)]
        refused = _call(api).response
        for response in [*served, refused]:
            assert ietf_item(response.headers["ratelimit-policy"]) == (
                "default",
                {"q": LIMIT, "w": window},
            )
        states = [ietf_item(r.headers["ratelimit"]) for r in served]
        assert [name for name, _ in states] == ["default"] * LIMIT
        assert [p["r"] for _, p in states] == list(range(LIMIT - 1, -1, -1))
        assert all(1 <= p["t"] <= window for _, p in states)
        assert refused.status_code == 429
        _, state = ietf_item(refused.headers["ratelimit"])
        retry_after = refused.json()["retry_after"]
        # On a 429, t names the same moment as Retry-After and retry_after.
        assert state == {"r": 0, "t": retry_after}
        assert refused.headers["retry-after"] == str(retry_after)
        # And it is honest: after t seconds the whole quota is back.
        time.sleep(state["t"] + 0.05)
        again = api.post(PATHS[0], json=body())
        assert again.status_code == 200
        assert ietf_item(again.headers["ratelimit"])[1]["r"] == LIMIT - 1


def test_gateway_503_html_fault(make_reference: Any) -> None:
    ref = make_reference(
        limit=LIMIT, window=60, extra_args=["--fault", "ratelimit.gateway-503-html"]
    )
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        assert [_call(api, i).status for i in range(LIMIT)] == [200] * LIMIT
        refused = api.post(PATHS[0], json=body())
    assert refused.status_code == 503
    assert refused.headers["content-type"].startswith("text/html")
    assert "<h1>503 Service Temporarily Unavailable</h1>" in refused.text
    assert not refused.text.lstrip().startswith("{")
    # A gateway's page: no retry_after anywhere, none of the application's headers.
    assert not {"retry-after", "x-ratelimit-limit", "x-ratelimit-remaining"} & set(refused.headers)
