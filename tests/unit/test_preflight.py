"""The preflight: a JSON answer on the documented path is the API, whatever its status."""

from __future__ import annotations

import httpx
import pytest

from replyguard.engine.preflight import preflight
from replyguard.profile import Target, parse_target


def _target() -> Target:
    return parse_target(
        {
            "base_url": "http://127.0.0.1:9/api",
            "brand": "autocalls",
            "tokens": {"primary": "p" * 20},
            "assistants": {"own": 1},
        },
        env={},
    )


def _answering(status: int, content_type: str, body: bytes, **headers: str) -> httpx.MockTransport:
    def handle(request: httpx.Request) -> httpx.Response:
        return httpx.Response(
            status, headers={"Content-Type": content_type, **headers}, content=body
        )

    return httpx.MockTransport(handle)


@pytest.mark.parametrize(
    ("status", "body"),
    [
        (401, b'{"message": "Unauthenticated."}'),
        # Laravel's handler when the auth check itself crashes: the API, breaking its rules.
        (500, b'{"message": "Server Error"}'),
        (403, b'{"message": "This action is unauthorized."}'),
        (422, b'{"message": "The given data was invalid.", "errors": {}}'),
        (404, b'{"success": false, "error": "x", "error_code": "ASSISTANT_NOT_FOUND"}'),
    ],
)
def test_a_json_answer_is_the_api(status: int, body: bytes) -> None:
    assert preflight(_target(), transport=_answering(status, "application/json", body)) is None


def test_a_json_401_with_the_wrong_content_type_is_the_api() -> None:
    # The API with a wrong Content-Type: contract.content-type judges it, the run goes on.
    transport = _answering(401, "text/plain", b'{"message": "Unauthenticated."}')
    assert preflight(_target(), transport=transport) is None


def test_a_redirect_to_login_is_the_api() -> None:
    transport = _answering(302, "text/html", b"Redirecting", Location="https://x/login")
    assert preflight(_target(), transport=transport) is None


@pytest.mark.parametrize(
    ("status", "content_type", "body"),
    [
        (501, "text/plain", b"Not Implemented"),
        (200, "text/html", b"<html><body>Welcome</body></html>"),
        (404, "text/html", b"<html><body>Not Found</body></html>"),
        (500, "text/html", b"<html><body>Whoops</body></html>"),
        # An unknown route of a Laravel app (a wrong base path): JSON, but no route.
        (404, "application/json", b'{"message": ""}'),
        (405, "application/json", b'{"message": "The POST method is not supported."}'),
        (200, "application/json", b'"a string"'),
        (200, "application/json", b"not json"),
    ],
)
def test_anything_else_asks_about_base_url(status: int, content_type: str, body: bytes) -> None:
    line = preflight(_target(), transport=_answering(status, content_type, body))
    assert line is not None
    assert f"answered {status}" in line
    assert "is base_url right?" in line


def test_no_answer_asks_about_base_url() -> None:
    def refuse(request: httpx.Request) -> httpx.Response:
        raise httpx.ConnectError("connection refused", request=request)

    line = preflight(_target(), transport=httpx.MockTransport(refuse))
    assert line is not None
    assert line.startswith("target unreachable: cannot reach http://127.0.0.1:9/api/")
    assert line.endswith("is base_url right?")
