"""A run that judges nothing is never green, and a run never spends before its errors show.

``replyguard check`` asks three things of a run (issue 20):

- before the first request: every ``--rules`` glob names at least one rule of the catalogue
  (a typo names the closest ids), and every file the run will write can be written;
- after the suite: ``-k`` selected at least one test, and at least one selected rule that the
  documents make observable was judged ("nothing was tested: …" otherwise);
- on Ctrl-C: pytest's hook says so, so the report so far is kept and marked interrupted.
"""

from __future__ import annotations

import difflib
import fnmatch
import os
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any

import pytest

from replyguard.spec import Rule

__all__ = [
    "SelectionError",
    "SelectionWatch",
    "check_outputs",
    "check_rule_globs",
    "nothing_tested",
]

# The verdicts that mean a rule was judged (an observation is a judgement of a silent zone).
_JUDGED = {"pass", "fail", "error", "observed"}


class SelectionError(ValueError):
    """The run selects nothing, or cannot write what it was asked to: one line, exit 2."""


def _closest(word: str, candidates: Iterable[str]) -> str:
    found = difflib.get_close_matches(word, sorted(set(candidates)), n=3, cutoff=0.6)
    return f"; closest: {', '.join(found)}" if found else ""


def check_rule_globs(globs: Sequence[str], rule_ids: Iterable[str]) -> None:
    """Raise when a ``--rules`` glob (or exact id) matches no rule of the catalogue."""
    ids = list(rule_ids)
    for glob in globs:
        if not any(fnmatch.fnmatchcase(rule, glob) for rule in ids):
            kind = "id" if not set(glob) & set("*?[") else "glob"
            raise SelectionError(
                f"--rules {glob!r}: no rule of openapi/rules.yaml matches this {kind}"
                + _closest(glob, ids)
            )


def _writable(path: Path) -> str | None:
    """Why ``path`` cannot be written, or None. Creates its missing folders, as the writer would."""
    if path.is_dir():
        return "is a folder"
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
    except OSError as exc:
        return f"its folder cannot be created ({exc.strerror or exc})"
    probe = path.parent / f".{path.name}.{os.getpid()}.replyguard-probe"
    try:
        probe.write_bytes(b"")
        probe.unlink()
    except OSError as exc:
        return f"cannot be written ({exc.strerror or exc})"
    return None


def check_outputs(outputs: Mapping[str, Path | None]) -> None:
    """Raise on the first output (flag -> path) that cannot be written, before anything is sent."""
    for flag, path in outputs.items():
        if path is None:
            continue
        problem = _writable(path)
        if problem:
            raise SelectionError(f"{flag} {path}: {problem}")


class SelectionWatch:
    """A pytest plugin that sees what collection selected and whether Ctrl-C stopped the run."""

    def __init__(self) -> None:
        self.names: set[str] = set()
        self.selected: int | None = None
        self.interrupted = False

    def pytest_itemcollected(self, item: pytest.Item) -> None:
        self.names.add(getattr(item, "originalname", None) or item.name)

    def pytest_collection_finish(self, session: pytest.Session) -> None:
        self.selected = len(session.items)

    def pytest_keyboard_interrupt(self, excinfo: pytest.ExceptionInfo[BaseException]) -> None:
        # pytest raises Session.Interrupted (a KeyboardInterrupt) for ``session.shouldstop``
        # too: that is the breaker or the time limit stopping the run, not the user's Ctrl-C.
        if not excinfo.errisinstance(pytest.Session.Interrupted):
            self.interrupted = True

    def keyword_problem(self, keyword: str | None) -> str | None:
        """The line for a ``-k`` expression that selected no test."""
        if not keyword or self.selected != 0:
            return None
        return f"-k {keyword!r} selects no test of the suite" + _closest(keyword, self.names)


def nothing_tested(report: Mapping[str, Any], rules: Mapping[str, Rule]) -> str | None:
    """The line when no selected rule the documents make observable was judged, else None."""
    selected = [
        item
        for item in report.get("rules", [])
        if item.get("selected", True)
        and (rule := rules.get(item["rule"])) is not None
        and rule.observability != "no"
    ]
    if any(item["verdict"] in _JUDGED for item in selected):
        return None
    if not selected:
        return "nothing was tested: the selected rules are not observable through the API"
    reasons = Counter(item.get("reason") or "no reason given" for item in selected)
    reason, count = reasons.most_common(1)[0]
    return (
        f"nothing was tested: none of the {len(selected)} selected observable rules was judged "
        f"({count} of them: {reason})"
    )
