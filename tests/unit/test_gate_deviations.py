"""The known-deviations file: every mistake is one usage line that names the entry."""

from __future__ import annotations

import datetime as dt
from pathlib import Path

import pytest

from replyguard.gate.deviations import Deviation, DeviationsError, load_deviations

RULES = {"ratelimit.per-token", "assistant.max_duration.range"}


def _load(tmp_path: Path, text: str) -> list[Deviation]:
    path = tmp_path / "known.toml"
    path.write_text(text, encoding="utf-8")
    return load_deviations(path, RULES)


def test_a_full_entry_is_read(tmp_path: Path) -> None:
    [dev] = _load(
        tmp_path,
        '[[deviation]]\nrule = "ratelimit.per-token"\n'
        'reason = "throttle keys by user"\nuntil = 2027-03-31\n'
        'link = "https://tracker.example/API-123"\n',
    )
    assert dev == Deviation(
        "ratelimit.per-token",
        "throttle keys by user",
        dt.date(2027, 3, 31),
        "https://tracker.example/API-123",
    )
    assert not dev.expired(dt.date(2027, 3, 31))
    assert dev.expired(dt.date(2027, 4, 1))


def test_until_and_link_are_optional_and_a_quoted_date_is_accepted(tmp_path: Path) -> None:
    devs = _load(
        tmp_path,
        '[[deviation]]\nrule = "ratelimit.per-token"\nreason = "r"\n'
        '[[deviation]]\nrule = "assistant.max_duration.range"\nreason = "s"\n'
        'until = "2026-01-02"\n',
    )
    assert devs[0].until is None
    assert devs[0].link is None
    assert devs[1].until == dt.date(2026, 1, 2)


def test_an_empty_file_lists_nothing(tmp_path: Path) -> None:
    assert _load(tmp_path, "") == []


@pytest.mark.parametrize(
    ("text", "message"),
    [
        (
            '[[deviation]]\nrule = "ratelimit.per-tokn"\nreason = "r"\n',
            "unknown rule id 'ratelimit.per-tokn'",
        ),
        ('[[deviation]]\nrule = "ratelimit.per-token"\n', "'reason' is required"),
        ('[[deviation]]\nrule = "ratelimit.per-token"\nreason = "  "\n', "'reason' is required"),
        ('[[deviation]]\nreason = "r"\n', "'rule' (a rule id) is required"),
        (
            '[[deviation]]\nrule = "ratelimit.per-token"\nreason = "r"\nuntil = "soon"\n',
            "'until' must be a date",
        ),
        (
            '[[deviation]]\nrule = "ratelimit.per-token"\nreason = "r"\nowner = "me"\n',
            "unknown key 'owner'",
        ),
        (
            '[[deviation]]\nrule = "ratelimit.per-token"\nreason = "r"\n'
            '[[deviation]]\nrule = "ratelimit.per-token"\nreason = "again"\n',
            "listed twice",
        ),
        ('[[deviations]]\nrule = "ratelimit.per-token"\n', "unknown key 'deviations'"),
        ("[[deviation]\n", "not valid TOML"),
    ],
)
def test_mistakes_are_one_line_naming_the_problem(tmp_path: Path, text: str, message: str) -> None:
    with pytest.raises(DeviationsError) as info:
        _load(tmp_path, text)
    assert message in str(info.value)
    assert "\n" not in str(info.value)


def test_a_missing_file_is_named(tmp_path: Path) -> None:
    with pytest.raises(DeviationsError, match="no such file"):
        load_deviations(tmp_path / "absent.toml", RULES)
