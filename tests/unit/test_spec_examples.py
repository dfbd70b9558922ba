"""The documents' example payloads (fixtures/examples/) validate against the contract."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest

from replyguard import spec

EXAMPLES = Path(__file__).resolve().parents[2] / "fixtures" / "examples"
SCHEMA_OF_EXAMPLE = {
    "generate-reply.request.json": "GenerateReplyRequest",
    "generate-reply.200.json": "GenerateReplySuccess",
    "generate-reply.402.json": "InsufficientBalanceError",
    "generate-reply.404.json": "AssistantNotFoundError",
    "generate-reply.429.json": "RateLimited",
    "create-assistant.request.json": "CreateAssistantRequest",
    "create-assistant.201.json": "CreateAssistantCreated",
    "create-assistant.422.json": "ValidationError",
}
COUNTER_EXAMPLE = "generate-reply.200.famulor-de.json"


def validator(schema_name: str) -> jsonschema.Draft202012Validator:
    """A Draft 2020-12 validator (formats asserted) for one component schema of the spec."""
    document = spec.load_spec()
    schema = {"$ref": f"#/components/schemas/{schema_name}", "components": document["components"]}
    return jsonschema.Draft202012Validator(
        schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER
    )


def load_example(name: str) -> Any:
    """One example payload."""
    return json.loads((EXAMPLES / name).read_text(encoding="utf-8"))


def test_every_example_file_is_checked() -> None:
    on_disk = {path.name for path in EXAMPLES.glob("*.json")}
    assert on_disk == {*SCHEMA_OF_EXAMPLE, COUNTER_EXAMPLE}


@pytest.mark.parametrize(("name", "schema_name"), sorted(SCHEMA_OF_EXAMPLE.items()))
def test_example_is_valid(name: str, schema_name: str) -> None:
    validator(schema_name).validate(load_example(name))


def test_famulor_de_example_fails_only_on_conversation_id_format() -> None:
    errors = list(validator("GenerateReplySuccess").iter_errors(load_example(COUNTER_EXAMPLE)))
    assert [(e.validator, list(e.absolute_path)) for e in errors] == [
        ("format", ["conversation_id"])
    ]


def test_spec_media_type_examples_equal_the_fixtures() -> None:
    document = spec.load_spec()
    operation = document["components"]["pathItems"]["GenerateReply"]["post"]
    create = document["paths"]["/user/assistant"]["post"]

    def example(node: dict[str, Any]) -> Any:
        return node["content"]["application/json"]["examples"]["document"]["value"]

    assert example(operation["requestBody"]) == load_example("generate-reply.request.json")
    assert example(operation["responses"]["200"]) == load_example("generate-reply.200.json")
    assert example(operation["responses"]["402"]) == load_example("generate-reply.402.json")
    assert example(operation["responses"]["404"]) == load_example("generate-reply.404.json")
    assert example(operation["responses"]["429"]) == load_example("generate-reply.429.json")
    assert example(create["requestBody"]) == load_example("create-assistant.request.json")
    assert example(create["responses"]["201"]) == load_example("create-assistant.201.json")
    responses = document["components"]["responses"]
    assert example(responses["CreateAssistantValidationFailed"]) == load_example(
        "create-assistant.422.json"
    )
