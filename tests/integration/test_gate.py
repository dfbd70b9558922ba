"""The regression gate end to end: real ``replyguard check`` runs against the reference server,
correct and with a fault switched on, as a CI job would run them before a deploy.

Every run selects a few create-assistant rules (``--rules``), so each takes seconds.
"""

from __future__ import annotations

import datetime as dt
import json
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import pytest

from replyguard.reference.launch import EmbeddedReference, running_reference
from tests.helpers.counting_proxy import counting_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

FAULT = "assistant.max-duration-1201"
BROKEN = "assistant.max_duration.range"
RULES = "assistant.max_duration.*,assistant.ringing_time.*"


@dataclass(slots=True)
class Run:
    code: int
    out: str
    err: str
    report: dict
    folder: Path


def check(
    reference: EmbeddedReference | Path, folder: Path, *args: str, rules: str | None = RULES
) -> Run:
    """``replyguard check --target`` in a subprocess, in ``folder``; the JSON report read back."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = reference if isinstance(reference, Path) else reference.profile_path
    report = folder / "report.json"
    command = [
        sys.executable,
        "-m",
        "replyguard.cli",
        "check",
        "--target",
        str(profile),
        "--report-json",
        str(report),
        "--hide-passed",
        *args,
    ]
    if rules:
        command += ["--rules", rules]
    result = subprocess.run(command, capture_output=True, text=True, timeout=300, cwd=folder)
    data = json.loads(report.read_text()) if report.exists() else {}
    return Run(result.returncode, result.stdout, result.stderr, data, folder)


@pytest.fixture(scope="module")
def correct(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedReference]:
    with running_reference(window=2) as reference:
        yield reference


@pytest.fixture(scope="module")
def faulty(tmp_path_factory: pytest.TempPathFactory) -> Iterator[EmbeddedReference]:
    with running_reference(window=2, extra_args=["--fault", FAULT]) as reference:
        yield reference


@pytest.fixture(scope="module")
def baseline(correct: EmbeddedReference, tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The report of a correct run: the one kept from the last deploy."""
    run = check(correct, tmp_path_factory.mktemp("baseline"))
    assert run.code == 0, run.out[-2000:] + run.err
    assert run.report["summary"]["fail"] == 0
    return run.folder / "report.json"


def _deviations(folder: Path, until: dt.date | None, rule: str = BROKEN) -> Path:
    path = folder / "known-deviations.toml"
    folder.mkdir(parents=True, exist_ok=True)
    path.write_text(
        "[[deviation]]\n"
        f'rule = "{rule}"\n'
        'reason = "the backend allows 1201 s; tracked as API-123"\n'
        + (f"until = {until.isoformat()}\n" if until else "")
        + 'link = "https://tracker.example/API-123"\n'
    )
    return path


def test_a_new_failure_against_the_baseline_exits_1_and_is_named(
    faulty: EmbeddedReference, baseline: Path, tmp_path: Path
) -> None:
    run = check(faulty, tmp_path, "--baseline", str(baseline))
    assert run.code == 1, run.out[-2000:] + run.err
    assert f"new failure: {BROKEN} (was pass)" in run.out
    assert run.report["gate"]["changes"]["rules"] == [
        {"rule": BROKEN, "before": "pass", "after": "fail", "change": "new failure"}
    ]


def test_the_fault_as_a_known_deviation_exits_0_and_shows_the_reason(
    faulty: EmbeddedReference, baseline: Path, tmp_path: Path
) -> None:
    known = _deviations(tmp_path, dt.date.today() + dt.timedelta(days=30))
    run = check(
        faulty,
        tmp_path,
        "--baseline",
        str(baseline),
        "--known-deviations",
        str(known),
        "--report-html",
        "r.html",
        "--report-md",
        "r.md",
    )
    assert run.code == 0, run.out[-2000:] + run.err
    assert f"known deviation: {BROKEN}: the backend allows 1201 s; tracked as API-123" in run.out
    assert "gate: OK (1 known deviation)" in run.out
    tokens = [str(t) for t in faulty.profile["tokens"].values()]
    for report in ("r.html", "r.md"):
        text = (tmp_path / report).read_text()
        assert "the backend allows 1201 s; tracked as API-123" in text
        assert "curl -i -X POST" in text  # the failure's reproduction, with its token masked
        assert not [t for t in tokens if t in text]


def test_the_known_deviations_file_can_come_from_the_profile(
    faulty: EmbeddedReference, tmp_path: Path
) -> None:
    _deviations(tmp_path, None)
    profile = tmp_path / "target.toml"
    # A top-level key: before the profile's first table.
    profile.write_text(
        'known_deviations = "known-deviations.toml"\n' + faulty.profile_path.read_text()
    )
    run = check(profile, tmp_path)
    assert run.code == 0, run.out[-2000:] + run.err
    assert f"known deviation: {BROKEN}" in run.out


def test_an_expired_known_deviation_exits_1(faulty: EmbeddedReference, tmp_path: Path) -> None:
    known = _deviations(tmp_path, dt.date.today() - dt.timedelta(days=1))
    run = check(faulty, tmp_path, "--known-deviations", str(known))
    assert run.code == 1, run.out[-2000:] + run.err
    assert f"expired known deviation: {BROKEN} fails" in run.out


def test_a_fixed_known_deviation_is_reported(correct: EmbeddedReference, tmp_path: Path) -> None:
    known = _deviations(tmp_path, None)
    run = check(correct, tmp_path, "--known-deviations", str(known))
    assert run.code == 0, run.out[-2000:] + run.err
    assert f"fixed: remove it from the list: {BROKEN} now passes" in run.out
    assert run.report["gate"]["deviations"][0]["status"] == "fixed"


def test_an_unknown_rule_id_exits_2_before_sending_anything(
    correct: EmbeddedReference, tmp_path: Path
) -> None:
    known = _deviations(tmp_path, None, rule="assistant.max_duration.rnage")
    run = check(correct, tmp_path, "--known-deviations", str(known))
    assert run.code == 2
    assert run.err.strip().count("\n") == 0
    assert "unknown rule id 'assistant.max_duration.rnage'" in run.err
    assert not run.report


def test_diff_of_a_correct_and_a_faulty_report_names_the_rule(
    faulty: EmbeddedReference, baseline: Path, tmp_path: Path
) -> None:
    bad = check(faulty, tmp_path)
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "replyguard.cli",
            "diff",
            str(baseline),
            str(tmp_path / "report.json"),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert result.returncode == 1, result.stdout + result.stderr
    assert bad.code == 1
    [row] = [line for line in result.stdout.splitlines() if line.startswith(BROKEN)]
    assert row.split() == [BROKEN, "pass", "fail", "new", "failure"]
    assert "127.0.0.1" not in result.stdout  # the targets are masked
    back = subprocess.run(
        [
            sys.executable,
            "-m",
            "replyguard.cli",
            "diff",
            str(tmp_path / "report.json"),
            str(baseline),
        ],
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert back.returncode == 0, back.stdout


def _assistants(reference: EmbeddedReference) -> int:
    with sqlite3.connect(f"file:{reference.db_path}?mode=ro", uri=True) as db:
        return int(db.execute("SELECT count(*) FROM assistants").fetchone()[0])


def test_last_failed_sends_only_the_requests_of_the_failed_rules(
    faulty: EmbeddedReference, tmp_path: Path
) -> None:
    with counting_proxy(faulty.base_url) as proxy:
        profile = tmp_path / "via-proxy.toml"
        profile.write_text(faulty.profile_path.read_text().replace(faulty.base_url, proxy.base_url))
        first = check(profile, tmp_path, rules="assistant.*.range")
        first_count, first_paths = proxy.total(), proxy.by_path()
        assert first.code == 1, first.out[-2000:]
        failed = sorted(r["rule"] for r in first.report["rules"] if r["verdict"] == "fail")
        assert failed == [BROKEN]

        # What the failed rule's tests alone send, selected by hand: the yardstick.
        proxy.reset()
        by_hand = check(profile, tmp_path / "by-hand", rules=BROKEN)
        by_hand_count = proxy.total()
        assert by_hand.code == 1, by_hand.out[-2000:]

        proxy.reset()
        created = _assistants(faulty)
        again = check(profile, tmp_path, "--last-failed", rules=None)
        again_count, again_paths = proxy.total(), proxy.by_path()
        created = _assistants(faulty) - created
    assert again.code == 1, again.out[-2000:]
    assert "--last-failed: re-running the tests of 1 rule from " in again.err
    tested = {r["rule"] for r in again.report["rules"] if r["tests"]}
    assert tested == {BROKEN}
    # The server saw exactly the requests of the failed rule's tests: as many as selecting the
    # rule by hand, as many as the run's own accounting plus its one unauthenticated preflight,
    # and a small part of the first run.
    assert again_count == by_hand_count
    assert again_count == sum(again.report["requests"].values()) + 1
    assert again_count * 5 < first_count, (again_paths, first_paths)
    # Server side, in the reference's database: the re-run created only max_duration's
    # assistants (its two bounds and the 1201 the fault accepts).
    assert created == 3
    print(
        f"first run {first_count} requests {first_paths}; --last-failed {again_count} "
        f"requests {again_paths}; assistants created by the re-run: {created}"
    )
