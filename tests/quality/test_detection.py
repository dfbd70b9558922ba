"""Quality: the contract suite catches a broken server and leaves a correct one alone.

Like hypothesis's ``quality/`` tests: the fixed CI sample of faults (one or more per area: rate
limit, generate-reply, create-assistant ranges, engine-mode rules, error shapes, 500s, auth)
must each be detected by an expected rule, and every correct variant must pass the full suite
with no failing rule. All cases run once, in parallel, in a module fixture; each test then
reads one case's result. ``replyguard selftest`` runs the same machinery over every fault.
"""

from __future__ import annotations

import pytest

from replyguard.reference.variants import VARIANTS
from replyguard.selftest import (
    SAMPLE,
    CaseResult,
    SelftestOptions,
    build_cases,
    registered,
    run_cases,
)

pytestmark = [pytest.mark.quality, pytest.mark.integration]

# Two fault runs and two variant runs at a time (the default of `replyguard selftest`).
JOBS = 2


@pytest.fixture(scope="module")
def results() -> dict[str, CaseResult]:
    # The names come from the server's CLI, as in `replyguard selftest`.
    cases = build_cases(SelftestOptions(sample=True), registered("fault"),
                        registered("variant"))
    return {result.case.name: result for result in run_cases(cases, jobs=JOBS)}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("fault", SAMPLE)
def test_fault_is_detected_by_an_expected_rule(results: dict[str, CaseResult],
                                               fault: str) -> None:
    result = results[fault]
    assert result.verdict == "detected", (
        f"{fault}: {result.verdict}; expected one of {result.case.expect}, "
        f"failing {result.failing or 'nothing'} {result.error or ''}")


@pytest.mark.timeout(600)
@pytest.mark.parametrize("variant", list(VARIANTS))
def test_correct_variant_passes_the_full_suite(results: dict[str, CaseResult],
                                               variant: str) -> None:
    result = results[variant]
    assert result.verdict == "pass", (
        f"{variant}: {result.verdict}; failing {result.failing} {result.error or ''}")
