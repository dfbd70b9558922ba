"""Target profiles: parsing, placeholders, and one clear error naming the bad key."""

from __future__ import annotations

from pathlib import Path

import pytest

from replyguard.profile import ProfileError, load_target, parse_target

REPO = Path(__file__).resolve().parents[2]
MINIMAL = {
    "base_url": "http://127.0.0.1:8000/api",
    "brand": "autocalls",
    "tokens": {"primary": "${RG_TOKEN}"},
    "assistants": {"own": 1},
}
ENV = {
    "RG_TOKEN": "tok_primary_0123456789",
    "RG_TOKEN_2": "tok_second_0123456789",
    "INTELLIXENT_TOKEN": "x" * 20,
    "INTELLIXENT_TOKEN_2": "y" * 20,
    "AUTOCALLS_TOKEN": "x" * 20,
    "AUTOCALLS_TOKEN_2": "y" * 20,
    "FAMULOR_TOKEN": "x" * 20,
    "FAMULOR_TOKEN_2": "y" * 20,
}


def test_minimal_profile_gets_brand_paths_and_documented_limit() -> None:
    target = parse_target(MINIMAL, env=ENV)
    assert target.paths.generate_reply == "/ai/generate-reply"
    assert target.paths.create_assistant == "/user/assistant"
    assert target.url("generate_reply") == "http://127.0.0.1:8000/api/ai/generate-reply"
    assert (target.rate_limit.limit, target.rate_limit.window_seconds) == (5, 60)
    assert target.tokens.primary == ENV["RG_TOKEN"]
    assert not target.safety.allow_writes
    assert not target.safety.exhaustive


def test_intellixent_path_differs() -> None:
    target = parse_target({**MINIMAL, "brand": "intellixent"}, env=ENV)
    assert target.paths.generate_reply == "/user/ai/generate-reply"


def test_explicit_paths_override_brand() -> None:
    raw = {**MINIMAL, "paths": {"generate_reply": "/v2/reply"}}
    assert parse_target(raw, env=ENV).paths.generate_reply == "/v2/reply"


@pytest.mark.parametrize(
    ("change", "key"),
    [
        ({"base_url": "ftp://x"}, "base_url"),
        ({"brand": "acme"}, "brand"),
        ({"colour": "red"}, "colour"),
        ({"tokens": {}}, "tokens.primary"),
        ({"tokens": {"primary": "${NOT_SET_ANYWHERE}"}}, "tokens.primary"),
        ({"tokens": {"primary": "a", "tertiary": "b"}}, "tokens.tertiary"),
        ({"assistants": {"own": "abc"}}, "assistants.own"),
        ({"assistants": {"own": True}}, "assistants.own"),
        ({"catalog": {"voices": [{"id": 1, "modes": ["stereo"]}]}}, "catalog.voices[0].modes[0]"),
        ({"catalog": {"voices": [{"id": 1}]}}, "catalog.voices[0].modes"),
        ({"catalog": {"languages": [1, "two"]}}, "catalog.languages[1]"),
        (
            {"catalog": {"phone_numbers": [{"id": 9, "callerid": True}]}},
            "catalog.phone_numbers[0].callerid",
        ),
        ({"rate_limit": {"limit": 0}}, "rate_limit.limit"),
        ({"rate_limit": {"window_seconds": -1}}, "rate_limit.window_seconds"),
        ({"safety": {"allow_writes": "yes"}}, "safety.allow_writes"),
        ({"paths": {"generate_reply": "no-slash"}}, "paths.generate_reply"),
    ],
)
def test_bad_profile_names_the_key(change: dict, key: str) -> None:
    with pytest.raises(ProfileError) as info:
        parse_target({**MINIMAL, **change}, env=ENV)
    message = str(info.value)
    assert f"key '{key}'" in message
    assert "\n" not in message


def test_missing_env_var_is_named_and_value_is_not_leaked() -> None:
    with pytest.raises(ProfileError, match="RG_TOKEN is not set"):
        parse_target(MINIMAL, env={})


def test_tokens_repr_is_masked() -> None:
    target = parse_target(MINIMAL, env=ENV)
    assert ENV["RG_TOKEN"] not in repr(target)
    assert ENV["RG_TOKEN"] not in repr(target.tokens)


def test_file_errors_are_one_line(tmp_path: Path) -> None:
    with pytest.raises(ProfileError, match="no such file"):
        load_target(tmp_path / "absent.toml")
    broken = tmp_path / "broken.toml"
    broken.write_text("base_url = \n", encoding="utf-8")
    with pytest.raises(ProfileError, match="not valid TOML"):
        load_target(broken)


def test_json_profiles_are_accepted(tmp_path: Path) -> None:
    import json

    path = tmp_path / "t.json"
    path.write_text(json.dumps(MINIMAL), encoding="utf-8")
    assert load_target(path, env=ENV).brand == "autocalls"


@pytest.mark.parametrize("name", ["intellixent", "autocalls", "famulor", "example"])
def test_shipped_profiles_load(name: str) -> None:
    target = load_target(REPO / "fixtures" / "targets" / f"{name}.toml", env=ENV)
    assert target.brand in ("intellixent", "autocalls", "famulor")
    assert not target.safety.allow_writes


def test_every_token_field_is_a_role() -> None:
    """The profile's [tokens] table, the Tokens record and the Role enum name the same roles
    (besides ``pool``: a list of more tokens of the account, roles ``pool.N``)."""
    from dataclasses import fields

    from replyguard.profile import ACCOUNT_ROLES, POOL_ROLE, TOKEN_ROLES, Role, Tokens
    from replyguard.profile.schema import profile_schema

    names = [f.name for f in fields(Tokens) if f.name != POOL_ROLE]
    assert names == [r.value for r in Role] == list(TOKEN_ROLES)
    schema_roles = set(profile_schema()["properties"]["tokens"]["properties"]) - {POOL_ROLE}
    assert schema_roles == set(Role)
    assert set(ACCOUNT_ROLES) <= set(Role)
