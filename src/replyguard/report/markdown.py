"""A Markdown summary of a report, for a pull-request comment or a CI job summary."""

from __future__ import annotations

import json
import os
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

from replyguard.report.common import VERDICTS, masked
from replyguard.report.sections import (
    NO_CHANGE,
    TITLES,
    Changes,
    Deviations,
    Limiter,
    ReportView,
    Spend,
    Transport,
    view,
)

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
    page = view(report)
    out = [
        f"## {_ICON.get(page.result, '')} replyguard: {page.result}",
        "",
        f"**{page.summary}** · {_cell(page.target)}",
        "",
    ]
    n = page.counts
    out += [
        "| " + " | ".join(VERDICTS) + " |",
        "|" + " --- |" * len(VERDICTS),
        "| " + " | ".join(str(n[v]) for v in VERDICTS) + " |",
        "",
    ]
    out += _changes(page.changes)
    out += _failures(page)
    out += _errors(page.erred)
    out += _deviations(page.deviations)
    out += _observations(page.observations)
    out += _limiter(page.limiter)
    out += _transport(page.transport)
    out += _plan(page.spend)
    text = masked("\n".join(out).rstrip() + "\n", secrets)
    if len(text) > limit:
        cut = text.rfind("\n", 0, limit - 200)
        text = text[:cut] + "\n\n… (truncated: see the HTML or JSON report for the rest)\n"
    return text


def _changes(changes: Changes | None) -> list[str]:
    if changes is None:
        return []
    out = [f"### {TITLES['changes']} (`{_cell(changes.baseline)}`)", ""]
    rows = changes.rules
    if rows:
        out += ["| rule | before | after | change |", "| --- | --- | --- | --- |"]
        out += [
            f"| `{c['rule']}` | {_cell(c['before'])} | {_cell(c['after'])} | **{c['change']}** |"
            for c in rows
        ]
    for obs in changes.observations:
        out.append(
            f"- observation changed: `{obs['zone']}` {_cell(obs['probe'])}: "
            f"{_cell(obs['before'])} → {_cell(obs['after'])}"
        )
    if not rows and not changes.observations:
        out.append(NO_CHANGE)
    return [*out, ""]


def _failures(page: ReportView) -> list[str]:
    if not page.failing:
        return []
    known = {rule for rule, d in page.deviation_of.items() if d.get("status") == "known"}
    out = [f"### {TITLES['failures']}", ""]
    for item in page.failing:
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


def _errors(rows: Sequence[Mapping[str, Any]]) -> list[str]:
    if not rows:
        return []
    out = [f"### {TITLES['errors']}", ""]
    for item in rows:
        err = (item.get("errors") or [{}])[0]
        out.append(
            f"- `{item['rule']}`: {_cell(err.get('exception'))} "
            f"{_cell(err.get('message') or item.get('reason'))}"
        )
    return [*out, ""]


def _deviations(deviations: Deviations | None) -> list[str]:
    if deviations is None:
        return []
    out = [
        f"### {TITLES['deviations']}",
        "",
        "| rule | status | reason | until | link |",
        "| --- | --- | --- | --- | --- |",
    ]
    for d in deviations.rows:
        out.append(
            f"| `{d.rule}` | {d.shown} | {_cell(d.reason)} | {_cell(d.until)} | {_cell(d.link)} |"
        )
    return [*out, ""]


def _observations(items: Sequence[Mapping[str, Any]]) -> list[str]:
    if not items:
        return []
    out = [f"### {TITLES['observations']}", ""]
    for obs in items[:50]:
        out.append(f"- `{obs.get('zone')}`: {_cell(obs.get('probe'))} → {_cell(obs.get('answer'))}")
    if len(items) > 50:
        out.append(f"- … and {len(items) - 50} more (see the HTML report)")
    return [*out, ""]


def _transport(transport: Transport | None) -> list[str]:
    """The transport faults in one line (issue 20); nothing when the network kept up."""
    return [f"**Transport:** {_cell(transport.line)}", ""] if transport else []


def _limiter(limiter: Limiter | None) -> list[str]:
    if limiter is None:
        return []
    out = [f"### {TITLES['ratelimit']}", "", f"**{_cell(limiter.summary)}**", ""]
    out += [
        f"- {name}: {_cell(value)} ({_cell(evidence)})" for name, value, evidence in limiter.items
    ]
    return [*out, "", "The HTML report draws every generate-reply call on a timeline.", ""]


def _plan(spend: Spend) -> list[str]:
    out = []
    if spend.requests:
        out.append(f"Requests sent: {spend.requests} in {spend.duration} s.")
    # The summary leaves the created assistants' ids to the HTML and JSON reports.
    if spend.generated:
        out.append(
            f"Seed {spend.generated.get('seed')} (`--seed` replays the generated cases); "
            f"{spend.generated.get('negatives_dropped', 0)} generated negative cases dropped."
        )
    for key in ("plan", "spent"):
        if key in spend.records:
            out.append(f"{key}: `{_cell(json.dumps(spend.records[key], ensure_ascii=False))}`")
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
