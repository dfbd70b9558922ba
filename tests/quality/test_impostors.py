"""Against servers that are not the API, no rule may pass, and the preflight stops the run."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from replyguard.reference.launch import running_reference
from tests.helpers.impostors import IMPOSTORS, impostor

pytestmark = [pytest.mark.quality, pytest.mark.slow]

# The whole suite, without the preflight that would refuse these targets at once.
_RUN_WITHOUT_PREFLIGHT = """
import json, sys
from pathlib import Path
from replyguard.config import read_choices, load_run_config
from replyguard.engine.check import run_suite
config = load_run_config(read_choices({}, {}), Path(sys.argv[1]))
report = run_suite(config)
Path(sys.argv[2]).write_text(json.dumps(report))
"""


def _profile_for(base_url: str, folder: Path) -> Path:
    # The reference's own profile (ids, tokens) pointed at the impostor: a wrong base_url.
    with running_reference(window=2, folder=folder / "ref") as reference:
        profile = dict(reference.profile)
    profile["base_url"] = base_url
    profile["rate_limit"] = {"limit": 5, "window_seconds": 1}
    path = folder / "impostor.json"
    path.write_text(json.dumps(profile), encoding="utf-8")
    return path


@pytest.mark.parametrize("name", sorted(IMPOSTORS))
def test_no_rule_passes_against_a_server_that_is_not_the_api(name: str, tmp_path: Path) -> None:
    with impostor(name) as base_url:
        profile = _profile_for(base_url, tmp_path)
        check = subprocess.run(
            [sys.executable, "-m", "replyguard", "check", "--target", str(profile)],
            capture_output=True,
            text=True,
            timeout=60,
        )
        report_path = tmp_path / "report.json"
        run = subprocess.run(
            [sys.executable, "-c", _RUN_WITHOUT_PREFLIGHT, str(profile), str(report_path)],
            capture_output=True,
            text=True,
            timeout=600,
        )
    # The preflight: one line, exit 2, before anything is spent.
    assert check.returncode == 2, check.stdout + check.stderr
    assert check.stdout == ""
    assert check.stderr.count("\n") == 1
    assert "is base_url right?" in check.stderr
    # The suite itself, had it run: nothing proven.
    assert run.returncode == 0, run.stderr[-2000:]
    report = json.loads(report_path.read_text(encoding="utf-8"))
    passed = [r["rule"] for r in report["rules"] if r["verdict"] == "pass"]
    assert passed == []
