"""The load verdict's word and the web UI's address (no locust imported: load.result and
load.options are plain modules)."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from load import judge as j
from load.judge import NO_RESPONSE
from load.options import WEB_HOST, web_ui_exposure
from load.result import INCONCLUSIVE, advice, exit_code, result_of, violation_detail
from replyguard.exit_codes import ExitCode
from replyguard.spec import get_rule


def _verdict(*kinds: str) -> j.Verdict:
    verdict = j.Verdict(observations=18)
    for kind in kinds:
        verdict.add(kind, f"[secondary] {kind}")
    return verdict


def test_a_run_that_could_not_judge_is_inconclusive_not_fail() -> None:
    verdict = _verdict(j.NOT_OVERLOADED)
    assert not verdict.passed  # the judge counts it among its kinds
    assert result_of(verdict) == INCONCLUSIVE
    assert exit_code(verdict) is ExitCode.COULD_NOT_JUDGE


def test_a_violation_fails_even_beside_an_inconclusive_kind() -> None:
    verdict = _verdict(j.NOT_OVERLOADED, "ratelimit.limit")
    assert result_of(verdict) == "FAIL"
    assert exit_code(verdict) is ExitCode.FAILED
    assert result_of(_verdict()) == "PASS"
    assert exit_code(_verdict()) is ExitCode.OK


def test_the_advice_says_what_to_change() -> None:
    text = advice(1, 2, 2.0)
    assert "at least 2 users per token" in text
    assert "-u 4" in text
    assert "this run: 1 user on 2 tokens" in text
    assert "the README suggests -u 20" in text
    # Enough users: the advice is to run longer, not to add users.
    enough = advice(8, 1, 2.0)
    assert "users per token" not in enough
    assert "run longer" in enough


def _options(**given: object) -> SimpleNamespace:
    base = {"headless": False, "worker": False, "web_host": WEB_HOST, "web_login": False}
    return SimpleNamespace(**{**base, "replyguard_open_web_ui": False, **given})


@pytest.mark.parametrize("host", ["127.0.0.1", "localhost", "::1"])
def test_loopback_needs_nothing(host: str) -> None:
    assert web_ui_exposure(_options(web_host=host)) is None


@pytest.mark.parametrize("host", ["0.0.0.0", "", "*", "192.168.1.5"])
def test_another_address_needs_a_login_or_the_opt_in(host: str) -> None:
    refusal = web_ui_exposure(_options(web_host=host))
    assert refusal is not None
    assert "--web-login" in refusal
    assert "--replyguard-open-web-ui" in refusal
    assert web_ui_exposure(_options(web_host=host, web_login=True)) is None
    assert web_ui_exposure(_options(web_host=host, replyguard_open_web_ui=True)) is None
    assert web_ui_exposure(_options(web_host=host, headless=True)) is None


def test_a_violation_row_names_the_rule_in_the_catalogue_s_words() -> None:
    seen = "[primary] 6 served within 0s after a burst"
    assert violation_detail("ratelimit.limit", seen) == (
        f"documented: {get_rule('ratelimit.limit').rule} Seen: {seen}"
    )
    # A check of the load run's own (no catalogue rule) keeps its example alone.
    assert violation_detail(NO_RESPONSE, "[primary] no HTTP answer") == "[primary] no HTTP answer"
