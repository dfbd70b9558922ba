"""Per-rule verdicts as a JSON report, a JUnit file and a terminal table."""

from __future__ import annotations

import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from xml.etree import ElementTree

if TYPE_CHECKING:
    from rich.console import Console

    from replyguard.spec import Rule
    from replyguard.suite.verdicts import RuleVerdict
    from replyguard.target import Target

__all__ = ["build_report", "exit_code", "print_table", "write_json", "write_junit"]

REPORT_VERSION = 1


def build_report(verdicts: Iterable[RuleVerdict], rules: Mapping[str, Rule], *,
                 target: Target | None, embedded: bool, requests: Mapping[str, int],
                 duration: float) -> dict[str, Any]:
    """The JSON report: every rule of the catalogue with its verdict; no secrets."""
    items = []
    for verdict in verdicts:
        entry = verdict.as_dict()
        rule = rules.get(verdict.rule)
        entry["title"] = rule.rule if rule else ""
        entry["source"] = rule.source if rule else ""
        items.append(entry)
    counts = Counter(item["verdict"] for item in items)
    return {
        "version": REPORT_VERSION,
        "target": {
            "base_url": target.base_url if target else None,
            "brand": target.brand if target else None,
            "embedded_reference": embedded,
        },
        "summary": {"pass": counts["pass"], "fail": counts["fail"],
                    "not tested": counts["not tested"], "rules": len(items)},
        "requests": dict(requests),
        "duration_seconds": round(duration, 2),
        "rules": items,
    }


def write_json(report: Mapping[str, Any], path: Path) -> None:
    """Write the report atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def exit_code(report: Mapping[str, Any]) -> int:
    """0 when every tested rule passed, 1 when any failed."""
    return 1 if report["summary"]["fail"] else 0


def write_junit(report: Mapping[str, Any], path: Path) -> None:
    """One JUnit test case per rule, so CI dashboards show rules, not test functions."""
    summary = report["summary"]
    suite = ElementTree.Element(
        "testsuite", name="replyguard", tests=str(summary["rules"]),
        failures=str(summary["fail"]), skipped=str(summary["not tested"]),
        time=str(report["duration_seconds"]))
    for item in report["rules"]:
        case = ElementTree.SubElement(suite, "testcase", classname="replyguard.rules",
                                      name=item["rule"])
        if item["verdict"] == "fail":
            first = item["failures"][0] if item["failures"] else {}
            failure = ElementTree.SubElement(
                case, "failure", message=f"expected {first.get('expected', '')}; "
                                         f"observed {first.get('observed', '')}")
            failure.text = "\n\n".join(_failure_text(f) for f in item["failures"])
        elif item["verdict"] == "not tested":
            ElementTree.SubElement(case, "skipped", message=item["reason"])
    path.parent.mkdir(parents=True, exist_ok=True)
    tree = ElementTree.ElementTree(suite)
    ElementTree.indent(tree)
    tree.write(path, encoding="utf-8", xml_declaration=True)


def _failure_text(failure: Mapping[str, Any]) -> str:
    lines = [f"test: {failure.get('test', '')}",
             f"expected: {failure.get('expected', '')}",
             f"observed: {failure.get('observed', '')}"]
    if failure.get("response"):
        lines.append(f"response: {failure['response']}")
    if failure.get("curl"):
        lines.append(f"reproduce: {failure['curl']}")
    return "\n".join(lines)


_STYLE = {"pass": "green", "fail": "bold red", "not tested": "yellow"}


def print_table(report: Mapping[str, Any], console: Console, *, show_passed: bool = True) -> None:
    """The verdict table: rule, verdict, and for failures what was expected, seen, and curl."""
    from rich.table import Table

    table = Table(title="replyguard verdicts", show_lines=False, expand=False)
    table.add_column("rule", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("details", overflow="fold")
    order = {"fail": 0, "not tested": 1, "pass": 2}
    for item in sorted(report["rules"], key=lambda i: (order[i["verdict"]], i["rule"])):
        if item["verdict"] == "pass" and not show_passed:
            continue
        style = _STYLE[item["verdict"]]
        if item["verdict"] == "fail":
            details = "\n\n".join(_failure_text(f) for f in item["failures"][:2])
        else:
            details = item["reason"]
        table.add_row(item["rule"], f"[{style}]{item['verdict']}[/]", details)
    console.print(table)
    summary = report["summary"]
    console.print(
        f"[bold]{summary['pass']} passed, {summary['fail']} failed, "
        f"{summary['not tested']} not tested[/] of {summary['rules']} rules "
        f"in {report['duration_seconds']:.1f}s; requests sent: "
        + (", ".join(f"{k} {v}" for k, v in report["requests"].items()) or "none"))
