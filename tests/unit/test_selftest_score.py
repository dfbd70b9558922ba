"""The selftest's verdicts, score, table and exit status (no servers)."""

from __future__ import annotations

import pytest
from click.testing import CliRunner
from rich.console import Console

from replyguard import selftest
from replyguard.cli import main
from replyguard.selftest import (
    EXPECTATIONS,
    SAMPLE,
    Case,
    CaseResult,
    SelftestOptions,
    build_cases,
    exit_code,
    print_score,
    score_of,
    score_report,
)

FAULT = Case("ratelimit.limit-plus-one", "fault", ("ratelimit.limit",), ("ratelimit.*",))
VARIANT = Case("sliding-window", "variant")


def test_fault_verdicts() -> None:
    assert CaseResult(FAULT, ("ratelimit.limit",), 1.0).verdict == "detected"
    assert CaseResult(FAULT, ("ratelimit.body", "ratelimit.limit"), 1.0).detected_by == (
        "ratelimit.limit",
    )
    assert CaseResult(FAULT, ("ratelimit.body",), 1.0).verdict == "wrong rule"
    assert CaseResult(FAULT, (), 1.0).verdict == "missed"
    assert CaseResult(FAULT, ("ratelimit.limit",), 1.0, error="boom").verdict == "error"


def test_expectations_are_globs() -> None:
    case = Case("x", "fault", ("reply.persistence.*",))
    assert CaseResult(case, ("reply.persistence.per-assistant",), 1.0).verdict == "detected"


def test_variant_verdicts() -> None:
    assert CaseResult(VARIANT, (), 1.0).verdict == "pass"
    assert CaseResult(VARIANT, ("ratelimit.limit",), 1.0).verdict == "false alarm"
    assert CaseResult(VARIANT, (), 1.0, error="no server").verdict == "error"


@pytest.mark.parametrize(
    ("results", "code"),
    [
        ([CaseResult(FAULT, ("ratelimit.limit",), 1), CaseResult(VARIANT, (), 1)], 0),
        ([CaseResult(FAULT, ("ratelimit.body",), 1), CaseResult(VARIANT, (), 1)], 1),
        ([CaseResult(FAULT, (), 1)], 1),
        ([CaseResult(FAULT, ("ratelimit.limit",), 1), CaseResult(VARIANT, ("auth.x",), 1)], 1),
        ([CaseResult(VARIANT, (), 1, error="boom")], 1),
        ([], 1),
    ],
)
def test_exit_code(results: list[CaseResult], code: int) -> None:
    assert exit_code(results) == code


def test_score_and_table() -> None:
    results = [
        CaseResult(FAULT, ("ratelimit.limit", "ratelimit.body"), 2.0),
        CaseResult(Case("reply.x", "fault", ("reply.types",)), ("auth.x",), 1.0),
        CaseResult(Case("reply.y", "fault", ("reply.types",)), (), 1.0),
        CaseResult(VARIANT, ("ratelimit.limit",), 3.0),
    ]
    score = score_of(results, 7.5)
    assert (score.faults, score.detected, score.wrong_rule, score.missed) == (3, 1, 1, 1)
    assert (score.variants, score.false_alarms, score.errors) == (1, 1, 0)
    assert score.detection_rate == pytest.approx(1 / 3)
    console = Console(record=True, width=200)
    print_score(results, score, console)
    text = console.export_text()
    assert "detection rate: 1/3 (33%)" in text
    assert "false alarms: 1/1 variants" in text
    assert "ratelimit.limit (also ratelimit.body)" in text
    for verdict in ("detected", "wrong rule", "missed", "false alarm"):
        assert verdict in text
    report = score_report(results, score, jobs=2)
    assert report["summary"]["detected"] == 1
    assert report["cases"][0]["detected_by"] == ["ratelimit.limit"]
    assert report["cases"][3]["rules_run"] == ["*"]


def test_build_cases() -> None:
    faults = list(EXPECTATIONS)
    variants = ["sliding-window", "extra-fields"]
    everything = build_cases(SelftestOptions(), faults, variants)
    # Faults once (exhaustive); every variant in both modes.
    assert len(everything) == len(faults) + 2 * 2
    assert {c.mode for c in everything if c.kind == "variant"} == {"exhaustive", "paid"}
    paid = build_cases(SelftestOptions(mode="paid"), faults, variants)
    assert {c.mode for c in paid} == {"paid"}
    assert all(c.rules for c in everything if c.kind == "fault")
    assert all(not c.rules for c in everything if c.kind == "variant")  # the full suite
    only = build_cases(SelftestOptions(faults="ratelimit.*"), faults, variants)
    assert only
    assert all(c.name.startswith("ratelimit.") and c.limit == 5 for c in only)
    assert [
        c.name for c in build_cases(SelftestOptions(variants="sliding-*"), faults, variants)
    ] == ["sliding-window"] * 2
    sample = build_cases(SelftestOptions(sample=True), faults, variants)
    assert {c.name for c in sample if c.kind == "fault"} == set(SAMPLE)
    assert {c.name for c in sample if c.kind == "variant"} == set(variants)


def test_cli_selftest_builds_options(monkeypatch: pytest.MonkeyPatch) -> None:
    seen: list[SelftestOptions] = []

    def fake(options: SelftestOptions) -> int:
        seen.append(options)
        return 1

    monkeypatch.setattr(selftest, "run_selftest", fake)
    result = CliRunner().invoke(
        main, ["selftest", "--faults", "reply.*", "--jobs", "3"], catch_exceptions=False
    )
    assert result.exit_code == 1
    assert seen[0].faults == "reply.*"
    assert seen[0].jobs == 3
    assert seen[0].variants is None
    result = CliRunner().invoke(main, ["selftest", "--jobs", "0"])
    assert result.exit_code == 2
