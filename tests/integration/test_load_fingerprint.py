"""The rate-limit fingerprint against the reference server and its limiter faults and variants.

The probe sequence (``replyguard.fingerprint``) runs here with plain httpx, one thread per
server, all servers at once: each sequence mostly waits for windows (2 s), so eight of them
take about as long as one (~15 s). One locust run of ``--scenario fingerprint`` checks the
scenario's table and JSON report.
"""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from contextlib import ExitStack
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest

from replyguard.fingerprint import Fingerprint, Probe, ProbePlan, fingerprint, run_probes
from replyguard.reference.launch import EmbeddedReference, running_reference
from tests.integration.test_load import Run, locust

pytestmark = pytest.mark.integration

WINDOW = 2
LIMIT = 5

#: server flags -> the items that must come out, as (value, outcome) or value alone.
CASES: dict[str, tuple[list[str], dict[str, Any]]] = {
    "reference": (
        [],
        {
            "limit": ("5 per window", "pass"),
            "window length": (None, "pass"),
            "window kind": "fixed",
            "window anchor": "first hit",
            "scope": ("token", "pass"),
            "422 counts": "yes",
            "404 counts": "yes",
            "402 counts": "yes",
            "401 counts": "no",
            "429 counts": "no",
            "retry_after": "counts down",
            "retry_after honest": ("yes", "pass"),
            "Retry-After header": ("agrees", "pass"),
            "X-RateLimit-Remaining": "agrees",
            "X-RateLimit-Reset": "agrees",
        },
    ),
    "sliding": (
        ["--variant", "sliding-window"],
        {
            "window kind": "sliding",
            "limit": ("5 per window", "pass"),
            "window length": (None, "pass"),
            "scope": ("token", "pass"),
        },
    ),
    "per-account": (
        ["--fault", "ratelimit.shared-per-account"],
        {"scope": ("account", "fail"), "window kind": "fixed"},
    ),
    "global": (["--fault", "ratelimit.global"], {"scope": ("global", "fail")}),
    "never-resets": (
        ["--fault", "ratelimit.never-resets"],
        {"window length": ("never resets", "fail"), "retry_after honest": ("too short", "fail")},
    ),
    "constant": (
        ["--variant", "retry-after-constant"],
        {
            "retry_after": f"constant {WINDOW}",
            "retry_after honest": ("yes", "pass"),
            "window kind": "fixed",
        },
    ),
    "422-free": (
        ["--fault", "ratelimit.validation-not-counted"],
        {"422 counts": "no", "404 counts": "yes"},
    ),
    "no-headers": (
        ["--variant", "no-ratelimit-headers"],
        {
            "Retry-After header": "not sent",
            "X-RateLimit-Remaining": "not sent",
            "X-RateLimit-Reset": "not sent",
            "window kind": "fixed",
        },
    ),
}


def _sender(ref: EmbeddedReference, client: httpx.Client) -> Any:
    profile = ref.profile
    tokens = dict(profile["tokens"], invalid="replyguard-fingerprint-unknown-token-000000")
    assistants = profile["assistants"]
    path = (
        "/ai/generate-reply" if profile.get("brand") == "autocalls" else "/user/ai/generate-reply"
    )
    counter = iter(range(10_000))

    def send(step: str, role: str, kind: str) -> Probe:
        n = next(counter)
        body: dict[str, Any] = {
            "assistant_id": assistants["own"],
            "customer_identifier": f"fp-{n}",
            "message": "probe",
        }
        if kind == "invalid":
            body.pop("message")
        elif kind == "missing":
            body["assistant_id"] = assistants["foreign"]
        elif role == "low_balance":
            body["assistant_id"] = assistants["low_balance"]
        elif role == "other_account":
            body["assistant_id"] = assistants["foreign"]
        sent = time.time()
        answer = client.post(
            ref.base_url + path, json=body, headers={"Authorization": f"Bearer {tokens[role]}"}
        )
        try:
            data = answer.json()
        except ValueError:
            data = None
        return Probe(
            step,
            role,
            kind,
            sent,
            time.time(),
            answer.status_code,
            data.get("retry_after") if isinstance(data, dict) else None,
            answer.headers.get("retry-after"),
            answer.headers.get("x-ratelimit-remaining"),
            answer.headers.get("x-ratelimit-reset"),
        )

    return send


def _fingerprint(ref: EmbeddedReference) -> Fingerprint:
    roles = frozenset({"primary", "secondary", "other_account", "low_balance"})
    with httpx.Client(timeout=10) as client:
        probes = run_probes(
            ProbePlan(LIMIT, WINDOW, roles), _sender(ref, client), time.sleep, time.time
        )
    return fingerprint(probes, LIMIT, WINDOW)


@dataclass(slots=True)
class Measured:
    fingerprints: dict[str, Fingerprint]
    scenario: Run
    """``--scenario fingerprint`` against the shared-per-account fault."""
    report: Path
    token: str


@pytest.fixture(scope="module")
def measured(tmp_path_factory: pytest.TempPathFactory) -> Iterator[Measured]:
    """Every case's fingerprint and the locust scenario's run, all at once."""
    report = tmp_path_factory.mktemp("fingerprint") / "load.json"
    with ExitStack() as stack:
        refs = {
            name: stack.enter_context(
                running_reference(limit=LIMIT, window=WINDOW, extra_args=flags)
            )
            for name, (flags, _) in CASES.items()
        }
        shared = stack.enter_context(
            running_reference(
                limit=LIMIT, window=WINDOW, extra_args=["--fault", "ratelimit.shared-per-account"]
            )
        )
        with ThreadPoolExecutor(max_workers=len(refs) + 1) as pool:
            run = pool.submit(
                locust,
                [
                    "-u",
                    "1",
                    "-r",
                    "1",
                    "-t",
                    "40s",
                    "--scenario",
                    "fingerprint",
                    "--target",
                    str(shared.profile_path),
                    "--replyguard-report-json",
                    str(report),
                ],
                timeout=60,
            )
            futures = {name: pool.submit(_fingerprint, ref) for name, ref in refs.items()}
            yield Measured(
                {name: future.result(timeout=90) for name, future in futures.items()},
                run.result(timeout=90),
                report,
                shared.profile["tokens"]["primary"],
            )


@pytest.fixture(scope="module")
def fingerprints(measured: Measured) -> dict[str, Fingerprint]:
    """Every case's fingerprint."""
    return measured.fingerprints


@pytest.mark.parametrize("case", list(CASES))
def test_fingerprint_items_are_right(fingerprints: dict[str, Fingerprint], case: str) -> None:
    fp = fingerprints[case]
    table = "\n".join(fp.lines())
    for name, want in CASES[case][1].items():
        item = fp.item(name)
        value, outcome = want if isinstance(want, tuple) else (want, None)
        if value is not None:
            assert item.value == value, f"{case}: {name}\n{table}"
        if outcome is not None:
            assert item.outcome == outcome, f"{case}: {name}\n{table}"
    assert fp.passed == (case not in ("per-account", "global", "never-resets")), table


def test_fingerprint_scenario_prints_and_writes_json(measured: Measured) -> None:
    run, report, token = measured.scenario, measured.report, measured.token
    assert run.code == 1, run.output[-3000:]
    assert "replyguard rate-limit fingerprint" in run.output
    assert "VIOLATION ratelimit.per-token: " in run.output
    assert "fingerprint scope: account" in run.output
    assert run.seconds < 35  # the run quits when the sequence is done
    data = json.loads(report.read_text())
    items = {i["name"]: i for i in data["fingerprint"]["items"]}
    assert items["scope"]["value"] == "account"
    assert items["scope"]["level"] == "verdict"
    assert items["window kind"]["level"] == "observation"
    assert data["requests"]["sent"] == data["requests"]["locust"] == data["fingerprint"]["probes"]
    assert token not in run.output
    assert token not in report.read_text()
