"""Create-assistant fields whose items the documents show only by example.

``tools`` ("Each tool object has a type and type-specific fields"), ``post_call_schema`` (an
example of ``name`` / ``type`` / ``description`` objects), ``filler_config`` ("Each category is
an array of short strings", four example categories) and the id arrays. Which item keys are
required is the dialect's choice (:attr:`~.dialect.Dialect.items`).
"""

from __future__ import annotations

from typing import Any

from .dialect import Dialect, integer_of, object_of
from .validation import ARRAY, INTEGER, OBJECT, REQUIRED, STRING, Errors, is_blank

__all__ = [
    "FILLER_CATEGORIES",
    "FILLER_KEYS",
    "check_fillers",
    "check_int_array",
    "check_schema",
    "check_tools",
]

FILLER_CATEGORIES = ("positive", "negative", "question", "neutral")
FILLER_KEYS = "The {a} field may only contain the keys positive, negative, question, neutral."

#: Keys each item must carry, per ``Dialect.items``. "example": every key of the documents'
#: examples; "named": what the item is named by (the contract's documented minimum: a
#: post_call_schema item has a name and a type, "Each tool object has a type").
_SCHEMA_KEYS = {"example": ("name", "type", "description"), "named": ("name", "type")}
_TOOL_KEYS = {"example": ("type", "description"), "named": ("type",)}


def check_int_array(name: str, value: Any, errors: Errors, dialect: Dialect) -> list[int] | None:
    """An array of integer ids; each bad item keyed ``name.i`` (or ``name``)."""
    if not isinstance(value, list):
        errors.add(name, ARRAY)
        return None
    clean: list[int] = []
    for index, item in enumerate(value):
        number = integer_of(item, dialect.integers)
        if number is None:
            errors.add(f"{name}.{index}", INTEGER)
        else:
            clean.append(number)
    return clean if len(clean) == len(value) else None


def _item(value: Any, dialect: Dialect) -> dict[str, Any] | None:
    # Laravel's ``array`` rule on ``field.*`` passes a JSON list as well as an object.
    return object_of(value, dialect.lists_as_objects)


def _string_keys(
    item: dict[str, Any],
    prefix: str,
    required: tuple[str, ...],
    optional: tuple[str, ...],
    errors: Errors,
    nullable: bool,
) -> bool:
    """Required keys present and strings; optional ones strings when present."""
    ok = True
    for key in required:
        raw = item.get(key)
        if is_blank(raw):
            errors.add(f"{prefix}.{key}", REQUIRED)
            ok = False
        elif not isinstance(raw, str):
            errors.add(f"{prefix}.{key}", STRING)
            ok = False
    for key in optional:
        if key in required or key not in item or (item[key] is None and nullable):
            continue
        if not isinstance(item[key], str):
            errors.add(f"{prefix}.{key}", STRING)
            ok = False
    return ok


def check_tools(value: Any, errors: Errors, dialect: Dialect) -> list[Any] | None:
    """``tools``: "Each tool object has a type and type-specific fields"."""
    if not isinstance(value, list):
        errors.add("tools", ARRAY)
        return None
    ok = True
    required = _TOOL_KEYS[dialect.items]
    for index, raw in enumerate(value):
        item = _item(raw, dialect)
        if item is None:
            errors.add(f"tools.{index}", OBJECT)
            ok = False
        elif not _string_keys(item, f"tools.{index}", required, (), errors, dialect.null_is_absent):
            ok = False
    return value if ok else None


def check_schema(value: Any, errors: Errors, dialect: Dialect) -> list[Any] | None:
    """``post_call_schema``: objects like ``{"name", "type", "description"}``."""
    if not isinstance(value, list):
        errors.add("post_call_schema", ARRAY)
        return None
    ok = True
    required = _SCHEMA_KEYS[dialect.items]
    for index, raw in enumerate(value):
        prefix = f"post_call_schema.{index}"
        item = _item(raw, dialect)
        if item is None:
            errors.add(prefix, OBJECT)
            ok = False
            continue
        ok = (
            _string_keys(
                item,
                prefix,
                required,
                ("name", "type", "description"),
                errors,
                dialect.null_is_absent,
            )
            and ok
        )
    return value if ok else None


def check_fillers(value: Any, errors: Errors, dialect: Dialect) -> dict[str, Any] | None:
    """``filler_config``: "Custom filler phrases per category. Each category is an array"."""
    config = object_of(value, dialect.lists_as_objects)
    if config is None:
        errors.add("filler_config", OBJECT)
        return None
    if dialect.filler_keys and any(key not in FILLER_CATEGORIES for key in config):
        errors.add("filler_config", FILLER_KEYS)
        return None
    ok = True
    for key, phrases in config.items():
        field = f"filler_config.{key}"
        if not isinstance(phrases, list):
            errors.add(field, ARRAY)
            ok = False
            continue
        for index, phrase in enumerate(phrases):
            if not isinstance(phrase, str) and not (phrase is None and dialect.null_is_absent):
                errors.add(f"{field}.{index}", STRING)
                ok = False
    return config if ok else None
