"""Hypothesis strategies and boundary values for create-assistant payloads.

Everything here is derived from the contract (``replyguard.spec``) and a target's catalogue,
so the same strategies serve the contract suite, fault-injection tests and users' own tests.
Each value lies in one part of the input space (``replyguard.suite.schemas.InputSpace``):
``valid_assistant`` and ``boundary_values`` are documented-valid, ``outside_values``,
``type_confusions`` and ``overlong_value`` documented-invalid, ``lenient_spellings`` silent.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any, Literal

from hypothesis import strategies as st

from replyguard import spec
from replyguard.profile import MODES, Catalog
from replyguard.suite.schemas import trimmed

__all__ = [
    "REALTIME_MODES",
    "SILENT_PROBES",
    "Expect",
    "SilentProbe",
    "boundary_values",
    "field_type",
    "lenient_spellings",
    "minimal_assistant",
    "non_integral",
    "outside_values",
    "overlong_value",
    "type_confusions",
    "valid_assistant",
]

REALTIME_MODES = ("multimodal", "dualplex")
_TIMEZONES = ("America/New_York", "Europe/Bucharest", "Europe/Berlin", "UTC")


def field_type(name: str) -> str:
    """The JSON type the contract gives a create-assistant field."""
    return str(spec.field_schema(name)["type"])


def boundary_values(name: str) -> tuple[int | float, int | float]:
    """The inclusive bounds of a ranged field: both must be accepted."""
    field = spec.ranged_fields()[name]
    return field.minimum, field.maximum


def outside_values(name: str) -> tuple[int | float, int | float]:
    """The nearest values outside a ranged field's bounds: both must be rejected."""
    field = spec.ranged_fields()[name]
    if field.kind == "int":
        return int(field.minimum) - 1, int(field.maximum) + 1
    return (
        math.nextafter(float(field.minimum), -math.inf),
        math.nextafter(float(field.maximum), math.inf),
    )


def overlong_value(name: str) -> str:
    """A string one character longer than the field's documented maximum."""
    return "x" * (spec.max_length_fields()[name] + 1)


def non_integral(name: str) -> float:
    """A non-integral number for an integer field, inside its range where it has one (20.5)."""
    field = spec.ranged_fields().get(name)
    return float(field.minimum) + 0.5 if field is not None else 1.5


# Values of another JSON type that every reading of the documents rejects. Numeric strings,
# integral floats, booleans for numbers, 0/1 for booleans, numbers for strings and a list for an
# object are the silent zone json-type-leniency (see lenient_spellings), never in this table.
_CONFUSIONS: Mapping[str, tuple[Any, ...]] = {
    "number": ("fast", {"value": 0.5}, [0.5]),
    "boolean": ("maybe", {"value": True}, [True]),
    "string": ({"text": "x"}, ["x"]),
    "array": ("1", 7),
    "object": ("x", 7),
}


def type_confusions(name: str) -> tuple[Any, ...]:
    """Documented-invalid values of the wrong type for a field, most telling first.

    An integer field gets a non-integral number first (Laravel's `integer` rule and a strict
    JSON backend both reject 20.5), then a non-numeric string, an object and an array.
    """
    kind = field_type(name)
    if kind == "integer":
        return (non_integral(name), "twenty", {"value": 1}, [1])
    return _CONFUSIONS[kind]


# The silent zone json-type-leniency: spellings a lenient backend coerces, a strict one refuses.
_LENIENT: Mapping[str, tuple[Any, ...]] = {
    "number": ("0.5", True),
    "boolean": (1, 0, "1", "true"),
    "string": (12345, True),
    "array": ({"0": 1},),
    "object": ([["a", "b"]],),
}


def lenient_spellings(name: str, valid: Any) -> tuple[Any, ...]:
    """Values of another JSON type that mean ``valid`` to a lenient backend: never judged."""
    kind = field_type(name)
    if kind == "integer" and isinstance(valid, int):
        return (str(valid), float(valid), True)
    if kind == "number" and isinstance(valid, int | float):
        return (str(valid), True)
    return _LENIENT.get(kind, ())


def minimal_assistant(
    catalog: Catalog, mode: str = "pipeline", *, name: str = "replyguard probe"
) -> dict[str, Any]:
    """The smallest valid payload for ``mode`` that the catalogue allows."""
    voices = catalog.voices_for(mode)
    if not (catalog.languages and voices):
        raise ValueError(f"the catalogue has no language or no voice for {mode}")
    payload: dict[str, Any] = {
        "name": name,
        "voice_id": voices[0],
        "language_id": catalog.languages[0],
        "type": "outbound",
        "mode": mode,
        "timezone": "Europe/Bucharest",
        "initial_message": "Hello! How can I help you today?",
        "system_prompt": "You are a professional assistant.",
    }
    if mode == "pipeline":
        if not catalog.llm_models:
            raise ValueError("the catalogue has no LLM model for pipeline mode")
        payload["llm_model_id"] = catalog.llm_models[0]
    else:
        if not catalog.multimodal_models:
            raise ValueError(f"the catalogue has no multimodal model for {mode} mode")
        payload["multimodal_model_id"] = catalog.multimodal_models[0]
    return payload


def _ranged(name: str) -> st.SearchStrategy[Any]:
    field = spec.ranged_fields()[name]
    if field.kind == "int":
        return st.integers(int(field.minimum), int(field.maximum))
    # Bounds themselves are drawn often: they are where off-by-one bugs live.
    return st.one_of(
        st.sampled_from([field.minimum, field.maximum]),
        st.floats(
            float(field.minimum), float(field.maximum), allow_nan=False, allow_infinity=False
        ),
    )


def _short_text(max_size: int) -> st.SearchStrategy[str]:
    # Documented-valid text: never blank, never padded (zones blank-strings, string-trimming).
    return (
        st.text(
            st.characters(codec="utf-8", exclude_categories=("Cs", "Cc")),
            min_size=1,
            max_size=max_size,
        )
        .map(trimmed)
        .filter(bool)
    )


def _post_call_item() -> st.SearchStrategy[dict[str, Any]]:
    # Every key of the documents' example items, types from the example (zone item-shapes).
    return st.fixed_dictionaries(
        {
            "name": st.from_regex(r"[a-z][a-z_]{0,15}", fullmatch=True),
            "type": st.sampled_from(["bool", "string"]),
            "description": _short_text(60),
        }
    )


def _filler_config() -> st.SearchStrategy[dict[str, Any]]:
    phrases = st.lists(_short_text(20), min_size=1, max_size=3)
    categories = ("positive", "negative", "question", "neutral")
    return st.fixed_dictionaries(dict.fromkeys(categories, phrases))


@st.composite
def valid_assistant(draw: st.DrawFn, catalog: Catalog, mode: str | None = None) -> dict[str, Any]:
    """A payload the contract says must be accepted (201) for a target with ``catalog``."""
    modes = [m for m in MODES if catalog.can_build(m)]
    mode = mode or draw(st.sampled_from(modes))
    payload = minimal_assistant(catalog, mode)
    payload["voice_id"] = draw(st.sampled_from(catalog.voices_for(mode)))
    payload["language_id"] = draw(st.sampled_from(catalog.languages))
    lengths = spec.max_length_fields()
    payload["name"] = draw(_short_text(lengths["name"]))
    payload["initial_message"] = draw(_short_text(lengths["initial_message"]))
    payload["timezone"] = draw(st.sampled_from(_TIMEZONES))
    realtime = mode in REALTIME_MODES
    optional: dict[str, st.SearchStrategy[Any]] = {
        name: _ranged(name)
        for name in spec.ranged_fields()
        if name != "turn_detection_threshold" or realtime
    }
    optional.update(
        {
            "record": st.booleans(),
            "tts_emotion_enabled": st.booleans(),
            "enable_noise_cancellation": st.booleans(),
            "wait_for_customer": st.booleans(),
            "end_call_on_voicemail": st.booleans(),
            "post_call_evaluation": st.booleans(),
            "endpoint_type": st.sampled_from(spec.enum_fields()["endpoint_type"]),
            "ambient_sound": st.sampled_from(spec.enum_fields()["ambient_sound"]),
            "reengagement_prompt": _short_text(lengths["reengagement_prompt"]),
            "voice_mail_message": _short_text(lengths["voice_mail_message"]),
            "allow_interruptions": st.just(True) if realtime else st.booleans(),
            "fillers": st.just(False) if realtime else st.booleans(),
            "variables": st.dictionaries(
                st.from_regex(r"[a-z_]{1,12}", fullmatch=True), _short_text(20), max_size=3
            ),
            "tools": st.just(
                [{"type": "end_call", "description": "End call when customer is satisfied"}]
            ),
            "post_call_schema": st.lists(
                _post_call_item(), min_size=1, max_size=3, unique_by=lambda item: item["name"]
            ),
            "filler_config": _filler_config(),
        }
    )
    if catalog.languages:
        optional["secondary_language_ids"] = st.lists(
            st.sampled_from(catalog.languages), max_size=3, unique=True
        )
    if catalog.knowledgebases:
        optional["knowledgebase_id"] = st.sampled_from(catalog.knowledgebases)
        kb_modes = ("function_call",) if realtime else spec.enum_fields()["knowledgebase_mode"]
        optional["knowledgebase_mode"] = st.sampled_from(kb_modes)
    if catalog.tools:
        optional["tool_ids"] = st.lists(st.sampled_from(catalog.tools), max_size=2, unique=True)
    if catalog.synthesizer_providers:
        optional["synthesizer_provider_id"] = st.sampled_from(catalog.synthesizer_providers)
    if catalog.transcriber_providers and not realtime:
        optional["transcriber_provider_id"] = st.sampled_from(catalog.transcriber_providers)
    if realtime and catalog.llm_models:
        optional["chat_llm_fallback_id"] = st.sampled_from(catalog.llm_models)
    chosen = draw(st.sets(st.sampled_from(sorted(optional)), max_size=8))
    for name in sorted(chosen):
        payload[name] = draw(optional[name])
    if draw(st.booleans()):
        payload["is_webhook_active"] = True
        payload["webhook_url"] = "https://hooks.example.com/replyguard"
    return payload


# -- the silent zones (x-replyguard-silent-zones) ------------------------------------------

Expect = Literal["accept", "reject", "either"]
_FILLERS = {
    "positive": ["Great!", "Perfect!"],
    "negative": ["Hmm.", "I see."],
    "question": ["Good question.", "Let me check."],
    "neutral": ["Ok.", "Noted."],
}


@dataclass(frozen=True, slots=True)
class SilentProbe:
    """A create-assistant payload change inside a silent zone, and the contract's decision:
    the answer is recorded as an observation, never judged (see contract_tests)."""

    zone: str
    label: str
    override: dict[str, Any]
    field: str
    expect: Expect


SILENT_PROBES = [
    SilentProbe(
        "json-type-leniency",
        '"600" (numeric string) for integer max_duration',
        {"max_duration": "600"},
        "max_duration",
        "reject",
    ),
    SilentProbe(
        "json-type-leniency",
        "600.0 (integral float) for integer max_duration",
        {"max_duration": 600.0},
        "max_duration",
        "accept",
    ),
    SilentProbe(
        "json-type-leniency",
        "true for integer max_duration",
        {"max_duration": True},
        "max_duration",
        "reject",
    ),
    SilentProbe(
        "json-type-leniency",
        '"0.5" (numeric string) for number ambient_sound_volume',
        {"ambient_sound_volume": "0.5"},
        "ambient_sound_volume",
        "reject",
    ),
    SilentProbe("json-type-leniency", "1 for boolean record", {"record": 1}, "record", "reject"),
    SilentProbe(
        "json-type-leniency", '"true" for boolean record', {"record": "true"}, "record", "reject"
    ),
    SilentProbe(
        "json-type-leniency",
        "12345 for string reengagement_prompt",
        {"reengagement_prompt": 12345},
        "reengagement_prompt",
        "reject",
    ),
    SilentProbe(
        "json-type-leniency",
        "[1, 2] (a JSON list) for object variables",
        {"variables": [1, 2]},
        "variables",
        "reject",
    ),
    SilentProbe(
        "optional-null",
        "null for optional integer max_duration",
        {"max_duration": None},
        "max_duration",
        "reject",
    ),
    SilentProbe(
        "optional-null",
        "null for optional string reengagement_prompt",
        {"reengagement_prompt": None},
        "reengagement_prompt",
        "reject",
    ),
    SilentProbe(
        "optional-null",
        "null for optional object variables",
        {"variables": None},
        "variables",
        "reject",
    ),
    SilentProbe(
        "blank-strings",
        '"" for reengagement_prompt',
        {"reengagement_prompt": ""},
        "reengagement_prompt",
        "accept",
    ),
    SilentProbe(
        "blank-strings",
        '"   " for reengagement_prompt',
        {"reengagement_prompt": "   "},
        "reengagement_prompt",
        "accept",
    ),
    SilentProbe(
        "blank-strings",
        '"" for webhook_url (webhook inactive)',
        {"webhook_url": ""},
        "webhook_url",
        "reject",
    ),
    SilentProbe(
        "blank-strings",
        '"" for conversation_ended_webhook_url',
        {"conversation_ended_webhook_url": ""},
        "conversation_ended_webhook_url",
        "reject",
    ),
    SilentProbe(
        "urls-beyond-http",
        "ftp://example.com/hook for webhook_url",
        {"webhook_url": "ftp://example.com/hook"},
        "webhook_url",
        "reject",
    ),
    SilentProbe(
        "urls-beyond-http",
        "https://bücher.example/hook (an IRI) for webhook_url",
        {"webhook_url": "https://bücher.example/hook"},
        "webhook_url",
        "either",
    ),
    SilentProbe(
        "urls-beyond-http",
        "http://localhost/hook (no dot in the host) for webhook_url",
        {"webhook_url": "http://localhost/hook"},
        "webhook_url",
        "either",
    ),
    SilentProbe(
        "urls-beyond-http",
        "an https URL of 2100 characters for webhook_url",
        {"webhook_url": "https://hooks.example.com/" + "a" * 2075},
        "webhook_url",
        "either",
    ),
    SilentProbe(
        "item-shapes",
        "a post_call_schema item with name and type only",
        {"post_call_schema": [{"name": "status", "type": "bool"}]},
        "post_call_schema",
        "accept",
    ),
    SilentProbe(
        "item-shapes",
        "a post_call_schema item with a description only",
        {"post_call_schema": [{"description": "Was the call objective achieved"}]},
        "post_call_schema",
        "reject",
    ),
    SilentProbe(
        "item-shapes",
        "a tools item with type only",
        {"tools": [{"type": "end_call"}]},
        "tools",
        "accept",
    ),
    SilentProbe(
        "item-shapes",
        "filler_config with only the positive category",
        {"filler_config": {"positive": ["Great!"]}},
        "filler_config",
        "accept",
    ),
    SilentProbe(
        "unknown-properties",
        "an unknown top-level key replyguard_unknown",
        {"replyguard_unknown": "x"},
        "replyguard_unknown",
        "accept",
    ),
    SilentProbe(
        "unknown-properties",
        "an unknown filler_config category angry",
        {"filler_config": {**_FILLERS, "angry": ["Grr."]}},
        "filler_config",
        "reject",
    ),
    SilentProbe(
        "unknown-properties",
        "an unknown key in a post_call_schema item",
        {
            "post_call_schema": [
                {
                    "name": "status",
                    "type": "bool",
                    "description": "Was the call objective achieved",
                    "weight": 3,
                }
            ]
        },
        "post_call_schema",
        "accept",
    ),
]
