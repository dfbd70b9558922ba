"""Faults and variants of the reference server, seen over HTTP (``--fault`` / ``--variant``)."""

from __future__ import annotations

import subprocess
import sys
from typing import Any

import httpx
import pytest

pytest_plugins = ["tests.helpers.servers"]
pytestmark = pytest.mark.integration


def body(i: int = 0, **extra: Any) -> dict[str, Any]:
    return {"assistant_id": 101, "customer_identifier": f"f-{i}", "message": "hi", **extra}


def _burst(api: httpx.Client, n: int) -> list[httpx.Response]:
    return [api.post("/user/ai/generate-reply", json=body(i)) for i in range(n)]


def test_list_and_unknown_names_through_the_cli() -> None:
    listed = subprocess.run(
        [sys.executable, "-m", "replyguard.cli", "serve", "--list-faults"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert listed.returncode == 0
    names = [line.split()[0] for line in listed.stdout.splitlines()]
    assert "ratelimit.retry-after-too-short" in names
    assert len(names) >= 40
    unknown = subprocess.run(
        [sys.executable, "-m", "replyguard.cli", "serve", "--variant", "nope"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
    )
    assert unknown.returncode == 2
    assert unknown.stderr.strip().count("\n") == 0
    assert "unknown variant 'nope'" in unknown.stderr


def test_retry_after_too_short_lies_in_body_and_header(make_reference: Any) -> None:
    ref = make_reference(
        limit=2, window=30, extra_args=["--fault", "ratelimit.retry-after-too-short"]
    )
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        refused = _burst(api, 3)[-1]
    assert refused.status_code == 429
    assert refused.json()["retry_after"] == 1
    assert refused.headers["retry-after"] == "1"


def test_shared_per_account_throttles_the_second_token(make_reference: Any) -> None:
    ref = make_reference(limit=2, window=30, extra_args=["--fault", "ratelimit.shared-per-account"])
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        assert [r.status_code for r in _burst(api, 2)] == [200, 200]
    with httpx.Client(base_url=ref.base_url, headers=ref.headers("secondary")) as api:
        assert api.post("/user/ai/generate-reply", json=body(9)).status_code == 429
    # Another account is not affected.
    with httpx.Client(base_url=ref.base_url, headers=ref.headers("other_account")) as api:
        assert (
            api.post("/user/ai/generate-reply", json={**body(), "assistant_id": 201}).status_code
            == 200
        )


def test_fault_leaves_the_rest_correct(make_reference: Any) -> None:
    ref = make_reference(limit=100, extra_args=["--fault", "reply.identifier-lowercased"])
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        served = api.post("/user/ai/generate-reply", json=body(customer_identifier="ABC"))
        assert served.json()["customer_identifier"] == "abc"
        again = api.post("/user/ai/generate-reply", json=body(customer_identifier="ABC"))
        assert again.json()["conversation_id"] == served.json()["conversation_id"]
        assert api.post("/user/ai/generate-reply", json={}).status_code == 422


def test_autocalls_paths_variant(make_reference: Any) -> None:
    ref = make_reference(extra_args=["--variant", "autocalls-paths"])
    assert ref.profile["brand"] == "autocalls"
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        assert api.post("/user/ai/generate-reply", json=body()).status_code == 404
        assert api.post("/ai/generate-reply", json=body()).status_code == 200


def test_extra_fields_variant(make_reference: Any) -> None:
    ref = make_reference(extra_args=["--variant", "extra-fields"])
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        served = api.post("/user/ai/generate-reply", json=body())
    assert served.status_code == 200
    assert served.headers["x-request-id"] == served.json()["request_id"]
    assert "usage" in served.json()


def test_sliding_window_variant(make_reference: Any) -> None:
    ref = make_reference(limit=2, window=3, extra_args=["--variant", "sliding-window"])
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        statuses = [r.status_code for r in _burst(api, 3)]
        assert statuses == [200, 200, 429]
        assert 1 <= api.post("/user/ai/generate-reply", json=body()).json()["retry_after"] <= 3
