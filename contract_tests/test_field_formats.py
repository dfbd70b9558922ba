"""Create-assistant fields with a documented shape: time zones, URLs, tools, schemas, fillers.

The rejected values are documented-invalid (no scheme at all, a tool without its type, an
item that is not an object, a category that is not a list); the accepted ones are shaped like
the documents' examples. ftp:// URLs, items missing keys of the examples and filler subsets
are silent zones, probed in test_silent_zones.py.
"""

from __future__ import annotations

from typing import Any

import pytest

from replyguard.profile import Target
from replyguard.strategies import minimal_assistant
from replyguard.testing import ApiSession, expect, expect_validation_error

# The document's example, all four categories.
FILLERS = {
    "positive": ["Great!", "Perfect!"],
    "negative": ["Hmm.", "I see."],
    "question": ["Good question.", "Let me check."],
    "neutral": ["Ok.", "Noted."],
}

# (rule, field, a value that must be rejected, a value that must be accepted)
FORMATS: list[tuple[str, str, Any, Any]] = [
    ("assistant.timezone.iana", "timezone", "Mars/Olympus_Mons", "America/New_York"),
    ("assistant.webhook_url.url", "webhook_url", "not a url", "https://hooks.example.com/rg"),
    (
        "assistant.conversation_ended_webhook_url.url",
        "conversation_ended_webhook_url",
        "hooks.example.com/ended",
        "https://hooks.example.com/ended",
    ),
    (
        "assistant.tools.shape",
        "tools",
        [{"description": "no type"}],
        [{"type": "end_call", "description": "End call when customer is satisfied"}],
    ),
    (
        "assistant.post_call_schema.shape",
        "post_call_schema",
        ["status"],
        [{"name": "status", "type": "bool", "description": "Was the call objective achieved"}],
    ),
    ("assistant.filler_config.shape", "filler_config", {**FILLERS, "positive": "Great!"}, FILLERS),
]


def _params() -> list[Any]:
    return [
        pytest.param(r, f, bad, good, marks=pytest.mark.rule(r), id=f)
        for r, f, bad, good in FORMATS
    ]


def _payload(target: Target, field: str, value: Any) -> dict[str, Any]:
    if not target.catalog.can_build("pipeline"):
        pytest.skip("the profile's catalog cannot build a valid pipeline assistant")
    payload = {**minimal_assistant(target.catalog), field: value}
    if field == "webhook_url":
        payload["is_webhook_active"] = True
    return payload


@pytest.mark.parametrize(("rule_id", "field", "bad", "good"), _params())
def test_field_format(
    api: ApiSession, target: Target, rule_id: str, field: str, bad: Any, good: Any
) -> None:
    rejected = api.create_assistant(_payload(target, field, bad))
    expect_validation_error(
        rule_id, rejected, [field], shape_rule="assistant.validation.error-shape"
    )
    if target.safety.allow_writes:
        accepted = api.create_assistant(_payload(target, field, good))
        expect(
            rule_id,
            accepted.status == 201,
            f"{field} = {good!r} accepted",
            accepted.summary(limit=200),
            accepted,
        )
