"""Comparing a run's report with an earlier one: what changed, rule by rule and in the
observations where the documents are silent.

Reports of version 1 (no ``error``/``observed`` verdicts, no observations) and version 2 are
both read; a missing key means "nothing of that kind".
"""

from __future__ import annotations

import json
from collections.abc import Mapping
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any

from replyguard.verdicts import DESELECTED

__all__ = [
    "DESELECTED",
    "Comparison",
    "ObservationChange",
    "ReportError",
    "RuleChange",
    "compare",
    "load_report",
    "rule_entries",
]

_UNTESTED = ("not tested", "error")


class ReportError(ValueError):
    """A report file cannot be read; one line naming the file."""


def load_report(path: Path) -> dict[str, Any]:
    """Read a ``--report-json`` file (version 1 or 2)."""
    try:
        data = json.loads(Path(path).read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise ReportError(f"report {path}: no such file") from None
    except (OSError, UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise ReportError(f"report {path}: not a replyguard JSON report ({exc})") from None
    if not isinstance(data, dict) or not isinstance(data.get("rules"), list):
        raise ReportError(f"report {path}: not a replyguard JSON report (no 'rules' list)")
    return data


def rule_entries(report: Mapping[str, Any]) -> dict[str, Mapping[str, Any]]:
    """The report's rules keyed by id."""
    return {str(item["rule"]): item for item in report.get("rules", []) if "rule" in item}


def _deselected(entry: Mapping[str, Any] | None) -> bool:
    # Version 2 reports say "selected": false; both versions give the reason.
    if not entry or entry.get("verdict") != "not tested":
        return False
    return entry.get("reason") == DESELECTED or entry.get("selected") is False


@dataclass(slots=True, frozen=True)
class RuleChange:
    rule: str
    before: str | None
    """The earlier verdict; None when the earlier report lacks the rule."""
    after: str | None
    change: str
    """new failure | fixed | still failing | stopped testing | changed"""

    @property
    def regression(self) -> bool:
        """Does this change, on its own, make the later run worse than the earlier one?"""
        return self.change in ("new failure", "stopped testing")


@dataclass(slots=True, frozen=True)
class ObservationChange:
    zone: str
    probe: str
    before: str
    after: str


@dataclass(slots=True)
class Comparison:
    """Everything that differs between an earlier report and a later one."""

    rules: list[RuleChange] = field(default_factory=list)
    observations: list[ObservationChange] = field(default_factory=list)
    not_compared: list[str] = field(default_factory=list)
    """Rules one of the runs left out on purpose (--rules, --last-failed)."""

    def of_kind(self, change: str) -> list[RuleChange]:
        """The rule changes of one kind, e.g. ``"new failure"``."""
        return [c for c in self.rules if c.change == change]

    @property
    def drift(self) -> bool:
        """Did the behaviour in the silent zones change?"""
        return bool(self.observations)

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {
            "rules": [asdict(c) for c in self.rules],
            "observations": [asdict(c) for c in self.observations],
            "not_compared": list(self.not_compared),
        }


def compare(earlier: Mapping[str, Any], later: Mapping[str, Any]) -> Comparison:
    """What changed from ``earlier`` to ``later`` (only differences, plus still failing)."""
    before, after = rule_entries(earlier), rule_entries(later)
    result = Comparison()
    for rule in sorted(set(before) | set(after)):
        old, new = before.get(rule), after.get(rule)
        if _deselected(old) or _deselected(new):
            # A selection is not a verdict: comparing it would call every left-out rule a
            # regression (or a fix).
            if (old or {}).get("verdict") != (new or {}).get("verdict"):
                result.not_compared.append(rule)
            continue
        was = old.get("verdict") if old else None
        now = new.get("verdict") if new else None
        kind = _kind(was, now)
        if kind:
            result.rules.append(RuleChange(rule, was, now, kind))
    skipped = {
        r
        for r in set(before) | set(after)
        if _deselected(before.get(r)) or _deselected(after.get(r))
    }
    if "observations" in earlier and "observations" in later:
        # A version 1 report has no observations: no answer there is not a change.
        result.observations = _observation_changes(earlier, later, skipped)
    return result


def _kind(was: str | None, now: str | None) -> str | None:
    if now == "fail":
        return "still failing" if was == "fail" else "new failure"
    if was == now:
        return None
    if was == "fail" and now == "pass":
        return "fixed"
    if now in _UNTESTED and was is not None:
        # A gate that silently stops testing is a regression, whatever the rule was before.
        return "stopped testing"
    return "changed"


def _answers(report: Mapping[str, Any]) -> dict[tuple[str, str], str]:
    answers: dict[tuple[str, str], str] = {}
    for item in report.get("observations") or []:
        key = (str(item.get("zone", "")), str(item.get("probe", "")))
        answers[key] = str(item.get("answer", ""))
    return answers


def _observation_changes(
    earlier: Mapping[str, Any], later: Mapping[str, Any], deselected: set[str]
) -> list[ObservationChange]:
    old, new = _answers(earlier), _answers(later)
    changes = []
    # Only probes both runs sent: a paid run sends fewer probes than an exhaustive one, and
    # a probe one run did not send says nothing about a change of behaviour.
    for key in sorted(set(old) & set(new)):
        if key[0] in deselected:
            continue
        if old[key] != new[key]:
            changes.append(ObservationChange(key[0], key[1], old[key], new[key]))
    return changes
