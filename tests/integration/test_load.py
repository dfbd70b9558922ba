"""The locust load suite end to end: locust runs in a subprocess against reference servers.

Locust is never imported here (its import monkey-patches the standard library with gevent).
Every run is short (a few seconds with a 2 s window) and bounded by a subprocess timeout.
"""

from __future__ import annotations

import csv
import functools
import json
import os
import re
import sqlite3
import subprocess
import sys
import time
from collections.abc import Iterator, Sequence
from contextlib import ExitStack
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
    return locust_many([args], timeout=timeout, cwd=cwd)[0]


def locust_many(
    runs: Sequence[Sequence[str]], *, timeout: float = TIMEOUT, cwd: Path = ROOT, parallel: int = 4
) -> list[Run]:
    """Headless locust runs, ``parallel`` at a time (they mostly wait for windows, not CPU).

    ``timeout`` bounds each run; the machine is shared, so more at once would starve them.
    """
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    env.pop("REPLYGUARD_TARGET", None)
    results: list[Run] = []
    for first in range(0, len(runs), parallel):
        started = time.monotonic()
        processes = [
            subprocess.Popen(
                [
                    sys.executable,
                    "-m",
                    "locust",
                    "-f",
                    str(LOCUSTFILE),
                    "--headless",
                    "--only-summary",
                    *args,
                ],
                cwd=cwd,
                env=env,
                stdout=subprocess.PIPE,
                stderr=subprocess.STDOUT,
                text=True,
            )
            for args in runs[first : first + parallel]
        ]
        for process in processes:
            try:
                output, _ = process.communicate(
                    timeout=max(1.0, timeout - (time.monotonic() - started))
                )
            except subprocess.TimeoutExpired:
                process.kill()
                output, _ = process.communicate()
                output += "\n[killed: timeout]"
            results.append(Run(process.returncode, output, time.monotonic() - started))
    return results


def users(n: int, run_time: str = RUN_TIME) -> list[str]:
    return ["-u", str(n), "-r", str(n), "-t", run_time]


#: Runs that share the machine with others at once: two more windows to see enough.
CONCURRENT_RUN_TIME = "10s"


@functools.cache
def available_faults() -> frozenset[str]:
    """Fault names the reference server offers (another module adds them)."""
    done = subprocess.run(
        [sys.executable, "-m", "replyguard", "serve", "--list-faults"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
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


def test_conformance_passes_and_csv_is_written(
    reference: EmbeddedReference, tmp_path: Path
) -> None:
    prefix = tmp_path / "report"
    run = locust(
        [
            *users(10),
            "--target",
            str(reference.profile_path),
            "RateLimitConformance",
            "--csv",
            str(prefix),
            "--html",
            str(tmp_path / "report.html"),
        ]
    )
    assert run.code == 0, run.output[-3000:]
    assert verdict_passed(run)
    rows = list(csv.DictReader((tmp_path / "report_stats.csv").open()))
    names = {row["Name"] for row in rows}
    assert "conformance: generate-reply 200" in names
    verdict = list(csv.reader((tmp_path / "report_replyguard.csv").open()))
    assert verdict[0] == ["Item", "Result", "Detail"]
    assert verdict[1][:2] == ["Verdict", "PASS"]
    assert (tmp_path / "report_stats_history.csv").exists()
    assert (tmp_path / "report.html").stat().st_size > 1000
    tokens = [
        line.split("=")[1].strip().strip('"')
        for line in reference.profile_path.read_text().splitlines()
        if line.startswith("primary")
    ]
    assert tokens
    assert tokens[0] not in run.output
    # Locust's totals are the requests the users sent, nothing else (no verdict rows)...
    assert not any(row["Type"] == "VERDICT" for row in rows)
    # (locust writes its CSV on a timer, so the final totals are the ones printed at quit.)
    _sent(run.output)
    totals = _totals(run.output)
    total = next(row for row in rows if row["Name"] == "Aggregated")
    assert int(total["Request Count"]) <= totals["locust"]
    assert int(total["Failure Count"]) == 0
    # ...and the server agrees: every 200 the users saw is a reply the server stored.
    with sqlite3.connect(reference.db_path) as db:
        stored = db.execute("SELECT COUNT(*) FROM messages WHERE role = 'customer'").fetchone()[0]
    assert totals["served"] <= stored <= totals["served"] + totals["cut"]


def _totals(output: str) -> dict[str, int]:
    """The final block's request totals: sent, locust, served, cut, lost."""
    match = re.search(
        r"replyguard: (\d+) requests sent; locust counted (\d+) \((\d+) answered "
        r"200, (\d+) cut off at stop, (\d+) without an answer\)",
        output,
    )
    assert match, output[-2000:]
    return dict(
        zip(
            ("sent", "locust", "served", "cut", "lost"),
            (int(g) for g in match.groups()),
            strict=True,
        )
    )


def _sent(output: str) -> int:
    totals = _totals(output)
    assert totals["sent"] == totals["locust"], totals
    return totals["sent"]


def test_well_behaved_client_passes(reference: EmbeddedReference) -> None:
    run = locust([*users(4), "--target", str(reference.profile_path), "--scenario", "well-behaved"])
    assert run.code == 0, run.output[-3000:]
    assert _figure(run.output, "primary: served/ideal") >= 0.6
    assert _figure(run.output, "secondary: served/ideal") >= 0.6


def test_throughput_reports(tmp_path: Path) -> None:
    with running_reference(limit=100_000_000, window=60) as ref:
        run = locust(
            ["-u", "5", "-r", "5", "-t", "3s", "--target", str(ref.profile_path), "Throughput"]
        )
    assert run.code == 0, run.output[-3000:]
    assert "throughput: requests/s" in run.output
    assert "Response time percentiles" in run.output


def test_embedded_server_when_no_target() -> None:
    run = locust(["-u", "8", "-r", "8", "-t", "5s"])
    assert run.code == 0, run.output[-3000:]
    assert "embedded reference server at http://127.0.0.1:" in run.output
    assert "secondary: served" in run.output  # the default run: isolation too


def test_remote_target_is_refused(tmp_path: Path) -> None:
    profile = tmp_path / "remote.toml"
    profile.write_text(
        'base_url = "http://example.com/api"\nbrand = "intellixent"\n'
        '[tokens]\nprimary = "abcdefghijklmnopqrstuvwxyz123456"\n'
        "[assistants]\nown = 1\n"
    )
    run = locust(["-u", "1", "-r", "1", "-t", "2s", "--target", str(profile)])
    assert run.code == 2
    assert "refusing to load-test http://example.com/api" in run.output
    assert "abcdefghijklmnopqrstuvwxyz123456" not in run.output


def test_unknown_scenario_is_refused() -> None:
    run = locust(["-u", "1", "-r", "1", "-t", "2s", "--scenario", "conformance,nope"])
    assert run.code == 2
    assert "unknown scenario nope" in run.output


#: (fault, user class or None for the default run, users, violation named)
FAULTS = [
    ("ratelimit.none", "RateLimitConformance", 8, "ratelimit.limit"),
    ("ratelimit.limit-plus-one", "RateLimitConformance", 10, "ratelimit.limit"),
    ("ratelimit.shared-per-account", "TokenIsolation", 12, "ratelimit.per-token"),
    ("ratelimit.retry-after-too-short", "RateLimitConformance", 10, "ratelimit.recovers"),
    # The likeliest real deviation (stock Laravel keys by user): caught with no class named.
    ("ratelimit.shared-per-account", None, 20, "ratelimit.per-token"),
]
FAULT_IDS = [f"{f[0]}-{f[1] or 'default'}" for f in FAULTS]


@functools.cache
def available_variants() -> tuple[str, ...]:
    """Correct variants the reference server offers (other modules add them)."""
    done = subprocess.run(
        [sys.executable, "-m", "replyguard", "serve", "--list-variants"],
        capture_output=True,
        text=True,
        timeout=30,
        check=False,
    )
    return tuple(line.split()[0] for line in done.stdout.splitlines() if line.strip())


def _concurrent(servers: list[list[str]], args: list[list[str]]) -> list[Run]:
    """One reference server per entry of ``servers`` (its flags), one locust run on each."""
    with ExitStack() as stack:
        refs = [
            stack.enter_context(running_reference(limit=5, window=WINDOW, extra_args=flags))
            for flags in servers
        ]
        return locust_many(
            [[*a, "--target", str(ref.profile_path)] for a, ref in zip(args, refs, strict=True)],
            timeout=60,
            parallel=5,
        )


@pytest.fixture(scope="module")
def fault_runs() -> list[Run]:
    """Every FAULTS run, at once."""
    faults = available_faults()
    runs = [f for f in FAULTS if f[0] in faults]
    # Without a limit the users send as fast as the CPU allows: a small bound keeps that
    # run from starving the others (a few hundred requests prove it anyway).
    results = _concurrent(
        [["--fault", f[0]] for f in runs],
        [
            [
                *users(n, CONCURRENT_RUN_TIME),
                *([cls] if cls else []),
                "--replyguard-max-requests",
                "200" if fault == "ratelimit.none" else "3000",
            ]
            for fault, cls, n, _ in runs
        ],
    )
    by_id = dict(zip([FAULT_IDS[FAULTS.index(f)] for f in runs], results, strict=True))
    return [by_id.get(i, Run(-1, "not offered", 0)) for i in FAULT_IDS]


@pytest.mark.parametrize(("index", "fault"), list(enumerate(FAULTS)), ids=FAULT_IDS)
def test_faulty_server_fails_with_named_violation(
    fault_runs: list[Run], index: int, fault: tuple[str, str | None, int, str]
) -> None:
    if fault[0] not in available_faults():
        pytest.skip(f"reference server has no fault {fault[0]!r} yet (--list-faults)")
    run = fault_runs[index]
    if run.code in (0, 2) and re.search(r"replyguard verdict: (PASS|INCONCLUSIVE)", run.output):
        # Five locust runs and their servers share 2 cores: when latency blurs which window a
        # 429 belongs to, the judge blames nobody (by design: no false alarm under load), or
        # cannot judge at all when answers come too late (INCONCLUSIVE). A
        # run alone has the latency the judge needs; a wrong verdict there is a real miss.
        name, cls, n, _ = fault
        run = _concurrent(
            [["--fault", name]], [[*users(n, CONCURRENT_RUN_TIME), *([cls] if cls else [])]]
        )[0]
    assert run.code == 1, run.output[-3000:]
    assert f"VIOLATION {fault[3]}: " in run.output


def test_default_run_passes_the_reference_and_every_correct_variant() -> None:
    """No class named: conformance and isolation on their own tokens, all exit 0."""
    cases: list[list[str]] = [[], *(["--variant", v] for v in available_variants())]
    # Naming a class still selects: TokenIsolation alone, split over both tokens.
    runs = _concurrent(
        [*cases, []],
        [
            *(users(20, CONCURRENT_RUN_TIME) for _ in cases),
            [*users(12, CONCURRENT_RUN_TIME), "TokenIsolation"],
        ],
    )
    isolation = runs.pop()
    assert isolation.code == 0, isolation.output[-3000:]
    assert '"TokenIsolation": 12}' in isolation.output
    assert _figure(isolation.output, "secondary: served") > 0
    for flags, run in zip(cases, runs, strict=True):
        assert run.code == 0, f"{flags}: {run.output[-3000:]}"
        assert verdict_passed(run), flags
        assert '"RateLimitConformance": 10, "TokenIsolation": 10' in run.output, flags
        # Each scenario on its own token: both overloaded, both judged.
        assert _figure(run.output, "primary: throttled") > 0, flags
        assert _figure(run.output, "secondary: throttled") > 0, flags
        _sent(run.output)


@pytest.mark.parametrize("fault", [None, "ratelimit.limit-plus-one"])
def test_distributed_run_gives_the_same_verdict(fault: str | None) -> None:
    if fault is not None and fault not in available_faults():
        pytest.skip(f"reference server has no fault {fault!r} yet (--list-faults)")
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    port = _free_port()
    common = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]
    extra = ["--fault", fault] if fault else []
    with running_reference(limit=5, window=WINDOW, extra_args=extra) as ref:
        workers = [
            subprocess.Popen(
                [*common, "--worker", "--master-port", str(port)],
                cwd=ROOT,
                env=env,
                stdout=subprocess.DEVNULL,
                stderr=subprocess.DEVNULL,
            )
            for _ in range(2)
        ]
        try:
            run = locust(
                [
                    *users(10),
                    "--master",
                    "--expect-workers",
                    "2",
                    "--master-bind-port",
                    str(port),
                    "--target",
                    str(ref.profile_path),
                    "RateLimitConformance",
                ]
            )
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
        assert "VIOLATION ratelimit.limit: " in run.output


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
        [
            sys.executable,
            "-m",
            "locust",
            "-f",
            str(LOCUSTFILE),
            "--web-host",
            "127.0.0.1",
            "--web-port",
            str(port),
            "--target",
            str(reference.profile_path),
        ],
        cwd=ROOT,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
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
            # The target's URL fills the Host field: no "no host attribute" warning.
            assert reference.base_url in page.text
            assert '"missing_host_warning": false' in page.text
            # Before the first swarm: the page says what will be judged.
            before = ui.get("/replyguard/verdict").json()
            assert before["rows"][0]["result"] == "not started"
            planned = " ".join(row["item"] for row in before["rows"])
            assert "will judge: per-token isolation" in planned
            assert "will judge: count" in planned
            assert "replyguard verdict" in ui.get("/replyguard").text
            tab = ui.get("/stats/requests").json()["extended_stats"]
            assert any(entry["key"] == "replyguard" for entry in tab)
            ui.post("/swarm", data={"user_count": 6, "spawn_rate": 6}).raise_for_status()
            time.sleep(5.5)
            live = ui.get("/stats/requests").json()["extended_stats"]
            rows = next(entry["data"] for entry in live if entry["key"] == "replyguard")
            assert rows[0]["result"] in ("no violation so far", "running")
            assert "data older than" not in json.dumps(rows)
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
