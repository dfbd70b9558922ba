"""The two correct variants on the other side of the silent zones, seen over HTTP.

``laravel-lenient`` behaves as a stock Laravel 8 app, ``strict-json`` as a strict JSON API; the
reference takes a third position. Each test sends the same probe to all three (see the table in
``replyguard/reference/silent_sides.py``), and checks that the documented rules still hold.
"""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx
import pytest

from tests.helpers.servers import Reference, running_reference

pytestmark = pytest.mark.integration

REPLY = "/user/ai/generate-reply"
ASSISTANT = "/user/assistant"
SIDES = ("reference", "laravel-lenient", "strict-json")


@pytest.fixture(scope="module")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[dict[str, Reference]]:
    """One server per side, with a limit high enough never to throttle."""
    started: dict[str, Reference] = {}
    try:
        for side in SIDES:
            args = [] if side == "reference" else ["--variant", side]
            path: Path = tmp_path_factory.mktemp(side)
            context = running_reference(path, limit=1_000_000, extra_args=args)
            started[side] = context.__enter__()
            started[side]._context = context  # type: ignore[attr-defined]
        yield started
    finally:
        for ref in started.values():
            ref._context.__exit__(None, None, None)  # type: ignore[attr-defined]


def post(ref: Reference, path: str, body: Any) -> httpx.Response:
    return httpx.post(ref.base_url + path, json=body, headers=ref.headers(), timeout=10)


def assistant(**overrides: Any) -> dict[str, Any]:
    data = {
        "name": "Sales Assistant",
        "voice_id": 1,
        "language_id": 1,
        "type": "outbound",
        "mode": "pipeline",
        "timezone": "America/New_York",
        "llm_model_id": 2,
        "initial_message": "Hello!",
        "system_prompt": "You are helpful.",
    }
    data.update(overrides)
    return data


def reply(**overrides: Any) -> dict[str, Any]:
    return {"assistant_id": 101, "customer_identifier": "silent-1", "message": "Hi", **overrides}


def statuses(servers: dict[str, Reference], path: str, body: Any) -> tuple[int, ...]:
    return tuple(post(servers[side], path, body).status_code for side in SIDES)


# (probe, reference, laravel-lenient, strict-json): the create-assistant side of the table.
ASSISTANT_PROBES = [
    ({"max_duration": "120"}, 422, 201, 422),
    ({"speech_speed": "0.9"}, 422, 201, 422),
    ({"max_duration": 120.0}, 201, 201, 422),
    ({"min_interrupt_words": True}, 422, 201, 422),
    ({"record": 1}, 422, 201, 422),
    ({"record": "0"}, 422, 201, 422),
    ({"record": "true"}, 422, 422, 422),
    ({"variables": ["a", "b"]}, 422, 201, 422),
    ({"reengagement_prompt": None}, 422, 201, 201),
    ({"webhook_url": ""}, 422, 201, 422),
    ({"webhook_url": "   "}, 422, 201, 422),
    ({"webhook_url": "ftp://files.example.com/x"}, 422, 201, 422),
    ({"webhook_url": "https://ăª"}, 201, 201, 422),
    ({"webhook_url": "http://localhost:8080/hook"}, 201, 201, 422),
    ({"webhook_url": "https://example.com/hook?x=1"}, 201, 201, 201),
    ({"post_call_schema": [{"name": "status", "type": "bool"}]}, 201, 201, 422),
    ({"post_call_schema": [{"description": "only"}]}, 422, 422, 422),
    ({"tools": [{"type": "end_call"}]}, 201, 201, 422),
    ({"tools": [{"description": "no type"}]}, 422, 422, 422),
    ({"filler_config": {"other": ["Hm."]}}, 422, 201, 422),
    ({"favourite_colour": "blue"}, 201, 201, 422),
    # Documented rules hold on every side.
    ({"max_duration": 19}, 422, 422, 422),
    ({"max_duration": 20.5}, 422, 422, 422),
    ({"speech_speed": 1.3}, 422, 422, 422),
    ({"mode": "telepathy"}, 422, 422, 422),
    ({"name": "x" * 256}, 422, 422, 422),
    ({"name": "   "}, 422, 422, 422),
    ({"llm_model_id": None}, 422, 422, 422),
    ({"tool_ids": [12]}, 422, 422, 422),
    (
        {
            "mode": "multimodal",
            "voice_id": 7,
            "llm_model_id": None,
            "multimodal_model_id": 5,
            "fillers": True,
        },
        422,
        422,
        422,
    ),
]


@pytest.mark.parametrize(
    ("probe", "expected"),
    [(p, e) for p, *e in ASSISTANT_PROBES],
    ids=[str(p)[:60] for p, *_ in ASSISTANT_PROBES],
)
def test_create_assistant_probe(
    servers: dict[str, Reference], probe: dict[str, Any], expected: list[int]
) -> None:
    body = {
        k: v
        for k, v in assistant(**probe).items()
        if not (k == "llm_model_id" and v is None and "mode" in probe)
    }
    assert statuses(servers, ASSISTANT, body) == tuple(expected)


REPLY_PROBES = [
    ({"assistant_id": "101"}, 422, 200, 422),
    ({"assistant_id": 101.0}, 200, 200, 422),
    ({"assistant_id": " 101 "}, 422, 200, 422),
    ({"variables": None}, 422, 200, 200),
    ({"variables": ["x"]}, 422, 200, 422),
    ({"extra": 1}, 200, 200, 422),
    ({"customer_identifier": ""}, 422, 422, 422),
    ({"customer_identifier": "x" * 256}, 422, 422, 422),
    ({"assistant_id": 201}, 404, 404, 404),
    ({"assistant_id": 999_999}, 404, 404, 404),
]


@pytest.mark.parametrize(
    ("probe", "expected"),
    [(p, e) for p, *e in REPLY_PROBES],
    ids=[str(p)[:60] for p, *_ in REPLY_PROBES],
)
def test_generate_reply_probe(
    servers: dict[str, Reference], probe: dict[str, Any], expected: list[int]
) -> None:
    assert statuses(servers, REPLY, reply(**probe)) == tuple(expected)


def test_error_keys(servers: dict[str, Reference]) -> None:
    body = assistant(
        tool_ids=[1, 12], post_call_schema=[{"name": 5, "type": "x", "description": "d"}]
    )
    keys = {side: set(post(servers[side], ASSISTANT, body).json()["errors"]) for side in SIDES}
    assert keys["reference"] == {"tool_ids.1", "post_call_schema.0.name"}
    assert keys["laravel-lenient"] == {"tool_ids.1", "post_call_schema.0.name"}
    assert keys["strict-json"] == {"tool_ids", "post_call_schema"}


def test_generate_reply_422_message(servers: dict[str, Reference]) -> None:
    body = reply(customer_identifier="x" * 256)
    messages = {side: post(servers[side], REPLY, body).json()["message"] for side in SIDES}
    assert messages["laravel-lenient"] == "The given data was invalid."
    assert (
        messages["reference"]
        == messages["strict-json"]
        == ("The customer identifier field must not be greater than 255 characters.")
    )


def test_trimming_and_echo(servers: dict[str, Reference]) -> None:
    for side in SIDES:
        ref = servers[side]
        first = post(ref, REPLY, reply(customer_identifier="  trim-me  ", message=" Hi "))
        assert first.status_code == 200
        body = first.json()
        if side == "laravel-lenient":
            # TrimStrings: the identifier arrives (and is echoed) trimmed, and so is the message.
            assert body["customer_identifier"] == "trim-me"
            assert body["reply"].startswith("Reply #1 to: Hi\n")
            again = post(ref, REPLY, reply(customer_identifier="trim-me"))
            assert again.json()["conversation_id"] == body["conversation_id"]
        else:
            assert body["customer_identifier"] == "  trim-me  "


def test_lenient_variables_list_and_empty_strings(servers: dict[str, Reference]) -> None:
    ref = servers["laravel-lenient"]
    body = post(ref, REPLY, reply(customer_identifier="lists-1", variables=["a", "  "])).json()
    assert body["reply"].endswith('Variables: {"0": "a", "1": null}')


def test_unknown_route_and_method_bodies(servers: dict[str, Reference]) -> None:
    expected = {
        "reference": "The route api/nope could not be found.",
        "laravel-lenient": "",
        "strict-json": "Not Found",
    }
    for side in SIDES:
        ref = servers[side]
        missing = httpx.post(ref.base_url + "/nope", headers=ref.headers())
        assert (missing.status_code, missing.json()) == (404, {"message": expected[side]})
        wrong = httpx.get(ref.base_url + REPLY)
        assert wrong.status_code == 405
        assert wrong.headers["allow"] == "POST"
    lenient = httpx.get(servers["laravel-lenient"].base_url + REPLY).json()["message"]
    assert lenient == "The GET method is not supported for this route. Supported methods: POST."


def test_documented_answers_unchanged(servers: dict[str, Reference]) -> None:
    for side in SIDES:
        ref = servers[side]
        anonymous = httpx.post(ref.base_url + REPLY, json=reply())
        assert (anonymous.status_code, anonymous.json()) == (401, {"message": "Unauthenticated."})
        low = httpx.post(
            ref.base_url + REPLY, json=reply(assistant_id=301), headers=ref.headers("low_balance")
        )
        assert low.status_code == 402
        assert low.json()["error_code"] == "INSUFFICIENT_BALANCE"
        created = post(ref, ASSISTANT, assistant())
        assert created.status_code == 201
        assert created.json()["data"]["status"] == "inactive"
