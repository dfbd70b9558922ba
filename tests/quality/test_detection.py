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
from replyguard.selftest.runner import Case

pytestmark = [pytest.mark.quality, pytest.mark.integration]

# Two fault runs and two variant runs at a time (the default of `replyguard selftest`).
JOBS = 2
#: Judged as a billed target too (exhaustive = false, allow_writes = true, the default caps):
#: the two variants on the other side of every silent zone.
PAID_SAMPLE = ("laravel-lenient", "strict-json")


@pytest.fixture(scope="module")
def results() -> dict[str, CaseResult]:
    # The names come from the server's CLI, as in `replyguard selftest`.
    cases = build_cases(
        SelftestOptions(sample=True, mode="exhaustive"), registered("fault"), registered("variant")
    )
    cases += [Case(name, "variant", mode="paid") for name in PAID_SAMPLE]
    return {result.case.label: result for result in run_cases(cases, jobs=JOBS)}


@pytest.mark.timeout(600)
@pytest.mark.parametrize("fault", SAMPLE)
def test_fault_is_detected_by_an_expected_rule(results: dict[str, CaseResult], fault: str) -> None:
    result = results[fault]
    assert result.verdict == "detected", (
        f"{fault}: {result.verdict}; expected one of {result.case.expect}, "
        f"failing {result.failing or 'nothing'} {result.error or ''}"
    )


@pytest.mark.timeout(600)
@pytest.mark.parametrize("variant", [*VARIANTS, *(f"{name} (paid)" for name in PAID_SAMPLE)])
def test_correct_variant_passes_the_full_suite(
    results: dict[str, CaseResult], variant: str
) -> None:
    result = results[variant]
    assert result.verdict == "pass", (
        f"{variant}: {result.verdict}; failing {result.failing} {result.error or ''} "
        f"{result.evidence}"
    )
