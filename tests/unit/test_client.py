"""AssistantClient: headers, paths, parsing, error mapping, token masking (respx, no network)."""

from __future__ import annotations

import json
from collections.abc import Iterator
from typing import Any

import httpx
import pytest
import respx

import replyguard.client as client_module
from replyguard.client import (
    ApiError,
    AssistantClient,
    AssistantNotFound,
    AuthenticationError,
    CreatedAssistant,
    InsufficientBalance,
    PayloadTooLarge,
    RateLimited,
    Reply,
    RetryPolicy,
    ServerError,
    TransportError,
    UnexpectedResponse,
    ValidationFailed,
    mask_token,
)

BASE = "https://portal.intellixent.ai/api"
TOKEN = "rg_live_5ecret5ecret5ecretXY"
REPLY_PATH = "/user/ai/generate-reply"

REPLY_BODY: dict[str, Any] = {
    "success": True,
    "conversation_id": "7c9e6679-7425-40de-944b-e07fc1f90ae7",
    "customer_identifier": "+14155551234",
    "reply": "Hi John! What day and time work best for you?",
    "function_calls": [],
    "ai_disabled": False,
}
CREATED_BODY = {
    "message": "Assistant created successfully",
    "data": {
        "id": 789,
        "name": "Sales Assistant",
        "status": "inactive",
        "type": "outbound",
        "mode": "pipeline",
    },
}


@pytest.fixture
def router() -> Iterator[respx.MockRouter]:
    with respx.mock(base_url=BASE, assert_all_called=False) as mock:
        yield mock


@pytest.fixture
def client() -> Iterator[AssistantClient]:
    sleeps: list[float] = []
    with AssistantClient(BASE, TOKEN, retry=None, sleep=sleeps.append) as c:
        yield c


def ask(client: AssistantClient) -> Reply:
    return client.generate_reply(123, "+14155551234", "Hi, I would like an appointment")


# --- requests ---------------------------------------------------------------------------------


def test_sends_accept_authorization_and_json_body(
    router: respx.MockRouter, client: AssistantClient
) -> None:
    route = router.post(REPLY_PATH).respond(200, json=REPLY_BODY)
    client.generate_reply(123, "+14155551234", "Hi", variables={"source": "whatsapp"})
    request = route.calls.last.request
    assert request.headers["Accept"] == "application/json"
    assert request.headers["Authorization"] == f"Bearer {TOKEN}"
    assert request.headers["Content-Type"] == "application/json"
    assert json.loads(request.content) == {
        "assistant_id": 123,
        "customer_identifier": "+14155551234",
        "message": "Hi",
        "variables": {"source": "whatsapp"},
    }


def test_variables_left_out_when_not_given(
    router: respx.MockRouter, client: AssistantClient
) -> None:
    route = router.post(REPLY_PATH).respond(200, json=REPLY_BODY)
    ask(client)
    assert "variables" not in json.loads(route.calls.last.request.content)


def test_extra_headers_cannot_replace_the_token() -> None:
    with respx.mock(base_url=BASE) as router:
        route = router.post(REPLY_PATH).respond(200, json=REPLY_BODY)
        headers = {"X-Trace": "t1", "Authorization": "Bearer other"}
        with AssistantClient(BASE, TOKEN, headers=headers) as c:
            ask(c)
    sent = route.calls.last.request.headers
    assert sent["X-Trace"] == "t1"
    assert sent["Authorization"] == f"Bearer {TOKEN}"


@pytest.mark.parametrize(
    ("brand", "url"),
    [
        ("intellixent", "https://portal.intellixent.ai/api/user/ai/generate-reply"),
        ("autocalls", "https://app.autocalls.ai/api/ai/generate-reply"),
        ("Famulor", "https://app.famulor.de/api/ai/generate-reply"),
    ],
)
def test_from_brand_uses_the_brand_path_and_base_url(brand: str, url: str) -> None:
    with respx.mock() as router:
        route = router.post(url).respond(200, json=REPLY_BODY)
        with AssistantClient.from_brand(brand, token=TOKEN) as c:
            ask(c)
    assert route.call_count == 1


def test_from_brand_with_own_base_url_keeps_the_brand_path() -> None:
    with respx.mock() as router:
        route = router.post("http://127.0.0.1:8000/api/ai/generate-reply").respond(
            200, json=REPLY_BODY
        )
        with AssistantClient.from_brand(
            "autocalls", "http://127.0.0.1:8000/api/", token=TOKEN
        ) as c:
            ask(c)
    assert route.call_count == 1


def test_from_brand_rejects_unknown_brand() -> None:
    with pytest.raises(ValueError, match="unknown brand 'acme'"):
        AssistantClient.from_brand("acme", token=TOKEN)


def test_rejects_relative_base_url() -> None:
    with pytest.raises(ValueError, match="absolute"):
        AssistantClient("/api", TOKEN)


# --- success parsing --------------------------------------------------------------------------


def test_parses_reply(router: respx.MockRouter, client: AssistantClient) -> None:
    router.post(REPLY_PATH).respond(
        200, json=REPLY_BODY, headers={"X-RateLimit-Limit": "5", "X-RateLimit-Remaining": "4"}
    )
    reply = ask(client)
    assert reply == Reply(
        success=True,
        conversation_id=REPLY_BODY["conversation_id"],
        customer_identifier="+14155551234",
        reply=REPLY_BODY["reply"],
        function_calls=(),
        ai_disabled=False,
        raw=REPLY_BODY,
        response_headers=httpx.Headers(),
    )
    assert reply.raw == REPLY_BODY
    assert (reply.rate_limit_limit, reply.rate_limit_remaining) == (5, 4)


def test_create_assistant_parses_201(router: respx.MockRouter, client: AssistantClient) -> None:
    route = router.post("/user/assistant").respond(201, json=CREATED_BODY)
    created = client.create_assistant({"name": "Sales Assistant", "type": "outbound"})
    assert created == CreatedAssistant(
        id=789,
        name="Sales Assistant",
        status="inactive",
        type="outbound",
        mode="pipeline",
        message="Assistant created successfully",
        raw=CREATED_BODY,
    )
    assert json.loads(route.calls.last.request.content)["name"] == "Sales Assistant"


def test_create_assistant_maps_422(router: respx.MockRouter, client: AssistantClient) -> None:
    body = {
        "message": "Validation failed",
        "errors": {
            "name": ["The name field is required."],
            "voice_id": ["The selected voice is not compatible with the chosen engine type."],
        },
    }
    router.post("/user/assistant").respond(422, json=body)
    with pytest.raises(ValidationFailed) as info:
        client.create_assistant({})
    assert info.value.errors == body["errors"]
    assert "name: The name field is required." in str(info.value)


@pytest.mark.parametrize(
    "body",
    [
        {**REPLY_BODY, "success": False},
        {k: v for k, v in REPLY_BODY.items() if k != "reply"},
        {**REPLY_BODY, "function_calls": "none"},
        [REPLY_BODY],
    ],
    ids=["success-false", "no-reply", "function-calls-not-list", "not-an-object"],
)
def test_malformed_success_is_unexpected(
    router: respx.MockRouter, client: AssistantClient, body: Any
) -> None:
    router.post(REPLY_PATH).respond(200, json=body)
    with pytest.raises(UnexpectedResponse) as info:
        ask(client)
    assert info.value.status_code == 200


def test_html_answer_is_unexpected(router: respx.MockRouter, client: AssistantClient) -> None:
    router.post(REPLY_PATH).respond(200, html="<html>\n<body>Login</body>\n</html>")
    with pytest.raises(UnexpectedResponse) as info:
        ask(client)
    assert info.value.body.startswith("<html>")
    assert "\n" not in str(info.value)


def test_created_assistant_without_id_is_unexpected(
    router: respx.MockRouter, client: AssistantClient
) -> None:
    router.post("/user/assistant").respond(201, json={"message": "ok", "data": {"name": "x"}})
    with pytest.raises(UnexpectedResponse):
        client.create_assistant({"name": "x"})


# --- error mapping ----------------------------------------------------------------------------

ERROR_CASES: list[tuple[int, Any, type[ApiError], str | None]] = [
    (401, {"message": "Unauthenticated."}, AuthenticationError, None),
    (
        402,
        {
            "success": False,
            "error": "Insufficient balance. Please top up your account.",
            "error_code": "INSUFFICIENT_BALANCE",
        },
        InsufficientBalance,
        "INSUFFICIENT_BALANCE",
    ),
    (
        404,
        {
            "success": False,
            "error": "Assistant not found or does not belong to you",
            "error_code": "ASSISTANT_NOT_FOUND",
        },
        AssistantNotFound,
        "ASSISTANT_NOT_FOUND",
    ),
    (404, {"message": "The route api/foo could not be found."}, UnexpectedResponse, None),
    (402, {"message": "Payment Required"}, UnexpectedResponse, None),
    (413, {"message": "Payload Too Large"}, PayloadTooLarge, None),
    (422, {"message": "x", "errors": {"message": ["required"]}}, ValidationFailed, None),
    (429, {"message": "Too Many Attempts.", "retry_after": 60}, RateLimited, None),
    (500, {"message": "Server Error"}, ServerError, None),
    (503, "<html>Service Unavailable</html>", ServerError, None),
    (418, {"message": "teapot"}, UnexpectedResponse, None),
    (302, "", UnexpectedResponse, None),
    (422, "not json", UnexpectedResponse, None),
]


@pytest.mark.parametrize(
    ("status", "body", "error_cls", "error_code"),
    ERROR_CASES,
    ids=[f"{s}-{cls.__name__}" for s, _, cls, _ in ERROR_CASES],
)
def test_error_mapping(
    router: respx.MockRouter,
    client: AssistantClient,
    status: int,
    body: Any,
    error_cls: type[ApiError],
    error_code: str | None,
) -> None:
    if isinstance(body, str):
        router.post(REPLY_PATH).respond(status, text=body)
    else:
        router.post(REPLY_PATH).respond(status, json=body)
    with pytest.raises(ApiError) as info:
        ask(client)
    error = info.value
    assert type(error) is error_cls
    assert error.status_code == status
    assert error.body == body
    assert error.error_code == error_code
    assert error.request_method == "POST"
    assert error.request_url == BASE + REPLY_PATH
    text = str(error)
    assert "\n" not in text
    assert text.startswith(f"{status} ")
    assert f"POST {BASE}{REPLY_PATH}" in text


def test_rate_limited_reads_body_retry_after(
    router: respx.MockRouter, client: AssistantClient
) -> None:
    router.post(REPLY_PATH).respond(
        429, json={"message": "Too Many Attempts.", "retry_after": 60}, headers={"Retry-After": "5"}
    )
    with pytest.raises(RateLimited) as info:
        ask(client)
    assert info.value.retry_after == 60
    assert "retry after 60s" in str(info.value)


def test_rate_limited_falls_back_to_header(
    router: respx.MockRouter, client: AssistantClient
) -> None:
    router.post(REPLY_PATH).respond(429, text="Too Many Attempts.", headers={"Retry-After": "7"})
    with pytest.raises(RateLimited) as info:
        ask(client)
    assert info.value.retry_after == 7
    assert info.value.headers["retry-after"] == "7"


def test_rate_limited_without_any_hint(router: respx.MockRouter, client: AssistantClient) -> None:
    router.post(REPLY_PATH).respond(429, json={"message": "Too Many Attempts."})
    with pytest.raises(RateLimited) as info:
        ask(client)
    assert info.value.retry_after is None


# --- raw send ---------------------------------------------------------------------------------


def test_send_returns_error_answers_without_raising(
    router: respx.MockRouter, client: AssistantClient
) -> None:
    router.post(REPLY_PATH).respond(404, json={"error_code": "ASSISTANT_NOT_FOUND"})
    response = client.send("generate_reply", {"assistant_id": 0})
    assert response.status_code == 404
    assert response.json() == {"error_code": "ASSISTANT_NOT_FOUND"}


def test_send_accepts_any_json_and_header_overrides(
    router: respx.MockRouter, client: AssistantClient
) -> None:
    route = router.post("/user/assistant").respond(401, json={"message": "Unauthenticated."})
    response = client.send(
        "create_assistant", ["not", "an", "object"], headers={"Authorization": "Bearer wrong"}
    )
    assert response.status_code == 401
    request = route.calls.last.request
    assert request.headers["Authorization"] == "Bearer wrong"
    assert request.headers["Accept"] == "application/json"
    assert json.loads(request.content) == ["not", "an", "object"]


def test_send_rejects_unknown_operation(client: AssistantClient) -> None:
    with pytest.raises(ValueError, match="unknown operation"):
        client.send("delete_everything", {})  # type: ignore[arg-type]


# --- transport errors -------------------------------------------------------------------------


def test_transport_error_is_one_line_without_token(
    router: respx.MockRouter, client: AssistantClient
) -> None:
    router.post(REPLY_PATH).mock(side_effect=httpx.ConnectError("[Errno 111] Connection refused"))
    with pytest.raises(TransportError) as info:
        ask(client)
    error = info.value
    assert str(error) == f"cannot reach {BASE}: connection refused"
    assert error.__cause__ is None
    assert error.__suppress_context__
    assert isinstance(error.original, httpx.ConnectError)
    assert TOKEN not in repr(error)


def test_read_timeout_names_the_request(router: respx.MockRouter, client: AssistantClient) -> None:
    router.post(REPLY_PATH).mock(side_effect=httpx.ReadTimeout("timed out\nmore detail"))
    with pytest.raises(TransportError) as info:
        ask(client)
    assert str(info.value) == f"POST {BASE}{REPLY_PATH} failed: timed out more detail"


def test_send_raises_transport_error(router: respx.MockRouter, client: AssistantClient) -> None:
    router.post(REPLY_PATH).mock(side_effect=httpx.ConnectTimeout("timed out"))
    with pytest.raises(TransportError, match=r"^cannot reach"):
        client.send("generate_reply", {})


# --- the token never shows --------------------------------------------------------------------


def test_mask_token() -> None:
    assert mask_token(TOKEN) == "***XY"
    assert mask_token("short") == "***"
    assert mask_token("") == "***"


def test_client_repr_and_str_mask_the_token(client: AssistantClient) -> None:
    for text in (repr(client), str(client), f"{client}"):
        assert TOKEN not in text
        assert "***XY" in text
    assert client.masked_token == "***XY"


@pytest.mark.parametrize(("status", "error_cls"), [(401, AuthenticationError), (500, ServerError)])
def test_echoed_token_is_scrubbed_from_errors(
    router: respx.MockRouter, client: AssistantClient, status: int, error_cls: type[ApiError]
) -> None:
    router.post(REPLY_PATH).respond(status, json={"message": f"bad token Bearer {TOKEN}"})
    with pytest.raises(error_cls) as info:
        ask(client)
    error = info.value
    for text in (str(error), repr(error), *map(str, error.args)):
        assert TOKEN not in text
    assert "Bearer ***" in str(error)


def test_rate_limited_error_never_holds_the_token(router: respx.MockRouter) -> None:
    router.post(REPLY_PATH).respond(429, json={"message": "Too Many Attempts.", "retry_after": 1})
    with (
        AssistantClient(BASE, TOKEN, sleep=lambda _: None) as c,
        pytest.raises(RateLimited) as info,
    ):
        ask(c)
    assert all(TOKEN not in str(arg) for arg in info.value.args)
    assert TOKEN not in repr(info.value)


# --- exports ----------------------------------------------------------------------------------


def test_exports_are_complete() -> None:
    public = {
        name
        for name, value in vars(client_module).items()
        if not name.startswith("_")
        and getattr(value, "__module__", "").startswith("replyguard.client")
    }
    assert public <= set(client_module.__all__)
    for name in client_module.__all__:
        assert hasattr(client_module, name), name


def test_retry_policy_rejects_nonsense() -> None:
    with pytest.raises(ValueError, match="max_attempts"):
        RetryPolicy(max_attempts=0)
    with pytest.raises(ValueError, match="negative"):
        RetryPolicy(base=-1)
