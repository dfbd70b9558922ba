"""The locust load suite end to end: locust runs in a subprocess against reference servers.

Locust is never imported here (its import monkey-patches the standard library with gevent).
Every run is short (a few seconds with a 2 s window) and bounded by a subprocess timeout.
"""

from __future__ import annotations

import csv
import functools
import os
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

import pytest

from replyguard.reference.launch import EmbeddedReference, running_reference

pytestmark = pytest.mark.integration

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "load" / "locustfile.py"
WINDOW = 2
RUN_TIME = "5s"  # at least two windows
TIMEOUT = 45


@dataclass(slots=True)
class Run:
    code: int
    output: str
    seconds: float


def locust(args: Sequence[str], *, timeout: float = TIMEOUT, cwd: Path = ROOT) -> Run:
    """Run ``python -m locust -f load/locustfile.py --headless ARGS`` and collect its output."""
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("REPLYGUARD_TARGET", None)
    started = time.monotonic()
    done = subprocess.run(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--headless", "--only-summary",
         *args], cwd=cwd, env=env, capture_output=True, text=True, timeout=timeout, check=False)
    return Run(done.returncode, done.stdout + done.stderr, time.monotonic() - started)


def users(n: int) -> list[str]:
    return ["-u", str(n), "-r", str(n), "-t", RUN_TIME]


@functools.cache
def available_faults() -> frozenset[str]:
    """Fault names the reference server offers (another module adds them)."""
    done = subprocess.run([sys.executable, "-m", "replyguard.reference", "--list-faults"],
                          capture_output=True, text=True, timeout=30, check=False)
    if done.returncode != 0:
        return frozenset()
    return frozenset(line.split()[0] for line in done.stdout.splitlines() if line.strip())


@pytest.fixture
def reference(tmp_path: Path) -> Iterator[EmbeddedReference]:
    """A fresh correct reference server: 5 requests per 2 s window."""
    with running_reference(limit=5, window=WINDOW) as ref:
        yield ref


def verdict_passed(run: Run) -> bool:
    return "replyguard verdict: PASS" in run.output


def test_conformance_passes_and_csv_is_written(reference: EmbeddedReference,
                                              tmp_path: Path) -> None:
    prefix = tmp_path / "report"
    run = locust([*users(10), "--target", str(reference.profile_path), "RateLimitConformance",
                  "--csv", str(prefix), "--html", str(tmp_path / "report.html")])
    assert run.code == 0, run.output[-3000:]
    assert verdict_passed(run)
    rows = list(csv.DictReader((tmp_path / "report_stats.csv").open()))
    names = {row["Name"] for row in rows}
    assert "conformance: generate-reply 200" in names
    verdict = list(csv.reader((tmp_path / "report_replyguard.csv").open()))
    assert verdict[1][0] == "PASS (final)"
    assert (tmp_path / "report_stats_history.csv").exists()
    assert (tmp_path / "report.html").stat().st_size > 1000
    tokens = [line.split("=")[1].strip().strip('"') for line in
              reference.profile_path.read_text().splitlines() if line.startswith("primary")]
    assert tokens
    assert tokens[0] not in run.output


def test_isolation_passes(reference: EmbeddedReference) -> None:
    run = locust([*users(12), "--target", str(reference.profile_path), "TokenIsolation"])
    assert run.code == 0, run.output[-3000:]
    assert "secondary: served" in run.output


def test_well_behaved_client_passes(reference: EmbeddedReference) -> None:
    run = locust([*users(4), "--target", str(reference.profile_path),
                  "--scenario", "well-behaved"])
    assert run.code == 0, run.output[-3000:]
    assert _figure(run.output, "primary: served/ideal") >= 0.6
    assert _figure(run.output, "secondary: served/ideal") >= 0.6


def test_throughput_reports(tmp_path: Path) -> None:
    with running_reference(limit=100_000_000, window=60) as ref:
        run = locust(["-u", "5", "-r", "5", "-t", "3s", "--target", str(ref.profile_path),
                      "Throughput"])
    assert run.code == 0, run.output[-3000:]
    assert "throughput: requests/s" in run.output
    assert "Response time percentiles" in run.output


def test_embedded_server_when_no_target() -> None:
    run = locust(["-u", "8", "-r", "8", "-t", "5s"])
    assert run.code == 0, run.output[-3000:]
    assert "embedded reference server at http://127.0.0.1:" in run.output


def test_remote_target_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "remote.toml"
    profile.write_text('base_url = "http://example.com/api"\nbrand = "intellixent"\n'
                       '[tokens]\nprimary = "abcdefghijklmnopqrstuvwxyz123456"\n'
                       '[assistants]\nown = 1\n')
    run = locust(["-u", "1", "-r", "1", "-t", "2s", "--target", str(profile)])
    assert run.code == 2
    assert "refusing to load-test http://example.com/api" in run.output
    assert "abcdefghijklmnopqrstuvwxyz123456" not in run.output


FAULTS = [
    ("ratelimit.none", "RateLimitConformance", 8, "more than limit served in one window"),
    ("ratelimit.limit-plus-one", "RateLimitConformance", 10,
     "more than limit served in one window"),
    ("ratelimit.shared-per-account", "TokenIsolation", 12,
     "limit shared between tokens of one account"),
    ("ratelimit.retry-after-too-short", "RateLimitConformance", 10, "retry_after dishonest"),
]


@pytest.mark.parametrize(("fault", "scenario", "n", "violation"), FAULTS,
                         ids=[f[0] for f in FAULTS])
def test_faulty_server_fails_with_named_violation(
    tmp_path: Path, fault: str, scenario: str, n: int, violation: str
) -> None:
    if fault not in available_faults():
        pytest.skip(f"reference server has no fault {fault!r} yet (--list-faults)")
    with running_reference(limit=5, window=WINDOW,
                           extra_args=["--fault", fault]) as ref:
        run = locust([*users(n), "--target", str(ref.profile_path), scenario,
                      "--replyguard-max-requests", "3000"])
    assert run.code == 1, run.output[-3000:]
    assert f"VIOLATION {violation}" in run.output


@pytest.mark.parametrize("fault", [None, "ratelimit.limit-plus-one"])
def test_distributed_run_gives_the_same_verdict(fault: str | None) -> None:
    if fault is not None and fault not in available_faults():
        pytest.skip(f"reference server has no fault {fault!r} yet (--list-faults)")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    port = _free_port()
    common = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    extra = ["--fault", fault] if fault else []
    with running_reference(limit=5, window=WINDOW, extra_args=extra) as ref:
        workers = [subprocess.Popen([*common, "--worker", "--master-port", str(port)],
                                    cwd=ROOT, env=env, stdout=subprocess.DEVNULL,
                                    stderr=subprocess.DEVNULL) for _ in range(2)]
        try:
            run = locust([*users(10), "--master", "--expect-workers", "2",
                          "--master-bind-port", str(port), "--target", str(ref.profile_path),
                          "RateLimitConformance"])
        finally:
            for worker in workers:
                try:
                    worker.wait(timeout=15)
                except subprocess.TimeoutExpired:
                    worker.kill()
                    worker.wait()
    assert "no final observations" not in run.output
    if fault is None:
        assert run.code == 0, run.output[-3000:]
        assert verdict_passed(run)
        # Both workers' observations were merged: at least two full windows of the one token.
        assert _figure(run.output, "primary: served") >= 2 * 5
        assert _figure(run.output, "primary: throttled") > 0
    else:
        assert run.code == 1, run.output[-3000:]
        assert "VIOLATION more than limit served in one window" in run.output


def _figure(output: str, name: str) -> float:
    for line in output.splitlines():
        if line.strip().startswith(f"{name}:"):
            return float(line.split(":")[-1])
    raise AssertionError(f"{name} not reported")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def test_web_ui_shows_the_verdict(reference: EmbeddedReference) -> None:
    import httpx

    port = _free_port()
    process = subprocess.Popen(
        [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE), "--web-host", "127.0.0.1",
         "--web-port", str(port), "--target", str(reference.profile_path)],
        cwd=ROOT, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    base = f"http://127.0.0.1:{port}"
    try:
        with httpx.Client(base_url=base, timeout=5) as ui:
            deadline = time.monotonic() + 20
            while time.monotonic() < deadline:
                try:
                    page = ui.get("/")
                    break
                except httpx.TransportError:
                    time.sleep(0.1)
            assert "replyguard verdict" in page.text
            ui.post("/swarm", data={"user_count": 6, "spawn_rate": 6}).raise_for_status()
            time.sleep(5.5)
            live = ui.get("/stats/requests").json()["extended_stats"]
            assert any(entry["key"] == "replyguard" for entry in live)
            ui.post("/stop").raise_for_status()
            final: dict[str, object] = {}
            for _ in range(100):
                final = ui.get("/replyguard/verdict").json()
                if final["final"]:
                    break
                time.sleep(0.1)
            assert final["final"] is True
            assert final["verdict"]["passed"] is True  # type: ignore[index]
    finally:
        process.terminate()
        process.wait(timeout=15)
