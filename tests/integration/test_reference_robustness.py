"""Nothing a client can send makes the reference server answer 500; startup and shutdown.

The malformed-input tests run against the reference and against each correct variant that
reads JSON differently (``laravel-lenient``, ``strict-json``): a documented 4xx, never a 500.
"""

from __future__ import annotations

import json
import signal
import socket
from collections.abc import Iterator
from typing import TYPE_CHECKING, Any

import httpx
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

if TYPE_CHECKING:
    from tests.helpers.servers import Reference

pytest_plugins = ["tests.helpers.servers"]
pytestmark = pytest.mark.integration


@pytest.fixture(scope="module", params=["reference", "laravel-lenient", "strict-json"])
def reference_server(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory
) -> Iterator[Reference]:
    """The reference, then each variant with its own reading of JSON (shadows the shared one)."""
    # Imported here: the module is loaded as a pytest plugin above, before assertion rewriting.
    from tests.helpers.servers import SHARED_LIMIT, running_reference

    args = [] if request.param == "reference" else ["--variant", request.param]
    with running_reference(
        tmp_path_factory.mktemp(request.param), limit=SHARED_LIMIT, extra_args=args
    ) as ref:
        yield ref


ROUTES = ["/user/ai/generate-reply", "/ai/generate-reply", "/user/assistant"]
DOCUMENTED = {200, 201, 401, 402, 404, 413, 422, 429}
JSON_CT = {"Content-Type": "application/json"}


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "content",
    [
        b"",
        b"{",
        b"null",
        b"[]",
        b"[1, 2]",
        b'"string"',
        b"42",
        b"\xff\xfe\x00{",
        b"\xef\xbb\xbf{}",
        b'{"assistant_id": NaN}',
        b'{"assistant_id": Infinity}',
        b'{"assistant_id": 1e400, "speech_speed": -1e400}',
        b'{"assistant_id": 1' + b"0" * 5000 + b"}",
        b"[" * 100_000 + b"]" * 100_000,
        b'{"variables": ' + b'{"a": ' * 5000 + b"1" + b"}" * 5000 + b"}",
        b'{"message": "\\u0000", "name": "\\ud800\\udc00"}',
        b'{"name": "\\udc00", "tools": [{"type": "\\ud800"}], "variables": {"\\ud800": 1}}',
    ],
)
def test_malformed_bodies_are_not_500(
    reference_server: Reference, route: str, content: bytes
) -> None:
    response = httpx.post(
        reference_server.base_url + route,
        content=content,
        headers={**JSON_CT, **reference_server.headers()},
        timeout=30,
    )
    assert response.status_code in {422, 413}, response.text
    response.json()


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize(
    "content_type", [None, "text/plain", "application/x-www-form-urlencoded", "multipart/form-data"]
)
def test_non_json_content_type_is_empty_input(
    reference_server: Reference, route: str, content_type: str | None
) -> None:
    headers = reference_server.headers()
    if content_type is not None:
        headers["Content-Type"] = content_type
    content = json.dumps({"assistant_id": 101, "customer_identifier": "x", "message": "m"})
    response = httpx.post(reference_server.base_url + route, content=content, headers=headers)
    assert response.status_code == 422
    assert "errors" in response.json()


@pytest.mark.parametrize("route", ROUTES)
def test_huge_body_413(reference_server: Reference, route: str) -> None:
    big = json.dumps({"message": "x" * (1024 * 1024 + 10)}).encode()
    response = httpx.post(
        reference_server.base_url + route,
        content=big,
        headers={**JSON_CT, **reference_server.headers()},
    )
    assert response.status_code == 413
    assert response.json() == {"message": "Payload too large."}


def test_huge_chunked_body_413(reference_server: Reference) -> None:
    def chunks() -> Any:
        for _ in range(40):
            yield b"x" * 65536

    response = httpx.post(
        reference_server.base_url + ROUTES[0],
        content=chunks(),
        headers={**JSON_CT, **reference_server.headers()},
    )
    assert response.status_code == 413


def test_body_just_under_limit_is_read(reference_server: Reference) -> None:
    msg = "y" * (1024 * 1024 - 200)
    body = {"assistant_id": 101, "customer_identifier": "big", "message": msg}
    response = httpx.post(
        reference_server.base_url + ROUTES[0],
        json=body,
        headers=reference_server.headers(),
        timeout=30,
    )
    assert response.status_code == 200


def test_unknown_path_404_json(reference_server: Reference) -> None:
    for path in ("/nope", "/user/ai", "/user/assistant/1", "/../x"):
        response = httpx.post(reference_server.base_url + path, headers=reference_server.headers())
        assert response.status_code == 404
        assert "message" in response.json()
    assert httpx.get(reference_server.base_url.removesuffix("/api") + "/").status_code == 404


@pytest.mark.parametrize("route", ROUTES)
@pytest.mark.parametrize("method", ["GET", "PUT", "DELETE", "PATCH"])
def test_wrong_method_405_json(reference_server: Reference, route: str, method: str) -> None:
    response = httpx.request(method, reference_server.base_url + route)
    assert response.status_code == 405
    assert "message" in response.json()
    assert response.headers["allow"] == "POST"


json_values = st.recursive(
    st.none()
    | st.booleans()
    | st.integers()
    | st.floats(allow_nan=False, allow_infinity=False)
    | st.text(),
    lambda children: (
        st.lists(children, max_size=4) | st.dictionaries(st.text(max_size=10), children, max_size=4)
    ),
    max_leaves=20,
)
FIELD_NAMES = [
    "assistant_id",
    "customer_identifier",
    "message",
    "variables",
    "name",
    "voice_id",
    "mode",
    "type",
    "tools",
    "tool_ids",
    "filler_config",
    "post_call_schema",
    "speech_speed",
    "webhook_url",
    "timezone",
]
bodies = st.dictionaries(
    st.sampled_from(FIELD_NAMES) | st.text(max_size=8), json_values, max_size=8
)


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(ROUTES), data=bodies | json_values)
def test_random_json_never_500(reference_server: Reference, route: str, data: Any) -> None:
    response = httpx.post(
        reference_server.base_url + route, json=data, headers=reference_server.headers()
    )
    assert response.status_code in DOCUMENTED, response.text
    response.json()


@settings(max_examples=150, deadline=None, suppress_health_check=list(HealthCheck))
@given(route=st.sampled_from(ROUTES), content=st.binary(max_size=300))
def test_random_bytes_never_500(reference_server: Reference, route: str, content: bytes) -> None:
    response = httpx.post(
        reference_server.base_url + route,
        content=content,
        headers={**JSON_CT, **reference_server.headers()},
    )
    assert response.status_code in DOCUMENTED, response.text


def test_server_log_shows_no_errors(reference_server: Reference) -> None:
    # Runs after the fuzzing above in file order; a traceback would land in stderr.
    assert "Traceback" not in reference_server.stderr_path.read_text(errors="replace")


def test_ready_quickly_and_stops_cleanly(make_reference: Any) -> None:
    ref = make_reference()
    assert ref.startup_seconds < 5
    line = ref.stdout_path.read_text()
    assert line.strip() == f"replyguard reference server listening on {ref.base_url}"
    port = int(ref.base_url.rsplit(":", 1)[1].split("/")[0])
    with socket.create_connection(("127.0.0.1", port), timeout=2):
        pass
    assert ref.stop() == 0


def test_workers_ready_and_sigint(make_reference: Any) -> None:
    ref = make_reference(workers=2)
    assert ref.startup_seconds < 5
    response = httpx.post(
        ref.base_url + ROUTES[0],
        json={"assistant_id": 101, "customer_identifier": "w", "message": "m"},
        headers=ref.headers(),
    )
    assert response.status_code == 200
    ref.process.send_signal(signal.SIGINT)
    assert ref.process.wait(10) == 0


def test_profile_matches_server(make_reference: Any) -> None:
    ref = make_reference(limit=7, window=9)
    profile = ref.profile
    assert profile["brand"] == "intellixent"
    assert profile["rate_limit"] == {"limit": 7, "window_seconds": 9}
    tokens = profile["tokens"]
    assert len(set(tokens.values())) == 4
    assert all(t.startswith("rg_") for t in tokens.values())
    assert profile["assistants"] == {
        "own": 101,
        "own_second": 102,
        "foreign": 201,
        "low_balance": 301,
    }
    assert profile["catalog"]["voices"][0] == {"id": 1, "modes": ["pipeline", "dualplex"]}
    assert profile["safety"] == {"allow_writes": True, "exhaustive": True, "max_requests": 0}
    assert profile["capabilities"] == {"reply_shows_variables": True}
