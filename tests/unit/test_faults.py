"""The fault registry and the selftest's expectations agree with each other and the catalogue."""

from __future__ import annotations

import sqlite3

import pytest
from click.testing import CliRunner

from replyguard.cli import main
from replyguard.reference.behaviour import FAITHFUL
from replyguard.reference.faults import FAULTS
from replyguard.reference.ratelimit import SlidingLogLimiter, make_limiter
from replyguard.reference.registry import UnknownBehaviour, behaviour_for, fault_lines
from replyguard.reference.store import SCHEMA
from replyguard.reference.variants import VARIANTS
from replyguard.selftest import EXPECTATIONS, SAMPLE, registry_problems
from replyguard.selftest.expectations import AREA_RUNS, matches
from replyguard.spec import load_rules

# The names the load suite (load/) uses: they must exist exactly so.
LOAD_SUITE_FAULTS = (
    "ratelimit.none",
    "ratelimit.limit-plus-one",
    "ratelimit.shared-per-account",
    "ratelimit.retry-after-too-short",
    "ratelimit.retry-after-too-long",
)
REQUIRED_VARIANTS = ("sliding-window", "extra-fields", "autocalls-paths")


def test_at_least_forty_faults_each_described_in_one_line() -> None:
    assert len(FAULTS) >= 40
    for name, fault in FAULTS.items():
        assert fault.name == name
        assert fault.description.strip(), name
        assert "\n" not in fault.description, name
        assert " " not in name, name


def test_every_fault_changes_the_behaviour() -> None:
    for name, fault in FAULTS.items():
        assert fault.behaviour != FAITHFUL, name
    behaviours = [fault.behaviour for fault in FAULTS.values()]
    assert len(set(map(id, behaviours))) == len(behaviours)


def test_load_suite_fault_names_exist() -> None:
    assert set(LOAD_SUITE_FAULTS) <= set(FAULTS)


def test_variants_are_described() -> None:
    assert set(REQUIRED_VARIANTS) <= set(VARIANTS)
    for name, variant in VARIANTS.items():
        assert variant.name == name
        assert variant.description.strip()
        assert "\n" not in variant.description
    assert not set(VARIANTS) & set(FAULTS)


def test_every_fault_has_an_expectation_and_vice_versa() -> None:
    assert set(EXPECTATIONS) == set(FAULTS)
    assert registry_problems(list(FAULTS)) == []


def test_registry_problems_name_both_directions() -> None:
    problems = registry_problems([*list(FAULTS)[1:], "ratelimit.brand-new"])
    assert any("ratelimit.brand-new" in p and "no expectation" in p for p in problems)
    assert any(next(iter(FAULTS)) in p and "names no fault" in p for p in problems)


def test_expectations_name_real_rules() -> None:
    rules = load_rules()
    for name, expectation in EXPECTATIONS.items():
        assert expectation.expect, name
        for glob in expectation.expect:
            assert any(matches(rule, [glob]) for rule in rules), (name, glob)
        for glob in expectation.run:
            assert any(matches(rule, [glob]) for rule in rules), (name, glob)


def test_expected_rules_are_inside_the_run() -> None:
    # A fault can only be detected by a rule its run actually tests.
    rules = load_rules()
    for name, expectation in EXPECTATIONS.items():
        runnable = [r for r in rules if matches(r, expectation.run)]
        assert any(matches(r, expectation.expect) for r in runnable), name


def test_area_runs_cover_every_fault_family() -> None:
    assert {name.split(".", 1)[0] for name in FAULTS} <= set(AREA_RUNS)


def test_sample_is_registered_and_covers_every_area() -> None:
    assert set(SAMPLE) <= set(EXPECTATIONS)
    assert 8 <= len(SAMPLE) <= 12
    assert {name.split(".", 1)[0] for name in SAMPLE} >= {"ratelimit", "reply", "assistant"}
    assert any("500" in name for name in SAMPLE)
    assert any(name.startswith("assistant.realtime") for name in SAMPLE)  # mode rules
    assert any("errors" in name for name in SAMPLE)  # error shapes


def test_behaviour_for_names() -> None:
    assert behaviour_for() is FAITHFUL
    assert behaviour_for("ratelimit.none") is FAULTS["ratelimit.none"].behaviour
    assert behaviour_for(variant="autocalls-paths").brand == "autocalls"
    with pytest.raises(UnknownBehaviour, match="unknown fault"):
        behaviour_for("ratelimit.nope")
    with pytest.raises(UnknownBehaviour, match="unknown variant"):
        behaviour_for(variant="nope")
    with pytest.raises(UnknownBehaviour, match="not both"):
        behaviour_for("ratelimit.none", "sliding-window")


def test_cli_flags(monkeypatch: pytest.MonkeyPatch) -> None:
    served = []
    monkeypatch.setattr("replyguard.reference.server.serve", served.append)
    runner = CliRunner()
    assert runner.invoke(main, ["serve", "--fault", "ratelimit.none"]).exit_code == 0
    assert runner.invoke(main, ["serve", "--variant", "sliding-window"]).exit_code == 0
    assert [c.fault for c in served] == ["ratelimit.none", None]
    assert served[1].variant == "sliding-window"
    unknown = runner.invoke(main, ["serve", "--fault", "ratelimit.nope"])
    assert unknown.exit_code == 2
    assert unknown.output.count("\n") == 1
    assert "unknown fault 'ratelimit.nope'" in unknown.output
    listed = runner.invoke(main, ["serve", "--list-faults"])
    assert listed.exit_code == 0
    out = listed.output.splitlines()
    assert out == fault_lines()
    assert [line.split()[0] for line in out] == list(FAULTS)


def test_sliding_log_limiter() -> None:
    conn = sqlite3.connect(":memory:", isolation_level=None)
    conn.executescript(SCHEMA)
    limiter = make_limiter("sliding", 2, 10)
    assert isinstance(limiter, SlidingLogLimiter)
    assert limiter.hit(conn, "k", 100.0).allowed
    assert limiter.hit(conn, "k", 104.0).allowed
    refused = limiter.hit(conn, "k", 105.5)
    assert not refused.allowed
    assert refused.retry_after == 5  # ceil(100 + 10 - 105.5): when the oldest hit leaves
    # A fixed window starting at 100 would allow again at 110 twice; the sliding log only once.
    assert limiter.hit(conn, "k", 110.0).allowed
    assert not limiter.hit(conn, "k", 110.5).allowed
    assert limiter.hit(conn, "k", 114.0).allowed
