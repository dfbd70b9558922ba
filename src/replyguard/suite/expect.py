"""Assertions that name the rule they prove: each raises a Violation with the exchange."""

from __future__ import annotations

import json
from collections.abc import Iterable
from typing import Any

from replyguard.exchange import Exchange
from replyguard.verdicts import Violation

__all__ = [
    "expect",
    "expect_error_code",
    "expect_status",
    "expect_validation_error",
    "short",
]


def short(value: Any, limit: int = 160) -> str:
    """A value as compact JSON, shortened for a report line."""
    try:
        text = json.dumps(value, ensure_ascii=False)
    except (TypeError, ValueError):
        text = repr(value)
    return text if len(text) <= limit else text[:limit] + "…"


def expect(
    rule: str, ok: bool, expected: str, observed: Any, exchange: Exchange | None = None
) -> None:
    """Raise a Violation of ``rule`` unless ``ok``."""
    if not ok:
        raise Violation(
            rule, expected, observed if isinstance(observed, str) else short(observed), exchange
        )


def expect_status(rule: str, exchange: Exchange, *statuses: int) -> None:
    """The answer's status is one of ``statuses``."""
    wanted = " or ".join(str(s) for s in statuses)
    expect(
        rule, exchange.status in statuses, f"HTTP {wanted}", exchange.summary(limit=200), exchange
    )


def expect_error_code(rule: str, exchange: Exchange, status: int, code: str) -> None:
    """The documented error envelope: status, success false, error string, error_code."""
    expect_status(rule, exchange, status)
    body = exchange.json()
    expect(rule, isinstance(body, dict), "a JSON object body", exchange.text[:200], exchange)
    expect(
        rule,
        body.get("error_code") == code,
        f"error_code {code!r}",
        f"error_code {body.get('error_code')!r}",
        exchange,
    )


def expect_validation_error(
    rule: str, exchange: Exchange, fields: Iterable[str], *, shape_rule: str | None = None
) -> None:
    """A 422 whose ``errors`` names every field in ``fields`` (Laravel's format)."""
    expect_status(rule, exchange, 422)
    body = exchange.json()
    shape = shape_rule or rule
    expect(
        shape,
        isinstance(body, dict) and isinstance(body.get("message"), str),
        "a 422 body with a string 'message'",
        exchange.text[:200],
        exchange,
    )
    errors = body.get("errors")
    expect(
        shape,
        isinstance(errors, dict)
        and all(
            isinstance(v, list) and v and all(isinstance(m, str) and m for m in v)
            for v in errors.values()
        ),
        "'errors' as an object of field -> non-empty list of messages",
        short(errors),
        exchange,
    )
    missing = [f for f in fields if not _keyed(errors, f)]
    expect(
        rule,
        not missing,
        f"errors keyed by {', '.join(fields)}",
        f"errors keys {sorted(errors)}",
        exchange,
    )


def _keyed(errors: dict[str, Any], field: str) -> bool:
    # Laravel keys array items as ``field.0``; either form names the field.
    return field in errors or any(key.startswith(field + ".") for key in errors)
