"""The sections of a report for people, once: the HTML page and the Markdown summary both render
this model, so a section's title, its rows and what they mean are decided in one place; each
renderer only decides how a section looks, and how much of it a short summary shows.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from replyguard.report.common import (
    by_area,
    counts,
    headline,
    is_local,
    requests_text,
    target_line,
    transport_summary,
)
from replyguard.report.limiter import limiter_items, limiter_summary, report_timeline

__all__ = [
    "TITLES",
    "Changes",
    "DeviationRow",
    "Deviations",
    "Limiter",
    "ReportView",
    "Spend",
    "Transport",
    "view",
]

#: Every section's title, by section.
TITLES = {
    "changes": "What changed since the baseline",
    "deviations": "Known deviations",
    "counts": "Verdicts",
    "errors": "Errors (replyguard could not judge)",
    "failures": "Failing rules",
    "observations": "Where the documents are silent, this target",
    "ratelimit": "Rate limit, as this target keeps it",
    "transport": "Transport faults",
    "plan": "Plan and spend",
}
NO_CHANGE = "No change since the baseline."


@dataclass(frozen=True, slots=True)
class Changes:
    """What changed since the baseline (the gate's comparison)."""

    baseline: Any
    rules: Sequence[Mapping[str, Any]]
    observations: Sequence[Mapping[str, Any]]
    not_compared: int


@dataclass(frozen=True, slots=True)
class DeviationRow:
    rule: str
    status: str
    """known, expired or fixed: what the gate decided."""
    shown: str
    """The status as a reader should read it (a fixed one asks to be removed)."""
    reason: str
    until: str
    link: str


@dataclass(frozen=True, slots=True)
class Deviations:
    """The known deviations the gate applied, from the file it read."""

    source: Any
    rows: Sequence[DeviationRow]


@dataclass(frozen=True, slots=True)
class Spend:
    """What the run sent and how long it took, and the plan/spend records when there are."""

    requests: str
    """``create_assistant 250, generate_reply 135``: billed calls only where the target bills."""
    duration: Any
    records: Mapping[str, Any]
    """plan and spent, those the report has."""
    created: Sequence[Any]
    """The created assistants' ids."""
    local: bool
    """A local reference: its created assistants are a count, not a list to clean up."""
    generated: Mapping[str, Any]
    """The generated cases: the run's seed and the negative cases dropped."""


@dataclass(frozen=True, slots=True)
class Limiter:
    """The rate limit as the target keeps it: the model's description and the calls' timeline."""

    summary: str
    items: Sequence[tuple[str, str, str]]
    """(name, value, evidence) of each described item."""
    timeline: str
    """Inline SVG."""


@dataclass(frozen=True, slots=True)
class Transport:
    """What the network lost (issue 20): the one line, and each fault with its request."""

    line: str
    faults: Sequence[Mapping[str, Any]]


@dataclass(frozen=True, slots=True)
class ReportView:
    """A report as its readers see it, section by section."""

    result: str
    """ok, failed or could not judge."""
    summary: str
    target: str
    gate_line: str | None
    counts: Mapping[str, int]
    changes: Changes | None
    deviations: Deviations | None
    deviation_of: Mapping[str, Mapping[str, Any]]
    """Deviations by rule (every status), for a rule's own line."""
    areas: Mapping[str, list[Mapping[str, Any]]]
    failing: Sequence[Mapping[str, Any]]
    erred: Sequence[Mapping[str, Any]]
    observations: Sequence[Mapping[str, Any]]
    limiter: Limiter | None
    transport: Transport | None
    spend: Spend


def _limiter(report: Mapping[str, Any]) -> Limiter | None:
    summary = limiter_summary(report)
    if not summary:
        return None
    return Limiter(summary, limiter_items(report), report_timeline(report))


def _transport(report: Mapping[str, Any]) -> Transport | None:
    line = transport_summary(report)
    if not line:
        return None
    return Transport(line, (report.get("transport") or {}).get("faults", []))


def _changes(gate: Mapping[str, Any]) -> Changes | None:
    changes = gate.get("changes")
    if not changes:
        return None
    return Changes(
        baseline=gate.get("baseline"),
        rules=changes.get("rules") or [],
        observations=changes.get("observations") or [],
        not_compared=len(changes.get("not_compared") or []),
    )


def _deviations(gate: Mapping[str, Any]) -> Deviations | None:
    rows = gate.get("deviations") or []
    if not rows:
        return None
    return Deviations(
        source=gate.get("known_deviations"),
        rows=[
            DeviationRow(
                rule=d["rule"],
                status=d["status"],
                shown="fixed: remove it from the list" if d["status"] == "fixed" else d["status"],
                reason=d["reason"],
                until=d.get("until") or "",
                link=d.get("link") or "",
            )
            for d in rows
        ],
    )


def view(report: Mapping[str, Any]) -> ReportView:
    """The sections of ``report``."""
    result, summary = headline(report)
    gate = report.get("gate") or {}
    gate_lines = [line for line in gate.get("lines") or [] if line.startswith("gate:")]
    rules = report.get("rules", [])
    return ReportView(
        result=result,
        summary=summary,
        target=target_line(report),
        gate_line=gate_lines[-1] if gate_lines else None,
        counts=counts(report),
        changes=_changes(gate),
        deviations=_deviations(gate),
        deviation_of={d["rule"]: d for d in gate.get("deviations") or []},
        areas=by_area(report),
        failing=[r for r in rules if r.get("verdict") == "fail"],
        erred=[r for r in rules if r.get("verdict") == "error"],
        observations=report.get("observations") or [],
        limiter=_limiter(report),
        transport=_transport(report),
        spend=Spend(
            requests=requests_text(report),
            duration=report.get("duration_seconds", 0),
            records={key: report[key] for key in ("plan", "spent") if report.get(key)},
            created=report.get("created_assistants") or [],
            local=is_local(report),
            generated=report.get("generated_cases") or {},
        ),
    )
