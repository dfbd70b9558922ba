"""The load suite's web UI holds tokens of a billed API: loopback only, and no token shown.

Locust runs in a subprocess (never imported here). The binding test starts it as the README
says (``locust -f load/locustfile.py``, with a free port) and reads the listening socket from
the kernel (psutil); the token tests fetch the UI's pages and JSON while a swarm runs, and grep
locust's own HTML and CSV reports of a headless run.
"""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import time
from collections.abc import Iterator
from pathlib import Path

import httpx
import psutil
import pytest

from replyguard.reference.launch import EmbeddedReference, running_reference

pytestmark = [pytest.mark.integration, pytest.mark.slow]

ROOT = Path(__file__).resolve().parents[2]
LOCUSTFILE = ROOT / "load" / "locustfile.py"
LOCUST = [sys.executable, "-m", "locust", "-f", str(LOCUSTFILE)]


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def _env() -> dict[str, str]:
    env = {**os.environ, "PYTHONUNBUFFERED": "1"}
    for name in ("REPLYGUARD_TARGET", "LOCUST_WEB_HOST", "REPLYGUARD_OPEN_WEB_UI"):
        env.pop(name, None)
    return env


@pytest.fixture
def reference() -> Iterator[EmbeddedReference]:
    with running_reference(limit=5, window=2) as ref:
        yield ref


def _tokens(reference: EmbeddedReference) -> list[str]:
    return [str(t) for t in reference.profile["tokens"].values()]


def _stop(process: subprocess.Popen[str]) -> None:
    process.terminate()
    try:
        process.wait(timeout=20)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _wait_for_ui(base: str, process: subprocess.Popen[str]) -> None:
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        assert process.poll() is None, "locust exited"
        try:
            if httpx.get(base + "/", timeout=2).status_code == 200:
                return
        except httpx.TransportError:
            time.sleep(0.2)
    raise AssertionError("the web UI did not come up")


def _listening(pid: int, port: int) -> set[str]:
    """The addresses process ``pid`` listens on at ``port`` (as the kernel reports them)."""
    found = set()
    for conn in psutil.Process(pid).net_connections(kind="inet"):
        if conn.status == psutil.CONN_LISTEN and conn.laddr and conn.laddr.port == port:
            found.add(conn.laddr.ip)
    return found


def test_started_as_the_readme_says_the_ui_listens_on_loopback_only(
    reference: EmbeddedReference,
) -> None:
    port = _free_port()
    process = subprocess.Popen(
        [*LOCUST, "--web-port", str(port), "--target", str(reference.profile_path)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
        text=True,
    )
    try:
        _wait_for_ui(f"http://127.0.0.1:{port}", process)
        assert _listening(process.pid, port) == {"127.0.0.1"}
    finally:
        _stop(process)


def test_another_address_without_a_login_is_refused_in_one_line(
    reference: EmbeddedReference,
) -> None:
    done = subprocess.run(
        [
            *LOCUST,
            "--web-host",
            "0.0.0.0",
            "--web-port",
            str(_free_port()),
            "--target",
            str(reference.profile_path),
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=60,
    )
    assert done.returncode == 2
    refusal = [line for line in done.stderr.splitlines() if line.startswith("replyguard:")]
    assert len(refusal) == 1
    assert "--web-login" in refusal[0]
    assert "Traceback" not in done.stderr


PAGES = (
    "/",
    "/stats/requests",
    "/stats/requests/csv",
    "/stats/failures/csv",
    "/exceptions",
    "/stats/report",
    "/replyguard",
    "/replyguard/verdict",
)


def test_no_token_in_the_ui_or_its_json(reference: EmbeddedReference) -> None:
    tokens = _tokens(reference)
    port = _free_port()
    base = f"http://127.0.0.1:{port}"
    process = subprocess.Popen(
        [*LOCUST, "--web-port", str(port), "--target", str(reference.profile_path)],
        cwd=ROOT,
        env=_env(),
        stdout=subprocess.PIPE,
        stderr=subprocess.STDOUT,
        text=True,
    )
    seen: list[str] = []
    try:
        _wait_for_ui(base, process)
        with httpx.Client(base_url=base, timeout=10) as ui:
            seen += [ui.get(page).text for page in PAGES]
            ui.post("/swarm", data={"user_count": 4, "spawn_rate": 4}).raise_for_status()
            time.sleep(4)
            seen += [ui.get(page).text for page in PAGES]
            ui.post("/stop").raise_for_status()
            for _ in range(100):
                if ui.get("/replyguard/verdict").json()["final"]:
                    break
                time.sleep(0.1)
            seen += [ui.get(page).text for page in PAGES]
    finally:
        _stop(process)
    output = process.stdout.read() if process.stdout else ""
    assert any("Authorization" not in text and "replyguard verdict" in text for text in seen)
    for token in tokens:
        for text in [*seen, output]:
            assert token not in text


def test_no_token_in_locusts_html_and_csv_reports(
    reference: EmbeddedReference, tmp_path: Path
) -> None:
    done = subprocess.run(
        [
            *LOCUST,
            "--headless",
            "-u",
            "4",
            "-r",
            "4",
            "-t",
            "5s",
            "--target",
            str(reference.profile_path),
            "--html",
            str(tmp_path / "report.html"),
            "--csv",
            str(tmp_path / "stats"),
            "--replyguard-report-json",
            str(tmp_path / "load.json"),
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 0, done.stderr[-3000:]
    written = sorted(tmp_path.iterdir())
    assert {p.name for p in written} >= {"report.html", "stats_stats.csv", "load.json"}
    for token in _tokens(reference):
        for text in [done.stdout, done.stderr, *(p.read_text() for p in written)]:
            assert token not in text


def test_one_user_is_inconclusive_with_what_to_change(reference: EmbeddedReference) -> None:
    done = subprocess.run(
        [
            *LOCUST,
            "--headless",
            "--only-summary",
            "-u",
            "1",
            "-r",
            "1",
            "-t",
            "5s",
            "--target",
            str(reference.profile_path),
        ],
        cwd=ROOT,
        env=_env(),
        capture_output=True,
        text=True,
        timeout=90,
    )
    assert done.returncode == 2, done.stderr[-3000:]
    assert "replyguard verdict: INCONCLUSIVE" in done.stderr
    assert "replyguard verdict: FAIL" not in done.stderr
    assert "at least 2 users per token" in done.stderr
    assert "the README suggests -u 20" in done.stderr
    assert "limit: 5 per 2 s" in done.stderr
