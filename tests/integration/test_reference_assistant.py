"""Create-assistant on the reference server, over HTTP (intellixent-create-assistant.txt)."""

from __future__ import annotations

import math
from typing import TYPE_CHECKING, Any

import httpx
import pytest

if TYPE_CHECKING:
    from tests.helpers.servers import Reference

pytest_plugins = ["tests.helpers.servers"]
pytestmark = pytest.mark.integration

PATH = "/user/assistant"

BASES: dict[str, dict[str, Any]] = {
    "pipeline": {"voice_id": 1, "llm_model_id": 2},
    "multimodal": {"voice_id": 7, "multimodal_model_id": 5},
    "dualplex": {"voice_id": 8, "multimodal_model_id": 6},
}

# (field, kind, minimum, maximum) for every documented range, inclusive.
NUMBER_RANGES = [
    ("turn_detection_threshold", 0, 1),
    ("voice_stability", 0, 1),
    ("voice_similarity", 0, 1),
    ("speech_speed", 0.7, 1.2),
    ("llm_temperature", 0, 1),
    ("endpoint_sensitivity", 0, 5),
    ("interrupt_sensitivity", 0, 5),
    ("ambient_sound_volume", 0, 1),
]
INTEGER_RANGES = [
    ("max_duration", 20, 1200),
    ("max_silence_duration", 1, 360),
    ("max_initial_silence_duration", 1, 120),
    ("ringing_time", 1, 60),
    ("reengagement_interval", 7, 600),
    ("min_interrupt_words", 0, 10),
    ("conversation_inactivity_timeout", 1, 1440),
]
BOOLEANS = [
    "tts_emotion_enabled",
    "allow_interruptions",
    "fillers",
    "record",
    "enable_noise_cancellation",
    "wait_for_customer",
    "end_call_on_voicemail",
    "is_webhook_active",
    "send_webhook_only_on_completed",
    "include_recording_in_webhook",
    "post_call_evaluation",
    "conversation_ended_retrigger",
]
IDS = [
    "voice_id",
    "language_id",
    "llm_model_id",
    "multimodal_model_id",
    "chat_llm_fallback_id",
    "knowledgebase_id",
    "phone_number_id",
    "synthesizer_provider_id",
    "transcriber_provider_id",
]
STRINGS = [
    "name",
    "type",
    "mode",
    "timezone",
    "initial_message",
    "system_prompt",
    "knowledgebase_mode",
    "reengagement_prompt",
    "voice_mail_message",
    "endpoint_type",
    "ambient_sound",
    "webhook_url",
    "conversation_ended_webhook_url",
]
ARRAYS = ["secondary_language_ids", "tool_ids", "tools", "post_call_schema"]
OBJECTS = ["filler_config", "variables"]
REQUIRED = [
    "name",
    "voice_id",
    "language_id",
    "type",
    "mode",
    "timezone",
    "initial_message",
    "system_prompt",
]


def payload(engine: str = "pipeline", /, **overrides: Any) -> dict[str, Any]:
    data: dict[str, Any] = {
        "name": "Sales Assistant",
        "language_id": 1,
        "type": "outbound",
        "mode": engine,
        "timezone": "America/New_York",
        "initial_message": "Hello! How can I help you today?",
        "system_prompt": "You are a professional sales assistant...",
        **BASES[engine],
    }
    data.update(overrides)
    return {k: v for k, v in data.items() if v is not _DROP}


_DROP = object()


def create(api: httpx.Client, data: dict[str, Any]) -> httpx.Response:
    return api.post(PATH, json=data)


def assert_errors(response: httpx.Response, *fields: str) -> dict[str, Any]:
    assert response.status_code == 422, response.text
    data: dict[str, Any] = response.json()
    assert data["message"] == "Validation failed"
    assert set(data["errors"]) == set(fields), data["errors"]
    return data


def assert_created(response: httpx.Response) -> dict[str, Any]:
    assert response.status_code == 201, response.text
    data: dict[str, Any] = response.json()
    assert data["message"] == "Assistant created successfully"
    assert data["data"]["status"] == "inactive"
    assert data["data"]["id"] >= 1000
    return data


@pytest.mark.parametrize("mode", list(BASES))
def test_minimal_create_per_mode(api: httpx.Client, mode: str) -> None:
    data = assert_created(create(api, payload(mode)))
    assert data["data"]["mode"] == mode
    assert data["data"]["type"] == "outbound"
    assert data["data"]["name"] == "Sales Assistant"
    assert set(data["data"]) == {"id", "name", "status", "type", "mode"}


def test_document_example_created(api: httpx.Client) -> None:
    body = payload(
        record=True, tools=[{"type": "end_call", "description": "End call when satisfied"}]
    )
    assert_created(create(api, body))


def test_ids_increase(api: httpx.Client) -> None:
    first = assert_created(create(api, payload()))["data"]["id"]
    second = assert_created(create(api, payload()))["data"]["id"]
    assert second > first


def test_full_payload_created(api: httpx.Client) -> None:
    body = payload(
        secondary_language_ids=[2, 3],
        knowledgebase_id=3,
        knowledgebase_mode="prompt",
        phone_number_id=10,
        tool_ids=[1, 5],
        tools=[{"type": "end_call"}, {"type": "transfer", "number": "+1"}],
        voice_stability=0.7,
        voice_similarity=0.5,
        speech_speed=1,
        llm_temperature=0.1,
        tts_emotion_enabled=False,
        synthesizer_provider_id=2,
        transcriber_provider_id=1,
        allow_interruptions=False,
        fillers=True,
        filler_config={"positive": ["Great!"], "negative": [], "question": ["?"], "neutral": []},
        record=True,
        enable_noise_cancellation=False,
        wait_for_customer=True,
        max_duration=600,
        max_silence_duration=40,
        max_initial_silence_duration=10,
        ringing_time=30,
        reengagement_interval=30,
        reengagement_prompt="Are you there?",
        end_call_on_voicemail=False,
        voice_mail_message="Call me back",
        endpoint_type="ai",
        endpoint_sensitivity=0.5,
        interrupt_sensitivity=2.5,
        min_interrupt_words=2,
        ambient_sound="cafe",
        ambient_sound_volume=0.5,
        is_webhook_active=True,
        webhook_url="https://example.com/hook",
        send_webhook_only_on_completed=False,
        include_recording_in_webhook=False,
        post_call_evaluation=True,
        post_call_schema=[
            {"name": "status", "type": "bool", "description": "Was the call objective achieved"},
            {"name": "summary", "type": "string"},
        ],
        variables={"company_name": "Acme Corp"},
        conversation_inactivity_timeout=30,
        conversation_ended_retrigger=True,
        conversation_ended_webhook_url="http://example.com/ended",
        chat_llm_fallback_id=3,
        multimodal_model_id=5,
        turn_detection_threshold=0.5,
        unknown_extra_field={"ignored": True},
    )
    assert len(body) == 55 + 1
    assert_created(create(api, body))


def test_empty_body_lists_every_required_field(api: httpx.Client) -> None:
    assert_errors(create(api, {}), *REQUIRED)


@pytest.mark.parametrize("field", REQUIRED)
def test_each_required_field(api: httpx.Client, field: str) -> None:
    assert_errors(create(api, payload(**{field: _DROP})), field)


@pytest.mark.parametrize("field", ["name", "timezone", "initial_message", "system_prompt"])
@pytest.mark.parametrize("blank", ["", "   ", "\t\n"])
def test_required_strings_need_non_whitespace(api: httpx.Client, field: str, blank: str) -> None:
    assert_errors(create(api, payload(**{field: blank})), field)


def test_every_failing_field_is_listed(api: httpx.Client) -> None:
    body = payload(
        name=5,
        speech_speed=2,
        max_duration=10,
        type="sideways",
        tool_ids=[1, "x", 12],
        record="yes",
        webhook_url="ftp://nope",
    )
    assert_errors(
        create(api, body),
        "name",
        "speech_speed",
        "max_duration",
        "type",
        "tool_ids.1",
        "tool_ids.2",
        "record",
        "webhook_url",
    )


@pytest.mark.parametrize(("field", "low", "high"), NUMBER_RANGES)
def test_number_ranges_inclusive(api: httpx.Client, field: str, low: float, high: float) -> None:
    mode = "multimodal" if field == "turn_detection_threshold" else "pipeline"
    for ok in (low, high, float(low), float(high)):
        assert_created(create(api, payload(mode, **{field: ok})))
    for bad in (math.nextafter(low, -math.inf), math.nextafter(high, math.inf)):
        assert_errors(create(api, payload(mode, **{field: bad})), field)


@pytest.mark.parametrize(("field", "low", "high"), INTEGER_RANGES)
def test_integer_ranges_inclusive(api: httpx.Client, field: str, low: int, high: int) -> None:
    for ok in (low, high, float(low)):
        assert_created(create(api, payload(**{field: ok})))
    for bad in (low - 1, high + 1, low + 0.5):
        assert_errors(create(api, payload(**{field: bad})), field)


WRONG_TYPES: dict[str, list[Any]] = {
    "number": [True, "0.5", None, [0.5], {"v": 0.5}],
    "integer": [True, False, "30", 30.5, None, [30], {"v": 30}, 10**30],
    "boolean": [1, 0, "true", None, [True], {}],
    "string": [5, True, None, ["x"], {"x": 1}],
    "array": ["x", 5, True, None, {"0": 1}],
    "object": ["x", 5, True, None, ["x"]],
}


def typed_fields() -> list[tuple[str, Any]]:
    cases: list[tuple[str, Any]] = []
    kinds = {
        "number": [f for f, _, _ in NUMBER_RANGES],
        "integer": [f for f, _, _ in INTEGER_RANGES] + IDS,
        "boolean": BOOLEANS,
        "string": STRINGS,
        "array": ARRAYS,
        "object": OBJECTS,
    }
    for kind, fields in kinds.items():
        for field in fields:
            cases.extend((field, value) for value in WRONG_TYPES[kind])
    return cases


def test_documented_field_count() -> None:
    every = (
        [f for f, _, _ in NUMBER_RANGES]
        + [f for f, _, _ in INTEGER_RANGES]
        + BOOLEANS
        + IDS
        + STRINGS
        + ARRAYS
        + OBJECTS
    )
    assert len(every) == len(set(every)) == 55


@pytest.mark.parametrize(("field", "value"), typed_fields())
def test_wrong_types_rejected(api: httpx.Client, field: str, value: Any) -> None:
    mode = "multimodal" if field in ("turn_detection_threshold",) else "pipeline"
    response = create(api, payload(mode, **{field: value}))
    assert response.status_code == 422, (field, value)
    assert field in response.json()["errors"]


@pytest.mark.parametrize(
    ("field", "limit"),
    [
        ("name", 255),
        ("initial_message", 200),
        ("reengagement_prompt", 1000),
        ("voice_mail_message", 1000),
    ],
)
def test_max_lengths(api: httpx.Client, field: str, limit: int) -> None:
    assert_created(create(api, payload(**{field: "é" * limit})))
    assert_errors(create(api, payload(**{field: "é" * (limit + 1)})), field)


@pytest.mark.parametrize(
    ("field", "good", "bad"),
    [
        ("type", ["inbound", "outbound"], ["Inbound", "both", ""]),
        ("knowledgebase_mode", ["function_call", "prompt"], ["Prompt", "x", ""]),
        ("endpoint_type", ["vad", "ai"], ["VAD", "x", ""]),
        (
            "ambient_sound",
            ["off", "office", "city", "forest", "crowded_room", "cafe", "nature"],
            ["crowded room", "beach", ""],
        ),
    ],
)
def test_enums(api: httpx.Client, field: str, good: list[str], bad: list[str]) -> None:
    for value in good:
        extra = {"phone_number_id": _DROP} if field == "type" else {}
        assert_created(create(api, payload(**{field: value}, **extra)))
    for value in bad:
        assert_errors(create(api, payload(**{field: value})), field)


def test_mode_enum(api: httpx.Client) -> None:
    for value in ("Pipeline", "hybrid", ""):
        assert_errors(create(api, payload(mode=value)), "mode")


@pytest.mark.parametrize("field", ["webhook_url", "conversation_ended_webhook_url"])
def test_webhook_urls(api: httpx.Client, field: str) -> None:
    for ok in ("http://a", "https://example.com/x?y=1", "https://" + "a" * (2048 - 8)):
        assert_created(create(api, payload(**{field: ok})))
    for bad in (
        "example.com",
        "ftp://example.com",
        "https://",
        "https://exa mple.com",
        "https://example.com\n",
        "https://" + "a" * (2049 - 8),
        "",
    ):
        assert_errors(create(api, payload(**{field: bad})), field)


def test_webhook_url_required_when_active(api: httpx.Client) -> None:
    assert_errors(create(api, payload(is_webhook_active=True)), "webhook_url")
    assert_created(create(api, payload(is_webhook_active=False)))


@pytest.mark.parametrize("tz", ["UTC", "Europe/Bucharest", "America/New_York", "Asia/Tokyo"])
def test_valid_timezones(api: httpx.Client, tz: str) -> None:
    assert_created(create(api, payload(timezone=tz)))


@pytest.mark.parametrize("tz", ["Mars/Olympus", "america/new_york", "GMT+25", "Europe/"])
def test_invalid_timezones(api: httpx.Client, tz: str) -> None:
    assert_errors(create(api, payload(timezone=tz)), "timezone")


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ([{"type": "end_call"}, {"type": "x", "other": [1]}], ()),
        ([], ()),
        (["end_call"], ("tools.0",)),
        ([{"description": "no type"}], ("tools.0.type",)),
        ([{"type": ""}], ("tools.0.type",)),
        ([{"type": 5}], ("tools.0.type",)),
        ([{"type": "ok"}, {"type": None}], ("tools.1.type",)),
    ],
)
def test_tools_shape(api: httpx.Client, value: Any, fields: tuple[str, ...]) -> None:
    response = create(api, payload(tools=value))
    if fields:
        assert_errors(response, *fields)
    else:
        assert_created(response)


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ([{"name": "s", "type": "bool"}], ()),
        ([{"name": "s", "type": "bool", "description": "d"}], ()),
        ([{"type": "bool"}], ("post_call_schema.0.name",)),
        ([{"name": "s"}], ("post_call_schema.0.type",)),
        ([{"name": "", "type": ""}], ("post_call_schema.0.name", "post_call_schema.0.type")),
        ([{"name": "s", "type": "b", "description": 5}], ("post_call_schema.0.description",)),
        ([{"name": "s", "type": "b", "description": None}], ("post_call_schema.0.description",)),
        ([5], ("post_call_schema.0",)),
    ],
)
def test_post_call_schema_shape(api: httpx.Client, value: Any, fields: tuple[str, ...]) -> None:
    response = create(api, payload(post_call_schema=value))
    if fields:
        assert_errors(response, *fields)
    else:
        assert_created(response)


@pytest.mark.parametrize(
    ("value", "fields"),
    [
        ({}, ()),
        ({"positive": ["Great!"], "neutral": []}, ()),
        ({"happy": ["x"]}, ("filler_config",)),
        ({"positive": "Great!"}, ("filler_config.positive",)),
        ({"positive": ["ok", 5]}, ("filler_config.positive.1",)),
    ],
)
def test_filler_config_shape(api: httpx.Client, value: Any, fields: tuple[str, ...]) -> None:
    response = create(api, payload(filler_config=value))
    if fields:
        assert_errors(response, *fields)
    else:
        assert_created(response)


def test_int_arrays(api: httpx.Client) -> None:
    assert_created(create(api, payload(secondary_language_ids=[2, 3, 2.0], tool_ids=[])))
    assert_errors(
        create(api, payload(secondary_language_ids=[2, 4], tool_ids=[1, True, 12])),
        "secondary_language_ids.1",
        "tool_ids.1",
        "tool_ids.2",
    )


# --- engine-mode rules


def test_llm_model_required_for_pipeline(api: httpx.Client) -> None:
    assert_errors(create(api, payload(llm_model_id=_DROP)), "llm_model_id")


@pytest.mark.parametrize("mode", ["multimodal", "dualplex"])
def test_multimodal_model_required(api: httpx.Client, mode: str) -> None:
    assert_errors(create(api, payload(mode, multimodal_model_id=_DROP)), "multimodal_model_id")


@pytest.mark.parametrize("mode", ["multimodal", "dualplex"])
def test_pipeline_only_settings(api: httpx.Client, mode: str) -> None:
    assert_errors(create(api, payload(mode, knowledgebase_mode="prompt")), "knowledgebase_mode")
    assert_created(create(api, payload(mode, knowledgebase_mode="function_call")))
    assert_errors(create(api, payload(mode, fillers=True)), "fillers")
    assert_created(create(api, payload(mode, fillers=False)))
    assert_errors(create(api, payload(mode, allow_interruptions=False)), "allow_interruptions")
    assert_created(create(api, payload(mode, allow_interruptions=True)))
    assert_errors(create(api, payload(mode, transcriber_provider_id=1)), "transcriber_provider_id")


def test_pipeline_allows_pipeline_settings(api: httpx.Client) -> None:
    body = payload(
        knowledgebase_mode="prompt",
        fillers=True,
        allow_interruptions=False,
        transcriber_provider_id=2,
    )
    assert_created(create(api, body))


@pytest.mark.parametrize(
    ("mode", "voice", "ok"),
    [
        ("pipeline", 1, True),
        ("pipeline", 2, True),
        ("pipeline", 7, False),
        ("pipeline", 8, False),
        ("multimodal", 7, True),
        ("multimodal", 8, True),
        ("multimodal", 1, False),
        ("multimodal", 2, False),
        ("dualplex", 1, True),
        ("dualplex", 8, True),
        ("dualplex", 2, False),
        ("dualplex", 7, False),
    ],
)
def test_voice_compatibility(api: httpx.Client, mode: str, voice: int, ok: bool) -> None:
    response = create(api, payload(mode, voice_id=voice))
    if ok:
        assert_created(response)
    else:
        data = assert_errors(response, "voice_id")
        assert data["errors"]["voice_id"] == [
            "The selected voice is not compatible with the chosen engine type."
        ]


# --- catalogue and ownership


@pytest.mark.parametrize(
    ("field", "good", "bad", "mode"),
    [
        ("voice_id", 2, 3, "pipeline"),
        ("language_id", 3, 4, "pipeline"),
        ("llm_model_id", 3, 5, "pipeline"),
        ("multimodal_model_id", 6, 2, "multimodal"),
        ("chat_llm_fallback_id", 2, 5, "multimodal"),
        ("synthesizer_provider_id", 2, 3, "pipeline"),
        ("transcriber_provider_id", 2, 3, "pipeline"),
        ("knowledgebase_id", 3, 4, "pipeline"),
        ("knowledgebase_id", 3, 99, "pipeline"),
        ("phone_number_id", 9, 20, "pipeline"),
        ("phone_number_id", 11, 99, "pipeline"),
    ],
)
def test_catalogue_and_ownership(
    api: httpx.Client, field: str, good: int, bad: int, mode: str
) -> None:
    assert_created(create(api, payload(mode, **{field: good})))
    assert_errors(create(api, payload(mode, **{field: bad})), field)


def test_foreign_resources_belong_to_their_owner(reference_server: Reference) -> None:
    with httpx.Client(
        base_url=reference_server.base_url, headers=reference_server.headers("other_account")
    ) as other:
        body = payload(knowledgebase_id=4, tool_ids=[12], phone_number_id=20)
        assert_created(create(other, body))
        bad = payload(knowledgebase_id=3, tool_ids=[1], phone_number_id=9)
        assert_errors(create(other, bad), "knowledgebase_id", "tool_ids.0", "phone_number_id")


def test_inbound_phone_rules(make_reference: Any) -> None:
    ref = make_reference()
    with httpx.Client(base_url=ref.base_url, headers=ref.headers()) as api:
        # A Caller ID number cannot serve an inbound assistant (it can serve an outbound one).
        assert_errors(create(api, payload(type="inbound", phone_number_id=10)), "phone_number_id")
        assert_created(create(api, payload(type="outbound", phone_number_id=10)))
        # 11 is already assigned to inbound assistant 102.
        assert_errors(create(api, payload(type="inbound", phone_number_id=11)), "phone_number_id")
        assert_created(create(api, payload(type="outbound", phone_number_id=11)))
        # 9 is free: the first inbound assistant takes it, the second is refused.
        assert_created(create(api, payload(type="inbound", phone_number_id=9)))
        assert_errors(create(api, payload(type="inbound", phone_number_id=9)), "phone_number_id")
        assert_created(create(api, payload(type="outbound", phone_number_id=9)))
        assert_created(create(api, payload(type="inbound")))


def test_created_assistant_can_reply(api: httpx.Client) -> None:
    new_id = assert_created(create(api, payload()))["data"]["id"]
    response = api.post(
        "/user/ai/generate-reply",
        json={"assistant_id": new_id, "customer_identifier": "c", "message": "hi"},
    )
    assert response.status_code == 200


def test_created_assistant_is_foreign_to_others(
    reference_server: Reference, api: httpx.Client
) -> None:
    new_id = assert_created(create(api, payload()))["data"]["id"]
    response = httpx.post(
        reference_server.base_url + "/user/ai/generate-reply",
        json={"assistant_id": new_id, "customer_identifier": "c", "message": "hi"},
        headers=reference_server.headers("other_account"),
    )
    assert response.status_code == 404


def test_defaults_are_stored(reference_server: Reference, api: httpx.Client) -> None:
    import json
    import sqlite3

    new_id = assert_created(create(api, payload()))["data"]["id"]
    conn = sqlite3.connect(reference_server.db_path)
    try:
        (raw,) = conn.execute("SELECT config FROM assistants WHERE id = ?", (new_id,)).fetchone()
    finally:
        conn.close()
    config = json.loads(raw)
    assert len(config) == 55
    assert config["speech_speed"] == 1.0
    assert config["max_duration"] == 600
    assert config["endpoint_type"] == "vad"
    assert config["allow_interruptions"] is True
    assert config["fillers"] is False
    assert config["conversation_inactivity_timeout"] == 30
