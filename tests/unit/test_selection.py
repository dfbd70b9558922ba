"""Nothing is green on nothing, and errors show before spending (issue 20)."""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pytest

from replyguard.spec import load_rules
from replyguard.suite.selection import (
    SelectionError,
    SelectionWatch,
    check_outputs,
    check_rule_globs,
    nothing_tested,
)

RULES = load_rules()


def test_a_misspelt_rule_id_names_the_closest_ids() -> None:
    with pytest.raises(SelectionError, match=r"'ratelimit.limt'.*closest: ratelimit.limit"):
        check_rule_globs(["ratelimit.*", "ratelimit.limt"], RULES)


def test_a_glob_that_matches_nothing_is_refused() -> None:
    with pytest.raises(SelectionError, match="nosuch"):
        check_rule_globs(["nosuch.*"], RULES)
    check_rule_globs(["ratelimit.*", "reply.types"], RULES)  # both match: no error


@pytest.mark.parametrize("case", ["folder", "under-a-file", "missing-root"])
def test_an_output_that_cannot_be_written_is_refused(tmp_path: Path, case: str) -> None:
    (tmp_path / "file").write_text("x")
    path = {
        "folder": tmp_path,
        "under-a-file": tmp_path / "file" / "r.json",
        "missing-root": Path("/proc/nope/r.json"),
    }[case]
    with pytest.raises(SelectionError, match=r"^--report-json "):
        check_outputs({"--report-json": path, "--junit-xml": None})


def test_a_writable_output_leaves_no_trace(tmp_path: Path) -> None:
    check_outputs({"--report-md": tmp_path / "new" / "r.md"})
    assert list((tmp_path / "new").iterdir()) == []


def _report(**verdicts: str) -> dict[str, Any]:
    return {
        "rules": [
            {
                "rule": rule.replace("_", "."),
                "verdict": v,
                "reason": "budget spent",
                "selected": True,
            }
            for rule, v in verdicts.items()
        ]
    }


def test_a_run_that_judged_no_selected_observable_rule_tested_nothing() -> None:
    report = _report(ratelimit_limit="not tested", ratelimit_body="not tested")
    line = nothing_tested(report, RULES)
    assert line is not None
    assert line.startswith("nothing was tested: ")
    assert "budget spent" in line


def test_one_judged_rule_is_enough() -> None:
    assert (
        nothing_tested(_report(ratelimit_limit="pass", ratelimit_body="not tested"), RULES) is None
    )
    assert nothing_tested(_report(ratelimit_limit="fail"), RULES) is None


def test_unselected_and_unobservable_rules_do_not_count() -> None:
    unobservable = next(r for r in RULES.values() if r.observability == "no")
    report = _report(ratelimit_limit="not tested")
    report["rules"] += [
        {"rule": "reply.types", "verdict": "pass", "reason": "", "selected": False},
        {"rule": unobservable.id, "verdict": "not tested", "reason": "", "selected": True},
    ]
    assert nothing_tested(report, RULES) is not None


def test_a_keyword_that_selects_nothing_names_the_closest_tests() -> None:
    watch = SelectionWatch()
    watch.names = {"test_refusal_is_429", "test_reply_body_is_as_documented"}
    watch.selected = 0
    line = watch.keyword_problem("test_refusal_is_492")
    assert line is not None
    assert "closest: test_refusal_is_429" in line
    watch.selected = 3
    assert watch.keyword_problem("test_refusal_is_492") is None


def test_a_run_stopped_by_the_breaker_or_the_time_limit_is_not_a_ctrl_c() -> None:
    # pytest stops a session with ``shouldstop`` by raising Session.Interrupted, a
    # KeyboardInterrupt: that is replyguard's own stop (exit 2, its reason), not the user's.
    watch = SelectionWatch()
    with pytest.raises(KeyboardInterrupt) as stop:
        raise pytest.Session.Interrupted("the target is unreliable: …")
    watch.pytest_keyboard_interrupt(stop)
    assert not watch.interrupted
    with pytest.raises(KeyboardInterrupt) as ctrl_c:
        raise KeyboardInterrupt
    watch.pytest_keyboard_interrupt(ctrl_c)
    assert watch.interrupted
