"""The run's generate-reply calls handed to the rate-limit model (``replyguard.ratelimit``).

The suite records each call (``suite.calls``); here they become the model's :class:`Call`
records, with what each call was meant to be (a valid call, a failed validation, no token...),
and the model returns the limiter's description and the ``ratelimit.*`` verdicts. The
description goes into every report (the ``ratelimit`` section); ``ratelimit.limit`` is judged
from the verdict (contract_tests/test_rate_limit.py).
"""

from __future__ import annotations

from collections.abc import Sequence
from typing import TYPE_CHECKING, Any

from replyguard.exchange import Exchange
from replyguard.profile import Role
from replyguard.ratelimit import (
    BAD_TOKEN,
    INVALID,
    MISSING_ASSISTANT,
    NO_BALANCE,
    NO_TOKEN,
    VALID,
    Assessment,
    Call,
    Judgement,
    Limits,
    assess,
)
from replyguard.suite.calls import CallRecord, is_reply

if TYPE_CHECKING:
    from replyguard.suite.session import ApiSession

__all__ = ["assess_run", "model_calls", "ratelimit_section"]

#: The account each token role belongs to (the profile's primary account has two tokens).
_ACCOUNTS: dict[str, str] = {
    Role.PRIMARY: "account",
    Role.SECONDARY: "account",
    Role.LOW_BALANCE: "low-balance",
}


def _kind(call: CallRecord, api: ApiSession) -> str:
    """What the call was meant to be: the answer it gets when the limit has room."""
    if call.valid:
        return VALID
    if call.role == "none":
        return NO_TOKEN
    if call.role == "raw":
        return BAD_TOKEN
    body = _request_json(call.exchange)
    # The body would be a valid call on an own assistant: one rule of validity (the session's).
    if not isinstance(body, dict) or not api.billable(
        Role.PRIMARY, {**body, "assistant_id": api.target.assistants.own}
    ):
        return INVALID
    return NO_BALANCE if call.role == "low_balance" else MISSING_ASSISTANT


def _request_json(exchange: Exchange | None) -> Any:
    import json

    if exchange is None:
        return None
    try:
        return json.loads(exchange.request_body or b"null")
    except ValueError:
        return None


def model_calls(calls: Sequence[CallRecord], api: ApiSession) -> list[Call]:
    """The recorded calls as the model reads them (roles, never tokens)."""
    out = []
    for c in calls:
        body = c.exchange.json() if c.exchange else c.body
        headers = c.exchange.headers if c.exchange else c.headers
        out.append(
            Call.from_answer(
                c.role,
                c.sent,
                c.received,
                c.status,
                body,
                headers,
                kind=_kind(c, api),
                content_type=headers.get("content-type", ""),
                account=_ACCOUNTS.get(c.role, c.role),
                is_reply=is_reply(c.status, body) if 200 <= c.status < 300 else None,
            )
        )
    return out


def _refused(call: CallRecord) -> bool:
    """Refused over the limit: a 429, or a valid call neither served nor answered as the
    documents answer a bad call (a gateway's 503 page, a 500, a 200 with an error body)."""
    return call.status == 429 or (call.valid and not call.served and not 400 <= call.status < 500)


def _limits(api: ApiSession) -> Limits:
    rate = api.target.rate_limit
    return Limits(rate.limit, rate.window_seconds)


def _assess(calls: Sequence[CallRecord], api: ApiSession) -> Assessment:
    # fresh: the run owns its tokens, and the burst, its first generate-reply calls, waits
    # for a fresh window first (as the rate-limit tests always assumed): a refusal within a
    # window of a token's first call is the target's, not an earlier window's.
    return assess(model_calls(calls, api), _limits(api), fresh=True)


def assess_run(api: ApiSession, rule: str) -> tuple[Assessment, Judgement, Exchange | None]:
    """The model on every generate-reply call so far: its assessment, one rule's verdict and
    the exchange of the verdict's first evidence (a curl reproduction for a failure)."""
    calls = list(api.calls.calls)
    assessment = _assess(calls, api)
    judgement = assessment.verdicts[rule]
    example = calls[judgement.calls[0]].exchange if judgement.calls else None
    return assessment, judgement, example


def ratelimit_section(api: ApiSession) -> dict[str, Any] | None:
    """The report's ``ratelimit`` section: the documented limit, the limiter's description
    (from the calls the run made anyway) and the calls themselves (for the timeline)."""
    calls = list(api.calls.calls)
    if not calls:
        return None
    limits = _limits(api)
    try:
        described = _assess(calls, api).limiter
        limiter, lines = described.to_json(), described.lines()
    except Exception as exc:  # replyguard's own bug: the report says so, the verdicts stay
        problem = f"not described: the rate-limit model raised {type(exc).__name__}: {exc}"
        limiter, lines = {"summary": problem}, [problem]
    return {
        "limit": limits.limit,
        "window": limits.window,
        "limiter": limiter,
        "description": lines,
        "calls": [c.as_dict() | {"served": c.served, "refused": _refused(c)} for c in calls],
    }
