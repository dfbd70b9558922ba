"""The seams where a fault or a variant changes the reference server.

A :class:`Behaviour` is consulted at a few named points and nowhere else:

- the limiter factory (``limiter``, ``limit_delta``) and the throttle key (``throttle_scope``),
  and whether the throttle runs before validation (``throttle_first``);
- the rule tables: ``reply_rules`` (generate-reply) and ``assistant_policy`` (create-assistant);
- reply building: ``conversations`` (how conversations are found and variables merged), the
  ownership and balance checks;
- request parsing (``parse_input``) and the routes (``generate_reply_paths``, ``brand``);
- the reading of JSON where the documents are silent (``dialect``: type leniency, item keys,
  URLs, unknown properties, unknown-route bodies);
- response post-processing: ``respond`` sees every answer as an :class:`Answer` and may rewrite
  its status, body and headers.

The default behaviour is the faithful server; ``faults.py`` and ``variants.py`` name the others.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any

from .assistant_rules import DEFAULT_POLICY, AssistantPolicy
from .config import DEFAULT_WINDOW
from .dialect import DEFAULT_DIALECT, Dialect
from .payload import parse_input
from .ratelimit import Decision
from .store import DEFAULT_CONVERSATIONS, ConversationPolicy
from .validation import DEFAULT_REPLY_RULES, ReplyRules

__all__ = [
    "FAITHFUL",
    "GENERATE_REPLY_PATHS",
    "Answer",
    "Behaviour",
    "unchanged",
]

#: "POST /user/ai/generate-reply" (Intellixent) and ".../api/ai/generate-reply" (Autocalls,
#: Famulor); both under the ``/api`` base.
GENERATE_REPLY_PATHS = ("/api/user/ai/generate-reply", "/api/ai/generate-reply")


@dataclass(slots=True)
class Answer:
    """One response before it is sent: what ``Behaviour.respond`` may rewrite.

    ``outcome`` says what the server decided: ``served`` (generate-reply 200), ``created``
    (create-assistant 201), ``invalid`` (422), ``not_found`` and ``foreign`` (404),
    ``no_balance`` (402), ``throttled`` (429) or ``unauthenticated`` (401).
    """

    operation: str
    outcome: str
    status: int
    body: Any
    headers: dict[str, str] = field(default_factory=dict)
    #: The throttle decision of a generate-reply call (None for create-assistant and 401s).
    decision: Decision | None = None
    #: The configured window in seconds.
    window: int = DEFAULT_WINDOW
    #: The parsed request input (may be empty).
    request: dict[str, Any] = field(default_factory=dict)
    media_type: str = "application/json"


def unchanged(answer: Answer) -> Answer:
    """The faithful post-processing: none."""
    return answer


@dataclass(slots=True, frozen=True)
class Behaviour:
    """Everything a fault or a variant may change; the defaults are the documents' behaviour."""

    #: Limiter kind (``ratelimit.LIMITERS``); None uses the server config's ``rate_limiter``.
    limiter: str | None = None
    #: Added to the configured limit (the profile still advertises the configured one).
    limit_delta: int = 0
    #: "token" ("5 requests per minute per API token"), "account" or "global".
    throttle_scope: str = "token"
    #: Laravel's throttle middleware runs before the controller validates.
    throttle_first: bool = True
    reply_rules: ReplyRules = DEFAULT_REPLY_RULES
    assistant_policy: AssistantPolicy = DEFAULT_POLICY
    conversations: ConversationPolicy = DEFAULT_CONVERSATIONS
    #: "Must belong to your account": another account's assistant is answered 404.
    check_ownership: bool = True
    #: 402 when the account has no balance left.
    check_balance: bool = True
    parse_input: Callable[[bytes, str | None], dict[str, Any]] = parse_input
    dialect: Dialect = DEFAULT_DIALECT
    generate_reply_paths: tuple[str, ...] = GENERATE_REPLY_PATHS
    #: The brand written into the target profile.
    brand: str = "intellixent"
    respond: Callable[[Answer], Answer] = unchanged


FAITHFUL = Behaviour()
