"""The profile's JSON Schema (published as ``profile.schema.json`` for editors) and its check."""

from __future__ import annotations

import json
from collections.abc import Mapping
from functools import cache
from pathlib import Path
from typing import Any

__all__ = ["SCHEMA_PATH", "profile_schema", "schema_problem"]

SCHEMA_PATH = Path(__file__).with_name("profile.schema.json")
_JSON_TYPES = {
    "object": "a table",
    "array": "a list",
    "string": "a string",
    "integer": "an integer",
    "number": "a number",
    "boolean": "true or false",
}


@cache
def profile_schema() -> dict[str, Any]:
    """The profile's JSON Schema (draft 2020-12)."""
    schema: dict[str, Any] = json.loads(SCHEMA_PATH.read_text(encoding="utf-8"))
    return schema


def _key(path: Any) -> str:
    key = ""
    for part in path:
        key += f"[{part}]" if isinstance(part, int) else (f".{part}" if key else str(part))
    return key


def schema_problem(raw: Mapping[str, Any]) -> tuple[str, str] | None:
    """The first schema violation as (key, problem), or None when the profile fits."""
    from jsonschema import Draft202012Validator
    from jsonschema.exceptions import best_match

    error = best_match(Draft202012Validator(profile_schema()).iter_errors(dict(raw)))
    if error is None:
        return None
    path = list(error.absolute_path)
    kind = error.validator
    schema = error.schema if isinstance(error.schema, Mapping) else {}
    if kind == "additionalProperties" and isinstance(error.instance, Mapping):
        allowed = sorted(schema.get("properties", {}))
        extra = sorted(set(error.instance) - set(allowed))
        return _key([*path, extra[0]]), f"unknown key (allowed: {', '.join(allowed)})"
    if kind == "required" and isinstance(error.instance, Mapping):
        missing = [k for k in error.validator_value if k not in error.instance]
        return _key([*path, missing[0]]), "missing"
    if kind == "type":
        wanted = (
            error.validator_value
            if isinstance(error.validator_value, list)
            else [error.validator_value]
        )
        names = " or ".join(_JSON_TYPES.get(str(w), str(w)) for w in wanted)
        return _key(path), f"expected {names}, got {error.instance!r}"
    return _key(path) or "(top)", error.message
