"""The contract (openapi/assistant-api.yaml) and the rule catalogue (openapi/rules.yaml).

This is the only module that reads `openapi/`. Everything it returns is a copy or frozen, so a
caller cannot change what the next caller sees.
"""

from __future__ import annotations

import copy
import functools
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal

import yaml

__all__ = [
    "RULES_FILE",
    "SPEC_FILE",
    "DuplicateRuleError",
    "FieldRange",
    "RateLimit",
    "Rule",
    "SilentZone",
    "UnknownRuleError",
    "brand_servers",
    "brands",
    "catalog_fields",
    "default_values",
    "enum_fields",
    "field_rules",
    "field_schema",
    "get_rule",
    "load_rules",
    "load_silent_zones",
    "load_spec",
    "max_length_fields",
    "operation_paths",
    "ranged_fields",
    "rate_limit",
    "required_fields",
    "resolve_pointer",
    "rule_for_field_constraint",
    "spec_dir",
    "spec_for_brand",
    "spec_rule_ids",
]

SPEC_FILE = "assistant-api.yaml"
RULES_FILE = "rules.yaml"

_CREATE = "CreateAssistantRequest"
_GENERATE_REPLY_ITEM = "#/components/pathItems/GenerateReply"
# Constraint keyword (or short name) -> the suffix of its per-field rule id.
_CONSTRAINT_SUFFIX = {
    "minimum": "range",
    "maximum": "range",
    "range": "range",
    "enum": "enum",
    "maxLength": "max-length",
    "max-length": "max-length",
    "required": "required",
    "default": "default",
}


class DuplicateRuleError(ValueError):
    """rules.yaml holds the same rule id twice."""


class UnknownRuleError(KeyError):
    """A rule id that rules.yaml does not hold."""


@dataclass(slots=True, frozen=True)
class Rule:
    """One entry of openapi/rules.yaml."""

    id: str
    rule: str
    source: str
    phrase: str
    observable: str
    kind: Literal["schema", "behaviour", "ratelimit", "silent"]
    spec: str | None = None
    inferred: bool = False

    @property
    def observability(self) -> Literal["yes", "partial", "no", "silent"]:
        """The leading yes/partial/no (or silent, for a silent zone) of `observable`."""
        level = self.observable.split(":", 1)[0].strip()
        if level not in ("yes", "partial", "no", "silent"):
            raise ValueError(f"rule {self.id}: observable must start with yes/partial/no/silent")
        return level  # type: ignore[return-value]


@dataclass(slots=True, frozen=True)
class SilentZone:
    """One entry of the contract's `x-replyguard-silent-zones`: a point no document settles."""

    id: str
    point: str
    evidence: str
    decision: str
    probes: tuple[str, ...]

    @property
    def rule_id(self) -> str:
        """The zone's catalogue id, ``silent.<id>``."""
        return f"silent.{self.id}"


@dataclass(slots=True, frozen=True)
class RateLimit:
    """The generate-reply rate limit (the `x-rate-limit` extension)."""

    limit: int
    window_seconds: int
    scope: str = "token"
    counts_failed_validation: bool = True
    counts_unauthenticated: bool = False


@dataclass(slots=True, frozen=True)
class FieldRange:
    """An inclusive numeric range of a CreateAssistantRequest field."""

    name: str
    kind: Literal["int", "number"]
    minimum: int | float
    maximum: int | float
    default: int | float | None


def spec_dir() -> Path:
    """The folder holding the contract: the wheel's `_data/openapi`, else the repo's `openapi/`."""
    packaged = Path(__file__).parent / "_data" / "openapi"
    if (packaged / SPEC_FILE).is_file():
        return packaged
    return Path(__file__).resolve().parents[2] / "openapi"


def _read_yaml(name: str) -> Any:
    """Parse one YAML file of the spec folder."""
    with (spec_dir() / name).open(encoding="utf-8") as handle:
        # libyaml's loader when PyYAML has it (a tenth of the time: every run reads both files).
        return yaml.load(handle, Loader=getattr(yaml, "CSafeLoader", yaml.SafeLoader))


@functools.cache
def _spec() -> dict[str, Any]:
    """The parsed contract, shared; never handed out."""
    document = _read_yaml(SPEC_FILE)
    if not isinstance(document, dict):
        raise ValueError(f"{SPEC_FILE} is not a mapping")
    return document


def brands() -> tuple[str, ...]:
    """The brands, in the contract's order: each ``servers`` entry names one."""
    return tuple(dict.fromkeys(s["x-replyguard-brand"] for s in _spec()["servers"]))


def load_spec() -> dict[str, Any]:
    """A deep copy of the parsed contract."""
    return copy.deepcopy(_spec())


@functools.cache
def _rules() -> dict[str, Rule]:
    """The parsed rule catalogue, shared; never handed out."""
    rules: dict[str, Rule] = {}
    for entry in _read_yaml(RULES_FILE)["rules"]:
        rule = Rule(**entry)
        if rule.id in rules:
            raise DuplicateRuleError(f"rule id {rule.id!r} appears twice in {RULES_FILE}")
        rules[rule.id] = rule
    return rules


def load_rules() -> dict[str, Rule]:
    """The rule catalogue keyed by rule id (rules are frozen; the dict is a copy)."""
    return dict(_rules())


def get_rule(rule_id: str) -> Rule:
    """One rule by id; UnknownRuleError if the catalogue does not hold it."""
    try:
        return _rules()[rule_id]
    except KeyError:
        raise UnknownRuleError(f"rule id {rule_id!r} is not in {RULES_FILE}") from None


def load_silent_zones() -> dict[str, SilentZone]:
    """The contract's silent zones keyed by zone id, in document order."""
    zones: dict[str, SilentZone] = {}
    for entry in _spec()["x-replyguard-silent-zones"]:
        zone = SilentZone(
            id=entry["id"],
            point=entry["point"],
            evidence=entry["evidence"],
            decision=entry["decision"],
            probes=tuple(entry["probes"]),
        )
        if zone.id in zones:
            raise ValueError(f"silent zone {zone.id!r} appears twice in {SPEC_FILE}")
        zones[zone.id] = zone
    return zones


def _generate_reply_operation() -> dict[str, Any]:
    """The shared generate-reply operation (not copied)."""
    return _spec()["components"]["pathItems"]["GenerateReply"]["post"]


def rate_limit() -> RateLimit:
    """The generate-reply rate limit."""
    data = _generate_reply_operation()["x-rate-limit"]
    fields = {key: value for key, value in data.items() if not key.startswith("x-")}
    return RateLimit(**fields)


def _check_brand(brand: str) -> None:
    """Raise ValueError for an unknown brand."""
    if brand not in brands():
        raise ValueError(f"unknown brand {brand!r}; expected one of {', '.join(brands())}")


def brand_servers(brand: str) -> list[dict[str, Any]]:
    """The `servers` entries of one brand."""
    _check_brand(brand)
    servers = _spec()["servers"]
    return [copy.deepcopy(s) for s in servers if s.get("x-replyguard-brand") == brand]


def operation_paths(brand: str) -> dict[str, str]:
    """Operation name (generate_reply, create_assistant) -> path, for one brand."""
    _check_brand(brand)
    paths = _spec()["paths"]
    return {
        operation: path
        for path, operation in paths["x-replyguard-operations"].items()
        if brand in paths["x-replyguard-brands"][path]
    }


def spec_for_brand(brand: str) -> dict[str, Any]:
    """The contract for one brand: its server and paths only, with one generate-reply operation.

    The shared generate-reply path item is inlined and gets its operationId and links here,
    because two paths of the full document may not carry the same operationId.
    """
    document = load_spec()
    document["servers"] = brand_servers(brand)
    paths = document["paths"]
    keep = set(operation_paths(brand).values())
    for key in [key for key in paths if not key.startswith("x-") and key not in keep]:
        del paths[key]
    for extension in ("x-replyguard-brands", "x-replyguard-operations"):
        paths[extension] = {key: value for key, value in paths[extension].items() if key in keep}
    path_items = document["components"].pop("pathItems")
    for key in keep:
        if paths[key].get("$ref") == _GENERATE_REPLY_ITEM:
            paths[key] = _materialise(path_items["GenerateReply"])
    return document


def _materialise(path_item: dict[str, Any]) -> dict[str, Any]:
    """Give the shared generate-reply operation its operationId and links."""
    operation = path_item["post"]
    operation["operationId"] = operation["x-replyguard-operation-id"]
    for response in operation["responses"].values():
        if "x-replyguard-links" in response:
            response["links"] = response.pop("x-replyguard-links")
    return path_item


def resolve_pointer(pointer: str, document: dict[str, Any] | None = None) -> Any:
    """The node a rules.yaml `spec` pointer names: `#/json/pointer`, or a dotted path under
    components.schemas (`CreateAssistantRequest.properties.speech_speed`)."""
    node: Any = _spec() if document is None else document
    if pointer.startswith("#/"):
        parts = [p.replace("~1", "/").replace("~0", "~") for p in pointer[2:].split("/")]
    else:
        parts = ["components", "schemas", *pointer.split(".")]
    for part in parts:
        if isinstance(node, list):
            node = node[int(part)]
        elif isinstance(node, dict) and part in node:
            node = node[part]
        else:
            raise KeyError(f"spec pointer {pointer!r}: no {part!r}")
    return copy.deepcopy(node)


def _create_properties() -> dict[str, Any]:
    """CreateAssistantRequest's properties (not copied)."""
    return _spec()["components"]["schemas"][_CREATE]["properties"]


def field_schema(name: str) -> dict[str, Any]:
    """A copy of one CreateAssistantRequest property's schema."""
    try:
        return copy.deepcopy(_create_properties()[name])
    except KeyError:
        raise KeyError(f"{_CREATE} has no field {name!r}") from None


def ranged_fields() -> dict[str, FieldRange]:
    """CreateAssistantRequest fields with a numeric minimum and maximum (ids excluded)."""
    return {
        name: FieldRange(
            name=name,
            kind="int" if schema["type"] == "integer" else "number",
            minimum=schema["minimum"],
            maximum=schema["maximum"],
            default=schema.get("default"),
        )
        for name, schema in _create_properties().items()
        if "minimum" in schema and "maximum" in schema
    }


def enum_fields() -> dict[str, tuple[str, ...]]:
    """CreateAssistantRequest fields with an enum, and their values."""
    return {
        name: tuple(schema["enum"])
        for name, schema in _create_properties().items()
        if "enum" in schema
    }


def max_length_fields(*, include_inferred: bool = False) -> dict[str, int]:
    """CreateAssistantRequest string fields with a documented maxLength."""
    return {
        name: schema["maxLength"]
        for name, schema in _create_properties().items()
        if "maxLength" in schema
        and (include_inferred or "maxLength" not in schema.get("x-replyguard-inferred", ()))
    }


def required_fields() -> tuple[str, ...]:
    """CreateAssistantRequest's required fields, in document order."""
    return tuple(_spec()["components"]["schemas"][_CREATE]["required"])


def default_values() -> dict[str, Any]:
    """CreateAssistantRequest fields with a documented default, and the default."""
    return {
        name: schema["default"]
        for name, schema in _create_properties().items()
        if "default" in schema
    }


def catalog_fields() -> dict[str, str]:
    """CreateAssistantRequest id fields (or id-array fields) -> the catalogue they draw from."""
    result: dict[str, str] = {}
    for name, schema in _create_properties().items():
        catalog = schema.get("x-replyguard-catalog") or schema.get("items", {}).get(
            "x-replyguard-catalog"
        )
        if catalog:
            result[name] = catalog
    return result


def _as_rule_ids(value: Any) -> tuple[str, ...]:
    """An `x-replyguard-rule` value (one id or a list) as a tuple."""
    if value is None:
        return ()
    return (value,) if isinstance(value, str) else tuple(value)


def field_rules(name: str) -> tuple[str, ...]:
    """The rule ids a CreateAssistantRequest field's schema names."""
    return _as_rule_ids(field_schema(name).get("x-replyguard-rule"))


def rule_for_field_constraint(field: str, constraint: str) -> str:
    """The rule id behind one constraint (minimum, maximum, enum, maxLength, required, default)
    of a CreateAssistantRequest field."""
    suffix = _CONSTRAINT_SUFFIX.get(constraint)
    if suffix is None:
        raise ValueError(f"no per-field rule for constraint {constraint!r}")
    rule_id = f"assistant.{field}.{suffix}"
    if rule_id not in field_rules(field):
        raise UnknownRuleError(f"{_CREATE}.{field} carries no rule {rule_id!r}")
    return get_rule(rule_id).id


def _walk(node: Any) -> Iterator[dict[str, Any]]:
    """Every mapping in a parsed document, depth first."""
    if isinstance(node, dict):
        yield node
        for value in node.values():
            yield from _walk(value)
    elif isinstance(node, list):
        for value in node:
            yield from _walk(value)


def spec_rule_ids(document: dict[str, Any] | None = None) -> set[str]:
    """Every rule id named by an `x-replyguard-rule` in the contract."""
    return {
        rule_id
        for node in _walk(_spec() if document is None else document)
        for rule_id in _as_rule_ids(node.get("x-replyguard-rule"))
    }
