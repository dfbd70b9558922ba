"""The reference server's configuration: one record handed to the app factory and the workers."""

from __future__ import annotations

import json
import os
from dataclasses import asdict, dataclass, field
from pathlib import Path

from .seed import POOL_TOKENS

__all__ = ["CONFIG_ENV", "ServerConfig", "default_db_path"]

#: Environment variable that carries the config (as JSON) to uvicorn worker processes.
CONFIG_ENV = "REPLYGUARD_REFERENCE_CONFIG"

#: Laravel's throttle middleware defaults for this endpoint: the documents say
#: "rate-limited to 5 requests per minute per API token".
DEFAULT_LIMIT = 5
DEFAULT_WINDOW = 60
DEFAULT_MAX_BODY = 1024 * 1024


def default_db_path() -> Path:
    """Return the SQLite file in ``$REPLYGUARD_STATE_DIR`` or ``~/.local/state/replyguard``."""
    state_dir = os.environ.get("REPLYGUARD_STATE_DIR")
    base = Path(state_dir) if state_dir else Path.home() / ".local" / "state" / "replyguard"
    return base / "reference.sqlite3"


@dataclass(slots=True)
class ServerConfig:
    """Everything that shapes one reference server run; behaviour variants plug in here."""

    host: str = "127.0.0.1"
    port: int = 8000
    limit: int = DEFAULT_LIMIT
    window: int = DEFAULT_WINDOW
    db_path: Path = field(default_factory=default_db_path)
    workers: int = 1
    profile_out: Path | None = None
    max_body_bytes: int = DEFAULT_MAX_BODY
    #: Name of a deliberate misbehaviour (fault injection, ``faults.py``); ``None``: none.
    fault: str | None = None
    #: Name of a correct variant (``variants.py``), e.g. another rate-limit algorithm.
    variant: str | None = None
    #: Rate-limit algorithm: "fixed" (Laravel's throttle) is the only one so far.
    rate_limiter: str = "fixed"
    access_log: bool = False
    #: Spare tokens of the primary's account listed as ``tokens.pool`` in the profile (up to
    #: the seed's ``POOL_TOKENS``).
    pool: int = 0

    def __post_init__(self) -> None:
        self.db_path = Path(self.db_path)
        if self.profile_out is not None:
            self.profile_out = Path(self.profile_out)
        if self.limit < 1:
            raise ValueError("limit must be at least 1")
        if self.window < 1:
            raise ValueError("window must be at least 1 second")
        if self.workers < 1:
            raise ValueError("workers must be at least 1")
        if not 0 <= self.pool <= POOL_TOKENS:
            raise ValueError(f"pool must be between 0 and {POOL_TOKENS}")
        if not 0 <= self.port <= 65535:
            raise ValueError("port must be between 0 and 65535")

    def to_json(self) -> str:
        """Serialise for the worker processes."""
        data = asdict(self)
        data["db_path"] = str(self.db_path)
        data["profile_out"] = None if self.profile_out is None else str(self.profile_out)
        return json.dumps(data)

    @classmethod
    def from_json(cls, text: str) -> ServerConfig:
        """Inverse of :meth:`to_json`."""
        data = json.loads(text)
        data["db_path"] = Path(data["db_path"])
        if data.get("profile_out") is not None:
            data["profile_out"] = Path(data["profile_out"])
        return cls(**data)
