"""The HTML page and the Markdown summary: self-contained, escaped, and never a token."""

from __future__ import annotations

import datetime as dt
import re
from pathlib import Path

from replyguard.gate import Deviation, apply_gate
from replyguard.report import render_html, render_markdown, write_markdown
from tests.helpers.gate_reports import TOKEN, make_report


def _gated_report() -> dict[str, object]:
    report = make_report(
        {
            "assistant.x.range": "fail",
            "ratelimit.per-token": "fail",
            "reply.y": "pass",
            "auth.z": "error",
            "silent.types": "observed",
        },
        observations=[
            {
                "zone": "silent.types",
                "probe": '"123" for <int>',
                "answer": "accepted (201)",
                "decision": "reject",
                "agrees": False,
                "test": "t",
                "curl": "curl -X POST http://h/api",
                "response": "",
            }
        ],
    )
    report["plan"] = {"generate_reply": 30}
    report["spent"] = {"generate_reply": 12}
    apply_gate(
        report,
        baseline=make_report({"assistant.x.range": "pass", "ratelimit.per-token": "fail"}),
        baseline_label="last-deploy.json",
        deviations=[
            Deviation(
                "ratelimit.per-token",
                "throttle keys by user <b>",
                dt.date(2027, 3, 31),
                "https://tracker.example/API-1",
            )
        ],
        deviations_label="known.toml",
        today=dt.date(2026, 11, 21),
    )
    return report


def test_html_is_self_contained_and_shows_what_a_reviewer_needs() -> None:
    page = render_html(_gated_report())
    assert not re.search(r"<(script|img|iframe)[^>]+src=|<link |@import|\burl\(", page)
    for needle in (
        'id="changes"',
        "new failure",
        'id="known-deviations"',
        "throttle keys by user &lt;b&gt;",
        'id="rule-assistant.x.range"',
        'data-verdict="fail"',
        "HTTP 201: accepted",
        "copyCurl(this)",
        "$REPLYGUARD_TOKEN",
        'id="observations"',
        "&quot;123&quot; for &lt;int&gt;",
        'id="plan"',
        "generate_reply",
        'id="filter-text"',
        'id="area-assistant"',
        "ImportError",
    ):
        assert needle in page, needle
    # Worst areas first: the assistant area (a failure) before reply (passes only).
    assert page.index('id="area-assistant"') < page.index('id="area-reply"')


def test_markdown_has_the_result_changes_failures_and_deviations() -> None:
    text = render_markdown(_gated_report())
    assert text.startswith("## ❌ replyguard: failed")
    assert "| `assistant.x.range` | pass | fail | **new failure** |" in text
    assert "throttle keys by user <b>" in text
    assert "```bash\ncurl -X POST" in text
    assert "### Errors (replyguard could not judge)" in text


def test_a_long_summary_is_cut_under_the_limit() -> None:
    report = make_report({f"assistant.f{i}.range": "fail" for i in range(300)})
    text = render_markdown(report, limit=5000)
    assert len(text) < 5000
    assert text.endswith("JSON report for the rest)\n")


def test_neither_report_shows_a_token() -> None:
    report = _gated_report()
    report["rules"][0]["failures"][0]["response"] = f"HTTP 401 echo {TOKEN}"  # type: ignore[index]
    assert TOKEN not in render_html(report, secrets=[TOKEN])
    assert TOKEN not in render_markdown(report, secrets=[TOKEN])


def test_markdown_is_appended_to_the_github_step_summary(tmp_path: Path) -> None:
    summary = tmp_path / "summary.md"
    summary.write_text("earlier step\n")
    write_markdown(_gated_report(), tmp_path / "r.md", env={"GITHUB_STEP_SUMMARY": str(summary)})
    content = summary.read_text()
    assert content.startswith("earlier step\n## ❌ replyguard")
    assert (tmp_path / "r.md").read_text() in content


def test_junit_shows_a_known_deviation_as_skipped_with_its_reason(tmp_path: Path) -> None:
    from xml.etree import ElementTree

    from replyguard.report import write_junit

    path = tmp_path / "junit.xml"
    write_junit(_gated_report(), path)
    suite = ElementTree.parse(path).getroot()
    cases = {case.get("name"): case for case in suite.iter("testcase")}
    accepted = cases["ratelimit.per-token"]
    assert accepted.find("failure") is None
    skipped = accepted.find("skipped")
    assert skipped is not None
    assert skipped.get("type") == "known deviation"
    assert "throttle keys by user" in (skipped.get("message") or "")
    assert "2027-03-31" in (skipped.get("message") or "")
    # The failure no deviation accepts stays a failure; the counts follow.
    assert cases["assistant.x.range"].find("failure") is not None
    assert suite.get("failures") == "1"
    assert suite.get("skipped") == "2"
