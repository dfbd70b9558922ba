"""HTTP details every part of replyguard reads the same way: the client, the suite and load.

One place for: how long a 429 asks to wait (``retry_after`` in the body, else the
``Retry-After`` header), and the one-line message for a target that cannot be reached.
"""

from __future__ import annotations

import email.utils
import math
import time
from collections.abc import Mapping
from typing import Any

import httpx

__all__ = ["cannot_reach", "parse_retry_after", "retry_after_seconds", "transport_reason"]


def parse_retry_after(value: str | None, *, now: float | None = None) -> float | None:
    """Seconds to wait from a ``Retry-After`` value: delay-seconds or an HTTP date (RFC 9110)."""
    if value is None or not value.strip():
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if math.isfinite(seconds) else None
    try:
        when = email.utils.parsedate_to_datetime(value)
    except (TypeError, ValueError):
        return None
    if when.tzinfo is None:  # RFC 9110 dates are GMT; parsedate gives naive for "-0000"
        return None
    current = time.time() if now is None else now
    return max(0.0, when.timestamp() - current)


def retry_after_seconds(
    body: Any, headers: Mapping[str, str] | None, *, now: float | None = None
) -> float | None:
    """The wait a 429 asks for: the body's ``retry_after``, else the ``Retry-After`` header.

    The documents show ``{"message": "Too Many Attempts.", "retry_after": 60}``; the header is
    Laravel's, and the fallback when a body carries no usable number.
    """
    value = body.get("retry_after") if isinstance(body, dict) else None
    if isinstance(value, int | float) and not isinstance(value, bool):
        return max(0.0, float(value)) if math.isfinite(value) else None
    if isinstance(value, str):
        parsed = parse_retry_after(value, now=now)
        if parsed is not None:
            return parsed
    header = None
    if headers is not None:
        header = headers.get("retry-after") or headers.get("Retry-After")
    return parse_retry_after(header, now=now)


def transport_reason(exc: BaseException) -> str:
    """Why a request got no answer, in a few lower-case words ("connection refused")."""
    text = str(exc)
    if text.startswith("[Errno") and "]" in text:
        text = text.split("]", 1)[1]
    text = " ".join(text.split())
    if not text:
        return type(exc).__name__
    if text[0].isupper() and not text[1:2].isupper():
        text = text[0].lower() + text[1:]
    return text[:200]


def cannot_reach(url: str, exc: httpx.TransportError | OSError, *, hint: str = "") -> str:
    """The one line shown for a target that did not answer at all (``hint`` appended)."""
    line = f"cannot reach {url}: {transport_reason(exc)}"
    return f"{line}: {hint}" if hint else line
