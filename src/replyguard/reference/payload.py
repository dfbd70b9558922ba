"""Reading request bodies the way Laravel sees them, without ever buffering more than the limit."""

from __future__ import annotations

import json
from typing import Any

from starlette.requests import Request

from .fastjson import loads_fast

__all__ = ["PayloadTooLarge", "parse_input", "read_body"]


class PayloadTooLarge(Exception):
    """The body exceeds the configured limit (answered 413)."""


async def read_body(request: Request, limit: int) -> bytes:
    """Read the body chunk by chunk; raise :class:`PayloadTooLarge` past ``limit`` bytes."""
    declared = request.headers.get("content-length")
    if declared is not None and declared.isdigit() and int(declared) > limit:
        raise PayloadTooLarge
    chunks: list[bytes] = []
    size = 0
    async for chunk in request.stream():
        size += len(chunk)
        if size > limit:
            raise PayloadTooLarge
        chunks.append(chunk)
    return b"".join(chunks)


def _reject_constant(name: str) -> Any:
    # NaN / Infinity / -Infinity are Python extensions, not JSON.
    raise ValueError(f"not JSON: {name}")


def parse_input(body: bytes, content_type: str | None) -> dict[str, Any]:
    """Return the request input as Laravel would: the JSON object, or empty input.

    Laravel reads a JSON body only when ``Request::isJson()`` (the Content-Type contains
    ``/json`` or ``+json``), and a body that is not valid UTF-8 JSON or not an object gives no
    input fields; validation then reports the required fields as missing (422).
    """
    ct = (content_type or "").lower()
    if "/json" not in ct and "+json" not in ct:
        return {}
    try:
        value = loads_fast(body)
    except ValueError:  # orjson refuses it: the stdlib decides, as it always did
        pass
    else:
        return value if isinstance(value, dict) else {}
    try:
        value = json.loads(body.decode("utf-8"), parse_constant=_reject_constant)
    except (ValueError, RecursionError):
        return {}
    return value if isinstance(value, dict) else {}
