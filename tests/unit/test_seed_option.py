"""--seed: one option row (flag, variable, profile key), resolved once, shown in every report."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from replyguard.config import ConfigError, read_choices, run_config
from replyguard.profile import Profile, parse_target
from replyguard.report import render_html, render_markdown, summary_line
from tests.helpers.gate_reports import make_report

BASE: dict[str, Any] = {
    "base_url": "http://127.0.0.1:9/api",
    "brand": "autocalls",
    "tokens": {"primary": "p" * 20},
    "assistants": {"own": 1},
}


def _profile(**keys: Any) -> Profile:
    raw = {**BASE, **keys}
    return Profile(Path("t.toml"), raw, parse_target(raw, env={}))


def _seed(flags: dict[str, Any], env: dict[str, str], **profile: Any) -> int:
    return run_config(read_choices(flags, env, cwd=Path("/")), _profile(**profile)).seed


def test_flag_over_variable_over_profile_key() -> None:
    assert _seed({"seed": "7"}, {"REPLYGUARD_SEED": "8"}, seed=9) == 7
    assert _seed({}, {"REPLYGUARD_SEED": "8"}, seed=9) == 8
    assert _seed({}, {}, seed=9) == 9


def test_without_one_a_seed_is_drawn_once_per_run() -> None:
    drawn = {_seed({}, {}) for _ in range(5)}
    assert len(drawn) > 1
    assert all(0 <= seed < 2**32 for seed in drawn)


def test_a_bad_seed_is_one_line_naming_the_flag() -> None:
    with pytest.raises(ConfigError, match="--seed"):
        read_choices({"seed": "-1"}, {}, cwd=Path("/"))
    with pytest.raises(ConfigError, match="REPLYGUARD_SEED"):
        read_choices({}, {"REPLYGUARD_SEED": "x"}, cwd=Path("/"))


def test_every_report_shows_the_seed_and_the_dropped_cases() -> None:
    report = make_report({"reply.y": "pass"})
    report["generated_cases"] = {"seed": 4242, "negatives_dropped": 3}
    assert "seed 4242, 3 generated negative cases dropped" in summary_line(report)
    assert "Seed 4242" in render_markdown(report)
    assert "seed 4242" in render_html(report)
