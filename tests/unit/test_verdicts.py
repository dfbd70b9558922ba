"""Outcomes to verdicts: fail beats pass, skips say why, nothing untested passes."""

from __future__ import annotations

from replyguard.engine.judge import aggregate
from replyguard.verdicts import Outcome, Violation, iter_violations


def _v(rule: str) -> dict:
    return {"rule": rule, "test": "t", "expected": "x", "observed": "y", "curl": ""}


def test_fail_wins_over_pass() -> None:
    verdicts = {
        v.rule: v
        for v in aggregate(
            ["a"],
            [Outcome("t1", ("a",), "passed"), Outcome("t2", ("a",), "failed", "boom", [_v("a")])],
            {},
        )
    }
    assert verdicts["a"].verdict == "fail"
    assert verdicts["a"].failures[0]["observed"] == "y"


def test_untested_rules_are_never_passed() -> None:
    verdicts = {
        v.rule: v
        for v in aggregate(
            ["a", "b", "c"], [Outcome("t1", ("a",), "skipped", "no token")], {"c": "not observable"}
        )
    }
    assert verdicts["a"].verdict == "not tested"
    assert verdicts["a"].reason == "no token"
    assert verdicts["b"].verdict == "not tested"
    assert verdicts["c"].reason == "not observable"


def test_a_failure_naming_another_rule_is_inconclusive_for_the_rest() -> None:
    verdicts = {
        v.rule: v
        for v in aggregate(["a", "b"], [Outcome("t", ("a", "b"), "failed", "x", [_v("b")])], {})
    }
    assert verdicts["b"].verdict == "fail"
    assert verdicts["a"].verdict == "not tested"
    assert "inconclusive" in verdicts["a"].reason


def test_violations_are_found_inside_exception_groups() -> None:
    group = ExceptionGroup(
        "two",
        [
            Violation("a", "e", "o"),
            ValueError("x"),
            ExceptionGroup("inner", [Violation("b", "e", "o")]),
        ],
    )
    assert [v.rule for v in iter_violations(group)] == ["a", "b"]
