"""`replyguard check` end to end, as a user runs it: a subprocess against the embedded reference."""

from __future__ import annotations

import json
import subprocess
import sys
import tomllib
from pathlib import Path
from xml.etree import ElementTree

import pytest

from replyguard.reference.launch import running_reference
from replyguard.spec import load_rules

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def test_check_with_no_arguments_passes_every_tested_rule(tmp_path: Path) -> None:
    report, junit = tmp_path / "report.json", tmp_path / "junit.xml"
    result = subprocess.run(
        [sys.executable, "-m", "replyguard.cli", "check", "--report-json", str(report),
         "--junit-xml", str(junit), "--hide-passed"],
        capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-3000:] + result.stderr[-3000:]
    data = json.loads(report.read_text())
    assert {r["rule"] for r in data["rules"]} == set(load_rules())
    assert data["summary"]["fail"] == 0
    assert data["summary"]["pass"] >= 90
    untested = [r for r in data["rules"] if r["verdict"] == "not tested"]
    assert all(r["reason"] for r in untested)
    assert all(r["rule"].endswith(".default") for r in untested), [r["rule"] for r in untested]
    cases = ElementTree.parse(junit).getroot().findall("testcase")
    assert len(cases) == len(load_rules())
    assert "passed, 0 failed" in result.stdout


def test_check_never_prints_a_token(tmp_path: Path) -> None:
    with running_reference(window=2) as reference:
        tokens = tomllib.loads(reference.profile_path.read_text())["tokens"].values()
        report = tmp_path / "r.json"
        result = subprocess.run(
            [sys.executable, "-m", "replyguard.cli", "check", "--target",
             str(reference.profile_path), "--report-json", str(report), "-k", "auth or reply_body"],
            capture_output=True, text=True, timeout=300, cwd=tmp_path)
    assert result.returncode == 0, result.stdout[-2000:]
    for token in tokens:
        assert token not in result.stdout + result.stderr
        assert token not in report.read_text()
    deselected = [r for r in json.loads(report.read_text())["rules"]
                  if r["reason"] == "deselected for this run"]
    assert deselected
