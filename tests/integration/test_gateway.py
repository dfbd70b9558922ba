"""nginx ``limit_req`` in front of the reference (tests/helpers/gateway.py) serves like a bucket.

A real limiter the project did not write: per token, ``limit`` at once, then one slot every
``window / limit`` seconds; over the limit nginx's 503 HTML page (stock) or the documented 429
with a constant ``retry_after`` (tuned). Short windows (2 s: one slot every 0.4 s); timings are
asserted loosely, but a fixed window or a missing refill fails them.
"""

from __future__ import annotations

import itertools
import time
import tomllib
from collections.abc import Callable
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.helpers.gateway import Gateway

pytest_plugins = ["tests.helpers.servers", "tests.helpers.gateway"]
pytestmark = pytest.mark.integration

LIMIT = 5
WINDOW = 2
INTERVAL = WINDOW / LIMIT
PATH = "/user/ai/generate-reply"


def body(i: int = 0) -> dict[str, Any]:
    return {"assistant_id": 101, "customer_identifier": f"gw-{i}", "message": "hi"}


def test_nginx_rate_is_the_limit_per_window_in_whole_units() -> None:
    from tests.helpers.gateway import nginx_rate

    assert nginx_rate(5, 60) == "5r/m"
    assert nginx_rate(5, 2) == "150r/m"  # one slot every 0.4 s
    assert nginx_rate(10, 1) == "600r/m"
    with pytest.raises(ValueError, match="cannot express"):
        nginx_rate(5, 7)


def test_config_keys_per_token_and_answers_as_configured(tmp_path: Any) -> None:
    from tests.helpers.gateway import nginx_config

    stock = nginx_config(tmp_path, port=1, upstream="127.0.0.1:2", limit=5, window=60, mode="stock")
    assert "limit_req_zone $http_authorization zone=per_token:1m rate=5r/m;" in stock
    assert "limit_req zone=per_token burst=4 nodelay;" in stock
    assert "limit_req_status" not in stock
    tuned = nginx_config(tmp_path, port=1, upstream="127.0.0.1:2", limit=5, window=60, mode="tuned")
    assert "limit_req_status 429;" in tuned
    assert """return 429 '{"message":"Too Many Attempts.","retry_after":60}';""" in tuned
    with pytest.raises(ValueError, match="unknown gateway mode"):
        nginx_config(tmp_path, port=1, upstream="127.0.0.1:2", limit=5, window=60, mode="x")


def _burst_then_poll(api: httpx.Client, seconds: float) -> list[tuple[float, httpx.Response]]:
    """``LIMIT`` calls at once, then one every 30 ms until ``seconds`` after the first."""
    calls = []
    for i in itertools.count():
        sent = time.time()
        calls.append((sent, api.post(PATH, json=body(i))))
        if i >= LIMIT - 1 and sent >= calls[0][0] + seconds:
            return calls
        if i >= LIMIT - 1:
            time.sleep(0.03)
    raise AssertionError("unreachable")


def _check_refusal(gateway: Gateway, response: httpx.Response) -> None:
    if gateway.mode == "stock":
        assert response.status_code == 503
        assert response.headers["content-type"].startswith("text/html")
        assert "503 Service Temporarily Unavailable" in response.text
        assert "retry-after" not in response.headers
    else:
        assert response.status_code == 429
        assert response.json() == {"message": "Too Many Attempts.", "retry_after": WINDOW}
        assert response.headers["retry-after"] == str(WINDOW)


@pytest.mark.parametrize("mode", ["stock", "tuned"])
def test_gateway_serves_like_a_bucket(make_gateway: Callable[..., Gateway], mode: str) -> None:
    gateway = make_gateway(mode=mode, limit=LIMIT, window=WINDOW)
    with httpx.Client(base_url=gateway.base_url, headers=gateway.headers(), timeout=10) as api:
        api.post("/user/assistant", json={})  # a warm connection: the burst is not delayed
        calls = _burst_then_poll(api, WINDOW)
    first = calls[0][0]
    assert [r.status_code for _, r in calls[:LIMIT]] == [200] * LIMIT
    # The application's own rate-limit headers do not leak through the gateway.
    assert "x-ratelimit-limit" not in calls[0][1].headers
    refused = [r for _, r in calls[LIMIT:] if r.status_code != 200]
    assert refused
    for response in refused:
        _check_refusal(gateway, response)
    served = [sent - first for sent, r in calls[LIMIT:] if r.status_code == 200]
    # One slot back per interval, measured from the burst's first call (nginx keeps its rate in
    # whole thousandths per ms: a slot can come a little late, never early).
    assert served, "no slot came back within the window"
    assert served[0] >= INTERVAL - 0.05, served
    assert served[0] <= 2 * INTERVAL + 0.2, served
    assert all(b - a >= INTERVAL - 0.1 for a, b in itertools.pairwise(served)), served
    # A bucket, not a window: more than the limit within the window after the burst.
    assert len(served) >= 3, served


def test_gateway_keys_per_token_and_limits_generate_reply_only(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(mode="tuned", limit=LIMIT, window=60)
    url = gateway.base_url + PATH
    with httpx.Client(timeout=10) as client:
        for name in ("primary", "secondary"):
            statuses = [
                client.post(url, json=body(i), headers=gateway.headers(name)).status_code
                for i in range(LIMIT + 1)
            ]
            # Each token has its own bucket, of exactly the burst.
            assert statuses == [200] * LIMIT + [429], name
        # Create-assistant is not limited.
        for _ in range(LIMIT + 1):
            response = client.post(
                gateway.base_url + "/user/assistant", json={}, headers=gateway.headers()
            )
            assert response.status_code == 422
        # A limiter keyed on the raw Authorization header does not limit calls without one.
        assert [client.post(url, json=body()).status_code for _ in range(LIMIT + 1)] == [401] * (
            LIMIT + 1
        )


def test_gateway_profile_names_the_gateway_and_the_documented_limit(
    make_gateway: Callable[..., Gateway],
) -> None:
    gateway = make_gateway(mode="stock", limit=LIMIT, window=WINDOW)
    profile = tomllib.loads(gateway.profile_path.read_text(encoding="utf-8"))
    assert profile["base_url"] == gateway.base_url
    assert profile["rate_limit"] == {"limit": LIMIT, "window_seconds": WINDOW}
    assert profile["tokens"] == gateway.upstream.profile["tokens"]
