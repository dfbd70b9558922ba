"""When this machine's last run sent on each token: so a run's first window is really fresh.

The rate-limit tests judge a burst on a fresh window of a token, and the suite's pacer knows
only its own run's calls. A run that starts within a window of an earlier one against the same
target (a re-run, ``--last-failed``, a narrowed ``--rules``) would meet a window the earlier run
filled, and a correct target's refusal would read as a limit kept at fewer than 5. So each run
keeps, beside the last report, the time of its last send on each token, keyed by a hash of the
base URL and the token (no token is stored), and the next run's pacer starts from it.
"""

from __future__ import annotations

import hashlib
import json
import os
import time
from collections.abc import Mapping
from pathlib import Path

__all__ = ["TOKEN_STATE", "TokenState", "token_key"]

#: Beside the last report (``.replyguard/last-report.json``).
TOKEN_STATE = Path(".replyguard") / "token-state.json"
#: Entries older than this are dropped when the file is written (no window is that long).
_KEEP_SECONDS = 24 * 3600.0


def token_key(base_url: str, token: str) -> str:
    """The key of one token of one target: a hash, never the token itself."""
    return hashlib.sha256(f"{base_url}\n{token}".encode()).hexdigest()[:24]


class TokenState:
    """The last send on each token, read when a run starts and written when it ends."""

    def __init__(self, folder: Path | None = None) -> None:
        self.path = (folder or Path.cwd()) / TOKEN_STATE

    def read(self) -> dict[str, float]:
        """Epoch seconds of the last send, by :func:`token_key` (empty when unreadable)."""
        try:
            data = json.loads(self.path.read_text(encoding="utf-8"))
        except (OSError, ValueError):
            return {}
        if not isinstance(data, dict):
            return {}
        return {k: float(v) for k, v in data.items() if isinstance(v, int | float)}

    def write(self, sent: Mapping[str, float]) -> None:
        """Merge this run's last sends in (atomically); a failure to write loses nothing else."""
        if not sent:
            return
        now = time.time()
        data = {k: v for k, v in self.read().items() if now - v < _KEEP_SECONDS}
        data.update(sent)
        try:
            self.path.parent.mkdir(parents=True, exist_ok=True)
            partial = self.path.with_suffix(".tmp")
            partial.write_text(json.dumps(data, indent=1), encoding="utf-8")
            os.replace(partial, self.path)
        except OSError:
            return  # a read-only folder: the next run waits its own way
