"""The API the contract suite is written against: all that ``contract_tests/`` and a user's own
tests import from replyguard's machinery (besides the public records of ``replyguard.profile``,
``replyguard.spec`` and ``replyguard.strategies``).

A test is marked with the rules it proves (``@pytest.mark.rule("<id>")``), sends through the
``api`` fixture (an :class:`ApiSession`), judges with :func:`expect` and friends (only a
:class:`Violation` makes a failure) and records what it sees where the documents are silent
through the ``observations`` fixture (an :class:`ObservationLog`). The fixtures ``target``,
``api``, ``observations``, ``run_config`` and ``st_schema`` come from the engine's plugin.
Everything else under ``replyguard.suite`` and ``replyguard.engine`` may change without notice.
"""

from replyguard.config import RunConfig
from replyguard.exchange import Exchange
from replyguard.ratelimit import FAIL, PASS, Limits, retry_after_in_range, retry_after_range_text
from replyguard.suite.calls import CallRecord, is_reply
from replyguard.suite.checks import CHECKS, NEGATIVE_RULES, POSITIVE_RULES, judge_case
from replyguard.suite.expect import (
    expect,
    expect_error_code,
    expect_status,
    expect_validation_error,
    short,
)
from replyguard.suite.latency import unjudgeable_window
from replyguard.suite.limiter import assess_run
from replyguard.suite.observations import Observation, ObservationLog
from replyguard.suite.polls import SLACK, most_polls, poll_times
from replyguard.suite.replays import SeenViolations
from replyguard.suite.schemas import InputSpace, plain_spelling
from replyguard.suite.session import (
    ANY_ACCOUNT_TOKEN,
    NO_BODY,
    ApiSession,
    TargetUnreachable,
    retry_after_of,
)
from replyguard.suite.unicode_mix import COMBINING, EMOJI, RTL
from replyguard.verdicts import Violation

__all__ = [
    "ANY_ACCOUNT_TOKEN",
    "CHECKS",
    "COMBINING",
    "EMOJI",
    "FAIL",
    "NEGATIVE_RULES",
    "NO_BODY",
    "PASS",
    "POSITIVE_RULES",
    "RTL",
    "SLACK",
    "ApiSession",
    "CallRecord",
    "Exchange",
    "InputSpace",
    "Limits",
    "Observation",
    "ObservationLog",
    "RunConfig",
    "SeenViolations",
    "TargetUnreachable",
    "Violation",
    "assess_run",
    "expect",
    "expect_error_code",
    "expect_status",
    "expect_validation_error",
    "is_reply",
    "judge_case",
    "most_polls",
    "plain_spelling",
    "poll_times",
    "retry_after_in_range",
    "retry_after_of",
    "retry_after_range_text",
    "short",
    "unjudgeable_window",
]
