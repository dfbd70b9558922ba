"""replyguard.spec: the contract validates, the loader's views agree with it, rules trace."""

from __future__ import annotations

from typing import Any

import jsonschema
import pytest
import schemathesis
from openapi_spec_validator import validate

from replyguard import spec

CREATE = "CreateAssistantRequest"
GENERATE_REPLY_PATHS = {"/user/ai/generate-reply", "/ai/generate-reply"}
EXPECTED_PATHS = {
    brand: {"generate_reply": reply_path, "create_assistant": "/user/assistant"}
    for brand, reply_path in (
        ("intellixent", "/user/ai/generate-reply"),
        ("autocalls", "/ai/generate-reply"),
        ("famulor", "/ai/generate-reply"),
    )
}
EXPECTED_SERVERS = {
    "intellixent": "https://portal.intellixent.ai/api",
    "autocalls": "https://app.autocalls.ai/api",
    "famulor": "https://app.famulor.de/api",
}


def create_validator() -> jsonschema.Draft202012Validator:
    """A validator for CreateAssistantRequest, with the spec's components for $ref."""
    document = spec.load_spec()
    schema = {"$ref": f"#/components/schemas/{CREATE}", "components": document["components"]}
    return jsonschema.Draft202012Validator(schema)


def minimal_assistant(**overrides: Any) -> dict[str, Any]:
    """A valid pipeline create-assistant payload."""
    payload: dict[str, Any] = {
        "name": "Sales Assistant",
        "voice_id": 1,
        "language_id": 1,
        "type": "outbound",
        "mode": "pipeline",
        "timezone": "America/New_York",
        "initial_message": "Hello!",
        "system_prompt": "You are helpful.",
        "llm_model_id": 2,
    }
    payload.update(overrides)
    return payload


def test_full_spec_is_valid_openapi() -> None:
    validate(spec.load_spec())


@pytest.mark.parametrize("brand", spec.brands())
def test_brand_spec_is_valid_openapi(brand: str) -> None:
    validate(spec.spec_for_brand(brand))


@pytest.mark.parametrize("brand", spec.brands())
def test_spec_for_brand_keeps_one_generate_reply_path(brand: str) -> None:
    document = spec.spec_for_brand(brand)
    paths = {key for key in document["paths"] if not key.startswith("x-")}
    assert paths & GENERATE_REPLY_PATHS == {EXPECTED_PATHS[brand]["generate_reply"]}
    assert paths == set(EXPECTED_PATHS[brand].values())
    assert [server["url"] for server in document["servers"]] == [EXPECTED_SERVERS[brand]]
    operation = document["paths"][EXPECTED_PATHS[brand]["generate_reply"]]["post"]
    assert operation["operationId"] == "generateReply"
    assert operation["responses"]["200"]["links"]["SameConversation"]["operationId"] == (
        "generateReply"
    )
    assert "pathItems" not in document["components"]


@pytest.mark.parametrize("brand", spec.brands())
def test_operation_paths(brand: str) -> None:
    assert spec.operation_paths(brand) == EXPECTED_PATHS[brand]


def test_unknown_brand_is_refused() -> None:
    with pytest.raises(ValueError, match="unknown brand"):
        spec.spec_for_brand("acme")


def test_full_spec_has_no_operation_id_twice() -> None:
    document = spec.load_spec()
    operation_ids = [
        operation["operationId"]
        for item in document["paths"].values()
        if isinstance(item, dict) and "$ref" not in item
        for operation in item.values()
        if isinstance(operation, dict) and "operationId" in operation
    ]
    assert len(operation_ids) == len(set(operation_ids))


def test_load_spec_returns_a_copy() -> None:
    first = spec.load_spec()
    first["info"]["title"] = "changed"
    assert spec.load_spec()["info"]["title"] != "changed"


def test_rate_limit() -> None:
    limit = spec.rate_limit()
    assert (limit.limit, limit.window_seconds) == (5, 60)
    assert limit.counts_failed_validation
    assert not limit.counts_unauthenticated


def test_retry_after_maximum_is_the_window() -> None:
    retry_after = spec.resolve_pointer("RateLimited.properties.retry_after")
    assert retry_after["maximum"] == spec.rate_limit().window_seconds


def test_field_views() -> None:
    ranges = spec.ranged_fields()
    assert len(ranges) == 15
    assert ranges["speech_speed"] == spec.FieldRange("speech_speed", "number", 0.7, 1.2, 1.0)
    assert ranges["max_duration"].kind == "int"
    assert ranges["turn_detection_threshold"].default is None
    assert spec.enum_fields()["ambient_sound"][0] == "off"
    assert spec.max_length_fields() == {
        "name": 255,
        "initial_message": 200,
        "reengagement_prompt": 1000,
        "voice_mail_message": 1000,
    }
    assert spec.max_length_fields(include_inferred=True)["webhook_url"] == 2048
    assert len(spec.required_fields()) == 8
    assert len(spec.default_values()) == 25
    assert spec.catalog_fields()["chat_llm_fallback_id"] == "llm_models"
    assert spec.catalog_fields()["secondary_language_ids"] == "languages"
    with pytest.raises(KeyError):
        spec.field_schema("nope")


def test_rule_for_field_constraint() -> None:
    rule_id = spec.rule_for_field_constraint("speech_speed", "maximum")
    assert rule_id == "assistant.speech_speed.range"
    assert spec.rule_for_field_constraint("name", "maxLength") == "assistant.name.max-length"
    with pytest.raises(spec.UnknownRuleError):
        spec.rule_for_field_constraint("record", "minimum")


# --- rule traceability -------------------------------------------------------------------------


def test_rule_catalogue_loads_with_unique_ids() -> None:
    rules = spec.load_rules()
    assert len(rules) >= 100
    for rule_id, rule in rules.items():
        assert rule.id == rule_id
        assert rule.kind in ("schema", "behaviour", "ratelimit", "silent")
        assert rule.observability in ("yes", "partial", "no", "silent")
        assert (rule.kind == "silent") == (rule.observability == "silent"), rule_id
        if rule.kind in ("schema", "silent"):
            assert rule.spec, f"{rule.kind} rule {rule_id} has no spec pointer"


def test_silent_zones_and_silent_rules_are_the_same_list() -> None:
    zones = spec.load_silent_zones()
    silent_rules = {rid: r for rid, r in spec.load_rules().items() if r.kind == "silent"}
    assert {z.rule_id for z in zones.values()} == set(silent_rules)
    assert all(rid.startswith("silent.") for rid in silent_rules)
    for zone in zones.values():
        rule = silent_rules[zone.rule_id]
        assert rule.observable == "silent: observed; judged only with --strict"
        assert spec.resolve_pointer(rule.spec or "")["id"] == zone.id, rule.spec
        assert all((zone.point, zone.evidence, zone.decision, zone.probes))


def test_silent_zones_cover_the_issue_list() -> None:
    assert {
        "json-type-leniency",
        "optional-null",
        "blank-strings",
        "string-trimming",
        "urls-beyond-http",
        "error-shapes",
        "item-shapes",
        "unknown-properties",
    } <= set(spec.load_silent_zones())


def test_every_silent_annotation_names_a_zone() -> None:
    zones = set(spec.load_silent_zones())
    marks = [
        node["x-replyguard-silent"]
        for node in spec._walk(spec.load_spec()["components"])
        if "x-replyguard-silent" in node
    ]
    assert len(marks) >= 8
    for mark in marks:
        assert mark["zone"] in zones
        assert isinstance(mark["relax"], dict)
        assert mark["relax"]


def test_duplicate_rule_ids_are_refused(monkeypatch: pytest.MonkeyPatch, tmp_path: Any) -> None:
    (tmp_path / spec.RULES_FILE).write_text(
        "rules:\n"
        + "- {id: a, rule: r, source: s, phrase: p, observable: 'no', kind: schema}\n" * 2
    )
    monkeypatch.setattr(spec, "spec_dir", lambda: tmp_path)
    spec._rules.cache_clear()
    try:
        with pytest.raises(spec.DuplicateRuleError):
            spec.load_rules()
    finally:
        monkeypatch.undo()
        spec._rules.cache_clear()


def test_every_spec_pointer_resolves() -> None:
    for rule in spec.load_rules().values():
        if rule.spec is not None:
            spec.resolve_pointer(rule.spec)


def test_every_spec_rule_id_is_in_the_catalogue() -> None:
    unknown = spec.spec_rule_ids() - set(spec.load_rules())
    assert not unknown


def test_every_conditional_carries_a_known_rule() -> None:
    rules = spec.load_rules()
    conditionals = spec.resolve_pointer(f"{CREATE}.allOf")
    assert len(conditionals) == 8
    for conditional in conditionals:
        assert conditional["x-replyguard-rule"] in rules
        assert "required" in conditional["if"], "an `if` must not fire on absent properties"


@pytest.mark.parametrize(
    ("view", "constraint"),
    [
        (spec.ranged_fields, "range"),
        (spec.enum_fields, "enum"),
        (spec.max_length_fields, "max-length"),
        (spec.required_fields, "required"),
        (spec.default_values, "default"),
    ],
)
def test_every_field_constraint_has_its_rule(view: Any, constraint: str) -> None:
    rules = spec.load_rules()
    for field in view():
        rule_id = f"assistant.{field}.{constraint}"
        assert rule_id in rules, rule_id
        assert rule_id in spec.field_rules(field), f"{field} does not name {rule_id}"


def test_every_field_names_its_type_rule() -> None:
    for field in spec.resolve_pointer(f"{CREATE}.properties"):
        schema_type = spec.field_schema(field)["type"]
        assert f"assistant.types.{schema_type}" in spec.field_rules(field)


def test_catalogue_fields_name_the_references_rule() -> None:
    for field in spec.catalog_fields():
        assert "assistant.references.exist" in spec.field_rules(field)


def test_decisions_answer_the_readme_open_points() -> None:
    decisions = {d["id"]: d for d in spec.load_spec()["x-replyguard-decisions"]}
    for point in (
        "rate-limit-body",
        "generate-reply-422",
        "unauthenticated-401",
        "failed-validation-counts",
        "variables-merge-unobservable",
        "conversation-id-uuid",
    ):
        assert point in decisions
    for decision in decisions.values():
        assert decision["decision"]
        assert decision["reasoning"]


def test_inferred_responses_say_why() -> None:
    responses = spec.load_spec()["components"]["responses"]
    for name in ("Unauthenticated", "PayloadTooLarge", "GenerateReplyValidationFailed"):
        assert responses[name]["x-replyguard-inferred"] is True
        assert responses[name]["x-replyguard-why"]


# --- the engine-mode conditionals behave ---------------------------------------------------------


@pytest.mark.parametrize(
    ("payload", "rule_id"),
    [
        (minimal_assistant(llm_model_id=None), "assistant.mode.pipeline-requires-llm"),
        (
            minimal_assistant(mode="multimodal"),
            "assistant.mode.multimodal-requires-multimodal-model",
        ),
        (minimal_assistant(mode="dualplex"), "assistant.mode.dualplex-requires-multimodal-model"),
        (
            minimal_assistant(
                mode="multimodal", multimodal_model_id=3, knowledgebase_mode="prompt"
            ),
            "assistant.mode.knowledgebase-prompt-pipeline-only",
        ),
        (
            minimal_assistant(mode="dualplex", multimodal_model_id=3, fillers=True),
            "assistant.mode.fillers-pipeline-only",
        ),
        (
            minimal_assistant(mode="multimodal", multimodal_model_id=3, allow_interruptions=False),
            "assistant.mode.interruptions-required-realtime",
        ),
        (
            minimal_assistant(mode="dualplex", multimodal_model_id=3, transcriber_provider_id=1),
            "assistant.mode.transcriber-pipeline-only",
        ),
        (minimal_assistant(is_webhook_active=True), "assistant.webhook.url-required-when-active"),
    ],
)
def test_conditionals_reject(payload: dict[str, Any], rule_id: str) -> None:
    payload = {key: value for key, value in payload.items() if value is not None}
    errors = list(create_validator().iter_errors(payload))
    assert errors, rule_id
    conditionals = spec.resolve_pointer(f"{CREATE}.allOf")
    failing = {
        conditionals[error.absolute_schema_path[1]]["x-replyguard-rule"]
        for error in errors
        if list(error.absolute_schema_path)[:1] == ["allOf"]
    }
    assert failing == {rule_id}


@pytest.mark.parametrize(
    "payload",
    [
        minimal_assistant(),
        minimal_assistant(mode="multimodal", llm_model_id=None, multimodal_model_id=3),
        minimal_assistant(knowledgebase_mode="prompt", fillers=True, allow_interruptions=False),
        minimal_assistant(is_webhook_active=True, webhook_url="https://example.org/hook"),
        minimal_assistant(mode="dualplex", multimodal_model_id=3, fillers=False),
    ],
)
def test_conditionals_accept(payload: dict[str, Any]) -> None:
    payload = {key: value for key, value in payload.items() if value is not None}
    create_validator().validate(payload)


@pytest.mark.parametrize(
    "override",
    [
        {"name": ""},
        {"name": "   "},
        {"name": "x" * 256},
        {"speech_speed": 1.21},
        {"max_duration": 19},
        {"max_duration": 600.5},
        {"type": "sideways"},
        {"voice_id": 0},
        {"record": "true"},
        {"webhook_url": "not a url"},
        {"filler_config": {"cheerful": ["Yay"]}},
        {"tools": [{"description": "no type"}]},
        {"post_call_schema": [{"name": "status"}]},
        {"secondary_language_ids": [1, "2"]},
        {"variables": None},
        # Outside the documented-valid shape (silent zones, see test_suite_schemas).
        {"unknown_key": "ignored by Laravel"},
        {"webhook_url": "ftp://example.com/hook"},
        {"webhook_url": "https://bücher.example/hook"},
        {"post_call_schema": [{"name": "status", "type": "bool"}]},
        {"tools": [{"type": "end_call"}]},
        {"filler_config": {"positive": ["Great!"]}},
    ],
)
def test_field_constraints_reject(override: dict[str, Any]) -> None:
    assert not create_validator().is_valid(minimal_assistant(**override))


@pytest.mark.parametrize("brand", spec.brands())
def test_schemathesis_sees_the_follow_up_link(brand: str) -> None:
    schema = schemathesis.openapi.from_dict(spec.spec_for_brand(brand))
    assert len(list(schema.get_all_operations())) == 2
    machine = schema.as_state_machine()
    assert any("200_SameConversation" in name for name in dir(machine))
