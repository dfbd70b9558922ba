"""Starting the reference server as a subprocess: the embedded default target.

The harness only ever talks to it over loopback HTTP (ARCHITECTURE.md); this module starts
the process, waits for the target profile it writes when ready, and stops it.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path

__all__ = ["EmbeddedReference", "ReferenceStartError", "running_reference"]


class ReferenceStartError(RuntimeError):
    """The reference server did not come up; the message carries its last output."""


@dataclass(slots=True)
class EmbeddedReference:
    process: subprocess.Popen[bytes]
    profile_path: Path
    db_path: Path
    base_url: str
    startup_seconds: float


@contextmanager
def running_reference(
    *, limit: int = 5, window: float = 60, workers: int = 1, db: Path | None = None,
    extra_args: Sequence[str] = (), timeout: float = 15.0, workdir: Path | None = None,
) -> Iterator[EmbeddedReference]:
    """Run ``python -m replyguard.reference`` on 127.0.0.1, a free port, until the block ends."""
    with tempfile.TemporaryDirectory(prefix="replyguard-ref-", dir=workdir) as tmp:
        folder = Path(tmp)
        profile = folder / "target.toml"
        db_path = db or folder / "reference.sqlite3"
        log = (folder / "server.log").open("wb")
        args = [sys.executable, "-m", "replyguard.reference", "--host", "127.0.0.1",
                "--port", "0", "--limit", str(limit), "--window", _num(window),
                "--workers", str(workers), "--db", str(db_path), "--profile-out", str(profile),
                *extra_args]
        started = time.monotonic()
        process = subprocess.Popen(args, stdout=log, stderr=subprocess.STDOUT,
                                   stdin=subprocess.DEVNULL, start_new_session=True)
        try:
            _wait_for(profile, process, started + timeout, folder / "server.log")
            base_url = _base_url(profile)
            yield EmbeddedReference(process, profile, db_path, base_url,
                                    time.monotonic() - started)
        finally:
            _stop(process)
            log.close()


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def _wait_for(profile: Path, process: subprocess.Popen[bytes], deadline: float,
              log: Path) -> None:
    while not profile.exists():
        if process.poll() is not None:
            tail = log.read_text(errors="replace").strip().splitlines()[-5:]
            raise ReferenceStartError(
                "reference server exited with code "
                f"{process.returncode}: {' | '.join(tail) or 'no output'}")
        if time.monotonic() > deadline:
            _stop(process)
            raise ReferenceStartError("reference server did not become ready in time")
        time.sleep(0.02)


def _base_url(profile: Path) -> str:
    import tomllib

    data = tomllib.loads(profile.read_text(encoding="utf-8"))
    return str(data["base_url"])


def _stop(process: subprocess.Popen[bytes]) -> None:
    if process.poll() is not None:
        return
    try:
        os.killpg(process.pid, signal.SIGTERM)
    except ProcessLookupError:
        return
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        os.killpg(process.pid, signal.SIGKILL)
        process.wait(timeout=5)
