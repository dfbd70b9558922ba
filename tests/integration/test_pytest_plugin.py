"""replyguard's pytest plugin as a package user meets it: the ``pytest11`` entry point.

``pytest --pyargs contract_tests --target T`` from a folder that is not the checkout (no
contract_tests/pytest.ini, no conftest on the command line), and an unrelated pytest run in the
same environment, which the plugin must leave alone.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import pytest

from replyguard.reference.launch import running_reference

pytestmark = [pytest.mark.integration]


def _pytest(folder: Path, *args: str) -> subprocess.CompletedProcess[str]:
    return subprocess.run(
        [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", *args],
        cwd=folder,
        capture_output=True,
        text=True,
        timeout=300,
        check=False,
    )


def test_pyargs_contract_tests_with_a_target_judges_it(tmp_path: Path) -> None:
    report = tmp_path / "report.json"
    with running_reference(window=1, folder=tmp_path / "reference") as reference:
        run = _pytest(
            tmp_path,
            "--pyargs",
            "contract_tests",
            "--target",
            str(reference.profile_path),
            "-k",
            "malformed",
            "--report-json",
            str(report),
        )
    assert run.returncode == 0, run.stdout[-2000:] + run.stderr
    assert " passed" in run.stdout
    verdicts = {r["rule"]: r["verdict"] for r in json.loads(report.read_text())["rules"]}
    assert verdicts["contract.malformed-request-4xx"] == "pass"


def test_without_target_the_plugin_leaves_other_tests_alone(tmp_path: Path) -> None:
    (tmp_path / "test_other.py").write_text("def test_one():\n    assert True\n")
    run = _pytest(tmp_path, "-q")
    assert run.returncode == 0, run.stdout + run.stderr
    assert "1 passed" in run.stdout
