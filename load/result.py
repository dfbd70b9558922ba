"""The load verdict's one word: PASS, FAIL or INCONCLUSIVE, its exit code and its advice.

The judge (``load/judge.py``) counts "inconclusive: …" kinds beside the violations: a run that
could not judge (one user, so a token was never throttled) is not a broken API. It ends
``INCONCLUSIVE`` (headless exit 2) with what to change, never ``FAIL``.
"""

from __future__ import annotations

from typing import Literal

from load.judge import NOT_OVERLOADED, Verdict
from replyguard.exit_codes import ExitCode
from replyguard.spec import load_rules

__all__ = [
    "INCONCLUSIVE",
    "Result",
    "advice",
    "exit_code",
    "is_inconclusive",
    "result_of",
    "violation_detail",
    "violations",
]

Result = Literal["PASS", "FAIL", "INCONCLUSIVE"]
INCONCLUSIVE: Result = "INCONCLUSIVE"
#: Users per token the README's default run uses (-u 20 over two tokens).
SUGGESTED_USERS = 20


def is_inconclusive(kind: str) -> bool:
    """Is this judge kind a reason the run could not judge (not a violation)?"""
    return kind == NOT_OVERLOADED


def violations(verdict: Verdict) -> dict[str, int]:
    """The verdict's real violations: its counts without the inconclusive kinds."""
    return {k: n for k, n in verdict.counts.items() if not is_inconclusive(k)}


def violation_detail(kind: str, example: str) -> str:
    """What a violation row says: the catalogue's words for a documented rule, then what the
    run saw (the id alone means nothing to a QA engineer); a ``load.*`` check, its example."""
    rule = load_rules().get(kind)
    return f"documented: {rule.rule} Seen: {example}" if rule else example


def result_of(verdict: Verdict) -> Result:
    """PASS when nothing failed; FAIL on a violation; else INCONCLUSIVE."""
    if violations(verdict):
        return "FAIL"
    return "PASS" if verdict.passed else INCONCLUSIVE


def exit_code(verdict: Verdict) -> ExitCode:
    """Headless exit: 0 PASS, 1 FAIL, 2 INCONCLUSIVE (could not judge)."""
    return {
        "PASS": ExitCode.OK,
        "FAIL": ExitCode.FAILED,
        INCONCLUSIVE: ExitCode.COULD_NOT_JUDGE,
    }[result_of(verdict)]


def advice(users: int | None, tokens: int, window: float) -> str:
    """What to change so that the next run can judge."""
    tokens = max(tokens, 1)
    least = 2 * tokens
    longer = f"for at least two windows (-t {2 * window + 10:g}s or more)"
    ran = (
        f"this run: {users} user{'s' * (users != 1)} on {tokens} token{'s' * (tokens != 1)}"
        if users is not None
        else ""
    )
    if users is not None and users >= least:
        return (
            f"to judge, run longer, {longer}, and check that the target answers in time "
            f"({ran}: enough users)"
        )
    return (
        f"to judge, run at least 2 users per token (-u {least} or more; "
        f"{ran + '; ' if ran else ''}the README suggests -u {SUGGESTED_USERS}) {longer}"
    )
