"""Requests no client library would send must still get a documented 4xx, never a 5xx."""

from __future__ import annotations

import pytest

from replyguard.profile import Target
from replyguard.testing import ApiSession, expect

# The documented and inferred refusals (401 and 413 are inferred, see the contract).
DOCUMENTED_REFUSALS = {401, 402, 404, 413, 422}

MALFORMED: dict[str, tuple[bytes, dict[str, str]]] = {
    "truncated-json": (b'{"assistant_id": 1, "message": ', {}),
    "json-array": (b"[1, 2, 3]", {}),
    "json-string": (b'"hello"', {}),
    "not-utf8": (b'{"message": "\xff\xfe"}', {}),
    "lone-surrogate": (b'{"customer_identifier": "\\ud800", "message": "\\udfff"}', {}),
    "nul-and-controls": (b'{"customer_identifier": "a\\u0000b", "message": "\\u0007"}', {}),
    "huge-number": (b'{"assistant_id": 1e400, "voice_id": 100000000000000000000000}', {}),
    "deep-nesting": (b'{"variables": ' + b'{"a": ' * 500 + b"1" + b"}" * 500 + b"}", {}),
    "form-encoded": (
        b"assistant_id=1&message=hi",
        {"Content-Type": "application/x-www-form-urlencoded"},
    ),
    "huge-body": (b'{"message": "' + b"x" * (3 * 1024 * 1024) + b'"}', {}),
}
# Against a paid target each generate-reply request counts against the limit: send only these.
CHEAP = ("truncated-json", "lone-surrogate")


@pytest.mark.parametrize("operation", ["create_assistant", "generate_reply"])
@pytest.mark.parametrize("kind", sorted(MALFORMED))
@pytest.mark.rule("contract.malformed-request-4xx")
def test_malformed_request_gets_documented_4xx(
    api: ApiSession, target: Target, operation: str, kind: str
) -> None:
    if operation == "generate_reply" and not target.safety.exhaustive and kind not in CHEAP:
        pytest.skip("spends the paid target's generate-reply budget (safety.exhaustive)")
    content, headers = MALFORMED[kind]
    exchange = api.send(operation, content=content, headers=headers)
    # The documented refusals are JSON bodies; an HTML 404 is a route that is not there.
    refused = exchange.status in DOCUMENTED_REFUSALS and isinstance(exchange.json(), dict)
    expect(
        "contract.malformed-request-4xx",
        refused,
        f"a documented refusal ({', '.join(map(str, sorted(DOCUMENTED_REFUSALS)))}) "
        "with a JSON body",
        exchange.summary(limit=200),
        exchange,
    )
