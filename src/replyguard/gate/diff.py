"""``replyguard diff A.json B.json``: every difference between two runs' reports.

For staging against production, or yesterday against today. The targets are shown by their
profile names (names are not secrets; tokens are, and a report holds none), and B *regresses*
against A when a rule fails
in B that did not in A, or a rule A judged is no longer tested in B (and, with
``--fail-on-drift``, when an observation in the documents' silent zones changed).
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from replyguard.exit_codes import ExitCode
from replyguard.gate.baseline import Comparison, ReportError, compare, load_report

__all__ = ["DiffResult", "ReportError", "diff_files", "diff_reports", "target_label"]


@dataclass(slots=True)
class DiffResult:
    exit_code: ExitCode
    comparison: Comparison
    lines: list[str] = field(default_factory=list)


def target_label(report: Mapping[str, Any]) -> str:
    """The report's target: its profile name (else its base URL), brand and mode."""
    target = report.get("target") or {}
    # The report's base_url had its secrets masked when it was written (build_report).
    name = target.get("name") or target.get("base_url")
    bits = [str(name) if name else "unnamed"]
    bits += [str(target[k]) for k in ("brand", "mode") if target.get(k)]
    if target.get("embedded_reference"):
        bits.append("embedded reference")
    return ", ".join(bits)


def diff_reports(
    a: Mapping[str, Any],
    b: Mapping[str, Any],
    *,
    fail_on_drift: bool = False,
    labels: tuple[str, str] = ("A", "B"),
) -> DiffResult:
    """Compare B with A; the lines are a per-rule table of every difference."""
    comparison = compare(a, b)
    la, lb = labels
    lines = [f"{la}: {target_label(a)}", f"{lb}: {target_label(b)}"]
    rows = [(c.rule, c.before or "absent", c.after or "absent", c.change) for c in comparison.rules]
    if rows:
        widths = [max(len(r[i]) for r in [("rule", la, lb, "change"), *rows]) for i in range(4)]
        header = ("rule", la, lb, "change")
        lines.append("  ".join(h.ljust(w) for h, w in zip(header, widths, strict=True)).rstrip())
        lines += [
            "  ".join(c.ljust(w) for c, w in zip(row, widths, strict=True)).rstrip() for row in rows
        ]
    for obs in comparison.observations:
        lines.append(f"observation {obs.zone}: {obs.probe}: {la} {obs.before}; {lb} {obs.after}")
    if comparison.not_compared:
        lines.append(
            f"not compared (left out of one run on purpose): {len(comparison.not_compared)} rules"
        )
    regressions = [c.rule for c in comparison.rules if c.regression]
    drift = comparison.drift and fail_on_drift
    if not rows and not comparison.observations:
        lines.append("no difference")
    if regressions or drift:
        what = ", ".join(regressions) or "observations drifted"
        lines.append(f"{lb} regresses against {la}: {what}")
        code = ExitCode.FAILED
    else:
        lines.append(f"{lb} does not regress against {la}")
        code = ExitCode.OK
    return DiffResult(code, comparison, lines)


def diff_files(a: Path, b: Path, *, fail_on_drift: bool = False) -> DiffResult:
    """Read both reports and diff them; a ReportError for an unreadable file."""
    first, second = load_report(a), load_report(b)
    return diff_reports(first, second, fail_on_drift=fail_on_drift)
