"""A stateful run over the contract's links: conversations must persist across the sequence.

Schemathesis builds a state machine from the spec's ``SameConversation`` link (a follow-up
generate-reply with the same assistant and the echoed identifier). Every 200 is entered in a
ledger keyed by (assistant_id, customer_identifier): one key must always map to one
conversation, and two keys never share one.
"""

from __future__ import annotations

from typing import Any

import pytest
from hypothesis import HealthCheck, Phase, reject, seed, settings
from schemathesis import Response

from replyguard.profile import Target
from replyguard.testing import (
    NEGATIVE_RULES,
    NO_BODY,
    POSITIVE_RULES,
    ApiSession,
    InputSpace,
    RunConfig,
    SeenViolations,
    expect,
    judge_case,
    plain_spelling,
)

PERSISTENCE = (
    "reply.persistence.same-identifier",
    "reply.persistence.new-identifier",
    "reply.persistence.per-assistant",
)


@pytest.mark.rule(*PERSISTENCE, *POSITIVE_RULES)
def test_conversations_persist_across_linked_calls(
    api: ApiSession, target: Target, st_schema: Any, run_config: RunConfig
) -> None:
    if not target.safety.exhaustive:
        pytest.skip("a stateful run spends many paid replies (safety.exhaustive)")
    spaces = {op: InputSpace(target, op) for op in ("generate_reply", "create_assistant")}
    operations = {
        target.paths.generate_reply: "generate_reply",
        target.paths.create_assistant: "create_assistant",
    }
    base = st_schema.as_state_machine()
    seen = SeenViolations()

    class PacedMachine(base):  # type: ignore[misc, valid-type]
        """Sends through the suite's session and judges each answer by rule."""

        def setup(self) -> None:
            self.ledger: dict[tuple[Any, Any], Any] = {}
            self.exchange: Any = None

        def call(self, case: Any, **kwargs: Any) -> Response:
            operation = operations[case.operation.path]
            body = case.body if isinstance(case.body, dict) else NO_BODY
            positive = case.meta is None or case.meta.generation.mode.is_positive
            if body is not NO_BODY:
                # As in test_schemathesis: only documented-valid positives and
                # documented-invalid negatives; silent-zone cases are dropped.
                wanted = "valid" if positive else "invalid"
                if positive and not spaces[operation].is_valid(body):
                    # An assume here throws away the whole sequence: respell, then judge.
                    body = case.body = plain_spelling(body)
                if spaces[operation].region(body) != wanted:
                    if not positive:
                        api.negatives_dropped += 1
                    reject()
            # Each call on whichever account token has room ("any"): conversations persist by
            # assistant_id + customer_identifier, not by token, and a pool spreads the calls.
            self.exchange = api.send(operation, body)
            return Response.from_any(self.exchange.response)

        def validate_response(self, response: Any, case: Any, *args: Any, **kwargs: Any) -> None:
            positive = case.meta is None or case.meta.generation.mode.is_positive
            with seen.watch():
                judge_case(case, self.exchange, POSITIVE_RULES if positive else NEGATIVE_RULES)
                if (
                    operations[case.operation.path] == "generate_reply"
                    and response.status_code == 200
                ):
                    self.record(case.body, self.exchange)

        def record(self, body: dict[str, Any], exchange: Any) -> None:
            key = (body["assistant_id"], body["customer_identifier"])
            conversation = (exchange.json() or {}).get("conversation_id")
            known = self.ledger.get(key)
            expect(
                "reply.persistence.same-identifier",
                known in (None, conversation),
                f"conversation {known!r} again for {key!r}",
                f"{conversation!r}",
                exchange,
            )
            others = {k for k, c in self.ledger.items() if c == conversation and k != key}
            rule_id = (
                "reply.persistence.per-assistant"
                if any(k[1] == key[1] for k in others)
                else "reply.persistence.new-identifier"
            )
            expect(
                rule_id,
                not others,
                f"a conversation of its own for {key!r}",
                f"{conversation!r} shared with {sorted(map(str, others))}",
                exchange,
            )
            self.ledger[key] = conversation

    # No shrinking: the report shows the violating exchange, not the sequence, and each shrink
    # step sends the sequence again (and may not follow the link again: see SeenViolations).
    # The run's seed (in the report): --seed N replays the sequences' generated data.
    seed(run_config.seed)(PacedMachine)
    with seen.run():
        PacedMachine.run(
            settings=settings(
                max_examples=5,
                stateful_step_count=5,
                deadline=None,
                database=None,
                phases=(Phase.explicit, Phase.generate),
                suppress_health_check=list(HealthCheck),
            )
        )
