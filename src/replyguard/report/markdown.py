"""A Markdown summary of a report, for a pull-request comment or a CI job summary."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import Any

from replyguard.report.common import VERDICTS, counts, headline, masked, target_line

__all__ = ["render_markdown", "write_markdown"]

# GitHub truncates comments at 65,536 characters; stay well under it.
LIMIT = 60_000
_ICON = {"ok": "✅", "failed": "❌", "could not judge": "⚠️"}


def _cell(text: Any) -> str:
    return str(text if text is not None else "").replace("|", "\\|").replace("\n", " ").strip()


def _fence(text: str) -> str:
    # A fence longer than any backtick run inside, so an answer cannot close it.
    longest, run = 0, 0
    for char in text:
        run = run + 1 if char == "`" else 0
        longest = max(longest, run)
    return "`" * max(3, longest + 1)


def render_markdown(
    report: Mapping[str, Any], secrets: Iterable[str] = (), limit: int = LIMIT
) -> str:
    """The summary: result, counts, what changed, failures, known deviations, observations."""
    secrets = tuple(secrets)
    result, summary = headline(report)
    out = [
        f"## {_ICON.get(result, '')} replyguard: {result}",
        "",
        f"**{summary}** · {_cell(target_line(report))}",
        "",
    ]
    n = counts(report)
    out += [
        "| " + " | ".join(VERDICTS) + " |",
        "|" + " --- |" * len(VERDICTS),
        "| " + " | ".join(str(n[v]) for v in VERDICTS) + " |",
        "",
    ]
    gate = report.get("gate") or {}
    out += _changes(gate)
    out += _failures(report)
    out += _errors(report)
    out += _deviations(gate)
    out += _observations(report)
    out += _transport(report)
    out += _plan(report)
    text = masked("\n".join(out).rstrip() + "\n", secrets)
    if len(text) > limit:
        cut = text.rfind("\n", 0, limit - 200)
        text = text[:cut] + "\n\n… (truncated: see the HTML or JSON report for the rest)\n"
    return text


def _changes(gate: Mapping[str, Any]) -> list[str]:
    changes = gate.get("changes")
    if not changes:
        return []
    out = [f"### What changed since the baseline (`{_cell(gate.get('baseline'))}`)", ""]
    rows = changes.get("rules") or []
    if rows:
        out += ["| rule | before | after | change |", "| --- | --- | --- | --- |"]
        out += [
            f"| `{c['rule']}` | {_cell(c['before'])} | {_cell(c['after'])} | **{c['change']}** |"
            for c in rows
        ]
    for obs in changes.get("observations") or []:
        out.append(
            f"- observation changed: `{obs['zone']}` {_cell(obs['probe'])}: "
            f"{_cell(obs['before'])} → {_cell(obs['after'])}"
        )
    if not rows and not changes.get("observations"):
        out.append("No change since the baseline.")
    return [*out, ""]


def _failures(report: Mapping[str, Any]) -> list[str]:
    failing = [r for r in report.get("rules", []) if r.get("verdict") == "fail"]
    if not failing:
        return []
    known = {
        d["rule"]: d
        for d in (report.get("gate") or {}).get("deviations", [])
        if d.get("status") == "known"
    }
    out = ["### Failing rules", ""]
    for item in failing:
        first = (item.get("failures") or [{}])[0]
        tag = " (known deviation)" if item["rule"] in known else ""
        out += [
            f"<details><summary><code>{item['rule']}</code>{tag}: expected "
            f"{_cell(first.get('expected'))}; observed {_cell(first.get('observed'))}"
            "</summary>",
            "",
        ]
        if item.get("title"):
            out += [f"> {_cell(item['title'])}", ""]
        if first.get("test"):
            out += [f"test: `{first['test']}`", ""]
        if first.get("response"):
            fence = _fence(str(first["response"]))
            out += ["answer:", "", fence, str(first["response"]), fence, ""]
        if first.get("curl"):
            fence = _fence(str(first["curl"]))
            out += ["reproduce:", "", fence + "bash", str(first["curl"]), fence, ""]
        out += ["</details>", ""]
    return out


def _errors(report: Mapping[str, Any]) -> list[str]:
    rows = [r for r in report.get("rules", []) if r.get("verdict") == "error"]
    if not rows:
        return []
    out = ["### Errors (replyguard could not judge)", ""]
    for item in rows:
        err = (item.get("errors") or [{}])[0]
        out.append(
            f"- `{item['rule']}`: {_cell(err.get('exception'))} "
            f"{_cell(err.get('message') or item.get('reason'))}"
        )
    return [*out, ""]


def _deviations(gate: Mapping[str, Any]) -> list[str]:
    rows = gate.get("deviations") or []
    if not rows:
        return []
    out = [
        "### Known deviations",
        "",
        "| rule | status | reason | until | link |",
        "| --- | --- | --- | --- | --- |",
    ]
    for d in rows:
        status = "fixed: remove it from the list" if d["status"] == "fixed" else d["status"]
        out.append(
            f"| `{d['rule']}` | {status} | {_cell(d['reason'])} | "
            f"{_cell(d.get('until') or '')} | {_cell(d.get('link') or '')} |"
        )
    return [*out, ""]


def _observations(report: Mapping[str, Any]) -> list[str]:
    items = report.get("observations") or []
    if not items:
        return []
    out = ["### Where the documents are silent, this target", ""]
    for obs in items[:50]:
        out.append(f"- `{obs.get('zone')}`: {_cell(obs.get('probe'))} → {_cell(obs.get('answer'))}")
    if len(items) > 50:
        out.append(f"- … and {len(items) - 50} more (see the HTML report)")
    return [*out, ""]


def _transport(report: Mapping[str, Any]) -> list[str]:
    """The transport faults in one line (issue 20); nothing when the network kept up."""
    from replyguard.report.render import transport_line

    line = transport_line(report).strip().removeprefix("TRANSPORT ")
    return [f"**Transport:** {_cell(line)}", ""] if line else []


def _plan(report: Mapping[str, Any]) -> list[str]:
    out = []
    requests = report.get("requests") or {}
    if requests:
        out.append(
            "Requests sent: "
            + ", ".join(f"{k} {v}" for k, v in requests.items())
            + f" in {report.get('duration_seconds', 0)} s."
        )
    for key in ("plan", "spent"):
        if report.get(key):
            out.append(f"{key}: `{_cell(json.dumps(report[key], ensure_ascii=False))}`")
    return [*out, ""] if out else []


def write_markdown(
    report: Mapping[str, Any],
    path: Path | None,
    secrets: Iterable[str] = (),
    env: Mapping[str, str] | None = None,
) -> str:
    """Write the summary to ``path`` and append it to ``$GITHUB_STEP_SUMMARY`` when set."""
    text = render_markdown(report, secrets)
    if path is not None:
        path.parent.mkdir(parents=True, exist_ok=True)
        path.write_text(text, encoding="utf-8")
    summary = (os.environ if env is None else env).get("GITHUB_STEP_SUMMARY")
    if summary:
        with open(summary, "a", encoding="utf-8") as handle:
            handle.write(text + "\n")
    return text
