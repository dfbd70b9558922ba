"""Create-assistant: every documented range, enum, length, type, mode and reference rule.

Payloads that must be rejected are always sent, in full in every mode (they create nothing and
cost no generate-reply call). Payloads that must be accepted create an assistant, so they run
only where the profile allows writes. Every payload is documented-valid or documented-invalid;
the silent zones are probed apart, in test_silent_zones.py.
"""

from __future__ import annotations

import uuid
from typing import Any

import pytest
from hypothesis import given, settings

from replyguard import spec
from replyguard.profile import MODES, Target
from replyguard.strategies import (
    boundary_values,
    field_type,
    minimal_assistant,
    non_integral,
    outside_values,
    overlong_value,
    type_confusions,
    valid_assistant,
)
from replyguard.testing import ApiSession, Exchange, expect, expect_status, expect_validation_error

rule = pytest.mark.rule
UNKNOWN_ID = 2_000_000_000


def _writes(target: Target) -> None:
    if not target.safety.allow_writes:
        pytest.skip("accepting a valid payload creates an assistant (safety.allow_writes is false)")


def _base(target: Target, mode: str = "pipeline") -> dict[str, Any]:
    if not target.catalog.can_build(mode):
        pytest.skip(f"the profile's catalog cannot build a valid {mode} assistant")
    return minimal_assistant(target.catalog, mode, name=f"replyguard {uuid.uuid4().hex[:8]}")


def _mode_for(field: str) -> str:
    # "Turn detection sensitivity for multimodal/dualplex modes."
    return "multimodal" if field == "turn_detection_threshold" else "pipeline"


def _rejected(rule_id: str, exchange: Exchange, field: str) -> None:
    expect_validation_error(
        rule_id, exchange, [field], shape_rule="assistant.validation.error-shape"
    )


def _without(payload: dict[str, Any], field: str) -> dict[str, Any]:
    return {k: v for k, v in payload.items() if k != field}


# -- valid payloads ------------------------------------------------------------------------


@pytest.mark.parametrize("mode", MODES)
@rule(
    "assistant.create.status-code",
    "assistant.create.status-inactive",
    "assistant.create.response-shape",
)
def test_valid_payloads_are_created_inactive(api: ApiSession, target: Target, mode: str) -> None:
    _writes(target)
    if not target.catalog.can_build(mode):
        pytest.skip(f"the profile's catalog cannot build a valid {mode} assistant")
    examples = 12 if target.safety.exhaustive else 1

    @settings(max_examples=examples, deadline=None, database=None)
    @given(payload=valid_assistant(target.catalog, mode))
    def run(payload: dict[str, Any]) -> None:
        exchange = api.create_assistant(payload)
        expect_status("assistant.create.status-code", exchange, 201)
        body = exchange.json() if isinstance(exchange.json(), dict) else {}
        data: Any = body.get("data")
        expect(
            "assistant.create.response-shape",
            isinstance(body.get("message"), str)
            and isinstance(data, dict)
            and isinstance(data.get("id"), int)
            and not isinstance(data.get("id"), bool),
            "{message: string, data: {id: integer, ...}}",
            exchange.text[:200],
            exchange,
        )
        assert isinstance(data, dict)  # for the type checker: the expect above raised otherwise
        for key in ("name", "type", "mode"):
            expect(
                "assistant.create.response-shape",
                data.get(key) == payload[key],
                f"data.{key} = {payload[key]!r}",
                f"{data.get(key)!r}",
                exchange,
            )
        expect(
            "assistant.create.status-inactive",
            data.get("status") == "inactive",
            "data.status 'inactive' (\"The assistant is created with inactive status\")",
            f"{data.get('status')!r}",
            exchange,
        )

    run()


# -- ranges --------------------------------------------------------------------------------

RANGED = sorted(spec.ranged_fields())


def _range_params() -> list[Any]:
    return [pytest.param(name, marks=rule(f"assistant.{name}.range"), id=name) for name in RANGED]


@pytest.mark.parametrize("field", _range_params())
def test_range_bounds_are_accepted(api: ApiSession, target: Target, field: str) -> None:
    _writes(target)
    for value in boundary_values(field):
        payload = {**_base(target, _mode_for(field)), field: value}
        exchange = api.create_assistant(payload)
        expect(
            f"assistant.{field}.range",
            exchange.status == 201,
            f"{field} = {value!r} accepted (the documented range is inclusive)",
            exchange.summary(limit=200),
            exchange,
        )


@pytest.mark.parametrize("field", _range_params())
def test_values_just_outside_range_are_rejected(
    api: ApiSession, target: Target, field: str
) -> None:
    for value in outside_values(field):
        payload = {**_base(target, _mode_for(field)), field: value}
        exchange = api.create_assistant(payload)
        if exchange.status == 201:
            expect(
                f"assistant.{field}.range",
                False,
                f"{field} = {value!r} rejected with 422",
                "HTTP 201: accepted",
                exchange,
            )
        _rejected(f"assistant.{field}.range", exchange, field)


# -- enums, lengths, required --------------------------------------------------------------


def _params(names: Any, suffix: str) -> list[Any]:
    return [pytest.param(n, marks=rule(f"assistant.{n}.{suffix}"), id=n) for n in sorted(names)]


@pytest.mark.parametrize("field", _params(spec.enum_fields(), "enum"))
def test_values_outside_enum_are_rejected(api: ApiSession, target: Target, field: str) -> None:
    payload = {**_base(target), field: f"not-a-{field}"}
    _rejected(f"assistant.{field}.enum", api.create_assistant(payload), field)


@pytest.mark.parametrize("field", _params(spec.enum_fields(), "enum"))
def test_every_enum_value_is_accepted(api: ApiSession, target: Target, field: str) -> None:
    _writes(target)
    if not target.safety.exhaustive and field == "mode":
        pytest.skip("each mode is already created by the valid-payload test")
    for value in spec.enum_fields()[field]:
        mode = value if field == "mode" else "pipeline"
        payload = {**_base(target, mode), field: value}
        exchange = api.create_assistant(payload)
        expect(
            f"assistant.{field}.enum",
            exchange.status == 201,
            f"{field} = {value!r} accepted",
            exchange.summary(limit=200),
            exchange,
        )


@pytest.mark.parametrize("field", _params(spec.max_length_fields(), "max-length"))
def test_max_length(api: ApiSession, target: Target, field: str) -> None:
    rule_id = f"assistant.{field}.max-length"
    _rejected(rule_id, api.create_assistant({**_base(target), field: overlong_value(field)}), field)
    if target.safety.allow_writes:
        longest = "y" * spec.max_length_fields()[field]
        exchange = api.create_assistant({**_base(target), field: longest})
        expect(
            rule_id,
            exchange.status == 201,
            f"{field} of exactly {len(longest)} characters accepted",
            exchange.summary(limit=200),
            exchange,
        )


@pytest.mark.parametrize("field", _params(spec.required_fields(), "required"))
def test_required_field_missing_is_rejected(api: ApiSession, target: Target, field: str) -> None:
    payload = _base(target)
    rule_id = f"assistant.{field}.required"
    _rejected(rule_id, api.create_assistant(_without(payload, field)), field)
    if isinstance(payload[field], str):
        # Laravel's TrimStrings and ConvertEmptyStringsToNull make these count as missing.
        for blank in ("", "   "):
            _rejected(rule_id, api.create_assistant({**payload, field: blank}), field)


@rule("assistant.validation.error-shape", "assistant.validation.all-fields-keyed")
def test_every_failing_field_is_keyed(api: ApiSession, target: Target) -> None:
    broken = {
        "name": overlong_value("name"),
        "speech_speed": outside_values("speech_speed")[1],
        "endpoint_type": "telepathy",
        "max_duration": non_integral("max_duration"),
    }
    exchange = api.create_assistant({**_base(target), **broken})
    expect_validation_error(
        "assistant.validation.all-fields-keyed",
        exchange,
        sorted(broken),
        shape_rule="assistant.validation.error-shape",
    )


# -- types ---------------------------------------------------------------------------------


def _type_params() -> list[Any]:
    names = spec.load_spec()["components"]["schemas"]["CreateAssistantRequest"]["properties"]
    return [
        pytest.param(n, marks=rule(f"assistant.types.{field_type(n)}"), id=n) for n in sorted(names)
    ]


@pytest.mark.parametrize("field", _type_params())
def test_wrong_type_is_rejected(api: ApiSession, target: Target, field: str) -> None:
    # Only values every reading rejects (20.5, "twenty", an object, a list for a scalar);
    # "123", 20.0 and true for an integer are the silent zone json-type-leniency.
    rule_id = f"assistant.types.{field_type(field)}"
    for value in type_confusions(field):
        exchange = api.create_assistant({**_base(target, _mode_for(field)), field: value})
        if exchange.status == 201:
            expect(
                rule_id,
                False,
                f"{field} = {value!r} ({type(value).__name__}) rejected",
                "HTTP 201: accepted",
                exchange,
            )
        _rejected(rule_id, exchange, field)


# -- engine-mode rules ---------------------------------------------------------------------

MODE_RULES: list[tuple[str, str, str, Any]] = [
    # (rule, mode, field, value or None to omit the field)
    ("assistant.mode.pipeline-requires-llm", "pipeline", "llm_model_id", None),
    (
        "assistant.mode.multimodal-requires-multimodal-model",
        "multimodal",
        "multimodal_model_id",
        None,
    ),
    ("assistant.mode.dualplex-requires-multimodal-model", "dualplex", "multimodal_model_id", None),
    (
        "assistant.mode.knowledgebase-prompt-pipeline-only",
        "multimodal",
        "knowledgebase_mode",
        "prompt",
    ),
    (
        "assistant.mode.knowledgebase-prompt-pipeline-only",
        "dualplex",
        "knowledgebase_mode",
        "prompt",
    ),
    ("assistant.mode.fillers-pipeline-only", "multimodal", "fillers", True),
    ("assistant.mode.fillers-pipeline-only", "dualplex", "fillers", True),
    ("assistant.mode.interruptions-required-realtime", "multimodal", "allow_interruptions", False),
    ("assistant.mode.interruptions-required-realtime", "dualplex", "allow_interruptions", False),
    (
        "assistant.mode.transcriber-pipeline-only",
        "multimodal",
        "transcriber_provider_id",
        "catalog",
    ),
    ("assistant.mode.transcriber-pipeline-only", "dualplex", "transcriber_provider_id", "catalog"),
]


def _mode_rule_params() -> list[Any]:
    return [
        pytest.param(r, m, f, v, marks=rule(r), id=f"{r.rsplit('.', 1)[-1]}-{m}")
        for r, m, f, v in MODE_RULES
    ]


def _value(target: Target, field: str, value: Any) -> Any:
    if value != "catalog":
        return value
    if not target.catalog.transcriber_providers:
        pytest.skip("the profile has no catalog.transcriber_providers")
    return target.catalog.transcriber_providers[0]


@pytest.mark.parametrize(("rule_id", "mode", "field", "value"), _mode_rule_params())
def test_mode_rule_broken_alone_is_rejected(
    api: ApiSession, target: Target, rule_id: str, mode: str, field: str, value: Any
) -> None:
    base = _base(target, mode)
    payload = (
        _without(base, field) if value is None else {**base, field: _value(target, field, value)}
    )
    _rejected(rule_id, api.create_assistant(payload), field)


ALLOWED_IN_PIPELINE = [
    ("assistant.mode.knowledgebase-prompt-pipeline-only", "knowledgebase_mode", "prompt"),
    ("assistant.mode.fillers-pipeline-only", "fillers", True),
    ("assistant.mode.interruptions-required-realtime", "allow_interruptions", False),
    ("assistant.mode.transcriber-pipeline-only", "transcriber_provider_id", "catalog"),
]


@pytest.mark.parametrize(
    ("rule_id", "field", "value"),
    [
        pytest.param(r, f, v, marks=rule(r), id=r.rsplit(".", 1)[-1])
        for r, f, v in ALLOWED_IN_PIPELINE
    ],
)
def test_mode_rule_allows_pipeline(
    api: ApiSession, target: Target, rule_id: str, field: str, value: Any
) -> None:
    _writes(target)
    payload = {**_base(target, "pipeline"), field: _value(target, field, value)}
    exchange = api.create_assistant(payload)
    expect(
        rule_id,
        exchange.status == 201,
        f"{field} = {payload[field]!r} accepted in pipeline",
        exchange.summary(limit=200),
        exchange,
    )


@rule("assistant.webhook.url-required-when-active")
def test_active_webhook_needs_url(api: ApiSession, target: Target) -> None:
    payload = {**_base(target), "is_webhook_active": True}
    _rejected(
        "assistant.webhook.url-required-when-active", api.create_assistant(payload), "webhook_url"
    )
    if target.safety.allow_writes:
        ok = api.create_assistant({**payload, "webhook_url": "https://hooks.example.com/rg"})
        expect(
            "assistant.webhook.url-required-when-active",
            ok.status == 201,
            "an active webhook with a URL accepted",
            ok.summary(limit=200),
            ok,
        )


@pytest.mark.parametrize("mode", MODES)
@rule("assistant.voice.mode-compatible")
def test_voice_incompatible_with_mode_is_rejected(
    api: ApiSession, target: Target, mode: str
) -> None:
    wrong = target.catalog.voices_not_for(mode)
    if not wrong:
        pytest.skip(f"every voice of the profile's catalog supports {mode}")
    payload = {**_base(target, mode), "voice_id": wrong[0]}
    _rejected("assistant.voice.mode-compatible", api.create_assistant(payload), "voice_id")


# -- references ----------------------------------------------------------------------------

REFERENCE_FIELDS = [
    "voice_id",
    "language_id",
    "llm_model_id",
    "multimodal_model_id",
    "chat_llm_fallback_id",
    "synthesizer_provider_id",
    "transcriber_provider_id",
    "secondary_language_ids",
    "knowledgebase_id",
    "tool_ids",
    "phone_number_id",
]


@pytest.mark.parametrize("field", REFERENCE_FIELDS)
@rule("assistant.references.exist")
def test_unknown_ids_are_rejected(api: ApiSession, target: Target, field: str) -> None:
    mode = (
        "multimodal" if field in ("multimodal_model_id", "chat_llm_fallback_id") else ("pipeline")
    )
    value: Any = [UNKNOWN_ID] if field_type(field) == "array" else UNKNOWN_ID
    _rejected(
        "assistant.references.exist",
        api.create_assistant({**_base(target, mode), field: value}),
        field,
    )


OWNERSHIP = [
    ("assistant.knowledgebase.owned", "knowledgebase_id", "foreign_knowledgebases"),
    ("assistant.tool_ids.owned", "tool_ids", "foreign_tools"),
    ("assistant.phone_number.owned", "phone_number_id", "foreign_phone_numbers"),
]


@pytest.mark.parametrize(
    ("rule_id", "field", "source"),
    [pytest.param(r, f, s, marks=rule(r), id=f) for r, f, s in OWNERSHIP],
)
def test_other_accounts_ids_are_rejected(
    api: ApiSession, target: Target, rule_id: str, field: str, source: str
) -> None:
    ids = getattr(target.catalog, source)
    if not ids:
        pytest.skip(f"the profile has no catalog.{source}")
    value: Any = [ids[0]] if field_type(field) == "array" else ids[0]
    _rejected(rule_id, api.create_assistant({**_base(target), field: value}), field)


INBOUND_PHONE_RULES = [
    ("assistant.phone_number.inbound-not-caller-id", "caller_id"),
    ("assistant.phone_number.inbound-not-assigned", "assigned_inbound"),
]


@pytest.mark.parametrize(
    ("rule_id", "flag"), [pytest.param(r, f, marks=rule(r), id=f) for r, f in INBOUND_PHONE_RULES]
)
def test_inbound_rejects_unsuitable_number(
    api: ApiSession, target: Target, rule_id: str, flag: str
) -> None:
    numbers = [p.id for p in target.catalog.phone_numbers if getattr(p, flag)]
    if not numbers:
        pytest.skip(f"the profile has no phone number with {flag} = true")
    payload = {**_base(target), "type": "inbound", "phone_number_id": numbers[0]}
    _rejected(rule_id, api.create_assistant(payload), "phone_number_id")
    if target.safety.allow_writes and flag == "caller_id":
        # The restriction is the inbound one: an outbound assistant may use a caller ID.
        ok = api.create_assistant({**payload, "type": "outbound"})
        expect(
            rule_id,
            ok.status == 201,
            "an outbound assistant with a caller-ID number accepted",
            ok.summary(limit=200),
            ok,
        )
