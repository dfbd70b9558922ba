"""Schemathesis, driven by the contract narrowed to the target: positive and negative data.

Each generated case goes through the suite's paced, budgeted session (schemathesis's own
429 handling exists only in its CLI), and each schemathesis check maps to one rule, so a
failure names the rule and carries a masked curl.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, given, reject, seed, settings
from schemathesis import GenerationMode

from replyguard.profile import Target
from replyguard.testing import (
    NEGATIVE_RULES,
    NO_BODY,
    POSITIVE_RULES,
    ApiSession,
    InputSpace,
    RunConfig,
    judge_case,
    plain_spelling,
)

# Examples per run: exhaustive against the free reference, a handful against a paid target.
EXAMPLES = {
    ("create_assistant", "positive"): (120, 10),
    ("create_assistant", "negative"): (120, 15),
    ("generate_reply", "positive"): (25, 2),
    ("generate_reply", "negative"): (25, 3),
}


def _operation(st_schema: Any, target: Target, operation: str) -> Any:
    return st_schema[getattr(target.paths, operation)]["POST"]


def _case_cost_allowed(target: Target, operation: str, mode: str) -> str | None:
    if operation == "create_assistant" and mode == "positive" and not target.safety.allow_writes:
        return "valid create-assistant payloads would create assistants (safety.allow_writes)"
    return None


@pytest.mark.parametrize("operation", ["create_assistant", "generate_reply"])
@pytest.mark.parametrize(
    ("mode", "rules"),
    [
        pytest.param("positive", POSITIVE_RULES, marks=pytest.mark.rule(*POSITIVE_RULES)),
        pytest.param("negative", NEGATIVE_RULES, marks=pytest.mark.rule(*NEGATIVE_RULES)),
    ],
)
def test_generated_data(
    api: ApiSession,
    target: Target,
    run_config: RunConfig,
    st_schema: Any,
    operation: str,
    mode: str,
    rules: tuple[str, ...],
) -> None:
    reason = _case_cost_allowed(target, operation, mode)
    if reason:
        pytest.skip(reason)
    exhaustive = target.safety.exhaustive
    examples = EXAMPLES[(operation, mode)][0 if exhaustive else 1]
    if not exhaustive:
        billable = operation == "generate_reply" and mode == "positive"
        examples = int(min(examples, api.budget.remaining(operation, billable=billable)))
        if examples <= 0:
            pytest.skip(f"the request budget for {operation} is spent")
    generation = GenerationMode.POSITIVE if mode == "positive" else GenerationMode.NEGATIVE
    strategy = _operation(st_schema, target, operation).as_strategy(generation_mode=generation)

    # A paid target gets no shrinking: each shrink step would be another request.
    phases = (
        (Phase.explicit, Phase.generate, Phase.shrink)
        if exhaustive
        else (Phase.explicit, Phase.generate)
    )

    # The run's seed (in the report; --seed N replays these cases exactly).
    @seed(run_config.seed)
    @settings(
        max_examples=examples,
        phases=phases,
        deadline=None,
        database=None,
        suppress_health_check=list(HealthCheck),
    )
    @given(case=strategy)
    def run(case: Any) -> None:
        # Schemathesis rewrites if/then into anyOf, and its negation of those is approximate:
        # a "negative" case can be valid, and either kind can land in a silent zone (20.0 for
        # an integer, "" for an optional URL, an IRI, an unknown key). Judge each case by the
        # contract itself and send only documented-valid positives and documented-invalid
        # negatives, so a correct server is never blamed for what the documents leave open.
        if case.body is not None and not _is_unset(case.body):
            if wanted == "valid" and not space.is_valid(case.body):
                # 227.0 for an integer or a padded name: respell it rather than drop it.
                case.body = plain_spelling(case.body)
            if space.region(case.body) != wanted:
                # Re-judged by the generators' own classifier before it can fail a rule: a
                # negative case that is valid or in a silent zone is dropped, and counted.
                if wanted == "invalid":
                    api.negatives_dropped += 1
                reject()
        body = case.body if case.body is not None and not _is_unset(case.body) else NO_BODY
        if isinstance(body, bytes | str):
            # Schemathesis sends some negative bodies raw (not JSON-encoded).
            raw = body.encode() if isinstance(body, str) else body
            exchange = api.send(operation, content=raw)
        else:
            exchange = api.send(operation, body)
        judge_case(case, exchange, rules)

    space = InputSpace(target, operation)
    wanted = "valid" if mode == "positive" else "invalid"
    run()


def _is_unset(value: Any) -> bool:
    return type(value).__name__ == "NotSet"
