"""What the HTML and Markdown reports share: the headline, grouping and the order of verdicts."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import Any

from replyguard.masking import mask_secrets
from replyguard.suite.budget import BILLED
from replyguard.verdicts import VERDICTS

__all__ = [
    "VERDICTS",
    "area",
    "by_area",
    "counts",
    "headline",
    "is_local",
    "masked",
    "requests_text",
    "target_line",
    "transport_summary",
]

_ORDER: dict[str, int] = {v: i for i, v in enumerate(VERDICTS)}


def area(rule: str) -> str:
    """A rule's area: the first dot segment of its id."""
    return rule.split(".", 1)[0]


def by_area(report: Mapping[str, Any]) -> dict[str, list[Mapping[str, Any]]]:
    """The report's rules grouped by area; worst verdicts first within each area."""
    groups: dict[str, list[Mapping[str, Any]]] = {}
    for item in report.get("rules", []):
        groups.setdefault(area(str(item.get("rule", ""))), []).append(item)
    for items in groups.values():
        items.sort(key=lambda i: (_ORDER.get(str(i.get("verdict")), 9), str(i.get("rule"))))
    worst = {
        name: min(_ORDER.get(str(i.get("verdict")), 9) for i in items)
        for name, items in groups.items()
    }
    return dict(sorted(groups.items(), key=lambda kv: (worst[kv[0]], kv[0])))


def counts(report: Mapping[str, Any]) -> dict[str, int]:
    """Verdict counts, computed from the rules (a version 1 summary lacks some keys)."""
    result: dict[str, int] = dict.fromkeys(VERDICTS, 0)
    for item in report.get("rules", []):
        verdict = str(item.get("verdict"))
        result[verdict] = result.get(verdict, 0) + 1
    return result


def headline(report: Mapping[str, Any]) -> tuple[str, str]:
    """("ok" | "failed" | "could not judge", a one-line summary of the run)."""
    gate = report.get("gate") or {}
    n = counts(report)
    if gate.get("result"):
        result = str(gate["result"])
    elif n["fail"]:
        result = "failed"
    elif n["error"]:
        result = "could not judge"
    else:
        result = "ok"
    total = sum(n.values())
    parts = [
        f"{n[v]} {label}"
        for v, label in (
            ("pass", "passed"),
            ("fail", "failed"),
            ("error", "errors"),
            ("not tested", "not tested"),
            ("observed", "observed"),
        )
        if n[v] or v == "fail"
    ]
    return result, f"{', '.join(parts)} of {total} rules"


def target_line(report: Mapping[str, Any]) -> str:
    """The target in words: name, brand, mode and base URL (a report holds no token)."""
    target = report.get("target") or {}
    bits = [str(target[k]) for k in ("name", "brand", "mode") if target.get(k)]
    if target.get("embedded_reference"):
        bits.append("embedded reference")
    base = str(target.get("base_url") or "")
    return " · ".join([*bits, base] if base else bits) or "unknown target"


def is_local(report: Mapping[str, Any]) -> bool:
    """Was the target a local reference (its created assistants are a count, not a list)?"""
    target = report.get("target") or {}
    return bool(target.get("local", target.get("embedded_reference")))


def requests_text(report: Mapping[str, Any]) -> str:
    """``create_assistant 250, generate_reply 135``; billed calls only where the target bills."""
    bills = (report.get("target") or {}).get("mode") != "exhaustive"
    requests = report.get("requests") or {}
    return ", ".join(f"{k} {v}" for k, v in requests.items() if bills or k != BILLED)


def masked(text: Any, secrets: Iterable[str]) -> str:
    """``text`` as a string with every secret masked (defence in depth: reports hold none)."""
    return mask_secrets("" if text is None else str(text), tuple(secrets))


def transport_summary(report: Mapping[str, Any]) -> str:
    """The transport section in one line (issue 20): faults, and what they may have cost."""
    section = report.get("transport") or {}
    parts = [section["summary"]] if section.get("summary") else []
    if section.get("possibly_billed"):
        parts.append(
            f"{section['possibly_billed']} billable generate-reply calls possibly billed "
            "(the answer was lost)"
        )
    possibly = section.get("possibly_created") or []
    if possibly:
        names = ", ".join(repr(p.get("name")) for p in possibly[:20])
        more = " …" if len(possibly) > 20 else ""
        parts.append(
            f"{len(possibly)} assistants possibly created (the answer was lost): {names}{more}"
        )
    stopped = section.get("stopped")
    if stopped:
        parts.append(f"PARTIAL: {stopped['reason']}")
    return "; ".join(parts)
