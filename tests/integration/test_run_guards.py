"""Exit 2 before spending, never green on nothing, and Ctrl-C keeps the report (issue 20).

A counting proxy sits between ``replyguard check`` and the reference, so the requests a run
sent are counted on the wire, not by replyguard's own accounting.
"""

from __future__ import annotations

import json
import signal
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.helpers.counting_proxy import CountingProxy, counting_proxy
from tests.helpers.servers import Reference, running_reference

pytestmark = [pytest.mark.integration, pytest.mark.slow]

CHECK = [sys.executable, "-m", "replyguard.cli", "check"]


@pytest.fixture(scope="module")
def proxied(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[CountingProxy, Path]]:
    """A reference behind a counting proxy, and a profile that points at the proxy."""
    folder = tmp_path_factory.mktemp("guards")
    reference: Reference
    with (
        running_reference(folder / "ref", window=1) as reference,
        counting_proxy(reference.base_url) as proxy,
    ):
        profile = reference.profile
        profile["base_url"] = proxy.base_url
        path = folder / "profile.json"
        path.write_text(json.dumps(profile), encoding="utf-8")
        yield proxy, path


def _check(profile: Path, *args: str, cwd: Path) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [*CHECK, "--target", str(profile), "--format", "plain", *args],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=cwd,
    )


BAD = {
    "report-json": ["--report-json", "/proc/nope/r.json"],
    "junit-xml-is-a-folder": ["--junit-xml", "."],
    "report-html-under-a-file": ["--report-html", "a-file/r.html"],
    "report-md": ["--report-md", "/proc/nope/r.md"],
    "baseline-missing": ["--baseline", "missing.json"],
    "known-deviations-broken": ["--known-deviations", "a-file"],
    "empty-glob": ["--rules", "nosuch.*"],
    "misspelt-id": ["--rules", "ratelimit.limt"],
}


@pytest.mark.parametrize("args", BAD.values(), ids=BAD.keys())
def test_a_bad_input_exits_2_in_one_line_before_any_request(
    proxied: tuple[CountingProxy, Path], tmp_path: Path, args: list[str]
) -> None:
    proxy, profile = proxied
    (tmp_path / "a-file").write_text("not toml [", encoding="utf-8")
    proxy.reset()
    result = _check(profile, *args, cwd=tmp_path)
    assert result.returncode == 2, result.stderr
    lines = result.stderr.strip().splitlines()
    assert len(lines) == 1, result.stderr
    assert "Traceback" not in result.stderr
    assert proxy.total() == 0


def test_a_misspelt_rule_names_the_closest(
    proxied: tuple[CountingProxy, Path], tmp_path: Path
) -> None:
    result = _check(proxied[1], "--rules", "ratelimit.limt", cwd=tmp_path)
    assert "closest: ratelimit.limit" in result.stderr


def test_a_keyword_that_selects_nothing_exits_2(
    proxied: tuple[CountingProxy, Path], tmp_path: Path
) -> None:
    proxy, profile = proxied
    proxy.reset()
    result = _check(profile, "-k", "test_refusal_is_492", cwd=tmp_path)
    assert result.returncode == 2
    # The run's bounds come before its first request (issue 20); then one line, no traceback.
    said = [
        line
        for line in result.stderr.splitlines()
        if line.strip() and not line.startswith("replyguard: bounds: ")
    ]
    assert said == [
        "replyguard: -k 'test_refusal_is_492' selects no test of the suite; "
        "closest: test_refusal_is_429"
    ]
    # Only the preflight (one unauthenticated call) reached the target.
    assert proxy.by_path() == {"/api/user/ai/generate-reply": 1}


def test_a_run_that_tested_nothing_is_not_green(
    proxied: tuple[CountingProxy, Path], tmp_path: Path
) -> None:
    result = _check(proxied[1], "--max-requests", "5", "--report-json", "r.json", cwd=tmp_path)
    assert result.returncode == 2, result.stdout[-2000:]
    assert result.stderr.strip().splitlines()[-1].startswith("replyguard: nothing was tested: ")
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["summary"]["pass"] == 0


def test_ctrl_c_writes_the_report_so_far_and_exits_130(
    proxied: tuple[CountingProxy, Path], tmp_path: Path
) -> None:
    proxy, profile = proxied
    proxy.reset()
    process = subprocess.Popen(
        [*CHECK, "--target", str(profile), "--format", "plain", "--report-json", "r.json"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        cwd=tmp_path,
    )
    try:
        deadline = time.monotonic() + 120
        while proxy.total() < 150 and time.monotonic() < deadline and process.poll() is None:
            time.sleep(0.1)
        assert process.poll() is None, "the run ended before it could be interrupted"
        process.send_signal(signal.SIGINT)
        _, stderr = process.communicate(timeout=60)
    finally:
        if process.poll() is None:
            process.kill()
    assert process.returncode == 130, stderr[-2000:]
    assert "interrupted (Ctrl-C)" in stderr
    report = json.loads((tmp_path / "r.json").read_text())
    assert report["interrupted"] is True
    assert report["summary"]["pass"] > 0
    reasons = {r["reason"] for r in report["rules"] if r["verdict"] == "not tested"}
    assert "not reached: the run was interrupted (Ctrl-C)" in reasons
    last = json.loads((tmp_path / ".replyguard" / "last-report.json").read_text())
    assert last["interrupted"] is True


def test_pytest_contract_tests_refuses_a_misspelt_rule_too(tmp_path: Path) -> None:
    root = Path(__file__).resolve().parents[2]
    done = subprocess.run(
        [
            sys.executable,
            "-m",
            "pytest",
            str(root / "contract_tests"),
            "-p",
            "no:cacheprovider",
            "--rules",
            "ratelimit.limt",
        ],
        capture_output=True,
        text=True,
        timeout=120,
        cwd=tmp_path,
    )
    assert done.returncode == int(pytest.ExitCode.USAGE_ERROR), done.stdout + done.stderr
    assert "closest: ratelimit.limit" in done.stderr
