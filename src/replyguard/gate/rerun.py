"""``--last-failed``: re-run only the tests of the rules that failed or erred in a report.

Every finished ``replyguard check`` keeps a copy of its report in
``.replyguard/last-report.json`` under the working directory (like pytest's cache), so
``--last-failed`` with no file name re-checks the last run's failures. The selection is the
suite's own ``--rules`` option with exact rule ids.
"""

from __future__ import annotations

import os
from collections.abc import Mapping
from pathlib import Path
from typing import Any

from replyguard.gate.baseline import ReportError, load_report

__all__ = [
    "LAST_REPORT",
    "RerunError",
    "failed_rules",
    "last_report_path",
    "remember",
    "rules_to_rerun",
    "selection",
]

LAST_REPORT = Path(".replyguard") / "last-report.json"
_GLOB = set("*?[]!,")


class RerunError(ValueError):
    """``--last-failed`` cannot work out what to re-run; one line saying why."""


def last_report_path(cwd: Path | None = None) -> Path:
    """Where the last report written in ``cwd`` is kept."""
    return (cwd or Path.cwd()) / LAST_REPORT


def remember(report_text: str, cwd: Path | None = None) -> Path:
    """Keep a copy of the report just written as the last report (atomically)."""
    path = last_report_path(cwd)
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + f".{os.getpid()}.tmp")
    tmp.write_text(report_text, encoding="utf-8")
    os.replace(tmp, path)
    return path


def failed_rules(report: Mapping[str, Any]) -> list[str]:
    """The rules whose verdict is ``fail`` or ``error``, sorted."""
    return sorted(
        str(item["rule"])
        for item in report.get("rules", [])
        if item.get("verdict") in ("fail", "error")
    )


def selection(rules: list[str]) -> str:
    """The ``--rules`` value that selects exactly these rule ids."""
    odd = [r for r in rules if _GLOB & set(r)]
    if odd:
        # The catalogue's ids never contain these; a report that does is not ours.
        raise RerunError(f"rule id {odd[0]!r} cannot be selected exactly")
    return ",".join(rules)


def rules_to_rerun(value: str, cwd: Path | None = None) -> tuple[Path, list[str]]:
    """The report ``--last-failed [REPORT]`` names (or the last one) and its failed rules."""
    path = Path(value) if value else last_report_path(cwd)
    if not value and not path.exists():
        raise RerunError(
            f"--last-failed: no report at {LAST_REPORT} in this directory; "
            "run replyguard check first or name a report"
        )
    try:
        report = load_report(path)
    except ReportError as exc:
        raise RerunError(f"--last-failed: {exc}") from None
    return path, failed_rules(report)
