"""The reference server's routes (base ``/api``).

Generate-reply (``POST /api/user/ai/generate-reply`` and ``POST /api/ai/generate-reply``) answers
200 with a deterministic reply whose text makes the variable merge observable::

    Reply #<n> to: <message>
    Variables: <json.dumps(merged_variables, sort_keys=True, ensure_ascii=False)>

``n`` counts the replies in the conversation (1 for a new one) and the ``Variables:`` line is
always the last line. Create-assistant is ``POST /api/user/assistant``.

Order of checks, as with Laravel's middleware stack: route (404/405), auth (401), body size
(413), throttle (429, generate-reply only), validation (422), ownership (404), balance (402).
"""

from __future__ import annotations

import json
import sqlite3
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from dataclasses import dataclass, field
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response
from starlette.routing import Route

from .assistant_rules import validate_assistant
from .behaviour import Answer, Behaviour
from .commits import GroupCommit
from .config import ServerConfig
from .fastjson import dumps
from .payload import PayloadTooLarge, read_body
from .ratelimit import RateLimiter, make_limiter
from .registry import behaviour_for
from .store import Catalogue, Principal, Store, open_database
from .validation import Errors, validate_reply

__all__ = ["create_app", "reply_text"]

UNAUTHENTICATED = {"message": "Unauthenticated."}
TOO_LARGE = {"message": "Payload too large."}
NOT_FOUND = {
    "success": False,
    "error": "Assistant not found or does not belong to you",
    "error_code": "ASSISTANT_NOT_FOUND",
}
NO_BALANCE = {
    "success": False,
    "error": "Insufficient balance. Please top up your account.",
    "error_code": "INSUFFICIENT_BALANCE",
}


def route_error_message(style: str, status: int, method: str, path: str, detail: str) -> str:
    """The ``message`` of an unknown-route (404) or wrong-method (405) answer."""
    path = path.lstrip("/")
    if style == "plain":
        return detail  # Starlette's reason phrase: "Not Found", "Method Not Allowed"
    if status == 404:
        # Laravel 8 renders a NotFoundHttpException without a message; 9+ names the route.
        return "" if style == "laravel8" else f"The route {path} could not be found."
    if status == 405:
        where = "this route" if style == "laravel8" else f"route {path}"
        return f"The {method} method is not supported for {where}. Supported methods: POST."
    return detail


def reply_text(number: int, variables: dict[str, Any], message: str) -> str:
    """The deterministic reply: a numbered echo, then the merged variables on the last line."""
    shown = json.dumps(variables, sort_keys=True, ensure_ascii=False)
    return f"Reply #{number} to: {message}\nVariables: {shown}"


@dataclass(slots=True)
class State:
    """Per-process application state."""

    config: ServerConfig
    store: Store
    limiter: RateLimiter
    behaviour: Behaviour
    commits: GroupCommit
    principals: dict[str, Principal] = field(default_factory=dict)
    catalogue: Catalogue = field(default_factory=Catalogue)


def _principal(state: State, request: Request) -> Principal | None:
    header = request.headers.get("authorization", "")
    scheme, _, token = header.partition(" ")
    if scheme.lower() != "bearer":
        return None
    return state.principals.get(token.strip())


async def _input(state: State, request: Request) -> dict[str, Any]:
    body = await read_body(request, state.config.max_body_bytes)
    return state.behaviour.parse_input(body, request.headers.get("content-type"))


def _throttle_key(principal: Principal, scope: str) -> str:
    # "5 requests per minute per API token"; the other scopes exist for fault injection.
    if scope == "account":
        return f"generate-reply:account:{principal.account_id}"
    if scope == "global":
        return "generate-reply:all"
    return "generate-reply:" + principal.token


def _send(state: State, answer: Answer) -> Response:
    """Post-process (the behaviour's last word) and render one answer."""
    answer = state.behaviour.respond(answer)
    content = answer.body if isinstance(answer.body, str) else dumps(answer.body)
    return Response(
        content, status_code=answer.status, headers=answer.headers, media_type=answer.media_type
    )


def create_app(config: ServerConfig) -> Starlette:
    """Build the ASGI app for ``config``; opens (and if needed seeds) the database at startup."""
    behaviour = behaviour_for(config.fault, config.variant)
    store = Store(config.db_path)
    state = State(
        config=config,
        store=store,
        commits=GroupCommit(store),
        limiter=make_limiter(
            behaviour.limiter or config.rate_limiter,
            config.limit + behaviour.limit_delta,
            config.window,
        ),
        behaviour=behaviour,
    )

    async def generate_reply(request: Request) -> Response:
        principal = _principal(state, request)
        if principal is None:
            return _send(
                state,
                Answer(
                    "generate_reply",
                    "unauthenticated",
                    401,
                    dict(UNAUTHENTICATED),
                    window=config.window,
                ),
            )
        data = await _input(state, request)
        answer = await _generate_reply(state, principal, data)
        return _send(state, answer)

    async def create_assistant(request: Request) -> Response:
        principal = _principal(state, request)
        if principal is None:
            return _send(
                state,
                Answer(
                    "create_assistant",
                    "unauthenticated",
                    401,
                    dict(UNAUTHENTICATED),
                    window=config.window,
                ),
            )
        data = await _input(state, request)

        def store_assistant(conn: sqlite3.Connection) -> tuple[int | None, Errors, Any]:
            def phone_taken(phone_id: int) -> bool:
                return state.store.phone_inbound_assistant(conn, phone_id) is not None

            valid, errors = validate_assistant(
                data,
                state.catalogue,
                principal.account_id,
                phone_taken,
                state.behaviour.assistant_policy,
                state.behaviour.dialect,
            )
            if valid is None:
                return None, errors, None
            return state.store.insert_assistant(conn, principal.account_id, valid), errors, valid

        new_id, errors, valid = await state.commits.run(store_assistant)
        if new_id is None:
            # The document's 422 example: {"message": "Validation failed", "errors": {...}}
            return _send(
                state,
                Answer(
                    "create_assistant",
                    "invalid",
                    422,
                    errors.body("Validation failed"),
                    window=config.window,
                    request=data,
                ),
            )
        data_out = {
            "id": new_id,
            "name": valid["name"],
            # "The assistant is created with inactive status"
            "status": "inactive",
            "type": valid["type"],
            "mode": valid["mode"],
        }
        body = {"message": "Assistant created successfully", "data": data_out}
        return _send(
            state,
            Answer("create_assistant", "created", 201, body, window=config.window, request=data),
        )

    async def http_error(request: Request, exc: Exception) -> Response:
        assert isinstance(exc, HTTPException)
        message = route_error_message(
            behaviour.dialect.route_errors,
            exc.status_code,
            request.method,
            request.url.path,
            exc.detail,
        )
        return JSONResponse({"message": message}, exc.status_code, headers=exc.headers)

    async def too_large(request: Request, exc: Exception) -> Response:
        return JSONResponse(TOO_LARGE, status_code=413, headers={"Connection": "close"})

    async def server_error(request: Request, exc: Exception) -> Response:
        return JSONResponse({"message": "Server Error"}, status_code=500)

    @asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        open_database(config.db_path).close()
        state.principals = state.store.principals()
        state.catalogue = state.store.catalogue()
        try:
            yield
        finally:
            state.store.close()

    # Intellixent's "/user/ai/generate-reply" and Autocalls / Famulor's "/ai/generate-reply".
    routes = [
        Route(path, generate_reply, methods=["POST"]) for path in behaviour.generate_reply_paths
    ]
    routes.append(Route("/api/user/assistant", create_assistant, methods=["POST"]))
    app = Starlette(
        routes=routes,
        lifespan=lifespan,
        exception_handlers={
            HTTPException: http_error,
            PayloadTooLarge: too_large,
            Exception: server_error,
        },
    )
    app.state.reference = state
    return app


async def _generate_reply(state: State, principal: Principal, data: dict[str, Any]) -> Answer:
    """Throttle, validate, check ownership and balance, then reply (Laravel's order)."""
    behaviour = state.behaviour
    window = state.config.window
    parsed, errors = validate_reply(data, behaviour.reply_rules, behaviour.dialect)
    if not behaviour.throttle_first and parsed is None:
        return Answer("generate_reply", "invalid", 422, errors.body(), window=window, request=data)
    key = _throttle_key(principal, behaviour.throttle_scope)

    def in_transaction(conn: sqlite3.Connection) -> Answer:
        # Throttle before validation: with Laravel's throttle middleware a request that then
        # fails validation (or ownership, or balance) has still been counted.
        decision = state.limiter.hit(conn, key, time.time())

        def answer(outcome: str, status: int, body: dict[str, Any]) -> Answer:
            return Answer(
                "generate_reply", outcome, status, body, decision.headers(), decision, window, data
            )

        if not decision.allowed:
            return answer(
                "throttled",
                429,
                {"message": "Too Many Attempts.", "retry_after": decision.retry_after},
            )
        if parsed is None:
            return answer("invalid", 422, errors.body())
        owner = state.store.assistant_owner(conn, parsed.assistant_id)
        if owner is None:
            return answer("not_found", 404, dict(NOT_FOUND))
        if owner != principal.account_id and behaviour.check_ownership:
            # "Assistant not found or does not belong to you": one answer for both cases.
            return answer("foreign", 404, dict(NOT_FOUND))
        if principal.balance_cents <= 0 and behaviour.check_balance:
            return answer("no_balance", 402, dict(NO_BALANCE))
        record, reply = state.store.record_reply(
            conn,
            parsed.assistant_id,
            parsed.customer_identifier,
            parsed.message,
            parsed.variables,
            reply_text,
            behaviour.conversations,
        )
        body = {
            "success": True,
            "conversation_id": record.conversation_id,
            # "The customer identifier provided in the request": echoed exactly as sent.
            "customer_identifier": parsed.customer_identifier,
            "reply": reply,
            "function_calls": [],
            "ai_disabled": False,
        }
        return answer("served", 200, body)

    return await state.commits.run(in_transaction)
