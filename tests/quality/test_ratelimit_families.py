"""Quality: one rate-limit judgement for every limiter family (issue 18's acceptance).

The targets: the reference's token-bucket fault and nginx ``limit_req`` tuned to the documented
429 (buckets: 5 at once, then one slot every window/5: more than the documents allow); the
reference, its sliding-log, clock-window and IETF-headers variants (conforming); the reference's
503-HTML fault and nginx's stock answer (over the limit a 503 page, not the documented 429).
Each is judged by ``replyguard check`` (exhaustive and paid), the default load run and the
fingerprint scenario. Windows are 2 s (one bucket slot every 0.4 s) and runs are narrowed to
the rate-limit rules, so each case takes seconds; the 503 cases also select
``contract.no-server-error`` (its whole suite: about two minutes).
"""

from __future__ import annotations

import json
import os
import re
import subprocess
import sys
import tomllib
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Any

import pytest

from tests.integration.test_load import locust

if TYPE_CHECKING:
    from tests.helpers.gateway import Gateway
    from tests.helpers.servers import Reference

pytest_plugins = ["tests.helpers.servers", "tests.helpers.gateway"]
pytestmark = [pytest.mark.quality, pytest.mark.integration]

LIMIT = 5
WINDOW = 2
#: A bucket's refill interval at LIMIT per WINDOW.
INTERVAL = WINDOW / LIMIT
RATE_RULES = "ratelimit.*"
CHECK_TIMEOUT = 400


BUCKETS = ["fault:ratelimit.token-bucket", "gateway:tuned"]
CONFORMING = [
    "reference",
    "variant:sliding-window",
    "variant:clock-window",
    "variant:ietf-ratelimit-headers",
]
OVER_LIMIT_503 = ["fault:ratelimit.gateway-503-html", "gateway:stock"]


@pytest.fixture
def target(request: pytest.FixtureRequest, make_reference: Callable[..., Reference]) -> Path:
    """The profile of the target named by the test's ``target`` parameter (see the lists)."""
    name: str = request.param
    kind, _, which = name.partition(":")
    if kind == "gateway":
        # Asked for only here: without nginx, only the gateway cases skip.
        make_gateway: Callable[..., Gateway] = request.getfixturevalue("make_gateway")
        return make_gateway(mode=which, limit=LIMIT, window=WINDOW).profile_path
    flags = [f"--{kind}", which] if which else []
    ref: Reference = make_reference(limit=LIMIT, window=WINDOW, extra_args=flags)
    return ref.profile_path


def _paid(profile: Path, folder: Path) -> Path:
    """The profile as a billed target's: not exhaustive, writes allowed (like the selftest)."""
    data = tomllib.loads(profile.read_text(encoding="utf-8"))
    data["safety"] = {"allow_writes": True, "exhaustive": False}
    path = folder / "paid-profile.json"
    path.write_text(json.dumps(data), encoding="utf-8")
    return path


@dataclass(slots=True)
class Checked:
    code: int
    output: str
    report: dict[str, Any]

    def verdicts(self) -> dict[str, str]:
        return {item["rule"]: item["verdict"] for item in self.report["rules"]}

    def failing(self) -> list[str]:
        return [rule for rule, verdict in self.verdicts().items() if verdict == "fail"]

    def evidence(self, rule: str) -> str:
        """Everything the report says about ``rule``'s failures, as one text."""
        items = [item for item in self.report["rules"] if item["rule"] == rule]
        return json.dumps([item.get("failures", []) for item in items])


def check(
    profile: Path, folder: Path, *, mode: str, rules: str = RATE_RULES, keyword: str = ""
) -> Checked:
    """``replyguard check`` in a subprocess (no plan rehearsal: detection is judged here)."""
    if mode == "paid":
        profile = _paid(profile, folder)
    report = folder / f"report-{mode}.json"
    env = {k: v for k, v in os.environ.items() if not k.startswith("REPLYGUARD_")}
    done = subprocess.run(
        [
            *(sys.executable, "-m", "replyguard", "check", "--target", str(profile)),
            *("--format", "plain", "--no-plan", "--rules", rules),
            *("--report-json", str(report)),
            *(("-k", keyword) if keyword else ()),
        ],
        capture_output=True,
        text=True,
        timeout=CHECK_TIMEOUT,
        env=env,
        cwd=folder,
        check=False,
    )
    output = done.stdout + done.stderr
    assert report.exists(), output[-3000:]
    return Checked(done.returncode, output, json.loads(report.read_text(encoding="utf-8")))


def load(profile: Path) -> tuple[int, str]:
    """The default load run (conformance and isolation), as a user starts it."""
    run = locust(
        [
            *("-u", "20", "-r", "20", "-t", "10s", "--target", str(profile)),
            *("--replyguard-max-requests", "3000"),
        ],
        timeout=60,
    )
    return run.code, run.output


def fingerprint(profile: Path, folder: Path) -> tuple[int, str, list[dict[str, Any]]]:
    """The fingerprint scenario; its exit code, output and report items."""
    report = folder / "fingerprint.json"
    run = locust(
        [
            *("-u", "1", "-r", "1", "-t", "40s", "--scenario", "fingerprint"),
            *("--target", str(profile), "--replyguard-report-json", str(report)),
        ],
        timeout=70,
    )
    assert report.exists(), run.output[-3000:]
    items = json.loads(report.read_text(encoding="utf-8"))["fingerprint"]["items"]
    return run.code, run.output, items


def _violations(output: str) -> list[str]:
    return [line.strip() for line in output.splitlines() if "VIOLATION" in line]


# -- buckets: more than the limit within a window -------------------------------------------


@pytest.mark.timeout(CHECK_TIMEOUT + 60)
@pytest.mark.parametrize("mode", ["exhaustive", "paid"])
@pytest.mark.parametrize("target", BUCKETS, indirect=True)
def test_check_fails_a_bucket_on_the_limit_naming_it(
    target: Path, tmp_path: Path, mode: str
) -> None:
    checked = check(target, tmp_path, mode=mode)
    assert checked.code == 1, checked.output[-3000:]
    assert "ratelimit.limit" in checked.failing(), checked.output[-3000:]
    assert "bucket" in checked.evidence("ratelimit.limit").lower(), checked.output[-3000:]


@pytest.mark.timeout(120)
@pytest.mark.parametrize("target", BUCKETS, indirect=True)
def test_load_fails_a_bucket_naming_it(target: Path) -> None:
    code, output = load(target)
    assert code == 1, output[-3000:]
    assert any("bucket" in v.lower() for v in _violations(output)), output[-3000:]
    # The slow refill is not another token's calls.
    assert "shared between tokens" not in output


@pytest.mark.timeout(120)
@pytest.mark.parametrize("target", BUCKETS, indirect=True)
def test_fingerprint_names_the_bucket_its_burst_and_refill(target: Path, tmp_path: Path) -> None:
    code, output, items = fingerprint(target, tmp_path)
    assert code == 1, output[-3000:]
    text = json.dumps(items).lower()
    assert "bucket" in text, text
    assert re.search(r"burst\D{0,30}\b5\b", text), text
    refills = [
        float(seconds)
        for seconds in re.findall(r"(?:refill|slot|interval)[^0-9]{0,40}(\d+(?:\.\d+)?) ?s\b", text)
    ]
    assert any(abs(r - INTERVAL) <= 0.1 * INTERVAL for r in refills), (refills, text)


# -- conforming families: no false alarm ----------------------------------------------------


@pytest.mark.timeout(CHECK_TIMEOUT + 60)
@pytest.mark.parametrize("mode", ["exhaustive", "paid"])
@pytest.mark.parametrize("target", CONFORMING, indirect=True)
def test_check_passes_a_conforming_limiter(target: Path, tmp_path: Path, mode: str) -> None:
    checked = check(target, tmp_path, mode=mode)
    assert checked.code == 0, checked.output[-3000:]
    assert not checked.failing()


@pytest.mark.timeout(120)
@pytest.mark.parametrize("target", CONFORMING, indirect=True)
def test_load_passes_a_conforming_limiter(target: Path) -> None:
    code, output = load(target)
    assert code == 0, output[-3000:]
    assert "replyguard verdict: PASS" in output


@pytest.mark.timeout(120)
@pytest.mark.parametrize("target", CONFORMING, indirect=True)
def test_fingerprint_passes_a_conforming_limiter(target: Path, tmp_path: Path) -> None:
    code, output, items = fingerprint(target, tmp_path)
    assert code == 0, output[-3000:]
    assert not [i for i in items if i.get("outcome") == "fail"], items


# -- over the limit a 503 page: named once, never counted as served -------------------------


@pytest.mark.timeout(CHECK_TIMEOUT + 60)
@pytest.mark.parametrize("target", OVER_LIMIT_503, indirect=True)
def test_check_names_a_503_page_once(
    target: Path, tmp_path: Path, request: pytest.FixtureRequest
) -> None:
    # contract.no-server-error is judged on every exchange of the run, whichever test sent it:
    # the rate-limit tests' own exchanges are enough (-k), not schemathesis' whole suite.
    checked = check(
        target,
        tmp_path,
        mode="exhaustive",
        rules=f"{RATE_RULES},contract.no-server-error",
        keyword="rate_limit",
    )
    assert checked.code == 1, checked.output[-3000:]
    failing = checked.failing()
    named = [r for r in failing if r.startswith("ratelimit.")]
    if request.node.callspec.params["target"].startswith("gateway:"):
        # nginx's stock limit_req is a bucket too: ratelimit.limit fails for the bucket (its
        # evidence says so), never for the 503 page itself.
        assert named in (["ratelimit.status-429"], ["ratelimit.limit", "ratelimit.status-429"])
        if "ratelimit.limit" in named:
            assert "bucket" in checked.evidence("ratelimit.limit"), checked.output[-3000:]
    else:
        assert named == ["ratelimit.status-429"], failing
    assert "contract.no-server-error" in failing, failing


@pytest.mark.timeout(120)
@pytest.mark.parametrize("target", OVER_LIMIT_503, indirect=True)
def test_load_counts_no_503_as_served(target: Path, request: pytest.FixtureRequest) -> None:
    _, output = load(target)
    served = [int(n) for n in re.findall(r"^\s*\w+: served: (\d+)$", output, re.MULTILINE)]
    answered = re.search(r"\((\d+) answered 200", output)
    assert served, output[-3000:]
    assert answered, output[-3000:]
    # What the judge calls served is what answered 200: the 503 pages are refusals.
    judged = "\n".join(line for line in output.splitlines() if "served" in line or "VIOL" in line)
    assert sum(served) <= int(answered[1]), judged
    if request.node.callspec.params["target"].startswith("fault:"):
        # A fixed window that answers 503 over the limit keeps the limit: the pages are not
        # served calls. (nginx's stock limit_req is a bucket too: that one fails the limit.)
        assert not any("ratelimit.limit" in v for v in _violations(output)), judged
