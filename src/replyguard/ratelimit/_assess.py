"""assess(): from the calls to the limiter's description and the ratelimit.* verdicts."""

from __future__ import annotations

from collections.abc import Sequence

from replyguard.ratelimit._calls import Call, Limits
from replyguard.ratelimit._results import NOT_TESTED, RULES, Assessment, Description, Judgement

__all__ = ["assess"]


def assess(calls: Sequence[Call], limits: Limits) -> Assessment:
    """The limiter's description and the verdict of every ``ratelimit.*`` rule."""
    verdicts = {r: Judgement(r, NOT_TESTED, "", "the model is not finished") for r in RULES}
    return Assessment(Description(), verdicts)
