"""The known-deviations file: rules a target is allowed to break for a stated reason.

A TOML file of ``[[deviation]]`` tables, each with a ``rule`` id from ``openapi/rules.yaml``,
a required ``reason``, an optional ``until`` date (after it the deviation fails the gate
again) and an optional ``link`` (the vendor's tracker). Any mistake in the file is a usage
error that names the entry, so a typo never silently accepts a failure.
"""

from __future__ import annotations

import datetime as dt
import tomllib
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

__all__ = ["Deviation", "DeviationsError", "load_deviations", "parse_deviations"]

_KEYS = {"rule", "reason", "until", "link"}


class DeviationsError(ValueError):
    """The known-deviations file cannot be used; the message is one line naming the problem."""


@dataclass(slots=True, frozen=True)
class Deviation:
    rule: str
    reason: str
    until: dt.date | None = None
    link: str | None = None

    def expired(self, today: dt.date) -> bool:
        """True once ``until`` has passed (the deviation holds through that day)."""
        return self.until is not None and today > self.until

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rule": self.rule,
            "reason": self.reason,
            "until": self.until.isoformat() if self.until else None,
            "link": self.link,
        }


def load_deviations(path: Path, rule_ids: Iterable[str]) -> list[Deviation]:
    """Read and validate a known-deviations TOML file against the rule catalogue."""
    try:
        text = Path(path).read_text(encoding="utf-8")
    except FileNotFoundError:
        raise DeviationsError(f"known deviations {path}: no such file") from None
    except (OSError, UnicodeDecodeError) as exc:
        raise DeviationsError(f"known deviations {path}: cannot read it ({exc})") from None
    try:
        raw = tomllib.loads(text)
    except tomllib.TOMLDecodeError as exc:
        raise DeviationsError(f"known deviations {path}: not valid TOML: {exc}") from None
    return parse_deviations(raw, rule_ids, source=str(path))


def parse_deviations(
    raw: Mapping[str, Any], rule_ids: Iterable[str], *, source: str = "<memory>"
) -> list[Deviation]:
    """Validate parsed TOML: known keys, a catalogue rule id, a reason, a date, no duplicates."""
    known = set(rule_ids)
    extra = sorted(set(raw) - {"deviation"})
    if extra:
        raise DeviationsError(
            f"known deviations {source}: unknown key {extra[0]!r} (expected [[deviation]] tables)"
        )
    entries = raw.get("deviation", [])
    if not isinstance(entries, list):
        raise DeviationsError(
            f"known deviations {source}: 'deviation' must be [[deviation]] tables"
        )
    result: list[Deviation] = []
    seen: set[str] = set()
    for index, entry in enumerate(entries, start=1):
        where = f"known deviations {source}, entry {index}"
        if not isinstance(entry, Mapping):
            raise DeviationsError(f"{where}: expected a table")
        unknown = sorted(set(entry) - _KEYS)
        if unknown:
            raise DeviationsError(
                f"{where}: unknown key {unknown[0]!r} (allowed: {', '.join(sorted(_KEYS))})"
            )
        rule = entry.get("rule")
        if not isinstance(rule, str) or not rule.strip():
            raise DeviationsError(f"{where}: 'rule' (a rule id) is required")
        if rule not in known:
            raise DeviationsError(f"{where}: unknown rule id {rule!r} (not in openapi/rules.yaml)")
        if rule in seen:
            raise DeviationsError(f"{where}: rule {rule!r} is listed twice")
        seen.add(rule)
        reason = entry.get("reason")
        if not isinstance(reason, str) or not reason.strip():
            raise DeviationsError(f"{where} ({rule}): 'reason' is required")
        until = entry.get("until")
        if until is not None:
            until = _date(until, f"{where} ({rule})")
        link = entry.get("link")
        if link is not None and not isinstance(link, str):
            raise DeviationsError(f"{where} ({rule}): 'link' must be a string")
        result.append(Deviation(rule, reason.strip(), until, link))
    return result


def _date(value: Any, where: str) -> dt.date:
    # TOML has a date type (until = 2027-03-31); a quoted ISO date is accepted too.
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    if isinstance(value, str):
        try:
            return dt.date.fromisoformat(value.strip())
        except ValueError:
            pass
    raise DeviationsError(f"{where}: 'until' must be a date like 2027-03-31, got {value!r}")
