"""A network that blips (issue 20): the chaos proxy in front of the reference.

One request in 8 is answered by a fault instead (no answer, a reset, a body cut short, a
gateway's HTML 502), after the reference acted on it. Every run must finish within its bound,
fail no documented rule but ``contract.no-server-error`` (the 502s), account for every
assistant the reference holds, name the faults in one line, and a paid run must bill no more
replies than it planned. The reference keeps a correct contract, so any other failure or error
is replyguard blaming the API for the network.
"""

from __future__ import annotations

import json
import sqlite3
import subprocess
import sys
import time
from pathlib import Path
from typing import Any

import pytest

from replyguard.reference.launch import running_reference
from tests.helpers.chaos_proxy import FAULTS, chaos_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: A hang costs the read timeout: short, so the test is.
READ_TIMEOUT = "0.5"
#: The time limit each run states (--max-seconds): a full run of the suite against the loopback
#: reference, faults included, takes about a minute on a loaded 2-core machine.
BOUND_SECONDS = 240


def _check(profile: Path, cwd: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [
            sys.executable,
            "-m",
            "replyguard",
            "check",
            "--target",
            str(profile),
            "--format",
            "plain",
            "--read-timeout",
            READ_TIMEOUT,
            *args,
        ],
        capture_output=True,
        text=True,
        timeout=BOUND_SECONDS + 60,
        cwd=cwd,
    )


def _profile(reference_profile: dict[str, Any], base_url: str, folder: Path, paid: bool) -> Path:
    profile = dict(reference_profile)
    profile["base_url"] = base_url
    if paid:
        profile["safety"] = {"allow_writes": True, "exhaustive": False}
    path = folder / ("paid.json" if paid else "exhaustive.json")
    path.write_text(json.dumps(profile), encoding="utf-8")
    return path


def _stored(db_path: Path) -> tuple[dict[int, str], int]:
    """The reference's assistants (id: name) and the replies it generated (each one billed)."""
    with sqlite3.connect(f"file:{db_path}?mode=ro", uri=True) as db:
        assistants = dict(db.execute("SELECT id, name FROM assistants").fetchall())
        (replies,) = db.execute("SELECT count(*) FROM messages WHERE role = 'assistant'").fetchone()
    return assistants, int(replies)


def _run_through_chaos(tmp_path: Path, *, paid: bool) -> dict[str, Any]:
    with (
        running_reference(window=1, folder=tmp_path / "ref") as reference,
        chaos_proxy(reference.base_url, every=8, faults=FAULTS) as proxy,
    ):
        before, replies_before = _stored(reference.db_path)
        profile = _profile(reference.profile, proxy.base_url, tmp_path, paid)
        report_path = tmp_path / "report.json"
        started = time.monotonic()
        # The breaker is set above the proxy's 1 in 8: this run must go to the end.
        done = _check(
            profile,
            tmp_path,
            "--report-json",
            str(report_path),
            "--max-transport-faults",
            "40%",
            "--max-seconds",
            str(BOUND_SECONDS),
            # An exhaustive target's estimate is a rehearsal of the whole suite: not here.
            *(() if paid else ("--no-plan",)),
        )
        seconds = time.monotonic() - started
        after, replies_after = _stored(reference.db_path)
        injected = dict(proxy.injected)
    assert report_path.exists(), done.stderr[-3000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    return {
        "done": done,
        "report": report,
        "seconds": seconds,
        "new": {i: n for i, n in after.items() if i not in before},
        "replies": replies_after - replies_before,
        "injected": injected,
    }


def _assert_the_network_is_blamed_for_the_network(run: dict[str, Any]) -> None:
    done, report = run["done"], run["report"]
    # The bound it stated before its first request, kept (the subprocess's start included).
    assert f"time limit {BOUND_SECONDS} s (--max-seconds)" in done.stderr
    assert run["seconds"] < BOUND_SECONDS + 15
    assert report.get("partial") is None, report.get("partial")
    verdicts = {r["rule"]: r for r in report["rules"]}
    failing = sorted(rule for rule, r in verdicts.items() if r["verdict"] in ("fail", "error"))
    # Every injected 502 fails the documents' "no 5xx" rule, and nothing else fails or errs.
    assert failing == ["contract.no-server-error"], [
        (rule, verdicts[rule]["reason"]) for rule in failing
    ]
    assert done.returncode == 1, done.stderr[-2000:]
    # The faults are named, in one line, and each injected one is counted (a cut body whose
    # reset overtook its headers reads as a reset: the kinds may trade, the total may not).
    section = report["transport"]
    injected = sum(run["injected"].values())
    assert injected >= 4
    assert injected <= len(section["faults"]) <= injected + 2
    lines = [line for line in done.stdout.splitlines() if line.startswith("TRANSPORT ")]
    assert len(lines) == 1
    assert f"the target dropped {len(section['faults'])} of " in lines[0]
    assert "502 (gateway HTML)" in lines[0]
    assert f"no answer in {READ_TIMEOUT} s" in lines[0]
    not_tested = [r["reason"] for r in verdicts.values() if "transport fault:" in r["reason"]]
    assert not_tested, "a fault hit no rule's test: the proxy did not fault the suite"
    # Every assistant the reference holds now is listed, created or possibly created.
    listed = set(report["created_assistants"])
    possibly = [item["name"] for item in section["possibly_created"]]
    missing = {i: name for i, name in run["new"].items() if i not in listed}
    assert len(missing) <= len(possibly)
    assert all(name in possibly for name in missing.values()), (missing, possibly)


def test_an_exhaustive_run_through_a_faulty_network(tmp_path: Path) -> None:
    run = _run_through_chaos(tmp_path, paid=False)
    _assert_the_network_is_blamed_for_the_network(run)


def test_a_paid_run_through_a_faulty_network_bills_no_more_than_planned(tmp_path: Path) -> None:
    run = _run_through_chaos(tmp_path, paid=True)
    _assert_the_network_is_blamed_for_the_network(run)
    report = run["report"]
    # The reference stores a reply for each call it billed: replays and retries included.
    assert run["replies"] <= report["plan"]["billed_calls"]
    assert report["spent"]["billed_calls"] <= report["plan"]["billed_calls"]


def test_the_breaker_stops_an_unreliable_target_with_the_report_so_far(tmp_path: Path) -> None:
    with (
        running_reference(window=1, folder=tmp_path / "ref") as reference,
        chaos_proxy(reference.base_url, every=2, faults=("502", "reset")) as proxy,
    ):
        profile = _profile(reference.profile, proxy.base_url, tmp_path, paid=False)
        done = _check(profile, tmp_path, "--rules", "assistant.*", "--no-plan")
        sent = proxy.requests
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    stops = [line for line in done.stderr.splitlines() if "the target is unreliable: " in line]
    assert len(stops) == 1
    assert sent < 40  # stopped early: more than 5 faults, at 1 in 2
    last = json.loads((tmp_path / ".replyguard" / "last-report.json").read_text("utf-8"))
    assert last["partial"]["kind"] == "unreliable"


def test_a_run_stopped_by_its_time_limit_leaves_its_own_partial_report(tmp_path: Path) -> None:
    # A paid target: the plan's rehearsal runs first, and must not leave its report behind.
    with (
        running_reference(window=1, folder=tmp_path / "ref") as reference,
        chaos_proxy(reference.base_url, every=1_000_000, faults=("hang",), latency=0.5) as proxy,
    ):
        # Its create-assistant tests alone would take minutes at 0.5 s an answer.
        profile = _profile(reference.profile, proxy.base_url, tmp_path, paid=True)
        started = time.monotonic()
        done = _check(
            profile,
            tmp_path,
            "--rules",
            "assistant.*",
            "--max-seconds",
            "30",
            "--read-timeout",
            "5",
        )
        seconds = time.monotonic() - started
        proxy_url = proxy.base_url
    assert done.returncode == 2, done.stdout[-2000:] + done.stderr[-2000:]
    assert any("time limit (30 s" in line for line in done.stderr.splitlines()), done.stderr[-1500:]
    last = json.loads((tmp_path / ".replyguard" / "last-report.json").read_text("utf-8"))
    assert last["target"]["base_url"] == proxy_url  # the run's own, not the rehearsal's
    assert last["partial"]["kind"] == "time-limit"
    assert "plan" in last
    assert last["requests"].get("create_assistant", 0) > 0  # it had started sending
    assert seconds < 30 + 15
