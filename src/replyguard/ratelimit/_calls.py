"""What the rate-limit model reads: the generate-reply calls as a client saw them, and the limit.

Pure records, no I/O: the contract suite, the load suite and the fingerprint each turn their own
exchanges into :class:`Call` objects and hand them to :func:`replyguard.ratelimit.assess`.
"""

from __future__ import annotations

import math
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Final

__all__ = [
    "BAD_TOKEN",
    "CUT",
    "INVALID",
    "KINDS",
    "MISSING",
    "MISSING_ASSISTANT",
    "NO_ANSWER",
    "NO_BALANCE",
    "NO_TOKEN",
    "RATE_LIMIT_HEADERS",
    "VALID",
    "Call",
    "Limits",
    "rate_limit_headers",
    "retry_after_in_range",
    "retry_after_range_text",
]

NO_ANSWER: Final = 0
"""Status of a call that got no HTTP answer (transport fault): the server may have counted it."""
CUT: Final = -1
"""Status of a call cut off when the run stopped: outcome unknown."""

# What a call was meant to be (the answer the documents give it when the limit has room).
VALID: Final = "valid"
"""A valid call with a known token: a reply (200)."""
INVALID: Final = "invalid"
"""A body that fails validation: 422."""
MISSING_ASSISTANT: Final = "missing"
"""An assistant the token's account does not own: 404."""
NO_BALANCE: Final = "no-balance"
"""The low-balance account: 402."""
BAD_TOKEN: Final = "bad-token"
"""A token the target does not know: 401."""
NO_TOKEN: Final = "no-token"
"""No Authorization header: 401."""
KINDS: Final = (VALID, INVALID, MISSING_ASSISTANT, NO_BALANCE, BAD_TOKEN, NO_TOKEN)
#: The status each kind is answered with when the limit has room.
EXPECTED_STATUS: Final = {
    VALID: 200,
    INVALID: 422,
    MISSING_ASSISTANT: 404,
    NO_BALANCE: 402,
    BAD_TOKEN: 401,
    NO_TOKEN: 401,
}

#: The rate-limit headers a :class:`Call` keeps (lower case): Laravel's and the de facto
#: X-RateLimit-* family, and the IETF draft's RateLimit / RateLimit-Policy (and its older
#: RateLimit-Limit/-Remaining/-Reset). The documents mention none of them.
RATE_LIMIT_HEADERS: Final = (
    "retry-after",
    "x-ratelimit-limit",
    "x-ratelimit-remaining",
    "x-ratelimit-reset",
    "ratelimit",
    "ratelimit-policy",
    "ratelimit-limit",
    "ratelimit-remaining",
    "ratelimit-reset",
)


class _Missing:
    """The body had no ``retry_after`` (or no ``message``), or was not a JSON object."""

    __slots__ = ()

    def __repr__(self) -> str:
        return "MISSING"

    def __bool__(self) -> bool:
        return False

    def __reduce__(self) -> str:
        return "MISSING"


MISSING: Final = _Missing()


def rate_limit_headers(headers: Mapping[str, str] | None) -> dict[str, str]:
    """Only the rate-limit headers of ``headers``, keys in lower case (no other header kept)."""
    if not headers:
        return {}
    return {k.lower(): v for k, v in headers.items() if k.lower() in RATE_LIMIT_HEADERS}


@dataclass(frozen=True, slots=True)
class Call:
    """One generate-reply exchange as the client saw it.

    ``token`` is a role label (``primary``, ``secondary``, ``none``...), never a secret.
    ``sent`` and ``received`` are seconds on one clock for all calls of a run (epoch seconds
    let the model tell a clock-anchored window; a monotonic clock works for everything else):
    the server processed the call at an unknown instant between them.
    """

    token: str
    sent: float
    received: float
    status: int
    """The HTTP status; :data:`NO_ANSWER` (0) or :data:`CUT` (-1) without one."""
    kind: str = VALID
    """What the call was (:data:`KINDS`): the answer it gets when the limit has room."""
    retry_after: Any = MISSING
    """The body's ``retry_after`` exactly as decoded (any JSON value), else :data:`MISSING`."""
    message: Any = MISSING
    """The body's ``message`` as decoded, else :data:`MISSING`."""
    body_is_json_object: bool = False
    content_type: str = ""
    headers: Mapping[str, str] = field(default_factory=dict)
    """The rate-limit headers only (:func:`rate_limit_headers`), keys in lower case."""
    account: str = ""
    """Which account the token belongs to (tokens of one account share a label)."""
    is_reply: bool | None = None
    """Whether a 2xx carried a reply; None: judge by the status alone. A 200 with an error
    body (``False``) is an over-limit answer that is not the documented 429, never served."""
    step: str = ""
    """The caller's label for the call (a fingerprint step, a test name); shown in evidence."""

    @property
    def valid(self) -> bool:
        """A valid call with a known token (the kind the documented limit is about)."""
        return self.kind == VALID

    @property
    def answered(self) -> bool:
        """An HTTP answer came."""
        return self.status > 0

    @property
    def served(self) -> bool:
        """The limiter let it through and it got a reply (a 2xx that is a reply)."""
        return 200 <= self.status < 300 and self.is_reply is not False

    def header(self, name: str) -> str | None:
        """A rate-limit header by name (any case), None when not sent."""
        return self.headers.get(name.lower())

    @classmethod
    def from_answer(
        cls,
        token: str,
        sent: float,
        received: float,
        status: int,
        body: Any,
        headers: Mapping[str, str] | None = None,
        *,
        kind: str = VALID,
        content_type: str = "",
        account: str = "",
        is_reply: bool | None = None,
        step: str = "",
    ) -> Call:
        """A call from a decoded answer (``body``: the decoded JSON, None when not JSON)."""
        is_object = isinstance(body, dict)
        data: Mapping[str, Any] = body if isinstance(body, dict) else {}
        return cls(
            token,
            sent,
            received,
            status,
            kind,
            data.get("retry_after", MISSING),
            data.get("message", MISSING),
            is_object,
            content_type,
            rate_limit_headers(headers),
            account,
            is_reply,
            step,
        )


@dataclass(frozen=True, slots=True)
class Limits:
    """The documented limit: ``limit`` calls per ``window`` seconds per token.

    The caller passes it (the spec's ``x-rate-limit`` or the target profile's scaled window):
    the model holds no number of its own.
    """

    limit: int
    window: float
    timer_step: float | None = None
    """Seconds a fixed window may end early; None: one second of a 60-second window, scaled
    with the window. Laravel stores its timer in whole seconds (``RateLimiter::availableAt``
    is an integer timestamp), so a window opened at t ends between t + window - 1 and
    t + window; a scaled test window (2 s) scales that second with it."""

    def __post_init__(self) -> None:
        if self.limit < 1 or not self.window > 0 or not math.isfinite(self.window):
            raise ValueError(f"a limit needs limit >= 1 and a window > 0, not {self!r}")

    @property
    def early(self) -> float:
        """Seconds a fixed window may end early (see ``timer_step``)."""
        if self.timer_step is not None:
            return self.timer_step
        return min(1.0, self.window / 60)

    @property
    def shortest_window(self) -> float:
        """The shortest a conforming fixed window lasts (never under half the window)."""
        return self.window - min(self.early, self.window / 2)

    @property
    def top(self) -> int:
        """The largest ``retry_after`` that stays within the window."""
        return math.ceil(self.window)


def retry_after_in_range(value: Any, window: float) -> bool:
    """The one range check: ``retry_after`` is an integer from 1 to the window (rounded up).

    The documents show ``"retry_after": 60`` for a 60-second window (rule
    ``ratelimit.retry-after.range``); a JSON boolean is not an integer, nor is ``"60"``.
    """
    return (
        isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= math.ceil(window)
    )


def retry_after_range_text(window: float) -> str:
    """What :func:`retry_after_in_range` expects, in words."""
    return f"retry_after an integer in 1..{math.ceil(window)}"
