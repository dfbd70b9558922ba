"""Comparing a run with a baseline, and the gate's exit code with known deviations."""

from __future__ import annotations

import datetime as dt

from replyguard.exit_codes import ExitCode
from replyguard.gate import Deviation, apply_gate, compare
from replyguard.gate.baseline import DESELECTED
from tests.helpers.gate_reports import make_report

TODAY = dt.date(2026, 11, 21)


def _obs(zone: str, probe: str, answer: str) -> dict[str, object]:
    return {
        "zone": zone,
        "probe": probe,
        "answer": answer,
        "decision": "reject with 422",
        "agrees": answer.startswith("rejected"),
        "test": "t",
        "curl": "",
        "response": "",
    }


def test_every_kind_of_change_is_named() -> None:
    before = make_report(
        {
            "a.new": "pass",
            "a.fixed": "fail",
            "a.still": "fail",
            "a.stopped": "pass",
            "a.erred": "pass",
            "a.same": "pass",
            "a.now-tested": "not tested",
        }
    )
    after = make_report(
        {
            "a.new": "fail",
            "a.fixed": "pass",
            "a.still": "fail",
            "a.stopped": "not tested",
            "a.erred": "error",
            "a.same": "pass",
            "a.now-tested": "pass",
        }
    )
    changes = {c.rule: c.change for c in compare(before, after).rules}
    assert changes == {
        "a.new": "new failure",
        "a.fixed": "fixed",
        "a.still": "still failing",
        "a.stopped": "stopped testing",
        "a.erred": "stopped testing",
        "a.now-tested": "changed",
    }


def test_rules_left_out_on_purpose_are_not_compared() -> None:
    before = make_report({"a.x": "pass", "a.y": "fail"})
    after = make_report(
        {"a.x": "not tested", "a.y": "not tested"}, reasons={"a.x": DESELECTED, "a.y": DESELECTED}
    )
    comparison = compare(before, after)
    assert comparison.rules == []
    assert comparison.not_compared == ["a.x", "a.y"]


def test_observation_drift_only_for_probes_both_runs_sent() -> None:
    before = make_report(
        {"silent.types": "observed"},
        observations=[
            _obs("silent.types", '"123" for max_duration', "rejected (422)"),
            _obs("silent.types", "only before", "accepted (201)"),
        ],
    )
    after = make_report(
        {"silent.types": "observed"},
        observations=[
            _obs("silent.types", '"123" for max_duration', "accepted (201)"),
            _obs("silent.types", "only after", "accepted (201)"),
        ],
    )
    [change] = compare(before, after).observations
    assert (change.probe, change.before, change.after) == (
        '"123" for max_duration',
        "rejected (422)",
        "accepted (201)",
    )


def test_a_version_1_baseline_is_read() -> None:
    before = make_report({"a.x": "pass", "a.y": "fail"}, version=1)
    after = make_report(
        {"a.x": "fail", "a.y": "fail"}, observations=[_obs("silent.types", "p", "accepted (201)")]
    )
    comparison = compare(before, after)
    assert [c.change for c in comparison.rules] == ["new failure", "still failing"]
    assert comparison.observations == []


def test_a_new_failure_fails_the_gate_and_is_named() -> None:
    report = make_report({"a.x": "fail", "a.y": "pass"})
    result = apply_gate(
        report,
        baseline=make_report({"a.x": "pass", "a.y": "pass"}),
        baseline_label="prod.json",
        today=TODAY,
    )
    assert result.exit_code is ExitCode.FAILED
    assert "new failure: a.x (was pass)" in result.lines
    assert report["gate"]["result"] == "failed"
    assert report["gate"]["changes"]["rules"][0]["change"] == "new failure"


def test_a_baseline_never_silences_a_failure_that_is_not_new() -> None:
    result = apply_gate(
        make_report({"a.x": "fail"}), baseline=make_report({"a.x": "fail"}), today=TODAY
    )
    assert result.exit_code is ExitCode.FAILED
    assert "still failing: a.x" in result.lines


def test_a_rule_that_stopped_being_tested_fails_the_gate() -> None:
    result = apply_gate(
        make_report({"a.x": "not tested"}, reasons={"a.x": "budget spent"}),
        baseline=make_report({"a.x": "pass"}),
        today=TODAY,
    )
    assert result.exit_code is ExitCode.FAILED
    assert "stopped testing: a.x (pass -> not tested)" in result.lines


def test_drift_is_shown_and_fails_only_with_fail_on_drift() -> None:
    before = make_report(
        {"silent.types": "observed"}, observations=[_obs("silent.types", "p", "rejected (422)")]
    )
    after = make_report(
        {"silent.types": "observed"}, observations=[_obs("silent.types", "p", "accepted (201)")]
    )
    shown = apply_gate(dict(after), baseline=before, today=TODAY)
    assert shown.exit_code is ExitCode.OK
    assert any(line.startswith("observation changed: silent.types") for line in shown.lines)
    failed = apply_gate(dict(after), baseline=before, fail_on_drift=True, today=TODAY)
    assert failed.exit_code is ExitCode.FAILED
    assert "observations drifted" in failed.lines[-1]


def test_a_known_deviation_passes_the_gate_with_its_reason() -> None:
    dev = Deviation("a.x", "the backend keys by user", dt.date(2027, 3, 31), "https://t/1")
    report = make_report({"a.x": "fail", "a.y": "pass"})
    result = apply_gate(report, deviations=[dev], today=TODAY)
    assert result.exit_code is ExitCode.OK
    assert (
        "known deviation: a.x: the backend keys by user; until 2027-03-31; https://t/1"
        in result.lines
    )
    assert report["gate"]["deviations"][0]["status"] == "known"
    assert result.lines[-1] == "gate: OK (1 known deviation)"


def test_an_expired_deviation_fails_the_gate() -> None:
    dev = Deviation("a.x", "tracked upstream", dt.date(2026, 11, 20))
    result = apply_gate(make_report({"a.x": "fail"}), deviations=[dev], today=TODAY)
    assert result.exit_code is ExitCode.FAILED
    assert any(line.startswith("expired known deviation: a.x") for line in result.lines)


def test_a_fixed_deviation_says_remove_it() -> None:
    dev = Deviation("a.x", "tracked upstream")
    result = apply_gate(make_report({"a.x": "pass"}), deviations=[dev], today=TODAY)
    assert result.exit_code is ExitCode.OK
    assert any(line.startswith("fixed: remove it from the list: a.x") for line in result.lines)


def test_errors_alone_could_not_judge_and_failures_win() -> None:
    assert (
        apply_gate(make_report({"a.x": "error", "a.y": "pass"}), today=TODAY).exit_code
        is ExitCode.COULD_NOT_JUDGE
    )
    assert (
        apply_gate(make_report({"a.x": "error", "a.y": "fail"}), today=TODAY).exit_code
        is ExitCode.FAILED
    )
    known = [Deviation("a.y", "accepted")]
    assert (
        apply_gate(
            make_report({"a.x": "error", "a.y": "fail"}), deviations=known, today=TODAY
        ).exit_code
        is ExitCode.COULD_NOT_JUDGE
    )
