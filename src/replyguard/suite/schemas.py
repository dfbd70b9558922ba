"""The contract as one target sees it, and the input space in three parts.

Positive cases generated from the bare contract carry random voice, language and model ids
that any real deployment rejects as unknown. Narrowing every ``x-replyguard-catalog`` field to
the profile's ids (and voices to the modes they support) makes "valid" mean valid *here*,
while negative generation still breaks each constraint.

``InputSpace`` sorts any request body into *valid* (the documented-valid shape: the target must
accept it), *invalid* (every reading of the documents rejects it: the target must refuse it) and
*silent* (a zone of the contract's ``x-replyguard-silent-zones``: never judged). "Invalid" is
judged against the contract widened to its most lenient reading (see ``lenient_schema``).
"""

from __future__ import annotations

import copy
import functools
import re
from typing import Any, Literal

from replyguard.profile import MODES, Target
from replyguard.spec import load_spec, operation_paths, spec_for_brand

__all__ = [
    "REQUEST_SCHEMAS",
    "TIMEZONES",
    "InputSpace",
    "Region",
    "is_plain",
    "lenient_schema",
    "narrowed_spec",
    "plain_spelling",
    "request_validator",
    "schemathesis_schema",
    "trimmed",
]

Region = Literal["valid", "invalid", "silent"]
REQUEST_SCHEMAS = {
    "create_assistant": "CreateAssistantRequest",
    "generate_reply": "GenerateReplyRequest",
}

# A handful of IANA names for positive generation; the documents' two examples come first.
TIMEZONES = ["America/New_York", "Europe/Bucharest", "Europe/Berlin", "UTC", "Asia/Tokyo"]


def narrowed_spec(target: Target) -> dict[str, Any]:
    """The contract for ``target``: its server, its two paths, ids narrowed to its catalogue."""
    spec = spec_for_brand(target.brand or "intellixent")
    spec["servers"] = [{"url": target.base_url}]
    brand_paths = operation_paths(target.brand or "intellixent")
    paths = spec["paths"]
    for operation, wanted in (
        ("generate_reply", target.paths.generate_reply),
        ("create_assistant", target.paths.create_assistant),
    ):
        current = brand_paths[operation]
        if current != wanted and current in paths:
            paths[wanted] = paths.pop(current)
    schemas = spec["components"]["schemas"]
    _narrow_generate_reply(schemas["GenerateReplyRequest"], target)
    _narrow_create_assistant(schemas["CreateAssistantRequest"], target)
    return spec


def _narrow_generate_reply(schema: dict[str, Any], target: Target) -> None:
    own = [a for a in (target.assistants.own, target.assistants.own_second) if a is not None]
    schema["properties"]["assistant_id"] = {**schema["properties"]["assistant_id"], "enum": own}


def _catalog_ids(target: Target, name: str) -> list[int]:
    catalog = target.catalog
    if name == "voices":
        return [v.id for v in catalog.voices]
    if name == "phone_numbers":
        return [p.id for p in catalog.phone_numbers]
    return list(getattr(catalog, name, ()))


def _narrow_create_assistant(schema: dict[str, Any], target: Target) -> None:
    properties: dict[str, Any] = schema["properties"]
    for name, prop in list(properties.items()):
        holder = prop.get("items", prop) if prop.get("type") == "array" else prop
        catalog = holder.get("x-replyguard-catalog")
        if holder.get("x-replyguard-iana-timezone"):
            holder["enum"] = TIMEZONES
        if not catalog:
            continue
        ids = _catalog_ids(target, catalog)
        if ids:
            holder["enum"] = ids
        elif name in schema.get("required", []):
            holder["enum"] = [0]  # nothing valid exists: positive generation is pointless
        else:
            del properties[name]
    rules = schema.setdefault("allOf", [])
    for mode in MODES:
        voices = target.catalog.voices_for(mode)
        rules.append(
            {
                "if": {"properties": {"mode": {"const": mode}}, "required": ["mode"]},
                "then": {"properties": {"voice_id": {"enum": voices or [0]}}},
            }
        )
    # Phone numbers change state (an inbound assistant takes its number), so generated
    # payloads leave them out; the payload tests judge the phone-number rules.
    properties.pop("phone_number_id", None)


def schemathesis_schema(target: Target) -> Any:
    """A schemathesis schema object for the target's narrowed contract."""
    import schemathesis

    config = schemathesis.Config.from_dict(
        {
            "checks": {
                # The documented success answers; anything else for valid data is a failure.
                "positive_data_acceptance": {"expected-statuses": ["200", "201"]},
                # Only the documented refusals (and the inferred 401/413): a 400 or a 500 for
                # invalid data breaks the contract even though it is "a rejection".
                "negative_data_rejection": {
                    "expected-statuses": ["401", "402", "404", "413", "422"]
                },
            },
        }
    )
    return schemathesis.openapi.from_dict(copy.deepcopy(narrowed_spec(target)), config=config)


def request_validator(spec: dict[str, Any], schema_name: str) -> Any:
    """A validator of the documented-valid shape of one request schema of a (narrowed) spec.

    Formats are asserted, and "integer" means a JSON integer: 20.0 is not one here (JSON
    Schema calls it an integer; a strict backend does not, so it is silent, never valid).
    """
    import jsonschema

    types = jsonschema.Draft202012Validator.TYPE_CHECKER.redefine(
        "integer", lambda _checker, value: isinstance(value, int) and not isinstance(value, bool)
    )
    strict = jsonschema.validators.extend(jsonschema.Draft202012Validator, type_checker=types)
    schema = {**spec["components"]["schemas"][schema_name], "components": spec["components"]}
    return strict(schema, format_checker=jsonschema.Draft202012Validator.FORMAT_CHECKER)


# -- the three parts of the input space --------------------------------------------------------

# What Laravel's TrimStrings strips (PHP trim's " \t\n\r\0\x0B", newer versions also Unicode
# spaces and these invisible marks); Python's whitespace is a superset of the rest.
_TRIM = re.compile(r"^[\s\x00\ufeff\u200b\u200e]+|[\s\x00\ufeff\u200b\u200e]+$")
_NUMERIC_STRING = {"type": "string", "pattern": r"^\s*[+-]?(\d+\.?\d*|\.\d+)([eE][+-]?\d+)?\s*$"}
_BLANK_STRING = {"type": "string", "pattern": r"^[\s\x00\ufeff\u200b\u200e]*$"}
# Zone json-type-leniency: the spellings a lenient backend takes for a boolean.
_BOOLEAN_SPELLINGS = {"enum": [0, 1, "0", "1", "true", "false"]}


def trimmed(value: str) -> str:
    """A string as a trimming backend (Laravel's TrimStrings) sees it."""
    return _TRIM.sub("", value)


def is_plain(value: Any) -> bool:
    """No null and no blank or padded string anywhere: the documented-valid side of the
    zones optional-null, blank-strings and string-trimming."""
    if value is None:
        return False
    if isinstance(value, str):
        return value != "" and trimmed(value) == value
    if isinstance(value, dict):
        return all(is_plain(v) for v in value.values())
    if isinstance(value, list):
        return all(is_plain(v) for v in value)
    return True


def plain_spelling(value: Any) -> Any:
    """``value`` with integral floats as JSON integers and strings trimmed: a generated positive
    case moved out of the zones json-type-leniency and string-trimming where it can be."""
    if isinstance(value, float) and value.is_integer() and abs(value) < 2**53:
        return int(value)
    if isinstance(value, str):
        return trimmed(value)
    if isinstance(value, dict):
        return {key: plain_spelling(item) for key, item in value.items()}
    if isinstance(value, list):
        return [plain_spelling(item) for item in value]
    return value


def _widen_type(node: dict[str, Any]) -> dict[str, Any]:
    """Zone json-type-leniency: the other JSON types a lenient backend coerces to this one."""
    kind = node.get("type")
    if kind in ("integer", "number"):
        # Integral floats need nothing: JSON Schema counts 20.0 as an integer already.
        return {"anyOf": [node, _NUMERIC_STRING, {"type": "boolean"}]}
    if kind == "boolean":
        return {"anyOf": [node, _BOOLEAN_SPELLINGS]}
    if (
        kind == "string"
        and not ({"enum", "const"} & set(node))
        and node.get("pattern") in (None, r"\S")
    ):
        # A number can become free text ("12345"), never an enum value or a URL.
        return {"anyOf": [node, {"type": ["number", "boolean"]}]}
    if kind == "array":
        return {"anyOf": [node, {"type": "object"}]}
    if kind == "object":
        return {"anyOf": [node, {"type": "array"}]}
    return node


def _widen(node: Any, *, top: bool = False) -> Any:
    """One schema node in its most lenient reading (recursively)."""
    if not isinstance(node, dict):
        return node
    node = dict(node)
    silent = node.pop("x-replyguard-silent", None)
    for key, value in (silent or {}).get("relax", {}).items():
        if value is None:
            node.pop(key, None)
        else:
            node[key] = value
    optional = set(node.get("properties", {})) - set(node.get("required", []))
    if isinstance(node.get("properties"), dict):
        node["properties"] = {
            name: (
                {"anyOf": [_widen(sub), {"type": "null"}, _BLANK_STRING]}
                if name in optional
                else _widen(sub)
            )
            for name, sub in node["properties"].items()
        }
    for key in ("items", "additionalProperties"):
        if isinstance(node.get(key), dict):
            node[key] = _widen(node[key])
    if isinstance(node.get("allOf"), list):
        node["allOf"] = [_absent_when_blank(rule, optional) for rule in node["allOf"]]
    return node if top else _widen_type(node)


def _absent_when_blank(rule: Any, optional: set[str]) -> Any:
    """A cross-field rule triggered by an optional field's presence, read leniently.

    Zones optional-null and blank-strings: a lenient backend takes null, "" or "  " for an
    optional field as absent (Laravel's ConvertEmptyStringsToNull), so "transcriber_provider_id
    ... Pipeline mode only" does not refuse {"mode": "dualplex", "transcriber_provider_id": ""}
    on every reading: the trigger needs a value that is really there.
    """
    condition = rule.get("if") if isinstance(rule, dict) else None
    if not isinstance(condition, dict):
        return rule
    present = [name for name in condition.get("required", []) if name in optional]
    if not present:
        return rule
    properties = dict(condition.get("properties", {}))
    for name in present:
        there = {"not": {"anyOf": [{"type": "null"}, _BLANK_STRING]}}
        properties[name] = {"allOf": [properties[name], there]} if name in properties else there
    return {**rule, "if": {**condition, "properties": properties}}


def lenient_schema(schema: dict[str, Any]) -> dict[str, Any]:
    """A request schema widened to every reading of the documents' silent zones.

    Types gain their lenient spellings, optional fields accept null and blank strings, nodes
    marked ``x-replyguard-silent`` take their ``relax`` keywords. Whatever still fails it is
    rejected by every reading: documented-invalid.
    """
    return _widen(copy.deepcopy(schema), top=True)


def _same(a: Any, b: Any) -> bool:
    """JSON equality: true is not 1."""
    if isinstance(a, bool) or isinstance(b, bool):
        return type(a) is type(b) and a == b
    return bool(a == b)


def _lenient_validator_class() -> Any:
    """Draft 2020-12 comparing strings trimmed (zone string-trimming), knowing IANA names."""
    import jsonschema
    from jsonschema import ValidationError

    def _text(instance: Any) -> Any:
        return trimmed(instance) if isinstance(instance, str) else instance

    def max_length(validator: Any, limit: Any, instance: Any, schema: Any) -> Any:
        if isinstance(instance, str) and len(trimmed(instance)) > limit:
            yield ValidationError(f"{instance!r} is longer than {limit} characters, trimmed")

    def enum(validator: Any, values: Any, instance: Any, schema: Any) -> Any:
        if not any(_same(_text(instance), value) for value in values):
            yield ValidationError(f"{instance!r} is not one of {values!r}")

    def const(validator: Any, value: Any, instance: Any, schema: Any) -> Any:
        if not _same(_text(instance), value):
            yield ValidationError(f"{instance!r} is not {value!r}")

    def iana(validator: Any, wanted: Any, instance: Any, schema: Any) -> Any:
        names = _timezone_names()
        if (
            wanted
            and names
            and isinstance(instance, str)
            and (trimmed(instance).casefold() not in names)
        ):
            yield ValidationError(f"{instance!r} is no IANA time-zone name")

    return jsonschema.validators.extend(
        jsonschema.Draft202012Validator,
        {"maxLength": max_length, "enum": enum, "const": const, "x-replyguard-iana-timezone": iana},
    )


@functools.cache
def _timezone_names() -> frozenset[str]:
    """IANA names known to this machine, case-folded (empty if it has no tz database)."""
    import zoneinfo

    try:
        return frozenset(n.casefold() for n in zoneinfo.available_timezones()) | {"utc"}
    except Exception:  # a machine without tzdata: no name is known to be wrong
        return frozenset()


class InputSpace:
    """Sorts request bodies of one operation into valid, invalid and silent for a target."""

    def __init__(self, target: Target, operation: str) -> None:
        name = REQUEST_SCHEMAS[operation]
        self.operation = operation
        self._valid = request_validator(narrowed_spec(target), name)
        schema = lenient_schema(load_spec()["components"]["schemas"][name])
        if operation == "create_assistant":
            # A known voice of another mode is refused by every reading
            # ("voices compatible with your engine mode"); unknown ids are not judged here.
            schema.setdefault("allOf", []).extend(
                {
                    "if": {"properties": {"mode": {"const": mode}}, "required": ["mode"]},
                    "then": {"properties": {"voice_id": {"not": {"enum": wrong}}}},
                }
                for mode in MODES
                if (wrong := list(target.catalog.voices_not_for(mode)))
            )
        self._lenient = _lenient_validator_class()(schema)

    def is_valid(self, body: Any) -> bool:
        """Documented-valid: the target must accept it."""
        return bool(self._valid.is_valid(body)) and is_plain(body)

    def is_invalid(self, body: Any) -> bool:
        """Documented-invalid: every reading of the documents rejects it."""
        return not self._lenient.is_valid(body)

    def region(self, body: Any) -> Region:
        """Which part of the input space ``body`` lies in."""
        if self.is_valid(body):
            return "valid"
        return "invalid" if self.is_invalid(body) else "silent"
