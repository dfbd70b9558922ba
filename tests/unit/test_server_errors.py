"""contract.no-server-error is judged on every exchange of the run, whichever test sent it."""

from __future__ import annotations

import httpx

from replyguard.engine.judge import aggregate
from replyguard.exchange import Exchange
from replyguard.suite.server_errors import RULE, server_error_outcome
from replyguard.verdicts import Outcome

_TOKEN = "t" * 24


def _exchange(
    status: int, text: str = "<html>503 Service Temporarily Unavailable</html>"
) -> Exchange:
    request = httpx.Request(
        "POST",
        "http://127.0.0.1:9/api/ai/generate-reply",
        headers={"Authorization": f"Bearer {_TOKEN}"},
        content=b"{}",
    )
    return Exchange.from_response(httpx.Response(status, text=text, request=request))


def test_a_5xx_sent_by_any_test_fails_the_rule_with_the_test_and_a_masked_curl() -> None:
    seen = [("test_rate_limit.py::burst", _exchange(503)), ("t2", _exchange(200, "{}"))]
    outcome = server_error_outcome(seen, [], (_TOKEN,))
    assert outcome is not None
    assert outcome.status == "failed"
    assert outcome.rules == (RULE,)
    [violation] = outcome.violations
    assert "test_rate_limit.py::burst" in violation["observed"]
    assert "HTTP 503" in violation["response"]
    assert _TOKEN not in violation["curl"]
    assert "curl" in violation["curl"]
    verdicts = {v.rule: v for v in aggregate([RULE], [outcome], {})}
    assert verdicts[RULE].verdict == "fail"


def test_no_5xx_or_one_already_named_adds_nothing() -> None:
    assert server_error_outcome([("t", _exchange(429, "{}"))], [], ()) is None
    e = _exchange(500)
    named = Outcome("t", (RULE,), "failed", "", [{"rule": RULE, "curl": e.curl((_TOKEN,))}])
    assert server_error_outcome([("t", e)], [named], (_TOKEN,)) is None
