"""The report of one run: every rule's verdict, the observations, the spend; no secrets.

Its JSON form (``--report-json``, ``--format json``) is what the table, the JUnit file, a
baseline comparison and ``replyguard diff`` all read.
"""

from __future__ import annotations

import fnmatch
import ipaddress
import json
import os
from collections import Counter
from collections.abc import Iterable, Mapping
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

from replyguard.exit_codes import ExitCode
from replyguard.masking import mask_secrets
from replyguard.suite.budget import BILLED
from replyguard.verdicts import VERDICTS

if TYPE_CHECKING:
    from replyguard.config import RunConfig
    from replyguard.spec import Rule
    from replyguard.suite.observations import ObservationLog
    from replyguard.suite.pacing import Step
    from replyguard.verdicts import RuleVerdict

__all__ = ["REPORT_VERSION", "build_report", "exit_code", "write_json"]

REPORT_VERSION = 2


def build_report(
    verdicts: Iterable[RuleVerdict],
    rules: Mapping[str, Rule],
    observations: ObservationLog,
    *,
    config: RunConfig,
    requests: Mapping[str, int],
    duration: float,
    created: Iterable[object] = (),
    spent_by_test: Mapping[str, Mapping[str, int]] | None = None,
    roles: Iterable[str] = (),
    waited: float = 0.0,
    pacing: Iterable[Step] = (),
    unicode_sent: Iterable[str] = (),
    negatives_dropped: int = 0,
) -> dict[str, Any]:
    """The JSON report: every rule of the catalogue with its verdict."""
    items = []
    for verdict in verdicts:
        entry = verdict.as_dict()
        rule = rules.get(verdict.rule)
        entry["title"] = rule.rule if rule else ""
        entry["source"] = rule.source if rule else ""
        entry["selected"] = not config.rules or any(
            fnmatch.fnmatchcase(verdict.rule, glob) for glob in config.rules
        )
        items.append(entry)
    counts = Counter(item["verdict"] for item in items)
    target = config.target
    if target.safety.exhaustive:
        # A free target bills nothing: "billed_calls" would read as money spent (issue 20).
        requests = {op: n for op, n in requests.items() if op != BILLED}
    return {
        "version": REPORT_VERSION,
        "target": {
            "name": target.name,
            "base_url": mask_secrets(target.base_url, target.secrets()),
            "brand": target.brand,
            "embedded_reference": config.embedded,
            "local": config.embedded or (target.safety.exhaustive and _loopback(target.base_url)),
            "mode": "exhaustive" if target.safety.exhaustive else "paid",
        },
        "options": {
            "strict": config.strict,
            "rules": list(config.rules),
            "allow_writes": config.allow_writes,
        },
        "summary": {**{name: counts[name] for name in VERDICTS}, "rules": len(items)},
        "requests": dict(requests),
        "duration_seconds": round(duration, 2),
        "pacing_wait_seconds": round(waited, 2),
        # What the plan of a paid run replays at the target's window (suite.pacing.replay).
        "pacing_trace": [step.as_list() for step in pacing],
        "rules": items,
        "observations": [o.as_dict() for o in observations.items],
        "created_assistants": list(created),
        "tokens_used": sorted(roles),
        "spent_by_test": {test: dict(ops) for test, ops in (spent_by_test or {}).items()},
        # Which kinds of text beyond ASCII the billable calls carried (suite.unicode_mix).
        "unicode_in_valid_calls": sorted(unicode_sent),
        # --seed N replays the generated cases; negatives re-judged valid or silent are dropped.
        "generated_cases": {"seed": config.seed, "negatives_dropped": negatives_dropped},
    }


def _loopback(url: str) -> bool:
    """Is the URL's host this machine (a reference started with ``replyguard serve``)?"""
    host = urlsplit(url).hostname or ""
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def write_json(report: Mapping[str, Any], path: Path) -> None:
    """Write the report atomically (a reader never sees half of it)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(report, indent=2, ensure_ascii=False), encoding="utf-8")
    os.replace(tmp, path)


def exit_code(report: Mapping[str, Any]) -> ExitCode:
    """1 when a documented rule failed; 2 when replyguard could not judge some (or the run
    was cut short); else 0."""
    summary = report["summary"]
    if report.get("partial"):
        # Cut short by the breaker or the time limit: whatever it saw, it could not judge all.
        return ExitCode.COULD_NOT_JUDGE
    if summary.get("fail"):
        return ExitCode.FAILED
    if summary.get("error"):
        return ExitCode.COULD_NOT_JUDGE
    return ExitCode.OK
