"""Generate-reply: the 200 body, the identifier echo, persistence, errors and auth.

Against a paid target every call here is counted: the conversation fixtures make four replies
that several rules are judged on, instead of four calls per rule.
"""

from __future__ import annotations

import json
import uuid
from dataclasses import dataclass

import pytest

from replyguard.profile import Target
from replyguard.testing import (
    COMBINING,
    EMOJI,
    RTL,
    ApiSession,
    Exchange,
    ObservationLog,
    Violation,
    expect,
    expect_error_code,
    expect_status,
    expect_validation_error,
)

rule = pytest.mark.rule
DOCUMENTED_FIELDS = {
    "success": bool,
    "conversation_id": str,
    "customer_identifier": str,
    "reply": str,
    "function_calls": list,
    "ai_disabled": bool,
}


@dataclass(slots=True)
class Conversation:
    """The replies the persistence rules are judged on."""

    identifier: str
    first: Exchange
    second: Exchange | None = None
    other_identifier: Exchange | None = None
    other_assistant: Exchange | None = None


def _body(exchange: Exchange) -> dict:
    body = exchange.json()
    return body if isinstance(body, dict) else {}


def _served(rule_id: str, exchange: Exchange) -> dict:
    # A 5xx to a valid call breaks no rule of the test that sent it: it is a server error.
    expect(
        "contract.no-server-error",
        exchange.status < 500,
        "no 5xx to a documented-valid generate-reply call",
        exchange.summary(limit=200),
        exchange,
    )
    expect_status(rule_id, exchange, 200)
    body = _body(exchange)
    if not isinstance(body.get("conversation_id"), str):
        # Persistence rests on the documented reply body; without it nothing is proven here.
        pytest.skip(
            f"inconclusive: the 200 answer has no conversation_id (see reply.body): "
            f"{exchange.summary(limit=80)}"
        )
    return body


@pytest.fixture(scope="session")
def run_id() -> str:
    """Fresh per run, so identifiers never resume a conversation of an earlier run."""
    return uuid.uuid4().hex[:10]


@pytest.fixture(scope="session")
def conversation(api: ApiSession, target: Target, run_id: str) -> Conversation:
    identifier = f"+1415555{run_id}"
    first = api.generate_reply(
        {
            "assistant_id": target.assistants.own,
            "customer_identifier": identifier,
            # Each valid call carries other text beyond ASCII (suite.unicode_mix), so a paid
            # run sends every kind in both fields without a billed call of its own.
            "message": f"Hi, I would like to schedule an appointment at the {COMBINING}",
            "variables": {"customer_name": "John Smith", "source": "whatsapp"},
        }
    )
    return Conversation(identifier, first)


@pytest.fixture(scope="session")
def second(api: ApiSession, target: Target, conversation: Conversation) -> Exchange:
    if conversation.second is None:
        conversation.second = api.generate_reply(
            {
                "assistant_id": target.assistants.own,
                "customer_identifier": conversation.identifier,
                "message": f"Tomorrow at ten, please {EMOJI}",
                "variables": {"source": "sms", "plan": "premium"},
            }
        )
    return conversation.second


@pytest.fixture(scope="session")
def unicode_identifier(run_id: str) -> str:
    return f"Ünïcode.CASE+{run_id}@Exämple.com 😀 {RTL} {COMBINING}"


@pytest.fixture(scope="session")
def other_identifier(
    api: ApiSession, target: Target, conversation: Conversation, unicode_identifier: str
) -> Exchange:
    if conversation.other_identifier is None:
        conversation.other_identifier = api.generate_reply(
            {
                "assistant_id": target.assistants.own,
                "customer_identifier": unicode_identifier,
                "message": f"Hello {RTL}",
            }
        )
    return conversation.other_identifier


@rule("reply.response.shape")
def test_reply_body_is_as_documented(conversation: Conversation) -> None:
    body = _served("reply.response.shape", conversation.first)
    for name, kind in DOCUMENTED_FIELDS.items():
        expect(
            "reply.response.shape",
            isinstance(body.get(name), kind),
            f"'{name}' as {kind.__name__}",
            f"'{name}' = {body.get(name)!r}",
            conversation.first,
        )
    expect(
        "reply.response.shape",
        body["success"] is True,
        "success true",
        f"success {body['success']!r}",
        conversation.first,
    )


@pytest.mark.phase(5)
@rule("reply.text.non-empty")
def test_reply_is_not_empty_while_ai_is_enabled(
    api: ApiSession, observations: ObservationLog, conversation: Conversation
) -> None:
    # Last of the run (phase 5), so it reads every 200 the other tests got: no call of its own
    # (the conversation fixture is there when this test runs alone).
    judged = 0
    for exchange in [conversation.first, *(e for e in api.replies if e is not conversation.first)]:
        body = _body(exchange)
        reply, disabled = body.get("reply"), body.get("ai_disabled")
        if exchange.status != 200 or not isinstance(reply, str) or not isinstance(disabled, bool):
            continue  # reply.response.shape judges a 200 without them
        if disabled:
            if not reply.strip():
                # "e.g., due to manual takeover": no AI response is expected then.
                observations.record(
                    "reply.text.non-empty",
                    "a 200 with ai_disabled true",
                    exchange,
                    answer=f"reply {reply!r}",
                    decision="not judged: AI responses are disabled for this conversation",
                    agrees=True,
                )
            continue
        judged += 1
        expect(
            "reply.text.non-empty",
            bool(reply.strip()),
            "a non-empty reply while ai_disabled is false (the AI-generated response)",
            f"reply {reply!r} with ai_disabled false",
            exchange,
        )
    if not judged:
        pytest.skip("inconclusive: no 200 of generate-reply with ai_disabled false in this run")


@rule("reply.conversation-id.uuid")
def test_conversation_id_is_a_uuid(conversation: Conversation) -> None:
    value = _served("reply.conversation-id.uuid", conversation.first).get("conversation_id")
    try:
        uuid.UUID(str(value))
        ok = isinstance(value, str) and len(value) == 36
    except ValueError:
        ok = False
    expect("reply.conversation-id.uuid", ok, "a UUID string", f"{value!r}", conversation.first)


@rule("reply.customer-identifier.echo")
def test_identifier_echoed_exactly(
    conversation: Conversation, other_identifier: Exchange, unicode_identifier: str
) -> None:
    for exchange, sent in (
        (conversation.first, conversation.identifier),
        (other_identifier, unicode_identifier),
    ):
        echoed = _served("reply.customer-identifier.echo", exchange).get("customer_identifier")
        expect(
            "reply.customer-identifier.echo",
            echoed == sent,
            f"customer_identifier {sent!r} exactly as sent",
            f"{echoed!r}",
            exchange,
        )


@rule("reply.persistence.same-identifier")
def test_same_identifier_same_conversation(conversation: Conversation, second: Exchange) -> None:
    first_id = _served("reply.persistence.same-identifier", conversation.first).get(
        "conversation_id"
    )
    second_id = _served("reply.persistence.same-identifier", second).get("conversation_id")
    expect(
        "reply.persistence.same-identifier",
        first_id == second_id,
        f"the same conversation_id {first_id!r} for the same identifier",
        f"{second_id!r}",
        second,
    )


@rule("reply.persistence.new-identifier")
def test_new_identifier_new_conversation(
    conversation: Conversation, other_identifier: Exchange
) -> None:
    first_id = _served("reply.persistence.new-identifier", conversation.first).get(
        "conversation_id"
    )
    other_id = _served("reply.persistence.new-identifier", other_identifier).get("conversation_id")
    expect(
        "reply.persistence.new-identifier",
        other_id != first_id,
        f"a conversation_id other than {first_id!r} for a new identifier",
        f"{other_id!r}",
        other_identifier,
    )


@rule("reply.persistence.per-assistant")
def test_same_identifier_other_assistant_other_conversation(
    api: ApiSession, target: Target, conversation: Conversation
) -> None:
    if target.assistants.own_second is None:
        pytest.skip("the profile has no assistants.own_second")
    first_id = _served("reply.persistence.per-assistant", conversation.first).get("conversation_id")
    exchange = api.generate_reply(
        {
            "assistant_id": target.assistants.own_second,
            "customer_identifier": conversation.identifier,
            "message": f"Hello {EMOJI} {RTL}",
        }
    )
    other_id = _served("reply.persistence.per-assistant", exchange).get("conversation_id")
    expect(
        "reply.persistence.per-assistant",
        other_id != first_id,
        f"a conversation other than {first_id!r} for another assistant",
        f"{other_id!r}",
        exchange,
    )


@rule("reply.variables.merge")
def test_variables_are_merged(target: Target, second: Exchange) -> None:
    # The documents never return variables; only a target whose replies show them (the
    # reference server's "Variables: {...}" line) makes the merge observable.
    if not target.capabilities.reply_shows_variables:
        pytest.skip(
            "the target's replies do not show conversation variables "
            "(capabilities.reply_shows_variables)"
        )
    reply = _served("reply.variables.merge", second).get("reply", "")
    shown = _variables_line(reply)
    merged = {"customer_name": "John Smith", "source": "sms", "plan": "premium"}
    expect(
        "reply.variables.merge",
        shown == merged,
        f"merged variables {json.dumps(merged, sort_keys=True)}",
        f"{shown!r}",
        second,
    )


def _variables_line(reply: str) -> object:
    for line in reversed(reply.splitlines()):
        if line.startswith("Variables: "):
            try:
                return json.loads(line.removeprefix("Variables: "))
            except ValueError:
                return line
    return None


@rule("reply.customer-identifier.max-length")
def test_identifier_of_255_accepted_256_rejected(
    api: ApiSession, target: Target, run_id: str
) -> None:
    base = f"max-{run_id}-"
    longest = base + "x" * (255 - len(base))
    accepted = api.generate_reply(
        {"assistant_id": target.assistants.own, "customer_identifier": longest, "message": "Hello"}
    )
    expect_status("reply.customer-identifier.max-length", accepted, 200)
    rejected = api.generate_reply(
        {
            "assistant_id": target.assistants.own,
            "customer_identifier": longest + "x",
            "message": "Hello",
        }
    )
    expect_validation_error(
        "reply.customer-identifier.max-length",
        rejected,
        ["customer_identifier"],
        shape_rule="reply.validation.error-shape",
    )


@rule("reply.required-fields", "reply.validation.error-shape")
def test_missing_fields_are_named(api: ApiSession) -> None:
    exchange = api.generate_reply({})
    expect_validation_error(
        "reply.required-fields",
        exchange,
        ["assistant_id", "customer_identifier", "message"],
        shape_rule="reply.validation.error-shape",
    )


TYPE_CONFUSIONS: dict[str, list[object]] = {
    "assistant_id": [1.5, {"id": 1}],
    "customer_identifier": [["+1"], {"number": "+1"}],
    "message": [{"text": "hi"}, ["hi"]],
    "variables": ["name=John", 42],
}
# Only documented-invalid values: a non-integral number for the integer, an object or array
# where a scalar is documented, a scalar where an object is. "123" or true for assistant_id and
# a list for variables are silent zones (Laravel's validator accepts them): observed, not judged.


@rule("reply.types")
def test_wrong_types_are_rejected(api: ApiSession, target: Target, run_id: str) -> None:
    valid = {
        "assistant_id": target.assistants.own,
        "customer_identifier": f"types-{run_id}",
        "message": "Hello",
    }
    if target.safety.exhaustive:
        cases: list[tuple[str, object]] = [
            (field, value) for field, values in TYPE_CONFUSIONS.items() for value in values
        ]
        for field, value in cases:
            exchange = api.generate_reply({**valid, field: value})
            expect_validation_error(
                "reply.types", exchange, [field], shape_rule="reply.validation.error-shape"
            )
    else:
        # One request proves all four fields at once when the budget is tight.
        wrong: dict[str, object] = {field: values[0] for field, values in TYPE_CONFUSIONS.items()}
        exchange = api.generate_reply(wrong)
        expect_validation_error(
            "reply.types",
            exchange,
            list(TYPE_CONFUSIONS),
            shape_rule="reply.validation.error-shape",
        )


def _error_envelope(rule_id: str, exchange: Exchange) -> None:
    body = _body(exchange)
    expect(
        rule_id,
        body.get("success") is False,
        "success false",
        f"success {body.get('success')!r}",
        exchange,
    )
    expect(
        rule_id,
        isinstance(body.get("error"), str) and bool(body.get("error")),
        "a non-empty 'error' message",
        f"error {body.get('error')!r}",
        exchange,
    )


@rule("reply.assistant.not-found", "reply.error.shape")
def test_unknown_assistant_is_404(api: ApiSession, run_id: str) -> None:
    exchange = api.generate_reply(
        {"assistant_id": 2_000_000_000, "customer_identifier": f"nf-{run_id}", "message": "Hello"}
    )
    expect_error_code("reply.assistant.not-found", exchange, 404, "ASSISTANT_NOT_FOUND")
    _error_envelope("reply.error.shape", exchange)


@rule("reply.assistant.foreign", "reply.error.shape")
def test_foreign_assistant_is_404(api: ApiSession, target: Target, run_id: str) -> None:
    if target.assistants.foreign is None:
        pytest.skip("the profile has no assistants.foreign")
    exchange = api.generate_reply(
        {
            "assistant_id": target.assistants.foreign,
            "customer_identifier": f"fa-{run_id}",
            "message": "Hello",
        }
    )
    expect_error_code("reply.assistant.foreign", exchange, 404, "ASSISTANT_NOT_FOUND")
    _error_envelope("reply.error.shape", exchange)


@rule("reply.balance.insufficient", "reply.error.shape")
def test_account_without_balance_is_402(api: ApiSession, target: Target, run_id: str) -> None:
    if target.tokens.low_balance is None or target.assistants.low_balance is None:
        pytest.skip("the profile has no tokens.low_balance with assistants.low_balance")
    exchange = api.generate_reply(
        {
            "assistant_id": target.assistants.low_balance,
            "customer_identifier": f"lb-{run_id}",
            "message": "Hello",
        },
        token="low_balance",
    )
    expect_error_code("reply.balance.insufficient", exchange, 402, "INSUFFICIENT_BALANCE")
    _error_envelope("reply.error.shape", exchange)


@pytest.mark.parametrize("operation", ["generate_reply", "create_assistant"])
@rule("auth.missing-token")
def test_missing_token_is_401(api: ApiSession, operation: str) -> None:
    exchange = api.send(operation, {}, token=None, paced=False)
    _expect_401("auth.missing-token", exchange)


@pytest.mark.parametrize("operation", ["generate_reply", "create_assistant"])
@rule("auth.invalid-token")
def test_wrong_token_is_401(api: ApiSession, operation: str) -> None:
    exchange = api.send(operation, {}, token=None, raw_token="replyguard-not-a-token", paced=False)
    _expect_401("auth.invalid-token", exchange)


def _expect_401(rule_id: str, exchange: Exchange) -> None:
    """The documented 401; a 5xx instead (an auth check that crashes) breaks two rules."""
    if exchange.status >= 500:
        summary = exchange.summary(limit=200)
        raise ExceptionGroup(
            "an auth check answered a server error",
            [
                Violation(rule_id, "HTTP 401", summary, exchange),
                Violation(
                    "contract.no-server-error",
                    "no 5xx to a call without a token",
                    summary,
                    exchange,
                ),
            ],
        )
    expect_status(rule_id, exchange, 401)
