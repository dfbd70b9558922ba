"""Starting the reference server as a subprocess: the embedded default target.

The harness only ever talks to it over loopback HTTP (ARCHITECTURE.md); this module starts
``replyguard serve`` in a process of its own, waits for the target profile it writes once it
accepts connections, and stops it. ``replyguard check``, the contract suite, the load
scenarios, the selftest and replyguard's own tests all start it through here, and nowhere else.
It imports only the standard library, like the rest of the reference package.
"""

from __future__ import annotations

import os
import signal
import subprocess
import sys
import tempfile
import time
import tomllib
from collections.abc import Iterator, Sequence
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from .config import DEFAULT_LIMIT, DEFAULT_WINDOW

__all__ = ["EmbeddedReference", "ReferenceStartError", "running_reference", "start_reference"]


class ReferenceStartError(RuntimeError):
    """The reference server did not come up; the message carries its last output."""


@dataclass(slots=True)
class EmbeddedReference:
    process: subprocess.Popen[bytes]
    profile_path: Path
    db_path: Path
    base_url: str
    startup_seconds: float
    stdout_path: Path
    stderr_path: Path

    @property
    def profile(self) -> dict[str, Any]:
        """The target profile the server wrote (tokens included: never print it)."""
        return tomllib.loads(self.profile_path.read_text(encoding="utf-8"))

    def stop(self, timeout: float = 10.0) -> int:
        """SIGTERM the server's process group, wait, and return its exit status."""
        process = self.process
        if process.poll() is None:
            try:
                os.killpg(process.pid, signal.SIGTERM)
                process.wait(timeout)
            except ProcessLookupError:
                pass
            except subprocess.TimeoutExpired:
                os.killpg(process.pid, signal.SIGKILL)
                process.wait(timeout)
        return int(process.wait())


def _num(value: float) -> str:
    return str(int(value)) if float(value).is_integer() else str(value)


def start_reference(
    folder: Path,
    *,
    limit: int = DEFAULT_LIMIT,
    window: float = DEFAULT_WINDOW,
    workers: int = 1,
    db: Path | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 15.0,
) -> EmbeddedReference:
    """Start ``replyguard serve`` on 127.0.0.1, a free port; wait until ready."""
    folder.mkdir(parents=True, exist_ok=True)
    profile = folder / "target.toml"
    profile.unlink(missing_ok=True)
    db_path = db or folder / "reference.sqlite3"
    stdout_path, stderr_path = folder / "server.stdout", folder / "server.stderr"
    args = [
        sys.executable,
        "-m",
        "replyguard",
        "serve",
        "--host",
        "127.0.0.1",
        "--port",
        "0",
        "--limit",
        str(limit),
        "--window",
        _num(window),
        "--workers",
        str(workers),
        "--db",
        str(db_path),
        "--profile-out",
        str(profile),
        *extra_args,
    ]
    started = time.monotonic()
    with stdout_path.open("wb") as out, stderr_path.open("wb") as err:
        process = subprocess.Popen(
            args,
            stdout=out,
            stderr=err,
            stdin=subprocess.DEVNULL,
            env={**os.environ, "PYTHONUNBUFFERED": "1"},
            start_new_session=True,
        )
    reference = EmbeddedReference(process, profile, db_path, "", 0.0, stdout_path, stderr_path)
    deadline = started + timeout
    while not profile.exists():
        if process.poll() is not None:
            tail = stderr_path.read_text(errors="replace").strip().splitlines()[-3:]
            raise ReferenceStartError(
                f"reference server exited with code {process.returncode}: "
                f"{' | '.join(tail) or 'no output'}"
            )
        if time.monotonic() > deadline:
            reference.stop()
            raise ReferenceStartError(f"reference server not ready within {timeout:g}s")
        time.sleep(0.01)
    reference.startup_seconds = time.monotonic() - started
    reference.base_url = str(reference.profile["base_url"])
    return reference


@contextmanager
def running_reference(
    *,
    limit: int = DEFAULT_LIMIT,
    window: float = DEFAULT_WINDOW,
    workers: int = 1,
    db: Path | None = None,
    extra_args: Sequence[str] = (),
    timeout: float = 15.0,
    folder: Path | None = None,
) -> Iterator[EmbeddedReference]:
    """Run the reference server until the block ends (in a temporary folder by default)."""
    with tempfile.TemporaryDirectory(prefix="replyguard-ref-") as tmp:
        reference = start_reference(
            folder or Path(tmp),
            limit=limit,
            window=window,
            workers=workers,
            db=db,
            extra_args=extra_args,
            timeout=timeout,
        )
        try:
            yield reference
        finally:
            reference.stop()
