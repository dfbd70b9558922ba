"""Printing a report for people: a table on a terminal, plain lines in a log, or JSON.

Plain lines are written as they are, never wrapped to a width: a CI log keeps every reason on
one line. Rules left out by ``--rules`` make one summary line, and a reason shared by many rules
(the unobservable defaults) is printed once with the count.
"""

from __future__ import annotations

import json
import sys
from collections.abc import Mapping
from typing import IO, Any

from replyguard.ratelimit import UNKNOWN
from replyguard.report.common import is_local, requests_text, transport_summary
from replyguard.report.junit import failure_text
from replyguard.report.limiter import limiter_items, limiter_summary
from replyguard.verdicts import VERDICTS

__all__ = ["print_report", "summary_line"]

_STYLE = {
    "pass": "green",
    "fail": "bold red",
    "error": "bold magenta",
    "not tested": "yellow",
    "observed": "cyan",
}


def summary_line(report: Mapping[str, Any]) -> str:
    """``96 passed, 0 failed, 0 errors, 26 not tested, 6 observed of 128 rules in 31.2s; …``"""
    s = report["summary"]
    requests = requests_text(report) or "none"
    return (
        f"{s.get('pass', 0)} passed, {s.get('fail', 0)} failed, {s.get('error', 0)} errors, "
        f"{s.get('not tested', 0)} not tested, {s.get('observed', 0)} observed "
        f"of {s['rules']} rules in {report['duration_seconds']:.1f}s; "
        f"requests sent: {requests}{_generated(report)}"
    )


def _generated(report: Mapping[str, Any]) -> str:
    """``; seed N`` (what --seed replays) and the negative cases dropped, when known."""
    generated = report.get("generated_cases")
    if not isinstance(generated, Mapping):
        return ""
    dropped = generated.get("negatives_dropped") or 0
    text = f"; seed {generated.get('seed')}"
    return text + (
        f", {dropped} generated negative cases dropped (valid or silent)" if dropped else ""
    )


def _selected(report: Mapping[str, Any]) -> tuple[list[Mapping[str, Any]], int]:
    rules = report["rules"]
    chosen = [r for r in rules if r.get("selected", True)]
    return chosen, len(rules) - len(chosen)


def _sorted(rules: list[Mapping[str, Any]]) -> list[Mapping[str, Any]]:
    order = {name: i for i, name in enumerate(VERDICTS)}
    return sorted(rules, key=lambda r: (order[r["verdict"]], r["rule"]))


def _grouped_untested(rules: list[Mapping[str, Any]]) -> dict[str, list[str]]:
    groups: dict[str, list[str]] = {}
    for rule in rules:
        if rule["verdict"] == "not tested":
            groups.setdefault(rule["reason"], []).append(rule["rule"])
    return groups


def _observed_line(report: Mapping[str, Any]) -> str:
    # Per zone, only where this target differs from the contract's own decision: that is the
    # fingerprint worth reading; the JSON report keeps every probe.
    zones: dict[str, list[Mapping[str, Any]]] = {}
    for item in report.get("observations", []):
        zones.setdefault(item["zone"], []).append(item)
    parts = []
    for zone, items in zones.items():
        other = [f"{o['probe']}: {o['answer']}" for o in items if not o.get("agrees", True)]
        name = zone.removeprefix("silent.")
        if not other:
            parts.append(f"{name}: as the contract decides ({len(items)} probes)")
        else:
            more = f" and {len(other) - 2} more" if len(other) > 2 else ""
            parts.append(f"{name}: {'; '.join(other[:2])}{more}")
    return " | ".join(parts)


def _created_line(report: Mapping[str, Any]) -> str:
    created = report.get("created_assistants") or []
    if not created or report.get("target", {}).get("embedded_reference"):
        return ""
    if is_local(report):
        # A reference started by hand: nothing to clean up in a vendor's portal.
        return f"created {len(created)} assistants on the local reference\n"
    shown = ", ".join(map(str, created[:20])) + (" …" if len(created) > 20 else "")
    return (
        f"CREATED {len(created)} assistants (no documented way to delete them; remove them "
        f"in the vendor's portal): {shown}\n"
    )


def transport_line(report: Mapping[str, Any]) -> str:
    """The transport section in one line (issue 20): faults, and what they may have cost."""
    summary = transport_summary(report)
    return f"TRANSPORT {summary}\n" if summary else ""


def print_report(
    report: Mapping[str, Any], fmt: str, *, show_passed: bool = True, stream: IO[str] | None = None
) -> None:
    """Print the report as ``table``, ``plain`` or ``json`` (``auto``: table on a terminal)."""
    out = stream or sys.stdout
    if fmt == "auto":
        fmt = "table" if out.isatty() else "plain"
    if fmt == "json":
        out.write(json.dumps(report, indent=2, ensure_ascii=False) + "\n")
    elif fmt == "table":
        _print_table(report, out, show_passed=show_passed)
    else:
        _print_plain(report, out)


def _print_plain(report: Mapping[str, Any], out: IO[str]) -> None:
    rules, left_out = _selected(report)
    for rule in _sorted(rules):
        verdict = rule["verdict"]
        if verdict == "fail":
            for failure in rule["failures"][:3]:
                out.write(
                    f"FAIL {rule['rule']}: expected {failure.get('expected', '')}; "
                    f"observed {failure.get('observed', '')}\n"
                )
                if failure.get("response"):
                    out.write(f"     answer: {' '.join(failure['response'].split())}\n")
                if failure.get("curl"):
                    out.write(f"     reproduce: {failure['curl']}\n")
        elif verdict == "error":
            out.write(f"ERROR {rule['rule']}: {rule['reason']}\n")
    for reason, ids in _grouped_untested(rules).items():
        shown = ", ".join(ids[:6]) + (f" and {len(ids) - 6} more" if len(ids) > 6 else "")
        out.write(f"NOT TESTED {len(ids)} rule{'s' if len(ids) != 1 else ''}: {reason} ({shown})\n")
    observed = _observed_line(report)
    if observed:
        out.write(f"OBSERVED where the documents are silent, this target: {observed}\n")
    if left_out:
        out.write(f"{left_out} rules not selected for this run\n")
    limiter = _limiter_line(report)
    if limiter:
        out.write(limiter + "\n")
    out.write(_created_line(report))
    out.write(transport_line(report))
    out.write(summary_line(report) + "\n")
    out.flush()


def _limiter_line(report: Mapping[str, Any]) -> str:
    """The limiter in one line, for piped output (one line per finding): what the run's calls
    decided, with its evidence, then the names of what they left unknown. The table, the JSON,
    the HTML and the Markdown keep one item a line."""
    summary = limiter_summary(report)
    if not summary:
        return ""
    items = limiter_items(report)
    known = [f"{name}: {value} ({evidence})" for name, value, evidence in items if value != UNKNOWN]
    unknown = [name for name, value, _ in items if value == UNKNOWN]
    parts = [f"RATE LIMIT this target: {summary}", *known]
    if unknown:
        parts.append(f"unknown: {', '.join(unknown)}")
    return "; ".join(parts)


def _limiter_lines(report: Mapping[str, Any]) -> list[str]:
    """The limiter as the rate-limit model describes it (from the run's own calls)."""
    summary = limiter_summary(report)
    if not summary:
        return []
    items = [f"  {name}: {value} ({evidence})" for name, value, evidence in limiter_items(report)]
    return [f"RATE LIMIT this target: {summary}", *items]


def _print_table(report: Mapping[str, Any], out: IO[str], *, show_passed: bool) -> None:
    from rich.console import Console
    from rich.table import Table

    console = Console(file=out)
    rules, left_out = _selected(report)
    table = Table(title="replyguard verdicts", show_lines=False, expand=False)
    table.add_column("rule", no_wrap=True)
    table.add_column("verdict", no_wrap=True)
    table.add_column("details", overflow="fold")
    groups = _grouped_untested(rules)
    for rule in _sorted(rules):
        verdict = rule["verdict"]
        if (verdict == "pass" and not show_passed) or verdict == "not tested":
            continue
        if verdict == "fail":
            details = "\n\n".join(failure_text(f) for f in rule["failures"][:2])
        else:
            details = rule["reason"]
        table.add_row(rule["rule"], f"[{_STYLE[verdict]}]{verdict}[/]", details)
    for reason, ids in groups.items():
        label = ids[0] if len(ids) == 1 else f"{len(ids)} rules ({ids[0]}, …)"
        table.add_row(label, f"[{_STYLE['not tested']}]not tested[/]", reason)
    console.print(table)
    observed = _observed_line(report)
    if observed:
        console.print(
            "[cyan]Where the documents are silent, this target:[/] " + observed,
            markup=True,
            highlight=False,
        )
    if left_out:
        console.print(f"{left_out} rules not selected for this run")
    for line in _limiter_lines(report):
        console.print(line, markup=False, highlight=False)
    console.print(_created_line(report), end="", markup=False, highlight=False)
    console.print(transport_line(report), end="", markup=False, highlight=False)
    console.print(f"[bold]{summary_line(report)}[/]", highlight=False)
