"""Generate-reply on the reference server, over HTTP."""

from __future__ import annotations

import json
import uuid
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.helpers.servers import Reference

pytest_plugins = ["tests.helpers.servers"]
pytestmark = pytest.mark.integration

PATHS = ["/user/ai/generate-reply", "/ai/generate-reply"]
UNAUTHENTICATED = {"message": "Unauthenticated."}


def unique(prefix: str = "cust") -> str:
    return f"{prefix}-{uuid.uuid4()}"


def body(**overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {"assistant_id": 101, "customer_identifier": unique(), "message": "Hi"}
    data.update(overrides)
    return data


def variables_of(reply: str) -> dict[str, Any]:
    last = reply.splitlines()[-1]
    assert last.startswith("Variables: ")
    parsed: dict[str, Any] = json.loads(last.removeprefix("Variables: "))
    return parsed


@pytest.mark.parametrize("path", [*PATHS, "/user/assistant"])
@pytest.mark.parametrize(
    "headers",
    [{}, {"Authorization": "Bearer nope"}, {"Authorization": "Bearer"}, {"Authorization": "x"}],
)
def test_unauthenticated_is_401(
    reference_server: Reference, path: str, headers: dict[str, str]
) -> None:
    response = httpx.post(reference_server.base_url + path, json=body(), headers=headers)
    assert response.status_code == 401
    assert response.json() == UNAUTHENTICATED


def test_token_scheme_is_case_insensitive(api: httpx.Client, reference_server: Reference) -> None:
    headers = {"Authorization": f"bearer {reference_server.token()}"}
    assert api.post(PATHS[0], json=body(), headers=headers).status_code == 200


@pytest.mark.parametrize("path", PATHS)
def test_success_body(api: httpx.Client, path: str) -> None:
    ident = unique("+1415")
    response = api.post(path, json=body(customer_identifier=ident, variables={"a": "b"}))
    assert response.status_code == 200
    data = response.json()
    assert set(data) == {
        "success",
        "conversation_id",
        "customer_identifier",
        "reply",
        "function_calls",
        "ai_disabled",
    }
    assert data["success"] is True
    assert uuid.UUID(data["conversation_id"]).version == 4
    assert data["customer_identifier"] == ident
    assert data["function_calls"] == []
    assert data["ai_disabled"] is False
    assert data["reply"].startswith("Reply #1 to: Hi\n")
    assert variables_of(data["reply"]) == {"a": "b"}
    assert response.headers["x-ratelimit-limit"] == "1000000"
    assert "x-ratelimit-remaining" in response.headers


@pytest.mark.parametrize(
    "ident",
    [
        "+14155551234",
        "Mixed.Case+tag@Example.COM",
        " padded ",
        "ünïcødé-名前",
        "emoji-😀🎉",
        "a" * 255,
        "😀" * 255,
        "nul\x00inside",
        "e\u0301",
        "line\nbreak",
    ],
)
def test_identifier_echoed_exactly(api: httpx.Client, ident: str) -> None:
    ident = ident if len(ident) >= 255 else ident + unique("")
    ident = ident[:255]
    response = api.post(PATHS[0], json=body(customer_identifier=ident))
    assert response.status_code == 200, response.text
    assert response.json()["customer_identifier"] == ident
    assert response.json()["reply"].startswith("Reply #1")


def test_identifier_256_rejected(api: httpx.Client) -> None:
    response = api.post(PATHS[0], json=body(customer_identifier="a" * 256))
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["customer_identifier"]
    response = api.post(PATHS[0], json=body(customer_identifier="😀" * 256))
    assert response.status_code == 422


def test_missing_fields_422_lists_each_field(api: httpx.Client) -> None:
    response = api.post(PATHS[0], json={})
    assert response.status_code == 422
    data = response.json()
    assert set(data["errors"]) == {"assistant_id", "customer_identifier", "message"}
    assert data["message"] == "The assistant id field is required. (and 2 more errors)"
    for messages in data["errors"].values():
        assert isinstance(messages, list)
        assert all(isinstance(m, str) for m in messages)


@pytest.mark.parametrize(
    ("overrides", "field"),
    [
        ({"assistant_id": True}, "assistant_id"),
        ({"assistant_id": "101"}, "assistant_id"),
        ({"assistant_id": 101.5}, "assistant_id"),
        ({"assistant_id": None}, "assistant_id"),
        ({"assistant_id": [101]}, "assistant_id"),
        ({"assistant_id": 10**100}, "assistant_id"),
        ({"customer_identifier": ""}, "customer_identifier"),
        ({"customer_identifier": "   \t"}, "customer_identifier"),
        ({"customer_identifier": 12345}, "customer_identifier"),
        ({"customer_identifier": None}, "customer_identifier"),
        ({"message": ""}, "message"),
        ({"message": "  \n "}, "message"),
        ({"message": 5}, "message"),
        ({"variables": None}, "variables"),
        ({"variables": [1, 2]}, "variables"),
        ({"variables": "x"}, "variables"),
    ],
)
def test_invalid_field_422(api: httpx.Client, overrides: dict[str, Any], field: str) -> None:
    response = api.post(PATHS[1], json=body(**overrides))
    assert response.status_code == 422
    data = response.json()
    assert list(data["errors"]) == [field]
    assert data["message"] == data["errors"][field][0]


def test_integral_float_is_an_integer(api: httpx.Client) -> None:
    assert api.post(PATHS[0], json=body(assistant_id=101.0)).status_code == 200


def test_unknown_fields_are_ignored(api: httpx.Client) -> None:
    assert api.post(PATHS[0], json=body(extra={"x": 1}, foo=None)).status_code == 200


@pytest.mark.parametrize("raw", ['"\\ud800"', '"ok\\udfff"'])
@pytest.mark.parametrize("field", ["customer_identifier", "message"])
def test_lone_surrogates_rejected(api: httpx.Client, raw: str, field: str) -> None:
    data = body()
    data[field] = "__RAW__"
    content = json.dumps(data).replace('"__RAW__"', raw)
    response = api.post(PATHS[0], content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == [field]


def test_lone_surrogate_in_variables_rejected(api: httpx.Client) -> None:
    content = json.dumps(body()).rstrip("}") + ', "variables": {"k": "\\ud800"}}'
    response = api.post(PATHS[0], content=content, headers={"Content-Type": "application/json"})
    assert response.status_code == 422
    assert list(response.json()["errors"]) == ["variables"]


@pytest.mark.parametrize("assistant_id", [201, 999_999, 0, -1])
def test_unknown_or_foreign_assistant_404(api: httpx.Client, assistant_id: int) -> None:
    response = api.post(PATHS[0], json=body(assistant_id=assistant_id))
    assert response.status_code == 404
    assert response.json() == {
        "success": False,
        "error": "Assistant not found or does not belong to you",
        "error_code": "ASSISTANT_NOT_FOUND",
    }


def test_broke_account_402(reference_server: Reference) -> None:
    response = httpx.post(
        reference_server.base_url + PATHS[0],
        json=body(assistant_id=301),
        headers=reference_server.headers("low_balance"),
    )
    assert response.status_code == 402
    assert response.json() == {
        "success": False,
        "error": "Insufficient balance. Please top up your account.",
        "error_code": "INSUFFICIENT_BALANCE",
    }


def test_broke_account_foreign_assistant_is_404_first(reference_server: Reference) -> None:
    response = httpx.post(
        reference_server.base_url + PATHS[0],
        json=body(assistant_id=101),
        headers=reference_server.headers("low_balance"),
    )
    assert response.status_code == 404


def test_other_account_owns_its_assistant(reference_server: Reference) -> None:
    response = httpx.post(
        reference_server.base_url + PATHS[0],
        json=body(assistant_id=201),
        headers=reference_server.headers("other_account"),
    )
    assert response.status_code == 200


def test_conversation_persistence(api: httpx.Client) -> None:
    ident = unique("+4915")
    first = api.post(PATHS[0], json=body(customer_identifier=ident)).json()
    second = api.post(PATHS[1], json=body(customer_identifier=ident, message="again")).json()
    assert first["conversation_id"] == second["conversation_id"]
    assert second["reply"].startswith("Reply #2 to: again\n")
    other = api.post(PATHS[0], json=body(customer_identifier=ident + "x")).json()
    assert other["conversation_id"] != first["conversation_id"]
    other_assistant = api.post(PATHS[0], json=body(assistant_id=102, customer_identifier=ident))
    assert other_assistant.json()["conversation_id"] != first["conversation_id"]
    assert other_assistant.json()["reply"].startswith("Reply #1")


def test_identifier_keys_are_exact(api: httpx.Client) -> None:
    base = unique("Case")
    ids = {
        api.post(PATHS[0], json=body(customer_identifier=v)).json()["conversation_id"]
        for v in (base, base.lower(), base.upper(), " " + base, base + " ")
    }
    assert len(ids) == 5


def test_second_token_same_account_shares_conversations(
    api: httpx.Client, reference_server: Reference
) -> None:
    ident = unique()
    first = api.post(PATHS[0], json=body(customer_identifier=ident)).json()
    second = httpx.post(
        reference_server.base_url + PATHS[0],
        json=body(customer_identifier=ident),
        headers=reference_server.headers("secondary"),
    ).json()
    assert first["conversation_id"] == second["conversation_id"]


def test_variables_merge(api: httpx.Client) -> None:
    ident = unique()
    r1 = api.post(PATHS[0], json=body(customer_identifier=ident, variables={"a": 1, "b": "x"}))
    assert variables_of(r1.json()["reply"]) == {"a": 1, "b": "x"}
    r2 = api.post(PATHS[0], json=body(customer_identifier=ident, variables={"b": "y", "c": [1]}))
    assert variables_of(r2.json()["reply"]) == {"a": 1, "b": "y", "c": [1]}
    r3 = api.post(PATHS[0], json=body(customer_identifier=ident))
    assert variables_of(r3.json()["reply"]) == {"a": 1, "b": "y", "c": [1]}
    r4 = api.post(PATHS[0], json=body(customer_identifier=ident, variables={}))
    assert variables_of(r4.json()["reply"]) == {"a": 1, "b": "y", "c": [1]}
    r5 = api.post(PATHS[0], json=body(customer_identifier=ident, variables={"ü": "😀"}))
    assert variables_of(r5.json()["reply"])["ü"] == "😀"


def test_persistence_across_restart(make_reference: Any, tmp_path: Any) -> None:
    db = tmp_path / "shared.sqlite3"
    first = make_reference(db_path=db, limit=100)
    ident = unique()
    headers = first.headers()
    r1 = httpx.post(
        first.base_url + PATHS[0],
        json=body(customer_identifier=ident, variables={"k": 1}),
        headers=headers,
    )
    assert r1.status_code == 200
    assert first.stop() == 0
    second = make_reference(db_path=db, limit=100)
    assert second.token() == first.token()
    r2 = httpx.post(
        second.base_url + PATHS[0], json=body(customer_identifier=ident), headers=headers
    )
    assert r2.json()["conversation_id"] == r1.json()["conversation_id"]
    assert r2.json()["reply"].startswith("Reply #2")
    assert variables_of(r2.json()["reply"]) == {"k": 1}
