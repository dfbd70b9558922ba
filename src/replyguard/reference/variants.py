"""Correct variants: servers that differ from the reference where the documents allow it.

The contract suite must pass every one of them (no false alarms): another rate-limit
algorithm, undocumented extra fields, the Autocalls paths only, other validation messages,
no rate-limit headers, and both sides of every silent zone (``silent_sides.py``).
"""

from __future__ import annotations

import uuid
from dataclasses import dataclass, replace

from .behaviour import FAITHFUL, Answer, Behaviour
from .faults import when
from .silent_sides import LARAVEL_LENIENT, STRICT_JSON

__all__ = ["VARIANTS", "Variant"]


@dataclass(slots=True, frozen=True)
class Variant:
    """A named correct alternative behaviour."""

    name: str
    description: str
    behaviour: Behaviour


def _extra_fields(answer: Answer) -> Answer:
    """Undocumented additions: usage and request_id in success bodies, X-Request-Id always."""
    request_id = str(uuid.uuid4())
    answer.headers["X-Request-Id"] = request_id
    answer.headers["X-Powered-By"] = "PHP/8.3.4"
    if answer.outcome == "served":
        answer.body["usage"] = {"prompt_tokens": 57, "completion_tokens": 23, "cost": 0.0012}
        answer.body["request_id"] = request_id
    elif answer.outcome == "created":
        answer.body["request_id"] = request_id
        answer.body["data"]["created_at"] = "2026-01-01T00:00:00.000000Z"
        answer.body["data"]["voice_id"] = answer.request.get("voice_id")
    return answer


#: Famulor's German locale: Laravel's lang/de messages.
_GERMAN = {
    "unauthenticated": "Nicht authentifiziert.",
    "throttled": "Zu viele Anfragen.",
    "not_found": "Assistent nicht gefunden oder gehört nicht zu Ihrem Konto.",
    "foreign": "Assistent nicht gefunden oder gehört nicht zu Ihrem Konto.",
    "no_balance": "Unzureichendes Guthaben. Bitte laden Sie Ihr Konto auf.",
}


def _german_messages(answer: Answer) -> Answer:
    """Every message translated; shapes, statuses and codes unchanged."""
    body = answer.body
    if not isinstance(body, dict):
        return answer
    if answer.outcome == "invalid":
        body["message"] = "Die angegebenen Daten sind ungültig."
        body["errors"] = {
            field: [f"Das Feld {field.replace('_', ' ')} ist ungültig."] for field in body["errors"]
        }
    elif answer.outcome in ("not_found", "foreign", "no_balance"):
        body["error"] = _GERMAN[answer.outcome]
    elif answer.outcome in ("unauthenticated", "throttled"):
        body["message"] = _GERMAN[answer.outcome]
    elif answer.outcome == "created":
        body["message"] = "Assistent erfolgreich erstellt"
    return answer


@when("generate_reply")
def _no_ratelimit_headers(answer: Answer) -> None:
    """Retry-After and X-RateLimit-* are not documented: a server may omit them."""
    for name in [n for n in answer.headers if n.lower().startswith(("x-ratelimit", "retry-after"))]:
        del answer.headers[name]


_LIST = [
    (
        "sliding-window",
        "a sliding-log limiter: at most `limit` in any window, honest retry_after",
        replace(FAITHFUL, limiter="sliding"),
    ),
    (
        "extra-fields",
        "undocumented extra body fields (usage, request_id) and headers",
        replace(FAITHFUL, respond=_extra_fields),
    ),
    (
        "autocalls-paths",
        "generate-reply only at /api/ai/generate-reply; brand autocalls",
        replace(FAITHFUL, generate_reply_paths=("/api/ai/generate-reply",), brand="autocalls"),
    ),
    (
        "laravel-messages",
        "German (lang/de) validation and error messages",
        replace(FAITHFUL, respond=_german_messages),
    ),
    (
        "no-ratelimit-headers",
        "no Retry-After / X-RateLimit-* headers (only the 429 body)",
        replace(FAITHFUL, respond=_no_ratelimit_headers),
    ),
    # The other side of every silent zone (table in silent_sides.py).
    (
        "laravel-lenient",
        'stock Laravel 8: "123"/true/20.0 as integers, 0/1 as booleans, '
        'trimmed strings, "" as null, lists as objects, any url scheme, item-indexed keys',
        LARAVEL_LENIENT,
    ),
    (
        "strict-json",
        "strict JSON types (no coercion, 20.0 not an integer), null as absent, "
        "top-level error keys, ASCII http(s) urls, unknown properties rejected",
        STRICT_JSON,
    ),
]

#: Every correct variant by name.
VARIANTS: dict[str, Variant] = {
    name: Variant(name, description, behaviour) for name, description, behaviour in _LIST
}


# -- rate-limit variants added for the load suite's fingerprint (issue 13) ------------------


@when("generate_reply", "throttled")
def _constant_retry_after(answer: Answer) -> None:
    """retry_after (and Retry-After) always the whole window, as the documents' example."""
    answer.body["retry_after"] = answer.window
    answer.headers["Retry-After"] = str(answer.window)
    if answer.decision is not None and "X-RateLimit-Reset" in answer.headers:
        answer.headers["X-RateLimit-Reset"] = str(
            int(answer.decision.reset_at - answer.decision.retry_after + answer.window)
        )


_RATELIMIT_VARIANTS = [
    (
        "retry-after-constant",
        "retry_after is always the whole window (never too short; the "
        "documents' example shows 60 for a 60 s window)",
        replace(FAITHFUL, respond=_constant_retry_after),
    ),
]
VARIANTS.update(
    (name, Variant(name, description, behaviour))
    for name, description, behaviour in _RATELIMIT_VARIANTS
)


# -- limiter families and header conventions of real targets (issue 18) ---------------------

#: The quota policy's name in the IETF fields (draft-ietf-httpapi-ratelimit-headers: an
#: sf-String naming the policy that ``RateLimit`` refers back to).
_IETF_POLICY = '"default"'


@when("generate_reply")
def _ietf_ratelimit_headers(answer: Answer) -> None:
    """``RateLimit-Policy: "default";q=<limit>;w=<window>`` on every generate-reply answer, and
    ``RateLimit: "default";r=<remaining>;t=<seconds until the window resets>``; on a 429 ``t``
    names the same moment as ``Retry-After`` (the draft's SHOULD)."""
    decision = answer.decision
    if decision is None:
        return
    reset = decision.reset_in if decision.allowed else decision.retry_after
    answer.headers["RateLimit-Policy"] = f"{_IETF_POLICY};q={decision.limit};w={answer.window}"
    answer.headers["RateLimit"] = f"{_IETF_POLICY};r={decision.remaining};t={reset}"


_FAMILY_VARIANTS = [
    (
        "clock-window",
        "fixed windows anchored to the clock (Kong, Redis INCR per minute key): "
        "all slots back at each multiple of the window, honest retry_after",
        replace(FAITHFUL, limiter="clock"),
    ),
    (
        "ietf-ratelimit-headers",
        "also sends the IETF draft's RateLimit-Policy and RateLimit fields, agreeing with "
        "the limiter and with Retry-After",
        replace(FAITHFUL, respond=_ietf_ratelimit_headers),
    ),
]
VARIANTS.update(
    (name, Variant(name, description, behaviour))
    for name, description, behaviour in _FAMILY_VARIANTS
)
