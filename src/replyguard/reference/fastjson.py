"""JSON in and out of the reference server: orjson where it gives the same answer, else stdlib.

orjson accepts a strict subset of what ``json.loads`` accepts (no integers past 64 bits, no lone
surrogate escapes, no nesting past 1024), so anything it refuses goes to the stdlib path and is
judged exactly as before. Encoding falls back the same way.
"""

from __future__ import annotations

import json
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None  # type: ignore[assignment]

__all__ = ["dumps", "loads_fast"]


def loads_fast(body: bytes) -> Any:
    """Decode with orjson; raise ValueError where the stdlib path must decide instead."""
    if orjson is None:
        raise ValueError("no orjson")
    return orjson.loads(body)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse renders it."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:  # orjson.JSONEncodeError is a TypeError: big ints, odd keys
            pass
    return json.dumps(value, ensure_ascii=False, allow_nan=False, indent=None,
                      separators=(",", ":")).encode("utf-8")
