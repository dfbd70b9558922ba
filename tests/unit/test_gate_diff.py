"""``replyguard diff``: a per-rule table of differences, masked names, exit 1 on regression."""

from __future__ import annotations

import json
from pathlib import Path

from click.testing import CliRunner

from replyguard.cli import main
from replyguard.exit_codes import ExitCode
from replyguard.gate import diff_reports
from tests.helpers.gate_reports import make_report


def test_a_regression_is_named_and_exits_1() -> None:
    a = make_report({"a.x": "pass", "a.y": "pass"}, name="staging-eu-west-cluster")
    b = make_report({"a.x": "fail", "a.y": "pass"}, name="production-eu-west-cluster")
    result = diff_reports(a, b)
    assert result.exit_code is ExitCode.FAILED
    assert any(line.split() == ["a.x", "pass", "fail", "new", "failure"] for line in result.lines)
    assert result.lines[-1] == "B regresses against A: a.x"
    text = "\n".join(result.lines)
    # Names are not secrets (issue 20: both used to print as ***); tokens are, and no report
    # holds one.
    assert "A: staging-eu-west-cluster, autocalls, exhaustive" in text
    assert "B: production-eu-west-cluster, autocalls, exhaustive" in text


def test_a_fix_is_listed_and_does_not_regress() -> None:
    result = diff_reports(make_report({"a.x": "fail"}), make_report({"a.x": "pass"}))
    assert result.exit_code is ExitCode.OK
    assert result.lines[-1] == "B does not regress against A"


def test_identical_reports_have_no_difference() -> None:
    report = make_report({"a.x": "pass"})
    assert "no difference" in diff_reports(report, report).lines


def test_the_command_reads_files_and_exits_with_the_verdict(tmp_path: Path) -> None:
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps(make_report({"a.x": "pass"})))
    b.write_text(json.dumps(make_report({"a.x": "fail"})))
    result = CliRunner().invoke(main, ["diff", str(a), str(b)])
    assert result.exit_code == 1, result.output
    assert "a.x" in result.output
    assert CliRunner().invoke(main, ["diff", str(b), str(a)]).exit_code == 0


def test_an_unreadable_report_is_one_line_exit_2(tmp_path: Path) -> None:
    bad = tmp_path / "bad.json"
    bad.write_text("{not json")
    result = CliRunner().invoke(main, ["diff", str(bad), str(bad)])
    assert result.exit_code == 2
    assert result.stderr.count("\n") == 1
    assert "not a replyguard JSON report" in result.stderr
