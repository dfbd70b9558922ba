"""The regression gate: one run's report, judged against a baseline and the known deviations.

The gate never silences a failure by itself. A rule that fails is red unless the
known-deviations file accepts it with a reason (and its ``until`` date has not passed); the
baseline says which failures are new, and turns a rule that stopped being tested into a
regression too.
"""

from __future__ import annotations

import datetime as dt
from collections.abc import Mapping, MutableMapping, Sequence
from dataclasses import dataclass, field
from typing import Any

from replyguard.exit_codes import ExitCode
from replyguard.gate.baseline import Comparison, compare, rule_entries
from replyguard.gate.deviations import Deviation

__all__ = ["DeviationStatus", "GateResult", "apply_gate"]

FIX_HINT = "fixed: remove it from the list"


@dataclass(slots=True, frozen=True)
class DeviationStatus:
    deviation: Deviation
    status: str
    """known | expired | fixed | not checked"""
    verdict: str | None

    def as_dict(self) -> dict[str, Any]:
        """JSON-ready form."""
        return {**self.deviation.as_dict(), "status": self.status, "verdict": self.verdict}


@dataclass(slots=True)
class GateResult:
    exit_code: ExitCode
    lines: list[str] = field(default_factory=list)
    """What to print after the verdict table, one finding per line."""
    comparison: Comparison | None = None
    deviations: list[DeviationStatus] = field(default_factory=list)
    failing: list[str] = field(default_factory=list)
    """The failed rules no known deviation accepts."""
    section: dict[str, Any] = field(default_factory=dict)
    """What ``apply_gate`` stored in the report as ``gate``."""


def apply_gate(
    report: MutableMapping[str, Any],
    *,
    baseline: Mapping[str, Any] | None = None,
    baseline_label: str | None = None,
    deviations: Sequence[Deviation] = (),
    deviations_label: str | None = None,
    fail_on_drift: bool = False,
    today: dt.date | None = None,
) -> GateResult:
    """Judge ``report``; store the findings in ``report["gate"]`` and return the exit code."""
    today = today or dt.date.today()
    entries = rule_entries(report)
    verdicts = {rule: str(entry.get("verdict")) for rule, entry in entries.items()}
    statuses = [_status(d, verdicts.get(d.rule), today) for d in deviations]
    accepted = {s.deviation.rule for s in statuses if s.status == "known"}
    failing = sorted(r for r, v in verdicts.items() if v == "fail" and r not in accepted)
    comparison = compare(baseline, report) if baseline is not None else None
    lines = _comparison_lines(comparison, baseline_label, fail_on_drift) if comparison else []
    lines += [_deviation_line(s) for s in statuses]
    stopped = comparison.of_kind("stopped testing") if comparison else []
    drift = bool(comparison and comparison.drift and fail_on_drift)
    if failing or stopped or drift:
        code = ExitCode.FAILED
    elif any(v == "error" for v in verdicts.values()):
        code = ExitCode.COULD_NOT_JUDGE
    else:
        code = ExitCode.OK
    lines.append(_summary_line(code, failing, stopped, drift, statuses))
    section = {
        "result": {
            ExitCode.OK: "ok",
            ExitCode.FAILED: "failed",
            ExitCode.COULD_NOT_JUDGE: "could not judge",
        }[code],
        "exit_code": int(code),
        "baseline": baseline_label if baseline is not None else None,
        "baseline_target": dict(baseline.get("target") or {}) if baseline is not None else None,
        "known_deviations": deviations_label,
        "fail_on_drift": fail_on_drift,
        "failing": failing,
        "changes": comparison.as_dict() if comparison else None,
        "deviations": [s.as_dict() for s in statuses],
        "lines": lines,
        "date": today.isoformat(),
    }
    report["gate"] = section
    return GateResult(code, lines, comparison, statuses, failing, section)


def _status(deviation: Deviation, verdict: str | None, today: dt.date) -> DeviationStatus:
    if verdict == "fail":
        status = "expired" if deviation.expired(today) else "known"
    elif verdict == "pass":
        status = "fixed"
    else:
        status = "not checked"
    return DeviationStatus(deviation, status, verdict)


def _deviation_line(status: DeviationStatus) -> str:
    d = status.deviation
    extra = "".join(
        [f"; until {d.until.isoformat()}" if d.until else "", f"; {d.link}" if d.link else ""]
    )
    if status.status == "known":
        return f"known deviation: {d.rule}: {d.reason}{extra}"
    if status.status == "expired":
        return (
            f"expired known deviation: {d.rule} fails and its date "
            f"{d.until.isoformat() if d.until else ''} has passed: {d.reason}"
        )
    if status.status == "fixed":
        return f"{FIX_HINT}: {d.rule} now passes (listed: {d.reason})"
    return f"known deviation not checked this run: {d.rule} ({status.verdict or 'absent'})"


def _comparison_lines(comparison: Comparison, label: str | None, fail_on_drift: bool) -> list[str]:
    lines = [f"compared with baseline {label or '(given)'}"]
    for change in comparison.rules:
        before = change.before or "absent"
        if change.change == "new failure":
            lines.append(f"new failure: {change.rule} (was {before})")
        elif change.change == "fixed":
            lines.append(f"fixed since the baseline: {change.rule}")
        elif change.change == "still failing":
            lines.append(f"still failing: {change.rule}")
        elif change.change == "stopped testing":
            lines.append(f"stopped testing: {change.rule} ({before} -> {change.after})")
        else:
            lines.append(f"changed: {change.rule} ({before} -> {change.after or 'absent'})")
    for obs in comparison.observations:
        lines.append(
            f"{'drift' if fail_on_drift else 'observation changed'}: {obs.zone}: "
            f"{obs.probe}: {obs.before} -> {obs.after}"
        )
    if len(lines) == 1:
        lines.append("no change since the baseline")
    return lines


def _summary_line(
    code: ExitCode,
    failing: list[str],
    stopped: list[Any],
    drift: bool,
    statuses: list[DeviationStatus],
) -> str:
    if code is ExitCode.OK:
        known = sum(s.status == "known" for s in statuses)
        return "gate: OK" + (f" ({known} known deviation{'s' * (known != 1)})" if known else "")
    if code is ExitCode.COULD_NOT_JUDGE:
        return "gate: could not judge (replyguard errors, no failure)"
    parts = []
    if failing:
        parts.append(
            f"{len(failing)} failing rule{'s' * (len(failing) != 1)}: " + ", ".join(failing)
        )
    if stopped:
        parts.append(f"{len(stopped)} rule{'s' * (len(stopped) != 1)} stopped being tested")
    if drift:
        parts.append("observations drifted (--fail-on-drift)")
    return "gate: FAILED (" + "; ".join(parts) + ")"
