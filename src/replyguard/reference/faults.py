"""Fault injection: realistic bugs a backend team could ship, each one observable through the
documented API and each leaving everything else correct.

A fault is a name, a one-line description and a :class:`~.behaviour.Behaviour` that differs
from the faithful one at one seam. Which contract rules should catch each fault is *not* said
here: the server does not know the judge (that mapping lives in ``replyguard.selftest``).
"""

from __future__ import annotations

import json
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .assistant_rules import DEFAULT_POLICY, FIELDS, replace_field
from .behaviour import FAITHFUL, Answer, Behaviour
from .store import DEFAULT_CONVERSATIONS
from .validation import DEFAULT_REPLY_RULES

__all__ = ["FAULTS", "Fault", "when"]

Edit = Callable[[Answer], None]


@dataclass(slots=True, frozen=True)
class Fault:
    """A named misbehaviour of the reference server."""

    name: str
    description: str
    behaviour: Behaviour


def when(operation: str | None, *outcomes: str) -> Callable[[Edit], Callable[[Answer], Answer]]:
    """Turn an in-place edit into a ``respond`` hook for one operation and some outcomes."""

    def wrap(edit: Edit) -> Callable[[Answer], Answer]:
        def respond(answer: Answer) -> Answer:
            if (operation is None or answer.operation == operation) and (
                not outcomes or answer.outcome in outcomes
            ):
                edit(answer)
            return answer

        respond.__doc__ = edit.__doc__
        return respond

    return wrap


def _retry_after(value: Callable[[int, int], Any]) -> Callable[[Answer], Answer]:
    """A 429 whose retry_after (body and header alike) is ``value(honest, window)``."""

    @when("generate_reply", "throttled")
    def edit(answer: Answer) -> None:
        shown = value(answer.body["retry_after"], answer.window)
        answer.body["retry_after"] = shown
        answer.headers["Retry-After"] = str(shown)

    return edit


def _fields(name: str, **changes: Any) -> Behaviour:
    """The faithful behaviour with one create-assistant field rule changed."""
    policy = replace(DEFAULT_POLICY, fields=replace_field(FIELDS, name, **changes))
    return replace(FAITHFUL, assistant_policy=policy)


def _all_fields(kind: str, **changes: Any) -> Behaviour:
    """The faithful behaviour with every field rule of one ``kind`` changed."""
    fields = tuple(replace(r, **changes) if r.kind == kind else r for r in FIELDS)
    return replace(FAITHFUL, assistant_policy=replace(DEFAULT_POLICY, fields=fields))


def _without_check(check: str) -> Behaviour:
    """The faithful behaviour with one cross-field create-assistant check switched off."""
    checks = DEFAULT_POLICY.checks - {check}
    return replace(FAITHFUL, assistant_policy=replace(DEFAULT_POLICY, checks=checks))


def _respond(edit: Callable[[Answer], Answer]) -> Behaviour:
    return replace(FAITHFUL, respond=edit)


def _change(**changes: Any) -> Behaviour:
    return replace(FAITHFUL, **changes)


# -- response edits -------------------------------------------------------------------------


@when("generate_reply", "throttled")
def _envelope_429(answer: Answer) -> None:
    answer.body = {"success": False, "error": "Too Many Attempts.", "error_code": "RATE_LIMITED"}


@when("generate_reply", "throttled")
def _status_503(answer: Answer) -> None:
    answer.status = 503


@when("generate_reply", "throttled")
def _no_retry_after(answer: Answer) -> None:
    del answer.body["retry_after"]


@when("generate_reply", "throttled")
def _header_is_reset_time(answer: Answer) -> None:
    assert answer.decision is not None
    answer.headers["Retry-After"] = str(answer.decision.reset_at)


@when("generate_reply", "served")
def _integer_conversation_id(answer: Answer) -> None:
    # An auto-increment key leaks out instead of the UUID (stable per conversation).
    answer.body["conversation_id"] = str(int(answer.body["conversation_id"][:8], 16))


@when("generate_reply", "served")
def _lowercased_identifier(answer: Answer) -> None:
    answer.body["customer_identifier"] = answer.body["customer_identifier"].lower()


@when("generate_reply", "served")
def _plus_stripped_identifier(answer: Answer) -> None:
    answer.body["customer_identifier"] = answer.body["customer_identifier"].lstrip("+")


@when("generate_reply", "served")
def _no_function_calls(answer: Answer) -> None:
    del answer.body["function_calls"]


@when("generate_reply", "served")
def _integer_ai_disabled(answer: Answer) -> None:
    answer.body["ai_disabled"] = 0  # a TINYINT column serialised as is


@when("generate_reply", "served")
def _no_success(answer: Answer) -> None:
    del answer.body["success"]


@when("generate_reply", "foreign")
def _foreign_403(answer: Answer) -> None:
    answer.status = 403
    answer.body = {"message": "This action is unauthorized."}


@when("generate_reply", "not_found", "foreign")
def _not_found_code(answer: Answer) -> None:
    answer.body["error_code"] = "NOT_FOUND"


@when("generate_reply", "not_found", "foreign", "no_balance")
def _envelope_without_success(answer: Answer) -> None:
    del answer.body["success"]


@when("generate_reply", "invalid")
def _validation_400(answer: Answer) -> None:
    answer.status = 400


@when(None, "unauthenticated")
def _redirect_to_login(answer: Answer) -> None:
    # Laravel's Authenticate middleware when the request is not recognised as an API call.
    answer.status = 302
    answer.headers["Location"] = "/login"
    answer.body = "Redirecting to /login"
    answer.media_type = "text/html"


@when(None)
def _text_plain(answer: Answer) -> None:
    answer.media_type = "text/plain"


@when("create_assistant", "created")
def _created_active(answer: Answer) -> None:
    answer.body["data"]["status"] = "active"


@when("create_assistant", "created")
def _created_200(answer: Answer) -> None:
    answer.status = 200


@when("create_assistant", "created")
def _created_unwrapped(answer: Answer) -> None:
    answer.body = {"message": answer.body["message"], **answer.body["data"]}


@when("create_assistant", "invalid")
def _flat_errors(answer: Answer) -> None:
    answer.body["errors"] = [m for ms in answer.body["errors"].values() for m in ms]


@when("create_assistant", "invalid")
def _first_error_only(answer: Answer) -> None:
    first = next(iter(answer.body["errors"].items()))
    answer.body["errors"] = dict([first])


def _naive_json(body: bytes, content_type: str | None) -> dict[str, Any]:
    """``json_decode`` without error handling: broken JSON raises (a 500)."""
    value: dict[str, Any] = json.loads(body) if body else {}
    value.get("")  # a JSON array or string has no .get: AttributeError, a 500 as well
    return value


def _replace_variables(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return dict(new) if new else dict(old)


def _first_wins(old: dict[str, Any], new: dict[str, Any]) -> dict[str, Any]:
    return {**new, **old}  # PHP's `$old + $new`: keys already set are never updated


# -- rate-limit families a gateway runs (issue 18) -------------------------------------------

#: nginx's stock page for a 503 (``ngx_http_special_response.c``), as ``limit_req`` answers it.
_NGINX_503_PAGE = (
    "<html>\r\n<head><title>503 Service Temporarily Unavailable</title></head>\r\n"
    "<body>\r\n<center><h1>503 Service Temporarily Unavailable</h1></center>\r\n"
    "<hr><center>nginx</center>\r\n</body>\r\n</html>\r\n"
)


@when("generate_reply", "throttled")
def _gateway_503_html(answer: Answer) -> None:
    # The gateway answers before the application: none of its headers, no JSON, no retry_after.
    answer.status = 503
    answer.body = _NGINX_503_PAGE
    answer.headers = {}
    answer.media_type = "text/html"


_GATEWAY = [
    (
        "ratelimit.token-bucket",
        "a gateway's token bucket: a burst of `limit`, then one slot back every window/limit "
        "(12 s at 5 a minute), with the documented 429 and a constant retry_after of the window",
        _change(limiter="token-bucket", respond=_retry_after(lambda honest, window: window)),
    ),
    (
        "ratelimit.gcra",
        "GCRA as redis-cell runs it: a burst of `limit`, then one slot every window/limit, "
        "retry_after the honest wait for the next slot",
        _change(limiter="gcra"),
    ),
    (
        "ratelimit.gateway-503-html",
        "over the limit a gateway answers 503 with its HTML page (nginx limit_req's default), "
        "no retry_after",
        _respond(_gateway_503_html),
    ),
]


# -- the last misses (issue 19): an empty reply, 4-byte UTF-8, an auth check that crashes ----


@when("generate_reply", "served")
def _empty_reply(answer: Answer) -> None:
    # The model call timed out and the controller answered with what it had.
    answer.body["reply"] = ""


def _outside_bmp(value: Any) -> bool:
    return isinstance(value, str) and any(ord(char) > 0xFFFF for char in value)


@when("generate_reply", "served")
def _emoji_message_500(answer: Answer) -> None:
    # The messages table is MySQL utf8 (3-byte): an emoji fails the insert, Laravel's handler
    # answers its JSON 500.
    if _outside_bmp(answer.request.get("message")):
        answer.status = 500
        answer.body = {"message": "Server Error"}


@when(None, "unauthenticated")
def _unauthenticated_500(answer: Answer) -> None:
    # The auth guard dereferences the missing user: Laravel's JSON 500, not the 401.
    answer.status = 500
    answer.body = {"message": "Server Error"}


_MISSES = [
    (
        "reply.empty-reply",
        'a 200 with reply "" while ai_disabled is false',
        _respond(_empty_reply),
    ),
    (
        "reply.emoji-message-500",
        "an emoji in message is a 500 (utf8mb3 column)",
        _respond(_emoji_message_500),
    ),
    (
        "auth.unauthenticated-500",
        'no or a wrong token is answered 500 {"message": "Server Error"}, not 401',
        _respond(_unauthenticated_500),
    ),
]

# -- the registry ---------------------------------------------------------------------------

_RATELIMIT = [
    (
        "ratelimit.none",
        "the throttle middleware is missing: no limit at all",
        _change(limiter="unlimited"),
    ),
    (
        "ratelimit.limit-plus-one",
        "one request too many per window (`>` where `>=` belongs)",
        _change(limit_delta=1),
    ),
    ("ratelimit.limit-minus-one", "one request too few per window", _change(limit_delta=-1)),
    (
        "ratelimit.shared-per-account",
        "the bucket is keyed by account, so all its tokens share it",
        _change(throttle_scope="account"),
    ),
    (
        "ratelimit.global",
        "one bucket for every token of every account",
        _change(throttle_scope="global"),
    ),
    (
        "ratelimit.never-resets",
        "the counter has no expiry: once full, the window never resets",
        _change(limiter="never-reset"),
    ),
    (
        "ratelimit.retry-after-too-short",
        "retry_after says 1 while the bucket resets later",
        _respond(_retry_after(lambda honest, window: 1)),
    ),
    (
        "ratelimit.retry-after-too-long",
        "retry_after in the wrong unit: 60 times the real wait",
        _respond(_retry_after(lambda honest, window: honest * 60)),
    ),
    ("ratelimit.retry-after-missing", "the 429 body has no retry_after", _respond(_no_retry_after)),
    (
        "ratelimit.retry-after-string",
        'retry_after is a string ("2" instead of 2)',
        _respond(_retry_after(lambda honest, window: str(honest))),
    ),
    (
        "ratelimit.retry-after-float",
        "retry_after is not rounded to whole seconds (1.5)",
        _respond(_retry_after(lambda honest, window: honest - 0.5)),
    ),
    (
        "ratelimit.retry-after-zero",
        "retry_after is 0 (the remaining hits, not the wait)",
        _respond(_retry_after(lambda honest, window: 0)),
    ),
    (
        "ratelimit.body-envelope",
        "the 429 body is the success/error/error_code envelope",
        _respond(_envelope_429),
    ),
    (
        "ratelimit.status-503",
        "over the limit is answered 503 (a proxy's limit_req default)",
        _respond(_status_503),
    ),
    (
        "ratelimit.header-disagrees",
        "the Retry-After header carries the reset timestamp",
        _respond(_header_is_reset_time),
    ),
    (
        "ratelimit.validation-not-counted",
        "the throttle runs after validation: 422s are free",
        _change(throttle_first=False),
    ),
]

_REPLY = [
    (
        "reply.new-conversation-every-call",
        "every call starts a new conversation",
        _change(conversations=replace(DEFAULT_CONVERSATIONS, resume=False)),
    ),
    (
        "reply.conversation-not-per-assistant",
        "conversations keyed by the identifier alone",
        _change(conversations=replace(DEFAULT_CONVERSATIONS, keyed_by_assistant=False)),
    ),
    (
        "reply.conversation-id-not-uuid",
        "conversation_id is the numeric database key",
        _respond(_integer_conversation_id),
    ),
    (
        "reply.identifier-lowercased",
        "customer_identifier echoed lowercased",
        _respond(_lowercased_identifier),
    ),
    (
        "reply.identifier-plus-stripped",
        "customer_identifier echoed without its leading '+'",
        _respond(_plus_stripped_identifier),
    ),
    (
        "reply.function-calls-missing",
        "the 200 body has no function_calls",
        _respond(_no_function_calls),
    ),
    (
        "reply.ai-disabled-integer",
        "ai_disabled is 0 instead of false",
        _respond(_integer_ai_disabled),
    ),
    ("reply.success-missing", "the 200 body has no success", _respond(_no_success)),
    (
        "reply.identifier-max-254",
        "customer_identifier limited to 254 characters",
        _change(reply_rules=replace(DEFAULT_REPLY_RULES, identifier_max=254)),
    ),
    (
        "reply.identifier-max-256",
        "customer_identifier of 256 characters accepted",
        _change(reply_rules=replace(DEFAULT_REPLY_RULES, identifier_max=256)),
    ),
    (
        "reply.foreign-assistant-served",
        "no ownership check: another account's assistant answers",
        _change(check_ownership=False),
    ),
    (
        "reply.foreign-assistant-403",
        "another account's assistant is answered 403, not 404",
        _respond(_foreign_403),
    ),
    (
        "reply.not-found-error-code",
        "error_code NOT_FOUND instead of ASSISTANT_NOT_FOUND",
        _respond(_not_found_code),
    ),
    (
        "reply.error-envelope-without-success",
        "404/402 bodies lack success: false",
        _respond(_envelope_without_success),
    ),
    (
        "reply.emoji-identifier-500",
        "an emoji in customer_identifier is a 500 (utf8mb3 column)",
        _change(conversations=replace(DEFAULT_CONVERSATIONS, bmp_only=True)),
    ),
    (
        "reply.variables-replaced",
        "sent variables replace the conversation's instead of merging",
        _change(conversations=replace(DEFAULT_CONVERSATIONS, merge=_replace_variables)),
    ),
    (
        "reply.variables-first-wins",
        "merge keeps old values: a key sent again is not updated",
        _change(conversations=replace(DEFAULT_CONVERSATIONS, merge=_first_wins)),
    ),
    (
        "reply.balance-unchecked",
        "no 402: an account without balance is served",
        _change(check_balance=False),
    ),
    (
        "reply.validation-400",
        "invalid generate-reply input answered 400, not 422",
        _respond(_validation_400),
    ),
    (
        "auth.redirect-to-login",
        "no or a wrong token is redirected (302) to /login, not 401",
        _respond(_redirect_to_login),
    ),
    (
        "contract.malformed-json-500",
        "a body that is not a JSON object is a 500",
        _change(parse_input=_naive_json),
    ),
    ("contract.text-plain", "JSON bodies sent as text/plain", _respond(_text_plain)),
]

_ASSISTANT = [
    (
        "assistant.max-duration-1201",
        "max_duration accepts 1201 (integer bound off by one)",
        _fields("max_duration", maximum=1201),
    ),
    (
        "assistant.ringing-time-accepts-0",
        "ringing_time accepts 0 (integer bound off by one)",
        _fields("ringing_time", minimum=0),
    ),
    (
        "assistant.speech-speed-exclusive-max",
        "speech_speed rejects 1.2 (`<` instead of `<=`)",
        _fields("speech_speed", exclusive_max=True),
    ),
    (
        "assistant.turn-detection-unchecked",
        "turn_detection_threshold range not checked",
        _fields("turn_detection_threshold", minimum=None, maximum=None),
    ),
    (
        "assistant.voice-stability-percent",
        "voice_stability checked as 0-100 (a percentage)",
        _fields("voice_stability", maximum=100),
    ),
    (
        "assistant.endpoint-sensitivity-max-1",
        "endpoint_sensitivity capped at 1, not 5",
        _fields("endpoint_sensitivity", maximum=1),
    ),
    (
        "assistant.ambient-sound-any",
        "ambient_sound accepts any string",
        _fields("ambient_sound", choices=None),
    ),
    (
        "assistant.endpoint-type-any",
        "endpoint_type accepts any string",
        _fields("endpoint_type", choices=None),
    ),
    (
        "assistant.pipeline-without-llm",
        "pipeline mode accepted without llm_model_id",
        _without_check("pipeline-requires-llm"),
    ),
    (
        "assistant.multimodal-without-model",
        "multimodal accepted without multimodal_model_id",
        _without_check("multimodal-requires-multimodal-model"),
    ),
    (
        "assistant.dualplex-without-model",
        "dualplex accepted without multimodal_model_id",
        _without_check("dualplex-requires-multimodal-model"),
    ),
    (
        "assistant.realtime-knowledgebase-prompt",
        "knowledgebase_mode prompt accepted in realtime",
        _without_check("knowledgebase-prompt-pipeline-only"),
    ),
    (
        "assistant.realtime-fillers",
        "fillers: true accepted in multimodal/dualplex",
        _without_check("fillers-pipeline-only"),
    ),
    (
        "assistant.realtime-interruptions-off",
        "allow_interruptions false accepted in realtime",
        _without_check("interruptions-required-realtime"),
    ),
    (
        "assistant.realtime-transcriber",
        "transcriber_provider_id accepted in multimodal/dualplex",
        _without_check("transcriber-pipeline-only"),
    ),
    (
        "assistant.voice-any-mode",
        "a voice incompatible with the engine mode accepted",
        _without_check("voice-mode-compatible"),
    ),
    (
        "assistant.webhook-url-optional",
        "is_webhook_active true accepted without webhook_url",
        _without_check("webhook-url-required"),
    ),
    (
        "assistant.inbound-caller-id",
        "an inbound assistant may take a Caller ID number",
        _without_check("inbound-not-caller-id"),
    ),
    (
        "assistant.inbound-number-reassigned",
        "an inbound number already in use is reassigned",
        _without_check("inbound-not-assigned"),
    ),
    (
        "assistant.tool-ownership-unchecked",
        "another account's tool ids accepted",
        _without_check("tool-ownership"),
    ),
    ("assistant.timezone-any", "timezone accepts any string", _fields("timezone", fmt=None)),
    (
        "assistant.system-prompt-optional",
        "system_prompt not required",
        _fields("system_prompt", required=False),
    ),
    (
        "assistant.initial-message-201",
        "initial_message of 201 characters accepted",
        _fields("initial_message", max_length=201),
    ),
    (
        "assistant.number-type-500",
        'no numeric type check: "0.5" for a number is a 500',
        _all_fields("number", coerce="none"),
    ),
    (
        "assistant.created-active",
        "a new assistant reports status active",
        _respond(_created_active),
    ),
    (
        "assistant.created-200",
        "create-assistant answers 200 instead of 201",
        _respond(_created_200),
    ),
    (
        "assistant.created-unwrapped",
        "the 201 body has the assistant at top level, no data",
        _respond(_created_unwrapped),
    ),
    (
        "assistant.errors-flat-list",
        "422 errors are a flat list of messages, not keyed by field",
        _respond(_flat_errors),
    ),
    (
        "assistant.errors-first-only",
        "422 names only the first failing field",
        _respond(_first_error_only),
    ),
]

#: Every fault by name, in a stable order (rate limit, gateway limiters, generate-reply,
#: create-assistant).
FAULTS: dict[str, Fault] = {
    name: Fault(name, description, behaviour)
    for name, description, behaviour in (*_RATELIMIT, *_GATEWAY, *_REPLY, *_ASSISTANT, *_MISSES)
}
