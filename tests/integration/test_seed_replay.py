"""--seed replays a run's generated cases: two runs with one seed send the same bodies."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from replyguard.reference.launch import running_reference
from tests.helpers.counting_proxy import CountingProxy, counting_proxy

pytestmark = [pytest.mark.integration, pytest.mark.slow]

#: Only generated cases: schemathesis' negative mode (no fixture with a fresh run id).
RULES = "contract.negative-data-rejected"


def _run(profile: Path, proxy: CountingProxy, seed: str, report: Path) -> list[tuple[str, bytes]]:
    proxy.reset()
    done = subprocess.run(
        [
            *(sys.executable, "-m", "replyguard", "check", "--target", str(profile)),
            *("--rules", RULES, "--seed", seed, "--report-json", str(report), "--no-plan"),
        ],
        capture_output=True,
        text=True,
        timeout=600,
    )
    assert done.returncode in (0, 1), done.stderr[-2000:]
    return list(proxy.bodies)


def test_one_seed_sends_the_same_bodies_and_the_report_names_it(tmp_path: Path) -> None:
    with (
        running_reference(limit=100_000, window=1, folder=tmp_path / "ref") as reference,
        counting_proxy(reference.base_url) as proxy,
    ):
        profile = tmp_path / "profile.json"
        profile.write_text(
            json.dumps({**reference.profile, "base_url": proxy.base_url}), encoding="utf-8"
        )
        first = _run(profile, proxy, "7", tmp_path / "first.json")
        again = _run(profile, proxy, "7", tmp_path / "again.json")
        other = _run(profile, proxy, "8", tmp_path / "other.json")
    assert len(first) > 50  # the preflight and the generated negative cases
    assert first == again
    assert first != other
    report = json.loads((tmp_path / "first.json").read_text(encoding="utf-8"))
    assert report["generated_cases"]["seed"] == 7
    assert report["generated_cases"]["negatives_dropped"] >= 0
