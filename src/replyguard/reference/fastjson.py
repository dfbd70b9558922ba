"""JSON in and out of the reference server: orjson where it gives the same answer, else stdlib.

orjson refuses lone surrogate escapes and nesting past 1024, where ``json.loads`` decides; it
turns integers past 64 bits into floats, so a body with a run of 19 or more digits (possibly
such an integer) goes to the stdlib path too. What is left decodes to the same values. Encoding
falls back the same way.
"""

from __future__ import annotations

import json
import re
from typing import Any

try:
    import orjson
except ImportError:  # pragma: no cover - orjson is a declared dependency
    orjson = None  # type: ignore[assignment]

__all__ = ["dumps", "loads_fast"]

# Every integer of up to 18 digits fits in 64 bits; longer ones may not.
_LONG_DIGITS = re.compile(rb"[0-9]{19}")


def loads_fast(body: bytes) -> Any:
    """Decode with orjson; raise ValueError where the stdlib path must decide instead."""
    if orjson is None or _LONG_DIGITS.search(body) is not None:
        raise ValueError("the stdlib decides")
    return orjson.loads(body)


def dumps(value: Any) -> bytes:
    """Compact UTF-8 JSON, as Starlette's JSONResponse renders it."""
    if orjson is not None:
        try:
            return orjson.dumps(value)
        except TypeError:  # orjson.JSONEncodeError is a TypeError: big ints, odd keys
            pass
    return json.dumps(
        value, ensure_ascii=False, allow_nan=False, indent=None, separators=(",", ":")
    ).encode("utf-8")
