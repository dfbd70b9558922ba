"""`replyguard check` end to end, as a user runs it: a subprocess against the embedded reference."""

from __future__ import annotations

import json
import os
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
        [
            sys.executable,
            "-m",
            "replyguard.cli",
            "check",
            "--report-json",
            str(report),
            "--junit-xml",
            str(junit),
            "--hide-passed",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
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
        html, md, step = tmp_path / "r.html", tmp_path / "r.md", tmp_path / "step-summary.md"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "replyguard.cli",
                "check",
                "--target",
                str(reference.profile_path),
                "--report-json",
                str(report),
                "-k",
                "auth or reply_body",
                "--report-html",
                str(html),
                "--report-md",
                str(md),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
            env={**os.environ, "GITHUB_STEP_SUMMARY": str(step)},
        )
    assert result.returncode == 0, result.stdout[-2000:]
    written = [report, html, md, step, tmp_path / ".replyguard" / "last-report.json"]
    for token in tokens:
        assert token not in result.stdout + result.stderr
        for path in written:
            assert token not in path.read_text(), path
    deselected = [
        r
        for r in json.loads(report.read_text())["rules"]
        if r["reason"] == "deselected for this run"
    ]
    assert deselected


@pytest.mark.parametrize("second_token", [True, False], ids=["burst-window", "fresh-window"])
def test_failed_validations_are_judged_with_or_without_a_second_token(
    tmp_path: Path, second_token: bool
) -> None:
    # With a second token the counting is proven in the burst's window on it; without one, on
    # a fresh window of the primary token. Either way the rule passes on the reference.
    with running_reference(window=1, folder=tmp_path / "ref") as reference:
        profile = reference.profile
        if not second_token:
            profile["tokens"].pop("secondary")
        path, report = tmp_path / "profile.json", tmp_path / "report.json"
        path.write_text(json.dumps(profile), encoding="utf-8")
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "replyguard",
                "check",
                "--target",
                str(path),
                "--rules",
                "ratelimit.*",
                "--report-json",
                str(report),
                "--format",
                "plain",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    assert result.returncode == 0, result.stdout[-2000:] + result.stderr[-2000:]
    data = json.loads(report.read_text())
    verdict = next(r for r in data["rules"] if r["rule"] == "ratelimit.counts-failed-validation")
    assert verdict["verdict"] == "pass"
    judged_by = (
        "test_refused_calls_count_on_the_second_token"
        if second_token
        else "test_refused_calls_count_on_a_fresh_window"
    )
    spent = {test.rsplit("::", 1)[-1]: n for test, n in data["spent_by_test"].items()}
    assert spent[judged_by]["generate_reply"] >= 6


def test_a_5xx_sent_to_any_test_fails_no_server_error(tmp_path: Path) -> None:
    # Over the limit the fault answers 503: only the rate-limit tests run (-k), none of them
    # judges contract.no-server-error, and still the run's 503s fail it, naming the test.
    with running_reference(
        window=2, folder=tmp_path / "ref", extra_args=["--fault", "ratelimit.status-503"]
    ) as reference:
        report = tmp_path / "report.json"
        result = subprocess.run(
            [
                sys.executable,
                "-m",
                "replyguard",
                "check",
                "--target",
                str(reference.profile_path),
                "--rules",
                "ratelimit.*,contract.no-server-error",
                "-k",
                "test_rate_limit",
                "--report-json",
                str(report),
                "--format",
                "plain",
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
    assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
    rules = {r["rule"]: r for r in json.loads(report.read_text())["rules"]}
    assert rules["ratelimit.status-429"]["verdict"] == "fail"
    failed = rules["contract.no-server-error"]
    assert failed["verdict"] == "fail"
    assert "test_rate_limit.py::" in failed["failures"][0]["observed"]
    assert "HTTP 503" in failed["failures"][0]["response"]
    others = [r for r, v in rules.items() if r.startswith("ratelimit.") and v["verdict"] == "fail"]
    assert others == ["ratelimit.status-429"]
