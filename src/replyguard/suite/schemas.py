"""The contract as one target sees it: its paths, its server and its catalogue ids.

Positive cases generated from the bare contract carry random voice, language and model ids
that any real deployment rejects as unknown. Narrowing every ``x-replyguard-catalog`` field to
the profile's ids (and voices to the modes they support) makes "valid" mean valid *here*,
while negative generation still breaks each constraint.
"""

from __future__ import annotations

import copy
from typing import Any

from replyguard.spec import operation_paths, spec_for_brand
from replyguard.target import MODES, Target

__all__ = ["TIMEZONES", "narrowed_spec", "request_validator", "schemathesis_schema"]

# A handful of IANA names for positive generation; the documents' two examples come first.
TIMEZONES = ["America/New_York", "Europe/Bucharest", "Europe/Berlin", "UTC", "Asia/Tokyo"]


def narrowed_spec(target: Target) -> dict[str, Any]:
    """The contract for ``target``: its server, its two paths, ids narrowed to its catalogue."""
    spec = spec_for_brand(target.brand or "intellixent")
    spec["servers"] = [{"url": target.base_url}]
    brand_paths = operation_paths(target.brand or "intellixent")
    paths = spec["paths"]
    for operation, wanted in (("generate_reply", target.paths.generate_reply),
                              ("create_assistant", target.paths.create_assistant)):
        current = brand_paths[operation]
        if current != wanted and current in paths:
            paths[wanted] = paths.pop(current)
    schemas = spec["components"]["schemas"]
    _narrow_generate_reply(schemas["GenerateReplyRequest"], target)
    _narrow_create_assistant(schemas["CreateAssistantRequest"], target)
    return spec


def _narrow_generate_reply(schema: dict[str, Any], target: Target) -> None:
    own = [a for a in (target.assistants.own, target.assistants.own_second) if a is not None]
    schema["properties"]["assistant_id"] = {
        **schema["properties"]["assistant_id"], "enum": own}


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
        rules.append({
            "if": {"properties": {"mode": {"const": mode}}, "required": ["mode"]},
            "then": {"properties": {"voice_id": {"enum": voices or [0]}}},
        })
    # Phone numbers change state (an inbound assistant takes its number), so generated
    # payloads leave them out; the payload tests judge the phone-number rules.
    properties.pop("phone_number_id", None)


def schemathesis_schema(target: Target) -> Any:
    """A schemathesis schema object for the target's narrowed contract."""
    import schemathesis

    config = schemathesis.Config.from_dict({
        "checks": {
            # The documented success answers; anything else for valid data is a failure.
            "positive_data_acceptance": {"expected-statuses": ["200", "201"]},
            # Only the documented refusals (and the inferred 401/413): a 400 or a 500 for
            # invalid data breaks the contract even though it is "a rejection".
            "negative_data_rejection": {"expected-statuses": ["401", "402", "404", "413",
                                                              "422"]},
        },
    })
    return schemathesis.openapi.from_dict(copy.deepcopy(narrowed_spec(target)), config=config)


def request_validator(spec: dict[str, Any], schema_name: str) -> Any:
    """A Draft 2020-12 validator for one request schema of a (narrowed) spec."""
    import jsonschema

    schema = {**spec["components"]["schemas"][schema_name], "components": spec["components"]}
    return jsonschema.Draft202012Validator(schema)
