"""The report as JUnit XML: one test case per rule, so CI dashboards show rules.

Failures are ``<failure>``; replyguard's own errors are ``<error>``; rules not tested and the
silent zones' observations are ``<skipped>`` with the reason, never failures. A failure that a
known deviation of the regression gate accepts is ``<skipped>`` too, as pytest writes an xfail:
the gate passed, so the dashboard must not show red, and the reason and the evidence stay.
"""

from __future__ import annotations

from collections.abc import Mapping
from pathlib import Path
from typing import Any
from xml.etree import ElementTree

from replyguard.report.limiter import limiter_items, limiter_summary

__all__ = ["failure_text", "write_junit"]


def write_junit(report: Mapping[str, Any], path: Path) -> None:
    """One JUnit test case per rule, so CI dashboards show rules, not test functions."""
    summary = report["summary"]
    accepted = _accepted(report)
    suite = ElementTree.Element(
        "testsuite",
        name="replyguard",
        tests=str(summary["rules"]),
        failures=str(summary["fail"] - len(accepted)),
        errors=str(summary.get("error", 0)),
        skipped=str(summary["not tested"] + summary.get("observed", 0) + len(accepted)),
        time=str(report["duration_seconds"]),
    )
    _limiter_properties(suite, report)
    for item in report["rules"]:
        case = ElementTree.SubElement(
            suite, "testcase", classname="replyguard.rules", name=item["rule"]
        )
        if item["verdict"] == "fail" and item["rule"] in accepted:
            skipped = ElementTree.SubElement(
                case, "skipped", type="known deviation", message=accepted[item["rule"]]
            )
            skipped.text = "\n\n".join(failure_text(f) for f in item["failures"])
        elif item["verdict"] == "fail":
            first = item["failures"][0] if item["failures"] else {}
            failure = ElementTree.SubElement(
                case,
                "failure",
                message=f"expected {first.get('expected', '')}; "
                f"observed {first.get('observed', '')}",
            )
            failure.text = "\n\n".join(failure_text(f) for f in item["failures"])
        elif item["verdict"] == "error":
            first = item["errors"][0] if item.get("errors") else {}
            error = ElementTree.SubElement(
                case, "error", message=item["reason"], type=first.get("exception", "")
            )
            error.text = "\n".join(
                f"{e['test']}: {e['exception']}: {e['message']}" for e in item.get("errors", [])
            )
        elif item["verdict"] == "observed":
            ElementTree.SubElement(case, "skipped", message=f"observed: {item['reason']}")
        elif item["verdict"] == "not tested":
            ElementTree.SubElement(case, "skipped", message=item["reason"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ElementTree.ElementTree(suite)
    ElementTree.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _limiter_properties(suite: ElementTree.Element, report: Mapping[str, Any]) -> None:
    """The limiter's description as the suite's properties (``ratelimit.*`` names)."""
    summary = limiter_summary(report)
    if not summary:
        return
    properties = ElementTree.SubElement(suite, "properties")
    ElementTree.SubElement(properties, "property", name="ratelimit.limiter", value=summary)
    for name, value, evidence in limiter_items(report):
        ElementTree.SubElement(
            properties,
            "property",
            name=f"ratelimit.{name.replace(' ', '-')}",
            value=f"{value} ({evidence})" if evidence else value,
        )


def _accepted(report: Mapping[str, Any]) -> dict[str, str]:
    """Failed rules a known deviation accepts this run, with the line that says why."""
    gate = report.get("gate") or {}
    failed = {item["rule"] for item in report["rules"] if item["verdict"] == "fail"}
    return {
        d["rule"]: f"known deviation: {d['reason']}"
        + (f" (until {d['until']})" if d.get("until") else "")
        + (f" {d['link']}" if d.get("link") else "")
        for d in gate.get("deviations", [])
        if d.get("status") == "known" and d.get("rule") in failed
    }


def failure_text(failure: Mapping[str, Any]) -> str:
    """A failure as lines: test, expected, observed, the answer and the curl reproduction."""
    lines = [
        f"test: {failure.get('test', '')}",
        f"expected: {failure.get('expected', '')}",
        f"observed: {failure.get('observed', '')}",
    ]
    if failure.get("response"):
        lines.append(f"response: {failure['response']}")
    if failure.get("curl"):
        lines.append(f"reproduce: {failure['curl']}")
    return "\n".join(lines)
