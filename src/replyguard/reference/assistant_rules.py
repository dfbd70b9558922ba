"""Create-assistant validation: every field of intellixent-create-assistant.txt.

Each field is checked for type, then range / length / choice / format, then catalogue existence
and ownership; the engine-mode rules run last. Every failing field is reported (keyed by field
name, array items as ``tool_ids.0``), one message per field.
"""

from __future__ import annotations

import zoneinfo
from collections.abc import Callable
from dataclasses import dataclass, replace
from typing import Any

from .assistant_items import check_fillers, check_int_array, check_schema, check_tools
from .dialect import DEFAULT_DIALECT, Dialect, boolean_of, integer_of, number_of, object_of, url_ok
from .store import Catalogue
from .validation import (
    BOOLEAN,
    INTEGER,
    MAX_STRING,
    NUMBER,
    OBJECT,
    REQUIRED,
    STRING,
    Errors,
    bad_json_value,
    is_blank,
    reject_unknown,
)

__all__ = [
    "CHECKS",
    "DEFAULT_POLICY",
    "FIELDS",
    "AssistantPolicy",
    "FieldRule",
    "replace_field",
    "validate_assistant",
]

BETWEEN = "The {a} field must be between {min} and {max}."
CHOICE = "The selected {a} is invalid."
FORMAT = "The {a} field format is invalid."
TIMEZONE = "The {a} field must be a valid timezone."
REQUIRED_IF = "The {a} field is required when {other} is {value}."
PROHIBITED_UNLESS = "The {a} field is prohibited unless mode is pipeline."
PIPELINE_ONLY = "The {a} value {value} is only available in pipeline mode."
MULTIMODAL_INTERRUPTIONS = "The {a} field cannot be disabled for multimodal and dualplex modes."
# Verbatim from the document's 422 example.
VOICE_MODE = "The selected voice is not compatible with the chosen engine type."
CALLER_ID_INBOUND = "A Caller ID phone number cannot be assigned to an inbound assistant."
PHONE_TAKEN = "The selected phone number is already assigned to another inbound assistant."

MODES = ("pipeline", "multimodal", "dualplex")
URL_MAX = 2048
TIMEZONES = frozenset(zoneinfo.available_timezones()) | {"UTC"}


@dataclass(slots=True, frozen=True)
class FieldRule:
    """One documented field: its JSON type and its documented constraints."""

    name: str
    kind: str  # integer | number | boolean | string | int_array | tools | schema | fillers | object
    required: bool = False
    minimum: float | None = None
    maximum: float | None = None
    max_length: int | None = None
    choices: tuple[str, ...] | None = None
    default: Any = None
    #: Catalogue kind the id must exist in (global) ...
    catalogue: str | None = None
    #: ... or account-owned kind it must belong to the caller in.
    owned: str | None = None
    fmt: str | None = None  # "url" | "timezone"
    #: The maximum is exclusive (a ``<`` where the document's range needs ``<=``): faults only.
    exclusive_max: bool = False
    #: "strict" (the dialect's JSON types), "none" (no type check at all: faults only).
    coerce: str = "strict"


def _f(name: str, kind: str, **kw: Any) -> FieldRule:
    return FieldRule(name, kind, **kw)


# The 55 documented fields, in the document's order. Ranges are inclusive ("Range: 0.7-1.2").
FIELDS: tuple[FieldRule, ...] = (
    _f("name", "string", required=True, max_length=255),
    _f("voice_id", "integer", required=True, catalogue="voice"),
    _f("language_id", "integer", required=True, catalogue="language"),
    _f("type", "string", required=True, choices=("inbound", "outbound")),
    _f("mode", "string", required=True, choices=MODES),
    _f("timezone", "string", required=True, fmt="timezone"),
    _f("initial_message", "string", required=True, max_length=200),
    _f("system_prompt", "string", required=True),
    _f("llm_model_id", "integer", catalogue="llm_model"),
    _f("multimodal_model_id", "integer", catalogue="multimodal_model"),
    _f("chat_llm_fallback_id", "integer", catalogue="llm_model"),
    # "Range: 0-1. Defaults to auto."
    _f("turn_detection_threshold", "number", minimum=0, maximum=1),
    _f("secondary_language_ids", "int_array", catalogue="language"),
    _f("knowledgebase_id", "integer", owned="knowledgebase"),
    _f("knowledgebase_mode", "string", choices=("function_call", "prompt")),
    _f("phone_number_id", "integer", owned="phone_number"),
    _f("tool_ids", "int_array", owned="tool"),
    _f("tools", "tools"),
    _f("voice_stability", "number", minimum=0, maximum=1, default=0.70),
    _f("voice_similarity", "number", minimum=0, maximum=1, default=0.50),
    _f("speech_speed", "number", minimum=0.7, maximum=1.2, default=1.00),
    _f("llm_temperature", "number", minimum=0, maximum=1, default=0.10),
    _f("tts_emotion_enabled", "boolean", default=True),
    _f("synthesizer_provider_id", "integer", catalogue="synthesizer_provider"),
    _f("transcriber_provider_id", "integer", catalogue="transcriber_provider"),
    _f("allow_interruptions", "boolean", default=True),
    _f("fillers", "boolean", default=False),
    _f("filler_config", "fillers"),
    _f("record", "boolean", default=False),
    _f("enable_noise_cancellation", "boolean", default=True),
    _f("wait_for_customer", "boolean", default=False),
    _f("max_duration", "integer", minimum=20, maximum=1200, default=600),
    _f("max_silence_duration", "integer", minimum=1, maximum=360, default=40),
    _f("max_initial_silence_duration", "integer", minimum=1, maximum=120),
    _f("ringing_time", "integer", minimum=1, maximum=60, default=30),
    _f("reengagement_interval", "integer", minimum=7, maximum=600, default=30),
    _f("reengagement_prompt", "string", max_length=1000),
    _f("end_call_on_voicemail", "boolean", default=True),
    _f("voice_mail_message", "string", max_length=1000),
    _f("endpoint_type", "string", choices=("vad", "ai"), default="vad"),
    _f("endpoint_sensitivity", "number", minimum=0, maximum=5, default=0.5),
    _f("interrupt_sensitivity", "number", minimum=0, maximum=5, default=0.5),
    _f("min_interrupt_words", "integer", minimum=0, maximum=10),
    _f(
        "ambient_sound",
        "string",
        choices=("off", "office", "city", "forest", "crowded_room", "cafe", "nature"),
    ),
    _f("ambient_sound_volume", "number", minimum=0, maximum=1, default=0.5),
    _f("is_webhook_active", "boolean", default=False),
    _f("webhook_url", "string", fmt="url", max_length=URL_MAX),
    _f("send_webhook_only_on_completed", "boolean", default=True),
    _f("include_recording_in_webhook", "boolean", default=True),
    _f("post_call_evaluation", "boolean", default=True),
    _f("post_call_schema", "schema"),
    _f("variables", "object"),
    _f("conversation_inactivity_timeout", "integer", minimum=1, maximum=1440, default=30),
    _f("conversation_ended_retrigger", "boolean", default=False),
    _f("conversation_ended_webhook_url", "string", fmt="url", max_length=URL_MAX),
)


#: The cross-field checks, by name; a policy may switch one off (a fault).
CHECKS = frozenset(
    {
        "pipeline-requires-llm",
        "multimodal-requires-multimodal-model",
        "dualplex-requires-multimodal-model",
        "knowledgebase-prompt-pipeline-only",
        "fillers-pipeline-only",
        "interruptions-required-realtime",
        "transcriber-pipeline-only",
        "voice-mode-compatible",
        "webhook-url-required",
        "inbound-not-caller-id",
        "inbound-not-assigned",
        "tool-ownership",
    }
)


@dataclass(slots=True, frozen=True)
class AssistantPolicy:
    """The create-assistant rule table: the field rules and the enabled cross-field checks."""

    fields: tuple[FieldRule, ...] = FIELDS
    checks: frozenset[str] = CHECKS


DEFAULT_POLICY = AssistantPolicy()


def replace_field(
    fields: tuple[FieldRule, ...], name: str, **changes: Any
) -> tuple[FieldRule, ...]:
    """``fields`` with the rule of ``name`` changed (how a fault edits the table)."""
    if name not in {rule.name for rule in fields}:
        raise KeyError(name)
    return tuple(replace(rule, **changes) if rule.name == name else rule for rule in fields)


def _fmt_bound(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _check_scalar(rule: FieldRule, value: Any, errors: Errors, dialect: Dialect) -> Any:
    """Type and constraint checks for a present, non-null scalar; return the clean value."""
    name = rule.name
    if rule.kind == "boolean":
        flag = boolean_of(value, dialect.booleans)
        if flag is None:
            errors.add(name, BOOLEAN)
        return flag
    if rule.kind in ("integer", "number"):
        clean = (
            integer_of(value, dialect.integers)
            if rule.kind == "integer"
            else number_of(value, dialect.numbers)
        )
        if rule.coerce == "none":
            clean = value  # a string meets the comparison below: TypeError, answered 500
        if clean is None:
            errors.add(name, INTEGER if rule.kind == "integer" else NUMBER)
            return None
        low, high = rule.minimum, rule.maximum
        if (
            low is not None
            and high is not None
            and not (low <= clean < high if rule.exclusive_max else low <= clean <= high)
        ):
            errors.add(name, BETWEEN, min=_fmt_bound(low), max=_fmt_bound(high))
            return None
        return clean
    # string
    if not isinstance(value, str):
        errors.add(name, STRING)
        return None
    if rule.required and is_blank(value):
        errors.add(name, REQUIRED)
        return None
    if rule.max_length is not None and len(value) > rule.max_length:
        errors.add(name, MAX_STRING, max=rule.max_length)
        return None
    if rule.choices is not None and value not in rule.choices:
        errors.add(name, CHOICE)
        return None
    if rule.fmt == "url" and not url_ok(value, dialect.urls):
        errors.add(name, FORMAT)
        return None
    if rule.fmt == "timezone" and value not in TIMEZONES:
        errors.add(name, TIMEZONE)
        return None
    return value


def _check_field(rule: FieldRule, value: Any, errors: Errors, dialect: Dialect) -> Any:
    if (problem := bad_json_value(value)) is not None:
        errors.add(rule.name, problem)
        return None
    if rule.kind == "int_array":
        return check_int_array(rule.name, value, errors, dialect)
    if rule.kind == "tools":
        return check_tools(value, errors, dialect)
    if rule.kind == "schema":
        return check_schema(value, errors, dialect)
    if rule.kind == "fillers":
        return check_fillers(value, errors, dialect)
    if rule.kind == "object":
        clean = object_of(value, dialect.lists_as_objects)
        if clean is None:
            errors.add(rule.name, OBJECT)
        return clean
    return _check_scalar(rule, value, errors, dialect)


def _check_catalogue(
    data: dict[str, Any],
    clean: dict[str, Any],
    catalogue: Catalogue,
    account_id: int,
    errors: Errors,
    policy: AssistantPolicy,
    dialect: Dialect,
) -> None:
    for rule in policy.fields:
        if rule.catalogue is None and rule.owned is None:
            continue
        raw = data.get(rule.name)
        items: list[tuple[str, int]]
        if rule.kind == "int_array" and isinstance(raw, list):
            # Check every well-typed item, even when a sibling item has a type error.
            items = [
                (f"{rule.name}.{i}", n)
                for i, v in enumerate(raw)
                if (n := integer_of(v, dialect.integers)) is not None
            ]
        elif rule.name in clean:
            items = [(rule.name, clean[rule.name])]
        else:
            continue
        for field, item_id in items:
            if rule.catalogue is not None:
                known = catalogue.exists(rule.catalogue, item_id)
            elif rule.owned == "phone_number":
                # "ID of the phone number to assign. Must belong to your account."
                known = catalogue.phone_owner.get(item_id) == account_id
            elif rule.owned == "tool" and "tool-ownership" not in policy.checks:
                known = item_id in catalogue.owners.get("tool", {})
            else:
                # "Each tool must belong to your account."
                known = catalogue.owned(str(rule.owned), item_id, account_id)
            if not known:
                errors.add(field, CHOICE)


def _check_modes(
    data: dict[str, Any],
    clean: dict[str, Any],
    catalogue: Catalogue,
    errors: Errors,
    checks: frozenset[str],
) -> None:
    mode = clean.get("mode")
    if mode is None:
        return  # the mode itself is missing or invalid: its own error says so
    # "llm_model_id ... Required for pipeline mode."
    if mode == "pipeline" and "llm_model_id" not in data and "pipeline-requires-llm" in checks:
        errors.add("llm_model_id", REQUIRED_IF, other="mode", value=mode)
    # "multimodal_model_id ... Required for multimodal and dualplex modes."
    if (
        mode != "pipeline"
        and "multimodal_model_id" not in data
        and f"{mode}-requires-multimodal-model" in checks
    ):
        errors.add("multimodal_model_id", REQUIRED_IF, other="mode", value=mode)
    if mode != "pipeline":
        # "prompt — Knowledge is injected into the system prompt. Pipeline mode only."
        if (
            clean.get("knowledgebase_mode") == "prompt"
            and "knowledgebase-prompt-pipeline-only" in checks
        ):
            errors.add("knowledgebase_mode", PIPELINE_ONLY, value="prompt")
        # fillers: "Only available in pipeline mode."
        if clean.get("fillers") is True and "fillers-pipeline-only" in checks:
            errors.add("fillers", PIPELINE_ONLY, value="true")
        # allow_interruptions: "Cannot be disabled for multimodal and dualplex modes."
        if (
            clean.get("allow_interruptions") is False
            and "interruptions-required-realtime" in checks
        ):
            errors.add("allow_interruptions", MULTIMODAL_INTERRUPTIONS)
        # transcriber_provider_id: "Custom STT provider ID. Pipeline mode only."
        if "transcriber_provider_id" in data and "transcriber-pipeline-only" in checks:
            errors.add("transcriber_provider_id", PROHIBITED_UNLESS)
    voice = clean.get("voice_id")
    modes = catalogue.voice_modes.get(voice) if voice is not None else None
    if (
        modes is not None
        and mode not in modes
        and "voice_id" not in errors
        and "voice-mode-compatible" in checks
    ):
        errors.add("voice_id", VOICE_MODE)


def validate_assistant(
    data: dict[str, Any],
    catalogue: Catalogue,
    account_id: int,
    phone_taken: Callable[[int], bool],
    policy: AssistantPolicy = DEFAULT_POLICY,
    dialect: Dialect = DEFAULT_DIALECT,
) -> tuple[dict[str, Any] | None, Errors]:
    """Validate a create-assistant body; return the full config (defaults applied) or errors.

    ``phone_taken(id)`` says whether a phone number is already assigned to an inbound
    assistant; the caller runs this inside the write transaction that stores the assistant.
    """
    errors = Errors(dialect.item_keys)
    clean: dict[str, Any] = {}
    checks = policy.checks
    if dialect.null_is_absent:
        # ``nullable``: a null optional field is as if absent (a null required one is missing).
        data = {key: value for key, value in data.items() if value is not None}
    if dialect.reject_unknown:
        reject_unknown(data, {rule.name for rule in policy.fields}, errors)
    for rule in policy.fields:
        present = rule.name in data
        value = data.get(rule.name)
        if rule.required and is_blank(value):
            errors.add(rule.name, REQUIRED)
            continue
        if not present:
            continue
        if value is None:
            # null is not accepted for any field: the type rule fails on it.
            _check_field(rule, _Null, errors, dialect)
            continue
        checked = _check_field(rule, value, errors, dialect)
        if checked is not None:
            clean[rule.name] = checked

    # "webhook_url ... Required if is_webhook_active is true."
    if (
        clean.get("is_webhook_active") is True
        and is_blank(data.get("webhook_url"))
        and "webhook-url-required" in checks
    ):
        errors.add("webhook_url", REQUIRED_IF, other="is webhook active", value="true")

    _check_catalogue(data, clean, catalogue, account_id, errors, policy, dialect)
    _check_modes(data, clean, catalogue, errors, checks)

    phone = clean.get("phone_number_id")
    if clean.get("type") == "inbound" and phone is not None and "phone_number_id" not in errors:
        # "For inbound assistants, the phone number cannot be a Caller ID type and cannot
        # already be assigned to another inbound assistant."
        if catalogue.phone_caller_id.get(phone, False) and "inbound-not-caller-id" in checks:
            errors.add("phone_number_id", CALLER_ID_INBOUND)
        elif phone_taken(phone) and "inbound-not-assigned" in checks:
            errors.add("phone_number_id", PHONE_TAKEN)

    if errors:
        return None, errors
    config = {rule.name: clean.get(rule.name, rule.default) for rule in policy.fields}
    return config, errors


class _NullType:
    """Stands in for JSON null so every type rule rejects it."""


_Null = _NullType()
