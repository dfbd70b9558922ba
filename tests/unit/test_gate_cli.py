"""The gate's options on ``replyguard check``: usage errors come before anything runs."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from replyguard.cli import main
from replyguard.gate import GateUsageError
from replyguard.gate.run import profile_paths


def _check(*args: str) -> tuple[int, str]:
    result = CliRunner().invoke(main, ["check", *args])
    return result.exit_code, result.stderr


def test_an_unknown_rule_id_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    known = tmp_path / "known.toml"
    known.write_text('[[deviation]]\nrule = "ratelimit.per-tokn"\nreason = "typo"\n')
    code, err = _check("--known-deviations", str(known))
    assert code == 2
    assert err.count("\n") == 1
    assert "'ratelimit.per-tokn'" in err


def test_a_missing_baseline_is_a_usage_error(tmp_path: Path) -> None:
    code, err = _check("--baseline", str(tmp_path / "absent.json"))
    assert code == 2
    assert "--baseline: report" in err
    assert "no such file" in err


def test_last_failed_takes_an_optional_report(tmp_path: Path) -> None:
    code, err = _check("--last-failed", str(tmp_path / "absent.json"))
    assert code == 2
    assert "absent.json" in err
    code, err = _check("--last-failed", "--rules", "auth.*")
    assert code == 2
    assert "drop --rules" in err


def test_profile_keys_are_paths_beside_the_profile(tmp_path: Path) -> None:
    profile = tmp_path / "ci" / "target.toml"
    profile.parent.mkdir()
    profile.write_text('base_url = "http://x/api"\nbaseline = "prod.json"\n'
                       'known_deviations = "/etc/known.toml"\n')
    assert profile_paths(profile) == {"baseline": tmp_path / "ci" / "prod.json",
                                      "known_deviations": Path("/etc/known.toml")}
    profile.write_text('base_url = "http://x/api"\nbaseline = 3\n')
    with pytest.raises(GateUsageError, match="baseline: expected a file path"):
        profile_paths(profile)
