"""No token in a curl reproduction or any masked text."""

from __future__ import annotations

import shlex

from replyguard.masking import MASK, mask_secrets, mask_token, masked_curl

TOKEN = "rg_secretsecretsecret42"


def test_mask_token_keeps_at_most_two_characters() -> None:
    assert mask_token(TOKEN) == f"{MASK}42"
    assert mask_token("short") == MASK
    assert mask_token(None) == MASK


def test_masked_curl_replaces_the_bearer_token_and_reproduces_the_body() -> None:
    command = masked_curl(
        "post",
        "http://127.0.0.1:9/api/ai/generate-reply",
        {"Authorization": f"Bearer {TOKEN}", "Accept": "application/json"},
        b'{"message": "it\'s me"}',
        secrets=[TOKEN],
    )
    assert TOKEN not in command
    words = shlex.split(command)
    assert words[:3] == ["curl", "-X", "POST"]
    assert "Authorization: Bearer $REPLYGUARD_TOKEN" in words
    assert words[words.index("--data-raw") + 1] == '{"message": "it\'s me"}'


def test_secrets_echoed_in_a_body_are_masked_too() -> None:
    command = masked_curl("POST", "http://h/api", {}, f"token={TOKEN}".encode(), [TOKEN])
    assert TOKEN not in command
    assert mask_secrets(f"a {TOKEN} b", [TOKEN, None]) == f"a {MASK} b"
