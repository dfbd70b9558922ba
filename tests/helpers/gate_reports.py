"""Small hand-made reports (version 2 shape) for the gate's unit tests."""

from __future__ import annotations

from typing import Any

__all__ = ["TOKEN", "make_report"]

# A token-like secret the reports must never show, planted in a failure's answer.
TOKEN = "rg_live_SECRET0123456789abcdef"


def _entry(rule: str, verdict: str, reason: str = "") -> dict[str, Any]:
    entry: dict[str, Any] = {
        "rule": rule,
        "verdict": verdict,
        "reason": reason,
        "title": f"title of {rule}",
        "source": "doc.txt",
        "tests": [f"test_x.py::test_{rule.replace('.', '_')}"],
        "failures": [],
        "errors": [],
    }
    if verdict == "fail":
        entry["failures"] = [
            {
                "rule": rule,
                "test": entry["tests"][0],
                "expected": "422",
                "observed": "HTTP 201: accepted",
                "curl": "curl -X POST http://127.0.0.1:1/api/user/assistant "
                "-H 'authorization: Bearer $REPLYGUARD_TOKEN' --data-raw '{\"a\": 1}'",
                "response": 'HTTP 201 {"data": {"id": 7}}',
            }
        ]
    if verdict == "error":
        entry["errors"] = [
            {
                "test": entry["tests"][0],
                "exception": "ImportError",
                "message": "No module named 'x'",
            }
        ]
    return entry


def make_report(
    verdicts: dict[str, str],
    *,
    observations: list[dict[str, Any]] | None = None,
    name: str = "staging-eu-west",
    version: int = 2,
    reasons: dict[str, str] | None = None,
) -> dict[str, Any]:
    """A report with these rule verdicts (and observations, for version 2)."""
    reasons = reasons or {}
    rules = [_entry(rule, v, reasons.get(rule, "")) for rule, v in verdicts.items()]
    counts = {
        v: sum(r["verdict"] == v for r in rules)
        for v in ("pass", "fail", "error", "not tested", "observed")
    }
    report: dict[str, Any] = {
        "version": version,
        "target": {
            "name": name,
            "base_url": "http://127.0.0.1:1/api",
            "brand": "autocalls",
            "embedded_reference": False,
            "mode": "exhaustive",
        },
        "summary": {**counts, "rules": len(rules)},
        "requests": {"generate_reply": 3, "create_assistant": 4},
        "duration_seconds": 1.5,
        "rules": rules,
    }
    if version >= 2:
        report["observations"] = observations or []
    else:
        del report["target"]["name"], report["target"]["mode"]
        for key in ("error", "observed"):
            del report["summary"][key]
    return report
