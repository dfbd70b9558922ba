"""Typed results of the two operations, parsed from successful answers."""

from __future__ import annotations

from collections.abc import Iterable
from dataclasses import dataclass, field
from typing import Any

import httpx

from ._errors import UnexpectedResponse, decode_body, error_from_response


@dataclass(slots=True, frozen=True)
class Reply:
    """A 200 answer of generate-reply."""

    success: bool
    conversation_id: str
    customer_identifier: str
    reply: str
    function_calls: tuple[Any, ...]
    ai_disabled: bool
    raw: dict[str, Any] = field(repr=False, compare=False)
    response_headers: httpx.Headers = field(repr=False, compare=False)
    status_code: int = 200

    @property
    def rate_limit_remaining(self) -> int | None:
        """Laravel's ``X-RateLimit-Remaining`` header, when the server sent it."""
        return _int_header(self.response_headers, "x-ratelimit-remaining")

    @property
    def rate_limit_limit(self) -> int | None:
        """Laravel's ``X-RateLimit-Limit`` header (the documents say 5 per minute)."""
        return _int_header(self.response_headers, "x-ratelimit-limit")


@dataclass(slots=True, frozen=True)
class CreatedAssistant:
    """A 201 answer of create-assistant: ``{"message": ..., "data": {id, name, ...}}``."""

    id: int
    name: str | None
    status: str | None
    type: str | None
    mode: str | None
    message: str | None
    raw: dict[str, Any] = field(repr=False, compare=False)


def parse_reply(response: httpx.Response, *, secrets: Iterable[str] = ()) -> Reply:
    """The Reply in a 2xx answer; raises UnexpectedResponse when the body does not fit."""
    body = _json_object(response, secrets)
    conversation_id = body.get("conversation_id")
    reply = body.get("reply")
    function_calls = body.get("function_calls", [])
    if (
        body.get("success") is not True
        or not isinstance(conversation_id, str)
        or not isinstance(reply, str)
        or not isinstance(function_calls, list)
    ):
        raise _unexpected(response, secrets)
    customer_identifier = body.get("customer_identifier")
    return Reply(
        success=True,
        conversation_id=conversation_id,
        customer_identifier=customer_identifier if isinstance(customer_identifier, str) else "",
        reply=reply,
        function_calls=tuple(function_calls),
        ai_disabled=body.get("ai_disabled") is True,
        raw=body,
        response_headers=response.headers,
        status_code=response.status_code,
    )


def parse_created_assistant(
    response: httpx.Response, *, secrets: Iterable[str] = ()
) -> CreatedAssistant:
    """The CreatedAssistant in a 2xx answer; raises UnexpectedResponse when it does not fit."""
    body = _json_object(response, secrets)
    data = body.get("data")
    if not isinstance(data, dict):
        raise _unexpected(response, secrets)
    assistant_id = data.get("id")
    if not isinstance(assistant_id, int) or isinstance(assistant_id, bool):
        raise _unexpected(response, secrets)
    return CreatedAssistant(
        id=assistant_id,
        name=_opt_str(data.get("name")),
        status=_opt_str(data.get("status")),
        type=_opt_str(data.get("type")),
        mode=_opt_str(data.get("mode")),
        message=_opt_str(body.get("message")),
        raw=body,
    )


def _json_object(response: httpx.Response, secrets: Iterable[str]) -> dict[str, Any]:
    body, is_json = decode_body(response)
    if not is_json or not isinstance(body, dict):
        raise _unexpected(response, secrets)
    return body


def _unexpected(response: httpx.Response, secrets: Iterable[str]) -> UnexpectedResponse:
    error = error_from_response(response, cls=UnexpectedResponse, secrets=secrets)
    assert isinstance(error, UnexpectedResponse)
    return error


def _opt_str(value: object) -> str | None:
    return value if isinstance(value, str) else None


def _int_header(headers: httpx.Headers, name: str) -> int | None:
    value = headers.get(name)
    try:
        return int(value) if value is not None else None
    except ValueError:
        return None
