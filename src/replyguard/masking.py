"""Keeping API tokens out of everything replyguard prints or writes."""

from __future__ import annotations

import json
import shlex
from collections.abc import Iterable, Mapping
from typing import Any

__all__ = ["MASK", "mask_secrets", "mask_token", "masked_curl"]

MASK = "***"
# Headers whose value is a credential whatever it looks like.
_SECRET_HEADERS = {"authorization", "cookie", "x-api-key", "proxy-authorization"}


def mask_token(token: str | None) -> str:
    """A recognisable but harmless stand-in for a token: its last two characters at most."""
    if not token:
        return MASK
    return f"{MASK}{token[-2:]}" if len(token) >= 16 else MASK


def mask_secrets(text: str, secrets: Iterable[str | None]) -> str:
    """``text`` with every occurrence of every secret replaced by :data:`MASK`."""
    # Longest first, so a token that contains another is masked whole.
    for secret in sorted((s for s in secrets if s), key=len, reverse=True):
        if len(secret) >= 4:
            text = text.replace(secret, MASK)
    return text


def masked_curl(
    method: str,
    url: str,
    headers: Mapping[str, str] | None = None,
    body: bytes | str | Any = None,
    secrets: Iterable[str | None] = (),
) -> str:
    """A curl command that reproduces a request, with credentials replaced by placeholders."""
    parts = ["curl", "-X", method.upper(), shlex.quote(url)]
    for name, value in (headers or {}).items():
        lowered = name.lower()
        if lowered in {"content-length", "host", "accept-encoding", "connection", "user-agent"}:
            continue
        if lowered == "authorization" and value.lower().startswith("bearer"):
            value = "Bearer $REPLYGUARD_TOKEN"
        elif lowered in _SECRET_HEADERS:
            value = MASK
        parts += ["-H", shlex.quote(f"{name}: {value}")]
    if body is not None and body != b"" and body != "":
        if isinstance(body, bytes):
            text = body.decode("utf-8", errors="backslashreplace")
        elif isinstance(body, str):
            text = body
        else:
            text = json.dumps(body, ensure_ascii=False)
        parts += ["--data-raw", shlex.quote(text)]
    return mask_secrets(" ".join(parts), secrets)
