"""The gate's options on ``replyguard check``: one option table, usage errors before the run."""

from __future__ import annotations

from pathlib import Path

from click.testing import CliRunner

from replyguard.cli import main
from replyguard.config import read_choices
from replyguard.config.resolve import load_run_config

PROFILE = """brand = "intellixent"
base_url = "http://127.0.0.1:9/api"
{extra}
[tokens]
primary = "rg_test_token_0123456789abcdef"

[assistants]
own = 1
"""


def _profile(tmp_path: Path, extra: str = "") -> Path:
    path = tmp_path / "ci" / "target.toml"
    path.parent.mkdir(exist_ok=True)
    path.write_text(PROFILE.format(extra=extra))
    return path


def _check(tmp_path: Path, *args: str) -> tuple[int, str]:
    # A profile whose target is never reached: every error here comes before the run.
    result = CliRunner().invoke(main, ["check", "--target", str(_profile(tmp_path)), *args])
    return result.exit_code, result.stderr


def test_an_unknown_rule_id_is_a_usage_error_naming_it(tmp_path: Path) -> None:
    known = tmp_path / "known.toml"
    known.write_text('[[deviation]]\nrule = "ratelimit.per-tokn"\nreason = "typo"\n')
    code, err = _check(tmp_path, "--known-deviations", str(known))
    assert code == 2
    assert err.count("\n") == 1
    assert "'ratelimit.per-tokn'" in err


def test_a_missing_baseline_is_a_usage_error(tmp_path: Path) -> None:
    code, err = _check(tmp_path, "--baseline", str(tmp_path / "absent.json"))
    assert code == 2
    assert "--baseline: report" in err
    assert "no such file" in err


def test_last_failed_takes_an_optional_report(tmp_path: Path) -> None:
    code, err = _check(tmp_path, "--last-failed", str(tmp_path / "absent.json"))
    assert code == 2
    assert "absent.json" in err
    code, err = _check(tmp_path, "--last-failed", "--rules", "auth.*")
    assert code == 2
    assert "drop --rules" in err


def test_profile_keys_are_paths_beside_the_profile_and_flags_win(tmp_path: Path) -> None:
    profile = _profile(tmp_path, 'baseline = "prod.json"\nknown_deviations = "/etc/known.toml"\n')
    gate = load_run_config(read_choices({}, env={}, cwd=tmp_path), profile).gate
    assert gate.baseline == tmp_path / "ci" / "prod.json"
    assert gate.known_deviations == Path("/etc/known.toml")
    assert not gate.fail_on_drift
    choices = read_choices(
        {"baseline": "flag.json", "last_failed": ""},
        env={"REPLYGUARD_REPORT_HTML": "r.html", "REPLYGUARD_FAIL_ON_DRIFT": "true"},
        cwd=tmp_path,
    )
    gate = load_run_config(choices, profile).gate
    assert gate.baseline == Path("flag.json")
    assert gate.last_failed == ""
    assert gate.report_html == Path("r.html")
    assert gate.fail_on_drift
