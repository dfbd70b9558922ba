"""A violation seen on the wire is the result even when hypothesis calls its replay flaky."""

from __future__ import annotations

import itertools

import pytest
from hypothesis import Phase, given, settings
from hypothesis import strategies as st
from hypothesis.errors import Flaky, FlakyStrategyDefinition

from replyguard.suite.replays import SeenViolations
from replyguard.verdicts import Violation

QUICK = settings(
    max_examples=20, database=None, deadline=None, phases=(Phase.explicit, Phase.generate)
)


def _violation() -> Violation:
    return Violation("reply.persistence.same-identifier", "the same conversation", "a new one")


def test_a_replay_that_passes_reports_the_violation() -> None:
    seen = SeenViolations()
    calls = itertools.count()

    @QUICK
    @given(st.integers())
    def target_answers_differently_the_second_time(_: int) -> None:
        with seen.watch():
            if next(calls) == 0:
                raise _violation()

    with pytest.raises(Violation) as raised, seen.run():
        target_answers_differently_the_second_time()
    assert raised.value.rule == "reply.persistence.same-identifier"
    assert isinstance(raised.value.__cause__, Flaky)


def test_a_replay_that_draws_differently_reports_the_violation() -> None:
    # Like schemathesis' link coin: the first run draws once more than its replay.
    seen = SeenViolations()
    calls = itertools.count()

    @QUICK
    @given(st.data())
    def generation_depends_on_outside_state(data: st.DataObject) -> None:
        first = next(calls) == 0
        data.draw(st.integers(0, 10))
        if first:
            data.draw(st.booleans())
            with seen.watch():
                raise _violation()

    with pytest.raises(Violation) as raised, seen.run():
        generation_depends_on_outside_state()
    assert isinstance(raised.value.__cause__, Flaky)


def test_flaky_without_a_seen_violation_stays_an_error() -> None:
    seen = SeenViolations()
    with pytest.raises(FlakyStrategyDefinition), seen.run():
        raise FlakyStrategyDefinition("Inconsistent data generation!")


def test_a_plain_violation_passes_through() -> None:
    seen = SeenViolations()
    with pytest.raises(Violation), seen.run(), seen.watch():
        raise _violation()
    assert seen.first is not None
