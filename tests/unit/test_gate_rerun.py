"""``--last-failed``: which rules a report says to re-run, and where the last report is kept."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from replyguard.gate import GateOptions, GateUsageError, prepare_gate
from replyguard.gate.rerun import (
    LAST_REPORT,
    RerunError,
    failed_rules,
    remember,
    rules_to_rerun,
    selection,
)
from tests.helpers.gate_reports import make_report


def test_failed_and_erred_rules_are_re_run() -> None:
    report = make_report({"a.x": "fail", "a.y": "error", "a.z": "pass", "a.w": "not tested"})
    assert failed_rules(report) == ["a.x", "a.y"]
    assert selection(["a.x", "a.y"]) == "a.x,a.y"


def test_a_glob_character_cannot_be_selected_exactly() -> None:
    with pytest.raises(RerunError):
        selection(["a.*"])


def test_the_last_report_is_remembered_in_the_working_directory(tmp_path: Path) -> None:
    path = remember(json.dumps(make_report({"a.x": "fail"})), tmp_path)
    assert path == tmp_path / LAST_REPORT
    assert rules_to_rerun("", tmp_path) == (path, ["a.x"])


def test_a_named_report_wins(tmp_path: Path) -> None:
    named = tmp_path / "r.json"
    named.write_text(json.dumps(make_report({"a.y": "error"})))
    assert rules_to_rerun(str(named), tmp_path)[1] == ["a.y"]


def test_no_last_report_is_a_usage_error(tmp_path: Path) -> None:
    with pytest.raises(GateUsageError, match=r"no report at \.replyguard/last-report\.json"):
        prepare_gate(GateOptions(last_failed="", remember_dir=tmp_path))


def test_last_failed_replaces_the_selection_and_refuses_rules_beside_it(tmp_path: Path) -> None:
    remember(json.dumps(make_report({"a.x": "fail", "a.z": "pass"})), tmp_path)
    prepared = prepare_gate(GateOptions(last_failed="", remember_dir=tmp_path))
    assert prepared.rules == ("a.x",)
    assert prepared.note is not None
    assert prepared.note.endswith(
        f"re-running the tests of 1 rule from {tmp_path / LAST_REPORT}: a.x"
    )
    with pytest.raises(GateUsageError, match="drop --rules"):
        prepare_gate(GateOptions(last_failed="", remember_dir=tmp_path), ("a.*",))


def test_nothing_failed_means_nothing_to_re_run(tmp_path: Path) -> None:
    remember(json.dumps(make_report({"a.z": "pass"})), tmp_path)
    prepared = prepare_gate(GateOptions(last_failed="", remember_dir=tmp_path))
    assert prepared.skip_run
    assert prepared.note is not None
    assert "nothing to re-run" in prepared.note
