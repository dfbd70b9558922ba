"""Every report format shows the limiter's description (the report's ``ratelimit`` section)."""

from __future__ import annotations

import io
import json
from pathlib import Path
from xml.etree import ElementTree

from replyguard.report import print_report, render_html, render_markdown, write_junit
from tests.helpers.gate_reports import TOKEN, make_report

_SUMMARY = "token bucket, burst 5, one slot every 12s; scope token"


def _report() -> dict[str, object]:
    report = make_report({"ratelimit.limit": "fail", "reply.y": "pass"})
    calls = [
        {"sent": 1000.0 + i * 0.1, "role": "primary", "status": 200, "served": True}
        for i in range(5)
    ]
    calls += [
        {"sent": 1000.6, "role": "primary", "status": 429, "refused": True},
        {"sent": 1012.5, "role": "primary", "status": 200, "served": True},
        {"sent": 1001.0, "role": "none", "status": 401},
    ]
    report["ratelimit"] = {
        "limit": 5,
        "window": 60.0,
        "limiter": {
            "summary": _SUMMARY,
            "family": {"value": "token bucket", "evidence": "6 served within 12.5 s"},
            "refill": 12.0,
            "scope": {"value": "token", "evidence": "the second token was served"},
            "retry_after": {"value": "constant 60", "evidence": "60 on every 429"},
        },
        "calls": calls,
    }
    return report


def test_plain_and_table_name_the_limiter() -> None:
    for fmt in ("plain", "table"):
        out = io.StringIO()
        print_report(_report(), fmt, stream=out)
        text = out.getvalue()
        assert f"RATE LIMIT this target: {_SUMMARY}" in text
        assert "family: token bucket (6 served within 12.5 s)" in text


def test_plain_names_the_limiter_in_one_line_and_the_table_item_by_item() -> None:
    report = _report()
    report["ratelimit"]["limiter"]["anchor"] = {"value": "unknown", "evidence": "no window seen"}
    out = io.StringIO()
    print_report(report, "plain", stream=out)
    lines = out.getvalue().splitlines()
    (line,) = [line for line in lines if "RATE LIMIT" in line]
    # Piped output is one line a finding: what the calls decided, then what they left unknown.
    assert "; scope: token (the second token was served);" in line
    assert line.endswith("; unknown: anchor")
    assert not any(line.lstrip().startswith(("family:", "scope:", "anchor:")) for line in lines)
    table = io.StringIO()
    print_report(report, "table", stream=table)
    assert "anchor: unknown (no window seen)" in table.getvalue()


def test_json_keeps_the_section() -> None:
    out = io.StringIO()
    print_report(_report(), "json", stream=out)
    assert json.loads(out.getvalue())["ratelimit"]["limiter"]["summary"] == _SUMMARY


def test_junit_carries_the_description_as_properties(tmp_path: Path) -> None:
    path = tmp_path / "junit.xml"
    write_junit(_report(), path)
    props = {
        p.get("name"): p.get("value") for p in ElementTree.parse(path).getroot().iter("property")
    }
    assert props["ratelimit.limiter"].startswith(_SUMMARY)
    assert props["ratelimit.family"] == "token bucket (6 served within 12.5 s)"
    assert props["ratelimit.retry_after"] == "constant 60 (60 on every 429)"


def test_html_shows_the_description_and_the_timeline_with_served_and_refused_marks() -> None:
    page = render_html(_report(), secrets=(TOKEN,))
    assert '<section id="ratelimit">' in page
    assert _SUMMARY in page
    svg = page[page.index("<svg") : page.index("</svg>") + 6]
    assert svg.count('class="call served"') == 6
    assert svg.count('class="call refused"') == 1
    assert 'data-lane="none"' not in svg  # no token: no lane of the limit
    assert "over the limit" in svg


def test_markdown_has_a_rate_limit_section() -> None:
    text = render_markdown(_report())
    assert "### Rate limit, as this target keeps it" in text
    assert _SUMMARY in text
    assert "- scope: token (the second token was served)" in text


def test_no_section_no_rate_limit_lines() -> None:
    report = make_report({"reply.y": "pass"})
    out = io.StringIO()
    print_report(report, "plain", stream=out)
    assert "RATE LIMIT" not in out.getvalue()
    assert 'id="ratelimit"' not in render_html(report)
