"""No token in a curl reproduction or any masked text."""

from __future__ import annotations

import shlex
import subprocess
from pathlib import Path

import httpx
import pytest

from replyguard.exchange import Exchange
from replyguard.masking import MASK, mask_secrets, mask_token, masked_curl
from replyguard.profile import Tokens

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
    assert words[:4] == ["curl", "-i", "-X", "POST"]
    assert "Authorization: Bearer $REPLYGUARD_TOKEN" in words
    assert words[words.index("--data-raw") + 1] == '{"message": "it\'s me"}'


def test_secrets_echoed_in_a_body_are_masked_too() -> None:
    command = masked_curl("POST", "http://h/api", {}, f"token={TOKEN}".encode(), [TOKEN])
    assert TOKEN not in command
    assert mask_secrets(f"a {TOKEN} b", [TOKEN, None]) == f"a {MASK} b"


def _run(command: str, env: dict[str, str]) -> str:
    """What bash passes to curl for ``command``: its argv, one word per line (curl replaced)."""
    script = "curl() { printf '%s\\n' \"$@\"; }\n" + command
    return subprocess.run(
        ["bash", "-c", script], capture_output=True, text=True, env=env, check=True
    ).stdout


def test_the_shell_substitutes_the_token_and_nothing_else() -> None:
    # The line the issue found: the token in single quotes reached the target as the literal
    # text "$REPLYGUARD_TOKEN" and got a 401.
    command = masked_curl(
        "POST",
        "http://127.0.0.1:9/api/ai/generate-reply?x=$HOME",
        {"Authorization": f"Bearer {TOKEN}", "X-Note": "it's $(rm -rf /) `id` $HOME"},
        '{"message": "$HOME \\"q\\" \'s\' 😀"}'.encode(),
        secrets=[TOKEN],
    )
    assert TOKEN not in command
    argv = _run(command, {"PATH": "/usr/bin:/bin", "REPLYGUARD_TOKEN": TOKEN, "HOME": "/h"})
    words = argv.splitlines()
    assert f"Authorization: Bearer {TOKEN}" in words
    assert "http://127.0.0.1:9/api/ai/generate-reply?x=$HOME" in words
    assert "X-Note: it's $(rm -rf /) `id` $HOME" in words
    assert words[words.index("--data-raw") + 1] == '{"message": "$HOME \\"q\\" \'s\' 😀"}'


def test_a_long_body_goes_to_a_file_and_the_line_stays_short(tmp_path: Path) -> None:
    body = b'{"system_prompt": "' + b"x" * (3 * 1024 * 1024) + b'"}'
    command = masked_curl("POST", "http://h/api", {}, body, [TOKEN], tmp_path / "bodies")
    assert len(command) < 10 * 1024
    words = shlex.split(command)
    assert "--data-raw" not in words
    named = Path(words[words.index("--data-binary") + 1].removeprefix("@"))
    assert named.read_bytes() == body
    assert named.parent == (tmp_path / "bodies").resolve()
    # A short body that is not UTF-8 cannot be a shell argument either.
    binary = masked_curl("POST", "http://h/api", {}, b"\xff\x00{", (), tmp_path / "bodies")
    named = Path(shlex.split(binary)[-1].removeprefix("@"))
    assert named.read_bytes() == b"\xff\x00{"


def test_a_secret_in_a_long_body_is_masked_in_its_file(tmp_path: Path) -> None:
    body = (TOKEN + " " + "y" * 5000).encode()
    command = masked_curl("POST", "http://h/api", {}, body, [TOKEN], tmp_path)
    named = Path(shlex.split(command)[-1].removeprefix("@"))
    assert TOKEN.encode() not in named.read_bytes()
    assert named.read_bytes().startswith(MASK.encode())


def _exchange(token: str) -> Exchange:
    request = httpx.Request(
        "POST",
        "http://127.0.0.1:9/api/user/ai/generate-reply",
        headers={"Authorization": f"Bearer {token}"},
        content=b"{}",
    )
    return Exchange.from_response(httpx.Response(402, request=request), TOKENS.reproduction_roles())


TOKENS = Tokens(primary=TOKEN, secondary=TOKEN + "2", low_balance=TOKEN + "3", pool=(TOKEN + "4",))


@pytest.mark.parametrize(
    ("token", "variable"),
    [
        (TOKEN, "$REPLYGUARD_TOKEN"),
        (TOKEN + "2", "$REPLYGUARD_TOKEN"),  # the account's second token: same answers
        (TOKEN + "3", "$REPLYGUARD_TOKEN_LOW_BALANCE"),  # a 402 needs the low-balance token
        (TOKEN + "4", "$REPLYGUARD_TOKEN"),  # a pool token: the account's too
    ],
)
def test_a_reproduction_reads_the_variable_of_the_role_it_was_sent_with(
    token: str, variable: str
) -> None:
    exchange = _exchange(token)
    assert token not in repr(exchange)
    command = exchange.curl(TOKENS.secrets())
    assert f'"authorization: Bearer {variable}"' in command
    assert token not in command


def test_a_made_up_token_is_reproduced_as_sent() -> None:
    # The 401 test's token is no secret; replacing it by the real one would answer 200.
    command = _exchange("replyguard-not-a-token").curl(TOKENS.secrets())
    assert "'authorization: Bearer replyguard-not-a-token'" in command
    # Without the profile's tokens at hand, every bearer is masked.
    request = httpx.Request("POST", "http://h/api", headers={"Authorization": "Bearer xyzxyz"})
    unknown = Exchange.from_response(httpx.Response(401, request=request))
    assert "xyzxyz" not in unknown.curl()
