"""The report's ``ratelimit`` section read one way by every format: the limiter's description
(the rate-limit model's, from the calls the run made anyway) and the timeline's marks."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from replyguard.report.timeline import Mark, timeline_svg

__all__ = ["limiter_items", "limiter_summary", "report_timeline"]


def _section(report: Mapping[str, Any]) -> Mapping[str, Any]:
    section = report.get("ratelimit")
    return section if isinstance(section, Mapping) else {}


def limiter_summary(report: Mapping[str, Any]) -> str:
    """One line: the documented limit and the limiter as described ("" without a section)."""
    section = _section(report)
    limiter = section.get("limiter") or {}
    if not section:
        return ""
    calls = len(section.get("calls") or [])
    return (
        f"{limiter.get('summary') or 'not described'} (documented: {section.get('limit')} per "
        f"{section.get('window'):g} s; from {calls} generate-reply calls)"
    )


def limiter_items(report: Mapping[str, Any]) -> list[tuple[str, str, str]]:
    """The description's items: (name, value, evidence)."""
    limiter = _section(report).get("limiter") or {}
    items: list[tuple[str, Any]] = [
        ("family", limiter.get("family")),
        ("anchor", limiter.get("anchor")),
        ("scope", limiter.get("scope")),
        *((f"{status} counts", f) for status, f in (limiter.get("counts") or {}).items()),
        ("retry_after", limiter.get("retry_after")),
        ("retry_after honest", limiter.get("honest")),
        *((str(name), f) for name, f in (limiter.get("headers") or {}).items()),
    ]
    return [
        (name, str(f.get("value", "")), str(f.get("evidence", "")))
        for name, f in items
        if isinstance(f, Mapping)
    ]


def report_timeline(report: Mapping[str, Any]) -> str:
    """The timeline of the run's generate-reply calls as inline SVG ("" without a section)."""
    section = _section(report)
    if not section:
        return ""
    marks = [
        Mark.of(
            str(c.get("role")),
            float(c.get("sent", 0.0)),
            int(c.get("status", 0)),
            served=bool(c.get("served")),
            refused=bool(c.get("refused")),
        )
        for c in section.get("calls") or []
        if c.get("role") not in ("none", "raw")  # no token: no lane of the limit
    ]
    return timeline_svg(
        marks,
        limit=int(section.get("limit", 0)),
        window=float(section.get("window", 60.0)),
        limiter=section.get("limiter"),
    )
