"""The contract against the vendor documents: every documented field, type, range, default,
enum and length is in the spec, and nothing else; every rule phrase is quoted exactly."""

from __future__ import annotations

import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest

from replyguard import spec

DOCS = Path(__file__).resolve().parents[2].parent / "shared" / "api-docs"
pytestmark = pytest.mark.skipif(
    not DOCS.is_dir(), reason=f"vendor documents not found at {DOCS} (<repo>/../shared/api-docs)"
)

TYPES = {"string", "integer", "number", "boolean", "object", "array", "integer[]"}
FIELD_NAME = re.compile(r"^[a-z][a-z0-9_]*$")
EN_DASH = "\u2013"  # the documents write ranges with an en dash: "Range: 0.7<en dash>1.2"
RANGE = re.compile(rf"Range: (\d+(?:\.\d+)?){EN_DASH}(\d+(?:\.\d+)?)")
MAX_CHARS = re.compile(r"Maximum (\d+) characters")
DEFAULT = re.compile(r'^default:"([^"]*)"$')
# "Assistant type: inbound or outbound." / "Engine mode: pipeline, multimodal, or dualplex."
ENUM_SENTENCE = re.compile(
    r"^(?:Assistant type|Engine mode|Voice activity detection type|Background ambient sound): "
    r"(.+)\.$"
)
BULLET = re.compile(r"^\s*•\s*([a-z_]+) —")


@dataclass(slots=True)
class DocField:
    """One field block of a document: name, type, [required], [default:"x"], description."""

    name: str
    type: str
    required: bool = False
    default: str | None = None
    lines: list[str] = field(default_factory=list)

    @property
    def text(self) -> str:
        """The description as one line."""
        return " ".join(line.strip() for line in self.lines)


def read_doc(name: str) -> str:
    """One vendor document's text."""
    return (DOCS / name).read_text(encoding="utf-8")


def normalised(text: str) -> str:
    """Whitespace runs collapsed to one space."""
    return " ".join(text.split())


def parse_fields(text: str, start: str, stop: str) -> dict[str, DocField]:
    """The field blocks between the line `start` and the line `stop`."""
    lines = text.splitlines()
    body = lines[lines.index(start) + 1 : lines.index(stop)]
    fields: dict[str, DocField] = {}
    current: DocField | None = None
    index = 0
    while index < len(body):
        line = body[index].strip()
        next_line = body[index + 1].strip() if index + 1 < len(body) else ""
        if FIELD_NAME.match(line) and next_line in TYPES:
            current = fields[line] = DocField(line, next_line)
            index += 2
            if index < len(body) and body[index].strip() == "required":
                current.required = True
                index += 1
            if index < len(body) and (match := DEFAULT.match(body[index].strip())):
                current.default = match.group(1)
                index += 1
            continue
        if current is not None:
            current.lines.append(body[index])
        index += 1
    return fields


def enum_values(doc_field: DocField) -> list[str] | None:
    """The enum a description lists, if any."""
    bullets = [m.group(1) for line in doc_field.lines if (m := BULLET.match(line))]
    if bullets:
        return bullets
    for line in doc_field.lines:
        if match := ENUM_SENTENCE.match(line.strip()):
            return re.split(r",\s*(?:or\s+)?|\s+or\s+", match.group(1))
    return None


def typed_default(raw: str, schema_type: str) -> Any:
    """A documented default ("0.70", "true", "vad") as the value its type documents."""
    if schema_type == "number":
        return float(raw)
    if schema_type == "integer":
        return int(raw)
    if schema_type == "boolean":
        return {"true": True, "false": False}[raw]
    return raw


def number(raw: str, schema_type: str) -> int | float:
    """A range bound as the field's type."""
    return int(raw) if schema_type == "integer" else float(raw)


@pytest.fixture(scope="module")
def create_fields() -> dict[str, DocField]:
    return parse_fields(read_doc("intellixent-create-assistant.txt"), "Request", "Response")


@pytest.fixture(scope="module")
def reply_fields() -> dict[str, DocField]:
    return parse_fields(read_doc("intellixent-generate-reply.txt"), "Request", "Response")


def schema_of(name: str) -> dict[str, Any]:
    """A component schema of the spec."""
    return spec.load_spec()["components"]["schemas"][name]


def expected_type(doc_type: str) -> str:
    """The JSON Schema type a documented type maps to."""
    return "array" if doc_type == "integer[]" else doc_type


def test_parser_finds_all_create_assistant_fields(create_fields: dict[str, DocField]) -> None:
    assert len(create_fields) == 55
    assert sum(1 for f in create_fields.values() if RANGE.search(f.text)) == 15
    assert sum(1 for f in create_fields.values() if f.default is not None) == 25


def test_create_assistant_fields_match(create_fields: dict[str, DocField]) -> None:
    schema = schema_of("CreateAssistantRequest")
    properties = schema["properties"]
    assert set(properties) == set(create_fields), "spec and document disagree on the fields"
    assert set(schema["required"]) == {n for n, f in create_fields.items() if f.required}
    for name, doc_field in create_fields.items():
        prop = properties[name]
        assert prop["type"] == expected_type(doc_field.type), name
        if doc_field.type == "integer[]":
            assert prop["items"]["type"] == "integer", name
        if doc_field.default is not None:
            default = typed_default(doc_field.default, prop["type"])
            assert prop["default"] == default, name
            assert type(prop["default"]) is type(default), name
        else:
            assert "default" not in prop, name
        match = RANGE.search(doc_field.text)
        if match:
            assert prop["minimum"] == number(match.group(1), prop["type"]), name
            assert prop["maximum"] == number(match.group(2), prop["type"]), name
            assert "exclusiveMinimum" not in prop, name
            assert "exclusiveMaximum" not in prop, name
        else:
            assert "maximum" not in prop, name
        enum = enum_values(doc_field)
        assert prop.get("enum") == enum, name
        length = MAX_CHARS.search(doc_field.text)
        documented_length = int(length.group(1)) if length else None
        inferred = prop.get("x-replyguard-inferred", [])
        assert (None if "maxLength" in inferred else prop.get("maxLength")) == documented_length
        assert doc_field.text.startswith(normalised(prop["description"])[:40]), name


def test_generate_reply_fields_match(reply_fields: dict[str, DocField]) -> None:
    schema = schema_of("GenerateReplyRequest")
    assert set(schema["properties"]) == set(reply_fields)
    assert set(schema["required"]) == {n for n, f in reply_fields.items() if f.required}
    for name, doc_field in reply_fields.items():
        prop = schema["properties"][name]
        assert prop["type"] == doc_field.type, name
        length = MAX_CHARS.search(doc_field.text)
        assert prop.get("maxLength") == (int(length.group(1)) if length else None), name


def test_generate_reply_response_fields_match() -> None:
    text = read_doc("intellixent-generate-reply.txt")
    lines = text.splitlines()
    documented = parse_fields(text, "Response", "Example")
    success = schema_of("GenerateReplySuccess")
    assert set(success["properties"]) == set(documented)
    assert set(success["required"]) == set(documented)
    for name, doc_field in documented.items():
        prop = success["properties"][name]
        assert prop.get("type", "boolean") == doc_field.type, name
    assert "Example" in lines


def test_non_inferred_rule_phrases_are_quoted_exactly() -> None:
    for rule in spec.load_rules().values():
        assert (DOCS / rule.source).is_file(), f"{rule.id}: no document {rule.source}"
        if rule.inferred:
            assert rule.phrase.startswith("Inferred:"), rule.id
            continue
        document = normalised(read_doc(rule.source))
        assert normalised(rule.phrase) in document, f"{rule.id}: phrase not in {rule.source}"


def test_every_documented_error_code_is_in_the_spec() -> None:
    codes = re.findall(r"• ([A-Z_]+) - ", read_doc("autocalls-generate-reply.txt"))
    envelope = schema_of("ErrorEnvelope")
    assert envelope["properties"]["error_code"]["enum"] == codes


def test_rate_limit_matches_every_document() -> None:
    limit = spec.rate_limit()
    for name in ("intellixent-generate-reply.txt", "autocalls-generate-reply.txt"):
        assert f"{limit.limit} requests per minute per API token" in read_doc(name)
    assert f"{limit.limit} Anfragen pro Minute pro API-Token" in read_doc(
        "famulor-generate-reply-de.txt"
    )
    assert limit.window_seconds == 60
