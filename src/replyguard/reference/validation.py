"""Laravel-style validation: shared type checks, the error bag, and the generate-reply rules.

Type semantics are JSON Schema's, made strict: booleans are not integers or numbers, strings are
not numbers, a float with an integral value (``5.0``) is an integer, ``null`` is never a value.
Integers must fit PHP's 64-bit int (Laravel's ``integer`` rule uses ``FILTER_VALIDATE_INT``).

Laravel's ``TrimStrings`` and ``ConvertEmptyStringsToNull`` middleware turn a whitespace-only
string into ``null``, so for a required string "present" means "has a non-whitespace character".
The value itself is kept exactly as sent (no trimming, no normalisation).
"""

from __future__ import annotations

import math
from dataclasses import dataclass
from typing import Any

from .dialect import (
    DEFAULT_DIALECT,
    INT_MAX,
    INT_MIN,
    Dialect,
    as_integer,
    as_number,
    integer_of,
    object_of,
    safe_key,
)

__all__ = [
    "INT_MAX",
    "INT_MIN",
    "Errors",
    "ReplyRequest",
    "ReplyRules",
    "as_integer",
    "as_number",
    "attribute",
    "bad_json_value",
    "is_blank",
    "reject_unknown",
    "validate_reply",
]

CUSTOMER_IDENTIFIER_MAX = 255

REQUIRED = "The {a} field is required."
INTEGER = "The {a} field must be an integer."
NUMBER = "The {a} field must be a number."
BOOLEAN = "The {a} field must be true or false."
STRING = "The {a} field must be a string."
ARRAY = "The {a} field must be an array."
OBJECT = "The {a} field must be an object."
MAX_STRING = "The {a} field must not be greater than {max} characters."
UTF8 = "The {a} field must be a valid UTF-8 string."
FINITE = "The {a} field must contain only finite numbers."
PROHIBITED = "The {a} field is prohibited."


def attribute(field: str) -> str:
    """Laravel's display name for a field: underscores become spaces."""
    return field.replace("_", " ")


class Errors:
    """An ordered bag of field -> messages, rendered as Laravel's 422 body."""

    def __init__(self, item_keys: bool = True) -> None:
        self.fields: dict[str, list[str]] = {}
        #: Key array-item errors ``tool_ids.0``; False keys them at the top-level field.
        self.item_keys = item_keys

    def add(self, field: str, template: str, **values: Any) -> None:
        """Record the first failing rule of ``field`` (later ones are ignored)."""
        if not self.item_keys:
            field = field.split(".", 1)[0]
        if field not in self.fields:
            self.fields[field] = [template.format(a=attribute(field), **values)]

    def __contains__(self, field: str) -> bool:
        return field in self.fields

    def __bool__(self) -> bool:
        return bool(self.fields)

    def summary(self) -> str:
        """Laravel's ``ValidationException::summarize``: first message, "(and N more errors)"."""
        messages = [m for ms in self.fields.values() for m in ms]
        if not messages:
            return "The given data was invalid."
        extra = len(messages) - 1
        if extra == 0:
            return messages[0]
        noun = "error" if extra == 1 else "errors"
        return f"{messages[0]} (and {extra} more {noun})"

    def body(self, message: str | None = None) -> dict[str, Any]:
        """The 422 JSON body; ``message`` overrides the summary."""
        return {"message": message or self.summary(), "errors": self.fields}


def is_blank(value: Any) -> bool:
    """Whether Laravel would treat a present value as missing for ``required``."""
    if value is None:
        return True
    if isinstance(value, str):
        return value.strip() == ""
    return isinstance(value, list | dict) and not value


def _is_surrogate_free(text: str) -> bool:
    try:
        text.encode("utf-8")
    except UnicodeEncodeError:
        return False
    return True


def bad_json_value(value: Any) -> str | None:
    """Return an error template if ``value`` holds a lone surrogate or a non-finite number.

    ``"\\ud800"`` escapes decode to lone surrogates, which neither UTF-8 responses nor SQLite
    text can carry; ``1e400`` decodes to infinity, which JSON cannot carry back. Iterative, so
    deep nesting cannot exhaust the stack.
    """
    stack = [value]
    while stack:
        item = stack.pop()
        if isinstance(item, str):
            if not _is_surrogate_free(item):
                return UTF8
        elif isinstance(item, float):
            if not math.isfinite(item):
                return FINITE
        elif isinstance(item, dict):
            stack.extend(item.keys())
            stack.extend(item.values())
        elif isinstance(item, list):
            stack.extend(item)
    return None


@dataclass(slots=True, frozen=True)
class ReplyRules:
    """The generate-reply rule table (faults change one entry)."""

    #: "Maximum 255 characters."
    identifier_max: int = CUSTOMER_IDENTIFIER_MAX


DEFAULT_REPLY_RULES = ReplyRules()


@dataclass(slots=True, frozen=True)
class ReplyRequest:
    """A valid generate-reply body."""

    assistant_id: int
    customer_identifier: str
    message: str
    variables: dict[str, Any] | None


def _required_string(data: dict[str, Any], field: str, errors: Errors) -> str | None:
    value = data.get(field)
    if is_blank(value):
        errors.add(field, REQUIRED)
        return None
    if not isinstance(value, str):
        errors.add(field, STRING)
        return None
    if not _is_surrogate_free(value):
        errors.add(field, UTF8)
        return None
    return value


REPLY_FIELDS = ("assistant_id", "customer_identifier", "message", "variables")


def reject_unknown(data: dict[str, Any], known: Any, errors: Errors) -> None:
    """Add a "prohibited" error for every property of ``data`` not in ``known``."""
    for name in data:
        if name not in known:
            errors.add(safe_key(name), PROHIBITED)


def validate_reply(
    data: dict[str, Any],
    rules: ReplyRules = DEFAULT_REPLY_RULES,
    dialect: Dialect = DEFAULT_DIALECT,
) -> tuple[ReplyRequest | None, Errors]:
    """Validate a generate-reply body; return the request (if valid) and the error bag."""
    errors = Errors(dialect.item_keys)
    if dialect.null_is_absent:
        data = {key: value for key, value in data.items() if value is not None}
    if dialect.reject_unknown:
        reject_unknown(data, REPLY_FIELDS, errors)

    raw_id = data.get("assistant_id")
    assistant_id = None
    if is_blank(raw_id):
        errors.add("assistant_id", REQUIRED)
    else:
        assistant_id = integer_of(raw_id, dialect.integers)
        if assistant_id is None:
            errors.add("assistant_id", INTEGER)

    customer = _required_string(data, "customer_identifier", errors)
    # "Maximum 255 characters": counted in code points, like Laravel's mb_strlen.
    if customer is not None and len(customer) > rules.identifier_max:
        errors.add("customer_identifier", MAX_STRING, max=rules.identifier_max)
        customer = None

    message = _required_string(data, "message", errors)

    variables = None
    if "variables" in data:
        # "variables: object ... Optional": when present it must be a JSON object.
        raw = object_of(data["variables"], dialect.lists_as_objects)
        if raw is None:
            errors.add("variables", OBJECT)
        elif (problem := bad_json_value(raw)) is not None:
            errors.add("variables", problem)
        else:
            variables = raw

    if errors or assistant_id is None or customer is None or message is None:
        return None, errors
    return ReplyRequest(assistant_id, customer, message, variables), errors
