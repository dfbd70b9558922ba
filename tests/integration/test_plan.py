"""The spend plan: made before the first request, printed by --plan without sending anything,
and a plan over a cap refuses to start in one line."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from replyguard.reference.launch import running_reference
from tests.helpers.counting_proxy import counting_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _check(profile: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "replyguard", "check", "--target", str(profile), *args],
        capture_output=True,
        text=True,
        timeout=600,
    )


def _paid_profile(base_url: str, reference_profile: dict, folder: Path) -> Path:
    profile = dict(reference_profile)
    profile["base_url"] = base_url
    profile["safety"] = {"allow_writes": False, "exhaustive": False}
    path = folder / "paid.json"
    path.write_text(json.dumps(profile), encoding="utf-8")
    return path


def test_plan_sends_no_request_and_a_plan_over_a_cap_refuses(tmp_path: Path) -> None:
    with (
        running_reference(window=1, folder=tmp_path / "ref") as reference,
        counting_proxy(reference.base_url) as proxy,
    ):
        profile = _paid_profile(proxy.base_url, reference.profile, tmp_path)
        planned = _check(profile, "--plan")
        sent_by_plan = proxy.total()
        over = _check(profile, "--max-billed-calls", "3")
        sent_by_refused_run = proxy.total() - sent_by_plan
    assert planned.returncode == 0, planned.stderr[-2000:]
    assert sent_by_plan == 0  # --plan reaches nothing at all
    assert sent_by_refused_run == 1  # only the free preflight: no token, nothing billed
    lines = planned.stderr.splitlines()
    assert any(line.startswith("replyguard: plan: ") and "requests" in line for line in lines)
    assert any("can be billed" in line for line in lines)
    assert planned.stdout == ""
    assert over.returncode == 2
    refusals = [line for line in over.stderr.splitlines() if "refusing to start" in line]
    assert len(refusals) == 1
    assert "safety.max_billed_calls = 3" in refusals[0]


def test_the_plan_matches_what_a_paid_run_spends(tmp_path: Path) -> None:
    with running_reference(window=1, folder=tmp_path / "ref") as reference:
        profile = _paid_profile(reference.base_url, reference.profile, tmp_path)
        report_path = tmp_path / "report.json"
        done = _check(profile, "--report-json", str(report_path), "--format", "plain")
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    plan, spent = report["plan"], report["spent"]
    assert plan["requests"] == spent["requests"]
    assert plan["billed_calls"] == spent["billed_calls"] <= 20
    assert plan["assistants_created"] == spent["assistants_created"] == 0
    assert sorted(plan["tokens"]) == sorted(spent["tokens"])
    budget = [r["rule"] for r in report["rules"] if "budget" in r["reason"]]
    assert budget == []


def test_the_plan_of_a_target_at_the_documented_window_overlaps_the_waits(tmp_path: Path) -> None:
    # --plan sends nothing, so the profile may say 5 per 60 s whatever the server does: the
    # plan replays its rehearsal's pacing at 60 s. The burst's window, the recovery's, one more
    # for the remaining calls on two tokens: 3 windows, create-assistant hidden in the first.
    with running_reference(window=1, folder=tmp_path / "ref") as reference:
        profile = dict(reference.profile)
        profile["rate_limit"] = {"limit": 5, "window_seconds": 60}
        profile["safety"] = {"allow_writes": False, "exhaustive": False}
        path = tmp_path / "paid-60.json"
        path.write_text(json.dumps(profile), encoding="utf-8")
        planned = _check(path, "--plan")
    assert planned.returncode == 0, planned.stderr[-2000:]
    line = next(line for line in planned.stderr.splitlines() if "rate-limit windows" in line)
    windows, seconds = (int(word) for word in line.split() if word.isdigit())
    assert windows == 3, line
    assert 120 < seconds <= 180, line
    # The polls after the burst's refusal: every 6 s until served, more than the 1 s
    # rehearsal could send; counted as requests, never as billed calls.
    lines = planned.stderr.splitlines()
    requests = next(line for line in lines if "plan: " in line and " requests (" in line)
    assert "more polls of a throttled token (refusals: not billed)" in requests, requests
