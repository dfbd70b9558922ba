"""Text beyond ASCII that a paid run's valid generate-reply calls carry at no extra cost.

A backend that stores ``message`` or ``customer_identifier`` in a MySQL ``utf8`` (3-byte)
column answers 500 to an emoji; one that mangles combining marks or right-to-left text breaks
the echo. The valid calls a paid run makes anyway carry these kinds, spread over the calls, so
every run sends each kind in each field without a billed call of its own. The plan names the
kinds a run sends (:func:`kinds_in`), so a missing one shows before the first request.
"""

from __future__ import annotations

import unicodedata
from collections.abc import Iterable
from typing import Any

__all__ = ["COMBINING", "EMOJI", "FIELDS", "KINDS", "RTL", "describe", "kinds_in"]

#: 4-byte UTF-8 (outside the Basic Multilingual Plane): a thumbs-up with a skin-tone modifier.
EMOJI = "\U0001f44d\U0001f3fd"
#: Decomposed marks (e + U+0301, o + U+0308): a normalising backend changes the bytes.
COMBINING = "Cafe\u0301 Zoe\u0308"
#: Right-to-left text (Hebrew, Arabic).
RTL = "\u05e9\u05dc\u05d5\u05dd \u0645\u0631\u062d\u0628\u0627"

KINDS = ("4-byte UTF-8 (emoji)", "combining marks", "right-to-left text")
FIELDS = ("message", "customer_identifier")


def _kinds_of(text: str) -> set[str]:
    kinds = set()
    if any(ord(char) > 0xFFFF for char in text):
        kinds.add(KINDS[0])
    if any(unicodedata.combining(char) for char in text):
        kinds.add(KINDS[1])
    if any(unicodedata.bidirectional(char) in ("R", "AL") for char in text):
        kinds.add(KINDS[2])
    return kinds


def kinds_in(body: Any) -> set[str]:
    """``"<kind> in <field>"`` for each kind of text a generate-reply body carries."""
    if not isinstance(body, dict):
        return set()
    return {
        f"{kind} in {name}"
        for name in FIELDS
        if isinstance(body.get(name), str)
        for kind in _kinds_of(body[name])
    }


def describe(seen: Iterable[str]) -> str:
    """One line: which kinds the run's valid calls carry, and which none does."""
    seen = set(seen)
    wanted = [f"{kind} in {name}" for name in FIELDS for kind in KINDS]
    missing = [item for item in wanted if item not in seen]
    if not missing:
        return (
            f"the valid calls carry {', '.join(KINDS[:-1])} and {KINDS[-1]} "
            f"in {' and '.join(FIELDS)}"
        )
    return (
        f"the valid calls carry {len(wanted) - len(missing)} of {len(wanted)} kinds of text "
        f"beyond ASCII (none with {', '.join(missing)})"
    )
