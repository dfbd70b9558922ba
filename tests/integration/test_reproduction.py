"""A failure's printed curl, pasted into bash, gets the answer the report shows (issue 20).

The reference runs with a fault (``replyguard serve --fault NAME``); ``replyguard check`` judges
it and reports the failure; the reproduction line, taken from the plain output, the JSON, the
HTML copy button and the Markdown report alike, is run by ``bash`` with ``REPLYGUARD_TOKEN``
exported, and its answer must be the one the report shows.
"""

from __future__ import annotations

import html
import json
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import pytest

from tests.helpers.servers import running_reference

pytestmark = [
    pytest.mark.integration,
    pytest.mark.slow,
    pytest.mark.skipif(shutil.which("curl") is None, reason="needs curl on PATH"),
]

CASES = [
    # (fault, the failing rule, the rules selected, -k, what the line shows)
    # A generate-reply failure: an emoji identifier (quoted in the line) is a 500, which fails
    # the documents' "no 5xx" rule (issue 19), not the echo the one test run was judging.
    (
        "reply.emoji-identifier-500",
        "contract.no-server-error",
        "reply.customer-identifier.echo,contract.no-server-error",
        "test_identifier_echoed_exactly",
        "generate-reply",
    ),
    # A create-assistant failure: a 422 whose errors are a flat list.
    (
        "assistant.errors-flat-list",
        "assistant.validation.error-shape",
        "assistant.validation.error-shape",
        "",
        "user/assistant",
    ),
    # Sent with the low-balance token: its line reads $REPLYGUARD_TOKEN_LOW_BALANCE.
    (
        "reply.error-envelope-without-success",
        "reply.error.shape",
        "reply.error.shape",
        "balance",
        "_LOW_BALANCE",
    ),
    # Sent with a made-up token (no secret): its line sends that token, not the real one.
    (
        "auth.redirect-to-login",
        "auth.invalid-token",
        "auth.invalid-token",
        "wrong_token",
        "not-a-token",
    ),
]
ROLES = {"primary": "", "low_balance": "_LOW_BALANCE", "other_account": "_OTHER_ACCOUNT"}


def _answer(curl_output: str) -> tuple[int, str]:
    """Status and body of ``curl -i`` output."""
    head, _, body = curl_output.replace("\r\n", "\n").partition("\n\n")
    return int(head.split()[1]), body


@pytest.mark.parametrize(
    ("fault", "rule", "selected", "keyword", "shown"), CASES, ids=[c[0] for c in CASES]
)
def test_the_printed_curl_reproduces_the_failure(
    tmp_path: Path, fault: str, rule: str, selected: str, keyword: str, shown: str
) -> None:
    with running_reference(tmp_path / "ref", window=1, extra_args=["--fault", fault]) as ref:
        tokens = [str(t) for t in ref.profile["tokens"].values()]
        out = tmp_path / "out"
        result = subprocess.run(
            [
                *(sys.executable, "-m", "replyguard.cli", "check"),
                *("--target", str(ref.profile_path), "--rules", selected, "--format", "plain"),
                *("--report-json", str(out / "r.json"), "--report-html", str(out / "r.html")),
                *("--report-md", str(out / "r.md")),
                *(("-k", keyword) if keyword else ()),
            ],
            capture_output=True,
            text=True,
            timeout=300,
            cwd=tmp_path,
        )
        assert result.returncode == 1, result.stdout[-2000:] + result.stderr[-2000:]
        report = json.loads((out / "r.json").read_text())
        (verdict,) = [r for r in report["rules"] if r["rule"] == rule]
        assert verdict["verdict"] == "fail"
        failure = verdict["failures"][0]
        curl = failure["curl"]
        assert shown in curl
        # The same line everywhere the report goes.
        assert f"reproduce: {curl}\n" in result.stdout
        copied = re.search(r'<pre class="curl">.*?<code>(.*?)</code>', (out / "r.html").read_text())
        assert copied is not None
        assert html.unescape(copied.group(1)) == curl
        assert f"```bash\n{curl}\n```" in (out / "r.md").read_text()
        for token in tokens:
            for text in (result.stdout, result.stderr, *(p.read_text() for p in out.iterdir())):
                assert token not in text
        # Pasted into bash with the token exported, it gets the answer the report shows.
        env = {**os.environ}
        env.update({f"REPLYGUARD_TOKEN{suffix}": ref.token(r) for r, suffix in ROLES.items()})
        pasted = subprocess.run(
            ["bash", "-c", curl], capture_output=True, text=True, timeout=30, env=env, cwd=tmp_path
        )
        assert pasted.returncode == 0, pasted.stderr
    status, body = _answer(pasted.stdout)
    shown = failure["response"]
    assert shown == f"HTTP {status} {body}" or shown == f"HTTP {status} {body[:300]}…"
    assert status != 401  # the token reached the target
