"""The detection score: the contract suite against every fault and correct variant of the
reference server (``replyguard selftest``)."""

from __future__ import annotations

from replyguard.selftest.expectations import EXPECTATIONS, SAMPLE, Expectation, matches
from replyguard.selftest.runner import Case, CaseResult, registered, run_case, run_cases
from replyguard.selftest.score import (
    Score,
    SelftestOptions,
    build_cases,
    exit_code,
    print_score,
    registry_problems,
    run_selftest,
    score_of,
    score_report,
)

__all__ = [
    "EXPECTATIONS",
    "SAMPLE",
    "Case",
    "CaseResult",
    "Expectation",
    "Score",
    "SelftestOptions",
    "build_cases",
    "exit_code",
    "matches",
    "print_score",
    "registered",
    "registry_problems",
    "run_case",
    "run_cases",
    "run_selftest",
    "score_of",
    "score_report",
]
