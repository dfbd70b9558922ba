"""From test outcomes and observations to one verdict per rule of the catalogue.

Fail if a test showed a violation of the rule; else error if a test of it erred; else pass if
one passed; else not tested with the reason. The silent zones are observed (judged only with
``--strict``).
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from typing import TYPE_CHECKING

from replyguard.verdicts import Outcome, RuleVerdict

if TYPE_CHECKING:
    from replyguard.spec import Rule
    from replyguard.suite.observations import ObservationLog

__all__ = ["NO_TEST", "aggregate", "untested_reason"]


#: Why a rule no test covered (or reached) is not tested.
NO_TEST = "no test of this suite covers it"


def untested_reason(rule: Rule) -> str:
    """Why a rule no test covered is not tested."""
    text = str(rule.observable)
    if text.lower().startswith("no"):
        return f"not observable through the API ({text})"
    if rule.id.startswith("silent."):
        return "no probe of this zone was sent in this run"
    return NO_TEST


def aggregate(
    rule_ids: Iterable[str],
    outcomes: Iterable[Outcome],
    untested_reasons: Mapping[str, str],
    observations: ObservationLog | None = None,
    *,
    strict: bool = False,
) -> list[RuleVerdict]:
    """Fail if a test showed a violation of the rule; else error if a test of it erred; else
    pass if one passed; else not tested. Silent zones are observed (judged with ``strict``).

    A failed test whose violations name other rules is inconclusive for the rules it carries
    but did not name: it stopped before proving them.
    """
    verdicts = {rule: RuleVerdict(rule, "not tested") for rule in rule_ids}
    passed: dict[str, int] = {}
    skip_reasons: dict[str, list[str]] = {}
    for outcome in outcomes:
        named = {v["rule"] for v in outcome.violations}
        for rule in {*outcome.rules, *named}:
            verdict = verdicts.setdefault(rule, RuleVerdict(rule, "not tested"))
            verdict.tests.append(outcome.test)
            if outcome.status == "failed" and rule in named:
                verdict.verdict = "fail"
                verdict.failures.extend(v for v in outcome.violations if v["rule"] == rule)
            elif outcome.status == "error":
                verdict.errors.extend(outcome.errors)
            elif outcome.status == "passed":
                passed[rule] = passed.get(rule, 0) + 1
            elif outcome.status == "skipped":
                skip_reasons.setdefault(rule, []).append(outcome.reason)
            else:
                skip_reasons.setdefault(rule, []).append(
                    f"inconclusive: {outcome.test} stopped at another rule's failure"
                )
    for rule, verdict in verdicts.items():
        if verdict.verdict == "fail":
            continue
        if verdict.errors:
            verdict.verdict = "error"
            first = verdict.errors[0]
            verdict.reason = f"{first['test']}: {first['exception']}: {first['message']}"
        elif passed.get(rule):
            verdict.verdict = "pass"
        elif rule in skip_reasons:
            verdict.reason = "; ".join(dict.fromkeys(skip_reasons[rule]))
        else:
            verdict.reason = untested_reasons.get(rule, NO_TEST)
    if observations is not None:
        _judge_silent_zones(verdicts, observations, strict=strict)
    return list(verdicts.values())


def _judge_silent_zones(
    verdicts: dict[str, RuleVerdict], observations: ObservationLog, *, strict: bool
) -> None:
    for zone, items in observations.by_zone().items():
        verdict = verdicts.setdefault(zone, RuleVerdict(zone, "not tested"))
        if verdict.verdict in ("fail", "error"):
            continue
        verdict.tests = list(dict.fromkeys([*verdict.tests, *(o.test for o in items)]))
        disagreeing = [o for o in items if not o.agrees]
        if not strict:
            verdict.verdict = "observed"
            verdict.reason = "; ".join(dict.fromkeys(f"{o.probe}: {o.answer}" for o in items))
        elif disagreeing:
            verdict.verdict = "fail"
            verdict.failures = [
                {
                    "rule": zone,
                    "test": o.test,
                    "expected": f"(--strict, the contract's decision) {o.decision}",
                    "observed": f"{o.probe}: {o.answer}",
                    "curl": o.curl,
                    "response": o.response,
                }
                for o in disagreeing
            ]
        else:
            verdict.verdict = "pass"
            verdict.reason = ""
