"""The CLI in-process: usage and profile errors are one line and exit 2."""

from __future__ import annotations

from pathlib import Path

import pytest
from click.testing import CliRunner

from replyguard.cli import main
from replyguard.engine import check as checking

REPO = Path(__file__).resolve().parents[2]


def _run(*args: str, env: dict[str, str] | None = None) -> tuple[int, str]:
    result = CliRunner().invoke(main, list(args), env=env, catch_exceptions=False)
    return result.exit_code, result.output


def test_malformed_profile_names_the_key(tmp_path: Path) -> None:
    profile = tmp_path / "bad.toml"
    profile.write_text(
        'base_url = "http://127.0.0.1:9/api"\nbrand = "intellixent"\n'
        '[tokens]\nprimary = "x"\n[assistants]\nown = "one"\n',
        encoding="utf-8",
    )
    code, output = _run("check", "--target", str(profile))
    assert code == 2
    assert output.strip().count("\n") == 0
    assert "key 'assistants.own'" in output
    assert "Traceback" not in output


def test_unreachable_target_is_one_line(tmp_path: Path) -> None:
    profile = tmp_path / "closed.toml"
    # Port 9 (discard) on loopback: nothing listens there on these machines.
    profile.write_text(
        'base_url = "http://127.0.0.1:9/api"\nbrand = "autocalls"\n'
        '[tokens]\nprimary = "rg_secret_token_value_123"\n[assistants]\nown = 1\n',
        encoding="utf-8",
    )
    code, output = _run("check", "--target", str(profile))
    assert code == 2
    assert output.strip().count("\n") == 0
    assert output.startswith(
        "replyguard: target unreachable: cannot reach http://127.0.0.1:9/api/ai/generate-reply"
    )
    assert "rg_secret_token_value_123" not in output


@pytest.mark.parametrize("brand", ["intellixent", "autocalls", "famulor"])
def test_brand_profiles_are_accepted_up_to_the_network_call(
    brand: str, monkeypatch: pytest.MonkeyPatch
) -> None:
    reached = []

    def no_network(target: object) -> str:
        # Stop where the first packet would leave: no test sends traffic off this machine.
        reached.append(target)
        return "stubbed: tests never reach a real brand"

    monkeypatch.setattr(checking, "preflight", no_network)
    env = {f"{brand.upper()}_TOKEN": "t" * 24, f"{brand.upper()}_TOKEN_2": "u" * 24}
    code, output = _run(
        "check", "--target", str(REPO / "fixtures/targets" / f"{brand}.toml"), env=env
    )
    assert reached, output
    assert code == 2
    assert "replyguard: stubbed" in output
    assert "t" * 24 not in output


def test_missing_environment_variable_is_named() -> None:
    code, output = _run(
        "check",
        "--target",
        str(REPO / "fixtures/targets/famulor.toml"),
        env={"FAMULOR_TOKEN": "", "FAMULOR_TOKEN_2": ""},
    )
    # An empty token is as good as none.
    assert code == 2
    assert "tokens.primary" in output


def test_target_from_environment_variable(tmp_path: Path) -> None:
    code, output = _run("check", env={"REPLYGUARD_TARGET": str(tmp_path / "absent.toml")})
    assert code == 2
    assert "absent.toml: no such file" in output


def test_bad_variable_gets_the_same_line_as_a_bad_flag() -> None:
    by_flag = _run("check", "--max-requests", "lots")
    by_env = _run("check", env={"REPLYGUARD_MAX_REQUESTS": "lots"})
    assert by_flag[0] == by_env[0] == 2
    assert by_flag[1].strip() == (
        "replyguard: --max-requests: expected a whole number ≥ 0, got 'lots'"
    )
    assert by_env[1].strip() == (
        "replyguard: REPLYGUARD_MAX_REQUESTS: expected a whole number ≥ 0, got 'lots'"
    )


def test_serve_help_is_the_same_cli() -> None:
    code, output = _run("serve", "--help")
    assert code == 0
    assert "serve [OPTIONS]" in output
    for flag in ("--host", "--port", "--workers", "--db"):
        assert flag in output
    assert "default: 127.0.0.1" in output
    assert "REPLYGUARD_WORKERS" in output
    assert "~/.local/state/replyguard" in output
