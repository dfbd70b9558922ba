"""The resolved run configuration as a user meets it: on a real server, in a CI log."""

from __future__ import annotations

import json
import os
import sqlite3
import subprocess
import sys
from pathlib import Path

import pytest

from replyguard.reference.launch import running_reference

pytestmark = [pytest.mark.integration, pytest.mark.slow]


def _assistants(db: Path) -> int:
    with sqlite3.connect(db) as conn:
        return int(conn.execute("SELECT COUNT(*) FROM assistants").fetchone()[0])


def test_no_allow_writes_beats_profile_and_variable(tmp_path: Path) -> None:
    with running_reference(window=2, folder=tmp_path / "ref") as reference:
        profile = dict(reference.profile)
        profile["safety"] = {**profile.get("safety", {}), "allow_writes": True}
        path = tmp_path / "writes.json"
        path.write_text(json.dumps(profile), encoding="utf-8")
        before = _assistants(reference.db_path)
        env = {**os.environ, "REPLYGUARD_ALLOW_WRITES": "true"}
        done = subprocess.run(
            [
                sys.executable,
                "-m",
                "replyguard",
                "check",
                "--target",
                str(path),
                "--no-allow-writes",
                "--rules",
                "assistant.*",
                "--report-json",
                str(tmp_path / "r.json"),
                "--format",
                "plain",
            ],
            capture_output=True,
            text=True,
            timeout=600,
            env=env,
        )
        after = _assistants(reference.db_path)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    report = json.loads((tmp_path / "r.json").read_text(encoding="utf-8"))
    assert report["requests"].get("create_assistant", 0) > 20  # it did send, and was refused
    assert after == before
    assert report["options"]["allow_writes"] is False
    assert report["created_assistants"] == []


def test_piped_output_is_one_line_per_rule_at_any_width(tmp_path: Path) -> None:
    env = {**os.environ, "COLUMNS": "40"}
    done = subprocess.run(
        [sys.executable, "-m", "replyguard", "check", "--rules", "ratelimit.*,auth.*"],
        capture_output=True,
        text=True,
        timeout=600,
        env=env,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-2000:]
    lines = done.stdout.strip().splitlines()
    # Only what did not pass, the left-out rules in one line, the limiter in one line (its
    # items one a line in the table and the reports), then the summary.
    assert lines[-1].startswith(tuple("0123456789"))
    assert " passed, 0 failed, 0 errors" in lines[-1]
    assert any(line.endswith("rules not selected for this run") for line in lines)
    assert len(lines) <= 6
    assert all(len(line) > 20 for line in lines)  # nothing wrapped to a word per line
