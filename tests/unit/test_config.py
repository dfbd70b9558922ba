"""The run configuration: every option resolved once, flag > variable > profile > default."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from replyguard.config import OPTIONS, ConfigError, read_choices, run_config
from replyguard.config.discovery import discover_profile
from replyguard.profile import Profile, parse_target

BASE: dict[str, Any] = {
    "base_url": "http://127.0.0.1:9/api",
    "brand": "autocalls",
    "tokens": {"primary": "p" * 20},
    "assistants": {"own": 1},
}
ENV: dict[str, str] = {}


def _profile(**keys: Any) -> Profile:
    raw = {**BASE, **keys}
    return Profile(Path("t.toml"), raw, parse_target(raw, env=ENV))


# option -> (flag text, variable text, profile keys, expected from each, default)
PRECEDENCE: list[tuple[str, Any, str, dict[str, Any], tuple[Any, Any, Any, Any]]] = [
    ("allow_writes", False, "true", {"safety": {"allow_writes": True}}, (False, True, True, False)),
    (
        "allow_writes",
        True,
        "false",
        {"safety": {"allow_writes": False}},
        (True, False, False, False),
    ),
    ("max_requests", "7", "11", {"safety": {"max_requests": 13}}, (7, 11, 13, 500)),
    ("max_billed_calls", "3", "4", {"safety": {"max_billed_calls": 5}}, (3, 4, 5, 20)),
    ("strict", True, "0", {"strict": False}, (True, False, False, False)),
]
_READ = {
    "allow_writes": lambda c: c.allow_writes,
    "max_requests": lambda c: c.max_requests,
    "max_billed_calls": lambda c: c.max_billed_calls,
    "strict": lambda c: c.strict,
}


@pytest.mark.parametrize(("name", "flag", "env", "profile", "expected"), PRECEDENCE)
def test_precedence_flag_env_profile_default(
    name: str, flag: Any, env: str, profile: dict[str, Any], expected: tuple[Any, Any, Any, Any]
) -> None:
    spec = next(s for s in OPTIONS if s.name == name)
    read = _READ[name]
    everything = run_config(
        read_choices({name: flag}, {spec.env: env}, cwd=Path("/")), _profile(**profile)
    )
    no_flag = run_config(read_choices({}, {spec.env: env}, cwd=Path("/")), _profile(**profile))
    profile_only = run_config(read_choices({}, {}, cwd=Path("/")), _profile(**profile))
    default = run_config(read_choices({}, {}, cwd=Path("/")), _profile())
    assert (read(everything), read(no_flag), read(profile_only), read(default)) == expected
    assert everything.origins[name].startswith("flag ")
    assert no_flag.origins[name] == f"variable {spec.env}"


@pytest.mark.parametrize(
    ("name", "flag", "env", "default"),
    [
        ("rules", "auth.*", "ratelimit.*", ()),
        ("format", "json", "plain", "auto"),
        ("reference_window", "3", "4", 1.0),
        ("report_json", "a.json", "b.json", None),
    ],
)
def test_precedence_of_options_without_a_profile_key(
    name: str, flag: str, env: str, default: Any
) -> None:
    spec = next(s for s in OPTIONS if s.name == name)
    flag_wins = run_config(read_choices({name: flag}, {spec.env: env}, cwd=Path("/")), _profile())
    env_only = run_config(read_choices({}, {spec.env: env}, cwd=Path("/")), _profile())
    nothing = run_config(read_choices({}, {}, cwd=Path("/")), _profile())
    parsed_flag, parsed_env = spec.parse(flag), spec.parse(env)
    if name == "rules":
        parsed_flag, parsed_env = (parsed_flag,), (parsed_env,)
    assert getattr(flag_wins, name) == parsed_flag
    assert getattr(env_only, name) == parsed_env
    assert getattr(nothing, name) == default


def test_no_allow_writes_beats_profile_and_variable() -> None:
    choices = read_choices(
        {"allow_writes": False}, {"REPLYGUARD_ALLOW_WRITES": "true"}, cwd=Path("/")
    )
    config = run_config(choices, _profile(safety={"allow_writes": True}))
    assert config.allow_writes is False
    assert config.target.safety.allow_writes is False


def test_exhaustive_target_has_no_billed_cap_by_default() -> None:
    config = run_config(
        read_choices({}, {}, cwd=Path("/")),
        _profile(safety={"exhaustive": True, "max_requests": 0}),
    )
    assert config.max_billed_calls == 0
    assert config.max_requests == 0


@pytest.mark.parametrize(
    ("name", "text"),
    [
        ("max_requests", "-1"),
        ("allow_writes", "maybe"),
        ("format", "xml"),
        ("reference_window", "0"),
    ],
)
def test_bad_variable_names_the_variable(name: str, text: str) -> None:
    spec = next(s for s in OPTIONS if s.name == name)
    with pytest.raises(ConfigError) as info:
        read_choices({}, {spec.env: text}, cwd=Path("/"))
    assert str(info.value).startswith(f"{spec.env}: ")
    assert "\n" not in str(info.value)


def test_profile_is_discovered_up_to_the_repository_root(tmp_path: Path) -> None:
    repo = tmp_path / "repo"
    deep = repo / "a" / "b"
    deep.mkdir(parents=True)
    (repo / ".git").mkdir()
    assert discover_profile(deep) is None
    (repo / "replyguard.toml").write_text("", encoding="utf-8")
    assert discover_profile(deep) == repo / "replyguard.toml"
    # Above the repository root nothing is looked at.
    (tmp_path / "replyguard.toml").write_text("", encoding="utf-8")
    (repo / "replyguard.toml").unlink()
    assert discover_profile(deep) is None


def test_discovered_profile_is_used_without_target(tmp_path: Path) -> None:
    (tmp_path / ".git").mkdir()
    (tmp_path / "replyguard.toml").write_text("", encoding="utf-8")
    choices = read_choices({}, {}, cwd=tmp_path)
    assert choices.profile == tmp_path / "replyguard.toml"
    assert read_choices({"target": "x.toml"}, {}, cwd=tmp_path).profile == Path("x.toml")
